//! CLI behaviour of `husk build` and `husk validate` on bad input: a clear error naming
//! what is wrong, exit code 2, and nothing written. Snapshots filter digests and temp paths.

mod common;

use std::path::Path;

use common::*;

fn husk_in(dir: &Path, args: &[&str]) -> Run {
    husk_run(dir, args)
}

fn snapshot(name: &str, dir: &Path, text: &str) {
    snapshot_settings(dir, &[(r"\b[0-9a-f]{12}\b", "[SHORT]")])
        .bind(|| insta::assert_snapshot!(name, text));
}

/// Each bad input: exit 2, an error that names the problem, and no output directory.
#[test]
fn bad_inputs_are_refused_and_write_nothing() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    std::fs::write(d.join("notes.txt"), "hello").unwrap();
    std::fs::write(d.join("script.sh"), "#!/bin/sh\necho hi\n").unwrap();
    std::fs::create_dir(d.join("occupied")).unwrap();
    std::fs::write(d.join("occupied/keep.txt"), "mine").unwrap();
    std::fs::write(
        d.join("husk-bad.toml"),
        "entrypoint = \"/usr/bin/ls\"\nuser_id = 5\n",
    )
    .unwrap();
    let cases: &[(&str, &[&str])] = &[
        (
            "missing_entrypoint",
            &["build", "does-not-exist", "-o", "oci:out"],
        ),
        (
            "non_elf_entrypoint",
            &["build", "notes.txt", "-o", "oci:out"],
        ),
        (
            "script_without_interpreter",
            &["build", "script.sh", "-o", "oci:out"],
        ),
        ("directory_entrypoint", &["build", ".", "-o", "oci:out"]),
        (
            "root_user",
            &["build", "/usr/bin/ls", "--user", "0", "-o", "oci:out"],
        ),
        (
            "named_user",
            &[
                "build",
                "/usr/bin/ls",
                "--user",
                "www-data",
                "-o",
                "oci:out",
            ],
        ),
        (
            "bad_port",
            &["build", "/usr/bin/ls", "--expose", "99999", "-o", "oci:out"],
        ),
        (
            "bad_env",
            &["build", "/usr/bin/ls", "--env", "NOEQUALS", "-o", "oci:out"],
        ),
        (
            "unreadable_file",
            &[
                "build",
                "/usr/bin/ls",
                "--file",
                "nope.txt:/x",
                "-o",
                "oci:out",
            ],
        ),
        (
            "dest_not_ours",
            &["build", "/usr/bin/ls", "-o", "oci:occupied"],
        ),
        (
            "dest_file_not_archive",
            &["build", "/usr/bin/ls", "-o", "oci-archive:notes.txt"],
        ),
        (
            "unknown_toml_key",
            &["build", "-c", "husk-bad.toml", "-o", "oci:out"],
        ),
        ("no_output", &["build", "/usr/bin/ls"]),
        (
            "bad_reference",
            &["build", "/usr/bin/ls", "-o", "tarball:x"],
        ),
        (
            "registry_without_scheme",
            &["build", "/usr/bin/ls", "-o", "127.0.0.1:5000/a:1"],
        ),
        (
            "bad_compression",
            &[
                "build",
                "/usr/bin/ls",
                "--compression",
                "lz4",
                "-o",
                "oci:out",
            ],
        ),
    ];
    for (name, args) in cases {
        let r = husk_in(d, args);
        assert_eq!(r.code, 2, "{name}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{name}: {}", r.stdout);
        assert!(r.stderr.starts_with("error: "), "{name}: {}", r.stderr);
        assert!(!d.join("out").exists(), "{name} wrote output");
        snapshot(&format!("error_{name}"), d, &r.stderr);
    }
    // What was there is untouched.
    assert_eq!(
        std::fs::read_to_string(d.join("occupied/keep.txt")).unwrap(),
        "mine"
    );
    assert_eq!(
        std::fs::read_to_string(d.join("notes.txt")).unwrap(),
        "hello"
    );
    // No temporary leftovers beside the destinations.
    let leftovers: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".husk-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let t = tempfile::tempdir().unwrap();
    let r = husk_in(t.path(), &["build", "/usr/bin/ls", "--frobnicate"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--frobnicate"), "{}", r.stderr);
}

#[test]
fn summary_output() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let r = husk_in(
        d,
        &[
            "build",
            "/usr/bin/ls",
            "--tag",
            "ls:1",
            "--expose",
            "8080",
            "-o",
            "oci:out",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.trim().starts_with("sha256:"));
    // Library names and sizes vary with the host: keep the stable lines.
    let stable: String = r
        .stderr
        .lines()
        .filter(|l| !l.contains("shared libraries"))
        .map(|l| format!("{l}\n"))
        .collect();
    snapshot("build_summary", d, &stable);
    let v = husk_in(d, &["validate", "oci:out"]);
    assert_eq!(v.code, 0, "{}", v.stderr);
    // Rebuilding into the same layout replaces the ref and keeps it valid.
    let r2 = husk_in(
        d,
        &["build", "/usr/bin/ls", "--tag", "ls:1", "-o", "oci:out"],
    );
    assert_eq!(r2.code, 0, "{}", r2.stderr);
    assert_valid(
        &d.join("cache"),
        &format!("oci:{}", d.join("out").display()),
    );
}

#[test]
fn toml_options_and_flag_override() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    std::fs::write(d.join("data.txt"), "payload").unwrap();
    std::fs::write(
        d.join("husk.toml"),
        r#"entrypoint = "/usr/bin/ls"
user = "1000:1000"
expose = ["443/tcp"]
labels = ["App=demo"]
files = ["data.txt:/srv/data.txt:0440:1000:1000"]
workdir = "/srv"
outputs = ["oci:out"]
"#,
    )
    .unwrap();
    let r = husk_in(d, &["build", "--user", "2000"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let cfg = config(&d.join("out"));
    let rc = cfg.config.unwrap();
    assert_eq!(rc.user.as_deref(), Some("2000:2000"));
    assert_eq!(rc.working_dir.as_deref(), Some("/srv"));
    assert_eq!(rc.labels.unwrap()["App"], "demo");
    assert!(rc.exposed_ports.unwrap().contains_key("443/tcp"));
    let layers = layers(&d.join("out"));
    let data = layers
        .last()
        .unwrap()
        .iter()
        .find(|e| e.path == "srv/data.txt")
        .cloned()
        .unwrap();
    assert_eq!(
        (data.mode, data.uid, data.gid, data.size),
        (0o440, 1000, 1000, 7)
    );
}

#[test]
fn validate_detects_tampering() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    assert_eq!(
        husk_in(d, &["build", "/usr/bin/ls", "-o", "oci:out"]).code,
        0
    );
    // Corrupt one byte of the largest blob (a layer).
    let blobs = d.join("out/blobs/sha256");
    let biggest = std::fs::read_dir(&blobs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .unwrap();
    let mut bytes = std::fs::read(&biggest).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&biggest, bytes).unwrap();
    let r = husk_in(d, &["validate", "oci:out"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("does not match its descriptor"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("invalid: 1 problems"), "{}", r.stdout);
    let r = husk_in(d, &["validate", "oci:nowhere"]);
    assert_eq!(r.code, 2);
    snapshot("validate_not_a_layout", d, &r.stderr);
}

/// A build killed midway (SIGKILL, no cleanup possible) leaves no image at the destination.
#[test]
fn killed_build_leaves_no_output() {
    use std::io::Write;
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    // 96 MiB of incompressible data keeps gzip busy for a second or more.
    let mut f = std::fs::File::create(d.join("big.bin")).unwrap();
    let mut x: u64 = 0x9e3779b97f4a7c15;
    let mut buf = vec![0u8; 1 << 20];
    for _ in 0..96 {
        for chunk in buf.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes());
        }
        f.write_all(&buf).unwrap();
    }
    drop(f);
    for dest in ["oci:out", "oci-archive:out.tar", "docker-archive:out.tar"] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("husk"))
            .current_dir(d)
            .env("HUSK_CACHE_DIR", d.join("cache"))
            .args([
                "build",
                "/usr/bin/ls",
                "--no-cache",
                "--file",
                "big.bin:/data/big.bin",
                "-o",
                dest,
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(400));
        let _ = child.kill();
        let status = child.wait().unwrap();
        assert!(
            !status.success(),
            "{dest}: the build finished before it was killed"
        );
        assert!(
            !d.join("out").exists() && !d.join("out.tar").exists(),
            "{dest} left output"
        );
    }
}

/// An invalid option names where its value came from: the flag, or the key in the named
/// husk.toml; a bad user name has its own message.
#[test]
fn option_errors_name_the_flag_or_the_file_key() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    std::fs::write(
        d.join("husk.toml"),
        "entrypoint = \"/usr/bin/ls\"\nuser = \"www-data\"\noutputs = [\"oci:out\"]\n",
    )
    .unwrap();
    let from_file = husk_in(d, &["build"]);
    assert_eq!(from_file.code, 2, "{}", from_file.stderr);
    assert!(
        from_file
            .stderr
            .contains("\nerror: invalid key user in husk.toml \"www-data\": expected UID[:GID]"),
        "{}",
        from_file.stderr
    );
    assert!(!from_file.stderr.contains("--user"), "{}", from_file.stderr);
    // The flag replaces the file's value, and its error names the flag.
    let from_flag = husk_in(d, &["build", "--user", "nobody"]);
    assert_eq!(from_flag.code, 2, "{}", from_flag.stderr);
    assert!(
        from_flag
            .stderr
            .contains("\nerror: invalid --user \"nobody\": expected UID[:GID]"),
        "{}",
        from_flag.stderr
    );
    let bad_name = husk_in(d, &["build", "--user", "1000", "--user-name=-x y"]);
    assert_eq!(bad_name.code, 2, "{}", bad_name.stderr);
    assert!(
        bad_name
            .stderr
            .contains("\nerror: invalid --user-name \"-x y\": expected a user name"),
        "{}",
        bad_name.stderr
    );
    assert!(
        !bad_name.stderr.contains("KEY=VALUE"),
        "{}",
        bad_name.stderr
    );
    // --config names the file as given.
    std::fs::write(d.join("other.toml"), "user-name = \"a:b\"\n").unwrap();
    let r = husk_in(
        d,
        &["build", "-c", "other.toml", "/usr/bin/ls", "-o", "oci:out"],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .starts_with("error: invalid key user-name in other.toml \"a:b\""),
        "{}",
        r.stderr
    );
    assert!(!d.join("out").exists());
}

/// `--ca-certs PATH` is always a path (a file named `none` included); `--no-ca-certs` and
/// `ca-certs = "none"` in husk.toml mean no bundle.
#[test]
fn ca_certs_is_a_path_or_none() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let r = husk_in(
        d,
        &[
            "build",
            "/usr/bin/ls",
            "--ca-certs",
            "none",
            "-o",
            "oci:out",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("cannot read none"), "{}", r.stderr);
    std::fs::write(
        d.join("husk.toml"),
        "entrypoint = \"/usr/bin/ls\"\nca-certs = \"none\"\noutputs = [\"oci:out\"]\n",
    )
    .unwrap();
    let r = husk_in(d, &["build"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let env = config(&d.join("out")).config.unwrap().env.unwrap();
    assert!(
        !env.iter().any(|e| e.starts_with("SSL_CERT_FILE=")),
        "{env:?}"
    );
}

/// What husk writes itself (the users, /tmp, the CA bundle) is never silently replaced by
/// a later layer, and a directory a later layer needs as a parent keeps the mode and owner
/// the system layer gave it (/tmp stays 1777, the home stays the user's).
#[test]
fn generated_files_are_not_replaced_and_parents_keep_their_mode() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    std::fs::write(d.join("notes.txt"), "hello").unwrap();
    let build = |extra: &[&str]| {
        let mut c = husk(d);
        c.current_dir(d)
            .args(["build", "/bin/busybox", "--no-libraries"])
            .args(extra);
        c
    };
    for (dest, fix) in [
        ("notes.txt:/tmp", "--no-tmp"),
        ("notes.txt:/etc/passwd", "--no-passwd"),
        ("notes.txt:/etc/ssl/certs/ca-certificates.crt", "--ca-certs"),
    ] {
        let err = refused_build(d, build(&["--file", dest]));
        let path = dest.trim_start_matches("notes.txt:");
        assert!(
            err.contains(&format!("{path} is written by husk build itself")) && err.contains(fix),
            "{err}"
        );
    }
    // Turned off, the file is the user's.
    let out = format!("oci:{}", d.join("own").display());
    build(&["--file", "notes.txt:/etc/passwd", "--no-passwd", "-o", &out])
        .assert()
        .success();
    let o = husk(d).args(["cat", &out, "/etc/passwd"]).output().unwrap();
    assert_eq!(o.stdout, b"hello");
    // Files below /tmp and the home: both directories keep what the system layer gave.
    let out = format!("oci:{}", d.join("below").display());
    build(&[
        "--file",
        "notes.txt:/tmp/x",
        "--file",
        "notes.txt:/home/nonroot/.profile",
        "-o",
        &out,
    ])
    .assert()
    .success();
    let ls = |path: &str| {
        let o = husk(d).args(["ls", "-l", &out, path]).output().unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let root = ls("/");
    assert!(
        root.lines()
            .any(|l| l.starts_with("drwxrwxrwt") && l.ends_with(" tmp")),
        "{root}"
    );
    let home = ls("/home");
    assert!(
        home.lines()
            .any(|l| l.starts_with("drwx------ 65532:65532") && l.ends_with(" nonroot")),
        "{home}"
    );
    let o = husk(d)
        .args(["audit", &out, "--format", "json"])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&o.stdout);
    assert!(!report.contains("HUSK-I009"), "{report}");
}
