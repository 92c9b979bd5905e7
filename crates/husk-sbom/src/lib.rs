//! husk-sbom: what is inside a husk image, told the way scanners and SBOM tools read it.
//! (Header completed below.)

mod deb822;
mod dpkg;
mod error;
mod license;
mod paths;
mod root;

pub use deb822::{Field, Paragraph, parse as parse_deb822};
pub use dpkg::{DebKey, DebPackage, Diversion, DpkgDb, Provenance};
pub use error::{Result, SbomError};
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

pub use imagedb::{is_status_d_entry, parse_apk_installed, parse_dpkg_status};
