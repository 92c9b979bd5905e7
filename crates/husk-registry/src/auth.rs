//! Credentials and where they come from: the docker config (`~/.docker/config.json`:
//! `auths` with base64 `auth`, `credHelpers`, `credsStore`) and the podman/containers
//! auth file (`${XDG_RUNTIME_DIR}/containers/auth.json`, same `auths` format, keys may be
//! `host/namespace`). The CLI decides which files to read (only it reads the
//! environment); this module reads them and runs `docker-credential-<name> get`.
//!
//! A password only ever lives in a [`Secret`], which has no `Display` and whose `Debug`
//! prints `***`, so no error, log line or `{:?}` can show it.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;

use crate::RegistryError;

/// A secret string (password, token). `Debug` is redacted and there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    /// The secret itself, for the one place that puts it into a request header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A user name and password (or identity token) for one registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: Secret,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &self.password)
            .finish()
    }
}

impl Credentials {
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials {
            username: username.into(),
            password: Secret::new(password),
        }
    }

    /// `Basic base64(user:password)`.
    pub(crate) fn basic_header(&self) -> Secret {
        Secret(format!(
            "Basic {}",
            B64.encode(format!("{}:{}", self.username, self.password.expose()))
        ))
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct AuthFileJson {
    #[serde(default)]
    auths: std::collections::BTreeMap<String, AuthEntry>,
    #[serde(default)]
    cred_helpers: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    creds_store: Option<String>,
}

#[derive(Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// The server name a credential helper and the docker config use for `domain`.
fn server_key(domain: &str) -> &str {
    if domain == "docker.io" {
        "https://index.docker.io/v1/"
    } else {
        domain
    }
}

/// Normalise an `auths` key: drop a scheme and a trailing `/`, map Docker Hub's legacy keys.
fn normalise_key(key: &str) -> String {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let k = k.trim_end_matches('/');
    let k = k
        .strip_suffix("/v1")
        .or_else(|| k.strip_suffix("/v2"))
        .unwrap_or(k);
    match k {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".into(),
        other => other.to_owned(),
    }
}

fn decode_entry(e: &AuthEntry, path: &Path) -> Result<Option<Credentials>, RegistryError> {
    let bad = |reason: &str| RegistryError::AuthFile {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    if let Some(a) = e.auth.as_deref().filter(|a| !a.is_empty()) {
        let raw = B64
            .decode(a.trim())
            .map_err(|_| bad("an \"auth\" value is not valid base64"))?;
        let s = String::from_utf8(raw).map_err(|_| bad("an \"auth\" value is not UTF-8"))?;
        let (u, p) = s
            .split_once(':')
            .ok_or_else(|| bad("an \"auth\" value is not base64 of USER:PASSWORD"))?;
        return Ok(Some(Credentials::new(u, p)));
    }
    if let (Some(u), Some(p)) = (&e.username, &e.password) {
        return Ok(Some(Credentials::new(u.clone(), p.clone())));
    }
    Ok(None)
}

/// Parse one auth file's text and find credentials for `domain`/`repository`: a
/// credential helper for the domain first, then the most specific `auths` key
/// (`domain/repo/...` prefixes, then the domain), then `credsStore`.
///
/// # Errors
/// Invalid JSON or base64, or a failing helper.
pub fn lookup_in(
    text: &str,
    path: &Path,
    domain: &str,
    repository: &str,
) -> Result<Option<Credentials>, RegistryError> {
    let file: AuthFileJson = serde_json::from_str(text).map_err(|e| RegistryError::AuthFile {
        path: path.to_owned(),
        reason: format!("not a valid auth file: {e}"),
    })?;
    if let Some(helper) = file.cred_helpers.get(domain)
        && let Some(c) = run_helper(helper, server_key(domain))?
    {
        return Ok(Some(c));
    }
    let keys: Vec<(String, &AuthEntry)> = file
        .auths
        .iter()
        .map(|(k, v)| (normalise_key(k), v))
        .collect();
    // Most specific first: domain/a/b, domain/a, domain.
    let full = format!("{domain}/{repository}");
    let mut candidate = full.as_str();
    loop {
        if let Some((_, e)) = keys.iter().find(|(k, _)| k == candidate)
            && let Some(c) = decode_entry(e, path)?
        {
            return Ok(Some(c));
        }
        match candidate.rsplit_once('/') {
            Some((shorter, _)) => candidate = shorter,
            None => break,
        }
    }
    if let Some(store) = &file.creds_store {
        return run_helper(store, server_key(domain));
    }
    Ok(None)
}

/// Look `domain` up in each file in turn (missing files are skipped).
///
/// # Errors
/// An unreadable or invalid file, or a failing helper.
pub fn lookup(
    files: &[PathBuf],
    domain: &str,
    repository: &str,
) -> Result<Option<Credentials>, RegistryError> {
    for path in files {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(RegistryError::AuthFile {
                    path: path.clone(),
                    reason: e.to_string(),
                });
            }
        };
        if let Some(c) = lookup_in(&text, path, domain, repository)? {
            return Ok(Some(c));
        }
    }
    Ok(None)
}

#[derive(Deserialize)]
struct HelperOutput {
    #[serde(rename = "Username")]
    username: String,
    #[serde(rename = "Secret")]
    secret: String,
}

/// `docker-credential-<helper> get` with the server name on stdin. "credentials not
/// found" is `Ok(None)`. Neither the helper's stdout (it holds the secret) nor its
/// stderr goes into an error.
fn run_helper(helper: &str, server: &str) -> Result<Option<Credentials>, RegistryError> {
    let fail = |reason: String| RegistryError::CredHelper {
        helper: helper.to_owned(),
        reason,
    };
    if helper.is_empty()
        || !helper
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        return Err(fail(
            "the helper name may only have letters, digits, '-', '_', '.'".into(),
        ));
    }
    let program = format!("docker-credential-{helper}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot run {program}: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(server.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| fail(format!("cannot run {program}: {e}")))?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stdout).to_ascii_lowercase()
            + &String::from_utf8_lossy(&out.stderr).to_ascii_lowercase();
        if said.contains("credentials not found") {
            return Ok(None);
        }
        return Err(fail(format!("it exited with {}", out.status)));
    }
    let parsed: HelperOutput = serde_json::from_slice(&out.stdout)
        .map_err(|_| fail("its output is not JSON with Username and Secret".into()))?;
    Ok(Some(Credentials::new(parsed.username, parsed.secret)))
}

/// Store `creds` for `domain` in the auth file at `path` (podman's `auth.json` and
/// docker's `config.json` share the `auths` format), keeping every other key. The file
/// is written with mode 0600 to a temporary sibling and renamed into place.
///
/// # Errors
/// An unreadable/invalid existing file or a failed write.
pub fn store(path: &Path, domain: &str, creds: &Credentials) -> Result<(), RegistryError> {
    let werr = |source| RegistryError::WriteAuthFile {
        path: path.to_owned(),
        source,
    };
    let mut doc: serde_json::Value = match std::fs::read_to_string(path) {
        Ok(t) if !t.trim().is_empty() => {
            serde_json::from_str(&t).map_err(|e| RegistryError::AuthFile {
                path: path.to_owned(),
                reason: format!("not valid JSON: {e}"),
            })?
        }
        Ok(_) => serde_json::json!({}),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => serde_json::json!({}),
        Err(e) => return Err(werr(e)),
    };
    let Some(obj) = doc.as_object_mut() else {
        return Err(RegistryError::AuthFile {
            path: path.to_owned(),
            reason: "the top level is not a JSON object".into(),
        });
    };
    let auths = obj.entry("auths").or_insert_with(|| serde_json::json!({}));
    let Some(auths) = auths.as_object_mut() else {
        return Err(RegistryError::AuthFile {
            path: path.to_owned(),
            reason: "\"auths\" is not a JSON object".into(),
        });
    };
    let encoded = B64.encode(format!("{}:{}", creds.username, creds.password.expose()));
    auths.insert(
        server_key(domain).to_owned(),
        serde_json::json!({ "auth": encoded }),
    );
    let bytes = serde_json::to_vec_pretty(&doc).expect("a JSON value serialises");
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(werr)?;
    let tmp = dir.join(format!(
        ".{}.husk-tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("auth"),
        std::process::id()
    ));
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(werr)?;
        f.write_all(&bytes)
            .and_then(|()| f.sync_all())
            .map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                werr(e)
            })?;
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        werr(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        B64.encode(s)
    }

    #[test]
    fn debug_never_shows_the_password() {
        let c = Credentials::new("alice", "hunter2-secret");
        let shown = format!("{c:?} {:?} {:?}", c.password, c.basic_header());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("alice"));
    }

    #[test]
    fn docker_config_auths() {
        let text = format!(
            r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{}"}},"localhost:5000":{{"auth":"{}"}},"http://reg.example:8080/":{{"auth":"{}"}}}}}}"#,
            b64("hub:pw1"),
            b64("loc:pw:with:colons"),
            b64("r:pw3")
        );
        let p = Path::new("config.json");
        let hub = lookup_in(&text, p, "docker.io", "library/busybox")
            .unwrap()
            .unwrap();
        assert_eq!(
            (hub.username.as_str(), hub.password.expose()),
            ("hub", "pw1")
        );
        let loc = lookup_in(&text, p, "localhost:5000", "a").unwrap().unwrap();
        assert_eq!(loc.password.expose(), "pw:with:colons");
        let r = lookup_in(&text, p, "reg.example:8080", "a/b")
            .unwrap()
            .unwrap();
        assert_eq!(r.username, "r");
        assert!(lookup_in(&text, p, "other.example", "a").unwrap().is_none());
    }

    #[test]
    fn podman_namespaced_keys_most_specific_first() {
        let text = format!(
            r#"{{"auths":{{"quay.io":{{"auth":"{}"}},"quay.io/team":{{"auth":"{}"}},"quay.io/team/app":{{"auth":"{}"}}}}}}"#,
            b64("domain:1"),
            b64("team:2"),
            b64("app:3")
        );
        let p = Path::new("auth.json");
        let user = |repo| {
            lookup_in(&text, p, "quay.io", repo)
                .unwrap()
                .unwrap()
                .username
        };
        assert_eq!(user("team/app"), "app");
        assert_eq!(user("team/other"), "team");
        assert_eq!(user("else/x"), "domain");
    }

    #[test]
    fn bad_files_are_errors_without_secrets() {
        let p = Path::new("bad.json");
        for text in [
            "not json",
            r#"{"auths":{"h":{"auth":"%%%"}}}"#,
            &format!(r#"{{"auths":{{"h":{{"auth":"{}"}}}}}}"#, b64("nocolon")),
        ] {
            let e = lookup_in(text, p, "h", "r").unwrap_err().to_string();
            assert!(e.contains("bad.json"), "{e}");
        }
        let e = lookup_in(r#"{"credHelpers":{"h":"../evil"}}"#, p, "h", "r").unwrap_err();
        assert!(e.to_string().contains("helper name"), "{e}");
    }

    #[test]
    fn helper_and_store() {
        let dir = tempfile::tempdir().unwrap();
        let helper = dir.path().join("docker-credential-huskfake");
        std::fs::write(
            &helper,
            "#!/bin/sh\nread server\nif [ \"$server\" = reg.example ]; then echo '{\"ServerURL\":\"reg.example\",\"Username\":\"hu\",\"Secret\":\"hs\"}'; else echo 'credentials not found in native keychain'; exit 1; fi\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
        // The helper is found on PATH; this test process's PATH is extended for it.
        let path = format!(
            "{}:{}",
            dir.path().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        // SAFETY: tests in this module do not read PATH concurrently except through Command.
        unsafe { std::env::set_var("PATH", path) };
        let p = Path::new("c.json");
        let c = lookup_in(
            r#"{"credHelpers":{"reg.example":"huskfake"}}"#,
            p,
            "reg.example",
            "a",
        )
        .unwrap()
        .unwrap();
        assert_eq!((c.username.as_str(), c.password.expose()), ("hu", "hs"));
        let none = lookup_in(r#"{"credsStore":"huskfake"}"#, p, "other.example", "a").unwrap();
        assert!(none.is_none());
    }

    #[test]
    fn store_keeps_other_keys_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/auth.json");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(
            &path,
            r#"{"auths":{"old.example":{"auth":"eDp5"}},"other":1}"#,
        )
        .unwrap();
        store(&path, "localhost:5000", &Credentials::new("u", "p")).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["other"], 1);
        assert_eq!(v["auths"]["old.example"]["auth"], "eDp5");
        let c = lookup(std::slice::from_ref(&path), "localhost:5000", "x")
            .unwrap()
            .unwrap();
        assert_eq!(c.password.expose(), "p");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(
            lookup(&[dir.path().join("missing.json")], "h", "r")
                .unwrap()
                .is_none()
        );
    }
}
