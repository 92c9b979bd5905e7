//! Multi-platform builds: one executable per platform, one image per platform, one OCI
//! image index over them.
//!
//! A platform enters the build in three places. The options name it (`--platform-exe
//! linux/arm64=PATH`, `--sysroot linux/arm64=DIR`, or a `[[platform]]` table of
//! `husk.toml`: [`PlatformSpec`]), checked into [`Platforms`] by [`check_platforms`]. Each
//! image's [`Target`] says which platform the user named for its program and where every
//! platform's libraries are looked up; the plan checks the named platform against the ELF
//! header (the header decides, a mismatch is an error naming the file) and resolves the
//! libraries against the sysroot of the header's platform, or the host's multiarch
//! directories, where the resolver skips every library of another machine. Finally
//! [`build_index`] builds the images in parallel and assembles the index. The layers that
//! do not depend on the architecture (passwd/group, CA bundle, /tmp, OS identity) come
//! from the same plan in every image, so they are byte-identical and stored once.

use std::path::PathBuf;

use husk_elf::{Arch, HostFs};
use husk_oci::{Image, OwnedIndex, Platform, parse_platform};
use serde::Deserialize;

use crate::BuildError;
use crate::build::{BuildOutput, Summary, build};
use crate::options::BuildRequest;
use crate::packages::Documents;
use crate::values::Setting;

/// One platform as the options give it: a `[[platform]]` table of `husk.toml`, or what
/// `--platform-exe PLATFORM=PATH` and `--sysroot PLATFORM=DIR` say about one platform.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformSpec {
    /// `OS/ARCH[/VARIANT]`, e.g. `linux/arm64`.
    pub platform: String,
    /// The executable for this platform.
    #[serde(default)]
    pub entrypoint: Option<PathBuf>,
    /// A directory holding this platform's root filesystem: its libraries are looked up
    /// there instead of on the host.
    #[serde(default)]
    pub sysroot: Option<PathBuf>,
}

/// The platforms the options name, checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Platforms {
    /// The executable of each platform named with one, in the order given.
    pub programs: Vec<(Platform, PathBuf)>,
    /// Where each platform's libraries are looked up, when not on the host.
    pub sysroots: Vec<(Platform, PathBuf)>,
}

/// What one image is for: the platform named for its program (none: its ELF header
/// decides alone) and every platform's sysroot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Target {
    pub expected: Option<Platform>,
    pub sysroots: Vec<(Platform, PathBuf)>,
}

impl Target {
    /// The sysroot of `arch`'s platform, if one was given.
    #[must_use]
    pub fn sysroot_for(&self, arch: Arch) -> Option<&PathBuf> {
        self.sysroots
            .iter()
            .find(|(p, _)| platform_is(p, arch))
            .map(|(_, dir)| dir)
    }
}

/// Whether `platform` names the ELF architecture `arch` (a variant, when given, must be
/// the one `arch` has).
#[must_use]
pub fn platform_is(platform: &Platform, arch: Arch) -> bool {
    platform.os == "linux"
        && platform.architecture == arch.oci_architecture()
        && platform
            .variant
            .as_deref()
            .is_none_or(|v| Some(v) == arch.oci_variant())
}

/// The architectures husk can name a platform for.
const ARCHITECTURES: &[&str] = &[
    "amd64", "arm64", "386", "arm", "ppc64le", "s390x", "riscv64",
];

/// `OS/ARCH[/VARIANT]` of a Linux architecture husk knows.
fn parse_target_platform(at: &Setting, value: &str) -> Result<Platform, BuildError> {
    let bad = |reason: &str| BuildError::BadPlatform {
        option: at.clone(),
        value: value.to_owned(),
        reason: reason.to_owned(),
    };
    let p =
        parse_platform(value).map_err(|_| bad("expected OS/ARCH[/VARIANT], e.g. linux/arm64"))?;
    if p.os != "linux" {
        return Err(bad("husk builds linux images; the OS must be linux"));
    }
    if !ARCHITECTURES.contains(&p.architecture.as_str()) {
        return Err(bad(&format!(
            "unknown architecture; use one of {}",
            ARCHITECTURES.join(", ")
        )));
    }
    Ok(p)
}

/// Check the `[[platform]]` tables (or the flags): valid platforms, at most one
/// executable and one sysroot per platform, and each table saying something.
///
/// # Errors
/// [`BuildError::BadPlatform`] and [`BuildError::DuplicatePlatform`], naming the option.
pub fn check_platforms(
    at: &Setting,
    specs: Option<Vec<PlatformSpec>>,
) -> Result<Platforms, BuildError> {
    let mut out = Platforms::default();
    for spec in specs.unwrap_or_default() {
        let platform = parse_target_platform(at, &spec.platform)?;
        if spec.entrypoint.is_none() && spec.sysroot.is_none() {
            return Err(BuildError::BadPlatform {
                option: at.clone(),
                value: spec.platform,
                reason: "it names neither an entrypoint nor a sysroot".into(),
            });
        }
        if let Some(exe) = spec.entrypoint {
            add_once(&mut out.programs, at, platform.clone(), exe, "executables")?;
        }
        if let Some(dir) = spec.sysroot {
            add_once(&mut out.sysroots, at, platform, dir, "sysroots")?;
        }
    }
    Ok(out)
}

fn add_once(
    list: &mut Vec<(Platform, PathBuf)>,
    at: &Setting,
    platform: Platform,
    path: PathBuf,
    what: &'static str,
) -> Result<(), BuildError> {
    if let Some((_, first)) = list.iter().find(|(p, _)| same_arch(p, &platform)) {
        return Err(BuildError::DuplicatePlatform {
            option: at.clone(),
            platform: platform.to_string(),
            what,
            files: Box::new((first.clone(), path)),
        });
    }
    list.push((platform, path));
    Ok(())
}

fn same_arch(a: &Platform, b: &Platform) -> bool {
    a.os == b.os && a.architecture == b.architecture
}

/// The images of a multi-platform build and their index.
pub struct IndexOutput {
    /// The index, over the images in the order their programs were given.
    pub index: OwnedIndex,
    /// What each build produced besides its image (in index order).
    pub summaries: Vec<Summary>,
    /// Each image's SBOM documents (in index order; empty without `--sbom`), each made
    /// from that image's own files and packages, named by its own manifest digest.
    pub documents: Vec<Documents>,
    _work: Vec<tempfile::TempDir>,
}

/// Build every request (one per platform) in parallel and assemble one OCI image index
/// over the images. Each image's platform is its ELF header's; two requests for the same
/// platform, or a machine with no OCI platform, are errors naming the files.
///
/// # Errors
/// The first request's build error (see [`crate::build`]), then
/// [`BuildError::DuplicatePlatform`], [`BuildError::UnsupportedMachine`] or
/// [`BuildError::Assemble`].
pub fn build_index(reqs: &[BuildRequest], fs: &dyn HostFs) -> Result<IndexOutput, BuildError> {
    let results: Vec<Result<BuildOutput, BuildError>> = std::thread::scope(|s| {
        let handles: Vec<_> = reqs.iter().map(|r| s.spawn(move || build(r, fs))).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(BuildError::Panicked)))
            .collect()
    });
    let mut outputs = Vec::with_capacity(results.len());
    for (req, result) in reqs.iter().zip(results) {
        let out = result?;
        let platform = &out.summary.platform;
        if platform.architecture == Arch::Other(0).oci_architecture() {
            return Err(BuildError::UnsupportedMachine {
                path: req.entrypoint.clone(),
            });
        }
        let earlier = reqs
            .iter()
            .zip(&outputs)
            .find(|(_, o): &(_, &BuildOutput)| same_arch(&o.summary.platform, platform));
        if let Some((first, _)) = earlier {
            return Err(BuildError::DuplicatePlatform {
                option: Setting::flag("--platform-exe", "platform"),
                platform: platform.to_string(),
                what: "executables",
                files: Box::new((first.entrypoint.clone(), req.entrypoint.clone())),
            });
        }
        outputs.push(out);
    }
    let mut images: Vec<Box<dyn Image>> = Vec::new();
    let mut summaries = Vec::new();
    let mut documents = Vec::new();
    let mut work = Vec::new();
    for out in outputs {
        let (image, summary, docs, dir) = out.into_parts();
        images.push(Box::new(image));
        summaries.push(summary);
        documents.push(docs);
        work.push(dir);
    }
    let annotations = reqs
        .first()
        .map(|r| r.config.annotations.clone())
        .unwrap_or_default();
    let index = OwnedIndex::assemble(images, annotations).map_err(BuildError::Assemble)?;
    Ok(IndexOutput {
        index,
        summaries,
        documents,
        _work: work,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(p: &str, exe: Option<&str>, sysroot: Option<&str>) -> PlatformSpec {
        PlatformSpec {
            platform: p.into(),
            entrypoint: exe.map(PathBuf::from),
            sysroot: sysroot.map(PathBuf::from),
        }
    }

    fn at() -> Setting {
        Setting::flag("--platform-exe", "platform")
    }

    #[test]
    fn platforms_are_checked() {
        let p = check_platforms(
            &at(),
            Some(vec![
                spec("linux/amd64", Some("/a"), None),
                spec("linux/arm64/v8", Some("/b"), Some("/root-arm64")),
            ]),
        )
        .unwrap();
        assert_eq!(p.programs.len(), 2);
        assert_eq!(p.programs[1].0.variant.as_deref(), Some("v8"));
        assert_eq!(p.sysroots[0].1, PathBuf::from("/root-arm64"));
        for (bad, why) in [
            ("arm64", "OS/ARCH"),
            ("windows/amd64", "linux"),
            ("linux/aarch64", "unknown architecture"),
            ("linux/", "OS/ARCH"),
        ] {
            let e = check_platforms(&at(), Some(vec![spec(bad, Some("/x"), None)])).unwrap_err();
            assert!(e.to_string().contains(why), "{bad}: {e}");
        }
        let e = check_platforms(&at(), Some(vec![spec("linux/arm64", None, None)])).unwrap_err();
        assert!(e.to_string().contains("neither"), "{e}");
    }

    #[test]
    fn two_executables_for_one_platform_are_refused() {
        let e = check_platforms(
            &at(),
            Some(vec![
                spec("linux/arm64", Some("/one"), None),
                spec("linux/arm64/v8", Some("/two"), None),
            ]),
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(text.contains("/one") && text.contains("/two"), "{text}");
    }

    #[test]
    fn platform_matches_the_elf_machine() {
        let arm = parse_platform("linux/arm64").unwrap();
        assert!(platform_is(&arm, Arch::Arm64));
        assert!(!platform_is(&arm, Arch::Amd64));
        assert!(platform_is(
            &parse_platform("linux/arm64/v8").unwrap(),
            Arch::Arm64
        ));
        assert!(!platform_is(
            &parse_platform("linux/arm64/v9").unwrap(),
            Arch::Arm64
        ));
        let t = Target {
            expected: None,
            sysroots: vec![(arm, PathBuf::from("/r"))],
        };
        assert_eq!(t.sysroot_for(Arch::Arm64), Some(&PathBuf::from("/r")));
        assert_eq!(t.sysroot_for(Arch::Amd64), None);
    }
}
