//! The tar encoder: every header byte is decided here, from the plan and nothing else.
//!
//! Format: POSIX ustar headers (`ustar\0` `00`) with PAX extended headers (typeflag `x`,
//! POSIX.1-2001) for whatever does not fit a ustar field: names and link targets over 100
//! bytes (`path`, `linkpath`), sizes of 8 GiB and more, uid/gid over 0o7777777 and mtimes
//! past year 2514. The ustar `prefix` field is never used, so one rule decides every
//! name. uname/gname and device numbers are empty; the archive ends with two zero blocks
//! and is not padded to a 10 KiB record (OCI image-spec layer.md does not ask for it).
//! Directory names end in `/`. Readers: GNU tar, bsdtar, Go's archive/tar (containerd,
//! docker, podman) and the `tar` crate all honour these PAX records.

use std::io::{self, Write};

const BLOCK: usize = 512;
const NAME_LEN: usize = 100;
const MAX_OCTAL_7: u64 = 0o7777777;
const MAX_OCTAL_11: u64 = 0o77777777777;
/// Name of every PAX extended header entry. Any fixed name keeps the output deterministic.
const PAX_NAME: &str = "././@PaxHeader";

/// The kinds of tar entries husk writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TarKind {
    Regular,
    Dir,
    Symlink,
}

impl TarKind {
    fn typeflag(self) -> u8 {
        match self {
            TarKind::Regular => b'0',
            TarKind::Symlink => b'2',
            TarKind::Dir => b'5',
        }
    }
}

/// Everything a header says about one entry.
pub(crate) struct HeaderSpec<'a> {
    /// The entry name as it goes into the archive (directories already end in `/`).
    pub name: &'a str,
    pub kind: TarKind,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub mtime: u64,
    /// Symlink target; empty for other kinds.
    pub link: &'a str,
}

/// Encode the header block(s) of one entry: an optional PAX header with its data, then
/// the ustar header. The entry's data and padding follow separately.
pub(crate) fn encode_header(spec: &HeaderSpec<'_>) -> Vec<u8> {
    let mut pax = Vec::new();
    if spec.name.len() > NAME_LEN {
        pax_record(&mut pax, "path", spec.name);
    }
    if spec.link.len() > NAME_LEN {
        pax_record(&mut pax, "linkpath", spec.link);
    }
    if spec.size > MAX_OCTAL_11 {
        pax_record(&mut pax, "size", &spec.size.to_string());
    }
    if u64::from(spec.uid) > MAX_OCTAL_7 {
        pax_record(&mut pax, "uid", &spec.uid.to_string());
    }
    if u64::from(spec.gid) > MAX_OCTAL_7 {
        pax_record(&mut pax, "gid", &spec.gid.to_string());
    }
    if spec.mtime > MAX_OCTAL_11 {
        pax_record(&mut pax, "mtime", &spec.mtime.to_string());
    }
    let mut out = Vec::with_capacity(BLOCK * 2 + padded(pax.len() as u64) as usize);
    if !pax.is_empty() {
        let pax_header = HeaderSpec {
            name: PAX_NAME,
            kind: TarKind::Regular,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: pax.len() as u64,
            mtime: spec.mtime.min(MAX_OCTAL_11),
            link: "",
        };
        out.extend_from_slice(&ustar_block(&pax_header, b'x'));
        out.extend_from_slice(&pax);
        out.resize(out.len() + padding(pax.len() as u64), 0);
    }
    out.extend_from_slice(&ustar_block(spec, spec.kind.typeflag()));
    out
}

/// Bytes of zero padding after `len` bytes of entry data.
pub(crate) fn padding(len: u64) -> usize {
    ((BLOCK as u64 - len % BLOCK as u64) % BLOCK as u64) as usize
}

fn padded(len: u64) -> u64 {
    len + padding(len) as u64
}

/// The end-of-archive marker: two zero blocks.
pub(crate) const TRAILER: [u8; BLOCK * 2] = [0; BLOCK * 2];

/// One `"%d %s=%s\n"` record; the length counts the whole record including its own digits.
fn pax_record(out: &mut Vec<u8>, key: &str, value: &str) {
    let base = key.len() + value.len() + 3; // ' ', '=', '\n'
    let mut len = base + digits(base);
    if digits(len) != digits(base) {
        len = base + digits(len);
    }
    out.extend_from_slice(format!("{len} {key}={value}\n").as_bytes());
}

fn digits(n: usize) -> usize {
    n.to_string().len()
}

fn ustar_block(spec: &HeaderSpec<'_>, typeflag: u8) -> [u8; BLOCK] {
    let mut h = [0u8; BLOCK];
    put_str(&mut h[0..100], spec.name);
    put_octal(&mut h[100..108], u64::from(spec.mode & 0o7777));
    put_octal(&mut h[108..116], u64::from(spec.uid));
    put_octal(&mut h[116..124], u64::from(spec.gid));
    put_octal(&mut h[124..136], spec.size);
    put_octal(&mut h[136..148], spec.mtime);
    h[156] = typeflag;
    put_str(&mut h[157..257], spec.link);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    // Checksum: the sum of all bytes with the checksum field read as spaces.
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    put_octal(&mut h[148..155], u64::from(sum));
    h[155] = b' ';
    h
}

/// Copy `s` into a NUL-padded field; an overlong value is cut at a char boundary (the PAX
/// record then carries the full value).
fn put_str(field: &mut [u8], s: &str) {
    let mut end = s.len().min(field.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    field[..end].copy_from_slice(&s.as_bytes()[..end]);
}

/// Zero-padded octal digits filling all but the last byte, then NUL. A value that does not
/// fit is written as 0; its PAX record carries it.
fn put_octal(field: &mut [u8], value: u64) {
    let width = field.len() - 1;
    let text = format!("{value:0width$o}");
    if text.len() == width {
        field[..width].copy_from_slice(text.as_bytes());
    } else {
        field[..width].fill(b'0');
    }
    field[width] = 0;
}

/// Write a header plus in-memory data and padding.
pub(crate) fn write_small<W: Write>(
    w: &mut W,
    spec: &HeaderSpec<'_>,
    data: &[u8],
) -> io::Result<()> {
    w.write_all(&encode_header(spec))?;
    w.write_all(data)?;
    w.write_all(&[0u8; BLOCK][..padding(data.len() as u64)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str) -> HeaderSpec<'_> {
        HeaderSpec {
            name,
            kind: TarKind::Regular,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: 0,
            mtime: 0,
            link: "",
        }
    }

    #[test]
    fn pax_record_lengths_count_themselves() {
        for value_len in 0..2000 {
            let mut out = Vec::new();
            let value = "v".repeat(value_len);
            pax_record(&mut out, "path", &value);
            let text = String::from_utf8(out.clone()).unwrap();
            let (len, _) = text.split_once(' ').unwrap();
            assert_eq!(len.parse::<usize>().unwrap(), out.len(), "{value_len}");
        }
    }

    #[test]
    fn checksum_and_fields_read_back_with_the_tar_crate() {
        let h = ustar_block(
            &HeaderSpec {
                uid: 1000,
                gid: 2000,
                mode: 0o4755,
                size: 12345,
                mtime: 1_700_000_000,
                ..spec("usr/bin/tool")
            },
            b'0',
        );
        let parsed = tar::Header::from_byte_slice(&h);
        assert_eq!(parsed.cksum().unwrap(), {
            let mut copy = h;
            copy[148..156].fill(b' ');
            copy.iter().map(|&b| u32::from(b)).sum::<u32>()
        });
        assert_eq!(parsed.mode().unwrap(), 0o4755);
        assert_eq!(parsed.uid().unwrap(), 1000);
        assert_eq!(parsed.gid().unwrap(), 2000);
        assert_eq!(parsed.size().unwrap(), 12345);
        assert_eq!(parsed.mtime().unwrap(), 1_700_000_000);
        assert_eq!(parsed.path_bytes().as_ref(), b"usr/bin/tool");
        assert!(parsed.as_ustar().is_some());
        assert_eq!(parsed.username_bytes(), Some(&b""[..]));
    }

    #[test]
    fn oversized_values_go_to_pax() {
        let long = "d/".repeat(80);
        let out = encode_header(&HeaderSpec {
            uid: u32::MAX,
            size: 1 << 40,
            mtime: 1 << 40,
            ..spec(&long)
        });
        let text = String::from_utf8_lossy(&out);
        for key in [
            "path=",
            "uid=4294967295",
            "size=1099511627776",
            "mtime=1099511627776",
        ] {
            assert!(text.contains(key), "{key}");
        }
        assert_eq!(out.len() % BLOCK, 0);
        assert_eq!(encode_header(&spec("short")).len(), BLOCK);
    }
}
