//! `validate`: recompute every digest, size and diff_id of an image and cross-check the
//! manifest, the config and the layers; `validate_index`: the same for every image of a
//! multi-platform index, plus the index's own descriptors. Every round-trip test ends
//! with it; the CLI exposes it as `husk validate`.

use std::collections::HashMap;
use std::io;

use crate::image::{Image, ImageIndex, Layer, blob_error, layers_of};
use crate::media::{self, LayerCompression};
use crate::spec::{Descriptor, ImageConfig, Manifest};
use crate::{Digest, HashingReader, OciError, OwnedIndex, Platform};

/// What `validate` checked and what it found wrong. An empty `problems` means valid.
#[derive(Debug)]
pub struct ValidationReport {
    pub digest: Digest,
    pub platform: Option<Platform>,
    pub layers: Vec<LayerReport>,
    pub problems: Vec<Problem>,
}

impl ValidationReport {
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
    }
}

/// One layer as validated.
#[derive(Debug)]
pub struct LayerReport {
    pub digest: Digest,
    pub size: u64,
    pub media_type: String,
    pub diff_id: Option<Digest>,
    /// Size of the uncompressed tar, when the layer could be read.
    pub uncompressed_size: Option<u64>,
}

/// One thing wrong with an image.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error("manifest schemaVersion is {0}, expected 2")]
    SchemaVersion(u32),
    #[error("config descriptor has media type {0:?}, expected an image config type")]
    ConfigMediaType(String),
    #[error("config: {0}")]
    Config(#[source] OciError),
    #[error("manifest lists {layers} layers but the config has {diff_ids} diff_ids")]
    LayerCount { layers: usize, diff_ids: usize },
    #[error(
        "config history has {non_empty} entries that are not empty_layer, but the image has {layers} layers"
    )]
    HistoryCount { non_empty: usize, layers: usize },
    #[error("layer {index} ({digest}) has unsupported media type {media_type:?}")]
    LayerMediaType {
        index: usize,
        digest: Digest,
        media_type: String,
    },
    #[error("layer {index}: {source}")]
    LayerBlob {
        index: usize,
        #[source]
        source: OciError,
    },
    #[error("layer {index} ({digest}) is not a readable {compression:?} tar stream: {message}")]
    LayerStream {
        index: usize,
        digest: Digest,
        compression: LayerCompression,
        message: String,
    },
    #[error(
        "layer {index} ({digest}) uncompresses to {actual}, but the config says diff_id {expected}"
    )]
    DiffId {
        index: usize,
        digest: Digest,
        expected: Digest,
        actual: Digest,
    },
    #[error("layer {index} is blob {digest} again, which already failed as layer {first}")]
    RepeatedBadLayer {
        index: usize,
        first: usize,
        digest: Digest,
    },
}

/// Validate `image` completely: streams every distinct blob once (a layer listed twice
/// with the same digest, media type and size is read and decompressed only the first
/// time, so repeating a bomb-sized layer does not multiply the work).
///
/// # Errors
/// Only when the manifest itself cannot be read or parsed; everything after that is
/// collected as [`Problem`]s in the report.
pub fn validate(image: &dyn Image) -> Result<ValidationReport, OciError> {
    let digest = image.digest()?;
    let manifest = image.manifest()?;
    let mut problems = Vec::new();
    if manifest.schema_version != 2 {
        problems.push(Problem::SchemaVersion(manifest.schema_version));
    }
    if !matches!(
        manifest.config.media_type.as_str(),
        media::OCI_CONFIG | media::DOCKER_CONFIG
    ) {
        problems.push(Problem::ConfigMediaType(manifest.config.media_type.clone()));
    }
    let config = match image.config() {
        Ok(c) => Some(c),
        Err(e) => {
            problems.push(Problem::Config(e));
            None
        }
    };
    if let Some(config) = &config {
        count_problems(&manifest, config, &mut problems);
    }
    // Without a config we still verify every blob against the manifest.
    let layer_values = layers_of(image).unwrap_or_default();
    let descs: Vec<_> = if layer_values.is_empty() {
        manifest.layers.iter().map(|d| (d.clone(), None)).collect()
    } else {
        layer_values
            .iter()
            .map(|l| (l.descriptor().clone(), l.diff_id().cloned()))
            .collect()
    };
    let mut layers = Vec::with_capacity(descs.len());
    // (digest, media type, size) -> (first index, its uncompressed digest and size).
    let mut done: HashMap<BlobKey, (usize, Option<(Digest, u64)>)> = HashMap::new();
    for (index, (desc, diff_id)) in descs.into_iter().enumerate() {
        let key = (desc.digest.clone(), desc.media_type.clone(), desc.size);
        let outcome = match done.get(&key) {
            Some((first, None)) => {
                problems.push(Problem::RepeatedBadLayer {
                    index,
                    first: *first,
                    digest: desc.digest.clone(),
                });
                None
            }
            Some((_, Some(outcome))) => Some(outcome.clone()),
            None => {
                let outcome = check_one(image, index, &desc, &mut problems);
                done.insert(key, (index, outcome.clone()));
                outcome
            }
        };
        if let (Some((actual, _)), Some(expected)) = (&outcome, &diff_id)
            && expected != actual
        {
            problems.push(Problem::DiffId {
                index,
                digest: desc.digest.clone(),
                expected: expected.clone(),
                actual: actual.clone(),
            });
        }
        layers.push(LayerReport {
            digest: desc.digest,
            size: desc.size,
            media_type: desc.media_type,
            diff_id,
            uncompressed_size: outcome.map(|(_, size)| size),
        });
    }
    Ok(ValidationReport {
        digest,
        platform: config.as_ref().map(|c| c.platform()),
        layers,
        problems,
    })
}

/// A whole multi-platform index validated: its own fields, each descriptor against the
/// image it lists, and every image as [`validate`] does. (That each descriptor's digest,
/// size and media type are its manifest's was checked when the index was opened:
/// [`OwnedIndex::new`] refuses anything else.)
#[derive(Debug)]
pub struct IndexReport {
    pub digest: Digest,
    pub media_type: String,
    /// Problems of the index itself.
    pub problems: Vec<IndexProblem>,
    /// Each image's report, in the order the index lists them.
    pub images: Vec<ValidationReport>,
}

impl IndexReport {
    /// No problem in the index nor in any image.
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty() && self.images.iter().all(ValidationReport::is_valid)
    }
}

/// One thing wrong with an index (not with one of its images).
#[derive(Debug, thiserror::Error)]
pub enum IndexProblem {
    #[error("index schemaVersion is {0}, expected 2")]
    SchemaVersion(u32),
    #[error("the index lists no image")]
    Empty,
    #[error("the index lists {digest} as {listed}, but its config says {config}")]
    Platform {
        digest: Digest,
        listed: Platform,
        config: Platform,
    },
    #[error("two images of the index are for {platform}: {first} and {second}")]
    DuplicatePlatform {
        platform: Platform,
        first: Digest,
        second: Digest,
    },
}

/// Validate a whole index (see [`IndexReport`]).
///
/// # Errors
/// Only when an image's manifest cannot be read or parsed; everything else is collected
/// as problems in the report.
pub fn validate_index(index: &OwnedIndex) -> Result<IndexReport, OciError> {
    let doc = index.document();
    let mut problems = Vec::new();
    if doc.schema_version != 2 {
        problems.push(IndexProblem::SchemaVersion(doc.schema_version));
    }
    if doc.manifests.is_empty() {
        problems.push(IndexProblem::Empty);
    }
    let mut images = Vec::new();
    let mut seen: Vec<(Platform, Digest)> = Vec::new();
    for desc in &doc.manifests {
        let image = index.image(desc)?;
        let report = validate(image.as_ref())?;
        if let (Some(listed), Some(config)) = (&desc.platform, &report.platform) {
            let same = listed.os == config.os
                && listed.architecture == config.architecture
                && listed.variant == config.variant;
            if !same {
                problems.push(IndexProblem::Platform {
                    digest: desc.digest.clone(),
                    listed: listed.clone(),
                    config: config.clone(),
                });
            }
            if let Some((_, first)) = seen.iter().find(|(p, d)| p == listed && d != &desc.digest) {
                problems.push(IndexProblem::DuplicatePlatform {
                    platform: listed.clone(),
                    first: first.clone(),
                    second: desc.digest.clone(),
                });
            }
            seen.push((listed.clone(), desc.digest.clone()));
        }
        images.push(report);
    }
    Ok(IndexReport {
        digest: index.digest(),
        media_type: index.media_type().to_owned(),
        problems,
        images,
    })
}

/// A layer blob by what makes it the same bytes read the same way: digest, media type, size.
type BlobKey = (Digest, String, u64);

/// The manifest's layer count against the config's diff_ids and history.
fn count_problems(manifest: &Manifest, config: &ImageConfig, problems: &mut Vec<Problem>) {
    if config.rootfs.diff_ids.len() != manifest.layers.len() {
        problems.push(Problem::LayerCount {
            layers: manifest.layers.len(),
            diff_ids: config.rootfs.diff_ids.len(),
        });
    }
    if !config.history.is_empty() {
        let non_empty = config.history.iter().filter(|h| !h.empty_layer).count();
        if non_empty != manifest.layers.len() {
            problems.push(Problem::HistoryCount {
                non_empty,
                layers: manifest.layers.len(),
            });
        }
    }
}

/// Reads one layer blob; its uncompressed digest and size when it is a readable layer.
fn check_one(
    image: &dyn Image,
    index: usize,
    desc: &Descriptor,
    problems: &mut Vec<Problem>,
) -> Option<(Digest, u64)> {
    let Some(compression) = LayerCompression::from_media_type(&desc.media_type) else {
        problems.push(Problem::LayerMediaType {
            index,
            digest: desc.digest.clone(),
            media_type: desc.media_type.clone(),
        });
        // Still verify the blob bytes themselves.
        if let Err(source) = drain(image, desc) {
            problems.push(Problem::LayerBlob { index, source });
        }
        return None;
    };
    match check_layer(image, desc, compression) {
        Ok(outcome) => Some(outcome),
        Err(LayerFailure::Blob(source)) => {
            problems.push(Problem::LayerBlob { index, source });
            None
        }
        // A corrupt blob usually breaks the decoder first; name the root cause (the blob
        // does not match its digest) when that is what happened.
        Err(LayerFailure::Stream(message)) => {
            match drain(image, desc) {
                Err(source) => problems.push(Problem::LayerBlob { index, source }),
                Ok(()) => problems.push(Problem::LayerStream {
                    index,
                    digest: desc.digest.clone(),
                    compression,
                    message,
                }),
            }
            None
        }
    }
}

enum LayerFailure {
    Blob(OciError),
    Stream(String),
}

fn drain(image: &dyn Image, desc: &Descriptor) -> Result<(), OciError> {
    let mut r = image.open_verified(desc)?;
    io::copy(&mut r, &mut io::sink()).map_err(|e| blob_error(&desc.digest, e))?;
    Ok(())
}

/// Stream a layer once: verify the blob digest and size, decompress, hash the tar.
fn check_layer(
    image: &dyn Image,
    desc: &Descriptor,
    compression: LayerCompression,
) -> Result<(Digest, u64), LayerFailure> {
    let raw = image.open_verified(desc).map_err(LayerFailure::Blob)?;
    let dec = compression
        .decoder(raw)
        .map_err(|e| classify(&desc.digest, e))?;
    let mut hashing = HashingReader::new(dec, crate::Algorithm::Sha256);
    io::copy(&mut hashing, &mut io::sink()).map_err(|e| classify(&desc.digest, e))?;
    // A decoder may stop at the end of its stream before the blob ends; the rest of the
    // blob must still be read so its digest is checked. MultiGzDecoder reads all members;
    // zstd reads all frames; trailing garbage would surface as a stream error above.
    let (digest, size) = hashing.finish();
    Ok((digest, size))
}

fn classify(digest: &Digest, e: io::Error) -> LayerFailure {
    if e.get_ref().is_some_and(|i| i.is::<OciError>()) {
        LayerFailure::Blob(blob_error(digest, e))
    } else {
        LayerFailure::Stream(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use super::*;
    use crate::image::BlobReader;

    /// An image over in-memory blobs that counts how often each blob is opened.
    struct Counted {
        manifest: Vec<u8>,
        blobs: BTreeMap<Digest, Vec<u8>>,
        opens: Mutex<BTreeMap<Digest, usize>>,
    }

    impl Image for Counted {
        fn raw_manifest(&self) -> Result<Vec<u8>, OciError> {
            Ok(self.manifest.clone())
        }
        fn open_blob(&self, desc: &Descriptor) -> Result<BlobReader<'_>, OciError> {
            if let Ok(mut m) = self.opens.lock() {
                *m.entry(desc.digest.clone()).or_default() += 1;
            }
            let bytes = self.blobs.get(&desc.digest).cloned().unwrap_or_default();
            Ok(Box::new(io::Cursor::new(bytes)))
        }
        fn location(&self) -> String {
            "test".to_owned()
        }
    }

    /// An image listing the layer blob `layer` (claimed digest `digest`) `times` times.
    fn repeated(layer: &[u8], digest: &Digest, diff_id: &Digest, times: usize) -> Counted {
        let config = format!(
            r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":[{}]}}}}"#,
            vec![format!("\"{diff_id}\""); times].join(",")
        );
        let config_desc = Descriptor::for_bytes(media::OCI_CONFIG, config.as_bytes());
        let layer_desc = format!(
            r#"{{"mediaType":"{}","digest":"{digest}","size":{}}}"#,
            media::OCI_LAYER_GZIP,
            layer.len()
        );
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","digest":"{}","size":{}}},"layers":[{}]}}"#,
            media::OCI_MANIFEST,
            media::OCI_CONFIG,
            config_desc.digest,
            config_desc.size,
            vec![layer_desc; times].join(",")
        );
        let mut blobs = BTreeMap::new();
        blobs.insert(config_desc.digest.clone(), config.into_bytes());
        blobs.insert(digest.clone(), layer.to_vec());
        Counted {
            manifest: manifest.into_bytes(),
            blobs,
            opens: Mutex::new(BTreeMap::new()),
        }
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write as _;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn a_layer_listed_many_times_is_read_once() {
        let tar = vec![0u8; 10_240];
        let layer = gzip(&tar);
        let digest = Digest::sha256(&layer);
        let image = repeated(&layer, &digest, &Digest::sha256(&tar), 500);
        let report = validate(&image).unwrap();
        assert!(report.is_valid(), "{:?}", report.problems);
        assert_eq!(report.layers.len(), 500);
        assert!(
            report
                .layers
                .iter()
                .all(|l| l.uncompressed_size == Some(10_240))
        );
        assert_eq!(image.opens.lock().unwrap()[&digest], 1);
    }

    #[test]
    fn a_bad_layer_listed_many_times_fails_each_time_but_is_read_once() {
        let tar = vec![0u8; 1024];
        let layer = gzip(&tar);
        let wrong = Digest::sha256(b"something else");
        let image = repeated(&layer, &wrong, &Digest::sha256(&tar), 100);
        let report = validate(&image).unwrap();
        assert!(matches!(
            report.problems.first(),
            Some(Problem::LayerBlob { index: 0, .. })
        ));
        let repeats = report
            .problems
            .iter()
            .filter(|p| matches!(p, Problem::RepeatedBadLayer { first: 0, .. }))
            .count();
        assert_eq!(repeats, 99);
        // the stream check and the drain that names the cause, once
        assert!(image.opens.lock().unwrap()[&wrong] <= 2);
    }

    #[test]
    fn a_wrong_diff_id_is_reported_for_every_listing() {
        let tar = vec![1u8; 512];
        let layer = gzip(&tar);
        let digest = Digest::sha256(&layer);
        let image = repeated(&layer, &digest, &Digest::sha256(b"not it"), 3);
        let report = validate(&image).unwrap();
        let diff_ids = report
            .problems
            .iter()
            .filter(|p| matches!(p, Problem::DiffId { .. }))
            .count();
        assert_eq!(diff_ids, 3);
    }
}
