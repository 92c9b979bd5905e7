//! [`OwnedIndex`]: a multi-platform image (OCI image index or Docker manifest list) held
//! as a value: the index document's exact bytes and media type, plus one [`Image`] per
//! manifest it lists. Sources (an OCI layout, a registry) build one; sinks copy it whole
//! (every child's blobs, then the child manifests, then the index with its own bytes).

use std::collections::BTreeMap;

use crate::image::{BlobReader, Image, ImageIndex, parse_index};
use crate::spec::{Descriptor, Index, to_canonical_json};
use crate::{Digest, OciError, media};

/// A multi-platform image by value. Its digest is that of [`OwnedIndex::raw`], never of
/// a re-serialisation, so copying it keeps the digest.
pub struct OwnedIndex {
    raw: Vec<u8>,
    media_type: String,
    index: Index,
    images: Vec<Box<dyn Image>>,
    location: String,
}

impl std::fmt::Debug for OwnedIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnedIndex")
            .field("media_type", &self.media_type)
            .field("digest", &self.digest().to_string())
            .field("images", &self.images.len())
            .field("location", &self.location)
            .finish()
    }
}

/// Whether `media_type` is an index (OCI image index or Docker manifest list).
pub fn is_index_media_type(media_type: &str) -> bool {
    matches!(media_type, media::OCI_INDEX | media::DOCKER_MANIFEST_LIST)
}

/// The media type an index was stored under: the one given (which must agree with the
/// document's own `mediaType`), else the document's, else OCI's; it must be an index type.
fn stored_media_type(
    given: Option<&str>,
    own: Option<&str>,
    what: &str,
) -> Result<String, OciError> {
    let media_type = match (given, own) {
        (Some(given), Some(own)) if given != own => {
            return Err(OciError::IndexMismatch {
                what: what.to_owned(),
                reason: format!("it was stored as {given:?} but its mediaType is {own:?}"),
            });
        }
        (Some(mt), _) | (None, Some(mt)) => mt.to_owned(),
        (None, None) => media::OCI_INDEX.to_owned(),
    };
    if !is_index_media_type(&media_type) {
        return Err(OciError::UnsupportedMediaType {
            what: what.to_owned(),
            media_type,
        });
    }
    Ok(media_type)
}

/// A listed manifest's bytes match its descriptor: size, and media type when the manifest
/// names its own.
fn check_listed(
    desc: &Descriptor,
    bytes: &[u8],
    image: &dyn Image,
    what: &str,
) -> Result<(), OciError> {
    if u64::try_from(bytes.len()).ok() != Some(desc.size) {
        return Err(OciError::IndexMismatch {
            what: what.to_owned(),
            reason: format!(
                "it says manifest {} has {} bytes, but it has {}",
                desc.digest,
                desc.size,
                bytes.len()
            ),
        });
    }
    if let Some(own) = image.manifest()?.media_type
        && own != desc.media_type
    {
        return Err(OciError::IndexMismatch {
            what: what.to_owned(),
            reason: format!(
                "it lists manifest {} as {:?}, but that manifest's mediaType is {own:?}",
                desc.digest, desc.media_type
            ),
        });
    }
    Ok(())
}

impl OwnedIndex {
    /// An index from its exact bytes and the images it lists, in any order. `media_type`
    /// is the type it was stored under (a registry's Content-Type, a layout descriptor's
    /// `mediaType`); `None` takes the document's own `mediaType`, else OCI's.
    ///
    /// Every descriptor of `manifests` must be an image manifest whose bytes are one of
    /// `images` (same digest, size and media type), and every image must be listed; an
    /// index inside the index is refused.
    ///
    /// # Errors
    /// [`OciError::IndexMismatch`], [`OciError::UnsupportedMediaType`], or a parse error.
    pub fn new(
        raw: Vec<u8>,
        media_type: Option<&str>,
        images: Vec<Box<dyn Image>>,
        location: impl Into<String>,
    ) -> Result<OwnedIndex, OciError> {
        let location = location.into();
        let what = format!("index {} of {location}", Digest::sha256(&raw));
        let index = parse_index(&raw, &what)?;
        let media_type = stored_media_type(media_type, index.media_type.as_deref(), &what)?;
        let mut by_digest: BTreeMap<Digest, (Box<dyn Image>, Vec<u8>)> = BTreeMap::new();
        for image in images {
            let bytes = image.raw_manifest()?;
            by_digest.insert(Digest::sha256(&bytes), (image, bytes));
        }
        let mut ordered = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for desc in &index.manifests {
            if is_index_media_type(&desc.media_type) {
                return Err(OciError::UnsupportedMediaType {
                    what: format!("{} in {what} (an index inside an index)", desc.digest),
                    media_type: desc.media_type.clone(),
                });
            }
            if !seen.insert(desc.digest.clone()) {
                continue;
            }
            let Some((image, bytes)) = by_digest.remove(&desc.digest) else {
                return Err(OciError::IndexMismatch {
                    what,
                    reason: format!("it lists manifest {}, which is not among them", desc.digest),
                });
            };
            check_listed(desc, &bytes, image.as_ref(), &what)?;
            ordered.push(image);
        }
        if let Some(extra) = by_digest.keys().next() {
            return Err(OciError::IndexMismatch {
                what,
                reason: format!("image {extra} was given but the index does not list it"),
            });
        }
        Ok(OwnedIndex {
            raw,
            media_type,
            index,
            images: ordered,
            location,
        })
    }

    /// A new OCI image index over `images`, written canonically: one descriptor per image
    /// (its manifest's media type, digest and size, and the platform its config declares).
    ///
    /// # Errors
    /// When an image's manifest or config cannot be read.
    pub fn assemble(
        images: Vec<Box<dyn Image>>,
        annotations: BTreeMap<String, String>,
    ) -> Result<OwnedIndex, OciError> {
        let mut manifests = Vec::with_capacity(images.len());
        for image in &images {
            let raw = image.raw_manifest()?;
            let m = image.manifest()?;
            let mt = m.media_type.unwrap_or_else(|| {
                if m.config.media_type == media::DOCKER_CONFIG {
                    media::DOCKER_MANIFEST.into()
                } else {
                    media::OCI_MANIFEST.into()
                }
            });
            let mut desc = Descriptor::for_bytes(mt, &raw);
            desc.platform = Some(image.config()?.platform());
            manifests.push(desc);
        }
        let index = Index {
            schema_version: 2,
            media_type: Some(media::OCI_INDEX.into()),
            manifests,
            annotations,
        };
        let raw = to_canonical_json(&index);
        OwnedIndex::new(raw, Some(media::OCI_INDEX), images, "assembled index")
    }

    /// The index bytes, exactly as stored.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The media type to store the index under.
    pub fn media_type(&self) -> &str {
        &self.media_type
    }

    /// The index digest.
    pub fn digest(&self) -> Digest {
        Digest::sha256(&self.raw)
    }

    /// A descriptor of the index itself (for a layout's index.json).
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::for_bytes(self.media_type.clone(), &self.raw)
    }

    /// The parsed index.
    pub fn document(&self) -> &Index {
        &self.index
    }

    /// The images, in the order the index lists them (each once).
    pub fn images(&self) -> &[Box<dyn Image>] {
        &self.images
    }

    /// Where it comes from, for messages.
    pub fn location(&self) -> &str {
        &self.location
    }
}

impl ImageIndex for OwnedIndex {
    fn index(&self) -> Result<Index, OciError> {
        Ok(self.index.clone())
    }

    fn image(&self, desc: &Descriptor) -> Result<Box<dyn Image + '_>, OciError> {
        for image in &self.images {
            if image.digest()? == desc.digest {
                return Ok(Box::new(Borrowed(image.as_ref())));
            }
        }
        Err(OciError::BlobNotFound {
            digest: desc.digest.clone(),
            location: self.location.clone(),
        })
    }
}

/// An image of an index, lent out by [`ImageIndex::image`].
struct Borrowed<'a>(&'a dyn Image);

impl Image for Borrowed<'_> {
    fn raw_manifest(&self) -> Result<Vec<u8>, OciError> {
        self.0.raw_manifest()
    }
    fn open_blob(&self, desc: &Descriptor) -> Result<BlobReader<'_>, OciError> {
        self.0.open_blob(desc)
    }
    fn location(&self) -> String {
        self.0.location()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{BlobData, NewLayer, OwnedImage};
    use crate::spec::ImageConfig;

    fn image(arch: &str) -> OwnedImage {
        let layer = b"not really a tar".to_vec();
        let config = ImageConfig {
            architecture: arch.into(),
            os: "linux".into(),
            ..ImageConfig::default()
        };
        OwnedImage::assemble(
            config,
            vec![NewLayer {
                descriptor: Descriptor::for_bytes(media::OCI_LAYER_TAR, &layer),
                diff_id: Digest::sha256(&layer),
                blob: BlobData::Bytes(layer.into()),
                created_by: "test".into(),
                comment: None,
            }],
            BTreeMap::new(),
        )
    }

    #[test]
    fn assemble_lists_platforms_and_round_trips() {
        let idx = OwnedIndex::assemble(
            vec![Box::new(image("amd64")), Box::new(image("arm64"))],
            BTreeMap::new(),
        )
        .unwrap();
        let doc = idx.document();
        let platforms: Vec<String> = doc
            .manifests
            .iter()
            .map(|d| d.platform.as_ref().unwrap().to_string())
            .collect();
        assert_eq!(platforms, ["linux/amd64", "linux/arm64"]);
        assert_eq!(idx.media_type(), media::OCI_INDEX);
        let arm = idx.image(&doc.manifests[1]).unwrap();
        assert_eq!(arm.config().unwrap().architecture, "arm64");
        // The same bytes and images, in another order, give the same value.
        let again = OwnedIndex::new(
            idx.raw().to_vec(),
            None,
            vec![Box::new(image("arm64")), Box::new(image("amd64"))],
            "t",
        )
        .unwrap();
        assert_eq!(again.digest(), idx.digest());
        assert_eq!(again.images()[0].digest().unwrap(), doc.manifests[0].digest);
    }

    #[test]
    fn validate_index_checks_each_descriptor_platform() {
        let good = OwnedIndex::assemble(
            vec![Box::new(image("amd64")), Box::new(image("arm64"))],
            BTreeMap::new(),
        )
        .unwrap();
        let report = crate::validate_index(&good).unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert_eq!(report.images.len(), 2);
        // The same manifests listed with lying platforms: both arm64, one of them amd64.
        let mut doc = good.document().clone();
        for d in &mut doc.manifests {
            d.platform.as_mut().unwrap().architecture = "arm64".into();
        }
        let raw = crate::spec::to_canonical_json(&doc);
        let lying = OwnedIndex::new(
            raw,
            None,
            vec![Box::new(image("amd64")), Box::new(image("arm64"))],
            "t",
        )
        .unwrap();
        let report = crate::validate_index(&lying).unwrap();
        let text: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 2, "{text:?}");
        assert!(
            text[0].contains("as linux/arm64, but its config says linux/amd64"),
            "{text:?}"
        );
        assert!(
            text[1].contains("two images of the index are for linux/arm64"),
            "{text:?}"
        );
        assert!(!report.is_valid());
        // An empty index is a problem, not a panic.
        let empty = br#"{"schemaVersion":2,"manifests":[]}"#.to_vec();
        let empty = OwnedIndex::new(empty, None, Vec::new(), "t").unwrap();
        let report = crate::validate_index(&empty).unwrap();
        assert_eq!(report.problems.len(), 1);
    }

    #[test]
    fn mismatches_are_refused() {
        let idx = OwnedIndex::assemble(
            vec![Box::new(image("amd64")), Box::new(image("arm64"))],
            BTreeMap::new(),
        )
        .unwrap();
        let missing = OwnedIndex::new(
            idx.raw().to_vec(),
            None,
            vec![Box::new(image("amd64"))],
            "t",
        )
        .unwrap_err()
        .to_string();
        assert!(missing.contains("not among them"), "{missing}");
        let extra = OwnedIndex::new(
            idx.raw().to_vec(),
            None,
            vec![
                Box::new(image("amd64")),
                Box::new(image("arm64")),
                Box::new(image("s390x")),
            ],
            "t",
        )
        .unwrap_err()
        .to_string();
        assert!(extra.contains("does not list it"), "{extra}");
        let wrong_type = OwnedIndex::new(
            idx.raw().to_vec(),
            Some(media::DOCKER_MANIFEST_LIST),
            vec![Box::new(image("amd64")), Box::new(image("arm64"))],
            "t",
        )
        .unwrap_err()
        .to_string();
        assert!(wrong_type.contains("stored as"), "{wrong_type}");
        let nested = format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{}","digest":"{}","size":1}}]}}"#,
            media::OCI_INDEX,
            idx.digest()
        );
        let e = OwnedIndex::new(nested.into_bytes(), None, Vec::new(), "t")
            .unwrap_err()
            .to_string();
        assert!(e.contains("index inside an index"), "{e}");
    }
}
