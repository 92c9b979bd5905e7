//! End-to-end with real third-party tools: podman loads and runs the images husk builds
//! (inside scratch, as the configured non-root uid, checked from the host's view of the
//! container process), skopeo inspects and copies them, umoci unpacks them.
//! Under CI (CI=true) a missing tool fails these tests.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

/// A unique image name per test, removed on drop.
/// A podman image name, removed at the end of the test; it holds the podman storage lock
/// for its whole life (each test here loads, runs and removes one image).
struct TestImage(
    String,
    #[allow(dead_code)] std::sync::MutexGuard<'static, ()>,
);

impl TestImage {
    fn new(tag: &str) -> TestImage {
        TestImage(
            format!("localhost/husk-e2e-{tag}-{}:1", std::process::id()),
            podman_storage(),
        )
    }
}

impl Drop for TestImage {
    fn drop(&mut self) {
        let _ = podman().args(["rmi", "-f", &self.0]).output();
    }
}

fn husk_build(cache: &Path, bin: &Path, args: &[&str]) {
    let o = husk(cache)
        .arg("build")
        .arg(bin)
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "husk build failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn podman_run(image: &str, args: &[&str]) -> String {
    let out = run(podman()
        .args(["run", "--rm", "--network=none", image])
        .args(args));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn dynamic_c_program_runs_in_podman_as_nonroot() {
    if !require("podman") || !require("gcc") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let bin = whoami_dynamic(t.path());
    let img = TestImage::new("dyn");
    let archive = t.path().join("img.tar");
    husk_build(
        t.path(),
        &bin,
        &[
            "--tag",
            &img.0,
            "-o",
            &format!("docker-archive:{}", archive.display()),
        ],
    );
    assert_valid(t.path(), &format!("docker-archive:{}", archive.display()));
    let loaded = run(podman().arg("load").arg("-i").arg(&archive));
    assert!(
        String::from_utf8_lossy(&loaded.stdout).contains(&img.0),
        "podman load did not name the image: {}",
        String::from_utf8_lossy(&loaded.stdout)
    );
    let out = podman_run(&img.0, &[]);
    assert_eq!(
        out,
        "uid=65532 gid=65532 name=nonroot\nca=yes\ntmp=writable\nssl_cert_file=/etc/ssl/certs/ca-certificates.crt\ngreet=hello from libgreet\n"
    );
    // The image is scratch: nothing but what husk put there (no shell to exec).
    let sh = podman()
        .args([
            "run",
            "--rm",
            "--network=none",
            "--entrypoint",
            "/bin/sh",
            &img.0,
        ])
        .output()
        .unwrap();
    assert!(!sh.status.success());
}

#[test]
fn static_program_via_load_runs_as_configured_uid_seen_from_host() {
    if !require("podman") || !require("gcc") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let bin = whoami_static(t.path());
    let img = TestImage::new("static");
    husk_build(
        t.path(),
        &bin,
        &["--user", "1000:1000", "--tag", &img.0, "--load", "podman"],
    );
    assert_eq!(
        podman_run(&img.0, &[]),
        "uid=1000 gid=1000 name=app\nca=yes\ntmp=writable\nssl_cert_file=/etc/ssl/certs/ca-certificates.crt\n"
    );
    // The host's view of the container process: its real uid is 1000, not root.
    let name = format!("husk-e2e-uid-{}", std::process::id());
    run(podman().args([
        "run",
        "-d",
        "--rm",
        "--network=none",
        "--name",
        &name,
        &img.0,
        "sleep",
    ]));
    let pid = String::from_utf8(
        run(podman().args(["inspect", "--format", "{{.State.Pid}}", &name])).stdout,
    )
    .unwrap();
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid.trim())).unwrap();
    let _ = podman().args(["rm", "-f", "-t", "0", &name]).output();
    let uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    let uids: Vec<&str> = uid_line.split_whitespace().skip(1).collect();
    assert_eq!(uids, ["1000", "1000", "1000", "1000"], "{uid_line}");
}

/// `--load podman` alone compresses nothing: every layer blob husk wrote is its own tar
/// (blob digest == diff_id, as podman lists the layers), and the summary says why.
#[test]
fn load_only_build_writes_uncompressed_layers() {
    if !require("podman") || !require("gcc") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let bin = whoami_static(t.path());
    let img = TestImage::new("loadonly");
    let o = husk(t.path())
        .arg("build")
        .arg(&bin)
        .args(["--tag", &img.0, "--load", "podman", "--format", "json"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("layers left uncompressed"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let blobs: Vec<String> = summary["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["digest"].as_str().unwrap().to_owned())
        .collect();
    let inspect = run(podman().args([
        "image",
        "inspect",
        "--format",
        "{{json .RootFS.Layers}}",
        &img.0,
    ]));
    let diff_ids: Vec<String> = serde_json::from_slice(&inspect.stdout).unwrap();
    assert!(!blobs.is_empty());
    assert_eq!(blobs, diff_ids, "a layer blob is not its uncompressed tar");
    assert_eq!(
        summary["compressed_size"].as_u64().unwrap() % 512,
        0,
        "tar sizes are whole 512-byte blocks"
    );
}

#[test]
fn system_binary_runs_and_podman_save_round_trips() {
    if !require("podman") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let img = TestImage::new("ls");
    let archive = t.path().join("img.tar");
    husk_build(
        t.path(),
        Path::new("/usr/bin/ls"),
        &[
            "--tag",
            &img.0,
            "-o",
            &format!("oci-archive:{}", archive.display()),
        ],
    );
    run(podman().arg("load").arg("-i").arg(&archive));
    let out = podman_run(&img.0, &["-n", "-d", "/tmp", "/home/nonroot"]);
    assert!(out.contains("drwxrwxrwt") || out.contains("/tmp"), "{out}");
    let listing = podman_run(&img.0, &["-ln", "/home"]);
    assert!(listing.contains("65532 65532"), "{listing}");
    // An image written by podman (not by husk) reads and validates.
    let saved = t.path().join("saved.tar");
    run(podman()
        .args(["save", "--format", "oci-archive", "-o"])
        .arg(&saved)
        .arg(&img.0));
    assert_valid(t.path(), &format!("oci-archive:{}", saved.display()));
    let saved_docker = t.path().join("saved-docker.tar");
    run(podman()
        .args(["save", "--format", "docker-archive", "-o"])
        .arg(&saved_docker)
        .arg(&img.0));
    assert_valid(
        t.path(),
        &format!("docker-archive:{}", saved_docker.display()),
    );
    assert_valid(t.path(), &format!("podman:{}", img.0));
}

#[test]
fn skopeo_and_umoci_accept_the_layout() {
    if !require("skopeo") || !require("umoci") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("layout");
    husk_build(
        t.path(),
        Path::new("/usr/bin/ls"),
        &["--tag", "ls:1", "-o", &format!("oci:{}", out.display())],
    );
    let inspect = run(Command::new("skopeo")
        .arg("inspect")
        .arg(format!("oci:{}:ls:1", out.display())));
    let j: serde_json::Value = serde_json::from_slice(&inspect.stdout).unwrap();
    assert_eq!(j["Architecture"], "amd64");
    assert_eq!(j["Layers"].as_array().unwrap().len(), 3);
    // skopeo copies it (verifying every blob) to a fresh archive that husk validates.
    let copy = t.path().join("copy.tar");
    run(Command::new("skopeo")
        .arg("copy")
        .arg(format!("oci:{}:ls:1", out.display()))
        .arg(format!("oci-archive:{}", copy.display())));
    assert_valid(t.path(), &format!("oci-archive:{}", copy.display()));
    // umoci unpacks it into a runtime bundle with the expected files and owners.
    let bundle = t.path().join("bundle");
    run(Command::new("umoci")
        .args(["unpack", "--image"])
        .arg(format!("{}:ls:1", out.display()))
        .arg(&bundle));
    let rootfs = bundle.join("rootfs");
    assert!(rootfs.join("app/ls").is_file());
    assert!(rootfs.join("etc/passwd").is_file());
    use std::os::unix::fs::MetadataExt;
    let home = std::fs::metadata(rootfs.join("home/nonroot")).unwrap();
    assert_eq!((home.uid(), home.gid()), (65532, 65532));
    let tmp = std::fs::metadata(rootfs.join("tmp")).unwrap();
    assert_eq!(tmp.mode() & 0o7777, 0o1777);
}
