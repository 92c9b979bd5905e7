//! `husk doctor` of a multi-platform index (issue 10): every image the index lists is
//! examined as an engine on the listed platform would run it. A husk-built amd64+arm64
//! index is clean on both platforms; the same images glued into an index under the wrong
//! platforms (what a slip with `podman manifest add --arch` or `crane index append` gives)
//! are caught on each platform by HUSK-I005, although each image alone is consistent
//! (config architecture = ELF machine) and only the index lies. `--platform` examines one
//! entry, and `--run` runs this machine's (refused when the index has none). `husk audit` of an index does the
//! same: every image audited against its listed platform, each finding naming it.

mod common;
#[path = "common/index.rs"]
mod index;

use std::path::Path;

use common::husk;
use index::{edited_copy, good_index, swapped_copy};
use serde_json::Value;

/// `husk doctor ARGS --format json`: exit code and document.
fn doctor_json(cache: &Path, args: &[&str]) -> (i32, Value) {
    let o = husk(cache)
        .arg("doctor")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let doc = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&o.stderr)
        )
    });
    (o.status.code().unwrap(), doc)
}

/// The rules blocking the start of one diagnosis.
fn blocking(d: &Value) -> Vec<(String, String)> {
    d["blocking"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["rule"].as_str().unwrap().to_owned(),
                p["cause"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn every_platform_of_an_index_is_examined_and_a_mislabelled_entry_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = good_index(d);

    // The husk-built index: both platforms examined, nothing blocks.
    let (code, doc) = doctor_json(d, &[&good]);
    assert_eq!(code, 0, "{doc:#}");
    let platforms: Vec<&str> = doc["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["platform"].as_str().unwrap())
        .collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64/v8"], "{doc:#}");
    assert!(doc["index"].as_str().unwrap().starts_with("sha256:"));
    for p in doc["platforms"].as_array().unwrap() {
        assert!(blocking(p).is_empty(), "{p:#}");
    }

    // The same images listed under each other's platform: each image alone is
    // consistent, the index is not, and an engine on either platform would fail.
    let bad = d.join("bad");
    swapped_copy(&d.join("good"), &bad);
    let bad = format!("oci:{}", bad.display());
    let (code, doc) = doctor_json(d, &[&bad]);
    assert_eq!(code, 1, "{doc:#}");
    for p in doc["platforms"].as_array().unwrap() {
        let found = blocking(p);
        assert_eq!(found.len(), 1, "{p:#}");
        assert_eq!(found[0].0, "HUSK-I005");
        let listed = p["platform"].as_str().unwrap();
        let machine = if listed.starts_with("linux/arm64") {
            "ELF program for amd64"
        } else {
            "ELF program for arm64"
        };
        assert!(
            found[0]
                .1
                .contains(&format!("the index lists this image for {listed}"))
                && found[0].1.contains(machine),
            "{found:?}"
        );
    }

    // Text: a section per platform and the platforms it will not start on.
    let o = husk(d).args(["doctor", &bad]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("multi-platform index of 2 image(s)"),
        "{text}"
    );
    let line = text
        .lines()
        .find(|l| l.starts_with("will not start on: "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains("linux/amd64") && line.contains("linux/arm64/v8"),
        "{text}"
    );
    assert_eq!(text.matches("platform: linux/").count(), 2, "{text}");

    // --platform: one entry, the single-image document, still checked against the index.
    let (code, one) = doctor_json(d, &[&bad, "--platform", "linux/arm64"]);
    assert_eq!(code, 1, "{one:#}");
    assert_eq!(one["platform"], "linux/arm64/v8", "{one:#}");
    assert_eq!(blocking(&one)[0].0, "HUSK-I005");
    let (code, one) = doctor_json(d, &[&good, "--platform", "linux/arm64"]);
    assert_eq!(code, 0, "{one:#}");
    assert!(blocking(&one).is_empty());

    // --run runs one image: without --platform, this machine's, as podman picks; an
    // index without one for this machine is refused before anything runs.
    let foreign = d.join("foreign");
    edited_copy(&d.join("good"), &foreign, |m| {
        m[0]["platform"] = serde_json::json!({"os": "linux", "architecture": "s390x"});
        m[1]["platform"] = serde_json::json!({"os": "linux", "architecture": "riscv64"});
    });
    let foreign = format!("oci:{}", foreign.display());
    let o = husk(d)
        .args(["doctor", &foreign, "--run"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no image for this machine") && err.contains("--platform"),
        "{err}"
    );
    assert!(!err.contains("running"), "nothing is run: {err}");
    let host = husk_oci::host_platform();
    if matches!(host.architecture.as_str(), "amd64" | "arm64") && common::require("podman") {
        let _storage = common::podman_storage();
        let (_, ran) = doctor_json(d, &[&good, "--run", "--timeout", "20"]);
        assert!(
            ran["platform"]
                .as_str()
                .is_some_and(|p| p.starts_with(&host.to_string())),
            "{ran:#}"
        );
        assert!(ran["run"].is_object(), "it ran: {ran:#}");
    }
}

/// `husk audit ARGS --format F`: exit code and stdout.
fn audit(cache: &Path, args: &[&str], format: &str) -> (i32, String) {
    let o = husk(cache)
        .arg("audit")
        .args(args)
        .args(["--format", format])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_ne!(
        o.status.code(),
        Some(2),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code().unwrap(), stdout)
}

/// The findings of an audit JSON report as (rule, platform) pairs.
fn findings(report: &str) -> Vec<(String, Option<String>)> {
    let doc: Value = serde_json::from_str(report).unwrap_or_else(|e| panic!("{e}: {report}"));
    doc["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("{doc:#}"))
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["location"]["platform"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

#[test]
fn audit_checks_every_platform_of_an_index_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = good_index(d);
    let bad = d.join("bad");
    swapped_copy(&d.join("good"), &bad);
    let bad = format!("oci:{}", bad.display());

    // The husk-built index: both images audited, nothing that fails the audit (only
    // the advice a bare test program earns: no HEALTHCHECK, no package metadata), the
    // same on both platforms.
    let (code, report) = audit(d, &[&good], "json");
    assert_eq!(code, 0, "{report}");
    let found = findings(&report);
    for platform in ["linux/amd64", "linux/arm64/v8"] {
        let rules: Vec<&str> = found
            .iter()
            .filter(|(_, p)| p.as_deref() == Some(platform))
            .map(|(rule, _)| rule.as_str())
            .collect();
        assert_eq!(rules, ["HUSK-I018", "HUSK-I026"], "{report}");
    }
    assert_eq!(found.len(), 4, "{report}");

    // Mislabelled entries: each image is checked against the platform the index lists
    // it under, and each finding names that platform.
    let (code, report) = audit(d, &[&bad], "json");
    assert_eq!(code, 1, "{report}");
    let mut arch: Vec<Option<String>> = findings(&report)
        .into_iter()
        .filter(|(rule, _)| rule == "HUSK-I005")
        .map(|(_, platform)| platform)
        .collect();
    arch.sort();
    assert_eq!(
        arch,
        [
            Some("linux/amd64".to_owned()),
            Some("linux/arm64/v8".to_owned())
        ],
        "{report}"
    );

    // Text and SARIF say the platform too; --platform audits one entry.
    let (_, text) = audit(d, &[&bad], "text");
    assert!(
        text.contains("[linux/amd64]") && text.contains("[linux/arm64/v8]"),
        "{text}"
    );
    let (_, sarif) = audit(d, &[&bad], "sarif");
    assert!(sarif.contains(" [linux/arm64/v8]\""), "{sarif}");
    let (code, report) = audit(d, &[&bad, "--platform", "linux/arm64"], "json");
    assert_eq!(code, 1, "{report}");
    assert!(
        findings(&report)
            .iter()
            .all(|(_, p)| p.as_deref() == Some("linux/arm64/v8")),
        "{report}"
    );
}
