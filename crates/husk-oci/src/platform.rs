//! Platforms as the command line writes them (`OS/ARCH[/VARIANT]`) and the choice of one
//! image manifest of a multi-platform index by platform. Every source of indexes (OCI
//! layouts, registries) picks the same way, so this lives with the index model.

use crate::{Descriptor, Index, Platform};

/// Why no single image of an index could be chosen, or a platform string is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    #[error("invalid platform {platform:?}: expected OS/ARCH[/VARIANT], e.g. linux/amd64")]
    BadPlatform { platform: String },
    #[error(
        "{location} is a multi-platform index; choose one with --platform (it has: {})",
        list(available)
    )]
    PlatformRequired {
        location: String,
        available: Vec<String>,
    },
    #[error(
        "{location} has no image for platform {wanted}; it has: {}",
        list(available)
    )]
    PlatformNotFound {
        location: String,
        wanted: String,
        available: Vec<String>,
    },
    #[error("{location} holds no image")]
    Empty { location: String },
}

fn list(v: &[String]) -> String {
    if v.is_empty() {
        "nothing".into()
    } else {
        v.join(", ")
    }
}

/// Parse `OS/ARCH[/VARIANT]`.
///
/// # Errors
/// [`PlatformError::BadPlatform`] when the string is not of that form.
pub fn parse_platform(s: &str) -> Result<Platform, PlatformError> {
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
        _ => Err(PlatformError::BadPlatform {
            platform: s.to_owned(),
        }),
    }
}

/// The platforms an index lists (`unspecified` for an entry without one), in order.
pub fn platforms_of(index: &Index) -> Vec<String> {
    index.manifests.iter().map(platform_name).collect()
}

fn platform_name(d: &Descriptor) -> String {
    d.platform
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_else(|| "unspecified".into())
}

/// Pick one image manifest of a (multi-platform) index by platform. Without a wanted
/// platform, an index of exactly one image gives that image; otherwise the error lists
/// what the index has. Attestation manifests (platform `unknown/unknown`) are skipped.
///
/// # Errors
/// [`PlatformError::PlatformRequired`], [`PlatformError::PlatformNotFound`] or
/// [`PlatformError::Empty`], each naming `location` and listing the platforms it has.
pub fn select_platform(
    index: &Index,
    wanted: Option<&Platform>,
    location: &str,
) -> Result<Descriptor, PlatformError> {
    let images: Vec<&Descriptor> = index
        .manifests
        .iter()
        .filter(|d| d.platform.as_ref().is_none_or(|p| p.os != "unknown"))
        .collect();
    let available: Vec<String> = images.iter().map(|d| platform_name(d)).collect();
    match wanted {
        None => match images.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(PlatformError::Empty {
                location: location.to_owned(),
            }),
            _ => Err(PlatformError::PlatformRequired {
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
            .ok_or_else(|| PlatformError::PlatformNotFound {
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
