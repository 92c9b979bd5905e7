//! Shared by `husk audit` and `husk lint`: --fail-on, --ignore, reading and parsing the
//! Dockerfile, rendering a report in the chosen format, and the exit code.

use std::path::Path;

use anyhow::{Context, Result, bail};
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

    /// The rule selection; an unknown id is an error (a typo would silently ignore nothing).
    pub fn selection(&self) -> Result<Selection> {
        for id in &self.ignore {
            if rule_by_id(id).is_none() {
                bail!("--ignore {id}: no such rule (husk audit --list-rules lists them)");
            }
        }
        Ok(Selection {
            ignore: self.ignore.clone(),
        })
    }
}

/// Read and parse a Dockerfile; the path as given is its name in reports.
pub fn read_dockerfile(path: &Path) -> Result<DockerfileFacts> {
    let text = husk_dockerfile::read_dockerfile(path)?;
    let file = husk_dockerfile::parse(&text)
        .with_context(|| format!("cannot parse {}", path.display()))?;
    Ok(DockerfileFacts {
        path: path.display().to_string(),
        file,
    })
}

/// Render `report`, print it, and map it to the exit code.
pub fn finish(
    report: &Report,
    args: &CheckArgs,
    dockerfile: Option<&DockerfileFacts>,
    printer: &Printer,
) -> Result<Exit> {
    let level = args.fail_level()?;
    let text = match args.format {
        ReportFormat::Text => husk_audit::report::text::render(report),
        ReportFormat::Json => husk_audit::report::json::render(report),
        ReportFormat::Sarif => {
            let anchor = dockerfile.map(|d| (d.path.as_str(), d.file.final_stage().span));
            husk_audit::report::sarif::render(report, anchor)
        }
        ReportFormat::Markdown => bail!("--format markdown is only for --list-rules"),
    };
    match args.format {
        ReportFormat::Text => printer.data(text.trim_end())?,
        _ => printer.json(text.trim_end())?,
    }
    Ok(match level {
        Some(l) if report.fails(l) => Exit::Findings,
        _ => Exit::Success,
    })
}
