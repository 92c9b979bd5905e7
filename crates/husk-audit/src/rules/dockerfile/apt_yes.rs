//! HUSK-D051: `apt-get install` that would ask for confirmation.

use super::shell::{has_flag, parsed_runs, subcommand};
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct AptYes;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D051",
    name: "apt-get-yes",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "apt-get install without -y",
    explanation: "A build has no terminal: without `-y` apt-get asks whether to continue, reads end-of-file and aborts the install as soon as it would install anything beyond the packages named (dependencies).",
    fix: "Add `-y` (or `--yes`, `-qq`): `apt-get install -y --no-install-recommends PKG`.",
    references: &[Reference::Hadolint("DL3014")],
};

impl Rule for AptYes {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        for r in parsed_runs(file) {
            for (c, prog, args) in r.programs() {
                let quiet2 = args
                    .iter()
                    .any(|a| matches!(a.text(), "-qq" | "-q=2" | "--quiet=2"));
                if matches!(prog, "apt-get" | "apt")
                    && subcommand(args) == Some("install")
                    && !has_flag(args, Some('y'), &["--yes", "--assume-yes"])
                    && !quiet2
                {
                    out.at(r.span(c), format!("{prog} install without -y"));
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
    fn fires_without_yes() {
        let t =
            "FROM debian:12\nRUN apt-get update && apt-get install --no-install-recommends curl\n";
        assert_eq!(run_dockerfile(&AptYes, t).len(), 1);
    }

    #[test]
    fn quiet_with_any_spelling_of_yes() {
        let t = "FROM debian:12\nRUN apt-get install -qy a && apt-get --assume-yes install b && apt-get -qq install c && apt-get install --yes d\n";
        assert!(run_dockerfile(&AptYes, t).is_empty());
    }
}
