//! Package databases found inside an image (for `husk sbom IMAGE`), parsed from bytes:
//! dpkg's `status` file, distroless-style `status.d/` entries (one paragraph per file;
//! `*.md5sums` are not entries) and Alpine's `/lib/apk/db/installed` (blank-line
//! separated records of `K:value` lines: `P` name, `V` version, `A` arch, `o` origin,
//! `L` licence).

use crate::component::{Component, Ecosystem};
use crate::dpkg::{DebPackage, installed_packages};
use crate::error::{Result, SbomError};
use crate::license::License;

/// Installed packages of a dpkg `status` file or one `status.d/` entry (both are deb822
/// paragraphs; entries without `Status` count as installed, as distroless writes them).
///
/// # Errors
/// [`SbomError::Deb822`] when the text is malformed.
pub fn parse_dpkg_status(bytes: &[u8], what: &str) -> Result<Vec<DebPackage>> {
    let mut packages = installed_packages(bytes, what)?;
    packages.sort_by(|a, b| (&a.name, &a.architecture).cmp(&(&b.name, &b.architecture)));
    Ok(packages)
}

/// True for a `status.d/` file name that is an entry (not `*.md5sums`, not hidden).
#[must_use]
pub fn is_status_d_entry(file_name: &str) -> bool {
    !file_name.is_empty() && !file_name.starts_with('.') && !file_name.ends_with(".md5sums")
}

/// The packages of Alpine's installed database as components.
///
/// # Errors
/// [`SbomError::Apk`] when the text is not UTF-8 or a line is not `K:value`.
pub fn parse_apk_installed(bytes: &[u8], what: &str) -> Result<Vec<Component>> {
    let text = std::str::from_utf8(bytes).map_err(|_| SbomError::Apk {
        what: what.to_owned(),
        line: 1,
        reason: "not valid UTF-8".to_owned(),
    })?;
    let mut out = Vec::new();
    let mut current = Component::new(Ecosystem::Apk, "", "");
    let finish = |c: &mut Component, out: &mut Vec<Component>| {
        let c = std::mem::replace(c, Component::new(Ecosystem::Apk, "", ""));
        if !c.name.is_empty() && !c.version.is_empty() {
            out.push(c);
        }
    };
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            finish(&mut current, &mut out);
            continue;
        }
        let Some((key, value)) = line.split_once(':').filter(|(k, _)| k.len() == 1) else {
            return Err(SbomError::Apk {
                what: what.to_owned(),
                line: index + 1,
                reason: "line is not `K:value`".to_owned(),
            });
        };
        match key {
            "P" => current.name = value.to_owned(),
            "V" => current.version = value.to_owned(),
            "A" => current.architecture = Some(value.to_owned()),
            "o" => current.source = Some((value.to_owned(), String::new())),
            "L" if !value.is_empty() => current.license = License::Declared(vec![value.to_owned()]),
            _ => {}
        }
    }
    finish(&mut current, &mut out);
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apk_installed() {
        let text = "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\no:musl\nF:lib\nR:ld-musl-x86_64.so.1\n\nP:busybox\nV:1.36.1-r5\nA:x86_64\n\nP:noversion\n";
        let pkgs = parse_apk_installed(text.as_bytes(), "installed").unwrap();
        let purls: Vec<String> = pkgs.iter().map(Component::purl).collect();
        assert_eq!(
            purls,
            [
                "pkg:apk/alpine/busybox@1.36.1-r5?arch=x86_64",
                "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64"
            ]
        );
        assert_eq!(pkgs[1].license, License::Declared(vec!["MIT".into()]));
        assert!(parse_apk_installed(b"P:x\nbad line\n", "i").is_err());
        assert!(parse_apk_installed(b"\xff", "i").is_err());
    }

    #[test]
    fn dpkg_status_and_entries() {
        let text = "Package: a\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\nSource: src (0.9)\n\n\
Package: gone\nStatus: deinstall ok config-files\nVersion: 2\n\n\
Package: distroless\nVersion: 3\nArchitecture: all\n";
        let pkgs = parse_dpkg_status(text.as_bytes(), "status").unwrap();
        let names: Vec<&str> = pkgs.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a", "distroless"]);
        assert_eq!(
            (pkgs[0].source.as_str(), pkgs[0].source_version.as_str()),
            ("src", "0.9")
        );
        assert!(is_status_d_entry("libc6"));
        assert!(!is_status_d_entry("libc6.md5sums"));
    }
}
