//! `husk pull docker://HOST/REPO[:TAG|@DIGEST] -o DEST`: fetch an image, verified, into
//! any sink (oci:, oci-archive:, docker-archive:, podman:, or another registry).

use anyhow::{Context, Result, bail};
use husk_formats::ImageRef;
use husk_oci::Image;
use husk_registry::PushOptions;

use crate::cli::PullArgs;
use crate::exit::Exit;
use crate::output::Printer;

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
    let platform = args
        .platform
        .as_deref()
        .map(husk_formats::parse_platform)
        .transpose()?;
    let image = crate::registry::open(src, platform.as_ref())?;
    let digest = image.digest()?;
    match &dest {
        ImageRef::Registry(to) => {
            let report = crate::registry::push(&image, Some(&source), to, PushOptions::default())?;
            printer.info(crate::registry::summary(&report));
        }
        other => {
            let tags: Vec<String> = match &args.tag {
                Some(t) => vec![t.clone()],
                None => match other {
                    ImageRef::Oci { .. } | ImageRef::OciArchive { .. } => {
                        src.tag.iter().cloned().collect()
                    }
                    _ => vec![format!(
                        "{}/{}:{}",
                        src.domain,
                        src.repository,
                        src.tag.as_deref().unwrap_or("latest")
                    )],
                },
            };
            husk_formats::write(&image, other, &tags)
                .with_context(|| format!("cannot write {other}"))?;
            printer.info(format!("pulled {source} ({digest}) into {other}"));
        }
    }
    printer.data(digest.to_string())?;
    Ok(Exit::Success)
}
