//! HUSK-D059: `gem install GEM` without a version.

use super::shell::{has_flag, list, operands, parsed_runs, subcommand, unpinned};
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct GemPin;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D059",
    name: "gem-pin",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "gem install names gems without a version",
    explanation: "`gem install GEM` takes the newest release that day: builds of one Dockerfile differ, and a hijacked release lands silently.",
    fix: "Name the version: `gem install bundler:2.5.22` or `gem install bundler -v 2.5.22`; or install from a Gemfile.lock with `bundle install`.",
    references: &[Reference::Hadolint("DL3028")],
};

const VALUE_OPTIONS: &[&str] = &[
    "-v",
    "--version",
    "-i",
    "--install-dir",
    "-n",
    "--bindir",
    "--source",
    "-s",
    "-P",
    "--trust-policy",
    "--platform",
];

impl Rule for GemPin {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        for r in parsed_runs(file) {
            for (c, prog, args) in r.programs() {
                if prog == "gem"
                    && matches!(subcommand(args), Some("install" | "i"))
                    && !has_flag(args, Some('v'), &["--version"])
                {
                    let loose = unpinned(&operands(args, VALUE_OPTIONS), |t| t.contains(':'));
                    if !loose.is_empty() {
                        out.at(
                            r.span(c),
                            format!("gem install without versions: {}", list(&loose)),
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
        assert_eq!(
            run_dockerfile(
                &GemPin,
                "FROM ruby:3.3\nRUN gem install bundler rake:13.2.1\n"
            )
            .len(),
            1
        );
    }

    #[test]
    fn quiet_for_pinned() {
        let t = "FROM ruby:3.3\nRUN gem install bundler:2.5.22 && gem install rails -v 7.2.1 --no-document\n";
        assert!(run_dockerfile(&GemPin, t).is_empty());
    }
}
