//! Tests of the built binary: signals, exit codes, certificate errors, gen-cert,
//! healthcheck. Every child is killed on drop and every wait is bounded.

mod common;

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const BIN: &str = env!("CARGO_BIN_EXE_scratch-demo");

/// A running `scratch-demo` child with its stderr lines on a channel.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    fn spawn(args: &[&str], dir: &Path) -> Self {
        Self::spawn_program(BIN, args, dir)
    }

    fn spawn_program(program: &str, args: &[&str], dir: &Path) -> Self {
        let mut child = Command::new(program)
            .args(args)
            .current_dir(dir)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn scratch-demo");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            lines: rx,
            seen: Vec::new(),
        }
    }

    /// Waits (bounded) for a stderr line containing `needle` and returns it.
    fn wait_line(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + BOUND;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!("no stderr line with {needle:?}; saw {:#?}", self.seen),
            }
        }
    }

    /// The port from the "listening on https://127.0.0.1:PORT" line.
    fn port(&mut self) -> u16 {
        let line = self.wait_line("listening on https://");
        let after = line
            .rsplit_once("127.0.0.1:")
            .expect("a 127.0.0.1 address")
            .1;
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().expect("port")
    }

    fn signal(&self, sig: i32) {
        send_signal(self.child.id(), sig);
    }

    /// Waits (bounded) for the child to exit.
    fn wait_exit(&mut self, bound: Duration) -> ExitStatus {
        let deadline = Instant::now() + bound;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "child did not exit within {bound:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn rest_of_stderr(&mut self) -> Vec<String> {
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
            self.seen.push(line);
        }
        self.seen.clone()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the binary to completion (bounded) and returns (exit code, stdout, stderr).
fn run(args: &[&str], dir: &Path) -> (i32, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + BOUND;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("scratch-demo {args:?} did not finish");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn gen_cert(dir: &Path) {
    let (code, stdout, stderr) = run(&["gen-cert", "--out", "."], dir);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("SHA-256 fingerprint"), "{stdout}");
}

fn cert_of(dir: &Path) -> CertificateDer<'static> {
    CertificateDer::from_pem_file(dir.join("server.crt")).expect("server.crt")
}

#[tokio::test]
async fn sigterm_with_request_in_flight_lets_it_finish_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    gen_cert(dir.path());
    let mut server = Running::spawn(
        &[
            "--listen",
            "127.0.0.1:0",
            "--test-endpoints",
            "--log-format",
            "json",
        ],
        dir.path(),
    );
    let port = server.port();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let cfg = client_config(
        &cert_of(dir.path()),
        scratch_demo::tls::PROTOCOL_VERSIONS,
        &[b"http/1.1"],
    );
    let mut stream = tls_connect(addr, cfg).await.expect("verified TLS connect");
    stream
        .write_all(b"GET /__test/slow/1500 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    stream.flush().await.unwrap();
    // Let the request reach the handler, then SIGTERM while it sleeps.
    tokio::time::sleep(Duration::from_millis(400)).await;
    server.signal(libc::SIGTERM);
    server.wait_line("shutting down");
    // The listener is closed: a new connection is refused.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    let mut buf = Vec::new();
    let _ = within(BOUND, "in-flight response", stream.read_to_end(&mut buf)).await;
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 200 OK"), "{text}");
    assert!(text.ends_with("slept 1500 ms"), "{text}");
    let status = server.wait_exit(BOUND);
    assert_eq!(status.code(), Some(0), "exit status {status:?}");
    let log = server.rest_of_stderr();
    // JSON log: every line is an object; the in-flight request was logged with 200.
    for line in &log {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|_| panic!("{line}"));
    }
    assert!(
        log.iter().any(|l| l.contains(r#""target":"/__test/slow/1500""#) && l.contains(r#""status":200"#)),
        "{log:#?}"
    );
    assert!(
        log.iter().any(|l| l.contains("received SIGTERM")),
        "{log:#?}"
    );
}

#[test]
fn sigint_on_idle_server_exits_0_promptly() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Running::spawn(&["--listen", "127.0.0.1:0", "--self-signed"], dir.path());
    let _ = server.port();
    let start = Instant::now();
    server.signal(libc::SIGINT);
    let status = server.wait_exit(BOUND);
    assert_eq!(status.code(), Some(0));
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    // Nothing was written by --self-signed.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn self_signed_logs_fingerprint_and_healthcheck_subcommand_probes_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Running::spawn(
        &[
            "--listen",
            "127.0.0.1:0",
            "--self-signed",
            "localhost",
            "127.0.0.1",
        ],
        dir.path(),
    );
    let line = server.wait_line("self-signed certificate");
    assert!(line.contains("SHA-256 fingerprint"), "{line}");
    let port = server.port();
    let addr = format!("127.0.0.1:{port}");
    let (code, _, stderr) = run(&["healthcheck", "--addr", &addr], dir.path());
    assert_eq!(code, 0, "{stderr}");
    let url = format!("https://127.0.0.1:{port}/healthz");
    let (code, _, stderr) = run(&["healthcheck", "--url", &url], dir.path());
    assert_eq!(code, 0, "{stderr}");
    server.wait_line(r#""GET /healthz HTTP/1.1" 200"#);
    drop(server);
    // Nothing listens any more: unhealthy, exit 1 (never 2, which Docker reserves).
    let (code, _, stderr) = run(
        &["healthcheck", "--addr", &addr, "--timeout", "2s"],
        dir.path(),
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.starts_with("unhealthy: "), "{stderr}");
}

/// Threads of a running process, from /proc.
fn threads(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .count()
}

/// One worker thread: the runtime runs on the main thread alone (no second thread), and
/// serves; two: a worker thread of its own beside the main thread.
#[test]
fn one_worker_thread_serves_on_the_main_thread_alone() {
    let dir = tempfile::tempdir().unwrap();
    for (workers, want) in [("1", 1), ("2", 3)] {
        let mut server = Running::spawn(
            &[
                "--listen",
                "127.0.0.1:0",
                "--self-signed",
                "--worker-threads",
                workers,
            ],
            dir.path(),
        );
        let addr = format!("127.0.0.1:{}", server.port());
        let (code, _, stderr) = run(&["healthcheck", "--addr", &addr], dir.path());
        assert_eq!(code, 0, "{stderr}");
        server.wait_line(r#""GET /healthz HTTP/1.1" 200"#);
        assert_eq!(
            threads(server.child.id()),
            want,
            "--worker-threads {workers}"
        );
    }
}

#[test]
fn missing_cert_is_one_line_error_naming_the_file_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(&["--listen", "127.0.0.1:0"], dir.path());
    assert_eq!(code, 2);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: cannot read certificate file server.crt"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"));
    let (code, _, stderr) = run(
        &["--listen", "127.0.0.1:0", "--cert", "/nonexistent/x.pem"],
        dir.path(),
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("/nonexistent/x.pem"), "{stderr}");
}

#[test]
fn malformed_cert_or_key_is_one_line_error_naming_the_file_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    gen_cert(dir.path());
    std::fs::write(dir.path().join("bad.crt"), "not a certificate\n").unwrap();
    std::fs::write(
        dir.path().join("bad.key"),
        "-----BEGIN PRIVATE KEY-----\n!!\n",
    )
    .unwrap();
    let other = tempfile::tempdir().unwrap();
    gen_cert(other.path());
    let other_key = other.path().join("server.key");
    let cases: [(&[&str], &str); 3] = [
        (&["--cert", "bad.crt"], "malformed certificate file bad.crt"),
        (&["--key", "bad.key"], "malformed key file bad.key"),
        (
            &["--key", other_key.to_str().unwrap()],
            "does not fit certificate file server.crt",
        ),
    ];
    for (args, want) in cases {
        let mut all = vec!["--listen", "127.0.0.1:0"];
        all.extend_from_slice(args);
        let (code, _, stderr) = run(&all, dir.path());
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(want),
            "{args:?}: {stderr}"
        );
    }
}

#[tokio::test]
async fn gen_cert_writes_a_usable_pair_with_key_mode_0600_and_refuses_to_overwrite() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("certs");
    let out_s = out.to_str().unwrap();
    let (code, _, stderr) = run(
        &[
            "gen-cert",
            "--out",
            out_s,
            "--name",
            "localhost",
            "--name",
            "127.0.0.1",
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let key_mode = std::fs::metadata(out.join("server.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(key_mode & 0o777, 0o600);
    let before = std::fs::read(out.join("server.key")).unwrap();
    // Refused without --force, and nothing changes.
    let (code, _, stderr) = run(&["gen-cert", "--out", out_s], dir.path());
    assert_eq!(code, 2);
    assert!(
        stderr.contains("already exists") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(out.join("server.key")).unwrap(), before);
    // Replaced with --force, still 0600.
    let (code, _, stderr) = run(&["gen-cert", "--out", out_s, "--force"], dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert_ne!(std::fs::read(out.join("server.key")).unwrap(), before);
    let key_mode = std::fs::metadata(out.join("server.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(key_mode & 0o777, 0o600);

    // The pair serves TLS that a client trusting server.crt verifies.
    let mut server = Running::spawn(&["--listen", "127.0.0.1:0"], &out);
    let port = server.port();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let cfg = client_config(
        &cert_of(&out),
        scratch_demo::tls::PROTOCOL_VERSIONS,
        &[b"http/1.1"],
    );
    let mut stream = tls_connect(addr, cfg).await.expect("verified handshake");
    stream
        .write_all(b"GET /a%22b HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let _ = within(BOUND, "response", stream.read_to_end(&mut buf)).await;
    let text = String::from_utf8_lossy(&buf);
    assert!(
        text.ends_with(r#"Hello, "/a&#34;b" from Scratch Demo!"#),
        "{text}"
    );
    // healthcheck pinned to server.crt.
    let (code, _, stderr) = run(
        &[
            "healthcheck",
            "--addr",
            &addr.to_string(),
            "--ca-file",
            "server.crt",
        ],
        &out,
    );
    assert_eq!(code, 0, "{stderr}");
    server.signal(libc::SIGTERM);
    assert_eq!(server.wait_exit(BOUND).code(), Some(0));
}

#[test]
fn env_vars_configure_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .current_dir(dir.path())
        .env_clear()
        .env("SCRATCH_DEMO_LISTEN", "127.0.0.1:0")
        .env("SCRATCH_DEMO_SELF_SIGNED", "example.test,127.0.0.1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let deadline = Instant::now() + BOUND;
    while !seen
        .iter()
        .any(|l: &String| l.contains("listening on https://127.0.0.1:"))
    {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) => seen.push(l),
            Err(_) => {
                let _ = child.kill();
                panic!("no listening line: {seen:#?}");
            }
        }
    }
    assert!(
        seen.iter()
            .any(|l| l.contains("for example.test,127.0.0.1")),
        "{seen:#?}"
    );
    let _ = child.kill();
    let _ = child.wait();
}

fn send_signal(pid: u32, sig: i32) {
    let pid = i32::try_from(pid).unwrap();
    // SAFETY: plain kill(2) on a pid this test started.
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0, "kill");
}

/// As PID 1 of a PID namespace, the kernel drops signals the process has no handler for;
/// the server must still shut down on SIGTERM (it installs handlers) and exit 0.
#[test]
fn sigterm_as_pid_1_in_a_pid_namespace_exits_0() {
    let probe = Command::new("unshare")
        .args(["--pid", "--fork", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED: `unshare --pid --fork` is not available or not permitted here");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut outer = Running::spawn_program(
        "unshare",
        &[
            "--pid",
            "--fork",
            "--",
            BIN,
            "--listen",
            "127.0.0.1:0",
            "--self-signed",
        ],
        dir.path(),
    );
    let _ = outer.port();
    // The server is unshare's only child; it is PID 1 inside the namespace.
    let unshare_pid = outer.child.id();
    let children =
        std::fs::read_to_string(format!("/proc/{unshare_pid}/task/{unshare_pid}/children"))
            .expect("read children of unshare");
    let server_pid: u32 = children
        .split_whitespace()
        .next()
        .expect("a child")
        .parse()
        .unwrap();
    let status = std::fs::read_to_string(format!("/proc/{server_pid}/status")).unwrap();
    let ns_pid = status
        .lines()
        .find(|l| l.starts_with("NSpid:"))
        .and_then(|l| l.split_whitespace().last())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        ns_pid, "1",
        "server should be PID 1 in its namespace: {status}"
    );
    send_signal(server_pid, libc::SIGTERM);
    // unshare --fork exits with its child's status.
    let exit = outer.wait_exit(BOUND);
    assert_eq!(
        exit.code(),
        Some(0),
        "{exit:?}; stderr {:#?}",
        outer.rest_of_stderr()
    );
    assert!(
        outer
            .rest_of_stderr()
            .iter()
            .any(|l| l.contains("shutdown complete"))
    );
}

#[test]
fn self_signed_on_ipv6_loopback_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Running::spawn(&["--listen", "[::1]:0", "--self-signed"], dir.path());
    let line = server.wait_line("self-signed certificate for");
    assert!(line.contains("for localhost,127.0.0.1,::1 "), "{line}");
}
