//! WWW-Authenticate header parsing (husk_registry::challenge).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(challenges) = husk_registry::challenge::parse(text) {
        for c in &challenges {
            let _ = c.param("realm");
            let _ = c.param("service");
        }
    }
});
