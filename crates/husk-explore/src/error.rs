//! [`ExploreError`]: every way reading, merging or extracting an image can fail. Variants
//! name the layer, entry or destination path they are about; image paths are printed
//! escaped (`{:?}`), so a hostile name cannot put control characters on a terminal.

use std::path::PathBuf;

use husk_layer::{ImagePath, PathError};
use husk_oci::OciError;

/// Errors of husk-explore.
#[derive(Debug, thiserror::Error)]
pub enum ExploreError {
    #[error(transparent)]
    Oci(#[from] OciError),
    #[error("layer {layer}: cannot read the tar stream")]
    Read {
        layer: usize,
        #[source]
        source: std::io::Error,
    },
    #[error("layer {layer}: the tar stream ends in the middle of an entry")]
    Truncated { layer: usize },
    #[error("layer {layer}: tar header {ordinal} is corrupt: {what}")]
    BadHeader {
        layer: usize,
        ordinal: u64,
        what: &'static str,
    },
    #[error(
        "layer {layer}: {what} exceeds the limit of {limit} (raise it with the matching limit option)"
    )]
    Limit {
        layer: usize,
        what: &'static str,
        limit: u64,
    },
    #[error("layer {layer}: entry {name:?} has an invalid name")]
    BadName {
        layer: usize,
        name: String,
        #[source]
        source: PathError,
    },
    #[error("layer {layer}: symlink {name:?} has an invalid target")]
    BadSymlinkEntry {
        layer: usize,
        name: String,
        #[source]
        source: PathError,
    },
    #[error("layer {layer}: entry {name:?} has type {kind:?}, which husk does not read")]
    UnsupportedEntry {
        layer: usize,
        name: String,
        kind: char,
    },
    #[error("layer {layer}: invalid whiteout {name:?}: {why}")]
    BadWhiteout {
        layer: usize,
        name: String,
        why: &'static str,
    },
    #[error(
        "layer {layer}: entry {path:?} would replace the image root, which can only be a directory"
    )]
    RootNotDirectory { layer: usize, path: ImagePath },
    #[error(
        "layer {layer}: hard link {path:?} points to {target:?}, which is not a file in the image"
    )]
    HardlinkTarget {
        layer: usize,
        path: ImagePath,
        target: String,
    },
    #[error("layer {layer} does not exist: the image has {count} layers (numbered from 0)")]
    NoSuchLayer { layer: usize, count: usize },
    #[error("{path:?} does not exist in the image")]
    NotFound { path: ImagePath },
    #[error("{path:?} is a {kind}, not a regular file")]
    NotAFile { path: ImagePath, kind: &'static str },
    #[error("too many levels of symbolic links resolving {path:?} (more than {limit})")]
    SymlinkLoop { path: ImagePath, limit: usize },
    #[error("symlink {path:?} has an invalid target")]
    BadLinkTarget {
        path: ImagePath,
        #[source]
        source: PathError,
    },
    #[error("layer {layer} ended before entry {ordinal}, which the merged view expects")]
    MissingContent { layer: usize, ordinal: u64 },
    #[error(
        "destination {path} already exists (and is not an empty directory); pass --force to write into it"
    )]
    DestinationNotEmpty { path: PathBuf },
    #[error("refusing to follow the symlink {path} in the destination")]
    SymlinkInDestination { path: PathBuf },
    #[error(
        "{path} is a directory with files in it, where the image has {what}; --force replaces files and links, not whole directories: remove it, or write into an empty destination (nothing was written)"
    )]
    DirectoryInTheWay { path: PathBuf, what: String },
    #[error("cannot build the debug layer")]
    Debug(#[from] husk_layer::LayerError),
    #[error("cannot plan the debug layer")]
    Plan(#[from] husk_layer::PlanError),
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ExploreError {
    pub(crate) fn write(path: impl Into<PathBuf>, source: impl Into<std::io::Error>) -> Self {
        ExploreError::Write {
            path: path.into(),
            source: source.into(),
        }
    }
}
