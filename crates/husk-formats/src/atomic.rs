//! Atomic output: every sink writes into a temporary sibling of its destination and
//! renames it into place only when complete, so an error or a kill mid-write never leaves
//! a half-written image at the destination. Temporary names start with `.husk-tmp-`.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::FormatError;

pub(crate) const TMP_PREFIX: &str = ".husk-tmp-";
/// Modes of published outputs (temporary files and directories start private).
pub(crate) const PUBLIC_FILE: u32 = 0o644;
pub(crate) const PUBLIC_DIR: u32 = 0o755;

pub(crate) fn set_mode(path: &Path, mode: u32) -> Result<(), FormatError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| FormatError::io(path, e))
}

pub(crate) fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A temporary file beside `dest`, to be persisted over it.
pub(crate) fn temp_file_for(dest: &Path) -> Result<tempfile::NamedTempFile, FormatError> {
    let parent = parent_of(dest);
    tempfile::Builder::new()
        .prefix(TMP_PREFIX)
        .tempfile_in(&parent)
        .map_err(|e| FormatError::io(&parent, e))
}

/// Persist a finished temp file over `dest`.
pub(crate) fn persist(tmp: tempfile::NamedTempFile, dest: &Path) -> Result<(), FormatError> {
    // Temporary files are created 0600; what husk publishes is readable like any output.
    set_mode(tmp.path(), PUBLIC_FILE)?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| FormatError::io(tmp.path(), e))?;
    tmp.persist(dest)
        .map_err(|e| FormatError::io(dest, e.error))?;
    Ok(())
}

/// Check that an existing `dest` file is an archive husk may replace: a tar holding
/// `marker` (e.g. `oci-layout` or `manifest.json`) among its first entries.
pub(crate) fn check_replaceable_archive(
    dest: &Path,
    marker: &str,
    expected: &'static str,
) -> Result<(), FormatError> {
    let meta = match fs::symlink_metadata(dest) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(FormatError::io(dest, e)),
    };
    let not_ours = || FormatError::DestinationNotOurs {
        path: dest.to_path_buf(),
        expected,
    };
    if !meta.is_file() {
        return Err(not_ours());
    }
    let file = fs::File::open(dest).map_err(|e| FormatError::io(dest, e))?;
    let mut archive = tar::Archive::new(file.take(1 << 30));
    let entries = archive.entries().map_err(|_| not_ours())?;
    for entry in entries.take(4096) {
        let Ok(entry) = entry else {
            return Err(not_ours());
        };
        if entry.path_bytes().as_ref() == marker.as_bytes() {
            return Ok(());
        }
    }
    Err(not_ours())
}
