//! The one error type of husk-sbom. Every variant names the object it is about and its
//! message says how to fix the problem.

use std::path::PathBuf;

/// Everything that can go wrong while reading package data or writing SBOM documents.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SbomError {
    /// Reading a file under the root failed.
    #[error("cannot read {}: {source}; check that it exists and is readable", path.display())]
    Io {
        /// The path that was being read (root prefix included).
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A file is larger than the cap husk reads for that kind of file.
    #[error("{} is {size} bytes, more than the {cap} bytes husk reads for it; it is not a plausible package database file", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The cap.
        cap: u64,
    },
    /// A path that must be a regular file is something else (a directory, a device, ...).
    #[error("{} is not a regular file; husk reads package data only from regular files", path.display())]
    NotAFile {
        /// The path.
        path: PathBuf,
    },
    /// A deb822 (dpkg status, status.d) text is malformed.
    #[error(
        "{what} line {line}: {reason}; the file is not a valid deb822 control file (compare it with `dpkg-query -s`)"
    )]
    Deb822 {
        /// Which document (a path or a name).
        what: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// Alpine's installed database is malformed.
    #[error("{what} line {line}: {reason}; the file is not a valid apk installed database")]
    Apk {
        /// Which document.
        what: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A binary's embedded dependency data (cargo-auditable `.dep-v0`) is corrupt or too large.
    #[error(
        "the cargo-auditable data of {what} cannot be read: {reason}; rebuild it with `cargo auditable build`"
    )]
    RustAudit {
        /// The binary.
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// A Go binary's build information is corrupt.
    #[error(
        "the Go build information of {what} is malformed: {reason}; rebuild it with a Go toolchain >= 1.18"
    )]
    GoBuildInfo {
        /// The binary.
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// An SBOM was asked for with an image digest that is not `sha256:<64 hex>`.
    #[error(
        "image digest {digest:?} is not of the form sha256:<64 lowercase hex digits>; pass the manifest digest of the built image"
    )]
    BadDigest {
        /// The offending digest.
        digest: String,
    },
    /// A placed file's path or checksum is not usable.
    #[error("placed file {path:?}: {reason}")]
    BadFile {
        /// The image path.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// Results of this crate.
pub type Result<T, E = SbomError> = std::result::Result<T, E>;
