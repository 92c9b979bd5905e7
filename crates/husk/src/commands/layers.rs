//! `husk layers IMAGE`: per layer, its sizes, what it adds, what later layers waste of it,
//! and the efficiency figure (visible / added bytes; 100 % for a clean single layer).
//! With `--format json`, each layer also lists the paths it added, modified and removed
//! (with sizes), from husk-explore's per-layer changes: what `husk browse` shows.

use std::io::Write;

use anyhow::{Context, Result};
use husk_explore::{
    ChangeKind, Efficiency, History, LayerChanges, ViewOptions, efficiency, escape, summarize,
};
use serde::Serialize;

use crate::cli::{Format, LayersArgs};
use crate::commands::view::open;
use crate::exit::Exit;
use crate::output::{Printer, bytes};

#[derive(Serialize)]
struct JsonLayer {
    index: usize,
    digest: String,
    size: u64,
    tar_bytes: u64,
    entries: u64,
    files: u64,
    whiteouts: u64,
    added_bytes: u64,
    wasted_bytes: u64,
    efficiency: f64,
    created_by: Option<String>,
    changes: JsonChanges,
}

/// One changed path: its path, what it is and its content bytes.
#[derive(Serialize)]
struct JsonPath {
    path: String,
    kind: &'static str,
    size: u64,
}

#[derive(Serialize)]
struct JsonChanges {
    added: Vec<JsonPath>,
    modified: Vec<JsonPath>,
    removed: Vec<JsonPath>,
}

impl JsonChanges {
    fn of(changes: Option<&LayerChanges>) -> JsonChanges {
        let list = |kind| {
            changes
                .into_iter()
                .flat_map(|c| c.of_kind(kind))
                .map(|c| JsonPath {
                    path: c.path.to_string(),
                    kind: c.noun,
                    size: c.size,
                })
                .collect()
        };
        JsonChanges {
            added: list(ChangeKind::Added),
            modified: list(ChangeKind::Modified),
            removed: list(ChangeKind::Removed),
        }
    }
}

#[derive(Serialize)]
struct JsonReport {
    image: String,
    added_bytes: u64,
    wasted_bytes: u64,
    efficiency: f64,
    layers: Vec<JsonLayer>,
}

pub fn run(args: &LayersArgs, ctx: &husk_transport::Context, printer: &Printer) -> Result<Exit> {
    let opened = open(ctx, &args.image, args.platform.get())?;
    let summary = summarize(opened.image.as_ref())?;
    let limits = args.limits.limits();
    // The per-layer changes only for JSON: the table does not need their memory.
    let history =
        match args.format {
            Format::Json => {
                let opts = ViewOptions {
                    limits,
                    hash: false,
                };
                Some(History::read_all(&opened.layers()?, opts).with_context(|| {
                    format!("cannot read the filesystem of {}", opened.reference)
                })?)
            }
            Format::Text => None,
        };
    let plain;
    let fs = match &history {
        Some(h) => h.merged(),
        None => {
            plain = opened.view(None, limits, false)?;
            &plain
        }
    };
    let eff = efficiency(fs);
    let layers: Vec<JsonLayer> = fs
        .layer_stats()
        .iter()
        .zip(&eff.layers)
        .zip(&summary.layers)
        .map(|((s, e), info)| JsonLayer {
            index: s.index,
            digest: info.digest.clone(),
            size: info.size,
            tar_bytes: s.tar_bytes,
            entries: s.entries,
            files: s.files,
            whiteouts: s.whiteouts + s.opaques,
            added_bytes: e.added_bytes,
            wasted_bytes: e.wasted_bytes,
            efficiency: e.efficiency,
            created_by: info.created_by.clone(),
            changes: JsonChanges::of(history.as_ref().and_then(|h| h.changes().get(s.index))),
        })
        .collect();
    let mut out = printer.data_writer(args.format == Format::Text);
    match args.format {
        Format::Json => {
            let j = JsonReport {
                image: opened.reference.to_string(),
                added_bytes: eff.added_bytes,
                wasted_bytes: eff.wasted_bytes,
                efficiency: eff.efficiency,
                layers,
            };
            serde_json::to_writer_pretty(&mut out, &j)?;
            writeln!(out)?;
        }
        Format::Text => text(&mut out, &layers, &eff)?,
    }
    out.flush()?;
    Ok(Exit::Success)
}

/// The table and the image figure.
fn text(out: &mut impl Write, layers: &[JsonLayer], eff: &Efficiency) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<5} {:<19} {:>10} {:>10} {:>7} {:>10} {:>10} {:>7}  CREATED BY",
        "LAYER", "DIGEST", "SIZE", "TAR", "ENTRIES", "ADDED", "WASTED", "EFFIC."
    )?;
    for l in layers {
        let created: String = l
            .created_by
            .as_deref()
            .map(|c| escape(c).chars().take(60).collect())
            .unwrap_or_default();
        writeln!(
            out,
            "{:<5} {:<19} {:>10} {:>10} {:>7} {:>10} {:>10} {:>6.1}%  {created}",
            l.index,
            &l.digest[..l.digest.len().min(19)],
            bytes(l.size),
            bytes(l.tar_bytes),
            l.entries,
            bytes(l.added_bytes),
            bytes(l.wasted_bytes),
            l.efficiency * 100.0,
        )?;
    }
    writeln!(
        out,
        "image efficiency: {:.1}% ({} wasted of {} added)",
        eff.efficiency * 100.0,
        bytes(eff.wasted_bytes),
        bytes(eff.added_bytes)
    )?;
    Ok(())
}
