//! What a registry operation needs to know from the caller. The CLI fills it from flags
//! and the environment; the library reads no environment variable.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::{Credentials, RetryPolicy};

/// A sink for log lines (`-v`: one line per request and response; `-vv`: plus request
/// headers, with `Authorization` always shown as `<redacted>`).
pub type Logger = Arc<dyn Fn(&str) + Send + Sync>;

/// When plain HTTP is used instead of TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlainHttp {
    /// Always TLS.
    #[default]
    Never,
    /// Plain HTTP for loopback registries (`localhost`, 127.0.0.0/8, `::1`); any other
    /// host is refused rather than silently sent in clear text.
    Loopback,
    /// Plain HTTP for any host (explicitly asked for).
    Any,
}

/// The default of [`RegistryOptions::idle_timeout`].
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Connection, TLS and credential settings of registry operations.
#[derive(Clone)]
pub struct RegistryOptions {
    /// Auth files to look credentials up in, in order (podman's auth.json, docker's
    /// config.json). Missing files are skipped.
    pub auth_files: Vec<PathBuf>,
    /// Credentials to use instead of looking them up (`husk login` checks these).
    pub credentials: Option<Credentials>,
    /// PEM files of extra CA certificates trusted besides the system roots.
    pub ca_certs: Vec<PathBuf>,
    /// One certificate directory for every registry instead of the certs.d lookup, as
    /// skopeo's and podman's `--cert-dir`: `*.crt` trusted certificates, `NAME.cert` +
    /// `NAME.key` a client certificate.
    pub cert_dir: Option<PathBuf>,
    /// certs.d roots searched for the registry's `HOST[:PORT]` directory (same layout as
    /// `cert_dir`); the first root that has one is used (`tls::certs_d_roots` gives the
    /// ones podman, skopeo and docker read). Empty: none.
    pub certs_d: Vec<PathBuf>,
    pub plain_http: PlainHttp,
    pub retry: RetryPolicy,
    /// How long a request may go without progress before it fails (and is retried under
    /// `retry` where that is safe): for the response headers to arrive, for the next bytes
    /// of a response body, for the registry to take the next bytes of a request body.
    /// Progress resets it, so a slow transfer that keeps moving has no deadline. At least
    /// a millisecond is used. Default [`DEFAULT_IDLE_TIMEOUT`].
    pub idle_timeout: Duration,
    pub log: Option<Logger>,
    /// 0 quiet, 1 requests, 2 requests and headers.
    pub verbosity: u8,
}

impl fmt::Debug for RegistryOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryOptions")
            .field("auth_files", &self.auth_files)
            .field("credentials", &self.credentials)
            .field("ca_certs", &self.ca_certs)
            .field("cert_dir", &self.cert_dir)
            .field("certs_d", &self.certs_d)
            .field("plain_http", &self.plain_http)
            .field("retry", &self.retry)
            .field("idle_timeout", &self.idle_timeout)
            .field("verbosity", &self.verbosity)
            .finish_non_exhaustive()
    }
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            auth_files: Vec::new(),
            credentials: None,
            ca_certs: Vec::new(),
            cert_dir: None,
            certs_d: Vec::new(),
            plain_http: PlainHttp::default(),
            retry: RetryPolicy::default(),
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            log: None,
            verbosity: 0,
        }
    }
}
