//! The shape of the code base, checked: no function outside tests is longer than 80 lines
//! (multi-phase functions are split into functions named by their phase), and the
//! repository's docs and code never point at files outside the repository.
//!
//! The function check reads rustfmt-formatted source: a function starts at a line
//! `INDENT[pub[(crate)] ][const ][async ][unsafe ]fn NAME` and ends at the first later line
//! that is exactly `INDENT}`. `mod tests { ... }` blocks and `tests/` directories are skipped.

use std::path::{Path, PathBuf};

const MAX_FN_LINES: usize = 80;

/// Known exceptions, each to be split (none today: keep it that way).
const KNOWN_LONG: &[&str] = &[];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/husk is two levels below the workspace root")
        .to_path_buf()
}

fn rust_sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if name != "tests" && name != "target" {
                rust_sources(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") && name != "tests.rs" {
            out.push(path);
        }
    }
}

/// The indentation and name of a line that starts a function definition.
fn fn_start(line: &str) -> Option<(&str, &str)> {
    let body = line.trim_start();
    let indent = &line[..line.len() - body.len()];
    let mut rest = body;
    for prefix in [
        "pub(crate) ",
        "pub(super) ",
        "pub ",
        "const ",
        "async ",
        "unsafe ",
    ] {
        rest = rest.strip_prefix(prefix).unwrap_or(rest);
    }
    let name = rest.strip_prefix("fn ")?;
    let end = name
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(name.len());
    (!line.trim_end().ends_with(';')).then_some((indent, &name[..end]))
}

/// Line ranges (start, end) of `mod tests { ... }` blocks.
fn test_modules(lines: &[&str]) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let body = line.trim_start();
        if body.starts_with("mod tests {") {
            let close = format!("{}}}", &line[..line.len() - body.len()]);
            if let Some(end) = lines[i + 1..].iter().position(|l| *l == close) {
                ranges.push((i, i + 1 + end));
            }
        }
    }
    ranges
}

fn long_functions(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("a readable source file");
    let lines: Vec<&str> = text.lines().collect();
    let tests = test_modules(&lines);
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if tests.iter().any(|(a, b)| (*a..=*b).contains(&i)) {
            continue;
        }
        let Some((indent, name)) = fn_start(line) else {
            continue;
        };
        let close = format!("{indent}}}");
        if let Some(len) = lines[i + 1..].iter().position(|l| *l == close) {
            let len = len + 2;
            if len > MAX_FN_LINES {
                found.push(format!(
                    "{}:{} fn {name}: {len} lines",
                    path.display(),
                    i + 1
                ));
            }
        }
    }
    found
}

#[test]
fn no_function_outside_tests_is_over_80_lines() {
    let root = workspace_root();
    let mut files = Vec::new();
    for dir in ["crates", "demo"] {
        rust_sources(&root.join(dir), &mut files);
    }
    assert!(files.len() > 50, "found only {} source files", files.len());
    let long: Vec<String> = files
        .iter()
        .flat_map(|f| long_functions(f))
        .filter(|l| !KNOWN_LONG.iter().any(|k| l.contains(k)))
        .collect();
    assert!(
        long.is_empty(),
        "functions over {MAX_FN_LINES} lines:\n{}",
        long.join("\n")
    );
}

#[test]
fn the_checker_finds_a_long_function() {
    let dir = tempfile::tempdir().unwrap();
    let body = "    let x = 1;\n".repeat(MAX_FN_LINES);
    let src = format!("pub fn long() {{\n{body}}}\n\nfn short() {{\n}}\n");
    let path = dir.path().join("x.rs");
    std::fs::write(&path, src).unwrap();
    let found = long_functions(&path);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("fn long"), "{found:?}");
}

#[test]
fn docs_stand_alone() {
    let root = workspace_root();
    let out = std::process::Command::new("git")
        .args([
            "grep",
            "-l",
            "-E",
            r"STACK\.md|STYLE\.md|\.\./shared",
            "--",
            ".",
        ])
        .current_dir(&root)
        .output()
        .expect("git runs");
    let hits = String::from_utf8_lossy(&out.stdout);
    let hits: Vec<&str> = hits.lines().filter(|l| !l.ends_with("shape.rs")).collect();
    assert!(
        hits.is_empty(),
        "files pointing outside the repository: {hits:?}"
    );
}

/// Every file under `dir` (no `target/`), with its size.
fn files_with_sizes(dir: &Path, out: &mut Vec<(PathBuf, u64)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() && entry.file_name() != "target" => files_with_sizes(&path, out),
            Ok(t) if t.is_file() => out.push((path, entry.metadata().map_or(0, |m| m.len()))),
            _ => {}
        }
    }
}

/// What `cargo package` would ship of each crate stays small: no file over 1 MiB (test
/// fixtures are made by the tests, not committed as blobs), and every crate has the
/// metadata a registry asks for.
#[test]
fn crates_could_be_published() {
    let root = workspace_root();
    let mut big = Vec::new();
    for dir in ["crates", "demo"] {
        let mut files = Vec::new();
        files_with_sizes(&root.join(dir), &mut files);
        big.extend(files.into_iter().filter(|(_, size)| *size > 1 << 20));
    }
    assert!(big.is_empty(), "files over 1 MiB in crates: {big:?}");
    for entry in std::fs::read_dir(root.join("crates")).unwrap().flatten() {
        let manifest = std::fs::read_to_string(entry.path().join("Cargo.toml")).unwrap();
        for key in [
            "description",
            "license",
            "repository",
            "keywords",
            "categories",
        ] {
            assert!(
                manifest.lines().any(|l| l.starts_with(key)),
                "{} has no {key}",
                entry.path().display()
            );
        }
    }
}
