//! Bounded reads under a root prefix: every host path husk-sbom reads goes through
//! [`Root`], so tests point it at a fake dpkg database in a temporary directory and a
//! hostile or corrupt database cannot make husk read a device or a huge file.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Result, SbomError};

/// Caps for the files read from a dpkg database.
pub(crate) const STATUS_CAP: u64 = 64 << 20;
/// Cap for one `.list` or `.md5sums` file.
pub(crate) const LIST_CAP: u64 = 16 << 20;
/// Cap for a copyright file or a small system file.
pub(crate) const SMALL_CAP: u64 = 4 << 20;

/// A directory treated as `/` for every absolute path read through it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    dir: PathBuf,
}

impl Root {
    /// A root at `dir` (`/` for the host).
    #[must_use]
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }

    /// The directory this root stands for.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The real path of `abs` (an absolute path inside the root).
    #[must_use]
    pub fn join(&self, abs: &str) -> PathBuf {
        self.dir.join(abs.trim_start_matches('/'))
    }

    /// Reads a regular file (symlinks followed) of at most `cap` bytes; `Ok(None)` when it
    /// does not exist.
    pub(crate) fn read_opt(&self, abs: &str, cap: u64) -> Result<Option<Vec<u8>>> {
        let path = self.join(abs);
        let io = |source| SbomError::Io {
            path: path.clone(),
            source,
        };
        let meta = match std::fs::metadata(&path) {
            Ok(meta) => meta,
            Err(err) if is_absent(&err) => return Ok(None),
            Err(err) => return Err(io(err)),
        };
        if !meta.is_file() {
            return Err(SbomError::NotAFile { path });
        }
        if meta.len() > cap {
            return Err(SbomError::TooLarge {
                path,
                size: meta.len(),
                cap,
            });
        }
        let file = std::fs::File::open(&path).map_err(io)?;
        let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        file.take(cap + 1).read_to_end(&mut bytes).map_err(io)?;
        if bytes.len() as u64 > cap {
            return Err(SbomError::TooLarge {
                path,
                size: bytes.len() as u64,
                cap,
            });
        }
        Ok(Some(bytes))
    }
}

fn is_absent(err: &std::io::Error) -> bool {
    matches!(
        err.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
    )
}
