//! `validate`: recompute every digest, size and diff_id of an image and cross-check the
//! manifest, the config and the layers. Every round-trip test ends with it; the CLI
//! exposes it as `husk validate`.

use std::io;

use crate::image::{Image, Layer, blob_error, layers_of};
use crate::media::{self, LayerCompression};
use crate::{Digest, HashingReader, OciError, Platform};

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
}

/// Validate `image` completely: streams every blob once.
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
    let mut layers = Vec::new();
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
    for (index, (desc, diff_id)) in descs.into_iter().enumerate() {
        let mut report = LayerReport {
            digest: desc.digest.clone(),
            size: desc.size,
            media_type: desc.media_type.clone(),
            diff_id: diff_id.clone(),
            uncompressed_size: None,
        };
        let Some(compression) = LayerCompression::from_media_type(&desc.media_type) else {
            problems.push(Problem::LayerMediaType {
                index,
                digest: desc.digest.clone(),
                media_type: desc.media_type.clone(),
            });
            // Still verify the blob bytes themselves.
            if let Err(source) = drain(image, &desc) {
                problems.push(Problem::LayerBlob { index, source });
            }
            layers.push(report);
            continue;
        };
        match check_layer(image, &desc, compression) {
            Ok((actual, size)) => {
                report.uncompressed_size = Some(size);
                if let Some(expected) = diff_id
                    && expected != actual
                {
                    problems.push(Problem::DiffId {
                        index,
                        digest: desc.digest.clone(),
                        expected,
                        actual,
                    });
                }
            }
            Err(LayerFailure::Blob(source)) => problems.push(Problem::LayerBlob { index, source }),
            // A corrupt blob usually breaks the decoder first; name the root cause (the blob
            // does not match its digest) when that is what happened.
            Err(LayerFailure::Stream(message)) => match drain(image, &desc) {
                Err(source) => problems.push(Problem::LayerBlob { index, source }),
                Ok(()) => problems.push(Problem::LayerStream {
                    index,
                    digest: desc.digest.clone(),
                    compression,
                    message,
                }),
            },
        }
        layers.push(report);
    }
    Ok(ValidationReport {
        digest,
        platform: config.as_ref().map(|c| c.platform()),
        layers,
        problems,
    })
}

enum LayerFailure {
    Blob(OciError),
    Stream(String),
}

fn drain(image: &dyn Image, desc: &crate::Descriptor) -> Result<(), OciError> {
    let mut r = image.open_verified(desc)?;
    io::copy(&mut r, &mut io::sink()).map_err(|e| blob_error(&desc.digest, e))?;
    Ok(())
}

/// Stream a layer once: verify the blob digest and size, decompress, hash the tar.
fn check_layer(
    image: &dyn Image,
    desc: &crate::Descriptor,
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
