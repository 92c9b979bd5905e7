//! HUSK-D022: a stage named `scratch` or `context` (BuildKit's ReservedStageName).

use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct ReservedStageName;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D022",
    name: "reserved-stage-name",
    target: Target::Dockerfile,
    severity: Severity::High,
    summary: "A stage is named with a reserved word (scratch, context)",
    explanation: "`scratch` is the empty image and `context` the build context: `FROM scratch` and `COPY --from=context` already mean those, so a stage with either name can never be referred to as a stage, and BuildKit refuses it.",
    fix: "Rename the stage (`AS build`, `AS src`).",
    references: &[
        Reference::Buildkit("ReservedStageName"),
        Reference::Hadolint("DL3063"),
    ],
};

impl Rule for ReservedStageName {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        for s in &file.file.stages {
            if let Some(name) = s.name.as_deref()
                && matches!(name, "scratch" | "context")
            {
                out.at(
                    s.span,
                    format!("{name:?} is reserved and cannot name a stage"),
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
    fn fires_for_scratch_and_context() {
        let t = "FROM alpine:3.20 AS Scratch\nFROM alpine:3.20 AS context\nFROM scratch\n";
        assert_eq!(run_dockerfile(&ReservedStageName, t).len(), 2);
    }

    #[test]
    fn quiet_for_other_names() {
        let t = "FROM alpine:3.20 AS scratchpad\nFROM scratch\n";
        assert!(run_dockerfile(&ReservedStageName, t).is_empty());
    }
}
