//! A docker-registry (Debian's `docker-registry`, distribution 2.8: no referrers API)
//! started on a free loopback port, plain HTTP or TLS (a certificate made here with rcgen,
//! or one the test made with openssl), with or without htpasswd auth (bcrypt); killed on
//! drop. Shared by every test that needs a registry.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

pub const USER: &str = "husk-e2e";
pub const PASS: &str = "pw-Zq9-very-secret";

/// How the registry serves.
pub enum Tls<'a> {
    /// Plain HTTP.
    None,
    /// A self-signed certificate for localhost and 127.0.0.1 made here (its PEM is `ca()`).
    Generated,
    /// The test's own certificate and key.
    Given { cert: &'a Path, key: &'a Path },
}

pub struct Registry {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    tls: bool,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Registry {
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
    pub fn port(&self) -> u16 {
        self.port
    }
    /// The generated certificate (with [`Tls::Generated`]).
    pub fn ca(&self) -> PathBuf {
        self.cert_dir().join("ca.crt")
    }
    pub fn cert_dir(&self) -> PathBuf {
        self.dir.path().join("certs")
    }
    /// What the registry logged so far (one line per request at level info).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }
    /// The flags husk needs to reach it (a generated certificate trusted with --ca-cert).
    pub fn flags(&self) -> Vec<String> {
        if self.tls {
            vec!["--ca-cert".into(), self.ca().display().to_string()]
        } else {
            vec!["--insecure-http".into()]
        }
    }
}

/// Whether docker-registry runs (it has no --version); under CI=true its absence fails.
pub fn have_registry() -> bool {
    let ok = Command::new("docker-registry")
        .arg("--help")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true"),
            "docker-registry is required under CI but is not installed (run scripts/test.sh)"
        );
        eprintln!("skipping: docker-registry is not installed");
    }
    ok
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn wait_for_port(port: u16) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "port {port} did not open"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A registry with a generated certificate and htpasswd auth (`tls_auth`), or plain HTTP
/// without auth.
pub fn start_registry(tls_auth: bool) -> Registry {
    if tls_auth {
        start(Tls::Generated, Some((USER, PASS)))
    } else {
        start(Tls::None, None)
    }
}

/// A registry serving as `tls` says, with htpasswd auth for `auth` (user, password).
pub fn start(tls: Tls<'_>, auth: Option<(&str, &str)>) -> Registry {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let d = dir.path();
    let mut config = format!(
        "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
        d.join("data").display()
    );
    let (cert, key) = match tls {
        Tls::None => (None, None),
        Tls::Generated => {
            std::fs::create_dir_all(d.join("certs")).unwrap();
            let ck =
                rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
                    .unwrap();
            std::fs::write(d.join("certs/ca.crt"), ck.cert.pem()).unwrap();
            std::fs::write(d.join("key.pem"), ck.signing_key.serialize_pem()).unwrap();
            (Some(d.join("certs/ca.crt")), Some(d.join("key.pem")))
        }
        Tls::Given { cert, key } => (Some(cert.to_path_buf()), Some(key.to_path_buf())),
    };
    let tls = cert.is_some();
    if let (Some(cert), Some(key)) = (cert, key) {
        config.push_str(&format!(
            "  tls:\n    certificate: {}\n    key: {}\n",
            cert.display(),
            key.display()
        ));
    }
    if let Some((user, pass)) = auth {
        let hash = bcrypt::hash(pass, 4).unwrap();
        std::fs::write(d.join("htpasswd"), format!("{user}:{hash}\n")).unwrap();
        config.push_str(&format!(
            "auth:\n  htpasswd:\n    realm: husk-e2e\n    path: {}\n",
            d.join("htpasswd").display()
        ));
    }
    std::fs::write(d.join("config.yml"), config).unwrap();
    let log = std::fs::File::create(d.join("registry.log")).unwrap();
    let child = Command::new("docker-registry")
        .arg("serve")
        .arg(d.join("config.yml"))
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("docker-registry starts");
    wait_for_port(port);
    Registry {
        child,
        port,
        dir,
        tls,
    }
}
