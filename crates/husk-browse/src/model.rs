//! [`Browser`]: the whole state of the browser and its one transition, [`Browser::handle`]
//! (a key in, the state changed, an [`Effect`] out for the session to carry out). Nothing
//! here does I/O: reading layers, copying and exporting are effects, so every key is
//! tested without a terminal or an image on disk.

use std::cell::Cell;
use std::collections::HashSet;

use husk_explore::{Efficiency, Filesystem, History, Node, Summary, WastedFile, efficiency};
use husk_layer::ImagePath;

use ratatui::layout::{Position, Rect};

use crate::keys::Key;
use crate::tree::{Filter, Tree};

/// Which pane keys go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Layers,
    Tree,
}

/// A line being typed at the bottom of the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// `/`: the search, applied as it is typed.
    Search,
    /// `c`: where to copy the selected path (the line holds the destination).
    Copy(ImagePath, String),
    /// `x`: where to write the selected layer's tar.
    Export(usize, String),
}

/// What the session must do after a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    None,
    Quit,
    /// Read the layers up to and including this one (the selection moved there).
    Load(usize),
    /// Copy a path of the selected layer's tree out to a host destination.
    Copy {
        path: ImagePath,
        dest: String,
    },
    /// Write a layer's uncompressed tar to a host file.
    Export {
        layer: usize,
        dest: String,
    },
}

/// Longest line the prompt takes (a search or a destination).
const MAX_INPUT: usize = 4096;

/// The browser's state.
pub struct Browser {
    pub(crate) history: History,
    pub(crate) summary: Summary,
    pub(crate) title: String,
    pub(crate) color: bool,
    pub(crate) layer: usize,
    pub(crate) focus: Pane,
    pub(crate) filter: Filter,
    pub(crate) search: String,
    pub(crate) input: Option<Input>,
    pub(crate) help: bool,
    pub(crate) status: String,
    pub(crate) tree: Option<Tree>,
    pub(crate) collapsed: HashSet<ImagePath>,
    pub(crate) rows: Vec<usize>,
    pub(crate) cursor: usize,
    /// Set while a layer is read: (layer, compressed size).
    pub(crate) loading: Option<(usize, u64)>,
    pub(crate) efficiency: Option<Efficiency>,
    pub(crate) wasted: Vec<WastedFile>,
    /// First rows shown (kept by the renderer so the cursor stays in view).
    pub(crate) tree_top: Cell<usize>,
    pub(crate) layers_top: Cell<usize>,
    /// Rows of the tree pane at the last frame (for Page Up/Down).
    pub(crate) page: Cell<usize>,
    /// Where the last frame drew the layer list and the tree rows (inside their
    /// borders), for mouse clicks and the wheel.
    pub(crate) layers_area: Cell<Rect>,
    pub(crate) tree_area: Cell<Rect>,
}

impl Browser {
    /// A browser over `history` (any number of its layers read) of the image `summary`
    /// describes; `title` names the image, `color` is false under `NO_COLOR`.
    pub fn new(history: History, summary: Summary, title: String, color: bool) -> Browser {
        let mut b = Browser {
            history,
            summary,
            title,
            color,
            layer: 0,
            focus: Pane::Layers,
            filter: Filter::default(),
            search: String::new(),
            input: None,
            help: false,
            status: String::new(),
            tree: None,
            collapsed: HashSet::new(),
            rows: Vec::new(),
            cursor: 0,
            loading: None,
            efficiency: None,
            wasted: Vec::new(),
            tree_top: Cell::new(0),
            layers_top: Cell::new(0),
            page: Cell::new(10),
            layers_area: Cell::new(Rect::ZERO),
            tree_area: Cell::new(Rect::ZERO),
        };
        b.refresh();
        b
    }

    /// The history (the session reads layers into it).
    pub fn history_mut(&mut self) -> &mut History {
        &mut self.history
    }

    /// The selected layer.
    pub fn layer(&self) -> usize {
        self.layer
    }

    /// The number of layers in the image.
    pub fn layer_count(&self) -> usize {
        self.history.total()
    }

    /// A layer is being read (shown as progress), or no longer.
    pub fn set_loading(&mut self, loading: Option<usize>) {
        self.loading = loading.map(|i| {
            let size = self.summary.layers.get(i).map_or(0, |l| l.size);
            (i, size)
        });
    }

    /// A message for the status line (an error, or what an effect did).
    pub fn set_status(&mut self, status: impl Into<String>) {
        self.status = status.into();
    }

    /// Rebuild what depends on the layers read: the selected layer's tree, and the image
    /// figures once every layer is read. Called after the session read layers.
    pub fn refresh(&mut self) {
        if self.efficiency.is_none() && self.history.is_complete() {
            self.efficiency = Some(efficiency(self.history.merged()));
            self.wasted = self.history.wasted_files();
        }
        if self
            .tree
            .as_ref()
            .is_none_or(|t| t.layer != self.layer || !t.fits(&self.history))
        {
            // The old tree goes first, so two trees are never held at once.
            self.tree = None;
            let view = self.history.as_of(self.layer);
            let changes = self.history.changes().get(self.layer);
            self.tree = match (view, changes) {
                (Some(v), Some(c)) => Some(Tree::new(v, c)),
                _ => None,
            };
        }
        self.relist();
    }

    /// Recompute the visible rows, keeping the cursor on the same path when it stays.
    fn relist(&mut self) {
        let at = self.selected_path();
        self.rows = match &self.tree {
            Some(t) => t.visible(&self.filter, &self.search, &self.collapsed),
            None => Vec::new(),
        };
        let found = at.and_then(|p| {
            let t = self.tree.as_ref()?;
            self.rows.iter().position(|&i| t.entries[i].path == p)
        });
        self.cursor = found.unwrap_or(self.cursor.min(self.rows.len().saturating_sub(1)));
    }

    /// The selected layer's view, when it is read.
    pub fn view(&self) -> Option<&Filesystem> {
        Some(self.tree.as_ref()?.view(&self.history))
    }

    /// The node of tree entry `i`, as of the selected layer (or as it was when removed).
    pub fn node(&self, i: usize) -> Option<&Node> {
        self.tree.as_ref()?.node(i, &self.history)
    }

    /// The path under the tree cursor.
    pub fn selected_path(&self) -> Option<ImagePath> {
        let t = self.tree.as_ref()?;
        let i = *self.rows.get(self.cursor)?;
        Some(t.entries[i].path.clone())
    }

    /// Whether the app should draw colours.
    pub fn color(&self) -> bool {
        self.color
    }

    /// One key: the new state, and what the session must do.
    pub fn handle(&mut self, key: Key) -> Effect {
        if key == Key::Ctrl('c') {
            return Effect::Quit;
        }
        if let Key::Click(c, r) | Key::WheelUp(c, r) | Key::WheelDown(c, r) = key {
            // Not while a line is typed; a click anywhere closes the help.
            if self.input.is_some() || std::mem::take(&mut self.help) {
                return Effect::None;
            }
            return self.mouse(key, Position::new(c, r));
        }
        if self.input.is_some() {
            return self.type_key(key);
        }
        if self.help {
            self.help = false;
            return if key == Key::Char('q') {
                Effect::Quit
            } else {
                Effect::None
            };
        }
        self.status.clear();
        match key {
            Key::Char('q') => Effect::Quit,
            Key::Char('?') => {
                self.help = true;
                Effect::None
            }
            Key::Tab | Key::BackTab => {
                self.focus = match self.focus {
                    Pane::Layers => Pane::Tree,
                    Pane::Tree => Pane::Layers,
                };
                Effect::None
            }
            Key::Ctrl(c) => {
                self.toggle(c);
                Effect::None
            }
            Key::Enter => {
                self.toggle('m');
                Effect::None
            }
            Key::Char('/') => {
                self.input = Some(Input::Search);
                Effect::None
            }
            Key::Esc => {
                if !self.search.is_empty() {
                    self.search.clear();
                    self.relist();
                }
                Effect::None
            }
            Key::Char('c') => self.ask_copy(),
            Key::Char('x') => self.ask_export(),
            _ => match self.focus {
                Pane::Layers => self.layer_key(key),
                Pane::Tree => {
                    self.tree_key(key);
                    Effect::None
                }
            },
        }
    }

    /// Ctrl+A/R/M/U: show or hide added, removed, modified, unchanged paths; Ctrl+L: the
    /// selected layer's own entries only, or the whole tree as of it.
    fn toggle(&mut self, c: char) {
        let f = &mut self.filter;
        match c {
            'a' => f.added = !f.added,
            'r' => f.removed = !f.removed,
            'm' => f.modified = !f.modified,
            'u' => f.unchanged = !f.unchanged,
            'l' => f.layer_only = !f.layer_only,
            _ => return,
        }
        self.relist();
    }

    fn layer_key(&mut self, key: Key) -> Effect {
        let last = self.layer_count().saturating_sub(1);
        let page = self.page.get().max(1);
        let to = match key {
            Key::Up | Key::Char('k') => self.layer.saturating_sub(1),
            Key::Down | Key::Char('j') => (self.layer + 1).min(last),
            Key::PageUp => self.layer.saturating_sub(page),
            Key::PageDown => (self.layer + page).min(last),
            Key::Home | Key::Char('g') => 0,
            Key::End | Key::Char('G') => last,
            _ => return Effect::None,
        };
        self.select_layer(to)
    }

    /// A click selects the layer or the tree row under it (and focuses that pane); the
    /// wheel moves the layer selection by one, or the tree cursor by three rows, in the
    /// pane under the pointer. Elsewhere the mouse does nothing.
    fn mouse(&mut self, key: Key, at: Position) -> Effect {
        let (layers, tree) = (self.layers_area.get(), self.tree_area.get());
        let step: isize = match key {
            Key::WheelUp(..) => -1,
            Key::WheelDown(..) => 1,
            _ => 0,
        };
        if layers.contains(at) {
            self.focus = Pane::Layers;
            let to = match step {
                0 => self.layers_top.get() + usize::from(at.y - layers.y),
                s => self.layer.saturating_add_signed(s),
            };
            return self.select_layer(to.min(self.layer_count().saturating_sub(1)));
        }
        if tree.contains(at) {
            self.focus = Pane::Tree;
            let last = self.rows.len().saturating_sub(1);
            self.cursor = match step {
                0 => {
                    let row = self.tree_top.get() + usize::from(at.y - tree.y);
                    if row > last {
                        return Effect::None;
                    }
                    row
                }
                s => self.cursor.saturating_add_signed(3 * s).min(last),
            };
        }
        Effect::None
    }

    /// Select layer `to`: its tree if it is read, else ask the session to read it.
    pub fn select_layer(&mut self, to: usize) -> Effect {
        if to >= self.layer_count() || to == self.layer && self.tree.is_some() {
            return Effect::None;
        }
        self.layer = to;
        if to >= self.history.loaded() {
            self.tree = None;
            self.rows.clear();
            return Effect::Load(to);
        }
        self.refresh();
        Effect::None
    }

    fn tree_key(&mut self, key: Key) {
        let last = self.rows.len().saturating_sub(1);
        let page = self.page.get().max(1);
        match key {
            Key::Up | Key::Char('k') => self.cursor = self.cursor.saturating_sub(1),
            Key::Down | Key::Char('j') => self.cursor = (self.cursor + 1).min(last),
            Key::PageUp => self.cursor = self.cursor.saturating_sub(page),
            Key::PageDown => self.cursor = (self.cursor + page).min(last),
            Key::Home | Key::Char('g') => self.cursor = 0,
            Key::End | Key::Char('G') => self.cursor = last,
            Key::Char(' ') => self.fold(None),
            Key::Left | Key::Char('h') => self.fold(Some(true)),
            Key::Right | Key::Char('l') => self.fold(Some(false)),
            _ => {}
        }
    }

    /// Collapse (`Some(true)`), expand (`Some(false)`) or toggle (`None`) the directory
    /// under the cursor; collapsing a file collapses the directory it is in.
    fn fold(&mut self, collapse: Option<bool>) {
        let Some(t) = &self.tree else { return };
        let Some(&i) = self.rows.get(self.cursor) else {
            return;
        };
        let mut e = &t.entries[i];
        if !e.dir && collapse == Some(true) {
            match e.parent {
                Some(p) => e = &t.entries[p],
                None => return,
            }
        } else if !e.dir {
            return;
        }
        let path = e.path.clone();
        let now = self.collapsed.contains(&path);
        if collapse.unwrap_or(!now) {
            self.collapsed.insert(path.clone());
        } else {
            self.collapsed.remove(&path);
        }
        self.relist();
        if let Some(t) = &self.tree
            && let Some(pos) = self.rows.iter().position(|&r| t.entries[r].path == path)
        {
            self.cursor = pos;
        }
    }

    fn ask_copy(&mut self) -> Effect {
        let (Some(t), Some(&i)) = (&self.tree, self.rows.get(self.cursor)) else {
            self.status = "nothing selected to copy: Tab to the tree, pick a path".into();
            return Effect::None;
        };
        let e = &t.entries[i];
        if e.removed.is_some() {
            self.status = "this layer removed that path: nothing to copy".into();
            return Effect::None;
        }
        let name = e.path.file_name().unwrap_or("rootfs");
        let name = if name.chars().any(char::is_control) {
            "copy"
        } else {
            name
        };
        self.input = Some(Input::Copy(e.path.clone(), format!("./{name}")));
        Effect::None
    }

    fn ask_export(&mut self) -> Effect {
        if self.layer >= self.history.loaded() {
            self.status = "this layer is not read yet".into();
            return Effect::None;
        }
        let dest = format!("./layer-{}.tar", self.layer);
        self.input = Some(Input::Export(self.layer, dest));
        Effect::None
    }

    /// A key while a line is typed: characters edit it, Enter confirms, Esc cancels.
    fn type_key(&mut self, key: Key) -> Effect {
        let Some(mut input) = self.input.take() else {
            return Effect::None;
        };
        let line = match &mut input {
            Input::Search => &mut self.search,
            Input::Copy(_, s) | Input::Export(_, s) => s,
        };
        match key {
            Key::Char(c) if !c.is_control() && line.len() < MAX_INPUT => line.push(c),
            Key::Backspace => {
                line.pop();
            }
            Key::Esc => {
                if input == Input::Search {
                    self.search.clear();
                    self.relist();
                }
                return Effect::None;
            }
            Key::Enter => {
                return match input {
                    Input::Search => Effect::None,
                    Input::Copy(path, dest) => Effect::Copy { path, dest },
                    Input::Export(layer, dest) => Effect::Export { layer, dest },
                };
            }
            _ => {}
        }
        let search = input == Input::Search;
        self.input = Some(input);
        if search {
            self.relist();
        }
        Effect::None
    }
}

#[cfg(test)]
mod tests;
