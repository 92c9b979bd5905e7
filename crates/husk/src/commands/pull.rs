//! `husk pull docker://HOST/REPO[:TAG|@DIGEST] -o DEST`: fetch an image, verified, into
//! any sink (oci:, oci-archive:, docker-archive:, podman:, or another registry).
//!
//! A reference that names a multi-platform index is copied whole (every image, then the
//! index with its exact bytes, so its digest is kept) into the destinations that hold an
//! index (oci:, oci-archive:, docker://); into the others, its only image, else an error
//! listing the platforms. `--platform` pulls one image; `--all` insists on the whole index.
//! Blobs are fetched `--jobs` at a time into an `oci:` directory (each verified and renamed
//! into place; index.json last) or a registry.

use anyhow::{Context, Result, bail};
use husk_formats::ImageRef;
use husk_oci::{Image, ImageIndex, OwnedIndex};
use husk_registry::PushOptions;

use crate::cli::PullArgs;
use crate::exit::Exit;
use crate::output::Printer;
use crate::registry::Opened;

pub fn run(args: &PullArgs, printer: &Printer) -> Result<Exit> {
    let source = args.reference.parse::<ImageRef>()?;
    let ImageRef::Registry(src) = &source else {
        bail!(
            "{:?} is not a registry reference; use docker://HOST[:PORT]/REPO[:TAG|@DIGEST]",
            args.reference
        );
    };
    let dest: ImageRef = args.output.parse()?;
    crate::registry::check_destination(&dest)?;
    if args.all && !matches!(dest, ImageRef::Registry(_)) && !husk_formats::holds_indexes(&dest) {
        return Err(husk_formats::FormatError::IndexUnsupported {
            destination: dest.to_string(),
        }
        .into());
    }
    let platform = args
        .platform
        .as_deref()
        .map(husk_formats::parse_platform)
        .transpose()?;
    let tags: Vec<String> = match &args.tag {
        Some(t) => vec![t.clone()],
        None => match &dest {
            ImageRef::Oci { .. } | ImageRef::OciArchive { .. } => src.tag.iter().cloned().collect(),
            _ => vec![format!(
                "{}/{}:{}",
                src.domain,
                src.repository,
                src.tag.as_deref().unwrap_or("latest")
            )],
        },
    };
    let digest = match crate::registry::open_whole(&source, platform.as_ref())? {
        Opened::Image(image) => {
            write_image(image.as_ref(), &source, &dest, &tags, args, printer)?;
            image.digest()?
        }
        Opened::Index(index) => match &dest {
            ImageRef::Registry(to) => {
                let report = crate::registry::push_index(&index, Some(&source), to, tune(args))?;
                printer.info(crate::registry::index_summary(&index, &report));
                index.digest()
            }
            other if husk_formats::holds_indexes(other) => {
                husk_formats::write_index(&index, other, &tags, args.jobs)
                    .with_context(|| format!("cannot write {other}"))?;
                printer.info(format!(
                    "pulled {source} (an index of {} images: {}; {}) into {other}",
                    index.images().len(),
                    crate::registry::platforms(&index),
                    index.digest()
                ));
                index.digest()
            }
            _ => {
                // One image only: the index's only platform, else the list to choose from.
                let image = only_image(&index, &source)?;
                write_image(image.as_ref(), &source, &dest, &tags, args, printer)?;
                image.digest()?
            }
        },
    };
    printer.data(digest.to_string())?;
    Ok(Exit::Success)
}

fn tune(args: &PullArgs) -> PushOptions {
    PushOptions {
        jobs: args.jobs,
        ..PushOptions::default()
    }
}

fn only_image<'a>(index: &'a OwnedIndex, source: &ImageRef) -> Result<Box<dyn Image + 'a>> {
    let desc = husk_formats::select_platform(index.document(), None, &source.to_string())?;
    Ok(index.image(&desc)?)
}

fn write_image(
    image: &dyn Image,
    source: &ImageRef,
    dest: &ImageRef,
    tags: &[String],
    args: &PullArgs,
    printer: &Printer,
) -> Result<()> {
    let digest = image.digest()?;
    match dest {
        ImageRef::Registry(to) => {
            let report = crate::registry::push(image, Some(source), to, tune(args))?;
            printer.info(crate::registry::summary(&report));
        }
        other => {
            husk_formats::write_with(image, other, tags, args.jobs)
                .with_context(|| format!("cannot write {other}"))?;
            printer.info(format!("pulled {source} ({digest}) into {other}"));
        }
    }
    Ok(())
}
