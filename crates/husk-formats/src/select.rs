//! Choosing one image from an index: by ref-name annotation, then by platform.

use husk_oci::{Descriptor, Index, Platform, media};

use crate::FormatError;

/// Parse `OS/ARCH[/VARIANT]`.
///
/// # Errors
/// [`FormatError::BadPlatform`] when the string is not of that form.
pub fn parse_platform(s: &str) -> Result<Platform, FormatError> {
    let parts: Vec<&str> = s.split('/').collect();
    let ok = |p: &&str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
    };
    match parts.as_slice() {
        [os, arch] | [os, arch, _] if parts.iter().all(ok) => Ok(Platform {
            os: (*os).to_owned(),
            architecture: (*arch).to_owned(),
            os_version: None,
            variant: parts.get(2).map(|v| (*v).to_owned()),
        }),
        _ => Err(FormatError::BadPlatform {
            platform: s.to_owned(),
        }),
    }
}

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
        None => match index.manifests.as_slice() {
            [] => Err(FormatError::Empty {
                location: location.to_owned(),
            }),
            [one] => Ok(one.clone()),
            many => Err(FormatError::AmbiguousImage {
                location: location.to_owned(),
                count: many.len(),
                available,
            }),
        },
    }
}

/// Pick one image manifest of a (multi-platform) index by platform (for sources outside
/// this crate, e.g. registries): see [`by_platform`].
///
/// # Errors
/// [`FormatError::PlatformRequired`], [`FormatError::PlatformNotFound`] or
/// [`FormatError::Empty`], each listing the platforms the index has.
pub fn select_platform(
    index: &Index,
    wanted: Option<&Platform>,
    location: &str,
) -> Result<Descriptor, FormatError> {
    by_platform(index, wanted, location)
}

/// Pick one image manifest of a (multi-platform) index by platform. Without a wanted
/// platform, an index of exactly one image gives that image; otherwise the error lists
/// what the index has.
pub(crate) fn by_platform(
    index: &Index,
    wanted: Option<&Platform>,
    location: &str,
) -> Result<Descriptor, FormatError> {
    let images: Vec<&Descriptor> = index
        .manifests
        .iter()
        // Attestation manifests (buildx) carry platform unknown/unknown; skip them.
        .filter(|d| d.platform.as_ref().is_none_or(|p| p.os != "unknown"))
        .collect();
    let available: Vec<String> = images
        .iter()
        .map(|d| {
            d.platform
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_else(|| "unspecified".into())
        })
        .collect();
    match wanted {
        None => match images.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(FormatError::Empty {
                location: location.to_owned(),
            }),
            _ => Err(FormatError::PlatformRequired {
                location: location.to_owned(),
                available,
            }),
        },
        Some(w) => images
            .iter()
            .find(|d| {
                d.platform.as_ref().is_some_and(|p| {
                    p.os == w.os
                        && p.architecture == w.architecture
                        && (w.variant.is_none() || p.variant == w.variant)
                })
            })
            .map(|d| (*d).clone())
            .ok_or_else(|| FormatError::PlatformNotFound {
                location: location.to_owned(),
                wanted: w.to_string(),
                available,
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms() {
        let p = parse_platform("linux/arm64/v8").unwrap();
        assert_eq!(p.to_string(), "linux/arm64/v8");
        for bad in ["", "linux", "linux/", "/amd64", "a/b/c/d", "linux/am d64"] {
            assert!(parse_platform(bad).is_err(), "{bad:?}");
        }
    }
}
