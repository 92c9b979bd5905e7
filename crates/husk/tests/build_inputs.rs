//! `husk build` inputs beyond a host executable: the platform comes from the ELF header
//! (never the host), a missing or foreign library is an error that names it and its
//! requester, scripts run when their interpreter is added, --tzdata adds zoneinfo.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use husk_elf::testing::ElfBuilder;

fn write_exec(path: &Path, bytes: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, bytes).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// `husk build BIN -o oci:DIR/img` must fail with exit 2 and write nothing; its stderr.
fn build_fails(dir: &Path, bin: &Path) -> String {
    let img = dir.join("img");
    let o = husk(dir)
        .arg("build")
        .arg(bin)
        .arg("-o")
        .arg(format!("oci:{}", img.display()))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(!img.exists());
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn platform_comes_from_the_elf_header() {
    let t = tempfile::tempdir().unwrap();
    // A static aarch64 executable (no interpreter, no DT_NEEDED) builds into an arm64 image
    // on this amd64 host.
    let bin = t.path().join("arm-app");
    write_exec(&bin, &ElfBuilder::aarch64().no_dynamic().build());
    let out = t.path().join("img");
    let o = husk(t.path())
        .arg("build")
        .arg(&bin)
        .arg("-o")
        .arg(format!("oci:{}", out.display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cfg = config(&out);
    assert_eq!(
        (cfg.os.as_str(), cfg.architecture.as_str()),
        ("linux", "arm64")
    );
    assert_eq!(cfg.variant.as_deref(), Some("v8"));
    assert_valid(t.path(), &format!("oci:{}", out.display()));
}

#[test]
fn foreign_interpreter_is_a_clear_error() {
    let t = tempfile::tempdir().unwrap();
    let bin = t.path().join("arm-dyn");
    // An interpreter no host has (the multi-platform tests install the real arm64 loader,
    // /lib/ld-linux-aarch64.so.1, so that one would be found).
    write_exec(
        &bin,
        &ElfBuilder::aarch64()
            .interp("/lib/ld-husk-absent-aarch64.so.1")
            .needed("libc.so.6")
            .build(),
    );
    let err = build_fails(t.path(), &bin);
    assert!(err.contains("ld-husk-absent-aarch64.so.1"), "{err}");
}

#[test]
fn missing_library_names_it_and_its_requester() {
    if !require("gcc") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let bin = whoami_dynamic(t.path());
    std::fs::remove_file(t.path().join("lib/libgreet.so")).unwrap();
    let err = build_fails(t.path(), &bin);
    assert!(err.contains("libgreet.so"), "{err}");
    assert!(err.contains("whoami"), "{err}");
}

#[test]
fn added_elf_files_get_their_closure_too() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("img");
    // A static entrypoint plus a dynamic system binary added with --file: the added
    // binary's libraries are resolved as well.
    let static_bin = t.path().join("static-app");
    write_exec(&static_bin, &ElfBuilder::x86_64().no_dynamic().build());
    let o = husk(t.path())
        .arg("build")
        .arg(&static_bin)
        .args(["--file", "/usr/bin/ls:/usr/bin/ls", "-o"])
        .arg(format!("oci:{}", out.display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let all: Vec<String> = layers(&out).concat().into_iter().map(|e| e.path).collect();
    assert!(all.iter().any(|p| p.ends_with("/libc.so.6")), "{all:#?}");
    assert!(
        all.iter().any(|p| p.ends_with("/libselinux.so.1")),
        "{all:#?}"
    );
}

#[test]
fn script_runs_with_its_interpreter_added() {
    if !require("podman") || !require_path("/bin/busybox", "busybox-static") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let script = t.path().join("hello.sh");
    write_exec(&script, b"#!/bin/sh\necho \"hello from $0 as $(id -u)\"\n");
    let name = format!("localhost/husk-script-{}:1", std::process::id());
    let _storage = podman_storage();
    let o = husk(t.path())
        .arg("build")
        .arg(&script)
        .args([
            "--file",
            "/bin/busybox:/bin/sh",
            "--file",
            "/bin/busybox:/bin/id",
        ])
        .args(["--tag", &name, "--load", "podman"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = run(podman().args(["run", "--rm", "--network=none", &name]));
    let _ = podman().args(["rmi", "-f", &name]).output();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello from /app/hello.sh as 65532\n"
    );
}

#[test]
fn tzdata_adds_zoneinfo() {
    if !require_path("/usr/share/zoneinfo/UTC", "tzdata") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("img");
    let o = husk(t.path())
        .args(["build", "/usr/bin/ls", "--tzdata", "-o"])
        .arg(format!("oci:{}", out.display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let sys = &layers(&out)[0];
    assert!(
        sys.iter()
            .any(|e| e.path == "usr/share/zoneinfo/UTC" || e.path == "usr/share/zoneinfo/Etc/UTC"),
        "no zoneinfo in the system layer"
    );
}

/// A library the host finds only through its ld.so.cache (here: a directory listed in a
/// private ld.so.conf, cached with ldconfig and bind-mounted over /etc/ld.so.cache in a
/// private mount namespace, so the host is untouched) must still load in the image, which
/// has no ld.so.cache.
#[test]
fn library_found_only_through_the_host_cache_loads_in_the_image() {
    if !require("podman") || !require("gcc") || !require("unshare") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let libdir = t.path().join("opt/greet/lib");
    std::fs::create_dir_all(&libdir).unwrap();
    let greet = fixture("greet.c");
    cc(
        &libdir,
        "libgreet.so",
        &["-shared", "-fPIC", greet.to_str().unwrap()],
    );
    // Linked without any RPATH/RUNPATH: only the cache can find libgreet.
    let src = fixture("whoami.c");
    let bin = cc(
        t.path(),
        "whoami-cached",
        &[
            "-DWITH_GREET",
            src.to_str().unwrap(),
            "-L",
            libdir.to_str().unwrap(),
            "-lgreet",
        ],
    );
    let conf = t.path().join("ld.so.conf");
    std::fs::write(&conf, format!("{}\n", libdir.display())).unwrap();
    let cache = t.path().join("ld.so.cache");
    run(Command::new("ldconfig")
        .arg("-f")
        .arg(&conf)
        .arg("-C")
        .arg(&cache));
    let archive = t.path().join("img.tar");
    let name = format!("localhost/husk-cache-lib-{}:1", std::process::id());
    let husk_bin = assert_cmd::cargo::cargo_bin("husk");
    let script = format!(
        "mount --bind '{}' /etc/ld.so.cache && exec '{}' build '{}' --tag '{}' -o 'docker-archive:{}'",
        cache.display(),
        husk_bin.display(),
        bin.display(),
        name,
        archive.display()
    );
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .env("HUSK_CACHE_DIR", t.path().join("husk-cache"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "build in a private mount namespace failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _storage = podman_storage();
    run(podman().arg("load").arg("-i").arg(&archive));
    let ran = podman()
        .args(["run", "--rm", "--network=none", &name])
        .output()
        .unwrap();
    let _ = podman().args(["rmi", "-f", &name]).output();
    let stdout = String::from_utf8_lossy(&ran.stdout);
    assert!(
        ran.status.success() && stdout.contains("greet=hello from libgreet"),
        "{stdout}{}",
        String::from_utf8_lossy(&ran.stderr)
    );
}
