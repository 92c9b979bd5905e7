//! HUSK-I027: the program the container starts (argv[0], or the interpreter its `#!`
//! chain ends in) is an ELF file cut short: a loadable segment lies past its end. The
//! kernel gets past the point of no return of `execve` and then the program is killed.

use husk_elf::ExecProblem;

use super::start_chain;
use crate::facts::ImageFacts;
use crate::rule::{Emit, Rule, RuleInfo, Severity, Target};

pub struct EntrypointTruncated;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-I027",
    name: "entrypoint-truncated",
    target: Target::Image,
    severity: Severity::High,
    summary: "The program the container starts is an ELF file cut short",
    explanation: "The kernel reads an ELF program's header and program headers before it commits to `execve`; it maps the loadable segments after that point of no return. When the file ends before a segment does (an interrupted download or copy, a full disk while building), `execve` does not fail: the program starts and is killed, by SIGSEGV when the kernel zeroes the end of a data segment that is not in the file, or by SIGBUS as soon as it touches a missing page. In practice it dies at once, with no message but a signal exit (139 or 135). (A file cut inside its headers is refused outright: HUSK-I004, or HUSK-I007 for an interpreter.)",
    fix: "Copy the program into the image again, whole: compare its size and checksum with the original.",
    references: &[],
};

impl Rule for EntrypointTruncated {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_image(&self, image: &ImageFacts, out: &mut Emit) {
        let Some(chain) = start_chain(image) else {
            return;
        };
        let describe = chain.describe();
        let argv0 = &chain.links[0];
        for link in chain.links.iter().filter(|l| l.loaded) {
            let Some(ExecProblem::Truncated { needs, size }) =
                image.content_of(link.node).and_then(|c| c.exec.as_ref())
            else {
                continue;
            };
            let what = if link.path == argv0.path {
                "the entrypoint".to_owned()
            } else {
                format!("the interpreter {} ({describe})", link.path)
            };
            out.path(
                &link.path,
                Some(link.node.layer),
                format!(
                    "{what} is an ELF file cut short: a loadable segment ends at byte {needs} but {} has only {size} bytes; the kernel starts it and it is killed (SIGSEGV or SIGBUS) as soon as it touches the missing part, in practice at once",
                    link.path
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fake, elf, messages, run_image};

    const LD: &str = "/lib64/ld-linux-x86-64.so.2";

    #[test]
    fn fires_for_a_program_cut_in_a_segment() {
        let full = elf(62, Some(LD), &["libc.so.6"], b"");
        let f = Fake::new()
            .exe("/app", &full[..full.len() - 8])
            .entrypoint(&["/app"])
            .facts();
        let m = messages(&run_image(&EntrypointTruncated, &f));
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].contains("cut short") && m[0].contains("SIGSEGV"),
            "{m:?}"
        );
        // The interpreter a script runs through.
        let f = Fake::new()
            .exe("/run.sh", b"#!/usr/bin/tool\n")
            .exe("/usr/bin/tool", &full[..full.len() - 8])
            .entrypoint(&["/run.sh"])
            .facts();
        let m = messages(&run_image(&EntrypointTruncated, &f));
        assert!(m[0].contains("/run.sh -> /usr/bin/tool"), "{m:?}");
    }

    #[test]
    fn quiet_for_a_whole_program_and_for_bytes_after_the_segments() {
        let full = elf(62, Some(LD), &["libc.so.6"], b"");
        let f = Fake::new().exe("/app", &full).entrypoint(&["/app"]).facts();
        assert!(run_image(&EntrypointTruncated, &f).is_empty());
        // Section headers and debug info after the last segment may be cut or absent.
        let f = Fake::new()
            .exe("/app", &elf(62, Some(LD), &["libc.so.6"], &[0; 64]))
            .entrypoint(&["/app"])
            .facts();
        assert!(run_image(&EntrypointTruncated, &f).is_empty());
    }
}
