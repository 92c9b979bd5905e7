//! Registry image references, `docker://HOST[:PORT]/REPO[:TAG][@DIGEST]` (the skopeo
//! `docker://` transport), parsed by the grammar of the distribution project's
//! `reference` package:
//!
//! ```text
//! reference       := name [ ":" tag ] [ "@" digest ]
//! name            := [domain '/'] path-component ['/' path-component]*
//! domain          := host [':' port-number]
//! host            := domain-name | IPv4address | '[' IPv6address ']'
//! domain-component:= /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
//! path-component  := /[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*/
//! tag             := /[\w][\w.-]{0,127}/
//! ```
//!
//! As in Docker, the first component is a domain only if it contains `.` or `:` or is
//! `localhost`; otherwise the domain is `docker.io` (and a one-component path gets
//! `library/`). This module only parses and displays; the rest of the crate speaks HTTP.

use std::fmt;
use std::str::FromStr;

use husk_oci::Digest;

/// The default registry domain of a reference without one.
pub const DEFAULT_DOMAIN: &str = "docker.io";
/// The longest name (domain + path) the distribution spec allows.
pub const NAME_MAX: usize = 255;

/// An image in a registry: `domain/repository` plus a tag and/or a digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegistryRef {
    /// `host[:port]`, as written (`localhost:5000`, `[::1]:5000`, `ghcr.io`).
    pub domain: String,
    /// The repository path, e.g. `library/busybox`.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

/// Why a registry reference is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RegistryRefError(pub String);

impl RegistryRef {
    /// The host without the port (brackets of an IPv6 address removed).
    pub fn host(&self) -> &str {
        let d = self.domain.as_str();
        if let Some(rest) = d.strip_prefix('[') {
            return rest.split(']').next().unwrap_or(rest);
        }
        d.rsplit_once(':').map_or(d, |(h, _)| h)
    }

    /// The port, when one is written.
    pub fn port(&self) -> Option<u16> {
        let d = self.domain.as_str();
        let after = match d.strip_prefix('[') {
            Some(rest) => rest.split_once(']').map(|(_, p)| p)?,
            None => d,
        };
        after.rsplit_once(':').and_then(|(_, p)| p.parse().ok())
    }

    /// What a manifest is fetched or pushed by: the digest if given, else the tag, else
    /// `latest`.
    pub fn manifest_reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".into(),
        }
    }

    /// The same repository with another tag and no digest.
    pub fn with_tag(&self, tag: &str) -> RegistryRef {
        RegistryRef {
            tag: Some(tag.to_owned()),
            digest: None,
            ..self.clone()
        }
    }

    /// Whether the host is a loopback name or address (`localhost`, 127.0.0.0/8, ::1).
    pub fn is_loopback(&self) -> bool {
        let h = self.host();
        h.eq_ignore_ascii_case("localhost")
            || h.parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

impl fmt::Display for RegistryRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "docker://{}/{}", self.domain, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

fn is_domain_component(c: &str) -> bool {
    let b = c.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
}

fn check_domain(d: &str) -> Result<(), RegistryRefError> {
    let bad = |why: &str| {
        Err(RegistryRefError(format!(
            "invalid registry host {d:?}: {why}"
        )))
    };
    let (host, port) = if let Some(rest) = d.strip_prefix('[') {
        let Some((ip, after)) = rest.split_once(']') else {
            return bad("unclosed '['");
        };
        if ip.parse::<std::net::Ipv6Addr>().is_err() {
            return bad("not an IPv6 address inside [ ]");
        }
        match after {
            "" => (None, None),
            p => match p.strip_prefix(':') {
                Some(p) => (None, Some(p)),
                None => return bad("unexpected text after ']'"),
            },
        }
    } else {
        match d.split_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(d), None),
        }
    };
    if let Some(h) = host
        && !h.split('.').all(is_domain_component)
    {
        return bad("each dot-separated part must be letters, digits and inner '-'");
    }
    if let Some(p) = port
        && (p.is_empty()
            || p.len() > 5
            || !p.bytes().all(|b| b.is_ascii_digit())
            || p.parse::<u32>().map_or(true, |n| n == 0 || n > 65535))
    {
        return bad("the port must be a number from 1 to 65535");
    }
    Ok(())
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
fn is_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    let mut i = 0;
    let mut need_alnum = true;
    while i < b.len() {
        if alnum(b[i]) {
            need_alnum = false;
            i += 1;
            continue;
        }
        if need_alnum {
            return false;
        }
        // A separator: ".", "_", "__" or "-"+, then alphanumerics again.
        let start = i;
        match b[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if i < b.len() && b[i] == b'_' {
                    i += 1;
                }
            }
            b'-' => {
                while i < b.len() && b[i] == b'-' {
                    i += 1;
                }
            }
            _ => return false,
        }
        debug_assert!(i > start);
        need_alnum = true;
    }
    !b.is_empty() && !need_alnum
}

fn is_tag(t: &str) -> bool {
    let b = t.as_bytes();
    let word = |x: u8| x.is_ascii_alphanumeric() || x == b'_';
    !b.is_empty()
        && b.len() <= 128
        && word(b[0])
        && b[1..].iter().all(|x| word(*x) || *x == b'.' || *x == b'-')
}

impl FromStr for RegistryRef {
    type Err = RegistryRefError;

    /// Parse the part after `docker://`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |why: String| Err(RegistryRefError(why));
        if s.is_empty() {
            return err("the reference is empty".into());
        }
        if let Some(c) = s.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return err(format!("contains the character {c:?}"));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => match d.parse::<Digest>() {
                Ok(d) => (r, Some(d)),
                Err(_) => {
                    return err(format!(
                        "invalid digest {d:?}: expected sha256:<64 lowercase hex> or sha512:<128 lowercase hex>"
                    ));
                }
            },
            None => (s, None),
        };
        // A tag follows the last ':' that comes after the last '/'.
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        if let Some(t) = tag
            && !is_tag(t)
        {
            return err(format!(
                "invalid tag {t:?}: up to 128 letters, digits, '_', '.', '-', not starting with '.' or '-'"
            ));
        }
        if name.is_empty() {
            return err("the repository name is empty".into());
        }
        if name.len() > NAME_MAX {
            return err(format!(
                "the name is {} characters long; the limit is {NAME_MAX}",
                name.len()
            ));
        }
        let (domain, path) = match name.split_once('/') {
            Some((first, path))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_owned(), path.to_owned())
            }
            _ => (DEFAULT_DOMAIN.to_owned(), name.to_owned()),
        };
        check_domain(&domain).map_err(|e| RegistryRefError(e.0))?;
        if path.is_empty() {
            return err(format!("no repository after the registry host {domain:?}"));
        }
        for c in path.split('/') {
            if !is_path_component(c) {
                return err(format!(
                    "invalid repository component {c:?}: lowercase letters and digits, separated by '.', '_', '__' or '-'"
                ));
            }
        }
        let repository = if domain == DEFAULT_DOMAIN && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        Ok(RegistryRef {
            domain,
            repository,
            tag: tag.map(str::to_owned),
            digest,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn r(domain: &str, repo: &str, tag: Option<&str>, digest: Option<&str>) -> RegistryRef {
        RegistryRef {
            domain: domain.into(),
            repository: repo.into(),
            tag: tag.map(Into::into),
            digest: digest.map(|d| d.parse().unwrap()),
        }
    }

    #[test]
    fn parses_valid_references() {
        let digest_ref = format!("localhost:5000/a/b@{D}");
        let both = format!("ghcr.io/o/r:v1@{D}");
        let cases: Vec<(&str, RegistryRef)> = vec![
            (
                "localhost:5000/demo:1",
                r("localhost:5000", "demo", Some("1"), None),
            ),
            ("localhost/demo", r("localhost", "demo", None, None)),
            (
                "127.0.0.1:5000/a/b-c/d__e:v1.2-x_y",
                r("127.0.0.1:5000", "a/b-c/d__e", Some("v1.2-x_y"), None),
            ),
            ("[::1]:5000/x", r("[::1]:5000", "x", None, None)),
            ("busybox", r("docker.io", "library/busybox", None, None)),
            (
                "busybox:1.36",
                r("docker.io", "library/busybox", Some("1.36"), None),
            ),
            ("user/app", r("docker.io", "user/app", None, None)),
            (
                "my-reg.example.com/a.b/c---d",
                r("my-reg.example.com", "a.b/c---d", None, None),
            ),
            (&digest_ref, r("localhost:5000", "a/b", None, Some(D))),
            (&both, r("ghcr.io", "o/r", Some("v1"), Some(D))),
        ];
        for (s, want) in cases {
            let got: RegistryRef = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(got, want, "{s}");
            let shown = got.to_string();
            let again: RegistryRef = shown.strip_prefix("docker://").unwrap().parse().unwrap();
            assert_eq!(again, got, "round trip of {shown}");
        }
    }

    #[test]
    fn rejects_adversarial_references() {
        let long = format!("localhost/{}", "a".repeat(250));
        let long_tag = format!("localhost/a:{}", "t".repeat(129));
        for s in [
            "",
            "localhost:5000/",
            "localhost:5000/UPPER",
            "localhost:5000/a//b",
            "localhost:5000/a/",
            "localhost:5000/-a",
            "localhost:5000/a-",
            "localhost:5000/a..b",
            "localhost:5000/a___b",
            "localhost:5000/a:",
            "localhost:5000/a:.x",
            "localhost:5000/a:-x",
            "localhost:5000/a:x y",
            "localhost:5000/a@sha256:abc",
            "localhost:5000/a@md5:0123",
            "localhost:0/a",
            "localhost:65536/a",
            "localhost:99999999999/a",
            "localhost:/a",
            "-bad.example/a",
            "bad-.example/a",
            "a..b.example/x",
            "[::1/x",
            "[zz]:5000/x",
            "[::1]x/y",
            "reg.example/a\u{0}b",
            "reg.example/a\nb",
            "reg.example/../etc",
            "reg.example/./x",
            "reg.example/ä",
            &long,
            &long_tag,
        ] {
            assert!(s.parse::<RegistryRef>().is_err(), "accepted {s:?}");
        }
    }

    #[test]
    fn host_port_loopback() {
        let a: RegistryRef = "127.0.0.1:5000/x".parse().unwrap();
        assert_eq!(
            (a.host(), a.port(), a.is_loopback()),
            ("127.0.0.1", Some(5000), true)
        );
        let b: RegistryRef = "[::1]:443/x".parse().unwrap();
        assert_eq!(
            (b.host(), b.port(), b.is_loopback()),
            ("::1", Some(443), true)
        );
        let c: RegistryRef = "ghcr.io/x".parse().unwrap();
        assert_eq!(
            (c.host(), c.port(), c.is_loopback()),
            ("ghcr.io", None, false)
        );
        assert_eq!(c.manifest_reference(), "latest");
        let d: RegistryRef = "localhost/x".parse().unwrap();
        assert!(d.is_loopback());
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_round_trips(s in "\\PC{0,80}") {
            if let Ok(r) = s.parse::<RegistryRef>() {
                let shown = r.to_string();
                let again: RegistryRef = shown.strip_prefix("docker://").unwrap().parse().unwrap();
                proptest::prop_assert_eq!(again, r);
            }
        }
    }
}
