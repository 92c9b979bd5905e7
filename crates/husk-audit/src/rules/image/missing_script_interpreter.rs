//! HUSK-I007: a script entrypoint whose chain of `#!` interpreters does not reach a
//! program the kernel runs (an interpreter missing or not executable at any level, a
//! loop, more levels than the kernel follows, a broken interpreter), or a shell-form
//! command in an image without /bin/sh.

use husk_elf::ExecProblem;

use super::{Break, Chain, Link, MAX_SHEBANG_DEPTH, start, start_chain};
use crate::facts::{Identity, ImageFacts};
use crate::rule::{Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct MissingScriptInterpreter;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-I007",
    name: "missing-script-interpreter",
    target: Target::Image,
    severity: Severity::Critical,
    summary: "The entrypoint needs a shell or interpreter the image does not have (at any level of its #! chain)",
    explanation: "A script runs through its `#!` interpreter, which may itself be a script, and so on (and `#!/usr/bin/env NAME` also needs NAME in PATH); a shell-form `ENTRYPOINT`/`CMD` becomes `/bin/sh -c \"...\"`. FROM-scratch images have neither, so the container fails with \"no such file or directory\". The kernel checks every level of the chain: each interpreter must exist (`ENOENT`), be a file the user may execute (`EACCES`) and be an ELF program or a script (`ENOEXEC`); it follows at most 5 scripts in a row and gives up with \"too many levels of symbolic links\" (`ELOOP`) beyond, which is also what a script that names itself (or a loop of scripts) ends in. The kernel splits a `#!` line once: the interpreter, then the rest as one argument, so `#!/usr/bin/env python3 -u` makes env look for a program named `python3 -u`, and a CRLF line ends in an interpreter named `/bin/sh\\r`.",
    fix: "Use the exec (JSON) form, `ENTRYPOINT [\"/app\"]`, and ship a compiled program, or add the interpreter to the image.",
    references: &[Reference::Hadolint("DL3025")],
};

impl Rule for MissingScriptInterpreter {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_image(&self, image: &ImageFacts, out: &mut Emit) {
        let Some(s) = start(image) else { return };
        if s.shell_form && s.found.is_none() {
            out.image(format!(
                "the command is in shell form ({:?}) but the image has no /bin/sh",
                s.argv.join(" ")
            ));
            return;
        }
        let Some(chain) = start_chain(image) else {
            return;
        };
        let (argv0, rest) = chain.links.split_first().expect("a chain has argv[0]");
        let describe = chain.describe();
        let problem = chain
            .broken
            .as_ref()
            .map(|b| break_message(b, &chain, &describe, rest.is_empty()))
            .or_else(|| {
                // The kernel opens each interpreter for execution: a regular file the
                // user may execute, in a format it runs.
                let id = image.identity();
                rest.iter()
                    .find_map(|link| link_problem(image, &id, link, &describe))
            });
        if let Some(msg) = problem {
            out.path(&argv0.path, Some(argv0.node.layer), msg);
        }
    }
}

/// Why the chain stops before a program, as the kernel says it.
fn break_message(broken: &Break, chain: &Chain<'_>, describe: &str, alone: bool) -> String {
    let last = chain.links.last().expect("a chain has argv[0]");
    match broken {
        Break::Missing(interp) if alone => format!(
            "the script's interpreter {} is not in the image ({describe}): the kernel fails with \"no such file or directory\"",
            interp.escape_debug()
        ),
        Break::Missing(interp) => format!(
            "{describe}: the interpreter {} named by {}'s #! line is not in the image: the kernel fails with \"no such file or directory\"",
            interp.escape_debug(),
            last.path
        ),
        Break::EnvMissing { prog, spaced } => {
            let env = &last.path;
            let hint = if *spaced {
                " (the kernel passes everything after the interpreter as one argument, so env looks for a program with that whole name: use `env -S`)"
            } else {
                ""
            };
            format!(
                "the script runs {prog:?} through {env}, and {prog} is not in the image's PATH ({describe}){hint}"
            )
        }
        Break::NoInterpreter => format!(
            "{describe}: the #! line of {} names no interpreter: the kernel refuses it with \"exec format error\"",
            last.path
        ),
        Break::TooDeep { looped: true } => format!(
            "{describe}: the #! interpreters loop back to {}, so no program is ever reached: the kernel gives up with \"too many levels of symbolic links\" (ELOOP)",
            last.path
        ),
        Break::TooDeep { looped: false } => format!(
            "{describe}: more than {MAX_SHEBANG_DEPTH} #! scripts in a row, more than the kernel follows: it gives up with \"too many levels of symbolic links\" (ELOOP)"
        ),
    }
}

/// What makes the kernel refuse one interpreter of the chain (or the program env runs).
fn link_problem(
    image: &ImageFacts,
    id: &Identity,
    link: &Link<'_>,
    describe: &str,
) -> Option<String> {
    let e = link.node;
    let what = if link.via_env {
        "the program"
    } else {
        "the interpreter"
    };
    if !e.is_file() {
        return Some(format!(
            "{describe}: {what} {} is a {}, not a file: the kernel refuses it with \"permission denied\"",
            link.path,
            e.kind.noun()
        ));
    }
    if e.mode & 0o111 == 0 || (id.uid.is_some() && !id.may(e, 1)) {
        return Some(format!(
            "{describe}: {what} {} is not executable by user {:?} (mode {:04o}, owner {}:{}): the kernel refuses it with \"permission denied\"",
            link.path,
            if id.raw.is_empty() {
                "0"
            } else {
                id.raw.as_str()
            },
            e.mode,
            e.uid,
            e.gid
        ));
    }
    if !link.loaded {
        return None;
    }
    let c = image.content_of(e)?;
    if let Some(ExecProblem::Refused { error, reason, .. }) = &c.exec {
        return Some(format!(
            "{describe}: {what} {} is a broken ELF file ({reason}): the kernel refuses it with \"{error}\"",
            link.path
        ));
    }
    // (A program env runs that is neither: execvp hands it to /bin/sh.)
    (c.elf.is_none() && c.shebang.is_none() && !link.via_env).then(|| {
        format!(
            "{describe}: {what} {} is neither an ELF program nor a #! script: the kernel refuses it with \"exec format error\"",
            link.path
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fake, elf, messages, run_image};

    #[test]
    fn fires_for_missing_interpreter_and_shell_form() {
        let f = Fake::new()
            .exe("/run.sh", b"#!/bin/bash\necho hi\n")
            .entrypoint(&["/run.sh"])
            .facts();
        assert_eq!(run_image(&MissingScriptInterpreter, &f).len(), 1);
        let f = Fake::new()
            .entrypoint(&["/bin/sh", "-c", "/app --serve"])
            .facts();
        assert_eq!(run_image(&MissingScriptInterpreter, &f).len(), 1);
    }

    #[test]
    fn quiet_when_the_interpreter_exists() {
        let f = Fake::new()
            .exe("/run.sh", b"#!/bin/sh\necho hi\n")
            .exe("/bin/sh", &elf(62, None, &[], b""))
            .entrypoint(&["/run.sh"])
            .facts();
        assert!(run_image(&MissingScriptInterpreter, &f).is_empty());
    }

    fn one(f: &crate::facts::ImageFacts) -> String {
        let m = messages(&run_image(&MissingScriptInterpreter, f));
        assert_eq!(m.len(), 1, "{m:?}");
        m[0].clone()
    }

    /// `/s0` -> `/s1` -> ... -> `/s{n-1}` -> `end`.
    fn chain(n: usize, end: &str) -> Fake {
        let mut f = Fake::new().entrypoint(&["/s0"]);
        for i in 0..n {
            let next = if i + 1 == n {
                end.to_owned()
            } else {
                format!("/s{}", i + 1)
            };
            f = f.exe(&format!("/s{i}"), format!("#!{next}\n").as_bytes());
        }
        f
    }

    #[test]
    fn fires_for_a_missing_interpreter_at_any_level() {
        let m = one(&chain(2, "/missing").facts());
        assert!(
            m.contains("/s0 -> /s1 -> /missing") && m.contains("no such file or directory"),
            "{m}"
        );
        let m = one(&chain(4, "/missing").facts());
        assert!(m.contains("/s3 -> /missing"), "{m}");
        // Through env: NAME missing from PATH one level down.
        let f = Fake::new()
            .exe("/app", b"#!/usr/bin/tool\n")
            .exe("/usr/bin/tool", b"#!/usr/bin/env python3\n")
            .exe("/usr/bin/env", &elf(62, None, &[], b""))
            .entrypoint(&["/app"])
            .facts();
        let m = one(&f);
        assert!(m.contains("python3") && m.contains("PATH"), "{m}");
    }

    #[test]
    fn fires_for_a_loop_and_for_too_many_levels() {
        let f = Fake::new()
            .exe("/app", b"#!/app\n")
            .entrypoint(&["/app"])
            .facts();
        let m = one(&f);
        assert!(
            m.contains("/app -> /app") && m.contains("too many levels of symbolic links"),
            "{m}"
        );
        let f = Fake::new()
            .exe("/a", b"#!/b\n")
            .exe("/b", b"#!/a\n")
            .entrypoint(&["/a"])
            .facts();
        assert!(one(&f).contains("/a -> /b -> /a"));
        // The kernel runs 5 scripts and the program they end in; a 6th script is ELOOP.
        let ok = chain(5, "/bin/prog").exe("/bin/prog", &elf(62, None, &[], b""));
        assert!(run_image(&MissingScriptInterpreter, &ok.facts()).is_empty());
        let deep = chain(6, "/bin/prog").exe("/bin/prog", &elf(62, None, &[], b""));
        let m = one(&deep.facts());
        assert!(m.contains("more than 5") && m.contains("ELOOP"), "{m}");
        // ... unless the 6th script's interpreter is missing: that is ENOENT first.
        assert!(one(&chain(6, "/missing").facts()).contains("no such file"));
        // env starts a new execve, and the count again.
        let f = chain(5, "/usr/bin/env next")
            .exe("/usr/bin/env", &elf(62, None, &[], b""))
            .exe("/bin/next", b"#!/bin/prog\n")
            .exe("/bin/prog", &elf(62, None, &[], b""));
        assert!(run_image(&MissingScriptInterpreter, &f.facts()).is_empty());
    }

    #[test]
    fn fires_for_an_interpreter_the_kernel_cannot_execute() {
        let m = one(&chain(2, "/bin/tool")
            .exe("/bin/tool", b"\x7fELF garbage")
            .facts());
        assert!(
            m.contains("/s0 -> /s1 -> /bin/tool")
                && m.contains("broken ELF")
                && m.contains("exec format error"),
            "{m}"
        );
        let m = one(&chain(1, "/bin/tool")
            .exe("/bin/tool", b"plain text")
            .facts());
        assert!(m.contains("neither an ELF program"), "{m}");
        let m = one(&chain(1, "/bin/tool")
            .file_mode("/bin/tool", &elf(62, None, &[], b""), 0o644)
            .facts());
        assert!(m.contains("permission denied"), "{m}");
        let m = one(&chain(1, "").facts());
        assert!(m.contains("names no interpreter"), "{m}");
    }

    #[test]
    fn follows_the_kernel_splitting_of_the_line() {
        // CRLF: the interpreter is "/bin/sh\r".
        let f = Fake::new()
            .exe("/run.sh", b"#!/bin/sh\r\necho hi\r\n")
            .exe("/bin/sh", &elf(62, None, &[], b""))
            .entrypoint(&["/run.sh"])
            .facts();
        assert!(one(&f).contains("/bin/sh\\r"), "{}", one(&f));
        // `env python3 -u` looks for "python3 -u"; `env -S python3 -u` splits.
        let py = |line: &[u8]| {
            Fake::new()
                .exe("/app", line)
                .exe("/usr/bin/env", &elf(62, None, &[], b""))
                .exe("/usr/bin/python3", &elf(62, None, &[], b""))
                .entrypoint(&["/app"])
                .facts()
        };
        assert!(one(&py(b"#!/usr/bin/env python3 -u\n")).contains("env -S"));
        assert!(
            run_image(
                &MissingScriptInterpreter,
                &py(b"#!/usr/bin/env -S python3 -u\n")
            )
            .is_empty()
        );
        assert!(
            run_image(
                &MissingScriptInterpreter,
                &py(b"#!/usr/bin/env  python3 \t\n")
            )
            .is_empty()
        );
        // Spaces and tabs before the interpreter.
        assert!(run_image(&MissingScriptInterpreter, &py(b"#! \t/usr/bin/python3\n")).is_empty());
    }

    #[test]
    fn quiet_for_chains_that_resolve() {
        // Two levels, the second through env, as python images have it.
        let f = Fake::new()
            .exe("/app", b"#!/opt/venv/bin/python\n")
            .exe("/opt/venv/bin/python", b"#!/usr/bin/env python3\n")
            .exe("/usr/bin/env", &elf(62, None, &[], b""))
            .exe(
                "/usr/bin/python3",
                &elf(62, Some("/lib64/ld-linux-x86-64.so.2"), &[], b""),
            )
            .entrypoint(&["/app"])
            .facts();
        assert!(run_image(&MissingScriptInterpreter, &f).is_empty());
        // Two scripts that both go through env (env met twice is no loop).
        let f = Fake::new()
            .exe("/app", b"#!/usr/bin/env tool\n")
            .exe("/usr/bin/tool", b"#!/usr/bin/env python3\n")
            .exe("/usr/bin/env", &elf(62, None, &[], b""))
            .exe("/usr/bin/python3", &elf(62, None, &[], b""))
            .entrypoint(&["/app"])
            .facts();
        assert!(run_image(&MissingScriptInterpreter, &f).is_empty());
        // An interpreter reached through a symlink, relative to the working directory.
        let f = Fake::new()
            .dir("/bin")
            .symlink("/bin/sh", "busybox")
            .exe("/bin/busybox", &elf(62, None, &[], b""))
            .exe("/srv/run", b"#!../bin/sh\n")
            .workdir("/srv")
            .entrypoint(&["/srv/run"])
            .facts();
        assert!(run_image(&MissingScriptInterpreter, &f).is_empty());
    }
}
