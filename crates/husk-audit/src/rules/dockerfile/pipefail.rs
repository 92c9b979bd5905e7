//! HUSK-D062: a pipeline in RUN whose failures the shell ignores (no pipefail).

use husk_dockerfile::shell::SimpleCommand;

use super::shell::parsed_runs;
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct Pipefail;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D062",
    name: "pipe-without-pipefail",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "RUN pipes commands without set -o pipefail",
    explanation: "A pipeline's status is its last command's: in `curl URL | tar x` a failed download still passes the step when tar accepts its input, and the build goes on with a broken image. `set -o pipefail` (bash, ksh, zsh, busybox ash, dash 0.5.12+) makes any failing command fail the pipeline. A nested shell (`sh -c '...'`, `bash -c \"...\"`, a heredoc fed to `bash`) is judged on its own: it starts with the options of its command line (`bash -o pipefail -c`) and its own `set -o pipefail`, never the outer shell's, which it does not inherit; a subshell or `$(...)` does inherit them. A pipeline whose upstream commands are only `echo`/`printf` (their status is 0 whatever happens) or `yes` (which pipefail breaks: it dies of SIGPIPE) is not reported. Not reported under a SHELL that is no POSIX-family shell (PowerShell, cmd). hadolint 2.15.1's DL4006 differs on purpose: it looks at SHELL only (a RUN that starts with `set -o pipefail` is still reported there), does not look into `sh -c` strings, and reports `echo ... | sha256sum -c`.",
    fix: "`SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]` before the RUN, or start the script with `set -o pipefail &&`.",
    references: &[Reference::Hadolint("DL4006")],
};

impl Rule for Pipefail {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        for r in parsed_runs(file) {
            if r.run.shell.dialect.is_none() {
                continue;
            }
            let cmds = &r.parsed.commands;
            let first = cmds.iter().enumerate().find(|&(i, c)| {
                c.pipe_len > 1
                    && c.pipe_index == 0
                    && !upstream_cannot_fail(cmds, c)
                    && !r.parsed.pipefail_at(i, r.run.shell.pipefail)
            });
            if let Some((i, c)) = first {
                let shell = r.run.shell.argv.first().map_or("sh", String::as_str);
                let what = if !r.parsed.in_nested_shell(i) {
                    format!("a pipeline runs under {shell} without pipefail")
                } else {
                    "a pipeline in a nested shell (sh -c, a heredoc fed to a shell) runs without pipefail: it does not inherit the outer shell's options".to_owned()
                };
                out.at(r.span(c), what);
            }
        }
    }
}

/// Programs whose failure pipefail would not report (`echo`, `printf`: their status is
/// 0 whatever their arguments expand to), or which pipefail breaks: `yes` ends by
/// SIGPIPE once the reader exits, so `yes | apt-get ...` fails under pipefail.
const UPSTREAM_HARMLESS: &[&str] = &["echo", "printf", "yes", "true"];

/// Whether every command before the last of `head`'s pipeline is one of
/// [`UPSTREAM_HARMLESS`] (a compound element such as `{ ..; } | x` is not a simple
/// command of the pipeline, so it never counts as harmless).
fn upstream_cannot_fail(cmds: &[SimpleCommand], head: &SimpleCommand) -> bool {
    let upstream: Vec<&SimpleCommand> = cmds
        .iter()
        .filter(|c| c.pipeline == head.pipeline && c.pipe_index + 1 < c.pipe_len)
        .collect();
    upstream.len() + 1 == head.pipe_len
        && upstream
            .iter()
            .all(|c| c.name().is_some_and(|n| UPSTREAM_HARMLESS.contains(&n)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{dockerfile_lines, run_dockerfile};

    /// The lines D062 reports in `FROM debian:12` followed by `body`.
    fn lines(body: &str) -> Vec<u32> {
        let t = format!("FROM debian:12\n{body}");
        dockerfile_lines(&Pipefail, &t)
    }

    #[test]
    fn fires_for_pipes_without_pipefail() {
        let t = "FROM debian:12\nRUN curl -fsSL https://x/a.tgz | tar xz\nRUN set -e; wget -qO- x | sh\n";
        assert_eq!(run_dockerfile(&Pipefail, t).len(), 2);
    }

    #[test]
    fn quiet_with_pipefail_or_no_pipe() {
        let t = "FROM debian:12\nRUN set -euxo pipefail; curl -f x | tar x\nRUN echo 'a | b' || true\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN a | b\n";
        assert!(run_dockerfile(&Pipefail, t).is_empty());
        let pwsh = "FROM mcr.microsoft.com/powershell\nSHELL [\"pwsh\", \"-Command\"]\nRUN Get-ChildItem | Remove-Item\n";
        assert!(run_dockerfile(&Pipefail, pwsh).is_empty());
    }

    #[test]
    fn every_way_to_turn_pipefail_on_is_seen() {
        for body in [
            "RUN bash -c 'set -o pipefail; curl -f x | tar x'\n",
            "RUN sh -c \"set -eo pipefail && curl -f x | tar x\"\n",
            "RUN set -euxo pipefail; a | b\n",
            "RUN set -Eeuo pipefail; a | b\n",
            "RUN set -o errexit -o pipefail; a | b\n",
            "RUN set -o pipefail -e; a | b\n",
            "RUN set -e -u -o \"pipefail\"; a | b\n",
            "RUN set -e; set -o pipefail; a | b\n",
            "RUN (set -o pipefail; a | b)\n",
            "RUN { set -o pipefail; a | b; }\n",
            "RUN set -o pipefail; (a | b) && x=$(c | d)\n",
            "RUN shopt -so pipefail; a | b\n",
            "RUN shopt -s -o pipefail; a | b\n",
            "RUN bash -o pipefail -c 'a | b'\n",
            "RUN bash -eo pipefail -c 'a | b'\n",
            "RUN bash -euxo pipefail -c 'a | b'\n",
            "RUN set -o pipefail; sh -c 'set -o pipefail; a | b'\n",
            "RUN [\"bash\", \"-o\", \"pipefail\", \"-c\", \"a | b\"]\n",
            "RUN <<EOF bash -o pipefail\na | b\nEOF\n",
            "RUN <<EOF\n#!/usr/bin/env -S bash -eo pipefail\na | b\nEOF\n",
            "SHELL [\"/bin/bash\", \"-eo\", \"pipefail\", \"-c\"]\nRUN a | b\n",
            "SHELL [\"/bin/bash\", \"-euxo\", \"pipefail\", \"-c\"]\nRUN a | b\n",
            "SHELL [\"/bin/bash\", \"-o\", \"errexit\", \"-o\", \"pipefail\", \"-c\"]\nRUN a | b\n",
            "SHELL [\"/usr/bin/env\", \"bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN a | b\n",
        ] {
            assert_eq!(lines(body), Vec::<u32>::new(), "{body}");
        }
    }

    #[test]
    fn harmless_upstream_commands_are_not_reported() {
        for body in [
            "RUN echo \"$SHA  go.tgz\" | sha256sum -c -\n",
            "RUN printf '%s\\n' a b | xargs -n1 echo\n",
            "RUN yes | apt-get install foo\n",
            "RUN echo a | printf b | sh\n",
        ] {
            assert_eq!(lines(body), Vec::<u32>::new(), "{body}");
        }
        // Any other upstream command, or a compound one, still counts.
        assert_eq!(lines("RUN echo a | cat | sh\n"), [2]);
        assert_eq!(lines("RUN { echo a; curl x; } | sh\n"), Vec::<u32>::new());
        assert_eq!(lines("RUN cat f | sh\n"), [2]);
    }

    #[test]
    fn pipefail_that_does_not_reach_the_pipe_is_not_counted() {
        for body in [
            // A nested shell does not inherit the outer options.
            "RUN bash -c 'curl x | tar x'\n",
            "RUN set -o pipefail; sh -c 'a | b'\n",
            "SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN bash -c \"a | b\"\n",
            // Set too late, in a subshell, in the background, in a pipeline, turned off.
            "RUN a | b; set -o pipefail\n",
            "RUN (set -o pipefail); a | b\n",
            "RUN set -o pipefail & a | b\n",
            "RUN x=$(set -o pipefail); a | b\n",
            "RUN set -o pipefail; set +o pipefail; a | b\n",
            "RUN set -o pipefail +o pipefail; a | b\n",
            "RUN shopt -uo pipefail; a | b\n",
            // Not the option: positional parameters, an echo, an expansion.
            "RUN set -- -o pipefail; a | b\n",
            "RUN set x -o pipefail; a | b\n",
            "RUN echo set -o pipefail; a | b\n",
            "RUN set -o $OPT; a | b\n",
            "RUN set -o; a | b\n",
        ] {
            assert_eq!(lines(body).len(), 1, "{body}");
        }
        let nested = run_dockerfile(&Pipefail, "FROM a\nRUN sh -c 'a | b'\n");
        assert!(nested[0].message.contains("nested shell"));
        let sub = run_dockerfile(&Pipefail, "FROM a\nRUN x=$(a | b)\n");
        assert!(
            sub[0].message.contains("under /bin/sh"),
            "{:?}",
            sub[0].message
        );
    }
}
