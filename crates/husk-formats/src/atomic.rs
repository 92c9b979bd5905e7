//! Atomic output: every sink writes into a temporary sibling of its destination and
//! renames it into place only when complete, so an error or a kill mid-write never leaves
//! a half-written image at the destination. Temporary names are
//! `.husk-tmp-<pid>-<random>`: a kill leaves one behind, and the next write into the same
//! directory removes those whose process is gone (`kill(pid, 0)` answers ESRCH), never a
//! live writer's nor a name husk cannot read a pid from.

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

/// The prefix of this process's temporary names: `.husk-tmp-<pid>-`.
pub(crate) fn tmp_prefix() -> String {
    format!("{TMP_PREFIX}{}-", std::process::id())
}

/// The pid a temporary name was made by, if it is one of ours.
fn pid_of(name: &str) -> Option<i32> {
    let rest = name.strip_prefix(TMP_PREFIX)?;
    let (pid, _) = rest.split_once('-')?;
    if pid.is_empty() || !pid.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok().filter(|&p| p > 0)
}

/// Whether the process `pid` is gone (not merely someone else's: EPERM means alive).
fn is_dead(pid: i32) -> bool {
    let Some(pid) = rustix::process::Pid::from_raw(pid) else {
        return false;
    };
    matches!(
        rustix::process::test_kill_process(pid),
        Err(rustix::io::Errno::SRCH)
    )
}

/// Remove the temporaries in `dir` left by husk processes that no longer run (a killed
/// `pull -o`). Best effort: what cannot be listed or removed is left alone.
pub(crate) fn sweep_stale(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(pid_of) else {
            continue;
        };
        if pid == std::process::id() as i32 || !is_dead(pid) {
            continue;
        }
        let path = entry.path();
        // `file_type` does not follow links: a link is removed, never what it points at.
        let _ = match entry.file_type() {
            Ok(t) if t.is_dir() => fs::remove_dir_all(&path),
            _ => fs::remove_file(&path),
        };
    }
}

/// A temporary file beside `dest`, to be persisted over it; stale temporaries of killed
/// husk processes in that directory are removed first.
pub(crate) fn temp_file_for(dest: &Path) -> Result<tempfile::NamedTempFile, FormatError> {
    sweep_stale(&parent_of(dest));
    temp_file_unswept(dest)
}

/// [`temp_file_for`] without the sweep (for blobs, whose directory is swept once).
pub(crate) fn temp_file_unswept(dest: &Path) -> Result<tempfile::NamedTempFile, FormatError> {
    let parent = parent_of(dest);
    tempfile::Builder::new()
        .prefix(&tmp_prefix())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_pid_and_only_dead_writers_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let mine = temp_file_for(&dir.path().join("out.tar")).unwrap();
        let name = mine
            .path()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(pid_of(&name), Some(std::process::id() as i32));
        // A dead writer: a child that has exited and been reaped.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale_file = dir.path().join(format!("{TMP_PREFIX}{dead}-abc"));
        let stale_dir = dir.path().join(format!("{TMP_PREFIX}{dead}-dir"));
        fs::write(&stale_file, b"half").unwrap();
        fs::create_dir(&stale_dir).unwrap();
        fs::write(stale_dir.join("blob"), b"x").unwrap();
        // A link to a directory elsewhere: removed as a link, the target untouched.
        let elsewhere = tempfile::tempdir().unwrap();
        fs::write(elsewhere.path().join("keep"), b"k").unwrap();
        let stale_link = dir.path().join(format!("{TMP_PREFIX}{dead}-ln"));
        std::os::unix::fs::symlink(elsewhere.path(), &stale_link).unwrap();
        // Alive (pid 1, not ours: EPERM or alive), unparsable, and not ours at all.
        let keep = [
            format!("{TMP_PREFIX}1-live"),
            format!("{TMP_PREFIX}Xy12ab"),
            format!("{TMP_PREFIX}-5-x"),
            "unrelated".to_owned(),
        ];
        for k in &keep {
            fs::write(dir.path().join(k), b"k").unwrap();
        }
        let _next = temp_file_for(&dir.path().join("out.tar")).unwrap();
        assert!(!stale_file.exists() && !stale_dir.exists());
        assert!(fs::symlink_metadata(&stale_link).is_err());
        assert!(elsewhere.path().join("keep").exists());
        for k in &keep {
            assert!(dir.path().join(k).exists(), "{k}");
        }
        assert!(mine.path().exists(), "a live writer's temporary stays");
    }
}
