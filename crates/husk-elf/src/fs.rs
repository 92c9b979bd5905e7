//! The host filesystem as the resolver sees it: a four-method trait with the real
//! filesystem behind one implementation and an in-memory tree behind the other, so the
//! resolver's tests need no particular `/lib` on the machine running them.
//!
//! It also owns the input discipline for every host file husk-elf reads whole
//! ([`read_regular`]): the file is opened with `O_NONBLOCK` (so a FIFO never blocks the
//! open), checked with `fstat` to be a regular file (a FIFO, a device such as `/dev/zero`,
//! a socket, or a symlink to one of them is refused), checked with `fstatfs` not to live
//! on a kernel-generated filesystem (`/proc`, `/sys`...: their sizes lie and some never
//! end), and read through a size cap, so no host file can hang husk or exhaust memory.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use rustix::fs::{FileType, Mode, OFlags};

/// The kernel's limit on symbolic links followed during one path lookup (ELOOP).
pub const MAX_SYMLINKS: usize = 40;

/// The cap on an ELF file read whole through [`HostFs::read`]: 4 GiB, above any shared
/// library shipped in practice (the largest, CUDA and deep-learning libraries, stay under
/// 2 GiB) and far below what a sparse or endless file would make husk allocate.
pub const MAX_FILE_BYTES: u64 = 4 << 30;

/// The cap on a small configuration file (`ld.so.conf` and its includes, musl's
/// `/etc/ld-musl-ARCH.path`): 1 MiB, a thousand times what a real one holds.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// The cap on `/etc/ld.so.cache`: 64 MiB (a distribution's cache is a few hundred KiB).
pub const MAX_LD_CACHE_BYTES: u64 = 64 << 20;

/// Why a host file was refused before being read whole. Carried inside the
/// [`io::Error`] that [`HostFs::read_limited`] returns (kind `InvalidInput`), so callers
/// can tell a refusal from a missing file; husk-elf turns it into
/// [`crate::ElfError::InputRefused`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The file (after following symlinks) is not a regular file.
    #[error("it is a {kind}, not a regular file; point it at a regular file (or a symlink to one)")]
    NotRegular {
        /// `FIFO`, `character device`, `block device`, `socket` or `directory`.
        kind: &'static str,
    },
    /// The file lives on a filesystem the kernel generates (its size and content are not
    /// stored data).
    #[error(
        "it lives on {fs}, whose files the kernel generates; copy the file to a real filesystem first"
    )]
    PseudoFs {
        /// The filesystem's name (`procfs`, `sysfs`...).
        fs: &'static str,
    },
    /// The file is larger than the cap for its kind.
    #[error(
        "it is larger than {limit} bytes, the limit for this kind of file; check that the path names the file you meant"
    )]
    TooLarge {
        /// The cap in bytes.
        limit: u64,
    },
}

impl Refusal {
    /// The refusal carried by an error from [`HostFs::read_limited`], if it is one.
    #[must_use]
    pub fn of(err: &io::Error) -> Option<&Refusal> {
        err.get_ref().and_then(|e| e.downcast_ref::<Refusal>())
    }

    fn into_io(self) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidInput, self)
    }
}

/// Reads the whole regular file at `path` (symlinks followed), at most `limit` bytes.
///
/// The open uses `O_NONBLOCK | O_NOCTTY` so a FIFO or a terminal cannot block it; the
/// opened file is then checked with `fstat` (must be a regular file) and `fstatfs` (must
/// not be procfs, sysfs or another kernel-generated filesystem), and read through a
/// `limit + 1` byte window, so a file that grows while being read is refused too.
///
/// # Errors
/// Any I/O error (`NotFound` when the path does not exist); an `InvalidInput` error
/// carrying a [`Refusal`] (see [`Refusal::of`]) when the file is not regular, lives on a
/// pseudo filesystem, or is larger than `limit`.
pub fn read_regular(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let (file, size) = open_regular(path, limit)?;
    let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(limit.saturating_add(1)).read_to_end(&mut buf)?;
    if u64::try_from(buf.len()).unwrap_or(u64::MAX) > limit {
        return Err(Refusal::TooLarge { limit }.into_io());
    }
    Ok(buf)
}

/// An ELF file as [`crate::parse_elf`] reads it, under [`read_regular`]'s discipline: a
/// buffer of the file's length holding its headers, PT_INTERP, PT_DYNAMIC and dynamic
/// string table, zero elsewhere ([`crate::read_elf_parts`]), so a 20 MB program costs
/// a few KiB of reads and no copy.
///
/// # Errors
/// As [`read_regular`]; `UnexpectedEof` when the file shrank while being read.
pub fn read_regular_elf(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt as _;
    let (file, size) = open_regular(path, limit)?;
    crate::read_elf_parts(size, &mut |buf, offset| file.read_exact_at(buf, offset))
}

/// `path` opened for reading as [`read_regular`] describes, with its size (at most
/// `limit`).
fn open_regular(path: &Path, limit: u64) -> io::Result<(std::fs::File, u64)> {
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    let fd = rustix::fs::open(path, flags, Mode::empty())?;
    let stat = rustix::fs::fstat(&fd)?;
    let kind = FileType::from_raw_mode(stat.st_mode);
    if kind != FileType::RegularFile {
        return Err(Refusal::NotRegular {
            kind: kind_name(kind),
        }
        .into_io());
    }
    if let Some(fs) = pseudo_fs(i128::from(rustix::fs::fstatfs(&fd)?.f_type)) {
        return Err(Refusal::PseudoFs { fs }.into_io());
    }
    let size = u64::try_from(stat.st_size).unwrap_or(0);
    if size > limit {
        return Err(Refusal::TooLarge { limit }.into_io());
    }
    Ok((std::fs::File::from(fd), size))
}

fn kind_name(kind: FileType) -> &'static str {
    match kind {
        FileType::Fifo => "FIFO",
        FileType::CharacterDevice => "character device",
        FileType::BlockDevice => "block device",
        FileType::Socket => "socket",
        FileType::Directory => "directory",
        FileType::Symlink => "symbolic link",
        _ => "special file",
    }
}

/// The name of a kernel-generated filesystem by its `statfs` magic.
fn pseudo_fs(magic: i128) -> Option<&'static str> {
    Some(match magic {
        0x9fa0 => "procfs",
        0x6265_6572 => "sysfs",
        0x6462_6720 => "debugfs",
        0x7472_6163 => "tracefs",
        0x7363_6673 => "securityfs",
        0x6265_6570 => "configfs",
        0x0027_e0eb => "cgroupfs",
        0x6367_7270 => "cgroup2fs",
        0xde5e_81e4 => "efivarfs",
        0xcafe_4a11 => "bpffs",
        _ => return None,
    })
}

/// The host filesystem, read-only. `file_type` and `read_link` have lstat semantics: they
/// never follow a final symlink (intermediate ones are followed, as by the kernel).
pub trait HostFs: Sync {
    /// The whole content of a regular file, following symlinks, at most
    /// [`MAX_FILE_BYTES`] (the cap for ELF files).
    ///
    /// # Errors
    /// As [`HostFs::read_limited`].
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.read_limited(path, MAX_FILE_BYTES)
    }
    /// An ELF file as [`crate::parse_elf`] reads it: a buffer of the file's length in
    /// which at least the parts `parse_elf` looks at hold the file's bytes (the host
    /// filesystems read only those: [`read_regular_elf`]). By default the whole file.
    ///
    /// # Errors
    /// As [`HostFs::read`].
    fn read_elf(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.read(path)
    }
    /// The whole content of a regular file, following symlinks, at most `limit` bytes.
    ///
    /// # Errors
    /// Any I/O error, `NotFound` when the path does not exist; an `InvalidInput` error
    /// carrying a [`Refusal`] when the file is not a regular file or is over `limit`.
    fn read_limited(&self, path: &Path, limit: u64) -> io::Result<Vec<u8>>;
    /// The target of a symlink, exactly as stored (relative or absolute).
    ///
    /// # Errors
    /// Any I/O error; `InvalidInput` when `path` is not a symlink.
    fn read_link(&self, path: &Path) -> io::Result<PathBuf>;
    /// The kind of the file at `path`, without following a final symlink.
    ///
    /// # Errors
    /// Any I/O error, `NotFound` when the path does not exist.
    fn file_type(&self, path: &Path) -> io::Result<FileKind>;
    /// The names in a directory (not `.` and `..`), following symlinks. Order unspecified.
    ///
    /// # Errors
    /// Any I/O error.
    fn read_dir(&self, path: &Path) -> io::Result<Vec<OsString>>;
    /// Where the file this filesystem calls `path` is on the host (for the layer writer):
    /// `path` itself, except for a view of another root ([`crate::RootedFs`]).
    fn host_path(&self, path: &Path) -> PathBuf {
        path.to_path_buf()
    }
}

/// What kind of file a path names (lstat semantics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink,
    /// A device, FIFO or socket.
    Other,
}

/// The real host filesystem, through `std::fs`.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealFs;

impl HostFs for RealFs {
    fn read_limited(&self, path: &Path, limit: u64) -> io::Result<Vec<u8>> {
        read_regular(path, limit)
    }

    fn read_elf(&self, path: &Path) -> io::Result<Vec<u8>> {
        read_regular_elf(path, MAX_FILE_BYTES)
    }

    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        std::fs::read_link(path)
    }

    fn file_type(&self, path: &Path) -> io::Result<FileKind> {
        let ft = std::fs::symlink_metadata(path)?.file_type();
        Ok(if ft.is_symlink() {
            FileKind::Symlink
        } else if ft.is_dir() {
            FileKind::Dir
        } else if ft.is_file() {
            FileKind::File
        } else {
            FileKind::Other
        })
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<OsString>> {
        std::fs::read_dir(path)?
            .map(|e| e.map(|e| e.file_name()))
            .collect()
    }
}

#[derive(Debug, Clone)]
enum Node {
    File(Vec<u8>),
    Symlink(PathBuf),
    Dir,
}

/// An in-memory host filesystem for tests (this crate's and other crates').
///
/// Paths are absolute; missing parent directories are created implicitly and parents that
/// are symlinks to directories are followed when adding. Lookups follow
/// symlinks like the kernel: relative targets resolve against the link's directory,
/// absolute ones against `/`, `..` is applied after resolving, and more than
/// [`MAX_SYMLINKS`] links fail the lookup.
#[derive(Debug, Clone)]
pub struct FakeFs {
    nodes: BTreeMap<PathBuf, Node>,
}

impl Default for FakeFs {
    fn default() -> Self {
        Self::new()
    }
}

enum Lookup {
    Found(PathBuf),
    Missing,
    NotDir,
    Loop,
}

impl FakeFs {
    /// An empty filesystem holding only `/`.
    #[must_use]
    pub fn new() -> Self {
        let mut nodes = BTreeMap::new();
        nodes.insert(PathBuf::from("/"), Node::Dir);
        FakeFs { nodes }
    }

    /// Adds (or replaces) a regular file.
    pub fn add_file(&mut self, path: impl AsRef<Path>, bytes: impl Into<Vec<u8>>) -> &mut Self {
        self.insert(path.as_ref(), Node::File(bytes.into()))
    }

    /// Adds (or replaces) a symlink; `target` is stored verbatim.
    pub fn add_symlink(&mut self, path: impl AsRef<Path>, target: impl Into<PathBuf>) -> &mut Self {
        self.insert(path.as_ref(), Node::Symlink(target.into()))
    }

    /// Adds a directory (a no-op if one exists there, also through symlinks).
    pub fn add_dir(&mut self, path: impl AsRef<Path>) -> &mut Self {
        if let Lookup::Found(k) = self.lookup(path.as_ref(), true)
            && matches!(self.nodes.get(&k), Some(Node::Dir))
        {
            return self;
        }
        self.insert(path.as_ref(), Node::Dir)
    }

    /// Inserts at `path`, creating missing parents; a parent that is a symlink to a
    /// directory is followed (like creating a file through it on a real filesystem).
    fn insert(&mut self, path: &Path, node: Node) -> &mut Self {
        let key = lexical(path);
        let Some(name) = key.file_name().map(PathBuf::from) else {
            return self; // "/" itself
        };
        let mut cur = PathBuf::from("/");
        for comp in key.parent().unwrap_or(Path::new("/")).components() {
            let Component::Normal(c) = comp else { continue };
            let next = cur.join(c);
            cur = match self.nodes.get(&next) {
                Some(Node::Dir) => next,
                Some(Node::Symlink(_)) => match self.lookup(&next, true) {
                    Lookup::Found(k) if matches!(self.nodes.get(&k), Some(Node::Dir)) => k,
                    _ => next,
                },
                Some(Node::File(_)) | None => {
                    self.nodes.insert(next.clone(), Node::Dir);
                    next
                }
            };
        }
        self.nodes.insert(cur.join(name), node);
        self
    }

    /// Resolves `path` to the key of an existing node, following intermediate symlinks
    /// always and the final one only when `follow_final`.
    fn lookup(&self, path: &Path, follow_final: bool) -> Lookup {
        let mut pending: Vec<PathBuf> = Vec::new(); // components, reversed (a stack)
        push_components(&mut pending, path);
        let mut cur = PathBuf::from("/");
        let mut links = 0usize;
        while let Some(comp) = pending.pop() {
            if comp.as_os_str() == ".." {
                cur.pop();
                continue;
            }
            // `cur` is always an existing directory here.
            let next = cur.join(&comp);
            let is_final = pending.is_empty();
            match self.nodes.get(&next) {
                None => return Lookup::Missing,
                Some(Node::Dir) => cur = next,
                Some(Node::File(_)) => {
                    if is_final {
                        return Lookup::Found(next);
                    }
                    return Lookup::NotDir;
                }
                Some(Node::Symlink(target)) => {
                    if is_final && !follow_final {
                        return Lookup::Found(next);
                    }
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Lookup::Loop;
                    }
                    if target.is_absolute() {
                        cur = PathBuf::from("/");
                    }
                    push_components(&mut pending, target);
                }
            }
        }
        Lookup::Found(cur)
    }

    fn node(&self, path: &Path, follow_final: bool) -> io::Result<(PathBuf, &Node)> {
        match self.lookup(path, follow_final) {
            Lookup::Found(k) => match self.nodes.get(&k) {
                Some(n) => Ok((k, n)),
                None => Err(not_found(path)),
            },
            Lookup::Missing => Err(not_found(path)),
            Lookup::NotDir => Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("{}: a path component is not a directory", path.display()),
            )),
            Lookup::Loop => Err(io::Error::other(format!(
                "{}: too many levels of symbolic links",
                path.display()
            ))),
        }
    }
}

fn not_found(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("{}: no such file or directory", path.display()),
    )
}

/// Pushes the normal and `..` components of `path` onto a reversed stack.
fn push_components(stack: &mut Vec<PathBuf>, path: &Path) {
    let comps: Vec<PathBuf> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(PathBuf::from(n)),
            Component::ParentDir => Some(PathBuf::from("..")),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect();
    stack.extend(comps.into_iter().rev());
}

/// `/` joined with the normal components of `path` (`.` dropped, `..` applied lexically).
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

impl HostFs for FakeFs {
    fn read_limited(&self, path: &Path, limit: u64) -> io::Result<Vec<u8>> {
        match self.node(path, true)? {
            (_, Node::File(bytes)) if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > limit => {
                Err(Refusal::TooLarge { limit }.into_io())
            }
            (_, Node::File(bytes)) => Ok(bytes.clone()),
            (_, Node::Dir) => Err(Refusal::NotRegular { kind: "directory" }.into_io()),
            (_, Node::Symlink(_)) => Err(not_found(path)),
        }
    }

    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        match self.node(path, false)? {
            (_, Node::Symlink(target)) => Ok(target.clone()),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{}: not a symbolic link", path.display()),
            )),
        }
    }

    fn file_type(&self, path: &Path) -> io::Result<FileKind> {
        Ok(match self.node(path, false)?.1 {
            Node::File(_) => FileKind::File,
            Node::Dir => FileKind::Dir,
            Node::Symlink(_) => FileKind::Symlink,
        })
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<OsString>> {
        let (key, node) = self.node(path, true)?;
        if !matches!(node, Node::Dir) {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("{}: not a directory", path.display()),
            ));
        }
        Ok(self
            .nodes
            .range(key.clone()..)
            .skip(1)
            .take_while(|(k, _)| k.starts_with(&key))
            .filter(|(k, _)| k.parent() == Some(key.as_path()))
            .filter_map(|(k, _)| k.file_name().map(OsString::from))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fs() -> FakeFs {
        let mut fs = FakeFs::new();
        fs.add_symlink("/lib", "usr/lib")
            .add_file("/usr/lib/x/libc.so.6", b"libc".to_vec())
            .add_symlink("/usr/lib/x/libc.so", "libc.so.6")
            .add_symlink("/abs", "/usr/lib/x/libc.so")
            .add_symlink("/up", "usr/lib/x/../x/libc.so.6")
            .add_symlink("/loop1", "loop2")
            .add_symlink("/loop2", "/loop1");
        fs
    }

    #[test]
    fn read_follows_relative_and_absolute_symlinks() {
        let fs = fs();
        for p in [
            "/lib/x/libc.so",
            "/abs",
            "/up",
            "/usr/lib/x/libc.so.6",
            "/lib/x/../x/libc.so.6",
        ] {
            assert_eq!(fs.read(Path::new(p)).unwrap(), b"libc", "{p}");
        }
    }

    #[test]
    fn adding_through_a_symlinked_parent_lands_in_the_target() {
        let mut fs = fs();
        fs.add_file("/lib/y/libz.so", b"z".to_vec());
        assert_eq!(fs.read(Path::new("/usr/lib/y/libz.so")).unwrap(), b"z");
        assert_eq!(fs.file_type(Path::new("/lib")).unwrap(), FileKind::Symlink);
    }

    #[test]
    fn lstat_semantics() {
        let fs = fs();
        assert_eq!(fs.file_type(Path::new("/lib")).unwrap(), FileKind::Symlink);
        assert_eq!(fs.file_type(Path::new("/lib/x")).unwrap(), FileKind::Dir);
        assert_eq!(
            fs.file_type(Path::new("/lib/x/libc.so")).unwrap(),
            FileKind::Symlink
        );
        assert_eq!(
            fs.read_link(Path::new("/lib/x/libc.so")).unwrap(),
            Path::new("libc.so.6")
        );
        assert!(fs.read_link(Path::new("/usr")).is_err());
    }

    #[test]
    fn loops_and_missing_fail_without_panicking() {
        let fs = fs();
        assert!(fs.read(Path::new("/loop1")).is_err());
        assert_eq!(
            fs.file_type(Path::new("/loop1")).unwrap(),
            FileKind::Symlink
        );
        assert_eq!(
            fs.read(Path::new("/nope")).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
        assert_eq!(
            fs.read(Path::new("/usr/lib/x/libc.so.6/x"))
                .unwrap_err()
                .kind(),
            io::ErrorKind::NotADirectory
        );
    }

    #[test]
    fn read_dir_lists_direct_children_through_symlinks() {
        let fs = fs();
        let mut names = fs.read_dir(Path::new("/lib/x")).unwrap();
        names.sort();
        assert_eq!(
            names,
            vec![OsString::from("libc.so"), OsString::from("libc.so.6")]
        );
        let mut root = fs.read_dir(Path::new("/")).unwrap();
        root.sort();
        assert_eq!(root.len(), 6);
    }
}
