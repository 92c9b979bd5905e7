//! HUSK-D019: a stage the build target never uses (BuildKit skips it).

use crate::rule::{DockerfileFacts, Emit, Rule, RuleInfo, Severity, Target};

pub struct UnusedStage;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D019",
    name: "unused-stage",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "A stage is not used by the build target, so BuildKit never builds it",
    explanation: "BuildKit builds the target stage (the last one, or `--target`) and the stages it needs: the one it is built on and those its `COPY --from=` and `RUN --mount=from=` name. Any other stage is skipped. An unnamed unused stage is dead code; a named one is either another `--target` (a test or dev image) or a stage the final stage was meant to copy from, with the `--from` forgotten: then the build copies from the context instead. Named stages are reported as info, since they may be targets of their own.",
    fix: "Copy from the stage (`COPY --from=<stage> ...`), build it as its own `--target`, or delete it.",
    references: &[],
};

impl Rule for UnusedStage {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        let target = file.stage_label(file.target);
        for s in &file.file.stages {
            if file.reaches(s.index) {
                continue;
            }
            let message = format!(
                "{} is not used by the target ({target}): BuildKit never builds it",
                file.stage_label(s.index)
            );
            if s.name.is_some() {
                out.at_severity(s.span, Severity::Info, message);
            } else {
                out.at(s.span, message);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::run_dockerfile;

    #[test]
    fn fires_for_stages_nothing_uses() {
        let t = "FROM alpine:3.20\nRUN true\nFROM alpine:3.20 AS test\nFROM scratch\n";
        let f = run_dockerfile(&UnusedStage, t);
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(f[0].severity, Severity::Low);
        assert_eq!(f[1].severity, Severity::Info);
        assert!(f[1].message.contains("stage 1 (test)"), "{}", f[1].message);
    }

    #[test]
    fn quiet_when_every_stage_is_used() {
        let t = "FROM alpine:3.20 AS base\nFROM base AS build\nFROM alpine:3.20 AS c\n\
                 FROM scratch\nCOPY --from=build /a /a\nRUN --mount=from=c,target=/c true\n";
        assert!(run_dockerfile(&UnusedStage, t).is_empty());
    }
}
