//! Helpers shared by husk's integration tests: the built binary, real third-party tools
//! (podman, skopeo, umoci, gcc) that must exist under CI, C fixtures compiled per test,
//! and reading layers back through husk's own library.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use husk_oci::{ImageIndex as _, Layer};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The husk binary, with a private layer cache.
pub fn husk(cache: &Path) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("husk").unwrap();
    c.env("HUSK_CACHE_DIR", cache)
        .env_remove("SOURCE_DATE_EPOCH")
        .env("CONTAINERS_CONF", containers_conf());
    c
}

pub fn containers_conf() -> PathBuf {
    repo_root().join("tests/engine/containers.conf")
}

/// Held by a test while it changes podman's storage (build, load, pull, remove, and the
/// runs of images it may remove). A test binary's tests run in parallel threads, and
/// podman 4.3's storage is not safe against one process removing images while another
/// builds, loads or pulls images that share layers with them: seen as "image not known"
/// for an image just loaded (demo_e2e) and "getting top layer info: layer not known" in
/// `podman build`'s cache check (doctor_e2e, while another test imported an image). The
/// slow parts (husk and cargo builds) stay outside it where they can. Tests also build
/// with `podman build --no-cache`: the cache check reads every image in the store, so one
/// damaged image anywhere would fail every cached build.
pub fn podman_storage() -> std::sync::MutexGuard<'static, ()> {
    static PODMAN_STORAGE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    PODMAN_STORAGE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Whether `tool` can run. Under CI (CI=true) a missing tool fails the test: the test
/// command installs every tool, so missing means broken setup, never a silent skip.
pub fn require(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{tool} is required under CI but is not installed (run scripts/test.sh)");
        }
        eprintln!("skipping: {tool} is not installed");
    }
    ok
}

/// Whether `path` exists; like [`require`], a missing file fails under CI (the test
/// command installs `package`, which provides it).
pub fn require_path(path: &str, package: &str) -> bool {
    let ok = Path::new(path).exists();
    if !ok {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{path} (package {package}) is required under CI but missing");
        }
        eprintln!("skipping: {path} is missing (install {package})");
    }
    ok
}

pub fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn podman() -> Command {
    let mut c = Command::new("podman");
    c.env("CONTAINERS_CONF", containers_conf());
    c
}

/// Compile a C fixture with gcc into `dir`.
pub fn cc(dir: &Path, out: &str, args: &[&str]) -> PathBuf {
    let path = dir.join(out);
    run(Command::new("gcc").args(args).arg("-o").arg(&path));
    path
}

/// The dynamically linked whoami fixture, with a private libgreet found via $ORIGIN/lib.
pub fn whoami_dynamic(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir.join("lib")).unwrap();
    let greet = fixture("greet.c");
    cc(
        dir,
        "lib/libgreet.so",
        &["-shared", "-fPIC", greet.to_str().unwrap()],
    );
    let src = fixture("whoami.c");
    cc(
        dir,
        "whoami",
        &[
            "-DWITH_GREET",
            src.to_str().unwrap(),
            "-L",
            dir.join("lib").to_str().unwrap(),
            "-lgreet",
            "-lm",
            "-Wl,-rpath,$ORIGIN/lib",
            "-Wl,--enable-new-dtags",
        ],
    )
}

/// The statically linked whoami fixture.
pub fn whoami_static(dir: &Path) -> PathBuf {
    let src = fixture("whoami.c");
    cc(
        dir,
        "whoami-static",
        &["-static", "-O1", src.to_str().unwrap()],
    )
}

/// One tar entry of a layer, as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TarEntry {
    pub path: String,
    pub kind: char,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub link: Option<String>,
    pub size: u64,
}

/// Every layer's entries of the image at `oci:DIR`.
pub fn layers(dir: &Path) -> Vec<Vec<TarEntry>> {
    let image = husk_formats::open_oci_dir(dir, None, &husk_oci::PlatformChoice::Only).unwrap();
    let layers = husk_oci::layers_of(&image).unwrap();
    layers
        .iter()
        .map(|l| {
            let mut a = tar::Archive::new(l.open_uncompressed().unwrap());
            a.entries()
                .unwrap()
                .map(|e| {
                    let e = e.unwrap();
                    let h = e.header();
                    TarEntry {
                        path: String::from_utf8(e.path_bytes().into_owned()).unwrap(),
                        kind: match h.entry_type() {
                            tar::EntryType::Directory => 'd',
                            tar::EntryType::Symlink => 'l',
                            tar::EntryType::Regular => 'f',
                            other => panic!("unexpected entry type {other:?}"),
                        },
                        mode: h.mode().unwrap(),
                        uid: h.uid().unwrap(),
                        gid: h.gid().unwrap(),
                        link: e
                            .link_name_bytes()
                            .map(|l| String::from_utf8(l.into_owned()).unwrap()),
                        size: h.size().unwrap(),
                    }
                })
                .collect()
        })
        .collect()
}

/// The config of the image at `oci:DIR`.
pub fn config(dir: &Path) -> husk_oci::ImageConfig {
    use husk_oci::Image;
    husk_formats::open_oci_dir(dir, None, &husk_oci::PlatformChoice::Only)
        .unwrap()
        .config()
        .unwrap()
}

/// `husk validate` must pass.
pub fn assert_valid(cache: &Path, reference: &str) {
    let out = husk(cache).args(["validate", reference]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("valid: manifest, config and"),
        "validate {reference} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The outcome of one husk run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Run husk in `dir` (cache in `dir/cache`) and capture everything.
pub fn husk_run(dir: &Path, args: &[&str]) -> Run {
    let o = husk(&dir.join("cache"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if "\\.+*?()|[]{}^$".contains(c) {
                vec!['\\', c]
            } else {
                vec![c]
            }
        })
        .collect()
}

/// insta settings for CLI snapshots: `dir` becomes `[TMP]`, digests `sha256:[DIGEST]`,
/// then the caller's `extra` filters, then human sizes `[SIZE]`.
pub fn snapshot_settings(dir: &Path, extra: &[(&str, &str)]) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(&regex_escape(&dir.display().to_string()), "[TMP]");
    s.add_filter(r"sha256:[0-9a-f]{64}", "sha256:[DIGEST]");
    for (re, with) in extra {
        s.add_filter(re, *with);
    }
    s.add_filter(r"\d+(\.\d)? (B|KiB|MiB)", "[SIZE]");
    s
}

/// binfmt_misc with qemu-aarch64, mounted and enabled when it is not (as root).
pub fn qemu_aarch64() -> bool {
    let entry = Path::new("/proc/sys/fs/binfmt_misc/qemu-aarch64");
    if !entry.exists() {
        if !Path::new("/proc/sys/fs/binfmt_misc/register").exists() {
            let _ = Command::new("mount")
                .args([
                    "-t",
                    "binfmt_misc",
                    "binfmt_misc",
                    "/proc/sys/fs/binfmt_misc",
                ])
                .status();
        }
        let _ = Command::new("update-binfmts")
            .args(["--enable", "qemu-aarch64"])
            .status();
    }
    let ok = std::fs::read_to_string(entry).is_ok_and(|s| s.starts_with("enabled"));
    if !ok {
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true"),
            "qemu-aarch64 is not registered in binfmt_misc under CI (install qemu-user-static and binfmt-support, mount binfmt_misc)"
        );
        eprintln!("skipping: qemu-aarch64 is not registered in binfmt_misc");
    }
    ok
}

/// `husk validate` of the whole index in the `oci:` layout `dir` passes.
pub fn assert_index_valid(cache: &Path, dir: &Path) {
    let o = husk(cache)
        .args(["validate", &format!("oci:{}", dir.display())])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && text.contains("valid: index and its 2 images verified"),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `CMD -o oci:DIR/img` (a `husk build` command line) fails with exit 2 and writes
/// nothing; its stderr.
pub fn refused_build(dir: &Path, mut cmd: assert_cmd::Command) -> String {
    let img = dir.join("img");
    let o = cmd
        .arg("-o")
        .arg(format!("oci:{}", img.display()))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!img.exists(), "nothing is written: {err}");
    err
}

/// The image index of the `oci:` layout `dir`.
pub fn open_index(dir: &Path) -> husk_oci::OwnedIndex {
    let r: husk_formats::LocalRef = format!("oci:{}", dir.display()).parse().unwrap();
    husk_formats::open_index(&r).unwrap().expect("an index")
}

/// Every layer digest of each image of the index, by platform.
pub fn layers_by_platform(index: &husk_oci::OwnedIndex) -> Vec<(String, Vec<husk_oci::Digest>)> {
    index
        .document()
        .manifests
        .iter()
        .map(|d| {
            let image = index.image(d).unwrap();
            let layers = image.manifest().unwrap().layers;
            (
                d.platform.as_ref().unwrap().to_string(),
                layers.into_iter().map(|l| l.digest).collect(),
            )
        })
        .collect()
}

/// Every file under `dir` with its bytes, sorted.
pub fn tree_bytes(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

/// Debian's own Rust toolchain (`cargo-web`, `rustc-web`: Rust 1.96 from bookworm-security,
/// installed as /usr/bin/cargo and /usr/bin/rustc), whose arm64 standard library Debian
/// ships as `libstd-rust-web-dev:arm64`. rustup's toolchains here have only the x86_64
/// standard library and rustup has no network, so the cross builds use this one, given to
/// husk as `CARGO`/`RUSTC` for that command only (rustup's cargo stays first on PATH).
pub const DEBIAN_CARGO: &str = "/usr/bin/cargo";
pub const DEBIAN_RUSTC: &str = "/usr/bin/rustc";

/// Debian's toolchain with the arm64 standard library, the cross gcc and arm64 libc, or
/// false (a skip outside CI) when one is missing.
pub fn debian_cross_toolchain() -> bool {
    require_path(DEBIAN_CARGO, "cargo-web")
        && require_path(DEBIAN_RUSTC, "rustc-web")
        && require_path(
            "/usr/lib/rustlib/aarch64-unknown-linux-gnu/lib",
            "libstd-rust-web-dev:arm64",
        )
        && require("aarch64-linux-gnu-gcc")
        && require_path("/usr/lib/aarch64-linux-gnu/libc.so.6", "libc6:arm64")
}

/// Store `bytes` as a blob of the OCI layout at `dir`: its digest and size.
pub fn put_blob(dir: &Path, bytes: &[u8]) -> (husk_oci::Digest, usize) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let d = husk_oci::Digest::sha256(bytes);
    std::fs::write(blobs.join(d.hex()), bytes).unwrap();
    (d, bytes.len())
}

/// The documents of an OCI layout at `dir` (tagged `t`) whose layer blobs are stored:
/// `config` (whole, its rootfs included) and the manifest listing `layers` (their
/// descriptors); its reference. For tests that craft images.
pub fn write_layout(
    dir: &Path,
    config: &serde_json::Value,
    layers: &[serde_json::Value],
) -> String {
    let (cd, cs) = put_blob(dir, config.to_string().as_bytes());
    let manifest = serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": cd.to_string(), "size": cs},
        "layers": layers,
    });
    let (md, ms) = put_blob(dir, manifest.to_string().as_bytes());
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": md.to_string(), "size": ms,
        "annotations": {"org.opencontainers.image.ref.name": "t"}}]});
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    format!("oci:{}:t", dir.display())
}

/// A gzip layer of `tar` stored in the layout at `dir`: its descriptor and diff_id.
pub fn put_gzip_layer(dir: &Path, tar: &[u8]) -> (serde_json::Value, String) {
    use std::io::Write as _;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(tar).unwrap();
    let (d, size) = put_blob(dir, &e.finish().unwrap());
    let desc = serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
        "digest": d.to_string(), "size": size});
    (desc, husk_oci::Digest::sha256(tar).to_string())
}

/// An OCI layout at `dir` (tagged `t`) of one gzip layer `tar`, with `config` as the
/// image's run config (`{}` for none); its reference.
pub fn oci_layout_of_tar(dir: &Path, tar: &[u8], config: serde_json::Value) -> String {
    let (layer, diff_id) = put_gzip_layer(dir, tar);
    let config = serde_json::json!({"architecture": "amd64", "os": "linux", "config": config,
        "rootfs": {"type": "layers", "diff_ids": [diff_id]}});
    write_layout(dir, &config, &[layer])
}
