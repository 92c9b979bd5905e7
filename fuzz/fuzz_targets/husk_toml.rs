//! husk.toml: build options from a string, merged over defaults. (`into_request` is left
//! out: it may read host files the options name, which fuzz input must not choose.)
#![no_main]

use husk_build::BuildOptions;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(opts) = BuildOptions::from_toml_str(text) {
        let _ = BuildOptions::default().merged(opts);
    }
});
