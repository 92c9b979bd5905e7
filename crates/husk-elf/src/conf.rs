//! `/etc/ld.so.conf`, as ldconfig reads it: one directory per line, `#` comments,
//! `include GLOB...` (relative globs are relative to the including file's directory, as in
//! glibc >= 2.x `parse_conf_include`), `hwcap` lines ignored. Globs are expanded through
//! [`HostFs::read_dir`] so the fake filesystem works too.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

use crate::error::ElfError;
use crate::fs::{FileKind, HostFs, MAX_CONFIG_BYTES, Refusal};

/// Include nesting deeper than this is ignored (guards include cycles).
const MAX_INCLUDE_DEPTH: usize = 16;

/// The directories listed by the ld.so.conf at `path` and its includes, in order, without
/// duplicates. A missing, unreadable or refused file (see [`try_read_ld_so_conf`])
/// contributes nothing.
#[must_use]
pub fn read_ld_so_conf(fs: &dyn HostFs, path: &Path) -> Vec<PathBuf> {
    let mut conf = Conf::default();
    conf.parse_file(fs, path, 0);
    conf.out
}

/// As [`read_ld_so_conf`], but a file that is refused (a FIFO, a device, a symlink to
/// one, a `/proc` file, or a file over [`MAX_CONFIG_BYTES`]) is an error naming it. A
/// missing file still contributes nothing, as for ldconfig.
///
/// # Errors
/// [`ElfError::InputRefused`] for the first refused file, the top one or an include.
pub fn try_read_ld_so_conf(fs: &dyn HostFs, path: &Path) -> Result<Vec<PathBuf>, ElfError> {
    let mut conf = Conf::default();
    conf.parse_file(fs, path, 0);
    match conf.refused {
        Some((path, reason)) => Err(ElfError::InputRefused { path, reason }),
        None => Ok(conf.out),
    }
}

#[derive(Default)]
struct Conf {
    out: Vec<PathBuf>,
    seen: HashSet<PathBuf>,
    /// Files already parsed (lexical keys): each is parsed once, which stops include
    /// cycles and keeps a diamond of includes linear instead of exponential.
    parsed: HashSet<PathBuf>,
    refused: Option<(PathBuf, Refusal)>,
}

impl Conf {
    fn parse_file(&mut self, fs: &dyn HostFs, path: &Path, depth: usize) {
        if depth > MAX_INCLUDE_DEPTH || !self.parsed.insert(lexical(path)) {
            return;
        }
        let bytes = match fs.read_limited(path, MAX_CONFIG_BYTES) {
            Ok(b) => b,
            Err(e) => {
                if let Some(r) = Refusal::of(&e) {
                    self.refused
                        .get_or_insert_with(|| (path.to_path_buf(), r.clone()));
                }
                return;
            }
        };
        let text = String::from_utf8_lossy(&bytes);
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.is_empty() || keyword(line, "hwcap").is_some() {
                continue;
            }
            if let Some(rest) = keyword(line, "include") {
                for pattern in rest.split_whitespace() {
                    let pattern = if Path::new(pattern).is_absolute() {
                        PathBuf::from(pattern)
                    } else {
                        path.parent().unwrap_or(Path::new("/")).join(pattern)
                    };
                    for file in expand_glob(fs, &pattern) {
                        self.parse_file(fs, &file, depth + 1);
                    }
                }
            } else {
                self.add_dirs(line);
            }
        }
    }

    /// Old configs may separate several directories by spaces, tabs, ':' or ','.
    fn add_dirs(&mut self, line: &str) {
        for dir in line.split([' ', '\t', ':', ',']).filter(|d| !d.is_empty()) {
            let trimmed = dir.trim_end_matches('/');
            let dir = PathBuf::from(if trimmed.is_empty() { "/" } else { trimmed });
            if dir.is_absolute() && self.seen.insert(dir.clone()) {
                self.out.push(dir);
            }
        }
    }
}

/// `path` with `.` dropped and `..` applied lexically; only a key for cycle detection.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

fn keyword<'a>(line: &'a str, word: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(word)?;
    rest.starts_with([' ', '\t']).then(|| rest.trim_start())
}

/// Expands an absolute glob component by component, sorted like glob(3).
fn expand_glob(fs: &dyn HostFs, pattern: &Path) -> Vec<PathBuf> {
    let mut current = vec![PathBuf::from("/")];
    let comps: Vec<_> = pattern
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => n.to_str().map(str::to_owned),
            Component::ParentDir => Some("..".to_owned()),
            _ => None,
        })
        .collect();
    for comp in &comps {
        let mut next = Vec::new();
        if !comp.contains(['*', '?', '[']) {
            next.extend(current.iter().map(|d| d.join(comp)));
        } else {
            let Ok(pat) = glob::Pattern::new(comp) else {
                return Vec::new();
            };
            let opts = glob::MatchOptions {
                case_sensitive: true,
                require_literal_separator: true,
                require_literal_leading_dot: true,
            };
            for dir in &current {
                let Ok(mut names) = fs.read_dir(dir) else {
                    continue;
                };
                names.sort();
                for name in names {
                    if let Some(n) = name.to_str()
                        && pat.matches_with(n, opts)
                    {
                        next.push(dir.join(n));
                    }
                }
            }
        }
        current = next;
        if current.is_empty() {
            break;
        }
    }
    current.retain(|p| matches!(fs.file_type(p), Ok(FileKind::File | FileKind::Symlink)));
    current
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::FakeFs;

    #[test]
    fn includes_globs_relative_includes_comments_and_cycles() {
        let mut fs = FakeFs::new();
        fs.add_file(
            "/etc/ld.so.conf",
            "# comment\ninclude /etc/ld.so.conf.d/*.conf\n/opt/a/lib/ # trailing\ninclude extra/*.conf\nhwcap 0 x\n",
        )
        .add_file("/etc/ld.so.conf.d/b.conf", "/b\n")
        .add_file("/etc/ld.so.conf.d/a.conf", "/a\n/a\n")
        .add_file("/etc/ld.so.conf.d/skip.txt", "/nope\n")
        .add_file("/etc/ld.so.conf.d/.hidden.conf", "/hidden\n")
        .add_file("/etc/extra/x.conf", "/x:/y\ninclude ../ld.so.conf\n");
        let dirs = read_ld_so_conf(&fs, Path::new("/etc/ld.so.conf"));
        let want: Vec<PathBuf> = ["/a", "/b", "/opt/a/lib", "/x", "/y"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(dirs, want);
    }

    /// Counts reads, to show each file is parsed once.
    struct Counting(FakeFs, std::sync::atomic::AtomicUsize);

    impl HostFs for Counting {
        fn read_limited(&self, path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
            self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.0.read_limited(path, limit)
        }
        fn read_link(&self, path: &Path) -> std::io::Result<PathBuf> {
            self.0.read_link(path)
        }
        fn file_type(&self, path: &Path) -> std::io::Result<FileKind> {
            self.0.file_type(path)
        }
        fn read_dir(&self, path: &Path) -> std::io::Result<Vec<std::ffi::OsString>> {
            self.0.read_dir(path)
        }
    }

    #[test]
    fn a_diamond_of_includes_reads_each_file_once() {
        // 6 files that each include all 6: without the parsed set, every ordering of
        // them along an include chain is walked (6! chains, thousands of reads).
        let mut fs = FakeFs::new();
        fs.add_file("/etc/ld.so.conf", "include /etc/d/*.conf\n");
        for i in 0..6 {
            fs.add_file(
                format!("/etc/d/{i}.conf"),
                format!("/lib{i}\ninclude /etc/d/*.conf\n"),
            );
        }
        let counting = Counting(fs, std::sync::atomic::AtomicUsize::new(0));
        let dirs = read_ld_so_conf(&counting, Path::new("/etc/ld.so.conf"));
        assert_eq!(dirs.len(), 6);
        assert_eq!(counting.1.load(std::sync::atomic::Ordering::Relaxed), 7);
    }

    #[test]
    fn an_oversized_include_is_refused_by_name() {
        let mut fs = FakeFs::new();
        fs.add_file("/etc/ld.so.conf", "/a\ninclude /etc/big.conf\n")
            .add_file("/etc/big.conf", vec![b'/'; 2 << 20]);
        let err = try_read_ld_so_conf(&fs, Path::new("/etc/ld.so.conf")).unwrap_err();
        assert!(err.to_string().contains("/etc/big.conf"), "{err}");
        assert!(err.to_string().contains("larger than"), "{err}");
        // the lenient reader keeps what it could read
        assert_eq!(
            read_ld_so_conf(&fs, Path::new("/etc/ld.so.conf")),
            [PathBuf::from("/a")]
        );
    }

    #[test]
    fn missing_conf_is_empty() {
        assert!(read_ld_so_conf(&FakeFs::new(), Path::new("/etc/ld.so.conf")).is_empty());
    }
}
