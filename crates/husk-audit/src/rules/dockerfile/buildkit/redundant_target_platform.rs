//! HUSK-D034: `FROM --platform=$TARGETPLATFORM` (BuildKit's RedundantTargetPlatform).

use super::platform_as_written;
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct RedundantTargetPlatform;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D034",
    name: "redundant-target-platform",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "FROM --platform=$TARGETPLATFORM is the default",
    explanation: "A stage is built for the target platform unless `--platform` says otherwise; writing `$TARGETPLATFORM` adds nothing and suggests a cross-compilation setup that is not there (that one uses `$BUILDPLATFORM`).",
    fix: "Drop `--platform=$TARGETPLATFORM`; for a cross-compiling build stage use `--platform=$BUILDPLATFORM`.",
    references: &[
        Reference::Buildkit("RedundantTargetPlatform"),
        Reference::Hadolint("DL3065"),
    ],
};

impl Rule for RedundantTargetPlatform {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        let df = &file.file;
        for s in &df.stages {
            if let Some(p) = platform_as_written(df, s.span)
                && matches!(p, "$TARGETPLATFORM" | "${TARGETPLATFORM}")
            {
                out.at(s.span, format!("--platform={p} is the default and can go"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::run_dockerfile;

    #[test]
    fn fires_for_target_platform() {
        let t = "FROM --platform=${TARGETPLATFORM} alpine:3.20\n";
        assert_eq!(run_dockerfile(&RedundantTargetPlatform, t).len(), 1);
    }

    #[test]
    fn quiet_for_build_platform() {
        let t = "FROM --platform=$BUILDPLATFORM alpine:3.20\n";
        assert!(run_dockerfile(&RedundantTargetPlatform, t).is_empty());
    }
}
