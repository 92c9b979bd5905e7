//! What a traced path must never bring into an image, as a table: system trees that are
//! the kernel's or the runtime's (/proc, /sys, /dev, /run), credentials and private keys,
//! and the user's home. The integrator extends the table (`--trace-exclude` adds
//! [`Pattern::Tree`] rules) and names exceptions (`--trace-include`).
//!
//! This is husk-trace's own small table, not the audit's: the audit's secret checks are
//! code spread over content inspection and a Dockerfile rule, and sharing them would
//! mean moving them into a crate both depend on. The names below are the same families
//! (SSH keys, cloud and package-registry credentials, .env, PKCS#12 stores, PEM keys).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// Why a path is not copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipReason {
    /// A kernel or runtime tree (/proc, /sys, /dev, /run): the container runtime provides it.
    SystemTree,
    /// A private key or credentials file.
    Secret,
    /// The user's home directory.
    Home,
    /// Under a directory the user excluded.
    Excluded,
    /// The program created or wrote it during the trace.
    Created,
    /// It no longer exists on the host (deleted after the traced run, or a component of
    /// its path is not a directory).
    Gone,
    /// Its path has more than 40 symlinks on the way (the kernel's ELOOP limit).
    SymlinkLoop,
    /// Not a regular file, directory or symlink (a socket, a FIFO, a device).
    NotRegular,
}

/// What a rule matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pattern {
    /// This path and everything under it.
    Tree(PathBuf),
    /// A final component equal to this name (`.netrc`).
    Name(String),
    /// Any path with a component equal to this name (`.ssh`: the directory and its files).
    Component(String),
    /// A final component ending with this (`.key`).
    Suffix(String),
}

impl Pattern {
    /// Whether `path` (absolute, normalised) matches.
    #[must_use]
    pub fn matches(&self, path: &Path) -> bool {
        let name = path.file_name().unwrap_or(OsStr::new(""));
        match self {
            Pattern::Tree(t) => path.starts_with(t),
            Pattern::Name(n) => name == OsStr::new(n),
            Pattern::Component(c) => path.iter().any(|p| p == OsStr::new(c)),
            Pattern::Suffix(s) => name.as_encoded_bytes().ends_with(s.as_bytes()),
        }
    }
}

impl std::fmt::Display for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pattern::Tree(t) => write!(f, "{}/**", t.display()),
            Pattern::Name(n) => write!(f, "{n}"),
            Pattern::Component(c) => write!(f, "**/{c}/**"),
            Pattern::Suffix(s) => write!(f, "*{s}"),
        }
    }
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub pattern: Pattern,
    pub reason: SkipReason,
}

/// Why one path was skipped: the reason and the rule (or fact) that said so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skip {
    pub reason: SkipReason,
    /// The matching pattern (`/proc/**`, `*.key`) or the fact (`PEM private key`).
    pub rule: String,
}

/// The rules and the exceptions for one build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// Checked in order; the first match wins.
    pub rules: Vec<Rule>,
    /// Paths (and trees) copied even though a `Secret` or `Home` rule matches them (the
    /// directories on the way to them too). System trees and the program's own creations
    /// stay out regardless.
    pub include: Vec<PathBuf>,
}

const SYSTEM_TREES: &[&str] = &["/proc", "/sys", "/dev", "/run", "/var/run"];
const SECRET_TREES: &[&str] = &["/etc/ssh", "/etc/ssl/private", "/etc/sudoers.d"];
const SECRET_FILES: &[&str] = &[
    "/etc/shadow",
    "/etc/shadow-",
    "/etc/gshadow",
    "/etc/gshadow-",
    "/etc/sudoers",
    "/etc/security/opasswd",
];
const SECRET_NAMES: &[&str] = &[
    "id_rsa",
    "id_dsa",
    "id_ecdsa",
    "id_ed25519",
    ".env",
    ".netrc",
    ".git-credentials",
    ".npmrc",
    ".pypirc",
    ".pgpass",
    ".my.cnf",
];
const SECRET_DIRS: &[&str] = &[".ssh", ".gnupg", ".aws", ".docker", ".kube", ".azure"];
const SECRET_SUFFIXES: &[&str] = &[".key", ".p12", ".pfx", ".jks", ".keystore"];

impl Policy {
    /// The default table, with `homes` (the user's home; `/root` is always one) as `Home`.
    #[must_use]
    pub fn new(homes: &[PathBuf]) -> Policy {
        let rule = |pattern, reason| Rule { pattern, reason };
        let tree = |t: &str| Pattern::Tree(PathBuf::from(t));
        let mut rules: Vec<Rule> = SYSTEM_TREES
            .iter()
            .map(|t| rule(tree(t), SkipReason::SystemTree))
            .collect();
        let secret = |p| rule(p, SkipReason::Secret);
        rules.extend(
            SECRET_TREES
                .iter()
                .chain(SECRET_FILES)
                .map(|t| secret(tree(t))),
        );
        rules.extend(
            SECRET_NAMES
                .iter()
                .map(|n| secret(Pattern::Name(n.to_string()))),
        );
        rules.extend(
            SECRET_DIRS
                .iter()
                .map(|d| secret(Pattern::Component(d.to_string()))),
        );
        rules.extend(
            SECRET_SUFFIXES
                .iter()
                .map(|s| secret(Pattern::Suffix(s.to_string()))),
        );
        let root = PathBuf::from("/root");
        for h in homes.iter().chain([&root]) {
            // A home of "/" would exclude everything: ignore it.
            if h.parent().is_some() {
                rules.push(rule(Pattern::Tree(h.clone()), SkipReason::Home));
            }
        }
        Policy {
            rules,
            include: Vec::new(),
        }
    }

    /// Adds a `--trace-exclude` tree.
    pub fn exclude(&mut self, tree: PathBuf) {
        self.rules.push(Rule {
            pattern: Pattern::Tree(tree),
            reason: SkipReason::Excluded,
        });
    }

    /// Why `path` must not be copied, judged by its path alone; None if it may be.
    #[must_use]
    pub fn classify(&self, path: &Path) -> Option<Skip> {
        let rule = self.rules.iter().find(|r| r.pattern.matches(path))?;
        let overridable = matches!(rule.reason, SkipReason::Secret | SkipReason::Home);
        // An included path, or a directory on the way to one.
        let included = |i: &PathBuf| path.starts_with(i) || i.starts_with(path);
        if overridable && self.include.iter().any(included) {
            return None;
        }
        Some(Skip {
            reason: rule.reason,
            rule: rule.pattern.to_string(),
        })
    }
}

/// Whether a file's first bytes hold a PEM private key (`-----BEGIN ... PRIVATE KEY-----`),
/// the check for `.pem` files, which are as often certificates as keys.
#[must_use]
pub fn is_private_key_pem(head: &[u8]) -> bool {
    let marker = b"PRIVATE KEY-----";
    head.windows(marker.len()).any(|w| w == marker) && head.windows(11).any(|w| w == b"-----BEGIN ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(p: &Policy, path: &str) -> Option<SkipReason> {
        p.classify(Path::new(path)).map(|s| s.reason)
    }

    #[test]
    fn system_trees_secrets_and_home() {
        let p = Policy::new(&["/home/ana".into()]);
        assert_eq!(reason(&p, "/proc/self/maps"), Some(SkipReason::SystemTree));
        assert_eq!(reason(&p, "/dev/null"), Some(SkipReason::SystemTree));
        assert_eq!(reason(&p, "/run"), Some(SkipReason::SystemTree));
        assert_eq!(reason(&p, "/etc/shadow"), Some(SkipReason::Secret));
        assert_eq!(
            reason(&p, "/etc/ssh/ssh_host_rsa_key"),
            Some(SkipReason::Secret)
        );
        assert_eq!(reason(&p, "/srv/app/.env"), Some(SkipReason::Secret));
        assert_eq!(reason(&p, "/opt/tls/server.key"), Some(SkipReason::Secret));
        assert_eq!(
            reason(&p, "/srv/.ssh/known_hosts"),
            Some(SkipReason::Secret)
        );
        // The first matching row wins: a key in the home is a secret.
        assert_eq!(
            reason(&p, "/home/ana/.ssh/id_rsa"),
            Some(SkipReason::Secret)
        );
        assert_eq!(reason(&p, "/home/ana/notes.txt"), Some(SkipReason::Home));
        assert_eq!(reason(&p, "/root/.bashrc"), Some(SkipReason::Home));
    }

    #[test]
    fn look_alikes_are_not_skipped() {
        let p = Policy::new(&["/home/ana".into()]);
        for ok in [
            "/usr/lib/python3.11/json/__init__.py",
            "/processes",
            "/devices/x",
            "/home/anabel/x",
            "/etc/shadow.d.txt",
            "/usr/share/keyrings/debian.gpg",
            "/usr/lib/x86_64-linux-gnu/libkeyutils.so.1",
            "/etc/ssl/certs/ca-certificates.crt",
            "/srv/.environment",
            "/",
        ] {
            assert_eq!(reason(&p, ok), None, "{ok}");
        }
        // A home of "/" is ignored rather than excluding everything.
        assert_eq!(reason(&Policy::new(&["/".into()]), "/usr/bin/x"), None);
    }

    #[test]
    fn include_overrides_secrets_and_home_but_not_system_trees() {
        let mut p = Policy::new(&["/home/ana".into()]);
        p.include = vec![
            "/home/ana/app".into(),
            "/opt/tls/server.key".into(),
            "/proc".into(),
        ];
        assert_eq!(reason(&p, "/home/ana/app/main.py"), None);
        assert_eq!(
            reason(&p, "/home/ana"),
            None,
            "on the way to an included path"
        );
        assert_eq!(reason(&p, "/home/ana/other"), Some(SkipReason::Home));
        assert_eq!(reason(&p, "/opt/tls/server.key"), None);
        assert_eq!(reason(&p, "/proc/cpuinfo"), Some(SkipReason::SystemTree));
        p.exclude("/usr/share/doc".into());
        assert_eq!(reason(&p, "/usr/share/doc/x"), Some(SkipReason::Excluded));
        let s = p.classify(Path::new("/usr/share/doc/x")).unwrap();
        assert_eq!(s.rule, "/usr/share/doc/**");
    }

    #[test]
    fn pem_keys_are_told_from_certificates() {
        assert!(is_private_key_pem(b"-----BEGIN RSA PRIVATE KEY-----\nMII"));
        assert!(is_private_key_pem(b"x\n-----BEGIN PRIVATE KEY-----\n"));
        assert!(!is_private_key_pem(b"-----BEGIN CERTIFICATE-----\nMII"));
        assert!(!is_private_key_pem(b""));
    }
}
