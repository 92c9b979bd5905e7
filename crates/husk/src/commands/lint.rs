//! `husk lint DOCKERFILE|-`: the audit's Dockerfile rules on one file, for a build target
//! (`--target`), with what sits beside the Dockerfile: the `.dockerignore` (BuildKit's
//! `<Dockerfile>.dockerignore` first) and the lint config (`.husk-lint.toml`, or
//! `--config`). Standard input has neither unless `--config` names one. ShellCheck runs on
//! the RUN scripts when `shellcheck` is on PATH (HUSK-D099; `--no-shellcheck` skips it).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use husk_audit::control::{InlineControl, LintConfig};
use husk_audit::{DockerfileFacts, Finding, Report, check_dockerfile};
use husk_dockerfile::DockerIgnore;

use super::check::{finish, read_dockerfile};
use crate::cli::LintArgs;
use crate::exit::Exit;
use crate::output::Printer;

/// The largest config or `.dockerignore` read (a real one is a few hundred bytes).
const MAX_SIDE_FILE: u64 = 1 << 20;

/// How long ShellCheck may take for all the scripts of one Dockerfile.
const SHELLCHECK_TIMEOUT: Duration = Duration::from_secs(60);

pub fn run(args: &LintArgs, printer: &Printer) -> Result<Exit> {
    let mut selection = args.check.selection()?;
    args.check.fail_level()?;
    let stdin = args.dockerfile == Path::new("-");
    let dir = (!stdin).then(|| {
        args.dockerfile
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    });
    let config = load_config(args.config.as_deref(), dir.as_deref())?;
    let mut facts = read_dockerfile(&args.dockerfile)?
        .with_target(args.target.as_deref())
        .with_context(|| format!("cannot lint {} for that target", args.dockerfile.display()))?;
    if let Some(dir) = &dir {
        facts.dockerignore = load_dockerignore(dir, &args.dockerfile)?;
    }
    if let Some(c) = config {
        facts.trusted_registries = c.trusted_registries;
        selection.ignore.extend(c.ignore);
        selection.severity = c.severity;
    }
    let strict = InlineControl::of(&facts.file).error;
    let mut findings = check_dockerfile(&facts, &selection);
    let ignored = selection
        .ignore
        .iter()
        .any(|i| i.eq_ignore_ascii_case("HUSK-D099"));
    if !args.no_shellcheck && !ignored {
        findings.extend(shellcheck(&facts, printer));
    }
    let report = Report::new(None, None, Some(facts.path.clone()), findings);
    finish(&report, &args.check, Some(&facts), printer, strict)
}

/// `--config FILE` (which must exist), else `.husk-lint.toml` beside the Dockerfile.
fn load_config(explicit: Option<&Path>, dir: Option<&Path>) -> Result<Option<LintConfig>> {
    let (path, required) = match (explicit, dir) {
        (Some(p), _) => (p.to_path_buf(), true),
        (None, Some(d)) => (d.join(".husk-lint.toml"), false),
        (None, None) => return Ok(None),
    };
    let Some(text) = read_side_file(&path, required)? else {
        return Ok(None);
    };
    Ok(Some(LintConfig::parse(&text, &path.display().to_string())?))
}

/// `<Dockerfile>.dockerignore`, else `.dockerignore`, in the Dockerfile's directory.
fn load_dockerignore(dir: &Path, dockerfile: &Path) -> Result<Option<DockerIgnore>> {
    let specific = dockerfile
        .file_name()
        .map(|n| dir.join(format!("{}.dockerignore", n.to_string_lossy())));
    for path in specific.into_iter().chain([dir.join(".dockerignore")]) {
        if let Some(text) = read_side_file(&path, false)? {
            return Ok(Some(DockerIgnore::parse(&text)));
        }
    }
    Ok(None)
}

/// A small regular file as text; `None` when it does not exist and is not `required`.
fn read_side_file(path: &Path, required: bool) -> Result<Option<String>> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    if !meta.is_file() {
        bail!(
            "refusing to read {}: it is not a regular file",
            path.display()
        );
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_SIDE_FILE + 1).read_to_string(&mut text))
        .with_context(|| format!("cannot read {} as UTF-8 text", path.display()))?;
    if text.len() as u64 > MAX_SIDE_FILE {
        bail!(
            "refusing to read {}: it is larger than {MAX_SIDE_FILE} bytes",
            path.display()
        );
    }
    Ok(Some(text))
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
