//! husk-explore: a read-only view of any image's filesystem, without running it.
//!
//! It owns
//! - [`reader`]: a streaming tar reader for untrusted layers, with limits on entries,
//!   extended-header sizes, path length and decompressed bytes, each with a typed error;
//!   the header layout comes from [`husk_layer::ustar`], the entry kind is
//!   [`husk_layer::EntryKind`] (re-exported here);
//! - [`whiteout`] and [`fs`]: the merged [`Filesystem`] built by streaming each layer once,
//!   whiteouts and opaque directories applied per image-spec `layer.md`, symlinks resolved
//!   inside the image root only; a single layer's own view for `--layer N`. This is husk's
//!   one filesystem model: husk-audit's facts are this view plus what file contents showed;
//! - [`xattr`]: the extended attributes a node keeps (PAX `SCHILY.xattr.*`) and the file
//!   capabilities of `security.capability`, decoded for display and for husk-audit;
//! - [`changes`]: what each layer added, modified and removed, and the tree as of any
//!   layer ([`History`], read one layer at a time on demand);
//! - [`diff`] (files and config), [`efficiency`](mod@efficiency) (bytes added and wasted per layer),
//!   [`inspect`] (the config summary);
//! - [`extract`] (into a directory, never outside it, by descriptor-relative `*at` calls
//!   with `O_NOFOLLOW`) and [`export_tar`](mod@export_tar) (a flattened tar);
//! - [`debug`]: the original image plus a static busybox layer;
//! - [`escape()`]: how untrusted names are printed.
//!
//! Why it is shaped so: layers are untrusted input of any size, so nothing is unpacked and
//! nothing is held whole. The view keeps one small node per path with a locator (layer,
//! entry ordinal) instead of content; reading a file re-streams its layer. Blob digests are
//! verified by `husk_oci` as every layer streams, and each reader is read to its end.
//! Paths are [`husk_layer::ImagePath`]s, from the one path-safety module.

pub mod changes;
pub mod content;
pub mod debug;
pub mod diff;
pub mod efficiency;
mod error;
pub mod escape;
pub mod export_tar;
pub mod extract;
pub mod fs;
pub mod inspect;
pub mod reader;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod whiteout;
pub mod xattr;

pub use changes::{ChangeKind, History, LayerChanges, PathChange, WastedFile};
pub use content::copy_content;
pub use debug::{DEBUG_DIR, DebugImage, debug_image};
pub use diff::{Change, ConfigChange, PathDiff, diff_config, diff_files};
pub use efficiency::{Efficiency, LayerEfficiency, efficiency, human_bytes};
pub use error::ExploreError;
pub use escape::escape;
pub use export_tar::{TarExport, export_tar};
pub use extract::{
    ExtractOptions, ExtractReport, Skipped, extract_dir, extract_one, running_as_root,
    skipped_summary,
};
pub use fs::{
    Filesystem, LayerStats, Locator, MAX_SYMLINK_HOPS, Node, ViewOptions, mode_string, tree_order,
};
/// The one entry kind of husk (from husk-layer), re-exported for the view's users.
pub use husk_layer::{Device, EntryKind};
pub use inspect::{Summary, summarize};
pub use reader::{Limits, TarEntry, TarReader, open_layer};
pub use whiteout::MarkerKind;
pub use xattr::{CapError, FileCaps, Xattrs};
