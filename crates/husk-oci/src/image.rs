//! The read-only image model: [`Image`], [`Layer`] and [`ImageIndex`], plus
//! [`OwnedImage`], the value that `build` and `mutate` produce.
//!
//! Sources implement the small core (raw manifest, raw config, open a blob); digests,
//! parsed documents and layers come from default methods. Every accessor is fallible, so
//! a lazy (registry, archive) image and an eager (in-memory) one sit behind the same type.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use crate::media::{self, LayerCompression};
use crate::spec::{Descriptor, ImageConfig, Index, Manifest, to_canonical_json};
use crate::{Digest, OciError, VerifyingReader};

/// Limit for JSON documents (manifests, configs, indexes) read into memory.
pub const MAX_DOCUMENT_BYTES: u64 = 8 << 20;

/// A boxed reader as returned by blob accessors.
pub type BlobReader<'a> = Box<dyn Read + Send + 'a>;

/// A single-platform image.
pub trait Image: Send + Sync {
    /// The manifest bytes, exactly as stored (their sha256 is the image digest).
    fn raw_manifest(&self) -> Result<Vec<u8>, OciError>;

    /// Open a blob's raw bytes. Implementations need not verify; callers use
    /// [`Image::open_verified`].
    fn open_blob(&self, desc: &Descriptor) -> Result<BlobReader<'_>, OciError>;

    /// Where this image comes from, for messages (`oci:out`, `docker-archive:x.tar`).
    fn location(&self) -> String;

    /// A local file holding exactly this blob, written and digested by this process (an
    /// [`OwnedImage`] blob), which a sink may link instead of copying and re-hashing.
    /// Sources that read foreign media return `None`: their blobs are always verified.
    fn trusted_blob_file(&self, desc: &Descriptor) -> Option<&std::path::Path> {
        let _ = desc;
        None
    }

    /// The image (manifest) digest.
    fn digest(&self) -> Result<Digest, OciError> {
        Ok(Digest::sha256(&self.raw_manifest()?))
    }

    /// The parsed manifest. A document with both `manifests` and `layers` is refused.
    fn manifest(&self) -> Result<Manifest, OciError> {
        parse_manifest(
            &self.raw_manifest()?,
            &format!("manifest of {}", self.location()),
        )
    }

    /// A blob's bytes, checked against its descriptor's digest and size as they stream.
    fn open_verified(&self, desc: &Descriptor) -> Result<BlobReader<'_>, OciError> {
        let raw = self.open_blob(desc)?;
        Ok(Box::new(VerifyingReader::new(
            raw,
            desc.digest.clone(),
            desc.size,
        )))
    }

    /// The config bytes, verified against the manifest's config descriptor.
    fn raw_config(&self) -> Result<Vec<u8>, OciError> {
        let manifest = self.manifest()?;
        read_document(self, &manifest.config)
    }

    /// The parsed image config.
    fn config(&self) -> Result<ImageConfig, OciError> {
        parse_config(
            &self.raw_config()?,
            &format!("config of {}", self.location()),
        )
    }

    /// The layers, bottom first, each paired with its diff_id from the config.
    fn layers(&self) -> Result<Vec<ImageLayer<'_, Self>>, OciError>
    where
        Self: Sized,
    {
        let manifest = self.manifest()?;
        let config = self.config()?;
        let diff_ids = &config.rootfs.diff_ids;
        Ok(manifest
            .layers
            .into_iter()
            .enumerate()
            .map(|(i, desc)| ImageLayer {
                image: self,
                diff_id: diff_ids.get(i).cloned(),
                desc,
            })
            .collect())
    }
}

/// Read a small JSON document blob fully, verified and size-limited.
///
/// # Errors
/// [`OciError::TooLarge`] when the descriptor declares more than
/// [`MAX_DOCUMENT_BYTES`]; the blob's read or verification error otherwise.
pub fn read_document<I: Image + ?Sized>(image: &I, desc: &Descriptor) -> Result<Vec<u8>, OciError> {
    let what = || format!("blob {}", desc.digest);
    check_document_size(desc.size, &what)?;
    let reader = image.open_verified(desc)?;
    read_capped(reader, MAX_DOCUMENT_BYTES, &what).map_err(|e| match e {
        CappedReadError::TooLarge(err) => err,
        CappedReadError::Io(e) => blob_error(&desc.digest, e),
    })
}

/// Why [`read_capped`] failed.
#[derive(Debug)]
pub enum CappedReadError {
    /// The stream held more than the limit ([`OciError::TooLarge`]).
    TooLarge(OciError),
    /// Reading failed.
    Io(std::io::Error),
}

/// Reads `reader` to its end into memory, refusing to hold more than `limit` bytes: at
/// most `limit + 1` bytes are ever read, whatever the stream claims. `what` names the
/// document in the error.
///
/// # Errors
/// [`CappedReadError::TooLarge`] past `limit`; [`CappedReadError::Io`] when reading fails.
pub fn read_capped(
    reader: impl Read,
    limit: u64,
    what: &dyn Fn() -> String,
) -> Result<Vec<u8>, CappedReadError> {
    let mut out = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(CappedReadError::Io)?;
    if u64::try_from(out.len()).unwrap_or(u64::MAX) > limit {
        return Err(CappedReadError::TooLarge(OciError::TooLarge {
            what: what(),
            limit,
        }));
    }
    Ok(out)
}

/// Refuses a document of `len` bytes over [`MAX_DOCUMENT_BYTES`].
fn check_document_size(len: u64, what: &dyn Fn() -> String) -> Result<(), OciError> {
    if len > MAX_DOCUMENT_BYTES {
        return Err(OciError::TooLarge {
            what: what(),
            limit: MAX_DOCUMENT_BYTES,
        });
    }
    Ok(())
}

fn len_u64(raw: &[u8]) -> u64 {
    u64::try_from(raw.len()).unwrap_or(u64::MAX)
}

/// Turn an I/O error from a verified blob stream into the most specific [`OciError`].
pub fn blob_error(digest: &Digest, e: std::io::Error) -> OciError {
    if e.get_ref().is_some_and(|inner| inner.is::<OciError>()) {
        match e.into_inner().map(|b| b.downcast::<OciError>()) {
            Some(Ok(inner)) => return *inner,
            _ => unreachable!("checked above"),
        }
    }
    OciError::BlobRead {
        digest: digest.clone(),
        source: e,
    }
}

/// Parse an image manifest, refusing a document that is also an index.
///
/// # Errors
/// [`OciError::TooLarge`] over [`MAX_DOCUMENT_BYTES`]; [`OciError::AmbiguousDocument`];
/// [`OciError::Json`]; [`OciError::UnsupportedMediaType`] for another `mediaType`.
pub fn parse_manifest(raw: &[u8], what: &str) -> Result<Manifest, OciError> {
    check_document_size(len_u64(raw), &|| what.to_owned())?;
    check_unambiguous(raw, what)?;
    let m: Manifest = serde_json::from_slice(raw).map_err(|source| OciError::Json {
        what: what.to_owned(),
        source,
    })?;
    match m.media_type.as_deref() {
        None | Some(media::OCI_MANIFEST) | Some(media::DOCKER_MANIFEST) => Ok(m),
        Some(other) => Err(OciError::UnsupportedMediaType {
            what: what.to_owned(),
            media_type: other.to_owned(),
        }),
    }
}

/// Parse an image config.
///
/// # Errors
/// [`OciError::TooLarge`] over [`MAX_DOCUMENT_BYTES`]; [`OciError::Json`].
pub fn parse_config(raw: &[u8], what: &str) -> Result<ImageConfig, OciError> {
    check_document_size(len_u64(raw), &|| what.to_owned())?;
    serde_json::from_slice(raw).map_err(|source| OciError::Json {
        what: what.to_owned(),
        source,
    })
}

/// Parse an image index, refusing a document that is also a manifest.
///
/// # Errors
/// [`OciError::TooLarge`] over [`MAX_DOCUMENT_BYTES`]; [`OciError::AmbiguousDocument`];
/// [`OciError::Json`].
pub fn parse_index(raw: &[u8], what: &str) -> Result<Index, OciError> {
    check_document_size(len_u64(raw), &|| what.to_owned())?;
    check_unambiguous(raw, what)?;
    serde_json::from_slice(raw).map_err(|source| OciError::Json {
        what: what.to_owned(),
        source,
    })
}

fn check_unambiguous(raw: &[u8], what: &str) -> Result<(), OciError> {
    #[derive(serde::Deserialize)]
    struct Probe {
        manifests: Option<serde::de::IgnoredAny>,
        layers: Option<serde::de::IgnoredAny>,
    }
    if let Ok(Probe {
        manifests: Some(_),
        layers: Some(_),
    }) = serde_json::from_slice::<Probe>(raw)
    {
        return Err(OciError::AmbiguousDocument {
            what: what.to_owned(),
        });
    }
    Ok(())
}

/// A layer: its blob descriptor, diff_id, and readers for both forms.
pub trait Layer {
    /// The blob descriptor (digest, size, media type).
    fn descriptor(&self) -> &Descriptor;
    /// The digest of the uncompressed tar, if known.
    fn diff_id(&self) -> Option<&Digest>;
    /// The compressed blob, verified against the descriptor as it streams.
    fn open_compressed(&self) -> Result<BlobReader<'_>, OciError>;

    fn digest(&self) -> &Digest {
        &self.descriptor().digest
    }
    fn size(&self) -> u64 {
        self.descriptor().size
    }
    fn media_type(&self) -> &str {
        &self.descriptor().media_type
    }
    /// The compression the media type declares.
    fn compression(&self) -> Result<LayerCompression, OciError> {
        LayerCompression::from_media_type(self.media_type()).ok_or_else(|| {
            OciError::UnsupportedMediaType {
                what: format!("layer {}", self.digest()),
                media_type: self.media_type().to_owned(),
            }
        })
    }
    /// The uncompressed tar stream. The blob digest is verified as it streams, and at its
    /// end the tar's digest against the config's diff_id when the layer has one: a reader
    /// that stops early (at the tar's end-of-archive blocks) must read on to EOF for that.
    fn open_uncompressed(&self) -> Result<BlobReader<'_>, OciError> {
        let tar = self.open_uncompressed_unchecked()?;
        Ok(match self.diff_id() {
            Some(diff_id) => Box::new(crate::DiffIdReader::new(
                tar,
                self.digest().clone(),
                diff_id.clone(),
            )),
            None => tar,
        })
    }
    /// The uncompressed tar stream with only the blob digest verified, for callers that
    /// check the diff_id themselves ([`crate::validate`] reports it as a problem).
    fn open_uncompressed_unchecked(&self) -> Result<BlobReader<'_>, OciError> {
        let compression = self.compression()?;
        let raw = self.open_compressed()?;
        let digest = self.digest().clone();
        compression
            .decoder(raw)
            .map_err(|source| OciError::BlobRead { digest, source })
    }
}

/// A layer of an [`Image`], read through the image's blob access.
pub struct ImageLayer<'a, I: ?Sized> {
    image: &'a I,
    desc: Descriptor,
    diff_id: Option<Digest>,
}

impl<I: Image + ?Sized> Layer for ImageLayer<'_, I> {
    fn descriptor(&self) -> &Descriptor {
        &self.desc
    }
    fn diff_id(&self) -> Option<&Digest> {
        self.diff_id.as_ref()
    }
    fn open_compressed(&self) -> Result<BlobReader<'_>, OciError> {
        self.image.open_verified(&self.desc)
    }
}

/// The layers of any image, usable through `&dyn Image`.
pub fn layers_of<'a>(
    image: &'a dyn Image,
) -> Result<Vec<ImageLayer<'a, dyn Image + 'a>>, OciError> {
    let manifest = image.manifest()?;
    let config = image.config()?;
    Ok(manifest
        .layers
        .into_iter()
        .enumerate()
        .map(|(i, desc)| ImageLayer {
            image,
            diff_id: config.rootfs.diff_ids.get(i).cloned(),
            desc,
        })
        .collect())
}

/// A set of images, as in an OCI layout's `index.json` or a multi-platform index.
pub trait ImageIndex {
    /// The index document.
    fn index(&self) -> Result<Index, OciError>;
    /// The image a descriptor of this index names.
    fn image(&self, desc: &Descriptor) -> Result<Box<dyn Image + '_>, OciError>;
}

/// Where the bytes of a blob of an [`OwnedImage`] live.
#[derive(Debug, Clone)]
pub enum BlobData {
    Bytes(Arc<[u8]>),
    File(PathBuf),
}

/// An image held by value: manifest bytes plus its blobs (in memory or in files).
/// `build` produces one; sinks write any [`Image`].
#[derive(Debug, Clone)]
pub struct OwnedImage {
    manifest: Vec<u8>,
    blobs: BTreeMap<Digest, BlobData>,
    location: String,
}

/// A layer ready to go into an [`OwnedImage`]: its descriptor, diff_id, where its blob is,
/// and the history entry that says what it is.
#[derive(Debug, Clone)]
pub struct NewLayer {
    pub descriptor: Descriptor,
    pub diff_id: Digest,
    pub blob: BlobData,
    pub created_by: String,
    pub comment: Option<String>,
}

impl OwnedImage {
    /// Assemble an image from a config (whose rootfs and history are filled from `layers`)
    /// and its layers. The config and manifest are written canonically, so the same inputs
    /// give the same digest.
    pub fn assemble(
        mut config: ImageConfig,
        layers: Vec<NewLayer>,
        manifest_annotations: BTreeMap<String, String>,
    ) -> OwnedImage {
        config.rootfs.kind = "layers".into();
        let mut blobs = BTreeMap::new();
        let mut descriptors = Vec::with_capacity(layers.len());
        for layer in layers {
            config.rootfs.diff_ids.push(layer.diff_id);
            config.history.push(crate::spec::History {
                created: config.created.clone(),
                created_by: Some(layer.created_by),
                comment: layer.comment,
                author: None,
                empty_layer: false,
            });
            blobs.insert(layer.descriptor.digest.clone(), layer.blob);
            descriptors.push(layer.descriptor);
        }
        let config_bytes = to_canonical_json(&config);
        let config_desc = Descriptor::for_bytes(media::OCI_CONFIG, &config_bytes);
        blobs.insert(
            config_desc.digest.clone(),
            BlobData::Bytes(config_bytes.into()),
        );
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(media::OCI_MANIFEST.into()),
            artifact_type: None,
            config: config_desc,
            layers: descriptors,
            subject: None,
            annotations: manifest_annotations,
        };
        OwnedImage {
            manifest: to_canonical_json(&manifest),
            blobs,
            location: "built image".into(),
        }
    }
}

impl Image for OwnedImage {
    fn raw_manifest(&self) -> Result<Vec<u8>, OciError> {
        Ok(self.manifest.clone())
    }
    fn open_blob(&self, desc: &Descriptor) -> Result<BlobReader<'_>, OciError> {
        match self.blobs.get(&desc.digest) {
            Some(BlobData::Bytes(b)) => Ok(Box::new(std::io::Cursor::new(b.clone()))),
            Some(BlobData::File(p)) => Ok(Box::new(
                File::open(p).map_err(|e| OciError::io(p.clone(), e))?,
            )),
            None => Err(OciError::BlobNotFound {
                digest: desc.digest.clone(),
                location: self.location.clone(),
            }),
        }
    }
    fn location(&self) -> String {
        self.location.clone()
    }
    fn trusted_blob_file(&self, desc: &Descriptor) -> Option<&std::path::Path> {
        match self.blobs.get(&desc.digest) {
            Some(BlobData::File(p)) => Some(p),
            _ => None,
        }
    }
}

#[cfg(test)]
mod capped_tests {
    use super::*;

    #[test]
    fn documents_over_the_cap_are_refused_before_parsing() {
        let big = vec![b' '; usize::try_from(MAX_DOCUMENT_BYTES).unwrap() + 1];
        for err in [
            parse_manifest(&big, "m").map(|_| ()).unwrap_err(),
            parse_index(&big, "i").map(|_| ()).unwrap_err(),
            parse_config(&big, "c").map(|_| ()).unwrap_err(),
        ] {
            assert!(matches!(err, OciError::TooLarge { .. }), "{err}");
        }
    }

    #[test]
    fn an_endless_stream_is_cut_at_the_cap() {
        let endless = std::io::repeat(b'x');
        let err = read_capped(endless, 1024, &|| "endless".to_owned()).unwrap_err();
        match err {
            CappedReadError::TooLarge(e) => {
                assert!(e.to_string().contains("endless"), "{e}");
            }
            CappedReadError::Io(e) => panic!("{e}"),
        }
        let ok = read_capped(&b"{}"[..], 2, &|| "doc".to_owned()).unwrap();
        assert_eq!(ok, b"{}");
    }
}
