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

/// Parses every paragraph of `text`; `what` names the document in errors.
///
/// # Errors
/// [`SbomError::Deb822`] when the text is not UTF-8, a line has no `:` or a continuation
/// line comes before any field.
pub fn parse(bytes: &[u8], what: &str) -> Result<Vec<Paragraph>> {
    let text = std::str::from_utf8(bytes).map_err(|e| SbomError::Deb822 {
        what: what.to_owned(),
        line: 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count(),
        reason: "not valid UTF-8".to_owned(),
    })?;
    let mut paragraphs = Vec::new();
    let mut current = Paragraph::default();
    for (index, line) in text.lines().enumerate() {
        let err = |reason: &str| SbomError::Deb822 {
            what: what.to_owned(),
            line: index + 1,
            reason: reason.to_owned(),
        };
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
            let field = current
                .fields
                .last_mut()
                .ok_or_else(|| err("continuation line before any field"))?;
            field.value.push('\n');
            field.value.push_str(line);
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| err("line is neither `Name: value` nor a continuation"))?;
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(err("field name is empty or contains white space"));
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

#[cfg(test)]
mod tests {
    use super::*;

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
