//! A streaming tar reader for untrusted layers.
//!
//! Entries come one at a time with their data as a bounded stream; nothing is unpacked and
//! no entry is held in memory. Written here rather than taken from the `tar` crate because
//! every variable-size thing must have a limit: the `tar` crate reads PAX records and GNU
//! long names into memory without a bound, and in raw mode it does not apply a PAX `size`
//! (so raw iteration would mis-frame a PAX-sized entry). The format is POSIX.1-2001 ustar +
//! pax, plus the GNU `L`/`K` long name records that Docker-era layers contain.
//!
//! Extended attributes (PAX `SCHILY.xattr.NAME` records) are kept on the entry
//! ([`crate::xattr::Xattrs`]), within the PAX record limit and Linux's own bounds (names
//! of 1 to 255 bytes, values up to 64 KiB: a runtime could not set more).
//!
//! Limits ([`Limits`]): entries (headers) per layer, bytes of one PAX/long-name record,
//! decompressed bytes per layer (and per image, paths per view: applied by `fs`); path length comes from [`ImagePath`] (4096 bytes, 255 a
//! component). Each has a typed error ([`ExploreError::Limit`]) naming the layer.
//! [`TarReader::finish`] reads the stream to its end, so the blob digest check of
//! `husk_oci::VerifyingReader` always runs.

use std::io::{self, BufReader, Read};

use husk_layer::ustar::{self, BLOCK, Block, typeflag};
use husk_layer::{Device, EntryKind, ImagePath, MAX_PATH_LEN, PathError};
use husk_oci::{Layer, OciError};

use crate::error::ExploreError;
use crate::xattr::{MAX_XATTR_NAME, MAX_XATTR_VALUE, PAX_XATTR_PREFIX, Xattrs};

const READ_BUF: usize = 256 * 1024;

/// Resource limits for reading one layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Tar headers (entries, PAX and long-name records) in one layer.
    pub max_entries: u64,
    /// Bytes of one PAX extended header or GNU long name / long link record.
    pub max_header_bytes: u64,
    /// Decompressed bytes of one layer.
    pub max_layer_bytes: u64,
    /// Decompressed bytes of all the layers of one image together (an identical layer
    /// listed again counts once: it is read once).
    pub max_image_bytes: u64,
    /// Paths in a merged view (every implicit ancestor directory counts).
    pub max_nodes: u64,
    /// Bytes of all the paths in a merged view together (a path of depth `d` costs its
    /// `d` ancestors' lengths too).
    pub max_path_bytes: u64,
    /// Bytes of extended attributes (names and values) in one layer, and in a merged view.
    pub max_xattr_bytes: u64,
}

impl Default for Limits {
    /// 2 million headers, 1 MiB per extended header, 64 GiB per layer, 128 GiB per image,
    /// 4 million paths and 256 MiB of path names per view, 64 MiB of extended attributes
    /// per layer and per view.
    fn default() -> Self {
        Limits {
            max_entries: 2_000_000,
            max_header_bytes: 1 << 20,
            max_layer_bytes: 64 << 30,
            max_image_bytes: 128 << 30,
            max_nodes: 4_000_000,
            max_path_bytes: 256 << 20,
            max_xattr_bytes: 64 << 20,
        }
    }
}

/// One tar entry's header, resolved (PAX and GNU long names applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TarEntry {
    /// Position among the layer's entries (extension records not counted), from 0.
    pub ordinal: u64,
    pub path: ImagePath,
    /// True when the raw name ended in `/`.
    pub trailing_slash: bool,
    pub kind: EntryKind,
    /// For a hard link: the path it links to (as written in the layer, normalised).
    pub hardlink: Option<ImagePath>,
    /// For a character or block device: its numbers.
    pub device: Option<Device>,
    /// Permission bits, `0o7777` at most.
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// Bytes of data that follow the header.
    pub size: u64,
    pub mtime: u64,
    /// Extended attributes (PAX `SCHILY.xattr.*` records), `None` when there are none.
    pub xattrs: Option<Box<Xattrs>>,
}

/// Values from extension records (PAX extended header, GNU long name and long link) that
/// apply to the next entry. A PAX value wins over a GNU one.
#[derive(Default)]
struct Pax {
    path: Option<Vec<u8>>,
    linkpath: Option<Vec<u8>>,
    size: Option<u64>,
    uid: Option<u64>,
    gid: Option<u64>,
    mtime: Option<u64>,
    xattrs: Xattrs,
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
}

/// Reads the entries of one layer's uncompressed tar stream.
pub struct TarReader<R> {
    inner: BufReader<R>,
    layer: usize,
    limits: Limits,
    headers: u64,
    ordinal: u64,
    remaining: u64,
    padding: u64,
    total: u64,
    /// Bytes of extended attributes read so far.
    xattr_bytes: u64,
    ended: bool,
    scratch: Vec<u8>,
}

/// Open a layer's uncompressed stream (blob digest verified as it streams).
///
/// # Errors
/// [`ExploreError::Oci`] when the blob cannot be opened or its media type is unknown.
pub fn open_layer<'a, L: Layer + ?Sized>(
    layer: &'a L,
    index: usize,
    limits: Limits,
) -> Result<TarReader<Box<dyn Read + Send + 'a>>, ExploreError> {
    Ok(TarReader::new(layer.open_uncompressed()?, index, limits))
}

fn io_error(layer: usize, e: io::Error) -> ExploreError {
    if e.get_ref().is_some_and(|inner| inner.is::<OciError>()) {
        if let Some(Ok(inner)) = e.into_inner().map(|b| b.downcast::<OciError>()) {
            return ExploreError::Oci(*inner);
        }
        unreachable!("checked above");
    }
    if e.kind() == io::ErrorKind::UnexpectedEof {
        return ExploreError::Truncated { layer };
    }
    ExploreError::Read { layer, source: e }
}

impl<R: Read> TarReader<R> {
    pub fn new(inner: R, layer: usize, limits: Limits) -> Self {
        TarReader {
            inner: BufReader::with_capacity(READ_BUF, inner),
            layer,
            limits,
            headers: 0,
            ordinal: 0,
            remaining: 0,
            padding: 0,
            total: 0,
            xattr_bytes: 0,
            ended: false,
            scratch: Vec::new(),
        }
    }

    /// The layer index this reader was opened for (used in errors).
    pub fn layer(&self) -> usize {
        self.layer
    }

    fn count(&mut self, n: usize) -> Result<(), ExploreError> {
        self.total += n as u64;
        if self.total > self.limits.max_layer_bytes {
            return Err(ExploreError::Limit {
                layer: self.layer,
                what: "decompressed size",
                limit: self.limits.max_layer_bytes,
            });
        }
        Ok(())
    }

    /// Fill `buf`; `Ok(false)` on a clean EOF before the first byte.
    fn read_block(&mut self, buf: &mut Block) -> Result<bool, ExploreError> {
        let mut got = 0;
        while got < BLOCK {
            match self.inner.read(&mut buf[got..]) {
                Ok(0) if got == 0 => return Ok(false),
                Ok(0) => return Err(ExploreError::Truncated { layer: self.layer }),
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_error(self.layer, e)),
            }
        }
        self.count(BLOCK)?;
        Ok(true)
    }

    /// Discard `n` bytes.
    fn skip(&mut self, mut n: u64) -> Result<(), ExploreError> {
        if self.scratch.is_empty() {
            self.scratch = vec![0; 64 * 1024];
        }
        while n > 0 {
            let want = n.min(self.scratch.len() as u64) as usize;
            let got = match self.inner.read(&mut self.scratch[..want]) {
                Ok(0) => return Err(ExploreError::Truncated { layer: self.layer }),
                Ok(g) => g,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_error(self.layer, e)),
            };
            self.count(got)?;
            n -= got as u64;
        }
        Ok(())
    }

    /// Read a whole extension record (PAX or long name) of `size` bytes, bounded.
    fn read_record(&mut self, size: u64, what: &'static str) -> Result<Vec<u8>, ExploreError> {
        if size > self.limits.max_header_bytes {
            return Err(ExploreError::Limit {
                layer: self.layer,
                what,
                limit: self.limits.max_header_bytes,
            });
        }
        let mut data = vec![0; size as usize];
        self.inner
            .read_exact(&mut data)
            .map_err(|e| io_error(self.layer, e))?;
        self.count(data.len())?;
        self.skip(pad(size))?;
        Ok(data)
    }

    fn bad(&self, what: &'static str) -> ExploreError {
        ExploreError::BadHeader {
            layer: self.layer,
            ordinal: self.ordinal,
            what,
        }
    }

    /// Bytes left of the current entry, padding included (checked: sizes are capped at
    /// `i64::MAX`, so this cannot overflow, but a wrap would re-frame the stream).
    fn rest(&self) -> Result<u64, ExploreError> {
        self.remaining
            .checked_add(self.padding)
            .ok_or_else(|| self.bad("size field"))
    }

    /// The next entry, skipping whatever data of the previous one was not read.
    ///
    /// # Errors
    /// Truncated or corrupt headers, limits, invalid names, unsupported entry types (sparse
    /// files, volume labels), and blob verification errors from the underlying stream.
    pub fn next_entry(&mut self) -> Result<Option<TarEntry>, ExploreError> {
        if self.ended {
            return Ok(None);
        }
        let rest = self.rest()?;
        self.remaining = 0;
        self.padding = 0;
        self.skip(rest)?;
        let mut pax = Pax::default();
        let mut block = [0u8; BLOCK];
        loop {
            if !self.read_header(&mut block)? {
                self.ended = true;
                return Ok(None);
            }
            let header_size = ustar::SIZE
                .number(&block)
                .filter(|&n| n <= MAX_ENTRY_SIZE)
                .ok_or_else(|| self.bad("size field"))?;
            if self.read_extension(&block, header_size, &mut pax)? {
                continue;
            }
            let mut entry = self.entry_from(&block, header_size, pax)?;
            if let Some(x) = &entry.xattrs {
                self.xattr_bytes = self.xattr_bytes.saturating_add(x.bytes());
                if self.xattr_bytes > self.limits.max_xattr_bytes {
                    return Err(ExploreError::Limit {
                        layer: self.layer,
                        what: "bytes of extended attributes in the layer",
                        limit: self.limits.max_xattr_bytes,
                    });
                }
            }
            if header_only(block[ustar::TYPEFLAG.offset]) {
                // Go's archive/tar reads no data after these, whatever the size says.
                entry.size = 0;
            }
            self.ordinal += 1;
            self.remaining = entry.size;
            self.padding = pad(entry.size);
            return Ok(Some(entry));
        }
    }

    /// Read the next header block and check it; `Ok(false)` at the end of the archive (the
    /// zero block, or EOF without it, which GNU tar accepts too).
    fn read_header(&mut self, block: &mut Block) -> Result<bool, ExploreError> {
        if !self.read_block(block)? || block.iter().all(|&b| b == 0) {
            return Ok(false);
        }
        self.headers += 1;
        if self.headers > self.limits.max_entries {
            return Err(ExploreError::Limit {
                layer: self.layer,
                what: "number of tar entries",
                limit: self.limits.max_entries,
            });
        }
        if !ustar::checksum_ok(block) {
            return Err(self.bad("checksum mismatch"));
        }
        Ok(true)
    }

    /// Read an extension record (PAX, global PAX, GNU long name or link) into `pax`;
    /// `Ok(false)` when the header is an entry of its own.
    fn read_extension(
        &mut self,
        block: &Block,
        size: u64,
        pax: &mut Pax,
    ) -> Result<bool, ExploreError> {
        match block[ustar::TYPEFLAG.offset] {
            typeflag::PAX => {
                let data = self.read_record(size, "PAX extended header size")?;
                parse_pax(&data, pax).map_err(|what| self.bad(what))?;
            }
            typeflag::PAX_GLOBAL => {
                // Global PAX headers carry nothing husk uses; read them within the limit.
                self.read_record(size, "PAX global header size")?;
            }
            typeflag::GNU_LONG_NAME => {
                let data = self.read_record(size, "GNU long name size")?;
                pax.long_name = Some(trim_nul(data));
            }
            typeflag::GNU_LONG_LINK => {
                let data = self.read_record(size, "GNU long link size")?;
                pax.long_link = Some(trim_nul(data));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The entry a header describes, with the extension records before it applied.
    fn entry_from(
        &self,
        block: &Block,
        header_size: u64,
        mut pax: Pax,
    ) -> Result<TarEntry, ExploreError> {
        let raw_name = pax
            .path
            .take()
            .or_else(|| pax.long_name.take())
            .unwrap_or_else(|| header_name(block));
        let path = self.entry_path(&raw_name)?;
        let trailing_slash = raw_name.ends_with(b"/");
        let raw_link = pax
            .linkpath
            .take()
            .or_else(|| pax.long_link.take())
            .unwrap_or_else(|| ustar::LINKNAME.text(block).to_vec());
        let named = Named {
            layer: self.layer,
            raw_name: &raw_name,
        };
        let (kind, hardlink) = entry_kind(block, trailing_slash, raw_link, &named)?;
        let device = kind.is_device().then(|| Device {
            major: ustar::DEVMAJOR.number(block).unwrap_or(0) as u32,
            minor: ustar::DEVMINOR.number(block).unwrap_or(0) as u32,
        });
        let number = |f: ustar::Field, what| f.number(block).ok_or_else(|| self.bad(what));
        Ok(TarEntry {
            ordinal: self.ordinal,
            path,
            trailing_slash,
            kind,
            hardlink,
            device,
            mode: number(ustar::MODE, "mode field")? as u32 & 0o7777,
            uid: pax
                .uid
                .map_or_else(|| number(ustar::UID, "uid field"), Ok)?,
            gid: pax
                .gid
                .map_or_else(|| number(ustar::GID, "gid field"), Ok)?,
            size: match pax.size {
                Some(n) if n > MAX_ENTRY_SIZE => return Err(self.bad("PAX size")),
                Some(n) => n,
                None => header_size,
            },
            mtime: pax
                .mtime
                .unwrap_or_else(|| ustar::MTIME.number(block).unwrap_or(0)),
            xattrs: std::mem::take(&mut pax.xattrs).boxed(),
        })
    }

    /// The image path of a raw entry name, refused (naming it) when invalid.
    fn entry_path(&self, raw_name: &[u8]) -> Result<ImagePath, ExploreError> {
        let lossy = || String::from_utf8_lossy(raw_name).into_owned();
        if raw_name.len() > MAX_PATH_LEN + 1 {
            return Err(ExploreError::BadName {
                layer: self.layer,
                name: lossy().chars().take(64).collect(),
                source: PathError::TooLong { path: lossy() },
            });
        }
        ImagePath::from_tar_name(raw_name).map_err(|source| ExploreError::BadName {
            layer: self.layer,
            name: lossy(),
            source,
        })
    }

    /// Read the current entry's data (what [`TarReader::next_entry`] last returned).
    pub fn data(&mut self) -> EntryData<'_, R> {
        EntryData { r: self }
    }

    /// Read the rest of the stream, so the blob's digest and size are checked. Returns the
    /// decompressed size of the layer.
    ///
    /// # Errors
    /// A truncated stream, the size limit, or a blob verification error.
    pub fn finish(mut self) -> Result<u64, ExploreError> {
        let rest = self.rest()?;
        self.remaining = 0;
        self.skip(rest)?;
        if self.scratch.is_empty() {
            self.scratch = vec![0; 64 * 1024];
        }
        loop {
            let n = match self.inner.read(&mut self.scratch) {
                Ok(0) => return Ok(self.total),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_error(self.layer, e)),
            };
            self.count(n)?;
        }
    }
}

/// The data of the current entry, as a reader that ends where the entry ends.
pub struct EntryData<'a, R> {
    r: &'a mut TarReader<R>,
}

impl<R: Read> Read for EntryData<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.r.remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = (buf.len() as u64).min(self.r.remaining) as usize;
        let n = self.r.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.r.remaining -= n as u64;
        self.r.count(n).map_err(io::Error::other)?;
        Ok(n)
    }
}

impl<R: Read> EntryData<'_, R> {
    /// Turn an error from reading this data into the most specific [`ExploreError`].
    pub fn error(&self, e: io::Error) -> ExploreError {
        if e.get_ref().is_some_and(|i| i.is::<ExploreError>()) {
            if let Some(Ok(inner)) = e.into_inner().map(|b| b.downcast::<ExploreError>()) {
                return *inner;
            }
            unreachable!("checked above");
        }
        io_error(self.r.layer, e)
    }
}

/// Types Go's archive/tar gives no data (`isHeaderOnlyType`), so neither does husk: what
/// husk shows must be what a runtime unpacks.
fn header_only(flag: u8) -> bool {
    matches!(
        flag,
        typeflag::HARDLINK
            | typeflag::SYMLINK
            | typeflag::CHAR
            | typeflag::BLOCK
            | typeflag::DIR
            | typeflag::FIFO
    )
}

fn pad(size: u64) -> u64 {
    ustar::padding(size) as u64
}

/// The entry name the header itself holds: `PREFIX/NAME` for ustar headers with a prefix.
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
    let mut p = prefix.to_vec();
    p.push(b'/');
    p.extend_from_slice(name);
    p
}

/// An entry's raw name and layer, for errors about it.
struct Named<'a> {
    layer: usize,
    raw_name: &'a [u8],
}

impl Named<'_> {
    fn bad_name(&self, source: PathError) -> ExploreError {
        ExploreError::BadName {
            layer: self.layer,
            name: String::from_utf8_lossy(self.raw_name).into_owned(),
            source,
        }
    }
}

/// The kind of an entry from its type flag, and a hard link's target. Symlink targets must
/// be UTF-8 and non-empty; hard link targets must be valid image paths.
fn entry_kind(
    block: &Block,
    trailing_slash: bool,
    raw_link: Vec<u8>,
    named: &Named<'_>,
) -> Result<(EntryKind, Option<ImagePath>), ExploreError> {
    let kind = match block[ustar::TYPEFLAG.offset] {
        typeflag::REGULAR | typeflag::REGULAR_OLD | typeflag::CONTIGUOUS if trailing_slash => {
            EntryKind::Dir
        }
        typeflag::REGULAR | typeflag::REGULAR_OLD | typeflag::CONTIGUOUS => EntryKind::File,
        typeflag::DIR => EntryKind::Dir,
        typeflag::SYMLINK => EntryKind::Symlink(symlink_target(raw_link, named)?),
        typeflag::HARDLINK => {
            let target =
                ImagePath::from_tar_name(&raw_link).map_err(|source| named.bad_name(source))?;
            return Ok((EntryKind::Hardlink, Some(target)));
        }
        typeflag::CHAR => EntryKind::Char,
        typeflag::BLOCK => EntryKind::Block,
        typeflag::FIFO => EntryKind::Fifo,
        other => {
            return Err(ExploreError::UnsupportedEntry {
                layer: named.layer,
                name: String::from_utf8_lossy(named.raw_name).into_owned(),
                kind: other as char,
            });
        }
    };
    Ok((kind, None))
}

fn symlink_target(raw_link: Vec<u8>, named: &Named<'_>) -> Result<String, ExploreError> {
    let bad_target = |source| ExploreError::BadSymlinkEntry {
        layer: named.layer,
        name: String::from_utf8_lossy(named.raw_name).into_owned(),
        source,
    };
    let target = String::from_utf8(raw_link).map_err(|e| {
        bad_target(PathError::NotUtf8 {
            path: String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    })?;
    if target.is_empty() {
        return Err(bad_target(PathError::Empty));
    }
    if target.len() > MAX_PATH_LEN {
        return Err(bad_target(PathError::TooLong { path: target }));
    }
    Ok(target)
}

fn trim_nul(mut v: Vec<u8>) -> Vec<u8> {
    while v.last() == Some(&0) {
        v.pop();
    }
    v
}

/// Largest entry size Go's archive/tar (what container runtimes use) accepts: an `int64`.
const MAX_ENTRY_SIZE: u64 = i64::MAX as u64;

/// A PAX integer as Go's `strconv.ParseInt(v, 10, 64)` reads it: an optional sign and
/// decimal digits, nothing else, within `i64`.
fn pax_int(v: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(v).ok()?;
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A non-negative PAX integer (size, uid, gid).
fn pax_unsigned(v: &[u8], what: &'static str) -> Result<u64, &'static str> {
    pax_int(v).and_then(|n| u64::try_from(n).ok()).ok_or(what)
}

/// A PAX time as Go's `parsePAXTime` reads it (`[-]SECONDS[.FRACTION]`); a time before
/// the epoch reads as 0.
fn pax_time(v: &[u8]) -> Result<u64, &'static str> {
    let mut parts = v.splitn(2, |&c| c == b'.');
    let secs = pax_int(parts.next().unwrap_or_default()).ok_or("PAX mtime")?;
    if let Some(frac) = parts.next()
        && !frac.iter().all(u8::is_ascii_digit)
    {
        return Err("PAX mtime");
    }
    Ok(u64::try_from(secs).unwrap_or(0))
}

/// The attribute name of a `SCHILY.xattr.NAME` record: what Linux can hold (1 to 255
/// bytes), UTF-8 (husk shows and re-writes it as text).
fn pax_xattr_name(name: &[u8]) -> Result<String, &'static str> {
    if name.is_empty() || name.len() > MAX_XATTR_NAME {
        return Err("PAX xattr name length");
    }
    String::from_utf8(name.to_vec()).map_err(|_| "PAX xattr name that is not UTF-8")
}

/// Parse PAX records (`LEN KEY=VALUE\n`) into `pax`, refusing what Go's archive/tar
/// refuses (a parser differential would show files a runtime never unpacks).
fn parse_pax(mut data: &[u8], pax: &mut Pax) -> Result<(), &'static str> {
    while !data.is_empty() {
        let space = data
            .iter()
            .position(|&c| c == b' ')
            .ok_or("PAX record without length")?;
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
        let eq = record
            .iter()
            .position(|&c| c == b'=')
            .ok_or("PAX record without =")?;
        let (key, value) = (&record[..eq], &record[eq + 1..]);
        if key.is_empty() || key.contains(&0) {
            return Err("PAX record key");
        }
        if matches!(key, b"path" | b"linkpath") && value.contains(&0) {
            return Err("PAX path with a NUL byte");
        }
        match key {
            b"path" => pax.path = Some(value.to_vec()),
            b"linkpath" => pax.linkpath = Some(value.to_vec()),
            b"size" => pax.size = Some(pax_unsigned(value, "PAX size")?),
            b"uid" => pax.uid = Some(pax_unsigned(value, "PAX uid")?),
            b"gid" => pax.gid = Some(pax_unsigned(value, "PAX gid")?),
            b"mtime" => pax.mtime = Some(pax_time(value)?),
            k if k.starts_with(b"GNU.sparse.") => return Err("sparse files are not supported"),
            k if k.starts_with(PAX_XATTR_PREFIX.as_bytes()) => {
                let name = pax_xattr_name(&k[PAX_XATTR_PREFIX.len()..])?;
                if value.len() > MAX_XATTR_VALUE {
                    return Err("PAX xattr value longer than Linux allows (64 KiB)");
                }
                pax.xattrs.insert(name, value.to_vec());
            }
            // `LIBARCHIVE.xattr.*` (bsdtar's encoded copy of the same attributes) is not
            // read: Go's archive/tar based runtimes never apply it, so neither does the view.
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header written with husk-layer's `ustar` encoders (as the layer writer does).
    fn header(name: &str, flag: u8, set: impl FnOnce(&mut Block)) -> Block {
        let mut h = [0u8; BLOCK];
        ustar::put_text(ustar::NAME.get_mut(&mut h), name);
        for f in [
            ustar::MODE,
            ustar::UID,
            ustar::GID,
            ustar::SIZE,
            ustar::MTIME,
        ] {
            ustar::encode_octal(f.get_mut(&mut h), 0).unwrap();
        }
        h[ustar::TYPEFLAG.offset] = flag;
        ustar::MAGIC
            .get_mut(&mut h)
            .copy_from_slice(ustar::USTAR_MAGIC);
        set(&mut h);
        ustar::set_checksum(&mut h);
        h
    }

    fn read_one(h: &Block, data: &[u8]) -> Result<Option<TarEntry>, ExploreError> {
        let mut tar = h.to_vec();
        tar.extend_from_slice(data);
        tar.resize(tar.len() + ustar::padding(data.len() as u64) + 2 * BLOCK, 0);
        TarReader::new(tar.as_slice(), 4, Limits::default()).next_entry()
    }

    #[test]
    fn numbers_round_trip_from_the_writer_encoders_octal_and_base256() {
        let h = header("big", typeflag::REGULAR, |h| {
            ustar::encode_octal(ustar::MODE.get_mut(h), 0o4755).unwrap();
            ustar::encode_base256(ustar::UID.get_mut(h), 1 << 40).unwrap();
            ustar::encode_octal(ustar::GID.get_mut(h), ustar::max_octal(8)).unwrap();
            ustar::encode_octal(ustar::SIZE.get_mut(h), 3).unwrap();
            ustar::encode_base256(ustar::MTIME.get_mut(h), u64::MAX).unwrap();
        });
        let e = read_one(&h, b"abc").unwrap().unwrap();
        assert_eq!(
            (e.mode, e.uid, e.gid, e.size, e.mtime),
            (0o4755, 1 << 40, 0o7777777, 3, u64::MAX)
        );
        assert_eq!(
            (e.kind, e.hardlink, e.device),
            (EntryKind::File, None, None)
        );
    }

    #[test]
    fn devices_and_hard_links_carry_their_extras_beside_the_kind() {
        let h = header("dev/null", typeflag::CHAR, |h| {
            ustar::encode_octal(ustar::DEVMAJOR.get_mut(h), 1).unwrap();
            ustar::encode_octal(ustar::DEVMINOR.get_mut(h), 3).unwrap();
        });
        let e = read_one(&h, b"").unwrap().unwrap();
        assert_eq!(e.kind, EntryKind::Char);
        assert_eq!(e.device, Some(Device { major: 1, minor: 3 }));
        let h = header("bin/b", typeflag::HARDLINK, |h| {
            ustar::put_text(ustar::LINKNAME.get_mut(h), "bin/a");
        });
        let e = read_one(&h, b"").unwrap().unwrap();
        assert_eq!(e.kind, EntryKind::Hardlink);
        assert_eq!(e.hardlink, Some(ImagePath::parse("/bin/a").unwrap()));
    }

    #[test]
    fn numbers_that_overflow_or_are_negative_are_refused_naming_the_field() {
        let wide_size = header("f", typeflag::REGULAR, |h| {
            let f = ustar::SIZE.get_mut(h);
            f.fill(0xff);
            f[0] = 0x81; // positive base-256, 95 bits: more than a u64
        });
        let negative_uid = header("f", typeflag::REGULAR, |h| {
            ustar::UID.get_mut(h).fill(0xff); // -1 in base-256
        });
        let octal_overflow = header("f", typeflag::REGULAR, |h| {
            ustar::MODE.get_mut(h).copy_from_slice(b"7777777\0");
            ustar::GID.get_mut(h).copy_from_slice(b"9999999\0");
        });
        for (h, what) in [
            (wide_size, "size field"),
            (negative_uid, "uid field"),
            (octal_overflow, "gid field"),
        ] {
            let err = read_one(&h, b"").unwrap_err();
            assert!(
                matches!(err, ExploreError::BadHeader { layer: 4, ordinal: 0, what: w } if w == what),
                "{what}: {err:?}"
            );
        }
        // And a header the encoders could not write is refused before it is written.
        let mut field = [0u8; 8];
        assert!(ustar::encode_octal(&mut field, ustar::max_octal(8) + 1).is_err());
        assert!(ustar::encode_base256(&mut field, 1 << 62).is_err());
    }

    /// A PAX header carrying `records`, then `entry` with `data`, then the end blocks.
    fn with_pax(records: &[(&str, &str)], entry: &Block, data: &[u8]) -> Vec<u8> {
        let mut body = Vec::new();
        for (k, v) in records {
            let rest = format!(" {k}={v}\n");
            let mut len = rest.len() + 1;
            while format!("{len}").len() + rest.len() != len {
                len += 1;
            }
            body.extend_from_slice(format!("{len}{rest}").as_bytes());
        }
        let h = header("PaxHeaders/x", typeflag::PAX, |h| {
            ustar::encode_octal(ustar::SIZE.get_mut(h), body.len() as u64).unwrap();
        });
        let mut tar = h.to_vec();
        tar.extend_from_slice(&body);
        tar.resize(tar.len() + ustar::padding(body.len() as u64), 0);
        tar.extend_from_slice(entry);
        tar.extend_from_slice(data);
        tar.resize(tar.len() + ustar::padding(data.len() as u64) + 2 * BLOCK, 0);
        tar
    }

    fn entries(tar: &[u8]) -> Result<Vec<TarEntry>, ExploreError> {
        let mut r = TarReader::new(tar, 0, Limits::default());
        let mut out = Vec::new();
        while let Some(e) = r.next_entry()? {
            out.push(e);
        }
        r.finish()?;
        Ok(out)
    }

    #[test]
    fn pax_numbers_go_refuses_are_refused_and_sizes_never_wrap() {
        let file = header("f", typeflag::REGULAR, |_| {});
        for (key, value) in [
            ("size", "18446744073709551615"), // 2^64-1: wrapped to 0 with the padding
            ("size", "9223372036854775808"),  // i64::MAX + 1
            ("size", "-1"),
            ("size", "5.0"),
            ("size", "0x10"),
            ("size", ""),
            ("size", " 5"),
            ("uid", "-1"),
            ("gid", "1e3"),
            ("mtime", "12abc"),
            ("mtime", "1.2.3"),
            ("path", "a\0b"),
        ] {
            let tar = with_pax(&[(key, value)], &file, b"");
            let err = entries(&tar).unwrap_err();
            assert!(
                matches!(
                    err,
                    ExploreError::BadHeader { .. } | ExploreError::Truncated { .. }
                ),
                "{key}={value:?}: {err:?}"
            );
        }
        let tar = with_pax(&[("mtime", "-5.25"), ("size", "+3")], &file, b"abc");
        let e = entries(&tar).unwrap();
        assert_eq!((e[0].mtime, e[0].size), (0, 3));
    }

    /// One PAX record `LEN KEY=VALUE\n` of raw bytes.
    fn record(key: &[u8], value: &[u8]) -> Vec<u8> {
        let rest = key.len() + value.len() + 3;
        let mut len = rest + 1;
        while format!("{len}").len() + rest != len {
            len += 1;
        }
        let mut r = format!("{len} ").into_bytes();
        r.extend_from_slice(key);
        r.push(b'=');
        r.extend_from_slice(value);
        r.push(b'\n');
        r
    }

    #[test]
    fn pax_xattrs_are_kept_with_binary_values_and_bounded_as_linux_bounds_them() {
        let file = header("f", typeflag::REGULAR, |_| {});
        let tar = with_pax(
            &[
                ("SCHILY.xattr.security.capability", "\u{1}\0\0\u{2}\n="),
                ("SCHILY.xattr.user.a", "1"),
                ("SCHILY.xattr.user.a", "2"),
                ("LIBARCHIVE.xattr.user.b", "Mg=="),
            ],
            &file,
            b"",
        );
        let e = entries(&tar).unwrap();
        let x = e[0].xattrs.as_deref().unwrap();
        assert_eq!(x.get("security.capability"), Some(&b"\x01\0\0\x02\n="[..]));
        assert_eq!(x.get("user.a"), Some(&b"2"[..]));
        assert_eq!(x.len(), 2);
        let plain = entries(&with_pax(&[("mtime", "1")], &file, b"")).unwrap();
        assert!(plain[0].xattrs.is_none());

        let long_name = [b'n'; 256];
        for (key, value, what) in [
            (&b"SCHILY.xattr."[..], &b"v"[..], "PAX xattr name length"),
            (
                &[b"SCHILY.xattr.".as_slice(), &long_name].concat()[..],
                b"v",
                "PAX xattr name length",
            ),
            (
                b"SCHILY.xattr.user.\xff",
                b"v",
                "PAX xattr name that is not UTF-8",
            ),
            (b"SCHILY.xattr.user.a\0b", b"v", "PAX record key"),
            (b"comment\0", b"v", "PAX record key"),
        ] {
            let mut pax = Pax::default();
            assert_eq!(parse_pax(&record(key, value), &mut pax).err(), Some(what));
        }
        let mut pax = Pax::default();
        let big = vec![0u8; MAX_XATTR_VALUE + 1];
        assert!(parse_pax(&record(b"SCHILY.xattr.user.big", &big), &mut pax).is_err());
        let fits = vec![0u8; MAX_XATTR_VALUE];
        parse_pax(&record(b"SCHILY.xattr.user.big", &fits), &mut pax).unwrap();
        assert_eq!(
            pax.xattrs.get("user.big").map(<[u8]>::len),
            Some(MAX_XATTR_VALUE)
        );
    }

    #[test]
    fn header_sizes_beyond_int64_are_refused() {
        let h = header("f", typeflag::REGULAR, |h| {
            ustar::encode_base256(ustar::SIZE.get_mut(h), 1 << 63).unwrap();
        });
        let err = read_one(&h, b"").unwrap_err();
        assert!(
            matches!(
                err,
                ExploreError::BadHeader {
                    what: "size field",
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn header_only_types_carry_no_data_whatever_their_size_says() {
        // Go's archive/tar reads the next header right after a symlink header; a reader that
        // skipped `size` bytes would show the hidden entry instead of the real next one.
        let hidden = header("hidden", typeflag::REGULAR, |_| {});
        for flag in [
            typeflag::SYMLINK,
            typeflag::DIR,
            typeflag::FIFO,
            typeflag::CHAR,
        ] {
            let link = header("l", flag, |h| {
                ustar::put_text(ustar::LINKNAME.get_mut(h), "t");
                ustar::encode_octal(ustar::SIZE.get_mut(h), BLOCK as u64).unwrap();
            });
            let next = header("next", typeflag::REGULAR, |_| {});
            let mut tar = link.to_vec();
            tar.extend_from_slice(&next);
            tar.extend_from_slice(&hidden);
            tar.resize(tar.len() + 2 * BLOCK, 0);
            let names: Vec<String> = entries(&tar)
                .unwrap()
                .iter()
                .map(|e| e.path.to_string())
                .collect();
            assert_eq!(names, ["/l", "/next", "/hidden"], "flag {flag}");
        }
    }
}
