//! `husk build --trace` end to end: real programs (python3, perl, git, nginx, jq, sqlite3,
//! ImageMagick, node) built with `husk build PROGRAM --trace -- ARGS` and defaults
//! otherwise, run FROM scratch in podman as the non-root user with a read-only root, no
//! capabilities and (but for nginx) no network, print what they print on the host. And
//! `--check` catches an image that does not run. Each case runs podman once.
//! Under CI (CI=true) a missing program fails these tests (scripts/test.sh installs them).
//!
//! Fixtures live under the target directory, not /tmp: podman mounts a tmpfs on /tmp of a
//! read-only container, which would hide a traced file there.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

/// A unique podman image name per test, removed on drop.
struct TestImage(String);

impl TestImage {
    fn new(tag: &str) -> TestImage {
        TestImage(format!(
            "localhost/husk-trace-{tag}-{}:1",
            std::process::id()
        ))
    }
}

impl Drop for TestImage {
    fn drop(&mut self) {
        let _storage = podman_storage();
        let _ = podman().args(["rmi", "-f", &self.0]).output();
    }
}

/// A fresh directory outside /tmp (see the header).
fn workdir() -> tempfile::TempDir {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap()
}

/// `husk build PROGRAM --trace --load podman --tag IMG --format json [extra] -- ARGS`;
/// returns the JSON summary.
fn build_traced(
    cache: &Path,
    img: &TestImage,
    program: &str,
    extra: &[&str],
    args: &[&str],
) -> serde_json::Value {
    let storage = podman_storage();
    let o = husk(cache)
        .args([
            "build", program, "--trace", "--load", "podman", "--format", "json",
        ])
        .args(["--tag", &img.0])
        .args(extra)
        .arg("--")
        .args(args)
        .output()
        .unwrap();
    drop(storage);
    assert!(
        o.status.success(),
        "husk build {program} --trace failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

/// `podman run --rm --read-only --cap-drop=ALL --network=none --user 65532:65532 IMG`.
fn run_locked_down(img: &TestImage, args: &[&str]) -> Output {
    let o = podman()
        .args([
            "run",
            "--rm",
            "--read-only",
            "--cap-drop=ALL",
            "--network=none",
        ])
        .args(["--user", "65532:65532", &img.0])
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "the image {} failed in podman:\n{}\n{}",
        img.0,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const PY_APP: &str = r#"import json, sqlite3, ssl, hashlib
db = sqlite3.connect(":memory:")
db.execute("create table t(x)")
db.execute("insert into t values (42)")
ctx = ssl.create_default_context()
print(json.dumps({"sha": hashlib.sha256(b"husk").hexdigest()[:12],
                  "row": db.execute("select x from t").fetchone()[0],
                  "tls": ctx.verify_mode == ssl.CERT_REQUIRED}))
"#;
const PY_EXPECTED: &str = "{\"sha\": \"c8b1f4b76229\", \"row\": 42, \"tls\": true}\n";

fn python_ready() -> bool {
    require("podman") && require_path("/usr/bin/python3", "python3")
}

#[test]
fn python3_script_with_json_sqlite3_ssl_hashlib() {
    if !python_ready() {
        return;
    }
    let t = workdir();
    let app = write(t.path(), "app.py", PY_APP);
    let report = t.path().join("report.json");
    let img = TestImage::new("python");
    let oci = t.path().join("img");
    let summary = build_traced(
        t.path(),
        &img,
        "/usr/bin/python3",
        &[
            "--output",
            &format!("oci:{}", oci.display()),
            "--trace-report",
            report.to_str().unwrap(),
        ],
        &[app.to_str().unwrap()],
    );
    let host = run(Command::new("/usr/bin/python3").arg(&app));
    assert_eq!(stdout(&host), PY_EXPECTED, "the fixture's own output");
    assert_eq!(stdout(&run_locked_down(&img, &[])), PY_EXPECTED);

    // Nothing private came along: no file under /etc/ssh, /root, /home, no key.
    for entry in layers(&oci).iter().flatten() {
        let p = format!(
            "/{}",
            entry.path.trim_start_matches("./").trim_end_matches('/')
        );
        let private = ["/etc/ssh/", "/root/", "/home/"]
            .iter()
            .any(|d| p.starts_with(d))
            && entry.kind != 'd';
        assert!(!private, "{p} is in the traced image");
        assert!(!p.ends_with(".key") && !p.contains("/private/"), "{p}");
    }
    // The summary and the report say what the trace did.
    let trace = &summary["trace"];
    assert!(trace["added"].as_u64().unwrap() > 20, "{trace}");
    assert!(
        trace["added_per_top"]["/usr"].as_u64().unwrap() > 20,
        "{trace}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let added = report["added"].as_array().unwrap();
    let json_init = added
        .iter()
        .find(|a| a["path"].as_str().unwrap().ends_with("json/__init__.py"))
        .expect("json/__init__.py in the report");
    assert!(json_init["pid"].as_u64().unwrap() > 0 && json_init["syscall"].is_string());
    assert!(added.iter().any(|a| a["path"] == app.to_str().unwrap()));

    // The trace takes a small part of the standard library: at most a third of the host's
    // /usr/lib/python3.11 (measured in uncompressed bytes of regular files, so the bound
    // does not depend on what else the host has installed beside it), and the image is
    // smaller than one that copies the whole tree.
    let stdlib = Path::new("/usr/lib/python3.11");
    let in_image: u64 = layers(&oci)
        .iter()
        .flatten()
        .filter(|e| {
            e.kind == 'f'
                && e.path
                    .trim_start_matches("./")
                    .starts_with("usr/lib/python3.11/")
        })
        .map(|e| e.size)
        .sum();
    let on_host = tree_bytes(stdlib);
    assert!(
        in_image > 0 && in_image * 3 <= on_host,
        "traced {in_image} bytes of {} ({on_host} bytes on the host)",
        stdlib.display()
    );
    let whole = husk(t.path())
        .args(["build", "/usr/bin/python3", "--format", "json"])
        .args(["--file", "/usr/lib/python3.11:/usr/lib/python3.11"])
        .arg("-o")
        .arg(format!("oci:{}", t.path().join("whole").display()))
        .output()
        .unwrap();
    assert!(
        whole.status.success(),
        "{}",
        String::from_utf8_lossy(&whole.stderr)
    );
    let whole: serde_json::Value = serde_json::from_slice(&whole.stdout).unwrap();
    let (traced, full) = (
        summary["compressed_size"].as_u64().unwrap(),
        whole["compressed_size"].as_u64().unwrap(),
    );
    assert!(
        traced < full,
        "traced image {traced} bytes vs whole stdlib {full} bytes"
    );
}

/// The bytes of the regular files under `dir` (symlinks not followed).
fn tree_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => tree_bytes(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}

#[test]
fn check_passes_for_a_traced_image_and_catches_an_untraced_one() {
    if !python_ready() {
        return;
    }
    let t = workdir();
    let out = |name: &str| format!("oci:{}", t.path().join(name).display());
    let ok = husk(t.path())
        .args([
            "build",
            "/usr/bin/python3",
            "--trace",
            "--check",
            "-o",
            &out("good"),
        ])
        .args([
            "--trace-run",
            "-c 'import hashlib; print(hashlib.md5(b\"\").hexdigest())'",
        ])
        .args(["--", "-c", "print(6 * 7)"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&ok.stderr);
    assert!(ok.status.success(), "{err}");
    assert!(err.contains("check: 2 run(s) in podman"), "{err}");

    let bad = husk(t.path())
        .args(["build", "/usr/bin/python3", "--check", "-o", &out("bad")])
        .args(["--", "-c", "print(6 * 7)"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success(), "{err}");
    assert!(
        err.contains("on the host: exit 0") && err.contains("stdout: 42"),
        "{err}"
    );
    assert!(err.contains("in the image: exit"), "{err}");
    // python3's own complaint, from the image's stderr.
    assert!(err.contains("platform independent libraries"), "{err}");
}

#[test]
fn perl_script_with_json_pp_and_digest_sha() {
    if !require("podman") || !require_path("/usr/bin/perl", "perl") {
        return;
    }
    let t = workdir();
    let app = write(
        t.path(),
        "app.pl",
        "use strict; use JSON::PP; use Digest::SHA qw(sha256_hex);\n\
         print JSON::PP->new->canonical->encode({sha => substr(sha256_hex('husk'), 0, 12), n => [1,2]}), \"\\n\";\n",
    );
    let img = TestImage::new("perl");
    build_traced(
        t.path(),
        &img,
        "/usr/bin/perl",
        &[],
        &[app.to_str().unwrap()],
    );
    assert_eq!(
        stdout(&run_locked_down(&img, &[])),
        "{\"n\":[1,2],\"sha\":\"c8b1f4b76229\"}\n"
    );
}

#[test]
fn git_init_commit_log_from_a_shell_script() {
    if !require("podman") || !require_path("/usr/bin/git", "git") {
        return;
    }
    let t = workdir();
    let script = write(
        t.path(),
        "git.sh",
        "set -e\ncd \"$(mktemp -d)\"\n\
         g() { /usr/bin/git -c user.name=husk -c user.email=husk@example.com -c init.defaultBranch=main \"$@\"; }\n\
         g init -q\necho hello > greeting.txt\ng add greeting.txt\n\
         g commit -q -m 'first commit'\ng log --format=%s\ng ls-files\n",
    );
    let img = TestImage::new("git");
    build_traced(t.path(), &img, "/bin/sh", &[], &[script.to_str().unwrap()]);
    assert_eq!(
        stdout(&run_locked_down(&img, &[])),
        "first commit\ngreeting.txt\n"
    );
}

#[test]
fn jq_runs_a_filter() {
    if !require("podman") || !require_path("/usr/bin/jq", "jq") {
        return;
    }
    let t = workdir();
    let img = TestImage::new("jq");
    build_traced(
        t.path(),
        &img,
        "/usr/bin/jq",
        &[],
        &["-nc", "[1,2,3] | {sum: add, n: length}"],
    );
    assert_eq!(stdout(&run_locked_down(&img, &[])), "{\"sum\":6,\"n\":3}\n");
}

#[test]
fn sqlite3_cli() {
    if !require("podman") || !require_path("/usr/bin/sqlite3", "sqlite3") {
        return;
    }
    let t = workdir();
    let img = TestImage::new("sqlite3");
    build_traced(
        t.path(),
        &img,
        "/usr/bin/sqlite3",
        &[],
        &[
            ":memory:",
            "create table t(x); insert into t values (6),(7); select x*7 from t;",
        ],
    );
    assert_eq!(stdout(&run_locked_down(&img, &[])), "42\n49\n");
}

#[test]
fn imagemagick_converts_png_to_jpeg_with_dlopened_coders() {
    if !require("podman") || !require_path("/usr/bin/convert-im6.q16", "imagemagick") {
        return;
    }
    let t = workdir();
    let png = t.path().join("in.png");
    run(Command::new("/usr/bin/convert-im6.q16")
        .args(["-size", "8x8", "xc:red"])
        .arg(&png));
    let img = TestImage::new("convert");
    build_traced(
        t.path(),
        &img,
        "/usr/bin/convert",
        &[],
        &[png.to_str().unwrap(), "jpg:-"],
    );
    let o = run_locked_down(&img, &[]);
    assert!(
        o.stdout.starts_with(&[0xff, 0xd8, 0xff]) && o.stdout.len() > 100,
        "not a JPEG: {} bytes; stderr {}",
        o.stdout.len(),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn node_script_with_crypto_and_fs() {
    if !require("podman") || !require_path("/usr/bin/node", "nodejs") {
        return;
    }
    let t = workdir();
    let app = write(
        t.path(),
        "app.js",
        "const crypto = require('crypto'); const fs = require('fs');\n\
         const me = fs.readFileSync(__filename, 'utf8');\n\
         console.log(crypto.createHash('sha256').update('husk').digest('hex').slice(0, 12),\n\
                     me.includes('createHash'), fs.readdirSync(__dirname).includes('app.js'));\n",
    );
    let img = TestImage::new("node");
    build_traced(
        t.path(),
        &img,
        "/usr/bin/node",
        &[],
        &[app.to_str().unwrap()],
    );
    assert_eq!(
        stdout(&run_locked_down(&img, &[])),
        "c8b1f4b76229 true true\n"
    );
}

/// A free TCP port on 127.0.0.1 (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn nginx_serves_a_static_file_as_non_root() {
    if !require("podman") || !require("curl") || !require_path("/usr/sbin/nginx", "nginx-light") {
        return;
    }
    // Not under /tmp (nor /var/tmp, /run): `podman run --read-only` mounts a tmpfs there,
    // which would hide the config and the site at run time. The checkout, and so
    // CARGO_TARGET_TMPDIR, may itself live under /tmp.
    std::fs::create_dir_all("/srv").unwrap();
    let t = tempfile::Builder::new()
        .prefix("husk-nginx-")
        .tempdir_in("/srv")
        .unwrap();
    let root = t.path().join("www");
    std::fs::create_dir(&root).unwrap();
    write(&root, "index.html", "hello from a traced nginx\n");
    let conf = write(
        t.path(),
        "nginx.conf",
        &format!(
            "worker_processes 1;\npid /tmp/nginx.pid;\nerror_log stderr;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n  include /etc/nginx/mime.types;\n  access_log off;\n\
               client_body_temp_path /tmp/body; proxy_temp_path /tmp/proxy;\n\
               fastcgi_temp_path /tmp/fastcgi; uwsgi_temp_path /tmp/uwsgi; scgi_temp_path /tmp/scgi;\n\
               server {{ listen 8080; root {}; }}\n}}\n",
            root.display()
        ),
    );
    let (c, r) = (conf.display().to_string(), root.display().to_string());
    let mut extra = vec![
        "--trace-timeout".to_string(),
        "2s".into(),
        "--file".into(),
        format!("{c}:{c}"),
        "--file".into(),
        format!("{r}:{r}"),
        "--expose".into(),
        "8080".into(),
    ];
    // The traced run binds 8080 on the host; when something else holds it, nginx stops
    // after reading everything it needs but the socket, which is still a fine trace.
    if std::net::TcpListener::bind("0.0.0.0:8080").is_err() {
        extra.push("--trace-allow-failure".into());
    }
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let img = TestImage::new("nginx");
    let args = ["-e", "stderr", "-c", &c, "-g", "daemon off;"];
    build_traced(t.path(), &img, "/usr/sbin/nginx", &extra, &args);
    // The traced run on the host made its temp directories; leave no trace of them.
    for d in ["body", "proxy", "fastcgi", "uwsgi", "scgi"] {
        let _ = std::fs::remove_dir(Path::new("/tmp").join(d));
    }
    let port = free_port();
    let name = format!("husk-trace-nginx-{}", std::process::id());
    let started = run(podman()
        .args([
            "run",
            "-d",
            "--rm",
            "--name",
            &name,
            "--read-only",
            "--cap-drop=ALL",
        ])
        .args([
            "--user",
            "65532:65532",
            "-p",
            &format!("127.0.0.1:{port}:8080"),
            &img.0,
        ]));
    let _stop = Stop(name);
    let url = format!("http://127.0.0.1:{port}/index.html");
    let mut body = String::new();
    for _ in 0..50 {
        let o = Command::new("curl")
            .args(["-fsS", "--max-time", "2", &url])
            .output()
            .unwrap();
        if o.status.success() {
            body = stdout(&o);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(
        body,
        "hello from a traced nginx\n",
        "container {}",
        stdout(&started)
    );
}

/// Stops (and so removes) a detached container on drop.
struct Stop(String);

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = podman().args(["rm", "-f", "-t", "1", &self.0]).output();
    }
}

/// Entry paths of every layer of the OCI layout at `dir`, absolute.
fn image_paths(dir: &Path) -> Vec<String> {
    layers(dir)
        .iter()
        .flatten()
        .map(|e| format!("/{}", e.path.trim_start_matches("./").trim_end_matches('/')))
        .collect()
}

#[test]
fn secrets_system_trees_and_created_files_stay_out_unless_included() {
    let t = workdir();
    let d = t.path();
    write(d, ".env", "TOKEN=hunter2\n");
    write(d, "server.key", "not really a key\n");
    write(d, "data.txt", "data\n");
    let script = write(
        d,
        "app.sh",
        "cat \"$1/.env\" \"$1/server.key\" \"$1/data.txt\" /proc/self/status > /dev/null\n\
         echo made > \"$1/created.txt\"\necho ok\n",
    );
    let (s, dir) = (script.to_str().unwrap(), d.to_str().unwrap());
    let report = d.join("r.json");
    let build = |out: &str, extra: &[&str]| {
        husk(d)
            .args(["build", "/bin/sh", "--trace", "--format", "json", "-o"])
            .arg(format!("oci:{}", d.join(out).display()))
            .args(["--trace-report", report.to_str().unwrap()])
            .args(extra)
            .args(["--", s, dir])
            .output()
            .unwrap()
    };
    let o = build("img", &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let paths = image_paths(&d.join("img"));
    assert!(paths.contains(&format!("{dir}/data.txt")), "{paths:?}");
    assert!(paths.contains(&s.to_string()), "{paths:?}");
    for absent in [".env", "server.key", "created.txt"] {
        assert!(
            !paths.contains(&format!("{dir}/{absent}")),
            "{absent} in {paths:?}"
        );
    }
    assert!(!paths.iter().any(|p| p.starts_with("/proc")), "{paths:?}");
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let skipped = &summary["trace"]["skipped_per_reason"];
    assert_eq!(skipped["secret"], 2, "{skipped}");
    assert!(skipped["created"].as_u64().unwrap() >= 1, "{skipped}");
    assert!(skipped["system-tree"].as_u64().unwrap() >= 1, "{skipped}");
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(
        r["skipped"][format!("{dir}/.env")]["reason"],
        "secret",
        "{r}"
    );

    // --trace-include names one exception; --trace-exclude drops a tree.
    let inc = format!("{dir}/.env");
    let o = build(
        "inc",
        &["--trace-include", &inc, "--trace-exclude", "/usr/share"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let paths = image_paths(&d.join("inc"));
    assert!(paths.contains(&inc) && !paths.contains(&format!("{dir}/server.key")));
}

#[test]
fn a_failing_traced_run_is_an_error_with_its_stderr_unless_allowed() {
    let t = workdir();
    let out = |n: &str| format!("oci:{}", t.path().join(n).display());
    let fail = |extra: &[&str], name: &str| {
        husk(t.path())
            .args(["build", "/bin/sh", "--trace", "-o", &out(name)])
            .args(extra)
            .args(["--", "-c", "echo broken-config >&2; exit 3"])
            .output()
            .unwrap()
    };
    let o = fail(&[], "a");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("exit code 3") && err.contains("broken-config"),
        "{err}"
    );
    assert!(err.contains("--trace-allow-failure"), "{err}");
    assert!(!t.path().join("a").exists());
    let o = fail(&["--trace-allow-failure"], "b");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Bad trace options name themselves before anything runs.
    for (flag, value) in [
        ("--trace-timeout", "forever"),
        ("--trace-run", "'unclosed"),
        ("--trace-exclude", "relative/dir"),
    ] {
        let o = husk(t.path())
            .args(["build", "/bin/sh", "--trace", "-o", &out("c"), flag, value])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{flag}: {err}");
        assert!(err.contains(flag), "{flag}: {err}");
    }
}
