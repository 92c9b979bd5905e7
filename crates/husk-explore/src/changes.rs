//! What each layer did to the filesystem: the paths it added, modified and removed, with
//! the node before and after, recorded while the merged view is built ([`History`]).
//!
//! Why it is shaped so: `husk browse` shows the tree as of any layer and that layer's
//! changes, and `husk layers --format json` lists them; both come from one pass over the
//! layers. The view records, per layer, each path the layer touched with its node before
//! the layer's first touch; comparing with the node after gives the change. The tree as
//! of layer N is built forward: the paths layers 0..=N touched, each with its node before
//! the first layer above N that touched it, or its merged node when none did (no layer
//! is read twice, and the merged view is never copied: the top layer's tree is the
//! merged view itself). Layers are read one at a time on demand
//! ([`History::read_through`]), so a registry image downloads only the layers a user
//! asks to see; a layer that fails half-way is undone from its journal.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet, btree_map};

use husk_layer::{EntryKind, ImagePath};
use husk_oci::Layer;
use serde::Serialize;

use crate::error::ExploreError;
use crate::fs::{Filesystem, Key, Layering, Locator, Node, ViewOptions, tree_order};

/// How a layer changed one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// The path did not exist below this layer.
    Added,
    /// The layer rewrote the path: new content (any file entry), or a different kind,
    /// mode, owner or link target.
    Modified,
    /// A whiteout, an opaque directory or a replaced parent removed the path.
    Removed,
    /// The layer has an entry for the path that leaves it as it was (a directory listed
    /// again with the same attributes).
    Unchanged,
}

impl ChangeKind {
    /// The one-character mark `husk browse` and the text output use: `+`, `~`, `-`, ` `.
    pub fn symbol(self) -> char {
        match self {
            ChangeKind::Added => '+',
            ChangeKind::Modified => '~',
            ChangeKind::Removed => '-',
            ChangeKind::Unchanged => ' ',
        }
    }
}

/// One path a layer touched. The node after the layer is in the view as of that layer
/// ([`History::as_of`]); only what the listing needs of it is kept here.
#[derive(Debug, Clone, PartialEq)]
pub struct PathChange {
    pub path: ImagePath,
    pub kind: ChangeKind,
    /// The node below this layer (`None` when added; boxed: most changes are additions).
    pub before: Option<Box<Node>>,
    /// What the path is ([`Node::noun`]) after the layer, or before it when removed.
    pub noun: &'static str,
    /// Content bytes after the layer, or before it when removed.
    pub size: u64,
    /// Where the content written by this layer is (files only; `None` when removed).
    pub content: Option<Locator>,
}

/// Every path one layer touched, in tree order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LayerChanges {
    pub index: usize,
    pub paths: Vec<PathChange>,
}

impl LayerChanges {
    /// The paths of one kind of change, in tree order.
    pub fn of_kind(&self, kind: ChangeKind) -> impl Iterator<Item = &PathChange> {
        self.paths.iter().filter(move |c| c.kind == kind)
    }

    /// How many paths changed this way, and their content bytes.
    pub fn tally(&self, kind: ChangeKind) -> (usize, u64) {
        self.of_kind(kind)
            .fold((0, 0), |(n, b), c| (n + 1, b.saturating_add(c.size)))
    }
}

/// A path whose content was written by a layer and is not visible in the final view:
/// overwritten or deleted later (or earlier in the same layer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WastedFile {
    pub path: String,
    /// How many layers wrote content at this path that nobody sees.
    pub copies: usize,
    pub wasted_bytes: u64,
}

/// The merged view built one layer at a time, with every layer's changes.
pub struct History {
    fs: Filesystem,
    layering: Layering,
    changes: Vec<LayerChanges>,
    total: usize,
}

impl History {
    /// A history of `layers` (bottom first) with no layer read yet.
    pub fn new<L: Layer>(layers: &[L], opts: ViewOptions) -> History {
        let (fs, layering) = Layering::start(layers, opts);
        History {
            fs,
            layering,
            changes: Vec::new(),
            total: layers.len(),
        }
    }

    /// Read every layer (the whole history at once).
    ///
    /// # Errors
    /// The errors of [`Filesystem::build`].
    pub fn read_all<L: Layer>(layers: &[L], opts: ViewOptions) -> Result<History, ExploreError> {
        let mut h = History::new(layers, opts);
        if let Some(last) = layers.len().checked_sub(1) {
            h.read_through(layers, last)?;
        }
        Ok(h)
    }

    /// Read the layers up to and including `index` that are not read yet. `layers` must be
    /// the list this history was made for.
    ///
    /// # Errors
    /// [`ExploreError::NoSuchLayer`] for an index past the last layer, and the errors of
    /// [`Filesystem::build`] for the layer that failed (the layers before it stay read).
    pub fn read_through<L: Layer>(
        &mut self,
        layers: &[L],
        index: usize,
    ) -> Result<(), ExploreError> {
        if index >= self.total || layers.len() != self.total {
            return Err(ExploreError::NoSuchLayer {
                layer: index,
                count: self.total.min(layers.len()),
            });
        }
        while self.changes.len() <= index {
            let at = self.changes.len();
            self.fs.set_journal(Some(BTreeMap::new()));
            let applied = self.layering.apply(&mut self.fs, layers, at);
            let journal = self.fs.set_journal(None).unwrap_or_default();
            if let Err(e) = applied {
                // A layer that failed half-way is undone, so the view stays the one of
                // the layers below it (and `as_of` of the top layer read stays right).
                for (key, before) in journal {
                    self.fs.restore(&key.0, before.map(|b| *b));
                }
                return Err(e);
            }
            let paths = journal
                .into_iter()
                .filter_map(|(key, before)| self.change(key.0, before))
                .collect();
            self.changes.push(LayerChanges { index: at, paths });
        }
        Ok(())
    }

    fn change(&self, path: ImagePath, before: Option<Box<Node>>) -> Option<PathChange> {
        let after = self.fs.get(&path);
        let kind = match (before.as_deref(), after) {
            (None, None) => return None,
            (None, Some(_)) => ChangeKind::Added,
            (Some(_), None) => ChangeKind::Removed,
            (Some(b), Some(a)) if same(b, a) => ChangeKind::Unchanged,
            (Some(_), Some(_)) => ChangeKind::Modified,
        };
        let shown = after.or(before.as_deref())?;
        let (noun, size) = (shown.noun(), shown.size);
        let content = after.and_then(|a| a.content);
        Some(PathChange {
            path,
            kind,
            before,
            noun,
            size,
            content,
        })
    }

    /// Layers read so far.
    pub fn loaded(&self) -> usize {
        self.changes.len()
    }

    /// Layers in the image.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Whether every layer is read (so the merged view is the image's).
    pub fn is_complete(&self) -> bool {
        self.changes.len() == self.total
    }

    /// The merged view of the layers read so far.
    pub fn merged(&self) -> &Filesystem {
        &self.fs
    }

    /// The merged view, moved out.
    pub fn into_merged(self) -> Filesystem {
        self.fs
    }

    /// The changes of each layer read so far, bottom first.
    pub fn changes(&self) -> &[LayerChanges] {
        &self.changes
    }

    /// The tree as of layer `index` (that layer and those below it), or `None` when that
    /// layer is not read yet. The top layer read is the merged view itself, borrowed; a
    /// lower layer's tree is built forward from the paths its layers touched, so the
    /// merged view is never copied whole ([`History::node_as_of`] says where each node
    /// comes from).
    pub fn as_of(&self, index: usize) -> Option<Cow<'_, Filesystem>> {
        if index + 1 == self.changes.len() {
            return Some(Cow::Borrowed(&self.fs));
        }
        let below = self.changes.get(..=index)?;
        let mut nodes = BTreeMap::new();
        let root = ImagePath::root();
        let touched = below.iter().flat_map(|l| l.paths.iter().map(|c| &c.path));
        for path in std::iter::once(&root).chain(touched) {
            if let btree_map::Entry::Vacant(slot) = nodes.entry(Key(path.clone()))
                && let Some(node) = self.node_as_of(path, index)
            {
                slot.insert(node.clone());
            }
        }
        Some(Cow::Owned(self.fs.with_nodes(nodes, index + 1)))
    }

    /// The node at `path` as of layer `index`: as it was before the first layer above
    /// `index` that touched it (each layer's changes are in tree order: a binary search),
    /// else as it is in the merged view (no layer above changed it).
    fn node_as_of(&self, path: &ImagePath, index: usize) -> Option<&Node> {
        for layer in self.changes.get(index + 1..).unwrap_or_default() {
            if let Ok(i) = layer.paths.binary_search_by(|c| tree_order(&c.path, path)) {
                return layer.paths[i].before.as_deref();
            }
        }
        self.fs.get(path)
    }

    /// The paths whose written content nobody sees in the merged view, most bytes first
    /// (ties by path). Meaningful once [`History::is_complete`].
    pub fn wasted_files(&self) -> Vec<WastedFile> {
        let visible: HashSet<_> = self.fs.visible_content().map(|(loc, _)| loc).collect();
        let mut seen = HashSet::new();
        let mut by_path: HashMap<&ImagePath, (usize, u64)> = HashMap::new();
        for layer in &self.changes {
            for c in &layer.paths {
                let Some(loc) = c.content.filter(|l| !visible.contains(l)) else {
                    continue;
                };
                if seen.insert(loc) {
                    let e = by_path.entry(&c.path).or_default();
                    e.0 += 1;
                    e.1 = e.1.saturating_add(c.size);
                }
            }
        }
        let mut out: Vec<WastedFile> = by_path
            .into_iter()
            .filter(|(_, (_, bytes))| *bytes > 0)
            .map(|(p, (copies, wasted_bytes))| WastedFile {
                path: p.to_string(),
                copies,
                wasted_bytes,
            })
            .collect();
        out.sort_by(|a, b| {
            b.wasted_bytes
                .cmp(&a.wasted_bytes)
                .then_with(|| a.path.cmp(&b.path))
        });
        out
    }
}

/// Two nodes of one path that a user would call the same: same kind, attributes, link
/// and content. A file entry always brings new content (its own locator), so a file
/// written again is modified even with equal bytes (those bytes are wasted).
fn same(a: &Node, b: &Node) -> bool {
    a.kind == b.kind
        && a.mode == b.mode
        && (a.uid, a.gid) == (b.uid, b.gid)
        && a.device == b.device
        && a.content == b.content
        && a.hardlink == b.hardlink
        && a.xattrs == b.xattrs
        && (a.kind == EntryKind::Dir || a.size == b.size)
}

#[cfg(test)]
mod tests;
