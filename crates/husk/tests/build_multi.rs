//! Multi-platform builds (issue 12): a dynamic C program compiled here with gcc and
//! aarch64-linux-gnu-gcc becomes one OCI index in one `husk build`; the index validates,
//! its platform-independent layers are the same blobs in both images, a second build is
//! byte-identical, a registry round trip keeps every byte, and podman runs both images
//! (arm64 through qemu-user-static and binfmt_misc), each saying its machine. Bad input
//! (two programs for one platform, a program for another machine than the one named, an
//! unsupported machine, arm64 libraries that are not there) fails, writing nothing.
//! `--sbom` gives each platform's image its own documents, attached to its own manifest
//! (layout and registry), and syft and trivy given a platform agree with them.
//! Under CI (CI=true) a missing tool fails these tests.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use husk_elf::testing::ElfBuilder;
use husk_oci::ImageIndex;

const HELLO: &str = r#"#include <stdio.h>
#include <sys/utsname.h>
int main(void) {
    struct utsname u;
    if (uname(&u) != 0) return 1;
    printf("hello from %s\n", u.machine);
    return 0;
}
"#;

/// The two programs (amd64, arm64), or none when a tool is missing outside CI.
fn programs(dir: &Path) -> Option<(PathBuf, PathBuf)> {
    if !require("gcc")
        || !require("aarch64-linux-gnu-gcc")
        || !require_path("/usr/lib/aarch64-linux-gnu/libc.so.6", "libc6:arm64")
        || !require_path("/lib/ld-linux-aarch64.so.1", "libc6:arm64")
    {
        return None;
    }
    let src = dir.join("hello.c");
    std::fs::write(&src, HELLO).unwrap();
    let amd64 = dir.join("hello-amd64");
    let arm64 = dir.join("hello-arm64");
    run(Command::new("gcc")
        .arg("-O2")
        .arg(&src)
        .arg("-o")
        .arg(&amd64));
    run(Command::new("aarch64-linux-gnu-gcc")
        .arg("-O2")
        .arg(&src)
        .arg("-o")
        .arg(&arm64));
    Some((amd64, arm64))
}

/// `husk build` of both programs into `out` (any output reference).
fn build_index(cache: &Path, amd64: &Path, arm64: &Path, out: &str) -> String {
    let o = husk(cache)
        .arg("build")
        .arg(amd64)
        .arg("--platform-exe")
        .arg(format!("linux/arm64={}", arm64.display()))
        .args(["--dest", "/app/hello", "-t", "hello:multi", "-o", out])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "husk build failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap().trim().to_owned()
}

#[test]
fn one_build_makes_an_amd64_and_arm64_index() {
    let dir = tempfile::tempdir().unwrap();
    let Some((amd64, arm64)) = programs(dir.path()) else {
        return;
    };
    let cache = dir.path().join("cache");
    let out = dir.path().join("out");
    let digest = build_index(&cache, &amd64, &arm64, &format!("oci:{}", out.display()));
    let index = open_index(&out);
    assert_eq!(index.digest().to_string(), digest);
    assert_eq!(
        husk_oci::platforms_of(index.document()),
        ["linux/amd64", "linux/arm64/v8"]
    );
    let validated = husk(&cache)
        .args(["validate", &format!("oci:{}", out.display())])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&validated.stdout);
    assert!(validated.status.success(), "{text}");
    assert!(
        text.contains("valid: index and its 2 images verified"),
        "{text}"
    );
    let inspect = husk(&cache)
        .args(["inspect", &format!("oci:{}", out.display())])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&inspect.stdout);
    assert!(
        text.contains("linux/amd64") && text.contains("linux/arm64/v8"),
        "{text}"
    );

    // The system layer is the same blob in both; libraries and app are per platform.
    let layers = layers_by_platform(&index);
    let (amd, arm) = (&layers[0].1, &layers[1].1);
    assert_eq!(amd.len(), 3, "system, libraries, app: {amd:?}");
    assert_eq!(amd[0], arm[0], "the system layer is shared");
    assert_ne!(amd[1], arm[1]);
    assert_ne!(amd[2], arm[2]);

    // The arm64 image holds arm64 libraries only.
    let arm_desc = &index.document().manifests[1];
    let arm_image = index.image(arm_desc).unwrap();
    let config = arm_image.config().unwrap();
    assert_eq!(config.architecture, "arm64");
    let listing = husk(&cache)
        .args([
            "ls",
            "-R",
            &format!("oci:{}", out.display()),
            "--platform",
            "linux/arm64",
        ])
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert!(listing.contains("aarch64-linux-gnu"), "{listing}");
    assert!(!listing.contains("x86_64"), "{listing}");

    // A second build, without the layer cache, is byte-identical.
    let again = dir.path().join("again");
    let digest2 = build_index(
        &dir.path().join("cache2"),
        &amd64,
        &arm64,
        &format!("oci:{}", again.display()),
    );
    assert_eq!(digest, digest2);
    assert_eq!(tree_bytes(&out), tree_bytes(&again));

    // oci-archive: holds the whole index too; docker-archive: needs --platform.
    let archive = dir.path().join("multi.tar");
    let d3 = build_index(
        &cache,
        &amd64,
        &arm64,
        &format!("oci-archive:{}", archive.display()),
    );
    assert_eq!(d3, digest);
    let single = dir.path().join("single.tar");
    let o = husk(&cache)
        .arg("build")
        .arg(&amd64)
        .arg("--platform-exe")
        .arg(format!("linux/arm64={}", arm64.display()))
        .arg("-o")
        .arg(format!("docker-archive:{}", single.display()))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--platform") && err.contains("linux/amd64, linux/arm64/v8"),
        "{err}"
    );
    assert!(!single.exists());
}

#[test]
fn the_index_round_trips_a_registry_and_podman_runs_both_platforms() {
    let dir = tempfile::tempdir().unwrap();
    let Some((amd64, arm64)) = programs(dir.path()) else {
        return;
    };
    if !registry::have_registry() || !require("podman") || !require("skopeo") || !qemu_aarch64() {
        return;
    }
    let cache = dir.path().join("cache");
    let reg = registry::start_registry(false);
    let remote = format!("docker://{}/husk/hello:multi", reg.host());
    let o = husk(&cache)
        .arg("build")
        .arg(&amd64)
        .arg("--platform-exe")
        .arg(format!("linux/arm64={}", arm64.display()))
        .args(["--dest", "/app/hello", "-o", &remote])
        .args(reg.flags())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let digest = String::from_utf8(o.stdout).unwrap().trim().to_owned();

    let raw = run(Command::new("skopeo").args(["inspect", "--raw", "--tls-verify=false", &remote]));
    let raw: serde_json::Value = serde_json::from_slice(&raw.stdout).unwrap();
    assert_eq!(raw["mediaType"], "application/vnd.oci.image.index.v1+json");
    assert_eq!(raw["manifests"].as_array().unwrap().len(), 2);

    // Pulled back whole: the same index bytes.
    let pulled = dir.path().join("pulled");
    let mut pull = husk(&cache);
    pull.args(["pull", &remote, "-o", &format!("oci:{}", pulled.display())])
        .args(reg.flags());
    let o = pull.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(open_index(&pulled).digest().to_string(), digest);

    // podman runs each platform; each says its machine.
    for (platform, machine) in [("linux/amd64", "x86_64"), ("linux/arm64", "aarch64")] {
        let name = format!("localhost/husk-multi-test:{}", &machine);
        let o = husk(&cache)
            .arg("build")
            .arg(&amd64)
            .arg("--platform-exe")
            .arg(format!("linux/arm64={}", arm64.display()))
            .args(["--dest", "/app/hello", "--platform", platform])
            .arg("-o")
            .arg(format!("podman:{name}"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let arch = platform.trim_start_matches("linux/");
        let out = run(podman().args(["run", "--rm", "--arch", arch, &name]));
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(text.trim(), format!("hello from {machine}"));
        let _ = podman().args(["rmi", "--force", &name]).output();
    }
}

fn write_exec(path: &Path, bytes: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, bytes).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// `husk build ARGS -o oci:DIR/img` fails with exit 2 and writes nothing; its stderr.
fn refused(cache: &Path, args: &[String]) -> String {
    let mut cmd = husk(cache);
    cmd.arg("build").args(args);
    refused_build(cache, cmd)
}

#[test]
fn bad_platform_input_is_refused_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let arm = d.join("arm64-static");
    write_exec(&arm, &ElfBuilder::aarch64().no_dynamic().build());
    let x86 = d.join("amd64-static");
    write_exec(&x86, &ElfBuilder::x86_64().no_dynamic().build());
    let i386 = d.join("i386-static");
    write_exec(&i386, &ElfBuilder::i386().no_dynamic().build());
    // An ELF machine with no OCI platform (EM_SPARC).
    let mut sparc_bytes = ElfBuilder::i386().no_dynamic().build();
    sparc_bytes[18..20].copy_from_slice(&2u16.to_le_bytes());
    let sparc = d.join("sparc-static");
    write_exec(&sparc, &sparc_bytes);
    let s = |p: &Path| p.display().to_string();

    // Two executables for one platform.
    let err = refused(
        d,
        &[
            "--platform-exe".into(),
            format!("linux/arm64={}", s(&arm)),
            "--platform-exe".into(),
            format!("linux/arm64={}", s(&x86)),
        ],
    );
    assert!(err.contains("two executables for linux/arm64"), "{err}");
    assert!(err.contains(&s(&arm)) && err.contains(&s(&x86)), "{err}");
    // The entrypoint and a --platform-exe turn out to be the same platform.
    let err = refused(
        d,
        &[
            s(&arm),
            "--platform-exe".into(),
            format!("linux/arm64={}", s(&arm)),
        ],
    );
    assert!(err.contains("two executables for linux/arm64"), "{err}");
    // A 32-bit program named as arm64: the ELF header decides, the file is named.
    let err = refused(
        d,
        &[
            s(&x86),
            "--platform-exe".into(),
            format!("linux/arm64={}", s(&i386)),
        ],
    );
    assert!(
        err.contains(&s(&i386)) && err.contains("linux/386") && err.contains("linux/arm64"),
        "{err}"
    );
    // A machine with no OCI platform.
    let err = refused(
        d,
        &[
            s(&x86),
            "--platform-exe".into(),
            format!("linux/arm64={}", s(&sparc)),
        ],
    );
    assert!(
        err.contains(&s(&sparc)) && err.contains("no OCI platform"),
        "{err}"
    );
    // Platforms that are not Linux platforms husk knows.
    for bad in ["linux/aarch64", "windows/amd64", "arm64"] {
        let err = refused(d, &["--platform-exe".into(), format!("{bad}={}", s(&arm))]);
        assert!(err.contains("invalid --platform-exe"), "{bad}: {err}");
    }
    // --trace traces one program.
    let err = refused(
        d,
        &[
            s(&x86),
            "--platform-exe".into(),
            format!("linux/arm64={}", s(&arm)),
            "--trace".into(),
        ],
    );
    assert!(err.contains("--trace is for one image"), "{err}");
}

#[test]
fn arm64_libraries_come_from_the_sysroot_or_the_error_says_how_to_get_them() {
    let dir = tempfile::tempdir().unwrap();
    let Some((amd64, arm64)) = programs(dir.path()) else {
        return;
    };
    let empty = dir.path().join("empty-root");
    std::fs::create_dir(&empty).unwrap();
    let args = |sysroot: &Path| {
        vec![
            amd64.display().to_string(),
            "--platform-exe".into(),
            format!("linux/arm64={}", arm64.display()),
            "--sysroot".into(),
            format!("linux/arm64={}", sysroot.display()),
        ]
    };
    let err = refused(dir.path(), &args(&empty));
    assert!(
        err.contains(&arm64.display().to_string())
            && err.contains("ld-linux-aarch64.so.1")
            && err.contains("--sysroot linux/arm64=DIR"),
        "{err}"
    );
    // The cross toolchain's tree is a sysroot: the libraries come from it, at the paths
    // they have inside it.
    let cross = Path::new("/usr/aarch64-linux-gnu");
    if !require_path("/usr/aarch64-linux-gnu/lib/libc.so.6", "libc6-arm64-cross") {
        return;
    }
    let out = dir.path().join("out");
    let o = husk(dir.path())
        .arg("build")
        .args(args(cross))
        .arg("-o")
        .arg(format!("oci:{}", out.display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let listing = husk(dir.path())
        .args([
            "ls",
            "-R",
            &format!("oci:{}", out.display()),
            "--platform",
            "linux/arm64",
        ])
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert!(listing.contains("ld-linux-aarch64.so.1"), "{listing}");
    assert!(!listing.contains("usr/aarch64-linux-gnu"), "{listing}");
}

#[test]
fn platform_tables_in_husk_toml() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_exec(&d.join("a"), &ElfBuilder::x86_64().no_dynamic().build());
    write_exec(&d.join("b"), &ElfBuilder::aarch64().no_dynamic().build());
    let toml = d.join("husk.toml");
    std::fs::write(
        &toml,
        "dest = \"/app/x\"\nca-certs = \"none\"\n[[platform]]\nplatform = \"linux/amd64\"\nentrypoint = \"a\"\n[[platform]]\nplatform = \"linux/arm64\"\nentrypoint = \"b\"\n",
    )
    .unwrap();
    let out = d.join("out");
    let o = husk(d)
        .arg("build")
        .arg("--config")
        .arg(&toml)
        .args(["--format", "json"])
        .arg("-o")
        .arg(format!("oci:{}", out.display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let index = open_index(&out);
    assert_eq!(
        husk_oci::platforms_of(index.document()),
        ["linux/amd64", "linux/arm64/v8"]
    );
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["digest"], index.digest().to_string());
    assert_eq!(j["images"].as_array().unwrap().len(), 2);
    assert_eq!(j["images"][1]["platform"], "linux/arm64/v8");
    // The system layer (passwd, group, /tmp) is in both images; the app layers are not.
    let first = &j["images"][0]["layers"];
    assert_eq!(first[0]["shared"], true, "{j}");
    assert_eq!(
        first[first.as_array().unwrap().len() - 1]["shared"],
        false,
        "{j}"
    );
    // An unknown key of a table is an error naming it.
    std::fs::write(
        &toml,
        "[[platform]]\nplatform = \"linux/amd64\"\nexe = \"a\"\n",
    )
    .unwrap();
    let o = husk(d)
        .arg("build")
        .arg("--config")
        .arg(&toml)
        .args(["-o", "oci:nope"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("unknown field `exe`"), "{err}");
}

/// A scanner from the test command's venv (HUSK_SYFT, HUSK_TRIVY) or PATH, or none (a
/// skip outside CI).
fn scanner(var: &str, name: &str) -> Option<PathBuf> {
    let found = std::env::var_os(var).map(PathBuf::from).or_else(|| {
        Command::new(name)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
            .then(|| PathBuf::from(name))
    });
    if found.is_none() {
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true"),
            "CI=true but {name} is missing; scripts/test.sh installs it"
        );
        eprintln!("skipping the scanners: {name} is missing");
    }
    found
}

/// Debian (name, version, arch) of a CycloneDX document's components.
fn debs(doc: &serde_json::Value) -> std::collections::BTreeSet<(String, String, String)> {
    doc["components"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            let purl = c["purl"].as_str()?.strip_prefix("pkg:deb/")?;
            let arch = purl
                .split(['?', '&'])
                .find_map(|q| q.strip_prefix("arch="))
                .unwrap_or_default();
            Some((
                c["name"].as_str()?.to_owned(),
                c["version"].as_str()?.to_owned(),
                arch.to_owned(),
            ))
        })
        .collect()
}

fn json_file(path: &Path) -> serde_json::Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap()
}

/// The subjects of the artifacts an `oci:` layout keeps in its index.json.
fn attached_subjects(layout: &Path) -> Vec<(String, String)> {
    let index = json_file(&layout.join("index.json"));
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| {
            let kind = d["artifactType"].as_str()?.to_owned();
            let hex = d["digest"].as_str()?.strip_prefix("sha256:")?;
            let manifest = json_file(&layout.join("blobs/sha256").join(hex));
            Some((manifest["subject"]["digest"].as_str()?.to_owned(), kind))
        })
        .collect()
}

#[test]
fn each_platform_image_has_its_own_sbom_which_scanners_agree_with() {
    let dir = tempfile::tempdir().unwrap();
    let Some((amd64, arm64)) = programs(dir.path()) else {
        return;
    };
    let d = dir.path();
    let cache = d.join("cache");
    let out = d.join("out");
    let reg = (registry::have_registry()).then(|| registry::start_registry(false));
    let remote = reg
        .as_ref()
        .map(|r| format!("docker://{}/husk/hello:sbom", r.host()));
    let mut build = husk(&cache);
    build
        .arg("build")
        .arg(&amd64)
        .arg("--platform-exe")
        .arg(format!("linux/arm64={}", arm64.display()))
        .args(["--dest", "/app/hello", "-t", "hello:sbom", "--sbom", "all"])
        .arg("--sbom-output")
        .arg(d.join("docs"))
        .arg("-o")
        .arg(format!("oci:{}", out.display()));
    if let (Some(reg), Some(remote)) = (&reg, &remote) {
        build.args(["-o", remote]).args(reg.flags());
    }
    let o = build.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let index = open_index(&out);
    let digests: Vec<String> = index
        .document()
        .manifests
        .iter()
        .map(|m| m.digest.to_string())
        .collect();

    // One pair of documents per image, each of that image: its manifest digest, and the
    // Debian packages of its own architecture.
    for (slug, arch, digest) in [
        ("linux-amd64", "amd64", &digests[0]),
        ("linux-arm64-v8", "arm64", &digests[1]),
    ] {
        let spdx = std::fs::read_to_string(d.join(format!("docs/out.{slug}.spdx.json"))).unwrap();
        assert!(spdx.contains(digest.as_str()), "{slug}: {digest}");
        let cdx = json_file(&d.join(format!("docs/out.{slug}.cdx.json")));
        let pkgs = debs(&cdx);
        assert!(
            pkgs.iter().any(|(n, _, a)| n == "libc6" && a == arch),
            "{slug}: {pkgs:?}"
        );
        // Every library is of the image's architecture; the OS identity files (the shared
        // system layer) are the host's base-files, whatever the platform.
        assert!(
            pkgs.iter()
                .all(|(n, _, a)| a == arch || a == "all" || n == "base-files"),
            "{slug}: {pkgs:?}"
        );
    }
    // Attached to each image's manifest, not to the index.
    let mut subjects = attached_subjects(&out);
    subjects.sort();
    let mut expected: Vec<(String, String)> = digests
        .iter()
        .flat_map(|dg| {
            [
                (dg.clone(), "application/spdx+json".to_owned()),
                (dg.clone(), "application/vnd.cyclonedx+json".to_owned()),
            ]
        })
        .collect();
    expected.sort();
    assert_eq!(subjects, expected);
    assert_index_valid(&cache, &out);

    let (Some(reg), Some(remote)) = (reg, remote) else {
        return;
    };
    // The registry keeps them under each image's fallback tag (no referrers API).
    for digest in &digests {
        let tag = format!(
            "docker://{}/husk/hello:{}",
            reg.host(),
            digest.replace(':', "-")
        );
        let raw =
            run(Command::new("skopeo").args(["inspect", "--raw", "--tls-verify=false", &tag]));
        let raw: serde_json::Value = serde_json::from_slice(&raw.stdout).unwrap();
        assert_eq!(
            raw["manifests"].as_array().unwrap().len(),
            2,
            "{tag}: {raw}"
        );
    }
    let (Some(syft), Some(trivy)) = (scanner("HUSK_SYFT", "syft"), scanner("HUSK_TRIVY", "trivy"))
    else {
        return;
    };
    // Given a platform, syft and trivy read that image of the index from the registry and
    // list exactly the packages of husk's document for it.
    let plain = remote.trim_start_matches("docker://");
    for (platform, slug) in [
        ("linux/amd64", "linux-amd64"),
        ("linux/arm64", "linux-arm64-v8"),
    ] {
        let ours = debs(&json_file(&d.join(format!("docs/out.{slug}.cdx.json"))));
        let names = |s: &std::collections::BTreeSet<(String, String, String)>| {
            s.iter()
                .map(|(n, v, _)| (n.clone(), v.clone()))
                .collect::<std::collections::BTreeSet<_>>()
        };
        let o = Command::new(&syft)
            .arg(format!("registry:{plain}"))
            .args(["--platform", platform, "-o", "cyclonedx-json", "-q"])
            .env("SYFT_CHECK_FOR_APP_UPDATE", "false")
            .env("SYFT_REGISTRY_INSECURE_USE_HTTP", "true")
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "syft: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let theirs = debs(&serde_json::from_slice(&o.stdout).unwrap());
        assert_eq!(names(&theirs), names(&ours), "syft {platform}");
        let o = Command::new(&trivy)
            .args(["image", "--platform", platform, "--insecure"])
            .args([
                "--format",
                "cyclonedx",
                "--quiet",
                "--skip-db-update",
                "--offline-scan",
            ])
            .arg("--cache-dir")
            .arg(d.join("trivy-cache"))
            .arg(plain)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "trivy: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let theirs = debs(&serde_json::from_slice(&o.stdout).unwrap());
        assert_eq!(names(&theirs), names(&ours), "trivy {platform}");
    }
}

#[path = "common/registry.rs"]
mod registry;
