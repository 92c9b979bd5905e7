//! The Dockerfile model: parse, then every stage's ancestry and a name lookup.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(df) = husk_dockerfile::parse(text) {
        for (i, st) in df.stages.iter().enumerate() {
            let _ = df.ancestry(i);
            if let Some(n) = &st.name {
                let _ = df.stage_named(n);
            }
        }
        if !df.stages.is_empty() {
            let _ = df.final_stage();
        }
    }
});
