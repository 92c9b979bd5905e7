//! `parse_elf` on the loader path: no section headers, DT_STRTAB through PT_LOAD.

use std::path::Path;

use proptest::prelude::*;

use crate::testing::ElfBuilder;
use crate::{Arch, ElfError, ObjectType, is_elf, parse_elf};

fn p() -> &'static Path {
    Path::new("/t")
}

#[test]
fn reads_loader_view_without_section_headers() {
    let bytes = ElfBuilder::x86_64()
        .e_type(2)
        .interp("/lib64/ld-linux-x86-64.so.2")
        .needed("libfoo.so.1")
        .needed("libc.so.6")
        .runpath("$ORIGIN/../lib:/opt/x::/y")
        .rpath("/old")
        .soname("libme.so")
        .flags_1(0x800)
        .build();
    let info = parse_elf(&bytes, p()).unwrap();
    assert_eq!(info.arch, Arch::Amd64);
    assert!(info.class64 && info.little_endian);
    assert_eq!(info.object_type, ObjectType::Executable);
    assert_eq!(
        info.interpreter.as_deref(),
        Some("/lib64/ld-linux-x86-64.so.2")
    );
    assert_eq!(info.needed, ["libfoo.so.1", "libc.so.6"]);
    assert_eq!(info.runpath, ["$ORIGIN/../lib", "/opt/x", "/y"]);
    assert_eq!(info.rpath, ["/old"]);
    assert_eq!(info.soname.as_deref(), Some("libme.so"));
    assert!(info.nodeflib);
    assert!(info.is_dynamic());
}

#[test]
fn elf32_and_big_endian() {
    let info = parse_elf(&ElfBuilder::i386().needed("libc.so.6").build(), p()).unwrap();
    assert_eq!((info.arch, info.class64), (Arch::I386, false));
    assert_eq!(info.needed, ["libc.so.6"]);
    let info = parse_elf(&ElfBuilder::s390x().needed("libc.so.6").build(), p()).unwrap();
    assert_eq!((info.arch, info.little_endian), (Arch::S390x, false));
    assert_eq!(info.needed, ["libc.so.6"]);
    assert_eq!(info.object_type, ObjectType::SharedObject);
}

#[test]
fn static_and_static_pie_are_not_dynamic() {
    let info = parse_elf(&ElfBuilder::x86_64().e_type(2).no_dynamic().build(), p()).unwrap();
    assert!(!info.is_dynamic());
    let info = parse_elf(&ElfBuilder::x86_64().build(), p()).unwrap();
    assert!(!info.is_dynamic());
}

#[test]
fn arch_names() {
    assert_eq!(Arch::Amd64.oci_architecture(), "amd64");
    assert_eq!(Arch::I386.oci_architecture(), "386");
    assert_eq!(Arch::Arm64.oci_variant(), Some("v8"));
    assert_eq!(Arch::Arm.oci_variant(), Some("v7"));
    assert_eq!(Arch::Amd64.oci_variant(), None);
    assert_eq!(Arch::from_elf(62, false, true), Arch::Other(62)); // x32
    assert_eq!(Arch::Arm.to_string(), "arm/v7");
}

#[test]
fn unaligned_input_is_parsed() {
    let bytes = ElfBuilder::x86_64().needed("liba.so").build();
    let mut shifted = vec![0u8];
    shifted.extend_from_slice(&bytes);
    let info = parse_elf(&shifted[1..], p()).unwrap();
    assert_eq!(info.needed, ["liba.so"]);
}

#[test]
fn not_elf_and_truncated() {
    assert!(!is_elf(b"#!/bin/sh\n"));
    assert!(matches!(
        parse_elf(b"#!/bin/sh\n", p()),
        Err(ElfError::NotElf { .. })
    ));
    assert!(matches!(parse_elf(b"", p()), Err(ElfError::NotElf { .. })));
    let bytes = ElfBuilder::x86_64().needed("liba.so").build();
    for len in 0..bytes.len() {
        // Never panics; short files are errors (or parse if the cut is past the needed bits).
        let _ = parse_elf(&bytes[..len], p());
    }
    assert!(matches!(
        parse_elf(&bytes[..20], p()),
        Err(ElfError::Malformed { .. })
    ));
    let mut bad_class = bytes.clone();
    bad_class[4] = 9;
    assert!(matches!(
        parse_elf(&bad_class, p()),
        Err(ElfError::Malformed { .. })
    ));
}

#[test]
fn repeated_needed_names_and_search_path_entries_are_kept_once() {
    let bytes = ElfBuilder::x86_64()
        .needed("liba.so")
        .needed("libb.so")
        .needed("liba.so")
        .runpath("/r:/s:/r::/s:/t")
        .build();
    let info = parse_elf(&bytes, p()).unwrap();
    assert_eq!(info.needed, ["liba.so", "libb.so"]);
    assert_eq!(info.runpath, ["/r", "/s", "/t"]);
}

#[test]
fn a_needed_name_longer_than_path_max_is_malformed() {
    let long = "x".repeat(5000);
    let bytes = ElfBuilder::x86_64().needed(&long).build();
    let err = parse_elf(&bytes, p()).unwrap_err();
    assert!(
        matches!(&err, ElfError::Malformed { reason, .. } if reason.contains("longer than 4096")),
        "{err}"
    );
    // a long RUNPATH is fine (many directories), up to the whole-file string budget
    let dirs: Vec<String> = (0..20_000).map(|i| format!("/d{i}")).collect();
    let bytes = ElfBuilder::x86_64().runpath(&dirs.join(":")).build();
    assert_eq!(parse_elf(&bytes, p()).unwrap().runpath.len(), 20_000);
}

#[test]
fn strtab_outside_load_is_malformed() {
    let bytes = ElfBuilder::x86_64()
        .needed("liba.so")
        .strtab_outside_load()
        .build();
    let err = parse_elf(&bytes, p()).unwrap_err();
    assert!(err.to_string().contains("DT_STRTAB"), "{err}");
}

#[test]
fn huge_offsets_are_malformed() {
    let bytes = ElfBuilder::x86_64().needed("liba.so").build();
    // e_phoff far away
    let mut b = bytes.clone();
    b[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(
        parse_elf(&b, p()),
        Err(ElfError::Malformed { .. })
    ));
    // e_phnum huge
    let mut b = bytes.clone();
    b[56..58].copy_from_slice(&0xfffeu16.to_le_bytes());
    assert!(matches!(
        parse_elf(&b, p()),
        Err(ElfError::Malformed { .. })
    ));
    // DT_STRSZ huge is clamped to the segment; DT_NEEDED offset huge is an error
    let needed_at = dyn_entry(&bytes, 1);
    let mut b = bytes.clone();
    b[needed_at + 8..needed_at + 16].copy_from_slice(&(u64::MAX - 3).to_le_bytes());
    assert!(matches!(
        parse_elf(&b, p()),
        Err(ElfError::Malformed { .. })
    ));
    let strsz_at = dyn_entry(&bytes, 10);
    let mut b = bytes;
    b[strsz_at + 8..strsz_at + 16].copy_from_slice(&u64::MAX.to_le_bytes());
    assert_eq!(parse_elf(&b, p()).unwrap().needed, ["liba.so"]);
}

/// Offset of the first dynamic entry with `tag` in a 64-bit little-endian file.
fn dyn_entry(bytes: &[u8], tag: u64) -> usize {
    let rd = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
    let phnum = usize::from(u16::from_le_bytes([bytes[56], bytes[57]]));
    let dyn_ph = (0..phnum)
        .map(|i| 64 + i * 56)
        .find(|&ph| u32::from_le_bytes(bytes[ph..ph + 4].try_into().unwrap()) == 2)
        .unwrap();
    let dyn_off = usize::try_from(rd(dyn_ph + 8)).unwrap();
    (dyn_off..bytes.len())
        .step_by(16)
        .find(|&at| rd(at) == tag)
        .unwrap()
}

proptest! {
    #[test]
    fn garbage_never_panics(tail in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut bytes = b"\x7fELF".to_vec();
        bytes.extend(tail);
        let _ = parse_elf(&bytes, Path::new("/g"));
    }

    #[test]
    fn mutated_elf_never_panics(
        edits in proptest::collection::vec((0usize..400, any::<u8>()), 1..8),
        c64 in any::<bool>(),
    ) {
        let b = if c64 { ElfBuilder::x86_64() } else { ElfBuilder::i386() };
        let mut bytes = b.interp("/lib/ld.so").needed("a.so").runpath("/r").soname("s").build();
        for (pos, val) in edits {
            let len = bytes.len();
            bytes[pos % len] = val;
        }
        let _ = parse_elf(&bytes, Path::new("/m"));
    }
}

#[test]
fn the_header_alone_gives_what_the_whole_file_gives_about_the_platform() {
    for b in [
        ElfBuilder::x86_64().e_type(2),
        ElfBuilder::aarch64().no_dynamic(),
        ElfBuilder::i386(),
        ElfBuilder::s390x(),
    ] {
        let bytes = b.build();
        let whole = parse_elf(&bytes, p()).unwrap();
        let head = crate::parse_header(&bytes[..64.min(bytes.len())], p()).unwrap();
        assert_eq!(
            (
                head.arch,
                head.class64,
                head.little_endian,
                head.object_type
            ),
            (
                whole.arch,
                whole.class64,
                whole.little_endian,
                whole.object_type
            )
        );
        assert!(head.needed.is_empty() && head.interpreter.is_none());
    }
    // Truncated, not ELF, unknown class: errors, no panic.
    let x86 = ElfBuilder::x86_64().build();
    assert!(matches!(
        crate::parse_header(&x86[..20], p()),
        Err(ElfError::Malformed { .. })
    ));
    assert!(matches!(
        crate::parse_header(b"#!/bin/sh\n", p()),
        Err(ElfError::NotElf { .. })
    ));
    let mut odd = x86[..64].to_vec();
    odd[4] = 9;
    assert!(matches!(
        crate::parse_header(&odd, p()),
        Err(ElfError::Malformed { .. })
    ));
}
