//! The SBOM of any image, from its extracted filesystem (`husk sbom IMAGE`): the packages
//! its own databases list (dpkg `status`, distroless `status.d/` entries with their
//! `.md5sums` as file lists, dpkg `info/*.list`, Alpine's installed db), the Rust crates
//! and Go modules compiled into its ELF programs, and every regular file with its hashes.
//!
//! Nothing from the host is read: the root is a directory the caller extracted the image
//! into; symlinks are never followed, and the walk is bounded.

use std::collections::BTreeMap;
use std::path::Path;

use crate::component::Component;
use crate::dpkg::DebPackage;
use crate::error::{Result, SbomError};
use crate::imagedb::{is_status_d_entry, parse_apk_installed, parse_dpkg_status};
use crate::lang::{go_build_info, rust_crates};
use crate::license::License;
use crate::pkgdb::{OsRelease, STATUS_D};
use crate::placed::PlacedFile;
use crate::root::{LIST_CAP, Root, SMALL_CAP, STATUS_CAP};
use crate::sbom::Sbom;

/// Most regular files described (an image with more is refused rather than half-told).
pub const SCAN_MAX_FILES: usize = 500_000;
/// Largest ELF file read whole for Rust/Go data.
const ELF_CAP: u64 = 512 << 20;

/// The SBOM of the image `name` (manifest `digest`) extracted at `root`.
///
/// # Errors
/// A malformed package database, an unreadable file, more than [`SCAN_MAX_FILES`] files,
/// or a corrupt Rust/Go section.
pub fn scan_root(root: &Path, name: &str, digest: &str, created: Option<i64>) -> Result<Sbom> {
    let mut sbom = Sbom::new(name, digest)?;
    sbom.set_created(created);
    let r = Root::new(root);
    let distro = ["/etc/os-release", "/usr/lib/os-release"]
        .iter()
        .find_map(|p| read_inside(&r, p, SMALL_CAP).ok().flatten())
        .and_then(|b| OsRelease::parse(&b))
        .map(|o| o.purl_distro());
    let mut files = Vec::new();
    walk(root, "", &mut files)?;
    files.sort();
    let mut index_of = BTreeMap::new();
    for path in &files {
        let placed = PlacedFile {
            host_path: None,
            ..PlacedFile::hash_host(path, &r.join(path))?
        };
        index_of.insert(path.clone(), sbom.add_file(placed)?);
    }
    for (package, listed) in dpkg_packages(&r)? {
        let c = sbom.add_component(Component::deb(
            &package,
            License::NoAssertion,
            distro.as_deref(),
        ));
        for path in listed {
            if let Some(f) = index_of.get(&path) {
                sbom.link_supplied(c, *f);
            }
        }
    }
    if let Some(bytes) = read_inside(&r, "/lib/apk/db/installed", STATUS_CAP)? {
        for c in parse_apk_installed(&bytes, "/lib/apk/db/installed")? {
            sbom.add_component(c);
        }
    }
    for path in &files {
        add_language_data(&r, path, &mut sbom)?;
    }
    Ok(sbom)
}

/// Regular files under `dir` (image paths), symlinks not followed.
fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) -> Result<()> {
    let io = |source| SbomError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .collect::<std::io::Result<_>>()
        .map_err(io)?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let kind = entry.file_type().map_err(io)?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let path = format!("{prefix}/{name}");
        if kind.is_dir() {
            walk(&entry.path(), &path, out)?;
        } else if kind.is_file() {
            if out.len() >= SCAN_MAX_FILES {
                return Err(SbomError::BadFile {
                    path,
                    reason: format!("the image has more than {SCAN_MAX_FILES} files"),
                });
            }
            out.push(path);
        }
    }
    Ok(())
}

/// Every package the image's dpkg data lists, with the image paths it says it installed.
fn dpkg_packages(r: &Root) -> Result<Vec<(DebPackage, Vec<String>)>> {
    let mut out = Vec::new();
    if let Some(bytes) = read_inside(r, "/var/lib/dpkg/status", STATUS_CAP)? {
        for p in parse_dpkg_status(&bytes, "/var/lib/dpkg/status")? {
            let mut listed = Vec::new();
            for stem in [format!("{}:{}", p.name, p.architecture), p.name.clone()] {
                let list = format!("/var/lib/dpkg/info/{stem}.list");
                if let Ok(Some(bytes)) = read_inside(r, &list, LIST_CAP) {
                    listed.extend(String::from_utf8_lossy(&bytes).lines().map(str::to_owned));
                    break;
                }
            }
            out.push((p, listed));
        }
    }
    if !no_symlink_on_the_way(r, STATUS_D) {
        return Ok(out);
    }
    let Ok(dir) = std::fs::read_dir(r.join(STATUS_D)) else {
        return Ok(out);
    };
    let mut names: Vec<String> = dir
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| is_status_d_entry(n))
        .collect();
    names.sort();
    for name in names {
        let path = format!("{STATUS_D}/{name}");
        let Some(bytes) = read_inside(r, &path, STATUS_CAP)? else {
            continue;
        };
        let sums = read_inside(r, &format!("{path}.md5sums"), LIST_CAP)?.unwrap_or_default();
        let listed: Vec<String> = String::from_utf8_lossy(&sums)
            .lines()
            .filter_map(|l| l.split_once("  ").map(|(_, p)| format!("/{p}")))
            .collect();
        for p in parse_dpkg_status(&bytes, &path)? {
            out.push((p, listed.clone()));
        }
    }
    Ok(out)
}

/// True when no component of `abs` under the root is a symlink: the root is an extracted
/// image, and a link in it means the image's path, not the host's.
fn no_symlink_on_the_way(r: &Root, abs: &str) -> bool {
    let mut at = r.dir().to_path_buf();
    for part in abs.split('/').filter(|p| !p.is_empty()) {
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => return false,
            Ok(_) => {}
            Err(_) => return true,
        }
    }
    true
}

/// A database file of the image: `None` when absent or reached through a symlink.
fn read_inside(r: &Root, abs: &str, cap: u64) -> Result<Option<Vec<u8>>> {
    if !no_symlink_on_the_way(r, abs) {
        return Ok(None);
    }
    r.read_opt(abs, cap)
}

/// Rust crates and Go modules of the ELF file at `path`, if it is one.
fn add_language_data(r: &Root, path: &str, sbom: &mut Sbom) -> Result<()> {
    let host = r.join(path);
    let mut head = [0u8; 4];
    let is_elf = std::fs::File::open(&host)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok()
        && head == *b"\x7fELF";
    if !is_elf || std::fs::metadata(&host).map_or(true, |m| m.len() > ELF_CAP) {
        return Ok(());
    }
    let bytes = std::fs::read(&host).map_err(|source| SbomError::Io { path: host, source })?;
    let crates = rust_crates(&bytes, path)?;
    if !crates.is_empty() {
        sbom.add_built_into(path, crates);
    }
    if let Some(go) = go_build_info(&bytes, path)? {
        sbom.add_built_into(path, go.components());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(root: &Path, path: &str, bytes: &[u8]) {
        let p = root.join(path.trim_start_matches('/'));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }

    const DIGEST: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

    #[test]
    fn reads_status_d_with_md5sums_and_apk() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        put(r, "/etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\n");
        put(r, "/usr/lib/libz.so.1", b"zlib bytes");
        put(
            r,
            "/var/lib/dpkg/status.d/zlib1g",
            b"Package: zlib1g\nVersion: 1:1.2.13\nArchitecture: amd64\n",
        );
        put(
            r,
            "/var/lib/dpkg/status.d/zlib1g.md5sums",
            b"00000000000000000000000000000000  usr/lib/libz.so.1\n",
        );
        put(
            r,
            "/lib/apk/db/installed",
            b"P:musl\nV:1.2.4-r2\nA:x86_64\n\n",
        );
        std::os::unix::fs::symlink("/etc/shadow", r.join("escape")).unwrap();
        // A database reached through a link would be the host's: not read.
        let host_db = tempfile::tempdir().unwrap();
        put(host_db.path(), "/installed", b"P:host-only\nV:1\n\n");
        std::fs::create_dir_all(r.join("var/lib/dpkg/info")).unwrap();
        std::os::unix::fs::symlink(
            host_db.path().join("installed"),
            r.join("var/lib/dpkg/status"),
        )
        .unwrap();
        let sbom = scan_root(r, "x", DIGEST, None).unwrap();
        let purls: Vec<String> = sbom.components().iter().map(|c| c.purl()).collect();
        assert!(
            purls
                .iter()
                .any(|p| p.starts_with("pkg:deb/debian/zlib1g@1%3A1.2.13")),
            "{purls:?}"
        );
        assert!(purls.iter().any(|p| p.contains("musl")), "{purls:?}");
        assert!(!purls.iter().any(|p| p.contains("host-only")), "{purls:?}");
        let spdx = String::from_utf8(sbom.to_spdx_json()).unwrap();
        assert!(spdx.contains("/usr/lib/libz.so.1"));
        assert!(!spdx.contains("escape"), "symlinks are not files");
        assert_eq!(
            sbom.to_spdx_json(),
            scan_root(r, "x", DIGEST, None).unwrap().to_spdx_json()
        );
    }

    #[test]
    fn hostile_databases_are_errors_not_panics() {
        let t = tempfile::tempdir().unwrap();
        put(t.path(), "/var/lib/dpkg/status", b"\xff\xfe garbage");
        assert!(scan_root(t.path(), "x", DIGEST, None).is_err());
        assert!(scan_root(t.path(), "x", "sha256:short", None).is_err());
    }
}
