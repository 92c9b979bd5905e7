//! Reading one ELF file the way the dynamic loader does: from the program headers
//! (PT_INTERP, PT_DYNAMIC, PT_LOAD), never from section headers, which the loader ignores
//! and which stripped or packed files may not have.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use object::Endianness;
use object::elf;
use object::read::elf::{Dyn, FileHeader, ProgramHeader};

use crate::error::ElfError;

/// A CPU architecture, as the OCI image spec names it (from `e_machine` and the class).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Arch {
    /// x86-64 (64-bit `EM_X86_64`).
    Amd64,
    /// AArch64 (64-bit `EM_AARCH64`).
    Arm64,
    /// 32-bit x86 (`EM_386`).
    I386,
    /// 32-bit ARM (`EM_ARM`).
    Arm,
    /// 64-bit little-endian POWER (`EM_PPC64`).
    Ppc64le,
    /// 64-bit IBM Z (`EM_S390`).
    S390x,
    /// 64-bit RISC-V (`EM_RISCV`).
    Riscv64,
    /// Anything else, by `e_machine` (also x32, big-endian ppc64, 32-bit RISC-V...).
    Other(u16),
}

impl Arch {
    /// The architecture for an ELF `e_machine`, class and byte order.
    #[must_use]
    pub fn from_elf(machine: u16, class64: bool, little_endian: bool) -> Arch {
        match (machine, class64, little_endian) {
            (62, true, true) => Arch::Amd64,
            (183, true, true) => Arch::Arm64,
            (3, false, true) => Arch::I386,
            (40, false, true) => Arch::Arm,
            (21, true, true) => Arch::Ppc64le,
            (22, true, false) => Arch::S390x,
            (243, true, true) => Arch::Riscv64,
            (m, _, _) => Arch::Other(m),
        }
    }

    /// The OCI `architecture` value (GOARCH spelling); `"unknown"` for [`Arch::Other`].
    #[must_use]
    pub fn oci_architecture(&self) -> &str {
        match self {
            Arch::Amd64 => "amd64",
            Arch::Arm64 => "arm64",
            Arch::I386 => "386",
            Arch::Arm => "arm",
            Arch::Ppc64le => "ppc64le",
            Arch::S390x => "s390x",
            Arch::Riscv64 => "riscv64",
            Arch::Other(_) => "unknown",
        }
    }

    /// The OCI `variant` value: `v8` for arm64, `v7` for arm (the ELF header cannot tell
    /// v6 from v7; v7 is what Debian's armhf targets), none otherwise.
    #[must_use]
    pub fn oci_variant(&self) -> Option<&str> {
        match self {
            Arch::Arm64 => Some("v8"),
            Arch::Arm => Some("v7"),
            _ => None,
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arch::Other(m) => write!(f, "ELF machine {m}"),
            a => {
                f.write_str(a.oci_architecture())?;
                if let Some(v) = a.oci_variant() {
                    write!(f, "/{v}")?;
                }
                Ok(())
            }
        }
    }
}

/// The ELF `e_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectType {
    /// `ET_EXEC`: a position-dependent executable.
    Executable,
    /// `ET_DYN`: a shared library or a position-independent executable.
    SharedObject,
    /// `ET_REL`: an object file.
    Relocatable,
    /// `ET_CORE`: a core dump.
    Core,
    /// Anything else, by value.
    Other(u16),
}

/// What the dynamic loader needs to know about one ELF file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfInfo {
    /// The architecture.
    pub arch: Arch,
    /// `ELFCLASS64`.
    pub class64: bool,
    /// `ELFDATA2LSB`.
    pub little_endian: bool,
    /// The raw `e_machine`.
    pub machine: u16,
    /// The `e_type`.
    pub object_type: ObjectType,
    /// The PT_INTERP path.
    pub interpreter: Option<String>,
    /// DT_NEEDED entries, in order.
    pub needed: Vec<String>,
    /// DT_RUNPATH, split on `:` (empty elements dropped), DSTs unexpanded.
    pub runpath: Vec<String>,
    /// DT_RPATH, split on `:` (empty elements dropped), DSTs unexpanded.
    pub rpath: Vec<String>,
    /// DT_SONAME.
    pub soname: Option<String>,
    /// DT_FLAGS_1 has `DF_1_NODEFLIB`: the cache and default directories are not searched
    /// for this object's dependencies.
    pub nodeflib: bool,
}

impl ElfInfo {
    /// Whether the loader is involved: the file has an interpreter or DT_NEEDED entries.
    /// (A static-pie has PT_DYNAMIC but neither, and is not dynamic in this sense.)
    #[must_use]
    pub fn is_dynamic(&self) -> bool {
        self.interpreter.is_some() || !self.needed.is_empty()
    }

    /// Whether a loader for `self` would accept `other` (same class, byte order, machine).
    #[must_use]
    pub fn same_target(&self, other: &ElfInfo) -> bool {
        self.class64 == other.class64
            && self.little_endian == other.little_endian
            && self.machine == other.machine
    }
}

/// Whether `bytes` start with the ELF magic.
#[must_use]
pub fn is_elf(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x7fELF")
}

/// Parses the loader-relevant parts of an ELF file. `path` is used only in errors.
///
/// # Errors
/// [`ElfError::NotElf`] without the ELF magic; [`ElfError::Malformed`] when the header,
/// program headers, dynamic segment or dynamic string table are out of bounds or invalid.
pub fn parse_elf(bytes: &[u8], path: &Path) -> Result<ElfInfo, ElfError> {
    if !is_elf(bytes) {
        return Err(ElfError::NotElf {
            path: path.to_path_buf(),
        });
    }
    let data = aligned(bytes);
    let data = data.bytes();
    match data.get(4) {
        Some(2) => parse_as::<elf::FileHeader64<Endianness>>(data, path),
        Some(1) => parse_as::<elf::FileHeader32<Endianness>>(data, path),
        Some(c) => Err(ElfError::malformed(path, format!("unknown ELF class {c}"))),
        None => Err(ElfError::malformed(path, "truncated ELF header")),
    }
}

/// What the ELF file header alone says (machine, class, byte order, object type), from
/// the file's first bytes (64 are enough): for callers that need a program's platform
/// without reading the whole file. The dynamic fields are empty.
///
/// # Errors
/// [`ElfError::NotElf`] without the ELF magic; [`ElfError::Malformed`] when the header
/// is truncated or invalid.
pub fn parse_header(bytes: &[u8], path: &Path) -> Result<ElfInfo, ElfError> {
    if !is_elf(bytes) {
        return Err(ElfError::NotElf {
            path: path.to_path_buf(),
        });
    }
    let data = aligned(bytes);
    let data = data.bytes();
    let obj_err = |e: object::Error| ElfError::malformed(path, e.to_string());
    match data.get(4) {
        Some(2) => {
            let h = elf::FileHeader64::<Endianness>::parse(data).map_err(obj_err)?;
            Ok(header_info(h, h.endian().map_err(obj_err)?))
        }
        Some(1) => {
            let h = elf::FileHeader32::<Endianness>::parse(data).map_err(obj_err)?;
            Ok(header_info(h, h.endian().map_err(obj_err)?))
        }
        Some(c) => Err(ElfError::malformed(path, format!("unknown ELF class {c}"))),
        None => Err(ElfError::malformed(path, "truncated ELF header")),
    }
}

/// The input as the `object` crate's ELF structs need it, naturally aligned; the rare unaligned input is copied into a
/// buffer at an 8-byte-aligned offset.
enum Aligned<'a> {
    Borrowed(&'a [u8]),
    Owned { buf: Vec<u8>, off: usize },
}

impl Aligned<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Aligned::Borrowed(b) => b,
            Aligned::Owned { buf, off } => buf.get(*off..).unwrap_or_default(),
        }
    }
}

fn aligned(bytes: &[u8]) -> Aligned<'_> {
    if bytes.as_ptr().align_offset(8) == 0 {
        return Aligned::Borrowed(bytes);
    }
    let mut buf = vec![0u8; bytes.len().saturating_add(8)];
    let off = buf.as_ptr().align_offset(8).min(8);
    if let Some(dst) = buf.get_mut(off..off.saturating_add(bytes.len())) {
        dst.copy_from_slice(bytes);
    }
    buf.truncate(off.saturating_add(bytes.len()));
    Aligned::Owned { buf, off }
}

fn parse_as<E: FileHeader<Endian = Endianness>>(
    data: &[u8],
    path: &Path,
) -> Result<ElfInfo, ElfError> {
    let obj_err = |e: object::Error| ElfError::malformed(path, e.to_string());
    let header = E::parse(data).map_err(obj_err)?;
    let endian = header.endian().map_err(obj_err)?;
    let phdrs = header.program_headers(endian, data).map_err(obj_err)?;
    let mut info = header_info(header, endian);
    let mut dynamic: Option<&[E::Dyn]> = None;
    for ph in phdrs {
        if let Some(interp) = ph.interpreter(endian, data).map_err(obj_err)? {
            // The loader uses the first PT_INTERP (there is only ever one).
            if info.interpreter.is_none() {
                info.interpreter = Some(utf8(interp, "PT_INTERP", path)?);
            }
        }
        if let Some(d) = ph.dynamic(endian, data).map_err(obj_err)? {
            dynamic.get_or_insert(d);
        }
    }
    let Some(dynamic) = dynamic else {
        return Ok(info);
    };
    let dyns: Vec<&E::Dyn> = dynamic
        .iter()
        .take_while(|d| d.tag(endian) != elf::DT_NULL)
        .collect();
    let find = |tag: elf::DynamicTag| dynamic_value(dynamic, endian, tag);
    if let Some(flags) = find(elf::DT_FLAGS_1) {
        info.nodeflib = flags & elf::DF_1_NODEFLIB.0 != 0;
    }
    let has_strings = dyns.iter().any(|d| {
        let t = d.tag(endian);
        t == elf::DT_NEEDED || t == elf::DT_RUNPATH || t == elf::DT_RPATH || t == elf::DT_SONAME
    });
    if !has_strings {
        return Ok(info);
    }
    let strtab = find(elf::DT_STRTAB)
        .ok_or_else(|| ElfError::malformed(path, "DT_NEEDED without DT_STRTAB"))?;
    let table = string_table::<E>(phdrs, endian, data, strtab, find(elf::DT_STRSZ), path)?;
    read_dynamic_strings(&dyns, endian, table, &mut info, path)?;
    // The loader ignores DT_RPATH when DT_RUNPATH is present; keep both here as the file
    // says, the resolver applies the rule.
    Ok(info)
}

/// The value of the first `tag` entry of a dynamic section, before its DT_NULL.
pub(crate) fn dynamic_value<D: Dyn<Endian = Endianness>>(
    dynamic: &[D],
    endian: Endianness,
    tag: elf::DynamicTag,
) -> Option<u64> {
    dynamic
        .iter()
        .take_while(|d| d.tag(endian) != elf::DT_NULL)
        .find(|d| d.tag(endian) == tag)
        .map(|d| d.val(endian))
}

/// What the ELF header alone says: machine, class, byte order and object type; the
/// dynamic fields start empty.
fn header_info<E: FileHeader<Endian = Endianness>>(header: &E, endian: Endianness) -> ElfInfo {
    let machine = header.e_machine(endian).0;
    let class64 = header.is_class_64();
    let little_endian = header.is_little_endian();
    let object_type = match header.e_type(endian) {
        elf::ET_EXEC => ObjectType::Executable,
        elf::ET_DYN => ObjectType::SharedObject,
        elf::ET_REL => ObjectType::Relocatable,
        elf::ET_CORE => ObjectType::Core,
        other => ObjectType::Other(other.0),
    };
    ElfInfo {
        arch: Arch::from_elf(machine, class64, little_endian),
        class64,
        little_endian,
        machine,
        object_type,
        interpreter: None,
        needed: Vec::new(),
        runpath: Vec::new(),
        rpath: Vec::new(),
        soname: None,
        nodeflib: false,
    }
}

/// The dynamic string table's bytes: DT_STRTAB is a virtual address, mapped through the
/// PT_LOAD segment that contains it and cut at DT_STRSZ, the segment's end or the file's.
pub(crate) fn string_table<'d, E: FileHeader<Endian = Endianness>>(
    phdrs: &[E::ProgramHeader],
    endian: Endianness,
    data: &'d [u8],
    strtab: u64,
    strsz: Option<u64>,
    path: &Path,
) -> Result<&'d [u8], ElfError> {
    let (start, seg_end) = phdrs
        .iter()
        .filter(|p| p.p_type(endian) == elf::PT_LOAD)
        .find_map(|p| {
            let vaddr: u64 = p.p_vaddr(endian).into();
            let filesz: u64 = p.p_filesz(endian).into();
            let offset: u64 = p.p_offset(endian).into();
            let delta = strtab.checked_sub(vaddr)?;
            if delta >= filesz {
                return None;
            }
            Some((offset.checked_add(delta)?, offset.checked_add(filesz)?))
        })
        .ok_or_else(|| ElfError::malformed(path, "DT_STRTAB is outside every PT_LOAD segment"))?;
    let end = match strsz {
        Some(size) => start.saturating_add(size).min(seg_end),
        None => seg_end,
    };
    Ok(usize::try_from(start)
        .ok()
        .zip(usize::try_from(end.min(data.len() as u64)).ok())
        .and_then(|(s, e)| data.get(s..e))
        .unwrap_or_default())
}

/// The longest DT_NEEDED or DT_SONAME string: `PATH_MAX`, beyond which the loader's
/// `open` fails with `ENAMETOOLONG` anyway.
const MAX_NAME_BYTES: usize = 4096;

/// The most bytes of distinct dynamic strings read from one file: 16 MiB. Strings may
/// overlap in the table (linkers merge tails), so without a budget a few MiB of table
/// named by many entries at consecutive offsets would cost gigabytes.
pub(crate) const MAX_DYNAMIC_STRING_BYTES: usize = 16 << 20;

/// Reads DT_NEEDED, DT_SONAME, DT_RUNPATH and DT_RPATH from the dynamic string table, in
/// linear time and memory: each string offset is read once per tag, repeated names and
/// search-path entries are kept once (in first-seen order, which is what the loader's
/// search sees), and the distinct strings read stay within [`MAX_DYNAMIC_STRING_BYTES`].
fn read_dynamic_strings<D: Dyn<Endian = Endianness>>(
    dyns: &[&D],
    endian: Endianness,
    table: &[u8],
    info: &mut ElfInfo,
    path: &Path,
) -> Result<(), ElfError>
where
    D::Word: Into<u64>,
{
    let mut read_offsets: HashSet<(&str, u64)> = HashSet::new();
    let mut needed_seen: HashSet<String> = HashSet::new();
    let mut runpath_seen: HashSet<String> = HashSet::new();
    let mut rpath_seen: HashSet<String> = HashSet::new();
    let mut budget = MAX_DYNAMIC_STRING_BYTES;
    for d in dyns {
        let tag = d.tag(endian);
        let (what, max) = match tag {
            elf::DT_NEEDED => ("DT_NEEDED", MAX_NAME_BYTES),
            elf::DT_SONAME => ("DT_SONAME", MAX_NAME_BYTES),
            elf::DT_RUNPATH => ("DT_RUNPATH", budget),
            elf::DT_RPATH => ("DT_RPATH", budget),
            _ => continue,
        };
        let offset: u64 = d.d_val(endian).into();
        if !read_offsets.insert((what, offset)) {
            continue;
        }
        let raw = dyn_string(table, offset, max.min(budget)).map_err(|e| {
            let reason = match e {
                StrError::Outside => format!("{what} string is outside the dynamic string table"),
                StrError::TooLong if max <= budget => {
                    format!("{what} string is longer than {max} bytes")
                }
                StrError::TooLong => {
                    format!("its dynamic strings total more than {MAX_DYNAMIC_STRING_BYTES} bytes")
                }
            };
            ElfError::malformed(path, reason)
        })?;
        budget = budget.saturating_sub(raw.len().saturating_add(1));
        let s = utf8(raw, what, path)?;
        match tag {
            elf::DT_NEEDED => {
                if needed_seen.insert(s.clone()) {
                    info.needed.push(s);
                }
            }
            elf::DT_SONAME => {
                info.soname.get_or_insert(s);
            }
            _ => {
                let (list, seen) = if tag == elf::DT_RUNPATH {
                    (&mut info.runpath, &mut runpath_seen)
                } else {
                    (&mut info.rpath, &mut rpath_seen)
                };
                for p in s.split(':').filter(|p| !p.is_empty()) {
                    if seen.insert(p.to_owned()) {
                        list.push(p.to_owned());
                    }
                }
            }
        }
    }
    Ok(())
}

enum StrError {
    Outside,
    TooLong,
}

/// The NUL-terminated string at `offset` in `table`, scanning at most `max + 1` bytes.
fn dyn_string(table: &[u8], offset: u64, max: usize) -> Result<&[u8], StrError> {
    let rest = usize::try_from(offset)
        .ok()
        .and_then(|o| table.get(o..))
        .ok_or(StrError::Outside)?;
    let window = rest.get(..max.saturating_add(1)).unwrap_or(rest);
    match window.iter().position(|&b| b == 0) {
        Some(len) => Ok(window.get(..len).unwrap_or_default()),
        None if window.len() > max => Err(StrError::TooLong),
        None => Err(StrError::Outside),
    }
}

fn utf8(raw: &[u8], what: &str, path: &Path) -> Result<String, ElfError> {
    String::from_utf8(raw.to_vec())
        .map_err(|_| ElfError::malformed(path, format!("{what} is not valid UTF-8")))
}
