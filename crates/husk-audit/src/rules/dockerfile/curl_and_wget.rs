//! HUSK-D064: one stage downloads with both curl and wget.

use super::shell::parsed_runs;
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct CurlAndWget;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D064",
    name: "curl-and-wget",
    target: Target::Dockerfile,
    severity: Severity::Info,
    summary: "A stage uses both curl and wget",
    explanation: "Two download tools in one stage means both are installed (and shipped when it is the final stage), with two sets of options to get right (`--fail`, redirects, TLS).",
    fix: "Use one of them throughout the stage.",
    references: &[Reference::Hadolint("DL4001")],
};

impl Rule for CurlAndWget {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        let runs = parsed_runs(file);
        for stage in &file.file.stages {
            let mut curl = None;
            let mut wget = None;
            for r in runs.iter().filter(|r| r.stage == stage.index) {
                for (c, prog, _) in r.programs() {
                    match prog {
                        "curl" if curl.is_none() => curl = Some(r.span(c)),
                        "wget" if wget.is_none() => wget = Some(r.span(c)),
                        _ => {}
                    }
                }
            }
            if let (Some(a), Some(b)) = (curl, wget) {
                let later = if a.start > b.start { a } else { b };
                out.at(
                    later,
                    format!(
                        "this stage uses both curl (line {}) and wget (line {})",
                        a.start.line, b.start.line
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::run_dockerfile;

    #[test]
    fn fires_for_both() {
        let t = "FROM debian:12\nRUN curl -fO https://x/a\nRUN wget https://x/b\n";
        assert_eq!(run_dockerfile(&CurlAndWget, t).len(), 1);
    }

    #[test]
    fn quiet_for_one_tool_per_stage() {
        let t =
            "FROM debian:12 AS a\nRUN curl -fO https://x/a\nFROM debian:12\nRUN wget https://x/b\n";
        assert!(run_dockerfile(&CurlAndWget, t).is_empty());
    }
}
