//! [`Session`]: the browser over a real image's layers, carrying out the effects of keys
//! (reading layers on demand, copying a path out, exporting a layer), and [`run`]: the
//! session on the terminal, behind a guard that restores it on every way out.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use husk_explore::{
    ExtractOptions, History, Limits, Summary, ViewOptions, extract_dir, extract_one,
    running_as_root,
};
use husk_layer::ImagePath;
use husk_oci::Layer;
use ratatui::Terminal;
use ratatui::backend::Backend;

use crate::error::{BrowseError, one_line};
use crate::keys::Key;
use crate::model::{Browser, Effect};
use crate::terminal::Guard;

/// How to open the browser.
#[derive(Debug, Clone)]
pub struct Options {
    /// The image reference, for the title line.
    pub title: String,
    /// Colours (false under `NO_COLOR`); change kinds keep their symbols either way.
    pub color: bool,
    /// Read every layer at the start (local images), else only the selected ones
    /// (registry images: a layer nobody selects is never downloaded).
    pub eager: bool,
    pub limits: Limits,
}

/// The browser and the image it shows.
pub struct Session<'a, L: Layer> {
    layers: &'a [L],
    browser: Browser,
    limits: Limits,
    eager: bool,
}

impl<'a, L: Layer> Session<'a, L> {
    /// A session over `layers` (bottom first) of the image `summary` describes; no layer
    /// is read until [`Session::start`].
    pub fn new(layers: &'a [L], summary: Summary, opts: &Options) -> Session<'a, L> {
        let view = ViewOptions {
            limits: opts.limits,
            hash: false,
        };
        let history = History::new(layers, view);
        Session {
            layers,
            browser: Browser::new(history, summary, opts.title.clone(), opts.color),
            limits: opts.limits,
            eager: opts.eager,
        }
    }

    /// The state, to draw.
    pub fn browser(&self) -> &Browser {
        &self.browser
    }

    /// Read the first layer (every layer when eager), calling `draw` before each read.
    pub fn start(&mut self, draw: &mut dyn FnMut(&Browser)) {
        let last = self.layers.len().saturating_sub(1);
        if !self.layers.is_empty() {
            self.load(if self.eager { last } else { 0 }, draw);
        }
    }

    /// One key; true when the session is over.
    pub fn key(&mut self, key: Key, draw: &mut dyn FnMut(&Browser)) -> bool {
        match self.browser.handle(key) {
            Effect::None => {}
            Effect::Quit => return true,
            Effect::Load(layer) => self.load(layer, draw),
            Effect::Copy { path, dest } => {
                let msg = self.copy(&path, &dest).unwrap_or_else(|e| one_line(&e));
                self.browser.set_status(msg);
            }
            Effect::Export { layer, dest } => {
                let msg = self.export(layer, &dest).unwrap_or_else(|e| one_line(&e));
                self.browser.set_status(msg);
            }
        }
        false
    }

    /// Read the layers through `layer`, one at a time, drawing progress before each.
    fn load(&mut self, layer: usize, draw: &mut dyn FnMut(&Browser)) {
        for i in self.browser.history_mut().loaded()..=layer {
            self.browser.set_loading(Some(i));
            draw(&self.browser);
            if let Err(e) = self.browser.history_mut().read_through(self.layers, i) {
                self.browser.set_status(one_line(&e));
                break;
            }
        }
        self.browser.set_loading(None);
        self.browser.refresh();
    }

    /// Copy `path` of the selected layer's tree to `dest` the way `husk cp` does: a
    /// directory's contents into `dest` (created, or empty), anything else as `dest`, or
    /// `dest/NAME` when `dest` is a directory; never anything outside `dest`.
    fn copy(&self, path: &ImagePath, dest: &str) -> Result<String, BrowseError> {
        let Some(view) = self.browser.view() else {
            return Ok("this layer is not read".into());
        };
        let fail = |source| BrowseError::Copy {
            path: crate::text::clean(path.as_str()).into_owned(),
            source,
        };
        let (resolved, node) = view.lookup(path, true).map_err(fail)?;
        let opts = ExtractOptions {
            force: false,
            preserve_modes: false,
            as_root: running_as_root(),
            limits: self.limits,
            // As `husk cp` without --devices: device nodes and FIFOs are skipped.
            devices: false,
        };
        let dest = Path::new(dest);
        let report = if node.is_dir() {
            extract_dir(self.layers, view, &resolved, dest, &opts)
        } else if dest.is_dir() {
            let name = resolved.file_name().unwrap_or("file");
            extract_one(self.layers, view, &resolved, dest, name, &opts)
        } else {
            let (parent, name) = split(dest)?;
            extract_one(self.layers, view, &resolved, parent, name, &opts)
        }
        .map_err(fail)?;
        Ok(format!(
            "copied {}: {} files ({}), {} directories, {} symlinks into {}{}",
            crate::text::clean(resolved.as_str()),
            report.files,
            crate::text::bytes(report.bytes),
            report.dirs,
            report.symlinks,
            crate::text::clean(&dest.display().to_string()),
            if report.skipped.is_empty() {
                String::new()
            } else {
                format!(" ({} skipped)", report.skipped.len())
            }
        ))
    }

    /// Write layer `layer`'s uncompressed tar (whiteouts and all, as the image holds it)
    /// to `dest`, which must not exist; written to a temporary file and renamed.
    fn export(&self, layer: usize, dest: &str) -> Result<String, BrowseError> {
        let dest = PathBuf::from(dest);
        if dest.symlink_metadata().is_ok() {
            return Err(BrowseError::Exists { dest });
        }
        let Some(l) = self.layers.get(layer) else {
            return Ok(format!("there is no layer {layer}"));
        };
        let (dir, _) = split(&dest)?;
        let write = |source| BrowseError::Write {
            dest: dest.clone(),
            source,
        };
        let mut tmp = tempfile::Builder::new()
            .prefix(".husk-tmp-")
            .tempfile_in(dir)
            .map_err(write)?;
        let mut from = l
            .open_uncompressed()
            .map_err(|source| BrowseError::Layer { layer, source })?;
        let n = io::copy(&mut from, &mut tmp).map_err(write)?;
        tmp.flush().map_err(write)?;
        tmp.persist_noclobber(&dest).map_err(|e| write(e.error))?;
        Ok(format!(
            "wrote layer {layer} ({}) to {}",
            crate::text::bytes(n),
            crate::text::clean(&dest.display().to_string())
        ))
    }
}

/// The directory and the file name of a destination (`.` when it has no directory).
fn split(dest: &Path) -> Result<(&Path, &str), BrowseError> {
    let name =
        dest.file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| BrowseError::BadDestination {
                dest: dest.display().to_string(),
            })?;
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Ok((parent, name))
}

/// Run the browser on the terminal until `q` or Ctrl+C. The terminal is in raw mode on
/// the alternate screen only while this runs: a guard restores it when this returns,
/// on an error and on a panic.
///
/// # Errors
/// [`BrowseError::Terminal`] when the terminal cannot be set up, read or drawn on.
pub fn run<L: Layer>(layers: &[L], summary: Summary, opts: &Options) -> Result<(), BrowseError> {
    let _guard = Guard::enter().map_err(BrowseError::Terminal)?;
    let backend = ratatui::backend::CrosstermBackend::new(io::stdout());
    // The guard cleared the screen: no `terminal.clear()`, which would query the cursor.
    let mut terminal = Terminal::new(backend).map_err(BrowseError::Terminal)?;
    let mut session = Session::new(layers, summary, opts);
    let failed: std::cell::Cell<Option<io::Error>> = std::cell::Cell::new(None);
    let mut draw = |b: &Browser| {
        if let Err(e) = terminal.draw(|f| crate::render::draw(f, b)) {
            failed.set(Some(e));
        }
    };
    session.start(&mut draw);
    loop {
        draw(session.browser());
        if let Some(e) = failed.take() {
            return Err(BrowseError::Terminal(e));
        }
        let key = match ratatui::crossterm::event::read().map_err(BrowseError::Terminal)? {
            ratatui::crossterm::event::Event::Key(k) => Key::from_event(k),
            ratatui::crossterm::event::Event::Mouse(m) => Key::from_mouse(m),
            _ => None,
        };
        if let Some(k) = key
            && session.key(k, &mut draw)
        {
            return Ok(());
        }
    }
}

/// Draw on any backend (tests use ratatui's `TestBackend`).
///
/// # Errors
/// The backend's error.
pub fn draw_on<B: Backend>(terminal: &mut Terminal<B>, b: &Browser) -> Result<(), B::Error> {
    terminal.draw(|f| crate::render::draw(f, b)).map(|_| ())
}

#[cfg(test)]
mod tests;
