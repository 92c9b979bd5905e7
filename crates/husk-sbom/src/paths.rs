//! Path spelling shared by the dpkg index and its queries: absolute, no trailing slash,
//! and the merged-`/usr` prefixes folded so `/lib/x/libc.so.6` and `/usr/lib/x/libc.so.6`
//! are one key when the root's `/lib` is a symlink into `/usr`.

use crate::root::Root;

/// The top-level directories Debian's merged-`/usr` turns into symlinks.
const MERGEABLE: [&str; 7] = ["bin", "sbin", "lib", "lib32", "lib64", "libx32", "libo32"];

/// Which of `MERGEABLE` are symlinks to `usr/<same>` under a root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsrMerge {
    merged: Vec<&'static str>,
}

impl UsrMerge {
    /// Detects the merged prefixes of `root` (a `/lib -> usr/lib` symlink, relative or
    /// absolute target).
    #[must_use]
    pub fn detect(root: &Root) -> Self {
        let merged = MERGEABLE
            .into_iter()
            .filter(|dir| {
                std::fs::read_link(root.join(dir)).is_ok_and(|target| {
                    let target = target.to_string_lossy();
                    let target = target.trim_start_matches('/').trim_end_matches('/');
                    target == format!("usr/{dir}")
                })
            })
            .collect();
        Self { merged }
    }

    /// Every mergeable prefix treated as merged (for tests and for images).
    #[must_use]
    pub fn all() -> Self {
        Self {
            merged: MERGEABLE.to_vec(),
        }
    }

    /// The canonical spelling of an absolute path: one leading `/`, no trailing `/`, no
    /// empty or `.` components, and `/lib/...` written `/usr/lib/...` when merged.
    #[must_use]
    pub fn canonical(&self, path: &str) -> String {
        let mut parts: Vec<&str> = path
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .collect();
        if let Some(first) = parts.first()
            && self.merged.contains(first)
        {
            parts.insert(0, "usr");
        }
        let mut out = String::with_capacity(path.len() + 4);
        for part in parts {
            out.push('/');
            out.push_str(part);
        }
        if out.is_empty() {
            out.push('/');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_merged_prefixes_only() {
        let m = UsrMerge::all();
        assert_eq!(
            m.canonical("/lib/x86_64-linux-gnu/libc.so.6"),
            "/usr/lib/x86_64-linux-gnu/libc.so.6"
        );
        assert_eq!(m.canonical("/usr/lib/x/libc.so.6"), "/usr/lib/x/libc.so.6");
        assert_eq!(m.canonical("//bin//sh/"), "/usr/bin/sh");
        assert_eq!(m.canonical("/library/x"), "/library/x");
        assert_eq!(m.canonical("/"), "/");
        assert_eq!(UsrMerge::default().canonical("/lib/x"), "/lib/x");
    }
}
