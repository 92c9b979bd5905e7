//! husk-sbom: what is inside a husk image, told the way scanners and SBOM tools read it.
//!
//! A FROM-scratch image built from host files is invisible to scanners: they find
//! packages through a package database, and the image has none. This crate owns:
//!
//! 1. **Provenance** ([`DpkgDb`]): the host's dpkg database read once (`status`,
//!    `diversions`; `info/*.list` scanned on demand by one Aho-Corasick automaton over the
//!    wanted basenames, merged-`/usr` spellings folded on both sides), giving for each
//!    host path the installed package(s) that own it ([`DpkgDb::owners`] ->
//!    [`Provenance`], with unowned paths listed), their `md5sums` and DEP-5 licences.
//! 2. **The image's package db** ([`package_db_files`]): distroless-style
//!    `/var/lib/dpkg/status.d/<package>` paragraphs and `<package>.md5sums`, deterministic
//!    bytes that syft, trivy and grype read; with [`OS_IDENTITY_FILES`] placed too, they
//!    also know the distribution (trivy needs `/etc/debian_version`, syft
//!    `/etc/os-release`).
//! 3. **Language data**: Rust crates from cargo-auditable's `.dep-v0` ([`rust_crates`],
//!    through rust-secure-code's `auditable-info`, capped) and Go build info
//!    ([`go_build_info`], a bounds-checked parser of the Go >= 1.18 format).
//! 4. **Documents** ([`Sbom`]): SPDX 2.3 and CycloneDX 1.6 JSON of the image (by manifest
//!    digest), its packages (purls), files (SHA-1 and SHA-256) and relationships.
//!    Deterministic: sorted output, ids and serial numbers derived from the digest, no
//!    clock unless the caller passes `SOURCE_DATE_EPOCH`'s value.
//! 5. **Reading images' databases** from bytes: [`parse_dpkg_status`] (status file and
//!    status.d entries), [`parse_apk_installed`]; [`scan_root`] puts them together with
//!    the Rust/Go data of every ELF program into the [`Sbom`] of an extracted image.
//!
//! No HTTP, no async, no clap, no environment: every host read goes through a [`Root`]
//! prefix with size caps and regular-file checks, so tests use a fake root.
//!
//! # How `husk build` uses it (husk-build's `packages.rs`)
//!
//! ```text
//! let db = DpkgDb::open(Path::new("/"))?;                 // once per build
//! // host paths of every placed file (+ OS_IDENTITY_FILES that exist, placed as files)
//! let provenance = db.owners_indexed(&host_paths, Some(index_dir))?; // unowned: .unowned
//! let placed: Vec<PlacedFile> = ...;                      // PlacedFile::hash_host(image_path, host)
//! for f in package_db_files(&db, &provenance, &placed)? { /* add f.path, f.bytes to the
//!     app layer (OS identity files: system layer), unless --no-package-db */ }
//! // after the manifest exists:
//! let distro = OsRelease::read(db.root())?.map(|o| o.purl_distro());
//! let mut sbom = Sbom::new(&image_name, &manifest_digest)?;
//! sbom.set_created(source_date_epoch);
//! sbom.add_debian(&db, &provenance, &placed, distro.as_deref())?;
//! sbom.add_built_into("/app/server", rust_crates(&bytes, "/app/server")?);
//! if let Some(go) = go_build_info(&bytes, "/app/tool")? { sbom.add_built_into("/app/tool", go.components()); }
//! write(dir.join("sbom.spdx.json"), sbom.to_spdx_json()); write(..., sbom.to_cyclonedx_json());
//! ```
//!
//! `PlacedFile::host_path` must be the same string passed to `owners`. The SBOM describes
//! the image by manifest digest, so it is attached after the image exists (as an OCI 1.1
//! artifact with that manifest as `subject`); the package db entries are inside the image.
//! `husk sbom IMAGE` extracts the image and calls [`scan_root`], which reads
//! `var/lib/dpkg/status`, `status.d/*` ([`is_status_d_entry`]), `lib/apk/db/installed`
//! and ELF binaries and feeds the same [`Sbom`].

mod deb822;
mod dpkg;
mod error;
mod index;
mod license;
mod paths;
mod root;

pub use deb822::{
    Field, Paragraph, RawParagraph, paragraphs as deb822_paragraphs, parse as parse_deb822,
};
pub use dpkg::{DebKey, DebPackage, Diversion, DpkgDb, Provenance};
pub use error::{Result, SbomError};
pub use index::INDEX_FILE;
pub use license::{License, license_ref, parse_copyright, spdx_id};
pub use paths::UsrMerge;
pub use root::Root;
mod component;
mod lang;
mod pkgdb;
mod placed;

pub use component::{Component, Ecosystem};
pub use lang::{
    GoBuildInfo, GoModule, RUST_JSON_CAP, go_build_info, parse_go_build_info, rust_crates,
};
pub use pkgdb::{DbFile, OS_IDENTITY_FILES, OsRelease, STATUS_D, package_db_files, status_entry};
pub use placed::PlacedFile;
mod cyclonedx;
mod sbom;
mod spdx;

pub use sbom::{Sbom, rfc3339};
mod imagedb;
mod scan;

pub use imagedb::{is_status_d_entry, parse_apk_installed, parse_dpkg_status};
pub use scan::{SCAN_MAX_FILES, scan_root};
