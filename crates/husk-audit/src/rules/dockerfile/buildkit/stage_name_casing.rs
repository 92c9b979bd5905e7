//! HUSK-D023: a stage name with upper-case letters (BuildKit's StageNameCasing).

use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct StageNameCasing;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D023",
    name: "stage-name-casing",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "A stage name has upper-case letters",
    explanation: "Stage names are case-insensitive: `AS Build` is the stage `build`, and `--target Build`, `--from=BUILD` all mean it. Writing them in lower case keeps them from looking like image names or different stages.",
    fix: "Write the stage name in lower case, here and wherever it is named.",
    references: &[Reference::Buildkit("StageNameCasing")],
};

impl Rule for StageNameCasing {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        for s in &file.file.stages {
            if let Some(n) = s.name_as_written.as_deref()
                && n.chars().any(|c| c.is_ascii_uppercase())
            {
                out.at(
                    s.span,
                    format!(
                        "stage name {n:?} should be lower case: {:?}",
                        n.to_ascii_lowercase()
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
    fn fires_for_upper_case() {
        assert_eq!(
            run_dockerfile(&StageNameCasing, "FROM scratch AS PROD\n").len(),
            1
        );
    }

    #[test]
    fn quiet_for_lower_case() {
        assert!(run_dockerfile(&StageNameCasing, "FROM scratch AS prod-1\n").is_empty());
    }
}
