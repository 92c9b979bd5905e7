//! HUSK-I006: the entrypoint's program interpreter or a shared library it needs is missing.

use std::collections::{BTreeSet, VecDeque};

use super::{find_library, start_elf};
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
        if let Some(interp) = &elf.interpreter {
            let ok = image.is_file(interp);
            if !ok {
                out.path(
                    &path,
                    Some(e.layer),
                    format!(
                        "the program interpreter {interp} (PT_INTERP of {path}) is not in the image"
                    ),
                );
            }
        }
        // Breadth-first over the DT_NEEDED closure, reporting each missing name once.
        let mut queue = VecDeque::from([(path.to_string(), elf.clone())]);
        let mut seen = BTreeSet::new();
        let mut missing = BTreeSet::new();
        while let Some((obj, info)) = queue.pop_front() {
            for needed in &info.needed {
                if !seen.insert(needed.clone()) {
                    continue;
                }
                match find_library(image, needed, &obj, &info.rpath, &info.runpath) {
                    Some(lib) => {
                        if let Some(Ok(li)) = image.content(&lib).and_then(|c| c.elf.as_ref()) {
                            queue.push_back((lib, li.clone()));
                        }
                    }
                    None => {
                        if missing.insert(needed.clone()) {
                            let by = if obj == path.as_str() {
                                String::new()
                            } else {
                                format!(", needed by {obj}")
                            };
                            out.path(
                                &path,
                                Some(e.layer),
                                format!("shared library {needed} is not in the image{by}"),
                            );
                        }
                    }
                }
            }
        }
    }
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
