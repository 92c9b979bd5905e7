//! The package database husk writes into an image so scanners see its packages: one
//! distroless-style `/var/lib/dpkg/status.d/<package>` paragraph per Debian package that
//! supplied files, and `/var/lib/dpkg/status.d/<package>.md5sums` for the files placed.
//!
//! What the scanners read (checked against their sources and by the oracle test): syft
//! globs `**/lib/dpkg/status.d/*` and takes `<name>.md5sums` beside the entry as its
//! file list; trivy reads every `status.d/` file except `*.md5sums`, skips paragraphs
//! whose `Status` says `deinstall`/`purge`, and detects the OS from `/etc/debian_version`
//! (without it no purl and no vulnerability matching); syft takes the distro from
//! `/etc/os-release`. So an image should also carry those two files
//! ([`OS_IDENTITY_FILES`]), which then count as `base-files`' like any other placed file.

use std::collections::{BTreeMap, BTreeSet};

use crate::deb822::{Field, Paragraph};
use crate::dpkg::{DebKey, DpkgDb, Provenance};
use crate::error::{Result, SbomError};
use crate::placed::PlacedFile;
use crate::root::{Root, SMALL_CAP};

/// Where the entries go in the image.
pub const STATUS_D: &str = "/var/lib/dpkg/status.d";

/// The host files that tell scanners which distribution an image's packages are from;
/// place the ones that exist (through symlinks) at the same path in the image.
pub const OS_IDENTITY_FILES: [&str; 2] = ["/etc/os-release", "/etc/debian_version"];

/// Status fields dropped from an image entry: they describe host state (configuration
/// files the image does not have), not the package.
const DROPPED_FIELDS: [&str; 2] = ["Conffiles", "Config-Version"];

/// One file of the image's package database.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DbFile {
    /// Absolute path in the image.
    pub path: String,
    /// Its exact bytes.
    pub bytes: Vec<u8>,
}

/// The `status.d` files for the packages that own placed files, sorted by path.
///
/// `provenance` must come from [`DpkgDb::owners`] over the placed files' host paths.
/// Each package's md5sums list the placed files (by image path) whose host path the
/// package's own md5sums record, with dpkg's recorded checksum. A package name taken by
/// two architectures gets `<name>:<arch>` for the second.
///
/// # Errors
/// A package's md5sums file cannot be read, or a file it lists is placed at a path with
/// a line break.
pub fn package_db_files(
    db: &DpkgDb,
    provenance: &Provenance,
    placed: &[PlacedFile],
) -> Result<Vec<DbFile>> {
    let mut files_of: BTreeMap<DebKey, Vec<&PlacedFile>> = BTreeMap::new();
    for file in placed {
        let Some(host) = &file.host_path else {
            continue;
        };
        for owner in provenance.owners.get(host).into_iter().flatten() {
            files_of.entry(owner.clone()).or_default().push(file);
        }
    }
    let mut out = Vec::new();
    let mut names = BTreeSet::new();
    for key in provenance.packages() {
        let Some(package) = db.package(&key) else {
            continue;
        };
        let stem = if names.insert(key.name.clone()) {
            key.name.clone()
        } else {
            format!("{}:{}", key.name, key.architecture)
        };
        out.push(DbFile {
            path: format!("{STATUS_D}/{stem}"),
            bytes: status_entry(&package.paragraph()).into_bytes(),
        });
        let sums = db.md5sums(&key)?;
        let mut lines = BTreeSet::new();
        for file in files_of.get(&key).into_iter().flatten() {
            let host = file.host_path.as_deref().unwrap_or_default();
            if let Some(sum) = sums.get(&db.canonical(host)) {
                let path = file.image_path.trim_start_matches('/');
                if path.contains(['\n', '\r']) {
                    return Err(SbomError::BadFile {
                        path: file.image_path.clone(),
                        reason: format!(
                            "it comes from {}, whose status.d md5sums list has one path per line; place it at a path without a line break",
                            key.name
                        ),
                    });
                }
                lines.insert(format!("{sum}  {path}\n"));
            }
        }
        out.push(DbFile {
            path: format!("{STATUS_D}/{stem}.md5sums"),
            bytes: lines.into_iter().collect::<String>().into_bytes(),
        });
    }
    out.sort();
    Ok(out)
}

/// A host status paragraph as an image entry: host-only fields dropped, `Status` forced
/// to `install ok installed` (right after `Package`, where dpkg writes it).
#[must_use]
pub fn status_entry(paragraph: &Paragraph) -> String {
    let mut fields: Vec<Field> = Vec::with_capacity(paragraph.fields.len() + 1);
    for field in &paragraph.fields {
        let drop = DROPPED_FIELDS
            .iter()
            .chain(["Status"].iter())
            .any(|d| field.name.eq_ignore_ascii_case(d));
        if !drop {
            fields.push(field.clone());
        }
        if field.name.eq_ignore_ascii_case("Package") {
            fields.push(Field {
                name: "Status".to_owned(),
                value: "install ok installed".to_owned(),
            });
        }
    }
    Paragraph { fields }.to_text()
}

/// The fields of `os-release` that name a distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsRelease {
    /// `ID` (`debian`).
    pub id: String,
    /// `VERSION_ID` (`12`), absent on testing/unstable.
    pub version_id: Option<String>,
    /// `VERSION_CODENAME` (`bookworm`).
    pub codename: Option<String>,
    /// `PRETTY_NAME`.
    pub pretty_name: Option<String>,
}

impl OsRelease {
    /// Reads `/etc/os-release`, else `/usr/lib/os-release`, under `root`.
    ///
    /// # Errors
    /// The file exists but cannot be read.
    pub fn read(root: &Root) -> Result<Option<Self>> {
        for path in ["/etc/os-release", "/usr/lib/os-release"] {
            if let Some(bytes) = root.read_opt(path, SMALL_CAP)? {
                return Ok(Self::parse(&bytes));
            }
        }
        Ok(None)
    }

    /// Parses os-release text (`KEY=value`, values optionally quoted).
    #[must_use]
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        let text = String::from_utf8_lossy(bytes);
        let mut map = BTreeMap::new();
        for line in text.lines() {
            if let Some((k, v)) = line.trim().split_once('=') {
                let v = v.trim().trim_matches('"').trim_matches('\'');
                map.insert(k.trim().to_owned(), v.to_owned());
            }
        }
        let id = map.get("ID").filter(|s| !s.is_empty())?.clone();
        Some(Self {
            id,
            version_id: map.get("VERSION_ID").cloned(),
            codename: map.get("VERSION_CODENAME").cloned(),
            pretty_name: map.get("PRETTY_NAME").cloned(),
        })
    }

    /// The purl `distro` qualifier: `debian-12` (or `debian-trixie` without a version).
    #[must_use]
    pub fn purl_distro(&self) -> String {
        match self.version_id.as_ref().or(self.codename.as_ref()) {
            Some(v) => format!("{}-{v}", self.id),
            None => self.id.clone(),
        }
    }
}
