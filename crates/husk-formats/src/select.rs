//! Choosing one image from a layout's index.json by ref-name annotation (by platform is
//! `husk_oci::select_platform`, shared with registries).

use husk_oci::{Descriptor, Index, media};

use crate::FormatError;

pub(crate) fn is_index(desc: &Descriptor) -> bool {
    matches!(
        desc.media_type.as_str(),
        media::OCI_INDEX | media::DOCKER_MANIFEST_LIST
    )
}

fn ref_name(desc: &Descriptor) -> Option<&str> {
    desc.annotations
        .get(media::ANNOTATION_REF_NAME)
        .map(String::as_str)
}

/// The entries that are images or indexes, not artifacts (which have an `artifactType`).
fn images_of(index: &Index) -> Vec<&Descriptor> {
    index
        .manifests
        .iter()
        .filter(|d| d.artifact_type.is_none())
        .collect()
}

/// Pick the descriptor named `reference` (its ref-name annotation), or the only one.
pub(crate) fn by_reference(
    index: &Index,
    reference: Option<&str>,
    location: &str,
) -> Result<Descriptor, FormatError> {
    let available: Vec<String> = index
        .manifests
        .iter()
        .map(|d| {
            ref_name(d)
                .map(str::to_owned)
                .unwrap_or_else(|| d.digest.to_string())
        })
        .collect();
    match reference {
        Some(r) => index
            .manifests
            .iter()
            .find(|d| ref_name(d) == Some(r) || d.digest.to_string() == r)
            .cloned()
            .ok_or_else(|| FormatError::RefNotFound {
                location: location.to_owned(),
                reference: r.to_owned(),
                available,
            }),
        // Artifacts attached to an image (an SBOM whose `subject` is it) are not images
        // to open: without a name, only the images count.
        None => match images_of(index).as_slice() {
            [] => Err(FormatError::Empty {
                location: location.to_owned(),
            }),
            [one] => Ok((*one).clone()),
            many => Err(FormatError::AmbiguousImage {
                location: location.to_owned(),
                count: many.len(),
                available,
            }),
        },
    }
}
