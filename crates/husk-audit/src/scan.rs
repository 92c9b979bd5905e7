//! [`scan_image`]: an image to [`ImageFacts`], streaming each layer once.
//!
//! husk-explore builds the merged view ([`Filesystem::build`]); the layers it reads are
//! wrapped so that every decompressed byte is also written to a pipe, where a second thread
//! walks the same tar stream with explore's [`TarReader`] and judges the content
//! ([`content::inspect`], secrets). Decompression happens once, the two halves run on two
//! cores, and memory stays flat: one file of at most [`content::MAX_INSPECT`] bytes is held
//! at a time, plus the small facts kept per file and the bytes of passwd/group/certificate
//! files rules read ([`content::MAX_KEEP`] each, [`content::MAX_KEEP_TOTAL`] together; past
//! that the scan fails with [`ScanError::TooMuchContent`] rather than grow).
//!
//! Content facts are keyed by explore's [`Locator`] (layer, entry ordinal), which is what a
//! node of the merged view points at, so hard links share their target's facts.

use std::collections::HashMap;
use std::io::{self, PipeReader, PipeWriter, Read, Write};
use std::sync::mpsc::{Receiver, Sender, channel};

use husk_explore::{
    EntryKind, ExploreError, Filesystem, Limits, Locator, TarReader, ViewOptions, efficiency,
};
use husk_layer::ImagePath;
use husk_oci::{BlobReader, Descriptor, Digest, Image, Layer, OciError};

use crate::content;
use crate::facts::{Content, ImageFacts, LayerFacts, SecretHit};

/// How to scan.
#[derive(Debug, Clone, Copy)]
pub struct ScanOptions {
    pub limits: Limits,
    /// Unix time for certificate expiry (the caller reads the clock).
    pub now: i64,
}

/// Why an image could not be scanned.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Oci(#[from] OciError),
    #[error(transparent)]
    Explore(#[from] ExploreError),
    #[error("the content scanner stopped unexpectedly")]
    ScannerPanicked,
    #[error(
        "layer {layer}: keeping {path} would hold more than {limit} bytes of passwd, group and certificate files in memory; the image has far more of them than any image needs"
    )]
    TooMuchContent {
        layer: usize,
        path: String,
        limit: u64,
    },
}

/// What the content thread learnt.
#[derive(Default)]
struct Scanned {
    content: HashMap<Locator, Content>,
    /// Bytes of every kept file ([`Content::bytes`]) together.
    kept: u64,
    /// The first file over [`content::MAX_KEEP_TOTAL`]: (layer, path).
    over: Option<(usize, String)>,
    /// (layer, path, what)
    secrets: Vec<(usize, String, &'static str)>,
}

/// A layer whose uncompressed stream is mirrored into a pipe.
struct TeeLayer<'a, L> {
    inner: &'a L,
    index: usize,
    tx: Sender<(usize, PipeReader)>,
}

impl<L: Layer> Layer for TeeLayer<'_, L> {
    fn descriptor(&self) -> &Descriptor {
        self.inner.descriptor()
    }
    fn diff_id(&self) -> Option<&Digest> {
        self.inner.diff_id()
    }
    fn open_compressed(&self) -> Result<BlobReader<'_>, OciError> {
        self.inner.open_compressed()
    }
    fn open_uncompressed(&self) -> Result<BlobReader<'_>, OciError> {
        let raw = self.inner.open_uncompressed()?;
        // Without the pipe the content would go unjudged: fail rather than miss secrets.
        let (r, w) = io::pipe().map_err(|source| OciError::BlobRead {
            digest: self.inner.digest().clone(),
            source,
        })?;
        let writer = self.tx.send((self.index, r)).is_ok().then_some(w);
        Ok(Box::new(Tee { raw, writer }))
    }
}

struct Tee<'a> {
    raw: BlobReader<'a>,
    writer: Option<PipeWriter>,
}

impl Read for Tee<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.raw.read(buf)?;
        if n == 0 {
            self.writer = None;
        } else if let Some(w) = &mut self.writer
            && w.write_all(&buf[..n]).is_err()
        {
            // The scanner hung up (it only does so on its own failure): go on without it.
            self.writer = None;
        }
        Ok(n)
    }
}

/// Scan `image`: its config, the merged filesystem with content facts, per-layer waste,
/// and secrets in every layer (including files later layers deleted).
///
/// # Errors
/// Config and manifest errors, and every layer read, verification and limit error of
/// husk-explore (naming the layer).
pub fn scan_image(image: &dyn Image, opts: &ScanOptions) -> Result<ImageFacts, ScanError> {
    scan(image, opts, Depth::Full)
}

/// As [`scan_image`], for the start checks only (`husk doctor`): no secret search, and a
/// file that is neither ELF, nor a `#!` script, nor one the rules keep (passwd, CA
/// bundles, ld.so.cache) is only read for its first bytes, then skipped.
///
/// # Errors
/// As [`scan_image`].
pub fn scan_for_start(image: &dyn Image, opts: &ScanOptions) -> Result<ImageFacts, ScanError> {
    scan(image, opts, Depth::Start)
}

/// How much of each file's content the scan judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Depth {
    /// Everything the audit rules read, secrets included.
    Full,
    /// What the start checks read.
    Start,
}

fn scan(image: &dyn Image, opts: &ScanOptions, depth: Depth) -> Result<ImageFacts, ScanError> {
    let config = image.config()?;
    let layers = husk_oci::layers_of(image)?;
    let (tx, rx) = channel();
    let tees: Vec<TeeLayer<'_, _>> = layers
        .iter()
        .enumerate()
        .map(|(index, inner)| TeeLayer {
            inner,
            index,
            tx: tx.clone(),
        })
        .collect();
    drop(tx);
    let limits = opts.limits;
    let (fs, scanned) = std::thread::scope(|s| {
        let scanner = s.spawn(move || scan_streams(&rx, limits, depth));
        let fs = Filesystem::build(
            &tees,
            ViewOptions {
                limits,
                hash: false,
            },
        );
        drop(tees);
        let scanned = scanner.join().map_err(|_| ScanError::ScannerPanicked);
        (fs, scanned)
    });
    let fs = fs?;
    let scanned = scanned?;
    if let Some((layer, path)) = scanned.over {
        return Err(ScanError::TooMuchContent {
            layer,
            path,
            limit: content::MAX_KEEP_TOTAL,
        });
    }
    Ok(assemble(image, config, fs, scanned, opts.now))
}

fn scan_streams(rx: &Receiver<(usize, PipeReader)>, limits: Limits, depth: Depth) -> Scanned {
    let mut out = Scanned::default();
    let mut buf = Vec::new();
    while let Ok((layer, mut pipe)) = rx.recv() {
        // A failure here (the merge will report the same broken stream) only ends this
        // layer's scan; the pipe is drained so the writer never blocks.
        let _ = scan_layer(&mut pipe, (layer, depth), limits, &mut out, &mut buf);
        let _ = io::copy(&mut pipe, &mut io::sink());
    }
    out
}

fn scan_layer(
    pipe: &mut PipeReader,
    (layer, depth): (usize, Depth),
    limits: Limits,
    out: &mut Scanned,
    buf: &mut Vec<u8>,
) -> Result<(), ExploreError> {
    let mut reader = TarReader::new(pipe, layer, limits);
    while let Some(entry) = reader.next_entry()? {
        if entry.kind != EntryKind::File {
            continue;
        }
        let path = entry.path.as_str().to_owned();
        buf.clear();
        let mut data = reader.data();
        let mut whole = entry.size <= content::MAX_INSPECT;
        let mut want = if whole { entry.size } else { 64 << 10 };
        if depth == Depth::Start {
            // The head tells ELF, `#!` and the kept files apart; only those are read whole.
            (&mut data)
                .take(want.min(4096))
                .read_to_end(buf)
                .map_err(|e| data.error(e))?;
            let needed = husk_elf::is_elf(buf) || content::keep(&path, entry.size, buf);
            if !needed {
                whole = entry.size <= buf.len() as u64;
                want = buf.len() as u64;
            }
        }
        let rest = want.saturating_sub(buf.len() as u64);
        (&mut data)
            .take(rest)
            .read_to_end(buf)
            .map_err(|e| data.error(e))?;
        io::copy(&mut data, &mut io::sink()).map_err(|e| data.error(e))?;
        let mut c = content::inspect(&path, buf);
        if !whole {
            if c.elf.is_some() {
                c.elf = Some(Err(format!(
                    "larger than {} MiB, not inspected",
                    content::MAX_INSPECT >> 20
                )));
            }
            c.bytes = None;
        }
        if let Some(b) = &c.bytes {
            out.kept += b.len() as u64;
            if out.kept > content::MAX_KEEP_TOTAL {
                out.over.get_or_insert((layer, path.clone()));
                c.bytes = None;
            }
        }
        let scan_text = c.elf.is_none() && entry.size <= content::MAX_SECRET_SCAN;
        if c.elf.is_some() || c.shebang.is_some() || c.bytes.is_some() || c.tls.is_some() {
            let loc = Locator {
                layer,
                ordinal: entry.ordinal,
            };
            out.content.insert(loc, c);
        }
        if depth == Depth::Start {
            continue;
        }
        let bytes = scan_text.then_some(buf.as_slice());
        // What the content shows is more precise than the name; the name alone counts only
        // when the content shows nothing (or was too large to search).
        let found = bytes.map(content::secrets_in).unwrap_or_default();
        if found.is_empty()
            && let Some(what) = content::secret_by_path(&path, bytes)
        {
            out.secrets.push((layer, path.clone(), what));
        }
        for what in found {
            out.secrets.push((layer, path.clone(), what));
        }
    }
    reader.finish()?;
    Ok(())
}

fn assemble(
    image: &dyn Image,
    config: husk_oci::ImageConfig,
    files: Filesystem,
    scanned: Scanned,
    now: i64,
) -> ImageFacts {
    let eff = efficiency(&files);
    let manifest_layers = image.manifest().map(|m| m.layers).unwrap_or_default();
    let layers = eff
        .layers
        .iter()
        .map(|l| LayerFacts {
            digest: manifest_layers
                .get(l.index)
                .map(|d| d.digest.to_string())
                .unwrap_or_default(),
            added_bytes: l.added_bytes,
            wasted_bytes: l.wasted_bytes,
        })
        .collect();
    let secrets = scanned
        .secrets
        .into_iter()
        .map(|(layer, path, what)| {
            let still = ImagePath::parse(&path)
                .ok()
                .and_then(|p| files.get(&p))
                .is_some_and(|n| n.layer == layer && n.is_file());
            SecretHit {
                layer,
                path,
                what: what.to_owned(),
                visible: still,
            }
        })
        .collect();
    ImageFacts {
        name: image.location(),
        config,
        files,
        content: scanned.content,
        layers,
        secrets,
        now,
    }
}
