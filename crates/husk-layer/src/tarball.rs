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

use crate::ustar::{self, BLOCK, Block, Field};

const NAME_LEN: usize = ustar::NAME.len;
const MAX_OCTAL_7: u64 = ustar::max_octal(ustar::UID.len);
const MAX_OCTAL_11: u64 = ustar::max_octal(ustar::SIZE.len);
/// Name of every PAX extended header entry. Any fixed name keeps the output deterministic.
const PAX_NAME: &str = "././@PaxHeader";

/// Everything a header says about one entry.
pub(crate) struct HeaderSpec<'a> {
    /// The entry name as it goes into the archive (directories already end in `/`).
    pub name: &'a str,
    /// The header's type flag ([`EntryKind::typeflag`](crate::EntryKind::typeflag)).
    pub typeflag: u8,
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
            typeflag: ustar::typeflag::PAX,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: pax.len() as u64,
            mtime: spec.mtime.min(MAX_OCTAL_11),
            link: "",
        };
        out.extend_from_slice(&ustar_block(&pax_header));
        out.extend_from_slice(&pax);
        out.resize(out.len() + padding(pax.len() as u64), 0);
    }
    out.extend_from_slice(&ustar_block(spec));
    out
}

pub(crate) use ustar::padding;

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

fn ustar_block(spec: &HeaderSpec<'_>) -> Block {
    let mut h = [0u8; BLOCK];
    ustar::put_text(ustar::NAME.get_mut(&mut h), spec.name);
    octal_or_zero(ustar::MODE, &mut h, u64::from(spec.mode & 0o7777));
    octal_or_zero(ustar::UID, &mut h, u64::from(spec.uid));
    octal_or_zero(ustar::GID, &mut h, u64::from(spec.gid));
    octal_or_zero(ustar::SIZE, &mut h, spec.size);
    octal_or_zero(ustar::MTIME, &mut h, spec.mtime);
    h[ustar::TYPEFLAG.offset] = spec.typeflag;
    ustar::put_text(ustar::LINKNAME.get_mut(&mut h), spec.link);
    ustar::MAGIC
        .get_mut(&mut h)
        .copy_from_slice(ustar::USTAR_MAGIC);
    ustar::VERSION
        .get_mut(&mut h)
        .copy_from_slice(ustar::USTAR_VERSION);
    ustar::set_checksum(&mut h);
    h
}

/// A number in its octal field; a value that does not fit is written as 0 (the caller has
/// put it in a PAX record).
fn octal_or_zero(field: Field, h: &mut Block, value: u64) {
    let out = field.get_mut(h);
    if ustar::encode_octal(out, value).is_err() {
        out[..field.len - 1].fill(b'0');
        out[field.len - 1] = 0;
    }
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
            typeflag: ustar::typeflag::REGULAR,
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
        let h = ustar_block(&HeaderSpec {
            uid: 1000,
            gid: 2000,
            mode: 0o4755,
            size: 12345,
            mtime: 1_700_000_000,
            ..spec("usr/bin/tool")
        });
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
