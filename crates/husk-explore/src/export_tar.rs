//! Export a view (or a subtree of it) as one flattened tar: what the container sees, with
//! no whiteouts and no layers. Directories, symlinks and special files come first in tree
//! order, then regular files in layer order (each needed layer streamed once, content
//! copied straight through), each hard link right after the copy it links to. Modes and
//! owners are written as the view has them; names longer than ustar allows use the `tar`
//! crate's GNU long-name records, which every extractor reads.

use std::collections::{BTreeSet, HashMap};
use std::io::{self, Write};

use husk_layer::ImagePath;
use husk_oci::Layer;

use crate::error::ExploreError;
use crate::fs::{Filesystem, Locator, Node, NodeKind};
use crate::reader::{Limits, open_layer};

/// Write the view below `from` to `out` as a tar whose names are relative to `from`.
/// Returns the number of entries written.
///
/// # Errors
/// [`ExploreError::NotFound`], layer read/verification errors, and
/// [`ExploreError::Write`] (named `what`) when `out` fails.
pub fn export_tar<L: Layer, W: Write>(
    layers: &[L],
    fs: &Filesystem,
    from: &ImagePath,
    out: W,
    what: &std::path::Path,
    limits: Limits,
) -> Result<u64, ExploreError> {
    if fs.get(from).is_none() {
        return Err(ExploreError::NotFound { path: from.clone() });
    }
    let werr = |e: io::Error| ExploreError::write(what, e);
    let mut b = tar::Builder::new(out);
    let mut count = 0u64;
    let rel = |p: &ImagePath| -> String {
        p.as_str()[from.as_str().len()..]
            .trim_start_matches('/')
            .to_owned()
    };
    let mut wanted: HashMap<Locator, Vec<(String, &Node)>> = HashMap::new();
    for (p, node) in fs.walk(from) {
        let name = rel(p);
        if name.is_empty() {
            continue;
        }
        let mut h = header_for(node);
        match &node.kind {
            NodeKind::Dir => {
                h.set_entry_type(tar::EntryType::Directory);
                b.append_data(&mut h, format!("{name}/"), io::empty())
                    .map_err(werr)?;
            }
            NodeKind::Symlink(target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                b.append_link(&mut h, &name, target).map_err(werr)?;
            }
            NodeKind::Char { major, minor } | NodeKind::Block { major, minor } => {
                h.set_entry_type(if matches!(node.kind, NodeKind::Char { .. }) {
                    tar::EntryType::Char
                } else {
                    tar::EntryType::Block
                });
                h.set_device_major(*major).map_err(werr)?;
                h.set_device_minor(*minor).map_err(werr)?;
                b.append_data(&mut h, &name, io::empty()).map_err(werr)?;
            }
            NodeKind::Fifo => {
                h.set_entry_type(tar::EntryType::Fifo);
                b.append_data(&mut h, &name, io::empty()).map_err(werr)?;
            }
            NodeKind::File => {
                if let Some(loc) = node.content {
                    wanted.entry(loc).or_default().push((name, node));
                }
                continue;
            }
            NodeKind::Whiteout | NodeKind::Opaque => continue,
        }
        count += 1;
    }
    let needed: BTreeSet<usize> = wanted.keys().map(|l| l.layer).collect();
    for layer_index in needed {
        let layer = layers.get(layer_index).ok_or(ExploreError::NoSuchLayer {
            layer: layer_index,
            count: layers.len(),
        })?;
        let mut left = wanted.keys().filter(|l| l.layer == layer_index).count();
        let mut reader = open_layer(layer, layer_index, limits)?;
        while left > 0 {
            let Some(entry) = reader.next_entry()? else {
                return Err(ExploreError::MissingContent {
                    layer: layer_index,
                    ordinal: 0,
                });
            };
            let Some(targets) = wanted.remove(&Locator {
                layer: layer_index,
                ordinal: entry.ordinal,
            }) else {
                continue;
            };
            left -= 1;
            let (first, node) = &targets[0];
            let mut h = header_for(node);
            h.set_entry_type(tar::EntryType::Regular);
            h.set_size(entry.size);
            let mut data = reader.data();
            let mut err = None;
            let r = b.append_data(
                &mut h,
                first,
                ReadTracking {
                    inner: &mut data,
                    err: &mut err,
                },
            );
            if let Some(e) = err {
                return Err(data.error(e));
            }
            r.map_err(werr)?;
            count += 1;
            for (name, node) in &targets[1..] {
                let mut h = header_for(node);
                h.set_entry_type(tar::EntryType::Link);
                b.append_link(&mut h, name, first).map_err(werr)?;
                count += 1;
            }
        }
        reader.finish()?;
    }
    b.into_inner().map_err(werr)?.flush().map_err(werr)?;
    Ok(count)
}

fn header_for(node: &Node) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_mode(node.mode);
    h.set_uid(node.uid);
    h.set_gid(node.gid);
    h.set_mtime(node.mtime);
    h.set_size(0);
    h
}

/// Remembers a read error of the layer stream, so it is reported as the layer's error
/// rather than as a failed write.
struct ReadTracking<'a, R> {
    inner: &'a mut R,
    err: &'a mut Option<io::Error>,
}

impl<R: io::Read> io::Read for ReadTracking<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => Ok(n),
            Err(e) => {
                let kind = e.kind();
                *self.err = Some(e);
                Err(io::Error::new(kind, "layer read failed"))
            }
        }
    }
}
