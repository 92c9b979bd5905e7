//! `husk sbom IMAGE [--format spdx|cyclonedx]`: the SBOM of any image, on stdout. The
//! image's merged filesystem is extracted into a private temporary directory (never
//! following a symlink out of it) and read by `husk_sbom::scan_root`: its dpkg status and
//! status.d entries, Alpine's installed db, the Rust/Go data of its ELF programs.
//! `husk sbom IMAGE --attached` lists the artifacts attached to the image instead (OCI
//! referrers, in an `oci:` layout or a registry): digest, artifact type, size; of a
//! multi-platform index, those of the index and then of each image (or the one
//! `--platform` names).

use anyhow::{Context, Result};
use husk_explore::{ExtractOptions, escape, extract_dir};
use husk_layer::ImagePath;

use crate::cli::{SbomArgs, SbomFormat};
use crate::commands::view::open;
use crate::exit::Exit;
use crate::output::Printer;

/// SOURCE_DATE_EPOCH, for the documents' creation time (none: no clock).
fn created() -> Option<i64> {
    std::env::var("SOURCE_DATE_EPOCH").ok()?.trim().parse().ok()
}

pub fn run(args: &SbomArgs, ctx: &husk_transport::Context, printer: &Printer) -> Result<Exit> {
    if args.attached {
        return list_attached(args, ctx, printer);
    }
    let opened = open(ctx, &args.image, args.platform.get())?;
    let limits = args.limits.limits();
    let fs = opened.view(None, limits, false)?;
    let layers = opened.layers()?;
    let tmp = tempfile::Builder::new()
        .prefix("husk-sbom-")
        .tempdir()
        .context("cannot create a temporary directory to read the image's files in")?;
    let root = tmp.path().join("root");
    let opts = ExtractOptions {
        force: false,
        preserve_modes: false,
        as_root: false,
        devices: false,
        limits,
    };
    extract_dir(&layers, &fs, &ImagePath::root(), &root, &opts)
        .with_context(|| format!("cannot read the files of {}", opened.reference))?;
    let digest = opened.image.digest()?.to_string();
    let sbom = husk_sbom::scan_root(&root, &args.image, &digest, created())
        .with_context(|| format!("cannot describe {}", opened.reference))?;
    let doc = match args.format {
        SbomFormat::Spdx => sbom.to_spdx_json(),
        SbomFormat::Cyclonedx => sbom.to_cyclonedx_json(),
    };
    printer.json(String::from_utf8_lossy(&doc).trim_end())?;
    Ok(Exit::Success)
}

fn list_attached(
    args: &SbomArgs,
    ctx: &husk_transport::Context,
    printer: &Printer,
) -> Result<Exit> {
    let reference: husk_transport::ImageRef = args.image.parse()?;
    let platform = args
        .platform
        .get()
        .map(husk_oci::parse_platform)
        .transpose()?;
    // An image's own artifacts; of a multi-platform index, the index's and each image's.
    for subject in ctx.subjects(&reference, platform.as_ref())? {
        let list = ctx.referrers(&reference, &subject.digest)?;
        let what = match &subject.platform {
            Some(p) => format!("{reference} [{}]", escape(&p.to_string())),
            None => reference.to_string(),
        };
        printer.info(format!(
            "{} artifacts attached to {what} ({})",
            list.len(),
            subject.digest
        ));
        for d in list {
            printer.data(format!(
                "{}  {}  {}",
                d.digest,
                escape(d.artifact_type.as_deref().unwrap_or("-")),
                d.size
            ))?;
        }
    }
    Ok(Exit::Success)
}
