//! RUN scripts: any text parsed as a shell script in every dialect (bounded, never a
//! panic), and any Dockerfile's RUNs with their shells.
#![no_main]

use husk_dockerfile::shell::{Dialect, Script, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let script = Script::shell_form(text, 1, '\\');
    for d in [Dialect::Sh, Dialect::Bash] {
        let p = parse(&script, d);
        for c in &p.commands {
            let _ = c.program();
            let _ = script.line_at(c.offset);
        }
    }
    if let Ok(df) = husk_dockerfile::parse(text) {
        for i in 0..df.stages.len() {
            for run in df.runs(i) {
                let _ = run.parse();
            }
        }
    }
});
