//! Named-file access shared by the OCI layout directory and the OCI/docker archives, so the
//! layout logic is written once for both media.
//!
//! Every file is untrusted input: an archive must be a regular file (a FIFO, a device or
//! `/dev/stdin` would hang or never end: [`open_regular`] opens without blocking and checks
//! with `fstat` before anything is read), and a layout is read only through the directory
//! that was opened, one component at a time with `O_NOFOLLOW`, so a planted symlink
//! (`blobs/` or `blobs/sha256` to a host directory, or a blob that is a link) is refused
//! rather than followed.

use std::fs::File;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use rustix::fs::{FileType, Mode, OFlags};
use rustix::io::Errno;

use husk_oci::BlobReader;

use crate::FormatError;
use crate::tar_index::TarIndex;

pub(crate) trait Store: Send + Sync {
    /// Open a file by its layout-relative name (`index.json`, `blobs/sha256/…`).
    fn open(&self, name: &str) -> Result<BlobReader<'_>, FormatError>;
    fn exists(&self, name: &str) -> bool;
    /// Human name of the medium, e.g. `oci:out`.
    fn location(&self) -> String;

    /// Read a small document fully, with the document size limit.
    fn read_small(&self, name: &str) -> Result<Vec<u8>, FormatError> {
        let mut out = Vec::new();
        self.open(name)?
            .take(husk_oci::MAX_DOCUMENT_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|e| FormatError::Io {
                path: PathBuf::from(format!("{}/{name}", self.location())),
                source: e,
            })?;
        if out.len() as u64 > husk_oci::MAX_DOCUMENT_BYTES {
            return Err(husk_oci::OciError::TooLarge {
                what: format!("{name} in {}", self.location()),
                limit: husk_oci::MAX_DOCUMENT_BYTES,
            }
            .into());
        }
        Ok(out)
    }
}

pub(crate) struct DirStore {
    pub(crate) root: PathBuf,
}

/// What a file type is called in messages ("a FIFO").
fn kind_name(t: FileType) -> &'static str {
    match t {
        FileType::RegularFile => "a regular file",
        FileType::Directory => "a directory",
        FileType::Symlink => "a symlink",
        FileType::Fifo => "a FIFO",
        FileType::Socket => "a socket",
        FileType::CharacterDevice => "a character device",
        FileType::BlockDevice => "a block device",
        FileType::Unknown => "not a regular file",
    }
}

/// `fd` as a [`File`] when it is a regular file; `Err(kind)` otherwise.
fn regular(fd: OwnedFd) -> Result<File, &'static str> {
    let kind = rustix::fs::fstat(&fd).map(|st| FileType::from_raw_mode(st.st_mode));
    match kind {
        Ok(FileType::RegularFile) => {
            // O_NONBLOCK only kept the open from waiting on a FIFO's writer.
            let flags = rustix::fs::fcntl_getfl(&fd).unwrap_or(OFlags::RDONLY);
            let _ = rustix::fs::fcntl_setfl(&fd, flags - OFlags::NONBLOCK);
            Ok(File::from(fd))
        }
        Ok(t) => Err(kind_name(t)),
        Err(_) => Err("not a regular file"),
    }
}

const READ_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::NONBLOCK)
    .union(OFlags::CLOEXEC)
    .union(OFlags::NOCTTY);

/// Open an image file (an archive) for reading, only if it is a regular file: opened
/// without blocking (a FIFO with no writer would wait forever) and checked with `fstat`.
///
/// # Errors
/// [`FormatError::Io`] when it cannot be opened, [`FormatError::NotRegularFile`] for a
/// FIFO, device, socket or directory.
pub fn open_regular(path: &Path) -> Result<File, FormatError> {
    let fd = rustix::fs::open(path, READ_FLAGS, Mode::empty())
        .map_err(|e| FormatError::io(path, e.into()))?;
    regular(fd).map_err(|kind| FormatError::NotRegularFile {
        path: path.to_path_buf(),
        kind,
    })
}

impl DirStore {
    fn link_error(&self, name: &str, kind: &'static str) -> FormatError {
        FormatError::LayoutLink {
            layout: self.root.clone(),
            name: name.to_owned(),
            kind,
        }
    }

    /// Open `name` (a layout-relative path) beneath the layout directory without following
    /// any symlink on the way or at the end; only a regular file is returned.
    fn open_beneath(&self, name: &str) -> Result<File, FormatError> {
        let path = self.root.join(name);
        let io = |e: Errno| FormatError::io(&path, e.into());
        let dir_flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let mut dir = rustix::fs::open(&self.root, dir_flags, Mode::empty()).map_err(io)?;
        let parts: Vec<&str> = name.split('/').filter(|c| !c.is_empty()).collect();
        let Some((last, parents)) = parts.split_last() else {
            return Err(io(Errno::INVAL));
        };
        if parts.iter().any(|c| *c == "." || *c == "..") {
            return Err(self.link_error(name, "a parent directory"));
        }
        for c in parents {
            dir = match rustix::fs::openat(&dir, *c, dir_flags | OFlags::NOFOLLOW, Mode::empty()) {
                Ok(d) => d,
                Err(Errno::LOOP | Errno::NOTDIR) => return Err(self.link_error(name, "a symlink")),
                Err(e) => return Err(io(e)),
            };
        }
        let fd = match rustix::fs::openat(&dir, *last, READ_FLAGS | OFlags::NOFOLLOW, Mode::empty())
        {
            Ok(f) => f,
            Err(Errno::LOOP) => return Err(self.link_error(name, "a symlink")),
            Err(e) => return Err(io(e)),
        };
        regular(fd).map_err(|kind| FormatError::NotRegularFile { path, kind })
    }
}

impl Store for DirStore {
    fn open(&self, name: &str) -> Result<BlobReader<'_>, FormatError> {
        // Names come from digests (validated hex) or fixed file names; never user paths.
        Ok(Box::new(self.open_beneath(name)?))
    }
    fn exists(&self, name: &str) -> bool {
        // A planted link "exists": opening it then says why it is refused.
        !matches!(self.open_beneath(name), Err(FormatError::Io { .. }))
    }
    fn location(&self) -> String {
        format!("oci:{}", self.root.display())
    }
}

pub(crate) struct TarStore {
    pub(crate) index: TarIndex,
    pub(crate) transport: &'static str,
}

impl Store for TarStore {
    fn open(&self, name: &str) -> Result<BlobReader<'_>, FormatError> {
        Ok(Box::new(self.index.open(name)?))
    }
    fn exists(&self, name: &str) -> bool {
        self.index.contains(name)
    }
    fn location(&self) -> String {
        format!("{}:{}", self.transport, self.index.path().display())
    }
    fn read_small(&self, name: &str) -> Result<Vec<u8>, FormatError> {
        self.index.read_small(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn layout() -> (tempfile::TempDir, DirStore) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("blobs/sha256")).unwrap();
        std::fs::write(dir.path().join("blobs/sha256/aa"), b"blob").unwrap();
        std::fs::write(dir.path().join("index.json"), b"{}").unwrap();
        let store = DirStore {
            root: dir.path().to_path_buf(),
        };
        (dir, store)
    }

    fn refused(store: &DirStore, name: &str) {
        let err = store.open(name).err().expect("refused");
        assert!(
            matches!(
                err,
                FormatError::LayoutLink { .. } | FormatError::NotRegularFile { .. }
            ),
            "{name}: {err}"
        );
        assert!(
            store.exists(name),
            "{name}: a planted link is reported, not missing"
        );
    }

    #[test]
    fn files_inside_a_layout_are_read_without_following_links() {
        let (dir, store) = layout();
        let mut got = String::new();
        store
            .open("blobs/sha256/aa")
            .unwrap()
            .read_to_string(&mut got)
            .unwrap();
        assert_eq!(got, "blob");
        assert!(!store.exists("blobs/sha256/bb"));
        let host = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(host.path().join("sha256")).unwrap();
        std::fs::write(host.path().join("sha256/cc"), b"host secret").unwrap();
        std::fs::write(host.path().join("secret"), b"host secret").unwrap();
        // A blob that is a link, a digest directory that is a link, blobs/ that is a link.
        symlink(
            host.path().join("secret"),
            dir.path().join("blobs/sha256/bb"),
        )
        .unwrap();
        refused(&store, "blobs/sha256/bb");
        symlink(host.path().join("sha256"), dir.path().join("blobs/sha512")).unwrap();
        refused(&store, "blobs/sha512/cc");
        std::fs::remove_dir_all(dir.path().join("blobs")).unwrap();
        symlink(host.path(), dir.path().join("blobs")).unwrap();
        refused(&store, "blobs/sha256/cc");
        std::fs::remove_file(dir.path().join("index.json")).unwrap();
        symlink(host.path().join("secret"), dir.path().join("index.json")).unwrap();
        refused(&store, "index.json");
        assert!(store.read_small("index.json").is_err());
        // A FIFO blob is refused at once (not waited on).
        std::fs::remove_file(dir.path().join("blobs")).unwrap();
        std::fs::create_dir_all(dir.path().join("blobs/sha256")).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            dir.path().join("blobs/sha256/ff"),
            FileType::Fifo,
            Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        refused(&store, "blobs/sha256/ff");
        refused(&store, "blobs/../index.json");
    }
}
