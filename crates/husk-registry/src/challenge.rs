//! `WWW-Authenticate` parsing (RFC 7235 challenges, as the distribution token spec uses
//! them): `Bearer realm="https://auth.example/token",service="reg",scope="repository:a:pull"`.
//! A header may carry several challenges (`Basic realm="x", Bearer realm="y"`).

use std::collections::BTreeMap;

/// One challenge: its scheme (lowercased) and parameters (names lowercased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn skip_ws(&mut self) {
        while self.i < self.s.len() && (self.s[self.i] == b' ' || self.s[self.i] == b'\t') {
            self.i += 1;
        }
    }
    fn token(&mut self) -> Option<String> {
        let start = self.i;
        while self.i < self.s.len() && is_tchar(self.s[self.i]) {
            self.i += 1;
        }
        (self.i > start).then(|| String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn quoted(&mut self) -> Result<String, String> {
        // Called at the opening quote.
        self.i += 1;
        let mut out = Vec::new();
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                b'"' => return Ok(String::from_utf8_lossy(&out).into_owned()),
                b'\\' => match self.peek() {
                    Some(n) => {
                        out.push(n);
                        self.i += 1;
                    }
                    None => break,
                },
                _ => out.push(c),
            }
        }
        Err("unterminated quoted string".into())
    }
}

/// Parse every challenge of a `WWW-Authenticate` header value.
///
/// # Errors
/// A description of the first syntax error.
pub fn parse(header: &str) -> Result<Vec<Challenge>, String> {
    let mut c = Cursor {
        s: header.as_bytes(),
        i: 0,
    };
    let mut out: Vec<Challenge> = Vec::new();
    loop {
        c.skip_ws();
        while c.peek() == Some(b',') {
            c.i += 1;
            c.skip_ws();
        }
        if c.peek().is_none() {
            break;
        }
        let scheme = c
            .token()
            .ok_or_else(|| format!("expected an auth scheme at byte {}", c.i))?
            .to_ascii_lowercase();
        let mut params = BTreeMap::new();
        loop {
            c.skip_ws();
            let save = c.i;
            let Some(name) = c.token() else { break };
            c.skip_ws();
            if c.peek() != Some(b'=') {
                // A token not followed by '=' starts the next challenge.
                c.i = save;
                break;
            }
            c.i += 1;
            c.skip_ws();
            let value = if c.peek() == Some(b'"') {
                c.quoted()?
            } else {
                c.token().unwrap_or_default()
            };
            params.insert(name.to_ascii_lowercase(), value);
            c.skip_ws();
            match c.peek() {
                Some(b',') => c.i += 1,
                None => break,
                Some(_) => return Err(format!("unexpected character at byte {}", c.i)),
            }
        }
        out.push(Challenge { scheme, params });
    }
    if out.is_empty() {
        return Err("no challenge".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_with_quoted_commas() {
        let v = parse(r#"Bearer realm="https://auth.example/token",service="reg.example",scope="repository:a/b:pull,push""#).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].scheme, "bearer");
        assert_eq!(v[0].param("realm"), Some("https://auth.example/token"));
        assert_eq!(v[0].param("service"), Some("reg.example"));
        assert_eq!(v[0].param("scope"), Some("repository:a/b:pull,push"));
    }

    #[test]
    fn several_challenges_and_odd_spacing() {
        let v = parse(r#"Basic realm="Registry Realm" , BEARER Realm = "http://127.0.0.1:1/t" ,error="invalid_token""#).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].scheme, "basic");
        assert_eq!(v[0].param("realm"), Some("Registry Realm"));
        assert_eq!(v[1].scheme, "bearer");
        assert_eq!(v[1].param("realm"), Some("http://127.0.0.1:1/t"));
        assert_eq!(v[1].param("error"), Some("invalid_token"));
    }

    #[test]
    fn escapes_and_tokens() {
        let v = parse(r#"Bearer realm="a\"b\\c",service=reg"#).unwrap();
        assert_eq!(v[0].param("realm"), Some("a\"b\\c"));
        assert_eq!(v[0].param("service"), Some("reg"));
        let v = parse("Basic").unwrap();
        assert_eq!(v[0].scheme, "basic");
        assert!(v[0].params.is_empty());
    }

    #[test]
    fn rejects_garbage() {
        for s in [
            "",
            "   ",
            "Bearer realm=\"unterminated",
            "Bearer realm=\"x\" junk\"",
            "\"quoted\"",
        ] {
            assert!(parse(s).is_err(), "{s:?}");
        }
    }
}
