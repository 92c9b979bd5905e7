//! The ld.so.cache parser (both layouts) and its per-architecture lookup.
#![no_main]

use husk_elf::{Arch, LdCache};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(cache) = LdCache::parse(data) {
        for arch in [Arch::Amd64, Arch::Arm64, Arch::I386, Arch::Other(62)] {
            let _ = cache.lookup("libc.so.6", arch).count();
        }
    }
});
