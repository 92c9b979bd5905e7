//! `.dockerignore` patterns and BuildKit's matching of them: one pattern per line, `#`
//! comments, `!` exceptions, the last matching pattern wins, `**` matches any number of
//! directories, a pattern that matches a directory excludes everything under it, and
//! paths are relative to the context root (a leading `/` or `./` means the same).
//!
//! Matching is dynamic programming over path segments and, inside a segment, over
//! characters: no backtracking, so hostile patterns (`*a*a*a*...`) stay polynomial.

/// The patterns of one `.dockerignore`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DockerIgnore {
    /// (pattern segments, is an exception) in file order.
    patterns: Vec<(Vec<String>, bool)>,
}

/// The most patterns kept (a real file has tens).
const MAX_PATTERNS: usize = 10_000;

impl DockerIgnore {
    /// Parse the text of a `.dockerignore`.
    #[must_use]
    pub fn parse(text: &str) -> DockerIgnore {
        let patterns = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .take(MAX_PATTERNS)
            .filter_map(|l| {
                let (pat, exception) = match l.strip_prefix('!') {
                    Some(p) => (p.trim(), true),
                    None => (l, false),
                };
                let segs = segments(pat);
                (!segs.is_empty())
                    .then(|| (segs.into_iter().map(str::to_owned).collect(), exception))
            })
            .collect();
        DockerIgnore { patterns }
    }

    /// Whether the context path `path` (`src/main.rs`, `/src`, `./src`) is excluded.
    #[must_use]
    pub fn excludes(&self, path: &str) -> bool {
        let segs = segments(path);
        if segs.is_empty() {
            return false;
        }
        let mut excluded = false;
        for (pat, exception) in &self.patterns {
            // A pattern matching the path or one of its parent directories.
            let hit = (1..=segs.len()).any(|n| match_segments(pat, &segs[..n]));
            if hit {
                excluded = !exception;
            }
        }
        excluded
    }
}

/// `./a//b/` as `["a", "b"]`.
fn segments(path: &str) -> Vec<&str> {
    path.split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect()
}

/// Whether pattern segments match path segments (`**` matches zero or more segments).
fn match_segments(pat: &[String], path: &[&str]) -> bool {
    // can[i][j]: pat[i..] matches path[j..].
    let (n, m) = (pat.len(), path.len());
    let mut can = vec![vec![false; m + 1]; n + 1];
    can[n][m] = true;
    for i in (0..n).rev() {
        for j in (0..=m).rev() {
            can[i][j] = if pat[i] == "**" {
                can[i + 1][j] || (j < m && can[i][j + 1])
            } else {
                j < m && can[i + 1][j + 1] && match_segment(&pat[i], path[j])
            };
        }
    }
    can[0][0]
}

/// Go's `filepath.Match` within one segment: `*`, `?`, `[...]` classes, `\` escapes.
fn match_segment(pat: &str, name: &str) -> bool {
    let p: Vec<char> = pat.chars().collect();
    let s: Vec<char> = name.chars().collect();
    // ok[j]: the pattern so far matches s[..j].
    let mut ok = vec![false; s.len() + 1];
    ok[0] = true;
    let mut i = 0;
    while i < p.len() {
        let mut next = vec![false; s.len() + 1];
        match p[i] {
            '*' => {
                let mut seen = false;
                for j in 0..=s.len() {
                    seen |= ok[j];
                    next[j] = seen;
                }
                i += 1;
            }
            '[' => {
                let (class, len) = parse_class(&p[i..]);
                for j in 0..s.len() {
                    next[j + 1] = ok[j] && class.as_ref().is_some_and(|c| c.matches(s[j]));
                }
                i += len;
            }
            c => {
                let (lit, len) = if c == '\\' && i + 1 < p.len() {
                    (Some(p[i + 1]), 2)
                } else {
                    (None, 1)
                };
                for j in 0..s.len() {
                    next[j + 1] = ok[j] && (c == '?' && lit.is_none() || s[j] == lit.unwrap_or(c));
                }
                i += len;
            }
        }
        ok = next;
    }
    ok[s.len()]
}

struct Class {
    negated: bool,
    ranges: Vec<(char, char)>,
}

impl Class {
    fn matches(&self, c: char) -> bool {
        self.ranges.iter().any(|(a, b)| (*a..=*b).contains(&c)) != self.negated
    }
}

/// A `[...]` class at the start of `p` and its length; `None` for a malformed one
/// (which then matches nothing, as Go reports ErrBadPattern).
fn parse_class(p: &[char]) -> (Option<Class>, usize) {
    let mut i = 1;
    let negated = matches!(p.get(1), Some('^' | '!'));
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    while i < p.len() && (p[i] != ']' || ranges.is_empty()) {
        let lo = p[i];
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|c| *c != ']') {
            ranges.push((lo, p[i + 2]));
            i += 3;
        } else {
            ranges.push((lo, lo));
            i += 1;
        }
    }
    if i >= p.len() {
        return (None, p.len());
    }
    (Some(Class { negated, ranges }), i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerignore_semantics() {
        let d = DockerIgnore::parse(
            "# comment\n.git\n*.md\n!README.md\n**/*.log\nbuild/\n/secrets/*.key\nfile[0-9].txt\n",
        );
        for p in [
            ".git/config",
            "NOTES.md",
            "a/b/x.log",
            "x.log",
            "build/out/app",
            "./secrets/a.key",
            "file7.txt",
        ] {
            assert!(d.excludes(p), "{p}");
        }
        for p in [
            "README.md",
            "src/main.rs",
            "docs/NOTES.md",
            "secrets/a.pem",
            "filex.txt",
            "",
            ".",
        ] {
            assert!(!d.excludes(p), "{p}");
        }
    }

    #[test]
    fn hostile_patterns_stay_bounded() {
        let pat = format!(
            "{}b\n{}zzz\n[\n[a-\n\\",
            "*a".repeat(500),
            "**/".repeat(500)
        );
        let d = DockerIgnore::parse(&pat);
        assert!(!d.excludes(&"a".repeat(2000)));
    }
}
