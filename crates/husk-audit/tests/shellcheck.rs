//! ShellCheck on RUN scripts (HUSK-D099) with the real `shellcheck` (Debian package
//! shellcheck). Under CI=true a missing shellcheck fails the test; elsewhere it skips.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use husk_audit::{DockerfileFacts, Location, Severity, shellcheck};

fn require_shellcheck() -> bool {
    let ok = Command::new("shellcheck")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("shellcheck is required under CI but is not installed (run scripts/test.sh)");
        }
        eprintln!("skipping: shellcheck is not installed");
    }
    ok
}

fn facts(text: &str) -> DockerfileFacts {
    DockerfileFacts::new("Dockerfile", husk_dockerfile::parse(text).expect("parses"))
}

fn lines_and_codes(text: &str) -> Vec<(u32, String)> {
    let dir = tempfile::tempdir().unwrap();
    let found = shellcheck(
        &facts(text),
        Path::new("shellcheck"),
        dir.path(),
        Duration::from_secs(60),
    )
    .expect("shellcheck runs");
    found
        .iter()
        .map(|f| {
            assert_eq!(f.rule.id, "HUSK-D099");
            let Location::Dockerfile { line, .. } = f.location else {
                panic!("a Dockerfile location")
            };
            (line, f.message.split(' ').next().unwrap_or("").to_owned())
        })
        .collect()
}

#[test]
fn findings_carry_sc_codes_at_dockerfile_lines() {
    if !require_shellcheck() {
        return;
    }
    let t = "FROM debian:12\nRUN echo hi \\\n  && rm -rf $DIR/ \\\n  && true\nSHELL [\"/bin/bash\", \"-c\"]\nRUN <<EOF\nset -e\nif [ $x == 1 ]; then echo; fi\nEOF\nRUN [\"sh\", \"-c\", \"cp $a $b\"]\n";
    let got = lines_and_codes(t);
    // rm -rf $DIR/ (unquoted) on line 3 of the Dockerfile, in the continued RUN.
    assert!(got.contains(&(3, "SC2086".into())), "{got:?}");
    // The heredoc body under bash: $x unquoted, on line 8.
    assert!(got.iter().any(|(l, _)| *l == 8), "{got:?}");
    // Exec-form sh -c, on its own line.
    assert!(
        got.iter().any(|(l, c)| *l == 10 && c == "SC2086"),
        "{got:?}"
    );
}

#[test]
fn clean_scripts_and_other_shells_give_nothing() {
    if !require_shellcheck() {
        return;
    }
    let t = "FROM debian:12\nRUN set -eu; apt-get update && apt-get install -y --no-install-recommends curl\nSHELL [\"pwsh\", \"-Command\"]\nRUN if ($x) { Write-Host $y }\n";
    assert_eq!(lines_and_codes(t), Vec::<(u32, String)>::new());
}

#[test]
fn error_levels_become_severities() {
    if !require_shellcheck() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let found = shellcheck(
        &facts("FROM debian:12\nRUN if true; then echo; fi; [ $x = 1 ]; echo \"$((\"\n"),
        Path::new("shellcheck"),
        dir.path(),
        Duration::from_secs(60),
    )
    .expect("shellcheck runs");
    assert!(found.iter().all(|f| f.severity <= Severity::Medium));
}
