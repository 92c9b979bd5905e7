//! `husk audit` and `husk lint` end to end: images built by husk (clean ones, and broken
//! ones made with --allow-root, --no-libraries, --file modes and keys), a podman-built
//! FROM-scratch image whose key a later layer deletes, the CLI's exit codes, and the cases
//! where dockle is known to be wrong. Expected findings are insta snapshots (digests and
//! temp paths filtered).

mod common;

use std::path::Path;

use common::*;

/// Run `husk audit ARGS --format json`; returns (exit code, findings as
/// `[{rule, severity, message, location}]`).
fn audit_json(cache: &Path, args: &[&str]) -> (i32, serde_json::Value) {
    let out = husk(cache)
        .arg("audit")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "audit {args:?} (exit {code}) printed no JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let findings = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            serde_json::json!({
                "rule": f["rule"], "severity": f["severity"],
                "message": f["message"], "location": f["location"],
            })
        })
        .collect();
    (code, serde_json::Value::Array(findings))
}

fn build(cache: &Path, dir: &Path, name: &str, args: &[&str]) -> String {
    let out = dir.join(name);
    let r = format!("oci:{}", out.display());
    let o = husk(cache)
        .arg("build")
        .args(args)
        .args(["-o", &r, "-q"])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "husk build {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    r
}

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(r"sha256:[0-9a-f]{64}", "sha256:[digest]");
    s.add_filter(r"/tmp/\.tmp[A-Za-z0-9]+", "[tmp]");
    s.add_filter(r"\d+ bytes", "[n] bytes");
    s
}

fn above_info(findings: &serde_json::Value) -> Vec<&serde_json::Value> {
    findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "info")
        .collect()
}

#[test]
fn husk_built_images_audit_clean() {
    if !require("gcc") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let cache = t.path().join("cache");
    let ls = build(&cache, t.path(), "ls", &["/usr/bin/ls"]);
    let whoami = whoami_static(t.path());
    let st = build(&cache, t.path(), "static", &[whoami.to_str().unwrap()]);
    let dynamic = whoami_dynamic(&t.path().join("dyn"));
    let dy = build(
        &cache,
        t.path(),
        "dynamic",
        &[dynamic.to_str().unwrap(), "--expose", "8080"],
    );
    for r in [&ls, &st, &dy] {
        let (code, f) = audit_json(&cache, &[r, "--fail-on", "low"]);
        assert!(above_info(&f).is_empty(), "{r}: {f:#}");
        assert_eq!(code, 0, "{r}");
    }
    let (_, f) = audit_json(&cache, &[&ls]);
    settings().bind(|| insta::assert_json_snapshot!("audit_ls_clean", f));
}

/// The scratch-demo service, built from its husk.toml like the demo does (dev profile).
#[test]
fn demo_image_audits_clean() {
    let t = tempfile::tempdir().unwrap();
    let cache = t.path().join("cache");
    let config = repo_root().join("demo/scratch-demo/husk.toml");
    let r = build(
        &cache,
        t.path(),
        "demo",
        &[
            "--config",
            config.to_str().unwrap(),
            "--cargo-profile",
            "dev",
            "--tag",
            "scratch-demo:audit",
        ],
    );
    let (code, f) = audit_json(&cache, &[&r, "--fail-on", "low"]);
    assert!(above_info(&f).is_empty(), "{f:#}");
    assert_eq!(code, 0);
    settings().bind(|| insta::assert_json_snapshot!("audit_demo", f));
}

#[test]
fn broken_images() {
    let t = tempfile::tempdir().unwrap();
    let cache = t.path().join("cache");
    let key = t.path().join("id_ed25519");
    std::fs::write(
        &key,
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ==\n-----END OPENSSH PRIVATE KEY-----\n",
    )
    .unwrap();
    let creds = t.path().join("credentials");
    std::fs::write(
        &creds,
        "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n",
    )
    .unwrap();
    let cases: &[(&str, Vec<String>)] = &[
        (
            "root",
            vec![
                "/usr/bin/ls".into(),
                "--allow-root".into(),
                "--user".into(),
                "0".into(),
            ],
        ),
        (
            "no_libraries",
            vec![
                "/usr/bin/ls".into(),
                "--no-libraries".into(),
                "--no-tmp".into(),
            ],
        ),
        (
            "setuid_and_world_writable",
            vec![
                "/usr/bin/ls".into(),
                "--file".into(),
                "/usr/bin/ls:/usr/bin/ls-root:4755".into(),
                "--file".into(),
                "/etc/hostname:/etc/app.conf:0666".into(),
                "--expose".into(),
                "443".into(),
            ],
        ),
        (
            "keys",
            vec![
                "/usr/bin/ls".into(),
                "--file".into(),
                format!("{}:/home/nonroot/.ssh/id_ed25519", key.display()),
                "--file".into(),
                format!("{}:/root/.aws/credentials", creds.display()),
                "--env".into(),
                "API_TOKEN=abc".into(),
                "--no-ca-certs".into(),
            ],
        ),
    ];
    for (name, args) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = build(&cache, t.path(), name, &args);
        let (code, f) = audit_json(&cache, &[&r, "--fail-on", "medium"]);
        assert_eq!(code, 1, "{name}: {f:#}");
        settings().bind(|| insta::assert_json_snapshot!(format!("audit_{name}"), f));
    }
}

/// dockle's CIS-DI-0001 passes an image whose user is `0` (it only knows the name root).
#[test]
fn dockle_misses_user_0_husk_does_not() {
    let t = tempfile::tempdir().unwrap();
    let cache = t.path().join("cache");
    for user in ["0", "0:0"] {
        let r = build(
            &cache,
            t.path(),
            &format!("u{user}"),
            &["/usr/bin/ls", "--allow-root", "--user", user],
        );
        let (_, f) = audit_json(&cache, &[&r]);
        assert!(
            f.as_array()
                .unwrap()
                .iter()
                .any(|f| f["rule"] == "HUSK-I001"),
            "{f:#}"
        );
    }
}

/// dockle reports "DKL-LI-0001: Avoid empty password" on FROM-scratch images that have no
/// passwd at all (dockle#60); husk has nothing to say about passwords there, and a
/// static program with a numeric user and /tmp is clean.
#[test]
fn no_false_alarms_on_a_bare_scratch_image() {
    if !require("gcc") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let cache = t.path().join("cache");
    let whoami = whoami_static(t.path());
    let r = build(
        &cache,
        t.path(),
        "bare",
        &[whoami.to_str().unwrap(), "--no-passwd", "--no-ca-certs"],
    );
    let (code, f) = audit_json(&cache, &[&r, "--fail-on", "low"]);
    assert!(above_info(&f).is_empty(), "{f:#}");
    assert_eq!(code, 0);
}

/// A real multi-layer image from podman: a key added by one layer and deleted by the next
/// (`RUN rm`) is still reported, with the layer that holds it; with --dockerfile the
/// Dockerfile findings carry line numbers and SARIF anchors everything there.
#[test]
fn podman_image_with_a_deleted_key() {
    if !require("podman") || !require_path("/bin/busybox", "busybox-static") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let cache = t.path().join("cache");
    let ctx = t.path().join("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::copy("/bin/busybox", ctx.join("busybox")).unwrap();
    std::fs::write(
        ctx.join("id_rsa"),
        "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----\n",
    )
    .unwrap();
    let dockerfile = "FROM scratch\nCOPY busybox /bin/busybox\nCOPY id_rsa /root/.ssh/id_rsa\nRUN [\"/bin/busybox\", \"rm\", \"/root/.ssh/id_rsa\"]\nUSER 65532:65532\nENTRYPOINT [\"/bin/busybox\", \"true\"]\n";
    std::fs::write(ctx.join("Dockerfile"), dockerfile).unwrap();
    let tag = format!("localhost/husk-audit-test:{}", std::process::id());
    let storage = podman_storage();
    run(podman()
        .args(["build", "--no-cache", "-q", "-t", &tag])
        .arg(&ctx));
    let archive = t.path().join("img.tar");
    run(podman()
        .args(["save", "--format", "oci-archive", "-o"])
        .arg(&archive)
        .arg(&tag));
    let _ = podman().args(["rmi", "-f", &tag]).output();
    drop(storage);
    let r = format!("oci-archive:{}", archive.display());
    let df = ctx.join("Dockerfile");
    let (code, f) = audit_json(&cache, &[&r, "--dockerfile", df.to_str().unwrap()]);
    assert_eq!(code, 1);
    let key = f
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "HUSK-I014")
        .unwrap_or_else(|| panic!("deleted key not reported: {f:#}"));
    assert!(
        key["message"].as_str().unwrap().contains("deleted"),
        "{key}"
    );
    assert_eq!(key["location"]["layer"], 1);
    settings().bind(|| insta::assert_json_snapshot!("audit_podman_deleted_key", f));
    let out = husk(&cache)
        .args([
            "audit",
            &r,
            "--dockerfile",
            df.to_str().unwrap(),
            "--format",
            "sarif",
        ])
        .output()
        .unwrap();
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for res in sarif["runs"][0]["results"].as_array().unwrap() {
        let line = res["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64();
        assert!(line.is_some_and(|l| l >= 1), "{res}");
    }
}

#[test]
fn exit_codes_fail_on_and_ignore() {
    let t = tempfile::tempdir().unwrap();
    let cache = t.path().join("cache");
    let r = build(
        &cache,
        t.path(),
        "root",
        &["/usr/bin/ls", "--allow-root", "--user", "0"],
    );
    let code = |args: &[&str]| {
        husk(&cache)
            .arg("audit")
            .arg(&r)
            .args(args)
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(code(&[]), Some(1), "root is high, the default --fail-on");
    assert_eq!(code(&["--fail-on", "critical"]), Some(0));
    assert_eq!(code(&["--fail-on", "never"]), Some(0));
    assert_eq!(code(&["--ignore", "HUSK-I001"]), Some(0));
    assert_eq!(code(&["--ignore", "HUSK-X999"]), Some(2));
    assert_eq!(code(&["--fail-on", "severe"]), Some(2));
    let missing = husk(&cache)
        .args(["audit", "oci:/nonexistent/x"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn lint_cli() {
    let t = tempfile::tempdir().unwrap();
    let cache = t.path().join("cache");
    let good = t.path().join("good.Dockerfile");
    std::fs::write(&good, "FROM scratch\nCOPY app /app\nUSER 65532:65532\nHEALTHCHECK CMD [\"/app\", \"-h\"]\nENTRYPOINT [\"/app\"]\n").unwrap();
    let o = husk(&cache).arg("lint").arg(&good).output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let typo = t.path().join("typo.Dockerfile");
    std::fs::write(&typo, "FROM scratch\nCOPPY app /app\n").unwrap();
    let o = husk(&cache).arg("lint").arg(&typo).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout).replace(t.path().to_str().unwrap(), "[tmp]");
    insta::assert_snapshot!("lint_typo", text);
    let broken = t.path().join("broken.Dockerfile");
    std::fs::write(&broken, "FROM scratch\nCOPY <<EOF /x\nno end\n").unwrap();
    let o = husk(&cache).arg("lint").arg(&broken).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("line "), "{err}");
}

/// ShellCheck runs on RUN scripts when installed; `--no-shellcheck` and a missing
/// shellcheck (a note on stderr) both leave it out.
#[test]
fn lint_runs_shellcheck() {
    if !common::require("shellcheck") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let cache = t.path().join("cache");
    let file = t.path().join("Dockerfile");
    std::fs::write(
        &file,
        "FROM debian:12\nRUN echo start \\\n && rm -rf $DIR/\n",
    )
    .unwrap();
    let lint = |extra: &[&str], path: Option<&str>| {
        let mut c = husk(&cache);
        c.args(["lint", "--fail-on", "never"])
            .args(extra)
            .arg(&file);
        if let Some(p) = path {
            c.env("PATH", p);
        }
        let o = c.output().unwrap();
        assert_eq!(o.status.code(), Some(0));
        (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (out, _) = lint(&[], None);
    assert!(out.contains("Dockerfile:3:1: SC2115"), "{out}");
    let (out, _) = lint(&["--no-shellcheck"], None);
    assert!(!out.contains("SC2115"), "{out}");
    let (out, err) = lint(&[], Some("/nonexistent"));
    assert!(!out.contains("SC2115"), "{out}");
    assert!(err.contains("shellcheck is not installed"), "{err}");
}

/// issue 14: standard input, `--target`, the lint config and `.dockerignore` beside the
/// Dockerfile, `# check=error=true`, and the checkstyle and gitlab formats.
#[test]
fn lint_cli_inputs_and_formats() {
    let t = tempfile::tempdir().unwrap();
    let cache = t.path().join("cache");
    let text = "FROM golang:1.23@sha256:0000000000000000000000000000000000000000000000000000000000000000 AS build\nRUN go build -o /out/app .\nFROM scratch\nCOPY --from=build /out/app /app\nCOPY notes.txt /\nUSER 65532:65532\nENTRYPOINT [\"/app\"]\n";
    // Standard input, bounded like a file.
    let o = husk(&cache)
        .args(["lint", "-", "--format", "json"])
        .write_stdin(text)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["dockerfile"], "<stdin>");
    // --target: the build stage is now what is built, so its go build is in the image.
    let df = t.path().join("Dockerfile");
    std::fs::write(&df, text).unwrap();
    let o = husk(&cache)
        .arg("lint")
        .arg(&df)
        .args(["--target", "build", "--format", "json"])
        .output()
        .unwrap();
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        j["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "HUSK-D013"),
        "{j}"
    );
    let o = husk(&cache)
        .arg("lint")
        .arg(&df)
        .args(["--target", "nope"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("build"),
        "names the stages"
    );
    // .dockerignore beside it: COPY notes.txt fails in the build (HUSK-D040, medium).
    std::fs::write(t.path().join(".dockerignore"), "*.txt\n").unwrap();
    let o = husk(&cache)
        .arg("lint")
        .arg(&df)
        .args(["--fail-on", "medium"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("HUSK-D040"));
    // The config: ignore it by its BuildKit name, and trust only ghcr.io.
    std::fs::write(
        t.path().join(".husk-lint.toml"),
        "ignore = [\"CopyIgnoredFile\"]\ntrusted-registries = [\"ghcr.io\"]\n",
    )
    .unwrap();
    let o = husk(&cache)
        .arg("lint")
        .arg(&df)
        .args(["--format", "checkstyle"])
        .output()
        .unwrap();
    let x = String::from_utf8_lossy(&o.stdout);
    assert!(
        x.starts_with("<?xml") && x.contains("source=\"HUSK-D041\"") && !x.contains("HUSK-D040"),
        "{x}"
    );
    let bad = t.path().join("bad.toml");
    std::fs::write(&bad, "ignore = [\"HUSK-D999\"]\n").unwrap();
    let o = husk(&cache)
        .arg("lint")
        .arg(&df)
        .arg("--config")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("HUSK-D999"));
    // gitlab code quality.
    let o = husk(&cache)
        .arg("lint")
        .arg(&df)
        .args(["--format", "gitlab"])
        .output()
        .unwrap();
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j[0]["check_name"], "HUSK-D041");
    assert_eq!(j[0]["fingerprint"].as_str().unwrap().len(), 64);
    // # check=error=true: a low finding fails the run.
    std::fs::remove_file(t.path().join(".husk-lint.toml")).unwrap();
    let strict = t.path().join("strict.Dockerfile");
    std::fs::write(
        &strict,
        "# check=error=true\nFROM scratch AS App\nUSER 65532\nENTRYPOINT [\"/app\"]\n",
    )
    .unwrap();
    let o = husk(&cache).arg("lint").arg(&strict).output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    std::fs::write(&strict, "# check=skip=StageNameCasing;error=true\nFROM scratch AS App\nUSER 65532\nENTRYPOINT [\"/app\"]\n").unwrap();
    let o = husk(&cache).arg("lint").arg(&strict).output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn list_rules() {
    let t = tempfile::tempdir().unwrap();
    let out = husk(t.path())
        .args(["audit", "--list-rules"])
        .output()
        .unwrap();
    assert!(out.status.success());
    insta::assert_snapshot!("list_rules", String::from_utf8_lossy(&out.stdout));
    let md = husk(t.path())
        .args(["audit", "--list-rules", "--format", "markdown"])
        .output()
        .unwrap();
    let committed = std::fs::read_to_string(repo_root().join("docs/rules/README.md")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&md.stdout).trim_end(),
        committed.trim_end()
    );
}
