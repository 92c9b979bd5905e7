use std::path::PathBuf;

use crate::Digest;

/// Errors of the image model. Each variant names the object it is about.
#[derive(Debug, thiserror::Error)]
pub enum OciError {
    #[error(
        "invalid digest {digest:?}: expected sha256:<64 lowercase hex> or sha512:<128 lowercase hex>"
    )]
    BadDigest { digest: String },
    #[error("blob {digest} does not match its descriptor: expected {expected_size} bytes, read {actual_size}{}", actual_digest.as_ref().map(|d| format!(" with digest {d}")).unwrap_or_default())]
    BlobMismatch {
        digest: Digest,
        expected_size: u64,
        actual_size: u64,
        actual_digest: Option<Digest>,
    },
    #[error(
        "layer {layer} uncompresses to {actual}, but the image config says its diff_id is {expected}: the image is corrupt or was altered (engines refuse it too)"
    )]
    DiffIdMismatch {
        layer: Digest,
        expected: Digest,
        /// Boxed: the error stays as small as the blob mismatch.
        actual: Box<Digest>,
    },
    #[error("blob {digest} is not in {location}")]
    BlobNotFound { digest: Digest, location: String },
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read blob {digest}")]
    BlobRead {
        digest: Digest,
        #[source]
        source: std::io::Error,
    },
    #[error("{what} is not valid JSON of the expected shape")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{what} has media type {media_type:?}, which husk does not support here")]
    UnsupportedMediaType { what: String, media_type: String },
    #[error("{what} is ambiguous: it has both \"manifests\" and \"layers\"")]
    AmbiguousDocument { what: String },
    #[error("{what} exceeds the limit of {limit} bytes")]
    TooLarge { what: String, limit: u64 },
    #[error("{what} does not match the images given: {reason}")]
    IndexMismatch { what: String, reason: String },
}

impl OciError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> OciError {
        OciError::Io {
            path: path.into(),
            source,
        }
    }
}
