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
//! (layer, entry ordinal), so `cat`/`extract` stream the layer again to fetch it. Paths are
//! untrusted, so the view has a budget ([`Limits::max_nodes`], [`Limits::max_path_bytes`]:
//! a deep path costs one node per ancestor; [`Limits::max_xattr_bytes`] for the extended
//! attributes nodes keep) and the work per entry is linear in its path's
//! length: the deepest existing ancestor is found by a binary search over the path's
//! prefixes (every node's ancestors exist, so presence is monotone), never by re-walking
//! them. Identical layers (same digest) listed more than once are read once, and the sum of
//! what all layers decompress to is bounded ([`Limits::max_image_bytes`]).

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::ops::Bound;

use husk_layer::{Device, EntryKind, ImagePath, resolve_link_target};
use husk_oci::{Algorithm, Digest, Hasher, Layer};

use crate::error::ExploreError;
use crate::reader::{Limits, TarEntry, TarReader, open_layer};
use crate::whiteout::{Marker, MarkerKind, classify};
use crate::xattr::{CapError, FileCaps, Xattrs};

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
    /// Extended attributes of the entry (file capabilities among them), `None` for the
    /// many paths that have none. A hard link also has those of the file it names (its
    /// own win), as they share an inode.
    pub xattrs: Option<Box<Xattrs>>,
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
            xattrs: None,
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

    /// The file capabilities (`security.capability`) of this path, decoded or why they
    /// are malformed; `None` without them.
    #[must_use]
    pub fn capabilities(&self) -> Option<Result<FileCaps, CapError>> {
        self.xattrs.as_ref().and_then(|x| x.capabilities())
    }

    /// The `ls -l` mode column of this node (see [`mode_string`]).
    #[must_use]
    pub fn mode_string(&self) -> String {
        mode_string(self.letter(), self.mode)
    }
}

/// The `ls -l` mode column: the type `letter`, then `rwxr-xr-x` of `m`, with
/// setuid/setgid/sticky shown as `s`/`S`/`t`/`T`.
#[must_use]
pub fn mode_string(letter: char, m: u32) -> String {
    let mut s = String::with_capacity(10);
    s.push(letter);
    let bit = |b: u32, c: char| if m & b != 0 { c } else { '-' };
    let special = |x: bool, set: bool, on: char, off: char| match (set, x) {
        (true, true) => on,
        (true, false) => off,
        (false, true) => 'x',
        (false, false) => '-',
    };
    s.push(bit(0o400, 'r'));
    s.push(bit(0o200, 'w'));
    s.push(special(m & 0o100 != 0, m & 0o4000 != 0, 's', 'S'));
    s.push(bit(0o040, 'r'));
    s.push(bit(0o020, 'w'));
    s.push(special(m & 0o010 != 0, m & 0o2000 != 0, 's', 'S'));
    s.push(bit(0o004, 'r'));
    s.push(bit(0o002, 'w'));
    s.push(special(m & 0o001 != 0, m & 0o1000 != 0, 't', 'T'));
    s
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
pub(crate) struct Key(pub(crate) ImagePath);

impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        tree_order(&self.0, &other.0)
    }
}

/// The order of [`Filesystem::walk`]: component-wise, `/` before every other byte, so a
/// directory is immediately followed by everything below it (`/a`, `/a/b`, `/a-b`).
pub fn tree_order(a: &ImagePath, b: &ImagePath) -> Ordering {
    let (a, b) = (a.as_str().as_bytes(), b.as_str().as_bytes());
    // Deep paths share long prefixes: skip equal chunks with slice equality (memcmp).
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 64 <= n && a[i..i + 64] == b[i..i + 64] {
        i += 64;
    }
    for (x, y) in a[i..].iter().zip(&b[i..]) {
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

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Each path one layer touched, with its node before the layer's first touch.
pub(crate) type Journal = BTreeMap<Key, Option<Box<Node>>>;

/// The merged (or single-layer) filesystem view of an image.
#[derive(Debug, Clone, Default)]
pub struct Filesystem {
    nodes: BTreeMap<Key, Node>,
    layers: Vec<LayerStats>,
    single_layer: Option<usize>,
    /// The budget of the view (node count and path bytes).
    limits: Limits,
    /// Sum of the lengths of every path in `nodes`.
    path_bytes: u64,
    /// Sum of the extended attribute bytes (names and values) of every node.
    xattr_bytes: u64,
    /// While a layer is applied for [`crate::changes::History`]: each path the layer
    /// touched, with its node before the layer's first touch (`None`: it did not exist).
    journal: Option<Journal>,
}

/// Byte offsets where each proper ancestor of `path` (the root excluded) ends:
/// `/a/bc/d` gives `[2, 5]`.
fn ancestor_ends(path: &ImagePath) -> Vec<usize> {
    path.as_str()
        .match_indices('/')
        .map(|(i, _)| i)
        .filter(|&i| i > 0)
        .collect()
}

/// The prefix of `path` ending at `end` (a component boundary).
fn prefix(path: &ImagePath, end: usize) -> Option<ImagePath> {
    ImagePath::parse(path.as_str().get(..end)?).ok()
}

impl Filesystem {
    /// The merged view of `layers` (bottom first), streaming each layer once.
    ///
    /// # Errors
    /// Read, limit, name and whiteout errors of the layers (naming the layer), blob
    /// verification errors, [`ExploreError::RootNotDirectory`] and
    /// [`ExploreError::HardlinkTarget`].
    pub fn build<L: Layer>(layers: &[L], opts: ViewOptions) -> Result<Filesystem, ExploreError> {
        let (mut fs, mut layering) = Layering::start(layers, opts);
        for index in 0..layers.len() {
            layering.apply(&mut fs, layers, index)?;
        }
        Ok(fs)
    }

    /// Read and classify layer `index` within what is left of the image's decompression
    /// budget (`used` bytes spent by the layers before it).
    fn read_layer<L: Layer>(
        &self,
        layer: &L,
        index: usize,
        used: u64,
        hash: bool,
    ) -> Result<Staged, ExploreError> {
        let image_left = self.limits.max_image_bytes.saturating_sub(used);
        let mut limits = self.limits;
        limits.max_layer_bytes = limits.max_layer_bytes.min(image_left);
        let by_image = image_left < self.limits.max_layer_bytes;
        let reader = open_layer(layer, index, limits)?;
        Self::stage(reader, hash).map_err(|e| match e {
            ExploreError::Limit {
                layer,
                what: "decompressed size",
                ..
            } if by_image => ExploreError::Limit {
                layer,
                what: "decompressed size of all layers together",
                limit: self.limits.max_image_bytes,
            },
            e => e,
        })
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
        fs.limits = opts.limits;
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
            let mut node = fs.node_for(&entry, (index, index), digest);
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
            fs.add_missing_ancestors(&entry.path, index)?;
            fs.put(entry.path, node, index)?;
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
            limits: Limits::default(),
            path_bytes: 1,
            xattr_bytes: 0,
            journal: None,
        }
    }

    /// Start (`Some`) or stop (`None`, returned) recording what the next layers touch.
    pub(crate) fn set_journal(&mut self, journal: Option<Journal>) -> Option<Journal> {
        std::mem::replace(&mut self.journal, journal)
    }

    /// Remember the node at `key` as it was before the current layer first touched it.
    fn note(&mut self, key: &Key) {
        if let Some(journal) = &mut self.journal
            && !journal.contains_key(key)
        {
            journal.insert(key.clone(), self.nodes.get(key).cloned().map(Box::new));
        }
    }

    /// Put back the node at `path` as it was (`None`: absent), outside any budget: the
    /// undo of a layer, which only returns the view to a state it already had.
    pub(crate) fn restore(&mut self, path: &ImagePath, node: Option<Node>) {
        let key = Key(path.clone());
        match node {
            Some(n) => {
                self.xattr_bytes += xattr_bytes(&n);
                match self.nodes.insert(key, n) {
                    None => self.path_bytes += path.as_str().len() as u64,
                    Some(old) => self.xattr_bytes -= xattr_bytes(&old),
                }
            }
            None => self.take(&key),
        }
    }

    /// A view of the same image with `nodes` and the figures of the first `layers`
    /// layers (the tree as of a lower layer, built by [`crate::changes::History`]).
    pub(crate) fn with_nodes(&self, nodes: BTreeMap<Key, Node>, layers: usize) -> Filesystem {
        let path_bytes = nodes.keys().map(|k| k.0.as_str().len() as u64).sum();
        let xattr_bytes = nodes.values().map(xattr_bytes).sum();
        Filesystem {
            nodes,
            layers: self.layers.iter().take(layers).cloned().collect(),
            single_layer: None,
            limits: self.limits,
            path_bytes,
            xattr_bytes,
            journal: None,
        }
    }

    /// Add (or replace) the node at `path`, within the view's budget.
    fn put(&mut self, path: ImagePath, node: Node, layer: usize) -> Result<(), ExploreError> {
        let len = path.as_str().len() as u64;
        let key = Key(path);
        self.note(&key);
        let over = |what, limit| ExploreError::Limit { layer, what, limit };
        let old = self.nodes.get(&key).map_or(0, xattr_bytes);
        let xattrs = (self.xattr_bytes - old).saturating_add(xattr_bytes(&node));
        if xattrs > self.limits.max_xattr_bytes {
            return Err(over(
                "bytes of extended attributes in the view",
                self.limits.max_xattr_bytes,
            ));
        }
        if let Some(existing) = self.nodes.get_mut(&key) {
            *existing = node;
            self.xattr_bytes = xattrs;
            return Ok(());
        }
        if self.nodes.len() as u64 >= self.limits.max_nodes {
            return Err(over("number of paths in the view", self.limits.max_nodes));
        }
        let bytes = self.path_bytes.saturating_add(len);
        if bytes > self.limits.max_path_bytes {
            return Err(over(
                "bytes of path names in the view",
                self.limits.max_path_bytes,
            ));
        }
        self.path_bytes = bytes;
        self.xattr_bytes = xattrs;
        self.nodes.insert(key, node);
        Ok(())
    }

    /// Remove the node at exactly `key`.
    fn take(&mut self, key: &Key) {
        self.note(key);
        if let Some(old) = self.nodes.remove(key) {
            self.path_bytes -= key.0.as_str().len() as u64;
            self.xattr_bytes -= xattr_bytes(&old);
        }
    }

    /// How many of `ends` (ancestor prefixes of `path`, shallowest first) are in the view.
    /// Every node's ancestors are in the view, so presence is monotone: a binary search.
    fn present(&self, path: &ImagePath, ends: &[usize]) -> usize {
        ends.partition_point(|&e| prefix(path, e).is_some_and(|p| self.nodes.contains_key(&Key(p))))
    }

    /// Create the ancestors of `path` that are missing, as implicit directories.
    fn add_missing_ancestors(
        &mut self,
        path: &ImagePath,
        layer: usize,
    ) -> Result<(), ExploreError> {
        if path
            .parent()
            .is_some_and(|parent| self.get(&parent).is_some())
        {
            return Ok(());
        }
        let ends = ancestor_ends(path);
        for &e in &ends[self.present(path, &ends)..] {
            if let Some(a) = prefix(path, e) {
                self.put(a, Node::implicit_dir(layer), layer)?;
            }
        }
        Ok(())
    }

    /// Read one layer's entries and classify them, not yet applied.
    fn stage<R: Read>(mut reader: TarReader<R>, hash: bool) -> Result<Staged, ExploreError> {
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
        Ok(staged)
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
        fs.limits = Limits::default();
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
                        self.take(&Key(path));
                    }
                }
            }
        }
        let content_layer = staged.content_layer;
        for (entry, digest) in staged.entries {
            self.insert(entry, (index, content_layer), digest)?;
        }
        self.layers.push(staged.stats);
        Ok(())
    }

    /// The node an entry makes; its content is the entry of `content_layer` (the first
    /// copy of an identical layer listed again).
    fn node_for(
        &self,
        entry: &TarEntry,
        (layer, content_layer): (usize, usize),
        digest: Option<Digest>,
    ) -> Node {
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
                layer: content_layer,
                ordinal: entry.ordinal,
            }),
            hardlink: None,
            digest,
            implicit: false,
            xattrs: entry.xattrs.clone(),
        }
    }

    fn insert(
        &mut self,
        entry: TarEntry,
        (layer, content_layer): (usize, usize),
        digest: Option<Digest>,
    ) -> Result<(), ExploreError> {
        let path = self.place(&entry.path, layer)?;
        let mut node = self.node_for(&entry, (layer, content_layer), digest);
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
            node.xattrs = linked_xattrs(t.xattrs.as_deref(), node.xattrs.take());
            node.hardlink = Some(resolved);
        }
        if path.is_root() && !node.is_dir() {
            return Err(ExploreError::RootNotDirectory {
                layer,
                path: entry.path,
            });
        }
        match self.get(&path) {
            Some(existing) if existing.is_dir() && node.is_dir() => {}
            Some(_) => self.remove_below(&path),
            None => {}
        }
        self.put(path, node, layer)
    }

    /// Where an entry for `path` lands: missing parents are created, a parent symlink to a
    /// directory is followed inside the image, any other non-directory parent is replaced.
    /// Only the deepest existing ancestor can be a non-directory (everything above a node
    /// is a directory), so it is the only one looked at.
    fn place(&mut self, path: &ImagePath, layer: usize) -> Result<ImagePath, ExploreError> {
        let mut cur = path.clone();
        let mut hops = 0;
        loop {
            // The common case: the parent is a directory already (so is all above it).
            if cur
                .parent()
                .and_then(|parent| self.get(&parent))
                .is_some_and(Node::is_dir)
            {
                return Ok(cur);
            }
            let ends = ancestor_ends(&cur);
            let present = self.present(&cur, &ends);
            let deepest = present.checked_sub(1).and_then(|i| prefix(&cur, ends[i]));
            if let Some(at) = deepest {
                match self.get(&at).map(|n| &n.kind) {
                    None | Some(EntryKind::Dir) => {}
                    Some(EntryKind::Symlink(_)) => {
                        hops += 1;
                        // Follow it to a directory, or to nothing (created below, as
                        // runtimes do); a link to a non-directory is replaced.
                        let target = self
                            .resolve(&at, true)
                            .ok()
                            .filter(|t| self.get(t).is_none_or(Node::is_dir))
                            .filter(|_| hops <= MAX_SYMLINK_HOPS);
                        if let Some(t) = target {
                            let rest = cur.as_str()[at.as_str().len()..].trim_start_matches('/');
                            cur = t.join(rest).map_err(|source| ExploreError::BadName {
                                layer,
                                name: path.to_string(),
                                source,
                            })?;
                            continue;
                        }
                        self.put(at, Node::implicit_dir(layer), layer)?;
                    }
                    Some(_) => self.put(at, Node::implicit_dir(layer), layer)?,
                }
            }
            self.add_missing_ancestors(&cur, layer)?;
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
            self.take(&k);
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
    /// In a merged view only the deepest existing prefix of a path can be a symlink, so
    /// each hop costs a binary search over the path's prefixes, not a walk of them.
    ///
    /// # Errors
    /// [`ExploreError::SymlinkLoop`] after [`MAX_SYMLINK_HOPS`] links,
    /// [`ExploreError::BadLinkTarget`] for a target that is not a valid path.
    pub fn resolve(&self, path: &ImagePath, follow_last: bool) -> Result<ImagePath, ExploreError> {
        if self.single_layer.is_some() {
            // A single layer's view may hold entries below its own symlinks.
            return self.resolve_walk(path, follow_last);
        }
        let mut cur = path.clone();
        let mut hops = 0;
        loop {
            let mut ends = ancestor_ends(&cur);
            if !cur.is_root() {
                ends.push(cur.as_str().len());
            }
            let present = self.present(&cur, &ends);
            let Some(at) = present.checked_sub(1).and_then(|i| prefix(&cur, ends[i])) else {
                return Ok(cur);
            };
            let last = present == ends.len();
            let Some(EntryKind::Symlink(target)) = self.get(&at).map(|n| &n.kind) else {
                return Ok(cur);
            };
            if last && !follow_last {
                return Ok(cur);
            }
            hops += 1;
            if hops > MAX_SYMLINK_HOPS {
                return Err(ExploreError::SymlinkLoop {
                    path: path.clone(),
                    limit: MAX_SYMLINK_HOPS,
                });
            }
            let bad = |p: &ImagePath| {
                let p = p.clone();
                move |source| ExploreError::BadLinkTarget { path: p, source }
            };
            let t = resolve_link_target(&at, target).map_err(bad(&at))?;
            let rest = cur.as_str()[at.as_str().len()..].trim_start_matches('/');
            cur = t.join(rest).map_err(bad(path))?;
        }
    }

    /// [`Filesystem::resolve`] component by component, for single-layer views.
    fn resolve_walk(&self, path: &ImagePath, follow_last: bool) -> Result<ImagePath, ExploreError> {
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

/// The state of streaming layers into a view one at a time: which blobs are listed more
/// than once (their entries are kept to be applied again, not decompressed again) and how
/// much of the image's decompression budget the layers read so far used.
pub(crate) struct Layering {
    repeated: HashSet<Digest>,
    again: HashMap<Digest, Staged>,
    used: u64,
    hash: bool,
}

impl Layering {
    /// An empty view of `layers` and the state to apply them with.
    pub(crate) fn start<L: Layer>(layers: &[L], opts: ViewOptions) -> (Filesystem, Layering) {
        let mut fs = Filesystem::empty();
        fs.limits = opts.limits;
        let mut seen = HashSet::new();
        let repeated = layers
            .iter()
            .map(Layer::digest)
            .filter(|d| !seen.insert(*d))
            .cloned()
            .collect();
        let layering = Layering {
            repeated,
            again: HashMap::new(),
            used: 0,
            hash: opts.hash,
        };
        (fs, layering)
    }

    /// Apply layer `index` (every layer below it applied already) on top of `fs`.
    pub(crate) fn apply<L: Layer>(
        &mut self,
        fs: &mut Filesystem,
        layers: &[L],
        index: usize,
    ) -> Result<(), ExploreError> {
        let layer = layers.get(index).ok_or(ExploreError::NoSuchLayer {
            layer: index,
            count: layers.len(),
        })?;
        let digest = layer.digest();
        if let Some(first) = self.again.get(digest) {
            // The same blob again: its entries are applied again, not decompressed again.
            return fs.apply_staged(first.again(index));
        }
        let staged = fs.read_layer(layer, index, self.used, self.hash)?;
        self.used = self.used.saturating_add(staged.stats.tar_bytes);
        if self.repeated.contains(digest) {
            self.again.insert(digest.clone(), staged.clone());
        }
        fs.apply_staged(staged)
    }
}

/// One layer read and classified, not yet applied.
#[derive(Clone)]
struct Staged {
    stats: LayerStats,
    /// The layer whose stream holds the entries' content (itself, or the first copy).
    content_layer: usize,
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
            content_layer: index,
            markers: Vec::new(),
            entries: Vec::new(),
        }
    }

    /// The same layer listed again at `index`: same entries, content read from the first.
    fn again(&self, index: usize) -> Staged {
        let mut s = self.clone();
        s.stats.index = index;
        s
    }

    fn push(&mut self, entry: TarEntry, marker: Option<Marker>, digest: Option<Digest>) {
        count(&mut self.stats, &entry, marker.as_ref());
        match marker {
            Some(m) => self.markers.push(m),
            None => self.entries.push((entry, digest)),
        }
    }
}

/// What a node's extended attributes cost in the view's budget.
fn xattr_bytes(node: &Node) -> u64 {
    node.xattrs.as_ref().map_or(0, |x| x.bytes())
}

/// The attributes of a hard link: those of the file it names, with the link entry's own
/// set over them (a runtime sets the entry's attributes on the shared inode).
fn linked_xattrs(target: Option<&Xattrs>, own: Option<Box<Xattrs>>) -> Option<Box<Xattrs>> {
    let Some(target) = target else {
        return own;
    };
    let mut merged = target.clone();
    for (name, value) in own.iter().flat_map(|o| o.iter()) {
        merged.insert(name.to_owned(), value.to_vec());
    }
    merged.boxed()
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
            xattrs: None,
        }
    }

    fn with_xattr(mut entry: TarEntry, name: &str, value: &[u8]) -> TarEntry {
        let mut x = entry.xattrs.take().map(|b| *b).unwrap_or_default();
        x.insert(name.to_owned(), value.to_vec());
        entry.xattrs = x.boxed();
        entry
    }

    #[test]
    fn a_directory_over_a_directory_takes_the_new_attributes_xattrs_included() {
        let fs = Filesystem::from_entries([
            vec![with_xattr(e(0, "/d", EntryKind::Dir), "user.old", b"1")],
            vec![with_xattr(e(0, "/d", EntryKind::Dir), "user.new", b"2")],
            vec![e(0, "/d", EntryKind::Dir)],
        ])
        .unwrap();
        assert!(fs.get(&p("/d")).unwrap().xattrs.is_none());
        let fs = Filesystem::from_entries([
            vec![with_xattr(e(0, "/d", EntryKind::Dir), "user.old", b"1")],
            vec![with_xattr(e(0, "/d", EntryKind::Dir), "user.new", b"2")],
        ])
        .unwrap();
        let x = fs.get(&p("/d")).unwrap().xattrs.clone().unwrap();
        assert_eq!(x.names().collect::<Vec<_>>(), ["user.new"]);
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

    /// A tar layer that counts how often it is opened.
    struct Counted {
        desc: husk_oci::Descriptor,
        tar: Vec<u8>,
        opens: std::sync::atomic::AtomicUsize,
    }

    impl Counted {
        fn new(files: &[(&str, usize)]) -> Counted {
            let mut b = tar::Builder::new(Vec::new());
            for (name, size) in files {
                let mut h = tar::Header::new_ustar();
                h.set_size(*size as u64);
                h.set_mode(0o644);
                h.set_cksum();
                b.append_data(&mut h, name, std::io::repeat(0).take(*size as u64))
                    .unwrap();
            }
            let tar = b.into_inner().unwrap();
            let desc = husk_oci::Descriptor::for_bytes(husk_oci::media::OCI_LAYER_TAR, &tar);
            Counted {
                desc,
                tar,
                opens: 0.into(),
            }
        }
        fn opens(&self) -> usize {
            self.opens.load(std::sync::atomic::Ordering::SeqCst)
        }
    }

    impl Layer for &Counted {
        fn descriptor(&self) -> &husk_oci::Descriptor {
            &self.desc
        }
        fn diff_id(&self) -> Option<&Digest> {
            None
        }
        fn open_compressed(&self) -> Result<husk_oci::BlobReader<'_>, husk_oci::OciError> {
            self.opens.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(Box::new(self.tar.as_slice()))
        }
    }

    fn limits(set: impl FnOnce(&mut Limits)) -> ViewOptions {
        let mut limits = Limits::default();
        set(&mut limits);
        ViewOptions { limits, hash: true }
    }

    #[test]
    fn an_identical_layer_listed_again_is_read_once_and_merged_the_same() {
        let bomb = Counted::new(&[("zeros", 100_000), ("etc/passwd", 3)]);
        let other = Counted::new(&[("zeros", 5)]);
        let layers = [&bomb, &other, &bomb, &bomb, &other];
        let fs = Filesystem::build(&layers, ViewOptions::default()).unwrap();
        assert_eq!((bomb.opens(), other.opens()), (1, 1));
        let z = fs.get(&p("/zeros")).unwrap();
        // The last `other` wrote it; its content is read from the first copy of `other`.
        assert_eq!((z.size, z.layer), (5, 4));
        assert_eq!(
            z.content,
            Some(Locator {
                layer: 1,
                ordinal: 0
            })
        );
        assert_eq!(fs.layer_stats().len(), 5);
        assert_eq!(fs.layer_stats()[3].index, 3);
        assert_eq!(fs.layer_stats()[3].added_bytes, 100_003);
    }

    #[test]
    fn the_whole_image_has_a_decompression_budget_beside_the_per_layer_one() {
        let a = Counted::new(&[("a", 40_000)]);
        let b = Counted::new(&[("b", 40_000)]);
        let c = Counted::new(&[("c", 40_000)]);
        let budget = |l: &mut Limits| l.max_image_bytes = 100_000;
        Filesystem::build(&[&a, &b], limits(budget)).unwrap();
        // Repeats of one layer count once: they are not decompressed again.
        Filesystem::build(&[&a, &b, &a, &b, &a], limits(budget)).unwrap();
        let err = Filesystem::build(&[&a, &b, &c], limits(budget)).unwrap_err();
        assert!(
            matches!(
                err,
                ExploreError::Limit {
                    layer: 2,
                    what: "decompressed size of all layers together",
                    limit: 100_000
                }
            ),
            "{err:?}"
        );
        // Below the image budget the per-layer limit still speaks for itself.
        let err = Filesystem::build(&[&a], limits(|l| l.max_layer_bytes = 1000)).unwrap_err();
        assert!(
            matches!(
                err,
                ExploreError::Limit {
                    what: "decompressed size",
                    ..
                }
            ),
            "{err:?}"
        );
    }

    /// Entries of one layer: `n` files at the end of a chain of `depth` directories.
    fn deep(prefix: &str, depth: usize, n: usize) -> Vec<TarEntry> {
        let dir = format!("/{prefix}{}", "/d".repeat(depth));
        (0..n)
            .map(|i| e(i as u64, &format!("{dir}/f{i}"), EntryKind::File))
            .collect()
    }

    #[test]
    fn the_view_has_a_budget_of_paths_and_path_bytes() {
        // 50 files at depth 400: 20 000 ancestors of up to 800 bytes each if not shared.
        let layers = (0..50).map(|i| deep(&format!("top{i}"), 400, 1));
        let mut fs = Filesystem::empty();
        fs.limits.max_path_bytes = 1 << 20;
        let mut err = None;
        for (index, entries) in layers.enumerate() {
            let mut staged = Staged::new(index);
            for entry in entries {
                staged.push(entry, None, None);
            }
            if let Err(e) = fs.apply_staged(staged) {
                err = Some(e);
                break;
            }
        }
        let err = err.expect("the path budget was hit");
        assert!(
            matches!(
                err,
                ExploreError::Limit {
                    what: "bytes of path names in the view",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(fs.path_bytes <= 1 << 20);
        let sum: u64 = fs.nodes.keys().map(|k| k.0.as_str().len() as u64).sum();
        assert_eq!(sum, fs.path_bytes, "the running total is exact");

        let mut fs = Filesystem::empty();
        fs.limits.max_nodes = 100;
        let mut staged = Staged::new(0);
        for entry in deep("x", 200, 1) {
            staged.push(entry, None, None);
        }
        let err = fs.apply_staged(staged).unwrap_err();
        assert!(
            matches!(
                err,
                ExploreError::Limit {
                    what: "number of paths in the view",
                    limit: 100,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn extended_attributes_have_a_budget_whose_total_stays_exact() {
        let value = vec![0u8; 1000];
        let layer = |n: usize, name: &str| -> Vec<TarEntry> {
            (0..n)
                .map(|i| {
                    with_xattr(
                        e(i as u64, &format!("/f{i}"), EntryKind::File),
                        name,
                        &value,
                    )
                })
                .collect()
        };
        let apply = |fs: &mut Filesystem, index: usize, entries: Vec<TarEntry>| {
            let mut staged = Staged::new(index);
            for entry in entries {
                let marker = classify(&entry, index).unwrap();
                staged.push(entry, marker, None);
            }
            fs.apply_staged(staged)
        };
        let exact = |fs: &Filesystem| {
            let sum: u64 = fs.nodes.values().map(xattr_bytes).sum();
            assert_eq!(sum, fs.xattr_bytes, "the running total is exact");
        };
        let mut fs = Filesystem::empty();
        fs.limits.max_xattr_bytes = 10_000;
        // 9 files of 1006 bytes each fit; replacing them (same names) does not add up.
        apply(&mut fs, 0, layer(9, "user.a")).unwrap();
        apply(&mut fs, 1, layer(9, "user.b")).unwrap();
        exact(&fs);
        assert_eq!(fs.xattr_bytes, 9 * 1006);
        // A whiteout gives its attributes back.
        let mut wh = e(0, "/.wh.f0", EntryKind::File);
        wh.size = 0;
        apply(&mut fs, 2, vec![wh]).unwrap();
        exact(&fs);
        assert_eq!(fs.xattr_bytes, 8 * 1006);
        let err = apply(&mut fs, 3, layer(11, "user.c")).unwrap_err();
        assert!(
            matches!(
                err,
                ExploreError::Limit {
                    what: "bytes of extended attributes in the view",
                    limit: 10_000,
                    ..
                }
            ),
            "{err:?}"
        );
        exact(&fs);
    }

    #[test]
    fn whiteouts_give_back_their_path_budget() {
        let mut wh = e(0, "/a/.wh.b", EntryKind::File);
        wh.size = 0;
        let fs = Filesystem::from_entries([deep("a/b", 50, 3), vec![wh]]).unwrap();
        let sum: u64 = fs.nodes.keys().map(|k| k.0.as_str().len() as u64).sum();
        assert_eq!(sum, fs.path_bytes);
        assert_eq!(fs.len(), 2);
    }

    #[test]
    fn resolve_by_prefix_search_agrees_with_the_component_walk() {
        let mut l0 = deep("usr", 3, 2);
        l0.extend([
            e(10, "/bin", EntryKind::Symlink("usr/d/d".into())),
            e(11, "/up", EntryKind::Symlink("../../usr/d/../d".into())),
            e(12, "/loop1", EntryKind::Symlink("loop2/x".into())),
            e(13, "/loop2", EntryKind::Symlink("/loop1".into())),
            e(
                14,
                "/usr/d/d/d/rel",
                EntryKind::Symlink("../../d/d/f0".into()),
            ),
            e(15, "/file", EntryKind::File),
            e(16, "/usr/d/self", EntryKind::Symlink(".".into())),
        ]);
        let l1 = vec![
            e(0, "/bin/d/new", EntryKind::File),
            e(1, "/usr/d/self/self/self/d/x", EntryKind::File),
        ];
        let fs = Filesystem::from_entries([l0, l1]).unwrap();
        assert!(fs.get(&p("/usr/d/d/d/new")).is_some());
        assert!(fs.get(&p("/usr/d/d/x")).is_some());
        for path in [
            "/",
            "/bin",
            "/bin/d",
            "/bin/d/rel",
            "/bin/d/f0",
            "/bin/missing/x",
            "/up/d/d",
            "/loop1",
            "/loop1/y",
            "/file/below",
            "/usr/d/self/self/d",
            "/usr/d/d/d/rel/z",
            "/nothing/at/all",
        ] {
            for follow in [false, true] {
                let fast = fs.resolve(&p(path), follow);
                let walk = fs.resolve_walk(&p(path), follow);
                match (&fast, &walk) {
                    (Ok(a), Ok(b)) => assert_eq!(a, b, "{path} follow={follow}"),
                    (Err(a), Err(b)) => {
                        assert_eq!(a.to_string(), b.to_string(), "{path} follow={follow}")
                    }
                    _ => panic!("{path} follow={follow}: {fast:?} vs {walk:?}"),
                }
            }
        }
    }

    #[test]
    fn thousands_of_files_deep_down_merge_without_re_walking_their_ancestors() {
        // 3000 files at depth 1000 (a watchdog-free check: the work is bounded by the
        // number of path lookups, counted through the budget: ancestors are created once).
        let fs = Filesystem::from_entries([deep("x", 1000, 3000)]).unwrap();
        assert_eq!(fs.len(), 1 + 1 + 1000 + 3000);
        let f = p(&format!("/x{}/f2999", "/d".repeat(1000)));
        assert_eq!(fs.resolve(&f, true).unwrap(), f);
    }
}
