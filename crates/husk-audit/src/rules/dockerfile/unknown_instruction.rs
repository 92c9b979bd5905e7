//! HUSK-D001: an instruction BuildKit does not know.

use crate::rule::{DockerfileFacts, Emit, Rule, RuleInfo, Severity, Target};

pub struct UnknownInstruction;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D001",
    name: "unknown-instruction",
    target: Target::Dockerfile,
    severity: Severity::High,
    summary: "The Dockerfile has an instruction BuildKit does not know",
    explanation: "BuildKit stops at an unknown instruction (\"unknown instruction: COPPY\"), so the file does not build. husk reports it with its position and still checks the rest of the file.",
    fix: "Correct the keyword (typos such as `COPPY`, `RUN` continuation lines missing a trailing backslash) or remove the line.",
    references: &[],
};

impl Rule for UnknownInstruction {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        for u in &file.file.unknown {
            out.at(u.span, format!("unknown instruction {:?}", u.name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::run_dockerfile;

    #[test]
    fn fires_for_a_typo() {
        let f = run_dockerfile(&UnknownInstruction, "FROM scratch\nCOPPY a /a\n");
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn quiet_for_known_ones() {
        assert!(run_dockerfile(&UnknownInstruction, "FROM scratch\nCOPY a /a\n").is_empty());
    }
}
