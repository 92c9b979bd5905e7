//! The one place an image argument of a reading command (validate, inspect, ls, audit,
//! ...) becomes an image: parsed into a `husk_transport::ImageRef` and opened through
//! the Context, so every reading command takes every form, `docker://` included.

use anyhow::Result;
use husk_oci::{Image, OwnedIndex, Platform, PlatformChoice};
use husk_transport::{Context, ImageRef};

/// `--platform P` as a choice: exactly that platform's image.
pub fn exactly(platform: &str) -> Result<PlatformChoice> {
    Ok(PlatformChoice::Exactly(husk_oci::parse_platform(platform)?))
}

/// Parse `reference` and `platform` (`OS/ARCH[/VARIANT]`) and open the image. Of a
/// multi-platform index without `platform`, the image for this machine is opened (its
/// only image when it has one), as docker, podman and skopeo pick.
pub fn open_image(
    ctx: &Context,
    reference: &str,
    platform: Option<&str>,
) -> Result<(ImageRef, Box<dyn Image>)> {
    let parsed: ImageRef = reference.parse()?;
    let choice = platform.map(exactly).transpose()?;
    let image = ctx.open(&parsed, &choice.unwrap_or(PlatformChoice::Host))?;
    Ok((parsed, image))
}

/// The images of `index` with the platform each is listed under (attestations skipped),
/// or only the one `choice` selects.
pub fn index_entries<'a>(
    index: &'a OwnedIndex,
    choice: Option<&PlatformChoice>,
) -> Result<Vec<(Option<Platform>, &'a dyn Image)>> {
    let wanted = match choice {
        Some(c) => Some(husk_oci::select_platform(index.document(), c, index.location())?.digest),
        None => None,
    };
    let mut out = Vec::new();
    for image in index.images() {
        let digest = image.digest()?;
        if wanted.as_ref().is_some_and(|w| *w != digest) {
            continue;
        }
        let Some(desc) = index
            .document()
            .manifests
            .iter()
            .find(|d| d.digest == digest)
        else {
            continue;
        };
        if husk_oci::is_attestation(desc) {
            continue;
        }
        out.push((desc.platform.clone(), image.as_ref()));
    }
    Ok(out)
}
