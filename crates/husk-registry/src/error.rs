//! The errors of registry access, one enum for the crate; HTTP failures keep the
//! registry's typed error codes ([`crate::ServerErrors`]).

use std::path::PathBuf;

use husk_oci::{Digest, OciError, PlatformError};

use crate::codes::ServerErrors;

/// Errors of registry access. Variants name the registry, repository, URL or blob they
/// are about. None of them ever holds a password or token: [`crate::Credentials`] keeps
/// the secret in a [`crate::Secret`], which has no `Display` and a redacted `Debug`.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("cannot build the HTTP client")]
    Client(#[source] reqwest::Error),
    #[error("{method} {url} failed")]
    Http {
        method: String,
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{}", crate::idle::describe(registry, method, url, stall, *idle))]
    Stalled {
        /// The registry's domain as written in the reference.
        registry: String,
        method: String,
        /// Scheme, host and path of the request (no query: upload URLs carry session state).
        url: String,
        stall: crate::idle::Stall,
        idle: std::time::Duration,
    },
    #[error("cannot start the runtime that sends request bodies")]
    Runtime(#[source] std::io::Error),
    #[error("{method} {url} failed with HTTP {status}{errors}")]
    Status {
        method: String,
        url: String,
        status: u16,
        /// The registry's error document (codes and messages), possibly empty.
        errors: ServerErrors,
    },
    #[error("{what} was not found at {url} (HTTP 404){errors}")]
    NotFound {
        what: String,
        url: String,
        errors: ServerErrors,
    },
    #[error(
        "{registry} rejected the credentials{}: check the user name and password, then run `husk login {registry}`",
        user.as_ref().map(|u| format!(" of user {u:?}")).unwrap_or_default()
    )]
    Unauthorized {
        registry: String,
        user: Option<String>,
    },
    #[error(
        "{registry} requires authentication and no credentials were found for it; run `husk login {registry}`"
    )]
    AuthRequired { registry: String },
    #[error("{registry} denied access to {url} (HTTP 403){errors}")]
    Denied {
        registry: String,
        url: String,
        errors: ServerErrors,
    },
    #[error("{registry} sent an authentication challenge husk cannot use: {reason}")]
    BadChallenge { registry: String, reason: String },
    #[error("the token server {realm} failed: {reason}")]
    Token { realm: String, reason: String },
    #[error(
        "refusing plain HTTP to {host}: plain HTTP is allowed only for loopback registries with --insecure-http (add --insecure-http-remote to allow {host})"
    )]
    InsecureRefused { host: String },
    #[error("redirect from {from} to {to} refused: {reason}")]
    BadRedirect {
        from: String,
        to: String,
        reason: String,
    },
    #[error("cannot use CA certificate file {path}: {reason}")]
    CaCert { path: PathBuf, reason: String },
    #[error("{what}: expected digest {expected}, the registry sent content with digest {actual}")]
    DigestMismatch {
        what: String,
        expected: Digest,
        actual: Digest,
    },
    #[error("{what}: expected {expected} bytes, the registry sent {actual}")]
    SizeMismatch {
        what: String,
        expected: u64,
        actual: u64,
    },
    #[error("{what} exceeds the limit of {limit} bytes")]
    TooLarge { what: String, limit: u64 },
    #[error("{what} is not an image manifest or index husk supports: {reason}")]
    UnsupportedDocument { what: String, reason: String },
    #[error("{what}: the registry response has no usable Location header")]
    BadLocation { what: String },
    #[error("the reference names digest {wanted}, but the image's manifest digest is {actual}")]
    DigestRefMismatch { wanted: Digest, actual: Digest },
    #[error("upload of blob {digest} to {repository} failed after {attempts} attempts")]
    UploadFailed {
        digest: Digest,
        repository: String,
        attempts: u32,
        #[source]
        source: Box<RegistryError>,
    },
    #[error("cannot read blob {digest} of the source image")]
    Source {
        digest: Digest,
        #[source]
        source: OciError,
    },
    #[error("cannot read auth file {path}: {reason}")]
    AuthFile { path: PathBuf, reason: String },
    #[error("cannot write auth file {path}")]
    WriteAuthFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("credential helper docker-credential-{helper} failed: {reason}")]
    CredHelper { helper: String, reason: String },
    #[error(transparent)]
    Oci(#[from] OciError),
    #[error(transparent)]
    Platform(#[from] PlatformError),
    #[error(
        "the TLS certificate of {host} is not signed by an authority husk trusts{}: pass the registry's CA certificate with --ca-cert FILE, or put it in /etc/containers/certs.d/{host}/ca.crt (or ~/.config/containers/certs.d/{host}/)",
        if *.self_signed { " (it is self-signed)" } else { "" }
    )]
    TlsUnknownIssuer { host: String, self_signed: bool },
    #[error(
        "the TLS certificate of {host} is not valid for {expected}: it names {}; reach the registry by one of those names, or give it a certificate whose subjectAltName includes {expected}",
        crate::tls::names(.names)
    )]
    TlsNameMismatch {
        host: String,
        expected: String,
        names: Vec<String>,
    },
    #[error(
        "the TLS certificate of {host} expired: it is valid from {not_before} (notBefore) to {not_after} (notAfter) and it is now {now}; renew the registry's certificate, or fix this machine's clock if it is wrong"
    )]
    TlsExpired {
        host: String,
        not_before: String,
        not_after: String,
        now: String,
    },
    #[error(
        "the TLS certificate of {host} is not valid yet: it is valid from {not_before} (notBefore) to {not_after} (notAfter) and it is now {now}; fix this machine's clock if it is wrong, or give the registry a certificate valid from an earlier date"
    )]
    TlsNotYetValid {
        host: String,
        not_before: String,
        not_after: String,
        now: String,
    },
    #[error(
        "the TLS certificate of {host} is refused ({reason}); check the certificate the registry serves"
    )]
    TlsCertificate { host: String, reason: String },
    #[error("the TLS handshake with {host} failed: {reason}")]
    TlsHandshake { host: String, reason: String },
    #[error("cannot set up TLS for registries: {reason}")]
    TlsSetup { reason: String },
    #[error("cannot use certificate directory {path}: {reason}")]
    CertDir { path: PathBuf, reason: String },
    #[error("cannot use client certificate file {path}: {reason}")]
    ClientCert { path: PathBuf, reason: String },
}

impl RegistryError {
    /// What the registry's error document said, for the errors that carry one.
    pub fn server_errors(&self) -> Option<&ServerErrors> {
        match self {
            RegistryError::Status { errors, .. }
            | RegistryError::NotFound { errors, .. }
            | RegistryError::Denied { errors, .. } => Some(errors),
            RegistryError::UploadFailed { source, .. } => source.server_errors(),
            _ => None,
        }
    }

    /// This error as an [`OciError`], for the `husk_oci::Image` methods of a registry image.
    pub(crate) fn into_oci(self, digest: &Digest) -> OciError {
        match self {
            RegistryError::Oci(e) => e,
            other => OciError::BlobRead {
                digest: digest.clone(),
                source: std::io::Error::other(other),
            },
        }
    }
}
