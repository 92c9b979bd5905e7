//! HUSK-D099: ShellCheck's findings on every RUN script, line-mapped to the Dockerfile.
//!
//! The rule's check is empty: ShellCheck is an external program, so [`shellcheck`] runs it
//! when the caller (the CLI, which knows PATH) hands over its path. All scripts go to one
//! process: each is written to `run-N.sh` in a scratch directory with a
//! `# shellcheck shell=DIALECT` first line (the RUN's shell: SHELL, an exec-form shell, a
//! heredoc's `#!`, else sh), and `-f json1` gives file, line and column per comment, which
//! the script's origin maps back to a Dockerfile line. Scripts under a shell ShellCheck does
//! not know (PowerShell, cmd, zsh) are skipped. The process has a time limit; a missing,
//! failing or slow ShellCheck is a [`ShellcheckError`], never a panic.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use husk_dockerfile::shell::Script;
use serde::Deserialize;

use super::shell::parsed_runs;
use crate::rule::{
    DockerfileFacts, Emit, ExternalCode, Finding, Location, Rule, RuleInfo, Severity, Target,
};

pub struct Shellcheck;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D099",
    name: "shellcheck",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "ShellCheck reports a problem in a RUN script",
    explanation: "ShellCheck (Debian package `shellcheck`) finds quoting, globbing and logic mistakes in shell scripts; `husk lint` runs it on every RUN script under the RUN's shell when it is installed, as hadolint does, and reports each comment with its SC code at the Dockerfile line (ShellCheck's errors as medium, warnings as low, the rest as info). `--no-shellcheck` turns it off.",
    fix: "Follow the SC code's advice (https://www.shellcheck.net/wiki/SC2086 for SC2086), or silence one RUN with `# shellcheck disable=SCnnnn` as its first script line.",
    references: &[],
};

impl Rule for Shellcheck {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, _file: &DockerfileFacts, _out: &mut Emit) {
        // ShellCheck is an external program: [`shellcheck`] runs it when asked to.
    }
}

/// SC codes left out, as hadolint does: `source` of files ShellCheck cannot see.
const EXCLUDED: &str = "SC1090,SC1091";

/// Why ShellCheck gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum ShellcheckError {
    #[error("cannot write the RUN scripts for ShellCheck into {path}: {source}")]
    Scratch {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "cannot run {program}: {source} (install the Debian package shellcheck, or pass --no-shellcheck)"
    )]
    Spawn {
        program: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{program} did not finish within {seconds} s and was stopped (pass --no-shellcheck to skip it)"
    )]
    Timeout { program: PathBuf, seconds: u64 },
    #[error("{program} failed ({status}): {stderr}")]
    Failed {
        program: PathBuf,
        status: String,
        stderr: String,
    },
    #[error("{program} printed output that is not ShellCheck's json1 format: {source}")]
    Output {
        program: PathBuf,
        source: serde_json::Error,
    },
}

#[derive(Deserialize)]
struct Output {
    comments: Vec<Comment>,
}

#[derive(Deserialize)]
struct Comment {
    file: String,
    line: u32,
    column: u32,
    level: String,
    code: u32,
    message: String,
}

/// Header lines put before each script (the dialect directive).
const HEADER_LINES: u32 = 1;

/// Run ShellCheck (`program`) on every RUN script of `file`, writing the scripts into
/// `scratch` (an empty directory the caller owns), and stop it after `timeout`.
///
/// # Errors
/// [`ShellcheckError`]: the scripts cannot be written, ShellCheck cannot start, runs too
/// long, fails (an exit status other than 0 or 1), or prints something that is not json1.
pub fn shellcheck(
    file: &DockerfileFacts,
    program: &Path,
    scratch: &Path,
    timeout: Duration,
) -> Result<Vec<Finding>, ShellcheckError> {
    let mut scripts: Vec<(PathBuf, &Script)> = Vec::new();
    let runs = parsed_runs(file);
    for r in &runs {
        let (Some(script), Some(dialect)) = (r.run.script, r.run.shell.dialect) else {
            continue;
        };
        let Some(name) = dialect.shellcheck_name() else {
            continue;
        };
        let path = scratch.join(format!("run-{}.sh", scripts.len()));
        let text = format!("# shellcheck shell={name}\n{}\n", script.text);
        std::fs::write(&path, text).map_err(|source| ShellcheckError::Scratch {
            path: path.clone(),
            source,
        })?;
        scripts.push((path, script));
    }
    if scripts.is_empty() {
        return Ok(Vec::new());
    }
    let stdout = run(program, &scripts, timeout)?;
    let out: Output =
        serde_json::from_slice(&stdout).map_err(|source| ShellcheckError::Output {
            program: program.to_owned(),
            source,
        })?;
    Ok(out
        .comments
        .iter()
        .filter_map(|c| finding(c, &scripts, &file.path))
        .collect())
}

/// One process for all scripts; its stdout, or why there is none.
fn run(
    program: &Path,
    scripts: &[(PathBuf, &Script)],
    timeout: Duration,
) -> Result<Vec<u8>, ShellcheckError> {
    let mut child = Command::new(program)
        .args(["--format=json1", "--exclude", EXCLUDED, "--"])
        .args(scripts.iter().map(|(p, _)| p))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| ShellcheckError::Spawn {
            program: program.to_owned(),
            source,
        })?;
    // Both pipes are drained by threads; stdout reaching its end means ShellCheck has
    // exited (it starts no children), so waiting for that with a deadline replaces a
    // polling loop and adds no latency to every file.
    let (tx, rx) = std::sync::mpsc::channel();
    if let Some(mut r) = child.stdout.take() {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            let _ = tx.send(buf);
        });
    }
    let err = child.stderr.take().map(|mut r| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    });
    let deadline = Instant::now() + timeout;
    let stdout = rx.recv_timeout(timeout).ok();
    // Normally exited by now; a program that closed its stdout and goes on running is
    // still held to the deadline.
    let status = loop {
        match (&stdout, child.try_wait()) {
            (Some(_), Ok(Some(s))) => break s,
            (Some(_), Ok(None)) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(1));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ShellcheckError::Timeout {
                    program: program.to_owned(),
                    seconds: timeout.as_secs(),
                });
            }
        }
    };
    let stdout = stdout.unwrap_or_default();
    let stderr = err.and_then(|t| t.join().ok()).unwrap_or_default();
    // 0: no comments, 1: comments; anything else is ShellCheck failing.
    if !matches!(status.code(), Some(0 | 1)) {
        let text = String::from_utf8_lossy(&stderr);
        return Err(ShellcheckError::Failed {
            program: program.to_owned(),
            status: status.to_string(),
            stderr: text.trim().chars().take(500).collect(),
        });
    }
    Ok(stdout)
}

/// A ShellCheck comment as a finding at the Dockerfile line its script line came from.
fn finding(c: &Comment, scripts: &[(PathBuf, &Script)], dockerfile: &str) -> Option<Finding> {
    let (_, script) = scripts
        .iter()
        .find(|(p, _)| p.to_string_lossy() == c.file)?;
    let line = c.line.checked_sub(HEADER_LINES + 1)?;
    let start = script
        .text
        .split_inclusive('\n')
        .take(line as usize)
        .map(str::len)
        .sum::<usize>();
    let offset = start + c.column.saturating_sub(1) as usize;
    let line = script.line_at(offset.min(script.text.len()));
    let severity = match c.level.as_str() {
        "error" => Severity::Medium,
        "warning" => Severity::Low,
        _ => Severity::Info,
    };
    Some(Finding {
        rule: &INFO,
        severity,
        message: format!("SC{} ({}): {}", c.code, c.level, c.message),
        location: Location::Dockerfile {
            file: dockerfile.to_owned(),
            line,
            column: 1,
            end_line: line,
            end_column: 1,
        },
        external: Some(ExternalCode::shellcheck(c.code)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(text: &str) -> DockerfileFacts {
        DockerfileFacts::new("Dockerfile", husk_dockerfile::parse(text).expect("parses"))
    }

    #[test]
    fn a_missing_program_is_an_error_not_a_panic() {
        let dir = std::env::temp_dir().join(format!("husk-sc-missing-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = facts("FROM debian:12\nRUN echo $x\n");
        let e = shellcheck(
            &f,
            Path::new("/nonexistent/shellcheck"),
            &dir,
            Duration::from_secs(5),
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("install the Debian package shellcheck"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A ShellCheck that never answers, or closes its output and keeps running, is
    /// stopped at the deadline and reported, never waited for forever.
    #[test]
    fn a_hanging_program_is_stopped() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("husk-sc-hang-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = facts("FROM debian:12\nRUN echo $x\n");
        for (name, body) in [("hang", "sleep 30"), ("closed", "exec >&-; sleep 30")] {
            let program = dir.join(name);
            std::fs::write(&program, format!("#!/bin/sh\n{body}\n")).unwrap();
            std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
            let scratch = dir.join(format!("{name}.d"));
            std::fs::create_dir_all(&scratch).unwrap();
            let e = shellcheck(&f, &program, &scratch, Duration::from_millis(300)).unwrap_err();
            assert!(matches!(e, ShellcheckError::Timeout { .. }), "{name}: {e}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn comments_map_to_dockerfile_lines() {
        let script = Script::shell_form("echo a \\\n  && echo $b", 3, '\\');
        let path = PathBuf::from("/s/run-0.sh");
        let c = Comment {
            file: "/s/run-0.sh".into(),
            line: 2,
            column: 16,
            level: "info".into(),
            code: 2086,
            message: "Double quote".into(),
        };
        let f = finding(&c, &[(path, &script)], "Dockerfile").expect("maps");
        assert!(
            matches!(f.location, Location::Dockerfile { line: 4, .. }),
            "{:?}",
            f.location
        );
        assert_eq!(f.message, "SC2086 (info): Double quote");
        let code = f.external.as_ref().expect("the SC code travels with it");
        assert_eq!(
            (code.tool, code.code.as_str(), code.help_uri.as_str()),
            (
                "ShellCheck",
                "SC2086",
                "https://www.shellcheck.net/wiki/SC2086"
            )
        );
        assert_eq!(f.severity, Severity::Info);
    }
}
