//! The file tree of one layer as the right pane lists it: every path of the view as of
//! that layer, plus the paths that layer removed (shown, marked removed), in tree order,
//! each with its change mark; and which of them are visible under the current filters,
//! search and collapsed directories.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use husk_explore::{ChangeKind, Filesystem, History, LayerChanges, Node, tree_order};
use husk_layer::ImagePath;

/// One path of the tree.
#[derive(Debug, Clone)]
pub struct Entry {
    pub path: ImagePath,
    /// Nesting below the root (0 for `/etc`).
    pub depth: usize,
    /// The entry of the directory it is in (`None` at the top).
    pub parent: Option<usize>,
    /// One past the last entry below it (its subtree is `self + 1 .. end`).
    pub end: usize,
    pub kind: ChangeKind,
    /// The selected layer has an entry for it (or removed it).
    pub touched: bool,
    pub dir: bool,
    /// The node of a removed path, as it was below the layer.
    pub removed: Option<Box<Node>>,
}

/// What the tree pane shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filter {
    pub added: bool,
    pub removed: bool,
    pub modified: bool,
    pub unchanged: bool,
    /// Only the paths the selected layer touched (and the directories above them).
    pub layer_only: bool,
}

impl Default for Filter {
    fn default() -> Filter {
        Filter {
            added: true,
            removed: true,
            modified: true,
            unchanged: true,
            layer_only: false,
        }
    }
}

impl Filter {
    fn allows(&self, e: &Entry) -> bool {
        let kind = match e.kind {
            ChangeKind::Added => self.added,
            ChangeKind::Removed => self.removed,
            ChangeKind::Modified => self.modified,
            ChangeKind::Unchanged => self.unchanged,
        };
        kind && (e.touched || !self.layer_only)
    }
}

/// The tree of one layer: its view and its entries.
pub struct Tree {
    pub layer: usize,
    /// The view as of the layer, or `None` when it is the history's merged view (the
    /// top layer read), which is shared rather than copied.
    own: Option<Filesystem>,
    pub entries: Vec<Entry>,
}

impl Tree {
    /// The tree of `view` (the filesystem as of `changes.index`, as
    /// [`History::as_of`] gives it) with `changes` marked.
    pub fn new(view: Cow<'_, Filesystem>, changes: &LayerChanges) -> Tree {
        let marks: HashMap<&ImagePath, ChangeKind> =
            changes.paths.iter().map(|c| (&c.path, c.kind)).collect();
        let mut removed = changes
            .of_kind(ChangeKind::Removed)
            .map(|c| (c.path.clone(), c.before.clone()))
            .peekable();
        let root = ImagePath::root();
        let mut paths: Vec<(ImagePath, bool, Option<Box<Node>>)> = Vec::new();
        for (p, n) in view.walk(&root).skip(1) {
            while let Some((rp, _)) = removed.peek() {
                if tree_order(rp, p).is_lt() {
                    let (rp, before) = removed.next().unwrap_or_else(|| (p.clone(), None));
                    let dir = before.as_ref().is_some_and(|b| b.is_dir());
                    paths.push((rp, dir, before));
                } else {
                    break;
                }
            }
            paths.push((p.clone(), n.is_dir(), None));
        }
        for (rp, before) in removed {
            let dir = before.as_ref().is_some_and(|b| b.is_dir());
            paths.push((rp, dir, before));
        }
        let entries = link(paths, &marks);
        Tree {
            layer: changes.index,
            own: match view {
                Cow::Owned(fs) => Some(fs),
                Cow::Borrowed(_) => None,
            },
            entries,
        }
    }

    /// Whether this tree still fits `history`: a tree sharing the merged view is stale
    /// once a layer above it is read.
    pub fn fits(&self, history: &History) -> bool {
        self.own.is_some() || history.loaded() == self.layer + 1
    }

    /// The view as of the layer (`history`: the one the tree was made from).
    pub fn view<'a>(&'a self, history: &'a History) -> &'a Filesystem {
        self.own.as_ref().unwrap_or_else(|| history.merged())
    }

    /// The node of entry `i` (as of the layer, or as it was when removed).
    pub fn node<'a>(&'a self, i: usize, history: &'a History) -> Option<&'a Node> {
        let e = self.entries.get(i)?;
        e.removed
            .as_deref()
            .or_else(|| self.view(history).get(&e.path))
    }

    /// The entries to list, in order: those the filter and the search (a case-insensitive
    /// substring of the path) let through, the directories above them, and nothing below
    /// a collapsed directory.
    pub fn visible(
        &self,
        filter: &Filter,
        search: &str,
        collapsed: &HashSet<ImagePath>,
    ) -> Vec<usize> {
        let needle = search.to_lowercase();
        let mut keep: Vec<bool> = self
            .entries
            .iter()
            .map(|e| {
                filter.allows(e)
                    && (needle.is_empty() || e.path.as_str().to_lowercase().contains(&needle))
            })
            .collect();
        for i in (0..self.entries.len()).rev() {
            if keep[i]
                && let Some(p) = self.entries[i].parent
            {
                keep[p] = true;
            }
        }
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.entries.len() {
            let e = &self.entries[i];
            if !keep[i] {
                i += 1;
                continue;
            }
            out.push(i);
            i = if e.dir && collapsed.contains(&e.path) {
                e.end.max(i + 1)
            } else {
                i + 1
            };
        }
        out
    }
}

/// Entries with their parents, depths and subtree ends, from paths in tree order.
fn link(
    paths: Vec<(ImagePath, bool, Option<Box<Node>>)>,
    marks: &HashMap<&ImagePath, ChangeKind>,
) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::with_capacity(paths.len());
    let mut stack: Vec<usize> = Vec::new();
    for (path, dir, removed) in paths {
        let i = entries.len();
        while let Some(&top) = stack.last() {
            if path.starts_with(&entries[top].path) && path != entries[top].path {
                break;
            }
            entries[top].end = i;
            stack.pop();
        }
        let mark = marks.get(&path).copied();
        entries.push(Entry {
            depth: stack.len(),
            parent: stack.last().copied(),
            end: i + 1,
            kind: mark.unwrap_or(ChangeKind::Unchanged),
            touched: mark.is_some(),
            dir,
            removed,
            path,
        });
        stack.push(i);
    }
    let n = entries.len();
    for top in stack {
        entries[top].end = n;
    }
    entries
}
