//! Names from layers are untrusted: a file called `\x1b]0;pwned\x07` must not retitle the
//! terminal that lists it. [`escape`] is applied to every name and link target husk prints.

use std::borrow::Cow;

/// `s` with control characters (C0, DEL, C1) written as `\n`, `\t`, `\u{1b}`, ..., and
/// backslashes doubled so an escaped name can never be confused with a literal one.
/// Borrowed when nothing needs escaping (the common case).
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c.is_control() || c == '\\') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.extend(c.escape_debug()),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn control_characters_are_escaped() {
        for (raw, want) in [
            ("plain/name.txt", "plain/name.txt"),
            ("a\nb", "a\\nb"),
            ("\u{1b}]0;pwned\u{7}", "\\u{1b}]0;pwned\\u{7}"),
            ("tab\there", "tab\\there"),
            ("del\u{7f}", "del\\u{7f}"),
            ("c1\u{9b}31m", "c1\\u{9b}31m"),
            ("back\\slash", "back\\\\slash"),
            ("日本語 ok", "日本語 ok"),
        ] {
            assert_eq!(escape(raw), want, "{raw:?}");
        }
        assert!(matches!(escape("fine"), std::borrow::Cow::Borrowed(_)));
    }
}
