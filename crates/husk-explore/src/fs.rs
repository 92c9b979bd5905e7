//! [`Filesystem`]: the merged view of an image, built by streaming each layer once.
//!
//! Layers are applied bottom first per image-spec `layer.md`: within one layer the opaque
//! markers and whiteouts are applied first (to the lower layers only, wherever they appear in
//! the tar), then the entries in tar order. An entry over an existing path replaces it
//! (and its subtree), except that a directory over a directory only takes the new
//! attributes. A parent that is missing is created implicitly; a parent that is a symlink to
//! a directory (or to nothing yet) is followed *inside the image*, as container runtimes do
//! when they apply a layer; a parent that is anything else is replaced by a directory.
//!
//! Memory is one [`Node`] per visible path: content is never held, only a [`Locator`]
//! (layer, entry ordinal), so `cat`/`extract` stream the layer again to fetch it.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::ops::Bound;

use husk_layer::{Device, EntryKind, ImagePath, resolve_link_target};
use husk_oci::{Algorithm, Digest, Hasher, Layer};

use crate::error::ExploreError;
use crate::reader::{Limits, TarEntry, TarReader, open_layer};
use crate::whiteout::{Marker, MarkerKind, classify};

/// Symlinks followed while resolving one path (Linux `MAXSYMLINKS`).
pub const MAX_SYMLINK_HOPS: usize = 40;

/// Where a file's content is: the `ordinal`-th entry of layer `layer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Locator {
    pub layer: usize,
    pub ordinal: u64,
}

/// One path of the view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// What the path is. A hard link shows as the [`EntryKind::File`] it names (with
    /// [`Node::hardlink`] set); the merged view never holds [`EntryKind::Hardlink`].
    pub kind: EntryKind,
    /// A device's numbers.
    pub device: Option<Device>,
    /// Only in a single-layer view: the entry is a whiteout or opaque marker (a file).
    pub marker: Option<MarkerKind>,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// Content bytes (regular files), else 0.
    pub size: u64,
    pub mtime: u64,
    /// The layer that last wrote this path.
    pub layer: usize,
    /// Where a regular file's bytes are (shared by hard links).
    pub content: Option<Locator>,
    /// For a hard link: the path it was linked to.
    pub hardlink: Option<ImagePath>,
    /// sha256 of the content, when the view was built with hashing.
    pub digest: Option<Digest>,
    /// A directory no layer has an entry for (created for an entry below it).
    pub implicit: bool,
}

impl Node {
    fn implicit_dir(layer: usize) -> Node {
        Node {
            kind: EntryKind::Dir,
            device: None,
            marker: None,
            mode: 0o755,
            uid: 0,
            gid: 0,
            size: 0,
            mtime: 0,
            layer,
            content: None,
            hardlink: None,
            digest: None,
            implicit: true,
        }
    }

    pub fn is_dir(&self) -> bool {
        self.kind.is_dir()
    }

    /// Whether this is a regular file (hard links included) and not a whiteout marker.
    pub fn is_file(&self) -> bool {
        self.kind == EntryKind::File && self.marker.is_none()
    }

    /// A one- or two-word description for messages (markers by what they mean).
    pub fn noun(&self) -> &'static str {
        match self.marker {
            Some(MarkerKind::Whiteout) => "whiteout",
            Some(MarkerKind::Opaque) => "opaque marker",
            None => self.kind.noun(),
        }
    }

    /// The `ls -l` type letter (`w` for whiteout and opaque markers).
    pub fn letter(&self) -> char {
        match self.marker {
            Some(_) => 'w',
            None => self.kind.letter(),
        }
    }
}

/// How to build a view.
#[derive(Debug, Clone, Copy, Default)]
pub struct ViewOptions {
    pub limits: Limits,
    /// Hash every regular file's content while streaming (for `diff`).
    pub hash: bool,
}

/// Per-layer figures gathered while streaming.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayerStats {
    pub index: usize,
    /// Entries (not counting PAX / long-name records).
    pub entries: u64,
    pub files: u64,
    pub dirs: u64,
    pub symlinks: u64,
    pub hardlinks: u64,
    pub whiteouts: u64,
    pub opaques: u64,
    /// Bytes of regular-file content this layer adds.
    pub added_bytes: u64,
    /// Size of the uncompressed tar stream.
    pub tar_bytes: u64,
}

/// A path key ordered component-wise (`/` sorts before every other byte), so a directory is
/// immediately followed by everything below it: `/a`, `/a/b`, `/a-b`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key(ImagePath);

impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (self.0.as_str().as_bytes(), other.0.as_str().as_bytes());
        for (x, y) in a.iter().zip(b) {
            if x != y {
                return match (*x == b'/', *y == b'/') {
                    (true, _) => Ordering::Less,
                    (_, true) => Ordering::Greater,
                    _ => x.cmp(y),
                };
            }
        }
        a.len().cmp(&b.len())
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The merged (or single-layer) filesystem view of an image.
#[derive(Debug, Clone, Default)]
pub struct Filesystem {
    nodes: BTreeMap<Key, Node>,
    layers: Vec<LayerStats>,
    single_layer: Option<usize>,
}

impl Filesystem {
    /// The merged view of `layers` (bottom first), streaming each layer once.
    ///
    /// # Errors
    /// Read, limit, name and whiteout errors of the layers (naming the layer), blob
    /// verification errors, [`ExploreError::RootNotDirectory`] and
    /// [`ExploreError::HardlinkTarget`].
    pub fn build<L: Layer>(layers: &[L], opts: ViewOptions) -> Result<Filesystem, ExploreError> {
        let mut fs = Filesystem::empty();
        for (index, layer) in layers.iter().enumerate() {
            let reader = open_layer(layer, index, opts.limits)?;
            fs.apply_layer(reader, opts.hash)?;
        }
        Ok(fs)
    }

    /// The view of layer `index` alone: its own entries, whiteouts and opaque markers
    /// shown as entries, directories it does not list created implicitly.
    ///
    /// # Errors
    /// [`ExploreError::NoSuchLayer`] and the errors of [`Filesystem::build`].
    pub fn layer_view<L: Layer>(
        layers: &[L],
        index: usize,
        opts: ViewOptions,
    ) -> Result<Filesystem, ExploreError> {
        let layer = layers.get(index).ok_or(ExploreError::NoSuchLayer {
            layer: index,
            count: layers.len(),
        })?;
        let mut fs = Filesystem::empty();
        fs.single_layer = Some(index);
        let mut reader = open_layer(layer, index, opts.limits)?;
        let mut stats = LayerStats {
            index,
            ..LayerStats::default()
        };
        while let Some(entry) = reader.next_entry()? {
            let marker = classify(&entry, index)?;
            let digest = digest_of(&mut reader, &entry, opts.hash)?;
            count(&mut stats, &entry, marker.as_ref());
            let mut node = fs.node_for(&entry, index, digest);
            if let Some(target) = &entry.hardlink {
                node.hardlink = Some(target.clone());
                node.content = fs.get(target).and_then(|n| n.content);
            }
            node.marker = marker.as_ref().map(Marker::kind);
            if entry.path.is_root() && !node.is_dir() {
                return Err(ExploreError::RootNotDirectory {
                    layer: index,
                    path: entry.path,
                });
            }
            for a in entry.path.ancestors() {
                fs.nodes
                    .entry(Key(a))
                    .or_insert_with(|| Node::implicit_dir(index));
            }
            fs.nodes.insert(Key(entry.path), node);
        }
        stats.tar_bytes = reader.finish()?;
        fs.layers.push(stats);
        Ok(fs)
    }

    fn empty() -> Filesystem {
        let mut nodes = BTreeMap::new();
        nodes.insert(Key(ImagePath::root()), Node::implicit_dir(0));
        Filesystem {
            nodes,
            layers: Vec::new(),
            single_layer: None,
        }
    }

    /// Apply one more layer on top (the next index).
    fn apply_layer<R: Read>(
        &mut self,
        mut reader: TarReader<R>,
        hash: bool,
    ) -> Result<(), ExploreError> {
        let mut staged = Staged::new(reader.layer());
        while let Some(entry) = reader.next_entry()? {
            let marker = classify(&entry, staged.stats.index)?;
            let digest = match marker {
                None => digest_of(&mut reader, &entry, hash)?,
                Some(_) => None,
            };
            staged.push(entry, marker, digest);
        }
        staged.stats.tar_bytes = reader.finish()?;
        self.apply_staged(staged)
    }

    /// The merged view of synthetic layers (bottom first), each a list of tar entries in
    /// tar order, merged exactly as streamed layers are: whiteouts and opaque markers, hard
    /// links, parents created or followed. Content locators are (layer, the entry's
    /// `ordinal`); nothing is hashed and `tar_bytes` stays 0. For tests and tools that hold
    /// entries rather than tar streams.
    ///
    /// # Errors
    /// As [`Filesystem::build`] for the entries themselves: whiteout, root and hard link
    /// errors naming the layer.
    pub fn from_entries<I, J>(layers: I) -> Result<Filesystem, ExploreError>
    where
        I: IntoIterator<Item = J>,
        J: IntoIterator<Item = TarEntry>,
    {
        let mut fs = Filesystem::empty();
        for (index, entries) in layers.into_iter().enumerate() {
            let mut staged = Staged::new(index);
            for entry in entries {
                let marker = classify(&entry, index)?;
                staged.push(entry, marker, None);
            }
            fs.apply_staged(staged)?;
        }
        Ok(fs)
    }

    /// Apply one layer's classified entries on top: opaque markers first, then whiteouts
    /// (both hide lower layers only, wherever they stand in the tar, so they are applied
    /// before any entry of this layer lands), then the entries in tar order.
    fn apply_staged(&mut self, mut staged: Staged) -> Result<(), ExploreError> {
        let index = staged.stats.index;
        staged
            .markers
            .sort_by_key(|m| matches!(m, Marker::Whiteout(_)));
        for m in staged.markers {
            match m {
                Marker::Opaque(dir) => self.remove_below(&dir),
                Marker::Whiteout(path) => {
                    if !path.is_root() {
                        self.remove_below(&path);
                        self.nodes.remove(&Key(path));
                    }
                }
            }
        }
        for (entry, digest) in staged.entries {
            self.insert(entry, index, digest)?;
        }
        self.layers.push(staged.stats);
        Ok(())
    }

    fn node_for(&self, entry: &TarEntry, layer: usize, digest: Option<Digest>) -> Node {
        let file = entry.kind == EntryKind::File;
        let kind = match entry.kind {
            // A hard link is the file it names; `insert` fills in that file's content.
            EntryKind::Hardlink => EntryKind::File,
            ref k => k.clone(),
        };
        Node {
            kind,
            device: entry.device,
            marker: None,
            mode: entry.mode,
            uid: entry.uid,
            gid: entry.gid,
            size: if file { entry.size } else { 0 },
            mtime: entry.mtime,
            layer,
            content: file.then_some(Locator {
                layer,
                ordinal: entry.ordinal,
            }),
            hardlink: None,
            digest,
            implicit: false,
        }
    }

    fn insert(
        &mut self,
        entry: TarEntry,
        layer: usize,
        digest: Option<Digest>,
    ) -> Result<(), ExploreError> {
        let path = self.place(&entry.path, layer)?;
        let mut node = self.node_for(&entry, layer, digest);
        if let Some(target) = &entry.hardlink {
            let missing = || ExploreError::HardlinkTarget {
                layer,
                path: path.clone(),
                target: target.to_string(),
            };
            let resolved = self.resolve(target, false).map_err(|_| missing())?;
            let t = self.get(&resolved).ok_or_else(missing)?;
            if t.kind != EntryKind::File || t.content.is_none() {
                return Err(missing());
            }
            node.size = t.size;
            node.content = t.content;
            node.digest = t.digest.clone();
            node.hardlink = Some(resolved);
        }
        if path.is_root() && !node.is_dir() {
            return Err(ExploreError::RootNotDirectory {
                layer,
                path: entry.path,
            });
        }
        let key = Key(path);
        match self.nodes.get_mut(&key) {
            Some(existing) if existing.is_dir() && node.is_dir() => *existing = node,
            Some(_) => {
                self.remove_below(&key.0);
                self.nodes.insert(key, node);
            }
            None => {
                self.nodes.insert(key, node);
            }
        }
        Ok(())
    }

    /// Where an entry for `path` lands: missing parents are created, a parent symlink to a
    /// directory is followed inside the image, any other non-directory parent is replaced.
    fn place(&mut self, path: &ImagePath, layer: usize) -> Result<ImagePath, ExploreError> {
        let mut cur = path.clone();
        let mut hops = 0;
        'restart: loop {
            let ancestors: Vec<ImagePath> = cur.ancestors().collect();
            for a in ancestors {
                let key = Key(a);
                match self.nodes.get(&key).map(|n| &n.kind) {
                    None => {
                        self.nodes.insert(key, Node::implicit_dir(layer));
                    }
                    Some(EntryKind::Dir) => {}
                    Some(EntryKind::Symlink(_)) => {
                        hops += 1;
                        // Follow it to a directory, or to nothing (created below, as
                        // runtimes do); a link to a non-directory is replaced.
                        let target = self
                            .resolve(&key.0, true)
                            .ok()
                            .filter(|t| self.get(t).is_none_or(Node::is_dir))
                            .filter(|_| hops <= MAX_SYMLINK_HOPS);
                        if let Some(t) = target {
                            let rest = &cur.as_str()[key.0.as_str().len()..];
                            let rest = rest.trim_start_matches('/');
                            cur = t.join(rest).map_err(|source| ExploreError::BadName {
                                layer,
                                name: path.to_string(),
                                source,
                            })?;
                            continue 'restart;
                        }
                        self.nodes.insert(key, Node::implicit_dir(layer));
                    }
                    Some(_) => {
                        self.nodes.insert(key, Node::implicit_dir(layer));
                    }
                }
            }
            return Ok(cur);
        }
    }

    fn remove_below(&mut self, dir: &ImagePath) {
        let doomed: Vec<Key> = self
            .nodes
            .range((Bound::Excluded(Key(dir.clone())), Bound::Unbounded))
            .map(|(k, _)| k)
            .take_while(|k| k.0.starts_with(dir))
            .cloned()
            .collect();
        for k in doomed {
            self.nodes.remove(&k);
        }
    }

    /// The node at exactly `path` (no links followed).
    pub fn get(&self, path: &ImagePath) -> Option<&Node> {
        self.nodes.get(&Key(path.clone()))
    }

    /// Resolve `path` inside the image root: symlinks in parent components are followed
    /// (and the last one too with `follow_last`), `..` in targets is clamped at the root;
    /// nothing on the host is consulted. The result may not exist.
    ///
    /// # Errors
    /// [`ExploreError::SymlinkLoop`] after [`MAX_SYMLINK_HOPS`] links,
    /// [`ExploreError::BadLinkTarget`] for a target that is not a valid path.
    pub fn resolve(&self, path: &ImagePath, follow_last: bool) -> Result<ImagePath, ExploreError> {
        let mut done = ImagePath::root();
        let mut rest: Vec<String> = path.components().map(str::to_owned).collect();
        rest.reverse();
        let mut hops = 0;
        while let Some(c) = rest.pop() {
            let next = done
                .join(&c)
                .map_err(|source| ExploreError::BadLinkTarget {
                    path: path.clone(),
                    source,
                })?;
            match self.get(&next).map(|n| &n.kind) {
                Some(EntryKind::Symlink(target)) if follow_last || !rest.is_empty() => {
                    hops += 1;
                    if hops > MAX_SYMLINK_HOPS {
                        return Err(ExploreError::SymlinkLoop {
                            path: path.clone(),
                            limit: MAX_SYMLINK_HOPS,
                        });
                    }
                    let t = resolve_link_target(&next, target).map_err(|source| {
                        ExploreError::BadLinkTarget {
                            path: next.clone(),
                            source,
                        }
                    })?;
                    let mut more: Vec<String> = t.components().map(str::to_owned).collect();
                    more.reverse();
                    rest.extend(more);
                    done = ImagePath::root();
                }
                _ => done = next,
            }
        }
        Ok(done)
    }

    /// Resolve `path` and return the node there.
    ///
    /// # Errors
    /// [`ExploreError::NotFound`] and the errors of [`Filesystem::resolve`].
    pub fn lookup(
        &self,
        path: &ImagePath,
        follow_last: bool,
    ) -> Result<(ImagePath, &Node), ExploreError> {
        let resolved = self.resolve(path, follow_last)?;
        match self.get(&resolved) {
            Some(n) => Ok((resolved, n)),
            None => Err(ExploreError::NotFound { path: path.clone() }),
        }
    }

    /// Every path at or below `root`, in tree order (a directory before its contents).
    pub fn walk<'a>(
        &'a self,
        root: &'a ImagePath,
    ) -> impl Iterator<Item = (&'a ImagePath, &'a Node)> + 'a {
        self.nodes
            .range((Bound::Included(Key(root.clone())), Bound::Unbounded))
            .take_while(move |(k, _)| k.0.starts_with(root))
            .map(|(k, n)| (&k.0, n))
    }

    /// The direct children of `dir`, sorted by name.
    pub fn children<'a>(
        &'a self,
        dir: &'a ImagePath,
    ) -> impl Iterator<Item = (&'a ImagePath, &'a Node)> + 'a {
        self.walk(dir)
            .skip(1)
            .filter(move |(p, _)| p.parent().as_ref() == Some(dir))
    }

    /// Number of paths in the view (the root included).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.len() <= 1
    }

    /// Per-layer figures, bottom first (one entry for a single-layer view).
    pub fn layer_stats(&self) -> &[LayerStats] {
        &self.layers
    }

    /// The layer a single-layer view shows.
    pub fn single_layer(&self) -> Option<usize> {
        self.single_layer
    }

    /// Every distinct content locator visible in the view, with its size.
    pub fn visible_content(&self) -> impl Iterator<Item = (Locator, u64)> + '_ {
        let mut seen = HashSet::new();
        self.nodes.values().filter_map(move |n| {
            let loc = n.content?;
            seen.insert(loc).then_some((loc, n.size))
        })
    }
}

/// One layer read and classified, not yet applied.
struct Staged {
    stats: LayerStats,
    markers: Vec<Marker>,
    entries: Vec<(TarEntry, Option<Digest>)>,
}

impl Staged {
    fn new(index: usize) -> Staged {
        Staged {
            stats: LayerStats {
                index,
                ..LayerStats::default()
            },
            markers: Vec::new(),
            entries: Vec::new(),
        }
    }

    fn push(&mut self, entry: TarEntry, marker: Option<Marker>, digest: Option<Digest>) {
        count(&mut self.stats, &entry, marker.as_ref());
        match marker {
            Some(m) => self.markers.push(m),
            None => self.entries.push((entry, digest)),
        }
    }
}

fn count(stats: &mut LayerStats, entry: &TarEntry, marker: Option<&Marker>) {
    stats.entries += 1;
    match (marker, &entry.kind) {
        (Some(Marker::Whiteout(_)), _) => stats.whiteouts += 1,
        (Some(Marker::Opaque(_)), _) => stats.opaques += 1,
        (None, EntryKind::File) => {
            stats.files += 1;
            stats.added_bytes += entry.size;
        }
        (None, EntryKind::Dir) => stats.dirs += 1,
        (None, EntryKind::Symlink(_)) => stats.symlinks += 1,
        (None, EntryKind::Hardlink) => stats.hardlinks += 1,
        (None, _) => {}
    }
}

fn digest_of<R: Read>(
    reader: &mut TarReader<R>,
    entry: &TarEntry,
    hash: bool,
) -> Result<Option<Digest>, ExploreError> {
    if !hash || entry.kind != EntryKind::File {
        return Ok(None);
    }
    let mut hasher = Hasher::new(Algorithm::Sha256);
    let mut buf = vec![0u8; 64 * 1024];
    let mut data = reader.data();
    loop {
        let n = match data.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(data.error(e)),
        };
        hasher.update(&buf[..n]);
    }
    Ok(Some(hasher.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> ImagePath {
        ImagePath::parse(s).unwrap()
    }

    fn e(ordinal: u64, path: &str, kind: EntryKind) -> TarEntry {
        TarEntry {
            ordinal,
            path: p(path),
            trailing_slash: false,
            kind,
            hardlink: None,
            device: None,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: 3,
            mtime: 0,
        }
    }

    #[test]
    fn from_entries_merges_synthetic_layers_like_streamed_ones() {
        let mut link = e(2, "/ln", EntryKind::Hardlink);
        link.hardlink = Some(p("/bin/sh"));
        let fs = Filesystem::from_entries([
            vec![
                e(0, "/etc/passwd", EntryKind::File),
                e(1, "/bin", EntryKind::Symlink("usr/bin".into())),
                e(2, "/usr/bin/sh", EntryKind::File),
            ],
            vec![
                e(0, "/etc/.wh.passwd", EntryKind::File),
                e(1, "/bin/ls", EntryKind::File),
                link,
            ],
        ])
        .unwrap();
        assert!(fs.get(&p("/etc/passwd")).is_none());
        assert!(fs.get(&p("/etc")).unwrap().implicit);
        let ls = fs.get(&p("/usr/bin/ls")).unwrap();
        assert_eq!(
            ls.content,
            Some(Locator {
                layer: 1,
                ordinal: 1
            })
        );
        let ln = fs.get(&p("/ln")).unwrap();
        assert!(ln.is_file());
        assert_eq!(
            ln.content,
            Some(Locator {
                layer: 0,
                ordinal: 2
            })
        );
        assert_eq!(ln.hardlink, Some(p("/usr/bin/sh")));
        assert_eq!(fs.layer_stats()[1].whiteouts, 1);
        assert_eq!(fs.resolve(&p("/bin/ls"), true).unwrap(), p("/usr/bin/ls"));
    }

    #[test]
    fn from_entries_refuses_what_a_streamed_layer_would() {
        let mut dangling = e(0, "/ln", EntryKind::Hardlink);
        dangling.hardlink = Some(p("/missing"));
        let err = Filesystem::from_entries([vec![dangling]]).unwrap_err();
        assert!(
            matches!(err, ExploreError::HardlinkTarget { layer: 0, .. }),
            "{err:?}"
        );
        let err = Filesystem::from_entries([vec![], vec![e(0, "/", EntryKind::File)]]).unwrap_err();
        assert!(
            matches!(err, ExploreError::RootNotDirectory { layer: 1, .. }),
            "{err:?}"
        );
        let err = Filesystem::from_entries([vec![e(0, "/a/.wh..", EntryKind::File)]]).unwrap_err();
        assert!(matches!(err, ExploreError::BadWhiteout { .. }), "{err:?}");
    }
}
