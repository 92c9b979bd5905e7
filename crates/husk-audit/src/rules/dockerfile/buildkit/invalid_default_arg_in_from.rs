//! HUSK-D035: the global ARG defaults make a FROM empty or invalid (BuildKit's
//! InvalidDefaultArgInFrom).

use husk_dockerfile::BaseImage;

use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct InvalidDefaultArgInFrom;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D035",
    name: "invalid-default-arg-in-from",
    target: Target::Dockerfile,
    severity: Severity::High,
    summary: "With the ARG defaults, a FROM is empty or not a valid image reference",
    explanation: "`ARG TAG` without a default and `FROM alpine:${TAG}` builds `FROM alpine:` unless every build passes `--build-arg TAG=...`: an invalid reference, and the build fails. A default keeps the Dockerfile buildable as is.",
    fix: "Give the ARG a default (`ARG TAG=3.20`), or a fallback in FROM (`${TAG:-3.20}`).",
    references: &[Reference::Buildkit("InvalidDefaultArgInFrom")],
};

impl Rule for InvalidDefaultArgInFrom {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        for s in &file.file.stages {
            if !s.base_text.contains('$') {
                continue;
            }
            let BaseImage::Image(n) = &s.base else {
                continue;
            };
            let invalid = n.name.is_empty()
                || n.name.starts_with(['/', ':', '-', '.'])
                || n.name.ends_with('/')
                || n.name.contains("//")
                || n.tag.as_deref() == Some("")
                || n.digest.as_deref() == Some("");
            if invalid {
                let resolved = format!(
                    "{}{}{}",
                    n.name,
                    n.tag.as_ref().map(|t| format!(":{t}")).unwrap_or_default(),
                    n.digest
                        .as_ref()
                        .map(|d| format!("@{d}"))
                        .unwrap_or_default()
                );
                out.at(
                    s.span,
                    format!(
                        "FROM {} becomes {resolved:?} with the ARG defaults",
                        s.base_text
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
    fn fires_without_defaults() {
        let t = "ARG TAG\nARG IMG\nFROM alpine:${TAG}\nFROM ${IMG}\n";
        assert_eq!(run_dockerfile(&InvalidDefaultArgInFrom, t).len(), 2);
    }

    #[test]
    fn quiet_with_defaults() {
        let t = "ARG TAG=3.20\nFROM alpine:${TAG}\nFROM alpine:${NOPE:-3.20}\n";
        assert!(run_dockerfile(&InvalidDefaultArgInFrom, t).is_empty());
    }
}
