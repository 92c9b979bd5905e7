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
//!
//! [`scan_for_start`] (`husk doctor`) is lazy instead: it builds the merged view alone (the
//! work of `husk ls -R`), then reads only the files the start rules ask for (the program,
//! its `#!` chain, loader and libraries, passwd, group, CA bundles when the program uses
//! TLS), layer by layer, each layer's stream stopped after its last wanted entry, and
//! runs the rules again until they ask for nothing new. A layer listed several times in
//! a manifest is read once either way ([`Filesystem::build`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, PipeReader, PipeWriter, Read, Write};
use std::sync::mpsc::{Receiver, Sender, channel};

use husk_explore::{
    EntryKind, ExploreError, Filesystem, Limits, Locator, TarEntry, TarReader, ViewOptions,
    efficiency, open_layer,
};
use husk_layer::ImagePath;
use husk_oci::{BlobReader, Descriptor, Digest, Image, Layer, OciError};

use crate::content;
use crate::facts::{Content, ImageFacts, LayerFacts, Lazy, SecretHit};

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

/// The facts the start checks (`husk doctor`) need of `image` run with `args` (applied
/// with [`crate::doctor::with_args`]): the merged view, and the content of only the files
/// the start rules ask for (see the module header); no secret search, and a file that is
/// neither ELF, nor a `#!` script, nor one the rules keep (passwd, CA bundles,
/// ld.so.cache) is only read for its first bytes.
///
/// # Errors
/// As [`scan_image`].
pub fn scan_for_start(
    image: &dyn Image,
    opts: &ScanOptions,
    args: &[String],
) -> Result<ImageFacts, ScanError> {
    let config = image.config()?;
    let layers = husk_oci::layers_of(image)?;
    let view = ViewOptions {
        limits: opts.limits,
        hash: false,
    };
    let files = Filesystem::build(&layers, view)?;
    let mut facts = assemble(image, config, files, Scanned::default(), opts.now);
    crate::doctor::with_args(&mut facts, args);
    facts.lazy = Some(Lazy::default());
    let mut kept = 0u64;
    loop {
        let _ = crate::doctor::diagnose(&facts);
        let asked = facts
            .lazy
            .as_ref()
            .map(Lazy::take_asked)
            .unwrap_or_default();
        if asked.is_empty() {
            return Ok(facts);
        }
        read_asked(&layers, &asked, opts.limits, &mut facts, &mut kept)?;
    }
}

/// Read and judge the files at `asked`, each layer streamed up to its last wanted entry
/// (the view's pass has already read and verified every blob to its end).
fn read_asked<L: Layer>(
    layers: &[L],
    asked: &HashSet<Locator>,
    limits: Limits,
    facts: &mut ImageFacts,
    kept: &mut u64,
) -> Result<(), ScanError> {
    let mut by_layer: BTreeMap<usize, HashSet<u64>> = BTreeMap::new();
    for loc in asked {
        by_layer.entry(loc.layer).or_default().insert(loc.ordinal);
    }
    let mut buf = Vec::new();
    for (index, mut ordinals) in by_layer {
        let layer = layers.get(index).ok_or(ExploreError::NoSuchLayer {
            layer: index,
            count: layers.len(),
        })?;
        let mut reader = open_layer(layer, index, limits)?;
        while !ordinals.is_empty() {
            let Some(entry) = reader.next_entry()? else {
                let ordinal = ordinals.iter().copied().min().unwrap_or_default();
                return Err(ExploreError::MissingContent {
                    layer: index,
                    ordinal,
                }
                .into());
            };
            if !ordinals.remove(&entry.ordinal) {
                continue;
            }
            let c = judge(&mut reader, &entry, Depth::Start, &mut buf)?;
            if let Some(b) = &c.bytes {
                *kept += b.len() as u64;
                if *kept > content::MAX_KEEP_TOTAL {
                    return Err(ScanError::TooMuchContent {
                        layer: index,
                        path: entry.path.to_string(),
                        limit: content::MAX_KEEP_TOTAL,
                    });
                }
            }
            let loc = Locator {
                layer: index,
                ordinal: entry.ordinal,
            };
            if let Some(lazy) = facts.lazy.as_mut() {
                lazy.read.insert(loc);
            }
            if c.elf.is_some() || c.shebang.is_some() || c.bytes.is_some() || c.tls.is_some() {
                facts.content.insert(loc, c);
            }
        }
    }
    Ok(())
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

/// Read the data of `entry` (the entry `reader` is at) into `buf` and judge it at `depth`.
/// `buf` holds the bytes judged: the whole file when it is at most
/// [`content::MAX_INSPECT`] (and, at [`Depth::Start`], ELF, `#!` or kept), else its head.
fn judge<R: Read>(
    reader: &mut TarReader<R>,
    entry: &TarEntry,
    depth: Depth,
    buf: &mut Vec<u8>,
) -> Result<Content, ExploreError> {
    let path = entry.path.as_str();
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
        let needed = husk_elf::is_elf(buf) || content::keep(path, entry.size, buf);
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
    let mut c = content::inspect(path, buf);
    if !whole {
        if c.elf.is_some() {
            c.elf = Some(Err(format!(
                "larger than {} MiB, not inspected",
                content::MAX_INSPECT >> 20
            )));
        }
        // Only its head was read: the kernel's view of the whole file is unknown.
        c.exec = None;
        c.bytes = None;
    }
    Ok(c)
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
        let mut c = judge(&mut reader, &entry, depth, buf)?;
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
                // A layer listed again is read once: its files point at the first copy.
                .is_some_and(|n| {
                    n.is_file() && (n.layer == layer || n.content.is_some_and(|c| c.layer == layer))
                });
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
        listed_as: None,
        lazy: None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};
    use std::sync::Mutex;

    use husk_oci::media::OCI_LAYER_TAR;
    use husk_oci::spec::RuntimeConfig;
    use husk_oci::{
        BlobData, BlobReader, Descriptor, Digest, Image, ImageConfig, NewLayer, OciError,
        OwnedImage,
    };

    use super::{ScanOptions, scan_for_start, scan_image};
    use crate::doctor::diagnose;
    use crate::testing::elf;

    /// An image that counts how often each blob is opened.
    struct Counting {
        inner: OwnedImage,
        opens: Mutex<HashMap<Digest, usize>>,
    }

    impl Image for Counting {
        fn raw_manifest(&self) -> Result<Vec<u8>, OciError> {
            self.inner.raw_manifest()
        }
        fn open_blob(&self, desc: &Descriptor) -> Result<BlobReader<'_>, OciError> {
            if let Ok(mut o) = self.opens.lock() {
                *o.entry(desc.digest.clone()).or_default() += 1;
            }
            self.inner.open_blob(desc)
        }
        fn location(&self) -> String {
            "oci:counting".into()
        }
    }

    fn tar(files: &[(&str, &[u8], u32)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data, mode) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(*mode);
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn image(layers: &[&Vec<u8>], entrypoint: &str, user: &str) -> Counting {
        let config = ImageConfig {
            architecture: "amd64".into(),
            os: "linux".into(),
            config: Some(RuntimeConfig {
                entrypoint: Some(vec![entrypoint.into()]),
                user: Some(user.into()),
                ..RuntimeConfig::default()
            }),
            ..ImageConfig::default()
        };
        let layers = layers
            .iter()
            .map(|bytes| NewLayer {
                descriptor: Descriptor::for_bytes(OCI_LAYER_TAR, bytes),
                diff_id: Digest::sha256(bytes),
                blob: BlobData::Bytes((*bytes).clone().into()),
                created_by: "test".into(),
                comment: None,
            })
            .collect();
        Counting {
            inner: OwnedImage::assemble(config, layers, BTreeMap::new()),
            opens: Mutex::new(HashMap::new()),
        }
    }

    fn opts() -> ScanOptions {
        ScanOptions {
            limits: husk_explore::Limits::default(),
            now: 1_800_000_000,
        }
    }

    /// A dynamic program, its loader and a library chain, a script, users, and many files
    /// the start does not need.
    fn layers() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let loader = "/lib64/ld-linux-x86-64.so.2";
        let app = elf(62, Some(loader), &["libone.so.1"], b"");
        let one = elf(62, None, &["libtwo.so.2"], b"");
        let two = elf(62, None, &[], b"");
        let ld = elf(62, None, &[], b"");
        let filler: Vec<(String, Vec<u8>)> = (0..300)
            .map(|i| {
                (
                    format!("usr/share/junk/{i}"),
                    elf(62, None, &["libgone.so"], b""),
                )
            })
            .collect();
        let mut base: Vec<(&str, &[u8], u32)> = vec![
            (
                "etc/passwd",
                b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
                0o644,
            ),
            ("etc/group", b"root:x:0:\napp:x:1000:\n", 0o644),
            (
                "root/id_ed25519",
                b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB\n-----END OPENSSH PRIVATE KEY-----\n",
                0o600,
            ),
            ("lib64/ld-linux-x86-64.so.2", &ld, 0o755),
            ("lib/libtwo.so.2", &two, 0o755),
        ];
        base.extend(
            filler
                .iter()
                .map(|(n, d)| (n.as_str(), d.as_slice(), 0o755)),
        );
        let l0 = tar(&base);
        let l1 = tar(&[
            ("lib/libone.so.1", &one, 0o755),
            ("app", &app, 0o755),
            ("run.sh", b"#!/app --flag\n", 0o755),
        ]);
        let l2 = tar(&[("unrelated", b"x", 0o644)]);
        (l0, l1, l2)
    }

    #[test]
    fn the_lazy_start_scan_finds_what_the_full_scan_finds() {
        let (l0, l1, l2) = layers();
        for (entrypoint, user) in [("/run.sh", "app"), ("/app", "nobody"), ("/nowhere", "0")] {
            let img = image(&[&l0, &l1, &l2], entrypoint, user);
            let full = scan_image(&img, &opts()).unwrap();
            let lazy = scan_for_start(&img, &opts(), &[]).unwrap();
            let (a, b) = (diagnose(&full), diagnose(&lazy));
            assert_eq!(
                serde_json::to_value(&a).unwrap(),
                serde_json::to_value(&b).unwrap(),
                "{entrypoint}"
            );
            // Only what the start asked for was read: none of the 300 filler programs.
            let read = lazy.lazy.as_ref().unwrap().read.len();
            assert!(read <= 8, "{entrypoint}: {read} files read");
        }
        // A library that is missing stays missing, lazily too.
        let img = image(&[&l1], "/app", "0");
        let lazy = diagnose(&scan_for_start(&img, &opts(), &[]).unwrap());
        let full = diagnose(&scan_image(&img, &opts()).unwrap());
        assert!(lazy.blocks());
        assert_eq!(
            serde_json::to_value(&lazy).unwrap(),
            serde_json::to_value(&full).unwrap()
        );
    }

    #[test]
    fn a_layer_listed_many_times_is_read_once() {
        let (l0, l1, _) = layers();
        let img = image(&[&l0, &l1, &l0, &l1, &l0, &l0], "/app", "app");
        let facts = scan_image(&img, &opts()).unwrap();
        assert_eq!(facts.layers.len(), 6);
        // The key in the repeated layer is still there: read once, still visible.
        let key: Vec<_> = facts
            .secrets
            .iter()
            .filter(|h| h.path == "/root/id_ed25519")
            .collect();
        assert_eq!(key.len(), 1, "{:?}", facts.secrets);
        assert!(key[0].visible, "{:?}", key[0]);
        let opens = img.opens.lock().unwrap().clone();
        for l in img.inner.manifest().unwrap().layers {
            assert_eq!(
                opens.get(&l.digest),
                Some(&1),
                "{} opened {:?}",
                l.digest,
                opens
            );
        }
        // The doctor's lazy scan: once for the view, at most once more per needed layer.
        let img = image(&[&l0, &l1, &l0, &l1, &l0, &l0], "/app", "app");
        let _ = scan_for_start(&img, &opts(), &[]).unwrap();
        let opens = img.opens.lock().unwrap().clone();
        for l in img.inner.manifest().unwrap().layers {
            let n = opens.get(&l.digest).copied().unwrap_or_default();
            assert!((1..=4).contains(&n), "{} opened {n} times", l.digest);
        }
    }
}
