//! Random access into an uncompressed tar file: one scan records where each regular file's
//! bytes are, then blobs are read in place (no extraction, no temp files). Used by the
//! oci-archive and docker-archive sources.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::FormatError;

/// Upper bound on entries scanned in an image archive.
const MAX_ENTRIES: usize = 1_000_000;

#[derive(Debug)]
pub(crate) struct TarIndex {
    path: PathBuf,
    entries: BTreeMap<String, (u64, u64)>,
}

/// Normalise an archive entry name: strip "./" prefixes; refuse "..", absolute names.
fn normalise(archive: &Path, raw: &[u8]) -> Result<String, FormatError> {
    let unsafe_entry = || FormatError::UnsafeArchiveEntry {
        archive: archive.to_path_buf(),
        entry: String::from_utf8_lossy(raw).escape_debug().to_string(),
    };
    let s = std::str::from_utf8(raw).map_err(|_| unsafe_entry())?;
    let mut parts = Vec::new();
    for c in s.split('/') {
        match c {
            "" | "." => {}
            ".." => return Err(unsafe_entry()),
            c => parts.push(c),
        }
    }
    if s.starts_with('/') || s.contains('\0') {
        return Err(unsafe_entry());
    }
    Ok(parts.join("/"))
}

impl TarIndex {
    pub(crate) fn scan(path: &Path) -> Result<TarIndex, FormatError> {
        let file = File::open(path).map_err(|e| FormatError::io(path, e))?;
        let bad = |source| FormatError::BadArchive {
            archive: path.to_path_buf(),
            source,
        };
        let mut archive = tar::Archive::new(file);
        let mut entries = BTreeMap::new();
        for (i, entry) in archive.entries().map_err(bad)?.enumerate() {
            if i >= MAX_ENTRIES {
                return Err(bad(std::io::Error::other(format!(
                    "more than {MAX_ENTRIES} entries"
                ))));
            }
            let entry = entry.map_err(bad)?;
            let kind = entry.header().entry_type();
            if !(kind.is_file() || kind == tar::EntryType::Continuous) {
                continue;
            }
            let name = normalise(path, &entry.path_bytes())?;
            entries.insert(name, (entry.raw_file_position(), entry.size()));
        }
        Ok(TarIndex {
            path: path.to_path_buf(),
            entries,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        self.entries.contains_key(name)
    }

    pub(crate) fn size(&self, name: &str) -> Option<u64> {
        self.entries.get(name).map(|e| e.1)
    }

    /// Open one entry's bytes in place.
    pub(crate) fn open(&self, name: &str) -> Result<std::io::Take<File>, FormatError> {
        let (offset, size) =
            *self
                .entries
                .get(name)
                .ok_or_else(|| FormatError::ArchiveEntryMissing {
                    archive: self.path.clone(),
                    entry: name.to_owned(),
                })?;
        let mut f = File::open(&self.path).map_err(|e| FormatError::io(&self.path, e))?;
        f.seek(SeekFrom::Start(offset))
            .map_err(|e| FormatError::io(&self.path, e))?;
        Ok(f.take(size))
    }

    /// Read a small entry (a JSON document) fully, with a size limit.
    pub(crate) fn read_small(&self, name: &str) -> Result<Vec<u8>, FormatError> {
        let size = self.size(name).unwrap_or(0);
        if size > husk_oci::MAX_DOCUMENT_BYTES {
            return Err(husk_oci::OciError::TooLarge {
                what: format!("{name} in {}", self.path.display()),
                limit: husk_oci::MAX_DOCUMENT_BYTES,
            }
            .into());
        }
        let mut out = Vec::new();
        self.open(name)?
            .read_to_end(&mut out)
            .map_err(|e| FormatError::io(&self.path, e))?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_refuses() {
        let a = Path::new("a.tar");
        assert_eq!(normalise(a, b"./index.json").unwrap(), "index.json");
        assert_eq!(normalise(a, b"blobs//sha256/x").unwrap(), "blobs/sha256/x");
        for bad in [&b"../x"[..], b"/etc/passwd", b"a/../../b", b"\xff"] {
            assert!(normalise(a, bad).is_err());
        }
    }
}
