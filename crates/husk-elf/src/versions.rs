//! Symbol versions as the dynamic loader checks them: what an object needs from each of
//! its libraries (DT_VERNEED, `GLIBC_2.34` from `libc.so.6`) and what a library defines
//! (DT_VERDEF). glibc refuses to start a program when a needed, non-weak version is not
//! defined by the library that satisfied the DT_NEEDED entry: "version `GLIBC_2.38' not
//! found (required by /app)".
//!
//! Like [`crate::parse_elf`] this reads program headers only: the version tables are
//! found through PT_DYNAMIC and mapped through PT_LOAD, so stripped files work. Every
//! offset is bounds-checked and every chain is bounded, so hostile input yields an error
//! or a partial answer, never a panic or an endless loop.

use std::path::Path;

use object::Endianness;
use object::elf;
use object::elf::{DT_VERDEF, DT_VERDEFNUM, DT_VERNEED, DT_VERNEEDNUM};
use object::read::elf::{FileHeader, ProgramHeader};

use crate::error::ElfError;

/// Most entries read from one version chain (real files have a few dozen).
const MAX_CHAIN: usize = 4096;

/// `vd_flags`: the definition of the file itself (its soname), not a version.
const VER_FLG_BASE: u16 = 1;
/// `vna_flags`: a weak reference; the loader does not fail when it is missing.
const VER_FLG_WEAK: u16 = 2;

/// The versions one library must define for an object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionNeed {
    /// The library, as DT_NEEDED names it (`libc.so.6`).
    pub file: String,
    /// Non-weak versions needed from it, in file order (`GLIBC_2.34`).
    pub versions: Vec<String>,
}

/// An ELF object's symbol-version tables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SymbolVersions {
    /// DT_VERNEED: per library, the versions this object needs.
    pub needs: Vec<VersionNeed>,
    /// DT_VERDEF: the versions this object defines (the base entry left out).
    pub defines: Vec<String>,
}

impl SymbolVersions {
    /// Whether the object has neither table.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.needs.is_empty() && self.defines.is_empty()
    }
}

/// Read the DT_VERNEED and DT_VERDEF tables of an ELF file. `path` is used only in errors.
///
/// # Errors
/// [`ElfError::NotElf`] without the ELF magic; [`ElfError::Malformed`] when the header,
/// program headers or the version tables are out of bounds.
pub fn symbol_versions(bytes: &[u8], path: &Path) -> Result<SymbolVersions, ElfError> {
    if !crate::is_elf(bytes) {
        return Err(ElfError::NotElf {
            path: path.to_path_buf(),
        });
    }
    // object's structs are naturally aligned: copy the rare unaligned input.
    let owned;
    let data = if bytes.as_ptr().align_offset(8) == 0 {
        bytes
    } else {
        owned = realign(bytes);
        owned.1.get(owned.0..).unwrap_or_default()
    };
    match data.get(4) {
        Some(2) => read_as::<elf::FileHeader64<Endianness>>(data, path),
        Some(1) => read_as::<elf::FileHeader32<Endianness>>(data, path),
        _ => Err(ElfError::malformed(path, "unknown or truncated ELF class")),
    }
}

fn realign(bytes: &[u8]) -> (usize, Vec<u8>) {
    let mut buf = vec![0u8; bytes.len() + 8];
    let off = buf.as_ptr().align_offset(8).min(8);
    if let Some(dst) = buf.get_mut(off..off + bytes.len()) {
        dst.copy_from_slice(bytes);
    }
    (off, buf)
}

/// The file's bytes with the endianness and the PT_LOAD map (vaddr, filesz, offset).
struct Mapped<'a> {
    data: &'a [u8],
    endian: Endianness,
    loads: Vec<(u64, u64, u64)>,
}

impl Mapped<'_> {
    /// The file offset of virtual address `addr`, when a PT_LOAD holds it.
    fn offset(&self, addr: u64) -> Option<usize> {
        self.loads.iter().find_map(|&(vaddr, filesz, offset)| {
            let delta = addr.checked_sub(vaddr)?;
            (delta < filesz)
                .then(|| offset.checked_add(delta))??
                .try_into()
                .ok()
        })
    }

    fn u16_at(&self, at: usize) -> Option<u16> {
        let b = self.data.get(at..at.checked_add(2)?)?;
        let b = [b[0], b[1]];
        Some(match self.endian {
            Endianness::Little => u16::from_le_bytes(b),
            Endianness::Big => u16::from_be_bytes(b),
        })
    }

    fn u32_at(&self, at: usize) -> Option<u32> {
        let b = self.data.get(at..at.checked_add(4)?)?;
        let b = [b[0], b[1], b[2], b[3]];
        Some(match self.endian {
            Endianness::Little => u32::from_le_bytes(b),
            Endianness::Big => u32::from_be_bytes(b),
        })
    }

    /// A NUL-terminated string at `strtab + off`, inside the file.
    fn string(&self, strtab: usize, off: u32) -> Option<String> {
        let start = strtab.checked_add(off as usize)?;
        let rest = self.data.get(start..)?;
        let end = rest.iter().position(|&b| b == 0)?;
        String::from_utf8(rest[..end].to_vec()).ok()
    }
}

fn read_as<E: FileHeader<Endian = Endianness>>(
    data: &[u8],
    path: &Path,
) -> Result<SymbolVersions, ElfError> {
    let obj_err = |e: object::Error| ElfError::malformed(path, e.to_string());
    let header = E::parse(data).map_err(obj_err)?;
    let endian = header.endian().map_err(obj_err)?;
    let phdrs = header.program_headers(endian, data).map_err(obj_err)?;
    let loads = phdrs
        .iter()
        .filter(|p| p.p_type(endian) == elf::PT_LOAD)
        .map(|p| {
            (
                p.p_vaddr(endian).into(),
                p.p_filesz(endian).into(),
                p.p_offset(endian).into(),
            )
        })
        .collect();
    let mut dynamic = None;
    for ph in phdrs {
        if let Some(d) = ph.dynamic(endian, data).map_err(obj_err)? {
            dynamic.get_or_insert(d);
        }
    }
    let Some(dynamic) = dynamic else {
        return Ok(SymbolVersions::default());
    };
    let find = |tag: elf::DynamicTag| crate::elf::dynamic_value(dynamic, endian, tag);
    let m = Mapped {
        data,
        endian,
        loads,
    };
    let bad = |what: &str| ElfError::malformed(path, format!("{what} is outside the file"));
    let (Some(strtab), verneed, verdef) = (find(elf::DT_STRTAB), find(DT_VERNEED), find(DT_VERDEF))
    else {
        return Ok(SymbolVersions::default());
    };
    let strtab = m.offset(strtab).ok_or_else(|| bad("DT_STRTAB"))?;
    let count = |tag| find(tag).map_or(MAX_CHAIN, |n| (n as usize).min(MAX_CHAIN));
    let mut out = SymbolVersions::default();
    if let Some(addr) = verneed {
        let at = m.offset(addr).ok_or_else(|| bad("DT_VERNEED"))?;
        out.needs =
            needs(&m, strtab, at, count(DT_VERNEEDNUM)).ok_or_else(|| bad("a DT_VERNEED entry"))?;
    }
    if let Some(addr) = verdef {
        let at = m.offset(addr).ok_or_else(|| bad("DT_VERDEF"))?;
        out.defines =
            defines(&m, strtab, at, count(DT_VERDEFNUM)).ok_or_else(|| bad("a DT_VERDEF entry"))?;
    }
    Ok(out)
}

/// Walk `Elf_Verneed` (16 bytes: version, cnt, file, aux, next) and its `Elf_Vernaux`
/// (16 bytes: hash, flags, other, name, next) chains.
fn needs(m: &Mapped<'_>, strtab: usize, mut at: usize, count: usize) -> Option<Vec<VersionNeed>> {
    let mut out = Vec::new();
    for _ in 0..count {
        let cnt = usize::from(m.u16_at(at + 2)?).min(MAX_CHAIN);
        let file = m.string(strtab, m.u32_at(at + 4)?)?;
        let mut aux = at.checked_add(m.u32_at(at + 8)? as usize)?;
        let mut versions = Vec::new();
        for _ in 0..cnt {
            let flags = m.u16_at(aux + 4)?;
            if flags & VER_FLG_WEAK == 0 {
                versions.push(m.string(strtab, m.u32_at(aux + 8)?)?);
            }
            let next = m.u32_at(aux + 12)? as usize;
            if next == 0 {
                break;
            }
            aux = aux.checked_add(next)?;
        }
        out.push(VersionNeed { file, versions });
        let next = m.u32_at(at + 12)? as usize;
        if next == 0 {
            break;
        }
        at = at.checked_add(next)?;
    }
    Some(out)
}

/// Walk `Elf_Verdef` (20 bytes: version, flags, ndx, cnt, hash, aux, next); the first
/// `Elf_Verdaux` (8 bytes: name, next) of each names the version.
fn defines(m: &Mapped<'_>, strtab: usize, mut at: usize, count: usize) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for _ in 0..count {
        let flags = m.u16_at(at + 2)?;
        let aux = at.checked_add(m.u32_at(at + 12)? as usize)?;
        if flags & VER_FLG_BASE == 0 {
            out.push(m.string(strtab, m.u32_at(aux)?)?);
        }
        let next = m.u32_at(at + 16)? as usize;
        if next == 0 {
            break;
        }
        at = at.checked_add(next)?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(path: &str) -> Option<Vec<u8>> {
        std::fs::read(path).ok()
    }

    #[test]
    fn reads_the_hosts_libc_and_a_program() {
        let Some(libc) = ["/lib/x86_64-linux-gnu/libc.so.6", "/lib64/libc.so.6"]
            .iter()
            .find_map(|p| host(p))
        else {
            return;
        };
        let v = symbol_versions(&libc, Path::new("libc.so.6")).unwrap();
        assert!(v.defines.iter().any(|d| d.starts_with("GLIBC_2.")), "{v:?}");
        assert!(
            !v.defines.iter().any(|d| d == "libc.so.6"),
            "the base entry is left out"
        );
        let Some(ls) = host("/bin/ls") else { return };
        let v = symbol_versions(&ls, Path::new("/bin/ls")).unwrap();
        let libc = v.needs.iter().find(|n| n.file == "libc.so.6").unwrap();
        assert!(libc.versions.iter().any(|v| v.starts_with("GLIBC_2.")));
    }

    #[test]
    fn no_tables_and_not_elf() {
        let plain = crate::testing::ElfBuilder::x86_64()
            .needed("libc.so.6")
            .build();
        assert!(symbol_versions(&plain, Path::new("x")).unwrap().is_empty());
        assert!(matches!(
            symbol_versions(b"#!/bin/sh\n", Path::new("x")),
            Err(ElfError::NotElf { .. })
        ));
    }

    #[test]
    fn hostile_bytes_never_panic() {
        let Some(ls) = host("/bin/ls") else { return };
        // Truncations and single-byte corruptions everywhere in the first 16 KiB.
        for len in (0..ls.len().min(16 << 10)).step_by(97) {
            let _ = symbol_versions(&ls[..len], Path::new("t"));
        }
        let mut v = ls.clone();
        for i in (0..v.len().min(1 << 16)).step_by(13) {
            let old = v[i];
            v[i] = old.wrapping_add(0x7f);
            let _ = symbol_versions(&v, Path::new("t"));
            v[i] = old;
        }
        // An unaligned copy reads the same.
        let mut shifted = vec![0u8];
        shifted.extend_from_slice(&ls);
        assert_eq!(
            symbol_versions(&shifted[1..], Path::new("t")).unwrap(),
            symbol_versions(&ls, Path::new("t")).unwrap()
        );
    }
}
