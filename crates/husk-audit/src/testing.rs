//! Facts built by hand for rule tests (compiled only for this crate's tests):
//! `Fake::new().file(..).user(..).facts()`. The files become one synthetic layer merged by
//! husk-explore's [`Filesystem::from_entries`], the same merge a real image goes through;
//! content facts come from the same functions the real scan uses
//! ([`crate::content::inspect`]), so a fake ELF or key is judged exactly as one read from a
//! layer.

use std::collections::{BTreeMap, HashMap};

use husk_explore::{Device, EntryKind, Filesystem, Locator, TarEntry};
use husk_layer::ImagePath;
use husk_oci::spec::{Healthcheck, RuntimeConfig};

use crate::content;
use crate::facts::{Content, ImageFacts, LayerFacts, SecretHit};
use crate::rule::{DockerfileFacts, Emit, Finding, Rule};

/// A builder for [`ImageFacts`].
#[derive(Debug, Clone, Default)]
pub struct Fake {
    facts: ImageFacts,
    /// The synthetic layer, by path (so parents come before their children), with what
    /// the scan would have learnt from each file's bytes.
    entries: BTreeMap<String, (TarEntry, Option<Content>)>,
}

impl Fake {
    /// An amd64 image with no files and an empty config.
    #[must_use]
    pub fn new() -> Fake {
        let mut facts = ImageFacts {
            name: "oci:fake".into(),
            now: 1_800_000_000,
            ..ImageFacts::default()
        };
        facts.config.architecture = "amd64".into();
        facts.config.os = "linux".into();
        facts.config.config = Some(RuntimeConfig::default());
        Fake {
            facts,
            entries: BTreeMap::new(),
        }
    }

    fn rc(&mut self) -> &mut RuntimeConfig {
        self.facts
            .config
            .config
            .get_or_insert_with(Default::default)
    }

    fn entry(mut self, path: &str, kind: EntryKind, mode: u32, content: Option<&[u8]>) -> Fake {
        let Ok(image_path) = ImagePath::parse(path) else {
            return self;
        };
        let content = content.map(|b| {
            let mut c = content::inspect(path, b);
            c.bytes = Some(b.to_vec());
            c
        });
        let size = content
            .as_ref()
            .and_then(|c| c.bytes.as_ref())
            .map_or(0, |b| b.len() as u64);
        let device = kind.is_device().then_some(Device { major: 1, minor: 3 });
        let entry = TarEntry {
            ordinal: 0,
            path: image_path,
            trailing_slash: false,
            kind,
            hardlink: None,
            device,
            mode,
            uid: 0,
            gid: 0,
            size,
            mtime: 0,
            xattrs: None,
        };
        self.entries.insert(path.to_owned(), (entry, content));
        self
    }

    /// A regular file, mode 0644.
    #[must_use]
    pub fn file(self, path: &str, bytes: &[u8]) -> Fake {
        self.entry(path, EntryKind::File, 0o644, Some(bytes))
    }

    /// A regular file with a mode.
    #[must_use]
    pub fn file_mode(self, path: &str, bytes: &[u8], mode: u32) -> Fake {
        self.entry(path, EntryKind::File, mode, Some(bytes))
    }

    /// An executable file (0755).
    #[must_use]
    pub fn exe(self, path: &str, bytes: &[u8]) -> Fake {
        self.entry(path, EntryKind::File, 0o755, Some(bytes))
    }

    #[must_use]
    pub fn dir(self, path: &str) -> Fake {
        self.entry(path, EntryKind::Dir, 0o755, None)
    }

    #[must_use]
    pub fn dir_mode(self, path: &str, mode: u32) -> Fake {
        self.entry(path, EntryKind::Dir, mode, None)
    }

    /// Change the owner of an existing entry.
    #[must_use]
    pub fn owner(mut self, path: &str, uid: u64, gid: u64) -> Fake {
        let (e, _) = self.entries.get_mut(path).expect("entry exists");
        e.uid = uid;
        e.gid = gid;
        self
    }

    /// Set an extended attribute on an existing entry (as a PAX `SCHILY.xattr.NAME`
    /// record would).
    #[must_use]
    pub fn xattr(mut self, path: &str, name: &str, value: &[u8]) -> Fake {
        let (e, _) = self.entries.get_mut(path).expect("entry exists");
        let mut x = e.xattrs.take().map(|b| *b).unwrap_or_default();
        x.insert(name.to_owned(), value.to_vec());
        e.xattrs = x.boxed();
        self
    }

    /// Declare that the ELF file at `path` needs `versions` from `file` (DT_VERNEED).
    #[must_use]
    pub fn needs(mut self, path: &str, file: &str, versions: &[&str]) -> Fake {
        let v = self.versions(path);
        v.needs.push(husk_elf::VersionNeed {
            file: file.into(),
            versions: versions.iter().map(|s| (*s).to_owned()).collect(),
        });
        self
    }

    /// Declare the versions the ELF file at `path` defines (DT_VERDEF).
    #[must_use]
    pub fn defines(mut self, path: &str, versions: &[&str]) -> Fake {
        let v = self.versions(path);
        v.defines = versions.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    fn versions(&mut self, path: &str) -> &mut husk_elf::SymbolVersions {
        let (_, c) = self.entries.get_mut(path).expect("entry exists");
        c.get_or_insert_with(Content::default)
            .versions
            .get_or_insert_with(Default::default)
    }

    #[must_use]
    pub fn symlink(self, path: &str, target: &str) -> Fake {
        self.entry(path, EntryKind::Symlink(target.into()), 0o777, None)
    }

    #[must_use]
    pub fn device(self, path: &str) -> Fake {
        self.entry(path, EntryKind::Char, 0o666, None)
    }

    /// /etc/passwd and /etc/group with root and nonroot (65532), /tmp 1777, the home.
    #[must_use]
    pub fn base(self) -> Fake {
        self.file(
            "/etc/passwd",
            b"root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
        )
        .file("/etc/group", b"root:x:0:\nnonroot:x:65532:\n")
        .dir_mode("/tmp", 0o1777)
        .dir_mode("/home/nonroot", 0o700)
        .owner("/home/nonroot", 65532, 65532)
        .user("65532:65532")
    }

    #[must_use]
    pub fn user(mut self, user: &str) -> Fake {
        self.rc().user = Some(user.into());
        self
    }

    #[must_use]
    pub fn entrypoint(mut self, argv: &[&str]) -> Fake {
        self.rc().entrypoint = Some(argv.iter().map(|s| (*s).to_owned()).collect());
        self
    }

    #[must_use]
    pub fn cmd(mut self, argv: &[&str]) -> Fake {
        self.rc().cmd = Some(argv.iter().map(|s| (*s).to_owned()).collect());
        self
    }

    #[must_use]
    pub fn env(mut self, kv: &str) -> Fake {
        self.rc().env.get_or_insert_with(Vec::new).push(kv.into());
        self
    }

    #[must_use]
    pub fn workdir(mut self, dir: &str) -> Fake {
        self.rc().working_dir = Some(dir.into());
        self
    }

    #[must_use]
    pub fn expose(mut self, port: &str) -> Fake {
        self.rc()
            .exposed_ports
            .get_or_insert_with(Default::default)
            .insert(port.into(), Default::default());
        self
    }

    #[must_use]
    pub fn healthcheck(mut self, test: &[&str]) -> Fake {
        self.rc().healthcheck = Some(Healthcheck {
            test: Some(test.iter().map(|s| (*s).to_owned()).collect()),
            ..Healthcheck::default()
        });
        self
    }

    #[must_use]
    pub fn secret(mut self, layer: usize, path: &str, what: &str, visible: bool) -> Fake {
        self.facts.secrets.push(SecretHit {
            layer,
            path: path.into(),
            what: what.into(),
            visible,
        });
        self
    }

    #[must_use]
    pub fn layer(mut self, added: u64, wasted: u64) -> Fake {
        self.facts.layers.push(LayerFacts {
            digest: format!("sha256:{:064}", self.facts.layers.len()),
            added_bytes: added,
            wasted_bytes: wasted,
        });
        self
    }

    /// The facts: the entries merged into one synthetic layer (layer 0).
    ///
    /// # Panics
    /// When the entries do not merge (a hard link to nothing, a file at `/`).
    #[must_use]
    pub fn facts(self) -> ImageFacts {
        let mut facts = self.facts;
        let mut content = HashMap::new();
        let mut layer = Vec::new();
        for (ordinal, (_, (mut entry, c))) in (0u64..).zip(self.entries) {
            entry.ordinal = ordinal;
            if let Some(c) = c {
                content.insert(Locator { layer: 0, ordinal }, c);
            }
            layer.push(entry);
        }
        facts.files = Filesystem::from_entries([layer]).expect("fake entries merge");
        facts.content = content;
        facts
    }
}

/// Run one image rule on facts.
pub fn run_image(rule: &dyn Rule, facts: &ImageFacts) -> Vec<Finding> {
    let mut e = Emit::new(rule.info(), None);
    rule.check_image(facts, &mut e);
    e.into_findings()
}

/// Run one Dockerfile rule on Dockerfile text.
///
/// # Panics
/// When the text does not parse.
pub fn run_dockerfile(rule: &dyn Rule, text: &str) -> Vec<Finding> {
    let facts = DockerfileFacts::new(
        "Dockerfile",
        husk_dockerfile::parse(text).expect("test Dockerfile parses"),
    );
    run_dockerfile_facts(rule, &facts)
}

/// Run one Dockerfile rule on prepared facts (a `--target`, a `.dockerignore`).
pub fn run_dockerfile_facts(rule: &dyn Rule, facts: &DockerfileFacts) -> Vec<Finding> {
    let mut e = Emit::new(rule.info(), Some("Dockerfile"));
    rule.check_dockerfile(facts, &mut e);
    e.into_findings()
}

/// The Dockerfile lines of `rule`'s findings on `text` (0 for an image location), for
/// short assertions.
#[must_use]
pub fn dockerfile_lines(rule: &dyn Rule, text: &str) -> Vec<u32> {
    run_dockerfile(rule, text)
        .iter()
        .map(|f| match f.location {
            crate::rule::Location::Dockerfile { line, .. } => line,
            crate::rule::Location::Image { .. } => 0,
        })
        .collect()
}

/// The messages of findings, for short assertions.
#[must_use]
pub fn messages(f: &[Finding]) -> Vec<String> {
    f.iter().map(|f| f.message.clone()).collect()
}

/// A synthetic x86-64 (`machine` 62) or aarch64 (183) ELF program built with husk-elf's
/// [`husk_elf::testing::ElfBuilder`], with `extra` bytes appended (strings a scan may find).
#[must_use]
pub fn elf(machine: u16, interp: Option<&str>, needed: &[&str], extra: &[u8]) -> Vec<u8> {
    let mut b = if machine == 183 {
        husk_elf::testing::ElfBuilder::aarch64()
    } else {
        husk_elf::testing::ElfBuilder::x86_64()
    };
    if let Some(i) = interp {
        b = b.interp(i);
    }
    for n in needed {
        b = b.needed(n);
    }
    let mut v = b.build();
    v.extend_from_slice(extra);
    v
}
