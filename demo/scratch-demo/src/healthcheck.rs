//! `scratch-demo healthcheck`: a tiny HTTPS probe for a Docker `HEALTHCHECK` or a
//! Kubernetes exec probe, in an image that has no curl.
//!
//! It sends one `GET` over HTTP/1.1 (ALPN `http/1.1`) and succeeds on status 200.
//!
//! # Certificate policy
//! - With a CA file (`--ca-file`, for example the server's own `server.crt`), the server
//!   certificate is verified against it as the only trust anchor, for the URL's host name.
//! - Without one, verification is skipped **only when the host is a loopback address**
//!   (`127.0.0.0/8`, `::1`, `localhost`): the probe then talks to the server in its own
//!   network namespace, sends no secret and only reads a status code, and the server may be
//!   using an in-memory `--self-signed` certificate nobody else knows. The handshake
//!   signature is still checked, so the peer must hold the key of the certificate it shows.
//! - For any other host without a CA file the probe refuses to run.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::error::{Error, Result};
use crate::tls::{PROTOCOL_VERSIONS, provider};

/// Where to probe: parsed from `https://HOST[:PORT][/PATH]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeTarget {
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// TCP port (443 when the URL has none).
    pub port: u16,
    /// Path and query (`/` when the URL has none).
    pub path: String,
}

impl ProbeTarget {
    /// Parses an `https://` URL.
    ///
    /// # Errors
    /// [`Error::BadUrl`] for another scheme, an empty host or a bad port.
    pub fn parse(url: &str) -> Result<Self> {
        let bad = |reason| Error::BadUrl {
            url: url.to_owned(),
            reason,
        };
        let rest = url
            .get(..8)
            .filter(|s| s.eq_ignore_ascii_case("https://"))
            .map(|_| &url[8..])
            .ok_or_else(|| bad("only https:// URLs are supported"))?;
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let path = if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_owned()
        };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(|| bad("unclosed '['"))?;
            match after {
                "" => (host, None),
                p => (
                    host,
                    Some(p.strip_prefix(':').ok_or_else(|| bad("junk after ']'"))?),
                ),
            }
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = match port {
            None => 443,
            Some(p) => p.parse::<u16>().map_err(|_| bad("bad port"))?,
        };
        Ok(Self {
            host: host.to_owned(),
            port,
            path,
        })
    }

    /// Whether the host is a loopback address or `localhost`.
    pub fn is_loopback(&self) -> bool {
        match self.host.parse::<IpAddr>() {
            Ok(ip) => ip.is_loopback(),
            Err(_) => self.host.eq_ignore_ascii_case("localhost"),
        }
    }

    fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Probes `url`: TLS connect, `GET`, expect 200, all within `timeout`.
///
/// # Errors
/// [`Error::BadUrl`], [`Error::UnverifiedRemote`], CA file errors, [`Error::Probe`] when
/// the server cannot be reached or the exchange fails, [`Error::Unhealthy`] for a status
/// other than 200.
pub async fn probe(url: &str, ca_file: Option<&Path>, timeout: Duration) -> Result<()> {
    let target = ProbeTarget::parse(url)?;
    let config = client_config(&target, ca_file)?;
    let status_line = tokio::time::timeout(timeout, exchange(&target, config))
        .await
        .map_err(|_| Error::Probe {
            url: url.to_owned(),
            reason: format!("no answer within {timeout:?}"),
        })?
        .map_err(|reason| Error::Probe {
            url: url.to_owned(),
            reason,
        })?;
    let mut parts = status_line.split(' ');
    match (parts.next(), parts.next()) {
        (Some(v), Some("200")) if v.starts_with("HTTP/1.") => Ok(()),
        _ => Err(Error::Unhealthy {
            url: url.to_owned(),
            status: status_line,
        }),
    }
}

fn client_config(target: &ProbeTarget, ca_file: Option<&Path>) -> Result<rustls::ClientConfig> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(PROTOCOL_VERSIONS)
        .map_err(|source| Error::TlsConfig { source })?;
    let mut config = match ca_file {
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|source| Error::CertRead {
                path: path.to_owned(),
                source,
            })?;
            let malformed = |reason: String| Error::CertMalformed {
                path: path.to_owned(),
                reason,
            };
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(&bytes) {
                let cert = cert.map_err(|e| malformed(e.to_string()))?;
                roots.add(cert).map_err(|e| malformed(e.to_string()))?;
            }
            if roots.is_empty() {
                return Err(malformed("no PEM CERTIFICATE section found".into()));
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        None if target.is_loopback() => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(LoopbackAnyCert(provider())))
            .with_no_client_auth(),
        None => {
            return Err(Error::UnverifiedRemote {
                host: target.host.clone(),
            });
        }
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Sends the request and returns the status line.
async fn exchange(
    target: &ProbeTarget,
    config: rustls::ClientConfig,
) -> std::result::Result<String, String> {
    let server_name = ServerName::try_from(target.host.clone()).map_err(|e| e.to_string())?;
    let tcp = tokio::net::TcpStream::connect((target.host.as_str(), target.port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let mut tls = connector
        .connect(server_name, tcp)
        .await
        .map_err(|e| format!("TLS: {e}"))?;
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: scratch-demo-healthcheck\r\n\
         Connection: close\r\n\r\n",
        target.path,
        target.authority()
    );
    tls.write_all(request.as_bytes())
        .await
        .map_err(|e| format!("write: {e}"))?;
    let mut buf = Vec::with_capacity(256);
    let mut chunk = [0u8; 256];
    while !buf.windows(2).any(|w| w == b"\r\n") {
        let n = tls
            .read(&mut chunk)
            .await
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 || buf.len() > 4096 {
            return Err("connection closed before a status line".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let end = buf
        .windows(2)
        .position(|w| w == b"\r\n")
        .unwrap_or(buf.len());
    Ok(String::from_utf8_lossy(&buf[..end]).into_owned())
}

/// Accepts any certificate but still checks handshake signatures; used only for loopback.
#[derive(Debug)]
struct LoopbackAnyCert(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for LoopbackAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let t = ProbeTarget::parse("https://127.0.0.1:8443/healthz").unwrap();
        assert_eq!(
            t,
            ProbeTarget {
                host: "127.0.0.1".into(),
                port: 8443,
                path: "/healthz".into()
            }
        );
        assert!(t.is_loopback());
        let t = ProbeTarget::parse("HTTPS://[::1]/x?y").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str()),
            ("::1", 443, "/x?y")
        );
        assert_eq!(t.authority(), "[::1]:443");
        assert!(t.is_loopback());
        let t = ProbeTarget::parse("https://localhost").unwrap();
        assert_eq!((t.port, t.path.as_str()), (443, "/"));
        assert!(t.is_loopback());
        assert!(
            !ProbeTarget::parse("https://example.com")
                .unwrap()
                .is_loopback()
        );
        for bad in [
            "http://x/",
            "https://",
            "https://h:99999/",
            "https://[::1/",
            "ftp",
        ] {
            assert!(ProbeTarget::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn remote_host_without_ca_is_refused() {
        let t = ProbeTarget::parse("https://192.0.2.1/healthz").unwrap();
        assert!(matches!(
            client_config(&t, None),
            Err(Error::UnverifiedRemote { .. })
        ));
    }
}
