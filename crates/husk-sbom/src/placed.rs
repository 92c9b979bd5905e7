//! The files an image build placed, as the SBOM needs them: image path, the host path
//! they were copied from (for provenance), and their SHA-256 and SHA-1 (SPDX 2.3 requires
//! SHA-1 for every file; CycloneDX gets both).

use std::io::Read;
use std::path::Path;

use sha1::Digest as _;

use crate::error::{Result, SbomError};

/// One regular file in the image.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PlacedFile {
    /// Absolute path in the image (`/usr/lib/x86_64-linux-gnu/libc.so.6`).
    pub image_path: String,
    /// Absolute host path it was copied from, when it came from the host.
    pub host_path: Option<String>,
    /// Lowercase hex SHA-256 of the content.
    pub sha256: String,
    /// Lowercase hex SHA-1 of the content.
    pub sha1: String,
}

impl PlacedFile {
    /// Hashes `host_path` (a regular file, symlinks followed) into a placed file at
    /// `image_path`.
    ///
    /// # Errors
    /// [`SbomError::Io`] when the file cannot be read, [`SbomError::NotAFile`] when it is
    /// not a regular file.
    pub fn hash_host(image_path: &str, host_path: &Path) -> Result<Self> {
        let io = |source| SbomError::Io {
            path: host_path.to_path_buf(),
            source,
        };
        let meta = std::fs::metadata(host_path).map_err(io)?;
        if !meta.is_file() {
            return Err(SbomError::NotAFile {
                path: host_path.to_path_buf(),
            });
        }
        let mut file = std::fs::File::open(host_path).map_err(io)?;
        let (mut s1, mut s256) = (sha1::Sha1::new(), sha2::Sha256::new());
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = file.read(&mut buf).map_err(io)?;
            if n == 0 {
                break;
            }
            s1.update(&buf[..n]);
            s256.update(&buf[..n]);
        }
        Ok(Self {
            image_path: image_path.to_owned(),
            host_path: Some(host_path.to_string_lossy().into_owned()),
            sha256: hex::encode(s256.finalize()),
            sha1: hex::encode(s1.finalize()),
        })
    }

    /// A placed file from bytes (a file husk generated, such as `/etc/passwd`).
    #[must_use]
    pub fn from_bytes(image_path: &str, bytes: &[u8]) -> Self {
        Self {
            image_path: image_path.to_owned(),
            host_path: None,
            sha256: hex::encode(sha2::Sha256::digest(bytes)),
            sha1: hex::encode(sha1::Sha1::digest(bytes)),
        }
    }

    /// Checks the fields a document relies on.
    ///
    /// # Errors
    /// [`SbomError::BadFile`] naming the file and the field.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason: &str| SbomError::BadFile {
            path: self.image_path.clone(),
            reason: reason.to_owned(),
        };
        // Any other byte is fine: both documents are JSON. (A dpkg md5sums list cannot
        // hold a line break; `package_db_files` refuses that path itself.)
        if !self.image_path.starts_with('/') {
            return Err(bad("the image path must be absolute"));
        }
        if !is_hex(&self.sha256, 64) {
            return Err(bad("sha256 must be 64 lowercase hex digits"));
        }
        if !is_hex(&self.sha1, 40) {
            return Err(bad("sha1 must be 40 lowercase hex digits"));
        }
        Ok(())
    }
}

pub(crate) fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
