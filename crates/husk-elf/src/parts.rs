//! Reading only the parts of an ELF file that [`parse_elf`](crate::parse_elf) looks at.
//!
//! The loader's view of a file is its file header, its program header table, PT_INTERP,
//! PT_DYNAMIC and the dynamic string table: a few KiB, wherever the file is 20 MB of code
//! and data. [`read_elf_parts`] returns a buffer of the file's length in which those
//! parts hold the file's bytes and everything else is zero. The buffer is allocated
//! zeroed, so the pages never written are never touched either (the allocator maps fresh
//! zero pages): reading a program costs its headers, not a copy of the whole file.
//! `parse_elf` of that buffer gives exactly what it gives for the whole file: every
//! offset and length check sees the real file length, and every byte it reads is read
//! (the equivalence is tested over the host's ELF files and fuzzed).
//!
//! Which parts a file has depends on bytes inside it (the program headers say where the
//! dynamic section is, the dynamic section where the string table is), so the parts are
//! found in rounds: each round reads what the bytes read so far point at, until a round
//! finds nothing new. Bytes are read at most once, so a hostile file whose headers name
//! the same region many times costs no more than reading it whole.

use std::io;
use std::ops::Range;

use object::Endianness;
use object::elf;
use object::read::elf::{FileHeader, ProgramHeader};

use crate::elf::string_table;

/// More rounds than any file needs (header, section 0, program headers, PT_DYNAMIC,
/// string table); a bound, not a tuning knob.
const MAX_ROUNDS: usize = 8;

/// A file of `len` bytes as [`parse_elf`](crate::parse_elf) needs it: the parts it looks
/// at read through `read_at(buf, offset)` (which fills `buf` exactly from `offset`), the
/// rest zero.
///
/// # Errors
/// An error of `read_at` (a file that shrank while being read fails it); `OutOfMemory`
/// when `len` does not fit in memory's address space.
pub fn read_elf_parts(
    len: u64,
    read_at: &mut dyn FnMut(&mut [u8], u64) -> io::Result<()>,
) -> io::Result<Vec<u8>> {
    let size = usize::try_from(len).map_err(|_| io::Error::from(io::ErrorKind::OutOfMemory))?;
    let mut buf = vec![0u8; size];
    let mut read: Vec<Range<u64>> = Vec::new();
    for _ in 0..MAX_ROUNDS {
        let wanted = coalesce(parts(&buf).into_iter().map(|r| r.start..r.end.min(len)));
        let new = missing(&wanted, &read);
        if new.is_empty() {
            break;
        }
        for r in &new {
            let (start, end) = (to_usize(r.start), to_usize(r.end));
            if let Some(dst) = buf.get_mut(start..end) {
                read_at(dst, r.start)?;
            }
        }
        read = coalesce(read.into_iter().chain(new));
    }
    Ok(buf)
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// The file ranges `parse_elf` reads, as far as `data` (the file with unread bytes zero)
/// tells.
fn parts(data: &[u8]) -> Vec<Range<u64>> {
    match data.get(4) {
        Some(2) => parts_as::<elf::FileHeader64<Endianness>>(data),
        Some(1) => parts_as::<elf::FileHeader32<Endianness>>(data),
        _ => vec![span(0, 64)],
    }
}

fn parts_as<E: FileHeader<Endian = Endianness>>(data: &[u8]) -> Vec<Range<u64>> {
    let mut out = vec![span(0, size_of::<E>() as u64)];
    let Ok(header) = E::parse(data) else {
        return out;
    };
    let Ok(endian) = header.endian() else {
        return out;
    };
    // Section header 0 holds the program header count when there are more than 0xfffe.
    let shoff: u64 = header.e_shoff(endian).into();
    if shoff != 0 {
        out.push(span(shoff, u64::from(header.e_shentsize(endian))));
    }
    let phoff: u64 = header.e_phoff(endian).into();
    let phnum = header.phnum(endian, data).unwrap_or(0) as u64;
    out.push(span(
        phoff,
        phnum.saturating_mul(size_of::<E::ProgramHeader>() as u64),
    ));
    let Ok(phdrs) = header.program_headers(endian, data) else {
        return out;
    };
    for ph in phdrs {
        let kind = ph.p_type(endian);
        if kind == elf::PT_INTERP || kind == elf::PT_DYNAMIC {
            out.push(span(ph.p_offset(endian).into(), ph.p_filesz(endian).into()));
        }
    }
    if let Some(table) = dynamic_strings::<E>(phdrs, endian, data) {
        let start = (table.as_ptr() as usize).saturating_sub(data.as_ptr() as usize) as u64;
        out.push(span(start, table.len() as u64));
    }
    out
}

/// The dynamic string table as `parse_elf` finds it (first PT_DYNAMIC, DT_STRTAB and
/// DT_STRSZ before DT_NULL), or `None` while the bytes that locate it are unread or bad.
fn dynamic_strings<'d, E: FileHeader<Endian = Endianness>>(
    phdrs: &[E::ProgramHeader],
    endian: Endianness,
    data: &'d [u8],
) -> Option<&'d [u8]> {
    let dynamic = phdrs
        .iter()
        .find_map(|ph| ph.dynamic(endian, data).ok().flatten())?;
    let find = |tag: elf::DynamicTag| crate::elf::dynamic_value(dynamic, endian, tag);
    let strtab = find(elf::DT_STRTAB)?;
    let path = std::path::Path::new("");
    string_table::<E>(phdrs, endian, data, strtab, find(elf::DT_STRSZ), path).ok()
}

fn span(start: u64, len: u64) -> Range<u64> {
    start..start.saturating_add(len)
}

/// `ranges` sorted, without empty ones, overlapping and touching ones merged.
fn coalesce(ranges: impl Iterator<Item = Range<u64>>) -> Vec<Range<u64>> {
    let mut v: Vec<Range<u64>> = ranges.filter(|r| r.start < r.end).collect();
    v.sort_by_key(|r| r.start);
    let mut out: Vec<Range<u64>> = Vec::with_capacity(v.len());
    for r in v {
        match out.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

/// The parts of `wanted` not in `have` (both sorted and disjoint, as [`coalesce`] makes
/// them).
fn missing(wanted: &[Range<u64>], have: &[Range<u64>]) -> Vec<Range<u64>> {
    let mut out = Vec::new();
    let mut h = have.iter().peekable();
    for w in wanted {
        let mut at = w.start;
        while at < w.end {
            while h.peek().is_some_and(|r| r.end <= at) {
                h.next();
            }
            match h.peek() {
                Some(r) if r.start <= at => at = r.end,
                Some(r) if r.start < w.end => {
                    out.push(at..r.start);
                    at = r.end;
                }
                _ => {
                    out.push(at..w.end);
                    at = w.end;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_bytes(bytes: &[u8]) -> (Vec<u8>, u64) {
        let mut read = 0u64;
        let buf = read_elf_parts(bytes.len() as u64, &mut |dst, off| {
            let start = usize::try_from(off).unwrap();
            dst.copy_from_slice(&bytes[start..start + dst.len()]);
            read += dst.len() as u64;
            Ok(())
        })
        .unwrap();
        (buf, read)
    }

    #[test]
    #[allow(clippy::single_range_in_vec_init)]
    fn ranges_merge_and_subtract() {
        assert_eq!(
            coalesce([5..9, 0..2, 1..3, 9..10, 4..4].into_iter()),
            [0..3, 5..10]
        );
        assert_eq!(missing(&[0..10], &[2..3, 5..7]), [0..2, 3..5, 7..10]);
        assert_eq!(missing(&[0..4, 6..8], &[0..10]), Vec::<Range<u64>>::new());
        assert_eq!(missing(&[3..6], &[0..4, 5..9]), [4..5]);
        assert_eq!(missing(&[0..2], &[]), [0..2]);
    }

    /// Every ELF file of the host's library and program directories parses the same from
    /// its parts as whole, and the parts of a large file are a small share of it.
    #[test]
    fn parts_parse_like_the_whole_file_on_host_files() {
        let mut files = 0;
        let (mut whole_bytes, mut part_bytes) = (0u64, 0u64);
        for dir in [
            "/usr/lib/x86_64-linux-gnu",
            "/usr/bin",
            "/usr/lib/aarch64-linux-gnu",
        ] {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            for e in entries.flatten() {
                let path = e.path();
                let Ok(bytes) = std::fs::read(&path) else {
                    continue;
                };
                if !crate::is_elf(&bytes) {
                    continue;
                }
                let (parts, read) = from_bytes(&bytes);
                let whole = crate::parse_elf(&bytes, &path).map_err(|e| e.to_string());
                let sparse = crate::parse_elf(&parts, &path).map_err(|e| e.to_string());
                assert_eq!(whole, sparse, "{}", path.display());
                files += 1;
                whole_bytes += bytes.len() as u64;
                part_bytes += read;
            }
        }
        eprintln!("{files} ELF files: parts {part_bytes} bytes of {whole_bytes}");
        assert!(files > 20, "too few ELF files on this host: {files}");
        assert!(
            part_bytes * 20 < whole_bytes,
            "{part_bytes} of {whole_bytes}"
        );
    }

    #[test]
    fn non_elf_and_truncated_files_read_their_first_bytes_only() {
        let text = b"/* GNU ld script */\nGROUP ( /lib/libc.so.6 )\n".repeat(100);
        let (buf, read) = from_bytes(&text);
        assert_eq!(buf.len(), text.len());
        assert_eq!(read, 64);
        assert!(crate::parse_elf(&buf, std::path::Path::new("x")).is_err());
        let (buf, read) = from_bytes(b"\x7fELF\x02");
        assert_eq!((buf.len(), read), (5, 5));
    }
}
