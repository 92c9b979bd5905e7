//! The package phase of a build: which Debian package supplied each host file the plans
//! place (the host's dpkg database, read once through husk-sbom), the image's own
//! package records so scanners see those packages, and the SBOM once the image exists.
//!
//! Where the records go, for caching: the OS identity files (`/etc/os-release`,
//! `/etc/debian_version`) change only when the host's release does, so they join the
//! system-files layer; the `/var/lib/dpkg/status.d/` entries name the application's own
//! package too (curl's, for `husk build /usr/bin/curl`), so they go in the application
//! layer, which changes with the app anyway. The system and library layers therefore hold
//! nothing that depends on the app, and an app-only change keeps their digests.
//!
//! An image none of whose host files belongs to a package gets no records at all (no OS
//! identity either: a scanner would otherwise claim a distribution with no packages).

use std::path::Path;
use std::sync::Arc;

use husk_layer::{Entry, FileSource, ImagePath, LayerPlan, MODE_DATA};
use husk_sbom::{DpkgDb, OS_IDENTITY_FILES, OsRelease, PlacedFile, Provenance, Sbom};

use crate::BuildError;
use crate::build::Plans;
use crate::options::BuildRequest;
use crate::values::SbomFormats;

/// The host whose dpkg database is read.
const HOST_ROOT: &str = "/";

/// What the package phase learned, kept for the SBOM.
#[derive(Debug, Clone)]
pub struct Packages {
    db: DpkgDb,
    provenance: Provenance,
    /// Number of distinct packages that supplied placed files.
    pub count: usize,
    /// Whether the records were written into the image.
    pub recorded: bool,
}

/// (image path, host path) of every regular host file a plan places.
fn host_files(plan: &LayerPlan) -> Vec<(String, String)> {
    plan.iter()
        .filter_map(|(path, entry)| match &entry.source {
            Some(FileSource::Host(host)) => {
                Some((path.to_string(), host.to_string_lossy().into_owned()))
            }
            _ => None,
        })
        .collect()
}

fn all_host_files(plans: &Plans) -> Vec<(String, String)> {
    plans.layers().into_iter().flat_map(host_files).collect()
}

fn placed_without_hashes(files: &[(String, String)]) -> Vec<PlacedFile> {
    files
        .iter()
        .map(|(image, host)| PlacedFile {
            image_path: image.clone(),
            host_path: Some(host.clone()),
            // package_db_files reads only the paths; the SBOM hashes the real bytes.
            sha256: String::new(),
            sha1: String::new(),
        })
        .collect()
}

/// True when no plan holds `path` yet.
fn free(plans: &Plans, path: &ImagePath) -> bool {
    plans.layers().iter().all(|p| p.get(path).is_none())
}

/// Runs the package phase on `plans` when the request wants records or an SBOM: finds
/// the owners of every placed host file and, unless `--no-package-db`, adds the records.
///
/// # Errors
/// [`BuildError::PackageDb`] when the host's dpkg database cannot be read, or a plan
/// conflict.
pub fn plan_packages(req: &BuildRequest, plans: &mut Plans) -> Result<(), BuildError> {
    if !req.contents.package_db && !req.encoding.sbom.any() {
        return Ok(());
    }
    let db = DpkgDb::open(Path::new(HOST_ROOT)).map_err(BuildError::PackageDb)?;
    let files = all_host_files(plans);
    let os_files: Vec<String> = OS_IDENTITY_FILES
        .iter()
        .filter(|id| db.root().join(id).is_file())
        .filter(|id| ImagePath::parse(id).is_ok_and(|p| free(plans, &p)))
        .map(|id| (*id).to_owned())
        .collect();
    let mut queries: Vec<&str> = files.iter().map(|(_, h)| h.as_str()).collect();
    queries.extend(os_files.iter().map(String::as_str));
    let mut provenance = if db.is_empty() {
        Provenance::default()
    } else {
        db.owners_indexed(&queries, req.encoding.dpkg_index_dir.as_deref())
            .map_err(BuildError::PackageDb)?
    };
    let owned = files
        .iter()
        .any(|(_, h)| provenance.owners.contains_key(h.as_str()));
    let recorded = req.contents.package_db && owned;
    if !recorded {
        for id in &os_files {
            provenance.owners.remove(id);
            provenance.unowned.remove(id);
        }
    }
    if recorded {
        add_records(&db, &provenance, &files, &os_files, plans)?;
    }
    let count = provenance.packages().len();
    plans.packages = Some(Packages {
        db,
        provenance,
        count,
        recorded,
    });
    Ok(())
}

/// The OS identity files into the system layer, the status.d entries into the app layer.
fn add_records(
    db: &DpkgDb,
    provenance: &Provenance,
    files: &[(String, String)],
    os_files: &[String],
    plans: &mut Plans,
) -> Result<(), BuildError> {
    let mut placed = placed_without_hashes(files);
    for id in os_files {
        let path = ImagePath::parse(id).expect("OS identity paths are valid image paths");
        let host = db.root().join(id);
        plans
            .system
            .add(path, Entry::file(FileSource::Host(host), MODE_DATA))?;
        placed.extend(placed_without_hashes(&[(id.clone(), id.clone())]));
    }
    let records =
        husk_sbom::package_db_files(db, provenance, &placed).map_err(BuildError::PackageRecords)?;
    for record in records {
        let Ok(path) = ImagePath::parse(&record.path) else {
            continue;
        };
        if free(plans, &path) {
            let bytes = FileSource::Bytes(Arc::from(record.bytes));
            plans.app.add(path, Entry::file(bytes, MODE_DATA))?;
        }
    }
    Ok(())
}

/// The SBOM documents of a built image, as (file name, bytes).
pub type Documents = Vec<(String, Vec<u8>)>;

/// The file name of each document: `sbom.spdx.json`, `sbom.cdx.json`.
pub const SPDX_FILE: &str = "sbom.spdx.json";
/// See [`SPDX_FILE`].
pub const CYCLONEDX_FILE: &str = "sbom.cdx.json";

/// The SBOM of the image `name` with manifest `digest`: every regular file the plans
/// placed (with its SHA-256 and SHA-1), the Debian packages that supplied them, and the
/// Rust crates or Go modules compiled into the application's ELF files.
///
/// # Errors
/// [`BuildError::Sbom`] when a placed file cannot be read or described.
pub fn sbom_documents(
    plans: &Plans,
    formats: SbomFormats,
    name: &str,
    digest: &str,
    epoch: u64,
) -> Result<Documents, BuildError> {
    let mut sbom = Sbom::new(name, digest).map_err(BuildError::Sbom)?;
    sbom.set_created(i64::try_from(epoch).ok().filter(|e| *e > 0));
    let placed = hash_placed(plans)?;
    match &plans.packages {
        Some(p) => {
            let distro = OsRelease::read(p.db.root())
                .ok()
                .flatten()
                .map(|o| o.purl_distro());
            sbom.add_debian(&p.db, &p.provenance, &placed, distro.as_deref())
                .map_err(BuildError::Sbom)?;
        }
        None => {
            for file in placed {
                sbom.add_file(file).map_err(BuildError::Sbom)?;
            }
        }
    }
    add_language_data(plans, &mut sbom)?;
    let mut docs = Vec::new();
    if formats.spdx {
        docs.push((SPDX_FILE.to_owned(), sbom.to_spdx_json()));
    }
    if formats.cyclonedx {
        docs.push((CYCLONEDX_FILE.to_owned(), sbom.to_cyclonedx_json()));
    }
    Ok(docs)
}

/// Every regular file of the plans with its hashes; host files keep the host path the
/// provenance was queried with.
fn hash_placed(plans: &Plans) -> Result<Vec<PlacedFile>, BuildError> {
    let mut placed = Vec::new();
    for plan in plans.layers() {
        for (path, entry) in plan.iter() {
            let image_path = path.to_string();
            match &entry.source {
                Some(FileSource::Host(host)) => {
                    let mut file =
                        PlacedFile::hash_host(&image_path, host).map_err(BuildError::Sbom)?;
                    file.host_path = Some(query_path(host, &image_path));
                    placed.push(file);
                }
                Some(FileSource::Bytes(bytes)) => {
                    placed.push(PlacedFile::from_bytes(&image_path, bytes));
                }
                None => {}
            }
        }
    }
    Ok(placed)
}

/// The host path a file was queried by: OS identity files by their own path (the host
/// one is a symlink dpkg lists as such), every other file by its plan's host path.
fn query_path(host: &Path, image_path: &str) -> String {
    if OS_IDENTITY_FILES.contains(&image_path)
        && host == Path::new(HOST_ROOT).join(image_path.trim_start_matches('/'))
    {
        return image_path.to_owned();
    }
    host.to_string_lossy().into_owned()
}

/// Rust crates (cargo-auditable) and Go modules of the application's ELF files (in the
/// application layer, or the traced layer for a traced program at its host path).
fn add_language_data(plans: &Plans, sbom: &mut Sbom) -> Result<(), BuildError> {
    for (path, entry) in plans.traced.iter().chain(plans.app.iter()) {
        let Some(FileSource::Host(host)) = &entry.source else {
            continue;
        };
        if !crate::build::head(host, 4).is_ok_and(|h| husk_elf::is_elf(&h)) {
            continue;
        }
        let Ok(bytes) = std::fs::read(host) else {
            continue;
        };
        let image_path = path.to_string();
        let crates = husk_sbom::rust_crates(&bytes, &image_path).map_err(BuildError::Sbom)?;
        if !crates.is_empty() {
            sbom.add_built_into(&image_path, crates);
        }
        if let Some(go) = husk_sbom::go_build_info(&bytes, &image_path).map_err(BuildError::Sbom)? {
            sbom.add_built_into(&image_path, go.components());
        }
    }
    Ok(())
}
