//! `husk lint DOCKERFILE`: the audit's Dockerfile rules on one file, and ShellCheck on
//! its RUN scripts when `shellcheck` is on PATH (HUSK-D099; `--no-shellcheck` skips it).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use husk_audit::{DockerfileFacts, Finding, Report, check_dockerfile};

use super::check::{finish, read_dockerfile};
use crate::cli::LintArgs;
use crate::exit::Exit;
use crate::output::Printer;

/// How long ShellCheck may take for all the scripts of one Dockerfile.
const SHELLCHECK_TIMEOUT: Duration = Duration::from_secs(60);

pub fn run(args: &LintArgs, printer: &Printer) -> Result<Exit> {
    let selection = args.check.selection()?;
    args.check.fail_level()?;
    let facts = read_dockerfile(&args.dockerfile)?;
    let mut findings = check_dockerfile(&facts, &selection);
    let ignored = args
        .check
        .ignore
        .iter()
        .any(|i| i.eq_ignore_ascii_case("HUSK-D099"));
    if !args.no_shellcheck && !ignored {
        findings.extend(shellcheck(&facts, printer));
    }
    let report = Report::new(None, None, Some(facts.path.clone()), findings);
    finish(&report, &args.check, Some(&facts), printer)
}

/// ShellCheck's findings, or none with a note saying why.
fn shellcheck(facts: &DockerfileFacts, printer: &Printer) -> Vec<Finding> {
    let Some(program) = on_path("shellcheck") else {
        printer.info(
            "note: shellcheck is not installed (Debian package shellcheck), so RUN scripts were not checked by ShellCheck; --no-shellcheck silences this note",
        );
        return Vec::new();
    };
    let result = tempfile::tempdir()
        .map_err(|e| format!("cannot create a temporary directory for ShellCheck: {e}"))
        .and_then(|dir| {
            husk_audit::shellcheck(facts, &program, dir.path(), SHELLCHECK_TIMEOUT)
                .map_err(|e| e.to_string())
        });
    result.unwrap_or_else(|e| {
        printer.info(format!(
            "note: RUN scripts were not checked by ShellCheck: {e}"
        ));
        Vec::new()
    })
}

/// The first executable `name` in the directories of PATH.
fn on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}
