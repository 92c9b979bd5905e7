//! husk against a real registry: Debian's `docker-registry` (the CNCF distribution
//! registry) started per test on a free loopback port, with TLS (a certificate made here
//! with rcgen, trusted through --ca-cert) and htpasswd auth (bcrypt), or plain HTTP.
//! podman and skopeo are the oracles; a fault-injecting proxy (tokio) sits in front of
//! the registry for the retry and no-dangling-manifest tests. Under CI (CI=true) a
//! missing docker-registry, skopeo or podman fails these tests.

mod common;
#[path = "common/registry.rs"]
mod registry;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use registry::*;

fn have_tools(tools: &[&str]) -> bool {
    tools.iter().all(|t| {
        if *t == "docker-registry" {
            // It has no --version; `docker-registry --help` exits 0.
            let ok = Command::new(t)
                .arg("--help")
                .output()
                .is_ok_and(|o| o.status.success());
            if !ok && std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("docker-registry is required under CI but is not installed (run scripts/test.sh)");
            }
            ok
        } else {
            require(t)
        }
    })
}

/// A small static image (busybox) built by husk into `oci:DIR`.
fn build_image(work: &Path) -> PathBuf {
    let out = work.join("img");
    let o = husk(work)
        .args(["build", "/bin/busybox", "--no-libraries", "-q", "-o"])
        .arg(format!("oci:{}", out.display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

/// husk with a private auth file (never the user's).
fn husk_reg(work: &Path) -> assert_cmd::Command {
    let mut c = husk(work);
    c.env("REGISTRY_AUTH_FILE", work.join("auth.json"))
        .env_remove("XDG_RUNTIME_DIR")
        .env("HOME", work)
        .env_remove("DOCKER_CONFIG");
    c
}

/// Every output of husk commands, to check that no credential ever shows.
#[derive(Default)]
struct Transcript(String);

impl Transcript {
    fn add(&mut self, o: &Output) -> String {
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        self.0.push_str(&text);
        text
    }
}

fn ok(o: &Output, what: &str) -> String {
    assert!(
        o.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

fn skopeo_digest(args: &[&str], image: &str) -> String {
    let out = run(Command::new("skopeo").arg("inspect").args(args).arg(image));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["Digest"].as_str().unwrap().to_owned()
}

#[test]
fn tls_htpasswd_push_then_podman_runs_and_skopeo_inspects_and_no_secret_is_shown() {
    if !have_tools(&["docker-registry", "skopeo", "podman"]) {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let work = t.path();
    let reg = start_registry(true);
    let img = build_image(work);
    let dest = format!("docker://{}/e2e/busybox:1", reg.host());
    let mut all = Transcript::default();

    // No credentials yet: a clear error that says what to do.
    let o = husk_reg(work)
        .args(["push", &format!("oci:{}", img.display()), &dest])
        .args(reg.flags())
        .output()
        .unwrap();
    let text = all.add(&o);
    assert_eq!(o.status.code(), Some(2), "{text}");
    assert!(
        text.contains("requires authentication") && text.contains("husk login"),
        "{text}"
    );

    // A wrong password is refused by login, which then stores nothing.
    let o = husk_reg(work)
        .args(["login", &reg.host(), "-u", USER, "--password-stdin", "-vv"])
        .args(reg.flags())
        .write_stdin("not-the-password\n")
        .output()
        .unwrap();
    let text = all.add(&o);
    assert_eq!(o.status.code(), Some(2), "{text}");
    assert!(
        text.contains("rejected the credentials of user \"husk-e2e\""),
        "{text}"
    );
    assert!(!text.contains("not-the-password"), "{text}");
    assert!(!work.join("auth.json").exists());

    // The right one is checked and stored.
    let o = husk_reg(work)
        .args(["login", &reg.host(), "-u", USER, "--password-stdin", "-vv"])
        .args(reg.flags())
        .write_stdin(format!("{PASS}\n"))
        .output()
        .unwrap();
    all.add(&o);
    ok(&o, "husk login");
    assert!(work.join("auth.json").exists());

    let o = husk_reg(work)
        .args(["push", &format!("oci:{}", img.display()), &dest, "-vv"])
        .args(reg.flags())
        .output()
        .unwrap();
    all.add(&o);
    let digest = ok(&o, "husk push");
    assert!(digest.starts_with("sha256:"), "{digest}");

    let o = husk_reg(work)
        .args(["validate", &dest, "-vv"])
        .args(reg.flags())
        .output()
        .unwrap();
    let text = all.add(&o);
    assert!(
        o.status.success() && text.contains("valid: manifest, config and"),
        "{text}"
    );

    // Pull into a layout (the default progress is off: not a terminal).
    let pulled = work.join("pulled");
    let o = husk_reg(work)
        .args([
            "pull",
            &dest,
            "-o",
            &format!("oci:{}", pulled.display()),
            "-vv",
        ])
        .args(reg.flags())
        .output()
        .unwrap();
    all.add(&o);
    assert_eq!(ok(&o, "husk pull"), digest);
    assert_valid(work, &format!("oci:{}", pulled.display()));

    // skopeo sees the same manifest.
    let creds = format!("{USER}:{PASS}");
    let cert_dir = reg.cert_dir();
    let sk = skopeo_digest(
        &["--cert-dir", cert_dir.to_str().unwrap(), "--creds", &creds],
        &dest,
    );
    assert_eq!(sk, digest);

    // podman pulls and runs it.
    let name = format!("{}/e2e/busybox:1", reg.host());
    run(podman()
        .args([
            "pull",
            "-q",
            "--cert-dir",
            cert_dir.to_str().unwrap(),
            "--creds",
            &creds,
        ])
        .arg(&name));
    let out = run(podman().args([
        "run",
        "--rm",
        "--network=none",
        &name,
        "echo",
        "hello-from-registry",
    ]));
    let _ = podman().args(["rmi", "-f", &name]).output();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "hello-from-registry"
    );

    // A stored wrong password: a clear error at push time.
    let bad = work.join("bad-auth.json");
    let b64 = |s: &str| {
        use std::process::Stdio;
        let mut c = Command::new("base64")
            .arg("-w0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        String::from_utf8(c.wait_with_output().unwrap().stdout).unwrap()
    };
    std::fs::write(
        &bad,
        format!(
            r#"{{"auths":{{"{}":{{"auth":"{}"}}}}}}"#,
            reg.host(),
            b64(&format!("{USER}:wrong-{PASS}"))
        ),
    )
    .unwrap();
    let o = husk_reg(work)
        .args([
            "push",
            &format!("oci:{}", img.display()),
            &dest,
            "-vv",
            "--authfile",
        ])
        .arg(&bad)
        .args(reg.flags())
        .output()
        .unwrap();
    let text = all.add(&o);
    assert_eq!(o.status.code(), Some(2), "{text}");
    assert!(text.contains("rejected the credentials"), "{text}");

    // No output of any command, at -vv, shows the password or its base64 forms.
    let secrets = [
        PASS.to_owned(),
        b64(&format!("{USER}:{PASS}")),
        b64(&format!("{USER}:wrong-{PASS}")),
    ];
    for s in &secrets {
        assert!(
            !all.0.contains(s.as_str()),
            "a credential appeared in husk's output"
        );
    }
    assert!(
        all.0.contains("authorization: <redacted>"),
        "-vv shows headers"
    );
}

#[test]
fn skopeo_pushes_and_husk_pulls_and_validates() {
    if !have_tools(&["docker-registry", "skopeo"]) {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let work = t.path();
    let reg = start_registry(false);
    let img = build_image(work);
    let dest = format!("docker://{}/from/skopeo:v1", reg.host());
    run(Command::new("skopeo")
        .args(["copy", "-q", "--dest-tls-verify=false"])
        .arg(format!("oci:{}", img.display()))
        .arg(&dest));
    let sk = skopeo_digest(&["--tls-verify=false"], &dest);
    for out in [
        format!("oci:{}", work.join("out").display()),
        format!("oci-archive:{}", work.join("out.tar").display()),
    ] {
        let o = husk_reg(work)
            .args(["pull", &dest, "-o", &out])
            .args(reg.flags())
            .output()
            .unwrap();
        assert_eq!(ok(&o, "husk pull"), sk);
        assert_valid(work, &out);
    }
    // Registry refs work wherever an image is read.
    let o = husk_reg(work)
        .args(["validate", &dest])
        .args(reg.flags())
        .output()
        .unwrap();
    ok(&o, "husk validate docker://");
    // Copy to another repository of the same registry: blobs are mounted, not sent.
    let other = format!("docker://{}/copied/img:2", reg.host());
    let o = husk_reg(work)
        .args(["pull", &dest, "-o", &other])
        .args(reg.flags())
        .output()
        .unwrap();
    ok(&o, "registry to registry");
    let text = String::from_utf8_lossy(&o.stderr);
    assert!(
        text.contains("0 blobs uploaded") && text.contains("mounted; 0 B sent"),
        "{text}"
    );
    assert_eq!(skopeo_digest(&["--tls-verify=false"], &other), sk);
}

// ---- the proxy -------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Pass everything through (and log it).
    None,
    /// Every second upload POST gets a 500; the first two big PATCH/PUT bodies are cut
    /// in the middle (both connections dropped).
    Flaky,
    /// Every upload PATCH/PUT with a body is cut in the middle.
    BreakUploads,
    /// The first manifest PUT passes; every later one gets a 500.
    FailLaterManifests,
}

struct Proxy {
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
    _rt: tokio::runtime::Runtime,
}

fn start_proxy(upstream: u16, fault: Fault) -> Proxy {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let log = Arc::new(Mutex::new(Vec::new()));
    let counters = Arc::new(Mutex::new((0u32, 0u32)));
    let log2 = log.clone();
    rt.spawn(async move {
        loop {
            let Ok((conn, _)) = listener.accept().await else {
                continue;
            };
            let (log, counters) = (log2.clone(), counters.clone());
            tokio::spawn(async move {
                let _ = proxy_one(conn, upstream, fault, &log, &counters).await;
            });
        }
    });
    Proxy { port, log, _rt: rt }
}

async fn read_head(s: &mut tokio::net::TcpStream) -> std::io::Result<Option<(Vec<u8>, Vec<u8>)>> {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(i + 4);
            return Ok(Some((buf, rest)));
        }
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The head with `Connection: close` instead of any connection header.
fn close_head(head: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(head);
    let mut out = String::new();
    for (i, line) in text.split("\r\n").enumerate() {
        if line.is_empty() {
            continue;
        }
        if i > 0 && line.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
        if i == 0 {
            out.push_str("Connection: close\r\n");
        }
    }
    out.push_str("\r\n");
    out.into_bytes()
}

async fn proxy_one(
    mut client: tokio::net::TcpStream,
    upstream: u16,
    fault: Fault,
    log: &Mutex<Vec<String>>,
    counters: &Mutex<(u32, u32)>,
) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Some((head, rest)) = read_head(&mut client).await? else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(&head).to_string();
    let mut first = text.split_whitespace();
    let method = first.next().unwrap_or("").to_owned();
    let path = first.next().unwrap_or("").to_owned();
    let len: u64 = text
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    log.lock().unwrap().push(format!("{method} {path}"));
    let upload = path.contains("/blobs/uploads/");
    let (fail500, cut) = {
        let mut c = counters.lock().unwrap();
        match fault {
            Fault::None => (false, false),
            Fault::Flaky => {
                let mut fail = false;
                let mut cut = false;
                if upload && method == "POST" {
                    c.0 += 1;
                    fail = c.0.is_multiple_of(2);
                }
                if upload && (method == "PATCH" || method == "PUT") && len >= 64 * 1024 {
                    c.1 += 1;
                    cut = c.1 <= 2;
                }
                (fail, cut)
            }
            Fault::BreakUploads => (
                false,
                upload && (method == "PATCH" || method == "PUT") && len > 0,
            ),
            Fault::FailLaterManifests => {
                let mut fail = false;
                if method == "PUT" && path.contains("/manifests/") {
                    c.0 += 1;
                    fail = c.0 > 1;
                }
                (fail, false)
            }
        }
    };
    if fail500 {
        let mut left = len.saturating_sub(rest.len() as u64);
        let mut sink = [0u8; 65536];
        while left > 0 {
            let n = client.read(&mut sink).await?;
            if n == 0 {
                break;
            }
            left = left.saturating_sub(n as u64);
        }
        client
            .write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .await?;
        return Ok(());
    }
    let mut up = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await?;
    up.write_all(&close_head(&head)).await?;
    let limit = if cut { len / 2 } else { len };
    let mut sent = 0u64;
    let first_part = &rest[..rest.len().min(limit as usize)];
    up.write_all(first_part).await?;
    sent += first_part.len() as u64;
    let mut buf = vec![0u8; 65536];
    while sent < limit {
        let want = buf.len().min((limit - sent) as usize);
        let n = client.read(&mut buf[..want]).await?;
        if n == 0 {
            break;
        }
        up.write_all(&buf[..n]).await?;
        sent += n as u64;
    }
    if cut {
        // Drop both connections mid-body.
        return Ok(());
    }
    let Some((rhead, rrest)) = read_head(&mut up).await? else {
        return Ok(());
    };
    client.write_all(&close_head(&rhead)).await?;
    client.write_all(&rrest).await?;
    tokio::io::copy(&mut up, &mut client).await?;
    client.shutdown().await?;
    Ok(())
}

fn count(log: &[String], pred: impl Fn(&str, &str) -> bool) -> usize {
    log.iter()
        .filter(|l| {
            let (m, p) = l.split_once(' ').unwrap();
            pred(m, p)
        })
        .count()
}

#[test]
fn pushing_the_same_image_twice_uploads_no_blob_the_second_time() {
    if !have_tools(&["docker-registry"]) {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let work = t.path();
    let reg = start_registry(false);
    let proxy = start_proxy(reg.port(), Fault::None);
    let img = build_image(work);
    let dest = format!("docker://127.0.0.1:{}/twice/img:1", proxy.port);
    let push = |dest: &str| {
        let o = husk_reg(work)
            .args([
                "push",
                &format!("oci:{}", img.display()),
                dest,
                "--insecure-http",
            ])
            .output()
            .unwrap();
        ok(&o, "husk push");
        std::mem::take(&mut *proxy.log.lock().unwrap())
    };
    let uploads = |m: &str, p: &str| p.contains("/blobs/uploads/") && m != "HEAD";
    let first = push(&dest);
    assert!(count(&first, uploads) >= 6, "{first:?}"); // 3 blobs: POST + PUT each
    // push's destination can only be a registry: the same without docker:// (the host is
    // explicit) names the same image.
    let second = push(dest.strip_prefix("docker://").unwrap());
    assert_eq!(
        count(&second, uploads),
        0,
        "second push uploaded: {second:?}"
    );
    assert_eq!(count(&second, |m, _| m == "HEAD"), 3, "{second:?}");
    assert_eq!(
        count(&second, |m, p| m == "PUT" && p.contains("/manifests/")),
        1
    );
    // A bare name without a registry host is refused rather than sent to Docker Hub.
    let o = husk_reg(work)
        .args(["push", &format!("oci:{}", img.display()), "img:1"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("is not a registry reference"),
        "{err}"
    );
    assert!(proxy.log.lock().unwrap().is_empty(), "nothing was sent");
}

#[test]
fn faults_during_upload_are_retried_and_resumed() {
    if !have_tools(&["docker-registry", "skopeo"]) {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let work = t.path();
    let reg = start_registry(false);
    let proxy = start_proxy(reg.port(), Fault::Flaky);
    let img = build_image(work);
    let via_proxy = format!("docker://127.0.0.1:{}/flaky/img:1", proxy.port);
    let started = Instant::now();
    let o = husk_reg(work)
        .args(["push", &format!("oci:{}", img.display()), &via_proxy])
        .args(["--insecure-http", "--chunk-size", "262144", "-v"])
        .output()
        .unwrap();
    let digest = ok(&o, "husk push through the faulty proxy");
    assert!(started.elapsed() < Duration::from_secs(60));
    let log = proxy.log.lock().unwrap().clone();
    assert!(
        count(&log, |m, _| m == "PATCH") > 2,
        "chunked uploads were used: {log:?}"
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("failed"), "faults were injected: {stderr}");
    // Straight from the registry: complete and valid.
    let direct = format!("docker://{}/flaky/img:1", reg.host());
    assert_eq!(skopeo_digest(&["--tls-verify=false"], &direct), digest);
    let o = husk_reg(work)
        .args(["validate", &direct, "--insecure-http"])
        .output()
        .unwrap();
    assert!(
        ok(&o, "validate").contains("valid: manifest, config and"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn a_push_that_cannot_upload_fails_cleanly_and_leaves_no_manifest() {
    if !have_tools(&["docker-registry", "skopeo"]) {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let work = t.path();
    let reg = start_registry(false);
    let proxy = start_proxy(reg.port(), Fault::BreakUploads);
    let img = build_image(work);
    let started = Instant::now();
    let o = husk_reg(work)
        .args(["push", &format!("oci:{}", img.display())])
        .arg(format!("docker://127.0.0.1:{}/broken/img:1", proxy.port))
        .args(["--insecure-http", "--retries", "2"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("failed after 2 attempts"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(60));
    let log = proxy.log.lock().unwrap().clone();
    assert_eq!(
        count(&log, |m, p| m == "PUT" && p.contains("/manifests/")),
        0,
        "a manifest was PUT after failed blobs: {log:?}"
    );
    // The registry holds no manifest for the tag.
    let direct = format!("docker://{}/broken/img:1", reg.host());
    let sk = Command::new("skopeo")
        .args(["inspect", "--tls-verify=false", &direct])
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(
        !sk.status.success(),
        "the registry has a manifest after a failed push"
    );
    let o = husk_reg(work)
        .args(["validate", &direct, "--insecure-http"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not found"));
}

// ---- multi-platform indexes --------------------------------------------------------

fn write_exec(path: &Path, bytes: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, bytes).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Two single-platform images built by husk (linux/amd64 from /usr/bin/ls, linux/arm64
/// from a static aarch64 ELF), and an OCI layout `multi` whose entry `v1` is an index of
/// both. Returns the layout dir, the index digest and the two image digests.
fn build_index(work: &Path) -> (PathBuf, String, [String; 2]) {
    use husk_oci::Image;
    let amd = work.join("amd");
    let o = husk(work)
        .args(["build", "/usr/bin/ls", "-q", "-o"])
        .arg(format!("oci:{}", amd.display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bin = work.join("arm-app");
    write_exec(
        &bin,
        &husk_elf::testing::ElfBuilder::aarch64()
            .no_dynamic()
            .build(),
    );
    let arm = work.join("arm");
    let o = husk(work)
        .arg("build")
        .arg(&bin)
        .args(["-q", "-o"])
        .arg(format!("oci:{}", arm.display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let a = husk_formats::open_oci_dir(&amd, None, &husk_oci::PlatformChoice::Only).unwrap();
    let b = husk_formats::open_oci_dir(&arm, None, &husk_oci::PlatformChoice::Only).unwrap();
    let digests = [
        a.digest().unwrap().to_string(),
        b.digest().unwrap().to_string(),
    ];
    let index =
        husk_oci::OwnedIndex::assemble(vec![Box::new(a), Box::new(b)], Default::default()).unwrap();
    let multi = work.join("multi");
    husk_formats::write_oci_dir_index(&index, &multi, Some("v1"), 4).unwrap();
    (multi, index.digest().to_string(), digests)
}

fn skopeo_raw(image: &str) -> (Vec<u8>, serde_json::Value) {
    let out = run(Command::new("skopeo").args(["inspect", "--raw", "--tls-verify=false", image]));
    let v = serde_json::from_slice(&out.stdout).unwrap();
    (out.stdout, v)
}

fn sha256_hex(bytes: &[u8]) -> String {
    husk_oci::Digest::sha256(bytes).to_string()
}

fn platforms_of(v: &serde_json::Value) -> Vec<String> {
    v["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{}/{}",
                m["platform"]["os"].as_str().unwrap(),
                m["platform"]["architecture"].as_str().unwrap()
            )
        })
        .collect()
}

fn index_raw_in_layout(dir: &Path, reference: &str) -> Vec<u8> {
    husk_formats::open_oci_dir_index(dir, Some(reference))
        .unwrap()
        .expect("the layout entry is an index")
        .raw()
        .to_vec()
}

#[test]
fn a_multi_platform_index_is_pushed_and_pulled_whole() {
    if !have_tools(&["docker-registry", "skopeo"]) {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let work = t.path();
    let reg = start_registry(false);
    let (multi, index_digest, [amd_digest, arm_digest]) = build_index(work);
    let original = index_raw_in_layout(&multi, "v1");
    let dest = format!("docker://{}/multi/app:v1", reg.host());

    // husk push of a layout entry that is an index pushes it whole (no --platform).
    let o = husk_reg(work)
        .args([
            "push",
            &format!("oci:{}:v1", multi.display()),
            &dest,
            "--insecure-http",
        ])
        .output()
        .unwrap();
    assert_eq!(ok(&o, "husk push index"), index_digest);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("an index of 2 images: linux/amd64, linux/arm64"),
        "{stderr}"
    );

    // skopeo sees the same bytes, the OCI index media type and both platforms.
    let (raw, v) = skopeo_raw(&dest);
    assert_eq!(raw, original, "the registry holds the index byte for byte");
    assert_eq!(sha256_hex(&raw), index_digest);
    assert_eq!(v["mediaType"], "application/vnd.oci.image.index.v1+json");
    assert_eq!(platforms_of(&v), ["linux/amd64", "linux/arm64"]);
    for d in [&amd_digest, &arm_digest] {
        let child = format!("docker://{}/multi/app@{d}", reg.host());
        let (raw, v) = skopeo_raw(&child);
        assert_eq!(&sha256_hex(&raw), d);
        assert_eq!(v["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    }

    // skopeo copies every platform out of it.
    let sk_out = work.join("sk");
    run(Command::new("skopeo")
        .args(["copy", "-q", "--all", "--src-tls-verify=false", &dest])
        .arg(format!("oci:{}:v1", sk_out.display())));
    assert_eq!(index_raw_in_layout(&sk_out, "v1"), original);

    // husk pull --all gets it back byte for byte (same index digest), valid per platform.
    let back = work.join("back");
    let o = husk_reg(work)
        .args(["pull", &dest, "--all", "--insecure-http", "-o"])
        .arg(format!("oci:{}", back.display()))
        .output()
        .unwrap();
    assert_eq!(ok(&o, "husk pull --all"), index_digest);
    assert_eq!(index_raw_in_layout(&back, "v1"), original);
    for p in ["linux/amd64", "linux/arm64"] {
        let o = husk(work)
            .args([
                "validate",
                &format!("oci:{}:v1", back.display()),
                "--platform",
                p,
            ])
            .output()
            .unwrap();
        assert!(
            ok(&o, "validate").contains("valid: manifest, config and"),
            "{p}"
        );
    }
    // Without --all the default is the same for a destination that holds indexes.
    let back2 = work.join("back2.tar");
    let o = husk_reg(work)
        .args(["pull", &dest, "--insecure-http", "-o"])
        .arg(format!("oci-archive:{}", back2.display()))
        .output()
        .unwrap();
    assert_eq!(ok(&o, "husk pull (index by default)"), index_digest);

    // --platform picks one image.
    let arm_only = work.join("arm-only");
    let o = husk_reg(work)
        .args([
            "pull",
            &dest,
            "--platform",
            "linux/arm64",
            "--insecure-http",
            "-o",
        ])
        .arg(format!("oci:{}", arm_only.display()))
        .output()
        .unwrap();
    assert_eq!(ok(&o, "husk pull --platform"), arm_digest);
    assert_eq!(config(&arm_only).architecture, "arm64");
    // A medium with one image: --all is refused with the way out, no platform lists them.
    let da = format!("docker-archive:{}", work.join("d.tar").display());
    let o = husk_reg(work)
        .args(["pull", &dest, "--all", "--insecure-http", "-o", &da])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot hold a multi-platform index"), "{err}");
    // Without --all or --platform it gets this machine's image, as skopeo copy does.
    let o = husk_reg(work)
        .args(["pull", &dest, "--insecure-http", "-o", &da])
        .output()
        .unwrap();
    match husk_oci::host_platform().architecture.as_str() {
        "amd64" => assert_eq!(ok(&o, "husk pull to docker-archive:"), amd_digest),
        "arm64" => assert_eq!(ok(&o, "husk pull to docker-archive:"), arm_digest),
        _ => {
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(err.contains("linux/amd64, linux/arm64"), "{err}");
        }
    }

    // Registry to registry: the whole index, blobs mounted.
    let copy = format!("docker://{}/copied/app:v1", reg.host());
    let o = husk_reg(work)
        .args(["pull", &dest, "--insecure-http", "-o", &copy])
        .output()
        .unwrap();
    assert_eq!(ok(&o, "husk pull to a registry"), index_digest);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("0 blobs uploaded"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(skopeo_raw(&copy).0, original);

    // skopeo copy --all of the layout index INTO the registry; husk pulls it whole.
    let by_skopeo = format!("docker://{}/by-skopeo/app:v1", reg.host());
    run(Command::new("skopeo")
        .args(["copy", "-q", "--all", "--dest-tls-verify=false"])
        .arg(format!("oci:{}:v1", multi.display()))
        .arg(&by_skopeo));
    let from_sk = work.join("from-skopeo");
    let o = husk_reg(work)
        .args(["pull", &by_skopeo, "--all", "--insecure-http", "-o"])
        .arg(format!("oci:{}:v1", from_sk.display()))
        .output()
        .unwrap();
    let got = ok(&o, "husk pull of skopeo's index");
    let (sk_raw, _) = skopeo_raw(&by_skopeo);
    assert_eq!(got, sha256_hex(&sk_raw));
    assert_eq!(index_raw_in_layout(&from_sk, "v1"), sk_raw);
}

#[test]
fn a_docker_manifest_list_round_trips_with_its_media_type() {
    if !have_tools(&["docker-registry", "skopeo"]) {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let work = t.path();
    let reg = start_registry(false);
    let (multi, _, _) = build_index(work);
    // skopeo converts the OCI index to a Docker manifest list of schema 2 manifests.
    let list = format!("docker://{}/docker/list:v1", reg.host());
    run(Command::new("skopeo")
        .args([
            "copy",
            "-q",
            "--all",
            "--format",
            "v2s2",
            "--dest-tls-verify=false",
        ])
        .arg(format!("oci:{}:v1", multi.display()))
        .arg(&list));
    let (raw, v) = skopeo_raw(&list);
    assert_eq!(
        v["mediaType"],
        "application/vnd.docker.distribution.manifest.list.v2+json"
    );
    let back = work.join("back");
    let o = husk_reg(work)
        .args(["pull", &list, "--insecure-http", "-o"])
        .arg(format!("oci:{}:v1", back.display()))
        .output()
        .unwrap();
    assert_eq!(ok(&o, "husk pull of a manifest list"), sha256_hex(&raw));
    assert_eq!(index_raw_in_layout(&back, "v1"), raw);
    // Pushed back under another name: the same bytes, the manifest list type.
    let again = format!("docker://{}/docker/again:v1", reg.host());
    let o = husk_reg(work)
        .args([
            "push",
            &format!("oci:{}:v1", back.display()),
            &again,
            "--insecure-http",
        ])
        .output()
        .unwrap();
    assert_eq!(ok(&o, "husk push of a manifest list"), sha256_hex(&raw));
    let (raw2, v2) = skopeo_raw(&again);
    assert_eq!(raw2, raw);
    assert_eq!(v2["mediaType"], v["mediaType"]);
}

#[test]
fn a_failed_index_push_never_leaves_an_index_pointing_at_missing_manifests() {
    if !have_tools(&["docker-registry", "skopeo"]) {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let work = t.path();
    let reg = start_registry(false);
    let (multi, _, [amd_digest, arm_digest]) = build_index(work);
    let src = format!("oci:{}:v1", multi.display());
    let manifest_puts = |log: &[String]| {
        log.iter()
            .filter(|l| l.starts_with("PUT ") && l.contains("/manifests/"))
            .cloned()
            .collect::<Vec<_>>()
    };

    // Blob uploads break: nothing at all is PUT.
    let proxy = start_proxy(reg.port(), Fault::BreakUploads);
    let o = husk_reg(work)
        .args(["push", &src])
        .arg(format!("docker://127.0.0.1:{}/broken/app:v1", proxy.port))
        .args(["--insecure-http", "--retries", "2"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        manifest_puts(&proxy.log.lock().unwrap()),
        Vec::<String>::new()
    );

    // The second manifest PUT fails: the index is never PUT.
    let proxy = start_proxy(reg.port(), Fault::FailLaterManifests);
    let o = husk_reg(work)
        .args(["push", &src])
        .arg(format!("docker://127.0.0.1:{}/half/app:v1", proxy.port))
        .args(["--insecure-http", "--retries", "2"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    let puts = manifest_puts(&proxy.log.lock().unwrap());
    assert!(
        puts.iter().all(|p| p.contains("/manifests/sha256:")),
        "only child manifests were tried, never the tag: {puts:?}"
    );
    assert!(puts.iter().any(|p| p.contains(&amd_digest)), "{puts:?}");
    assert!(puts.iter().any(|p| p.contains(&arm_digest)), "{puts:?}");
    let sk = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{}/half/app:v1", reg.host()))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(
        !sk.status.success(),
        "the registry has the index after a failed push"
    );
}

// ---- progress on a terminal ----------------------------------------------------------

/// Run the shell command line `cmd` under `script`, which gives it a pseudo-terminal as
/// stdin, stdout and stderr; returns everything the terminal showed (CR removed). `ci`
/// is the CI variable to set, or none.
fn on_a_tty(work: &Path, cmd: &str, ci: Option<&str>) -> String {
    let mut c = Command::new("script");
    c.args(["-qec", cmd, "/dev/null"])
        .env("HUSK_CACHE_DIR", work)
        .env("REGISTRY_AUTH_FILE", work.join("auth.json"))
        .env("HOME", work)
        .env("TERM", "xterm")
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("DOCKER_CONFIG");
    match ci {
        Some(v) => c.env("CI", v),
        None => c.env_remove("CI"),
    };
    let out = run(&mut c);
    String::from_utf8_lossy(&out.stdout).replace('\r', "")
}

/// A finished progress bar as husk draws it.
fn has_bar(s: &str) -> bool {
    s.contains(&format!("[{}]", "=".repeat(30)))
}

#[test]
fn progress_bars_draw_on_a_terminal_and_nowhere_else() {
    if !have_tools(&["docker-registry", "script"]) {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let work = t.path();
    let reg = start_registry(false);
    let img = build_image(work);
    let husk_bin = env!("CARGO_BIN_EXE_husk");
    let src = format!("docker://{}/tty/img:1", reg.host());
    let layer = husk_formats::open_oci_dir(&img, None, &husk_oci::PlatformChoice::Only)
        .map(|i| {
            husk_oci::Image::manifest(&i).unwrap().layers[0]
                .digest
                .clone()
        })
        .unwrap();
    let short = &layer.to_string()["sha256:".len()..][..12];

    // Push and pull on a terminal: one bar per blob, on stderr.
    let out = on_a_tty(
        work,
        &format!(
            "{husk_bin} push oci:{} {src} --insecure-http",
            img.display()
        ),
        None,
    );
    assert!(
        has_bar(&out) && out.contains(&format!("pushed {short}")),
        "{out}"
    );
    let digest = out.lines().last().unwrap().trim().to_owned();
    assert!(digest.starts_with("sha256:"), "{out}");
    let pull = |dest: &str, extra: &str, ci: Option<&str>| {
        on_a_tty(
            work,
            &format!(
                "{husk_bin} pull {src} -o oci:{} --insecure-http {extra}",
                work.join(dest).display()
            ),
            ci,
        )
    };
    let out = pull("a", "", None);
    assert!(
        has_bar(&out) && out.contains(&format!("pulled {short}")),
        "{out}"
    );
    assert!(
        out.contains('\u{1b}'),
        "a terminal gets cursor movement: {out}"
    );

    // CI=true, --quiet: nothing but the info line and the data.
    let out = pull("b", "", Some("true"));
    assert!(!has_bar(&out) && !out.contains('\u{1b}'), "{out}");
    assert_eq!(out.lines().last().unwrap(), digest);
    let out = pull("c", "-q", None);
    assert_eq!(out.trim(), digest);
    // CI=false is not CI.
    assert!(has_bar(&pull("d", "", Some("false"))));

    // stderr not a terminal: no bars anywhere; the terminal shows only the data.
    let err = work.join("err.txt");
    let out = pull("e", &format!("2>{}", err.display()), None);
    assert_eq!(out.trim(), digest);
    let err_text = std::fs::read_to_string(&err).unwrap();
    assert!(
        !has_bar(&err_text) && !err_text.contains('\u{1b}'),
        "{err_text}"
    );
    assert!(err_text.contains("pulled docker://"), "{err_text}");
    // stdout not a terminal: it gets exactly the data; the bars stay on stderr.
    let data = work.join("data.txt");
    let out = pull("f", &format!(">{}", data.display()), None);
    assert!(has_bar(&out), "{out}");
    assert_eq!(
        std::fs::read_to_string(&data).unwrap(),
        format!("{digest}\n")
    );

    // Machine-readable output: no bars, so the terminal shows only the JSON.
    let out = on_a_tty(
        work,
        &format!("{husk_bin} inspect {src} --insecure-http --format json"),
        None,
    );
    assert!(!out.contains('\u{1b}'), "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert!(v.is_object());

    // Not a terminal at all (the test harness's pipes): no bars.
    let o = husk_reg(work)
        .args(["pull", &src, "--insecure-http", "-o"])
        .arg(format!("oci:{}", work.join("g").display()))
        .env_remove("CI")
        .output()
        .unwrap();
    assert_eq!(ok(&o, "husk pull"), digest);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!has_bar(&stderr) && !stderr.contains('\u{1b}'), "{stderr}");
}
