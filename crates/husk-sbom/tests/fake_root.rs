//! Provenance, package-db entries and documents against a fake dpkg root built in a
//! temporary directory: merged /usr, a diversion, a `Multi-Arch: same` list named
//! `pkg:amd64.list`, `Source: name (version)`, DEP-5 and free-form copyright files.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use husk_sbom::{DebKey, DpkgDb, License, PlacedFile, Sbom, package_db_files, status_entry};

const STATUS: &str = "\
Package: libc6
Status: install ok installed
Priority: optional
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u14
Conffiles:
 /etc/ld.so.conf.d/x86_64-linux-gnu.conf abc
Description: GNU C Library: Shared libraries
 Contains the standard libraries.

Package: libfoo1
Status: install ok installed
Architecture: amd64
Source: foo (1.2-3)
Version: 1.2-3+b1
Description: foo library

Package: dash
Status: install ok installed
Architecture: amd64
Version: 0.5.12-2

Package: sh-provider
Status: install ok installed
Architecture: amd64
Version: 1.0

Package: removed
Status: deinstall ok config-files
Architecture: amd64
Version: 9

Package: lonely
Status: install ok installed
Architecture: all
Version: 1
";

fn write(root: &Path, path: &str, text: &str) {
    let p = root.join(path.trim_start_matches('/'));
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

/// A merged-/usr root with a small dpkg database.
fn fake_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    for d in ["bin", "sbin", "lib", "lib64"] {
        fs::create_dir_all(r.join("usr").join(d)).unwrap();
        std::os::unix::fs::symlink(format!("usr/{d}"), r.join(d)).unwrap();
    }
    write(r, "/var/lib/dpkg/status", STATUS);
    // libc6 lists the pre-merge spelling, as bookworm's libc6 does.
    write(
        r,
        "/var/lib/dpkg/info/libc6:amd64.list",
        "/.\n/lib\n/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu/libc.so.6\n/lib64/ld-linux-x86-64.so.2\n/usr/share/doc/libc6\n",
    );
    write(
        r,
        "/var/lib/dpkg/info/libc6:amd64.md5sums",
        "0123456789abcdef0123456789abcdef  lib/x86_64-linux-gnu/libc.so.6\nfedcba9876543210fedcba9876543210  lib64/ld-linux-x86-64.so.2\nnot a valid line\n",
    );
    write(
        r,
        "/var/lib/dpkg/info/libfoo1.list",
        "/usr/lib/x86_64-linux-gnu/libfoo.so.1.0\n/usr/lib/x86_64-linux-gnu/libfoo.so.1\n/usr/lib/x86_64-linux-gnu/libc.so.6x",
    );
    write(
        r,
        "/var/lib/dpkg/info/libfoo1.md5sums",
        "11111111111111111111111111111111  usr/lib/x86_64-linux-gnu/libfoo.so.1.0\n",
    );
    write(
        r,
        "/var/lib/dpkg/info/dash.list",
        "/bin/sh\n/usr/bin/dash\n",
    );
    write(r, "/var/lib/dpkg/info/sh-provider.list", "/bin/sh\n");
    write(r, "/var/lib/dpkg/info/removed.list", "/usr/bin/removed\n");
    write(
        r,
        "/var/lib/dpkg/diversions",
        "/bin/sh\n/bin/sh.distrib\ndash\n",
    );
    write(
        r,
        "/usr/share/doc/libc6/copyright",
        "This is the Debian prepackaged version of the GNU C Library.\n\nIt is free software.\n",
    );
    write(
        r,
        "/usr/share/doc/libfoo1/copyright",
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: foo\n\nFiles: *\nCopyright: 2020 A\nLicense: LGPL-2.1+\n\nFiles: debian/*\nCopyright: 2021 B\nLicense: public-domain\n\nLicense: LGPL-2.1+\n On Debian systems ...\n",
    );
    dir
}

fn key(name: &str, arch: &str) -> DebKey {
    DebKey {
        name: name.into(),
        architecture: arch.into(),
    }
}

fn owners_of(db: &DpkgDb, path: &str) -> Vec<String> {
    let prov = db.owners(&[path]).unwrap();
    prov.owners
        .get(path)
        .map(|o| o.iter().map(|k| k.name.clone()).collect())
        .unwrap_or_default()
}

#[test]
fn status_is_read_with_source_versions_and_installed_only() {
    let root = fake_root();
    let db = DpkgDb::open(root.path()).unwrap();
    let names: Vec<&str> = db.packages().iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["dash", "libc6", "libfoo1", "lonely", "sh-provider"]);
    let foo = db.package(&key("libfoo1", "amd64")).unwrap();
    assert_eq!(
        (foo.source.as_str(), foo.source_version.as_str()),
        ("foo", "1.2-3")
    );
    let libc = db.package(&key("libc6", "amd64")).unwrap();
    assert_eq!(
        (libc.source.as_str(), libc.source_version.as_str()),
        ("glibc", "2.36-9+deb12u14")
    );
}

#[test]
fn usrmerge_both_spellings_and_multiarch_list_names() {
    let root = fake_root();
    let db = DpkgDb::open(root.path()).unwrap();
    assert_eq!(
        owners_of(&db, "/usr/lib/x86_64-linux-gnu/libc.so.6"),
        ["libc6"]
    );
    assert_eq!(owners_of(&db, "/lib/x86_64-linux-gnu/libc.so.6"), ["libc6"]);
    assert_eq!(owners_of(&db, "/usr/lib64/ld-linux-x86-64.so.2"), ["libc6"]);
    assert_eq!(
        owners_of(&db, "/lib/x86_64-linux-gnu/libfoo.so.1"),
        ["libfoo1"]
    );
    // The last line of a list without a final newline still counts, and only whole lines do.
    assert_eq!(
        owners_of(&db, "/usr/lib/x86_64-linux-gnu/libc.so.6x"),
        ["libfoo1"]
    );
    assert!(owners_of(&db, "/usr/lib/x86_64-linux-gnu/c.so.6").is_empty());
    // A removed package's list is not read; a directory is owned by its lister.
    let prov = db
        .owners(&["/usr/bin/removed", "/usr/lib/x86_64-linux-gnu", "/opt/mine"])
        .unwrap();
    assert_eq!(
        prov.unowned,
        BTreeSet::from(["/usr/bin/removed".to_string(), "/opt/mine".to_string()])
    );
    assert_eq!(prov.packages(), BTreeSet::from([key("libc6", "amd64")]));
}

#[test]
fn diversions_send_the_original_to_the_diverter_and_the_diverted_file_to_the_others() {
    let root = fake_root();
    let db = DpkgDb::open(root.path()).unwrap();
    assert_eq!(db.diversions().len(), 1);
    assert_eq!(owners_of(&db, "/bin/sh"), ["dash"]);
    assert_eq!(owners_of(&db, "/usr/bin/sh"), ["dash"]);
    assert_eq!(owners_of(&db, "/usr/bin/sh.distrib"), ["sh-provider"]);
    assert_eq!(owners_of(&db, "/bin/sh.distrib"), ["sh-provider"]);
}

#[test]
fn licences_from_dep5_only() {
    let root = fake_root();
    let db = DpkgDb::open(root.path()).unwrap();
    assert_eq!(
        db.license(&key("libfoo1", "amd64")).unwrap(),
        License::Declared(vec!["LGPL-2.1+".into(), "public-domain".into()])
    );
    assert_eq!(
        db.license(&key("libc6", "amd64")).unwrap(),
        License::NoAssertion
    );
    assert_eq!(
        db.license(&key("dash", "amd64")).unwrap(),
        License::NoAssertion
    );
}

fn placed(root: &Path) -> Vec<PlacedFile> {
    let mut libc = PlacedFile::from_bytes("/usr/lib/x86_64-linux-gnu/libc.so.6", b"libc");
    libc.host_path = Some("/lib/x86_64-linux-gnu/libc.so.6".into());
    let mut libfoo = PlacedFile::from_bytes("/usr/lib/x86_64-linux-gnu/libfoo.so.1.0", b"foo");
    libfoo.host_path = Some("/usr/lib/x86_64-linux-gnu/libfoo.so.1.0".into());
    let mut mine = PlacedFile::from_bytes("/app/mine", b"mine");
    mine.host_path = Some("/opt/mine".into());
    let _ = root;
    vec![
        libc,
        libfoo,
        mine,
        PlacedFile::from_bytes("/etc/passwd", b"root:x:0:0::/:\n"),
    ]
}

#[test]
fn package_db_files_are_distroless_entries_with_placed_md5sums() {
    let root = fake_root();
    let db = DpkgDb::open(root.path()).unwrap();
    let files = placed(root.path());
    let hosts: Vec<&str> = files
        .iter()
        .filter_map(|f| f.host_path.as_deref())
        .collect();
    let prov = db.owners(&hosts).unwrap();
    let entries = package_db_files(&db, &prov, &files).unwrap();
    let paths: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/var/lib/dpkg/status.d/libc6",
            "/var/lib/dpkg/status.d/libc6.md5sums",
            "/var/lib/dpkg/status.d/libfoo1",
            "/var/lib/dpkg/status.d/libfoo1.md5sums"
        ]
    );
    let libc = String::from_utf8(entries[0].bytes.clone()).unwrap();
    assert!(
        libc.starts_with("Package: libc6\nStatus: install ok installed\nPriority: optional\n"),
        "{libc}"
    );
    assert!(
        !libc.contains("Conffiles") && libc.ends_with(" Contains the standard libraries.\n"),
        "{libc}"
    );
    assert_eq!(
        String::from_utf8(entries[1].bytes.clone()).unwrap(),
        "0123456789abcdef0123456789abcdef  usr/lib/x86_64-linux-gnu/libc.so.6\n"
    );
    assert_eq!(
        String::from_utf8(entries[3].bytes.clone()).unwrap(),
        "11111111111111111111111111111111  usr/lib/x86_64-linux-gnu/libfoo.so.1.0\n"
    );
    // The entry parses back to the same package.
    let back = husk_sbom::parse_dpkg_status(&entries[2].bytes, "entry").unwrap();
    assert_eq!(
        (
            back[0].name.as_str(),
            back[0].version.as_str(),
            back[0].source_version.as_str()
        ),
        ("libfoo1", "1.2-3+b1", "1.2-3")
    );
    // Same input, same bytes.
    assert_eq!(package_db_files(&db, &prov, &files).unwrap(), entries);
    // A package's file placed at a path with a line break would forge a second md5sums
    // line: refused, naming the path and the package.
    let mut forged = files.clone();
    forged[1].image_path = "/usr/lib/libfoo.so\n0000  etc/shadow".into();
    let err = package_db_files(&db, &prov, &forged)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("libfoo1") && err.contains("line break") && err.contains("etc/shadow"),
        "{err}"
    );
    let para = &db.package(&key("dash", "amd64")).unwrap().paragraph();
    assert_eq!(
        status_entry(para),
        "Package: dash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 0.5.12-2\n"
    );
}

#[test]
fn documents_name_packages_files_and_licences_deterministically() {
    let root = fake_root();
    let db = DpkgDb::open(root.path()).unwrap();
    let files = placed(root.path());
    let hosts: Vec<&str> = files
        .iter()
        .filter_map(|f| f.host_path.as_deref())
        .collect();
    let prov = db.owners(&hosts).unwrap();
    let digest = format!("sha256:{}", "ab".repeat(32));
    let build = |order: &[PlacedFile]| {
        let mut sbom = Sbom::new("app:1", &digest).unwrap();
        sbom.add_debian(&db, &prov, order, Some("debian-12"))
            .unwrap();
        (sbom.to_spdx_json(), sbom.to_cyclonedx_json())
    };
    let (spdx, cdx) = build(&files);
    let mut reversed = files.clone();
    reversed.reverse();
    assert_eq!(
        build(&reversed),
        (spdx.clone(), cdx.clone()),
        "insertion order must not matter"
    );
    let spdx: serde_json::Value = serde_json::from_slice(&spdx).unwrap();
    let cdx: serde_json::Value = serde_json::from_slice(&cdx).unwrap();
    assert_eq!(spdx["creationInfo"]["created"], "1970-01-01T00:00:00Z");
    assert!(cdx["metadata"].get("timestamp").is_none());
    let text = spdx.to_string();
    assert!(text.contains("pkg:deb/debian/libfoo1@1.2-3%2Bb1?arch=amd64&distro=debian-12"));
    assert!(text.contains("LGPL-2.1-or-later AND LicenseRef-public-domain"));
    assert!(text.contains("\"LicenseRef-public-domain\""));
    assert_eq!(spdx["files"].as_array().unwrap().len(), 4);
    let comps = cdx["components"].as_array().unwrap();
    let libfoo = comps.iter().find(|c| c["name"] == "libfoo1").unwrap();
    assert_eq!(
        libfoo["components"][0]["name"],
        "/usr/lib/x86_64-linux-gnu/libfoo.so.1.0"
    );
    assert_eq!(libfoo["licenses"][0]["license"]["id"], "LGPL-2.1-or-later");
    assert!(
        comps
            .iter()
            .any(|c| c["name"] == "/app/mine" && c["type"] == "file")
    );
    let mut sbom = Sbom::new("app:1", &digest).unwrap();
    sbom.set_created(Some(1_700_000_000));
    let cdx: serde_json::Value = serde_json::from_slice(&sbom.to_cyclonedx_json()).unwrap();
    assert_eq!(cdx["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
}

#[test]
fn hostile_databases_error_or_degrade_without_panics() {
    let root = fake_root();
    let r = root.path();
    // A status that is a directory, and one that is garbage.
    fs::remove_file(r.join("var/lib/dpkg/status")).unwrap();
    fs::create_dir(r.join("var/lib/dpkg/status")).unwrap();
    assert!(
        DpkgDb::open(r)
            .unwrap_err()
            .to_string()
            .contains("not a regular file")
    );
    fs::remove_dir(r.join("var/lib/dpkg/status")).unwrap();
    fs::write(r.join("var/lib/dpkg/status"), b" continuation first\n").unwrap();
    assert!(DpkgDb::open(r).unwrap_err().to_string().contains("line 1"));
    // No database at all: empty, everything unowned.
    let empty = tempfile::tempdir().unwrap();
    let db = DpkgDb::open(empty.path()).unwrap();
    assert!(db.is_empty());
    assert_eq!(db.owners(&["/x"]).unwrap().unowned.len(), 1);
    // A list file that is a directory is an error naming it.
    let root = fake_root();
    let list = root.path().join("var/lib/dpkg/info/dash.list");
    fs::remove_file(&list).unwrap();
    fs::create_dir(&list).unwrap();
    let db = DpkgDb::open(root.path()).unwrap();
    assert!(
        db.owners(&["/bin/sh"])
            .unwrap_err()
            .to_string()
            .contains("dash.list")
    );
    // Package names that try to escape the doc directory are not followed.
    assert_eq!(
        db.license(&key("../../etc", "all")).unwrap(),
        License::NoAssertion
    );
    // Weird queries.
    let prov = db
        .owners(&["", "/", "relative/path", "/usr/lib/x86_64-linux-gnu/\n"])
        .unwrap_or_default();
    let _ = prov;
}

/// The file-name index gives the same answers as a full scan, is written by the first
/// call, used by the next, and ignored once the database changes (or when it lies).
#[test]
fn the_file_name_index_answers_like_a_full_scan_and_follows_changes() {
    let root = fake_root();
    let cache = tempfile::tempdir().unwrap();
    let queries = [
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
        "/lib/x86_64-linux-gnu/libfoo.so.1",
        "/bin/sh",
        "/usr/bin/sh.distrib",
        "/usr/lib/x86_64-linux-gnu/libc.so.6x",
        "/opt/mine",
    ];
    let db = DpkgDb::open(root.path()).unwrap();
    let full = db.owners(&queries).unwrap();
    let first = db.owners_indexed(&queries, Some(cache.path())).unwrap();
    let index = cache.path().join(husk_sbom::INDEX_FILE);
    assert!(index.is_file(), "the first call writes the index");
    let second = db.owners_indexed(&queries, Some(cache.path())).unwrap();
    assert_eq!(full, first);
    assert_eq!(full, second);
    // An index that lies (names no package) is used while the stamp matches: the lists it
    // names are the only ones read, so the answer says unowned. A new package install
    // (status rewritten) invalidates it.
    let text = fs::read_to_string(&index).unwrap();
    let stamp = text.lines().next().unwrap();
    // No lines, an empty block table, and the trailer that says where it starts.
    let end = stamp.len() + 1;
    fs::write(&index, format!("{stamp}\nhusk-blocks {end:020}\n")).unwrap();
    let lied = db.owners_indexed(&queries, Some(cache.path())).unwrap();
    assert_eq!(lied.unowned.len(), queries.len());
    write(root.path(), "/var/lib/dpkg/status", &format!("{STATUS}\n"));
    let db = DpkgDb::open(root.path()).unwrap();
    assert_eq!(
        db.owners_indexed(&queries, Some(cache.path())).unwrap(),
        full
    );
    // A cache directory that cannot be written only costs the full scan.
    let blocked = cache.path().join("file");
    fs::write(&blocked, "x").unwrap();
    assert_eq!(db.owners_indexed(&queries, Some(&blocked)).unwrap(), full);
}
