//! [`write_layer`]: a plan becomes one deterministic, compressed layer blob.
//!
//! The pipeline hashes first and compresses second: the tar is streamed into a sha256 sink
//! (cheap) to learn the diff_id, the cache is consulted with it, and only on a miss is the
//! tar streamed a second time through the encoder into the blob file. Re-streaming the tar
//! was measured against spooling it to a temporary file (see the crate docs for numbers);
//! re-streaming keeps the no-change rebuild to a pure read-and-hash. The second pass checks
//! that every host file is the one fingerprinted in the first and that the tar hashes to the
//! same diff_id, so the blob always matches the diff_id it is published with.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use husk_oci::{Descriptor, Digest, HashingWriter};

use crate::cache::{self, TempPath};
use crate::compress::{Compression, Encoder};
use crate::error::LayerError;
use crate::plan::LayerPlan;
use crate::stream::{self, Check};

const OUT_BUF: usize = 256 * 1024;

/// How to write a layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOptions {
    /// mtime of every entry: `SOURCE_DATE_EPOCH`, or 0.
    pub mtime: u64,
    pub compression: Compression,
    /// Where compressed blobs are cached across builds; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// Compression threads (gzip chunks, zstd workers). The output does not depend on it;
    /// 0 is treated as 1.
    pub workers: u32,
}

impl Default for WriteOptions {
    /// mtime 0, gzip level 6, no cache, one zstd worker per available core.
    fn default() -> Self {
        WriteOptions {
            mtime: 0,
            compression: Compression::default(),
            cache_dir: None,
            workers: std::thread::available_parallelism()
                .map_or(1, |n| u32::try_from(n.get()).unwrap_or(1)),
        }
    }
}

/// A layer blob written by [`write_layer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenLayer {
    /// The compressed blob, `out_dir/<blob digest hex>`.
    pub blob: PathBuf,
    /// Media type, digest and size of the blob.
    pub descriptor: Descriptor,
    /// sha256 of the uncompressed tar.
    pub diff_id: Digest,
    pub uncompressed_size: u64,
    /// Tar entries written, implicit parent directories included.
    pub entries: usize,
    /// True when the compressed blob came from the cache.
    pub reused: bool,
}

/// Write `plan` as one layer blob into `out_dir` (a directory the caller owns), named by
/// its digest hex. The bytes are the same for the same plan and options on every run and
/// machine; file contents are read when this runs.
///
/// # Errors
/// [`LayerError::BadLevel`] for an invalid compression level; [`LayerError::HostIo`],
/// [`LayerError::SpecialFile`] and [`LayerError::FileChanged`] naming a host file that
/// cannot be read, is not a regular file or changed while being read;
/// [`LayerError::InputChanged`] if the layer's content changed between the hashing and the
/// compressing pass; [`LayerError::Output`] when `out_dir` cannot be written. Cache
/// problems are never errors: an unreadable or corrupt entry is a miss, a failed store is
/// ignored.
pub fn write_layer(
    plan: &LayerPlan,
    opts: &WriteOptions,
    out_dir: &Path,
) -> Result<WrittenLayer, LayerError> {
    opts.compression.validate()?;
    let media_type = opts.compression.media_type();

    // One pass compresses and hashes both forms at once when there is nothing to look up:
    // no cache, or no compression (the blob is the tar, which is never cached).
    if opts.compression == Compression::None || opts.cache_dir.is_none() {
        let mut fingerprints = Vec::new();
        let (tmp, (digest, size), diff_id, uncompressed_size, entries) =
            compress_pass(plan, opts, out_dir, Check::Record(&mut fingerprints))?;
        let blob = publish(tmp, out_dir, &digest)?;
        return Ok(WrittenLayer {
            blob,
            descriptor: Descriptor::new(media_type, digest, size),
            diff_id,
            uncompressed_size,
            entries,
            reused: false,
        });
    }

    // Pass 1: hash the uncompressed tar.
    let mut fingerprints = Vec::new();
    let mut sink = HashingWriter::new(io::sink());
    let entries = stream::write_tar(
        plan,
        opts.mtime,
        &mut sink,
        Path::new("the hashing sink"),
        Check::Record(&mut fingerprints),
    )?;
    let (_, diff_id, uncompressed_size) = sink.finish();

    if let Some(cache_dir) = &opts.cache_dir
        && let Some(hit) = cache::lookup(cache_dir, &diff_id, &opts.compression)
    {
        let blob = out_dir.join(hit.digest.hex());
        if cache::materialise(&hit, &blob, out_dir).is_ok() {
            return Ok(WrittenLayer {
                blob,
                descriptor: Descriptor::new(media_type, hit.digest, hit.size),
                diff_id,
                uncompressed_size,
                entries,
                reused: true,
            });
        }
    }

    // Pass 2: compress.
    let (tmp, (digest, size), actual, _, _) =
        compress_pass(plan, opts, out_dir, Check::Verify(&fingerprints))?;
    if actual != diff_id {
        return Err(LayerError::InputChanged {
            expected: diff_id,
            actual,
        });
    }
    let blob = publish(tmp, out_dir, &digest)?;
    if let Some(cache_dir) = &opts.cache_dir {
        // Non-fatal by design: a read-only or full cache only costs speed.
        let _ = cache::store(cache_dir, &diff_id, &opts.compression, &blob, &digest, size);
    }
    Ok(WrittenLayer {
        blob,
        descriptor: Descriptor::new(media_type, digest, size),
        diff_id,
        uncompressed_size,
        entries,
        reused: false,
    })
}

/// The results of one pass through an encoder into a temp file: the file, the compressed
/// digest and size, the uncompressed digest and size, and the entry count.
type Pass = (TempPath, (Digest, u64), Digest, u64, usize);

fn compress_pass(
    plan: &LayerPlan,
    opts: &WriteOptions,
    out_dir: &Path,
    check: Check<'_>,
) -> Result<Pass, LayerError> {
    let tmp = TempPath::create(out_dir).map_err(|source| LayerError::Output {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let out = |source| LayerError::Output {
        path: tmp.0.clone(),
        source,
    };
    let file = File::options().write(true).open(&tmp.0).map_err(out)?;
    let compressed = HashingWriter::new(BufWriter::with_capacity(OUT_BUF, file));
    let encoder = Encoder::new(opts.compression, compressed, opts.workers).map_err(out)?;
    let mut raw = HashingWriter::new(encoder);
    let entries = stream::write_tar(plan, opts.mtime, &mut raw, &tmp.0, check)?;
    let (encoder, diff_id, uncompressed_size) = raw.finish();
    let compressed = encoder.finish().map_err(out)?;
    let (buffered, digest, size) = compressed.finish();
    let file = buffered.into_inner().map_err(|e| out(e.into_error()))?;
    drop(file);
    Ok((tmp, (digest, size), diff_id, uncompressed_size, entries))
}

/// Rename the finished temp file to `out_dir/<digest hex>`.
fn publish(tmp: TempPath, out_dir: &Path, digest: &Digest) -> Result<PathBuf, LayerError> {
    let blob = out_dir.join(digest.hex());
    tmp.persist(&blob).map_err(|source| LayerError::Output {
        path: blob.clone(),
        source,
    })?;
    Ok(blob)
}
