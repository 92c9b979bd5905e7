//! Real-host oracle: for `/usr/bin/curl` and its `ldd` closure, husk-sbom's provenance
//! equals `dpkg -S` (asked for the path and its merged-/usr twin, since dpkg -S only
//! matches the spelling a package lists). Also prints how long opening the database and
//! answering the closure took (no timing assertion).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use husk_sbom::DpkgDb;

/// Package names `dpkg -S` gives for each path (either spelling), without `:arch`: one
/// `dpkg -S` call for all of them (it exits non-zero when one is unknown, yet prints the rest).
fn dpkg_s(paths: &[String]) -> BTreeMap<String, BTreeSet<String>> {
    let twin = |path: &str| match path.strip_prefix("/usr") {
        Some(rest)
            if ["/lib/", "/bin/", "/sbin/", "/lib64/"]
                .iter()
                .any(|p| rest.starts_with(p)) =>
        {
            rest.to_string()
        }
        _ => format!("/usr{path}"),
    };
    let mut all: Vec<String> = paths.iter().flat_map(|p| [p.clone(), twin(p)]).collect();
    all.sort();
    all.dedup();
    let out = Command::new("dpkg")
        .arg("-S")
        .args(&all)
        .output()
        .expect("dpkg -S runs");
    let mut listed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with("diversion by"))
    {
        let Some((pkgs, path)) = line.rsplit_once(": ") else {
            continue;
        };
        for pkg in pkgs.split(", ") {
            listed
                .entry(path.to_string())
                .or_default()
                .insert(pkg.split(':').next().unwrap_or(pkg).to_string());
        }
    }
    paths
        .iter()
        .map(|p| {
            let mut names = listed.get(p).cloned().unwrap_or_default();
            names.extend(listed.get(&twin(p)).cloned().unwrap_or_default());
            (p.clone(), names)
        })
        .collect()
}

#[test]
fn curl_closure_provenance_equals_dpkg_s() {
    let have = Path::new("/var/lib/dpkg/status").exists() && Path::new("/usr/bin/curl").exists();
    if !common::require(have, "a Debian host with /usr/bin/curl") {
        return;
    }
    let Some(closure) = common::curl_closure() else {
        assert!(!common::strict(), "ldd /usr/bin/curl failed");
        return;
    };
    let mut queries: Vec<String> = Vec::new();
    for (ldd_path, real) in &closure {
        queries.push(ldd_path.clone());
        queries.push(real.to_string_lossy().into_owned());
    }
    let start = Instant::now();
    let db = DpkgDb::open(Path::new("/")).unwrap();
    let opened = start.elapsed();
    let prov = db.owners(&queries).unwrap();
    eprintln!(
        "dpkg db: {} packages; open {:?}, owners of {} paths {:?}",
        db.packages().len(),
        opened,
        queries.len(),
        start.elapsed() - opened
    );
    assert!(
        closure.len() > 5,
        "curl's closure looks too small: {closure:?}"
    );
    let oracle = dpkg_s(&queries);
    for query in &queries {
        let ours: BTreeSet<String> = prov
            .owners
            .get(query)
            .map(|o| o.iter().map(|k| k.name.clone()).collect())
            .unwrap_or_default();
        assert_eq!(
            ours, oracle[query],
            "provenance of {query} differs from dpkg -S"
        );
        assert!(!ours.is_empty(), "{query} has no owner");
    }
    // Every package that supplied a file has its version from dpkg.
    let keys: Vec<String> = prov
        .packages()
        .iter()
        .map(|k| format!("{}:{}", k.name, k.architecture))
        .collect();
    let listed = common::output(
        Command::new("dpkg-query")
            .args(["-W", "-f=${Package}:${Architecture} ${Version}\\n"])
            .args(&keys),
    )
    .unwrap();
    let ours: BTreeSet<String> = prov
        .packages()
        .iter()
        .map(|k| {
            format!(
                "{}:{} {}",
                k.name,
                k.architecture,
                db.package(k).unwrap().version
            )
        })
        .collect();
    assert_eq!(
        ours,
        listed.lines().map(str::to_string).collect::<BTreeSet<_>>()
    );
}

/// On the host's own database, the path index gives the answer a full scan of every list
/// gives, for real paths in both spellings (merged /usr), paths no package lists, and
/// file names many packages share (`README`, `app`, `__init__.py`) in other directories.
#[test]
fn indexed_owners_equal_the_full_scan_on_the_host() {
    if !Path::new("/var/lib/dpkg/status").exists() {
        return;
    }
    let mut queries: Vec<String> = std::fs::read_dir("/usr/bin")
        .unwrap()
        .flatten()
        .take(400)
        .map(|e| e.path().display().to_string())
        .collect();
    queries.extend(
        [
            "/bin/sh",
            "/lib/x86_64-linux-gnu/libc.so.6",
            "/usr/lib/x86_64-linux-gnu/libc.so.6",
            "/tmp/husk-work/app",
            "/opt/README",
            "/srv/x/__init__.py",
            "/etc/passwd",
            "/etc/ssl/certs/ca-certificates.crt",
        ]
        .map(str::to_owned),
    );
    let db = DpkgDb::open(Path::new("/")).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let full = db.owners(&queries).unwrap();
    let writing = db.owners_indexed(&queries, Some(cache.path())).unwrap();
    let indexed = db.owners_indexed(&queries, Some(cache.path())).unwrap();
    assert!(cache.path().join(husk_sbom::INDEX_FILE).is_file());
    assert_eq!(full, writing);
    assert_eq!(full, indexed);
}
