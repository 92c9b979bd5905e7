//! `husk pull docker://HOST/REPO[:TAG|@DIGEST] -o DEST`: fetch an image, verified, into
//! any destination (oci:, oci-archive:, docker-archive:, podman:, docker:, or another
//! registry) through `husk_transport::Context::copy`, which decides image or index:
//! a reference that names a multi-platform index is copied whole into the destinations
//! that hold an index (oci:, oci-archive:, docker://) and gives the others its only image
//! or the one for this machine (as skopeo copy without --all), else an error listing the
//! platforms. `--platform` pulls one image; `--all` insists on
//! the whole index. Blobs are fetched `--jobs` at a time into an `oci:` directory or a
//! registry. `--with-referrers` then copies the artifacts attached to the image, verified
//! (`Context::copy_referrers`).

use anyhow::{Result, bail};
use husk_transport::{Context, CopyOptions, ImageRef, Source, default_names};

use crate::cli::PullArgs;
use crate::exit::Exit;
use crate::output::Printer;

pub fn run(args: &PullArgs, ctx: &Context, printer: &Printer) -> Result<Exit> {
    let source = args.reference.parse::<ImageRef>()?;
    let ImageRef::Registry(src) = &source else {
        bail!(
            "{:?} is not a registry reference; use docker://HOST[:PORT]/REPO[:TAG|@DIGEST]",
            args.reference
        );
    };
    let dest: ImageRef = args.output.parse()?;
    let opts = CopyOptions {
        platform: args
            .platform
            .as_deref()
            .map(husk_oci::parse_platform)
            .transpose()?,
        all: args.all,
        names: match &args.tag {
            Some(t) => vec![t.clone()],
            None => default_names(src, &dest),
        },
        jobs: args.jobs,
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
