//! The verifier and trust loading: whole TLS handshakes in memory between a rustls server
//! presenting rcgen certificates and the client configuration registries get.

use std::path::Path;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    date_time_ymd,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use super::*;

/// A certificate and its key.
struct Made {
    der: CertificateDer<'static>,
    pem: String,
    key: KeyPair,
}

fn params(names: &[&str]) -> CertificateParams {
    let mut p =
        CertificateParams::new(names.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()).unwrap();
    p.not_before = date_time_ymd(2020, 1, 1);
    p.not_after = date_time_ymd(3000, 1, 1);
    p
}

/// What `openssl req -x509 -newkey ... -addext subjectAltName=...` makes with OpenSSL 3:
/// a self-signed certificate marked CA:TRUE.
fn openssl_style(names: &[&str]) -> CertificateParams {
    let mut p = params(names);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p
}

fn self_signed(p: &CertificateParams) -> Made {
    let key = KeyPair::generate().unwrap();
    let cert = p.self_signed(&key).unwrap();
    Made {
        der: cert.der().clone(),
        pem: cert.pem(),
        key,
    }
}

#[derive(Debug)]
struct Fixed(Arc<CertifiedKey>);

impl ResolvesServerCert for Fixed {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// A server presenting `chain` and signing with `key` (not checked to match: a server
/// may present a certificate whose key it does not hold).
fn server(chain: Vec<CertificateDer<'static>>, key: &KeyPair) -> rustls::ServerConnection {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let signer = provider.key_provider.load_private_key(key_der).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(Fixed(Arc::new(CertifiedKey::new(chain, signer)))));
    rustls::ServerConnection::new(Arc::new(config)).unwrap()
}

/// Registry options trusting these PEM certificates (each written to a file).
fn opts_trusting(dir: &Path, pems: &[&str]) -> RegistryOptions {
    let mut o = RegistryOptions::default();
    for (i, pem) in pems.iter().enumerate() {
        let p = dir.join(format!("ca{i}.pem"));
        std::fs::write(&p, pem).unwrap();
        o.ca_certs.push(p);
    }
    o
}

/// A whole handshake in memory; the client's error, if any.
fn handshake(
    opts: &RegistryOptions,
    name: &str,
    mut server: rustls::ServerConnection,
) -> Result<(), rustls::Error> {
    let config = client_config(opts, None).unwrap();
    let name = ServerName::try_from(name.to_owned()).unwrap();
    let mut client = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    for _ in 0..20 {
        let mut buf = Vec::new();
        client.write_tls(&mut buf).unwrap();
        server.read_tls(&mut &buf[..]).unwrap();
        let server_result = server.process_new_packets();
        let mut buf = Vec::new();
        server.write_tls(&mut buf).unwrap();
        client.read_tls(&mut &buf[..]).unwrap();
        client.process_new_packets()?;
        if let Err(e) = server_result {
            panic!("the server failed first: {e}");
        }
        if !client.is_handshaking() && !server.is_handshaking() {
            return Ok(());
        }
    }
    panic!("the handshake did not finish");
}

/// The sentence a user sees for a handshake error on `https://127.0.0.1:5000/`.
fn message(e: &rustls::Error) -> String {
    let url = reqwest::Url::parse("https://127.0.0.1:5000/v2/").unwrap();
    connection_error(e, &url)
        .expect("a TLS error is recognised")
        .to_string()
}

#[test]
fn an_openssl_style_ca_certificate_given_by_the_user_is_trusted() {
    let tmp = tempfile::tempdir().unwrap();
    let m = self_signed(&openssl_style(&["127.0.0.1"]));
    // webpki alone refuses it: the reason this verifier exists.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(m.der.clone()).unwrap();
    let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let err = webpki
        .verify_server_cert(&m.der, &[], &name, &[], UnixTime::now())
        .unwrap_err();
    assert!(lacks_issuer(&err), "{err:?}");

    let opts = opts_trusting(tmp.path(), &[&m.pem]);
    handshake(&opts, "127.0.0.1", server(vec![m.der.clone()], &m.key)).unwrap();
}

#[test]
fn a_certificate_nobody_gave_is_an_unknown_issuer_with_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let served = self_signed(&openssl_style(&["127.0.0.1"]));
    let other = self_signed(&openssl_style(&["127.0.0.1"]));
    for opts in [
        RegistryOptions::default(),
        opts_trusting(tmp.path(), &[&other.pem]),
    ] {
        let err = handshake(
            &opts,
            "127.0.0.1",
            server(vec![served.der.clone()], &served.key),
        )
        .unwrap_err();
        assert_eq!(
            message(&err),
            "the TLS certificate of 127.0.0.1:5000 is not signed by an authority husk trusts (it is self-signed): pass the registry's CA certificate with --ca-cert FILE, or put it in /etc/containers/certs.d/127.0.0.1:5000/ca.crt (or ~/.config/containers/certs.d/127.0.0.1:5000/)"
        );
    }
}

#[test]
fn a_given_certificate_for_other_names_says_which_names_it_has() {
    let tmp = tempfile::tempdir().unwrap();
    let m = self_signed(&openssl_style(&["localhost", "10.0.0.7", "::1"]));
    let opts = opts_trusting(tmp.path(), &[&m.pem]);
    let err = handshake(&opts, "127.0.0.1", server(vec![m.der.clone()], &m.key)).unwrap_err();
    assert_eq!(
        message(&err),
        "the TLS certificate of 127.0.0.1:5000 is not valid for 127.0.0.1: it names localhost, 10.0.0.7, ::1; reach the registry by one of those names, or give it a certificate whose subjectAltName includes 127.0.0.1"
    );
    // By one of its names it works.
    handshake(&opts, "localhost", server(vec![m.der.clone()], &m.key)).unwrap();
}

#[test]
fn expired_and_not_yet_valid_certificates_give_their_dates() {
    let tmp = tempfile::tempdir().unwrap();
    let mut p = openssl_style(&["127.0.0.1"]);
    p.not_before = date_time_ymd(2020, 1, 1);
    p.not_after = date_time_ymd(2021, 6, 30);
    let old = self_signed(&p);
    p.not_before = date_time_ymd(2999, 1, 1);
    p.not_after = date_time_ymd(3000, 1, 1);
    let future = self_signed(&p);
    let opts = opts_trusting(tmp.path(), &[&old.pem, &future.pem]);

    let err = handshake(&opts, "127.0.0.1", server(vec![old.der.clone()], &old.key)).unwrap_err();
    let text = message(&err);
    assert!(
        text.starts_with("the TLS certificate of 127.0.0.1:5000 expired: it is valid from 2020-01-01 00:00:00 UTC (notBefore) to 2021-06-30 00:00:00 UTC (notAfter) and it is now "),
        "{text}"
    );
    assert!(
        text.ends_with(
            "; renew the registry's certificate, or fix this machine's clock if it is wrong"
        ),
        "{text}"
    );

    let err = handshake(
        &opts,
        "127.0.0.1",
        server(vec![future.der.clone()], &future.key),
    )
    .unwrap_err();
    let text = message(&err);
    assert!(
        text.starts_with("the TLS certificate of 127.0.0.1:5000 is not valid yet: it is valid from 2999-01-01 00:00:00 UTC (notBefore) to 3000-01-01 00:00:00 UTC (notAfter)"),
        "{text}"
    );
}

#[test]
fn a_server_without_the_key_of_the_given_certificate_fails_the_handshake() {
    let tmp = tempfile::tempdir().unwrap();
    let m = self_signed(&openssl_style(&["127.0.0.1"]));
    let impostor = KeyPair::generate().unwrap();
    let opts = opts_trusting(tmp.path(), &[&m.pem]);
    let err = handshake(&opts, "127.0.0.1", server(vec![m.der.clone()], &impostor)).unwrap_err();
    assert!(
        matches!(
            err,
            rustls::Error::InvalidCertificate(CertificateError::BadSignature)
                | rustls::Error::PeerMisbehaved(_)
                | rustls::Error::General(_)
        ),
        "{err:?}"
    );
}

#[test]
fn a_ca_issued_chain_is_judged_by_webpki_as_before() {
    let tmp = tempfile::tempdir().unwrap();
    let ca_params = openssl_style(&[]);
    let ca = self_signed(&ca_params);
    let issuer = Issuer::new(ca_params, &ca.key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = params(&["127.0.0.1", "registry.test"])
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let opts = opts_trusting(tmp.path(), &[&ca.pem]);
    let chain = vec![leaf.der().clone()];
    handshake(&opts, "registry.test", server(chain.clone(), &leaf_key)).unwrap();
    let err = handshake(&opts, "other.test", server(chain, &leaf_key)).unwrap_err();
    assert!(
        message(&err).contains("is not valid for other.test: it names 127.0.0.1, registry.test;"),
        "{}",
        message(&err)
    );
}

#[test]
fn a_given_certificate_only_for_clients_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let mut p = openssl_style(&["127.0.0.1"]);
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let m = self_signed(&p);
    let opts = opts_trusting(tmp.path(), &[&m.pem]);
    let err = handshake(&opts, "127.0.0.1", server(vec![m.der.clone()], &m.key)).unwrap_err();
    assert_eq!(
        message(&err),
        "the TLS certificate of 127.0.0.1:5000 is refused (its extended key usage does not allow TLS servers (no serverAuth)); check the certificate the registry serves"
    );
}

/// An inner verifier that always says "unknown issuer".
#[derive(Debug)]
struct NoIssuer;

impl ServerCertVerifier for NoIssuer {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Err(CertificateError::UnknownIssuer.into())
    }
    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General("unused".into()))
    }
    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General("unused".into()))
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        Vec::new()
    }
}

#[test]
fn garbage_given_as_a_certificate_is_refused_without_panicking() {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let name = ServerName::try_from("127.0.0.1").unwrap();
    for bytes in [
        Vec::new(),
        vec![0x30],
        vec![0x30, 0x82, 0xff, 0xff, 0],
        vec![0u8; 300],
    ] {
        let der = CertificateDer::from(bytes);
        let v = Verifier::new(Arc::new(NoIssuer), vec![der.clone()], provider.clone());
        let err = v
            .verify_server_cert(&der, &[], &name, &[], UnixTime::now())
            .unwrap_err();
        assert!(
            message(&err).contains("it is not a valid X.509 certificate"),
            "{}",
            message(&err)
        );
        // Not given: an unknown issuer, not self-signed as far as anyone can tell.
        let v = Verifier::new(Arc::new(NoIssuer), Vec::new(), provider.clone());
        let err = v
            .verify_server_cert(&der, &[], &name, &[], UnixTime::now())
            .unwrap_err();
        assert!(
            message(&err).contains("husk trusts: pass"),
            "{}",
            message(&err)
        );
    }
}

#[test]
fn rustls_errors_are_found_under_io_errors_and_others_are_not_tls() {
    let url = reqwest::Url::parse("https://[::1]:8443/").unwrap();
    let io = std::io::Error::other(rustls::Error::InvalidMessage(
        rustls::InvalidMessage::InvalidContentType,
    ));
    let outer = std::io::Error::other(io);
    let e = connection_error(&outer, &url).unwrap();
    assert!(
        e.to_string().starts_with(
            "the TLS handshake with [::1]:8443 failed: the server does not answer in TLS"
        ),
        "{e}"
    );
    let plain = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
    assert!(connection_error(&plain, &url).is_none());
}

#[test]
fn dates_are_utc_calendar_dates_for_any_value() {
    assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
    assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
    assert_eq!(utc(-1), "1969-12-31 23:59:59 UTC");
    assert_eq!(utc(32_503_680_000), "3000-01-01 00:00:00 UTC");
    let _ = utc(i64::MAX);
    let _ = utc(i64::MIN);
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn certs_d_directories_are_found_like_containers_image_does() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let one = self_signed(&openssl_style(&["127.0.0.1"]));
    let two = self_signed(&openssl_style(&["127.0.0.1"]));
    write(&a.join("127.0.0.1:5000/ca.crt"), &one.pem);
    write(&b.join("127.0.0.1:5000/ca.crt"), &two.pem);
    write(&b.join("127.0.0.1:5000/more.crt"), &two.pem);
    let opts = RegistryOptions {
        certs_d: vec![tmp.path().join("missing"), a.clone(), b.clone()],
        ..RegistryOptions::default()
    };
    // The first root with the host's directory wins.
    let t = Trust::load(&opts, Some("127.0.0.1:5000")).unwrap();
    assert_eq!(t.anchors, vec![one.der.clone()]);
    // Another port has no directory.
    assert!(
        Trust::load(&opts, Some("127.0.0.1:5001"))
            .unwrap()
            .anchors
            .is_empty()
    );
    // --cert-dir replaces the lookup; --ca-cert files come first.
    let opts = RegistryOptions {
        cert_dir: Some(b.join("127.0.0.1:5000")),
        ..opts_trusting(tmp.path(), &[&one.pem])
    };
    let t = Trust::load(&opts, Some("127.0.0.1:5000")).unwrap();
    assert_eq!(t.anchors, vec![one.der.clone(), two.der.clone(), two.der]);
    // Names that are not one path component are never looked up.
    for host in ["", ".", "..", "../x", "a/b", "a\\b"] {
        assert_eq!(host_dir(std::slice::from_ref(&a), host), None, "{host}");
    }
    assert_eq!(
        certs_d_roots(Some(Path::new("/home/u/.config"))),
        vec![
            PathBuf::from("/home/u/.config/containers/certs.d"),
            PathBuf::from("/etc/containers/certs.d"),
            PathBuf::from("/etc/docker/certs.d"),
        ]
    );
}

#[test]
fn client_certificates_need_their_keys_and_keys_their_certificates() {
    let tmp = tempfile::tempdir().unwrap();
    let m = self_signed(&params(&["client.test"]));
    let dir = tmp.path().join("d");
    write(&dir.join("client.cert"), &m.pem);
    let opts = RegistryOptions {
        cert_dir: Some(dir.clone()),
        ..RegistryOptions::default()
    };
    let e = Trust::load(&opts, None).unwrap_err().to_string();
    assert!(e.contains("client certificate client.cert has no key client.key beside it (CA certificates end in .crt)"), "{e}");
    write(&dir.join("client.key"), &m.key.serialize_pem());
    let t = Trust::load(&opts, None).unwrap();
    assert!(t.client.is_some() && t.anchors.is_empty());
    client_config(&opts, None).unwrap();
    write(&dir.join("lonely.key"), &m.key.serialize_pem());
    let e = Trust::load(&opts, None).unwrap_err().to_string();
    assert!(
        e.contains("key lonely.key has no client certificate lonely.cert beside it"),
        "{e}"
    );
    // A key that is not PEM.
    std::fs::remove_file(dir.join("lonely.key")).unwrap();
    write(&dir.join("client.key"), "not a key");
    let e = Trust::load(&opts, None).unwrap_err().to_string();
    assert!(e.contains("client.key: no PEM private key in it"), "{e}");
}

#[test]
fn bad_certificate_files_and_directories_say_which_and_why() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty.pem");
    write(&empty, "# nothing here\n");
    let opts = RegistryOptions {
        ca_certs: vec![empty.clone()],
        ..RegistryOptions::default()
    };
    let e = Trust::load(&opts, None).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "cannot use CA certificate file {}: no certificate in it",
            empty.display()
        )
    );
    let broken = tmp.path().join("broken.pem");
    write(
        &broken,
        "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
    );
    let opts = RegistryOptions {
        ca_certs: vec![broken],
        ..RegistryOptions::default()
    };
    let e = Trust::load(&opts, None).unwrap_err().to_string();
    assert!(e.contains("not a PEM certificate bundle"), "{e}");
    let missing = tmp.path().join("nope");
    let opts = RegistryOptions {
        cert_dir: Some(missing.clone()),
        ..RegistryOptions::default()
    };
    let e = Trust::load(&opts, None).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "cannot use certificate directory {}: it is not a directory",
            missing.display()
        )
    );
}

#[test]
fn a_plain_self_signed_server_certificate_given_by_the_user_still_works() {
    // What rcgen::generate_simple_self_signed makes (no basicConstraints), as before.
    let tmp = tempfile::tempdir().unwrap();
    let m = self_signed(&params(&["localhost", "127.0.0.1"]));
    let opts = opts_trusting(tmp.path(), &[&m.pem]);
    handshake(&opts, "127.0.0.1", server(vec![m.der.clone()], &m.key)).unwrap();
    handshake(&opts, "localhost", server(vec![m.der.clone()], &m.key)).unwrap();
}
