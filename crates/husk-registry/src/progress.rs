//! Per-blob progress callbacks. The library reports; the CLI decides whether to draw
//! (a terminal) or stay quiet (CI, pipes).

use husk_oci::Digest;

/// What happened to one blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobOutcome {
    /// The registry already had it (HEAD said so): nothing was sent.
    Existed,
    /// Mounted from another repository of the same registry: nothing was sent.
    Mounted,
    Uploaded,
    Downloaded,
}

/// Receives progress of blob transfers; called from several threads at once.
pub trait Progress: Send + Sync {
    /// A transfer of `size` bytes starts (again, after a retry).
    fn start(&self, _digest: &Digest, _size: u64) {}
    /// `position` bytes of it are done.
    fn position(&self, _digest: &Digest, _position: u64) {}
    /// It ended.
    fn finish(&self, _digest: &Digest, _outcome: BlobOutcome) {}
}

/// No progress reporting.
pub struct NoProgress;

impl Progress for NoProgress {}
