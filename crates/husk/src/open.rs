//! The one place an image reference string from the command line becomes an image.
//! Every command that reads an image (validate, inspect, ls, audit, ...) calls
//! [`open_image`], so a new medium is added here once.

use anyhow::{Context, Result};
use husk_formats::ImageRef;
use husk_oci::Image;

/// Parse `reference` and `platform` (`OS/ARCH[/VARIANT]`) and open the image.
pub fn open_image(reference: &str, platform: Option<&str>) -> Result<(ImageRef, Box<dyn Image>)> {
    let parsed: ImageRef = reference.parse()?;
    let platform = platform.map(husk_formats::parse_platform).transpose()?;
    if let ImageRef::Registry(r) = &parsed {
        // Lazy: the manifest now, each blob only when a command reads it.
        let image = crate::registry::open(r, platform.as_ref())?;
        return Ok((parsed, Box::new(image)));
    }
    let image = husk_formats::open(&parsed, platform.as_ref())
        .with_context(|| format!("cannot open {parsed}"))?;
    Ok((parsed, image))
}
