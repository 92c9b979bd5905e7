//! Artifacts attached to an image in an OCI layout directory (OCI 1.1 referrers): an
//! artifact manifest (an SBOM, a signature) whose `subject` is an image's manifest is
//! stored as an extra entry of `index.json` carrying its `artifactType`, with no ref name,
//! the layout equivalent of a registry's referrers API (image-spec `image-layout.md`,
//! distribution-spec "Listing Referrers").
//!
//! Readers that pick "the" image of a layout skip these entries (`select.rs`).

use std::fs;
use std::path::Path;

use husk_oci::{Descriptor, Digest, Index, Manifest, VerifyingReader};

use crate::FormatError;
use crate::atomic;

/// One blob of an artifact, in memory (artifacts are small documents).
pub struct ArtifactBlob<'a> {
    pub descriptor: &'a Descriptor,
    pub bytes: &'a [u8],
}

/// Adds an artifact to the layout at `dir` (which must hold the subject image): its
/// blobs and manifest are written (each verified against its descriptor first), then
/// `index.json` gains `entry` (the manifest's descriptor with its `artifactType`) unless
/// it is there already; `index.json` is replaced atomically.
///
/// # Errors
/// [`FormatError::NotALayout`] when `dir` is not a layout, a blob whose bytes do not match
/// its descriptor, or a write failure.
pub fn attach_to_oci_dir(
    dir: &Path,
    entry: &Descriptor,
    manifest: &[u8],
    blobs: &[ArtifactBlob<'_>],
) -> Result<(), FormatError> {
    if !crate::oci_layout::check_dir_destination(dir)? {
        return Err(FormatError::NotALayout {
            path: dir.to_path_buf(),
        });
    }
    for blob in blobs.iter().chain(std::iter::once(&ArtifactBlob {
        descriptor: entry,
        bytes: manifest,
    })) {
        write_small_blob(dir, blob)?;
    }
    let mut index = crate::oci_layout::read_dir_index(dir)?;
    if !index.manifests.iter().any(|d| d.digest == entry.digest) {
        index.manifests.push(entry.clone());
        crate::oci_layout::write_dir_index(dir, index.manifests)?;
    }
    Ok(())
}

fn write_small_blob(dir: &Path, blob: &ArtifactBlob<'_>) -> Result<(), FormatError> {
    let d = blob.descriptor;
    std::io::copy(
        &mut VerifyingReader::new(blob.bytes, d.digest.clone(), d.size),
        &mut std::io::sink(),
    )
    .map_err(|e| FormatError::io(dir.join(d.digest.blob_path()), e))?;
    let dest = dir.join(d.digest.blob_path());
    if dest.is_file() && fs::read(&dest).is_ok_and(|b| b == blob.bytes) {
        return Ok(());
    }
    let parent = atomic::parent_of(&dest);
    fs::create_dir_all(&parent).map_err(|e| FormatError::io(&parent, e))?;
    let mut tmp = atomic::temp_file_for(&dest)?;
    std::io::Write::write_all(tmp.as_file_mut(), blob.bytes)
        .map_err(|e| FormatError::io(tmp.path(), e))?;
    atomic::persist(tmp, &dest)
}

/// The artifacts in the layout at `dir` whose manifest names `subject` as its subject:
/// their index.json descriptors (with `artifactType`), in index order.
///
/// # Errors
/// The layout or an artifact manifest cannot be read or parsed.
pub fn referrers_in_oci_dir(dir: &Path, subject: &Digest) -> Result<Vec<Descriptor>, FormatError> {
    let index: Index = crate::oci_layout::read_dir_index(dir)?;
    let mut out = Vec::new();
    for desc in index.manifests {
        if desc.artifact_type.is_none() {
            continue;
        }
        let path = dir.join(desc.digest.blob_path());
        let bytes = read_capped(&path, desc.size)?;
        let manifest: Manifest = husk_oci::parse_manifest(&bytes, &path.display().to_string())?;
        if manifest
            .subject
            .as_ref()
            .is_some_and(|s| &s.digest == subject)
        {
            out.push(desc);
        }
    }
    Ok(out)
}

/// A blob of a layout whose descriptor says `size` (read only that size, plus one byte to
/// see a longer file), verified by the caller's parse.
fn read_capped(path: &Path, size: u64) -> Result<Vec<u8>, FormatError> {
    use std::io::Read;
    let f = fs::File::open(path).map_err(|e| FormatError::io(path, e))?;
    let mut bytes = Vec::new();
    f.take(size.min(4 << 20) + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| FormatError::io(path, e))?;
    if bytes.len() as u64 != size {
        return Err(FormatError::io(
            path,
            std::io::Error::other(format!(
                "the blob is not the {size} bytes its index.json descriptor says"
            )),
        ));
    }
    Ok(bytes)
}
