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
    #[error(
        "{location} is a multi-platform index with no image for this machine ({host}); choose one with --platform (it has: {})",
        list(available)
    )]
    NoHostImage {
        location: String,
        host: String,
        available: Vec<String>,
    },
    #[error("{location} holds no image")]
    Empty { location: String },
}

/// Which image of a multi-platform index to take. Only an index is chosen from: an image
/// manifest is what it is, whatever the choice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PlatformChoice {
    /// The index's one image; an index of several is an error that lists them (the
    /// outputs of `husk build` that hold one image).
    #[default]
    Only,
    /// The image for this platform (`--platform`). A wanted platform without a variant
    /// matches any variant of its architecture.
    Exactly(Platform),
    /// The index's one image, or of several the one for the machine husk runs on, as
    /// docker, podman and skopeo pick (the reading commands without `--platform`).
    Host,
}

impl From<Option<Platform>> for PlatformChoice {
    fn from(p: Option<Platform>) -> Self {
        p.map_or(Self::Only, Self::Exactly)
    }
}

/// The platform of the machine husk runs on, as OCI names it (`linux/amd64`,
/// `linux/arm64`, ...; no variant, so it matches any).
pub fn host_platform() -> Platform {
    let architecture = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "arm",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        "powerpc64" => "ppc64",
        "riscv64" => "riscv64",
        "s390x" => "s390x",
        "loongarch64" => "loong64",
        "mips64" if cfg!(target_endian = "little") => "mips64le",
        other => other,
    };
    Platform {
        architecture: architecture.to_owned(),
        os: std::env::consts::OS.to_owned(),
        os_version: None,
        variant: None,
    }
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

/// Pick one image manifest of a (multi-platform) index as `choice` says. Attestation
/// manifests (platform `unknown/unknown`) are never picked.
///
/// # Errors
/// [`PlatformError::PlatformRequired`], [`PlatformError::PlatformNotFound`],
/// [`PlatformError::NoHostImage`] or [`PlatformError::Empty`], each naming `location`
/// and listing the platforms it has.
pub fn select_platform(
    index: &Index,
    choice: &PlatformChoice,
    location: &str,
) -> Result<Descriptor, PlatformError> {
    let images: Vec<&Descriptor> = index
        .manifests
        .iter()
        .filter(|d| !is_attestation(d))
        .collect();
    let available = || images.iter().map(|d| platform_name(d)).collect();
    let find = |w: &Platform| images.iter().find(|d| matches(d, w)).map(|d| (*d).clone());
    match (choice, images.as_slice()) {
        (PlatformChoice::Exactly(w), _) => find(w).ok_or_else(|| PlatformError::PlatformNotFound {
            location: location.to_owned(),
            wanted: w.to_string(),
            available: available(),
        }),
        (_, []) => Err(PlatformError::Empty {
            location: location.to_owned(),
        }),
        (_, [one]) => Ok((*one).clone()),
        (PlatformChoice::Only, _) => Err(PlatformError::PlatformRequired {
            location: location.to_owned(),
            available: available(),
        }),
        (PlatformChoice::Host, _) => {
            let host = host_platform();
            find(&host).ok_or_else(|| PlatformError::NoHostImage {
                location: location.to_owned(),
                host: host.to_string(),
                available: available(),
            })
        }
    }
}

/// Whether an index entry is an attestation manifest (BuildKit lists its provenance and
/// SBOMs under the platform `unknown/unknown`), not an image to run or read.
pub fn is_attestation(d: &Descriptor) -> bool {
    d.platform.as_ref().is_some_and(|p| p.os == "unknown")
}

/// Whether `d` is listed for `wanted` (any variant when `wanted` names none).
fn matches(d: &Descriptor, wanted: &Platform) -> bool {
    d.platform.as_ref().is_some_and(|p| {
        p.os == wanted.os
            && p.architecture == wanted.architecture
            && (wanted.variant.is_none() || p.variant == wanted.variant)
    })
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

    fn index(platforms: &[&str]) -> Index {
        let manifests = platforms
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut d = Descriptor::new(
                    crate::media::OCI_MANIFEST,
                    crate::Digest::sha256(&[u8::try_from(i).unwrap()]),
                    1,
                );
                d.platform = Some(parse_platform(p).unwrap());
                d
            })
            .collect();
        Index {
            schema_version: 2,
            media_type: None,
            manifests,
            annotations: Default::default(),
        }
    }

    fn pick(platforms: &[&str], choice: &PlatformChoice) -> Result<String, PlatformError> {
        select_platform(&index(platforms), choice, "oci:x").map(|d| d.platform.unwrap().to_string())
    }

    #[test]
    fn the_host_choice_takes_the_only_image_or_the_machines() {
        let host = host_platform().to_string();
        let exactly = |p: &str| PlatformChoice::Exactly(parse_platform(p).unwrap());
        // One image (attestations aside): every choice but a different --platform takes it.
        for choice in [PlatformChoice::Only, PlatformChoice::Host] {
            assert_eq!(pick(&["linux/s390x"], &choice).unwrap(), "linux/s390x");
            assert_eq!(
                pick(&["linux/s390x", "unknown/unknown"], &choice).unwrap(),
                "linux/s390x"
            );
        }
        assert!(matches!(
            pick(&["linux/s390x"], &exactly("linux/riscv64")),
            Err(PlatformError::PlatformNotFound { .. })
        ));
        // Several: Only asks, Host takes this machine's (any variant), Exactly the one named.
        let several = ["linux/s390x", &format!("{host}/v8"), "linux/riscv64"];
        assert!(matches!(
            pick(&several, &PlatformChoice::Only),
            Err(PlatformError::PlatformRequired { .. })
        ));
        assert_eq!(
            pick(&several, &PlatformChoice::Host).unwrap(),
            format!("{host}/v8")
        );
        assert_eq!(
            pick(&several, &exactly("linux/riscv64")).unwrap(),
            "linux/riscv64"
        );
        // Several, none for this machine: the error names it and lists what there is.
        let err = pick(&["linux/s390x", "linux/riscv64"], &PlatformChoice::Host).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "oci:x is a multi-platform index with no image for this machine ({host}); choose one with --platform (it has: linux/s390x, linux/riscv64)"
            )
        );
        for choice in [PlatformChoice::Only, PlatformChoice::Host] {
            assert!(matches!(
                pick(&["unknown/unknown"], &choice),
                Err(PlatformError::Empty { .. })
            ));
        }
    }
}
