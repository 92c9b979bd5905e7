//! HUSK-D063: `curl` without `--fail`.

use super::shell::{has_flag, parsed_runs};
use crate::rule::{DockerfileFacts, Emit, Rule, RuleInfo, Severity, Target};

pub struct CurlNoFail;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D063",
    name: "curl-without-fail",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "curl without -f/--fail",
    explanation: "Without `--fail` curl exits 0 on an HTTP error and writes the server's error page as if it were the file: the step passes and the image ships an HTML page named `tool.tar.gz` (or pipes it into a shell). wget fails on HTTP errors by itself.",
    fix: "Add `-f` (`curl -fsSL URL -o FILE`), or `--fail-with-body` to keep the error text.",
    references: &[],
};

impl Rule for CurlNoFail {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        for r in parsed_runs(file) {
            for (c, prog, args) in r.programs() {
                if prog == "curl"
                    && !args.is_empty()
                    && !has_flag(
                        args,
                        Some('f'),
                        &["--fail", "--fail-with-body", "--fail-early"],
                    )
                    && !has_flag(args, Some('V'), &["--version", "--help"])
                {
                    out.at(r.span(c), "curl without --fail");
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
    fn fires_without_fail() {
        let t = "FROM debian:12\nRUN curl -sSL -o /tmp/x https://x/y && curl \"https://x/z\" > z\n";
        assert_eq!(run_dockerfile(&CurlNoFail, t).len(), 2);
    }

    #[test]
    fn quiet_with_fail() {
        let t = "FROM debian:12\nRUN curl -fsSL -o x https://x/y && curl --fail-with-body https://x && curl --version && wget -q https://x\n";
        assert!(run_dockerfile(&CurlNoFail, t).is_empty());
    }
}
