//! `husk cp IMAGE PATH DEST`: copy one file or directory out of an image.
//!
//! Three arguments rather than `IMAGE:PATH`, because image references contain colons
//! (`oci:dir:tag`, `docker-archive:x.tar:repo:tag`). PATH is resolved inside the image
//! (symlinks followed). A directory's contents go into DEST (created, or empty unless
//! `--force`); anything else becomes DEST, or DEST/NAME when DEST is a directory. Device
//! nodes and FIFOs are skipped (one line says how many) unless `--devices` is given, and
//! even then only root can create them.

use std::path::Path;

use anyhow::{Context, Result};
use husk_explore::{
    ExtractOptions, ExtractReport, Skipped, extract_dir, extract_one, running_as_root,
    skipped_summary,
};

use crate::cli::CpArgs;
use crate::commands::view::{lookup_arg, open};
use crate::exit::Exit;
use crate::output::Printer;

pub fn run(args: &CpArgs, ctx: &husk_transport::Context, printer: &Printer) -> Result<Exit> {
    let opened = open(ctx, &args.image, args.platform.get())?;
    let limits = args.limits.limits();
    let fs = opened.view(None, limits, false)?;
    let (resolved, node) = lookup_arg(&fs, &args.path, true)?;
    let layers = opened.layers()?;
    let opts = ExtractOptions {
        force: args.force,
        preserve_modes: args.preserve_modes,
        as_root: running_as_root(),
        devices: args.devices,
        limits,
    };
    let dest = args.dest.as_path();
    let report = if node.is_dir() {
        extract_dir(&layers, &fs, &resolved, dest, &opts)
    } else if dest.is_dir() {
        let name = resolved.file_name().unwrap_or("file");
        extract_one(&layers, &fs, &resolved, dest, name, &opts)
    } else {
        let parent = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let name = dest
            .file_name()
            .and_then(|n| n.to_str())
            .context("DEST must end in a UTF-8 file name")?;
        extract_one(&layers, &fs, &resolved, parent, name, &opts)
    }
    .with_context(|| format!("cannot copy {resolved:?} out of {}", opened.reference))?;
    summary(printer, &report, &dest.display().to_string(), args.devices);
    Ok(Exit::Success)
}

/// Chatter about an extraction, with one line for what was skipped.
pub fn summary(printer: &Printer, r: &ExtractReport, dest: &str, devices: bool) {
    skipped_line(printer, &r.skipped, devices);
    printer.info(format!(
        "wrote {} files ({} bytes), {} directories, {} symlinks, {} hard links into {dest}",
        r.files, r.bytes, r.dirs, r.symlinks, r.hardlinks
    ));
}

/// One line for the device nodes and fifos left out, and how to get them.
pub fn skipped_line(printer: &Printer, skipped: &[Skipped], devices: bool) {
    let Some(what) = skipped_summary(skipped) else {
        return;
    };
    let why = if devices {
        "only root can create device nodes and FIFOs: run husk as root to create them"
    } else {
        "pass --devices to write them (created only when running as root)"
    };
    printer.info(format!("skipped {what}: {why}"));
}
