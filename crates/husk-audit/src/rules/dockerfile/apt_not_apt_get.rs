//! HUSK-D052: `apt` (the interactive front end) in RUN.

use super::shell::{parsed_runs, subcommand};
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct AptNotAptGet;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D052",
    name: "apt-not-apt-get",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "RUN uses apt instead of apt-get",
    explanation: "`apt` is the front end for people at a terminal: its output and behaviour may change between releases and it warns that it \"does not have a stable CLI interface\". Scripts use `apt-get` and `apt-cache`.",
    fix: "Replace `apt` with `apt-get` (`apt-cache` for search and show).",
    references: &[Reference::Hadolint("DL3027")],
};

impl Rule for AptNotAptGet {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        for r in parsed_runs(file) {
            for (c, prog, args) in r.programs() {
                if prog == "apt"
                    && let Some(sub) = subcommand(args)
                {
                    out.at(r.span(c), format!("apt {sub}: use apt-get"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::run_dockerfile;

    #[test]
    fn fires_for_apt() {
        assert_eq!(
            run_dockerfile(
                &AptNotAptGet,
                "FROM debian:12\nRUN apt update && apt install -y curl\n"
            )
            .len(),
            2
        );
    }

    #[test]
    fn quiet_for_apt_get() {
        let t = "FROM debian:12\nRUN apt-get update && apt-cache policy curl && echo apt\n";
        assert!(run_dockerfile(&AptNotAptGet, t).is_empty());
    }
}
