//! The SBOM model both documents are written from: the image (name and manifest
//! digest), its components, its files and who supplied which file. Output order never
//! depends on insertion order: components are sorted by purl, files by image path.

use std::collections::{BTreeSet, HashMap};

use crate::component::{Component, Ecosystem};
use crate::dpkg::{DpkgDb, Provenance};
use crate::error::{Result, SbomError};
use crate::placed::{PlacedFile, is_hex};

/// What an image contains, ready to be written as SPDX or CycloneDX.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sbom {
    image_name: String,
    image_digest: String,
    created: Option<i64>,
    components: Vec<Component>,
    files: Vec<PlacedFile>,
    /// Where each purl is in `components` (an image lists thousands of packages).
    component_at: HashMap<String, usize>,
    /// Where each image path is in `files` (an image has up to
    /// [`crate::scan::SCAN_MAX_FILES`] files).
    file_at: HashMap<String, usize>,
    /// (component, file): the component's package installed the file.
    supplied: BTreeSet<(usize, usize)>,
    /// (component, file): the component was compiled into the file (Rust, Go).
    built_into: BTreeSet<(usize, usize)>,
}

/// The model with components and files in output order and links renumbered.
pub(crate) struct Sorted<'a> {
    pub components: Vec<&'a Component>,
    pub files: Vec<&'a PlacedFile>,
    pub supplied: BTreeSet<(usize, usize)>,
    pub built_into: BTreeSet<(usize, usize)>,
}

impl Sbom {
    /// An empty SBOM for the image `name` (a reference or a file name, for people) whose
    /// manifest digest is `digest` (`sha256:<64 hex>`).
    ///
    /// # Errors
    /// [`SbomError::BadDigest`] when the digest is not a lowercase sha256 digest.
    pub fn new(name: &str, digest: &str) -> Result<Self> {
        match digest.strip_prefix("sha256:") {
            Some(hex) if is_hex(hex, 64) => {}
            _ => {
                return Err(SbomError::BadDigest {
                    digest: digest.to_owned(),
                });
            }
        }
        Ok(Self {
            image_name: name.to_owned(),
            image_digest: digest.to_owned(),
            ..Self::default()
        })
    }

    /// Sets the creation time (the caller's `SOURCE_DATE_EPOCH`); without it CycloneDX
    /// has no timestamp and SPDX (where `created` is mandatory) says 1970-01-01T00:00:00Z.
    pub fn set_created(&mut self, epoch: Option<i64>) {
        self.created = epoch;
    }

    /// Adds a file (once per image path); returns its index.
    ///
    /// # Errors
    /// [`SbomError::BadFile`] for a relative path or malformed checksums.
    pub fn add_file(&mut self, file: PlacedFile) -> Result<usize> {
        file.validate()?;
        if let Some(i) = self.file_at.get(&file.image_path) {
            return Ok(*i);
        }
        let i = self.files.len();
        self.file_at.insert(file.image_path.clone(), i);
        self.files.push(file);
        Ok(i)
    }

    /// Adds a component (once per purl); returns its index.
    pub fn add_component(&mut self, component: Component) -> usize {
        let purl = component.purl();
        if let Some(i) = self.component_at.get(&purl) {
            return *i;
        }
        let i = self.components.len();
        self.component_at.insert(purl, i);
        self.components.push(component);
        i
    }

    /// Records that `component`'s package installed `file` (indices from the adders;
    /// out-of-range indices are ignored).
    pub fn link_supplied(&mut self, component: usize, file: usize) {
        if component < self.components.len() && file < self.files.len() {
            self.supplied.insert((component, file));
        }
    }

    /// Records that `component` was compiled into the binary `file`.
    pub fn link_built_into(&mut self, component: usize, file: usize) {
        if component < self.components.len() && file < self.files.len() {
            self.built_into.insert((component, file));
        }
    }

    /// Adds every placed file, and for those whose host path `provenance` attributes to
    /// a Debian package, that package (with its DEP-5 licence) as the file's supplier.
    ///
    /// # Errors
    /// A malformed placed file or an unreadable copyright file.
    pub fn add_debian(
        &mut self,
        db: &DpkgDb,
        provenance: &Provenance,
        placed: &[PlacedFile],
        distro: Option<&str>,
    ) -> Result<()> {
        for file in placed {
            let index = self.add_file(file.clone())?;
            let owners = file
                .host_path
                .as_ref()
                .and_then(|h| provenance.owners.get(h));
            for key in owners.into_iter().flatten() {
                let Some(package) = db.package(key) else {
                    continue;
                };
                let license = db.license(key)?;
                let component = self.add_component(Component::deb(package, license, distro));
                self.link_supplied(component, index);
            }
        }
        Ok(())
    }

    /// Adds language components found in the binary at `image_path` (already added with
    /// [`Sbom::add_file`]; otherwise they are listed without a file link).
    pub fn add_built_into(&mut self, image_path: &str, components: Vec<Component>) {
        let file = self.file_at.get(image_path).copied();
        for component in components {
            let index = self.add_component(component);
            if let Some(file) = file {
                self.link_built_into(index, file);
            }
        }
    }

    /// The image name.
    #[must_use]
    pub fn image_name(&self) -> &str {
        &self.image_name
    }

    /// The image digest.
    #[must_use]
    pub fn image_digest(&self) -> &str {
        &self.image_digest
    }

    /// The creation time, if set.
    #[must_use]
    pub fn created(&self) -> Option<i64> {
        self.created
    }

    /// The components, sorted by ecosystem, name and version.
    #[must_use]
    pub fn components(&self) -> Vec<&Component> {
        self.sorted().components
    }

    pub(crate) fn sorted(&self) -> Sorted<'_> {
        let mut comp_order: Vec<usize> = (0..self.components.len()).collect();
        comp_order.sort_by_key(|i| self.components[*i].purl());
        let mut file_order: Vec<usize> = (0..self.files.len()).collect();
        file_order.sort_by(|a, b| self.files[*a].image_path.cmp(&self.files[*b].image_path));
        let comp_rank = rank(&comp_order);
        let file_rank = rank(&file_order);
        let renumber = |set: &BTreeSet<(usize, usize)>| {
            set.iter()
                .map(|(c, f)| (comp_rank[*c], file_rank[*f]))
                .collect()
        };
        Sorted {
            components: comp_order.iter().map(|i| &self.components[*i]).collect(),
            files: file_order.iter().map(|i| &self.files[*i]).collect(),
            supplied: renumber(&self.supplied),
            built_into: renumber(&self.built_into),
        }
    }
}

/// position -> rank for an ordering.
fn rank(order: &[usize]) -> Vec<usize> {
    let mut rank = vec![0; order.len()];
    for (position, index) in order.iter().enumerate() {
        rank[*index] = position;
    }
    rank
}

/// RFC 3339 UTC time of a Unix epoch second (proleptic Gregorian calendar).
#[must_use]
pub fn rfc3339(epoch: i64) -> String {
    // RFC 3339 writes years 0000-9999 only.
    let epoch = epoch.clamp(-62_167_219_200, 253_402_300_799);
    time::OffsetDateTime::from_unix_timestamp(epoch)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}

/// A name-based UUID (version 5 layout) from a SHA-256 of `parts`.
pub(crate) fn uuid_from(parts: &[&str]) -> String {
    use sha2::Digest as _;
    let mut hasher = sha2::Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    let mut b: [u8; 16] = hasher.finalize()[..16].try_into().unwrap_or([0; 16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// True for the ecosystems whose components are compiled into a binary.
pub(crate) fn is_language(e: Ecosystem) -> bool {
    matches!(e, Ecosystem::Cargo | Ecosystem::Golang)
}

#[cfg(test)]
mod tests {

    #[test]
    fn files_and_components_are_kept_once_at_any_count() {
        let mut sbom = Sbom::new("x", &format!("sha256:{}", "0".repeat(64))).unwrap();
        let n = 50_000;
        let path = |i: usize| format!("/data/{i}/file");
        for i in 0..n {
            assert_eq!(
                sbom.add_file(PlacedFile::from_bytes(&path(i), b"x"))
                    .unwrap(),
                i
            );
        }
        for i in (0..n).step_by(997) {
            assert_eq!(
                sbom.add_file(PlacedFile::from_bytes(&path(i), b"y"))
                    .unwrap(),
                i
            );
        }
        let c = |v: &str| Component::new(Ecosystem::Deb, "libc6", v);
        let first = sbom.add_component(c("1"));
        assert_ne!(sbom.add_component(c("2")), first);
        assert_eq!(sbom.add_component(c("1")), first);
        sbom.add_built_into(&path(7), vec![c("1")]);
        assert!(sbom.built_into.contains(&(first, 7)));
        // Any byte but a leading slash is a file name a document can carry.
        let odd = sbom
            .add_file(PlacedFile::from_bytes("/nl\nname", b"z"))
            .unwrap();
        assert_eq!(odd, n);
        assert!(
            sbom.add_file(PlacedFile::from_bytes("relative", b"z"))
                .is_err()
        );
        let doc = String::from_utf8(sbom.to_cyclonedx_json()).unwrap();
        assert!(doc.contains("/nl\\nname"), "escaped in JSON");
    }

    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
        let _ = rfc3339(i64::MAX / 2);
    }

    #[test]
    fn digest_is_checked_and_uuid_is_stable() {
        assert!(Sbom::new("x", "sha256:abc").is_err());
        assert!(Sbom::new("x", &format!("sha512:{}", "a".repeat(64))).is_err());
        assert!(Sbom::new("x", &format!("sha256:{}", "A".repeat(64))).is_err());
        let u = uuid_from(&["a"]);
        assert_eq!(u, uuid_from(&["a"]));
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "5");
    }
}
