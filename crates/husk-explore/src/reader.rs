//! A streaming tar reader for untrusted layers.
//!
//! Entries come one at a time with their data as a bounded stream; nothing is unpacked and
//! no entry is held in memory. Written here rather than taken from the `tar` crate because
//! every variable-size thing must have a limit: the `tar` crate reads PAX records and GNU
//! long names into memory without a bound, and in raw mode it does not apply a PAX `size`
//! (so raw iteration would mis-frame a PAX-sized entry). The format is POSIX.1-2001 ustar +
//! pax, plus the GNU `L`/`K` long name records that Docker-era layers contain.
//!
//! Limits ([`Limits`]): entries (headers) per layer, bytes of one PAX/long-name record,
//! decompressed bytes per layer; path length comes from [`ImagePath`] (4096 bytes, 255 a
//! component). Each has a typed error ([`ExploreError::Limit`]) naming the layer.
//! [`TarReader::finish`] reads the stream to its end, so the blob digest check of
//! `husk_oci::VerifyingReader` always runs.

use std::io::{self, BufReader, Read};

use husk_layer::{ImagePath, MAX_PATH_LEN, PathError};
use husk_oci::{Layer, OciError};

use crate::error::ExploreError;

const BLOCK: usize = 512;
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
}

impl Default for Limits {
    /// 2 million headers, 1 MiB per extended header, 64 GiB per layer.
    fn default() -> Self {
        Limits {
            max_entries: 2_000_000,
            max_header_bytes: 1 << 20,
            max_layer_bytes: 64 << 30,
        }
    }
}

/// What an entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    Symlink(String),
    /// A hard link to another path of the image (as written in the layer, normalised).
    Hardlink(ImagePath),
    Char {
        major: u32,
        minor: u32,
    },
    Block {
        major: u32,
        minor: u32,
    },
    Fifo,
}

impl EntryKind {
    /// A one-word description for messages.
    pub fn noun(&self) -> &'static str {
        match self {
            EntryKind::File => "file",
            EntryKind::Dir => "directory",
            EntryKind::Symlink(_) => "symlink",
            EntryKind::Hardlink(_) => "hard link",
            EntryKind::Char { .. } => "character device",
            EntryKind::Block { .. } => "block device",
            EntryKind::Fifo => "fifo",
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
    /// Permission bits, `0o7777` at most.
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// Bytes of data that follow the header.
    pub size: u64,
    pub mtime: u64,
}

/// Values from a PAX extended header that apply to the next entry.
#[derive(Default)]
struct Pax {
    path: Option<Vec<u8>>,
    linkpath: Option<Vec<u8>>,
    size: Option<u64>,
    uid: Option<u64>,
    gid: Option<u64>,
    mtime: Option<u64>,
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
    fn read_block(&mut self, buf: &mut [u8; BLOCK]) -> Result<bool, ExploreError> {
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

    /// The next entry, skipping whatever data of the previous one was not read.
    ///
    /// # Errors
    /// Truncated or corrupt headers, limits, invalid names, unsupported entry types (sparse
    /// files, volume labels), and blob verification errors from the underlying stream.
    pub fn next_entry(&mut self) -> Result<Option<TarEntry>, ExploreError> {
        if self.ended {
            return Ok(None);
        }
        let rest = self.remaining + self.padding;
        self.remaining = 0;
        self.padding = 0;
        self.skip(rest)?;
        let mut pax = Pax::default();
        let mut long_name: Option<Vec<u8>> = None;
        let mut long_link: Option<Vec<u8>> = None;
        let mut block = [0u8; BLOCK];
        loop {
            if !self.read_block(&mut block)? {
                // EOF without the end-of-archive blocks: accepted, as GNU tar does.
                self.ended = true;
                return Ok(None);
            }
            if block.iter().all(|&b| b == 0) {
                self.ended = true;
                return Ok(None);
            }
            self.headers += 1;
            if self.headers > self.limits.max_entries {
                return Err(ExploreError::Limit {
                    layer: self.layer,
                    what: "number of tar entries",
                    limit: self.limits.max_entries,
                });
            }
            if !checksum_ok(&block) {
                return Err(self.bad("checksum mismatch"));
            }
            let header_size = number(&block[124..136]).ok_or_else(|| self.bad("size field"))?;
            let typeflag = block[156];
            match typeflag {
                b'x' => {
                    let data = self.read_record(header_size, "PAX extended header size")?;
                    parse_pax(&data, &mut pax).map_err(|what| self.bad(what))?;
                    continue;
                }
                b'g' => {
                    // Global PAX headers carry nothing husk uses; read them within the limit.
                    self.read_record(header_size, "PAX global header size")?;
                    continue;
                }
                b'L' => {
                    let data = self.read_record(header_size, "GNU long name size")?;
                    long_name = Some(trim_nul(data));
                    continue;
                }
                b'K' => {
                    let data = self.read_record(header_size, "GNU long link size")?;
                    long_link = Some(trim_nul(data));
                    continue;
                }
                _ => {}
            }
            let raw_name = match (pax.path.take(), long_name.take()) {
                (Some(p), _) | (None, Some(p)) => p,
                (None, None) => {
                    let name = field(&block[0..100]);
                    let ustar = &block[257..263] == b"ustar\0";
                    let prefix = if ustar { field(&block[345..500]) } else { &[] };
                    if prefix.is_empty() {
                        name.to_vec()
                    } else {
                        let mut p = prefix.to_vec();
                        p.push(b'/');
                        p.extend_from_slice(name);
                        p
                    }
                }
            };
            let name_for_errors = || String::from_utf8_lossy(&raw_name).into_owned();
            if raw_name.len() > MAX_PATH_LEN + 1 {
                return Err(ExploreError::BadName {
                    layer: self.layer,
                    name: name_for_errors().chars().take(64).collect(),
                    source: PathError::TooLong {
                        path: name_for_errors(),
                    },
                });
            }
            let path =
                ImagePath::from_tar_name(&raw_name).map_err(|source| ExploreError::BadName {
                    layer: self.layer,
                    name: name_for_errors(),
                    source,
                })?;
            let trailing_slash = raw_name.ends_with(b"/");
            let raw_link = match (pax.linkpath.take(), long_link.take()) {
                (Some(l), _) | (None, Some(l)) => l,
                (None, None) => field(&block[157..257]).to_vec(),
            };
            let major = || number(&block[329..337]).unwrap_or(0) as u32;
            let minor = || number(&block[337..345]).unwrap_or(0) as u32;
            let kind = match typeflag {
                b'0' | 0 | b'7' if trailing_slash => EntryKind::Dir,
                b'0' | 0 | b'7' => EntryKind::File,
                b'5' => EntryKind::Dir,
                b'2' => {
                    let target =
                        String::from_utf8(raw_link).map_err(|e| ExploreError::BadName {
                            layer: self.layer,
                            name: name_for_errors(),
                            source: PathError::NotUtf8 {
                                path: String::from_utf8_lossy(e.as_bytes()).into_owned(),
                            },
                        })?;
                    if target.is_empty() || target.len() > MAX_PATH_LEN {
                        return Err(ExploreError::BadName {
                            layer: self.layer,
                            name: name_for_errors(),
                            source: if target.is_empty() {
                                PathError::Empty
                            } else {
                                PathError::TooLong { path: target }
                            },
                        });
                    }
                    EntryKind::Symlink(target)
                }
                b'1' => {
                    let target = ImagePath::from_tar_name(&raw_link).map_err(|source| {
                        ExploreError::BadName {
                            layer: self.layer,
                            name: name_for_errors(),
                            source,
                        }
                    })?;
                    EntryKind::Hardlink(target)
                }
                b'3' => EntryKind::Char {
                    major: major(),
                    minor: minor(),
                },
                b'4' => EntryKind::Block {
                    major: major(),
                    minor: minor(),
                },
                b'6' => EntryKind::Fifo,
                other => {
                    return Err(ExploreError::UnsupportedEntry {
                        layer: self.layer,
                        name: name_for_errors(),
                        kind: other as char,
                    });
                }
            };
            let size = pax.size.unwrap_or(header_size);
            let entry = TarEntry {
                ordinal: self.ordinal,
                path,
                trailing_slash,
                kind,
                mode: number(&block[100..108]).ok_or_else(|| self.bad("mode field"))? as u32
                    & 0o7777,
                uid: match pax.uid {
                    Some(u) => u,
                    None => number(&block[108..116]).ok_or_else(|| self.bad("uid field"))?,
                },
                gid: match pax.gid {
                    Some(g) => g,
                    None => number(&block[116..124]).ok_or_else(|| self.bad("gid field"))?,
                },
                size,
                mtime: pax
                    .mtime
                    .unwrap_or_else(|| number(&block[136..148]).unwrap_or(0)),
            };
            self.ordinal += 1;
            self.remaining = size;
            self.padding = pad(size);
            return Ok(Some(entry));
        }
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
        let rest = self.remaining + self.padding;
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

fn pad(size: u64) -> u64 {
    (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64
}

/// A NUL-terminated header field.
fn field(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(i) => &b[..i],
        None => b,
    }
}

fn trim_nul(mut v: Vec<u8>) -> Vec<u8> {
    while v.last() == Some(&0) {
        v.pop();
    }
    v
}

/// A numeric field: octal text (spaces and NULs around it), or GNU base-256 when the top
/// bit of the first byte is set. Negative base-256 values are refused.
fn number(b: &[u8]) -> Option<u64> {
    if b.first().is_some_and(|&c| c & 0x80 != 0) {
        if b[0] == 0xff {
            return None;
        }
        let mut v: u64 = u64::from(b[0] & 0x7f);
        for &c in &b[1..] {
            v = v.checked_mul(256)?.checked_add(u64::from(c))?;
        }
        return Some(v);
    }
    let digits = b
        .iter()
        .skip_while(|&&c| c == b' ' || c == 0)
        .take_while(|&&c| c != b' ' && c != 0);
    let mut v: u64 = 0;
    for &c in digits {
        if !(b'0'..=b'7').contains(&c) {
            return None;
        }
        v = v.checked_mul(8)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(v)
}

fn checksum_ok(block: &[u8; BLOCK]) -> bool {
    let Some(want) = number(&block[148..156]) else {
        return false;
    };
    let unsigned: u64 = block
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(c)
            }
        })
        .sum();
    let signed: i64 = block
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            if (148..156).contains(&i) {
                32
            } else {
                i64::from(c as i8)
            }
        })
        .sum();
    want == unsigned || i64::try_from(want).is_ok_and(|w| w == signed)
}

/// Parse PAX records (`LEN KEY=VALUE\n`) into `pax`.
fn parse_pax(mut data: &[u8], pax: &mut Pax) -> Result<(), &'static str> {
    let decimal = |v: &[u8]| -> Result<u64, &'static str> {
        let int = v.split(|&c| c == b'.').next().unwrap_or_default();
        std::str::from_utf8(int)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or("PAX number")
    };
    while !data.is_empty() {
        let space = data
            .iter()
            .position(|&c| c == b' ')
            .ok_or("PAX record without length")?;
        let len: usize = std::str::from_utf8(&data[..space])
            .ok()
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
        match key {
            b"path" => pax.path = Some(value.to_vec()),
            b"linkpath" => pax.linkpath = Some(value.to_vec()),
            b"size" => pax.size = Some(decimal(value)?),
            b"uid" => pax.uid = Some(decimal(value)?),
            b"gid" => pax.gid = Some(decimal(value)?),
            b"mtime" => pax.mtime = decimal(value).ok(),
            k if k.starts_with(b"GNU.sparse.") => return Err("sparse files are not supported"),
            _ => {}
        }
    }
    Ok(())
}
