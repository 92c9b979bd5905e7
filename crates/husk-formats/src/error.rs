//! The errors of husk-formats, one enum for every medium.

use std::path::PathBuf;

use husk_oci::{OciError, PlatformError};

/// Errors of image sources and sinks. Variants name the path or reference they are about.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("invalid image reference {reference:?}: {reason}")]
    BadReference { reference: String, reason: String },
    #[error(transparent)]
    Oci(#[from] OciError),
    #[error("cannot access {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not an OCI image layout (no oci-layout file with imageLayoutVersion)")]
    NotALayout { path: PathBuf },
    #[error(
        "{location} has no image named {reference:?}; it has: {}",
        list(available)
    )]
    RefNotFound {
        location: String,
        reference: String,
        available: Vec<String>,
    },
    #[error(
        "{location} holds {count} images; name one with :REF (it has: {})",
        list(available)
    )]
    AmbiguousImage {
        location: String,
        count: usize,
        available: Vec<String>,
    },
    #[error("{location} holds no image")]
    Empty { location: String },
    #[error(transparent)]
    Platform(#[from] PlatformError),
    #[error(
        "refusing to write {path}: it exists and is not {expected}; choose another destination or remove it"
    )]
    DestinationNotOurs {
        path: PathBuf,
        expected: &'static str,
    },
    #[error("archive {archive} has no entry {entry:?}")]
    ArchiveEntryMissing { archive: PathBuf, entry: String },
    #[error("archive {archive} is not a valid tar file")]
    BadArchive {
        archive: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("archive {archive} has an unsafe entry name {entry:?}")]
    UnsafeArchiveEntry { archive: PathBuf, entry: String },
    #[error("manifest.json of docker archive {archive} is invalid: {reason}")]
    DockerManifest { archive: PathBuf, reason: String },
    #[error("`{command}` failed ({status}): {stderr}")]
    Engine {
        command: String,
        status: String,
        stderr: String,
    },
    #[error(
        "{engine} is not installed or not on PATH; install it or use an oci: or archive destination"
    )]
    EngineMissing { engine: &'static str },
    #[error(
        "{destination} cannot hold a multi-platform index; write it to oci: or oci-archive:, or pick one image with --platform"
    )]
    IndexUnsupported { destination: String },
    #[error(
        "{path} is {kind}, not a regular file: husk reads images only from regular files (save the stream to a file first)"
    )]
    NotRegularFile { path: PathBuf, kind: &'static str },
    #[error(
        "refusing {name} in the OCI layout {layout}: it is or passes through {kind}; a layout's files must be regular files in real directories (copy the layout with `cp -rL` if the links are yours)"
    )]
    LayoutLink {
        layout: PathBuf,
        name: String,
        kind: &'static str,
    },
    #[error("archive {archive}: {reason} in the tar header at byte {offset}")]
    ArchiveHeader {
        archive: PathBuf,
        offset: u64,
        reason: String,
    },
}

impl FormatError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> FormatError {
        FormatError::Io {
            path: path.into(),
            source,
        }
    }
}

fn list(v: &[String]) -> String {
    if v.is_empty() {
        "nothing".into()
    } else {
        v.join(", ")
    }
}
