//! `husk build --cargo` with several targets (issue 12): one Cargo run per target, one
//! index. The rustup toolchains here have only the x86_64 standard library and rustup has
//! no network, so the end-to-end build uses Debian's own toolchain (`rustc-web` 1.96 with
//! `libstd-rust-web-dev:arm64`, the arm64 standard library under /usr/lib/rustlib) for a
//! tiny package with no dependencies, given to husk as `CARGO=/usr/bin/cargo
//! RUSTC=/usr/bin/rustc` for that one command only, so rustup's cargo stays first on PATH
//! for everything else. husk
//! sets Debian's aarch64-linux-gnu-gcc as the arm64 linker; the index validates and podman
//! runs both images (arm64 through qemu). Bad input: a target whose standard library is
//! missing, a cross gcc that is missing, two targets of one platform: each a clear error,
//! nothing written. Under CI (CI=true) a missing tool fails these tests.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// A package with no dependencies whose program says the architecture it was built for.
fn hello_package(dir: &Path) -> PathBuf {
    let pkg = dir.join("hello");
    std::fs::create_dir_all(pkg.join("src")).unwrap();
    std::fs::write(
        pkg.join("Cargo.toml"),
        "[package]\nname = \"hello\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(
        pkg.join("src/main.rs"),
        "fn main() { println!(\"hello from {}\", std::env::consts::ARCH); }\n",
    )
    .unwrap();
    pkg.join("Cargo.toml")
}

/// `husk build --cargo` of the package with Debian's cargo and rustc, in `dir`; the
/// environment holds no linker of the user's, so husk chooses.
fn husk_debian(dir: &Path) -> assert_cmd::Command {
    let mut cmd = husk(&dir.join("cache"));
    cmd.current_dir(dir)
        .env("CARGO", DEBIAN_CARGO)
        .env("RUSTC", DEBIAN_RUSTC)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER")
        .env_remove("CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER")
        .arg("build")
        .arg("--cargo")
        .arg("--manifest-path")
        .arg(hello_package(dir));
    cmd
}

#[test]
fn cargo_builds_each_target_into_one_index_that_runs_on_both() {
    if !debian_cross_toolchain() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("out");
    let o = husk_debian(d)
        .args([
            "--target",
            "x86_64-unknown-linux-gnu",
            "--target",
            "aarch64-unknown-linux-gnu",
            // Debian ships no riscv64 standard library for this rustc: skipped, with why.
            "--optional-target",
            "riscv64gc-unknown-linux-gnu",
            "--dest",
            "/app/hello",
            "-t",
            "hello:cargo-multi",
        ])
        .arg("-o")
        .arg(format!("oci:{}", out.display()))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("linking aarch64-unknown-linux-gnu with aarch64-linux-gnu-gcc (setting CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER"),
        "{err}"
    );
    assert!(
        err.contains("skipping optional target riscv64gc-unknown-linux-gnu")
            && err.contains("rustup target add riscv64gc-unknown-linux-gnu"),
        "{err}"
    );
    assert!(err.contains("for 2 targets"), "{err}");
    let index = open_index(&out);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        index.digest().to_string()
    );
    assert_eq!(
        husk_oci::platforms_of(index.document()),
        ["linux/amd64", "linux/arm64/v8"]
    );
    assert_index_valid(&d.join("cache"), &out);
    // Each image has its own libraries: the arm64 one from the arm64 multiarch dirs.
    let listing = husk(&d.join("cache"))
        .args(["ls", "-R", &format!("oci:{}", out.display())])
        .args(["--platform", "linux/arm64"])
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert!(listing.contains("ld-linux-aarch64.so.1"), "{listing}");
    assert!(!listing.contains("x86_64"), "{listing}");

    if !require("podman") || !qemu_aarch64() {
        return;
    }
    for (platform, machine) in [("linux/amd64", "x86_64"), ("linux/arm64", "aarch64")] {
        let name = format!("localhost/husk-cargo-multi:{machine}");
        // The same build (cargo's work is cached) into podman, which holds one image.
        let o = husk_debian(d)
            .args(["--target", "x86_64-unknown-linux-gnu"])
            .args(["--target", "aarch64-unknown-linux-gnu"])
            .args(["--dest", "/app/hello", "--platform", platform])
            .arg("-o")
            .arg(format!("podman:{name}"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let arch = platform.trim_start_matches("linux/");
        let ran = run(podman().args(["run", "--rm", "--arch", arch, &name]));
        let _ = podman().args(["rmi", "--force", &name]).output();
        assert_eq!(
            String::from_utf8_lossy(&ran.stdout).trim(),
            format!("hello from {machine}")
        );
    }
}

#[test]
fn a_missing_cross_gcc_or_standard_library_is_an_error_before_cargo_runs() {
    if !debian_cross_toolchain() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // No aarch64-linux-gnu-gcc on PATH (cargo and rustc are given by path).
    let empty = d.join("empty-path");
    std::fs::create_dir(&empty).unwrap();
    let mut cmd = husk_debian(d);
    cmd.env("PATH", &empty)
        .args(["--target", "aarch64-unknown-linux-gnu"]);
    let err = refused_build(d, cmd);
    assert!(
        err.contains("apt-get install gcc-aarch64-linux-gnu")
            && err.contains("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER"),
        "{err}"
    );
    assert!(!d.join("target").exists(), "cargo never ran: {err}");
    // A linker the user set is theirs: husk does not ask for the cross gcc.
    let mut cmd = husk_debian(d);
    cmd.env("PATH", &empty)
        .env(
            "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER",
            "/nonexistent/cc",
        )
        .args(["--target", "aarch64-unknown-linux-gnu"]);
    let err = refused_build(d, cmd);
    assert!(!err.contains("apt-get install"), "{err}");
    assert!(
        err.contains("cargo build for aarch64-unknown-linux-gnu failed"),
        "{err}"
    );

    // A standard library that is not installed.
    let mut cmd = husk_debian(d);
    cmd.args(["--target", "x86_64-unknown-linux-gnu"])
        .args(["--target", "riscv64gc-unknown-linux-gnu"]);
    let err = refused_build(d, cmd);
    assert!(
        err.contains("the Rust standard library for riscv64gc-unknown-linux-gnu is not installed")
            && err.contains("rustup target add riscv64gc-unknown-linux-gnu"),
        "{err}"
    );
}

#[test]
fn two_targets_of_one_platform_are_refused_build() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut cmd = husk(&d.join("cache"));
    cmd.current_dir(d)
        .args(["build", "--cargo", "--manifest-path"])
        .arg(hello_package(d))
        .args([
            "--target",
            "x86_64-unknown-linux-gnu,x86_64-unknown-linux-musl",
        ]);
    let err = refused_build(d, cmd);
    assert!(
        err.contains(
            "x86_64-unknown-linux-gnu and x86_64-unknown-linux-musl both build linux/amd64"
        ),
        "{err}"
    );
}

#[test]
fn targets_in_husk_toml_are_a_list() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    hello_package(d);
    std::fs::write(
        d.join("husk.toml"),
        "[cargo]\nmanifest-path = \"hello/Cargo.toml\"\ntarget = [\"aarch64-unknown-linux-gnu\", \"aarch64-unknown-linux-musl\"]\n",
    )
    .unwrap();
    let mut cmd = husk(&d.join("cache"));
    cmd.current_dir(d).arg("build");
    let err = refused_build(d, cmd);
    assert!(err.contains("both build linux/arm64"), "{err}");
    // Every optional target missing here: the error lists each with why.
    std::fs::write(
        d.join("husk.toml"),
        "[cargo]\nmanifest-path = \"hello/Cargo.toml\"\noptional-targets = [\"riscv64gc-unknown-linux-gnu\"]\n",
    )
    .unwrap();
    if rustc_has("riscv64gc-unknown-linux-gnu") {
        return;
    }
    let mut cmd = husk(&d.join("cache"));
    cmd.current_dir(d).arg("build");
    let err = refused_build(d, cmd);
    assert!(
        err.contains("none of the optional targets can be built here")
            && err.contains("rustup target add riscv64gc-unknown-linux-gnu"),
        "{err}"
    );
}

/// Whether the rustc on PATH has `triple`'s standard library.
fn rustc_has(triple: &str) -> bool {
    let out = Command::new("rustc")
        .args(["--print", "target-libdir", "--target", triple])
        .output()
        .unwrap();
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some())
}
