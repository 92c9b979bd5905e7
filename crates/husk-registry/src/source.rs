//! A registry image as a `husk_oci::Image`: the manifest is fetched and verified when
//! the image is opened (an index is resolved by platform first); blobs are fetched only
//! when `open_blob` is called, streamed, and checked by the `open_verified` default.

use std::io::Read;
use std::sync::Arc;

use crate::RegistryRef;
use husk_oci::{
    BlobReader, Descriptor, Digest, Image, MAX_DOCUMENT_BYTES, OciError, OwnedIndex,
    PlatformChoice, media, parse_index, parse_manifest,
};
use reqwest::Method;

use crate::progress::{BlobOutcome, Progress};
use crate::transport::{Req, SharedTransport, Transport, read_limited};
use crate::{RegistryError, RegistryOptions};

/// Every manifest media type husk reads, for `Accept`.
pub(crate) const ACCEPT_MANIFESTS: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";

/// What a fetched document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    Manifest,
    Index,
}

fn kind_of_media_type(mt: &str) -> Option<DocumentKind> {
    match mt {
        media::OCI_MANIFEST | media::DOCKER_MANIFEST => Some(DocumentKind::Manifest),
        media::OCI_INDEX | media::DOCKER_MANIFEST_LIST => Some(DocumentKind::Index),
        _ => None,
    }
}

/// The fields of a manifest document that say what it is.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    schema_version: Option<u64>,
    media_type: Option<String>,
    manifests: Option<serde::de::IgnoredAny>,
    layers: Option<serde::de::IgnoredAny>,
    config: Option<serde::de::IgnoredAny>,
    fs_layers: Option<serde::de::IgnoredAny>,
}

/// Read the [`Probe`] of a document: a JSON object of schema 2, not both an index and a
/// manifest.
fn probe(bytes: &[u8], what: &str) -> Result<Probe, RegistryError> {
    let unsupported = |reason: String| RegistryError::UnsupportedDocument {
        what: what.to_owned(),
        reason,
    };
    let p: Probe = serde_json::from_slice(bytes)
        .map_err(|e| unsupported(format!("not a JSON object ({e})")))?;
    if p.manifests.is_some() && p.layers.is_some() {
        return Err(OciError::AmbiguousDocument {
            what: what.to_owned(),
        }
        .into());
    }
    if p.fs_layers.is_some() || p.schema_version == Some(1) {
        return Err(unsupported(
            "Docker schema 1 manifests are deprecated and not supported".into(),
        ));
    }
    if p.schema_version != Some(2) {
        return Err(unsupported(format!(
            "schemaVersion is {:?}, expected 2",
            p.schema_version
        )));
    }
    Ok(p)
}

/// Decide what a manifest document is from its bytes, cross-checked with the response's
/// Content-Type: the `mediaType` field, else its shape (`manifests` or `layers`). A
/// document with both `manifests` and `layers`, or whose bytes and Content-Type
/// disagree, is refused. Returns the kind and the media type to use for it.
///
/// # Errors
/// [`RegistryError::UnsupportedDocument`] or the ambiguity error of husk-oci.
pub fn classify(
    bytes: &[u8],
    content_type: Option<&str>,
    what: &str,
) -> Result<(DocumentKind, String), RegistryError> {
    let unsupported = |reason: String| RegistryError::UnsupportedDocument {
        what: what.to_owned(),
        reason,
    };
    let p = probe(bytes, what)?;
    let by_body = match &p.media_type {
        Some(mt) => {
            Some(kind_of_media_type(mt).ok_or_else(|| unsupported(format!("media type {mt:?}")))?)
        }
        None => None,
    };
    let by_shape = if p.manifests.is_some() {
        Some(DocumentKind::Index)
    } else if p.layers.is_some() || p.config.is_some() {
        Some(DocumentKind::Manifest)
    } else {
        None
    };
    let header_mt = content_type
        .map(|c| c.split(';').next().unwrap_or("").trim())
        .filter(|c| !c.is_empty());
    let by_header = header_mt.and_then(kind_of_media_type);
    let kind = match (by_body, by_shape) {
        (Some(b), Some(s)) if b != s => {
            return Err(unsupported(format!(
                "its mediaType says {b:?} but its fields are those of a {s:?}"
            )));
        }
        (Some(k), _) | (None, Some(k)) => k,
        (None, None) => match by_header {
            Some(k) => k,
            None => return Err(unsupported("neither \"manifests\" nor \"layers\"".into())),
        },
    };
    if let Some(h) = by_header
        && h != kind
    {
        return Err(unsupported(format!(
            "the Content-Type {:?} says {h:?} but the document is a {kind:?}",
            header_mt.unwrap_or("")
        )));
    }
    let media_type = p
        .media_type
        .or_else(|| by_header.map(|_| header_mt.unwrap_or_default().to_owned()))
        .unwrap_or_else(|| {
            match kind {
                DocumentKind::Manifest => media::OCI_MANIFEST,
                DocumentKind::Index => media::OCI_INDEX,
            }
            .to_owned()
        });
    Ok((kind, media_type))
}

fn digest_with(algorithm_of: &Digest, bytes: &[u8]) -> Digest {
    let mut h = algorithm_of.hasher();
    h.update(bytes);
    h.finish()
}

/// A fetched and verified manifest or index.
pub(crate) struct Document {
    pub bytes: Vec<u8>,
    pub kind: DocumentKind,
    pub media_type: String,
}

/// GET a manifest by tag or digest and verify it: against `expected` (a descriptor's
/// digest and size), the digest of the reference, and the `Docker-Content-Digest` header.
pub(crate) fn fetch_document(
    t: &Transport,
    repository: &str,
    reference: &str,
    expected: Option<&Descriptor>,
    what: &str,
) -> Result<Document, RegistryError> {
    let url = t.url(&format!("{repository}/manifests/{reference}"));
    let req = Req::new(Method::GET, url).header("accept", ACCEPT_MANIFESTS);
    let resp = t.send(&req)?;
    if resp.status().as_u16() != 200 {
        return Err(t.status_error(&Method::GET, what, resp));
    }
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let header_digest = resp
        .headers()
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<Digest>().ok());
    let bytes = read_limited(t, resp, MAX_DOCUMENT_BYTES, what)?;
    if let Some(d) = expected
        && bytes.len() as u64 != d.size
    {
        return Err(RegistryError::SizeMismatch {
            what: what.to_owned(),
            expected: d.size,
            actual: bytes.len() as u64,
        });
    }
    let mut wanted: Vec<Digest> = expected.map(|d| d.digest.clone()).into_iter().collect();
    if let Ok(d) = reference.parse::<Digest>() {
        wanted.push(d);
    }
    for w in &wanted {
        let actual = digest_with(w, &bytes);
        if &actual != w {
            return Err(RegistryError::DigestMismatch {
                what: what.to_owned(),
                expected: w.clone(),
                actual,
            });
        }
    }
    if let Some(h) = header_digest {
        let actual = digest_with(&h, &bytes);
        if actual != h {
            return Err(RegistryError::DigestMismatch {
                what: format!("{what} (per its Docker-Content-Digest header)"),
                expected: h,
                actual,
            });
        }
    }
    let (kind, media_type) = classify(&bytes, content_type.as_deref(), what)?;
    Ok(Document {
        bytes,
        kind,
        media_type,
    })
}

/// An image in a registry. Cheap to hold: only the manifest is in memory.
pub struct RegistryImage {
    transport: SharedTransport,
    reference: RegistryRef,
    manifest: Vec<u8>,
    media_type: String,
    progress: Option<Arc<dyn Progress>>,
    /// The config, once fetched and verified (every accessor of the image reads it).
    config: std::sync::OnceLock<(Digest, Vec<u8>)>,
}

impl std::fmt::Debug for RegistryImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryImage")
            .field("reference", &self.reference.to_string())
            .field("media_type", &self.media_type)
            .finish_non_exhaustive()
    }
}

/// The transport for `reference`, its display name, and the document its tag or digest
/// names (verified).
fn fetch_top(
    reference: &RegistryRef,
    opts: &RegistryOptions,
) -> Result<(Arc<Transport>, String, Document), RegistryError> {
    let scopes = vec![format!("repository:{}:pull", reference.repository)];
    let transport = Arc::new(Transport::new(reference, opts, scopes)?);
    let location = reference.to_string();
    let top = fetch_document(
        &transport,
        &reference.repository,
        &reference.manifest_reference(),
        None,
        &format!("manifest of {location}"),
    )?;
    Ok((transport, location, top))
}

/// The image manifest an index entry names, fetched by digest and checked against the
/// entry; an index inside the index is refused.
fn fetch_child(
    transport: &Transport,
    reference: &RegistryRef,
    desc: &Descriptor,
    location: &str,
) -> Result<Document, RegistryError> {
    let what = format!("manifest {} of {location}", desc.digest);
    let nested = || RegistryError::UnsupportedDocument {
        what: what.clone(),
        reason: "an index inside an index is not supported".into(),
    };
    if husk_oci::is_index_media_type(&desc.media_type) {
        return Err(nested());
    }
    let doc = fetch_document(
        transport,
        &reference.repository,
        &desc.digest.to_string(),
        Some(desc),
        &what,
    )?;
    if doc.kind != DocumentKind::Manifest {
        return Err(nested());
    }
    Ok(doc)
}

/// Open the image `reference` names: fetch its manifest (through an index, choosing
/// `platform`) and verify it. No blob is fetched yet.
///
/// # Errors
/// Network, authentication and verification errors; an index without the platform lists
/// the platforms it has.
pub fn open(
    reference: &RegistryRef,
    platform: &PlatformChoice,
    opts: &RegistryOptions,
) -> Result<RegistryImage, RegistryError> {
    let (transport, location, top) = fetch_top(reference, opts)?;
    let doc = match top.kind {
        DocumentKind::Manifest => top,
        DocumentKind::Index => {
            let index = parse_index(&top.bytes, &format!("manifest of {location}"))?;
            let desc = husk_oci::select_platform(&index, platform, &location)?;
            fetch_child(&transport, reference, &desc, &location)?
        }
    };
    parse_manifest(&doc.bytes, &format!("manifest of {location}"))?;
    Ok(RegistryImage {
        transport,
        reference: reference.clone(),
        manifest: doc.bytes,
        media_type: doc.media_type,
        progress: None,
        config: std::sync::OnceLock::new(),
    })
}

/// What a registry reference names: one image, or a multi-platform index held whole.
pub enum Remote {
    Image(RegistryImage),
    /// The index with its exact bytes and media type; each image it lists is a
    /// [`RegistryImage`] (manifest fetched and verified, blobs on demand).
    Index(OwnedIndex),
}

/// Open what `reference` names without choosing a platform: an image, or an index with
/// every manifest it lists (each fetched by digest and checked against its descriptor).
/// An index inside the index is refused. `progress` receives blob downloads.
///
/// # Errors
/// As [`open`].
pub fn open_remote(
    reference: &RegistryRef,
    opts: &RegistryOptions,
    progress: Option<Arc<dyn Progress>>,
) -> Result<Remote, RegistryError> {
    let (transport, location, top) = fetch_top(reference, opts)?;
    let what = format!("manifest of {location}");
    let image = |doc: Document| RegistryImage {
        transport: transport.clone(),
        reference: reference.clone(),
        manifest: doc.bytes,
        media_type: doc.media_type,
        progress: progress.clone(),
        config: std::sync::OnceLock::new(),
    };
    if top.kind == DocumentKind::Manifest {
        parse_manifest(&top.bytes, &what)?;
        return Ok(Remote::Image(image(top)));
    }
    let index = parse_index(&top.bytes, &format!("index of {location}"))?;
    let mut images: Vec<Box<dyn Image>> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for desc in &index.manifests {
        if !seen.insert(desc.digest.clone()) {
            continue;
        }
        let doc = fetch_child(&transport, reference, desc, &location)?;
        parse_manifest(
            &doc.bytes,
            &format!("manifest {} of {location}", desc.digest),
        )?;
        images.push(Box::new(image(doc)));
    }
    Ok(Remote::Index(OwnedIndex::new(
        top.bytes,
        Some(&top.media_type),
        images,
        location,
    )?))
}

impl RegistryImage {
    /// Report blob downloads to `progress`.
    pub fn with_progress(mut self, progress: Arc<dyn Progress>) -> RegistryImage {
        self.progress = Some(progress);
        self
    }

    /// The manifest's media type (from the document, or the registry's Content-Type).
    pub fn media_type(&self) -> &str {
        &self.media_type
    }

    pub fn reference(&self) -> &RegistryRef {
        &self.reference
    }

    /// GET a blob: its body, whose reads fail with [`RegistryError::Stalled`] when the
    /// registry (or the storage it redirects to) sends nothing for the idle timeout.
    fn get_blob(&self, desc: &Descriptor) -> Result<crate::idle::BodyReader, RegistryError> {
        let t = &self.transport;
        let url = t.url(&format!(
            "{}/blobs/{}",
            self.reference.repository, desc.digest
        ));
        let mut req = Req::new(Method::GET, url);
        req.follow = true;
        let resp = t.send(&req)?;
        if resp.status().as_u16() != 200 {
            return Err(t.status_error(&Method::GET, &format!("blob {}", desc.digest), resp));
        }
        if let Some(n) = resp.content_length()
            && n != desc.size
        {
            return Err(RegistryError::SizeMismatch {
                what: format!("blob {}", desc.digest),
                expected: desc.size,
                actual: n,
            });
        }
        Ok(t.body_reader(&Method::GET, resp))
    }
}

impl Image for RegistryImage {
    fn raw_manifest(&self) -> Result<Vec<u8>, OciError> {
        Ok(self.manifest.clone())
    }

    fn open_blob(&self, desc: &Descriptor) -> Result<BlobReader<'_>, OciError> {
        if let Some((d, bytes)) = self.config.get()
            && d == &desc.digest
        {
            // Verified when it was fetched; open_verified checks it again.
            return Ok(Box::new(std::io::Cursor::new(bytes.clone())));
        }
        let resp = self.get_blob(desc).map_err(|e| e.into_oci(&desc.digest))?;
        match &self.progress {
            Some(p) => {
                p.start(&desc.digest, desc.size);
                Ok(Box::new(ProgressReader {
                    inner: resp,
                    progress: p.clone(),
                    digest: desc.digest.clone(),
                    done: 0,
                    finished: false,
                }))
            }
            None => Ok(Box::new(resp)),
        }
    }

    fn location(&self) -> String {
        self.reference.to_string()
    }

    /// Fetched once: `config()`, `layers()` and every sink read it again.
    fn raw_config(&self) -> Result<Vec<u8>, OciError> {
        if let Some((_, c)) = self.config.get() {
            return Ok(c.clone());
        }
        let manifest = self.manifest()?;
        let bytes = husk_oci::read_document(self, &manifest.config)?;
        Ok(self
            .config
            .get_or_init(|| (manifest.config.digest, bytes))
            .1
            .clone())
    }
}

struct ProgressReader<R> {
    inner: R,
    progress: Arc<dyn Progress>,
    digest: Digest,
    done: u64,
    finished: bool,
}

impl<R: Read> Read for ProgressReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            if !self.finished {
                self.finished = true;
                self.progress.finish(&self.digest, BlobOutcome::Downloaded);
            }
        } else {
            self.done += n as u64;
            self.progress.position(&self.digest, self.done);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_by_bytes_and_content_type() {
        let m = br#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{},"layers":[]}"#;
        let (k, mt) = classify(m, None, "m").unwrap();
        assert_eq!(
            (k, mt.as_str()),
            (DocumentKind::Manifest, media::DOCKER_MANIFEST)
        );
        let bare = br#"{"schemaVersion":2,"config":{},"layers":[]}"#;
        let (k, mt) = classify(
            bare,
            Some("application/vnd.oci.image.manifest.v1+json; charset=utf-8"),
            "m",
        )
        .unwrap();
        assert_eq!(
            (k, mt.as_str()),
            (DocumentKind::Manifest, media::OCI_MANIFEST)
        );
        let idx = br#"{"schemaVersion":2,"manifests":[]}"#;
        assert_eq!(
            classify(idx, Some("application/json"), "i").unwrap().0,
            DocumentKind::Index
        );
        let both = br#"{"schemaVersion":2,"manifests":[],"layers":[]}"#;
        assert!(
            classify(both, None, "x")
                .unwrap_err()
                .to_string()
                .contains("ambiguous")
        );
        let lying = classify(bare, Some(media::OCI_INDEX), "x")
            .unwrap_err()
            .to_string();
        assert!(lying.contains("Content-Type"), "{lying}");
        let mixed = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","layers":[]}"#;
        assert!(classify(mixed, None, "x").is_err());
        let v1 = br#"{"schemaVersion":1,"fsLayers":[]}"#;
        assert!(
            classify(v1, None, "x")
                .unwrap_err()
                .to_string()
                .contains("schema 1")
        );
        let odd = br#"{"schemaVersion":2,"mediaType":"text/html","layers":[]}"#;
        assert!(classify(odd, None, "x").is_err());
        assert!(classify(b"<html>", None, "x").is_err());
    }
}
