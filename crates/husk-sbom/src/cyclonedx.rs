//! CycloneDX 1.6 JSON (<https://cyclonedx.org/docs/1.6/json/>). The image is
//! `metadata.component` (type `container`, version = digest); each package is a
//! `library` component with its purl as `bom-ref`; the files a Debian package installed
//! are nested `file` components of it (CycloneDX's "contains"), files nobody supplied are
//! top-level; crates and Go modules carry `evidence.occurrences` naming the binaries they
//! were compiled into. `dependencies` says the image depends on every package. The serial
//! number is a UUID derived from the image digest; there is a timestamp only when the
//! caller set one.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::component::Ecosystem;
use crate::license::{License, spdx_id};
use crate::placed::PlacedFile;
use crate::sbom::{Sbom, Sorted, rfc3339, uuid_from};
use crate::spdx::to_bytes;

impl Sbom {
    /// The CycloneDX 1.6 JSON document, pretty-printed with a final newline.
    #[must_use]
    pub fn to_cyclonedx_json(&self) -> Vec<u8> {
        let sorted = self.sorted();
        let mut nested: BTreeSet<usize> = BTreeSet::new();
        let mut components = Vec::new();
        for (i, component) in sorted.components.iter().enumerate() {
            let purl = component.purl();
            let mut c = json!({
                "type": "library",
                "bom-ref": purl,
                "name": component.name,
                "version": component.version,
                "purl": purl,
            });
            if let Some(licenses) = licenses(&component.license) {
                c["licenses"] = licenses;
            }
            if component.ecosystem == Ecosystem::Deb {
                c["supplier"] = json!({"name": "Debian"});
            }
            let files: Vec<Value> = sorted
                .supplied
                .iter()
                .filter(|(ci, f)| *ci == i && nested.insert(*f))
                .map(|(_, f)| file_component(sorted.files[*f]))
                .collect();
            if !files.is_empty() {
                c["components"] = json!(files);
            }
            let occurrences: Vec<Value> = sorted
                .built_into
                .iter()
                .filter(|(ci, _)| *ci == i)
                .map(|(_, f)| json!({"location": sorted.files[*f].image_path}))
                .collect();
            if !occurrences.is_empty() {
                c["evidence"] = json!({"occurrences": occurrences});
            }
            components.push(c);
        }
        for (f, file) in sorted.files.iter().enumerate() {
            if !nested.contains(&f) {
                components.push(file_component(file));
            }
        }
        let mut metadata = json!({
            "tools": {"components": [{"type": "application", "name": "husk-sbom", "version": env!("CARGO_PKG_VERSION")}]},
            "component": {
                "type": "container",
                "bom-ref": image_ref(self),
                "name": self.image_name(),
                "version": self.image_digest(),
                "hashes": [{"alg": "SHA-256", "content": self.image_digest().trim_start_matches("sha256:")}],
            },
        });
        if let Some(epoch) = self.created() {
            metadata["timestamp"] = json!(rfc3339(epoch));
        }
        let doc = json!({
            "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            "serialNumber": format!("urn:uuid:{}", uuid_from(&["husk-sbom cyclonedx", self.image_digest()])),
            "version": 1,
            "metadata": metadata,
            "components": components,
            "dependencies": dependencies(self, &sorted),
        });
        to_bytes(&doc)
    }
}

fn image_ref(sbom: &Sbom) -> String {
    format!("image:{}", sbom.image_digest())
}

fn dependencies(sbom: &Sbom, sorted: &Sorted<'_>) -> Value {
    let purls: BTreeSet<String> = sorted.components.iter().map(|c| c.purl()).collect();
    let mut deps = vec![json!({"ref": image_ref(sbom), "dependsOn": purls})];
    deps.extend(purls.iter().map(|p| json!({"ref": p})));
    json!(deps)
}

fn file_component(file: &PlacedFile) -> Value {
    json!({
        "type": "file",
        "bom-ref": format!("file:{}", file.image_path),
        "name": file.image_path,
        "hashes": [
            {"alg": "SHA-1", "content": file.sha1},
            {"alg": "SHA-256", "content": file.sha256},
        ],
    })
}

/// `licenses`: a known SPDX id as `id`, anything else as `name`.
fn licenses(license: &License) -> Option<Value> {
    let License::Declared(names) = license else {
        return None;
    };
    let list: Vec<Value> = names
        .iter()
        .map(|name| match spdx_id(name) {
            Ok(id) => json!({"license": {"id": id}}),
            Err(_) => json!({"license": {"name": name}}),
        })
        .collect();
    Some(json!(list))
}
