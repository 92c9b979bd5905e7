//! Reading one file's content: its layer is streamed again up to the entry the view's
//! [`Locator`] names, the bytes are copied out, and the rest of the layer is read so the
//! blob digest is still verified.

use std::io::{self, Read, Write};

use husk_oci::Layer;

use crate::error::ExploreError;
use crate::fs::Locator;
use crate::reader::{Limits, open_layer};

/// Copy the content at `loc` to `out`; returns the bytes copied.
///
/// # Errors
/// [`ExploreError::MissingContent`] when the layer has no such entry, layer read and
/// verification errors, and [`ExploreError::Write`] (named `what`) when `out` fails
/// (a closed pipe stays an `io::Error` of kind `BrokenPipe` in the chain).
pub fn copy_content<L: Layer, W: Write + ?Sized>(
    layers: &[L],
    loc: Locator,
    out: &mut W,
    what: &std::path::Path,
    limits: Limits,
) -> Result<u64, ExploreError> {
    let layer = layers.get(loc.layer).ok_or(ExploreError::NoSuchLayer {
        layer: loc.layer,
        count: layers.len(),
    })?;
    let mut reader = open_layer(layer, loc.layer, limits)?;
    loop {
        let Some(entry) = reader.next_entry()? else {
            return Err(ExploreError::MissingContent {
                layer: loc.layer,
                ordinal: loc.ordinal,
            });
        };
        if entry.ordinal != loc.ordinal {
            continue;
        }
        let mut buf = vec![0u8; 128 * 1024];
        let mut data = reader.data();
        let mut total = 0u64;
        loop {
            let n = match data.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(data.error(e)),
            };
            out.write_all(&buf[..n])
                .map_err(|e| ExploreError::write(what, e))?;
            total += n as u64;
        }
        out.flush().map_err(|e| ExploreError::write(what, e))?;
        reader.finish()?;
        return Ok(total);
    }
}
