//! HUSK-D055: yum/dnf/zypper installs of packages without a version.

use super::shell::{list, operands, parsed_runs, subcommand, unpinned};
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct RpmPin;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D055",
    name: "rpm-pin",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "yum/dnf/zypper install names packages without a version",
    explanation: "Without a version (`httpd-2.4.62`, zypper `curl=8.6.0`) each build installs whatever the repository holds that day, so builds of one Dockerfile differ.",
    fix: "Name the version: `dnf install -y httpd-2.4.62`, `zypper -n in curl=8.6.0`.",
    references: &[
        Reference::Hadolint("DL3033"),
        Reference::Hadolint("DL3037"),
        Reference::Hadolint("DL3041"),
    ],
};

const VALUE_OPTIONS: &[&str] = &[
    "--setopt",
    "--enablerepo",
    "--disablerepo",
    "--repo",
    "--releasever",
    "--installroot",
    "-r",
    "--from",
    "-c",
    "--config",
];

/// `name-1.2`, `name-1.2-3.el9`, `name = 1.2`, `name>=1`.
fn pinned(t: &str) -> bool {
    t.contains(['=', '<', '>'])
        || t.char_indices()
            .any(|(i, c)| c == '-' && t[i + 1..].starts_with(|d: char| d.is_ascii_digit()))
}

impl Rule for RpmPin {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        for r in parsed_runs(file) {
            for (c, prog, args) in r.programs() {
                if matches!(prog, "yum" | "dnf" | "microdnf" | "zypper")
                    && matches!(subcommand(args), Some("install" | "in"))
                {
                    let ops = operands(args, VALUE_OPTIONS);
                    let loose: Vec<&str> = unpinned(&ops, pinned)
                        .into_iter()
                        .filter(|t| !t.starts_with('@'))
                        .collect();
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
    fn fires_for_unpinned() {
        let t = "FROM fedora:40\nRUN dnf install -y httpd-2.4.62 git && dnf clean all\n";
        let f = run_dockerfile(&RpmPin, t);
        assert_eq!(f.len(), 1);
        assert!(f[0].message.ends_with(": git"));
    }

    #[test]
    fn quiet_for_pinned_groups_and_files() {
        let t = "FROM fedora:40\nRUN dnf install -y --setopt=tsflags=nodocs httpd-2.4.62-1.fc40 @development-tools ./x.rpm && zypper -n in curl=8.6.0\n";
        assert!(run_dockerfile(&RpmPin, t).is_empty());
    }
}
