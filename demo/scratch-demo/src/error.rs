//! The crate's one error type. Every variant names the object it is about; I/O errors
//! carry the path. Messages are lowercase with no trailing period, and hold no text of
//! their source: the binary prints the chain on one line with `{:#}`.

use std::path::PathBuf;

/// Everything the library can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The certificate file could not be read.
    #[error("cannot read certificate file {}", path.display())]
    CertRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The certificate file is not PEM, or holds no certificate.
    #[error("malformed certificate file {}: {reason}", path.display())]
    CertMalformed { path: PathBuf, reason: String },
    /// The key file could not be read.
    #[error("cannot read key file {}", path.display())]
    KeyRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The key file is not PEM, or holds no private key.
    #[error("malformed key file {}: {reason}", path.display())]
    KeyMalformed { path: PathBuf, reason: String },
    /// rustls refused the pair (unsupported key type, or key and certificate differ).
    #[error("key file {} does not fit certificate file {}", key.display(), cert.display())]
    KeyRejected {
        cert: PathBuf,
        key: PathBuf,
        #[source]
        source: rustls::Error,
    },
    /// A name given for a generated certificate is not a DNS name or IP address.
    #[error("cannot generate a certificate for names {names:?}")]
    CertGenerate {
        names: Vec<String>,
        #[source]
        source: rcgen::Error,
    },
    /// The in-memory certificate was refused by rustls (should not happen).
    #[error("cannot build the TLS configuration")]
    TlsConfig {
        #[source]
        source: rustls::Error,
    },
    /// `gen-cert` would overwrite a file.
    #[error("{} already exists (pass --force to replace it)", path.display())]
    WouldOverwrite { path: PathBuf },
    /// Writing a generated file failed.
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}{hint}")]
    Bind {
        addr: std::net::SocketAddr,
        hint: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// A `healthcheck` URL that is not `https://HOST[:PORT][/PATH]`.
    #[error("invalid health-check URL {url:?}: {reason}")]
    BadUrl { url: String, reason: &'static str },
    /// The health probe would need to trust an unverified certificate on a remote host.
    #[error(
        "refusing to skip certificate verification for non-loopback host {host}; pass --ca-file"
    )]
    UnverifiedRemote { host: String },
    /// The health probe failed: connect, TLS, I/O or timeout.
    #[error("health check of {url} failed: {reason}")]
    Probe { url: String, reason: String },
    /// The health probe got an answer other than 200.
    #[error("health check of {url} answered {status:?}")]
    Unhealthy { url: String, status: String },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
