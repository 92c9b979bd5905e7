//! TLS material and configuration: loading a PEM pair, generating a self-signed pair with
//! rcgen, and the rustls server configuration (ring provider, TLS 1.2 and 1.3 only,
//! ALPN `h2` then `http/1.1`).
//!
//! The provider is passed explicitly to every rustls builder, so the configuration never
//! depends on a process-wide default; the binary and the test helpers still install ring
//! as the default so that nothing else in the process can panic for lack
//! of one.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::Digest as _;

use crate::error::{Error, Result};

/// The protocol versions the server speaks: TLS 1.3 and TLS 1.2, nothing older.
pub static PROTOCOL_VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

/// ALPN protocols offered, in order of preference.
pub const ALPN_PROTOCOLS: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// Names a self-signed certificate is made for when none are given.
pub const DEFAULT_NAMES: [&str; 2] = ["localhost", "127.0.0.1"];

/// How long a generated certificate is valid: one year, under the 398 days browsers
/// accept and far under the ten years scanners such as testssl.sh flag.
pub const VALIDITY_DAYS: i64 = 365;

/// How far before "now" a generated certificate's validity starts, for clients whose
/// clocks are a little behind.
pub const BACKDATE_HOURS: i64 = 1;

/// `names` plus the address the server listens on, when a client could reach it by that
/// address and it is missing: a specific IP as is, `::` as `::1`, `0.0.0.0` as
/// `127.0.0.1` (those are what `healthcheck` probes by default).
pub fn names_for_listen(names: &[String], listen: std::net::IpAddr) -> Vec<String> {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    let ip = match listen {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let mut out = names.to_vec();
    let present = names
        .iter()
        .any(|n| n.parse::<std::net::IpAddr>().is_ok_and(|have| have == ip));
    if !present {
        out.push(ip.to_string());
    }
    out
}

/// The ring crypto provider, the only one this crate is built with.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The server's cipher suites, in the order it prefers them over the client's
/// (`ignore_client_order`), as Go's crypto/tls does on hardware with AES instructions:
/// AES-128-GCM, then AES-256-GCM, then ChaCha20-Poly1305, for TLS 1.3 and for TLS 1.2
/// (ECDHE only). Clients such as OpenSSL list AES-256 first; honouring that buys no
/// security here (the X25519 or P-256 key exchange already sets the level at 128 bits)
/// and costs both ends of every handshake a SHA-384 key schedule instead of SHA-256's.
/// A client that offers only AES-256 or ChaCha20 still gets it.
pub const SERVER_CIPHER_SUITES: [rustls::SupportedCipherSuite; 9] = {
    use rustls::crypto::ring::cipher_suite as cs;
    [
        cs::TLS13_AES_128_GCM_SHA256,
        cs::TLS13_AES_256_GCM_SHA384,
        cs::TLS13_CHACHA20_POLY1305_SHA256,
        cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ]
};

/// The ring provider with the server's cipher-suite order ([`SERVER_CIPHER_SUITES`]).
fn server_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::CryptoProvider {
        cipher_suites: SERVER_CIPHER_SUITES.to_vec(),
        ..rustls::crypto::ring::default_provider()
    })
}

/// Installs ring as the process-wide rustls provider; a no-op when one is installed.
pub fn install_default_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A certificate chain and its private key, ready for rustls.
#[derive(Debug)]
pub struct CertPair {
    /// End-entity certificate first.
    pub chain: Vec<CertificateDer<'static>>,
    /// The private key of the first certificate.
    pub key: PrivateKeyDer<'static>,
    /// Where the chain came from, for error messages (`None` when generated in memory).
    pub cert_path: Option<PathBuf>,
    /// Where the key came from, for error messages.
    pub key_path: Option<PathBuf>,
}

impl CertPair {
    /// SHA-256 fingerprint of the end-entity certificate, `AB:CD:...` like openssl prints.
    pub fn fingerprint(&self) -> String {
        self.chain
            .first()
            .map(|c| fingerprint_sha256(c))
            .unwrap_or_default()
    }
}

/// A freshly generated self-signed certificate with its key, in DER and PEM.
pub struct Generated {
    /// The certificate and key, as rustls wants them.
    pub pair: CertPair,
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The PKCS#8 private key, PEM.
    pub key_pem: String,
}

/// SHA-256 over DER bytes, as colon-separated uppercase hex.
pub fn fingerprint_sha256(der: &[u8]) -> String {
    let digest = sha2::Sha256::digest(der);
    let mut out = String::with_capacity(digest.len() * 3);
    for (i, b) in digest.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push_str(&format!("{b:02X}"));
    }
    out
}

/// Reads a PEM certificate chain and a PEM private key (PKCS#8, PKCS#1 or SEC1).
///
/// # Errors
/// [`Error::CertRead`] / [`Error::KeyRead`] when a file cannot be read,
/// [`Error::CertMalformed`] / [`Error::KeyMalformed`] when it holds no usable PEM section.
pub fn load_pair(cert_path: &Path, key_path: &Path) -> Result<CertPair> {
    let cert_bytes = fs::read(cert_path).map_err(|source| Error::CertRead {
        path: cert_path.to_owned(),
        source,
    })?;
    let chain = CertificateDer::pem_slice_iter(&cert_bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::CertMalformed {
            path: cert_path.to_owned(),
            reason: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(Error::CertMalformed {
            path: cert_path.to_owned(),
            reason: "no PEM CERTIFICATE section found".into(),
        });
    }
    let key_bytes = fs::read(key_path).map_err(|source| Error::KeyRead {
        path: key_path.to_owned(),
        source,
    })?;
    let key = PrivateKeyDer::from_pem_slice(&key_bytes).map_err(|e| Error::KeyMalformed {
        path: key_path.to_owned(),
        reason: match e {
            rustls::pki_types::pem::Error::NoItemsFound => {
                "no PEM PRIVATE KEY section found (PKCS#8, RSA or EC)".into()
            }
            other => other.to_string(),
        },
    })?;
    Ok(CertPair {
        chain,
        key,
        cert_path: Some(cert_path.to_owned()),
        key_path: Some(key_path.to_owned()),
    })
}

/// Generates a self-signed ECDSA P-256 certificate for `names` (DNS names or IP
/// addresses; the first one is also the subject's common name), valid for
/// [`VALIDITY_DAYS`] from [`BACKDATE_HOURS`] ago.
///
/// # Errors
/// [`Error::CertGenerate`] when a name is neither a DNS name nor an IP address.
pub fn generate_self_signed(names: &[String]) -> Result<Generated> {
    let err = |source| Error::CertGenerate {
        names: names.to_vec(),
        source,
    };
    let mut params = rcgen::CertificateParams::new(names.to_vec()).map_err(err)?;
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(
        rcgen::DnType::CommonName,
        names.first().map_or("scratch-demo", String::as_str),
    );
    params.distinguished_name = dn;
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::hours(BACKDATE_HOURS);
    params.not_after = params.not_before + time::Duration::days(VALIDITY_DAYS);
    let key = rcgen::KeyPair::generate().map_err(err)?;
    let cert = params.self_signed(&key).map_err(err)?;
    let pair = CertPair {
        chain: vec![cert.der().clone()],
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        cert_path: None,
        key_path: None,
    };
    Ok(Generated {
        pair,
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// The server's rustls configuration: TLS 1.2/1.3, no client auth, ALPN h2 + http/1.1.
///
/// # Errors
/// [`Error::KeyRejected`] when rustls refuses the key (unsupported type, or it does not
/// belong to the certificate).
pub fn server_config(pair: CertPair) -> Result<Arc<rustls::ServerConfig>> {
    let CertPair {
        chain,
        key,
        cert_path,
        key_path,
    } = pair;
    let builder = rustls::ServerConfig::builder_with_provider(server_provider())
        .with_protocol_versions(PROTOCOL_VERSIONS)
        .map_err(|source| Error::TlsConfig { source })?;
    let mut cfg = builder
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|source| match (cert_path, key_path) {
            (Some(cert), Some(key)) => Error::KeyRejected { cert, key, source },
            _ => Error::TlsConfig { source },
        })?;
    cfg.alpn_protocols = ALPN_PROTOCOLS.iter().map(|p| p.to_vec()).collect();
    cfg.ignore_client_order = true;
    resume_like_go(&mut cfg)?;
    Ok(Arc::new(cfg))
}

/// Session resumption as Go's crypto/tls does it, which is what a client reconnecting
/// for every request (`Connection: close`) pays for: stateless tickets (sealed with
/// rustls's rotating ring ticketer, no server-side store), one per handshake. rustls's
/// default is two tickets per TLS 1.3 handshake, each an entry in a shared, locked,
/// 256-entry memory cache that is consumed on use: every new connection then costs two
/// encrypted NewSessionTicket records and three locked cache operations more than Go's.
///
/// # Errors
/// [`Error::TlsConfig`] when the ticketer cannot be created (no system randomness).
fn resume_like_go(cfg: &mut rustls::ServerConfig) -> Result<()> {
    cfg.ticketer =
        rustls::crypto::ring::Ticketer::new().map_err(|source| Error::TlsConfig { source })?;
    cfg.send_tls13_tickets = TLS13_TICKETS;
    Ok(())
}

/// NewSessionTicket messages sent after each TLS 1.3 handshake (Go sends one).
pub const TLS13_TICKETS: usize = 1;

/// Writes `server.crt` (mode 0644) and `server.key` (mode 0600) into `dir`.
/// Refuses to replace either file unless `force`.
///
/// # Errors
/// [`Error::WouldOverwrite`] when a file exists and `force` is false,
/// [`Error::Write`] when a file cannot be written, and generation errors.
pub fn write_pair(dir: &Path, names: &[String], force: bool) -> Result<(PathBuf, PathBuf)> {
    let cert_path = dir.join("server.crt");
    let key_path = dir.join("server.key");
    if !force {
        for path in [&cert_path, &key_path] {
            if path.symlink_metadata().is_ok() {
                return Err(Error::WouldOverwrite { path: path.clone() });
            }
        }
    }
    let generated = generate_self_signed(names)?;
    write_file(&key_path, generated.key_pem.as_bytes(), 0o600, force)?;
    write_file(&cert_path, generated.cert_pem.as_bytes(), 0o644, force)?;
    Ok((cert_path, key_path))
}

/// Creates `path` with `mode` from the start (no window where a key is world-readable).
/// With `force`, an existing file is removed first rather than truncated, so its old
/// permissions do not carry over.
fn write_file(path: &Path, contents: &[u8], mode: u32, force: bool) -> Result<()> {
    let werr = |source| Error::Write {
        path: path.to_owned(),
        source,
    };
    if force {
        match fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(werr(e)),
        }
    }
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Error::WouldOverwrite {
                    path: path.to_owned(),
                }
            } else {
                werr(e)
            }
        })?;
    file.write_all(contents).map_err(werr)?;
    file.sync_all().map_err(werr)
}
