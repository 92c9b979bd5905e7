//! Whiteout markers of the OCI layer spec (image-spec `layer.md`, "Whiteouts"):
//! `DIR/.wh.NAME` deletes `DIR/NAME` of the lower layers, `DIR/.wh..wh..opq` hides every
//! lower-layer child of `DIR`. Both are plain empty files; neither ever shows in the merged
//! view.
//!
//! Refused, because no valid layer writer produces them and each could confuse a naive
//! implementation: a bare `.wh.` (deletes the directory itself?), `.wh..` and `.wh...`
//! (delete `.`/`..`), a `.wh.` component anywhere but last (a whiteout naming a path with
//! `/`), a whiteout that is not a regular file, and other `.wh..wh.` meta names (AUFS
//! internals such as `.wh..wh.plnk`).

use husk_layer::{EntryKind, ImagePath};

use crate::error::ExploreError;
use crate::reader::TarEntry;

pub(crate) const PREFIX: &str = ".wh.";
pub(crate) const OPAQUE: &str = ".wh..wh..opq";

/// What a tar entry means for the merged view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Marker {
    /// Delete this path (and everything below it) from the lower layers.
    Whiteout(ImagePath),
    /// Hide every lower-layer child of this directory.
    Opaque(ImagePath),
}

/// Which marker an entry is, without its path (what a single-layer view shows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MarkerKind {
    /// A `.wh.NAME` marker.
    Whiteout,
    /// A `.wh..wh..opq` marker.
    Opaque,
}

impl Marker {
    /// Which marker this is.
    pub fn kind(&self) -> MarkerKind {
        match self {
            Marker::Whiteout(_) => MarkerKind::Whiteout,
            Marker::Opaque(_) => MarkerKind::Opaque,
        }
    }
}

/// Classify `entry`: `Ok(None)` for an ordinary entry.
///
/// # Errors
/// [`ExploreError::BadWhiteout`] for the malformed markers listed in the module docs.
pub fn classify(entry: &TarEntry, layer: usize) -> Result<Option<Marker>, ExploreError> {
    let bad = |why| ExploreError::BadWhiteout {
        layer,
        name: entry.path.to_string(),
        why,
    };
    let Some(name) = entry.path.file_name() else {
        return Ok(None);
    };
    let parent = entry.path.parent().unwrap_or_else(ImagePath::root);
    if parent.components().any(|c| c.starts_with(PREFIX)) {
        return Err(bad("a whiteout cannot name a path with / in it"));
    }
    if !name.starts_with(PREFIX) {
        return Ok(None);
    }
    if entry.kind != EntryKind::File || entry.trailing_slash {
        return Err(bad("a whiteout must be a regular file"));
    }
    if name == OPAQUE {
        return Ok(Some(Marker::Opaque(parent)));
    }
    let target = &name[PREFIX.len()..];
    match target {
        "" => Err(bad("a bare .wh. names nothing")),
        "." | ".." => Err(bad("a whiteout cannot name . or ..")),
        t if t.starts_with(PREFIX) => Err(bad("unknown whiteout meta entry")),
        t => parent
            .join(t)
            .map(|p| Some(Marker::Whiteout(p)))
            .map_err(|_| bad("the whiteout names an invalid path")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, kind: EntryKind) -> TarEntry {
        TarEntry {
            ordinal: 0,
            path: ImagePath::from_tar_name(name.as_bytes()).unwrap(),
            trailing_slash: name.ends_with('/'),
            kind,
            hardlink: None,
            device: None,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: 0,
            mtime: 0,
            xattrs: None,
        }
    }

    fn p(s: &str) -> ImagePath {
        ImagePath::parse(s).unwrap()
    }

    #[test]
    fn markers() {
        for (name, want) in [
            ("etc/.wh.passwd", Some(Marker::Whiteout(p("/etc/passwd")))),
            (".wh.etc", Some(Marker::Whiteout(p("/etc")))),
            ("a/b/.wh..wh..opq", Some(Marker::Opaque(p("/a/b")))),
            (".wh..wh..opq", Some(Marker::Opaque(p("/")))),
            ("a/.wh..hidden", Some(Marker::Whiteout(p("/a/.hidden")))),
            ("a/wh.b", None),
            ("a/x.wh.b", None),
            ("usr/bin/ls", None),
            (".", None),
        ] {
            assert_eq!(
                classify(&entry(name, EntryKind::File), 0).unwrap(),
                want,
                "{name}"
            );
        }
    }

    #[test]
    fn malformed_markers_are_refused() {
        for (name, kind) in [
            ("a/.wh.", EntryKind::File),
            ("a/.wh..", EntryKind::File),
            ("a/.wh...", EntryKind::File),
            ("a/.wh.b/c", EntryKind::File),
            (".wh.a/b/.wh.c", EntryKind::File),
            ("a/.wh.b/", EntryKind::Dir),
            ("a/.wh.b", EntryKind::Dir),
            ("a/.wh.b", EntryKind::Symlink("/etc".into())),
            ("a/.wh..wh..opq", EntryKind::Dir),
            ("a/.wh..wh.plnk", EntryKind::File),
        ] {
            let err = classify(&entry(name, kind.clone()), 3).unwrap_err();
            assert!(
                matches!(err, ExploreError::BadWhiteout { layer: 3, .. }),
                "{name} {kind:?}: {err:?}"
            );
        }
    }
}
