//! The one place an image argument of a reading command (validate, inspect, ls, audit,
//! ...) becomes an image: parsed into a `husk_transport::ImageRef` and opened through
//! the Context, so every reading command takes every form, `docker://` included.

use anyhow::Result;
use husk_oci::Image;
use husk_transport::{Context, ImageRef};

/// Parse `reference` and `platform` (`OS/ARCH[/VARIANT]`) and open the image.
pub fn open_image(
    ctx: &Context,
    reference: &str,
    platform: Option<&str>,
) -> Result<(ImageRef, Box<dyn Image>)> {
    let parsed: ImageRef = reference.parse()?;
    let platform = platform.map(husk_oci::parse_platform).transpose()?;
    let image = ctx.open(&parsed, platform.as_ref())?;
    Ok((parsed, image))
}
