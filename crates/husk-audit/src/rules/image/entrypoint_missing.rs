//! HUSK-I004: the program the container starts is missing or not executable (no execute
//! permission, or a format the kernel refuses: neither ELF nor `#!`, or a broken ELF file).

use super::start;
use husk_elf::ExecProblem;
use husk_explore::EntryKind;

use crate::facts::ImageFacts;
use crate::rule::{Emit, Rule, RuleInfo, Severity, Target};

pub struct EntrypointMissing;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-I004",
    name: "entrypoint-missing",
    target: Target::Image,
    severity: Severity::Critical,
    summary: "The entrypoint does not exist or is not executable",
    explanation: "The runtime executes argv[0] of Entrypoint + Cmd inside the image (a bare name is searched in the image's PATH). When it is absent, a directory, or lacks the execute bit for the container's user, the container fails at once with \"exec: no such file or directory\" or \"permission denied\". A file that is neither an ELF program nor a `#!` script, or an ELF file the kernel cannot load (not an executable or shared object, program headers or the loader's path cut off or malformed), fails with \"exec format error\" (or \"input/output error\"). With neither Entrypoint nor Cmd there is nothing to run at all.",
    fix: "Copy the program, whole, into the image at the path the Entrypoint names, with mode 0555 (husk build does both), or correct the Entrypoint.",
    references: &[],
};

impl Rule for EntrypointMissing {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_image(&self, image: &ImageFacts, out: &mut Emit) {
        let Some(s) = start(image) else {
            out.image("neither Entrypoint nor Cmd is set: the container has nothing to run");
            return;
        };
        let argv0 = &s.argv[0];
        match s.found {
            // A shell-form command without /bin/sh is HUSK-I007's finding.
            None if s.shell_form => {}
            None if argv0.contains('/') => {
                out.path(
                    argv0,
                    None,
                    format!("the entrypoint {argv0:?} does not exist in the image"),
                );
            }
            None => out.image(format!(
                "the entrypoint {argv0:?} is not found in the image's PATH ({})",
                image.path_var()
            )),
            Some((path, e)) if !e.is_file() => {
                out.path(
                    &path,
                    Some(e.layer),
                    format!(
                        "the entrypoint {argv0:?} is a {}, not a file",
                        noun(&e.kind)
                    ),
                );
            }
            Some((path, e)) => {
                let id = image.identity();
                if e.mode & 0o111 == 0 || (id.uid.is_some() && !id.may(e, 1)) {
                    out.path(
                        &path,
                        Some(e.layer),
                        format!(
                            "the entrypoint {argv0:?} is not executable by user {:?} (mode {:04o}, owner {}:{})",
                            if id.raw.is_empty() { "0" } else { id.raw.as_str() },
                            e.mode,
                            e.uid,
                            e.gid
                        ),
                    );
                } else if let Some(ExecProblem::Refused { error, reason, .. }) =
                    image.content_of(e).and_then(|c| c.exec.as_ref())
                {
                    out.path(
                        &path,
                        Some(e.layer),
                        format!(
                            "the entrypoint {argv0:?} ({path}) is a broken ELF file ({reason}): the kernel refuses it with \"{error}\""
                        ),
                    );
                } else if image
                    .content_of(e)
                    .is_none_or(|c| c.elf.is_none() && c.shebang.is_none())
                {
                    out.path(
                        &path,
                        Some(e.layer),
                        format!(
                            "the entrypoint {argv0:?} ({path}) is neither an ELF program nor a #! script: the kernel refuses it with \"exec format error\""
                        ),
                    );
                }
            }
        }
    }
}

fn noun(k: &EntryKind) -> &'static str {
    match k {
        EntryKind::Char | EntryKind::Block => "device",
        k => k.noun(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fake, elf, messages, run_image};

    #[test]
    fn fires_when_missing_or_not_executable() {
        let f = run_image(
            &EntrypointMissing,
            &Fake::new().entrypoint(&["/app"]).facts(),
        );
        assert!(messages(&f)[0].contains("does not exist"));
        let f = run_image(
            &EntrypointMissing,
            &Fake::new()
                .file_mode("/app", b"x", 0o644)
                .entrypoint(&["/app"])
                .facts(),
        );
        assert!(messages(&f)[0].contains("not executable"));
        assert_eq!(run_image(&EntrypointMissing, &Fake::new().facts()).len(), 1);
    }

    #[test]
    fn fires_for_a_file_the_kernel_cannot_execute() {
        let f = Fake::new()
            .exe("/app", b"plain text, no shebang")
            .entrypoint(&["/app"])
            .facts();
        assert!(messages(&run_image(&EntrypointMissing, &f))[0].contains("exec format error"));
        let f = Fake::new()
            .exe("/app", b"\x7fELF garbage")
            .entrypoint(&["/app"])
            .facts();
        let m = messages(&run_image(&EntrypointMissing, &f));
        assert!(
            m[0].contains("broken ELF file") && m[0].contains("exec format error"),
            "{m:?}"
        );
        // Cut in its loader's path: a short read, "input/output error".
        let full = elf(62, Some("/lib64/ld-linux-x86-64.so.2"), &[], b"");
        let f = Fake::new()
            .exe("/app", &full[..64 + 3 * 56 + 4])
            .entrypoint(&["/app"])
            .facts();
        let m = messages(&run_image(&EntrypointMissing, &f));
        assert!(m[0].contains("input/output error"), "{m:?}");
        // Cut in a segment: it starts (HUSK-I027's finding, not this rule's).
        let f = Fake::new()
            .exe("/app", &full[..full.len() - 4])
            .entrypoint(&["/app"])
            .facts();
        assert!(run_image(&EntrypointMissing, &f).is_empty());
    }

    #[test]
    fn quiet_when_present() {
        let f = Fake::new()
            .exe("/usr/bin/app", &elf(62, None, &[], b""))
            .cmd(&["app"])
            .facts();
        assert!(run_image(&EntrypointMissing, &f).is_empty());
    }
}
