//! Language data from real binaries: a Go program built with the host's `go` (Debian's
//! `golang-go`) and a Rust program built with `cargo auditable` (crates.io
//! `cargo-auditable`), both offline (no dependencies from a registry). Without CI=true a
//! missing toolchain skips with a message; with CI=true it fails.

mod common;

use std::process::Command;

use husk_sbom::{Component, go_build_info, rust_crates};

#[test]
fn go_binary_build_info() {
    let have = common::output(Command::new("go").arg("version")).is_some();
    if !common::require(have, "go (apt-get install golang-go)") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("go.mod"),
        "module example.com/hello\n\ngo 1.18\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("main.go"),
        "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hi\") }\n",
    )
    .unwrap();
    let out = Command::new("go")
        .args(["build", "-o", "hello", "."])
        .current_dir(dir.path())
        .env("GOFLAGS", "-mod=mod")
        .env("GOPROXY", "off")
        .env("GOCACHE", dir.path().join("cache"))
        .env("GOPATH", dir.path().join("gopath"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "go build failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(dir.path().join("hello")).unwrap();
    let info = go_build_info(&bytes, "hello")
        .unwrap()
        .expect("a Go >= 1.18 binary has build info");
    let version = common::output(Command::new("go").args(["env", "GOVERSION"])).unwrap();
    assert_eq!(info.go_version, version.trim());
    assert_eq!(info.path.as_deref(), Some("example.com/hello"));
    assert_eq!(
        info.main.as_ref().map(|m| m.path.as_str()),
        Some("example.com/hello")
    );
    assert!(
        info.settings.iter().any(|(k, _)| k == "GOARCH"),
        "{:?}",
        info.settings
    );
    let purls: Vec<String> = info.components().iter().map(Component::purl).collect();
    assert_eq!(
        purls,
        [format!(
            "pkg:golang/stdlib@v{}",
            version.trim().trim_start_matches("go")
        )]
    );
    // Not Go: no build info, no error.
    assert!(
        go_build_info(&std::fs::read("/proc/self/exe").unwrap(), "self")
            .unwrap()
            .is_none()
    );
}

#[test]
fn cargo_auditable_binary_crates() {
    let have = common::output(Command::new("cargo").args(["auditable", "--version"])).is_some();
    if !common::require(have, "cargo-auditable (cargo install cargo-auditable)") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app");
    let dep = dir.path().join("helper");
    std::fs::create_dir_all(app.join("src")).unwrap();
    std::fs::create_dir_all(dep.join("src")).unwrap();
    std::fs::write(
        dep.join("Cargo.toml"),
        "[package]\nname = \"helper\"\nversion = \"0.3.1\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(dep.join("src/lib.rs"), "pub fn n() -> u32 { 7 }\n").unwrap();
    std::fs::write(
        app.join("Cargo.toml"),
        "[package]\nname = \"auditapp\"\nversion = \"1.2.3\"\nedition = \"2021\"\n\n[dependencies]\nhelper = { path = \"../helper\" }\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(
        app.join("src/main.rs"),
        "fn main() { println!(\"{}\", helper::n()); }\n",
    )
    .unwrap();
    let out = Command::new("cargo")
        .args(["auditable", "build", "--offline", "--quiet"])
        .current_dir(&app)
        .env("CARGO_TARGET_DIR", dir.path().join("target"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo auditable build failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(dir.path().join("target/debug/auditapp")).unwrap();
    let crates = rust_crates(&bytes, "auditapp").unwrap();
    let purls: Vec<String> = crates.iter().map(Component::purl).collect();
    assert_eq!(
        purls,
        ["pkg:cargo/auditapp@1.2.3", "pkg:cargo/helper@0.3.1"]
    );
    // A binary without .dep-v0 has no crates; a truncated one is an error or empty, never a panic.
    assert!(
        rust_crates(&std::fs::read("/usr/bin/curl").unwrap_or_default(), "curl")
            .unwrap()
            .is_empty()
    );
    let _ = rust_crates(&bytes[..bytes.len() / 2], "half");
}
