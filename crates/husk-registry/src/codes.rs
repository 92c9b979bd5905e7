//! The error codes of the OCI distribution spec (`spec.md`, "Error Codes"), parsed from
//! the registry's error document `{"errors": [{"code", "message", "detail"}]}` and kept
//! as a type with the server's message, so callers can match on what the registry said
//! instead of on text.

use std::fmt;

/// One error code of the distribution spec; an unknown code is kept as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    BlobUnknown,
    BlobUploadInvalid,
    BlobUploadUnknown,
    DigestInvalid,
    ManifestBlobUnknown,
    ManifestInvalid,
    ManifestUnknown,
    NameInvalid,
    NameUnknown,
    SizeInvalid,
    Unauthorized,
    Denied,
    Unsupported,
    TooManyRequests,
    /// A code outside the spec (registries add their own), printable characters only.
    Other(String),
}

const CODES: [(&str, ErrorCode); 14] = [
    ("BLOB_UNKNOWN", ErrorCode::BlobUnknown),
    ("BLOB_UPLOAD_INVALID", ErrorCode::BlobUploadInvalid),
    ("BLOB_UPLOAD_UNKNOWN", ErrorCode::BlobUploadUnknown),
    ("DIGEST_INVALID", ErrorCode::DigestInvalid),
    ("MANIFEST_BLOB_UNKNOWN", ErrorCode::ManifestBlobUnknown),
    ("MANIFEST_INVALID", ErrorCode::ManifestInvalid),
    ("MANIFEST_UNKNOWN", ErrorCode::ManifestUnknown),
    ("NAME_INVALID", ErrorCode::NameInvalid),
    ("NAME_UNKNOWN", ErrorCode::NameUnknown),
    ("SIZE_INVALID", ErrorCode::SizeInvalid),
    ("UNAUTHORIZED", ErrorCode::Unauthorized),
    ("DENIED", ErrorCode::Denied),
    ("UNSUPPORTED", ErrorCode::Unsupported),
    ("TOOMANYREQUESTS", ErrorCode::TooManyRequests),
];

/// The longest code, message or rendered list kept from a (possibly hostile) server.
const MAX_TEXT: usize = 300;
/// The most entries kept from one error document.
const MAX_ENTRIES: usize = 16;
/// The entries shown in a message.
const SHOWN: usize = 3;

impl ErrorCode {
    /// The code as the spec writes it (`BLOB_UNKNOWN`), or the unknown code as sent.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::Other(s) => s,
            known => CODES
                .iter()
                .find(|(_, c)| c == known)
                .map_or("", |(s, _)| s),
        }
    }
}

impl From<&str> for ErrorCode {
    fn from(s: &str) -> Self {
        CODES
            .iter()
            .find(|(name, _)| *name == s)
            .map(|(_, c)| c.clone())
            .unwrap_or_else(|| ErrorCode::Other(printable(s)))
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of a registry's error document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerError {
    /// `None` when the entry had no code.
    pub code: Option<ErrorCode>,
    /// The server's message, printable characters only, bounded.
    pub message: String,
}

/// What a registry's error document said, in order (empty when the body was not one).
/// Displays as `: CODE message; CODE message` (the first three entries, printable and
/// bounded), or as nothing when empty, so it can follow a status line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerErrors(pub Vec<ServerError>);

impl ServerErrors {
    /// Parse a distribution error document; anything else gives no entries.
    pub fn parse(body: &[u8]) -> ServerErrors {
        #[derive(serde::Deserialize)]
        struct Document {
            errors: Vec<Item>,
        }
        #[derive(serde::Deserialize)]
        struct Item {
            code: Option<String>,
            message: Option<String>,
        }
        let Ok(doc) = serde_json::from_slice::<Document>(body) else {
            return ServerErrors::default();
        };
        ServerErrors(
            doc.errors
                .into_iter()
                .take(MAX_ENTRIES)
                .map(|i| ServerError {
                    code: i.code.as_deref().map(ErrorCode::from),
                    message: printable(i.message.as_deref().unwrap_or("")),
                })
                .collect(),
        )
    }

    /// Whether the registry sent `code`.
    pub fn has(&self, code: &ErrorCode) -> bool {
        self.0.iter().any(|e| e.code.as_ref() == Some(code))
    }
}

impl fmt::Display for ServerErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .take(SHOWN)
            .map(|e| {
                let code = e.code.as_ref().map_or("", ErrorCode::as_str);
                format!("{code} {}", e.message).trim().to_owned()
            })
            .collect();
        if parts.is_empty() {
            return Ok(());
        }
        let s: String = parts.join("; ").chars().take(MAX_TEXT).collect();
        write!(f, ": {s}")
    }
}

fn printable(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .take(MAX_TEXT)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spec_code_parses_and_prints_back() {
        for (name, code) in CODES {
            assert_eq!(ErrorCode::from(name), code);
            assert_eq!(code.as_str(), name);
            assert_eq!(code.to_string(), name);
        }
        assert_eq!(
            ErrorCode::from("QUOTA_EXCEEDED"),
            ErrorCode::Other("QUOTA_EXCEEDED".into())
        );
        // Case matters in the spec: a lower-case code is some other code.
        assert!(matches!(
            ErrorCode::from("blob_unknown"),
            ErrorCode::Other(_)
        ));
    }

    #[test]
    fn a_document_keeps_codes_and_messages() {
        let body = br#"{"errors":[
            {"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}},
            {"code":"DENIED","message":"requested access to the resource is denied"},
            {"message":"no code"}, {"code":"X_Y"}]}"#;
        let e = ServerErrors::parse(body);
        assert_eq!(e.0.len(), 4);
        assert_eq!(e.0[0].code, Some(ErrorCode::ManifestUnknown));
        assert_eq!(e.0[0].message, "manifest unknown");
        assert!(e.has(&ErrorCode::Denied) && !e.has(&ErrorCode::NameUnknown));
        assert_eq!(e.0[2].code, None);
        assert_eq!(e.0[3].code, Some(ErrorCode::Other("X_Y".into())));
        assert_eq!(
            e.to_string(),
            ": MANIFEST_UNKNOWN manifest unknown; DENIED requested access to the resource is denied; no code"
        );
    }

    #[test]
    fn hostile_documents_are_bounded_and_printable() {
        assert_eq!(ServerErrors::parse(b"not json").to_string(), "");
        assert_eq!(ServerErrors::parse(br#"{"errors":[]}"#).to_string(), "");
        assert_eq!(
            ServerErrors::parse(br#"{"errors":5}"#),
            ServerErrors::default()
        );
        let long = "A".repeat(10_000);
        let many: Vec<String> = (0..1000)
            .map(|_| format!(r#"{{"code":"{long}\u001b[31m","message":"m\u0007"}}"#))
            .collect();
        let body = format!(r#"{{"errors":[{}]}}"#, many.join(","));
        let e = ServerErrors::parse(body.as_bytes());
        assert_eq!(e.0.len(), MAX_ENTRIES);
        let shown = e.to_string();
        assert!(shown.chars().count() <= MAX_TEXT + 2, "{}", shown.len());
        assert!(!shown.chars().any(char::is_control));
        assert_eq!(e.0[0].message, "m");
    }
}
