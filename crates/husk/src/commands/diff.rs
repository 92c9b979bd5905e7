//! `husk diff IMAGE_A IMAGE_B`: files added, removed and changed (kind, size, mode, owner,
//! link, content digest, file capabilities and other extended attributes) and config
//! settings that differ. Exit 1 when anything differs, as diff(1) does.

use std::io::Write;

use anyhow::Result;
use husk_explore::{Change, PathDiff, diff_config, diff_files, escape};
use serde::Serialize;

use crate::cli::{DiffArgs, Format};
use crate::commands::view::open;
use crate::exit::Exit;
use crate::output::Printer;

#[derive(Serialize)]
struct JsonDiff<'a> {
    a: String,
    b: String,
    files: &'a [PathDiff],
    config: &'a [husk_explore::ConfigChange],
}

fn describe(c: &Change) -> String {
    match c {
        Change::Kind { old, new } => format!("kind {old} -> {new}"),
        Change::Size { old, new } => format!("size {old} -> {new}"),
        Change::Mode { old, new } => format!("mode {old:04o} -> {new:04o}"),
        Change::Owner { old, new } => format!("owner {old} -> {new}"),
        Change::Link { old, new } => format!("link {} -> {}", escape(old), escape(new)),
        Change::Content { old, new } => format!("content {old} -> {new}"),
        Change::Capabilities { old, new } => format!("capabilities {old} -> {new}"),
        Change::Xattrs { old, new } => format!("xattrs {} -> {}", escape(old), escape(new)),
    }
}

pub fn run(args: &DiffArgs, ctx: &husk_transport::Context, printer: &Printer) -> Result<Exit> {
    let limits = args.limits.limits();
    let a = open(ctx, &args.image_a, args.platform.get())?;
    let b = open(ctx, &args.image_b, args.platform.get())?;
    let fa = a.view(None, limits, true)?;
    let fb = b.view(None, limits, true)?;
    let files = diff_files(&fa, &fb);
    let config = diff_config(&a.image.config()?, &b.image.config()?);
    let mut out = printer.data_writer(args.format == Format::Text);
    match args.format {
        Format::Json => {
            let j = JsonDiff {
                a: a.reference.to_string(),
                b: b.reference.to_string(),
                files: &files,
                config: &config,
            };
            serde_json::to_writer_pretty(&mut out, &j)?;
            writeln!(out)?;
        }
        Format::Text => {
            for d in &files {
                match d {
                    PathDiff::Added { path, kind } => {
                        writeln!(out, "A {} ({kind})", escape(path))?;
                    }
                    PathDiff::Removed { path, kind } => {
                        writeln!(out, "D {} ({kind})", escape(path))?;
                    }
                    PathDiff::Changed { path, changes } => {
                        let what: Vec<String> = changes.iter().map(describe).collect();
                        writeln!(out, "M {}: {}", escape(path), what.join(", "))?;
                    }
                }
            }
            for c in &config {
                writeln!(
                    out,
                    "C {}: {} -> {}",
                    escape(&c.key),
                    c.old
                        .as_deref()
                        .map_or("(none)".into(), |v| format!("{:?}", v)),
                    c.new
                        .as_deref()
                        .map_or("(none)".into(), |v| format!("{:?}", v)),
                )?;
            }
        }
    }
    out.flush()?;
    printer.info(format!(
        "{} paths and {} config settings differ",
        files.len(),
        config.len()
    ));
    Ok(if files.is_empty() && config.is_empty() {
        Exit::Success
    } else {
        Exit::Findings
    })
}
