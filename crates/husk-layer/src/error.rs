//! The error types of husk-layer: [`PathError`] (building an `ImagePath`), [`PlanError`]
//! (assembling a `LayerPlan`), [`LayerError`] (writing a layer) and [`FieldOverflow`] (a
//! number that does not fit a tar header field). Every variant names
//! the object it is about; paths inside the image are shown escaped (`{:?}`), so a hostile
//! name from a layer cannot inject terminal control sequences into a message.

use std::path::PathBuf;

use husk_oci::Digest;

use crate::paths::ImagePath;

/// Why a string is not a valid [`ImagePath`].
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    #[error("empty path")]
    Empty,
    #[error("path {path:?} is not absolute: image paths start with /")]
    NotAbsolute { path: String },
    #[error("path {path:?} is absolute where a relative path is expected")]
    NotRelative { path: String },
    #[error("path {path:?} contains a .. component, which husk never accepts in image paths")]
    ParentComponent { path: String },
    #[error("path {path:?} contains a NUL byte")]
    Nul { path: String },
    #[error("path {:?} ({} bytes) is longer than 4096 bytes", short(path), path.len())]
    TooLong { path: String },
    #[error("path {:?} has a component longer than 255 bytes", short(path))]
    ComponentTooLong { path: String },
    #[error("path {path:?} is not valid UTF-8 (shown with replacement characters)")]
    NotUtf8 { path: String },
}

/// A long path in a message: its first and last bytes around an ellipsis, so an error
/// about a 4 KiB name stays one readable line.
fn short(path: &str) -> std::borrow::Cow<'_, str> {
    const HEAD: usize = 64;
    const TAIL: usize = 32;
    if path.len() <= HEAD + TAIL + 3 {
        return path.into();
    }
    let head = path.floor_char_boundary(HEAD);
    let tail = path.ceil_char_boundary(path.len() - TAIL);
    format!("{}...{}", &path[..head], &path[tail..]).into()
}

/// Why an entry cannot go into a `LayerPlan`.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("conflicting entries for {path:?}: already planned as {existing}, now added as {new}")]
    Conflict {
        path: ImagePath,
        existing: String,
        new: String,
    },
    #[error(
        "cannot add {path:?}: its parent {parent:?} is planned as a {parent_kind}, not a directory"
    )]
    UnderNonDirectory {
        path: ImagePath,
        parent: ImagePath,
        parent_kind: &'static str,
    },
    #[error("cannot add {path:?} as a {kind}: entries are already planned below it")]
    HasChildren { path: ImagePath, kind: &'static str },
    #[error("the image root / can only be a directory")]
    RootNotDirectory,
    #[error("cannot plan {path:?}: {why}")]
    BadEntry { path: ImagePath, why: &'static str },
    #[error(
        "mode {mode:#o} of {path:?} has bits outside 0o7777 (permissions, setuid, setgid, sticky)"
    )]
    BadMode { path: ImagePath, mode: u32 },
    #[error(
        "symlink {path:?} has an invalid target {target:?}: it must be non-empty, without NUL, at most 4096 bytes"
    )]
    BadSymlinkTarget { path: ImagePath, target: String },
    #[error("cannot read {path}")]
    HostIo {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path} is a special file (fifo, socket or device); husk puts only files, directories and symlinks in layers"
    )]
    SpecialFile { path: PathBuf },
    #[error("{path} is not a directory")]
    NotADirectory { path: PathBuf },
    #[error("{path} has a name or symlink target that is not UTF-8, which image paths require")]
    NotUtf8 { path: PathBuf },
    #[error("{host} does not map to a valid image path")]
    Path {
        host: PathBuf,
        #[source]
        source: PathError,
    },
}

/// Why a layer could not be written.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    #[error("cannot read {path}")]
    HostIo {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path} changed while it was being written into the layer; build again once it is stable"
    )]
    FileChanged { path: PathBuf },
    #[error(
        "{path} is not a regular file (directory, fifo, socket or device) but is planned as file content"
    )]
    SpecialFile { path: PathBuf },
    #[error("cannot write {path}")]
    Output {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid {compression} level {level}: {allowed}")]
    BadLevel {
        compression: &'static str,
        level: i64,
        allowed: &'static str,
    },
    #[error(
        "the layer's input changed between hashing ({expected}) and compressing ({actual}); build again once it is stable"
    )]
    InputChanged { expected: Digest, actual: Digest },
}

/// A number too large for the tar header field it was meant for (see `ustar`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{value} does not fit a {len}-byte tar header field; write it in a PAX record instead")]
pub struct FieldOverflow {
    pub value: u64,
    /// Length of the field in bytes.
    pub len: usize,
}
