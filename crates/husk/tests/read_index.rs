//! The commands that read one image (ls, cat, cp, layers, sbom, ...) given a
//! multi-platform index: without `--platform` they read the image for this machine, as
//! docker, podman and skopeo pick; an index of one image gives that image whatever its
//! platform; an index without this machine's image is an error that names the machine's
//! platform and lists the index's, and `--platform` reads any image it lists. `inspect`
//! of an index still shows the index.

mod common;
#[path = "common/index.rs"]
mod index;

use std::path::Path;

use common::husk;
use index::{edited_copy, good_index};
use serde_json::Value;

/// The ELF machine (e_machine) of `/app` in the image `args` name, read with `husk cat`.
fn machine_of_app(d: &Path, args: &[&str]) -> u16 {
    let o = husk(d).arg("cat").args(args).arg("/app").output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(&o.stdout[..4], b"\x7fELF");
    u16::from_le_bytes([o.stdout[18], o.stdout[19]])
}

const X86_64: u16 = 62;
const AARCH64: u16 = 183;

#[test]
fn reading_an_index_takes_this_machines_image_or_asks() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let good = good_index(d);
    let host = husk_oci::host_platform();

    // --platform reads the image it names.
    assert_eq!(
        machine_of_app(d, &[&good, "--platform", "linux/amd64"]),
        X86_64
    );
    assert_eq!(
        machine_of_app(d, &[&good, "--platform", "linux/arm64"]),
        AARCH64
    );
    // Without it: this machine's.
    let native = match host.architecture.as_str() {
        "amd64" => Some(X86_64),
        "arm64" => Some(AARCH64),
        _ => None,
    };
    if let Some(native) = native {
        assert_eq!(machine_of_app(d, &[&good]), native);
        for cmd in [&["ls", "-l"][..], &["layers"], &["sbom"], &["tree"]] {
            let o = husk(d).args(cmd).arg(&good).output().unwrap();
            assert!(
                o.status.success(),
                "{cmd:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
    // inspect of the index still lists it.
    let o = husk(d).args(["inspect", &good]).output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("linux/amd64") && text.contains("linux/arm64/v8"),
        "{text}"
    );

    // An index of two images, neither for this machine: an error naming the machine's
    // platform and listing the index's; --platform reads either.
    let foreign = d.join("foreign");
    edited_copy(&d.join("good"), &foreign, |m| {
        m[0]["platform"] = serde_json::json!({"os": "linux", "architecture": "s390x"});
        m[1]["platform"] = serde_json::json!({"os": "linux", "architecture": "riscv64"});
    });
    let foreign = format!("oci:{}", foreign.display());
    let o = husk(d).args(["ls", &foreign]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("no image for this machine ({host})"))
            && err.contains("--platform")
            && err.contains("linux/s390x, linux/riscv64"),
        "{err}"
    );
    assert!(o.stdout.is_empty());
    assert_eq!(
        machine_of_app(d, &[&foreign, "--platform", "linux/riscv64"]),
        AARCH64
    );

    // An index of one image: that image, whatever its platform (and the attestation
    // manifest beside it, as BuildKit writes, is not an image).
    let one = d.join("one");
    edited_copy(&d.join("good"), &one, |m| {
        let arm = m.remove(1);
        let mut attestation = arm.clone();
        attestation["platform"] = serde_json::json!({"os": "unknown", "architecture": "unknown"});
        *m = vec![attestation, arm];
    });
    let one = format!("oci:{}", one.display());
    assert_eq!(machine_of_app(d, &[&one]), AARCH64);
    let o = husk(d)
        .args(["layers", &one, "--format", "json"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let _: Value = serde_json::from_slice(&o.stdout).unwrap();
}

/// As in POSIX, a PATH ending in `/` or `/.` names a directory: `cat`, `ls`, `cp` and
/// `tree` say "not a directory" for a file there, and take a directory as before.
#[test]
fn a_path_ending_in_a_slash_names_a_directory() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let good = good_index(d);
    let one = ["--platform", "linux/amd64"];
    for args in [
        &["cat", &good, "/app/"][..],
        &["cat", &good, "/app/."],
        &["ls", &good, "/app/"],
        &["tree", &good, "/app/"],
    ] {
        let o = husk(d).args(args).args(one).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("not a directory"), "{args:?}: {err}");
    }
    let dest = d.join("out");
    let o = husk(d)
        .args(["cp", &good, "/app/"])
        .arg(&dest)
        .args(one)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(!dest.exists(), "nothing written");
    for args in [&["ls", &good, "/etc/"][..], &["tree", &good, "/etc/."]] {
        let o = husk(d).args(args).args(one).output().unwrap();
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(String::from_utf8_lossy(&o.stdout).contains("passwd"));
    }
}
