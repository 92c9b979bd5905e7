//! TLS trust of registry connections: what one connection trusts (the system roots,
//! `--ca-cert` files, and the registry's `certs.d/HOST[:PORT]/` directory as podman, skopeo
//! and docker read it), the certificate verifier, and the one-sentence explanation of every
//! certificate failure.
//!
//! The verifier wraps the platform verifier (webpki over the system roots plus the user's
//! certificates). webpki refuses a CA certificate used as a server certificate
//! (`CaUsedAsEndEntity`), yet that is what `openssl req -x509` makes by default (OpenSSL 3
//! marks it `CA:TRUE`) and what Docker's documentation tells registry operators to serve.
//! OpenSSL- and Go-based clients (curl, skopeo, podman) trust such a certificate when the
//! server presents exactly a certificate the user gave them; so does husk: when the
//! server's certificate is byte-equal to one the user gave, it is accepted if it is within
//! its validity dates, valid for the server name and usable for TLS servers, and the
//! handshake signatures are still checked against its key with the provider's algorithms.
//!
//! Every failure leaves the verifier as a [`CertFailure`] (with the certificate's dates and
//! names), carried inside rustls' error; [`connection_error`] finds it in a reqwest error's
//! source chain and turns it into a `RegistryError` that says what is wrong and what to do.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};

use crate::{RegistryError, RegistryOptions};

/// The certs.d roots containers/image searches for a `HOST[:PORT]` directory, in its
/// order: the user's (`$XDG_CONFIG_HOME/containers/certs.d`, given here as the config
/// home), `/etc/containers/certs.d`, then docker's `/etc/docker/certs.d`.
pub fn certs_d_roots(config_home: Option<&Path>) -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Some(home) = config_home {
        v.push(home.join("containers/certs.d"));
    }
    v.push(PathBuf::from("/etc/containers/certs.d"));
    v.push(PathBuf::from("/etc/docker/certs.d"));
    v
}

/// The `HOST[:PORT]` directory of `registry` under the first root that has one (the
/// first found wins, as in containers/image), or `None`.
pub fn host_dir(roots: &[PathBuf], registry: &str) -> Option<PathBuf> {
    if registry.is_empty()
        || registry.contains(['/', '\\', '\0'])
        || registry == "."
        || registry == ".."
    {
        return None;
    }
    roots.iter().map(|r| r.join(registry)).find(|d| d.is_dir())
}

/// A client certificate chain and its private key.
pub type ClientIdentity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// What one registry connection trusts beyond the system roots, and the client
/// certificate it shows when asked.
#[derive(Debug, Default)]
pub struct Trust {
    /// Certificates the user gave (`--ca-cert`, `*.crt` in the certificate directory).
    pub anchors: Vec<CertificateDer<'static>>,
    /// The first `*.cert` + `*.key` pair of the certificate directory, by name.
    pub client: Option<ClientIdentity>,
}

impl Trust {
    /// The trust of connections to `registry` (`HOST[:PORT]` as written in references):
    /// `opts.ca_certs`, then `opts.cert_dir` if set, else the registry's directory under
    /// the first of `opts.certs_d` that has one.
    ///
    /// # Errors
    /// An unreadable or certificate-less CA file, an unreadable certificate directory, a
    /// client certificate without its key (or a key without its certificate).
    pub fn load(opts: &RegistryOptions, registry: Option<&str>) -> Result<Trust, RegistryError> {
        let mut t = Trust::default();
        for path in &opts.ca_certs {
            t.anchors.extend(read_certs(path)?);
        }
        let dir = match (&opts.cert_dir, registry) {
            (Some(d), _) => {
                if !d.is_dir() {
                    return Err(RegistryError::CertDir {
                        path: d.clone(),
                        reason: "it is not a directory".into(),
                    });
                }
                Some(d.clone())
            }
            (None, Some(host)) => host_dir(&opts.certs_d, host),
            (None, None) => None,
        };
        if let Some(d) = dir {
            t.load_dir(&d)?;
        }
        Ok(t)
    }

    /// Read a containers/image certificate directory: `*.crt` are trusted certificates,
    /// `NAME.cert` + `NAME.key` a client certificate and its key.
    fn load_dir(&mut self, dir: &Path) -> Result<(), RegistryError> {
        let bad = |reason: String| RegistryError::CertDir {
            path: dir.to_owned(),
            reason,
        };
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map_err(|e| bad(e.to_string()))?
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        for name in &names {
            let path = dir.join(name);
            if name.ends_with(".crt") {
                self.anchors.extend(read_certs(&path)?);
            } else if let Some(stem) = name.strip_suffix(".cert") {
                let key = format!("{stem}.key");
                if !names.contains(&key) {
                    return Err(bad(format!(
                        "client certificate {name} has no key {key} beside it (CA certificates end in .crt)"
                    )));
                }
                if self.client.is_none() {
                    self.client = Some(read_identity(&path, &dir.join(&key))?);
                }
            } else if let Some(stem) = name.strip_suffix(".key")
                && !names.contains(&format!("{stem}.cert"))
            {
                return Err(bad(format!(
                    "key {name} has no client certificate {stem}.cert beside it"
                )));
            }
        }
        Ok(())
    }
}

/// Every certificate of a PEM file (a bundle may hold several).
fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, RegistryError> {
    let bad = |reason: String| RegistryError::CaCert {
        path: path.to_owned(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("not a PEM certificate bundle ({e})")))?;
    if certs.is_empty() {
        return Err(bad("no certificate in it".into()));
    }
    Ok(certs)
}

/// A client certificate chain (PEM) and its private key (PEM: PKCS#8, PKCS#1 or SEC1).
fn read_identity(cert: &Path, key: &Path) -> Result<ClientIdentity, RegistryError> {
    let chain = read_certs(cert).map_err(|e| RegistryError::ClientCert {
        path: cert.to_owned(),
        reason: e.to_string(),
    })?;
    let pem = std::fs::read(key).map_err(|e| RegistryError::ClientCert {
        path: key.to_owned(),
        reason: e.to_string(),
    })?;
    let key_der = PrivateKeyDer::from_pem_slice(&pem).map_err(|e| RegistryError::ClientCert {
        path: key.to_owned(),
        reason: format!("no PEM private key in it ({e})"),
    })?;
    Ok((chain, key_der))
}

/// The rustls configuration of connections to `registry`: TLS 1.2 and 1.3 with the ring
/// provider, the [`Trust`] of `opts`, ALPN h2 and http/1.1 (what reqwest asks for itself).
///
/// # Errors
/// What [`Trust::load`] reports, a system trust store that cannot be loaded, or a client
/// key that does not fit its certificate.
pub fn client_config(
    opts: &RegistryOptions,
    registry: Option<&str>,
) -> Result<rustls::ClientConfig, RegistryError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let trust = Trust::load(opts, registry)?;
    let setup = |reason: String| RegistryError::TlsSetup { reason };
    let platform = rustls_platform_verifier::Verifier::new_with_extra_roots(
        trust.anchors.iter().cloned(),
        provider.clone(),
    )
    .map_err(|e| {
        setup(format!(
            "cannot load the system's trusted certificates: {e}"
        ))
    })?;
    let verifier = Verifier::new(Arc::new(platform), trust.anchors, provider.clone());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| setup(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let mut config = match trust.client {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .map_err(|e| setup(format!("the client certificate and key do not fit: {e}")))?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The server certificate verifier of registry connections (see the module docs).
#[derive(Debug)]
pub struct Verifier {
    inner: Arc<dyn ServerCertVerifier>,
    given: Vec<CertificateDer<'static>>,
    provider: Arc<CryptoProvider>,
}

impl Verifier {
    /// `inner` judges chains; a server certificate byte-equal to one of `given` that
    /// `inner` refuses for want of an issuer is judged here instead.
    pub fn new(
        inner: Arc<dyn ServerCertVerifier>,
        given: Vec<CertificateDer<'static>>,
        provider: Arc<CryptoProvider>,
    ) -> Verifier {
        Verifier {
            inner,
            given,
            provider,
        }
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let err = match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(ok) => return Ok(ok),
            Err(e) => e,
        };
        let given = self.given.iter().any(|c| c.as_ref() == end_entity.as_ref());
        let failure = if given && lacks_issuer(&err) {
            match verify_given(end_entity, server_name, now) {
                Ok(()) => return Ok(ServerCertVerified::assertion()),
                Err(f) => f,
            }
        } else {
            CertFailure::explain(&err, end_entity, server_name, now)
        };
        Err(failure.into_rustls())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Whether webpki refused a certificate only because it found no issuer for it: unknown
/// issuer, or a CA certificate presented as the server's own.
fn lacks_issuer(err: &rustls::Error) -> bool {
    match err {
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => true,
        rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(o))) => matches!(
            o.downcast_ref::<webpki::Error>(),
            Some(webpki::Error::CaUsedAsEndEntity)
        ),
        _ => false,
    }
}

/// Judge a certificate the user gave as the server's own: dates, usage, name.
fn verify_given(
    der: &CertificateDer<'_>,
    server_name: &ServerName<'_>,
    now: UnixTime,
) -> Result<(), CertFailure> {
    let facts = CertFacts::parse(der)
        .ok_or_else(|| CertFailure::Other("it is not a valid X.509 certificate".into()))?;
    facts.check_dates(now)?;
    if !facts.server_auth {
        return Err(CertFailure::Other(
            "its extended key usage does not allow TLS servers (no serverAuth)".into(),
        ));
    }
    let cert = webpki::EndEntityCert::try_from(der)
        .map_err(|e| CertFailure::Other(format!("webpki cannot read it ({e})")))?;
    cert.verify_is_valid_for_subject_name(server_name)
        .map_err(|_| CertFailure::NameMismatch {
            expected: server_name.to_str().into_owned(),
            presented: facts.names,
        })
}

/// What a certificate says about itself, for checks and messages.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CertFacts {
    not_before: i64,
    not_after: i64,
    /// DNS names and IP addresses of its subjectAltName.
    names: Vec<String>,
    self_signed: bool,
    /// No extended key usage, or one that allows TLS servers.
    server_auth: bool,
}

impl CertFacts {
    fn parse(der: &[u8]) -> Option<CertFacts> {
        use x509_parser::extensions::GeneralName;
        let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
        let mut names = Vec::new();
        if let Ok(Some(san)) = cert.subject_alternative_name() {
            for n in &san.value.general_names {
                match n {
                    GeneralName::DNSName(d) => names.push((*d).to_owned()),
                    GeneralName::IPAddress(b) => names.push(ip_text(b)),
                    _ => {}
                }
            }
        }
        let server_auth = match cert.extended_key_usage() {
            Ok(Some(eku)) => eku.value.any || eku.value.server_auth,
            Ok(None) => true,
            Err(_) => false,
        };
        Some(CertFacts {
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
            names,
            self_signed: cert.subject() == cert.issuer(),
            server_auth,
        })
    }

    fn check_dates(&self, now: UnixTime) -> Result<(), CertFailure> {
        let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        let dates = Dates {
            not_before: self.not_before,
            not_after: self.not_after,
            now,
        };
        if now < self.not_before {
            Err(CertFailure::NotYetValid(dates))
        } else if now > self.not_after {
            Err(CertFailure::Expired(dates))
        } else {
            Ok(())
        }
    }
}

/// An IP address of a subjectAltName as text (4 or 16 bytes; anything else in hex).
fn ip_text(b: &[u8]) -> String {
    if let Ok(a) = <[u8; 4]>::try_from(b) {
        std::net::Ipv4Addr::from(a).to_string()
    } else if let Ok(a) = <[u8; 16]>::try_from(b) {
        std::net::Ipv6Addr::from(a).to_string()
    } else {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}

/// A certificate's validity dates and the time it was judged at (Unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dates {
    pub not_before: i64,
    pub not_after: i64,
    pub now: i64,
}

/// Why a server certificate was refused. Carried inside
/// `rustls::Error::InvalidCertificate(CertificateError::Other(..))` out of the handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertFailure {
    /// No trusted issuer (and not a certificate the user gave).
    UnknownIssuer {
        self_signed: bool,
    },
    /// Not valid for the name the registry was reached by.
    NameMismatch {
        expected: String,
        presented: Vec<String>,
    },
    Expired(Dates),
    NotYetValid(Dates),
    /// Anything else, described.
    Other(String),
}

impl fmt::Display for CertFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertFailure::UnknownIssuer { .. } => f.write_str("unknown issuer"),
            CertFailure::NameMismatch {
                expected,
                presented,
            } => write!(f, "not valid for {expected} (names: {})", names(presented)),
            CertFailure::Expired(d) => write!(f, "expired at {}", utc(d.not_after)),
            CertFailure::NotYetValid(d) => write!(f, "not valid before {}", utc(d.not_before)),
            CertFailure::Other(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for CertFailure {}

impl CertFailure {
    /// Explain the inner verifier's refusal with the certificate's own dates and names.
    fn explain(
        err: &rustls::Error,
        der: &CertificateDer<'_>,
        server_name: &ServerName<'_>,
        now: UnixTime,
    ) -> CertFailure {
        let facts = CertFacts::parse(der);
        let rustls::Error::InvalidCertificate(ce) = err else {
            return CertFailure::Other(err.to_string());
        };
        match (ce, facts) {
            (CertificateError::NotValidForNameContext { presented, .. }, None) => {
                CertFailure::NameMismatch {
                    expected: server_name.to_str().into_owned(),
                    presented: presented.clone(),
                }
            }
            (
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
                Some(facts),
            ) => CertFailure::NameMismatch {
                expected: server_name.to_str().into_owned(),
                presented: facts.names,
            },
            (
                CertificateError::Expired
                | CertificateError::ExpiredContext { .. }
                | CertificateError::NotValidYet
                | CertificateError::NotValidYetContext { .. },
                Some(facts),
            ) => match facts.check_dates(now) {
                Err(f) => f,
                Ok(()) => CertFailure::Other(ce.to_string()),
            },
            (_, facts) if lacks_issuer(err) => CertFailure::UnknownIssuer {
                self_signed: facts.is_some_and(|f| f.self_signed),
            },
            _ => CertFailure::Other(ce.to_string()),
        }
    }

    fn into_rustls(self) -> rustls::Error {
        rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(self))))
    }

    /// The registry error of this failure on a connection to `host` (`HOST[:PORT]`).
    pub fn to_registry_error(&self, host: &str) -> RegistryError {
        let host = host.to_owned();
        match self.clone() {
            CertFailure::UnknownIssuer { self_signed } => {
                RegistryError::TlsUnknownIssuer { host, self_signed }
            }
            CertFailure::NameMismatch {
                expected,
                presented,
            } => RegistryError::TlsNameMismatch {
                host,
                expected,
                names: presented,
            },
            CertFailure::Expired(d) => RegistryError::TlsExpired {
                host,
                not_before: utc(d.not_before),
                not_after: utc(d.not_after),
                now: utc(d.now),
            },
            CertFailure::NotYetValid(d) => RegistryError::TlsNotYetValid {
                host,
                not_before: utc(d.not_before),
                not_after: utc(d.not_after),
                now: utc(d.now),
            },
            CertFailure::Other(reason) => RegistryError::TlsCertificate { host, reason },
        }
    }
}

/// `a, b, c`, or a note that there is none.
pub fn names(names: &[String]) -> String {
    if names.is_empty() {
        "none (it has no DNS or IP subjectAltName)".into()
    } else {
        names.join(", ")
    }
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS UTC` (years 0000-9999; others clamped to them).
pub fn utc(secs: i64) -> String {
    let secs = secs.clamp(-62_167_219_200, 253_402_300_799);
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp(secs) else {
        return format!("{secs} seconds after 1970-01-01 UTC");
    };
    let (d, c) = (t.date(), t.time());
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        d.year(),
        u8::from(d.month()),
        d.day(),
        c.hour(),
        c.minute(),
        c.second()
    )
}

/// The rustls error somewhere in `err`'s source chain (reqwest wraps it in hyper's
/// error, which wraps an `io::Error`, whose `source` skips the error it holds).
fn find_rustls<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut cur = Some(err);
    for _ in 0..32 {
        let e = cur?;
        if let Some(t) = e.downcast_ref::<rustls::Error>() {
            return Some(t);
        }
        cur = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    None
}

/// `HOST[:PORT]` of a URL, as certs.d directories and messages name a registry.
fn authority(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    }
}

/// The registry error of a TLS failure of a request to `url`, or `None` when `err` is not
/// one (then it is a plain connection or HTTP error). TLS failures are never worth a
/// retry: the same certificate comes back.
pub fn connection_error(
    err: &(dyn std::error::Error + 'static),
    url: &reqwest::Url,
) -> Option<RegistryError> {
    let tls = find_rustls(err)?;
    let host = authority(url);
    Some(match tls {
        rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(o)))
            if o.downcast_ref::<CertFailure>().is_some() =>
        {
            o.downcast_ref::<CertFailure>()?.to_registry_error(&host)
        }
        rustls::Error::InvalidCertificate(ce) => RegistryError::TlsCertificate {
            host,
            reason: ce.to_string(),
        },
        rustls::Error::InvalidMessage(_) => RegistryError::TlsHandshake {
            host,
            reason: "the server does not answer in TLS (if it serves plain HTTP on a loopback address, pass --insecure-http)".into(),
        },
        other => RegistryError::TlsHandshake {
            host,
            reason: other.to_string(),
        },
    })
}

#[cfg(test)]
mod tests;
