//! Registry TLS as users set it up: Debian's `docker-registry` serving a certificate made
//! by the real `openssl` command the way Docker's documentation says (`openssl req -x509
//! ... -addext subjectAltName=IP:127.0.0.1`, which OpenSSL 3 marks CA:TRUE), with htpasswd
//! auth. husk logs in, pushes and pulls with `--ca-cert`, with the registry's directory in
//! the user's certs.d (`~/.config/containers/certs.d/HOST:PORT/ca.crt`) and with
//! `--cert-dir`; curl trusts the same certificate (the oracle). A wrong CA, a certificate
//! for another name and an expired one (made with `openssl ca -startdate/-enddate`, which
//! OpenSSL 3.0 has) each fail with the one sentence that says what to do. Under CI
//! (CI=true) a missing docker-registry, openssl or curl fails these tests.

mod common;
#[path = "common/registry.rs"]
mod registry;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;
use registry::{Registry, Tls, start};

const USER: &str = "husk-tls";
const PASS: &str = "pw-tls-Kq7";

/// docker-registry with TLS (`cert`, `key`) and htpasswd auth on a free loopback port.
fn start_registry(cert: &Path, key: &Path) -> Registry {
    start(Tls::Given { cert, key }, Some((USER, PASS)))
}

fn have_tools() -> bool {
    let registry = Command::new("docker-registry")
        .arg("--help")
        .output()
        .is_ok_and(|o| o.status.success());
    if !registry {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "docker-registry is required under CI but is not installed (run scripts/test.sh)"
            );
        }
        eprintln!("skipping: docker-registry is not installed");
        return false;
    }
    // openssl and curl answer `version`/`--version`.
    let openssl = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !openssl && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("openssl is required under CI but is not installed (run scripts/test.sh)");
    }
    openssl && require("curl")
}

/// A certificate and key made in `dir` exactly as Docker's documentation for a registry
/// says: `openssl req -x509 -newkey rsa:2048 -nodes ... -subj /CN=NAME -addext
/// subjectAltName=SAN`. Returns (cert.pem, key.pem).
fn openssl_req_x509(dir: &Path, cn: &str, san: &str) -> (PathBuf, PathBuf) {
    std::fs::create_dir_all(dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    run(Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .args(["-days", "365", "-subj", &format!("/CN={cn}"), "-addext"])
        .arg(format!("subjectAltName={san}")));
    (cert, key)
}

/// A self-signed certificate for 127.0.0.1 valid only in 2020: `openssl ca -selfsign`
/// with explicit dates (OpenSSL 3.0's `req`/`x509` take only a positive `-days`).
fn openssl_expired(dir: &Path) -> (PathBuf, PathBuf) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("index.txt"), "").unwrap();
    std::fs::write(dir.join("serial"), "01\n").unwrap();
    std::fs::write(
        dir.join("ca.cnf"),
        format!(
            "[ca]\ndefault_ca = d\n[d]\ndatabase = {0}/index.txt\nnew_certs_dir = {0}\nserial = {0}/serial\ndefault_md = sha256\npolicy = p\ncopy_extensions = copy\nunique_subject = no\n[p]\ncommonName = supplied\n",
            dir.display()
        ),
    )
    .unwrap();
    let (cert, key, csr) = (
        dir.join("cert.pem"),
        dir.join("key.pem"),
        dir.join("req.csr"),
    );
    run(Command::new("openssl")
        .args(["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout"])
        .arg(&key)
        .args(["-subj", "/CN=127.0.0.1", "-addext"])
        .arg("subjectAltName=IP:127.0.0.1")
        .arg("-out")
        .arg(&csr));
    run(Command::new("openssl")
        .args(["ca", "-batch", "-notext", "-selfsign", "-keyfile"])
        .arg(&key)
        .arg("-in")
        .arg(&csr)
        .args([
            "-startdate",
            "20200101000000Z",
            "-enddate",
            "20210101000000Z",
        ])
        .arg("-config")
        .arg(dir.join("ca.cnf"))
        .arg("-out")
        .arg(&cert));
    (cert, key)
}

/// husk with a private auth file and HOME (so the user's certs.d is `work`'s).
fn husk_at(work: &Path) -> assert_cmd::Command {
    let mut c = husk(work);
    c.env("REGISTRY_AUTH_FILE", work.join("auth.json"))
        .env("HOME", work)
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("DOCKER_CONFIG");
    c
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ok(o: &Output, what: &str) {
    assert!(o.status.success(), "{what} failed: {}", text(o));
}

/// A small static image (busybox) built by husk into `oci:DIR`.
fn build_image(work: &Path) -> String {
    let out = work.join("img");
    let o = husk(work)
        .args(["build", "/bin/busybox", "--no-libraries", "-q", "-o"])
        .arg(format!("oci:{}", out.display()))
        .output()
        .unwrap();
    ok(&o, "husk build");
    format!("oci:{}", out.display())
}

/// Log in, push and pull with `trust` flags; every step must succeed.
fn login_push_pull(work: &Path, reg: &Registry, image: &str, tag: &str, trust: &[String]) {
    let _ = std::fs::remove_file(work.join("auth.json"));
    let o = husk_at(work)
        .args(["login", &reg.host(), "-u", USER, "--password-stdin"])
        .args(trust)
        .write_stdin(format!("{PASS}\n"))
        .output()
        .unwrap();
    ok(&o, "husk login");
    let dest = format!("docker://{}/tls/busybox:{tag}", reg.host());
    let o = husk_at(work)
        .args(["push", image, &dest])
        .args(trust)
        .output()
        .unwrap();
    ok(&o, "husk push");
    let out = work.join(format!("pulled-{tag}"));
    let o = husk_at(work)
        .args(["pull", &dest, "-o", &format!("oci:{}", out.display())])
        .args(trust)
        .output()
        .unwrap();
    ok(&o, "husk pull");
    assert_valid(work, &format!("oci:{}", out.display()));
}

#[test]
fn an_openssl_req_x509_registry_works_with_ca_cert_certs_d_and_cert_dir() {
    if !have_tools() || !require_path("/bin/busybox", "busybox-static") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let work = t.path();
    let (cert, key) = openssl_req_x509(&work.join("server"), "127.0.0.1", "IP:127.0.0.1");
    let reg = start_registry(&cert, &key);
    let image = build_image(work);

    // The oracle: curl trusts this certificate (401: it got through TLS to the auth).
    let o = run(Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
        .arg(&cert)
        .arg(format!("https://{}/v2/", reg.host())));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "401");

    // Trusting nothing: the one sentence that says what to do.
    let o = husk_at(work)
        .args(["login", &reg.host(), "-u", USER, "--password-stdin"])
        .write_stdin(format!("{PASS}\n"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let host = reg.host();
    assert!(
        text(&o).contains(&format!("the TLS certificate of {host} is not signed by an authority husk trusts (it is self-signed): pass the registry's CA certificate with --ca-cert FILE, or put it in /etc/containers/certs.d/{host}/ca.crt")),
        "{}",
        text(&o)
    );

    // --ca-cert with the certificate itself.
    login_push_pull(
        work,
        &reg,
        &image,
        "ca-cert",
        &["--ca-cert".into(), cert.display().to_string()],
    );

    // The user's certs.d, as podman and skopeo read it.
    let certs_d = work.join(".config/containers/certs.d").join(reg.host());
    std::fs::create_dir_all(&certs_d).unwrap();
    std::fs::copy(&cert, certs_d.join("ca.crt")).unwrap();
    login_push_pull(work, &reg, &image, "certs-d", &[]);
    std::fs::remove_dir_all(work.join(".config")).unwrap();

    // skopeo's --cert-dir: a directory of *.crt for every registry.
    let dir = work.join("cert-dir");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(&cert, dir.join("registry.crt")).unwrap();
    login_push_pull(
        work,
        &reg,
        &image,
        "cert-dir",
        &["--cert-dir".into(), dir.display().to_string()],
    );
}

/// `husk pull` from a registry serving `cert` while trusting `ca`; its failure text.
fn failing_pull(work: &Path, cert: &Path, key: &Path, ca: &Path) -> (String, String) {
    let reg = start_registry(cert, key);
    let o = husk_at(work)
        .args(["pull", &format!("docker://{}/tls/none:1", reg.host()), "-o"])
        .arg(format!("oci:{}", work.join("never").display()))
        .arg("--ca-cert")
        .arg(ca)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!work.join("never").exists());
    (reg.host(), text(&o))
}

#[test]
fn wrong_ca_wrong_name_and_expired_certificates_each_say_what_to_do() {
    if !have_tools() {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let work = t.path();

    // Another certificate than the one the registry serves.
    let (cert, key) = openssl_req_x509(&work.join("a"), "127.0.0.1", "IP:127.0.0.1");
    let (other, _) = openssl_req_x509(&work.join("b"), "127.0.0.1", "IP:127.0.0.1");
    let (host, out) = failing_pull(work, &cert, &key, &other);
    assert!(
        out.contains(&format!("the TLS certificate of {host} is not signed by an authority husk trusts (it is self-signed): pass the registry's CA certificate with --ca-cert FILE, or put it in /etc/containers/certs.d/{host}/ca.crt (or ~/.config/containers/certs.d/{host}/)")),
        "{out}"
    );

    // A certificate for other names, reached by 127.0.0.1.
    let (cert, key) = openssl_req_x509(&work.join("c"), "localhost", "DNS:localhost,IP:::1");
    let (host, out) = failing_pull(work, &cert, &key, &cert);
    assert!(
        out.contains(&format!("the TLS certificate of {host} is not valid for 127.0.0.1: it names localhost, ::1; reach the registry by one of those names, or give it a certificate whose subjectAltName includes 127.0.0.1")),
        "{out}"
    );

    // An expired one.
    let (cert, key) = openssl_expired(&work.join("d"));
    let (host, out) = failing_pull(work, &cert, &key, &cert);
    assert!(
        out.contains(&format!("the TLS certificate of {host} expired: it is valid from 2020-01-01 00:00:00 UTC (notBefore) to 2021-01-01 00:00:00 UTC (notAfter) and it is now ")),
        "{out}"
    );
    assert!(
        out.contains(
            "; renew the registry's certificate, or fix this machine's clock if it is wrong"
        ),
        "{out}"
    );
}
