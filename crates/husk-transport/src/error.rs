//! The errors of the transport layer. Each names the reference or destination it is
//! about and keeps the medium's or the registry's error as its source.

use husk_formats::FormatError;
use husk_oci::{OciError, PlatformError};
use husk_registry::RegistryError;

/// Errors of parsing references, opening sources and copying images.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("invalid image reference {reference:?}: {reason}")]
    BadReference { reference: String, reason: String },
    #[error(
        "the destination {reference:?} is not a registry reference; use docker://HOST[:PORT]/REPO[:TAG] (to write local media, use husk pull or husk build -o)"
    )]
    NotARegistry { reference: String },
    #[error("cannot open {reference}{hint}")]
    OpenLocal {
        reference: String,
        /// ` (...)`: a hint for a near miss, or empty.
        hint: String,
        #[source]
        source: Box<FormatError>,
    },
    #[error("cannot open {reference}")]
    OpenRegistry {
        reference: String,
        #[source]
        source: Box<RegistryError>,
    },
    #[error("cannot write {destination}{hint}")]
    Write {
        destination: String,
        hint: String,
        #[source]
        source: Box<FormatError>,
    },
    #[error("cannot push to {destination}")]
    Push {
        destination: String,
        #[source]
        source: Box<RegistryError>,
    },
    #[error("cannot push the index to {destination}")]
    PushIndex {
        destination: String,
        #[source]
        source: Box<RegistryError>,
    },
    #[error(
        "{destination} cannot hold a multi-platform index; write it to oci:, oci-archive: or docker://, or pick one image with --platform"
    )]
    IndexUnsupported { destination: String },
    #[error(
        "{reference} cannot hold artifacts attached to an image (referrers); use an oci: layout or a docker:// registry"
    )]
    ReferrersUnsupported { reference: String },
    #[error("no place for the auth file: set REGISTRY_AUTH_FILE or pass --authfile")]
    NoLoginFile,
    /// A local destination that cannot be written (checked before any work), with a
    /// hint for a near miss (`docker:HOST:PORT/...` meaning a registry).
    #[error("{error}{hint}")]
    Destination {
        error: Box<FormatError>,
        hint: String,
    },
    /// A local medium's own error (a bad `oci:` reference, a destination that cannot be
    /// written).
    #[error(transparent)]
    Local(Box<FormatError>),
    #[error(transparent)]
    Registry(Box<RegistryError>),
    #[error(transparent)]
    Platform(#[from] PlatformError),
    #[error(transparent)]
    Oci(#[from] OciError),
}

impl From<FormatError> for TransportError {
    fn from(e: FormatError) -> Self {
        TransportError::Local(Box::new(e))
    }
}

impl From<RegistryError> for TransportError {
    fn from(e: RegistryError) -> Self {
        TransportError::Registry(Box::new(e))
    }
}
