//! husk explore commands on images nobody here wrote (podman build from FROM-scratch
//! Containerfiles, saved as docker-archive and oci-archive) and on husk-built images:
//! ls, cat, tree, layers, diff, export, cp, inspect and debug, with podman as the oracle
//! where it has one. CLI output is snapshotted with digests, sizes and temp paths filtered.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use common::*;

/// Run husk, require success, return stdout.
fn ok(dir: &Path, args: &[&str]) -> String {
    let r = husk_run(dir, args);
    assert_eq!(r.code, 0, "husk {args:?} failed:\n{}{}", r.stdout, r.stderr);
    r.stdout
}

fn snapshot(name: &str, dir: &Path, text: &str) {
    snapshot_settings(dir, &[(r"sha256:[0-9a-f]{12}", "sha256:[SHORT]")]).bind(|| {
        let mut s = insta::Settings::clone_current();
        s.add_filter(r"(?m)^(\S{10} +\d+:\d+ +)\d+", "$1[N]");
        s.bind(|| insta::assert_snapshot!(name, text));
    });
}

const CONTAINERFILE: &str = r#"FROM scratch
COPY busybox /bin/busybox
COPY files/ /data/
RUN ["/bin/busybox", "rm", "/data/x"]
RUN ["/bin/busybox", "rm", "-r", "/data/sub"]
RUN ["/bin/busybox", "mkdir", "/data/sub"]
ENV GREETING=hi
CMD ["/bin/busybox", "cat", "/data/hello.txt"]
"#;

/// Build the Containerfile above with podman and save it in both archive formats.
fn podman_image(dir: &Path, tag: &str) -> (String, String) {
    std::fs::copy("/bin/busybox", dir.join("busybox")).unwrap();
    std::fs::create_dir_all(dir.join("files/sub")).unwrap();
    std::fs::write(dir.join("files/hello.txt"), "hello\n").unwrap();
    std::fs::write(dir.join("files/sub/bye.txt"), "bye\n").unwrap();
    std::fs::write(dir.join("files/x"), "x\n").unwrap();
    std::fs::write(dir.join("Containerfile"), CONTAINERFILE).unwrap();
    let _storage = podman_storage();
    run(podman()
        .current_dir(dir)
        .args(["build", "--no-cache", "-q", "-t", tag, "."]));
    let docker = dir.join("docker.tar");
    let oci = dir.join("oci.tar");
    run(podman()
        .args(["save", "--format", "docker-archive", "-o"])
        .arg(&docker)
        .arg(tag));
    run(podman()
        .args(["save", "--format", "oci-archive", "-o"])
        .arg(&oci)
        .arg(tag));
    (
        format!("docker-archive:{}", docker.display()),
        format!("oci-archive:{}", oci.display()),
    )
}

/// Regular files and symlinks under `prefix` in a tar listing (`tar -tf`), sorted.
fn tar_list(tar: &Path, prefix: &str) -> Vec<String> {
    let out = run(Command::new("tar").arg("-tf").arg(tar));
    let mut v: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| format!("/{}", l.trim_start_matches("./").trim_end_matches('/')))
        .filter(|l| l.starts_with(prefix))
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn podman_built_images_with_real_whiteouts_in_both_archive_formats() {
    if !require("podman") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let tag = format!("localhost/husk-explore-e2e:{}", std::process::id());
    let (docker, oci) = podman_image(d, &tag);
    // The oracle: podman's own flattened filesystem of a container from the image.
    let cid = String::from_utf8(run(podman().args(["create", &tag])).stdout).unwrap();
    let cid = cid.trim();
    let podman_tar = d.join("podman-export.tar");
    run(podman().args(["export", "-o"]).arg(&podman_tar).arg(cid));
    run(podman().args(["rm", cid]));
    let want = tar_list(&podman_tar, "/data");
    assert_eq!(want, ["/data", "/data/hello.txt", "/data/sub"]);

    for image in [&docker, &oci] {
        let ls = ok(d, &["ls", "-R", image, "/data"]);
        assert_eq!(ls, "/data/hello.txt\n/data/sub/\n", "{image}");
        assert_eq!(ok(d, &["cat", image, "/data/hello.txt"]), "hello\n");
        // The whiteout is visible in its own layer only.
        let l2 = ok(d, &["ls", "-R", "--layer", "2", image]);
        assert!(l2.contains("/data/.wh.x"), "{l2}");
        let l3 = ok(d, &["ls", "-R", "--layer", "3", image]);
        assert!(l3.contains("/data/.wh.sub"), "{l3}");
        // export as a tar and as a directory match podman export under /data.
        let name = if image == &docker { "d" } else { "o" };
        let flat = d.join(format!("{name}.tar"));
        ok(d, &["export", image, flat.to_str().unwrap()]);
        assert_eq!(tar_list(&flat, "/data"), want, "{image}");
        let dir = d.join(format!("{name}-dir"));
        ok(d, &["export", image, dir.to_str().unwrap()]);
        assert_eq!(
            std::fs::read_to_string(dir.join("data/hello.txt")).unwrap(),
            "hello\n"
        );
        assert!(!dir.join("data/x").exists());
        assert_eq!(std::fs::read_dir(dir.join("data/sub")).unwrap().count(), 0);
        assert_eq!(
            std::fs::read(dir.join("bin/busybox")).unwrap(),
            std::fs::read("/bin/busybox").unwrap()
        );
        // Efficiency: the 6 bytes of /data/x and /data/sub/bye.txt are wasted in layer 1.
        let layers: serde_json::Value =
            serde_json::from_str(&ok(d, &["layers", "--format", "json", image])).unwrap();
        assert_eq!(layers["layers"].as_array().unwrap().len(), 5);
        assert_eq!(layers["layers"][1]["wasted_bytes"], 6);
        assert_eq!(layers["wasted_bytes"], 6);
        // Per-layer changes: what each RUN removed and added, with sizes.
        let paths = |layer: usize, kind: &str| -> Vec<(String, u64)> {
            layers["layers"][layer]["changes"][kind]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    let path = p["path"].as_str().unwrap().to_owned();
                    (path, p["size"].as_u64().unwrap())
                })
                .collect()
        };
        assert!(paths(1, "added").contains(&("/data/hello.txt".into(), 6)));
        assert_eq!(paths(2, "removed"), [("/data/x".into(), 2)], "{image}");
        assert_eq!(
            paths(3, "removed"),
            [("/data/sub".into(), 0), ("/data/sub/bye.txt".into(), 4)]
        );
        assert_eq!(paths(4, "added"), [("/data/sub".into(), 0)]);
        assert_eq!(
            layers["layers"][4]["changes"]["removed"],
            serde_json::json!([])
        );
        let inspect: serde_json::Value =
            serde_json::from_str(&ok(d, &["inspect", "--format", "json", image])).unwrap();
        assert!(
            inspect["env"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e == "GREETING=hi")
        );
        assert_eq!(inspect["cmd"][2], "/data/hello.txt");
        assert!(
            inspect["layers"][2]["created_by"]
                .as_str()
                .unwrap()
                .contains("rm")
        );
    }
    // Both archives hold the same filesystem and config.
    let r = husk_run(d, &["diff", &docker, &oci]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.stdout, "");
    let _storage = podman_storage();
    let _ = podman().args(["rmi", &tag]).output();
}

#[test]
fn husk_built_images_explore_diff_and_debug() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    ok(d, &["build", "/usr/bin/ls", "-o", "oci:a", "--env", "A=1"]);
    ok(
        d,
        &[
            "build",
            "/usr/bin/ls",
            "-o",
            "oci:b",
            "--env",
            "A=2",
            "--file",
            "/etc/hostname:/etc/extra",
        ],
    );
    let ls = ok(d, &["ls", "-R", "oci:a"]);
    assert!(
        ls.contains("/app/ls\n") && ls.contains("/etc/passwd\n"),
        "{ls}"
    );
    let bin = husk(&d.join("cache"))
        .current_dir(d)
        .args(["cat", "oci:a", "/app/ls"])
        .output()
        .unwrap();
    assert_eq!(bin.stdout, std::fs::read("/usr/bin/ls").unwrap());
    // cp: a file into a directory, a directory through a symlink (/lib -> usr/lib).
    std::fs::create_dir(d.join("cpdir")).unwrap();
    ok(d, &["cp", "oci:a", "/etc/passwd", "cpdir"]);
    assert!(
        std::fs::read_to_string(d.join("cpdir/passwd"))
            .unwrap()
            .contains("nonroot")
    );
    ok(d, &["cp", "oci:a", "/lib", "libs"]);
    assert!(d.join("libs/x86_64-linux-gnu/libc.so.6").exists());
    let r = husk_run(d, &["cp", "oci:a", "/etc", "cpdir"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--force"), "{}", r.stderr);
    // diff: the extra file and the changed env, exit 1.
    let r = husk_run(d, &["diff", "oci:a", "oci:b"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("A /etc/extra (file)"), "{}", r.stdout);
    assert!(
        r.stdout.contains("C config.Env[2]: \"A=1\" -> \"A=2\""),
        "{}",
        r.stdout
    );
    // debug: the original untouched, one more layer, runnable shell when podman is here.
    let before = ok(d, &["inspect", "oci:a"]);
    let out = ok(d, &["debug", "oci:a", "-o", "oci:dbg"]);
    assert!(
        out.starts_with("podman run --rm -it --entrypoint /.husk/bin/sh"),
        "{out}"
    );
    assert_eq!(ok(d, &["inspect", "oci:a"]), before);
    let tools = ok(d, &["ls", "oci:dbg", "/.husk/bin"]);
    assert!(
        tools.contains("busybox\n") && tools.contains("sh\n"),
        "{tools}"
    );
    assert_valid(
        &d.join("cache"),
        &format!("oci:{}", d.join("dbg").display()),
    );
    let a_layers = ok(d, &["layers", "--format", "json", "oci:a"]);
    let dbg_layers = ok(d, &["layers", "--format", "json", "oci:dbg"]);
    let n = |s: &str| {
        serde_json::from_str::<serde_json::Value>(s).unwrap()["layers"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(n(&dbg_layers), n(&a_layers) + 1);
    if require("podman") {
        // Running from an OCI layout stores the image in podman's storage first.
        let _storage = podman_storage();
        let o = run(podman().current_dir(d).args([
            "run",
            "--rm",
            "--entrypoint",
            "/.husk/bin/sh",
            "oci:dbg",
            "-c",
            "/.husk/bin/ls /app",
        ]));
        assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "ls");
    }
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    ok(
        d,
        &[
            "build",
            "/usr/bin/ls",
            "-o",
            "oci:big",
            "--no-libraries",
            "--file",
            "/usr/share/perl:/perl/",
            "--compression",
            "zstd",
        ],
    );
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("husk"))
        .current_dir(d)
        .args(["ls", "-R", "oci:big"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader (and the pipe) is dropped here, like `| head -1`.
    let out = child.wait_with_output().unwrap();
    assert_eq!(first, "/app/\n");
    assert!(out.status.success(), "{:?}", out.status);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn cli_output_snapshots() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    std::fs::create_dir_all(d.join("files/sub")).unwrap();
    std::fs::write(d.join("files/a.txt"), "a\n").unwrap();
    std::fs::write(d.join("files/sub/\u{1b}[31mred"), "escaped name\n").unwrap();
    ok(
        d,
        &[
            "build",
            "/bin/busybox",
            "-o",
            "oci:img",
            "--file",
            "files:/data/",
            "--expose",
            "8080",
            "--label",
            "org.example=1",
            "--stop-signal",
            "SIGINT",
            "--cmd",
            "sh",
        ],
    );
    let cases: &[(&str, &[&str])] = &[
        ("inspect", &["inspect", "oci:img"]),
        ("ls_long", &["ls", "-l", "oci:img"]),
        ("ls_recursive_data", &["ls", "-R", "oci:img", "/data"]),
        ("tree", &["tree", "oci:img"]),
        ("layers", &["layers", "oci:img"]),
        ("cat_missing", &["cat", "oci:img", "/nope"]),
        ("cat_directory", &["cat", "oci:img", "/data"]),
        ("ls_no_such_layer", &["ls", "--layer", "9", "oci:img"]),
        ("ls_bad_path", &["ls", "oci:img", "/a/../b"]),
        (
            "limit_entries",
            &["ls", "-R", "--max-entries", "3", "oci:img"],
        ),
    ];
    for (name, args) in cases {
        let r = husk_run(d, args);
        let text = format!(
            "$ husk {}\nexit {}\n--- stdout\n{}--- stderr\n{}",
            args.join(" "),
            r.code,
            r.stdout,
            r.stderr
        );
        snapshot(name, d, &text);
    }
}
