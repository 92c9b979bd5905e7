//! HUSK-D026: instruction keywords in mixed case (BuildKit's ConsistentInstructionCasing).

use husk_dockerfile::Span;

use super::keyword;
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct ConsistentCasing;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D026",
    name: "inconsistent-instruction-casing",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "Instruction keywords are not all in the same case",
    explanation: "Instructions are case-insensitive, but a Dockerfile that mixes `RUN` and `run` (or `Run`) is harder to read; BuildKit warns about any keyword whose case differs from the file's majority.",
    fix: "Write every instruction keyword in upper case (the convention) or every one in lower case.",
    references: &[Reference::Buildkit("ConsistentInstructionCasing")],
};

impl Rule for ConsistentCasing {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        let df = &file.file;
        let spans: Vec<Span> = df
            .stages
            .iter()
            .flat_map(|s| std::iter::once(s.span).chain(s.instructions.iter().map(|i| i.span)))
            .collect();
        let kws: Vec<(&str, Span)> = spans.iter().map(|s| (keyword(df, *s), *s)).collect();
        let upper = kws
            .iter()
            .filter(|(k, _)| !k.chars().any(|c| c.is_ascii_lowercase()))
            .count();
        let lower = kws
            .iter()
            .filter(|(k, _)| !k.chars().any(|c| c.is_ascii_uppercase()))
            .count();
        let want_upper = upper >= lower;
        for (k, span) in kws {
            let ok = if want_upper {
                !k.chars().any(|c| c.is_ascii_lowercase())
            } else {
                !k.chars().any(|c| c.is_ascii_uppercase())
            };
            if !ok && !k.is_empty() {
                let case = if want_upper { "upper" } else { "lower" };
                out.at(
                    span,
                    format!("{k} is not in {case} case like the rest of the file"),
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
    fn fires_for_the_minority_case() {
        let t = "FROM alpine:3.20\nRUN true\nrun true\nCopy a /a\n";
        assert_eq!(run_dockerfile(&ConsistentCasing, t).len(), 2);
    }

    #[test]
    fn quiet_for_one_case() {
        assert!(run_dockerfile(&ConsistentCasing, "from alpine:3.20\nrun true\n").is_empty());
        assert!(run_dockerfile(&ConsistentCasing, "FROM alpine:3.20\nRUN true\n").is_empty());
    }
}
