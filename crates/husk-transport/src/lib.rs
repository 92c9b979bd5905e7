//! husk-transport: the one place an image reference from the command line is decided.
//!
//! It owns [`ImageRef`] (a local medium, [`husk_formats::LocalRef`], or a registry,
//! [`husk_registry::RegistryRef`]) and its parsing, including the hints for near misses
//! (`127.0.0.1:5000/a:1` suggests `docker://127.0.0.1:5000/a:1`). A [`Context`], built
//! once by the caller from plain data ([`Settings`]: registry options, auth-file
//! locations, a progress factory), carries everything a registry operation needs, so
//! there is no global state. Its verbs are [`Context::open`] (one image),
//! [`Context::open_whole`] (an image or a whole multi-platform index),
//! [`Context::check_destination`] and [`Context::copy`], the one copy that `husk push`,
//! `husk pull` and `husk build -o` share.
//!
//! Below this crate, husk-formats knows local media only and husk-registry knows
//! registries only; neither knows the other exists.

mod context;
mod copy;
mod error;
mod reference;
mod referrers;

pub use context::{AuthEnv, Context, Opened, ProgressFactory, Settings, auth_files, login_file};
pub use copy::{CopyOptions, CopyReport, IndexCopied, Source};
pub use error::TransportError;
pub use husk_formats::{Engine, LocalRef};
pub use husk_registry::ReferrersVia;
pub use husk_registry::RegistryRef;
pub use reference::{ImageRef, default_names};
pub use referrers::{Artifact, Attached, Subject, subject_of};
