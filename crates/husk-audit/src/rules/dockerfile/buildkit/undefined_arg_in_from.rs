//! HUSK-D029: FROM uses a variable no global ARG declares (BuildKit's UndefinedArgInFrom).

use std::collections::HashSet;

use super::{PREDEFINED_ARGS, platform_as_written, var_refs};
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct UndefinedArgInFrom;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D029",
    name: "undefined-arg-in-from",
    target: Target::Dockerfile,
    severity: Severity::Medium,
    summary: "FROM uses a variable that no ARG before the first FROM declares",
    explanation: "FROM is expanded with the global ARGs only: those declared before the first FROM (plus BuildKit's predefined ones such as `BUILDPLATFORM`). A variable declared nowhere, or only inside a stage, expands to the empty string, so `FROM node:${NODE_VERSION}` silently becomes `node:` and the build fails or pulls something else.",
    fix: "Declare it before the first FROM: `ARG NODE_VERSION=22`.",
    references: &[Reference::Buildkit("UndefinedArgInFrom")],
};

impl Rule for UndefinedArgInFrom {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        let df = &file.file;
        // Gathered once: thousands of `$X` in FROM lines under thousands of global ARGs
        // stay linear.
        let globals: HashSet<&str> = df.global_args.iter().map(|(k, _)| k.as_str()).collect();
        for s in &df.stages {
            let platform = platform_as_written(df, s.span).unwrap_or_default();
            for v in var_refs(&s.base_text).into_iter().chain(var_refs(platform)) {
                let declared = globals.contains(v) || PREDEFINED_ARGS.contains(&v);
                if !declared {
                    out.at(
                        s.span,
                        format!("FROM uses ${v}, which no ARG before the first FROM declares"),
                    );
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
    fn fires_for_undeclared_and_stage_args() {
        let t =
            "FROM alpine:3.20 AS a\nARG V=1\nFROM node:${V}\nFROM --platform=$PLAT alpine:3.20\n";
        assert_eq!(run_dockerfile(&UndefinedArgInFrom, t).len(), 2);
    }

    #[test]
    fn quiet_for_global_and_predefined_args() {
        let t = "ARG V=22\nFROM --platform=$BUILDPLATFORM node:${V}\nFROM alpine:${T:-3.20}\n";
        assert!(run_dockerfile(&UndefinedArgInFrom, t).is_empty());
    }
}
