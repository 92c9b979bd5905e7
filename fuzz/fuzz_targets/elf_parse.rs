//! husk-elf's loader view of one ELF file's bytes: never a panic, bounded work; and the
//! parts-only read (`read_elf_parts`, what the resolver reads from disk) parses exactly
//! like the whole file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::path::Path::new("/fuzz/input");
    let whole = husk_elf::parse_elf(data, path);
    if let Ok(info) = &whole {
        let _ = info.is_dynamic();
        let _ = info.arch.to_string();
    }
    let parts = husk_elf::read_elf_parts(data.len() as u64, &mut |buf, offset| {
        let start = usize::try_from(offset).expect("offset within the input");
        buf.copy_from_slice(&data[start..start + buf.len()]);
        Ok(())
    })
    .expect("reading from memory cannot fail");
    assert_eq!(
        whole.map_err(|e| e.to_string()),
        husk_elf::parse_elf(&parts, path).map_err(|e| e.to_string())
    );
});
