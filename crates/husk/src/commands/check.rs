//! Shared by `husk audit` and `husk lint`: --fail-on, --ignore, reading and parsing the
//! Dockerfile, rendering a report in the chosen format, and the exit code.

use std::path::Path;

use anyhow::{Context, Result, bail};
use husk_audit::control::rules_named;
use husk_audit::{DockerfileFacts, Report, Selection, Severity, rule_by_id};

use crate::cli::{CheckArgs, ReportFormat};
use crate::exit::Exit;
use crate::output::Printer;

impl CheckArgs {
    /// The severity that fails the run (`None` for `never`).
    pub fn fail_level(&self) -> Result<Option<Severity>> {
        if self.fail_on.eq_ignore_ascii_case("never") {
            return Ok(None);
        }
        Ok(Some(self.fail_on.parse().context("invalid --fail-on")?))
    }

    /// The rule selection; an unknown name is an error (a typo would silently ignore
    /// nothing).
    pub fn selection(&self) -> Result<Selection> {
        for id in &self.ignore {
            if rule_by_id(id).is_none() && rules_named(id).is_empty() {
                bail!(
                    "--ignore {id}: no such rule, covered hadolint code or BuildKit check (husk audit --list-rules lists them)"
                );
            }
        }
        Ok(Selection {
            ignore: self.ignore.clone(),
            ..Selection::default()
        })
    }
}

/// Read and parse a Dockerfile (`-`: standard input, named `<stdin>`); the path as
/// given is its name in reports.
pub fn read_dockerfile(path: &Path) -> Result<DockerfileFacts> {
    if path == Path::new("-") {
        let name = Path::new("<stdin>");
        let text = husk_dockerfile::read_dockerfile_from(std::io::stdin().lock(), name)?;
        let file = husk_dockerfile::parse(&text)
            .context("cannot parse the Dockerfile from standard input")?;
        return Ok(DockerfileFacts::new("<stdin>", file));
    }
    let text = husk_dockerfile::read_dockerfile(path)?;
    let file = husk_dockerfile::parse(&text)
        .with_context(|| format!("cannot parse {}", path.display()))?;
    Ok(DockerfileFacts::new(path.display().to_string(), file))
}

/// Render `report`, print it, and map it to the exit code. `strict` (a Dockerfile's
/// `# check=error=true`) makes every finding above info fail the run.
pub fn finish(
    report: &Report,
    args: &CheckArgs,
    dockerfile: Option<&DockerfileFacts>,
    printer: &Printer,
    strict: bool,
) -> Result<Exit> {
    let mut level = args.fail_level()?;
    if strict {
        level = Some(level.map_or(Severity::Low, |l| l.min(Severity::Low)));
    }
    let text = match args.format {
        ReportFormat::Text => husk_audit::report::text::render(report),
        ReportFormat::Json => husk_audit::report::json::render(report),
        ReportFormat::Sarif => {
            let anchor = dockerfile.map(|d| (d.path.as_str(), d.file.final_stage().span));
            husk_audit::report::sarif::render(report, anchor)
        }
        ReportFormat::Checkstyle => husk_audit::report::checkstyle::render(report),
        ReportFormat::Gitlab => husk_audit::report::gitlab::render(report),
        ReportFormat::Markdown => bail!("--format markdown is only for --list-rules"),
    };
    match args.format {
        ReportFormat::Text => printer.report(text.trim_end())?,
        _ => printer.json(text.trim_end())?,
    }
    Ok(match level {
        Some(l) if report.fails(l) => Exit::Findings,
        _ => Exit::Success,
    })
}
