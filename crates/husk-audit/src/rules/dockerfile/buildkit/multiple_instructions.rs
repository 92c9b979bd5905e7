//! HUSK-D032: CMD, ENTRYPOINT or HEALTHCHECK more than once in a stage (BuildKit's
//! MultipleInstructionsDisallowed, hadolint's DL4003/DL4004).

use husk_dockerfile::Kind;

use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct MultipleInstructions;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D032",
    name: "multiple-cmd-entrypoint",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "CMD, ENTRYPOINT or HEALTHCHECK appears more than once in a stage",
    explanation: "Only the last CMD, ENTRYPOINT and HEALTHCHECK of a stage take effect; the earlier ones do nothing and mislead the reader about how the container starts.",
    fix: "Keep only the last one.",
    references: &[
        Reference::Buildkit("MultipleInstructionsDisallowed"),
        Reference::Hadolint("DL4003"),
        Reference::Hadolint("DL4004"),
        Reference::Hadolint("DL3012"),
    ],
};

impl Rule for MultipleInstructions {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        for s in &file.file.stages {
            for what in ["CMD", "ENTRYPOINT", "HEALTHCHECK"] {
                let all: Vec<_> = s
                    .instructions
                    .iter()
                    .filter(|i| {
                        matches!(
                            (&i.kind, what),
                            (Kind::Cmd { .. }, "CMD")
                                | (Kind::Entrypoint { .. }, "ENTRYPOINT")
                                | (Kind::Healthcheck { .. }, "HEALTHCHECK")
                        )
                    })
                    .collect();
                if let Some((last, earlier)) = all.split_last() {
                    for i in earlier {
                        out.at(
                            i.span,
                            format!(
                                "this {what} is overridden by the one on line {}",
                                last.span.start.line
                            ),
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
    fn fires_for_repeats() {
        let t = "FROM scratch\nCMD [\"a\"]\nCMD [\"b\"]\nENTRYPOINT [\"x\"]\nENTRYPOINT [\"y\"]\n";
        assert_eq!(run_dockerfile(&MultipleInstructions, t).len(), 2);
    }

    #[test]
    fn quiet_for_one_per_stage() {
        let t = "FROM scratch AS a\nCMD [\"a\"]\nFROM a\nCMD [\"b\"]\n";
        assert!(run_dockerfile(&MultipleInstructions, t).is_empty());
    }
}
