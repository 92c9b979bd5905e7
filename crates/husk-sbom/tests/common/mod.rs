//! Shared helpers of the host and oracle tests: the CI=true gate and `/usr/bin/curl`'s
//! library closure as `ldd` prints it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// True when the tests run under CI (CI=true): missing tools then fail the test.
pub fn strict() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Skips (returns false, with a message) or, under CI=true, fails when `ok` is false.
pub fn require(ok: bool, what: &str) -> bool {
    if !ok {
        assert!(
            !strict(),
            "CI=true but {what} is missing; the test command must install it"
        );
        eprintln!("skipping: {what} is missing (set CI=true to make this a failure)");
    }
    ok
}

/// Output of a command, when it ran and succeeded.
pub fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `/usr/bin/curl` and every library `ldd` lists for it: (path as ldd says, real path).
pub fn curl_closure() -> Option<Vec<(String, PathBuf)>> {
    let ldd = output(Command::new("ldd").arg("/usr/bin/curl"))?;
    let mut paths = vec!["/usr/bin/curl".to_string()];
    for line in ldd.lines() {
        let path = match line.split_once("=>") {
            Some((_, rest)) => rest.split_whitespace().next(),
            None => line.split_whitespace().next(),
        };
        if let Some(path) = path.filter(|p| p.starts_with('/')) {
            paths.push(path.to_string());
        }
    }
    paths.sort();
    paths.dedup();
    Some(
        paths
            .into_iter()
            .filter_map(|p| std::fs::canonicalize(&p).ok().map(|real| (p, real)))
            .collect(),
    )
}
