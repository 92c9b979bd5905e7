//! What goes in a layer: a sorted map from [`ImagePath`] to [`Entry`].
//!
//! A plan is pure data; nothing is read from the host until the layer is written, except
//! by [`LayerPlan::add_host_tree`], which walks a directory to decide its entries. Conflicts
//! are caught when an entry is added, so a layer never silently depends on insertion order.

use std::collections::BTreeMap;
use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::entry::EntryKind;
use crate::error::PlanError;
use crate::paths::{ImagePath, MAX_PATH_LEN};

/// Mode of executables under the fixed policy.
pub const MODE_EXEC: u32 = 0o555;
/// Mode of other files under the fixed policy.
pub const MODE_DATA: u32 = 0o444;
/// Mode of directories.
pub const MODE_DIR: u32 = 0o755;

/// Where a file's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileSource {
    /// A host file, read (following symlinks) when the layer is written.
    Host(PathBuf),
    /// Bytes held in memory (generated files such as `/etc/passwd`).
    Bytes(Arc<[u8]>),
}

/// One planned entry: a directory, a file or a symlink (husk writes no other kind).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// [`EntryKind::Dir`], [`EntryKind::File`] or [`EntryKind::Symlink`] (target as-is).
    pub kind: EntryKind,
    /// Where a file's bytes come from: `Some` exactly for [`EntryKind::File`].
    pub source: Option<FileSource>,
    /// Permission bits including setuid/setgid/sticky, e.g. `0o1777`; nothing above `0o7777`.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

impl Entry {
    /// A directory with [`MODE_DIR`] owned by 0:0.
    pub fn dir() -> Entry {
        Entry {
            kind: EntryKind::Dir,
            source: None,
            mode: MODE_DIR,
            uid: 0,
            gid: 0,
        }
    }

    /// A file owned by 0:0.
    pub fn file(source: FileSource, mode: u32) -> Entry {
        Entry {
            kind: EntryKind::File,
            source: Some(source),
            mode,
            uid: 0,
            gid: 0,
        }
    }

    /// A symlink owned by 0:0 (mode 0777, as Linux reports symlinks).
    pub fn symlink(target: impl Into<String>) -> Entry {
        Entry {
            kind: EntryKind::Symlink(target.into()),
            source: None,
            mode: 0o777,
            uid: 0,
            gid: 0,
        }
    }

    /// The same entry with another owner.
    pub fn owned_by(mut self, uid: u32, gid: u32) -> Entry {
        self.uid = uid;
        self.gid = gid;
        self
    }
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.kind, &self.source) {
            (EntryKind::File, Some(FileSource::Host(p))) => {
                write!(f, "file from {}", p.display())?;
            }
            (EntryKind::File, Some(FileSource::Bytes(b))) => {
                write!(f, "file of {} bytes", b.len())?;
            }
            (EntryKind::Symlink(t), _) => write!(f, "symlink to {t:?}")?,
            (kind, _) => f.write_str(kind.noun())?,
        }
        write!(f, " mode {:04o} owner {}:{}", self.mode, self.uid, self.gid)
    }
}

/// The fixed mode policy: executable (any x bit on the host) -> 0555, other files -> 0444,
/// directories 0755. Host write bits, setuid/setgid and sticky bits are never carried over.
pub fn policy_mode(host_mode: u32, is_dir: bool) -> u32 {
    if is_dir {
        MODE_DIR
    } else if host_mode & 0o111 != 0 {
        MODE_EXEC
    } else {
        MODE_DATA
    }
}

/// Why `entry` cannot be planned whatever its path: a kind husk does not write, or a
/// source that does not go with the kind.
fn shape_error(entry: &Entry) -> Option<&'static str> {
    match (&entry.kind, &entry.source) {
        (EntryKind::File, Some(_)) | (EntryKind::Dir | EntryKind::Symlink(_), None) => None,
        (EntryKind::File, None) => Some("a file needs a source of bytes (use Entry::file)"),
        (EntryKind::Dir | EntryKind::Symlink(_), Some(_)) => {
            Some("only a file has a source of bytes")
        }
        _ => Some(
            "husk writes only files, directories and symlinks into layers (no hard links, devices or fifos)",
        ),
    }
}

/// The entries of one layer, sorted by path. Parent directories that are not added
/// explicitly are written as 0755 0:0 directories.
#[derive(Debug, Default, Clone)]
pub struct LayerPlan {
    entries: BTreeMap<ImagePath, Entry>,
}

impl LayerPlan {
    pub fn new() -> Self {
        LayerPlan::default()
    }

    /// Add one entry.
    ///
    /// Re-adding an identical entry is a no-op (host sources compare by host path).
    ///
    /// # Errors
    /// [`PlanError::Conflict`] when `path` is already planned differently,
    /// [`PlanError::UnderNonDirectory`] when a planned ancestor is a file or symlink,
    /// [`PlanError::HasChildren`] when a file or symlink would replace a directory that has
    /// planned entries below it, [`PlanError::RootNotDirectory`], [`PlanError::BadMode`],
    /// [`PlanError::BadSymlinkTarget`], and [`PlanError::BadEntry`] for a kind husk does not
    /// write or a source that does not match the kind.
    pub fn add(&mut self, path: ImagePath, entry: Entry) -> Result<(), PlanError> {
        if let Some(why) = shape_error(&entry) {
            return Err(PlanError::BadEntry { path, why });
        }
        if entry.mode & !0o7777 != 0 {
            return Err(PlanError::BadMode {
                path,
                mode: entry.mode,
            });
        }
        if let EntryKind::Symlink(target) = &entry.kind
            && (target.is_empty() || target.contains('\0') || target.len() > MAX_PATH_LEN)
        {
            return Err(PlanError::BadSymlinkTarget {
                target: target.clone(),
                path,
            });
        }
        let is_dir = entry.kind.is_dir();
        if path.is_root() && !is_dir {
            return Err(PlanError::RootNotDirectory);
        }
        if let Some(existing) = self.entries.get(&path) {
            if *existing == entry {
                return Ok(());
            }
            return Err(PlanError::Conflict {
                existing: existing.to_string(),
                new: entry.to_string(),
                path,
            });
        }
        let blocker = path.ancestors().find_map(|ancestor| {
            let a = self.entries.get(&ancestor)?;
            (!a.kind.is_dir()).then(|| (ancestor, a.kind.noun()))
        });
        if let Some((parent, parent_kind)) = blocker {
            return Err(PlanError::UnderNonDirectory {
                path,
                parent,
                parent_kind,
            });
        }
        if !is_dir && self.has_children(&path) {
            return Err(PlanError::HasChildren {
                kind: entry.kind.noun(),
                path,
            });
        }
        self.entries.insert(path, entry);
        Ok(())
    }

    fn has_children(&self, path: &ImagePath) -> bool {
        let bound = path.children_bound();
        self.entries
            .range(bound..)
            .next()
            .is_some_and(|(p, _)| p != path && p.starts_with(path))
    }

    /// Add a host directory tree (`SRC:DEST` of a directory): `dest` and every directory
    /// below it as 0755, files with [`policy_mode`] unless `mode` is given, symlinks kept as
    /// symlinks (target text as-is), all owned by `uid:gid`. `src` itself may be a symlink
    /// to a directory; links inside the tree are never followed.
    ///
    /// # Errors
    /// [`PlanError::NotADirectory`] when `src` is not a directory, [`PlanError::SpecialFile`]
    /// naming a fifo, socket or device found in the tree, [`PlanError::HostIo`],
    /// [`PlanError::NotUtf8`] for a name or link target that is not UTF-8,
    /// [`PlanError::Path`] for a name that is not a valid image path, and the errors of
    /// [`LayerPlan::add`]. Entries added before an error stay in the plan.
    pub fn add_host_tree(
        &mut self,
        src: &Path,
        dest: ImagePath,
        mode: Option<u32>,
        uid: u32,
        gid: u32,
    ) -> Result<(), PlanError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| PlanError::HostIo { path, source }
        };
        let meta = std::fs::metadata(src).map_err(io(src))?;
        if !meta.is_dir() {
            return Err(PlanError::NotADirectory {
                path: src.to_path_buf(),
            });
        }
        let dir = || Entry::dir().owned_by(uid, gid);
        self.add(dest.clone(), dir())?;
        let mut stack = vec![(src.to_path_buf(), dest)];
        while let Some((host_dir, image_dir)) = stack.pop() {
            let mut children = Vec::new();
            for item in std::fs::read_dir(&host_dir).map_err(io(&host_dir))? {
                let item = item.map_err(io(&host_dir))?;
                children.push(item.file_name());
            }
            children.sort();
            for name in children {
                let host = host_dir.join(&name);
                let name = name
                    .to_str()
                    .ok_or_else(|| PlanError::NotUtf8 { path: host.clone() })?;
                let image = image_dir.join(name).map_err(|source| PlanError::Path {
                    host: host.clone(),
                    source,
                })?;
                let meta = std::fs::symlink_metadata(&host).map_err(io(&host))?;
                let ft = meta.file_type();
                if ft.is_dir() {
                    self.add(image.clone(), dir())?;
                    stack.push((host, image));
                } else if ft.is_file() {
                    let m = mode.unwrap_or_else(|| policy_mode(meta.permissions().mode(), false));
                    let entry = Entry::file(FileSource::Host(host), m).owned_by(uid, gid);
                    self.add(image, entry)?;
                } else if ft.is_symlink() {
                    let target = std::fs::read_link(&host).map_err(io(&host))?;
                    let target = target
                        .into_os_string()
                        .into_string()
                        .map_err(|_| PlanError::NotUtf8 { path: host.clone() })?;
                    self.add(image, Entry::symlink(target).owned_by(uid, gid))?;
                } else {
                    // fifo, socket, block or character device
                    return Err(PlanError::SpecialFile { path: host });
                }
            }
        }
        Ok(())
    }

    /// Number of explicitly planned entries (implicit parents not counted).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The planned entries in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&ImagePath, &Entry)> {
        self.entries.iter()
    }

    pub fn get(&self, p: &ImagePath) -> Option<&Entry> {
        self.entries.get(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> ImagePath {
        ImagePath::parse(s).unwrap()
    }

    fn bytes(b: &[u8]) -> Entry {
        Entry::file(FileSource::Bytes(b.into()), MODE_DATA)
    }

    #[test]
    fn policy() {
        assert_eq!(policy_mode(0o644, false), MODE_DATA);
        assert_eq!(policy_mode(0o100755, false), MODE_EXEC);
        assert_eq!(policy_mode(0o4711, false), MODE_EXEC);
        assert_eq!(policy_mode(0o001, false), MODE_EXEC);
        assert_eq!(policy_mode(0o777, false), MODE_EXEC);
        assert_eq!(policy_mode(0o700, true), MODE_DIR);
        assert_eq!(policy_mode(0o000, false), MODE_DATA);
    }

    #[test]
    fn identical_re_add_is_a_no_op() {
        let mut plan = LayerPlan::new();
        plan.add(p("/a"), bytes(b"x")).unwrap();
        plan.add(p("/a"), bytes(b"x")).unwrap();
        let host = Entry::file(FileSource::Host("/bin/sh".into()), MODE_EXEC);
        plan.add(p("/sh"), host.clone()).unwrap();
        plan.add(p("/sh"), host).unwrap();
        assert_eq!(plan.len(), 2);
    }

    #[test]
    fn conflicts_name_the_path() {
        let mut plan = LayerPlan::new();
        plan.add(p("/etc/passwd"), bytes(b"root")).unwrap();
        for other in [
            bytes(b"other"),
            Entry::file(FileSource::Bytes(b"root".as_slice().into()), MODE_EXEC),
            bytes(b"root").owned_by(1, 1),
            Entry::dir(),
            Entry::symlink("/x"),
            Entry::file(FileSource::Host("/etc/passwd".into()), MODE_DATA),
        ] {
            let err = plan.add(p("/etc/passwd"), other).unwrap_err();
            assert!(matches!(err, PlanError::Conflict { .. }), "{err:?}");
            assert!(
                err.to_string()
                    .starts_with("conflicting entries for \"/etc/passwd\": already planned as file of 4 bytes mode 0444 owner 0:0"),
                "{err}"
            );
        }
        let err = plan
            .add(
                p("/h"),
                Entry::file(FileSource::Host("/bin/a".into()), MODE_EXEC),
            )
            .and_then(|()| {
                plan.add(
                    p("/h"),
                    Entry::file(FileSource::Host("/bin/b".into()), MODE_EXEC),
                )
            })
            .unwrap_err();
        assert!(err.to_string().contains("/bin/a") && err.to_string().contains("/bin/b"));
    }

    #[test]
    fn nothing_below_files_or_symlinks() {
        let mut plan = LayerPlan::new();
        plan.add(p("/f"), bytes(b"x")).unwrap();
        plan.add(p("/l"), Entry::symlink("/f")).unwrap();
        for below in ["/f/x", "/f/x/y", "/l/x", "/l/a/b"] {
            let err = plan.add(p(below), bytes(b"")).unwrap_err();
            assert!(
                matches!(err, PlanError::UnderNonDirectory { .. }),
                "{below}: {err:?}"
            );
        }
    }

    #[test]
    fn no_file_over_a_directory_with_children() {
        let mut plan = LayerPlan::new();
        plan.add(p("/a/b/c"), bytes(b"x")).unwrap();
        plan.add(p("/a-x"), bytes(b"sibling sorting between /a and /a/"))
            .unwrap();
        for over in ["/a", "/a/b"] {
            let err = plan.add(p(over), Entry::symlink("elsewhere")).unwrap_err();
            assert!(matches!(err, PlanError::HasChildren { .. }), "{err:?}");
        }
        // An implicit parent can be made explicit as a directory.
        plan.add(p("/a"), Entry::dir().owned_by(5, 5)).unwrap();
        // "/a/b" has no planned children other than its own subtree: a file at /a/bc is fine.
        plan.add(p("/a/bc"), bytes(b"y")).unwrap();
    }

    #[test]
    fn root_mode_and_symlink_checks() {
        let mut plan = LayerPlan::new();
        assert!(matches!(
            plan.add(ImagePath::root(), bytes(b"x")),
            Err(PlanError::RootNotDirectory)
        ));
        plan.add(ImagePath::root(), Entry::dir()).unwrap();
        let mut bad = bytes(b"x");
        bad.mode = 0o10644;
        assert!(matches!(
            plan.add(p("/m"), bad),
            Err(PlanError::BadMode { .. })
        ));
        for target in ["", "a\0b"] {
            assert!(matches!(
                plan.add(p("/s"), Entry::symlink(target)),
                Err(PlanError::BadSymlinkTarget { .. })
            ));
        }
        let mut sticky = Entry::dir();
        sticky.mode = 0o1777;
        plan.add(p("/tmp"), sticky).unwrap();
    }

    #[test]
    fn kinds_husk_does_not_write_and_mismatched_sources_are_refused() {
        let mut plan = LayerPlan::new();
        let with_kind = |kind: EntryKind| Entry {
            kind,
            ..Entry::dir()
        };
        for kind in [
            EntryKind::Hardlink,
            EntryKind::Char,
            EntryKind::Block,
            EntryKind::Fifo,
            EntryKind::File,
        ] {
            let err = plan.add(p("/x"), with_kind(kind.clone())).unwrap_err();
            assert!(
                matches!(&err, PlanError::BadEntry { path, .. } if *path == p("/x")),
                "{kind:?}: {err:?}"
            );
            assert!(err.to_string().starts_with("cannot plan \"/x\": "), "{err}");
        }
        let mut dir_with_bytes = Entry::dir();
        dir_with_bytes.source = Some(FileSource::Bytes(b"x".as_slice().into()));
        let err = plan.add(p("/d"), dir_with_bytes).unwrap_err();
        assert!(
            err.to_string().contains("only a file has a source"),
            "{err}"
        );
        assert!(plan.is_empty());
    }

    #[test]
    fn host_tree_walk() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path();
        std::fs::create_dir_all(src.join("sub/deeper")).unwrap();
        std::fs::write(src.join("data.txt"), "d").unwrap();
        std::fs::write(src.join("sub/tool"), "#!").unwrap();
        std::fs::set_permissions(src.join("sub/tool"), std::fs::Permissions::from_mode(0o750))
            .unwrap();
        std::os::unix::fs::symlink("../data.txt", src.join("sub/link")).unwrap();

        let mut plan = LayerPlan::new();
        plan.add_host_tree(src, p("/app"), None, 1000, 1000)
            .unwrap();
        let got: Vec<(String, u32)> = plan.iter().map(|(k, e)| (k.to_string(), e.mode)).collect();
        assert_eq!(
            got,
            [
                ("/app".to_string(), MODE_DIR),
                ("/app/data.txt".into(), MODE_DATA),
                ("/app/sub".into(), MODE_DIR),
                ("/app/sub/deeper".into(), MODE_DIR),
                ("/app/sub/link".into(), 0o777),
                ("/app/sub/tool".into(), MODE_EXEC),
            ]
        );
        assert!(plan.iter().all(|(_, e)| e.uid == 1000 && e.gid == 1000));
        assert_eq!(
            plan.get(&p("/app/sub/link")).unwrap().kind,
            EntryKind::Symlink("../data.txt".into())
        );

        let mut forced = LayerPlan::new();
        forced
            .add_host_tree(src, p("/app"), Some(0o600), 0, 0)
            .unwrap();
        assert_eq!(forced.get(&p("/app/sub/tool")).unwrap().mode, 0o600);
        assert_eq!(forced.get(&p("/app/sub")).unwrap().mode, MODE_DIR);

        let err = LayerPlan::new()
            .add_host_tree(&src.join("data.txt"), p("/x"), None, 0, 0)
            .unwrap_err();
        assert!(matches!(err, PlanError::NotADirectory { .. }));
    }

    #[test]
    fn host_tree_rejects_special_files_by_name() {
        let tmp = tempfile::tempdir().unwrap();
        let sock_path = tmp.path().join("control.sock");
        let _listener = std::os::unix::net::UnixListener::bind(&sock_path).unwrap();
        let err = LayerPlan::new()
            .add_host_tree(tmp.path(), p("/srv"), None, 0, 0)
            .unwrap_err();
        assert!(matches!(&err, PlanError::SpecialFile { path } if *path == sock_path));
        assert!(err.to_string().contains("control.sock"));
    }
}
