//! husk as its users' tools expect it: shell completions that a real bash loads and
//! completes with, man pages that man-db renders without warnings, and colour that follows
//! `--color`, NO_COLOR and whether stdout is a terminal. Under CI (CI=true) a missing
//! bash or man fails these tests.

mod common;

use std::process::Command;

use common::*;

fn stdout(o: &std::process::Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn completion_scripts_load_and_bash_completes_subcommands_and_flags() {
    let t = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = husk(t.path())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(stdout(&o).contains("husk"), "{shell}");
    }
    if !require("bash") {
        return;
    }
    let script = t.path().join("husk.bash");
    let o = husk(t.path())
        .args(["completions", "bash"])
        .output()
        .unwrap();
    std::fs::write(&script, stdout(&o)).unwrap();
    let check = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(check.status.success(), "bash -n: {check:?}");
    // Drive the completion function as bash's programmable completion does.
    let complete = |words: &str| {
        let code = format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}}-1)); \
             COMP_LINE=\"{words}\"; COMP_POINT=${{#COMP_LINE}}; \
             _husk husk \"${{COMP_WORDS[-1]}}\" \"${{COMP_WORDS[-2]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        );
        let o = Command::new("bash").arg("-c").arg(code).output().unwrap();
        stdout(&o)
    };
    let words = complete("husk bu");
    assert_eq!(words.trim(), "build", "husk bu<TAB>");
    let words = complete("husk build --trace-t");
    assert!(words.lines().any(|w| w == "--trace-timeout"), "{words}");
    assert!(!words.lines().any(|w| w == "--tag"), "{words}");
}

#[test]
fn man_pages_render_without_warnings() {
    let t = tempfile::tempdir().unwrap();
    let o = husk(t.path()).arg("man").output().unwrap();
    assert!(stdout(&o).starts_with(".ie"), "roff on stdout");
    let dir = t.path().join("man");
    let o = husk(t.path())
        .args(["man", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    stdout(&o);
    for page in ["husk.1", "husk-build.1", "husk-lint.1", "husk-pull.1"] {
        assert!(dir.join(page).is_file(), "{page}");
    }
    if !require("man") {
        return;
    }
    let o = Command::new("man")
        .args(["--warnings", "-l"])
        .arg(dir.join("husk-build.1"))
        .env("MANWIDTH", "80")
        .env("PAGER", "cat")
        .env("LC_ALL", "C")
        .output()
        .unwrap();
    // Without a terminal, man emboldens by overstriking (`c\bc`): keep the last of each.
    let mut text = String::new();
    for c in stdout(&o).chars() {
        if c == '\u{8}' {
            text.pop();
        } else {
            text.push(c);
        }
    }
    let warnings = String::from_utf8_lossy(&o.stderr);
    assert!(warnings.trim().is_empty(), "man warnings: {warnings}");
    assert!(text.contains("--trace-timeout"), "{text}");
}

#[test]
fn colour_follows_the_flag_no_color_and_the_terminal() {
    let t = tempfile::tempdir().unwrap();
    let df = t.path().join("Dockerfile");
    std::fs::write(&df, "FROM debian:12\nRUN echo hi\n").unwrap();
    let lint = |args: &[&str], no_color: bool| {
        let mut c = husk(t.path());
        c.arg("lint")
            .arg(&df)
            .args(["--no-shellcheck", "--fail-on", "never"]);
        c.args(args);
        if no_color {
            c.env("NO_COLOR", "1");
        } else {
            c.env_remove("NO_COLOR");
        }
        stdout(&c.output().unwrap())
    };
    let esc = |s: &str| s.contains('\x1b');
    // stdout is a pipe here: auto means no colour.
    assert!(!esc(&lint(&[], false)));
    assert!(esc(&lint(&["--color", "always"], false)));
    assert!(esc(&lint(&["--color", "always"], true)), "the flag wins");
    assert!(!esc(&lint(&["--color", "never"], false)));
    assert!(!esc(&lint(&["--color", "auto"], true)));
    let coloured = lint(&["--color", "always"], false);
    assert!(coloured.contains("\x1b[31mHIGH\x1b[0m"), "{coloured:?}");
    // JSON never carries colour.
    assert!(!esc(&lint(
        &["--color", "always", "--format", "json"],
        false
    )));
}

const META_MAIN: &str = "fn main() { println!(\"meta\"); }\n";
const META_TABLE: &str = "\n[package.metadata.husk]\nuser = \"1000:1000\"\nenv = [\"MODE=meta\"]\nlabels = [\"org.example.from=metadata\"]\ntags = [\"meta-app:1\"]\n\n[package.metadata.husk.cargo]\nprofile = \"dev\"\n";

/// A Cargo package with `[package.metadata.husk]`: `husk build --cargo` with no other
/// argument, and `cargo husk`, give the digest the same options as flags give; a bad key
/// or value names Cargo.toml and the key.
#[test]
fn cargo_metadata_and_cargo_husk_build_what_the_flags_build() {
    let t = tempfile::tempdir().unwrap();
    let pkg = t.path().join("meta-app");
    std::fs::create_dir_all(pkg.join("src")).unwrap();
    std::fs::write(pkg.join("src/main.rs"), META_MAIN).unwrap();
    let manifest =
        "[package]\nname = \"meta-app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n";
    std::fs::write(pkg.join("Cargo.toml"), format!("{manifest}{META_TABLE}")).unwrap();
    let cache = t.path().join("cache");
    let digest = |o: std::process::Output| -> String {
        let j: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        j["digest"].as_str().unwrap().to_owned()
    };
    let build = |extra: &[&str], out: &str| {
        husk(&cache)
            .current_dir(&pkg)
            .args(["build", "--cargo", "--format", "json", "-o"])
            .arg(format!("oci:{}", t.path().join(out).display()))
            .args(extra)
            .output()
            .unwrap()
    };
    let from_metadata = digest(build(&[], "meta"));
    let config = config(&t.path().join("meta"));
    assert_eq!(config.config.unwrap().user.as_deref(), Some("1000:1000"));

    // cargo husk, found by cargo on PATH next to husk.
    let bin_dir = assert_cmd::cargo::cargo_bin("husk")
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let o = Command::new("cargo")
        .current_dir(&pkg)
        .env("PATH", path)
        .env("HUSK_CACHE_DIR", &cache)
        .env_remove("SOURCE_DATE_EPOCH")
        .args(["husk", "--format", "json", "-o"])
        .arg(format!("oci:{}", t.path().join("cargo-husk").display()))
        .output()
        .unwrap();
    assert_eq!(digest(o), from_metadata, "cargo husk");

    // The same options as flags, with the table gone.
    std::fs::write(pkg.join("Cargo.toml"), manifest).unwrap();
    let flags = [
        "--user",
        "1000:1000",
        "--env",
        "MODE=meta",
        "--label",
        "org.example.from=metadata",
        "--tag",
        "meta-app:1",
        "--cargo-profile",
        "dev",
    ];
    assert_eq!(digest(build(&flags, "flags")), from_metadata, "flags");

    // Flags win over the table.
    std::fs::write(pkg.join("Cargo.toml"), format!("{manifest}{META_TABLE}")).unwrap();
    assert_ne!(digest(build(&["--user", "2000"], "over")), from_metadata);

    // A bad key, and a bad value, name the manifest and the key.
    std::fs::write(
        pkg.join("Cargo.toml"),
        format!("{manifest}\n[package.metadata.husk]\nusr = \"1000\"\n"),
    )
    .unwrap();
    let o = build(&[], "bad");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("Cargo.toml") && err.contains("usr") && err.contains("package.metadata.husk"),
        "{err}"
    );
    std::fs::write(
        pkg.join("Cargo.toml"),
        format!("{manifest}\n[package.metadata.husk]\nuser = \"0\"\n"),
    )
    .unwrap();
    let err = String::from_utf8_lossy(&build(&[], "root").stderr).into_owned();
    assert!(err.contains("root"), "{err}");
    std::fs::write(
        pkg.join("Cargo.toml"),
        format!("{manifest}\n[package.metadata.husk]\nuser = \"x:y\"\n"),
    )
    .unwrap();
    let err = String::from_utf8_lossy(&build(&[], "bad-user").stderr).into_owned();
    assert!(
        err.contains("key package.metadata.husk.user in") && err.contains("Cargo.toml"),
        "{err}"
    );
    assert!(!t.path().join("bad").exists() && !t.path().join("bad-user").exists());
}

/// husk's own image (its `[package.metadata.husk]`: a static husk FROM scratch, non-root,
/// with the CA bundle) runs in podman and builds images into a mounted directory: the
/// README's command on a static program, and /usr/bin/ls with the host's /usr mounted
/// read-only for its libraries. Both results validate.
#[test]
fn husks_own_image_runs_as_non_root_and_builds_into_a_mounted_directory() {
    if !require("podman") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let cache = t.path().join("cache");
    let tag = format!("localhost/husk-selftest:{}", std::process::id());
    // Its own target dir: the test's cargo holds the workspace's lock while tests run.
    let o = husk(&cache)
        .current_dir(repo_root())
        .env("CARGO_TARGET_DIR", repo_root().join("target/husk-image"))
        .args([
            "build",
            "--cargo",
            "--manifest-path",
            "crates/husk/Cargo.toml",
        ])
        .args([
            "--cargo-profile",
            "husk-image",
            "--tag",
            &tag,
            "--load",
            "podman",
        ])
        .output()
        .unwrap();
    stdout(&o);
    let _cleanup = Cleanup(tag.clone());

    // The README's command: a static program in $PWD, the image written beside it.
    let src = t.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::copy("/bin/busybox", src.join("app")).unwrap();
    // The image runs as 65532: the mounted directory must be writable by it.
    std::fs::set_permissions(&src, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let run = |extra: &[&str], args: &[&str]| {
        let o = podman()
            .args(["run", "--rm", "-v"])
            .arg(format!("{}:/src:Z", src.display()))
            .args(extra)
            .arg(&tag)
            .args(args)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "podman run {args:?}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    };
    run(&[], &["build", "/src/app", "-o", "oci:/src/out"]);
    assert_valid(&cache, &format!("oci:{}", src.join("out").display()));
    let owner = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(src.join("out")).unwrap());
    assert_eq!(owner, 65532, "written by the image's non-root user");

    // A dynamic host program: its libraries come from the host's /usr, mounted read-only.
    run(
        &[
            "-v",
            "/usr:/usr:ro",
            "-v",
            "/lib:/lib:ro",
            "-v",
            "/lib64:/lib64:ro",
            "-v",
            "/etc/ld.so.cache:/etc/ld.so.cache:ro",
        ],
        &[
            "build",
            "/usr/bin/ls",
            "--no-package-db",
            "-o",
            "oci:/src/ls",
        ],
    );
    assert_valid(&cache, &format!("oci:{}", src.join("ls").display()));
}

/// Removes the test's image from podman's store.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = podman().args(["rmi", "-f", &self.0]).output();
    }
}
