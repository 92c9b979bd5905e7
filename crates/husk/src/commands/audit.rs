//! `husk audit IMAGE [--dockerfile FILE]` and `husk audit --list-rules`. A multi-platform
//! index is audited image by image (or the one `--platform` picks): each finding about an
//! image names the platform the index lists it under.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use husk_audit::{
    Finding, Location, RULES, Report, ScanOptions, Selection, check_dockerfile, check_image,
    scan_image,
};
use husk_oci::{Image, Platform};
use husk_transport::{ImageRef, Opened};

use super::check::{finish, read_dockerfile};
use crate::cli::{AuditArgs, ReportFormat};
use crate::exit::Exit;
use crate::open::{exactly, index_entries};
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
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let opts = ScanOptions {
        limits: args.limits.limits(),
        now,
    };
    let parsed: ImageRef = reference.parse()?;
    let (digest, mut findings) = match ctx.open_whole(&parsed, None)? {
        // Every image of a multi-platform index (or the one --platform picks), each
        // checked against the platform the index lists it under.
        Opened::Index(index) => {
            let mut findings = Vec::new();
            let choice = args.platform.as_deref().map(exactly).transpose()?;
            for (platform, image) in index_entries(&index, choice.as_ref())? {
                findings.extend(audit_image(
                    &parsed, image, platform, &opts, &selection, printer,
                )?);
            }
            (Some(index.digest().to_string()), findings)
        }
        // One image, whatever --platform says (an image is not chosen from, as with
        // docker and skopeo).
        Opened::Image(image) => {
            let findings = audit_image(&parsed, image.as_ref(), None, &opts, &selection, printer)?;
            (image.digest().ok().map(|d| d.to_string()), findings)
        }
    };
    if let Some(d) = &dockerfile {
        findings.extend(check_dockerfile(d, &selection));
    }
    let report = Report::new(
        Some(parsed.to_string()),
        digest,
        dockerfile.as_ref().map(|d| d.path.clone()),
        findings,
    );
    finish(&report, &args.check, dockerfile.as_ref(), printer, false)
}

/// Scan one image and run the image rules on it; `listed_as` is the platform an index
/// lists it under, which every finding about the image then names.
fn audit_image(
    parsed: &ImageRef,
    image: &dyn Image,
    listed_as: Option<Platform>,
    opts: &ScanOptions,
    selection: &Selection,
    printer: &Printer,
) -> Result<Vec<Finding>> {
    match &listed_as {
        Some(p) => printer.info(format!("auditing {parsed} ({p})")),
        None => printer.info(format!("auditing {parsed}")),
    }
    let mut facts = scan_image(image, opts).with_context(|| match &listed_as {
        Some(p) => format!("cannot audit {parsed} ({p})"),
        None => format!("cannot audit {parsed}"),
    })?;
    facts.name = parsed.to_string();
    let tag = listed_as.as_ref().map(ToString::to_string);
    facts.listed_as = listed_as;
    let mut findings = check_image(&facts, selection);
    for f in &mut findings {
        if let Location::Image { platform, .. } = &mut f.location {
            platform.clone_from(&tag);
        }
    }
    Ok(findings)
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
