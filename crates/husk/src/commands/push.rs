//! `husk push IMAGE docker://HOST/REPO[:TAG]`: upload any image to a registry. A source
//! that names a multi-platform index (an OCI layout entry, a registry index) is pushed
//! whole, like `crane copy` (`--all` says so explicitly, as `skopeo copy --all` needs);
//! `--platform` pushes one of its images.

use anyhow::{Result, bail};
use husk_formats::ImageRef;
use husk_registry::PushOptions;

use crate::cli::PushArgs;
use crate::exit::Exit;
use crate::output::Printer;
use crate::registry::Opened;

pub fn run(args: &PushArgs, printer: &Printer) -> Result<Exit> {
    let ImageRef::Registry(dest) = args.destination.parse::<ImageRef>()? else {
        bail!(
            "the destination {:?} is not a registry reference; use docker://HOST[:PORT]/REPO[:TAG] (to write local media, use husk pull or husk build -o)",
            args.destination
        );
    };
    crate::registry::check_destination(&ImageRef::Registry(dest.clone()))?;
    let source: ImageRef = args.image.parse()?;
    let platform = args
        .platform
        .as_deref()
        .map(husk_formats::parse_platform)
        .transpose()?;
    let tune = PushOptions {
        chunk_size: args.chunk_size,
        monolithic_max: args.chunk_size,
        jobs: args.jobs,
        extra_tags: args.tags.clone(),
        ..PushOptions::default()
    };
    let report = match crate::registry::open_whole(&source, platform.as_ref())? {
        Opened::Index(index) => {
            let report = crate::registry::push_index(&index, Some(&source), &dest, tune)?;
            printer.info(crate::registry::index_summary(&index, &report));
            report
        }
        Opened::Image(image) => {
            let report = crate::registry::push(image.as_ref(), Some(&source), &dest, tune)?;
            printer.info(crate::registry::summary(&report));
            report
        }
    };
    printer.data(report.digest.to_string())?;
    Ok(Exit::Success)
}
