//! Random access into an uncompressed tar file: one scan records where each regular file's
//! bytes are, then blobs are read in place (no extraction, no temp files). Used by the
//! oci-archive and docker-archive sources.
//!
//! The scan reads headers itself (layout from `husk_layer::ustar`) rather than through the
//! `tar` crate, which reads a whole PAX record or GNU long name into memory before anyone
//! can look at its size: here a record over [`MAX_RECORD`] is refused before it is read,
//! every offset is checked arithmetic, and sizes Go's archive/tar refuses (beyond `i64`,
//! PAX sizes that are not plain decimals) are refused too.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use husk_layer::ustar::{self, BLOCK, Block, typeflag};

use crate::FormatError;
use crate::store::open_regular;

/// Upper bound on entries scanned in an image archive.
const MAX_ENTRIES: usize = 1_000_000;
/// Largest PAX record or GNU long name / long link read from an image archive.
pub(crate) const MAX_RECORD: u64 = 1 << 20;
/// Largest size Go's archive/tar accepts.
const MAX_SIZE: u64 = i64::MAX as u64;

#[derive(Debug)]
pub(crate) struct TarIndex {
    path: PathBuf,
    entries: BTreeMap<String, (u64, u64)>,
}

/// Normalise an archive entry name: strip "./" prefixes; refuse "..", absolute names.
fn normalise(archive: &Path, raw: &[u8]) -> Result<String, FormatError> {
    let unsafe_entry = || FormatError::UnsafeArchiveEntry {
        archive: archive.to_path_buf(),
        entry: String::from_utf8_lossy(raw).escape_debug().to_string(),
    };
    let s = std::str::from_utf8(raw).map_err(|_| unsafe_entry())?;
    let mut parts = Vec::new();
    for c in s.split('/') {
        match c {
            "" | "." => {}
            ".." => return Err(unsafe_entry()),
            c => parts.push(c),
        }
    }
    if s.starts_with('/') || s.contains('\0') {
        return Err(unsafe_entry());
    }
    Ok(parts.join("/"))
}

/// Names and sizes from the extension records before an entry.
#[derive(Default)]
struct Pending {
    path: Option<Vec<u8>>,
    size: Option<u64>,
    long_name: Option<Vec<u8>>,
}

/// The header-by-header walk of one archive file.
struct Scan<'a> {
    archive: &'a Path,
    r: BufReader<File>,
    /// Offset of the next unread byte.
    pos: u64,
}

impl Scan<'_> {
    fn bad(&self, reason: impl Into<String>) -> FormatError {
        FormatError::ArchiveHeader {
            archive: self.archive.to_path_buf(),
            offset: self.pos,
            reason: reason.into(),
        }
    }

    /// The next header; `None` at the end (a zero block or EOF).
    fn header(&mut self) -> Result<Option<Block>, FormatError> {
        let mut block = [0u8; BLOCK];
        let mut got = 0;
        while got < BLOCK {
            match self.r.read(&mut block[got..]) {
                Ok(0) if got == 0 => return Ok(None),
                Ok(0) => return Err(self.bad("truncated header")),
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(FormatError::io(self.archive, e)),
            }
        }
        if block.iter().all(|&b| b == 0) {
            return Ok(None);
        }
        if !ustar::checksum_ok(&block) {
            return Err(self.bad("checksum mismatch"));
        }
        self.pos += BLOCK as u64;
        Ok(Some(block))
    }

    /// Skip `size` bytes of data and their padding.
    fn skip(&mut self, size: u64) -> Result<(), FormatError> {
        let end = size
            .checked_add(ustar::padding(size) as u64)
            .and_then(|n| self.pos.checked_add(n))
            .filter(|&n| n <= MAX_SIZE)
            .ok_or_else(|| self.bad("entry size overflows"))?;
        let jump = i64::try_from(end - self.pos).map_err(|_| self.bad("entry size overflows"))?;
        self.r
            .seek_relative(jump)
            .map_err(|e| FormatError::io(self.archive, e))?;
        self.pos = end;
        Ok(())
    }

    /// Read an extension record of `size` bytes, refused over [`MAX_RECORD`] unread.
    fn record(&mut self, size: u64, what: &str) -> Result<Vec<u8>, FormatError> {
        if size > MAX_RECORD {
            return Err(self.bad(format!(
                "{what} of {size} bytes is over the limit of {MAX_RECORD}"
            )));
        }
        let mut data = vec![0; size as usize];
        self.r
            .read_exact(&mut data)
            .map_err(|_| self.bad(format!("truncated {what}")))?;
        self.pos += size;
        let pad = ustar::padding(size) as i64;
        self.r
            .seek_relative(pad)
            .map_err(|e| FormatError::io(self.archive, e))?;
        self.pos += pad as u64;
        Ok(data)
    }
}

/// The `path` and `size` of PAX records, refusing malformed records and sizes Go refuses.
fn parse_pax(mut data: &[u8], out: &mut Pending) -> Result<(), &'static str> {
    while !data.is_empty() {
        let space = data.iter().position(|&c| c == b' ').ok_or("PAX record")?;
        let len: usize = std::str::from_utf8(&data[..space])
            .ok()
            .filter(|s| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()))
            .and_then(|s| s.parse().ok())
            .ok_or("PAX record length")?;
        if len <= space + 1 || len > data.len() || data[len - 1] != b'\n' {
            return Err("PAX record framing");
        }
        let record = &data[space + 1..len - 1];
        data = &data[len..];
        let eq = record.iter().position(|&c| c == b'=').ok_or("PAX record")?;
        let (key, value) = (&record[..eq], &record[eq + 1..]);
        match key {
            b"path" if value.contains(&0) => return Err("PAX path with a NUL byte"),
            b"path" => out.path = Some(value.to_vec()),
            b"size" => {
                let n = std::str::from_utf8(value)
                    .ok()
                    .filter(|s| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()))
                    .and_then(|s| s.parse::<u64>().ok())
                    .filter(|&n| n <= MAX_SIZE)
                    .ok_or("PAX size")?;
                out.size = Some(n);
            }
            _ => {}
        }
    }
    Ok(())
}

/// The name the header itself holds (`PREFIX/NAME` for ustar).
fn header_name(block: &Block) -> Vec<u8> {
    let name = ustar::NAME.text(block);
    let prefix = if ustar::is_ustar(block) {
        ustar::PREFIX.text(block)
    } else {
        &[]
    };
    if prefix.is_empty() {
        return name.to_vec();
    }
    [prefix, b"/", name].concat()
}

impl TarIndex {
    pub(crate) fn scan(path: &Path) -> Result<TarIndex, FormatError> {
        let file = open_regular(path)?;
        let mut scan = Scan {
            archive: path,
            r: BufReader::new(file),
            pos: 0,
        };
        let mut entries = BTreeMap::new();
        let mut pending = Pending::default();
        let mut headers = 0usize;
        while let Some(block) = scan.header()? {
            headers += 1;
            if headers > MAX_ENTRIES {
                return Err(scan.bad(format!("more than {MAX_ENTRIES} entries")));
            }
            let size = ustar::SIZE
                .number(&block)
                .filter(|&n| n <= MAX_SIZE)
                .ok_or_else(|| scan.bad("size field"))?;
            match block[ustar::TYPEFLAG.offset] {
                typeflag::PAX => {
                    let data = scan.record(size, "PAX record")?;
                    parse_pax(&data, &mut pending).map_err(|what| scan.bad(what))?;
                }
                typeflag::PAX_GLOBAL => drop(scan.record(size, "PAX global record")?),
                typeflag::GNU_LONG_NAME => {
                    let mut name = scan.record(size, "GNU long name")?;
                    while name.last() == Some(&0) {
                        name.pop();
                    }
                    pending.long_name = Some(name);
                }
                typeflag::GNU_LONG_LINK => drop(scan.record(size, "GNU long link")?),
                flag => {
                    let p = std::mem::take(&mut pending);
                    let size = p.size.unwrap_or(size);
                    let data_at = scan.pos;
                    let file = matches!(
                        flag,
                        typeflag::REGULAR | typeflag::REGULAR_OLD | typeflag::CONTIGUOUS
                    );
                    let name = p
                        .path
                        .or(p.long_name)
                        .unwrap_or_else(|| header_name(&block));
                    if file && !name.ends_with(b"/") {
                        entries.insert(normalise(path, &name)?, (data_at, size));
                    }
                    // Go's archive/tar reads no data after these, whatever the size says.
                    let header_only = matches!(
                        flag,
                        typeflag::HARDLINK
                            | typeflag::SYMLINK
                            | typeflag::CHAR
                            | typeflag::BLOCK
                            | typeflag::DIR
                            | typeflag::FIFO
                    );
                    scan.skip(if header_only { 0 } else { size })?;
                }
            }
        }
        Ok(TarIndex {
            path: path.to_path_buf(),
            entries,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        self.entries.contains_key(name)
    }

    pub(crate) fn size(&self, name: &str) -> Option<u64> {
        self.entries.get(name).map(|e| e.1)
    }

    /// Open one entry's bytes in place.
    pub(crate) fn open(&self, name: &str) -> Result<std::io::Take<File>, FormatError> {
        let (offset, size) =
            *self
                .entries
                .get(name)
                .ok_or_else(|| FormatError::ArchiveEntryMissing {
                    archive: self.path.clone(),
                    entry: name.to_owned(),
                })?;
        let mut f = open_regular(&self.path)?;
        f.seek(SeekFrom::Start(offset))
            .map_err(|e| FormatError::io(&self.path, e))?;
        Ok(f.take(size))
    }

    /// Read a small entry (a JSON document) fully, with a size limit.
    pub(crate) fn read_small(&self, name: &str) -> Result<Vec<u8>, FormatError> {
        let size = self.size(name).unwrap_or(0);
        if size > husk_oci::MAX_DOCUMENT_BYTES {
            return Err(husk_oci::OciError::TooLarge {
                what: format!("{name} in {}", self.path.display()),
                limit: husk_oci::MAX_DOCUMENT_BYTES,
            }
            .into());
        }
        let mut out = Vec::new();
        self.open(name)?
            .read_to_end(&mut out)
            .map_err(|e| FormatError::io(&self.path, e))?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_refuses() {
        let a = Path::new("a.tar");
        assert_eq!(normalise(a, b"./index.json").unwrap(), "index.json");
        assert_eq!(normalise(a, b"blobs//sha256/x").unwrap(), "blobs/sha256/x");
        for bad in [&b"../x"[..], b"/etc/passwd", b"a/../../b", b"\xff"] {
            assert!(normalise(a, bad).is_err());
        }
    }

    /// A header of `flag` naming `name` with a size field of `size`.
    fn header(name: &str, flag: u8, size: u64) -> Block {
        let mut h = [0u8; BLOCK];
        ustar::put_text(ustar::NAME.get_mut(&mut h), name);
        for f in [ustar::MODE, ustar::UID, ustar::GID, ustar::MTIME] {
            ustar::encode_octal(f.get_mut(&mut h), 0).unwrap();
        }
        if ustar::encode_octal(ustar::SIZE.get_mut(&mut h), size).is_err() {
            ustar::encode_base256(ustar::SIZE.get_mut(&mut h), size).unwrap();
        }
        h[ustar::TYPEFLAG.offset] = flag;
        ustar::MAGIC
            .get_mut(&mut h)
            .copy_from_slice(ustar::USTAR_MAGIC);
        ustar::set_checksum(&mut h);
        h
    }

    fn scan_bytes(bytes: &[u8]) -> Result<TarIndex, FormatError> {
        // Kept for the test's life: entries are opened again by path.
        let dir = Box::leak(Box::new(tempfile::tempdir().unwrap()));
        let p = dir.path().join("a.tar");
        std::fs::write(&p, bytes).unwrap();
        TarIndex::scan(&p)
    }

    fn pax(records: &str) -> Vec<u8> {
        let mut t = header("x", typeflag::PAX, records.len() as u64).to_vec();
        t.extend_from_slice(records.as_bytes());
        t.resize(t.len() + ustar::padding(records.len() as u64), 0);
        t
    }

    #[test]
    fn records_over_the_cap_are_refused_before_they_are_read() {
        for flag in [
            typeflag::PAX,
            typeflag::PAX_GLOBAL,
            typeflag::GNU_LONG_NAME,
            typeflag::GNU_LONG_LINK,
        ] {
            // 1.8 GB claimed, 512 bytes present: refused by size, nothing allocated.
            let t = header("big", flag, 1_800_000_000).to_vec();
            let err = scan_bytes(&t).unwrap_err();
            assert!(
                err.to_string().contains("over the limit"),
                "{}: {err}",
                flag as char
            );
        }
    }

    #[test]
    fn sizes_go_refuses_are_refused_and_offsets_never_wrap() {
        let file = header("f", typeflag::REGULAR, 0);
        for records in [
            "29 size=18446744073709551615\n",
            "28 size=9223372036854775808\n",
            "11 size=-1\n",
            "12 size=5.0\n",
            "8 size=\n",
            "12 path=a\0b\n",
            "5 x\n",
        ] {
            let mut t = pax(records);
            t.extend_from_slice(&file);
            t.resize(t.len() + 2 * BLOCK, 0);
            assert!(scan_bytes(&t).is_err(), "{records:?}");
        }
        let mut t = header("f", typeflag::REGULAR, 1 << 63).to_vec();
        t.resize(t.len() + 2 * BLOCK, 0);
        assert!(scan_bytes(&t).is_err());
        // Near the top of i64: offset + size + padding overflows the file offset.
        let mut t = header("f", typeflag::REGULAR, i64::MAX as u64 - 3).to_vec();
        t.resize(t.len() + 2 * BLOCK, 0);
        assert!(scan_bytes(&t).is_err());
    }

    #[test]
    fn pax_names_and_sizes_and_header_only_types_index_what_go_would() {
        let mut t = pax("19 path=blobs/real\n10 size=3\n");
        t.extend_from_slice(&header("ignored", typeflag::REGULAR, 0));
        t.extend_from_slice(b"abc");
        t.resize(t.len() + ustar::padding(3), 0);
        // A symlink claiming a block of data: Go reads the next header right after it.
        t.extend_from_slice(&header("ln", typeflag::SYMLINK, BLOCK as u64));
        t.extend_from_slice(&header("next", typeflag::REGULAR, 0));
        t.resize(t.len() + 2 * BLOCK, 0);
        let idx = scan_bytes(&t).unwrap();
        assert_eq!(idx.size("blobs/real"), Some(3));
        assert!(idx.contains("next") && !idx.contains("ignored"));
        let mut got = Vec::new();
        idx.open("blobs/real")
            .unwrap()
            .read_to_end(&mut got)
            .unwrap();
        assert_eq!(got, b"abc");
    }

    #[test]
    fn a_fifo_or_a_directory_is_not_an_archive() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        for (p, kind) in [
            (&fifo, "a FIFO"),
            (&dir.path().to_path_buf(), "a directory"),
        ] {
            let err = TarIndex::scan(p).unwrap_err();
            assert!(
                matches!(&err, FormatError::NotRegularFile { kind: k, .. } if *k == kind),
                "{err}"
            );
        }
        let err = TarIndex::scan(Path::new("/dev/null")).unwrap_err();
        assert!(err.to_string().contains("character device"), "{err}");
    }
}
