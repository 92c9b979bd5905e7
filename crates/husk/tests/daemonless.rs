//! Daemonless by construction: the core crates depend on no async runtime, no HTTP stack,
//! no CLI parser and no container-engine client. Only husk-registry has HTTP (and the
//! crates above it: husk-transport, which routes references to it, and the husk binary);
//! the demo service is not part of husk. Local media (husk-formats) and registries
//! (husk-registry) do not know each other.

use std::process::Command;

/// Normal (non-dev) dependencies of `package`, from Cargo's resolved graph.
fn normal_deps(package: &str) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "tree",
            "--offline",
            "--locked",
            "-e",
            "normal",
            "--prefix",
            "none",
            "-p",
            package,
        ])
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

const FORBIDDEN: &[&str] = &[
    "tokio",
    "hyper",
    "reqwest",
    "h2",
    "clap",
    "bollard",
    "docker-api",
    "podman-api",
    "oci-client",
    "ureq",
    "curl",
];

#[test]
fn core_crates_have_no_runtime_http_cli_or_engine_client() {
    for package in [
        "husk-oci",
        "husk-layer",
        "husk-elf",
        "husk-formats",
        "husk-build",
        "husk-explore",
        "husk-dockerfile",
        "husk-audit",
    ] {
        let deps = normal_deps(package);
        assert!(
            deps.iter().any(|d| d == package),
            "{package} not in its own tree: {deps:?}"
        );
        for bad in FORBIDDEN {
            assert!(
                !deps.iter().any(|d| d == bad),
                "{package} depends on {bad}; only husk-registry may have HTTP/async"
            );
        }
    }
}

#[test]
fn local_media_and_registries_do_not_know_each_other() {
    let formats = normal_deps("husk-formats");
    assert!(!formats.iter().any(|d| d == "husk-registry"), "{formats:?}");
    let registry = normal_deps("husk-registry");
    assert!(
        !registry.iter().any(|d| d == "husk-formats"),
        "{registry:?}"
    );
    let transport = normal_deps("husk-transport");
    for both in ["husk-formats", "husk-registry"] {
        assert!(transport.iter().any(|d| d == both), "{transport:?}");
    }
}

#[test]
fn the_check_can_fail() {
    // husk-registry does have HTTP: the same query must see it, or the test above proves nothing.
    assert!(normal_deps("husk-registry").iter().any(|d| d == "reqwest"));
}
