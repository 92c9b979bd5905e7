//! HUSK-D015: sudo in RUN.

use super::shell::parsed_runs;
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct Sudo;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D015",
    name: "sudo",
    target: Target::Dockerfile,
    severity: Severity::Medium,
    summary: "RUN uses sudo",
    explanation: "Build steps run as the current USER; sudo means the image ships sudo (a setuid root program) and a sudoers policy, with unpredictable TTY and signal behaviour. Switch USER around the steps that need root instead.",
    fix: "Put `USER root` before the privileged step and `USER <uid>` after it, and do not install sudo.",
    references: &[Reference::Hadolint("DL3004")],
};

impl Rule for Sudo {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        for r in parsed_runs(file) {
            if let Some(c) = r.parsed.commands.iter().find(|c| c.name() == Some("sudo")) {
                out.at(r.span(c), "RUN uses sudo");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::run_dockerfile;

    #[test]
    fn fires_for_sudo() {
        assert_eq!(
            run_dockerfile(&Sudo, "FROM debian:12\nRUN sudo apt-get update\n").len(),
            1
        );
        let nested = "FROM debian:12\nRUN set -e; if true; then (sudo make install); fi\n";
        assert_eq!(run_dockerfile(&Sudo, nested).len(), 1);
    }

    #[test]
    fn quiet_without() {
        assert!(run_dockerfile(&Sudo, "FROM debian:12\nRUN echo pseudo sudoku\n").is_empty());
        assert!(
            run_dockerfile(
                &Sudo,
                "FROM debian:12\nRUN echo 'sudo x' && apt-get remove sudo\n"
            )
            .is_empty()
        );
    }
}
