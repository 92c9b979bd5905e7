//! Per-layer efficiency: how many of the bytes a layer adds are still visible in the final
//! filesystem. A byte is wasted when a later layer (or a later entry of the same layer)
//! overwrites or deletes the file that holds it. Hard links to one content count once.
//!
//! The image figure is visible bytes / added bytes over all layers, so a single-layer
//! image without duplicate entries is 100 % efficient (tools that compare against the
//! *other* layers report nonsense for the one-layer images husk builds). An image or layer
//! that adds no bytes is 100 % efficient.

use serde::Serialize;

use crate::fs::Filesystem;

/// Efficiency figures of one layer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerEfficiency {
    pub index: usize,
    pub added_bytes: u64,
    pub visible_bytes: u64,
    pub wasted_bytes: u64,
    /// visible / added, 1.0 when the layer adds nothing.
    pub efficiency: f64,
}

/// Efficiency of the whole image and of each layer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Efficiency {
    pub added_bytes: u64,
    pub visible_bytes: u64,
    pub wasted_bytes: u64,
    pub efficiency: f64,
    pub layers: Vec<LayerEfficiency>,
}

fn ratio(visible: u64, added: u64) -> f64 {
    if added == 0 {
        1.0
    } else {
        visible as f64 / added as f64
    }
}

/// Compute efficiency from a merged view (built with [`Filesystem::build`]).
pub fn efficiency(fs: &Filesystem) -> Efficiency {
    let stats = fs.layer_stats();
    let mut visible = vec![0u64; stats.len()];
    for (loc, size) in fs.visible_content() {
        if let Some(v) = visible.get_mut(loc.layer) {
            *v += size;
        }
    }
    let layers: Vec<LayerEfficiency> = stats
        .iter()
        .zip(&visible)
        .map(|(s, &v)| LayerEfficiency {
            index: s.index,
            added_bytes: s.added_bytes,
            visible_bytes: v,
            wasted_bytes: s.added_bytes.saturating_sub(v),
            efficiency: ratio(v, s.added_bytes),
        })
        .collect();
    let added: u64 = layers.iter().map(|l| l.added_bytes).sum();
    let vis: u64 = layers.iter().map(|l| l.visible_bytes).sum();
    Efficiency {
        added_bytes: added,
        visible_bytes: vis,
        wasted_bytes: added.saturating_sub(vis),
        efficiency: ratio(vis, added),
        layers,
    }
}

/// Human byte sizes, as every husk view prints them: `512 B`, `1.5 KiB`, `16.5 MiB`.
#[must_use]
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    format!("{v:.1} {}", UNITS[i])
}
