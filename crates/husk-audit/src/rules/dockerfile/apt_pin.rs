//! HUSK-D050: `apt-get install` of packages without a version.

use super::shell::{list, operands, parsed_runs, subcommand, unpinned};
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct AptPin;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D050",
    name: "apt-pin",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "apt-get install names packages without a version",
    explanation: "Without `pkg=version` each build installs whatever the archive holds that day: two builds of one Dockerfile differ, and a broken or hostile update lands silently.",
    fix: "Pin the versions (`apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u8`), or pin the base image by digest and accept its snapshot.",
    references: &[Reference::Hadolint("DL3008")],
};

/// apt-get options whose value is the next word.
pub(crate) const APT_VALUE_OPTIONS: &[&str] = &[
    "-o",
    "-t",
    "-c",
    "--option",
    "--target-release",
    "--config-file",
];

impl Rule for AptPin {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        for r in parsed_runs(file) {
            for (c, prog, args) in r.programs() {
                if matches!(prog, "apt-get" | "apt") && subcommand(args) == Some("install") {
                    let loose = unpinned(&operands(args, APT_VALUE_OPTIONS), |t| t.contains('='));
                    if !loose.is_empty() {
                        out.at(
                            r.span(c),
                            format!("{prog} install without versions: {}", list(&loose)),
                        );
                    }
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
    fn fires_for_unpinned_packages() {
        let t = "FROM debian:12\nRUN apt-get install -y --no-install-recommends curl ca-certificates=20230311\n";
        let f = run_dockerfile(&AptPin, t);
        assert_eq!(f.len(), 1);
        assert!(f[0].message.ends_with(": curl"), "{}", f[0].message);
    }

    #[test]
    fn quiet_for_pinned_local_and_variable_packages() {
        let t = "FROM debian:12\nRUN apt-get -t bookworm-backports install -y curl=7.88 ./pkg.deb $EXTRA \"${MORE}\"\n";
        assert!(run_dockerfile(&AptPin, t).is_empty());
    }
}
