//! A path index of the dpkg database, kept between runs, so [`DpkgDb::owners`] reads only
//! the `.list` files of packages that list a wanted path instead of all of them.
//!
//! The index is a text file: a stamp line (the root, `status`'s size and modification
//! time, the `info` directory's modification time: dpkg rewrites `status` and renames
//! `.list` files into `info` on every install or removal, so any change to the database
//! changes the stamp), then one `basename\tpackage:arch@hash ...` line per listed file
//! name, sorted (so a lookup is a binary search per name), where `hash` is a 32-bit FNV-1a
//! hash of the listed path in canonical form (merged-`/usr` aliases resolved, as queries
//! are). A query reads only the lists of packages whose entry for its file name carries
//! its path's hash: a program called `app` no longer reads every list that holds some
//! other `app` (a collision of the hash only costs one list read more). After the lines
//! comes a block table (the first file name of every 256th line and that line's offset,
//! `name\toffset` lines) and a fixed-size trailer giving the table's offset, so a lookup
//! reads the table and one block per path (a few KiB) instead of the whole file (6 MB on
//! a desktop-sized host). A stale, missing
//! or unreadable index
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
pub const INDEX_FILE: &str = "dpkg-paths-v2";
/// Largest index read (a Debian host with 3,000 packages writes about 8 MB).
const INDEX_CAP: u64 = 64 << 20;
/// Lines per block of the block table.
const BLOCK_LINES: usize = 256;
/// The trailer: this, the block table's offset in 20 digits, a newline.
const TRAILER: &str = "husk-blocks ";
const TRAILER_LEN: u64 = TRAILER.len() as u64 + 21;

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
        "husk dpkg index v2 root={} status={size}:{status_time} info={info_time}\n",
        root.dir().display()
    ))
}

/// The packages (`name:arch`) that may list any of `paths` (canonical, absolute), or
/// `None` when the index at `file` is missing, unreadable, malformed or not for this
/// `stamp`. Each path reads one block of sorted lines, found in the block table, and
/// binary-searches it.
pub(crate) fn lookup<S: AsRef<str>>(
    file: &Path,
    stamp: &str,
    paths: &[S],
) -> Option<BTreeSet<String>> {
    let index = Index::open(file, stamp)?;
    let mut blocks: BTreeMap<usize, Vec<u8>> = BTreeMap::new();
    let mut packages = BTreeSet::new();
    for path in paths {
        let path = path.as_ref();
        let name = path.rsplit('/').next().unwrap_or_default();
        let Some(block) = index.block_of(name.as_bytes()) else {
            continue;
        };
        let body = match blocks.entry(block) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => e.insert(index.read_block(block)?),
        };
        let Some(line) = find_line(body, name.as_bytes()) else {
            continue;
        };
        let owners = line.split(|b| *b == b'\t').nth(1).unwrap_or_default();
        let owners = std::str::from_utf8(owners).ok()?;
        let want = format!("{:08x}", path_hash(path));
        packages.extend(owners.split(' ').filter_map(|entry| {
            let (package, hash) = entry.rsplit_once('@')?;
            (hash == want && !package.is_empty()).then(|| package.to_owned())
        }));
    }
    Some(packages)
}

/// An index file opened for lookups: its block table read, its lines not.
struct Index {
    file: std::fs::File,
    /// (first file name of the block, offset of its first line), in order.
    table: Vec<(Vec<u8>, u64)>,
    /// Where the lines end (the block table's offset).
    end: u64,
}

impl Index {
    /// `None` unless `file` is a regular file within [`INDEX_CAP`] that starts with
    /// `stamp` and ends with a well-formed block table.
    fn open(file: &Path, stamp: &str) -> Option<Index> {
        let f = std::fs::File::open(file).ok()?;
        let meta = f.metadata().ok()?;
        let len = meta.len();
        let start = stamp.len() as u64;
        if !meta.is_file() || len > INDEX_CAP || len < start + TRAILER_LEN {
            return None;
        }
        if read_at(&f, 0, start)? != stamp.as_bytes() {
            return None;
        }
        let trailer = read_at(&f, len - TRAILER_LEN, TRAILER_LEN)?;
        let digits = trailer
            .strip_prefix(TRAILER.as_bytes())?
            .strip_suffix(b"\n")?;
        let end: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
        if end < start || end > len - TRAILER_LEN {
            return None;
        }
        let mut table = Vec::new();
        for line in read_at(&f, end, len - TRAILER_LEN - end)?.split(|b| *b == b'\n') {
            if line.is_empty() {
                continue;
            }
            let (name, offset) = line.split_at(line.iter().position(|b| *b == b'\t')?);
            let offset: u64 = std::str::from_utf8(offset.get(1..)?).ok()?.parse().ok()?;
            let previous = table.last().map_or(start, |(_, o): &(Vec<u8>, u64)| *o);
            if offset < previous || offset > end {
                return None;
            }
            table.push((name.to_vec(), offset));
        }
        Some(Index {
            file: f,
            table,
            end,
        })
    }

    /// The block whose lines would hold `name`, or `None` when it sorts before them all.
    fn block_of(&self, name: &[u8]) -> Option<usize> {
        self.table
            .partition_point(|(first, _)| first.as_slice() <= name)
            .checked_sub(1)
    }

    /// The lines of block `i`.
    fn read_block(&self, i: usize) -> Option<Vec<u8>> {
        let start = self.table.get(i)?.1;
        let end = self.table.get(i + 1).map_or(self.end, |(_, o)| *o);
        read_at(&self.file, start, end.checked_sub(start)?)
    }
}

/// `len` bytes of `file` at `offset`, or `None` when they are not all there.
fn read_at(file: &std::fs::File, offset: u64, len: u64) -> Option<Vec<u8>> {
    use std::os::unix::fs::FileExt as _;
    let mut buf = vec![0; usize::try_from(len).ok()?];
    file.read_exact_at(&mut buf, offset).ok()?;
    Some(buf)
}

/// 32-bit FNV-1a of a canonical path: stable across runs and versions (the index keeps
/// it), and only a filter (the lists decide ownership).
fn path_hash(path: &str) -> u32 {
    path.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
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

/// Collects file names -> (package, path hash) entries while a full scan reads every
/// list; duplicates are dropped when the index is written.
#[derive(Debug, Default)]
pub(crate) struct Builder {
    packages: Vec<String>,
    names: BTreeMap<String, Vec<(u32, u32)>>,
}

impl Builder {
    /// Records every path `list` (one path a line) holds for `package` (`name:arch`),
    /// each in the canonical form `canonical` gives (as queries are made).
    pub(crate) fn add_list(
        &mut self,
        package: &str,
        list: &[u8],
        canonical: impl Fn(&str) -> String,
    ) {
        let id = u32::try_from(self.packages.len()).unwrap_or(u32::MAX);
        self.packages.push(package.to_owned());
        for line in list.split(|b| *b == b'\n') {
            // Lines that are not UTF-8 never match a query (the scan skips them too).
            let Ok(line) = std::str::from_utf8(line) else {
                continue;
            };
            let path = canonical(line);
            let name = path.rsplit('/').next().unwrap_or_default();
            if name.is_empty() || name.contains(['\t', '\r', ' ']) {
                continue;
            }
            let entry = (id, path_hash(&path));
            match self.names.get_mut(name) {
                Some(owners) => owners.push(entry),
                None => {
                    self.names.insert(name.to_owned(), vec![entry]);
                }
            }
        }
    }

    /// Writes the index to `file` (a temporary file renamed into place). Failures are
    /// ignored: the index only saves time.
    pub(crate) fn write(mut self, file: &Path, stamp: &str) {
        let Some(dir) = file.parent() else {
            return;
        };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        let Ok(mut tmp) = tempfile_in(dir) else {
            return;
        };
        let mut out = Counting {
            inner: std::io::BufWriter::new(&mut tmp.1),
            written: 0,
        };
        let mut ok = out.write_all(stamp.as_bytes()).is_ok();
        let mut table: Vec<(&str, u64)> = Vec::new();
        for (line, (name, owners)) in self.names.iter_mut().enumerate() {
            if !ok {
                break;
            }
            if line % BLOCK_LINES == 0 {
                table.push((name, out.written));
            }
            owners.sort_unstable();
            owners.dedup();
            ok = out.write_all(name.as_bytes()).is_ok() && out.write_all(b"\t").is_ok();
            for (i, (id, hash)) in owners.iter().enumerate() {
                let package = self.packages.get(*id as usize).map_or("", String::as_str);
                let sep = if i == 0 { "" } else { " " };
                ok = ok && write!(out, "{sep}{package}@{hash:08x}").is_ok();
            }
            ok = ok && out.write_all(b"\n").is_ok();
        }
        let end = out.written;
        for (name, offset) in &table {
            ok = ok && writeln!(out, "{name}\t{offset}").is_ok();
        }
        ok = ok && writeln!(out, "{TRAILER}{end:020}").is_ok();
        ok = ok && out.flush().is_ok();
        drop(out);
        if !ok || std::fs::rename(&tmp.0, file).is_err() {
            let _ = std::fs::remove_file(&tmp.0);
        }
    }
}

/// A writer that counts the bytes written through it (the block table's offsets).
struct Counting<W> {
    inner: W,
    written: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A new file `dir/.dpkg-paths-v2-<pid>-<n>`, created exclusively.
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
        // Merged /usr: /bin/x is listed, /usr/bin/x is asked.
        let merged = |p: &str| {
            if p.starts_with("/bin/") {
                format!("/usr{p}")
            } else {
                p.to_owned()
            }
        };
        b.add_list(
            "libc6:amd64",
            b"/.\n/usr/lib/x86_64-linux-gnu/libc.so.6\n/usr/bin\n/bin/app\n",
            merged,
        );
        b.add_list("curl:amd64", b"/usr/bin/curl\n/usr/bin\n", merged);
        b.add_list(
            "google-cloud-cli:all",
            b"/usr/lib/google-cloud-sdk/app\n",
            merged,
        );
        b.write(&file, "stamp\n");
        let ask = |paths: &[&str]| -> Vec<String> {
            lookup(&file, "stamp\n", paths)
                .unwrap()
                .into_iter()
                .collect()
        };
        assert_eq!(
            ask(&["/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/bin"]),
            ["curl:amd64", "libc6:amd64"]
        );
        // The same file name elsewhere: only the package listing that path.
        assert_eq!(ask(&["/usr/bin/app"]), ["libc6:amd64"]);
        assert_eq!(
            ask(&["/usr/lib/google-cloud-sdk/app"]),
            ["google-cloud-cli:all"]
        );
        assert!(ask(&["/tmp/work/app"]).is_empty());
        assert!(lookup(&file, "other stamp\n", &["/usr/bin/curl"]).is_none());
        assert!(ask(&["/nothing"]).is_empty());
    }

    /// Many blocks: every name is found through the block table, names before the first
    /// and after the last are not.
    #[test]
    fn names_are_found_across_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(INDEX_FILE);
        let mut b = Builder::default();
        let list: String = (0..2000).map(|i| format!("/usr/lib/n{i:05}\n")).collect();
        b.add_list("many:amd64", list.as_bytes(), str::to_owned);
        b.write(&file, "stamp\n");
        let index = Index::open(&file, "stamp\n").unwrap();
        assert_eq!(index.table.len(), 2000_usize.div_ceil(BLOCK_LINES));
        for i in [0, 1, 255, 256, 257, 1023, 1999] {
            let path = format!("/usr/lib/n{i:05}");
            let found = lookup(&file, "stamp\n", &[path.as_str()]).unwrap();
            assert_eq!(
                found.into_iter().collect::<Vec<_>>(),
                ["many:amd64"],
                "{path}"
            );
        }
        for missing in [
            "/usr/lib/a",
            "/usr/lib/n02000",
            "/usr/lib/zzz",
            "/usr/lib/n00001x",
        ] {
            assert!(
                lookup(&file, "stamp\n", &[missing]).unwrap().is_empty(),
                "{missing}"
            );
        }
        // A whole lookup reads the table and the blocks it needs, not the file.
        assert!(index.read_block(0).unwrap().len() < 256 * 64);
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
        assert!(lookup(&file, "stamp\n", &["/x"]).is_none());
        // Lines without a block table and trailer: no index (a full scan rewrites it).
        std::fs::write(&file, b"stamp\n\xff\xfe\tx\nx\tno-hash bad@zz @0\n").unwrap();
        assert!(lookup(&file, "stamp\n", &["/x"]).is_none());
        // With them, garbage entries name nobody.
        let body = b"stamp\n\xff\xfe\tx\nx\tno-hash bad@zz @0\n";
        let mut bytes = body.to_vec();
        bytes.extend_from_slice(b"x\t6\n");
        bytes.extend_from_slice(format!("{TRAILER}{:020}\n", body.len()).as_bytes());
        std::fs::write(&file, &bytes).unwrap();
        assert!(lookup(&file, "stamp\n", &["/x"]).unwrap().is_empty());
        // A trailer pointing outside the file, or offsets going backwards: no index.
        for bad in [
            format!("stamp\n{TRAILER}{:020}\n", 9999),
            format!("stamp\nb\tq\na\t6\nb\t5\n{TRAILER}{:020}\n", 10),
            format!("stamp\n{TRAILER}garbage-digits------\n"),
        ] {
            std::fs::write(&file, bad.as_bytes()).unwrap();
            assert!(lookup(&file, "stamp\n", &["/a"]).is_none(), "{bad:?}");
        }
        std::fs::create_dir(dir.path().join("d")).unwrap();
        assert!(lookup(&dir.path().join("d"), "stamp\n", &["/x"]).is_none());
    }
}
