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
