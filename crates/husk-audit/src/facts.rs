//! What image rules read: [`ImageFacts`], computed once per image before any rule runs.
//!
//! The filesystem part ([`Tree`]) is the merged view of the image (whiteouts applied),
//! each file carrying what the single streaming pass learnt from its content
//! ([`Content`]: ELF facts, shebang, the bytes of small files rules need). Facts that only
//! exist per layer (secrets in files a later layer deleted, wasted bytes) come separately.
//! Rules never read the host, never re-read a layer, and can be tested with facts built by
//! hand ([`crate::testing`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use husk_elf::ElfInfo;
use husk_layer::{ImagePath, resolve_link_target};
use husk_oci::ImageConfig;
use husk_oci::spec::RuntimeConfig;

/// Symlinks followed while resolving one path (Linux `MAXSYMLINKS`).
const MAX_HOPS: usize = 40;

/// What a path is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    Symlink(String),
    Char,
    Block,
    Fifo,
}

/// One path of the merged view.
#[derive(Debug, Clone)]
pub struct Entry {
    pub kind: EntryKind,
    /// Permission bits including setuid/setgid/sticky (`0o7777`).
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
    /// The layer the entry comes from.
    pub layer: usize,
    /// What the scan learnt from the content (regular files only).
    pub content: Option<Arc<Content>>,
}

/// Facts from a regular file's bytes, gathered while the layer streamed.
#[derive(Debug, Clone, Default)]
pub struct Content {
    /// The file starts with the ELF magic: the loader's view of it, or why it does not parse.
    pub elf: Option<Result<ElfInfo, String>>,
    /// A TLS implementation the file links or embeds (`libssl.so.3`, `rustls`, `crypto/tls`).
    pub tls: Option<String>,
    /// The `#!` line without `#!`, trimmed.
    pub shebang: Option<String>,
    /// The whole content of small files the rules read (passwd, group, CA bundles).
    pub bytes: Option<Vec<u8>>,
}

/// The merged filesystem view: absolute normalised paths to entries.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    map: BTreeMap<String, Entry>,
}

impl Tree {
    pub fn insert(&mut self, path: &str, entry: Entry) {
        if let Ok(p) = ImagePath::parse(path) {
            self.map.insert(p.as_str().to_owned(), entry);
        }
    }

    /// The entry at exactly `path` (no link followed).
    #[must_use]
    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.map.get(path)
    }

    /// Every entry, in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.map.iter().map(|(k, v)| (k.as_str(), v))
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Resolve `path` inside the image root, following symlinks in every component (and the
    /// last one too), `..` clamped at the root. `None` on a loop or an invalid path; the
    /// result may not exist.
    #[must_use]
    pub fn resolve(&self, path: &str) -> Option<String> {
        let p = ImagePath::parse(path).ok()?;
        let mut done = ImagePath::root();
        let mut rest: Vec<String> = p.components().map(str::to_owned).collect();
        rest.reverse();
        let mut hops = 0;
        while let Some(c) = rest.pop() {
            let next = done.join(&c).ok()?;
            match self.map.get(next.as_str()).map(|e| &e.kind) {
                Some(EntryKind::Symlink(target)) => {
                    hops += 1;
                    if hops > MAX_HOPS {
                        return None;
                    }
                    let t = resolve_link_target(&next, target).ok()?;
                    let mut more: Vec<String> = t.components().map(str::to_owned).collect();
                    more.reverse();
                    rest.extend(more);
                    done = ImagePath::root();
                }
                _ => done = next,
            }
        }
        Some(done.as_str().to_owned())
    }

    /// Resolve `path` and return the entry there, with its resolved path.
    #[must_use]
    pub fn lookup(&self, path: &str) -> Option<(String, &Entry)> {
        let r = self.resolve(path)?;
        let e = self.map.get(&r)?;
        Some((r, e))
    }

    /// The content facts of the regular file `path` resolves to.
    #[must_use]
    pub fn content(&self, path: &str) -> Option<&Content> {
        self.lookup(path)
            .and_then(|(_, e)| (e.kind == EntryKind::File).then_some(e.content.as_deref()))
            .flatten()
    }

    /// The bytes of the small file `path` resolves to, when the scan kept them.
    #[must_use]
    pub fn bytes(&self, path: &str) -> Option<&[u8]> {
        self.content(path).and_then(|c| c.bytes.as_deref())
    }

    /// Find an executable the way `execvp` does with the image's PATH: a name with a `/`
    /// is taken as is (relative to `workdir`), otherwise each PATH directory is tried.
    #[must_use]
    pub fn find_program(&self, name: &str, path_var: &str, workdir: &str) -> Option<String> {
        if name.contains('/') {
            let p = if name.starts_with('/') {
                name.to_owned()
            } else {
                format!("{}/{name}", workdir.trim_end_matches('/'))
            };
            return self.lookup(&p).map(|(r, _)| r);
        }
        path_var
            .split(':')
            .filter(|d| d.starts_with('/'))
            .find_map(|d| {
                let p = format!("{}/{name}", d.trim_end_matches('/'));
                self.lookup(&p)
                    .filter(|(_, e)| e.kind == EntryKind::File)
                    .map(|(r, _)| r)
            })
    }
}

/// A secret seen in some layer (whether or not it is still visible).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretHit {
    pub layer: usize,
    pub path: String,
    /// What it is: "an OpenSSH private key", "an AWS access key id", ...
    pub what: String,
    /// Still in the final filesystem (false: a later layer deleted or replaced it).
    pub visible: bool,
}

/// Figures for one layer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayerFacts {
    pub digest: String,
    /// Bytes of file content the layer adds.
    pub added_bytes: u64,
    /// Bytes of it a later layer (or a later entry) overwrote or deleted.
    pub wasted_bytes: u64,
}

/// Everything image rules read.
#[derive(Debug, Clone, Default)]
pub struct ImageFacts {
    /// The image as named on the command line (`oci:out`).
    pub name: String,
    pub config: ImageConfig,
    pub files: Tree,
    pub layers: Vec<LayerFacts>,
    pub secrets: Vec<SecretHit>,
    /// Unix time used for certificate expiry (passed in; the library reads no clock).
    pub now: i64,
}

impl ImageFacts {
    /// The runtime config (empty when absent).
    #[must_use]
    pub fn runtime(&self) -> RuntimeConfig {
        self.config.config.clone().unwrap_or_default()
    }

    /// The `User` field, trimmed.
    #[must_use]
    pub fn user(&self) -> String {
        self.config
            .config
            .as_ref()
            .and_then(|c| c.user.as_deref())
            .unwrap_or_default()
            .trim()
            .to_owned()
    }

    /// The value of environment variable `key` in the config.
    #[must_use]
    pub fn env(&self, key: &str) -> Option<String> {
        self.config
            .config
            .as_ref()?
            .env
            .as_ref()?
            .iter()
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_owned())
    }

    /// PATH as the runtime uses it (Docker's default when unset).
    #[must_use]
    pub fn path_var(&self) -> String {
        self.env("PATH").unwrap_or_else(|| {
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_owned()
        })
    }

    /// The working directory (`/` when unset).
    #[must_use]
    pub fn workdir(&self) -> String {
        self.config
            .config
            .as_ref()
            .and_then(|c| c.working_dir.clone())
            .filter(|w| !w.is_empty())
            .unwrap_or_else(|| "/".to_owned())
    }

    /// The argv the container starts with: Entrypoint then Cmd.
    #[must_use]
    pub fn argv(&self) -> Vec<String> {
        let rc = self.runtime();
        let mut v = rc.entrypoint.unwrap_or_default();
        v.extend(rc.cmd.unwrap_or_default());
        v
    }

    /// The user the container runs as, resolved against the image's own passwd/group.
    #[must_use]
    pub fn identity(&self) -> Identity {
        Identity::of(self)
    }
}

/// One `/etc/passwd` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    pub name: String,
    pub uid: u64,
    pub gid: u64,
    pub home: String,
    pub shell: String,
}

/// Parse `/etc/passwd` text (bad lines skipped).
#[must_use]
pub fn parse_passwd(text: &[u8]) -> Vec<PasswdEntry> {
    String::from_utf8_lossy(text)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() >= 7).then_some(())?;
            Some(PasswdEntry {
                name: f[0].to_owned(),
                uid: f[2].parse().ok()?,
                gid: f[3].parse().ok()?,
                home: f[5].to_owned(),
                shell: f[6].to_owned(),
            })
        })
        .collect()
}

/// Parse `/etc/group` text into (name, gid).
#[must_use]
pub fn parse_group(text: &[u8]) -> Vec<(String, u64)> {
    String::from_utf8_lossy(text)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() >= 3).then_some(())?;
            Some((f[0].to_owned(), f[2].parse().ok()?))
        })
        .collect()
}

/// Largest uid/gid the kernel accepts (`(uid_t)-1` is reserved).
pub const MAX_ID: u64 = u32::MAX as u64 - 1;

/// The config's `User` resolved the way runc does, against the image's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The `User` text.
    pub raw: String,
    pub user: String,
    pub group: Option<String>,
    /// Numeric uid, from the text or from /etc/passwd; `None` when a name is unknown.
    pub uid: Option<u64>,
    pub gid: Option<u64>,
    /// The passwd entry, when there is one for this user.
    pub passwd: Option<PasswdEntry>,
}

impl Identity {
    fn of(img: &ImageFacts) -> Identity {
        let raw = img.user();
        let (user, group) = match raw.split_once(':') {
            Some((u, g)) => (u.to_owned(), Some(g.to_owned())),
            None => (raw.clone(), None),
        };
        let passwd = img
            .files
            .bytes("/etc/passwd")
            .map(parse_passwd)
            .unwrap_or_default();
        let groups = img
            .files
            .bytes("/etc/group")
            .map(parse_group)
            .unwrap_or_default();
        let user_or_root = if user.is_empty() { "0" } else { user.as_str() };
        let entry = match user_or_root.parse::<u64>() {
            Ok(uid) => passwd.iter().find(|p| p.uid == uid).cloned(),
            Err(_) => passwd.iter().find(|p| p.name == user_or_root).cloned(),
        };
        let uid = user_or_root
            .parse::<u64>()
            .ok()
            .or_else(|| entry.as_ref().map(|e| e.uid));
        let gid = match &group {
            Some(g) => g
                .parse::<u64>()
                .ok()
                .or_else(|| groups.iter().find(|(n, _)| n == g).map(|(_, id)| *id)),
            None => entry.as_ref().map(|e| e.gid).or(uid.map(|_| 0)),
        };
        Identity {
            raw,
            user,
            group,
            uid,
            gid,
            passwd: entry,
        }
    }

    /// Whether `entry` grants `bits` (4 read, 2 write, 1 search/execute) to this identity.
    /// Root gets read/write everywhere and execute when any x bit is set.
    #[must_use]
    pub fn may(&self, entry: &Entry, bits: u32) -> bool {
        let (Some(uid), gid) = (self.uid, self.gid) else {
            return false;
        };
        if uid == 0 {
            return bits & 1 == 0 || entry.mode & 0o111 != 0;
        }
        let shift = if entry.uid == uid {
            6
        } else if Some(entry.gid) == gid {
            3
        } else {
            0
        };
        (entry.mode >> shift) & bits == bits
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::Fake;

    #[test]
    fn resolve_follows_links_inside_the_root() {
        let f = Fake::new()
            .dir("/etc")
            .symlink("/etc/passwd", "../../usr/share/passwd")
            .file("/usr/share/passwd", b"x:x:1:1::/:/bin/false\n")
            .facts();
        assert_eq!(f.files.resolve("/etc/passwd").unwrap(), "/usr/share/passwd");
        assert!(f.files.bytes("/etc/passwd").is_some());
        let looped = Fake::new().symlink("/a", "/b").symlink("/b", "/a").facts();
        assert_eq!(looped.files.resolve("/a"), None);
    }

    #[test]
    fn identity_from_names_and_numbers() {
        let f = Fake::new()
            .file(
                "/etc/passwd",
                b"root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/sbin/nologin\n",
            )
            .file("/etc/group", b"root:x:0:\napp:x:1000:\n")
            .user("app:app")
            .facts();
        let id = f.identity();
        assert_eq!((id.uid, id.gid), (Some(1000), Some(1000)));
        let f = Fake::new().user("1000").facts();
        assert_eq!((f.identity().uid, f.identity().passwd), (Some(1000), None));
    }
}
