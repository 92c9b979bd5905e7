//! deb822 paragraphs (dpkg's `status`, `status.d/` entries, DEP-5 copyright files): a
//! small parser that keeps field order and continuation lines verbatim, so a paragraph
//! can be written back byte-for-byte in the same form dpkg wrote it.

use crate::error::{Result, SbomError};

/// One field: its name as written and its value (first line trimmed; continuation lines
/// kept verbatim, each after a `\n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The field name (`Package`, `Version`, ...).
    pub name: String,
    /// The value; multi-line values keep their leading-space continuation lines.
    pub value: String,
}

/// One paragraph: fields in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Paragraph {
    /// The fields, in the order they appear.
    pub fields: Vec<Field>,
}

impl Paragraph {
    /// The value of the first field named `name` (case-insensitive, as deb822 says).
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
            .map(|f| f.value.as_str())
    }

    /// The first line of a field's value.
    #[must_use]
    pub fn first_line(&self, name: &str) -> Option<&str> {
        self.get(name)
            .map(|v| v.split('\n').next().unwrap_or("").trim())
    }

    /// The paragraph as deb822 text (one `Name: value` line per field, continuation lines
    /// as stored), ending with a newline and no blank line.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for field in &self.fields {
            out.push_str(&field.name);
            out.push(':');
            if !field.value.is_empty() && !field.value.starts_with('\n') {
                out.push(' ');
            }
            out.push_str(&field.value);
            out.push('\n');
        }
        out
    }
}

/// The lines of `text` as [`str::lines`] gives them (`\n` or `\r\n` removed, a last line
/// without one kept), each with the offset just past its line end. One SIMD search over
/// the whole text: `str::lines` searches again for every line, which is most of the
/// cost of reading dpkg's 750 KB `status` (short lines, ~20,000 of them).
fn lines(text: &str) -> impl Iterator<Item = (&str, usize)> {
    let ends = memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1);
    let ends = ends.chain((!text.ends_with('\n') && !text.is_empty()).then_some(text.len()));
    let mut start = 0;
    ends.map(move |end| {
        let line = &text[start..end];
        start = end;
        let body = match line.strip_suffix('\n') {
            Some(l) => l.strip_suffix('\r').unwrap_or(l),
            None => line,
        };
        (body, end)
    })
}

/// `name: value` split at the first `:`.
fn split_field(line: &str) -> Option<(&str, &str)> {
    let colon = memchr::memchr(b':', line.as_bytes())?;
    Some((&line[..colon], &line[colon + 1..]))
}

/// One paragraph as it stands in the text, checked but not yet split into fields: a
/// reader that needs a few fields of many paragraphs (dpkg's `status` holds ~800) looks
/// them up here without allocating, and parses the whole paragraph only when it keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawParagraph<'a> {
    text: &'a str,
    /// Where `text` starts in the document.
    start: usize,
}

impl<'a> RawParagraph<'a> {
    /// The text of a paragraph [`paragraphs`] returned earlier (kept by its owner).
    pub(crate) fn checked(text: &'a str) -> Self {
        Self { text, start: 0 }
    }

    /// The byte range of the paragraph in the document [`paragraphs`] read it from.
    #[must_use]
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start..self.start + self.text.len()
    }

    /// The paragraph's lines as written (comment lines included), without the blank line
    /// that ends it.
    #[must_use]
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// The first line of each named field's value (names compared case-insensitively, the
    /// first field of a name wins), in one pass over the paragraph; the same answers as
    /// [`Paragraph::first_line`] on the parsed paragraph.
    #[must_use]
    pub fn first_lines<const N: usize>(&self, names: [&str; N]) -> [Option<&'a str>; N] {
        let mut found = [None; N];
        for (line, _) in lines(self.text) {
            if matches!(line.as_bytes().first(), Some(b' ' | b'\t' | b'#')) {
                continue;
            }
            let Some((name, value)) = split_field(line) else {
                continue;
            };
            for (slot, wanted) in found.iter_mut().zip(names) {
                if slot.is_none() && name.eq_ignore_ascii_case(wanted) {
                    *slot = Some(value.trim());
                }
            }
        }
        found
    }

    /// The paragraph split into fields. It cannot fail: [`paragraphs`] checked every line.
    #[must_use]
    pub fn parse(&self) -> Paragraph {
        let mut paragraph = Paragraph::default();
        for (line, _) in lines(self.text) {
            if line.starts_with('#') {
                continue;
            }
            if line.starts_with([' ', '\t']) {
                if let Some(field) = paragraph.fields.last_mut() {
                    field.value.push('\n');
                    field.value.push_str(line);
                }
                continue;
            }
            if let Some((name, value)) = split_field(line) {
                paragraph.fields.push(Field {
                    name: name.to_owned(),
                    value: value.trim().to_owned(),
                });
            }
        }
        paragraph
    }
}

/// Finds and checks every paragraph of `bytes` without splitting it into fields; `what`
/// names the document in errors.
///
/// # Errors
/// [`SbomError::Deb822`] when the text is not UTF-8, a line has no `:` or a continuation
/// line comes before any field.
pub fn paragraphs<'a>(bytes: &'a [u8], what: &str) -> Result<Vec<RawParagraph<'a>>> {
    let text = std::str::from_utf8(bytes).map_err(|e| SbomError::Deb822 {
        what: what.to_owned(),
        line: 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count(),
        reason: "not valid UTF-8".to_owned(),
    })?;
    let mut out = Vec::new();
    // The byte range of the paragraph being read, and whether it has a field yet.
    let mut start = None;
    let mut end = 0;
    let mut has_field = false;
    let mut offset = 0;
    for (index, (body, line_end)) in lines(text).enumerate() {
        let line_start = std::mem::replace(&mut offset, line_end);
        let err = |reason: &str| SbomError::Deb822 {
            what: what.to_owned(),
            line: index + 1,
            reason: reason.to_owned(),
        };
        // Only a line starting with white space (or a non-ASCII character, which may be
        // Unicode white space) can be blank.
        let may_be_blank = body
            .as_bytes()
            .first()
            .is_none_or(|b| b.is_ascii_whitespace() || *b == 0x0b || !b.is_ascii());
        if may_be_blank && body.trim().is_empty() {
            if let Some(s) = start.take()
                && has_field
            {
                out.push(RawParagraph {
                    text: &text[s..end],
                    start: s,
                });
            }
            has_field = false;
            continue;
        }
        if !body.starts_with('#') {
            if matches!(body.as_bytes().first(), Some(b' ' | b'\t')) {
                if !has_field {
                    return Err(err("continuation line before any field"));
                }
            } else {
                let (name, _) = split_field(body)
                    .ok_or_else(|| err("line is neither `Name: value` nor a continuation"))?;
                if name.is_empty() || name.contains(char::is_whitespace) {
                    return Err(err("field name is empty or contains white space"));
                }
                has_field = true;
            }
        }
        start.get_or_insert(line_start);
        end = line_end;
    }
    if let Some(s) = start
        && has_field
    {
        out.push(RawParagraph {
            text: &text[s..end],
            start: s,
        });
    }
    Ok(out)
}

/// Parses every paragraph of `text`; `what` names the document in errors.
///
/// # Errors
/// As [`paragraphs`].
pub fn parse(bytes: &[u8], what: &str) -> Result<Vec<Paragraph>> {
    Ok(paragraphs(bytes, what)?
        .iter()
        .map(RawParagraph::parse)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The one-pass parser `parse` replaced (fields split while reading), kept as the
    /// oracle for the two-pass one.
    fn reference(bytes: &[u8]) -> std::result::Result<Vec<Paragraph>, usize> {
        let text = std::str::from_utf8(bytes).map_err(|_| 0usize)?;
        let mut paragraphs = Vec::new();
        let mut current = Paragraph::default();
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                if !current.fields.is_empty() {
                    paragraphs.push(std::mem::take(&mut current));
                }
                continue;
            }
            if line.starts_with('#') {
                continue;
            }
            if line.starts_with(' ') || line.starts_with('\t') {
                let field = current.fields.last_mut().ok_or(index + 1)?;
                field.value.push('\n');
                field.value.push_str(line);
                continue;
            }
            let (name, value) = line.split_once(':').ok_or(index + 1)?;
            if name.is_empty() || name.contains(char::is_whitespace) {
                return Err(index + 1);
            }
            current.fields.push(Field {
                name: name.to_owned(),
                value: value.trim().to_owned(),
            });
        }
        if !current.fields.is_empty() {
            paragraphs.push(current);
        }
        Ok(paragraphs)
    }

    const NAMES: [&str; 6] = [
        "Status",
        "Package",
        "Version",
        "Architecture",
        "Source",
        "X",
    ];

    /// Lines of every kind the parser tells apart: fields (names in any case, empty and
    /// spaced values), continuations, comments, blank and white-space lines, CR endings,
    /// malformed lines.
    fn line() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => ("(?i)(package|version|status|source|architecture|x|y)", "[ \t]{0,2}[a-z0-9 .()+~:-]{0,10}[ \t]{0,2}")
                .prop_map(|(n, v)| format!("{n}:{v}")),
            2 => "[ \t][ -~]{0,8}",
            1 => "#[ -~]{0,6}",
            1 => "[ \t]{0,3}",
            1 => Just("\r".to_owned()),
            1 => "[a-z ]{1,5}(:[a-z]{0,3})?",
        ]
    }

    fn document() -> impl Strategy<Value = String> {
        (
            proptest::collection::vec((line(), prop_oneof![Just("\n"), Just("\r\n")]), 0..12),
            prop_oneof![Just(""), Just("\r"), Just("\n")],
        )
            .prop_map(|(lines, tail)| {
                let mut s: String = lines.into_iter().map(|(l, e)| l + e).collect();
                s.push_str(tail);
                s
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn two_pass_parse_equals_the_one_pass_reference(text in document()) {
            match (parse(text.as_bytes(), "t"), reference(text.as_bytes())) {
                (Ok(ours), Ok(theirs)) => prop_assert_eq!(ours, theirs),
                (Err(SbomError::Deb822 { line, .. }), Err(want)) => prop_assert_eq!(line, want),
                (ours, theirs) => prop_assert!(false, "{ours:?} against {theirs:?}"),
            }
        }

        #[test]
        fn raw_lookups_equal_parsed_lookups(text in document()) {
            if let Ok(raws) = paragraphs(text.as_bytes(), "t") {
                for raw in raws {
                    let parsed = raw.parse();
                    prop_assert!(!parsed.fields.is_empty());
                    let want = NAMES.map(|n| parsed.first_line(n));
                    prop_assert_eq!(raw.first_lines(NAMES), want);
                    prop_assert_eq!(RawParagraph::checked(raw.text()).parse(), parsed);
                    prop_assert_eq!(&text[raw.range()], raw.text());
                }
            }
        }
    }

    /// Every paragraph of this machine's own dpkg database reads the same both ways.
    #[test]
    fn the_hosts_status_reads_the_same_both_ways() {
        let Ok(bytes) = std::fs::read("/var/lib/dpkg/status") else {
            return;
        };
        let raws = paragraphs(&bytes, "status").unwrap();
        let parsed = reference(&bytes).unwrap();
        assert_eq!(raws.len(), parsed.len());
        for (raw, want) in raws.iter().zip(&parsed) {
            assert_eq!(&raw.parse(), want);
            assert_eq!(raw.first_lines(NAMES), NAMES.map(|n| want.first_line(n)));
        }
    }

    #[test]
    fn round_trips_fields_and_continuations() {
        let text = "Package: a\nDescription: short\n long line\n .\n more\n\n\nPackage: b\n";
        let paras = parse(text.as_bytes(), "t").unwrap();
        assert_eq!(paras.len(), 2);
        assert_eq!(paras[0].get("package"), Some("a"));
        assert_eq!(paras[0].first_line("Description"), Some("short"));
        assert_eq!(
            paras[0].to_text(),
            "Package: a\nDescription: short\n long line\n .\n more\n"
        );
    }

    #[test]
    fn rejects_garbage_with_line_numbers() {
        let err = parse(b"Package: a\nno colon here\n", "status").unwrap_err();
        assert!(err.to_string().contains("status line 2"), "{err}");
        assert!(parse(b" leading\n", "x").is_err());
        assert!(parse(b"Package: a\n\xff\n", "x").is_err());
    }

    #[test]
    fn empty_value_with_continuation_keeps_form() {
        let paras = parse(b"Conffiles:\n /etc/x abc\n", "t").unwrap();
        assert_eq!(paras[0].to_text(), "Conffiles:\n /etc/x abc\n");
    }
}
