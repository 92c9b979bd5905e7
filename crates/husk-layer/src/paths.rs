//! The one path-safety module of husk.
//!
//! Every path that names something *inside* an image goes through [`ImagePath`]: the layer
//! writer (paths from user input and host walks), the explorer and extraction (entry names
//! read from untrusted layers) and symlink resolution ([`resolve_link_target`]). An
//! `ImagePath` is lexically normalised and can never name anything outside the image root,
//! so code holding one does not re-check.
//!
//! Decisions:
//! - `..` is rejected everywhere an `ImagePath` is built, never resolved, so a path cannot
//!   climb even "back down" (`/a/../b`). Only [`resolve_link_target`] interprets `..`,
//!   clamped at the root like a chroot, because symlink targets legitimately use it.
//! - Names must be UTF-8. A tar entry whose name is not UTF-8 is rejected with
//!   [`PathError::NotUtf8`] (naming it lossily escaped) rather than mapped lossily, so two
//!   different raw names can never collapse onto one path.
//! - Limits follow Linux: a component is at most 255 bytes, the whole path at most 4096.

use std::fmt;

use crate::error::PathError;

/// Longest path accepted, in bytes, counting the leading `/` (Linux `PATH_MAX`).
pub const MAX_PATH_LEN: usize = 4096;
/// Longest single component accepted, in bytes (Linux `NAME_MAX`).
pub const MAX_COMPONENT_LEN: usize = 255;

/// A normalised absolute path inside an image: `/`, `/etc/passwd`.
///
/// Invariants: starts with `/`; no `..`, no `.` and no empty components (`//` and `.`
/// collapse on parsing); no NUL; each component at most [`MAX_COMPONENT_LEN`] bytes, the
/// whole at most [`MAX_PATH_LEN`]; no trailing `/` except for the root itself.
/// Ordering is by the string, so a directory sorts before everything below it.
/// `Debug` prints the quoted, escaped string (`"/etc/passwd"`), which is what error
/// messages use, so hostile names cannot carry control characters into a terminal.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ImagePath(String);

impl fmt::Debug for ImagePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0.as_str(), f)
    }
}

impl ImagePath {
    /// The image root, `/`.
    pub fn root() -> ImagePath {
        ImagePath("/".to_owned())
    }

    /// Parse a path given by a user (CLI argument, build file): it must be absolute.
    ///
    /// # Errors
    /// [`PathError::Empty`], [`PathError::NotAbsolute`], [`PathError::ParentComponent`] for any
    /// `..`, [`PathError::Nul`], [`PathError::TooLong`] / [`PathError::ComponentTooLong`].
    pub fn parse(s: &str) -> Result<ImagePath, PathError> {
        if s.is_empty() {
            return Err(PathError::Empty);
        }
        if !s.starts_with('/') {
            return Err(PathError::NotAbsolute { path: s.to_owned() });
        }
        normalise(s)
    }

    /// Build a path from a tar entry name read from a layer: `./a/b`, `a/b/`, `/a` and `a`
    /// all give `/a/b` or `/a`; `.` and `./` give the root.
    ///
    /// # Errors
    /// [`PathError::Empty`] for an empty name, [`PathError::NotUtf8`] for a name that is not
    /// UTF-8, and the errors of [`ImagePath::parse`] (a `..` anywhere is rejected).
    pub fn from_tar_name(raw: &[u8]) -> Result<ImagePath, PathError> {
        if raw.is_empty() {
            return Err(PathError::Empty);
        }
        let s = std::str::from_utf8(raw).map_err(|_| PathError::NotUtf8 {
            path: String::from_utf8_lossy(raw).into_owned(),
        })?;
        normalise(s)
    }

    /// The path as a string, `/etc/passwd` (root: `/`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name a tar entry for this path carries, without a leading `/`:
    /// `etc/passwd`; the root is `.`. (The layer writer appends `/` for directories.)
    pub fn tar_name(&self) -> &str {
        if self.is_root() { "." } else { &self.0[1..] }
    }

    /// True for `/`.
    pub fn is_root(&self) -> bool {
        self.0 == "/"
    }

    /// The parent directory; `None` for the root.
    pub fn parent(&self) -> Option<ImagePath> {
        if self.is_root() {
            return None;
        }
        match self.0.rfind('/') {
            Some(0) | None => Some(ImagePath::root()),
            Some(i) => Some(ImagePath(self.0[..i].to_owned())),
        }
    }

    /// The last component; `None` for the root.
    pub fn file_name(&self) -> Option<&str> {
        if self.is_root() {
            return None;
        }
        self.0.rsplit('/').next()
    }

    /// The components, shallowest first (none for the root).
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|c| !c.is_empty())
    }

    /// Append a relative path. `rel` is normalised like any path (`a//b/./c` is fine, `""`
    /// and `"."` give `self`), but it may not be absolute and may not contain `..` at all.
    ///
    /// # Errors
    /// [`PathError::NotRelative`] for an absolute `rel`, otherwise the errors of
    /// [`ImagePath::parse`] for the joined path.
    pub fn join(&self, rel: &str) -> Result<ImagePath, PathError> {
        if rel.starts_with('/') {
            return Err(PathError::NotRelative {
                path: rel.to_owned(),
            });
        }
        normalise(&format!("{}/{}", self.0, rel))
    }

    /// Every ancestor directory except the root, shallowest first: `/a/b/c` gives `/a`, `/a/b`.
    pub fn ancestors(&self) -> impl Iterator<Item = ImagePath> + '_ {
        self.0
            .match_indices('/')
            .map(|(i, _)| i)
            .filter(|&i| i > 0)
            .map(|i| ImagePath(self.0[..i].to_owned()))
    }

    /// Component-wise prefix test: `/a/b` starts with `/a`, `/` and itself, while `/a/bc`
    /// does not start with `/a/b`.
    pub fn starts_with(&self, other: &ImagePath) -> bool {
        if other.is_root() {
            return true;
        }
        match self.0.strip_prefix(other.0.as_str()) {
            Some(rest) => rest.is_empty() || rest.starts_with('/'),
            None => false,
        }
    }

    /// A bound for range queries over sorted paths: everything strictly below `self` sorts
    /// at or after this string and before any sibling. Not a valid path itself.
    pub(crate) fn children_bound(&self) -> ImagePath {
        if self.is_root() {
            ImagePath("/".to_owned())
        } else {
            ImagePath(format!("{}/", self.0))
        }
    }
}

impl fmt::Display for ImagePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ImagePath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Lexically normalise a `/`-separated path (absolute or relative, both taken from the root).
fn normalise(s: &str) -> Result<ImagePath, PathError> {
    if s.contains('\0') {
        return Err(PathError::Nul { path: s.to_owned() });
    }
    let mut out = String::with_capacity(s.len() + 1);
    for c in s.split('/') {
        match c {
            "" | "." => continue,
            ".." => return Err(PathError::ParentComponent { path: s.to_owned() }),
            _ if c.len() > MAX_COMPONENT_LEN => {
                return Err(PathError::ComponentTooLong { path: s.to_owned() });
            }
            _ => {
                out.push('/');
                out.push_str(c);
            }
        }
        if out.len() > MAX_PATH_LEN {
            return Err(PathError::TooLong { path: s.to_owned() });
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    Ok(ImagePath(out))
}

/// Resolve the target of a symlink found at `link` *inside the image root*, lexically:
/// a relative target is taken from `link`'s parent, an absolute one from the root, and `..`
/// is clamped at the root as in a chroot (`/../../etc` is `/etc`). Nothing on the host is
/// consulted; the caller follows further links itself.
///
/// # Errors
/// [`PathError::Empty`] for an empty target (invalid on Linux), [`PathError::Nul`], and
/// [`PathError::TooLong`] / [`PathError::ComponentTooLong`] for the result.
pub fn resolve_link_target(link: &ImagePath, target: &str) -> Result<ImagePath, PathError> {
    if target.is_empty() {
        return Err(PathError::Empty);
    }
    if target.contains('\0') {
        return Err(PathError::Nul {
            path: target.to_owned(),
        });
    }
    let mut stack: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        match link.0.rfind('/') {
            Some(i) => link.0[..i].split('/').filter(|c| !c.is_empty()).collect(),
            None => Vec::new(),
        }
    };
    for c in target.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                stack.pop();
            }
            _ if c.len() > MAX_COMPONENT_LEN => {
                return Err(PathError::ComponentTooLong {
                    path: target.to_owned(),
                });
            }
            _ => stack.push(c),
        }
    }
    let mut out = String::new();
    for c in &stack {
        out.push('/');
        out.push_str(c);
        if out.len() > MAX_PATH_LEN {
            return Err(PathError::TooLong {
                path: target.to_owned(),
            });
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    Ok(ImagePath(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> ImagePath {
        ImagePath::parse(s).unwrap()
    }

    #[test]
    fn parse_accepts_and_normalises() {
        for (input, want) in [
            ("/", "/"),
            ("//", "/"),
            ("/.", "/"),
            ("/./", "/"),
            ("/etc/passwd", "/etc/passwd"),
            ("/etc//passwd", "/etc/passwd"),
            ("/etc/./passwd", "/etc/passwd"),
            ("/etc/passwd/", "/etc/passwd"),
            ("///a///b///", "/a/b"),
            ("/...", "/..."),
            ("/..a/b..", "/..a/b.."),
            ("/ä/日本", "/ä/日本"),
            ("/a b/c\\d", "/a b/c\\d"),
        ] {
            assert_eq!(p(input).as_str(), want, "{input:?}");
        }
    }

    #[test]
    fn parse_rejects() {
        let long_component = format!("/{}", "x".repeat(256));
        let long_path = "/abcdefg".repeat(600);
        for (input, what) in [
            ("", "empty"),
            ("etc/passwd", "relative"),
            ("./etc", "relative"),
            ("/..", "parent"),
            ("/../etc", "parent"),
            ("/a/../b", "parent"),
            ("/a/..", "parent"),
            ("/a\0b", "nul"),
            (long_component.as_str(), "component"),
            (long_path.as_str(), "long"),
        ] {
            let err = ImagePath::parse(input).unwrap_err();
            let ok = matches!(
                (&err, what),
                (PathError::Empty, "empty")
                    | (PathError::NotAbsolute { .. }, "relative")
                    | (PathError::ParentComponent { .. }, "parent")
                    | (PathError::Nul { .. }, "nul")
                    | (PathError::ComponentTooLong { .. }, "component")
                    | (PathError::TooLong { .. }, "long")
            );
            assert!(ok, "{input:?} gave {err:?}, expected {what}");
        }
        // Exactly at the limits is fine.
        assert!(ImagePath::parse(&format!("/{}", "x".repeat(255))).is_ok());
        let at_limit = format!("/{}", "y".repeat(4095));
        assert!(matches!(
            ImagePath::parse(&at_limit),
            Err(PathError::ComponentTooLong { .. })
        ));
        let at_limit: String = "/abcdefg".repeat(512);
        assert_eq!(at_limit.len(), MAX_PATH_LEN);
        assert!(ImagePath::parse(&at_limit).is_ok());
    }

    #[test]
    fn error_messages_name_the_escaped_path() {
        let err = ImagePath::parse("/a/../\u{1b}[31m").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("\\u{1b}"), "{msg}");
        assert!(msg.starts_with(char::is_lowercase), "{msg}");
    }

    #[test]
    fn from_tar_name_variants() {
        for (raw, want) in [
            (&b"a/b"[..], "/a/b"),
            (b"./a/b", "/a/b"),
            (b"a/b/", "/a/b"),
            (b"/a", "/a"),
            (b"./", "/"),
            (b".", "/"),
            (b"/", "/"),
            (b"./etc//ssl/./certs/", "/etc/ssl/certs"),
        ] {
            assert_eq!(ImagePath::from_tar_name(raw).unwrap().as_str(), want);
        }
        for raw in [
            &b""[..],
            b"..",
            b"../etc",
            b"a/../../b",
            b"./..",
            b"a\0b",
            b"\xff\xfe",
        ] {
            assert!(ImagePath::from_tar_name(raw).is_err(), "{raw:?}");
        }
        assert!(matches!(
            ImagePath::from_tar_name(b"caf\xe9"),
            Err(PathError::NotUtf8 { path }) if path == "caf\u{fffd}"
        ));
    }

    #[test]
    fn debug_is_the_escaped_string() {
        assert_eq!(format!("{:?}", p("/a\u{1b}b")), "\"/a\\u{1b}b\"");
    }

    #[test]
    fn accessors() {
        let x = p("/usr/lib/libc.so.6");
        assert_eq!(x.tar_name(), "usr/lib/libc.so.6");
        assert_eq!(ImagePath::root().tar_name(), ".");
        assert_eq!(x.parent(), Some(p("/usr/lib")));
        assert_eq!(p("/usr").parent(), Some(ImagePath::root()));
        assert_eq!(ImagePath::root().parent(), None);
        assert_eq!(x.file_name(), Some("libc.so.6"));
        assert_eq!(ImagePath::root().file_name(), None);
        assert_eq!(x.to_string(), "/usr/lib/libc.so.6");
        assert_eq!(
            x.components().collect::<Vec<_>>(),
            ["usr", "lib", "libc.so.6"]
        );
        assert_eq!(ImagePath::root().components().count(), 0);
    }

    #[test]
    fn ancestors_are_shallowest_first_without_root_or_self() {
        let got: Vec<String> = p("/a/b/c").ancestors().map(|a| a.0).collect();
        assert_eq!(got, ["/a", "/a/b"]);
        assert_eq!(p("/a").ancestors().count(), 0);
        assert_eq!(ImagePath::root().ancestors().count(), 0);
    }

    #[test]
    fn starts_with_is_component_wise() {
        assert!(p("/a/b").starts_with(&p("/a")));
        assert!(p("/a/b").starts_with(&p("/a/b")));
        assert!(p("/a/b").starts_with(&ImagePath::root()));
        assert!(ImagePath::root().starts_with(&ImagePath::root()));
        assert!(!p("/a/bc").starts_with(&p("/a/b")));
        assert!(!p("/a").starts_with(&p("/a/b")));
        assert!(!ImagePath::root().starts_with(&p("/a")));
    }

    #[test]
    fn join_table() {
        let base = p("/usr");
        for (rel, want) in [
            ("lib", "/usr/lib"),
            ("lib/x.so", "/usr/lib/x.so"),
            ("./lib//x/", "/usr/lib/x"),
            ("", "/usr"),
            (".", "/usr"),
        ] {
            assert_eq!(base.join(rel).unwrap().as_str(), want, "{rel:?}");
        }
        assert_eq!(ImagePath::root().join("etc").unwrap().as_str(), "/etc");
        assert!(matches!(
            base.join("/etc"),
            Err(PathError::NotRelative { .. })
        ));
        assert!(matches!(
            base.join(".."),
            Err(PathError::ParentComponent { .. })
        ));
        assert!(matches!(
            base.join("lib/../lib"),
            Err(PathError::ParentComponent { .. })
        ));
        assert!(matches!(base.join("a\0"), Err(PathError::Nul { .. })));
    }

    #[test]
    fn resolve_link_target_table() {
        for (link, target, want) in [
            ("/usr/bin/sh", "bash", "/usr/bin/bash"),
            ("/usr/bin/sh", "./bash", "/usr/bin/bash"),
            ("/usr/bin/sh", "../lib/x", "/usr/lib/x"),
            ("/usr/bin/sh", "/bin/busybox", "/bin/busybox"),
            ("/usr/bin/sh", "../../../../../etc/shadow", "/etc/shadow"),
            ("/usr/bin/sh", "/../../etc", "/etc"),
            ("/a", "..", "/"),
            ("/a", "/", "/"),
            ("/a", ".", "/"),
            ("/lib64", "usr/lib64", "/usr/lib64"),
            ("/x/y/z", "a//b/./c/", "/x/y/a/b/c"),
            ("/", "etc", "/etc"),
        ] {
            assert_eq!(
                resolve_link_target(&p(link), target).unwrap().as_str(),
                want,
                "{link} -> {target}"
            );
        }
        assert!(matches!(
            resolve_link_target(&p("/a"), ""),
            Err(PathError::Empty)
        ));
        assert!(matches!(
            resolve_link_target(&p("/a"), "b\0c"),
            Err(PathError::Nul { .. })
        ));
    }

    fn path_like() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop_oneof![
            proptest::string::string_regex("[/.a\\x00é]{0,24}").unwrap(),
            any::<String>(),
        ]
    }

    proptest::proptest! {
        #[test]
        fn parse_fails_or_round_trips(s in path_like()) {
            if let Ok(path) = ImagePath::parse(&s) {
                proptest::prop_assert!(path.as_str().starts_with('/'));
                proptest::prop_assert!(path.components().all(|c| c != ".." && c != "." && !c.is_empty()));
                proptest::prop_assert_eq!(ImagePath::parse(path.as_str()).unwrap(), path.clone());
                proptest::prop_assert_eq!(ImagePath::from_tar_name(path.tar_name().as_bytes()).unwrap(), path.clone());
                for a in path.ancestors() {
                    proptest::prop_assert!(path.starts_with(&a));
                }
            }
        }

        #[test]
        fn from_tar_name_stays_inside_root(raw in proptest::collection::vec(proptest::sample::select(vec![b'/', b'.', b'a', 0u8, 0xff]), 0..24)) {
            if let Ok(path) = ImagePath::from_tar_name(&raw) {
                proptest::prop_assert!(path.as_str().starts_with('/'));
                proptest::prop_assert!(path.components().all(|c| c != ".."));
                proptest::prop_assert!(path.starts_with(&ImagePath::root()));
            }
        }

        #[test]
        fn resolved_links_stay_inside_root(target in path_like()) {
            let link = ImagePath::parse("/usr/bin/tool").unwrap();
            if let Ok(path) = resolve_link_target(&link, &target) {
                proptest::prop_assert!(path.components().all(|c| c != ".." && c != "."));
                proptest::prop_assert_eq!(ImagePath::parse(path.as_str()).unwrap(), path);
            }
        }
    }
}
