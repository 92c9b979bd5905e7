//! Reproducing a host path inside an image: every symlink met while resolving it becomes
//! a symlink entry (so the paths the loader opens exist in the image exactly as on the
//! host), and the regular file at the end becomes a file entry at its canonical path.
//! Resolution follows path_resolution(7): relative targets resolve against the link's
//! directory, absolute ones against `/`, `..` after resolution, at most 40 links.

use std::path::{Component, Path, PathBuf};

use crate::error::ElfError;
use crate::fs::{FileKind, HostFs, MAX_SYMLINKS};

/// One entry to create in an image so that a host path resolves there as on the host.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HostEntry {
    /// A regular file: copy the host file at `path` to `path`.
    File {
        /// The canonical host path (no symlink components).
        path: PathBuf,
    },
    /// A symlink at `path` (its parent directories canonical) pointing to `target`,
    /// verbatim as on the host.
    Symlink {
        /// Where the link lives.
        path: PathBuf,
        /// What it points to, as `read_link` returned it.
        target: PathBuf,
    },
}

/// The entries that make `path` resolve in an image as it does on the host, in the
/// order discovered (symlinks first, the file last). Dedup across calls is the caller's.
///
/// # Errors
/// [`ElfError::RelativePath`] for a relative `path`; [`ElfError::SymlinkLoop`] after 40
/// links; [`ElfError::NotAFile`] when the path ends at a directory or special file;
/// [`ElfError::Io`] when a component is missing or unreadable.
pub fn materialize(fs: &dyn HostFs, path: &Path) -> Result<Vec<HostEntry>, ElfError> {
    if !path.is_absolute() {
        return Err(ElfError::RelativePath {
            path: path.to_path_buf(),
        });
    }
    let mut out = Vec::new();
    let mut pending: Vec<PathBuf> = Vec::new(); // reversed stack of components
    push_components(&mut pending, path);
    let mut cur = PathBuf::from("/");
    let mut links = 0usize;
    while let Some(comp) = pending.pop() {
        if comp.as_os_str() == ".." {
            cur.pop();
            continue;
        }
        let next = cur.join(&comp);
        let kind = fs.file_type(&next).map_err(|e| ElfError::io(&next, e))?;
        match kind {
            FileKind::Dir => cur = next,
            FileKind::Symlink => {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(ElfError::SymlinkLoop {
                        path: path.to_path_buf(),
                    });
                }
                let target = fs.read_link(&next).map_err(|e| ElfError::io(&next, e))?;
                if target.is_absolute() {
                    cur = PathBuf::from("/");
                }
                push_components(&mut pending, &target);
                out.push(HostEntry::Symlink { path: next, target });
            }
            FileKind::File if pending.is_empty() => {
                out.push(HostEntry::File { path: next });
                return Ok(out);
            }
            FileKind::File => {
                return Err(ElfError::io(
                    &next,
                    std::io::Error::new(
                        std::io::ErrorKind::NotADirectory,
                        format!(
                            "{} is a file but {} continues below it",
                            next.display(),
                            path.display()
                        ),
                    ),
                ));
            }
            FileKind::Other => return Err(ElfError::NotAFile { path: next }),
        }
    }
    Err(ElfError::NotAFile { path: cur })
}

/// Canonical host path of `path` (every symlink resolved), via [`materialize`].
///
/// # Errors
/// As [`materialize`].
pub fn canonicalize(fs: &dyn HostFs, path: &Path) -> Result<PathBuf, ElfError> {
    let entries = materialize(fs, path)?;
    match entries.last() {
        Some(HostEntry::File { path }) => Ok(path.clone()),
        _ => Err(ElfError::NotAFile {
            path: path.to_path_buf(),
        }),
    }
}

fn push_components(stack: &mut Vec<PathBuf>, path: &Path) {
    let comps: Vec<PathBuf> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(PathBuf::from(n)),
            Component::ParentDir => Some(PathBuf::from("..")),
            _ => None,
        })
        .collect();
    stack.extend(comps.into_iter().rev());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::FakeFs;

    fn sym(p: &str, t: &str) -> HostEntry {
        HostEntry::Symlink {
            path: p.into(),
            target: t.into(),
        }
    }

    fn debian12() -> FakeFs {
        let mut fs = FakeFs::new();
        fs.add_symlink("/lib", "usr/lib")
            .add_symlink("/lib64", "usr/lib64")
            .add_file(
                "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
                b"\x7fELF".to_vec(),
            )
            // Debian 12's link is absolute
            .add_symlink(
                "/usr/lib64/ld-linux-x86-64.so.2",
                "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
            )
            .add_symlink(
                "/usr/lib64/ld-rel.so",
                "../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
            )
            .add_file("/usr/lib/x86_64-linux-gnu/libc.so.6", b"\x7fELF".to_vec())
            .add_symlink("/opt/abs", "/lib/x86_64-linux-gnu/libc.so.6");
        fs
    }

    #[test]
    fn merged_usr_interpreter() {
        let fs = debian12();
        let got = materialize(&fs, Path::new("/lib64/ld-linux-x86-64.so.2")).unwrap();
        assert_eq!(
            got,
            vec![
                sym("/lib64", "usr/lib64"),
                sym(
                    "/usr/lib64/ld-linux-x86-64.so.2",
                    "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
                ),
                sym("/lib", "usr/lib"),
                HostEntry::File {
                    path: "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2".into()
                },
            ]
        );
        // a relative target walks from the link's directory, through real /usr/lib
        let got = materialize(&fs, Path::new("/lib64/ld-rel.so")).unwrap();
        assert_eq!(
            got,
            vec![
                sym("/lib64", "usr/lib64"),
                sym(
                    "/usr/lib64/ld-rel.so",
                    "../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
                ),
                HostEntry::File {
                    path: "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2".into()
                },
            ]
        );
    }

    #[test]
    fn absolute_symlink_target_restarts_at_root() {
        let fs = debian12();
        let got = materialize(&fs, Path::new("/opt/abs")).unwrap();
        assert_eq!(
            got,
            vec![
                sym("/opt/abs", "/lib/x86_64-linux-gnu/libc.so.6"),
                sym("/lib", "usr/lib"),
                HostEntry::File {
                    path: "/usr/lib/x86_64-linux-gnu/libc.so.6".into()
                },
            ]
        );
        assert_eq!(
            canonicalize(
                &fs,
                Path::new("/lib/./x86_64-linux-gnu/../x86_64-linux-gnu/libc.so.6")
            )
            .unwrap(),
            PathBuf::from("/usr/lib/x86_64-linux-gnu/libc.so.6")
        );
    }

    #[test]
    fn loops_dirs_relative_and_missing_are_errors() {
        let mut fs = debian12();
        fs.add_symlink("/a", "b")
            .add_symlink("/b", "/a")
            .add_symlink("/self", ".");
        assert!(matches!(
            materialize(&fs, Path::new("/a")),
            Err(ElfError::SymlinkLoop { .. })
        ));
        assert!(matches!(
            materialize(&fs, Path::new("/usr/lib")),
            Err(ElfError::NotAFile { .. })
        ));
        assert!(matches!(
            materialize(&fs, Path::new("lib/x")),
            Err(ElfError::RelativePath { .. })
        ));
        assert!(matches!(
            materialize(&fs, Path::new("/nope")),
            Err(ElfError::Io { .. })
        ));
        assert!(matches!(
            materialize(&fs, Path::new("/lib/x86_64-linux-gnu/libc.so.6/x")),
            Err(ElfError::Io { .. })
        ));
        // "/self" -> "." is a directory; 41 hops through it is a loop like the kernel says
        let deep = format!("/{}usr/lib/x86_64-linux-gnu/libc.so.6", "self/".repeat(41));
        assert!(matches!(
            materialize(&fs, Path::new(&deep)),
            Err(ElfError::SymlinkLoop { .. })
        ));
        let ok = format!("/{}usr/lib/x86_64-linux-gnu/libc.so.6", "self/".repeat(3));
        assert_eq!(materialize(&fs, Path::new(&ok)).unwrap().len(), 4);
    }
}
