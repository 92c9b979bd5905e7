//! Generated certificates: validity period and subject names, checked with rustls's own
//! certificate verifier (the one the healthcheck and the tests' clients use).

use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, SystemTime};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier as _;
use rustls::pki_types::{ServerName, UnixTime};
use scratch_demo::tls;

const DAY: u64 = 86_400;

fn defaults() -> Vec<String> {
    tls::DEFAULT_NAMES.iter().map(|s| (*s).to_owned()).collect()
}

/// Verifies `names`' generated certificate for `name` at `at`.
fn verify(names: &[String], name: &str, at: SystemTime) -> Result<(), rustls::Error> {
    tls::install_default_provider();
    let generated = tls::generate_self_signed(names).unwrap();
    let cert = generated.pair.chain[0].clone();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.clone()).unwrap();
    let verifier = WebPkiServerVerifier::builder_with_provider(roots.into(), tls::provider())
        .build()
        .unwrap();
    let server_name = ServerName::try_from(name.to_owned()).unwrap();
    verifier
        .verify_server_cert(
            &cert,
            &[],
            &server_name,
            &[],
            UnixTime::since_unix_epoch(at.duration_since(SystemTime::UNIX_EPOCH).unwrap()),
        )
        .map(|_| ())
}

#[test]
fn generated_certificate_is_valid_for_a_year_from_now_and_no_longer() {
    let now = SystemTime::now();
    let names = defaults();
    verify(&names, "localhost", now).expect("valid now");
    verify(&names, "localhost", now + Duration::from_secs(364 * DAY)).expect("valid in 364 days");
    let later = verify(&names, "localhost", now + Duration::from_secs(366 * DAY));
    assert!(
        matches!(
            later,
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::Expired | rustls::CertificateError::ExpiredContext { .. }
            ))
        ),
        "{later:?}"
    );
    let earlier = verify(&names, "localhost", now - Duration::from_secs(2 * 3600));
    assert!(
        matches!(
            earlier,
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidYet
                    | rustls::CertificateError::NotValidYetContext { .. }
            ))
        ),
        "{earlier:?}"
    );
    // Well under testssl.sh's ten-year flag and the browsers' 398 days.
    const { assert!(tls::VALIDITY_DAYS <= 398) };
}

#[test]
fn listen_address_joins_the_names() {
    let v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
    let names = tls::names_for_listen(&defaults(), v6);
    assert_eq!(names, ["localhost", "127.0.0.1", "::1"]);
    verify(&names, "::1", SystemTime::now()).expect("::1 is in the SANs");
    // [::] is reached as ::1, 0.0.0.0 as 127.0.0.1 (already there), a specific IP as is.
    assert_eq!(
        tls::names_for_listen(&defaults(), "::".parse().unwrap()),
        ["localhost", "127.0.0.1", "::1"]
    );
    assert_eq!(
        tls::names_for_listen(&defaults(), "0.0.0.0".parse().unwrap()),
        ["localhost", "127.0.0.1"]
    );
    assert_eq!(
        tls::names_for_listen(&["my.host".into()], "10.0.0.5".parse().unwrap()),
        ["my.host", "10.0.0.5"]
    );
    // Spelled differently but the same address: not added twice.
    assert_eq!(
        tls::names_for_listen(&["0:0:0:0:0:0:0:1".into()], v6),
        ["0:0:0:0:0:0:0:1"]
    );
    // Without it, ::1 does not verify.
    assert!(verify(&defaults(), "::1", SystemTime::now()).is_err());
}
