//! `husk push IMAGE docker://HOST/REPO[:TAG]`: upload any image to a registry.

use anyhow::{Result, bail};
use husk_formats::ImageRef;
use husk_registry::PushOptions;

use crate::cli::PushArgs;
use crate::exit::Exit;
use crate::open::open_image;
use crate::output::Printer;

pub fn run(args: &PushArgs, printer: &Printer) -> Result<Exit> {
    let ImageRef::Registry(dest) = args.destination.parse::<ImageRef>()? else {
        bail!(
            "the destination {:?} is not a registry reference; use docker://HOST[:PORT]/REPO[:TAG] (to write local media, use husk pull or husk build -o)",
            args.destination
        );
    };
    crate::registry::check_destination(&ImageRef::Registry(dest.clone()))?;
    let (source, image) = open_image(&args.image, args.platform.as_deref())?;
    let tune = PushOptions {
        chunk_size: args.chunk_size,
        monolithic_max: args.chunk_size,
        jobs: args.jobs,
        extra_tags: args.tags.clone(),
        ..PushOptions::default()
    };
    let report = crate::registry::push(image.as_ref(), Some(&source), &dest, tune)?;
    printer.info(crate::registry::summary(&report));
    printer.data(report.digest.to_string())?;
    Ok(Exit::Success)
}
