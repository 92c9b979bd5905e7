//! Text helpers the raw parse leaves to us (parse-dockerfile keeps raw text and byte spans): byte offsets to line:column,
//! `KEY=VALUE` splitting for ENV/LABEL/ARG, shell-form text without line continuations and
//! comment lines, and `$VAR` substitution for FROM.

use std::collections::BTreeMap;

use serde::Serialize;

/// A 1-based line and column (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

/// A range of the Dockerfile, both ends inclusive-ish as SARIF regions expect: the end is
/// the position of the last character's line and the column after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Span {
    pub start: Pos,
    pub end: Pos,
}

/// Maps byte offsets of one text to positions.
pub(crate) struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines { text, starts }
    }

    pub(crate) fn pos(&self, offset: usize) -> Pos {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        Pos {
            line: line as u32 + 1,
            column: column as u32 + 1,
        }
    }

    pub(crate) fn span(&self, range: std::ops::Range<usize>) -> Span {
        Span {
            start: self.pos(range.start),
            end: self.pos(range.end),
        }
    }

    /// The text of line `line` (1-based), without its newline.
    pub(crate) fn line(&self, line: usize) -> &'a str {
        let Some(&start) = self.starts.get(line.wrapping_sub(1)) else {
            return "";
        };
        let end = self.starts.get(line).map_or(self.text.len(), |e| e - 1);
        &self.text[start..end.max(start)]
    }

    pub(crate) fn line_start(&self, line: usize) -> Option<usize> {
        self.starts.get(line.wrapping_sub(1)).copied()
    }
}

/// Split `A=1 B="two words" C` into words, honouring single and double quotes and the
/// escape character. Quotes are removed; an escaped character is kept literally.
pub(crate) fn words(raw: &str, escape: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), c) if c == escape => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c == escape => {
                match chars.next() {
                    // A continuation inside the raw text: the newline disappears.
                    Some('\n') => {}
                    Some('\r') => {
                        chars.next_if_eq(&'\n');
                    }
                    Some(n) => {
                        cur.push(n);
                        in_word = true;
                    }
                    None => {}
                }
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

/// `ENV`/`LABEL` arguments as key/value pairs: `K=V ...`, or the legacy `K V with spaces`.
pub(crate) fn pairs(raw: &str, escape: char) -> Vec<(String, String)> {
    let ws = words(raw, escape);
    match ws.first() {
        Some(first) if !first.contains('=') => {
            let rest = raw.trim_start()[raw
                .trim_start()
                .find(char::is_whitespace)
                .unwrap_or(raw.trim_start().len())..]
                .trim();
            let value = words(rest, escape).join(" ");
            vec![(first.clone(), value)]
        }
        _ => ws
            .into_iter()
            .map(|w| match w.split_once('=') {
                Some((k, v)) => (k.to_owned(), v.to_owned()),
                None => (w, String::new()),
            })
            .collect(),
    }
}

/// Shell-form text as the shell sees it: escape-newline continuations joined, comment lines
/// inside the continuation dropped, blank lines dropped.
pub fn clean_shell(raw: &str, escape: char) -> String {
    let mut out = String::new();
    let lines: Vec<&str> = raw.split('\n').collect();
    for (i, line) in lines.iter().enumerate() {
        let line = line.trim_end_matches('\r');
        let trimmed = line.trim_start();
        if i > 0 && (trimmed.starts_with('#') || trimmed.is_empty()) {
            continue;
        }
        match line.trim_end().strip_suffix(escape) {
            Some(body) => {
                out.push_str(body.trim_end());
                out.push(' ');
            }
            None => {
                out.push_str(line.trim_end());
                out.push(' ');
            }
        }
    }
    let mut s = out.split_whitespace().collect::<Vec<_>>().join(" ");
    s.truncate(s.trim_end().len());
    s
}

/// Substitute `$VAR`, `${VAR}`, `${VAR:-default}` and `${VAR:+alt}` from `vars` (unset
/// variables become empty, as BuildKit does).
pub fn substitute(text: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(body) = after.strip_prefix('{') {
            let Some(end) = body.find('}') else {
                out.push_str(&rest[i..]);
                return out;
            };
            let expr = &body[..end];
            let value = if let Some((name, def)) = expr.split_once(":-") {
                vars.get(name)
                    .filter(|v| !v.is_empty())
                    .cloned()
                    .unwrap_or_else(|| def.to_owned())
            } else if let Some((name, alt)) = expr.split_once(":+") {
                if vars.get(name).is_some_and(|v| !v.is_empty()) {
                    alt.to_owned()
                } else {
                    String::new()
                }
            } else {
                vars.get(expr).cloned().unwrap_or_default()
            };
            out.push_str(&value);
            rest = &body[end + 1..];
        } else {
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if len == 0 {
                out.push('$');
            } else {
                out.push_str(vars.get(&after[..len]).map_or("", String::as_str));
            }
            rest = &after[len..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        let l = Lines::new("FROM a\nRUN é x\n");
        assert_eq!(l.pos(0), Pos { line: 1, column: 1 });
        assert_eq!(l.pos(7), Pos { line: 2, column: 1 });
        assert_eq!(l.pos(13), Pos { line: 2, column: 6 });
        assert_eq!(l.line(2), "RUN é x");
    }

    #[test]
    fn env_pairs_quoted_and_legacy() {
        assert_eq!(
            pairs(r#"A=1 B="two words" C='x y' D=a\ b"#, '\\'),
            vec![
                ("A".into(), "1".into()),
                ("B".into(), "two words".into()),
                ("C".into(), "x y".into()),
                ("D".into(), "a b".into())
            ]
        );
        assert_eq!(
            pairs("PATH /usr/bin  /bin", '\\'),
            vec![("PATH".into(), "/usr/bin /bin".into())]
        );
    }

    #[test]
    fn shell_continuations_and_comments() {
        let raw = "apt-get update \\\n  # a comment\n  && apt-get install -y curl \\\n\n  && rm -rf /var/lib/apt/lists/*";
        assert_eq!(
            clean_shell(raw, '\\'),
            "apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*"
        );
        assert_eq!(clean_shell("a `\n b", '`'), "a b");
    }

    #[test]
    fn substitution_forms() {
        let vars: BTreeMap<String, String> = [
            ("V".to_owned(), "1.2".to_owned()),
            ("E".to_owned(), String::new()),
        ]
        .into();
        assert_eq!(substitute("img:$V", &vars), "img:1.2");
        assert_eq!(substitute("img:${V}-x", &vars), "img:1.2-x");
        assert_eq!(substitute("img:${E:-latest}", &vars), "img:latest");
        assert_eq!(substitute("img:${V:+set}", &vars), "img:set");
        assert_eq!(substitute("img:${NOPE}", &vars), "img:");
    }
}
