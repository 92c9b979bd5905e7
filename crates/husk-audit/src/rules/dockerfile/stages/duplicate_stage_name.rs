//! HUSK-D021: two stages with the same name (BuildKit's DuplicateStageName).

use std::collections::HashMap;

use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct DuplicateStageName;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D021",
    name: "duplicate-stage-name",
    target: Target::Dockerfile,
    severity: Severity::High,
    summary: "Two stages have the same name",
    explanation: "Stage names are compared case-insensitively and must be unique: BuildKit refuses the Dockerfile, and older builders silently resolve `--from` to one of the two.",
    fix: "Rename one of the stages and update the `--from` and `FROM` that name it.",
    references: &[
        Reference::Buildkit("DuplicateStageName"),
        Reference::Hadolint("DL3024"),
    ],
};

impl Rule for DuplicateStageName {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        let mut first: HashMap<&str, usize> = HashMap::new();
        for s in &file.file.stages {
            let Some(name) = s.name.as_deref() else {
                continue;
            };
            match first.get(name) {
                Some(&prev) => out.at(
                    s.span,
                    format!(
                        "stage name {name:?} is already used by {}",
                        file.stage_label(prev)
                    ),
                ),
                None => {
                    first.insert(name, s.index);
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
    fn fires_for_a_repeated_name_in_any_case() {
        let t = "FROM alpine:3.20 AS build\nFROM alpine:3.20 AS BUILD\nFROM scratch\n";
        assert_eq!(run_dockerfile(&DuplicateStageName, t).len(), 1);
    }

    #[test]
    fn quiet_for_distinct_names() {
        let t = "FROM alpine:3.20 AS build\nFROM alpine:3.20 AS test\nFROM scratch\n";
        assert!(run_dockerfile(&DuplicateStageName, t).is_empty());
    }
}
