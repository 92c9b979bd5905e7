//! Named-file access shared by the OCI layout directory and the OCI/docker archives, so the
//! layout logic is written once for both media.

use std::fs::File;
use std::io::Read;
use std::path::PathBuf;

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

impl Store for DirStore {
    fn open(&self, name: &str) -> Result<BlobReader<'_>, FormatError> {
        // Names come from digests (validated hex) or fixed file names; never user paths.
        let path = self.root.join(name);
        // Refuse to follow a symlink planted in the layout (it could point anywhere).
        let meta = std::fs::symlink_metadata(&path).map_err(|e| FormatError::io(&path, e))?;
        if !meta.is_file() {
            return Err(FormatError::io(
                &path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, "not a regular file"),
            ));
        }
        Ok(Box::new(
            File::open(&path).map_err(|e| FormatError::io(&path, e))?,
        ))
    }
    fn exists(&self, name: &str) -> bool {
        self.root.join(name).is_file()
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
