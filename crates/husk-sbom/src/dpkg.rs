//! The host's dpkg database, read once: `status` (installed packages), `diversions`, and
//! on demand the `info/<pkg>[:<arch>].list`, `.md5sums` and `/usr/share/doc/<pkg>/copyright`
//! files, all through a [`Root`].
//!
//! [`DpkgDb::owners`] answers "which package installed these paths" without building a
//! path index of the whole system: every `.list` file of an installed package is read
//! and searched with one Aho-Corasick automaton for `/<basename>` of the wanted paths;
//! only matching lines are decoded and compared (merged-`/usr` canonical form on both
//! sides), so nothing is allocated per listed path. A file-name index kept in husk's
//! cache ([`INDEX_FILE`]) narrows the lists read to the packages that may own a path.
//!
//! [`DpkgDb::open`] finds and checks `status`'s paragraphs but looks up only the six
//! fields a package needs; the whole paragraph is split into fields only for a package
//! whose image entry is written ([`DebPackage::paragraph`]). Measured (release build,
//! 815 packages, 750 KB `status`, the machine busy with a test run): 1.8-2.0 ms per
//! `open`, against 4.1-4.9 ms when every paragraph was split.
//!
//! The automaton is leftmost-longest: needles all start with
//! `/` and hold no other `/`, so matches cannot overlap except at the same start, where
//! the longest is the only one that can end at a line end.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use aho_corasick::AhoCorasick;

use crate::deb822::{self, Paragraph, RawParagraph};
use crate::error::{Result, SbomError};
use crate::index::{self, INDEX_FILE};
use crate::license::{License, parse_copyright};
use crate::paths::UsrMerge;
use crate::root::{LIST_CAP, Root, SMALL_CAP, STATUS_CAP};

/// One installed Debian package, as its `status` paragraph says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebPackage {
    /// `Package:`.
    pub name: String,
    /// `Version:`.
    pub version: String,
    /// `Architecture:` (`amd64`, `all`, ...).
    pub architecture: String,
    /// Source package name (`Source:` without its version; the binary name when absent).
    pub source: String,
    /// Source version (`Source: name (version)`; the binary version when absent).
    pub source_version: String,
    /// `Multi-Arch:` when present.
    pub multi_arch: Option<String>,
    /// The document the status paragraph came from, shared by all its packages, and
    /// where the paragraph is in it ([`DebPackage::paragraph`] splits it into fields).
    document: Arc<str>,
    range: Range<usize>,
}

impl DebPackage {
    /// The status fields a package is made of, in the order [`DebPackage::from_paragraph`]
    /// reads them.
    pub const FIELDS: [&'static str; 6] = [
        "Status",
        "Package",
        "Version",
        "Architecture",
        "Source",
        "Multi-Arch",
    ];

    /// Builds a package from a status paragraph; `None` when it is not installed (or has
    /// no name or version). Only the fields named here are read; the rest of the
    /// paragraph is kept as text until [`DebPackage::paragraph`] is asked for.
    #[must_use]
    pub fn from_paragraph(document: &Arc<str>, paragraph: &RawParagraph<'_>) -> Option<Self> {
        let [status, name, version, architecture, source, multi_arch] =
            paragraph.first_lines(Self::FIELDS);
        let status = status.unwrap_or("install ok installed");
        if status.split_whitespace().nth(2) != Some("installed") {
            return None;
        }
        let (name, version) = (name?.to_owned(), version?.to_owned());
        if name.is_empty() || version.is_empty() {
            return None;
        }
        let (source, source_version) = match source {
            Some(src) if !src.is_empty() => parse_source(src, &version),
            _ => (name.clone(), version.clone()),
        };
        Some(Self {
            name,
            version,
            architecture: architecture.unwrap_or("all").to_owned(),
            source,
            source_version,
            multi_arch: multi_arch.map(str::to_owned),
            document: Arc::clone(document),
            range: paragraph.range(),
        })
    }

    /// The whole status paragraph, fields in dpkg's order.
    #[must_use]
    pub fn paragraph(&self) -> Paragraph {
        RawParagraph::checked(&self.document[self.range.clone()]).parse()
    }

    /// The key that names this package among the installed ones.
    #[must_use]
    pub fn key(&self) -> DebKey {
        DebKey {
            name: self.name.clone(),
            architecture: self.architecture.clone(),
        }
    }

    /// The stems dpkg may have used for `info/<stem>.list` (`name:arch` for
    /// `Multi-Arch: same`), most likely first.
    fn info_stems(&self) -> [String; 2] {
        let qualified = format!("{}:{}", self.name, self.architecture);
        if self.multi_arch.as_deref() == Some("same") {
            [qualified, self.name.clone()]
        } else {
            [self.name.clone(), qualified]
        }
    }
}

/// The installed packages of a dpkg `status` document (or a `status.d/` entry), in file
/// order; they share one copy of the document.
///
/// # Errors
/// As [`deb822::paragraphs`].
pub(crate) fn installed_packages(bytes: &[u8], what: &str) -> Result<Vec<DebPackage>> {
    let raws = deb822::paragraphs(bytes, what)?;
    // `paragraphs` checked that the bytes are UTF-8: this borrows and copies them once.
    let document: Arc<str> = Arc::from(String::from_utf8_lossy(bytes));
    Ok(raws
        .iter()
        .filter_map(|raw| DebPackage::from_paragraph(&document, raw))
        .collect())
}

/// `Source: name (version)` or `Source: name`.
fn parse_source(src: &str, version: &str) -> (String, String) {
    match src.split_once('(') {
        Some((name, rest)) => {
            let v = rest.trim_end().trim_end_matches(')').trim();
            let v = if v.is_empty() { version } else { v };
            (name.trim().to_owned(), v.to_owned())
        }
        None => (src.trim().to_owned(), version.to_owned()),
    }
}

/// A package's identity in the database: name and architecture.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DebKey {
    /// Package name.
    pub name: String,
    /// Architecture.
    pub architecture: String,
}

/// One `dpkg-divert` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diversion {
    /// The path packages ship (canonical form).
    pub original: String,
    /// Where the other packages' file is put instead (canonical form).
    pub diverted_to: String,
    /// The package that set up the diversion (`None`: a local diversion, `:`).
    pub package: Option<String>,
}

/// Which packages own which paths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provenance {
    /// For each queried path (as passed), the packages that installed it (usually one;
    /// several for shared directories or `Multi-Arch: same` files).
    pub owners: BTreeMap<String, BTreeSet<DebKey>>,
    /// Queried paths no installed package lists.
    pub unowned: BTreeSet<String>,
}

impl Provenance {
    /// Every package that supplied at least one queried path.
    #[must_use]
    pub fn packages(&self) -> BTreeSet<DebKey> {
        self.owners.values().flatten().cloned().collect()
    }
}

/// The dpkg database under a root.
#[derive(Debug, Clone)]
pub struct DpkgDb {
    root: Root,
    merge: UsrMerge,
    packages: Vec<DebPackage>,
    by_key: HashMap<DebKey, usize>,
    diversions: Vec<Diversion>,
}

/// What a wanted listed path stands for.
#[derive(Debug, Clone)]
enum Rule {
    /// Any package listing it owns the query.
    Any,
    /// Only the diverting package owns it (`None`: local diversion, nobody).
    OnlyDiverter(Option<String>),
    /// Every lister except the diverting package owns the query (the diverted-to file).
    ExceptDiverter(Option<String>),
}

const STATUS: &str = "/var/lib/dpkg/status";
const DIVERSIONS: &str = "/var/lib/dpkg/diversions";
const INFO: &str = "/var/lib/dpkg/info";

impl DpkgDb {
    /// Reads `status` and `diversions` under `root` (`/` for the host). A root without a
    /// dpkg database yields an empty one ([`DpkgDb::is_empty`]).
    ///
    /// # Errors
    /// [`SbomError::Io`], [`SbomError::TooLarge`] or [`SbomError::NotAFile`] when a file
    /// cannot be read, [`SbomError::Deb822`] when `status` is malformed.
    pub fn open(root: &Path) -> Result<Self> {
        let root = Root::new(root);
        let merge = UsrMerge::detect(&root);
        let status = root.read_opt(STATUS, STATUS_CAP)?.unwrap_or_default();
        let what = root.join(STATUS).display().to_string();
        let mut packages = installed_packages(&status, &what)?;
        packages.sort_by(|a, b| (&a.name, &a.architecture).cmp(&(&b.name, &b.architecture)));
        packages.dedup_by(|a, b| a.name == b.name && a.architecture == b.architecture);
        let by_key = packages
            .iter()
            .enumerate()
            .map(|(i, p)| (p.key(), i))
            .collect();
        let diversions = match root.read_opt(DIVERSIONS, SMALL_CAP)? {
            Some(bytes) => parse_diversions(&bytes, &merge),
            None => Vec::new(),
        };
        Ok(Self {
            root,
            merge,
            packages,
            by_key,
            diversions,
        })
    }

    /// True when the root has no installed package at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.packages.is_empty()
    }

    /// Every installed package, sorted by name and architecture.
    #[must_use]
    pub fn packages(&self) -> &[DebPackage] {
        &self.packages
    }

    /// The installed package with this key.
    #[must_use]
    pub fn package(&self, key: &DebKey) -> Option<&DebPackage> {
        self.by_key.get(key).map(|i| &self.packages[*i])
    }

    /// The diversions in force.
    #[must_use]
    pub fn diversions(&self) -> &[Diversion] {
        &self.diversions
    }

    /// The merged-`/usr` canonical form of a path on this root.
    #[must_use]
    pub fn canonical(&self, path: &str) -> String {
        self.merge.canonical(path)
    }

    /// Which installed packages own `paths` (absolute paths on the root; files, symlinks
    /// or directories). Diversions are applied: a diverted-to path belongs to the packages
    /// that ship the original, other than the diverter; the original path belongs only to
    /// the diverter.
    ///
    /// # Errors
    /// A `.list` file that cannot be read.
    pub fn owners<S: AsRef<str>>(&self, paths: &[S]) -> Result<Provenance> {
        self.owners_indexed(paths, None)
    }

    /// [`DpkgDb::owners`], reading only the `.list` files of packages that list a wanted
    /// file name according to a file-name index kept in `index_dir` (see [`INDEX_FILE`]);
    /// when the index is missing or the database changed since it was written, every
    /// list is read and a fresh index written there (failures to write it are ignored).
    ///
    /// # Errors
    /// A `.list` file that cannot be read.
    pub fn owners_indexed<S: AsRef<str>>(
        &self,
        paths: &[S],
        index_dir: Option<&Path>,
    ) -> Result<Provenance> {
        let wanted = self.wanted(paths);
        let mut found: BTreeMap<String, BTreeSet<DebKey>> = BTreeMap::new();
        if !wanted.is_empty() {
            self.scan_lists(&wanted, index_dir, &mut found)?;
        }
        let mut provenance = Provenance::default();
        for path in paths {
            let path = path.as_ref();
            match found.get(&self.merge.canonical(path)) {
                Some(owners) if !owners.is_empty() => {
                    provenance.owners.insert(path.to_owned(), owners.clone());
                }
                _ => {
                    provenance.unowned.insert(path.to_owned());
                }
            }
        }
        Ok(provenance)
    }

    /// Scans the lists that may hold a wanted path: the index's candidates, or all.
    fn scan_lists(
        &self,
        wanted: &HashMap<String, Vec<(String, Rule)>>,
        index_dir: Option<&Path>,
        found: &mut BTreeMap<String, BTreeSet<DebKey>>,
    ) -> Result<()> {
        let basenames: BTreeSet<String> = wanted
            .keys()
            .map(|p| format!("/{}", p.rsplit('/').next().unwrap_or("")))
            .collect();
        let basenames: Vec<String> = basenames.into_iter().collect();
        let ac = AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .build(&basenames)
            .map_err(|e| SbomError::BadFile {
                path: basenames.first().cloned().unwrap_or_default(),
                reason: format!("cannot build the path matcher: {e}"),
            })?;
        let stamp = index_dir.and_then(|_| index::stamp(&self.root, STATUS, INFO));
        let file = index_dir.map(|d| d.join(INDEX_FILE));
        if let (Some(file), Some(stamp)) = (&file, &stamp)
            && let Some(candidates) = index::lookup(file, stamp, &wanted.keys().collect::<Vec<_>>())
        {
            for package in self
                .packages
                .iter()
                .filter(|p| candidates.contains(&format!("{}:{}", p.name, p.architecture)))
            {
                if let Some(list) = self.read_info(package, "list")? {
                    self.scan_list(package, &list, &ac, wanted, found);
                }
            }
            return Ok(());
        }
        let mut builder = index::Builder::default();
        for package in &self.packages {
            let Some(list) = self.read_info(package, "list")? else {
                continue;
            };
            if file.is_some() {
                builder.add_list(
                    &format!("{}:{}", package.name, package.architecture),
                    &list,
                    |line| self.merge.canonical(line),
                );
            }
            self.scan_list(package, &list, &ac, wanted, found);
        }
        if let (Some(file), Some(stamp)) = (&file, &stamp) {
            builder.write(file, stamp);
        }
        Ok(())
    }

    /// Listed path (canonical) -> the canonical queries it answers, with their rule.
    fn wanted<S: AsRef<str>>(&self, paths: &[S]) -> HashMap<String, Vec<(String, Rule)>> {
        let mut wanted: HashMap<String, Vec<(String, Rule)>> = HashMap::new();
        for path in paths {
            let query = self.merge.canonical(path.as_ref());
            if let Some(d) = self.diversions.iter().find(|d| d.diverted_to == query) {
                let rule = Rule::ExceptDiverter(d.package.clone());
                wanted
                    .entry(d.original.clone())
                    .or_default()
                    .push((query, rule));
            } else if let Some(d) = self.diversions.iter().find(|d| d.original == query) {
                let rule = Rule::OnlyDiverter(d.package.clone());
                wanted.entry(query.clone()).or_default().push((query, rule));
            } else {
                wanted
                    .entry(query.clone())
                    .or_default()
                    .push((query, Rule::Any));
            }
        }
        wanted
    }

    /// Records every line of `list` that is a wanted path.
    fn scan_list(
        &self,
        package: &DebPackage,
        list: &[u8],
        ac: &AhoCorasick,
        wanted: &HashMap<String, Vec<(String, Rule)>>,
        found: &mut BTreeMap<String, BTreeSet<DebKey>>,
    ) {
        let mut last_line = usize::MAX;
        for hit in ac.find_iter(list) {
            if list.get(hit.end()).is_some_and(|b| *b != b'\n') {
                continue;
            }
            let start = list[..hit.start()]
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |i| i + 1);
            if start == last_line {
                continue;
            }
            last_line = start;
            let Ok(line) = std::str::from_utf8(&list[start..hit.end()]) else {
                continue;
            };
            let Some(queries) = wanted.get(&self.merge.canonical(line)) else {
                continue;
            };
            for (query, rule) in queries {
                let owns = match rule {
                    Rule::Any => true,
                    Rule::OnlyDiverter(by) => by.as_deref() == Some(package.name.as_str()),
                    Rule::ExceptDiverter(by) => by.as_deref() != Some(package.name.as_str()),
                };
                if owns {
                    found
                        .entry(query.clone())
                        .or_default()
                        .insert(package.key());
                }
            }
        }
    }

    /// Reads `info/<stem>.<ext>` for a package (trying both stem spellings).
    fn read_info(&self, package: &DebPackage, ext: &str) -> Result<Option<Vec<u8>>> {
        for stem in package.info_stems() {
            if let Some(bytes) = self
                .root
                .read_opt(&format!("{INFO}/{stem}.{ext}"), LIST_CAP)?
            {
                return Ok(Some(bytes));
            }
        }
        Ok(None)
    }

    /// The package's `md5sums`: canonical absolute path -> md5 hex. Empty when the
    /// package has no md5sums file; malformed lines are skipped (dpkg itself warns and
    /// goes on).
    ///
    /// # Errors
    /// The md5sums file exists but cannot be read.
    pub fn md5sums(&self, key: &DebKey) -> Result<BTreeMap<String, String>> {
        let mut sums = BTreeMap::new();
        let Some(package) = self.package(key) else {
            return Ok(sums);
        };
        let Some(bytes) = self.read_info(package, "md5sums")? else {
            return Ok(sums);
        };
        for line in bytes.split(|b| *b == b'\n') {
            let Ok(line) = std::str::from_utf8(line) else {
                continue;
            };
            if let Some((sum, path)) = line.split_once("  ")
                && sum.len() == 32
                && sum.bytes().all(|b| b.is_ascii_hexdigit())
                && !path.is_empty()
            {
                let path = self.merge.canonical(&format!("/{path}"));
                sums.insert(path, sum.to_ascii_lowercase());
            }
        }
        Ok(sums)
    }

    /// The package's licence from `/usr/share/doc/<name>/copyright` when that file is
    /// machine-readable (DEP-5); [`License::NoAssertion`] otherwise.
    ///
    /// # Errors
    /// The copyright file exists but cannot be read (not a regular file, too large).
    pub fn license(&self, key: &DebKey) -> Result<License> {
        let path = format!("/usr/share/doc/{}/copyright", key.name);
        if key.name.contains('/') || key.name.starts_with('.') {
            return Ok(License::NoAssertion);
        }
        Ok(match self.root.read_opt(&path, SMALL_CAP)? {
            Some(bytes) => parse_copyright(&bytes),
            None => License::NoAssertion,
        })
    }

    /// The root this database was read from.
    #[must_use]
    pub fn root(&self) -> &Root {
        &self.root
    }
}

/// `diversions`: triples of lines (original, diverted-to, package or `:`); a trailing
/// incomplete triple is ignored.
fn parse_diversions(bytes: &[u8], merge: &UsrMerge) -> Vec<Diversion> {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().collect();
    lines
        .chunks_exact(3)
        .map(|t| Diversion {
            original: merge.canonical(t[0]),
            diverted_to: merge.canonical(t[1]),
            package: (t[2] != ":").then(|| t[2].to_owned()),
        })
        .collect()
}
