//! docker-archive: what `docker save` and `podman save` write. A tar with `manifest.json`
//! (`[{Config, RepoTags, Layers}]`), the config JSON and one tar per layer.
//!
//! Reading: the image manifest is synthesised (Docker schema 2 media types) from
//! manifest.json; an uncompressed layer's digest is its diff_id from the config (verified
//! when read), a compressed layer is hashed once at open. So the digest of an image read
//! from a docker-archive is that of the synthesised manifest, as with skopeo.
//!
//! Writing: the legacy layout every engine loads (`<config hex>.json`, `<diff_id hex>.tar`
//! uncompressed layers, `manifest.json`, `repositories`), in a deterministic tar.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::path::Path;

use husk_oci::spec::to_canonical_json;
use husk_oci::{
    BlobReader, Descriptor, Digest, HashingReader, Image, ImageConfig, Layer, Manifest, OciError,
    layers_of, media,
};
use serde::{Deserialize, Serialize};

use crate::FormatError;
use crate::archive_tar::ArchiveTar;
use crate::atomic;
use crate::tar_index::TarIndex;

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ManifestEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// An image read from a docker-archive.
pub struct DockerArchiveImage {
    index: TarIndex,
    manifest: Vec<u8>,
    /// Archive entry name of each blob.
    names: BTreeMap<Digest, String>,
}

impl Image for DockerArchiveImage {
    fn raw_manifest(&self) -> Result<Vec<u8>, OciError> {
        Ok(self.manifest.clone())
    }
    fn open_blob(&self, desc: &Descriptor) -> Result<BlobReader<'_>, OciError> {
        let name = self
            .names
            .get(&desc.digest)
            .ok_or_else(|| OciError::BlobNotFound {
                digest: desc.digest.clone(),
                location: self.location(),
            })?;
        self.index
            .open(name)
            .map(|r| Box::new(r) as BlobReader<'_>)
            .map_err(|e| OciError::BlobRead {
                digest: desc.digest.clone(),
                source: io::Error::other(e.to_string()),
            })
    }
    fn location(&self) -> String {
        format!("docker-archive:{}", self.index.path().display())
    }
}

fn detect(mut r: impl Read) -> io::Result<media::LayerCompression> {
    let mut magic = [0u8; 4];
    let mut n = 0;
    while n < 4 {
        let k = r.read(&mut magic[n..])?;
        if k == 0 {
            break;
        }
        n += k;
    }
    Ok(match &magic[..n] {
        [0x1f, 0x8b, ..] => media::LayerCompression::Gzip,
        [0x28, 0xb5, 0x2f, 0xfd] => media::LayerCompression::Zstd,
        _ => media::LayerCompression::None,
    })
}

/// The manifest.json entry `reference` names (one of its RepoTags, also without a
/// `localhost/` prefix), or the only one.
fn pick_entry<'a>(
    entries: &'a [ManifestEntry],
    reference: Option<&str>,
    location: &str,
) -> Result<&'a ManifestEntry, FormatError> {
    let tags_of = |e: &ManifestEntry| e.repo_tags.clone().unwrap_or_default();
    let available: Vec<String> = entries.iter().flat_map(tags_of).collect();
    match reference {
        Some(r) => entries
            .iter()
            .find(|e| {
                tags_of(e)
                    .iter()
                    .any(|t| t == r || t.strip_prefix("localhost/") == Some(r))
            })
            .ok_or_else(|| FormatError::RefNotFound {
                location: location.to_owned(),
                reference: r.to_owned(),
                available,
            }),
        None => match entries {
            [one] => Ok(one),
            [] => Err(FormatError::Empty {
                location: location.to_owned(),
            }),
            many => Err(FormatError::AmbiguousImage {
                location: location.to_owned(),
                count: many.len(),
                available,
            }),
        },
    }
}

/// The descriptor of layer `name`: an uncompressed tar is its diff_id; a compressed one
/// is hashed once (the archive does not record its digest).
fn layer_descriptor(
    index: &TarIndex,
    path: &Path,
    name: &str,
    diff_id: &husk_oci::Digest,
) -> Result<Descriptor, FormatError> {
    let size = index
        .size(name)
        .ok_or_else(|| FormatError::ArchiveEntryMissing {
            archive: path.to_path_buf(),
            entry: name.to_owned(),
        })?;
    let compression = detect(index.open(name)?).map_err(|e| FormatError::io(path, e))?;
    let (digest, media_type) = match compression {
        media::LayerCompression::None => (diff_id.clone(), media::DOCKER_LAYER_TAR),
        c => {
            let mut h = HashingReader::new(index.open(name)?, husk_oci::Algorithm::Sha256);
            io::copy(&mut h, &mut io::sink()).map_err(|e| FormatError::io(path, e))?;
            let mt = if c == media::LayerCompression::Gzip {
                media::DOCKER_LAYER_GZIP
            } else {
                media::OCI_LAYER_ZSTD
            };
            (h.finish().0, mt)
        }
    };
    Ok(Descriptor::new(media_type, digest, size))
}

/// Open an image from a docker-archive; `reference` picks one of its RepoTags.
///
/// # Errors
/// When the tar or its manifest.json is invalid, the reference is not there, or the
/// archive holds several images and none is named.
pub fn open_docker_archive(
    path: &Path,
    reference: Option<&str>,
) -> Result<DockerArchiveImage, FormatError> {
    let index = TarIndex::scan(path)?;
    let bad = |reason: String| FormatError::DockerManifest {
        archive: path.to_path_buf(),
        reason,
    };
    if !index.contains("manifest.json") {
        return Err(bad("the archive has no manifest.json".into()));
    }
    let entries: Vec<ManifestEntry> = serde_json::from_slice(&index.read_small("manifest.json")?)
        .map_err(|e| bad(e.to_string()))?;
    let location = format!("docker-archive:{}", path.display());
    let entry = pick_entry(&entries, reference, &location)?;
    let config_name = entry.config.trim_start_matches("./").to_owned();
    let config_bytes = index.read_small(&config_name)?;
    let config: ImageConfig =
        serde_json::from_slice(&config_bytes).map_err(|source| OciError::Json {
            what: format!("config {config_name} in {location}"),
            source,
        })?;
    if config.rootfs.diff_ids.len() != entry.layers.len() {
        return Err(bad(format!(
            "{} layers listed but the config has {} diff_ids",
            entry.layers.len(),
            config.rootfs.diff_ids.len()
        )));
    }
    let mut names = BTreeMap::new();
    let config_desc = Descriptor::for_bytes(media::DOCKER_CONFIG, &config_bytes);
    // docker and podman name the config by its digest (`<hex>.json`, or
    // `blobs/sha256/<hex>` since docker 25): a name that says another digest is an
    // altered archive, so `validate` does not report it verified.
    if let Some(named) = named_digest(&config_name)
        && named != config_desc.digest.hex()
    {
        return Err(bad(format!(
            "the config {config_name} is named for sha256:{named} but its content is {}",
            config_desc.digest
        )));
    }
    names.insert(config_desc.digest.clone(), config_name);
    let mut layers = Vec::new();
    for (layer_name, diff_id) in entry.layers.iter().zip(&config.rootfs.diff_ids) {
        let name = layer_name.trim_start_matches("./").to_owned();
        let desc = layer_descriptor(&index, path, &name, diff_id)?;
        names.insert(desc.digest.clone(), name);
        layers.push(desc);
    }
    let manifest = to_canonical_json(&Manifest {
        schema_version: 2,
        media_type: Some(media::DOCKER_MANIFEST.into()),
        artifact_type: None,
        config: config_desc,
        layers,
        subject: None,
        annotations: BTreeMap::new(),
    });
    Ok(DockerArchiveImage {
        index,
        manifest,
        names,
    })
}

/// The sha256 hex a config file is named by: `<64 hex>.json` or `blobs/sha256/<64 hex>`.
fn named_digest(name: &str) -> Option<&str> {
    let last = name.rsplit('/').next()?;
    let hex = last.strip_suffix(".json").unwrap_or(last);
    let by_digest = last.len() != hex.len() || name.contains("sha256/");
    (by_digest && hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .then_some(hex)
}

/// Normalise a tag the way engines store it: `name` gets `:latest`.
fn full_tag(tag: &str) -> String {
    let last = tag.rsplit('/').next().unwrap_or(tag);
    if last.contains(':') || tag.contains('@') {
        tag.to_owned()
    } else {
        format!("{tag}:latest")
    }
}

/// Stream `image` as a docker-archive into `w`, with `tags` as its RepoTags.
///
/// # Errors
/// When a blob fails verification or `w` fails.
pub fn write_docker_archive_to<W: Write>(
    image: &dyn Image,
    tags: &[String],
    w: W,
) -> Result<W, FormatError> {
    let manifest = image.manifest()?;
    let config_bytes = image.raw_config()?;
    let config_hex = manifest.config.digest.hex().to_owned();
    let mut tar = ArchiveTar::new(w);
    let io_err = |e: io::Error| match e.get_ref() {
        Some(i) if i.is::<OciError>() => {
            FormatError::Oci(husk_oci::blob_error(&manifest.config.digest, e))
        }
        _ => FormatError::Io {
            path: "docker-archive stream".into(),
            source: e,
        },
    };
    let config_name = format!("{config_hex}.json");
    tar.file(&config_name, config_bytes.len() as u64, &config_bytes[..])
        .map_err(io_err)?;
    let mut layer_names = Vec::new();
    for layer in layers_of(image)? {
        let diff_id = layer.diff_id().cloned().ok_or_else(|| {
            FormatError::Oci(OciError::BlobNotFound {
                digest: layer.digest().clone(),
                location: "the config's diff_ids".into(),
            })
        })?;
        let name = format!("{}.tar", diff_id.hex());
        if !layer_names.contains(&name) {
            // The tar header needs the size first: count the uncompressed bytes once, then
            // stream them, checking the diff_id as they go.
            let mut counter = layer.open_uncompressed_unchecked()?;
            let size = io::copy(&mut counter, &mut io::sink()).map_err(io_err)?;
            let verified =
                husk_oci::VerifyingReader::new(layer.open_uncompressed_unchecked()?, diff_id, size);
            tar.file(&name, size, verified).map_err(io_err)?;
        }
        layer_names.push(name);
    }
    let tags: Vec<String> = tags.iter().map(|t| full_tag(t)).collect();
    let entry = ManifestEntry {
        config: config_name,
        repo_tags: (!tags.is_empty()).then(|| tags.clone()),
        layers: layer_names.clone(),
    };
    let mj = serde_json::to_vec(&[entry]).map_err(|e| FormatError::Io {
        path: "manifest.json".into(),
        source: e.into(),
    })?;
    tar.file("manifest.json", mj.len() as u64, &mj[..])
        .map_err(io_err)?;
    // The legacy `repositories` file: { repo: { tag: top layer id } }.
    let mut repos: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    if let Some(top) = layer_names.last() {
        for t in &tags {
            if let Some((repo, tag)) = t.rsplit_once(':')
                && !tag.contains('/')
            {
                repos
                    .entry(repo.to_owned())
                    .or_default()
                    .insert(tag.to_owned(), top.trim_end_matches(".tar").to_owned());
            }
        }
    }
    let rj = to_canonical_json(&repos);
    tar.file("repositories", rj.len() as u64, &rj[..])
        .map_err(io_err)?;
    tar.finish().map_err(io_err)
}

/// Write `image` as a docker-archive file (atomically). An existing file is replaced only
/// if it is a docker-archive.
///
/// # Errors
/// As [`write_docker_archive_to`], plus [`FormatError::DestinationNotOurs`].
pub fn write_docker_archive(
    image: &dyn Image,
    path: &Path,
    tags: &[String],
) -> Result<(), FormatError> {
    atomic::check_replaceable_archive(path, "manifest.json", "a docker-archive")?;
    let mut tmp = atomic::temp_file_for(path)?;
    {
        let w = io::BufWriter::new(tmp.as_file_mut());
        let mut w = write_docker_archive_to(image, tags, w)?;
        w.flush().map_err(|e| FormatError::io(path, e))?;
    }
    atomic::persist(tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_get_latest() {
        assert_eq!(full_tag("demo"), "demo:latest");
        assert_eq!(
            full_tag("localhost:5000/demo"),
            "localhost:5000/demo:latest"
        );
        assert_eq!(full_tag("demo:1"), "demo:1");
    }
}
