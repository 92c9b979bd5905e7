//! Multi-platform indexes for tests of the commands that read them: a husk-built
//! amd64 + arm64 index of static programs (made with husk-elf's `ElfBuilder`, so no cross
//! compiler is needed), and copies of it whose index lists the images under other
//! platforms (what a slip with `podman manifest add --arch` or `crane index append`
//! gives), the index blob rewritten and its descriptor in index.json updated.
#![allow(dead_code)]

use std::path::Path;

use husk_elf::testing::ElfBuilder;
use serde_json::Value;

use crate::common::husk;

fn write_exec(path: &Path, bytes: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, bytes).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A husk-built two-platform index (linux/amd64, linux/arm64/v8) of static programs at
/// `/app`, in `oci:DIR/good`; returns that reference.
pub fn good_index(d: &Path) -> String {
    let x86 = d.join("app-amd64");
    write_exec(&x86, &ElfBuilder::x86_64().no_dynamic().build());
    let arm = d.join("app-arm64");
    write_exec(&arm, &ElfBuilder::aarch64().no_dynamic().build());
    let out = format!("oci:{}", d.join("good").display());
    husk(d)
        .arg("build")
        .arg(&x86)
        .arg("--platform-exe")
        .arg(format!("linux/arm64={}", arm.display()))
        .args(["--dest", "/app", "-o", &out])
        .assert()
        .success();
    out
}

/// A copy of the layout at `from` in `to` whose index's `manifests` array `edit` changed.
pub fn edited_copy(from: &Path, to: &Path, edit: impl FnOnce(&mut Vec<Value>)) {
    copy_dir(from, to);
    let top: Value =
        serde_json::from_slice(&std::fs::read(to.join("index.json")).unwrap()).unwrap();
    let desc = &top["manifests"][0];
    assert_eq!(
        desc["mediaType"], "application/vnd.oci.image.index.v1+json",
        "the layout's entry is the index: {top}"
    );
    let blob = |digest: &str| {
        to.join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:"))
    };
    let mut index: Value =
        serde_json::from_slice(&std::fs::read(blob(desc["digest"].as_str().unwrap())).unwrap())
            .unwrap();
    edit(index["manifests"].as_array_mut().unwrap());
    let bytes = serde_json::to_vec(&index).unwrap();
    let digest = husk_oci::Digest::sha256(&bytes).to_string();
    std::fs::write(blob(&digest), &bytes).unwrap();
    let mut top = top;
    top["manifests"][0]["digest"] = Value::from(digest);
    top["manifests"][0]["size"] = Value::from(bytes.len());
    std::fs::write(to.join("index.json"), serde_json::to_vec(&top).unwrap()).unwrap();
}

/// A copy whose index lists each of its two images under the other's platform.
pub fn swapped_copy(from: &Path, to: &Path) {
    edited_copy(from, to, |m| {
        assert_eq!(m.len(), 2);
        let p0 = m[0]["platform"].take();
        m[0]["platform"] = m[1]["platform"].take();
        m[1]["platform"] = p0;
    });
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}
