//! SPDX 2.3 JSON (<https://spdx.github.io/spdx-spec/v2.3/>). The image is a package
//! (`primaryPackagePurpose: CONTAINER`) that the document DESCRIBES and that CONTAINS
//! every component and every file; a Debian package CONTAINS the files it installed; a
//! binary file is GENERATED_FROM the crates and Go modules compiled into it. Packages
//! with files are `filesAnalyzed` with a verification code; licences go into
//! `licenseDeclared`, unknown Debian names as declared `LicenseRef-`s.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sha1::Digest as _;

use crate::component::Ecosystem;
use crate::license::{License, spdx_id};
use crate::placed::PlacedFile;
use crate::sbom::{Sbom, Sorted, is_language, rfc3339, uuid_from};

const TOOL: &str = concat!("Tool: husk-sbom-", env!("CARGO_PKG_VERSION"));

impl Sbom {
    /// The SPDX 2.3 JSON document, pretty-printed with a final newline.
    #[must_use]
    pub fn to_spdx_json(&self) -> Vec<u8> {
        let sorted = self.sorted();
        let mut refs = BTreeMap::new();
        let packages = spdx_packages(self, &sorted, &mut refs);
        let files: Vec<Value> = sorted
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| spdx_file(i, f))
            .collect();
        let extracted: Vec<Value> = refs
            .into_iter()
            .map(|(id, name)| {
                json!({
                    "licenseId": id,
                    "name": name,
                    "extractedText": format!("The Debian copyright file names this licence `{name}`; see /usr/share/doc/<package>/copyright on the build host."),
                })
            })
            .collect();
        let doc = json!({
            "spdxVersion": "SPDX-2.3",
            "dataLicense": "CC0-1.0",
            "SPDXID": "SPDXRef-DOCUMENT",
            "name": format!("{}@{}", self.image_name(), self.image_digest()),
            "documentNamespace": format!("urn:uuid:{}", uuid_from(&["husk-sbom spdx", self.image_digest()])),
            "creationInfo": {
                "created": rfc3339(self.created().unwrap_or(0)),
                "creators": [TOOL],
            },
            "packages": packages,
            "files": files,
            "hasExtractedLicensingInfos": extracted,
            "relationships": spdx_relationships(&sorted),
        });
        to_bytes(&doc)
    }
}

fn spdx_packages(
    sbom: &Sbom,
    sorted: &Sorted<'_>,
    refs: &mut BTreeMap<String, String>,
) -> Vec<Value> {
    let all_files: Vec<usize> = (0..sorted.files.len()).collect();
    let hex = sbom.image_digest().trim_start_matches("sha256:");
    let mut image = json!({
        "SPDXID": "SPDXRef-Image",
        "name": sbom.image_name(),
        "versionInfo": sbom.image_digest(),
        "downloadLocation": "NOASSERTION",
        "primaryPackagePurpose": "CONTAINER",
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
        "checksums": [{"algorithm": "SHA256", "checksumValue": hex}],
    });
    add_files_analyzed(&mut image, sorted, &all_files);
    let mut out = vec![image];
    for (i, component) in sorted.components.iter().enumerate() {
        let files: Vec<usize> = sorted
            .supplied
            .iter()
            .filter(|(c, _)| *c == i)
            .map(|(_, f)| *f)
            .collect();
        let mut package = json!({
            "SPDXID": format!("SPDXRef-Package-{i}"),
            "name": component.name,
            "versionInfo": component.version,
            "downloadLocation": "NOASSERTION",
            "primaryPackagePurpose": "LIBRARY",
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": license_expression(&component.license, refs),
            "copyrightText": "NOASSERTION",
            "externalRefs": [{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": component.purl(),
            }],
        });
        if component.ecosystem == Ecosystem::Deb {
            package["supplier"] = json!("Organization: Debian");
            if let Some((name, version)) = &component.source {
                package["sourceInfo"] =
                    json!(format!("built from Debian source package {name} {version}"));
            }
        }
        add_files_analyzed(&mut package, sorted, &files);
        out.push(package);
    }
    out
}

/// `filesAnalyzed` and the verification code (SHA-1 of the sorted, concatenated file
/// SHA-1s) when the package contains files.
fn add_files_analyzed(package: &mut Value, sorted: &Sorted<'_>, files: &[usize]) {
    if files.is_empty() {
        package["filesAnalyzed"] = json!(false);
        return;
    }
    let mut sums: Vec<&str> = files
        .iter()
        .map(|f| sorted.files[*f].sha1.as_str())
        .collect();
    sums.sort_unstable();
    let code = hex::encode(sha1::Sha1::digest(sums.concat().as_bytes()));
    package["filesAnalyzed"] = json!(true);
    package["packageVerificationCode"] = json!({"packageVerificationCodeValue": code});
}

fn spdx_file(index: usize, file: &PlacedFile) -> Value {
    json!({
        "SPDXID": format!("SPDXRef-File-{index}"),
        "fileName": format!(".{}", file.image_path),
        "checksums": [
            {"algorithm": "SHA1", "checksumValue": file.sha1},
            {"algorithm": "SHA256", "checksumValue": file.sha256},
        ],
        "licenseConcluded": "NOASSERTION",
        "copyrightText": "NOASSERTION",
    })
}

fn spdx_relationships(sorted: &Sorted<'_>) -> Vec<Value> {
    let rel = |a: String, kind: &str, b: String| json!({"spdxElementId": a, "relationshipType": kind, "relatedSpdxElement": b});
    let mut out = vec![rel(
        "SPDXRef-DOCUMENT".into(),
        "DESCRIBES",
        "SPDXRef-Image".into(),
    )];
    for i in 0..sorted.components.len() {
        out.push(rel(
            "SPDXRef-Image".into(),
            "CONTAINS",
            format!("SPDXRef-Package-{i}"),
        ));
    }
    for f in 0..sorted.files.len() {
        out.push(rel(
            "SPDXRef-Image".into(),
            "CONTAINS",
            format!("SPDXRef-File-{f}"),
        ));
    }
    for (c, f) in &sorted.supplied {
        out.push(rel(
            format!("SPDXRef-Package-{c}"),
            "CONTAINS",
            format!("SPDXRef-File-{f}"),
        ));
    }
    for (c, f) in &sorted.built_into {
        if is_language(sorted.components[*c].ecosystem) {
            out.push(rel(
                format!("SPDXRef-File-{f}"),
                "GENERATED_FROM",
                format!("SPDXRef-Package-{c}"),
            ));
        }
    }
    out
}

/// The licence as an SPDX expression (`AND` of the declared names), recording every
/// `LicenseRef-` used.
fn license_expression(license: &License, refs: &mut BTreeMap<String, String>) -> String {
    let License::Declared(names) = license else {
        return "NOASSERTION".to_owned();
    };
    let mut ids: Vec<String> = names
        .iter()
        .map(|name| match spdx_id(name) {
            Ok(id) => id.to_owned(),
            Err(id) => {
                refs.insert(id.clone(), name.clone());
                id
            }
        })
        .collect();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        "NOASSERTION".to_owned()
    } else {
        ids.join(" AND ")
    }
}

pub(crate) fn to_bytes(value: &Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}
