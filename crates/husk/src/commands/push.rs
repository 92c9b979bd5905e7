//! `husk push IMAGE docker://HOST/REPO[:TAG]`: upload any image to a registry. The
//! destination can only be a registry, so the `docker://` may be left out when the
//! registry host is explicit (`127.0.0.1:5000/a:1`, `reg.example/a`, `localhost/a`).
//! A source that names a multi-platform index (an OCI layout entry, a registry index) is
//! pushed whole, like `crane copy` (`--all` says so explicitly, as `skopeo copy --all`
//! needs); `--platform` pushes one of its images. The copy itself is
//! `husk_transport::Context::copy`; `--with-referrers` then copies the artifacts attached
//! to the image (`Context::copy_referrers`).

use anyhow::Result;
use husk_transport::{Context, CopyOptions, ImageRef, Source};

use crate::cli::PushArgs;
use crate::exit::Exit;
use crate::output::Printer;

pub fn run(args: &PushArgs, ctx: &Context, printer: &Printer) -> Result<Exit> {
    let dest = ImageRef::Registry(ImageRef::parse_registry(&args.destination)?);
    ctx.check_destination(&dest)?;
    let source: ImageRef = args.image.parse()?;
    let opts = CopyOptions {
        platform: args
            .platform
            .as_deref()
            .map(husk_oci::parse_platform)
            .transpose()?,
        all: args.all,
        extra_tags: args.tags.clone(),
        jobs: args.jobs,
        chunk_size: Some(args.chunk_size),
        ..CopyOptions::default()
    };
    let report = ctx.copy(Source::Reference(&source), &dest, &opts)?;
    printer.info(crate::summary::copy_line(&report));
    if args.with_referrers {
        let n = ctx.copy_referrers(&source, &dest, opts.platform.as_ref())?;
        printer.info(format!("  {n} attached artifacts (referrers) copied"));
    }
    printer.data(report.digest.to_string())?;
    Ok(Exit::Success)
}
