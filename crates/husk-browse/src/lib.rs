//! husk-browse: `husk browse`, an interactive terminal explorer of an image's layers and
//! file tree (what dive shows, for every image reference husk reads, with no daemon).
//!
//! It owns
//! - [`model`]: the state ([`Browser`]) and its one transition, a key in and an
//!   [`Effect`] out; no I/O, so every key is tested without a terminal;
//! - [`tree`]: the tree of the selected layer (its view plus what it removed, each path
//!   marked added/modified/removed/unchanged) and what the filters and search let through;
//! - [`render`]: the state as one frame (ratatui), in 80x24 and up, colours off under
//!   `NO_COLOR` with the change symbols kept;
//! - [`session`]: the effects on a real image (layers read on demand through
//!   husk-explore's `History`, copies through husk-explore's safe extraction, a layer's
//!   tar written atomically) and [`run`], the loop on the terminal;
//! - [`terminal`]: the guard that restores the terminal on every way out;
//! - [`text`]: how untrusted names are shown ([`text::clean`]) and sizes.
//!
//! Why it is shaped so: this is the one library crate that knows terminals (ratatui on
//! crossterm); it knows nothing of clap, the environment or image references: the CLI
//! opens the image, decides colour and eagerness, and checks that stdout is a terminal.

pub mod error;
pub mod keys;
pub mod model;
pub mod render;
pub mod session;
pub mod terminal;
#[cfg(test)]
mod testing;
pub mod text;
pub mod tree;

pub use error::BrowseError;
pub use keys::Key;
pub use model::{Browser, Effect, Input, Pane};
pub use session::{Options, Session, draw_on, run};
