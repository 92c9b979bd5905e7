//! HUSK-D062: a pipeline in RUN whose failures the shell ignores (no pipefail).

use super::shell::parsed_runs;
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct Pipefail;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D062",
    name: "pipe-without-pipefail",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "RUN pipes commands without set -o pipefail",
    explanation: "A pipeline's status is its last command's: in `curl URL | tar x` a failed download still passes the step when tar accepts its input, and the build goes on with a broken image. `set -o pipefail` (bash, ksh, zsh, busybox ash, dash 0.5.12+) makes any failing command fail the pipeline. Not reported under a SHELL that is no POSIX-family shell (PowerShell, cmd).",
    fix: "`SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]` before the RUN, or start the script with `set -o pipefail &&`.",
    references: &[Reference::Hadolint("DL4006")],
};

impl Rule for Pipefail {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        for r in parsed_runs(file) {
            if r.run.shell.dialect.is_none() || r.run.shell.pipefail {
                continue;
            }
            let first = r.parsed.commands.iter().find(|c| {
                c.pipe_len > 1 && c.pipe_index == 0 && !r.parsed.pipefail_before(c.offset)
            });
            if let Some(c) = first {
                let shell = r.run.shell.argv.first().map_or("sh", String::as_str);
                out.at(
                    r.span(c),
                    format!("a pipeline runs under {shell} without pipefail"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::run_dockerfile;

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
}
