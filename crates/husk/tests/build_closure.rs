//! `husk build` of (a) a static binary, (b) a dynamically linked C program compiled here
//! with a private library found via $ORIGIN, (c) a dynamically linked system binary: the
//! library layer holds exactly the closure `ldd` (the real loader) reports, plus the NSS
//! modules; outputs validate, and builds are byte-reproducible.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// Host paths of everything the real loader maps for `bin`, canonicalised.
fn ldd_closure(bin: &Path) -> BTreeSet<PathBuf> {
    let out = run(Command::new("ldd").arg(bin));
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            let path = match l.split_once("=>") {
                Some((_, rhs)) => rhs.trim().split(' ').next()?,
                None => l.split(' ').next()?,
            };
            path.starts_with('/')
                .then(|| Path::new(path).canonicalize().unwrap())
        })
        .collect()
}

fn nss_modules() -> BTreeSet<PathBuf> {
    ["libnss_files.so.2", "libnss_dns.so.2"]
        .iter()
        .map(|n| Path::new("/lib/x86_64-linux-gnu").join(n))
        .filter(|p| p.exists())
        .map(|p| p.canonicalize().unwrap())
        .collect()
}

fn build(cache: &Path, out: &Path, bin: &Path, extra: &[&str]) -> String {
    let o = husk(cache)
        .arg("build")
        .arg(bin)
        .arg("--output")
        .arg(format!("oci:{}", out.display()))
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap().trim().to_owned()
}

/// Regular files of a layer, as image paths.
fn files(layer: &[TarEntry]) -> BTreeSet<String> {
    layer
        .iter()
        .filter(|e| e.kind == 'f')
        .map(|e| format!("/{}", e.path))
        .collect()
}

#[test]
fn static_binary_gets_no_library_layer() {
    if !require("gcc") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let bin = whoami_static(t.path());
    let out = t.path().join("img");
    build(t.path(), &out, &bin, &[]);
    assert_valid(t.path(), &format!("oci:{}", out.display()));
    let layers = layers(&out);
    assert_eq!(layers.len(), 2, "system + app only: {layers:#?}");
    assert_eq!(
        files(&layers[1]),
        BTreeSet::from(["/app/whoami-static".to_owned()])
    );
    let app = layers[1].iter().find(|e| e.kind == 'f').unwrap();
    assert_eq!((app.mode, app.uid, app.gid), (0o555, 0, 0));
    let cfg = config(&out);
    assert_eq!(cfg.architecture, "amd64");
    assert_eq!(cfg.os, "linux");
    let rc = cfg.config.unwrap();
    assert_eq!(rc.user.as_deref(), Some("65532:65532"));
    assert_eq!(rc.entrypoint.unwrap(), vec!["/app/whoami-static"]);
}

#[test]
fn dynamic_program_closure_matches_ldd() {
    if !require("gcc") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let bin = whoami_dynamic(t.path());
    let out = t.path().join("img");
    build(t.path(), &out, &bin, &[]);
    assert_valid(t.path(), &format!("oci:{}", out.display()));
    let layers = layers(&out);
    assert_eq!(layers.len(), 3);
    let lib_files = files(&layers[1]);
    // The private library lands beside the binary's image path, where $ORIGIN/lib points.
    assert!(lib_files.contains("/app/lib/libgreet.so"), "{lib_files:#?}");
    let host_side: BTreeSet<PathBuf> = lib_files
        .iter()
        .filter(|p| !p.starts_with("/app/"))
        .map(PathBuf::from)
        .collect();
    let mut want: BTreeSet<PathBuf> = ldd_closure(&bin)
        .into_iter()
        .filter(|p| !p.starts_with(t.path().canonicalize().unwrap()))
        .collect();
    want.extend(nss_modules());
    assert_eq!(host_side, want);
    // The symlink names the binary asks for exist too (the loader path is a symlink chain).
    let interp = layers[1].iter().find(|e| {
        e.path == "usr/lib64/ld-linux-x86-64.so.2" || e.path == "lib64/ld-linux-x86-64.so.2"
    });
    assert!(interp.is_some(), "{:#?}", layers[1]);
}

#[test]
fn system_binary_closure_matches_ldd() {
    let t = tempfile::tempdir().unwrap();
    let bin = Path::new("/usr/bin/ls");
    let out = t.path().join("img");
    build(t.path(), &out, bin, &["--compression", "zstd"]);
    assert_valid(t.path(), &format!("oci:{}", out.display()));
    let layers = layers(&out);
    let mut want = ldd_closure(bin);
    want.extend(nss_modules());
    let got: BTreeSet<PathBuf> = files(&layers[1]).into_iter().map(PathBuf::from).collect();
    assert_eq!(got, want);
}

#[test]
fn system_layer_has_users_ca_and_tmp() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("img");
    build(
        t.path(),
        &out,
        Path::new("/usr/bin/ls"),
        &["--user", "1000:1001"],
    );
    let layers = layers(&out);
    let sys = &layers[0];
    let get = |p: &str| {
        sys.iter()
            .find(|e| e.path.trim_end_matches('/') == p)
            .cloned()
    };
    let tmp = get("tmp").expect("/tmp");
    assert_eq!((tmp.kind, tmp.mode), ('d', 0o1777));
    let home = get("home/app").expect("home");
    assert_eq!((home.uid, home.gid, home.mode), (1000, 1001, 0o700));
    for f in [
        "etc/passwd",
        "etc/group",
        "etc/nsswitch.conf",
        "etc/ssl/certs/ca-certificates.crt",
    ] {
        let e = get(f).unwrap_or_else(|| panic!("{f} missing"));
        assert_eq!((e.kind, e.mode, e.uid), ('f', 0o444, 0), "{f}");
    }
    let env = config(&out).config.unwrap().env.unwrap();
    assert!(env.contains(&"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt".to_owned()));
    // Every entry is owned numerically, mtime-free, sorted with parents first.
    for layer in &layers {
        let paths: Vec<&str> = layer.iter().map(|e| e.path.as_str()).collect();
        let mut sorted = paths.clone();
        sorted.sort();
        assert_eq!(paths, sorted);
    }
}

#[test]
fn no_switches_leave_things_out() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("img");
    build(
        t.path(),
        &out,
        Path::new("/usr/bin/ls"),
        &["--no-ca-certs", "--no-tmp", "--no-passwd", "--no-nss"],
    );
    let all: Vec<String> = layers(&out).concat().into_iter().map(|e| e.path).collect();
    for gone in ["tmp/", "etc/passwd", "etc/ssl/certs/ca-certificates.crt"] {
        assert!(!all.iter().any(|p| p == gone), "{gone} present");
    }
    assert!(!all.iter().any(|p| p.contains("libnss_")));
    let env = config(&out).config.unwrap().env.unwrap();
    assert!(!env.iter().any(|e| e.starts_with("SSL_CERT_FILE=")));
}

#[test]
fn builds_are_reproducible() {
    let t = tempfile::tempdir().unwrap();
    let bin = Path::new("/usr/bin/ls");
    // Each build has its own cache, so none reuses another's blobs.
    let run = |name: &str, args: &[&str]| {
        build(
            &t.path().join(format!("cache-{name}")),
            &t.path().join(name),
            bin,
            args,
        )
    };
    let a = run("a", &["--label", "x=1"]);
    assert_eq!(a, run("b", &["--label", "x=1"]));
    // The single-pass path (no cache) writes the same bytes as the cached two-pass one.
    assert_eq!(a, run("nc", &["--label", "x=1", "--no-cache"]));
    let za = run("za", &["--compression", "zstd"]);
    assert_eq!(za, run("zb", &["--compression", "zstd"]));
    assert_ne!(a, za);
    // SOURCE_DATE_EPOCH changes mtimes and created, so the digest.
    let o = husk(&t.path().join("c5"))
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .args(["build", "/usr/bin/ls", "--label", "x=1", "-o"])
        .arg(format!("oci:{}", t.path().join("e").display()))
        .output()
        .unwrap();
    assert!(o.status.success());
    assert_ne!(String::from_utf8_lossy(&o.stdout).trim(), a);
    assert_eq!(
        config(&t.path().join("e")).created.as_deref(),
        Some("2023-11-14T22:13:20Z")
    );
}

#[test]
fn cached_rebuild_reuses_layers() {
    let t = tempfile::tempdir().unwrap();
    let cache = t.path().join("cache");
    let build_json = |out: &str| -> serde_json::Value {
        let o = husk(&cache)
            .args(["build", "/usr/bin/ls", "--format", "json", "-o"])
            .arg(format!("oci:{}", t.path().join(out).display()))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let j1 = build_json("a");
    let j2 = build_json("b");
    assert_eq!(j1["digest"], j2["digest"]);
    assert!(
        j1["layers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["reused"] == false)
    );
    assert!(
        j2["layers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["reused"] == true)
    );
    assert_valid(&cache, &format!("oci:{}", t.path().join("b").display()));
    // Output blobs may be linked from the build's own files, but never share an inode
    // with the cache (a change to one must not reach the other).
    use std::os::unix::fs::MetadataExt;
    let inodes = |dir: &Path| -> BTreeSet<u64> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().ino())
            .collect()
    };
    let cached = inodes(&cache);
    for dir in ["a", "b"] {
        let out = inodes(&t.path().join(dir).join("blobs/sha256"));
        assert!(
            out.is_disjoint(&cached),
            "{dir} shares an inode with the cache"
        );
    }
}
