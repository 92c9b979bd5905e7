//! What image rules read: [`ImageFacts`], computed once per image before any rule runs.
//!
//! The filesystem part is husk-explore's merged view ([`Filesystem`]: one node per path,
//! whiteouts applied, one `resolve` that stays inside the image root), not a second tree.
//! What the single streaming pass learnt from each file's bytes ([`Content`]: ELF facts,
//! TLS markers, shebang, the bytes of small files rules need) sits beside it in a side
//! table keyed by the [`Locator`] a file's node points at, so hard links share their
//! target's facts. Facts that only exist per layer (secrets in files a later layer deleted,
//! wasted bytes) come separately. Rules never read the host, never re-read a layer, and
//! can be tested with facts built by hand (`crate::testing`, test builds only).
//!
//! A lazy scan (`husk doctor`, [`crate::scan_for_start`]) fills the side table only with
//! what the rules asked for: [`ImageFacts::content_of`] records each file whose content
//! was not read yet, and the scan reads those and runs the rules again until they ask
//! for nothing new.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use husk_elf::ElfInfo;
use husk_explore::{EntryKind, Filesystem, Locator, Node};
use husk_layer::ImagePath;
use husk_oci::ImageConfig;
use husk_oci::spec::RuntimeConfig;

/// Facts from a regular file's bytes, gathered while the layer streamed.
#[derive(Debug, Clone, Default)]
pub struct Content {
    /// The file starts with the ELF magic: the loader's view of it, or why it does not parse.
    pub elf: Option<Result<ElfInfo, String>>,
    /// For an ELF file read whole: why the kernel would refuse it or kill it at once
    /// ([`husk_elf::exec_check`]); `None` when it loads it, or when it was not read whole.
    pub exec: Option<husk_elf::ExecProblem>,
    /// A TLS implementation the file links or embeds (`libssl.so.3`, `rustls`, `crypto/tls`).
    pub tls: Option<String>,
    /// The symbol versions the file needs and defines (ELF files whose tables parse).
    pub versions: Option<husk_elf::SymbolVersions>,
    /// The `#!` line without `#!`, without the spaces and tabs around it (the kernel's
    /// trimming: a `\r` of a CRLF line stays, and is part of the interpreter's name).
    pub shebang: Option<String>,
    /// The whole content of small files the rules read (passwd, group, CA bundles).
    pub bytes: Option<Vec<u8>>,
    /// Dependency data a scanner reads from an ELF program: `cargo-auditable crate list`
    /// (a `.dep-v0` section) or `Go build info` (`.go.buildinfo`).
    pub build_data: Option<&'static str>,
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
    /// The merged filesystem (husk-explore's view of every layer, whiteouts applied).
    pub files: Filesystem,
    /// What the scan learnt from file contents, by the locator a file's node points at
    /// (only files whose content showed something are listed).
    pub content: HashMap<Locator, Content>,
    pub layers: Vec<LayerFacts>,
    pub secrets: Vec<SecretHit>,
    /// Unix time used for certificate expiry (passed in; the library reads no clock).
    pub now: i64,
    /// The platform a multi-platform index lists this image under, when the image was
    /// picked from one (set by the caller: an image alone does not know its index). An
    /// engine on that platform pulls this image, so its entrypoint must run there.
    pub listed_as: Option<husk_oci::Platform>,
    /// Set by a lazy scan: which contents were read, and which rules asked for since.
    pub(crate) lazy: Option<Lazy>,
}

/// The bookkeeping of a lazy scan (see the module header).
#[derive(Debug, Default)]
pub(crate) struct Lazy {
    /// Files whose content was read (whether or not it showed anything).
    pub(crate) read: HashSet<Locator>,
    /// Files a rule asked about that were not read yet.
    asked: Mutex<HashSet<Locator>>,
}

impl Clone for Lazy {
    fn clone(&self) -> Lazy {
        Lazy {
            read: self.read.clone(),
            asked: Mutex::new(self.asked.lock().map(|a| a.clone()).unwrap_or_default()),
        }
    }
}

impl Lazy {
    /// What rules asked for since the last call, emptied.
    pub(crate) fn take_asked(&self) -> HashSet<Locator> {
        self.asked
            .lock()
            .map(|mut a| std::mem::take(&mut *a))
            .unwrap_or_default()
    }
}

impl ImageFacts {
    /// Resolve `path` inside the image root with [`Filesystem::resolve`], following every
    /// symlink (the last one too). `None` for a path that is not absolute and valid, or a
    /// symlink loop; the result may not exist.
    #[must_use]
    pub fn resolve(&self, path: &str) -> Option<ImagePath> {
        let p = ImagePath::parse(path).ok()?;
        self.files.resolve(&p, true).ok()
    }

    /// Resolve `path` and return the node there, with its resolved path.
    #[must_use]
    pub fn lookup(&self, path: &str) -> Option<(ImagePath, &Node)> {
        let p = ImagePath::parse(path).ok()?;
        self.files.lookup(&p, true).ok()
    }

    /// Whether `path` resolves to a regular file.
    #[must_use]
    pub fn is_file(&self, path: &str) -> bool {
        self.lookup(path).is_some_and(|(_, n)| n.is_file())
    }

    /// What the scan learnt from the content of `node` (a regular file).
    #[must_use]
    pub fn content_of(&self, node: &Node) -> Option<&Content> {
        let loc = node.content.filter(|_| node.is_file())?;
        let found = self.content.get(&loc);
        if found.is_none()
            && let Some(lazy) = &self.lazy
            && !lazy.read.contains(&loc)
            && let Ok(mut asked) = lazy.asked.lock()
        {
            asked.insert(loc);
        }
        found
    }

    /// The content facts of the regular file `path` resolves to.
    #[must_use]
    pub fn content(&self, path: &str) -> Option<&Content> {
        self.lookup(path).and_then(|(_, n)| self.content_of(n))
    }

    /// The bytes of the small file `path` resolves to, when the scan kept them.
    #[must_use]
    pub fn bytes(&self, path: &str) -> Option<&[u8]> {
        self.content(path).and_then(|c| c.bytes.as_deref())
    }

    /// Find an executable the way `execvp` does with the image's PATH: a name with a `/`
    /// is taken as is (relative to `workdir`), otherwise each PATH directory is tried.
    #[must_use]
    pub fn find_program(&self, name: &str, path_var: &str, workdir: &str) -> Option<ImagePath> {
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
                    .filter(|(_, n)| n.kind == EntryKind::File)
                    .map(|(r, _)| r)
            })
    }

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
            .bytes("/etc/passwd")
            .map(parse_passwd)
            .unwrap_or_default();
        let groups = img.bytes("/etc/group").map(parse_group).unwrap_or_default();
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
    pub fn may(&self, entry: &Node, bits: u32) -> bool {
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
        assert_eq!(
            f.resolve("/etc/passwd").unwrap().as_str(),
            "/usr/share/passwd"
        );
        assert!(f.bytes("/etc/passwd").is_some());
        let looped = Fake::new().symlink("/a", "/b").symlink("/b", "/a").facts();
        assert_eq!(looped.resolve("/a"), None);
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
