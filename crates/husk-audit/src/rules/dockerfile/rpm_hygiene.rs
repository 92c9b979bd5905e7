//! HUSK-D054: yum/dnf/microdnf/zypper installs that ask for confirmation or leave their
//! cache in the image.

use super::shell::{ParsedRun, has_flag, hygiene_applies, parsed_runs, subcommand};
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct RpmHygiene;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D054",
    name: "rpm-package-manager-hygiene",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "yum/dnf/zypper install without -y, or without cleaning its cache in the same RUN",
    explanation: "A build has no terminal: without `-y` (zypper: `-n`) the install asks for confirmation and aborts. The metadata and package cache (/var/cache/yum, /var/cache/dnf, /var/cache/zypp) stays in the layer unless the same RUN cleans it: a later RUN cannot take it back out of the image.",
    fix: "`RUN dnf install -y PKG && dnf clean all` (`yum clean all`, `zypper clean -a`), or `--mount=type=cache` on the cache directory.",
    references: &[
        Reference::Hadolint("DL3030"),
        Reference::Hadolint("DL3032"),
        Reference::Hadolint("DL3034"),
        Reference::Hadolint("DL3036"),
        Reference::Hadolint("DL3038"),
        Reference::Hadolint("DL3040"),
    ],
};

const MANAGERS: &[&str] = &["yum", "dnf", "microdnf", "zypper"];

impl Rule for RpmHygiene {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        for r in parsed_runs(file) {
            let hygiene = hygiene_applies(file, r.stage) && !r.cache_mount();
            for (c, prog, args) in r.programs() {
                if !MANAGERS.contains(&prog)
                    || !matches!(
                        subcommand(args),
                        Some("install" | "in" | "groupinstall" | "localinstall")
                    )
                {
                    continue;
                }
                let yes = if prog == "zypper" {
                    has_flag(args, Some('n'), &["--non-interactive"])
                        || has_flag(args, Some('y'), &["--no-confirm"])
                } else {
                    has_flag(args, Some('y'), &["--assumeyes"])
                };
                if !yes {
                    let flag = if prog == "zypper" { "-n" } else { "-y" };
                    out.at(r.span(c), format!("{prog} install without {flag}"));
                }
                if hygiene && !cleaned(&r, prog) {
                    out.at(
                        r.span(c),
                        format!("{prog} install without {prog} clean in the same RUN"),
                    );
                }
            }
        }
    }
}

/// Whether the RUN cleans `prog`'s cache: `PROG clean ...`, or removes /var/cache/PROG.
fn cleaned(r: &ParsedRun<'_>, prog: &str) -> bool {
    let dir = match prog {
        "zypper" => "/var/cache/zypp",
        "yum" | "microdnf" => "/var/cache/yum",
        _ => "/var/cache/dnf",
    };
    r.programs().any(|(_, p, args)| {
        (MANAGERS.contains(&p) && matches!(subcommand(args), Some("clean" | "cc")))
            || (p == "rm" && args.iter().any(|a| a.text().starts_with(dir)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::run_dockerfile;

    #[test]
    fn fires_for_prompting_and_cache_keeping_installs() {
        let t = "FROM fedora:40\nRUN dnf install httpd\nRUN zypper install -y curl\n";
        let f = run_dockerfile(&RpmHygiene, t);
        assert_eq!(f.len(), 3, "{:?}", crate::testing::messages(&f));
    }

    #[test]
    fn quiet_for_clean_installs() {
        let t = "FROM fedora:40\nRUN dnf install -y httpd && dnf clean all\nRUN yum -y install x && rm -rf /var/cache/yum\nRUN zypper -n in curl && zypper clean -a\n";
        assert!(run_dockerfile(&RpmHygiene, t).is_empty());
    }
}
