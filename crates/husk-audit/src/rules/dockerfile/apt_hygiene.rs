//! HUSK-D014: apt/apk hygiene in RUN.

use super::{commands, program, runs};
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
        for s in &file.file.stages {
            for (i, text) in runs(&s.instructions) {
                let cleans = text.contains("/var/lib/apt/lists");
                let cache_mount = matches!(&i.kind, husk_dockerfile::Kind::Run { flags, .. } if flags.iter().any(|(k, v)| k == "mount" && v.as_deref().is_some_and(|v| v.contains("type=cache"))));
                for (words, _) in commands(&text) {
                    let (Some(prog), args) = program(&words) else {
                        continue;
                    };
                    let has = |f: &str| args.iter().any(|a| a == f);
                    match prog {
                        "apt-get" | "apt" if has("install") => {
                            if !has("--no-install-recommends")
                                && !text.contains("APT::Install-Recommends")
                            {
                                out.at(
                                    i.span,
                                    format!("{prog} install without --no-install-recommends"),
                                );
                            }
                            if !cleans && !cache_mount {
                                out.at(i.span, format!("{prog} install without rm -rf /var/lib/apt/lists/* in the same RUN"));
                            }
                        }
                        "apt-get" | "apt" if has("upgrade") || has("dist-upgrade") => {
                            out.at(i.span, format!("{prog} upgrade in the image build"));
                        }
                        "apk" if has("add") && !has("--no-cache") && !cache_mount => {
                            out.at(i.span, "apk add without --no-cache");
                        }
                        _ => {}
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
    fn fires_for_sloppy_installs() {
        let t = "FROM debian:12\nRUN apt-get update && apt-get install -y curl\nRUN apk add git\n";
        assert_eq!(run_dockerfile(&AptHygiene, t).len(), 3);
    }

    #[test]
    fn quiet_for_clean_installs() {
        let t = "FROM debian:12\nRUN apt-get update \\\n && apt-get install -y --no-install-recommends curl \\\n && rm -rf /var/lib/apt/lists/*\nRUN apk add --no-cache git\n";
        assert!(run_dockerfile(&AptHygiene, t).is_empty());
    }
}
