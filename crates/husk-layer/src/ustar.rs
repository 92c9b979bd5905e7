//! The ustar header layout, in one place for the writer and the reader.
//!
//! A tar header is one 512-byte block of fixed fields (POSIX.1-1988 ustar, kept by
//! POSIX.1-2001 pax). This module owns where each field is ([`Field`] constants), how
//! numbers are written in them (zero-padded octal text, or GNU base-256 when the top bit of
//! the first byte is set), the checksum, the magic and the type flags. husk-layer's tar
//! writer and husk-explore's streaming reader both go through it, so no offset or number
//! rule is written twice.
//!
//! Numbers never wrap: a value that does not fit its field is refused
//! ([`FieldOverflow`]) when encoding and reads as `None` when decoding (more digits than
//! a `u64` holds, a non-octal digit, or a negative base-256 value).

use std::ops::Range;

use crate::error::FieldOverflow;

/// Size of a tar block (header or data unit).
pub const BLOCK: usize = 512;

/// One header block.
pub type Block = [u8; BLOCK];

/// A field of the header: `len` bytes at `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub offset: usize,
    pub len: usize,
}

impl Field {
    /// The byte range of the field within a block.
    #[must_use]
    pub const fn range(self) -> Range<usize> {
        self.offset..self.offset + self.len
    }

    /// The field's bytes.
    #[must_use]
    pub fn get(self, block: &Block) -> &[u8] {
        &block[self.range()]
    }

    /// The field's bytes, to write.
    pub fn get_mut(self, block: &mut Block) -> &mut [u8] {
        &mut block[self.range()]
    }

    /// The field's text up to its first NUL (all of it when there is none).
    #[must_use]
    pub fn text(self, block: &Block) -> &[u8] {
        let b = self.get(block);
        b.iter().position(|&c| c == 0).map_or(b, |i| &b[..i])
    }

    /// The field as a number ([`decode_number`]).
    #[must_use]
    pub fn number(self, block: &Block) -> Option<u64> {
        decode_number(self.get(block))
    }
}

const fn field(offset: usize, len: usize) -> Field {
    Field { offset, len }
}

pub const NAME: Field = field(0, 100);
pub const MODE: Field = field(100, 8);
pub const UID: Field = field(108, 8);
pub const GID: Field = field(116, 8);
pub const SIZE: Field = field(124, 12);
pub const MTIME: Field = field(136, 12);
pub const CHECKSUM: Field = field(148, 8);
pub const TYPEFLAG: Field = field(156, 1);
pub const LINKNAME: Field = field(157, 100);
pub const MAGIC: Field = field(257, 6);
pub const VERSION: Field = field(263, 2);
pub const UNAME: Field = field(265, 32);
pub const GNAME: Field = field(297, 32);
pub const DEVMAJOR: Field = field(329, 8);
pub const DEVMINOR: Field = field(337, 8);
/// Directory part of a long name (ustar only; GNU's `"ustar  "` headers use it otherwise).
pub const PREFIX: Field = field(345, 155);

/// The ustar magic (`MAGIC` field); GNU tar writes `"ustar "` instead.
pub const USTAR_MAGIC: &[u8; 6] = b"ustar\0";
/// The ustar version (`VERSION` field) that goes with [`USTAR_MAGIC`].
pub const USTAR_VERSION: &[u8; 2] = b"00";

/// The `TYPEFLAG` byte of each entry kind and extension record.
pub mod typeflag {
    pub const REGULAR: u8 = b'0';
    /// Pre-POSIX regular file.
    pub const REGULAR_OLD: u8 = 0;
    pub const HARDLINK: u8 = b'1';
    pub const SYMLINK: u8 = b'2';
    pub const CHAR: u8 = b'3';
    pub const BLOCK: u8 = b'4';
    pub const DIR: u8 = b'5';
    pub const FIFO: u8 = b'6';
    /// Contiguous file: read as a regular file.
    pub const CONTIGUOUS: u8 = b'7';
    /// PAX extended header for the next entry.
    pub const PAX: u8 = b'x';
    /// PAX global header.
    pub const PAX_GLOBAL: u8 = b'g';
    /// GNU long name of the next entry.
    pub const GNU_LONG_NAME: u8 = b'L';
    /// GNU long link target of the next entry.
    pub const GNU_LONG_LINK: u8 = b'K';
}

/// Whether the header carries the POSIX ustar magic (and so a meaningful `PREFIX`).
#[must_use]
pub fn is_ustar(block: &Block) -> bool {
    MAGIC.get(block) == USTAR_MAGIC
}

/// The largest value `len - 1` octal digits hold (the last byte is a terminator).
#[must_use]
pub const fn max_octal(len: usize) -> u64 {
    let digits = len.saturating_sub(1);
    if digits * 3 >= 64 {
        u64::MAX
    } else {
        (1u64 << (digits * 3)) - 1
    }
}

/// Write `value` as zero-padded octal digits filling all but the last byte, then NUL.
///
/// # Errors
/// [`FieldOverflow`] when the value needs more digits; the field is left untouched.
pub fn encode_octal(out: &mut [u8], value: u64) -> Result<(), FieldOverflow> {
    if out.is_empty() || value > max_octal(out.len()) {
        return Err(FieldOverflow {
            value,
            len: out.len(),
        });
    }
    let width = out.len() - 1;
    let mut v = value;
    for b in out[..width].iter_mut().rev() {
        *b = b'0' + (v & 7) as u8;
        v >>= 3;
    }
    out[width] = 0;
    Ok(())
}

/// Write `value` in GNU base-256: the top bit of the first byte set, the next one (the
/// sign) clear, the value big-endian in the remaining `8 * len - 2` bits.
///
/// # Errors
/// [`FieldOverflow`] when the value needs more bits; the field is left untouched.
pub fn encode_base256(out: &mut [u8], value: u64) -> Result<(), FieldOverflow> {
    let bits = out.len() * 8;
    if bits < 8 || (bits - 2 < 64 && value >> (bits - 2) != 0) {
        return Err(FieldOverflow {
            value,
            len: out.len(),
        });
    }
    let mut v = value;
    for b in out.iter_mut().rev() {
        *b = (v & 0xff) as u8;
        v >>= 8;
    }
    out[0] |= 0x80;
    Ok(())
}

/// Read a numeric field: octal text (spaces and NULs around it), or GNU base-256 when the
/// top bit of the first byte is set. `None` for a non-octal digit, a value over `u64`, or
/// a negative base-256 value. An empty (all NUL or space) field reads as 0.
#[must_use]
pub fn decode_number(field: &[u8]) -> Option<u64> {
    if let Some(&first) = field.first()
        && first & 0x80 != 0
    {
        if first & 0x40 != 0 {
            return None; // negative (two's complement with the sign bit set)
        }
        let mut v = u64::from(first & 0x3f);
        for &c in &field[1..] {
            v = v.checked_mul(256)?.checked_add(u64::from(c))?;
        }
        return Some(v);
    }
    let digits = field
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

/// Copy `s` into a NUL-padded field; an overlong value is cut at a char boundary (the
/// writer then carries the full value in a PAX record).
pub fn put_text(out: &mut [u8], s: &str) {
    let mut end = s.len().min(out.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    out[..end].copy_from_slice(&s.as_bytes()[..end]);
}

/// The unsigned header sum with the checksum field read as spaces.
#[must_use]
pub fn checksum(block: &Block) -> u64 {
    sum_with_blank_checksum(block, u64::from)
}

/// Set the checksum field the way every tar writes it: six octal digits, NUL, space.
pub fn set_checksum(block: &mut Block) {
    CHECKSUM.get_mut(block).fill(b' ');
    let sum = checksum(block);
    let field = CHECKSUM.get_mut(block);
    // 512 bytes of 0xff sum to 0o377000, which six digits always hold.
    let _fits = encode_octal(&mut field[..7], sum);
    field[7] = b' ';
}

/// Whether the stored checksum matches the header, summed as unsigned bytes or, as some
/// old writers did, as signed ones.
#[must_use]
pub fn checksum_ok(block: &Block) -> bool {
    let Some(want) = CHECKSUM.number(block) else {
        return false;
    };
    let signed = sum_with_blank_checksum(block, |c| i64::from(c as i8));
    want == checksum(block) || i64::try_from(want).is_ok_and(|w| w == signed)
}

fn sum_with_blank_checksum<T: std::iter::Sum<T>>(block: &Block, f: impl Fn(u8) -> T) -> T {
    let blank = CHECKSUM.range();
    block
        .iter()
        .enumerate()
        .map(|(i, &c)| f(if blank.contains(&i) { b' ' } else { c }))
        .sum()
}

/// Bytes of zero padding after `len` bytes of entry data.
#[must_use]
pub fn padding(len: u64) -> usize {
    ((BLOCK as u64 - len % BLOCK as u64) % BLOCK as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_tile_the_header_in_order() {
        let fields = [
            NAME, MODE, UID, GID, SIZE, MTIME, CHECKSUM, TYPEFLAG, LINKNAME, MAGIC, VERSION, UNAME,
            GNAME, DEVMAJOR, DEVMINOR, PREFIX,
        ];
        for pair in fields.windows(2) {
            assert_eq!(pair[0].offset + pair[0].len, pair[1].offset, "{pair:?}");
        }
        assert_eq!(PREFIX.offset + PREFIX.len, 500);
    }

    #[test]
    fn octal_round_trips_up_to_the_field_limit() {
        for len in [8usize, 12] {
            let max = max_octal(len);
            for v in [0, 1, 0o777, max / 2, max - 1, max] {
                let mut f = vec![0xaa; len];
                encode_octal(&mut f, v).unwrap();
                assert_eq!(f[len - 1], 0);
                assert_eq!(decode_number(&f), Some(v), "{len} {v}");
            }
            let mut f = vec![0xaa; len];
            let err = encode_octal(&mut f, max + 1).unwrap_err();
            assert_eq!((err.value, err.len), (max + 1, len));
            assert!(
                f.iter().all(|&b| b == 0xaa),
                "refusal leaves the field as it was"
            );
        }
        assert_eq!(max_octal(8), 0o7777777);
        assert_eq!(max_octal(12), 0o77777777777);
    }

    #[test]
    fn base256_round_trips_and_refuses_what_does_not_fit() {
        for v in [0, 1, 0o7777777 + 1, 1 << 40, (1 << 62) - 1] {
            let mut f = [0u8; 8];
            encode_base256(&mut f, v).unwrap();
            assert_ne!(f[0] & 0x80, 0);
            assert_eq!(decode_number(&f), Some(v), "{v}");
        }
        let mut f = [7u8; 8];
        assert!(encode_base256(&mut f, 1 << 62).is_err());
        assert_eq!(f, [7; 8]);
        for v in [u64::MAX, 1 << 63, 1 << 40] {
            let mut f = [0u8; 12];
            encode_base256(&mut f, v).unwrap();
            assert_eq!(decode_number(&f), Some(v), "{v}");
        }
        assert!(encode_base256(&mut [], 0).is_err());
    }

    #[test]
    fn hostile_numbers_read_as_none_never_wrap() {
        // Negative base-256 (-1 as GNU writes it).
        assert_eq!(decode_number(&[0xff; 8]), None);
        // Positive base-256 wider than u64.
        let mut wide = [0xffu8; 12];
        wide[0] = 0x81;
        assert_eq!(decode_number(&wide), None);
        // Octal with more digits than u64 holds, and non-octal digits.
        assert_eq!(decode_number(b"7777777777777777777777777"), None);
        assert_eq!(decode_number(b"0000089\0"), None);
        assert_eq!(decode_number(b"12 34\0\0\0"), Some(0o12));
        assert_eq!(decode_number(b"  755 \0\0"), Some(0o755));
        assert_eq!(decode_number(&[0; 8]), Some(0));
    }

    #[test]
    fn checksum_set_and_checked() {
        let mut b = [0u8; BLOCK];
        put_text(NAME.get_mut(&mut b), "etc/passwd");
        encode_octal(MODE.get_mut(&mut b), 0o644).unwrap();
        MAGIC.get_mut(&mut b).copy_from_slice(USTAR_MAGIC);
        set_checksum(&mut b);
        assert!(checksum_ok(&b));
        assert_eq!(CHECKSUM.get(&b)[6..], [0, b' ']);
        assert!(is_ustar(&b));
        b[0] ^= 1;
        assert!(!checksum_ok(&b));
        // Bytes over 127 summed as signed, as old writers did, are accepted too.
        let mut s = [0u8; BLOCK];
        s[0] = 0xe9;
        let signed: i64 = 8 * 32 - 23;
        encode_octal(&mut CHECKSUM.get_mut(&mut s)[..7], signed as u64).unwrap();
        assert!(checksum_ok(&s));
    }

    #[test]
    fn text_fields_stop_at_nul_and_cut_at_char_boundaries() {
        let mut b = [0u8; BLOCK];
        put_text(NAME.get_mut(&mut b), &"é".repeat(60));
        assert_eq!(NAME.text(&b).len(), 100);
        assert!(std::str::from_utf8(NAME.text(&b)).is_ok());
        put_text(LINKNAME.get_mut(&mut b), "target");
        assert_eq!(LINKNAME.text(&b), b"target");
        assert_eq!(padding(0), 0);
        assert_eq!(padding(1), 511);
        assert_eq!(padding(512), 0);
    }
}
