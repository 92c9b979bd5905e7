//! A package as the documents show it (a Debian package, a Rust crate or a Go module)
//! and its package URL (<https://github.com/package-url/purl-spec>):
//! `pkg:deb/debian/NAME@VERSION?arch=ARCH&distro=debian-12`, `pkg:cargo/NAME@VERSION`,
//! `pkg:golang/MODULE@VERSION`, `pkg:apk/alpine/NAME@VERSION?arch=ARCH`.

use crate::dpkg::DebPackage;
use crate::license::License;

/// Which package world a component is from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ecosystem {
    /// A Debian binary package.
    Deb,
    /// A Rust crate.
    Cargo,
    /// A Go module.
    Golang,
    /// An Alpine package.
    Apk,
}

/// One package in an SBOM.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Component {
    /// Its world.
    pub ecosystem: Ecosystem,
    /// Package, crate or module name.
    pub name: String,
    /// Version as the ecosystem writes it.
    pub version: String,
    /// Debian architecture.
    pub architecture: Option<String>,
    /// Debian source package and version.
    pub source: Option<(String, String)>,
    /// Licence (DEP-5 names) where known.
    pub license: License,
    /// purl `distro` qualifier (`debian-12`).
    pub distro: Option<String>,
}

impl Component {
    /// A component with no architecture, source, licence or distro.
    #[must_use]
    pub fn new(ecosystem: Ecosystem, name: &str, version: &str) -> Self {
        Self {
            ecosystem,
            name: name.to_owned(),
            version: version.to_owned(),
            architecture: None,
            source: None,
            license: License::NoAssertion,
            distro: None,
        }
    }

    /// A Debian package with its licence and the image's distro qualifier.
    #[must_use]
    pub fn deb(package: &DebPackage, license: License, distro: Option<&str>) -> Self {
        Self {
            ecosystem: Ecosystem::Deb,
            name: package.name.clone(),
            version: package.version.clone(),
            architecture: Some(package.architecture.clone()),
            source: Some((package.source.clone(), package.source_version.clone())),
            license,
            distro: distro.map(str::to_owned),
        }
    }

    /// The package URL.
    #[must_use]
    pub fn purl(&self) -> String {
        let version = encode(&self.version);
        match self.ecosystem {
            Ecosystem::Deb => {
                let mut q = Vec::new();
                if let Some(arch) = &self.architecture {
                    q.push(format!("arch={}", encode(arch)));
                }
                if let Some(distro) = &self.distro {
                    q.push(format!("distro={}", encode(distro)));
                }
                let q = if q.is_empty() {
                    String::new()
                } else {
                    format!("?{}", q.join("&"))
                };
                format!("pkg:deb/debian/{}@{version}{q}", encode(&self.name))
            }
            Ecosystem::Apk => {
                let q = self
                    .architecture
                    .as_ref()
                    .map(|a| format!("?arch={}", encode(a)))
                    .unwrap_or_default();
                format!("pkg:apk/alpine/{}@{version}{q}", encode(&self.name))
            }
            Ecosystem::Cargo => format!("pkg:cargo/{}@{version}", encode(&self.name)),
            Ecosystem::Golang => {
                let path: Vec<String> = self
                    .name
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .map(encode)
                    .collect();
                format!("pkg:golang/{}@{version}", path.join("/"))
            }
        }
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls() {
        let mut c = Component::new(Ecosystem::Deb, "libc6", "2.36-9+deb12u14");
        c.architecture = Some("amd64".into());
        c.distro = Some("debian-12".into());
        assert_eq!(
            c.purl(),
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&distro=debian-12"
        );
        let c = Component::new(Ecosystem::Deb, "x", "1:2.0~rc1");
        assert_eq!(c.purl(), "pkg:deb/debian/x@1%3A2.0~rc1");
        let c = Component::new(Ecosystem::Cargo, "serde", "1.0.0");
        assert_eq!(c.purl(), "pkg:cargo/serde@1.0.0");
        let c = Component::new(Ecosystem::Golang, "github.com/x/y z", "v1");
        assert_eq!(c.purl(), "pkg:golang/github.com/x/y%20z@v1");
    }
}
