//! Untrusted text on a terminal: the one escaping helper every husk renderer calls.
//!
//! Image and Dockerfile data (file names, link targets, labels, Env, User, history,
//! platform strings, registry error bodies, SBOM names) is untrusted: a file called
//! `\x1b]0;pwned\x07` must not retitle the terminal that lists it, a `\r` must not
//! overwrite what was printed before it on the line, and a right-to-left override must not
//! make `evil.exe\u{202e}txt.sh` read as something else. Here, because every crate that
//! renders or quotes image data already depends on husk-oci (the root of the crate graph):
//! no new dependency edge and no crate of its own for two functions.
//!
//! What counts as unsafe ([`is_unsafe`]): C0 controls, DEL, C1 controls, the bidi
//! embeddings/overrides/isolates (U+202A-U+202E, U+2066-U+2069), the bidi marks (U+200E,
//! U+200F, U+061C) and the line/paragraph separators (U+2028, U+2029). Each is written
//! as a visible escape (`\u{1b}`, `\u{202e}`; `\n`, `\t`, `\r`, `\0` by name).
//!
//! Two forms, one rule:
//! - [`escape`] for one value on one line (a name, a label, a message field): every
//!   unsafe character escaped, newline and tab included, and backslashes doubled so an
//!   escaped name can never be confused with a literal one;
//! - [`escape_text`] for whole human-readable text (a rendered report, an error chain):
//!   newlines and tabs kept, backslashes kept, everything else unsafe escaped. Applying it
//!   to text whose fields went through [`escape`] changes nothing.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal raw (see the module header for the list).
#[must_use]
pub fn is_unsafe(c: char) -> bool {
    c.is_control() // C0, DEL and C1
        || matches!(
            c,
            '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{061c}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

/// `s` with every unsafe character written as an escape and backslashes doubled, for one
/// value on one line. Borrowed when nothing needs escaping (the common case).
#[must_use]
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| is_unsafe(c) || c == '\\') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if is_unsafe(c) => push_escaped(&mut out, c),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `s` with every unsafe character but newline and tab written as an escape, for whole
/// multi-line text. Borrowed when nothing needs escaping.
#[must_use]
pub fn escape_text(s: &str) -> Cow<'_, str> {
    let bad = |c: char| c != '\n' && c != '\t' && is_unsafe(c);
    if !s.chars().any(bad) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if bad(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        '\0' => out.push_str("\\0"),
        c => out.extend(c.escape_unicode()),
    }
}

#[cfg(test)]
mod tests {
    use super::{escape, escape_text, is_unsafe};

    #[test]
    fn values_are_escaped_on_one_line() {
        for (raw, want) in [
            ("plain/name.txt", "plain/name.txt"),
            ("a\nb", "a\\nb"),
            ("\u{1b}]0;pwned\u{7}", "\\u{1b}]0;pwned\\u{7}"),
            ("tab\there", "tab\\there"),
            ("cr\rover", "cr\\rover"),
            ("nul\0", "nul\\0"),
            ("del\u{7f}", "del\\u{7f}"),
            ("c1\u{9b}31m", "c1\\u{9b}31m"),
            ("evil\u{202e}hs.txt", "evil\\u{202e}hs.txt"),
            ("iso\u{2066}x\u{2069}", "iso\\u{2066}x\\u{2069}"),
            ("back\\slash", "back\\\\slash"),
            ("日本語 ok", "日本語 ok"),
            ("", ""),
        ] {
            assert_eq!(escape(raw), want, "{raw:?}");
        }
        assert!(matches!(escape("fine"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn text_keeps_its_lines() {
        assert_eq!(
            escape_text("line 1\n\tline \u{1b}[2J2\r\n"),
            "line 1\n\tline \\u{1b}[2J2\\r\n"
        );
        assert_eq!(escape_text("a\\b \u{202d}"), "a\\b \\u{202d}");
        assert!(matches!(escape_text("a\nb"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn escaping_is_total_and_idempotent_on_text() {
        // Every code point: nothing unsafe survives either form, and escape_text of an
        // escaped value is the value itself.
        for c in (0u32..0x11_0000).filter_map(char::from_u32) {
            let s = format!("x{c}y");
            let one = escape(&s);
            assert!(!one.chars().any(is_unsafe), "{c:?}");
            assert_eq!(escape_text(&one), one, "{c:?}");
            let text = escape_text(&s);
            assert!(
                !text.chars().any(|c| c != '\n' && c != '\t' && is_unsafe(c)),
                "{c:?}"
            );
        }
    }
}
