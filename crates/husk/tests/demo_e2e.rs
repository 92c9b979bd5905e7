//! End-to-end proof of husk's main job (issue 3): `husk build --config
//! demo/scratch-demo/husk.toml` builds the scratch-demo HTTPS service with cargo and packages
//! it FROM scratch; podman then runs it hardened and a rustls client gets the greeting.
//!
//! - `husk_built_demo_runs_hardened_in_podman`: the image as `podman run` would run it, with
//!   `--read-only --cap-drop=ALL --security-opt no-new-privileges`, published on loopback
//!   only. The client pins the SHA-256 fingerprint the server logs for its in-memory
//!   self-signed certificate, so the certificate is verified, never skipped.
//! - `k8s_manifest_plays_in_podman_with_restricted_security_context`: the Deployment in
//!   `demo/scratch-demo/k8s.yaml` under `podman kube play`, checked from the host's view of
//!   the container process.
//!
//! Podman 4.3 facts these tests are shaped by (checked on podman 4.3.1):
//! - It honours an image's `Healthcheck` only when the image was stored from a Docker
//!   schema 2 manifest; from an OCI manifest (oci-archive, oci dir) the healthcheck is
//!   dropped and `podman healthcheck run` says "has no defined healthcheck". So the image is
//!   written both as oci-archive (validated, inspected) and docker-archive (run).
//! - `kube play` publishes every `containerPort` on 0.0.0.0 even without `hostPort`, has no
//!   `--publish`, and refuses `--network none` while ports are declared. The kube test
//!   therefore plays a copy without the `ports:` list (and with unique names) in
//!   `--network none`, so nothing is exposed, and probes TLS from inside the pod.
//! - `kube play` turns an exec probe into a `CMD-SHELL` healthcheck (`... || exit 1`), which
//!   cannot run in an image with no shell; Kubernetes runs exec probes without a shell.
//!
//! Under CI (CI=true) a missing podman fails these tests.

mod common;

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use husk_oci::Layer as _;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::Digest as _;

/// The longest any single wait in these tests may take.
const BOUND: Duration = Duration::from_secs(20);

/// The demo image, built once per test into a private temp dir, in two formats.
struct DemoImage {
    tag: String,
    oci_archive: PathBuf,
    docker_archive: PathBuf,
}

/// Builds the demo with `husk build --config demo/scratch-demo/husk.toml`, in the dev
/// profile (the test checks packaging and behaviour, not speed).
fn build_demo(dir: &Path, tag: &str) -> DemoImage {
    let oci_archive = dir.join("scratch-demo.oci.tar");
    let docker_archive = dir.join("scratch-demo.docker.tar");
    let config = repo_root().join("demo/scratch-demo/husk.toml");
    let out = husk(&dir.join("cache"))
        .arg("build")
        .arg("--config")
        .arg(&config)
        .args(["--cargo-profile", "dev", "--tag", tag])
        .arg("-o")
        .arg(format!("oci-archive:{}", oci_archive.display()))
        .arg("-o")
        .arg(format!("docker-archive:{}", docker_archive.display()))
        .timeout(Duration::from_secs(900))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "husk build --config {} failed: {}",
        config.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    DemoImage {
        tag: tag.to_owned(),
        oci_archive,
        docker_archive,
    }
}

/// A podman image removed on drop.
struct LoadedImage(String);

impl LoadedImage {
    fn load(archive: &Path, name: &str) -> LoadedImage {
        let out = run(podman().arg("load").arg("-i").arg(archive));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(name),
            "podman load did not name {name}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        LoadedImage(name.to_owned())
    }
}

impl Drop for LoadedImage {
    fn drop(&mut self) {
        let _ = podman().args(["rmi", "-f", &self.0]).output();
    }
}

/// A podman container removed (forcibly) on drop.
struct Container(String);

impl Drop for Container {
    fn drop(&mut self) {
        let _ = podman().args(["rm", "-f", "-t", "0", &self.0]).output();
    }
}

fn inspect(object: &str, format: &str) -> String {
    let out = run(podman().args(["inspect", "--format", format, object]));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn logs(ctr: &str) -> String {
    let out = podman().args(["logs", ctr]).output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Polls `podman logs` until `needle` shows up (bounded); returns the logs.
fn wait_for_log(ctr: &str, needle: &str) -> String {
    let start = Instant::now();
    loop {
        let text = logs(ctr);
        if text.contains(needle) {
            return text;
        }
        assert!(
            start.elapsed() < BOUND,
            "{ctr} did not log {needle:?} within {BOUND:?}; logs:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A loopback port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One `Key:` line of /proc/PID/status of the container's main process, as the host sees it.
fn proc_status(pid: &str, key: &str) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key).and_then(|v| v.strip_prefix(':')))
        .unwrap_or_else(|| panic!("no {key} line in /proc/{pid}/status"))
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `AB:CD:...`, as the server logs and `openssl x509 -fingerprint -sha256` print it.
fn fingerprint(der: &[u8]) -> String {
    sha2::Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The fingerprint from the server's "... (SHA-256 fingerprint AB:CD:...)" start line.
fn logged_fingerprint(logs: &str) -> String {
    let (_, rest) = logs
        .split_once("SHA-256 fingerprint ")
        .unwrap_or_else(|| panic!("no fingerprint in the logs:\n{logs}"));
    rest.split(')').next().unwrap().trim().to_owned()
}

/// Trusts exactly one certificate, named by its SHA-256 fingerprint (certificate pinning),
/// and checks the handshake signatures with ring, so the server must hold its key.
#[derive(Debug)]
struct Pinned {
    fingerprint: String,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let got = fingerprint(end_entity);
        if got == self.fingerprint {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!(
                "certificate fingerprint {got} is not the pinned {}",
                self.fingerprint
            )))
        }
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

fn pinned_client(fingerprint: &str) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Pinned {
            fingerprint: fingerprint.to_owned(),
            provider,
        }))
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(cfg)
}

/// One HTTP/1.1 `GET target` over a new TLS connection; returns (status line, body).
fn https_get(
    addr: SocketAddr,
    cfg: &Arc<rustls::ClientConfig>,
    target: &str,
) -> std::io::Result<(String, String)> {
    let tcp = TcpStream::connect_timeout(&addr, BOUND)?;
    tcp.set_read_timeout(Some(BOUND))?;
    tcp.set_write_timeout(Some(BOUND))?;
    let conn =
        rustls::ClientConnection::new(Arc::clone(cfg), ServerName::try_from("localhost").unwrap())
            .map_err(std::io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    write!(
        tls,
        "GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )?;
    tls.flush()?;
    let mut raw = Vec::new();
    match tls.read_to_end(&mut raw) {
        Ok(_) => {}
        // A peer that closes TCP right after the response without close_notify.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => {}
        Err(e) => return Err(e),
    }
    assert_eq!(
        tls.conn.alpn_protocol(),
        Some(b"http/1.1".as_slice()),
        "ALPN"
    );
    let text = String::from_utf8(raw).expect("utf-8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("a response head");
    let status = head.lines().next().unwrap_or_default().to_owned();
    Ok((status, body.to_owned()))
}

/// `https_get`, retried while the published port is not forwarding yet (bounded).
fn https_get_ready(
    addr: SocketAddr,
    cfg: &Arc<rustls::ClientConfig>,
    target: &str,
) -> (String, String) {
    let start = Instant::now();
    loop {
        match https_get(addr, cfg, target) {
            Ok(r) => return r,
            Err(e) if start.elapsed() < BOUND => {
                eprintln!("waiting for {addr}: {e}");
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => panic!("GET https://{addr}{target}: {e}"),
        }
    }
}

/// No private key anywhere in the image: no `*.key`/`*.pem` file and no PEM private-key
/// block in any file of any layer (read back through husk's own library).
fn assert_no_private_key(oci_archive: &Path) {
    let image =
        husk_formats::open_oci_archive(oci_archive, None, &husk_oci::PlatformChoice::Only).unwrap();
    let layers = husk_oci::layers_of(&image).unwrap();
    let mut files = 0;
    for layer in &layers {
        let mut archive = tar::Archive::new(layer.open_uncompressed().unwrap());
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            assert!(
                !path.ends_with(".key") && !path.ends_with(".pem"),
                "key-like file in the image: {path}"
            );
            if entry.header().entry_type() != tar::EntryType::Regular {
                continue;
            }
            files += 1;
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            assert!(
                !has_pem_private_key(&bytes),
                "{path} holds a PEM private key"
            );
        }
    }
    assert!(files >= 3, "too few files read back: {files}");
}

/// Whether `bytes` hold a `-----BEGIN [RSA |EC |ENCRYPTED ]PRIVATE KEY-----` line.
fn has_pem_private_key(bytes: &[u8]) -> bool {
    const TAIL: &[u8] = b"PRIVATE KEY-----";
    bytes.windows(TAIL.len()).enumerate().any(|(i, w)| {
        w == TAIL
            && [
                &b"-----BEGIN "[..],
                b"-----BEGIN RSA ",
                b"-----BEGIN EC ",
                b"-----BEGIN ENCRYPTED ",
            ]
            .iter()
            .any(|head| bytes[..i].ends_with(head))
    })
}

#[test]
fn private_key_detector_finds_pem_keys_only() {
    for key in ["", "RSA ", "EC ", "ENCRYPTED "] {
        let pem = format!("junk\n-----BEGIN {key}PRIVATE KEY-----\nMIG...\n");
        assert!(has_pem_private_key(pem.as_bytes()), "{pem}");
    }
    assert!(!has_pem_private_key(
        b"-----BEGIN CERTIFICATE-----\nMII...\n"
    ));
    assert!(!has_pem_private_key(b"PRIVATE KEY-----"));
}

#[test]
fn husk_built_demo_runs_hardened_in_podman() {
    if !require("podman") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let id = std::process::id();
    let demo = build_demo(t.path(), &format!("localhost/husk-e2e-scratch-demo-{id}:1"));
    let cache = t.path().join("cache");
    assert_valid(
        &cache,
        &format!("oci-archive:{}", demo.oci_archive.display()),
    );
    assert_valid(
        &cache,
        &format!("docker-archive:{}", demo.docker_archive.display()),
    );
    assert_no_private_key(&demo.oci_archive);

    let _podman = podman_storage();
    let image = LoadedImage::load(&demo.docker_archive, &demo.tag);
    let (ctr, port) = run_hardened(&image.0, &format!("husk-e2e-scratch-demo-{id}"));
    let started = wait_for_log(&ctr.0, "listening on https://0.0.0.0:443");
    let pinned = logged_fingerprint(&started);
    assert_eq!(pinned.len(), 32 * 3 - 1, "fingerprint {pinned:?}");

    // The greeting, over TLS verified against the logged fingerprint.
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let client = pinned_client(&pinned);
    for (target, path) in [
        ("/", "/"),
        ("/hello%20world", "/hello world"),
        ("/a/%3Cb%3E", "/a/&lt;b&gt;"),
    ] {
        let (status, body) = https_get_ready(addr, &client, target);
        assert_eq!(status, "HTTP/1.1 200 OK", "GET {target}");
        assert_eq!(
            body,
            format!("Hello, \"{path}\" from Scratch Demo!"),
            "GET {target}"
        );
    }
    // The pin is real: another fingerprint is refused.
    let wrong = pinned_client(&fingerprint(b"not the server's certificate"));
    let refused = https_get(addr, &wrong, "/").expect_err("a wrong pin must fail");
    assert!(refused.to_string().contains("pinned"), "{refused}");

    // The host's view of the container process: uid/gid 1000, no capabilities, no new
    // privileges, and the root filesystem read-only.
    let pid = inspect(&ctr.0, "{{.State.Pid}}");
    assert_eq!(proc_status(&pid, "Uid"), "1000 1000 1000 1000");
    assert_eq!(proc_status(&pid, "Gid"), "1000 1000 1000 1000");
    assert_eq!(proc_status(&pid, "CapEff"), "0000000000000000");
    assert_eq!(proc_status(&pid, "CapBnd"), "0000000000000000");
    assert_eq!(proc_status(&pid, "NoNewPrivs"), "1");
    assert_eq!(inspect(&ctr.0, "{{.HostConfig.ReadonlyRootfs}}"), "true");

    // The image's HEALTHCHECK (husk.toml `healthcheck`) is honoured and passes.
    assert_eq!(
        inspect(&ctr.0, "{{json .Config.Healthcheck.Test}}"),
        r#"["CMD","/scratch-demo/scratch-demo","healthcheck"]"#
    );
    let health = podman()
        .args(["healthcheck", "run", &ctr.0])
        .output()
        .unwrap();
    assert!(
        health.status.success(),
        "podman healthcheck run: {}{}",
        String::from_utf8_lossy(&health.stdout),
        String::from_utf8_lossy(&health.stderr)
    );

    // SIGTERM (the image's StopSignal) ends it promptly and cleanly: well before podman's
    // 10 s SIGKILL, with exit code 0.
    let stop = Instant::now();
    run(podman().args(["stop", "-t", "10", &ctr.0]));
    let took = stop.elapsed();
    assert!(took < Duration::from_secs(5), "podman stop took {took:?}");
    assert_eq!(inspect(&ctr.0, "{{.State.ExitCode}}"), "0");
    let text = logs(&ctr.0);
    assert!(
        text.contains("received SIGTERM") && text.contains("shutdown complete"),
        "no clean shutdown in the logs:\n{text}"
    );
}

/// Rewrites the manifest for a test run: a unique Deployment name and image, and no
/// `ports:` list (see the module docs: podman 4.3 would publish it on 0.0.0.0).
fn manifest_for_test(original: &str, name: &str, image: &str) -> String {
    let mut text = original.replacen(
        "kind: Deployment\nmetadata:\n  name: scratch-demo\n",
        &format!("kind: Deployment\nmetadata:\n  name: {name}\n"),
        1,
    );
    assert_ne!(text, original, "the Deployment's name was not found");
    let before = text.clone();
    text = text.replacen(
        "image: localhost/scratch-demo:latest",
        &format!("image: {image}"),
        1,
    );
    assert_ne!(text, before, "the image line was not found");
    let ports = "          ports:\n            - name: https\n              containerPort: 8443\n              protocol: TCP\n";
    let before = text.clone();
    text = text.replacen(ports, "", 1);
    assert_ne!(text, before, "the container's ports list was not found");
    text
}

/// `podman kube down` on drop.
struct KubePlay(PathBuf);

impl Drop for KubePlay {
    fn drop(&mut self) {
        let _ = podman().arg("kube").arg("down").arg(&self.0).output();
    }
}

#[test]
fn k8s_manifest_plays_in_podman_with_restricted_security_context() {
    if !require("podman") {
        return;
    }
    let original = std::fs::read_to_string(repo_root().join("demo/scratch-demo/k8s.yaml")).unwrap();
    // The manifest as shipped: PSS "restricted" settings and the locally built image.
    for needle in [
        "image: localhost/scratch-demo:latest",
        "runAsNonRoot: true",
        "runAsUser: 1000",
        "allowPrivilegeEscalation: false",
        "readOnlyRootFilesystem: true",
        "drop: [\"ALL\"]",
        "type: RuntimeDefault",
        "automountServiceAccountToken: false",
    ] {
        assert!(original.contains(needle), "k8s.yaml lacks {needle:?}");
    }
    assert!(
        !original.contains("hostPort"),
        "k8s.yaml must not use hostPort"
    );

    let t = tempfile::tempdir().unwrap();
    let id = std::process::id();
    let demo = build_demo(t.path(), &format!("localhost/husk-e2e-kube-demo-{id}:1"));
    let _podman = podman_storage();
    let image = LoadedImage::load(&demo.docker_archive, &demo.tag);
    let name = format!("husk-e2e-kube-{id}");
    let manifest = t.path().join("k8s.yaml");
    std::fs::write(&manifest, manifest_for_test(&original, &name, &image.0)).unwrap();

    let played = KubePlay(manifest.clone());
    let mut play = podman();
    play.args(["kube", "play", "--network", "none"])
        .arg(&played.0);
    run(&mut play);
    // podman names the pod `<deployment>-pod-0` and its container `<pod>-<container>`.
    let ctr = format!("{name}-pod-0-scratch-demo");
    wait_for_log(&ctr, "listening on https://0.0.0.0:8443");

    let pid = inspect(&ctr, "{{.State.Pid}}");
    assert_eq!(proc_status(&pid, "Uid"), "1000 1000 1000 1000");
    assert_eq!(proc_status(&pid, "Gid"), "1000 1000 1000 1000");
    assert_eq!(proc_status(&pid, "CapEff"), "0000000000000000");
    assert_eq!(proc_status(&pid, "CapPrm"), "0000000000000000");
    assert_eq!(proc_status(&pid, "CapBnd"), "0000000000000000");
    // allowPrivilegeEscalation: false, and seccompProfile RuntimeDefault (mode 2 = filter).
    assert_eq!(proc_status(&pid, "NoNewPrivs"), "1");
    assert_eq!(proc_status(&pid, "Seccomp"), "2");
    assert_eq!(inspect(&ctr, "{{.HostConfig.ReadonlyRootfs}}"), "true");
    // The root filesystem is read-only for the process, not just in the config.
    let root = std::fs::read_to_string(format!("/proc/{pid}/mounts")).unwrap();
    let root = root
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some("/"))
        .expect("a / mount")
        .to_owned();
    let options = root.split_whitespace().nth(3).unwrap_or_default();
    assert!(
        options.split(',').any(|o| o == "ro"),
        "/ is not mounted read-only: {root}"
    );

    // TLS on the container port, probed from inside the pod's network namespace (the
    // image has no shell or curl: its own healthcheck subcommand is the client). A greeting
    // path answers 200 as well as /healthz.
    for url in [
        "https://127.0.0.1:8443/healthz",
        "https://127.0.0.1:8443/hello%20kube",
    ] {
        let mut exec = podman();
        exec.args([
            "exec",
            &ctr,
            "/scratch-demo/scratch-demo",
            "healthcheck",
            "--timeout",
            "10s",
            "--url",
            url,
        ]);
        run(&mut exec);
    }
    let text = logs(&ctr);
    assert!(
        text.contains("\"GET /hello%20kube HTTP/1.1\" 200 "),
        "no access line for the probe:\n{text}"
    );

    let mut down = podman();
    down.arg("kube").arg("down").arg(&played.0);
    run(&mut down);
    let gone = podman()
        .args(["container", "exists", &ctr])
        .status()
        .unwrap();
    assert!(!gone.success(), "{ctr} still exists after kube down");
}

/// `podman run -d` of `image` as container `name`, hardened (read-only root, no
/// capabilities, no new privileges), its port 443 published on a free loopback port.
/// No --user: the image's own user must apply. No --rm: the exit code can be checked.
fn run_hardened(image: &str, name: &str) -> (Container, u16) {
    let port = free_port();
    let ctr = Container(name.to_owned());
    run(podman().args([
        "run",
        "-d",
        "--name",
        &ctr.0,
        "--read-only",
        "--cap-drop=ALL",
        "--security-opt",
        "no-new-privileges",
        "--sysctl",
        "net.ipv4.ip_unprivileged_port_start=0",
        "-p",
        &format!("127.0.0.1:{port}:443"),
        image,
    ]));
    (ctr, port)
}

/// Runs `image` (an image ID) as the hardened test runs it; checks the startup line names
/// `machine`, then the greeting over verified TLS.
fn run_and_greet(image: &str, name: &str, machine: &str) {
    let (ctr, port) = run_hardened(image, name);
    let started = wait_for_log(&ctr.0, "listening on https://0.0.0.0:443");
    assert!(
        started.contains(&format!(" on linux/{machine}")),
        "the {machine} image did not say its machine:\n{started}"
    );
    let client = pinned_client(&logged_fingerprint(&started));
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let (status, body) = https_get_ready(addr, &client, "/multi%20arch");
    assert_eq!(status, "HTTP/1.1 200 OK", "{machine}");
    assert_eq!(
        body, "Hello, \"/multi arch\" from Scratch Demo!",
        "{machine}"
    );
}

/// Issue 12: `husk build --config demo/scratch-demo/husk.toml` with a toolchain that has
/// the arm64 standard library builds one amd64 + arm64 index in one command. It validates;
/// the system layer is one blob in both images; a second build is byte-identical; it goes
/// through a real registry and comes back byte-identical; and podman pulls each platform
/// from the registry and runs it (arm64 under qemu-user-static), each saying its machine
/// and answering over TLS.
#[test]
fn two_platform_demo_index_round_trips_a_registry_and_runs_on_both() {
    if !debian_cross_toolchain()
        || !registry::have_registry()
        || !require("podman")
        || !require("skopeo")
        || !qemu_aarch64()
    {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let config = repo_root().join("demo/scratch-demo/husk.toml");
    // Debian's cargo and rustc for this build only, in their own target directory (kept
    // between runs, like the workspace's).
    let build = |cache: &Path, out: &Path| {
        let o = husk(cache)
            .env("CARGO", DEBIAN_CARGO)
            .env("RUSTC", DEBIAN_RUSTC)
            .env("CARGO_TARGET_DIR", repo_root().join("target/debian-cross"))
            .env_remove("RUSTFLAGS")
            .arg("build")
            .arg("--config")
            .arg(&config)
            .args(["--cargo-profile", "dev", "--tag", "scratch-demo:multi"])
            .arg("-o")
            .arg(format!("oci:{}", out.display()))
            .timeout(Duration::from_secs(1800))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            o.status.success(),
            "husk build --config {}: {err}",
            config.display()
        );
        assert!(err.contains("for 2 targets"), "{err}");
        String::from_utf8(o.stdout).unwrap().trim().to_owned()
    };
    let cache = t.path().join("cache");
    let out = t.path().join("index");
    let digest = build(&cache, &out);
    let index = open_index(&out);
    assert_eq!(index.digest().to_string(), digest);
    assert_eq!(
        husk_oci::platforms_of(index.document()),
        ["linux/amd64", "linux/arm64/v8"]
    );
    assert_index_valid(&cache, &out);
    let layers = layers_by_platform(&index);
    let (amd, arm) = (&layers[0].1, &layers[1].1);
    assert_eq!(amd.len(), arm.len(), "{layers:?}");
    assert_eq!(amd[0], arm[0], "the system layer is one blob: {layers:?}");
    assert_ne!(amd.last(), arm.last(), "each platform has its own program");

    // A second build (cargo has nothing to do; no layer cache) is byte-identical.
    let again = t.path().join("again");
    assert_eq!(build(&t.path().join("cache2"), &again), digest);
    assert_eq!(tree_bytes(&out), tree_bytes(&again));

    // Through a real registry: skopeo sees the index; pulled back, the same bytes.
    let reg = registry::start_registry(false);
    let remote = format!("docker://{}/husk/scratch-demo:multi", reg.host());
    let o = husk(&cache)
        .args(["push", &format!("oci:{}", out.display()), &remote])
        .args(reg.flags())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let raw = run(Command::new("skopeo").args(["inspect", "--raw", "--tls-verify=false", &remote]));
    let raw: serde_json::Value = serde_json::from_slice(&raw.stdout).unwrap();
    assert_eq!(raw["mediaType"], "application/vnd.oci.image.index.v1+json");
    assert_eq!(raw["manifests"].as_array().unwrap().len(), 2);
    let pulled = t.path().join("pulled");
    let o = husk(&cache)
        .args(["pull", &remote, "-o", &format!("oci:{}", pulled.display())])
        .args(reg.flags())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(open_index(&pulled).digest().to_string(), digest);

    // podman picks each platform from the registry's index and runs it.
    let plain = remote.trim_start_matches("docker://");
    let id = std::process::id();
    let _podman = podman_storage();
    for (arch, machine) in [("amd64", "x86_64"), ("arm64", "aarch64")] {
        let o = run(podman().args(["pull", "-q", "--tls-verify=false", "--arch", arch, plain]));
        let image = LoadedImage(String::from_utf8_lossy(&o.stdout).trim().to_owned());
        assert_eq!(inspect(&image.0, "{{.Architecture}}"), arch);
        run_and_greet(&image.0, &format!("husk-e2e-demo-{arch}-{id}"), machine);
    }
}

#[path = "common/registry.rs"]
mod registry;
