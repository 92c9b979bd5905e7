//! `husk browse IMAGE`: the interactive layer and file-tree explorer (husk-browse). This
//! handler checks that stdout is a terminal (else it points to `husk ls`/`husk layers`),
//! opens the image, reads `NO_COLOR`, and decides eagerness: a local image has every
//! layer read at the start (its efficiency figures show at once); a registry image
//! downloads only the layers the user selects.

use std::io::IsTerminal;

use anyhow::{Context, Result, bail};
use husk_browse::Options;
use husk_explore::summarize;
use husk_transport::ImageRef;

use crate::cli::BrowseArgs;
use crate::commands::view::open;
use crate::exit::Exit;

pub fn run(args: &BrowseArgs, ctx: &husk_transport::Context) -> Result<Exit> {
    if !std::io::stdout().is_terminal() {
        bail!(
            "husk browse needs a terminal on stdout; for text use `husk ls -R {0}` (the files) \
             or `husk layers {0}` (`--format json` lists each layer's changes)",
            args.image
        );
    }
    let opened = open(ctx, &args.image, args.platform.get())?;
    let summary = summarize(opened.image.as_ref())?;
    let layers = opened.layers()?;
    let opts = Options {
        title: opened.reference.to_string(),
        color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        eager: !matches!(opened.reference, ImageRef::Registry(_)),
        limits: args.limits.limits(),
    };
    husk_browse::run(&layers, summary, &opts)
        .with_context(|| format!("husk browse {}", opened.reference))?;
    Ok(Exit::Success)
}
