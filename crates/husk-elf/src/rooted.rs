//! A sysroot as the resolver's host filesystem: [`RootedFs`] answers for paths as a
//! program running `chroot`ed into a directory would see them, so an arm64 program's
//! libraries are looked up in an arm64 tree (a debootstrap, a cross toolchain's
//! `/usr/aarch64-linux-gnu`) and never in the host's own `/lib`.
//!
//! Every symlink inside the root is followed inside it: an absolute target starts again
//! at the root, and `..` never climbs above it, as in a chroot. The programs being
//! packaged live outside the root; they are named as pass-through paths, read where they
//! are. [`HostFs::host_path`] maps an answer back to the file on the host, for the
//! layer writer.

use std::ffi::OsString;
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::fs::{
    FileKind, HostFs, MAX_FILE_BYTES, MAX_SYMLINKS, RealFs, read_regular, read_regular_elf,
};

/// The host filesystem seen from inside `root` (see the module documentation).
#[derive(Debug, Clone)]
pub struct RootedFs {
    root: PathBuf,
    passthrough: Vec<PathBuf>,
}

impl RootedFs {
    /// A view of `root`; each path in `passthrough` (the programs to package) is read on
    /// the host as it is.
    #[must_use]
    pub fn new(root: impl Into<PathBuf>, passthrough: Vec<PathBuf>) -> RootedFs {
        RootedFs {
            root: root.into(),
            passthrough,
        }
    }

    /// The root directory on the host.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The host path of `path` inside the root: every symlink on the way resolved inside
    /// the root (the final one only when `follow_final`).
    fn resolve(&self, path: &Path, follow_final: bool) -> io::Result<PathBuf> {
        if self.passthrough.iter().any(|p| p == path) {
            return Ok(path.to_path_buf());
        }
        // `done` is a path inside the root, without symlinks; `todo` what is left of it.
        let mut done = PathBuf::from("/");
        let mut todo: Vec<OsString> = components_rev(path);
        let mut hops = 0;
        while let Some(name) = todo.pop() {
            if name == ".." {
                done.pop();
                continue;
            }
            let next = done.join(&name);
            let host = self.on_host(&next);
            let is_last = todo.is_empty();
            match std::fs::symlink_metadata(&host) {
                Ok(m) if m.file_type().is_symlink() && (follow_final || !is_last) => {
                    hops += 1;
                    if hops > MAX_SYMLINKS {
                        return Err(io::Error::other(format!(
                            "too many levels of symbolic links below {}",
                            self.root.display()
                        )));
                    }
                    let target = std::fs::read_link(&host)?;
                    if target.is_absolute() {
                        done = PathBuf::from("/");
                    }
                    todo.extend(components_rev(&target));
                }
                Ok(_) => done = next,
                Err(e) if e.kind() == io::ErrorKind::NotFound && is_last => done = next,
                Err(e) => return Err(e),
            }
        }
        Ok(self.on_host(&done))
    }

    /// `path` (inside the root, without symlinks) as a host path.
    fn on_host(&self, path: &Path) -> PathBuf {
        let rel = path.strip_prefix("/").unwrap_or(path);
        if rel.as_os_str().is_empty() {
            self.root.clone()
        } else {
            self.root.join(rel)
        }
    }
}

/// The normal components of `path` (and `..`), last first, so they pop in order.
fn components_rev(path: &Path) -> Vec<OsString> {
    let mut v: Vec<OsString> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect();
    v.reverse();
    v
}

impl HostFs for RootedFs {
    fn read_limited(&self, path: &Path, limit: u64) -> io::Result<Vec<u8>> {
        read_regular(&self.resolve(path, true)?, limit)
    }

    fn read_elf(&self, path: &Path) -> io::Result<Vec<u8>> {
        read_regular_elf(&self.resolve(path, true)?, MAX_FILE_BYTES)
    }

    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        std::fs::read_link(self.resolve(path, false)?)
    }

    fn file_type(&self, path: &Path) -> io::Result<FileKind> {
        RealFs.file_type(&self.resolve(path, false)?)
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<OsString>> {
        RealFs.read_dir(&self.resolve(path, true)?)
    }

    fn host_path(&self, path: &Path) -> PathBuf {
        self.resolve(path, false).unwrap_or_else(|_| {
            // Not there: its lexical place inside the root (`..` stops at the root).
            let mut inside = PathBuf::from("/");
            for name in components_rev(path).into_iter().rev() {
                if name == ".." {
                    inside.pop();
                } else {
                    inside.push(name);
                }
            }
            self.on_host(&inside)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> (tempfile::TempDir, RootedFs) {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        std::fs::create_dir_all(r.join("usr/lib/aarch64-linux-gnu")).unwrap();
        std::fs::write(r.join("usr/lib/aarch64-linux-gnu/libc.so.6"), b"libc").unwrap();
        std::os::unix::fs::symlink("usr/lib", r.join("lib")).unwrap();
        // An absolute link and one that tries to climb out: both stay inside.
        std::os::unix::fs::symlink("/usr/lib/aarch64-linux-gnu/libc.so.6", r.join("abs")).unwrap();
        std::os::unix::fs::symlink("../../../../etc/hostname", r.join("out")).unwrap();
        std::os::unix::fs::symlink("loop", r.join("loop")).unwrap();
        let fs = RootedFs::new(r, vec![PathBuf::from("/outside/app")]);
        (dir, fs)
    }

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let (dir, fs) = tree();
        let libc = Path::new("/lib/aarch64-linux-gnu/libc.so.6");
        assert_eq!(fs.read(libc).unwrap(), b"libc");
        assert_eq!(fs.read(Path::new("/abs")).unwrap(), b"libc");
        assert_eq!(fs.file_type(Path::new("/lib")).unwrap(), FileKind::Symlink);
        assert_eq!(
            fs.read_link(Path::new("/lib")).unwrap(),
            Path::new("usr/lib")
        );
        assert_eq!(
            fs.host_path(libc),
            dir.path().join("usr/lib/aarch64-linux-gnu/libc.so.6")
        );
        let names = fs.read_dir(Path::new("/lib/aarch64-linux-gnu")).unwrap();
        assert_eq!(names, vec![OsString::from("libc.so.6")]);
    }

    #[test]
    fn nothing_outside_the_root_is_reached() {
        let (dir, fs) = tree();
        // `..` stops at the root: the host's /etc/hostname is not read.
        let out = fs.read(Path::new("/out"));
        assert_eq!(out.unwrap_err().kind(), io::ErrorKind::NotFound);
        assert_eq!(
            fs.host_path(Path::new("/../../etc/passwd")),
            dir.path().join("etc/passwd")
        );
        assert!(fs.read(Path::new("/loop")).is_err());
        assert!(fs.read(Path::new("/missing/x")).is_err());
        // A pass-through path is the host's own.
        assert_eq!(
            fs.host_path(Path::new("/outside/app")),
            Path::new("/outside/app")
        );
    }
}
