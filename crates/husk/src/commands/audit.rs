//! `husk audit IMAGE [--dockerfile FILE]` and `husk audit --list-rules`.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use husk_audit::{RULES, Report, ScanOptions, check_dockerfile, check_image, scan_image};

use super::check::{finish, read_dockerfile};
use crate::cli::{AuditArgs, ReportFormat};
use crate::exit::Exit;
use crate::open::open_image;
use crate::output::Printer;

pub fn run(args: &AuditArgs, ctx: &husk_transport::Context, printer: &Printer) -> Result<Exit> {
    if args.list_rules {
        return list_rules(args.check.format, printer);
    }
    let selection = args.check.selection()?;
    args.check.fail_level()?;
    // Parse the Dockerfile first: a syntax error should not wait for a large image scan.
    let dockerfile = args
        .dockerfile
        .as_deref()
        .map(read_dockerfile)
        .transpose()?;
    let Some(reference) = args.image.as_deref() else {
        bail!("an IMAGE is required (or --list-rules)");
    };
    let (parsed, image) = open_image(ctx, reference, args.platform.as_deref())?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let opts = ScanOptions {
        limits: args.limits.limits(),
        now,
    };
    printer.info(format!("auditing {parsed}"));
    let mut facts =
        scan_image(image.as_ref(), &opts).with_context(|| format!("cannot audit {parsed}"))?;
    facts.name = parsed.to_string();
    let mut findings = check_image(&facts, &selection);
    if let Some(d) = &dockerfile {
        findings.extend(check_dockerfile(d, &selection));
    }
    let digest = image.digest().ok().map(|d| d.to_string());
    let report = Report::new(
        Some(parsed.to_string()),
        digest,
        dockerfile.as_ref().map(|d| d.path.clone()),
        findings,
    );
    finish(&report, &args.check, dockerfile.as_ref(), printer, false)
}

fn list_rules(format: ReportFormat, printer: &Printer) -> Result<Exit> {
    match format {
        ReportFormat::Text => {
            for r in RULES {
                let i = r.info();
                printer.data(format!(
                    "{}  {:<8}  {:<34}  {}",
                    i.id, i.severity, i.name, i.summary
                ))?;
            }
        }
        ReportFormat::Json => {
            let infos: Vec<_> = RULES.iter().map(|r| r.info()).collect();
            printer.json(serde_json::to_string_pretty(&infos)?)?;
        }
        ReportFormat::Markdown => printer.data(husk_audit::docs::index().trim_end())?,
        ReportFormat::Sarif | ReportFormat::Checkstyle | ReportFormat::Gitlab => {
            bail!("--list-rules prints text, json or markdown")
        }
    }
    Ok(Exit::Success)
}
