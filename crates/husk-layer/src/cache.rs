//! The compressed-blob cache: `cache_dir/<diff_id hex>.<cache key>` holds a compressed
//! blob and `… .meta` its digest and size.
//!
//! Keyed by the uncompressed tar's digest, so a rebuild with unchanged inputs costs one
//! tar-and-hash pass plus one hash of the cached blob instead of a compression. Nothing in
//! the cache is trusted: a hit is used only after the blob's size and sha256 match its
//! metadata; anything else is treated as a miss and overwritten. Entries are published with
//! write-to-temp + rename, so a concurrent reader sees an old entry or a new one, never half
//! of one. Failing to store is never an error for the build.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use husk_oci::{Digest, HashingReader};

use crate::compress::Compression;

const META_MAGIC: &str = "husk-layer-cache 1";
const META_MAX: u64 = 1024;

fn entry_paths(cache_dir: &Path, diff_id: &Digest, c: &Compression) -> (PathBuf, PathBuf) {
    let base = format!("{}.{}", diff_id.hex(), c.cache_key());
    (
        cache_dir.join(&base),
        cache_dir.join(format!("{base}.meta")),
    )
}

/// A verified cached blob: its digest and size.
pub(crate) struct Hit {
    pub digest: Digest,
    pub size: u64,
    pub path: PathBuf,
}

/// Look up and verify a cached blob for `diff_id`; `None` on a miss or any doubt.
pub(crate) fn lookup(cache_dir: &Path, diff_id: &Digest, c: &Compression) -> Option<Hit> {
    let (blob, meta) = entry_paths(cache_dir, diff_id, c);
    if fs::metadata(&meta).ok()?.len() > META_MAX {
        return None;
    }
    let text = fs::read_to_string(&meta).ok()?;
    let mut lines = text.lines();
    if lines.next()? != META_MAGIC {
        return None;
    }
    let digest: Digest = lines.next()?.parse().ok()?;
    let size: u64 = lines.next()?.parse().ok()?;
    let file = File::open(&blob).ok()?;
    if file.metadata().ok()?.len() != size {
        return None;
    }
    let mut reader = HashingReader::new(file, digest.algorithm());
    io::copy(&mut reader, &mut io::sink()).ok()?;
    let (actual, read) = reader.finish();
    (actual == digest && read == size).then_some(Hit {
        digest,
        size,
        path: blob,
    })
}

/// Publish `blob` (already written and hashed) as the cache entry for `diff_id`.
pub(crate) fn store(
    cache_dir: &Path,
    diff_id: &Digest,
    c: &Compression,
    blob: &Path,
    digest: &Digest,
    size: u64,
) -> io::Result<()> {
    fs::create_dir_all(cache_dir)?;
    let (entry_blob, entry_meta) = entry_paths(cache_dir, diff_id, c);
    // A copy, not a hard link: the caller owns `blob` and may change or move it.
    let tmp = TempPath::create(cache_dir)?;
    fs::copy(blob, &tmp.0)?;
    tmp.persist(&entry_blob)?;
    let meta = TempPath::create(cache_dir)?;
    let mut f = File::options().write(true).open(&meta.0)?;
    write!(f, "{META_MAGIC}\n{digest}\n{size}\n")?;
    drop(f);
    meta.persist(&entry_meta)
}

/// Put a verified cached blob at `dest` (a copy), atomically.
pub(crate) fn materialise(hit: &Hit, dest: &Path, dir: &Path) -> io::Result<()> {
    // A copy, not a hard link: the blob may be linked into an output next (see
    // husk_oci::Image::trusted_blob_file), and outputs must never share an inode with the
    // cache. `fs::copy` is an in-kernel copy (copy_file_range) on Linux.
    let tmp = TempPath::reserve(dir)?;
    fs::copy(&hit.path, &tmp.0)?;
    tmp.persist(dest)
}

/// A uniquely named file in a directory, removed on drop unless persisted by renaming.
pub(crate) struct TempPath(pub PathBuf);

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl TempPath {
    fn unique_name(dir: &Path) -> PathBuf {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        dir.join(format!(
            ".husk-tmp-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ))
    }

    /// Create a new empty file with a fresh name.
    pub(crate) fn create(dir: &Path) -> io::Result<TempPath> {
        loop {
            let path = Self::unique_name(dir);
            match File::options().write(true).create_new(true).open(&path) {
                Ok(_) => return Ok(TempPath(path)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// A fresh name with no file yet (for `hard_link`, which needs the target absent).
    fn reserve(dir: &Path) -> io::Result<TempPath> {
        let created = Self::create(dir)?;
        fs::remove_file(&created.0)?;
        Ok(created)
    }

    /// Rename onto `dest`, replacing it.
    pub(crate) fn persist(mut self, dest: &Path) -> io::Result<()> {
        fs::rename(&self.0, dest)?;
        self.0 = PathBuf::new();
        Ok(())
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        if !self.0.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.0);
        }
    }
}
