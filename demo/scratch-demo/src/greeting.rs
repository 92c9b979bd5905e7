//! The greeting, byte for byte as the Go original writes it.
//!
//! The original handler is, in effect,
//! `fmt.Fprintf(w, "Hello, %q from Scratch Demo!", html.EscapeString(r.URL.Path))`.
//! That is three steps, each reproduced here on bytes (a Go string may hold invalid UTF-8,
//! and `r.URL.Path` does when the client percent-encodes such bytes):
//!
//! 1. [`decode_path`]: Go's `url.unescape` in `encodePath` mode, as `url.ParseRequestURI`
//!    applies it to the request target's path. Every `%` must be followed by two hex digits
//!    (else Go's server answers `400 Bad Request`, see [`bad_request_body`]); `+` stays `+`;
//!    `%2F` becomes `/`.
//! 2. [`html_escape`]: Go's `html.EscapeString`: `&`, `'`, `<`, `>`, `"` become `&amp;`,
//!    `&#39;`, `&lt;`, `&gt;`, `&#34;`; nothing else changes.
//! 3. [`go_quote`]: Go's `strconv.Quote` (the `%q` verb).
//!
//! # How `unicode.IsPrint` is approximated
//! Go keeps a character as is when `unicode.IsPrint` holds: general categories L, M, N, P, S
//! and the ASCII space. Rust's standard library exposes no general category, so
//! [`is_go_print`] reverses the question and lists what is *not* printable: all of Cc, Zs
//! (except U+0020), Zl, Zp, Cf (the complete Unicode 15 list), Co (private use),
//! the noncharacters, and the large unassigned ranges (U+FFF0..U+FFF8, U+2FE0..U+2FEF,
//! U+323B0.. to the end of plane 3, planes 4 to 13, and the unassigned parts of plane 14).
//! Code points outside those lists are treated as printable. This matches Go exactly for
//! every assigned character; it differs only for scattered unassigned code points inside
//! otherwise assigned blocks (for example U+0378), which Go escapes as `\u0378` and this
//! code keeps as is. Such a character cannot be displayed by anyone anyway.

/// The greeting for a raw request path (as it appears in the request target, before the
/// query): `Hello, "<path>" from Scratch Demo!`.
///
/// # Errors
/// [`PathDecodeError`] when the path holds a malformed percent-escape; Go's server answers
/// such a request with `400 Bad Request`.
pub fn greeting(raw_path: &str) -> Result<String, PathDecodeError> {
    let decoded = decode_path(raw_path)?;
    let escaped = html_escape(&decoded);
    Ok(format!("Hello, {} from Scratch Demo!", go_quote(&escaped)))
}

/// The body Go's `net/http` server writes for a request it cannot parse.
pub fn bad_request_body() -> &'static str {
    "400 Bad Request"
}

/// A malformed percent-escape, such as `%zz`, `%4` or a trailing `%`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid URL escape {escape:?}")]
pub struct PathDecodeError {
    /// The offending escape, up to three bytes, as Go's `url.EscapeError` reports it.
    pub escape: String,
}

/// Percent-decodes a path the way Go's `url.PathUnescape` does (`encodePath` mode).
///
/// # Errors
/// [`PathDecodeError`] when a `%` is not followed by two hex digits.
pub fn decode_path(raw: &str) -> Result<Vec<u8>, PathDecodeError> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            match (
                bytes.get(i + 1).copied().and_then(hex_value),
                bytes.get(i + 2).copied().and_then(hex_value),
            ) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 3;
                }
                _ => {
                    let end = (i + 3).min(bytes.len());
                    return Err(PathDecodeError {
                        escape: String::from_utf8_lossy(&bytes[i..end]).into_owned(),
                    });
                }
            }
        } else {
            out.push(b);
            i += 1;
        }
    }
    Ok(out)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Go's `html.EscapeString`, on bytes (invalid UTF-8 passes through untouched).
pub fn html_escape(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    for &b in input {
        match b {
            b'&' => out.extend_from_slice(b"&amp;"),
            b'\'' => out.extend_from_slice(b"&#39;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            b'"' => out.extend_from_slice(b"&#34;"),
            _ => out.push(b),
        }
    }
    out
}

/// Go's `strconv.Quote` on a byte string: double-quoted, with Go's escapes.
///
/// Invalid UTF-8 is escaped byte by byte as `\xNN`, as Go's decoder yields one
/// `RuneError` of width 1 per byte it cannot decode. The result is always valid UTF-8.
pub fn go_quote(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len() + 2);
    out.push('"');
    for chunk in input.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_escaped_char(&mut out, c);
        }
        for &b in chunk.invalid() {
            push_hex_byte(&mut out, b);
        }
    }
    out.push('"');
    out
}

fn push_hex_byte(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push_str("\\x");
    out.push(char::from(HEX[usize::from(b >> 4)]));
    out.push(char::from(HEX[usize::from(b & 0xf)]));
}

fn push_escaped_char(out: &mut String, c: char) {
    match c {
        '"' | '\\' => {
            out.push('\\');
            out.push(c);
        }
        _ if is_go_print(c) => out.push(c),
        '\u{07}' => out.push_str("\\a"),
        '\u{08}' => out.push_str("\\b"),
        '\u{0C}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{0B}' => out.push_str("\\v"),
        _ => {
            let cp = u32::from(c);
            if cp < 0x20 || cp == 0x7f {
                // Fits in a byte by the guard.
                push_hex_byte(out, cp as u8);
            } else if cp < 0x1_0000 {
                out.push_str(&format!("\\u{cp:04x}"));
            } else {
                out.push_str(&format!("\\U{cp:08x}"));
            }
        }
    }
}

/// Inclusive ranges of code points that Go's `unicode.IsPrint` rejects (see the module
/// docs for what is covered). Sorted, non-overlapping.
const NOT_PRINT: &[(u32, u32)] = &[
    (0x0000, 0x001f),    // Cc
    (0x007f, 0x00a0),    // Cc, then U+00A0 NO-BREAK SPACE (Zs)
    (0x00ad, 0x00ad),    // Cf SOFT HYPHEN
    (0x0600, 0x0605),    // Cf Arabic number signs
    (0x061c, 0x061c),    // Cf ARABIC LETTER MARK
    (0x06dd, 0x06dd),    // Cf ARABIC END OF AYAH
    (0x070f, 0x070f),    // Cf SYRIAC ABBREVIATION MARK
    (0x0890, 0x0891),    // Cf Arabic pound/piastre mark above
    (0x08e2, 0x08e2),    // Cf ARABIC DISPUTED END OF AYAH
    (0x1680, 0x1680),    // Zs OGHAM SPACE MARK
    (0x180e, 0x180e),    // Cf MONGOLIAN VOWEL SEPARATOR
    (0x2000, 0x200f),    // Zs en quad..hair space, Cf ZWSP..RLM
    (0x2028, 0x202f),    // Zl, Zp, Cf bidi embeddings, Zs NARROW NO-BREAK SPACE
    (0x205f, 0x206f),    // Zs MEDIUM MATHEMATICAL SPACE, Cf WORD JOINER.., U+2065 unassigned
    (0x2fe0, 0x2fef),    // unassigned
    (0x3000, 0x3000),    // Zs IDEOGRAPHIC SPACE
    (0xe000, 0xf8ff),    // Co private use
    (0xfdd0, 0xfdef),    // noncharacters
    (0xfeff, 0xfeff),    // Cf ZERO WIDTH NO-BREAK SPACE (BOM)
    (0xfff0, 0xfffb),    // unassigned, then Cf interlinear annotation
    (0xfffe, 0xffff),    // noncharacters
    (0x110bd, 0x110bd),  // Cf KAITHI NUMBER SIGN
    (0x110cd, 0x110cd),  // Cf KAITHI NUMBER SIGN ABOVE
    (0x13430, 0x1343f),  // Cf Egyptian hieroglyph format controls
    (0x1bca0, 0x1bca3),  // Cf shorthand format controls
    (0x1d173, 0x1d17a),  // Cf musical symbol beam/tie/slur/phrase controls
    (0x323b0, 0xe00ff),  // unassigned rest of plane 3, planes 4-13, E0000-E00FF (tags are Cf)
    (0xe01f0, 0x10ffff), // unassigned rest of plane 14, private use planes 15-16
];

/// Whether Go's `unicode.IsPrint` would keep `c` as is (see the module docs for the
/// approximation).
pub fn is_go_print(c: char) -> bool {
    let cp = u32::from(c);
    // Noncharacters U+nFFFE and U+nFFFF in every plane.
    if cp & 0xfffe == 0xfffe {
        return false;
    }
    let idx = NOT_PRINT.partition_point(|&(_, hi)| hi < cp);
    match NOT_PRINT.get(idx) {
        Some(&(lo, _)) => cp < lo,
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected outputs derived from Go's documented `url.PathUnescape`,
    /// `html.EscapeString` and `strconv.Quote` semantics (see each comment).
    const TABLE: &[(&str, &str)] = &[
        ("/", r#""/""#),
        ("/hello", r#""/hello""#),
        // The two examples from the seed README.
        ("/a%22b", r#""/a&#34;b""#),
        ("/tab%09x", r#""/tab\tx""#),
        // HTML escaping happens before quoting, so no `\"` can ever appear.
        ("/%22quoted%22", r#""/&#34;quoted&#34;""#),
        ("/it's", r#""/it&#39;s""#),
        ("/it%27s", r#""/it&#39;s""#),
        ("/a&b", r#""/a&amp;b""#),
        (
            "/%3Cscript%3Ealert(1)%3C/script%3E",
            r#""/&lt;script&gt;alert(1)&lt;/script&gt;""#,
        ),
        ("/back%5Cslash", r#""/back\\slash""#),
        // Control characters: the named escapes, others as \xNN.
        ("/%07%08%0C%0A%0D%0B", r#""/\a\b\f\n\r\v""#),
        ("/%00", r#""/\x00""#),
        ("/%1b[31m", r#""/\x1b[31m""#),
        ("/%7F", r#""/\x7f""#),
        // C1 controls and NBSP are valid runes but not printable: \u00NN.
        ("/%C2%80", r#""/\u0080""#),
        ("/%C2%A0", r#""/\u00a0""#),
        ("/%C2%AD", r#""/\u00ad""#),
        // Space is printable; `+` is not decoded in a path.
        ("/a%20b", r#""/a b""#),
        ("/a+b", r#""/a+b""#),
        ("/%25", r#""/%""#),
        // %2F is decoded, as in r.URL.Path (RawPath would keep it).
        ("/a%2Fb", r#""/a/b""#),
        // Printable Unicode is kept: accented letters, CJK, emoji, combining marks.
        ("/caf%C3%A9", "\"/café\""),
        ("/%E6%97%A5%E6%9C%AC", "\"/日本\""),
        ("/%F0%9F%98%80", "\"/😀\""),
        ("/e%CC%81", "\"/e\u{301}\""),
        ("/%EF%BF%BD", "\"/\u{fffd}\""),
        // Format characters (Cf) and separators (Zl, Zp, Zs) are escaped.
        ("/%F0%9F%91%A8%E2%80%8D%F0%9F%91%A9", "\"/👨\\u200d👩\""),
        ("/%EF%BB%BF", r#""/\ufeff""#),
        ("/%E2%80%A8%E2%80%A9", r#""/\u2028\u2029""#),
        ("/%E3%80%80", r#""/\u3000""#),
        ("/%E2%80%AE", r#""/\u202e""#),
        // Private use and noncharacters; beyond the BMP as \UNNNNNNNN.
        ("/%EE%80%80", r#""/\ue000""#),
        ("/%EF%BF%BE", r#""/\ufffe""#),
        ("/%F3%A0%80%81", r#""/\U000e0001""#),
        ("/%F4%8F%BF%BF", r#""/\U0010ffff""#),
        // Supplementary printable characters are kept (variation selector, math letter).
        ("/%F3%A0%84%80", "\"/\u{e0100}\""),
        ("/%F0%9D%90%80", "\"/\u{1d400}\""),
        // Invalid UTF-8: one \xNN per byte Go cannot decode.
        ("/%ff", r#""/\xff""#),
        ("/%FF%FE", r#""/\xff\xfe""#),
        ("/%E2%82", r#""/\xe2\x82""#),
        ("/%E2%82A", r#""/\xe2\x82A""#),
        ("/%ED%A0%80", r#""/\xed\xa0\x80""#),
        ("/%C0%AF", r#""/\xc0\xaf""#),
        ("/%F4%90%80%80", r#""/\xf4\x90\x80\x80""#),
        ("/%C3%A9%FF%C3%A9", "\"/é\\xffé\""),
    ];

    #[test]
    fn greeting_matches_go_table() {
        for (path, quoted) in TABLE {
            let want = format!("Hello, {quoted} from Scratch Demo!");
            assert_eq!(greeting(path).as_deref(), Ok(want.as_str()), "path {path}");
        }
    }

    #[test]
    fn seed_readme_examples_verbatim() {
        assert_eq!(
            greeting("/a%22b").unwrap(),
            r#"Hello, "/a&#34;b" from Scratch Demo!"#
        );
        assert_eq!(
            greeting("/tab%09x").unwrap(),
            r#"Hello, "/tab\tx" from Scratch Demo!"#
        );
    }

    #[test]
    fn malformed_escapes_are_errors_like_go() {
        for (path, escape) in [
            ("/%zz", "%zz"),
            ("/%4", "%4"),
            ("/%", "%"),
            ("/a%g1b", "%g1"),
        ] {
            assert_eq!(
                decode_path(path),
                Err(PathDecodeError {
                    escape: escape.into()
                }),
                "path {path}"
            );
            assert!(greeting(path).is_err());
        }
    }

    #[test]
    fn html_escape_matches_go() {
        assert_eq!(
            html_escape(br#"<a href="x">'&'</a>"#),
            b"&lt;a href=&#34;x&#34;&gt;&#39;&amp;&#39;&lt;/a&gt;".to_vec()
        );
        assert_eq!(html_escape(b"\xff&"), b"\xff&amp;".to_vec());
    }

    #[test]
    fn quote_escapes_quote_and_backslash() {
        assert_eq!(go_quote(br#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(go_quote(b""), r#""""#);
    }

    #[test]
    fn not_print_table_is_sorted() {
        for w in NOT_PRINT.windows(2) {
            assert!(w[0].0 <= w[0].1 && w[0].1 < w[1].0, "{w:?}");
        }
    }

    #[test]
    fn print_classification_spot_checks() {
        for c in [
            ' ',
            'a',
            '~',
            'é',
            '\u{301}',
            '€',
            '😀',
            '\u{fffd}',
            '\u{e0100}',
        ] {
            assert!(is_go_print(c), "{c:?} should be printable");
        }
        for c in [
            '\0',
            '\u{7f}',
            '\u{85}',
            '\u{a0}',
            '\u{200b}',
            '\u{2060}',
            '\u{e000}',
            '\u{fdd0}',
            '\u{1fffe}',
            '\u{e0041}',
            '\u{f0000}',
            '\u{10ffff}',
        ] {
            assert!(!is_go_print(c), "{c:?} should not be printable");
        }
    }
}
