//! `husk export IMAGE DEST.tar|DIR`: the flattened filesystem, as one tar (DEST ends in
//! `.tar`, written atomically) or extracted into a directory (see `husk cp` for the rules).
//! Device nodes and FIFOs only with `--devices` (in a directory: created as root only).

use std::io::BufWriter;

use anyhow::{Context, Result, bail};
use husk_explore::{ExtractOptions, export_tar, extract_dir, running_as_root};
use husk_layer::ImagePath;

use crate::cli::ExportArgs;
use crate::commands::cp::{skipped_line, summary};
use crate::commands::view::open;
use crate::exit::Exit;
use crate::output::Printer;

pub fn run(args: &ExportArgs, ctx: &husk_transport::Context, printer: &Printer) -> Result<Exit> {
    let opened = open(ctx, &args.image, args.platform.get())?;
    let limits = args.limits.limits();
    let fs = opened.view(None, limits, false)?;
    let layers = opened.layers()?;
    let dest = args.dest.as_path();
    let root = ImagePath::root();
    if dest.extension().is_some_and(|e| e == "tar") {
        if dest.symlink_metadata().is_ok() && !args.force {
            bail!(
                "{} already exists; pass --force to replace it",
                dest.display()
            );
        }
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => std::path::Path::new("."),
        };
        let tmp = tempfile::Builder::new()
            .prefix(".husk-tmp-")
            .tempfile_in(dir)
            .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
        let out = BufWriter::with_capacity(1 << 20, tmp.as_file());
        let r = export_tar(&layers, &fs, &root, out, dest, limits, args.devices)
            .with_context(|| format!("cannot export {}", opened.reference))?;
        tmp.persist(dest)
            .with_context(|| format!("cannot write {}", dest.display()))?;
        skipped_line(printer, &r.skipped, false);
        printer.info(format!("wrote {} entries to {}", r.entries, dest.display()));
    } else {
        let opts = ExtractOptions {
            force: args.force,
            preserve_modes: args.preserve_modes,
            as_root: running_as_root(),
            devices: args.devices,
            limits,
        };
        let report = extract_dir(&layers, &fs, &root, dest, &opts)
            .with_context(|| format!("cannot export {}", opened.reference))?;
        summary(printer, &report, &dest.display().to_string(), args.devices);
    }
    Ok(Exit::Success)
}
