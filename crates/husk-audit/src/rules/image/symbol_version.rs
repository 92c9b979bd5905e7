//! HUSK-I022: the entrypoint (or a library it loads) needs a symbol version that the
//! image's copy of the library does not define: "version `GLIBC_2.38' not found".

use std::collections::BTreeMap;

use super::{closure, start_elf};
use crate::facts::ImageFacts;
use crate::rule::{Emit, Rule, RuleInfo, Severity, Target};

pub struct SymbolVersion;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-I022",
    name: "symbol-version-missing",
    target: Target::Image,
    severity: Severity::Critical,
    summary: "A program needs a symbol version that the image's library does not define",
    explanation: "Each ELF object lists, per library, the symbol versions it was linked against (DT_VERNEED: `GLIBC_2.34` from `libc.so.6`), and each library lists the versions it defines (DT_VERDEF). Before the program runs, the loader checks every non-weak needed version against the library it found and stops with \"version `GLIBC_2.38' not found (required by /app)\" when one is missing: the program was built against a newer library than the one in the image (typically built on a newer distribution than the base image, or a library copied from another system).",
    fix: "Copy the libraries from the system the program was built on (husk build copies the build host's closure), build on the image's distribution release (or older), or link statically.",
    references: &[],
};

impl Rule for SymbolVersion {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_image(&self, image: &ImageFacts, out: &mut Emit) {
        let Some((path, e, elf)) = start_elf(image) else {
            return;
        };
        let edges = closure(image, path.as_str(), elf);
        // Where each library name was found; the objects of the closure (the program too).
        let found: BTreeMap<&str, &str> = edges
            .iter()
            .filter_map(|x| Some((x.needed.as_str(), x.lookup.found.as_deref()?)))
            .collect();
        let objects = std::iter::once(path.as_str()).chain(found.values().copied());
        for obj in objects {
            let Some(needs) = image.content(obj).and_then(|c| c.versions.as_ref()) else {
                continue;
            };
            for need in &needs.needs {
                let Some(lib) = found.get(need.file.as_str()) else {
                    continue; // not found at all: HUSK-I006's finding
                };
                let defined = image
                    .content(lib)
                    .and_then(|c| c.versions.as_ref())
                    .map(|v| v.defines.as_slice())
                    .unwrap_or_default();
                for v in need.versions.iter().filter(|v| !defined.contains(v)) {
                    out.path(
                        obj,
                        Some(e.layer),
                        format!(
                            "version {v} of {} not found (required by {obj}): {lib} in the image {}",
                            need.file,
                            newest(defined, v)
                        ),
                    );
                }
            }
        }
    }
}

/// What the library offers instead: its newest version with the same prefix as `v`.
fn newest(defined: &[String], v: &str) -> String {
    let prefix = v.split('_').next().unwrap_or(v);
    let mut same: Vec<&String> = defined
        .iter()
        .filter(|d| d.split('_').next() == Some(prefix))
        .collect();
    same.sort_by_key(|d| version_key(d));
    match same.last() {
        Some(n) => format!("defines {prefix} versions only up to {n}"),
        None if defined.is_empty() => "defines no symbol versions".to_owned(),
        None => format!("defines no {prefix} version"),
    }
}

/// `GLIBC_2.38` -> [2, 38], so versions sort numerically.
fn version_key(v: &str) -> Vec<u64> {
    v.rsplit('_')
        .next()
        .unwrap_or_default()
        .split('.')
        .map(|n| n.parse().unwrap_or(0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fake, elf, messages, run_image};

    const LD: &str = "/lib64/ld-linux-x86-64.so.2";

    fn image(defined: &[&str]) -> ImageFacts {
        Fake::new()
            .exe("/app", &elf(62, Some(LD), &["libc.so.6"], b""))
            .needs("/app", "libc.so.6", &["GLIBC_2.2.5", "GLIBC_2.38"])
            .file(LD, &elf(62, None, &[], b""))
            .file("/lib/x86_64-linux-gnu/libc.so.6", &elf(62, None, &[], b""))
            .defines("/lib/x86_64-linux-gnu/libc.so.6", defined)
            .entrypoint(&["/app"])
            .facts()
    }

    #[test]
    fn fires_when_the_library_is_older() {
        let f = image(&["GLIBC_2.2.5", "GLIBC_2.9", "GLIBC_2.36"]);
        let m = messages(&run_image(&SymbolVersion, &f));
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].contains("GLIBC_2.38") && m[0].contains("up to GLIBC_2.36"),
            "{m:?}"
        );
        let m = messages(&run_image(&SymbolVersion, &image(&[])));
        assert_eq!(m.len(), 2, "{m:?}");
        assert!(m[0].contains("defines no symbol versions"));
    }

    #[test]
    fn quiet_when_every_version_is_defined() {
        let f = image(&["GLIBC_2.2.5", "GLIBC_2.38", "GLIBC_2.39"]);
        assert!(run_image(&SymbolVersion, &f).is_empty());
        // A missing library is HUSK-I006's finding, not this rule's.
        let f = Fake::new()
            .exe("/app", &elf(62, None, &["libc.so.6"], b""))
            .needs("/app", "libc.so.6", &["GLIBC_2.38"])
            .entrypoint(&["/app"])
            .facts();
        assert!(run_image(&SymbolVersion, &f).is_empty());
    }
}
