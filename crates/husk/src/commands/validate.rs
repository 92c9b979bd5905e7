//! `husk validate IMAGE`: recompute every digest, size and diff_id.

use anyhow::{Context, Result};
use husk_oci::escape;
use serde::Serialize;

use crate::cli::{Format, ValidateArgs};
use crate::exit::Exit;
use crate::open::open_image;
use crate::output::{Printer, bytes};

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

pub fn run(args: &ValidateArgs, ctx: &husk_transport::Context, printer: &Printer) -> Result<Exit> {
    let (reference, image) = open_image(ctx, &args.image, args.platform.as_deref())?;
    let report = husk_oci::validate(image.as_ref())
        .with_context(|| format!("cannot validate {reference}"))?;
    match args.format {
        Format::Json => {
            let j = JsonReport {
                image: reference.to_string(),
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
            };
            printer.json(serde_json::to_string_pretty(&j)?)?;
        }
        Format::Text => {
            let platform = report.platform.as_ref().map_or_else(
                || "unknown platform".into(),
                |p| escape(&p.to_string()).into_owned(),
            );
            printer.data(format!("{reference}: {} ({platform})", report.digest))?;
            for (i, l) in report.layers.iter().enumerate() {
                printer.data(format!(
                    "  layer {i}: {} {} -> {} uncompressed",
                    l.digest,
                    bytes(l.size),
                    l.uncompressed_size.map_or_else(|| "?".into(), bytes)
                ))?;
            }
            if report.is_valid() {
                printer.data(format!(
                    "valid: manifest, config and {} layers verified",
                    report.layers.len()
                ))?;
            } else {
                for p in &report.problems {
                    printer.data(format!("problem: {}", escape(&p.to_string())))?;
                }
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
