//! `/etc/ld.so.cache`, as glibc's `dl-cache.c` reads it (layouts from glibc's
//! `dl-cache.h`, flag values from `ldconfig.h`).
//!
//! Two layouts exist: the old `ld.so-1.7.0` one (12-byte entries, string offsets relative
//! to the end of the entry array), optionally followed by the new one, and the new
//! `glibc-ld.so.cache1.1` one (24-byte entries, string offsets relative to the start of
//! the new header), the only one glibc >= 2.32 writes. Every offset is bounds-checked:
//! a corrupt cache yields fewer entries, never a panic.

use std::path::PathBuf;

use crate::elf::Arch;

const OLD_MAGIC: &[u8] = b"ld.so-1.7.0";
const NEW_MAGIC: &[u8] = b"glibc-ld.so.cache1.1";
const OLD_HEADER: usize = 16; // magic[11], pad, nlibs: u32
const OLD_ENTRY: usize = 12; // flags: i32, key: u32, value: u32
const NEW_HEADER: usize = 48;
const NEW_ENTRY: usize = 24; // flags, key, value, osversion: u32, hwcap: u64

/// `FLAG_ELF`: an ELF library of unknown libc flavour.
pub const FLAG_ELF: u32 = 0x0001;
/// `FLAG_ELF_LIBC6`: an ELF glibc library, no ABI qualifier.
pub const FLAG_ELF_LIBC6: u32 = 0x0003;

/// One cache entry: a DT_NEEDED name, the flags ldconfig computed, and the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheEntry {
    /// The library name (its soname), as DT_NEEDED names it.
    pub name: String,
    /// The `FLAG_*` word (type in the low byte, ABI in the high byte).
    pub flags: u32,
    /// The hwcap word; non-zero for legacy hwcap and glibc-hwcaps subdirectory entries.
    pub hwcap: u64,
    /// The path ld.so opens.
    pub path: PathBuf,
}

/// A parsed ld.so.cache.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LdCache {
    entries: Vec<CacheEntry>,
}

impl LdCache {
    /// Parses either layout; `None` when the bytes are neither (ld.so then ignores the
    /// cache). Entries with out-of-bounds or non-UTF-8 strings are dropped.
    #[must_use]
    pub fn parse(bytes: &[u8]) -> Option<LdCache> {
        if bytes.starts_with(NEW_MAGIC) {
            return Some(parse_new(bytes));
        }
        if !bytes.starts_with(OLD_MAGIC) {
            return None;
        }
        let nlibs = read_u32(bytes, 12, true)? as usize;
        let entries_end = nlibs
            .checked_mul(OLD_ENTRY)
            .and_then(|n| n.checked_add(OLD_HEADER))?;
        if entries_end > bytes.len() {
            return None;
        }
        // A new-format cache may follow, 8-byte aligned; glibc prefers it.
        let new_start = entries_end.checked_add(7).map(|n| n & !7)?;
        if let Some(rest) = bytes.get(new_start..)
            && rest.starts_with(NEW_MAGIC)
        {
            return Some(parse_new(rest));
        }
        let strings = bytes.get(entries_end..).unwrap_or_default();
        let mut entries = Vec::new();
        for i in 0..nlibs {
            let at = OLD_HEADER + i * OLD_ENTRY;
            let (Some(flags), Some(key), Some(value)) = (
                read_u32(bytes, at, true),
                read_u32(bytes, at + 4, true),
                read_u32(bytes, at + 8, true),
            ) else {
                break;
            };
            if let Some(e) = entry(strings, flags, key, value, 0) {
                entries.push(e);
            }
        }
        Some(LdCache { entries })
    }

    /// All entries, in file order (ldconfig writes preferred entries first).
    #[must_use]
    pub fn entries(&self) -> &[CacheEntry] {
        &self.entries
    }

    /// The paths for `name` that a loader for `arch` would accept, best first.
    /// Entries for hwcap subdirectories are skipped: the image may run on another CPU.
    pub fn lookup<'a>(&'a self, name: &'a str, arch: Arch) -> impl Iterator<Item = &'a PathBuf> {
        self.entries
            .iter()
            .filter(move |e| e.name == name && e.hwcap == 0 && flags_match(e.flags, arch))
            .map(|e| &e.path)
    }
}

/// Whether a cache entry's flags suit `arch` (glibc's `_dl_cache_check_flags`).
#[must_use]
pub fn flags_match(flags: u32, arch: Arch) -> bool {
    let abi = |hi: u32| flags == (hi | FLAG_ELF_LIBC6);
    match arch {
        Arch::Amd64 => abi(0x0300),
        Arch::Arm64 => abi(0x0a00),
        Arch::I386 => flags == FLAG_ELF_LIBC6 || flags == FLAG_ELF,
        // hard-float, soft-float, or unqualified
        Arch::Arm => abi(0x0900) || abi(0x0b00) || flags == FLAG_ELF_LIBC6,
        Arch::Ppc64le => abi(0x0500),
        Arch::S390x => abi(0x0400),
        // double-float or soft-float
        Arch::Riscv64 => abi(0x1000) || abi(0x0f00),
        // x32
        Arch::Other(62) => abi(0x0800),
        // Unknown ABIs: let the ELF check of the candidate decide.
        Arch::Other(_) => true,
    }
}

fn parse_new(bytes: &[u8]) -> LdCache {
    // flags byte at 28: 2 = little endian, 3 = big endian, 0 = unset (assume little).
    let little = bytes.get(28).copied() != Some(3);
    let nlibs = read_u32(bytes, 20, little).unwrap_or(0) as usize;
    let mut entries = Vec::new();
    for i in 0..nlibs {
        let Some(at) = i
            .checked_mul(NEW_ENTRY)
            .and_then(|n| n.checked_add(NEW_HEADER))
        else {
            break;
        };
        let (Some(flags), Some(key), Some(value), Some(hwcap)) = (
            read_u32(bytes, at, little),
            read_u32(bytes, at + 4, little),
            read_u32(bytes, at + 8, little),
            read_u64(bytes, at + 16, little),
        ) else {
            break;
        };
        if let Some(e) = entry(bytes, flags, key, value, hwcap) {
            entries.push(e);
        }
    }
    LdCache { entries }
}

fn entry(strings: &[u8], flags: u32, key: u32, value: u32, hwcap: u64) -> Option<CacheEntry> {
    let name = cstr(strings, key)?;
    let path = cstr(strings, value)?;
    if name.is_empty() || !path.starts_with('/') {
        return None;
    }
    Some(CacheEntry {
        name,
        flags,
        hwcap,
        path: PathBuf::from(path),
    })
}

fn cstr(bytes: &[u8], offset: u32) -> Option<String> {
    let rest = bytes.get(usize::try_from(offset).ok()?..)?;
    let len = rest.iter().position(|&b| b == 0)?;
    String::from_utf8(rest.get(..len)?.to_vec()).ok()
}

fn read_u32(bytes: &[u8], at: usize, little: bool) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if little {
        u32::from_le_bytes(b)
    } else {
        u32::from_be_bytes(b)
    })
}

fn read_u64(bytes: &[u8], at: usize, little: bool) -> Option<u64> {
    let b: [u8; 8] = bytes.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(if little {
        u64::from_le_bytes(b)
    } else {
        u64::from_be_bytes(b)
    })
}

/// Builds cache bytes in the new layout; for tests here and in other crates.
#[must_use]
pub fn build_new_cache(entries: &[(&str, u32, &str)]) -> Vec<u8> {
    let mut strings: Vec<u8> = Vec::new();
    let strings_at = NEW_HEADER + entries.len() * NEW_ENTRY;
    let mut table = Vec::new();
    for (name, flags, path) in entries {
        let key = strings_at + strings.len();
        strings.extend_from_slice(name.as_bytes());
        strings.push(0);
        let value = strings_at + strings.len();
        strings.extend_from_slice(path.as_bytes());
        strings.push(0);
        table.extend_from_slice(&flags.to_le_bytes());
        table.extend_from_slice(&u32::try_from(key).unwrap_or(u32::MAX).to_le_bytes());
        table.extend_from_slice(&u32::try_from(value).unwrap_or(u32::MAX).to_le_bytes());
        table.extend_from_slice(&0u32.to_le_bytes());
        table.extend_from_slice(&0u64.to_le_bytes());
    }
    let mut out = Vec::new();
    out.extend_from_slice(NEW_MAGIC);
    out.extend_from_slice(
        &u32::try_from(entries.len())
            .unwrap_or(u32::MAX)
            .to_le_bytes(),
    );
    out.extend_from_slice(
        &u32::try_from(strings.len())
            .unwrap_or(u32::MAX)
            .to_le_bytes(),
    );
    out.push(2); // little endian
    out.extend_from_slice(&[0; 3]);
    out.extend_from_slice(&[0; 16]); // extension_offset, unused[3]
    out.extend_from_slice(&table);
    out.extend_from_slice(&strings);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn new_format_round_trip_and_arch_filter() {
        let bytes = build_new_cache(&[
            ("libc.so.6", 0x0303, "/lib/x86_64-linux-gnu/libc.so.6"),
            ("libc.so.6", 0x0003, "/lib/i386-linux-gnu/libc.so.6"),
            ("libc.so.6", 0x0a03, "/lib/aarch64-linux-gnu/libc.so.6"),
        ]);
        let cache = LdCache::parse(&bytes).unwrap();
        assert_eq!(cache.entries().len(), 3);
        let pick = |a| cache.lookup("libc.so.6", a).cloned().collect::<Vec<_>>();
        assert_eq!(
            pick(Arch::Amd64),
            vec![PathBuf::from("/lib/x86_64-linux-gnu/libc.so.6")]
        );
        assert_eq!(
            pick(Arch::I386),
            vec![PathBuf::from("/lib/i386-linux-gnu/libc.so.6")]
        );
        assert_eq!(
            pick(Arch::Arm64),
            vec![PathBuf::from("/lib/aarch64-linux-gnu/libc.so.6")]
        );
        assert!(pick(Arch::S390x).is_empty());
    }

    #[test]
    fn old_format_and_old_followed_by_new() {
        // old: one entry, strings after the table
        let mut old = Vec::new();
        old.extend_from_slice(OLD_MAGIC);
        old.push(0);
        old.extend_from_slice(&1u32.to_le_bytes());
        old.extend_from_slice(&0x0303u32.to_le_bytes());
        old.extend_from_slice(&0u32.to_le_bytes());
        old.extend_from_slice(&7u32.to_le_bytes());
        old.extend_from_slice(b"libz.1\0/lib/libz.1\0");
        let cache = LdCache::parse(&old).unwrap();
        assert_eq!(cache.entries()[0].path, PathBuf::from("/lib/libz.1"));

        let mut compat = old[..OLD_HEADER + OLD_ENTRY].to_vec();
        while compat.len() % 8 != 0 {
            compat.push(0);
        }
        compat.extend(build_new_cache(&[("libq.so", 0x0303, "/q/libq.so")]));
        let cache = LdCache::parse(&compat).unwrap();
        assert_eq!(cache.entries()[0].name, "libq.so");
    }

    #[test]
    fn garbage_is_not_a_cache() {
        assert!(LdCache::parse(b"").is_none());
        assert!(LdCache::parse(b"hello world, not a cache").is_none());
        // huge nlibs with a tiny file: no entries, no panic
        let mut b = NEW_MAGIC.to_vec();
        b.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(LdCache::parse(&b).unwrap().entries().is_empty());
        let mut b = OLD_MAGIC.to_vec();
        b.push(0);
        b.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(LdCache::parse(&b).is_none());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..512), which in 0u8..3) {
            let mut bytes = match which {
                0 => NEW_MAGIC.to_vec(),
                1 => OLD_MAGIC.to_vec(),
                _ => Vec::new(),
            };
            bytes.extend(tail);
            if let Some(c) = LdCache::parse(&bytes) {
                let _ = c.lookup("libc.so.6", Arch::Amd64).count();
            }
        }

        #[test]
        fn mutated_real_layout_never_panics(pos in 0usize..400, val in any::<u8>()) {
            let mut bytes = build_new_cache(&[
                ("libc.so.6", 0x0303, "/lib/x86_64-linux-gnu/libc.so.6"),
                ("libm.so.6", 0x0303, "/lib/x86_64-linux-gnu/libm.so.6"),
            ]);
            if let Some(b) = bytes.get_mut(pos) { *b = val; }
            let _ = LdCache::parse(&bytes);
        }
    }
}
