//! Artifacts attached to images (OCI 1.1 referrers), wherever the image lives: an
//! [`Artifact`] is a small manifest (empty config, one layer = the document) whose
//! `subject` is an image manifest; [`Context::attach`] stores it beside the image (an
//! extra index.json entry in an `oci:` layout, the referrers API or the fallback tag on a
//! registry), [`Context::referrers`] lists them, [`Context::copy_referrers`] carries them
//! from one place to another (verified) for `husk push`/`husk pull --with-referrers`.

use std::collections::BTreeMap;
use std::io::Read;

use husk_formats::{ArtifactBlob, LocalRef};
use husk_oci::spec::to_canonical_json;
use husk_oci::{
    BlobReader, Descriptor, Digest, Image, Manifest, OciError, Platform, PlatformChoice,
    is_attestation, media,
};

use crate::context::Opened;
use crate::{Context, ImageRef, TransportError};

/// The empty config every artifact manifest points at (image-spec "Guidance for an
/// Empty Descriptor").
const EMPTY_JSON: &[u8] = b"{}";
/// The title annotation of the document layer (its file name).
const TITLE: &str = "org.opencontainers.image.title";
/// Largest artifact blob carried in memory (SBOMs of large images are a few MB).
const ARTIFACT_BLOB_CAP: u64 = 64 << 20;

/// One artifact held in memory: its manifest bytes, the descriptor an index lists it by
/// (with `artifactType`) and its blobs.
#[derive(Debug, Clone)]
pub struct Artifact {
    manifest: Vec<u8>,
    entry: Descriptor,
    blobs: BTreeMap<Digest, Vec<u8>>,
}

impl Artifact {
    /// An artifact of type `artifact_type` holding `document` (of `media_type`, named
    /// `title`) about the image manifest `subject`; `created` (RFC 3339) is annotated when
    /// given. Canonical JSON: the same inputs give the same digest.
    #[must_use]
    pub fn document(
        subject: Descriptor,
        artifact_type: &str,
        media_type: &str,
        title: &str,
        document: Vec<u8>,
        created: Option<String>,
    ) -> Artifact {
        let config = Descriptor::for_bytes(media::OCI_EMPTY, EMPTY_JSON);
        let mut layer = Descriptor::for_bytes(media_type, &document);
        layer.annotations.insert(TITLE.into(), title.into());
        let mut annotations = BTreeMap::new();
        if let Some(c) = created {
            annotations.insert(media::ANNOTATION_CREATED.to_owned(), c);
        }
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(media::OCI_MANIFEST.into()),
            artifact_type: Some(artifact_type.into()),
            config: config.clone(),
            layers: vec![layer.clone()],
            subject: Some(subject),
            annotations: annotations.clone(),
        };
        let manifest = to_canonical_json(&manifest);
        let mut entry = Descriptor::for_bytes(media::OCI_MANIFEST, &manifest);
        entry.artifact_type = Some(artifact_type.into());
        entry.annotations = annotations;
        let mut blobs = BTreeMap::new();
        blobs.insert(config.digest, EMPTY_JSON.to_vec());
        blobs.insert(layer.digest, document);
        Artifact {
            manifest,
            entry,
            blobs,
        }
    }

    /// The descriptor an index lists this artifact by.
    #[must_use]
    pub fn entry(&self) -> &Descriptor {
        &self.entry
    }

    /// Reads the artifact `entry` names from `image` (an opened artifact manifest),
    /// every blob verified and held in memory.
    fn read_from(image: &dyn Image, entry: &Descriptor) -> Result<Artifact, OciError> {
        let manifest_bytes = image.raw_manifest()?;
        let manifest = image.manifest()?;
        let mut blobs = BTreeMap::new();
        for d in std::iter::once(&manifest.config).chain(&manifest.layers) {
            if d.size > ARTIFACT_BLOB_CAP {
                return Err(OciError::UnsupportedMediaType {
                    what: format!("artifact blob {} ({} bytes)", d.digest, d.size),
                    media_type: d.media_type.clone(),
                });
            }
            let mut bytes = Vec::new();
            image
                .open_verified(d)?
                .read_to_end(&mut bytes)
                .map_err(|e| husk_oci::blob_error(&d.digest, e))?;
            blobs.insert(d.digest.clone(), bytes);
        }
        let mut entry = entry.clone();
        entry.artifact_type = entry.artifact_type.or(manifest.artifact_type);
        Ok(Artifact {
            manifest: manifest_bytes,
            entry,
            blobs,
        })
    }
}

impl Image for Artifact {
    fn raw_manifest(&self) -> Result<Vec<u8>, OciError> {
        Ok(self.manifest.clone())
    }
    fn open_blob(&self, desc: &Descriptor) -> Result<BlobReader<'_>, OciError> {
        match self.blobs.get(&desc.digest) {
            Some(b) => Ok(Box::new(std::io::Cursor::new(b.clone()))),
            None => Err(OciError::BlobNotFound {
                digest: desc.digest.clone(),
                location: self.location(),
            }),
        }
    }
    fn location(&self) -> String {
        format!("artifact {}", self.entry.digest)
    }
}

/// The descriptor by which an artifact names `image` as its subject.
///
/// # Errors
/// The image's manifest cannot be read.
pub fn subject_of(image: &dyn Image) -> Result<Descriptor, OciError> {
    let raw = image.raw_manifest()?;
    let mt = image
        .manifest()?
        .media_type
        .unwrap_or_else(|| media::OCI_MANIFEST.to_owned());
    Ok(Descriptor::for_bytes(mt, &raw))
}

/// Where an artifact went: `"oci:out"`, or the registry and how it keeps referrers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attached {
    pub destination: String,
    /// `None` for a layout; the registry's way otherwise.
    pub via: Option<husk_registry::ReferrersVia>,
}

impl Context {
    /// Attaches `artifact` to the image it names as subject, at `dest` (an `oci:`
    /// layout or a registry repository holding that image).
    ///
    /// # Errors
    /// [`TransportError::ReferrersUnsupported`] for other media; write or push errors.
    pub fn attach(
        &self,
        dest: &ImageRef,
        subject: &Digest,
        artifact: &Artifact,
    ) -> Result<Attached, TransportError> {
        match dest {
            ImageRef::Registry(r) => {
                let via = husk_registry::attach(
                    artifact,
                    &artifact.entry,
                    r,
                    subject,
                    self.registry_options(),
                    self.progress("push").as_ref(),
                )
                .map_err(|e| TransportError::Push {
                    destination: dest.to_string(),
                    source: Box::new(e),
                })?;
                Ok(Attached {
                    destination: dest.to_string(),
                    via: Some(via),
                })
            }
            ImageRef::Local(LocalRef::Oci { dir, .. }) => {
                let blobs: Vec<(Descriptor, &[u8])> = artifact
                    .manifest()?
                    .layers
                    .into_iter()
                    .chain(std::iter::once(artifact.manifest()?.config))
                    .filter_map(|d| {
                        let bytes = artifact.blobs.get(&d.digest)?.as_slice();
                        Some((d, bytes))
                    })
                    .collect();
                let blobs: Vec<ArtifactBlob<'_>> = blobs
                    .iter()
                    .map(|(descriptor, bytes)| ArtifactBlob { descriptor, bytes })
                    .collect();
                husk_formats::attach_to_oci_dir(dir, &artifact.entry, &artifact.manifest, &blobs)
                    .map_err(|e| TransportError::Write {
                    destination: dest.to_string(),
                    hint: String::new(),
                    source: Box::new(e),
                })?;
                Ok(Attached {
                    destination: dest.to_string(),
                    via: None,
                })
            }
            ImageRef::Local(_) => Err(TransportError::ReferrersUnsupported {
                reference: dest.to_string(),
            }),
        }
    }

    /// The manifests whose attached artifacts `reference` stands for: an image's own
    /// (`platform` does not choose from an image); of a multi-platform index, the index's
    /// and then each image's (attestation entries skipped), or with `platform` the one
    /// image it picks, under the platform the index lists it.
    ///
    /// # Errors
    /// As [`Context::open_whole`].
    pub fn subjects(
        &self,
        reference: &ImageRef,
        platform: Option<&Platform>,
    ) -> Result<Vec<Subject>, TransportError> {
        let index = match self.open_whole(reference, None)? {
            Opened::Image(image) => {
                return Ok(vec![Subject {
                    digest: image.digest()?,
                    platform: None,
                }]);
            }
            Opened::Index(index) => index,
        };
        let entry = |d: &Descriptor| Subject {
            digest: d.digest.clone(),
            platform: d.platform.clone(),
        };
        let document = index.document();
        if let Some(p) = platform {
            let choice = PlatformChoice::Exactly(p.clone());
            let chosen = husk_oci::select_platform(document, &choice, &reference.to_string())?;
            return Ok(vec![entry(&chosen)]);
        }
        let whole = Subject {
            digest: index.digest().clone(),
            platform: None,
        };
        let images = document.manifests.iter().filter(|d| !is_attestation(d));
        Ok(std::iter::once(whole).chain(images.map(entry)).collect())
    }

    /// The artifacts attached to the manifest `subject` where `reference` lives.
    ///
    /// # Errors
    /// [`TransportError::ReferrersUnsupported`] for media other than `oci:` and
    /// registries; read errors.
    pub fn referrers(
        &self,
        reference: &ImageRef,
        subject: &Digest,
    ) -> Result<Vec<Descriptor>, TransportError> {
        Ok(match reference {
            ImageRef::Registry(r) => {
                husk_registry::list_referrers(r, subject, self.registry_options())
                    .map_err(|e| TransportError::OpenRegistry {
                        reference: reference.to_string(),
                        source: Box::new(e),
                    })?
                    .manifests
            }
            ImageRef::Local(LocalRef::Oci { dir, .. }) => {
                husk_formats::referrers_in_oci_dir(dir, subject).map_err(|e| {
                    TransportError::OpenLocal {
                        reference: reference.to_string(),
                        hint: String::new(),
                        source: Box::new(e),
                    }
                })?
            }
            ImageRef::Local(_) => {
                return Err(TransportError::ReferrersUnsupported {
                    reference: reference.to_string(),
                });
            }
        })
    }

    /// Copies every artifact attached to what `source` names (each of
    /// [`Context::subjects`]) to `dest`, which must already hold those manifests, each
    /// read verified; returns how many.
    ///
    /// # Errors
    /// As [`Context::referrers`] and [`Context::attach`].
    pub fn copy_referrers(
        &self,
        source: &ImageRef,
        dest: &ImageRef,
        platform: Option<&Platform>,
    ) -> Result<usize, TransportError> {
        let mut copied = 0;
        for subject in self.subjects(source, platform)? {
            for entry in &self.referrers(source, &subject.digest)? {
                let at = with_digest(source, &entry.digest);
                let image = self.open(&at, &PlatformChoice::Only)?;
                let artifact = Artifact::read_from(image.as_ref(), entry)?;
                self.attach(dest, &subject.digest, &artifact)?;
                copied += 1;
            }
        }
        Ok(copied)
    }
}

/// A manifest artifacts can be attached to: an image, or a multi-platform index itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub digest: Digest,
    /// The platform the index lists an image under; `None` for an index itself and for
    /// an image named on its own.
    pub platform: Option<Platform>,
}

/// `reference` pointing at the manifest `digest` in the same place.
fn with_digest(reference: &ImageRef, digest: &Digest) -> ImageRef {
    match reference {
        ImageRef::Registry(r) => ImageRef::Registry(husk_registry::RegistryRef {
            tag: None,
            digest: Some(digest.clone()),
            ..r.clone()
        }),
        ImageRef::Local(LocalRef::Oci { dir, .. }) => ImageRef::Local(LocalRef::Oci {
            dir: dir.clone(),
            reference: Some(digest.to_string()),
        }),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject() -> Descriptor {
        Descriptor::for_bytes(media::OCI_MANIFEST, b"{\"schemaVersion\":2}")
    }

    #[test]
    fn an_artifact_is_deterministic_and_names_its_subject() {
        let make = || {
            Artifact::document(
                subject(),
                "application/spdx+json",
                "application/spdx+json",
                "sbom.spdx.json",
                b"{\"spdxVersion\":\"SPDX-2.3\"}".to_vec(),
                None,
            )
        };
        let (a, b) = (make(), make());
        assert_eq!(a.entry, b.entry);
        let m = a.manifest().unwrap();
        assert_eq!(m.subject.unwrap().digest, subject().digest);
        assert_eq!(m.artifact_type.as_deref(), Some("application/spdx+json"));
        assert_eq!(m.config.media_type, media::OCI_EMPTY);
        assert_eq!(m.layers.len(), 1);
        assert_eq!(
            a.entry.artifact_type.as_deref(),
            Some("application/spdx+json")
        );
        // Every blob it names is there and verifies.
        for d in std::iter::once(&m.config).chain(&m.layers) {
            let mut out = Vec::new();
            a.open_verified(d).unwrap().read_to_end(&mut out).unwrap();
        }
        let again = Artifact::read_from(&a, &a.entry).unwrap();
        assert_eq!(again.entry, a.entry);
        assert_eq!(again.manifest, a.manifest);
    }

    #[test]
    fn a_layout_keeps_artifacts_as_extra_entries() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("out");
        // A layout with one image, written by the normal sink.
        let image = husk_oci::OwnedImage::assemble(
            husk_oci::ImageConfig {
                architecture: "amd64".into(),
                os: "linux".into(),
                ..Default::default()
            },
            Vec::new(),
            BTreeMap::new(),
        );
        let dest = ImageRef::Local(LocalRef::Oci {
            dir: dir.clone(),
            reference: None,
        });
        let ctx = Context::default();
        ctx.copy(crate::Source::Image(&image), &dest, &Default::default())
            .unwrap();
        let subject = subject_of(&image).unwrap();
        let artifact = Artifact::document(
            subject.clone(),
            "application/vnd.cyclonedx+json",
            "application/vnd.cyclonedx+json",
            "sbom.cdx.json",
            b"{}".to_vec(),
            None,
        );
        let done = ctx.attach(&dest, &subject.digest, &artifact).unwrap();
        assert_eq!(done.via, None);
        // Twice is once.
        ctx.attach(&dest, &subject.digest, &artifact).unwrap();
        let subjects = ctx.subjects(&dest, None).unwrap();
        assert_eq!(
            subjects,
            [Subject {
                digest: subject.digest.clone(),
                platform: None
            }]
        );
        let digest = subject.digest.clone();
        let list = ctx.referrers(&dest, &digest).unwrap();
        assert_eq!(list, vec![artifact.entry.clone()]);
        // The layout still opens as the one image.
        assert_eq!(
            ctx.open(&dest, &PlatformChoice::Only)
                .unwrap()
                .digest()
                .unwrap(),
            digest
        );
        // And the artifacts copy into another layout holding the image.
        let other = ImageRef::Local(LocalRef::Oci {
            dir: t.path().join("other"),
            reference: None,
        });
        ctx.copy(crate::Source::Reference(&dest), &other, &Default::default())
            .unwrap();
        assert_eq!(ctx.copy_referrers(&dest, &other, None).unwrap(), 1);
        assert_eq!(ctx.referrers(&other, &digest).unwrap(), list);
        // Media without referrers say so.
        let archive = ImageRef::Local(LocalRef::DockerArchive {
            path: t.path().join("x.tar"),
            reference: None,
        });
        let err = ctx.attach(&archive, &digest, &artifact).unwrap_err();
        assert!(err.to_string().contains("x.tar"), "{err}");
    }
}
