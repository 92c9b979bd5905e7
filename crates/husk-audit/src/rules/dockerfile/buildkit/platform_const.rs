//! HUSK-D036: `FROM --platform=linux/amd64` with a constant (BuildKit's
//! FromPlatformFlagConstDisallowed, hadolint's DL3029).

use super::platform_as_written;
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct PlatformConst;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D036",
    name: "from-platform-constant",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "FROM --platform uses a constant value",
    explanation: "A constant `--platform` pins the stage to one platform: the Dockerfile cannot build a multi-platform image, and on another machine it runs under emulation or fails. A stage whose name carries the platform (`AS build_amd64`, selected with `FROM build_${TARGETARCH}`) is deliberate and not reported.",
    fix: "Drop `--platform` and pass it to the build, or use `--platform=$BUILDPLATFORM` for a cross-compiling stage.",
    references: &[
        Reference::Buildkit("FromPlatformFlagConstDisallowed"),
        Reference::Hadolint("DL3029"),
    ],
};

impl Rule for PlatformConst {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        let df = &file.file;
        for s in &df.stages {
            let Some(p) = platform_as_written(df, s.span) else {
                continue;
            };
            if p.contains('$') {
                continue;
            }
            let named_for_it = s.name.as_deref().is_some_and(|n| {
                p.split('/')
                    .any(|part| !part.is_empty() && n.contains(&part.to_ascii_lowercase()))
            });
            if !named_for_it {
                out.at(
                    s.span,
                    format!("FROM --platform={p} pins the stage to one platform"),
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
    fn fires_for_a_constant() {
        let t = "FROM --platform=linux/amd64 alpine:3.20 AS base\n";
        assert_eq!(run_dockerfile(&PlatformConst, t).len(), 1);
    }

    #[test]
    fn quiet_for_variables_and_platform_stages() {
        let t = "FROM --platform=$BUILDPLATFORM alpine:3.20 AS b\nFROM --platform=linux/arm64 alpine:3.20 AS build_arm64\n";
        assert!(run_dockerfile(&PlatformConst, t).is_empty());
    }
}
