//! A file-name index of the dpkg database, kept between runs, so [`DpkgDb::owners`] reads
//! only the `.list` files of packages that list a wanted file name instead of all of them.
//!
//! The index is a text file: a stamp line (the root, `status`'s size and modification
//! time, the `info` directory's modification time: dpkg rewrites `status` and renames
//! `.list` files into `info` on every install or removal, so any change to the database
//! changes the stamp), then one `basename\tpackage:arch ...` line per listed file name,
//! sorted (so a lookup is a binary search per name). A stale, missing or unreadable index
//! means one full scan, which writes a fresh
//! index (atomically: a temporary file renamed). The index only chooses which lists are
//! read; ownership is still decided from the lists themselves, so a wrong index can at
//! worst miss an owner that a full scan would find, and a changed database never uses it.
//!
//! [`DpkgDb::owners`]: crate::DpkgDb::owners

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;
use std::time::UNIX_EPOCH;

use crate::root::Root;

/// The index file's name inside the cache directory the caller gives.
pub const INDEX_FILE: &str = "dpkg-basenames-v1";
/// Largest index read (a Debian host with 3,000 packages writes about 8 MB).
const INDEX_CAP: u64 = 64 << 20;

/// The stamp line of a database: changes whenever dpkg changes it.
pub(crate) fn stamp(root: &Root, status: &str, info: &str) -> Option<String> {
    let time = |p: &Path| -> Option<(u64, u128)> {
        let meta = std::fs::metadata(p).ok()?;
        let mtime = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
        Some((meta.len(), mtime.as_nanos()))
    };
    let (size, status_time) = time(&root.join(status))?;
    let (_, info_time) = time(&root.join(info))?;
    Some(format!(
        "husk dpkg index v1 root={} status={size}:{status_time} info={info_time}\n",
        root.dir().display()
    ))
}

/// The packages (`name:arch`) that list any of `basenames` (each `/name`), or `None` when
/// the index at `file` is missing, unreadable or not for this `stamp`. Lines are sorted
/// by name, so each name is a binary search: the file is read, not scanned.
pub(crate) fn lookup(file: &Path, stamp: &str, basenames: &[String]) -> Option<BTreeSet<String>> {
    let meta = std::fs::metadata(file).ok()?;
    if !meta.is_file() || meta.len() > INDEX_CAP {
        return None;
    }
    let bytes = std::fs::read(file).ok()?;
    let body = bytes.strip_prefix(stamp.as_bytes())?;
    let mut packages = BTreeSet::new();
    for name in basenames {
        let Some(line) = find_line(body, name.trim_start_matches('/').as_bytes()) else {
            continue;
        };
        let owners = line.split(|b| *b == b'\t').nth(1).unwrap_or_default();
        let owners = std::str::from_utf8(owners).ok()?;
        packages.extend(
            owners
                .split(' ')
                .filter(|p| !p.is_empty())
                .map(str::to_owned),
        );
    }
    Some(packages)
}

/// The line of sorted `body` (lines `name\t...`) whose name is `name`.
fn find_line<'a>(body: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let (mut lo, mut hi) = (0, body.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let start = body[lo..mid]
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(lo, |i| lo + i + 1);
        let end = body[start..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(body.len(), |i| start + i);
        let line = &body[start..end];
        let key = line.split(|b| *b == b'\t').next().unwrap_or_default();
        match key.cmp(name) {
            std::cmp::Ordering::Equal => return Some(line),
            std::cmp::Ordering::Less => lo = end + 1,
            std::cmp::Ordering::Greater => hi = start,
        }
    }
    None
}

/// Collects file names -> packages while a full scan reads every list.
#[derive(Debug, Default)]
pub(crate) struct Builder {
    names: BTreeMap<Vec<u8>, Vec<String>>,
}

impl Builder {
    /// Records every file name `list` (one path a line) holds for `package` (`name:arch`).
    pub(crate) fn add_list(&mut self, package: &str, list: &[u8]) {
        for line in list.split(|b| *b == b'\n') {
            let name = line.rsplit(|b| *b == b'/').next().unwrap_or_default();
            if name.is_empty() || name.contains(&b'\t') || name.contains(&b'\r') {
                continue;
            }
            let owners = self.names.entry(name.to_vec()).or_default();
            if owners.last().is_none_or(|p| p != package) {
                owners.push(package.to_owned());
            }
        }
    }

    /// Writes the index to `file` (a temporary file renamed into place). Failures are
    /// ignored: the index only saves time.
    pub(crate) fn write(self, file: &Path, stamp: &str) {
        let Some(dir) = file.parent() else {
            return;
        };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        let Ok(mut tmp) = tempfile_in(dir) else {
            return;
        };
        let mut out = std::io::BufWriter::new(&mut tmp.1);
        let mut ok = out.write_all(stamp.as_bytes()).is_ok();
        for (name, owners) in &self.names {
            if !ok {
                break;
            }
            ok = out.write_all(name).is_ok()
                && out.write_all(b"\t").is_ok()
                && out.write_all(owners.join(" ").as_bytes()).is_ok()
                && out.write_all(b"\n").is_ok();
        }
        ok = ok && out.flush().is_ok();
        drop(out);
        if !ok || std::fs::rename(&tmp.0, file).is_err() {
            let _ = std::fs::remove_file(&tmp.0);
        }
    }
}

/// A new file `dir/.dpkg-basenames-<pid>-<n>`, created exclusively.
fn tempfile_in(dir: &Path) -> std::io::Result<(std::path::PathBuf, std::fs::File)> {
    let mut last = None;
    for n in 0..16 {
        let path = dir.join(format!(".{INDEX_FILE}-{}-{n}", std::process::id()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(f) => return Ok((path, f)),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no temporary name")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_then_finds_the_listing_packages() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(INDEX_FILE);
        let mut b = Builder::default();
        b.add_list(
            "libc6:amd64",
            b"/.\n/usr/lib/x86_64-linux-gnu/libc.so.6\n/usr/bin\n",
        );
        b.add_list("curl:amd64", b"/usr/bin/curl\n/usr/bin\n");
        b.write(&file, "stamp\n");
        let found = lookup(&file, "stamp\n", &["/libc.so.6".into(), "/bin".into()]).unwrap();
        assert_eq!(
            found.into_iter().collect::<Vec<_>>(),
            ["curl:amd64", "libc6:amd64"]
        );
        assert!(lookup(&file, "other stamp\n", &["/curl".into()]).is_none());
        let none = lookup(&file, "stamp\n", &["/nothing".into()]).unwrap();
        assert!(none.is_empty());
    }

    #[test]
    fn every_line_is_found_by_binary_search() {
        let names: Vec<String> = (0..500).map(|i| format!("lib{i:03}.so")).collect();
        let body: String = names.iter().map(|n| format!("{n}\tp{n}:amd64\n")).collect();
        for n in &names {
            let line = find_line(body.as_bytes(), n.as_bytes()).unwrap();
            assert!(line.starts_with(n.as_bytes()));
        }
        for missing in ["", "a", "lib", "lib000.s", "lib999.so", "zzz"] {
            assert!(find_line(body.as_bytes(), missing.as_bytes()).is_none());
        }
        // Unsorted or garbage bodies end the search without panicking.
        let _ = find_line(b"z\tq\na\tq\n\n\t\n", b"a");
        assert!(find_line(b"", b"a").is_none());
        assert!(find_line(b"\n\n\n", b"a").is_none());
    }

    #[test]
    fn garbage_or_missing_index_is_no_index() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(INDEX_FILE);
        assert!(lookup(&file, "stamp\n", &["/x".into()]).is_none());
        std::fs::write(&file, b"stamp\n\xff\xfe\tx\n").unwrap();
        assert!(lookup(&file, "stamp\n", &["/\u{fffd}".into()]).is_some());
        std::fs::create_dir(dir.path().join("d")).unwrap();
        assert!(lookup(&dir.path().join("d"), "stamp\n", &["/x".into()]).is_none());
    }
}
