//! HUSK-I006: the entrypoint's program interpreter or a shared library it needs is missing.

use std::collections::BTreeSet;

use super::{closure, start_elf};
use crate::facts::ImageFacts;
use crate::rule::{Emit, Rule, RuleInfo, Severity, Target};

pub struct MissingLibrary;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-I006",
    name: "missing-shared-library",
    target: Target::Image,
    severity: Severity::Critical,
    summary: "The entrypoint's dynamic loader or a shared library it needs is not in the image",
    explanation: "A dynamically linked program needs its PT_INTERP loader (e.g. /lib64/ld-linux-x86-64.so.2) and every DT_NEEDED library, searched the way the loader does (DT_RPATH/DT_RUNPATH with $ORIGIN, ld.so.conf, the default directories), recursively. In a FROM-scratch image none of these exist unless copied, and the container dies with a bare \"no such file or directory\" that names the program, not the missing file.",
    fix: "Let husk build copy the library closure (the default), build the program statically (e.g. `RUSTFLAGS=-Ctarget-feature=+crt-static`, `CGO_ENABLED=0`), or copy the named files.",
    references: &[],
};

impl Rule for MissingLibrary {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_image(&self, image: &ImageFacts, out: &mut Emit) {
        let Some((path, e, elf)) = start_elf(image) else {
            return;
        };
        if let Some(interp) = &elf.interpreter
            && !image.is_file(interp)
        {
            out.path(
                &path,
                Some(e.layer),
                format!(
                    "the program interpreter {interp} (PT_INTERP of {path}) is not in the image{}",
                    libc_mismatch(image, interp)
                ),
            );
        }
        let mut reported = BTreeSet::new();
        for edge in closure(image, path.as_str(), elf) {
            if edge.lookup.found.is_some() || !reported.insert(edge.needed.clone()) {
                continue;
            }
            let by = if edge.from == path.as_str() {
                String::new()
            } else {
                format!(", needed by {}", edge.from)
            };
            let wrong = if edge.lookup.wrong_arch.is_empty() {
                String::new()
            } else {
                format!(
                    " (the loader skips {}: built for another architecture than {})",
                    edge.lookup.wrong_arch.join(", "),
                    elf.arch
                )
            };
            out.path(
                &path,
                Some(e.layer),
                format!(
                    "shared library {} is not in the image{by}{wrong}",
                    edge.needed
                ),
            );
        }
    }
}

/// Known program interpreters of the two Linux C libraries.
const GLIBC_LOADERS: &[&str] = &[
    "/lib64/ld-linux-x86-64.so.2",
    "/lib/ld-linux-aarch64.so.1",
    "/lib/ld-linux-armhf.so.3",
    "/lib/ld-linux.so.2",
    "/lib64/ld64.so.2",
    "/lib/ld64.so.1",
    "/lib/ld-linux-riscv64-lp64d.so.1",
];

/// When a missing interpreter belongs to one C library and the image has the other's:
/// a musl program in a glibc image, or the reverse, as a clause to append.
pub(crate) fn libc_mismatch(image: &ImageFacts, interp: &str) -> String {
    let musl_loader = || {
        husk_layer::ImagePath::parse("/lib").ok().and_then(|lib| {
            image
                .files
                .children(&lib)
                .map(|(p, _)| p.to_string())
                .find(|p| p.contains("/ld-musl-"))
        })
    };
    if interp.contains("ld-musl-") {
        if let Some(g) = GLIBC_LOADERS.iter().find(|l| image.is_file(l)) {
            return format!(
                "; the program is linked against musl but the image has glibc's loader {g}: build it against glibc (or statically), or add musl"
            );
        }
    } else if GLIBC_LOADERS.contains(&interp)
        && let Some(m) = musl_loader()
    {
        return format!(
            "; the program is linked against glibc but the image has musl's loader {m}: build it against musl (or statically), or use a glibc base"
        );
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fake, elf, messages, run_image};

    const LD: &str = "/lib64/ld-linux-x86-64.so.2";

    #[test]
    fn fires_and_names_the_library() {
        let f = Fake::new()
            .exe(
                "/app",
                &elf(62, Some(LD), &["libc.so.6", "libssl.so.3"], b""),
            )
            .file("/lib/x86_64-linux-gnu/libc.so.6", &elf(62, None, &[], b""))
            .entrypoint(&["/app"])
            .facts();
        let m = messages(&run_image(&MissingLibrary, &f));
        assert_eq!(m.len(), 2, "{m:?}");
        assert!(m[0].contains(LD));
        assert!(m[1].contains("libssl.so.3"));
    }

    #[test]
    fn quiet_when_the_closure_is_there() {
        let f = Fake::new()
            .exe("/app", &elf(62, Some(LD), &["libc.so.6"], b""))
            .file(LD, &elf(62, None, &[], b""))
            .symlink("/lib64/libc.so.6", "/usr/lib/libc-2.36.so")
            .file("/usr/lib/libc-2.36.so", &elf(62, None, &[], b""))
            .entrypoint(&["/app"])
            .facts();
        assert!(run_image(&MissingLibrary, &f).is_empty());
    }
}
