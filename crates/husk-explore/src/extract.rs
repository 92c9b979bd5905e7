//! Safe extraction of a view (or one subtree of it) into a host directory.
//!
//! Never writes outside DEST, by construction rather than by checks on names:
//! - paths come from the view, so they are [`ImagePath`]s (no `..`, no absolute escape),
//!   and symlinks inside the image were already resolved inside the image root when the
//!   view was built (a symlink planted earlier in the same layer, chained links, a link
//!   named `.` never redirect a later entry to the host);
//! - every directory is reached from an opened DEST by `openat(O_NOFOLLOW|O_DIRECTORY)`
//!   component by component, and every file is created with `O_CREAT|O_EXCL|O_NOFOLLOW`
//!   relative to its parent's descriptor, so a symlink already on disk (from an earlier run
//!   with `--force`, or a concurrent attacker) is never followed; it is an error
//!   ([`ExploreError::SymlinkInDestination`]) or, with `force`, replaced;
//! - hard links are made with `linkat` between two descriptors inside DEST, to the copy just
//!   written, never to a host path named by the layer;
//! - symlinks are created last, directory modes are applied last (deepest first);
//! - device nodes and fifos are created only when asked for (`devices`, `--devices`) and
//!   running as root, else skipped and reported ([`Skipped`], summed up by
//!   [`skipped_summary`]): an image's `/dev/mem` must not become a real device node on the
//!   host by default; setuid/setgid bits are dropped unless `preserve_modes`.
//!
//! File contents are fetched by streaming each needed layer once, in layer order.

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use husk_layer::{EntryKind, ImagePath};
use husk_oci::Layer;
use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;
use serde::Serialize;

use crate::error::ExploreError;
use crate::fs::{Filesystem, Locator, Node};
use crate::reader::{EntryData, Limits, open_layer};

/// How to extract.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExtractOptions {
    /// Write into a non-empty DEST, replacing what is in the way.
    pub force: bool,
    /// Keep setuid/setgid bits.
    pub preserve_modes: bool,
    /// Set owners, and create device nodes and fifos when `devices` (only root can).
    pub as_root: bool,
    /// Create device nodes and fifos (`--devices`); without it they are skipped.
    pub devices: bool,
    pub limits: Limits,
}

/// True when the process runs with effective uid 0.
pub fn running_as_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Something not extracted, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub path: String,
    /// What it is (`"character device"`, `"block device"`, `"fifo"`).
    pub kind: &'static str,
    pub reason: String,
}

/// The reason a device node or fifo is skipped under `opts`, or `None` when it is made.
fn special_skip_reason(opts: &ExtractOptions) -> Option<&'static str> {
    match (opts.devices, opts.as_root) {
        (false, _) => Some("devices and fifos are written only with --devices"),
        (true, false) => Some("only root can create one"),
        (true, true) => None,
    }
}

/// One line for everything in `skipped`, counted by kind (`"2 character devices, 1
/// fifo"`), or `None` when nothing was skipped.
#[must_use]
pub fn skipped_summary(skipped: &[Skipped]) -> Option<String> {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for s in skipped {
        match counts.iter_mut().find(|(k, _)| *k == s.kind) {
            Some((_, n)) => *n += 1,
            None => counts.push((s.kind, 1)),
        }
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|(k, n)| format!("{n} {k}{}", if *n == 1 { "" } else { "s" }))
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// What an extraction wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExtractReport {
    pub dirs: u64,
    pub files: u64,
    pub hardlinks: u64,
    pub symlinks: u64,
    pub specials: u64,
    pub bytes: u64,
    pub skipped: Vec<Skipped>,
}

/// One thing to write: its path relative to the destination root ("" is the root itself).
struct Item<'a> {
    image: &'a ImagePath,
    rel: String,
    node: &'a Node,
}

/// Extract the view below directory `from` into directory `dest` (created if missing; it
/// must be empty unless `force`). `from` itself maps to `dest`.
///
/// # Errors
/// [`ExploreError::DestinationNotEmpty`], [`ExploreError::SymlinkInDestination`],
/// [`ExploreError::Write`] naming the host path, [`ExploreError::NotFound`] when `from` is
/// not in the view, and read/verification errors of the layers.
pub fn extract_dir<L: Layer>(
    layers: &[L],
    fs: &Filesystem,
    from: &ImagePath,
    dest: &Path,
    opts: &ExtractOptions,
) -> Result<ExtractReport, ExploreError> {
    if fs.get(from).is_none() {
        return Err(ExploreError::NotFound { path: from.clone() });
    }
    let had_files = prepare_dir(dest, opts.force)?;
    let items: Vec<Item> = fs
        .walk(from)
        .map(|(p, node)| Item {
            image: p,
            rel: p.as_str()[from.as_str().len()..]
                .trim_start_matches('/')
                .to_owned(),
            node,
        })
        .collect();
    let root = open_root(dest)?;
    if had_files {
        check_in_the_way(&root, dest, &items)?;
    }
    write_items(layers, root, dest, &items, opts)
}

/// Extract the single non-directory `path` of the view as `dest_dir/name`.
///
/// # Errors
/// As [`extract_dir`]; an existing `dest_dir/name` is replaced only with `force`.
pub fn extract_one<L: Layer>(
    layers: &[L],
    fs: &Filesystem,
    path: &ImagePath,
    dest_dir: &Path,
    name: &str,
    opts: &ExtractOptions,
) -> Result<ExtractReport, ExploreError> {
    let node = fs
        .get(path)
        .ok_or_else(|| ExploreError::NotFound { path: path.clone() })?;
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        return Err(ExploreError::write(
            dest_dir.join(name),
            io::Error::new(io::ErrorKind::InvalidInput, "not a file name"),
        ));
    }
    if !opts.force && dest_dir.join(name).symlink_metadata().is_ok() {
        return Err(ExploreError::DestinationNotEmpty {
            path: dest_dir.join(name),
        });
    }
    let root = open_root(dest_dir)?;
    let items = [Item {
        image: path,
        rel: name.to_owned(),
        node,
    }];
    check_in_the_way(&root, dest_dir, &items)?;
    write_items(layers, root, dest_dir, &items, opts)
}

/// Create `dest` if missing; whether it already had entries (then only with `force`).
fn prepare_dir(dest: &Path, force: bool) -> Result<bool, ExploreError> {
    match std::fs::read_dir(dest) {
        Ok(mut it) => {
            let had_files = it.next().is_some();
            if had_files && !force {
                return Err(ExploreError::DestinationNotEmpty {
                    path: dest.to_path_buf(),
                });
            }
            Ok(had_files)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => std::fs::create_dir(dest)
            .map(|()| false)
            .map_err(|e| ExploreError::write(dest, e)),
        Err(e) => Err(ExploreError::write(dest, e)),
    }
}

/// Before anything is written into a destination that has files: a non-directory of the
/// image whose place holds a non-empty directory would fail half-way (`--force` replaces
/// files and links, never a tree of the user's files), so it is refused first. Read-only:
/// every directory is opened without following links, and a path whose parent is not a
/// plain directory on disk has nothing in its way that could hold files.
fn check_in_the_way(root: &OwnedFd, host: &Path, items: &[Item]) -> Result<(), ExploreError> {
    let open_dir = |at: BorrowedFd<'_>, name: &str| {
        rustix::fs::openat(
            at,
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
    };
    let mut parents: HashMap<&str, Option<OwnedFd>> = HashMap::new();
    for it in items.iter().filter(|i| !i.node.is_dir()) {
        let (dir, name) = split(&it.rel);
        if !parents.contains_key(dir) {
            let mut cur = rustix::io::dup(root).ok();
            for c in dir.split('/').filter(|c| !c.is_empty()) {
                cur = cur.and_then(|fd| open_dir(fd.as_fd(), c).ok());
            }
            parents.insert(dir, cur);
        }
        let Some(Some(parent)) = parents.get(dir) else {
            continue;
        };
        let Ok(dir_fd) = open_dir(parent.as_fd(), name) else {
            continue; // absent, a file or a link: replaced with --force
        };
        let has_entries = rustix::fs::Dir::read_from(&dir_fd).is_ok_and(|mut d| {
            std::iter::from_fn(|| d.read())
                .filter_map(Result::ok)
                .any(|e| !matches!(e.file_name().to_bytes(), b"." | b".."))
        });
        if has_entries {
            return Err(ExploreError::DirectoryInTheWay {
                path: host.join(&it.rel),
                what: format!("{} {}", it.node.kind.noun(), it.image),
            });
        }
    }
    Ok(())
}

fn open_root(dest: &Path) -> Result<OwnedFd, ExploreError> {
    rustix::fs::openat(
        rustix::fs::CWD,
        dest,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| ExploreError::write(dest, e))
}

/// Reaches parent directories from the root descriptor without following links, caching
/// the last parent (consecutive entries of a layer usually share one).
struct Dirs<'a> {
    root: OwnedFd,
    host: &'a Path,
    cached: Option<(String, OwnedFd)>,
    force: bool,
}

fn split(rel: &str) -> (&str, &str) {
    match rel.rfind('/') {
        Some(i) => (&rel[..i], &rel[i + 1..]),
        None => ("", rel),
    }
}

impl Dirs<'_> {
    fn host_path(&self, rel: &str) -> PathBuf {
        self.host.join(rel)
    }

    /// A descriptor of directory `rel` ("" = root), every component opened with O_NOFOLLOW.
    fn open_dir(&self, rel: &str) -> Result<OwnedFd, ExploreError> {
        let mut cur = rustix::io::dup(&self.root).map_err(|e| ExploreError::write(self.host, e))?;
        let mut so_far = String::new();
        for c in rel.split('/').filter(|c| !c.is_empty()) {
            if !so_far.is_empty() {
                so_far.push('/');
            }
            so_far.push_str(c);
            cur = rustix::fs::openat(
                &cur,
                c,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| match e {
                Errno::LOOP | Errno::NOTDIR => ExploreError::SymlinkInDestination {
                    path: self.host_path(&so_far),
                },
                e => ExploreError::write(self.host_path(&so_far), e),
            })?;
        }
        Ok(cur)
    }

    /// The parent directory of `rel` (cached) and the last component.
    fn parent<'r>(&mut self, rel: &'r str) -> Result<(BorrowedFd<'_>, &'r str), ExploreError> {
        let (dir, name) = split(rel);
        let hit = self.cached.as_ref().is_some_and(|(d, _)| d == dir);
        if !hit {
            let fd = self.open_dir(dir)?;
            self.cached = Some((dir.to_owned(), fd));
        }
        let fd = self
            .cached
            .as_ref()
            .map(|(_, fd)| fd.as_fd())
            .expect("set above");
        Ok((fd, name))
    }

    /// Remove whatever is at `rel` (not following links), when forced.
    fn clear(&mut self, rel: &str) -> Result<(), ExploreError> {
        let path = self.host_path(rel);
        if !self.force {
            return Err(ExploreError::write(path, Errno::EXIST));
        }
        let (fd, name) = self.parent(rel)?;
        match rustix::fs::unlinkat(fd, name, AtFlags::empty()) {
            Ok(()) => Ok(()),
            Err(Errno::ISDIR) => rustix::fs::unlinkat(fd, name, AtFlags::REMOVEDIR)
                .map_err(|e| ExploreError::write(path, e)),
            Err(e) => Err(ExploreError::write(path, e)),
        }
    }
}

fn final_mode(node: &Node, opts: &ExtractOptions) -> Mode {
    let mode = if opts.preserve_modes {
        node.mode
    } else {
        node.mode & !0o6000
    };
    Mode::from_raw_mode(mode & 0o7777)
}

fn owner(node: &Node) -> (Option<rustix::fs::Uid>, Option<rustix::fs::Gid>) {
    let uid = u32::try_from(node.uid).ok().filter(|&u| u != u32::MAX);
    let gid = u32::try_from(node.gid).ok().filter(|&g| g != u32::MAX);
    (
        uid.map(rustix::fs::Uid::from_raw),
        gid.map(rustix::fs::Gid::from_raw),
    )
}

/// Write `items` under `root` in five phases (directories, file contents, devices and
/// fifos, symlinks, directory modes), so no symlink or read-only directory is ever in the
/// way of a later write.
fn write_items<L: Layer>(
    layers: &[L],
    root: OwnedFd,
    host: &Path,
    items: &[Item],
    opts: &ExtractOptions,
) -> Result<ExtractReport, ExploreError> {
    let mut w = ItemWriter {
        dirs: Dirs {
            root,
            host,
            cached: None,
            force: opts.force,
        },
        opts,
        report: ExtractReport::default(),
    };
    w.make_dirs(items)?;
    w.write_files(layers, items)?;
    w.make_specials(items)?;
    w.make_symlinks(items)?;
    w.apply_dir_modes(items)?;
    Ok(w.report)
}

/// The state of one extraction: where it writes, how, and what it wrote so far.
struct ItemWriter<'a> {
    dirs: Dirs<'a>,
    opts: &'a ExtractOptions,
    report: ExtractReport,
}

impl ItemWriter<'_> {
    fn write_err(&self, rel: &str) -> impl Fn(Errno) -> ExploreError + use<> {
        let path = self.dirs.host_path(rel);
        move |e| ExploreError::write(path.clone(), e)
    }

    /// Phase 1: directories, parents first, private (0700) until their modes are applied.
    fn make_dirs(&mut self, items: &[Item]) -> Result<(), ExploreError> {
        for it in items
            .iter()
            .filter(|i| i.node.is_dir() && !i.rel.is_empty())
        {
            let (fd, name) = self.dirs.parent(&it.rel)?;
            match rustix::fs::mkdirat(fd, name, Mode::from_raw_mode(0o700)) {
                Ok(()) => {}
                Err(Errno::EXIST) => {
                    let is_dir = rustix::fs::openat(
                        fd,
                        name,
                        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                        Mode::empty(),
                    )
                    .is_ok();
                    if !is_dir {
                        self.dirs.clear(&it.rel)?;
                        let (fd, name) = self.dirs.parent(&it.rel)?;
                        rustix::fs::mkdirat(fd, name, Mode::from_raw_mode(0o700))
                            .map_err(self.write_err(&it.rel))?;
                    }
                }
                Err(e) => return Err(self.write_err(&it.rel)(e)),
            }
            self.report.dirs += 1;
        }
        Ok(())
    }

    /// Phase 2: regular files, by streaming each layer that holds wanted content once;
    /// every other path with the same content becomes a hard link to the first copy.
    fn write_files<L: Layer>(&mut self, layers: &[L], items: &[Item]) -> Result<(), ExploreError> {
        let mut wanted: HashMap<Locator, Vec<usize>> = HashMap::new();
        for (i, it) in items.iter().enumerate() {
            if let (true, Some(loc)) = (it.node.is_file(), it.node.content) {
                wanted.entry(loc).or_default().push(i);
            }
        }
        let needed: BTreeSet<usize> = wanted.keys().map(|l| l.layer).collect();
        let mut buf = vec![0u8; 256 * 1024];
        for layer_index in needed {
            let layer = layers.get(layer_index).ok_or(ExploreError::NoSuchLayer {
                layer: layer_index,
                count: layers.len(),
            })?;
            let mut left = wanted.keys().filter(|l| l.layer == layer_index).count();
            let mut reader = open_layer(layer, layer_index, self.opts.limits)?;
            while left > 0 {
                let Some(entry) = reader.next_entry()? else {
                    return Err(missing_content(&wanted, layer_index));
                };
                let loc = Locator {
                    layer: layer_index,
                    ordinal: entry.ordinal,
                };
                let Some(targets) = wanted.remove(&loc) else {
                    continue;
                };
                left -= 1;
                let first = &items[targets[0]];
                let written = self.write_file(first, &mut reader.data(), &mut buf)?;
                self.report.files += 1;
                self.report.bytes += written;
                for &other in &targets[1..] {
                    link(&mut self.dirs, &first.rel, &items[other].rel)?;
                    self.report.hardlinks += 1;
                }
            }
            reader.finish()?;
        }
        Ok(())
    }

    /// Create one file from the entry data being read, then set its owner and mode.
    fn write_file<R: io::Read>(
        &mut self,
        it: &Item,
        data: &mut EntryData<'_, R>,
        buf: &mut [u8],
    ) -> Result<u64, ExploreError> {
        let file = create_file(&mut self.dirs, &it.rel)?;
        let mut out = io::BufWriter::with_capacity(0, &file);
        let mut written = 0u64;
        loop {
            let n = match io::Read::read(data, buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(data.error(e)),
            };
            io::Write::write_all(&mut out, &buf[..n])
                .map_err(|e| ExploreError::write(self.dirs.host_path(&it.rel), e))?;
            written += n as u64;
        }
        drop(out);
        if self.opts.as_root {
            let (u, g) = owner(it.node);
            rustix::fs::fchown(&file, u, g).map_err(self.write_err(&it.rel))?;
        }
        rustix::fs::fchmod(&file, final_mode(it.node, self.opts))
            .map_err(self.write_err(&it.rel))?;
        Ok(written)
    }

    /// Phase 3: devices and fifos, with `devices` as root only (skipped and reported
    /// otherwise).
    fn make_specials(&mut self, items: &[Item]) -> Result<(), ExploreError> {
        for it in items.iter() {
            let dev = it.node.device.unwrap_or_default();
            let (file_type, dev) = match it.node.kind {
                EntryKind::Char => (
                    FileType::CharacterDevice,
                    rustix::fs::makedev(dev.major, dev.minor),
                ),
                EntryKind::Block => (
                    FileType::BlockDevice,
                    rustix::fs::makedev(dev.major, dev.minor),
                ),
                EntryKind::Fifo => (FileType::Fifo, 0),
                _ => continue,
            };
            if let Some(reason) = special_skip_reason(self.opts) {
                self.report.skipped.push(Skipped {
                    path: it.image.to_string(),
                    kind: it.node.noun(),
                    reason: reason.to_owned(),
                });
                continue;
            }
            let mode = final_mode(it.node, self.opts);
            let (fd, name) = self.dirs.parent(&it.rel)?;
            let made = rustix::fs::mknodat(fd, name, file_type, mode, dev);
            if made == Err(Errno::EXIST) {
                self.dirs.clear(&it.rel)?;
                let (fd, name) = self.dirs.parent(&it.rel)?;
                rustix::fs::mknodat(fd, name, file_type, mode, dev)
            } else {
                made
            }
            .map_err(self.write_err(&it.rel))?;
            self.chown_link(it)?;
            self.report.specials += 1;
        }
        Ok(())
    }

    /// Phase 4: symlinks, after every file is written, so none is ever in the way of a write.
    fn make_symlinks(&mut self, items: &[Item]) -> Result<(), ExploreError> {
        for it in items.iter() {
            let EntryKind::Symlink(target) = &it.node.kind else {
                continue;
            };
            if it.rel.is_empty() {
                continue;
            }
            let (fd, name) = self.dirs.parent(&it.rel)?;
            let made = rustix::fs::symlinkat(target.as_str(), fd, name);
            if made == Err(Errno::EXIST) {
                self.dirs.clear(&it.rel)?;
                let (fd, name) = self.dirs.parent(&it.rel)?;
                rustix::fs::symlinkat(target.as_str(), fd, name)
            } else {
                made
            }
            .map_err(self.write_err(&it.rel))?;
            if self.opts.as_root {
                self.chown_link(it)?;
            }
            self.report.symlinks += 1;
        }
        Ok(())
    }

    /// Set the owner of `it` without following it.
    fn chown_link(&mut self, it: &Item) -> Result<(), ExploreError> {
        let (u, g) = owner(it.node);
        let err = self.write_err(&it.rel);
        let (fd, name) = self.dirs.parent(&it.rel)?;
        rustix::fs::chownat(fd, name, u, g, AtFlags::SYMLINK_NOFOLLOW).map_err(err)
    }

    /// Phase 5: directory modes and owners, deepest first (a read-only parent set last).
    fn apply_dir_modes(&mut self, items: &[Item]) -> Result<(), ExploreError> {
        for it in items
            .iter()
            .rev()
            .filter(|i| i.node.is_dir() && !i.rel.is_empty())
        {
            let fd = self.dirs.open_dir(&it.rel)?;
            if self.opts.as_root {
                let (u, g) = owner(it.node);
                rustix::fs::fchown(&fd, u, g).map_err(self.write_err(&it.rel))?;
            }
            rustix::fs::fchmod(&fd, final_mode(it.node, self.opts))
                .map_err(self.write_err(&it.rel))?;
        }
        Ok(())
    }
}

/// The error for a layer that ended before the first of its wanted entries.
fn missing_content(wanted: &HashMap<Locator, Vec<usize>>, layer: usize) -> ExploreError {
    let ordinal = wanted
        .keys()
        .filter(|l| l.layer == layer)
        .map(|l| l.ordinal)
        .min()
        .unwrap_or(0);
    ExploreError::MissingContent { layer, ordinal }
}

fn create_file(dirs: &mut Dirs, rel: &str) -> Result<File, ExploreError> {
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let (fd, name) = dirs.parent(rel)?;
    let opened = match rustix::fs::openat(fd, name, flags, Mode::from_raw_mode(0o600)) {
        Err(Errno::EXIST) => {
            dirs.clear(rel)?;
            let (fd, name) = dirs.parent(rel)?;
            rustix::fs::openat(fd, name, flags, Mode::from_raw_mode(0o600))
        }
        other => other,
    };
    opened
        .map(File::from)
        .map_err(|e| ExploreError::write(dirs.host_path(rel), e))
}

fn link(dirs: &mut Dirs, existing: &str, new: &str) -> Result<(), ExploreError> {
    let (old_dir, old_name) = split(existing);
    let old_fd = dirs.open_dir(old_dir)?;
    let (fd, name) = dirs.parent(new)?;
    let linked = rustix::fs::linkat(&old_fd, old_name, fd, name, AtFlags::empty());
    if linked == Err(Errno::EXIST) {
        dirs.clear(new)?;
        let (fd, name) = dirs.parent(new)?;
        rustix::fs::linkat(&old_fd, old_name, fd, name, AtFlags::empty())
    } else {
        linked
    }
    .map_err(|e| ExploreError::write(dirs.host_path(new), e))
}
