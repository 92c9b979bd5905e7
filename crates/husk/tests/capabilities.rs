//! File capabilities (`security.capability`, what `setcap` writes) in layers: a layer
//! crafted as docker and podman write one (a PAX `SCHILY.xattr.security.capability`
//! record before the entry) is audited (HUSK-I030), diffed against the same image without
//! it, listed by `ls -l` and kept by `export DEST.tar`; and, where podman and setcap are
//! there, the same for an image podman builds by COPYing a file `setcap` marked.

mod common;

use std::path::Path;

use common::*;

/// `vfs_cap_data` revision 2, effective, with `permitted` (bits of linux/capability.h).
fn vfs_cap(permitted: u32) -> Vec<u8> {
    let mut v = Vec::new();
    for w in [0x0200_0001u32, permitted, 0, 0, 0] {
        v.extend_from_slice(&w.to_le_bytes());
    }
    v
}

const CAP_SETUID: u32 = 1 << 7;
const CAP_NET_BIND_SERVICE: u32 = 1 << 10;

/// A layer with /bin/tool and /bin/web, each with the capabilities given (or none).
fn layer(tool: Option<u32>, web: Option<u32>) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, caps) in [("bin/tool", tool), ("bin/web", web)] {
        if let Some(c) = caps {
            let blob = vfs_cap(c);
            b.append_pax_extensions([("SCHILY.xattr.security.capability", blob.as_slice())])
                .unwrap();
        }
        let mut h = tar::Header::new_ustar();
        h.set_mode(0o755);
        h.set_size(2);
        h.set_cksum();
        b.append_data(&mut h, name, &b"#!"[..]).unwrap();
    }
    b.into_inner().unwrap()
}

/// An OCI layout at `dir` of one gzip layer `tar`; its reference.
fn layout(dir: &Path, tar: &[u8]) -> String {
    let config = serde_json::json!({"User": "1000:1000", "Entrypoint": ["/bin/web"]});
    oci_layout_of_tar(dir, tar, config)
}

/// The HUSK-I030 lines of a text audit.
fn i030(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line.contains("HUSK-") && !line.starts_with(' ') {
            inside = line.contains("HUSK-I030");
        }
        if inside && line.starts_with("  - ") {
            out.push(line);
        }
    }
    out
}

#[test]
fn file_capabilities_are_audited_diffed_listed_and_exported() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let plain = layout(&dir.join("plain"), &layer(None, None));
    let caps = layout(
        &dir.join("caps"),
        &layer(Some(CAP_SETUID), Some(CAP_NET_BIND_SERVICE)),
    );

    let r = husk_run(dir, &["audit", &caps]);
    assert_eq!(r.code, 1, "a high finding fails the audit:\n{}", r.stdout);
    assert!(r.stdout.contains("HIGH     HUSK-I030"), "{}", r.stdout);
    assert!(r.stdout.contains("LOW      HUSK-I030"), "{}", r.stdout);
    assert_eq!(
        i030(&r.stdout),
        [
            "  - \"/bin/tool\" (layer 0): file capabilities cap_setuid+ep (mode 0755, owner 0:0); cap_setuid is as good as root",
            "  - \"/bin/web\" (layer 0): file capabilities cap_net_bind_service+ep (mode 0755, owner 0:0)",
        ],
        "{}",
        r.stdout
    );
    let r = husk_run(dir, &["audit", "--format", "json", &caps]);
    let json: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let found: Vec<(&str, &str)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "HUSK-I030")
        .map(|f| {
            (
                f["severity"].as_str().unwrap(),
                f["location"]["path"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(found, [("high", "/bin/tool"), ("low", "/bin/web")]);
    // The same files without the attribute: nothing.
    let r = husk_run(dir, &["audit", &plain]);
    assert!(!r.stdout.contains("HUSK-I030"), "{}", r.stdout);

    let r = husk_run(dir, &["diff", &plain, &caps]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("M /bin/tool: capabilities none -> cap_setuid+ep\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("M /bin/web: capabilities none -> cap_net_bind_service+ep\n"),
        "{}",
        r.stdout
    );

    let r = husk_run(dir, &["ls", "-l", &caps, "/bin"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(" tool caps=cap_setuid+ep\n"),
        "{}",
        r.stdout
    );
    let r = husk_run(dir, &["ls", "-l", &plain, "/bin"]);
    assert!(!r.stdout.contains("caps="), "{}", r.stdout);
    let r = husk_run(dir, &["ls", "--format", "json", &caps, "/bin/web"]);
    let json: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(json[0]["capabilities"], "cap_net_bind_service+ep");
    assert_eq!(
        json[0]["xattrs"]["security.capability"],
        "0x0100000200040000000000000000000000000000"
    );
    let r = husk_run(dir, &["ls", "--format", "json", &plain, "/bin/web"]);
    let json: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(json[0].get("capabilities").is_none() && json[0].get("xattrs").is_none());

    let out = dir.join("flat.tar");
    let r = husk_run(dir, &["export", &caps, out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut a = tar::Archive::new(std::fs::File::open(&out).unwrap());
    let mut kept = Vec::new();
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().display().to_string();
        for r in e.pax_extensions().unwrap().into_iter().flatten() {
            let r = r.unwrap();
            kept.push((
                name.clone(),
                r.key().unwrap().to_owned(),
                r.value_bytes().to_vec(),
            ));
        }
    }
    let key = "SCHILY.xattr.security.capability".to_owned();
    assert_eq!(
        kept,
        [
            ("bin/tool".to_owned(), key.clone(), vfs_cap(CAP_SETUID)),
            ("bin/web".to_owned(), key, vfs_cap(CAP_NET_BIND_SERVICE)),
        ]
    );
}

/// podman as the oracle: a file `setcap` marked in the build context keeps its
/// capabilities through `COPY` (buildah copies xattrs), and husk reads them from podman's
/// storage. Needs podman, setcap (libcap2-bin; under CI=true both must be there) and
/// root (to set the attribute; skipped without).
#[test]
fn podman_copy_of_a_setcap_file_is_reported() {
    let setcap = Path::new("/usr/sbin/setcap");
    if !require_path("/usr/sbin/setcap", "libcap2-bin")
        || !require("podman")
        || !require_path("/bin/busybox", "busybox-static")
    {
        return;
    }
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipping: setting security.capability needs root");
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    std::fs::copy("/bin/busybox", dir.join("ping")).unwrap();
    run(std::process::Command::new(setcap)
        .arg("cap_net_raw,cap_setuid+ep")
        .arg(dir.join("ping")));
    std::fs::write(
        dir.join("Containerfile"),
        "FROM scratch\nCOPY ping /bin/ping\nUSER 1000\nENTRYPOINT [\"/bin/ping\"]\n",
    )
    .unwrap();
    let tag = "localhost/husk-test-file-caps:1";
    let archive = dir.join("img.tar");
    {
        let _storage = podman_storage();
        run(podman()
            .current_dir(dir)
            .args(["build", "--no-cache", "-q", "-t", tag, "."]));
        run(podman()
            .args(["save", "--format", "oci-archive", "-o"])
            .arg(&archive)
            .arg(tag));
        run(podman().args(["rmi", tag]));
    }
    let reference = format!("oci-archive:{}", archive.display());
    let r = husk_run(dir, &["audit", &reference]);
    assert_eq!(
        i030(&r.stdout),
        [
            "  - \"/bin/ping\" (layer 0): file capabilities cap_setuid,cap_net_raw+ep (mode 0755, owner 0:0); cap_setuid is as good as root"
        ],
        "{}",
        r.stdout
    );
    let r = husk_run(dir, &["ls", "-l", &reference, "/bin/ping"]);
    assert!(
        r.stdout
            .trim_end()
            .ends_with("caps=cap_setuid,cap_net_raw+ep"),
        "{}",
        r.stdout
    );
}
