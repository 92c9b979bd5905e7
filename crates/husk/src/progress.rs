//! Per-blob progress bars of registry transfers (indicatif, on stderr), behind
//! husk-registry's `Progress` trait and handed to the transport Context as a factory.
//! Bars are drawn only when stderr is a terminal, never with `--quiet` or
//! machine-readable output, and not when `CI` is set to anything but `false` (GitHub
//! Actions, GitLab, ... set `CI=true`; some allocate a pty). stdout never gets progress.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

use husk_oci::Digest;
use husk_registry::{BlobOutcome, Progress};
use husk_transport::ProgressFactory;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The factory of this run's bars, or `None` (no progress) when they would not be seen.
pub fn factory(quiet: bool) -> Option<ProgressFactory> {
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
    if quiet || ci || !std::io::stderr().is_terminal() {
        return None;
    }
    Some(Arc::new(|verb: &'static str| -> Arc<dyn Progress> {
        Arc::new(Bars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::new(HashMap::new()),
            verb,
        })
    }))
}

struct Bars {
    multi: MultiProgress,
    bars: Mutex<HashMap<Digest, ProgressBar>>,
    verb: &'static str,
}

fn style() -> ProgressStyle {
    match ProgressStyle::with_template(
        "{msg:24} [{bar:30}] {bytes:>10}/{total_bytes:10} {bytes_per_sec:>12}",
    ) {
        Ok(s) => s.progress_chars("=> "),
        Err(_) => ProgressStyle::default_bar(),
    }
}

impl Progress for Bars {
    fn start(&self, digest: &Digest, size: u64) {
        let Ok(mut bars) = self.bars.lock() else {
            return;
        };
        let bar = bars.entry(digest.clone()).or_insert_with(|| {
            let b = self.multi.add(ProgressBar::new(size));
            b.set_style(style());
            b
        });
        bar.set_message(format!("{} {}", self.verb, digest.short()));
        bar.set_position(0);
    }
    fn position(&self, digest: &Digest, position: u64) {
        if let Some(b) = self.bars.lock().ok().as_ref().and_then(|m| m.get(digest)) {
            b.set_position(position);
        }
    }
    fn finish(&self, digest: &Digest, outcome: BlobOutcome) {
        if let Some(b) = self.bars.lock().ok().as_ref().and_then(|m| m.get(digest)) {
            let word = match outcome {
                BlobOutcome::Existed => "exists",
                BlobOutcome::Mounted => "mounted",
                BlobOutcome::Uploaded => "pushed",
                BlobOutcome::Downloaded => "pulled",
            };
            b.finish_with_message(format!("{word} {}", digest.short()));
        }
    }
}
