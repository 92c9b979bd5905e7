//! How a copy's report reads: one line per push or pull (the wording the CLI tests
//! assert).

use husk_registry::{BlobOutcome, PushReport};
use husk_transport::CopyReport;

use crate::output::bytes;

/// One line about a push: where, digest, and what was sent.
pub fn push_line(report: &PushReport) -> String {
    let count = |o| report.blobs.iter().filter(|(_, x)| *x == o).count();
    format!(
        "pushed {} ({} blobs uploaded, {} already there, {} mounted; {} sent)",
        report.references.join(", "),
        count(BlobOutcome::Uploaded),
        count(BlobOutcome::Existed),
        count(BlobOutcome::Mounted),
        bytes(report.uploaded_bytes())
    )
}

/// One line about a copy: a push's line (with the index's images and platforms), or
/// `pulled SOURCE (...) into DEST`.
pub fn copy_line(report: &CopyReport) -> String {
    match (&report.push, &report.index) {
        (Some(push), None) => push_line(push),
        (Some(push), Some(index)) => format!(
            "{} (an index of {} images: {})",
            push_line(push),
            index.images,
            index.platforms.join(", ")
        ),
        (None, Some(index)) => format!(
            "pulled {} (an index of {} images: {}; {}) into {}",
            report.source,
            index.images,
            index.platforms.join(", "),
            report.digest,
            report.destination
        ),
        (None, None) => format!(
            "pulled {} ({}) into {}",
            report.source, report.digest, report.destination
        ),
    }
}
