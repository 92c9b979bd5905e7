//! `husk cat IMAGE PATH`: a file's bytes on stdout. Symlinks are followed inside the image
//! root, never on the host; the layer holding the content is streamed again.

use std::path::Path;

use anyhow::{Result, bail};
use husk_explore::copy_content;

use crate::cli::CatArgs;
use crate::commands::view::{lookup_arg, open};
use crate::exit::Exit;
use crate::output::Printer;

pub fn run(args: &CatArgs, ctx: &husk_transport::Context, printer: &Printer) -> Result<Exit> {
    let opened = open(ctx, &args.image, args.platform.get())?;
    let limits = args.limits.limits();
    let fs = opened.view(None, limits, false)?;
    let (resolved, node) = lookup_arg(&fs, &args.path, true)?;
    let Some(loc) = node.content.filter(|_| node.is_file()) else {
        bail!("{:?} is a {}, not a regular file", resolved, node.noun());
    };
    let layers = opened.layers()?;
    let mut out = printer.data_writer(false);
    copy_content(&layers, loc, &mut out, Path::new("standard output"), limits)?;
    Ok(Exit::Success)
}
