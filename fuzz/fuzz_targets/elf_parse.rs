//! husk-elf's loader view of one ELF file's bytes: never a panic, bounded work.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(info) = husk_elf::parse_elf(data, std::path::Path::new("/fuzz/input")) {
        let _ = info.is_dynamic();
        let _ = info.arch.to_string();
    }
});
