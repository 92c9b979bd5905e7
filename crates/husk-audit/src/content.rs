//! Judging file bytes: ELF facts and TLS markers, shebangs, which small files to keep,
//! secrets by name and by content, and CA bundles (PEM -> DER -> validity). Pure functions
//! over bytes, shared by the layer scan and the test fakes.

use std::path::Path;
use std::sync::OnceLock;

use aho_corasick::AhoCorasick;

use crate::facts::Content;

/// Files up to this size are inspected whole (ELF facts, TLS markers).
pub const MAX_INSPECT: u64 = 64 << 20;
/// Files up to this size are searched for secrets.
pub const MAX_SECRET_SCAN: u64 = 1 << 20;
/// Largest file kept in memory for rules (passwd, group, CA bundles).
pub const MAX_KEEP: u64 = 4 << 20;
/// Most bytes of all kept files together: an image full of passwd- or certificate-shaped
/// files must not hold the scan's memory hostage.
pub const MAX_KEEP_TOTAL: u64 = 64 << 20;

/// Strings that show a program carries a TLS implementation, and what to call it.
const TLS_MARKERS: &[(&[u8], &str)] = &[
    (b"rustls", "rustls"),
    (b"crypto/tls.", "Go crypto/tls"),
    (b"OpenSSL 1.", "OpenSSL (static)"),
    (b"OpenSSL 3.", "OpenSSL (static)"),
    (b"BoringSSL", "BoringSSL"),
    (b"mbed TLS", "mbed TLS"),
    (b"wolfSSL", "wolfSSL"),
];

fn tls_automaton() -> &'static AhoCorasick {
    static A: OnceLock<AhoCorasick> = OnceLock::new();
    A.get_or_init(|| {
        AhoCorasick::new(TLS_MARKERS.iter().map(|(m, _)| *m)).expect("static patterns build")
    })
}

/// Shared libraries that are TLS implementations.
const TLS_LIBS: &[&str] = &[
    "libssl.so",
    "libgnutls.so",
    "libnss3.so",
    "libmbedtls.so",
    "libwolfssl.so",
    "libtls.so",
];

/// The TLS library a DT_NEEDED name is, if any.
#[must_use]
pub fn tls_library(needed: &str) -> Option<&'static str> {
    TLS_LIBS.iter().copied().find(|l| needed.starts_with(l))
}

/// Facts from a whole file's bytes (for files up to [`MAX_INSPECT`]).
#[must_use]
pub fn inspect(path: &str, bytes: &[u8]) -> Content {
    let mut c = Content::default();
    if husk_elf::is_elf(bytes) {
        let info = husk_elf::parse_elf(bytes, Path::new(path)).map_err(|e| e.to_string());
        c.tls = info
            .as_ref()
            .ok()
            .and_then(|i| i.needed.iter().find_map(|n| tls_library(n)))
            .map(str::to_owned)
            .or_else(|| {
                tls_automaton()
                    .find(bytes)
                    .map(|m| TLS_MARKERS[m.pattern().as_usize()].1.to_owned())
            });
        c.versions = husk_elf::symbol_versions(bytes, Path::new(path))
            .ok()
            .filter(|v| !v.is_empty());
        c.elf = Some(info);
        c.exec = husk_elf::exec_check(bytes);
        c.build_data = build_data(bytes);
    } else if let Some(rest) = bytes.strip_prefix(b"#!") {
        let line = rest.split(|&b| b == b'\n').next().unwrap_or_default();
        let line = &line[..line.len().min(256)];
        let line = String::from_utf8_lossy(line);
        c.shebang = Some(line.trim_matches([' ', '\t']).to_owned());
    }
    if keep(path, bytes.len() as u64, bytes) {
        c.bytes = Some(bytes.to_vec());
    }
    c
}

/// The dependency data scanners read from an ELF program, by its section name (held in
/// the section-name string table, each name NUL-terminated).
fn build_data(bytes: &[u8]) -> Option<&'static str> {
    if find(bytes, b".dep-v0\0").is_some() {
        Some("cargo-auditable crate list")
    } else if find(bytes, b".go.buildinfo\0").is_some() {
        Some("Go build info")
    } else {
        None
    }
}

/// Whether rules may need this file's bytes: passwd/group by name or by shape, the
/// loader's ld.so.cache, and certificate files.
#[must_use]
pub fn keep(path: &str, size: u64, head: &[u8]) -> bool {
    if size > MAX_KEEP {
        return false;
    }
    let base = path.rsplit('/').next().unwrap_or_default();
    if matches!(base, "passwd" | "group" | "ld.so.cache") {
        return true;
    }
    let head = &head[..head.len().min(4096)];
    if find(head, b"-----BEGIN CERTIFICATE-----").is_some() {
        return true;
    }
    // A passwd-shaped first line (`name:x:0:0:`), whatever the file is called.
    if size <= 64 << 10 {
        let first = head.split(|&b| b == b'\n').next().unwrap_or_default();
        let f: Vec<&[u8]> = first.split(|&b| b == b':').collect();
        return f.len() == 7
            && !f[0].is_empty()
            && [f[2], f[3]]
                .iter()
                .all(|x| !x.is_empty() && x.iter().all(u8::is_ascii_digit));
    }
    false
}

/// Naive substring search (the needles are short and rare).
#[must_use]
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    let first = needle[0];
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        match hay[i..=hay.len() - needle.len()]
            .iter()
            .position(|&b| b == first)
        {
            None => return None,
            Some(p) => {
                i += p;
                if &hay[i..i + needle.len()] == needle {
                    return Some(i);
                }
                i += 1;
            }
        }
    }
    None
}

/// A credential file recognised by its path (and a hint of its content).
#[must_use]
pub fn secret_by_path(path: &str, bytes: Option<&[u8]>) -> Option<&'static str> {
    let base = path.rsplit('/').next().unwrap_or_default();
    let has = |s: &[u8]| bytes.is_some_and(|b| find(b, s).is_some());
    match base {
        "id_rsa" | "id_dsa" | "id_ecdsa" | "id_ed25519" => Some("an SSH private key file"),
        "credentials" if path.ends_with("/.aws/credentials") => Some("an AWS credentials file")
            .filter(|_| bytes.is_none() || has(b"aws_secret_access_key")),
        "config.json" if path.ends_with("/.docker/config.json") => {
            Some("a Docker registry credentials file")
                .filter(|_| bytes.is_none() || has(b"\"auth\""))
        }
        ".npmrc" => Some("an npm token file").filter(|_| bytes.is_none() || has(b"_auth")),
        ".pypirc" => {
            Some("a PyPI credentials file").filter(|_| bytes.is_none() || has(b"password"))
        }
        ".netrc" => Some("a .netrc with passwords").filter(|_| bytes.is_none() || has(b"password")),
        ".git-credentials" => Some("a git credentials file"),
        ".env" => Some("a .env file with secrets").filter(|_| {
            bytes.is_some_and(|b| {
                String::from_utf8_lossy(b).lines().any(|l| {
                    l.split_once('=')
                        .is_some_and(|(k, v)| secret_name(k.trim()) && !v.trim().is_empty())
                })
            })
        }),
        _ if base.ends_with(".p12") || base.ends_with(".pfx") => Some("a PKCS#12 key store"),
        _ => None,
    }
}

/// Whether an environment variable or build argument name looks like it holds a secret.
#[must_use]
pub fn secret_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    if n.ends_with("_FILE") || n.ends_with("_PATH") || n.ends_with("_DIR") || n == "GPG_KEY" {
        return false;
    }
    [
        "PASSWORD",
        "PASSWD",
        "SECRET",
        "TOKEN",
        "API_KEY",
        "APIKEY",
        "PRIVATE_KEY",
        "ACCESS_KEY",
        "CREDENTIAL",
        "AUTH_KEY",
    ]
    .iter()
    .any(|w| n.contains(w))
}

/// A token prefix, the minimum length of the rest, which bytes the rest has, and what it is.
type Token = (&'static [u8], usize, fn(u8) -> bool, &'static str);

const TOKENS: &[Token] = &[
    (b"AKIA", 16, upper_digit, "an AWS access key id"),
    (b"ASIA", 16, upper_digit, "an AWS temporary access key id"),
    (b"ghp_", 36, alnum, "a GitHub personal access token"),
    (b"gho_", 36, alnum, "a GitHub OAuth token"),
    (b"ghs_", 36, alnum, "a GitHub app token"),
    (b"ghu_", 36, alnum, "a GitHub user-to-server token"),
    (b"github_pat_", 40, token, "a GitHub fine-grained token"),
    (b"glpat-", 20, token, "a GitLab personal access token"),
    (b"xoxb-", 20, token, "a Slack bot token"),
    (b"xoxp-", 20, token, "a Slack user token"),
    (b"AIza", 35, token, "a Google API key"),
    (b"sk_live_", 24, alnum, "a Stripe live secret key"),
    (b"npm_", 36, alnum, "an npm access token"),
    (b"pypi-AgEIcHlwaS5vcmc", 50, token, "a PyPI API token"),
];

fn upper_digit(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit()
}
fn alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}
fn token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn secret_automaton() -> &'static AhoCorasick {
    static A: OnceLock<AhoCorasick> = OnceLock::new();
    A.get_or_init(|| {
        let mut pats: Vec<&[u8]> = vec![b"-----BEGIN "];
        pats.extend(TOKENS.iter().map(|t| t.0));
        AhoCorasick::new(pats).expect("static patterns build")
    })
}

/// The PEM label of a private key block, and what to call it.
fn pem_private_key(label: &[u8]) -> Option<&'static str> {
    match label {
        b"OPENSSH PRIVATE KEY" => Some("an OpenSSH private key"),
        b"RSA PRIVATE KEY" => Some("an RSA private key (PEM)"),
        b"EC PRIVATE KEY" => Some("an EC private key (PEM)"),
        b"DSA PRIVATE KEY" => Some("a DSA private key (PEM)"),
        b"PRIVATE KEY" => Some("a PKCS#8 private key"),
        b"ENCRYPTED PRIVATE KEY" => Some("an encrypted PKCS#8 private key"),
        b"PGP PRIVATE KEY BLOCK" => Some("a PGP private key"),
        _ => None,
    }
}

/// Whether a real PEM body follows a `-----BEGIN LABEL-----` line: base64 (after optional
/// `Key: value` headers) up to `-----END LABEL-----`. Source code that merely names the
/// markers (parsers, tests of parsers) has no such body.
fn pem_body(label: &[u8], rest: &[u8]) -> bool {
    let mut end = b"-----END ".to_vec();
    end.extend_from_slice(label);
    end.extend_from_slice(b"-----");
    let Some(e) = find(&rest[..rest.len().min(64 << 10)], &end) else {
        return false;
    };
    let mut b64 = 0usize;
    for line in rest[..e].split(|&b| b == b'\n') {
        let line = line.trim_ascii();
        if line.is_empty() || line.contains(&b':') {
            continue;
        }
        if !line
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'='))
        {
            return false;
        }
        b64 += line.len();
    }
    b64 >= 32
}

/// Secrets in a file's content: private keys and tokens (each kind once), in one pass.
#[must_use]
pub fn secrets_in(bytes: &[u8]) -> Vec<&'static str> {
    let mut out = Vec::new();
    for m in secret_automaton().find_iter(bytes) {
        let tail = &bytes[m.end()..];
        let what = match m.pattern().as_usize() {
            0 => find(&tail[..tail.len().min(64)], b"-----").and_then(|e| {
                pem_private_key(&tail[..e]).filter(|_| pem_body(&tail[..e], &tail[e + 5..]))
            }),
            p => {
                let (_, min, ok, what) = TOKENS[p - 1];
                let boundary = m.start() == 0 || !token(bytes[m.start() - 1]);
                let n = tail.iter().take_while(|&&b| ok(b)).count();
                (boundary && n >= min).then_some(what)
            }
        };
        if let Some(w) = what
            && !out.contains(&w)
        {
            out.push(w);
        }
    }
    out
}

/// What a CA bundle holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bundle {
    /// Certificates that parsed.
    pub certs: usize,
    /// PEM blocks that did not decode or parse.
    pub bad: usize,
    /// Parsed certificates whose notAfter is before now.
    pub expired: usize,
}

/// Parse the PEM certificates of a bundle and count the expired ones at `now`.
#[must_use]
pub fn parse_bundle(bytes: &[u8], now: i64) -> Bundle {
    let mut b = Bundle::default();
    let text = String::from_utf8_lossy(bytes);
    let mut rest = text.as_ref();
    while let Some(i) = rest.find("-----BEGIN CERTIFICATE-----") {
        let body = &rest[i + 27..];
        let Some(end) = body.find("-----END CERTIFICATE-----") else {
            b.bad += 1;
            break;
        };
        match base64(&body[..end]).and_then(|der| not_after(&der)) {
            Some(t) => {
                b.certs += 1;
                if t < now {
                    b.expired += 1;
                }
            }
            None => b.bad += 1,
        }
        rest = &body[end..];
    }
    b
}

fn base64(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// One DER TLV: (tag, content, rest).
fn tlv(d: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, d) = d.split_first()?;
    let (&l0, mut d) = d.split_first()?;
    let len = if l0 < 0x80 {
        usize::from(l0)
    } else {
        let n = usize::from(l0 & 0x7f);
        if n == 0 || n > 4 || d.len() < n {
            return None;
        }
        let v = d[..n]
            .iter()
            .fold(0usize, |a, &b| (a << 8) | usize::from(b));
        d = &d[n..];
        v
    };
    (d.len() >= len).then(|| (tag, &d[..len], &d[len..]))
}

/// The notAfter of a DER certificate, as Unix time.
fn not_after(der: &[u8]) -> Option<i64> {
    let (0x30, cert, _) = tlv(der)? else {
        return None;
    };
    let (0x30, tbs, _) = tlv(cert)? else {
        return None;
    };
    let mut d = tbs;
    let (tag, _, rest) = tlv(d)?;
    if tag == 0xa0 {
        d = rest;
    }
    let (_serial, _, d) = tlv(d)?;
    let (_sigalg, _, d) = tlv(d)?;
    let (_issuer, _, d) = tlv(d)?;
    let (0x30, validity, _) = tlv(d)? else {
        return None;
    };
    let (_, _, v) = tlv(validity)?;
    let (tag, t, _) = tlv(v)?;
    time(tag, t)
}

fn time(tag: u8, t: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(t).ok()?;
    let (year, rest) = match tag {
        0x17 => {
            let yy: i64 = s.get(..2)?.parse().ok()?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, s.get(2..)?)
        }
        0x18 => (s.get(..4)?.parse().ok()?, s.get(4..)?),
        _ => return None,
    };
    let n = |r: std::ops::Range<usize>| -> Option<i64> { rest.get(r)?.parse().ok() };
    let (mo, da, h, mi, se) = (
        n(0..2)?,
        n(2..4)?,
        n(4..6)?,
        n(6..8)?,
        n(8..10).unwrap_or(0),
    );
    let date = time::Date::from_calendar_date(
        i32::try_from(year).ok()?,
        time::Month::try_from(u8::try_from(mo).ok()?).ok()?,
        u8::try_from(da).ok()?,
    )
    .ok()?;
    let at = date
        .with_hms(
            u8::try_from(h).ok()?,
            u8::try_from(mi).ok()?,
            u8::try_from(se).ok()?,
        )
        .ok()?;
    Some(at.assume_utc().unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_and_tokens() {
        let key =
            b"x\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ==\n-----END OPENSSH PRIVATE KEY-----\n";
        assert_eq!(secrets_in(key), vec!["an OpenSSH private key"]);
        assert_eq!(
            secrets_in(b"aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"),
            vec!["an AWS access key id"]
        );
        assert!(secrets_in(b"-----BEGIN CERTIFICATE-----\nMII\n").is_empty());
        // A parser naming the markers is not a key.
        let code = b"_SK_START = b\"-----BEGIN OPENSSH PRIVATE KEY-----\"\n_SK_END = b\"-----END OPENSSH PRIVATE KEY-----\"\n";
        assert!(secrets_in(code).is_empty());
        assert!(secrets_in(b"the word AKIA alone, ghp_short").is_empty());
    }

    #[test]
    fn secret_names() {
        assert!(secret_name("DB_PASSWORD"));
        assert!(secret_name("GITHUB_TOKEN"));
        assert!(!secret_name("DB_PASSWORD_FILE"));
        assert!(!secret_name("GPG_KEY"));
        assert!(!secret_name("PATH"));
    }

    #[test]
    fn dates() {
        assert_eq!(time(0x17, b"700101000000Z"), Some(0));
        assert_eq!(time(0x17, b"000101000000Z"), Some(946_684_800));
        assert_eq!(time(0x17, b"001301000000Z"), None, "month 13");
        assert_eq!(time(0x18, b"20380119031407Z"), Some(2_147_483_647));
    }

    #[test]
    fn keep_passwd_by_shape() {
        assert!(keep(
            "/usr/share/users",
            30,
            b"app:x:10:10::/home/app:/bin/sh\n"
        ));
        assert!(!keep("/usr/share/notes", 30, b"hello: world\n"));
    }
}
