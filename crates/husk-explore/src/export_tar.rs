//! Export a view (or a subtree of it) as one flattened tar: what the container sees, with
//! no whiteouts and no layers. Directories, symlinks and special files come first in tree
//! order, then regular files in layer order (each needed layer streamed once, content
//! copied straight through), each hard link right after the copy it links to. Modes and
//! owners are written as the view has them; names longer than ustar allows use the `tar`
//! crate's GNU long-name records, which every extractor reads. Extended attributes (file
//! capabilities among them) go before their entry as PAX `SCHILY.xattr.*` records, as
//! docker and podman write them. Device nodes and fifos are
//! written only when asked for (`devices`): a tar extracted as root would make them real.

use std::collections::{BTreeSet, HashMap};
use std::io::{self, Write};

use husk_layer::{EntryKind, ImagePath};
use husk_oci::Layer;

use crate::error::ExploreError;
use crate::extract::Skipped;
use crate::fs::{Filesystem, Locator, Node};
use crate::reader::{Limits, open_layer};
use crate::xattr::PAX_XATTR_PREFIX;

/// What [`export_tar`] wrote and left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TarExport {
    /// Entries written.
    pub entries: u64,
    /// Device nodes and fifos left out (without `devices`).
    pub skipped: Vec<Skipped>,
}

/// Write the view below `from` to `out` as a tar whose names are relative to `from`;
/// device nodes and fifos only when `devices`.
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
    devices: bool,
) -> Result<TarExport, ExploreError> {
    if fs.get(from).is_none() {
        return Err(ExploreError::NotFound { path: from.clone() });
    }
    let mut b = tar::Builder::new(out);
    let werr = |e: io::Error| ExploreError::write(what, e);
    let mut report = TarExport::default();
    let wanted = append_non_files(&mut b, fs, from, devices, &mut report).map_err(werr)?;
    report.entries += append_files(&mut b, layers, wanted, limits, what)?;
    b.into_inner().map_err(werr)?.flush().map_err(werr)?;
    Ok(report)
}

/// Paths (relative names) of the view that share one file's content.
type Wanted<'a> = HashMap<Locator, Vec<(String, &'a Node)>>;

/// Phase 1: directories, symlinks, devices and fifos (when `devices`) in tree order,
/// counted (and the skipped ones recorded) in `report`; returns the regular files to fetch,
/// by content locator.
fn append_non_files<'a, W: Write>(
    b: &mut tar::Builder<W>,
    fs: &'a Filesystem,
    from: &'a ImagePath,
    devices: bool,
    report: &mut TarExport,
) -> io::Result<Wanted<'a>> {
    let mut wanted = Wanted::new();
    for (p, node) in fs.walk(from) {
        let name = p.as_str()[from.as_str().len()..]
            .trim_start_matches('/')
            .to_owned();
        if name.is_empty() || node.marker.is_some() {
            continue;
        }
        if !devices && (node.kind.is_device() || node.kind == EntryKind::Fifo) {
            report.skipped.push(Skipped {
                path: p.to_string(),
                kind: node.kind.noun(),
                reason: "devices and fifos are written only with --devices".to_owned(),
            });
            continue;
        }
        if matches!(node.kind, EntryKind::File | EntryKind::Hardlink) {
            // The view holds hard links as the file they name (with its locator).
            if let Some(loc) = node.content {
                wanted.entry(loc).or_default().push((name, node));
            }
            continue;
        }
        let mut h = header_for(node);
        append_xattrs(b, node)?;
        match &node.kind {
            EntryKind::Dir => {
                h.set_entry_type(tar::EntryType::Directory);
                b.append_data(&mut h, format!("{name}/"), io::empty())?;
            }
            EntryKind::Symlink(target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                b.append_link(&mut h, &name, target)?;
            }
            EntryKind::Char | EntryKind::Block => {
                h.set_entry_type(if node.kind == EntryKind::Char {
                    tar::EntryType::Char
                } else {
                    tar::EntryType::Block
                });
                let dev = node.device.unwrap_or_default();
                h.set_device_major(dev.major)?;
                h.set_device_minor(dev.minor)?;
                b.append_data(&mut h, &name, io::empty())?;
            }
            EntryKind::Fifo => {
                h.set_entry_type(tar::EntryType::Fifo);
                b.append_data(&mut h, &name, io::empty())?;
            }
            EntryKind::File | EntryKind::Hardlink => unreachable!("handled above"),
        }
        report.entries += 1;
    }
    Ok(wanted)
}

/// Phase 2: regular files in layer order, each needed layer streamed once; every other
/// path with the same content follows its first copy as a hard link.
fn append_files<L: Layer, W: Write>(
    b: &mut tar::Builder<W>,
    layers: &[L],
    mut wanted: Wanted<'_>,
    limits: Limits,
    what: &std::path::Path,
) -> Result<u64, ExploreError> {
    let werr = |e: io::Error| ExploreError::write(what, e);
    let mut count = 0u64;
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
            append_xattrs(b, node).map_err(werr)?;
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
                append_xattrs(b, node).map_err(werr)?;
                b.append_link(&mut h, name, first).map_err(werr)?;
                count += 1;
            }
        }
        reader.finish()?;
    }
    Ok(count)
}

/// The node's extended attributes as a PAX header of `SCHILY.xattr.NAME` records, which
/// applies to the entry appended next; nothing when it has none.
fn append_xattrs<W: Write>(b: &mut tar::Builder<W>, node: &Node) -> io::Result<()> {
    let Some(x) = &node.xattrs else {
        return Ok(());
    };
    let records: Vec<(String, &[u8])> = x
        .iter()
        .map(|(name, value)| (format!("{PAX_XATTR_PREFIX}{name}"), value))
        .collect();
    b.append_pax_extensions(records.iter().map(|(k, v)| (k.as_str(), *v)))
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
