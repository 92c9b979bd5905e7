//! docs/rules is generated from the registry. This fails when a committed page differs
//! from what the rules say; `HUSK_UPDATE_DOCS=1 cargo test -p husk-audit --test docs`
//! rewrites the pages (and removes pages of rules that no longer exist).

use std::path::PathBuf;

#[test]
fn docs_rules_are_current() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules");
    let files = husk_audit::docs::files();
    if std::env::var_os("HUSK_UPDATE_DOCS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "md") {
                std::fs::remove_file(p).unwrap();
            }
        }
        for (name, text) in &files {
            std::fs::write(dir.join(name), text).unwrap();
        }
    }
    let mut stale = Vec::new();
    for (name, text) in &files {
        if std::fs::read_to_string(dir.join(name)).ok().as_deref() != Some(text.as_str()) {
            stale.push(name.clone());
        }
    }
    let expected: std::collections::BTreeSet<&str> =
        files.iter().map(|(n, _)| n.as_str()).collect();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".md") && !expected.contains(name.as_str()) {
            stale.push(format!("{name} (no such rule)"));
        }
    }
    assert!(
        stale.is_empty(),
        "docs/rules is stale: {stale:?}; run HUSK_UPDATE_DOCS=1 cargo test -p husk-audit --test docs"
    );
}
