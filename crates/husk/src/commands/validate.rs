//! `husk validate IMAGE`: recompute every digest, size and diff_id; of a multi-platform
//! index (without `--platform`), of every image and of the index's own descriptors.

use anyhow::{Context, Result};
use husk_oci::escape;
use serde::Serialize;

use crate::cli::{Format, ValidateArgs};
use crate::exit::Exit;
use crate::open::open_image;
use crate::output::{Printer, bytes};
use husk_transport::{ImageRef, Opened};

#[derive(Serialize)]
struct JsonReport {
    image: String,
    digest: String,
    platform: Option<String>,
    valid: bool,
    layers: Vec<JsonLayer>,
    problems: Vec<String>,
}

#[derive(Serialize)]
struct JsonLayer {
    digest: String,
    size: u64,
    media_type: String,
    diff_id: Option<String>,
    uncompressed_size: Option<u64>,
}

#[derive(Serialize)]
struct JsonIndexReport {
    image: String,
    digest: String,
    media_type: String,
    valid: bool,
    problems: Vec<String>,
    images: Vec<JsonReport>,
}

fn json_report(image: String, report: &husk_oci::ValidationReport) -> JsonReport {
    JsonReport {
        image,
        digest: report.digest.to_string(),
        platform: report.platform.as_ref().map(ToString::to_string),
        valid: report.is_valid(),
        layers: report
            .layers
            .iter()
            .map(|l| JsonLayer {
                digest: l.digest.to_string(),
                size: l.size,
                media_type: l.media_type.clone(),
                diff_id: l.diff_id.as_ref().map(ToString::to_string),
                uncompressed_size: l.uncompressed_size,
            })
            .collect(),
        problems: report.problems.iter().map(ToString::to_string).collect(),
    }
}

/// A whole index: the index's problems, then each image's report.
fn run_index(
    format: Format,
    reference: &ImageRef,
    index: &husk_oci::OwnedIndex,
    printer: &Printer,
) -> Result<Exit> {
    let report =
        husk_oci::validate_index(index).with_context(|| format!("cannot validate {reference}"))?;
    if format == Format::Json {
        let j = JsonIndexReport {
            image: reference.to_string(),
            digest: report.digest.to_string(),
            media_type: report.media_type.clone(),
            valid: report.is_valid(),
            problems: report.problems.iter().map(ToString::to_string).collect(),
            images: report
                .images
                .iter()
                .map(|r| json_report(format!("{reference}@{}", r.digest), r))
                .collect(),
        };
        printer.json(serde_json::to_string_pretty(&j)?)?;
    } else {
        printer.data(format!(
            "{reference}: index {} ({} images)",
            report.digest,
            report.images.len()
        ))?;
        for r in &report.images {
            print_text("image", r, printer)?;
        }
        for p in &report.problems {
            printer.data(format!("problem: {}", escape(&p.to_string())))?;
        }
        let bad = report.problems.len()
            + report
                .images
                .iter()
                .map(|r| r.problems.len())
                .sum::<usize>();
        if bad == 0 {
            printer.data(format!(
                "valid: index and its {} images verified",
                report.images.len()
            ))?;
        } else {
            printer.data(format!("invalid: {bad} problems"))?;
        }
    }
    Ok(if report.is_valid() {
        Exit::Success
    } else {
        Exit::Findings
    })
}

pub fn run(args: &ValidateArgs, ctx: &husk_transport::Context, printer: &Printer) -> Result<Exit> {
    if args.platform.is_none() {
        let reference: ImageRef = args.image.parse()?;
        if let Opened::Index(index) = ctx.open_whole(&reference, None)? {
            return run_index(args.format, &reference, &index, printer);
        }
    }
    let (reference, image) = open_image(ctx, &args.image, args.platform.as_deref())?;
    let report = husk_oci::validate(image.as_ref())
        .with_context(|| format!("cannot validate {reference}"))?;
    match args.format {
        Format::Json => {
            let j = json_report(reference.to_string(), &report);
            printer.json(serde_json::to_string_pretty(&j)?)?;
        }
        Format::Text => {
            print_text(&reference.to_string(), &report, printer)?;
            if report.is_valid() {
                printer.data(format!(
                    "valid: manifest, config and {} layers verified",
                    report.layers.len()
                ))?;
            } else {
                printer.data(format!("invalid: {} problems", report.problems.len()))?;
            }
        }
    }
    Ok(if report.is_valid() {
        Exit::Success
    } else {
        Exit::Findings
    })
}

/// One image's lines: its digest and platform, its layers, its problems.
fn print_text(label: &str, report: &husk_oci::ValidationReport, printer: &Printer) -> Result<()> {
    let platform = report.platform.as_ref().map_or_else(
        || "unknown platform".into(),
        |p| escape(&p.to_string()).into_owned(),
    );
    printer.data(format!("{label}: {} ({platform})", report.digest))?;
    for (i, l) in report.layers.iter().enumerate() {
        printer.data(format!(
            "  layer {i}: {} {} -> {} uncompressed",
            l.digest,
            bytes(l.size),
            l.uncompressed_size.map_or_else(|| "?".into(), bytes)
        ))?;
    }
    for p in &report.problems {
        printer.data(format!("problem: {}", escape(&p.to_string())))?;
    }
    Ok(())
}
