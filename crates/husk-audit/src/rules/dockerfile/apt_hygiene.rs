//! HUSK-D014: apt/apk hygiene in RUN (recommends, package lists, upgrades, apk cache),
//! for stages that reach the image.

use super::shell::{ParsedRun, has_flag, hygiene_runs, subcommand};
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct AptHygiene;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D014",
    name: "package-manager-hygiene",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "apt/apk use that bloats the image or makes builds drift",
    explanation: "`apt-get install` without `--no-install-recommends` pulls in recommended packages nobody asked for; package lists left in /var/lib/apt/lists (no `rm -rf /var/lib/apt/lists/*` in the same RUN) ship tens of MB of stale metadata; `apt-get upgrade`/`dist-upgrade` makes the image depend on the day it was built (rebuild from an updated base instead); `apk add` without `--no-cache` leaves the index in /var/cache/apk.",
    fix: "`RUN apt-get update && apt-get install -y --no-install-recommends PKG && rm -rf /var/lib/apt/lists/*`; `RUN apk add --no-cache PKG`; update the base image rather than upgrading in place.",
    references: &[
        Reference::Hadolint("DL3015"),
        Reference::Hadolint("DL3009"),
        Reference::Hadolint("DL3005"),
        Reference::Hadolint("DL3019"),
        Reference::Trivy("DS017"),
        Reference::Trivy("DS029"),
    ],
};

impl Rule for AptHygiene {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        for r in hygiene_runs(file) {
            let cleans = lists_removed(&r);
            let cache_mount = r.cache_mount();
            let no_recommends_config = r
                .run
                .script
                .is_some_and(|s| s.text.contains("APT::Install-Recommends"));
            for (c, prog, args) in r.programs() {
                let sub = subcommand(args);
                match prog {
                    "apt-get" | "apt" if sub == Some("install") => {
                        if !has_flag(args, None, &["--no-install-recommends"])
                            && !no_recommends_config
                        {
                            out.at(
                                r.span(c),
                                format!("{prog} install without --no-install-recommends"),
                            );
                        }
                        if !cleans && !cache_mount {
                            out.at(r.span(c), format!("{prog} install without rm -rf /var/lib/apt/lists/* (or apt-get dist-clean) in the same RUN"));
                        }
                    }
                    "apt-get" | "apt"
                        if matches!(sub, Some("upgrade" | "dist-upgrade" | "full-upgrade")) =>
                    {
                        out.at(r.span(c), format!("{prog} upgrade in the image build"));
                    }
                    "apk"
                        if sub == Some("add")
                            && !has_flag(args, None, &["--no-cache"])
                            && !cache_mount =>
                    {
                        out.at(r.span(c), "apk add without --no-cache");
                    }
                    _ => {}
                }
            }
        }
    }
}

/// Whether the RUN drops apt's package lists: `rm` (or anything) naming
/// /var/lib/apt/lists, or `apt-get dist-clean` (Debian 13).
fn lists_removed(r: &ParsedRun<'_>) -> bool {
    r.programs().any(|(_, prog, args)| {
        (matches!(prog, "apt-get" | "apt") && subcommand(args) == Some("dist-clean"))
            || args.iter().any(|a| a.text().contains("/var/lib/apt/lists"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::run_dockerfile;

    #[test]
    fn fires_for_sloppy_installs() {
        let t = "FROM debian:12\nRUN apt-get update && apt-get install -y curl\nRUN apk add git\n";
        assert_eq!(run_dockerfile(&AptHygiene, t).len(), 3);
    }

    #[test]
    fn quiet_for_clean_installs() {
        let t = "FROM debian:12\nRUN apt-get update \\\n && apt-get install -y --no-install-recommends curl \\\n && rm -rf /var/lib/apt/lists/*\nRUN apk add --no-cache git\n";
        assert!(run_dockerfile(&AptHygiene, t).is_empty());
    }

    /// Debian 13's `apt-get dist-clean` drops the lists too (issue 14's false positive).
    #[test]
    fn dist_clean_counts_as_cleanup() {
        let t = "FROM debian:13\nRUN apt-get update && apt-get install -y --no-install-recommends curl && apt-get dist-clean\n";
        assert!(run_dockerfile(&AptHygiene, t).is_empty());
    }

    /// A build stage's caches never reach the image.
    #[test]
    fn quiet_for_build_only_stages() {
        let t = "FROM debian:12 AS build\nRUN apt-get update && apt-get install -y gcc\nFROM scratch\nCOPY app /app\n";
        assert!(run_dockerfile(&AptHygiene, t).is_empty());
        let copied = "FROM debian:12 AS build\nRUN apt-get install -y gcc\nFROM scratch\nCOPY --from=build /x /x\n";
        assert_eq!(run_dockerfile(&AptHygiene, copied).len(), 2);
    }

    #[test]
    fn quoted_and_wrapped_commands_are_seen() {
        let t = "FROM debian:12\nRUN sudo \"apt-get\" install --yes 'curl'\n";
        assert_eq!(run_dockerfile(&AptHygiene, t).len(), 2);
        let echo = "FROM debian:12\nRUN echo 'apt-get install curl'\n";
        assert!(run_dockerfile(&AptHygiene, echo).is_empty());
    }
}
