//! HUSK-D033: `ENV key value` / `LABEL key value` (BuildKit's LegacyKeyValueFormat).

use husk_dockerfile::Kind;

use super::after_keyword;
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct LegacyKeyValue;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D033",
    name: "legacy-key-value",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "ENV or LABEL uses the legacy `key value` form",
    explanation: "`ENV key value` takes everything after the first space as the value, spaces and quotes included; `ENV A B=1` sets `A` to `B=1`. The `key=value` form is unambiguous and sets several keys at once.",
    fix: "Write `ENV key=value` (quote values with spaces).",
    references: &[Reference::Buildkit("LegacyKeyValueFormat")],
};

impl Rule for LegacyKeyValue {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        let df = &file.file;
        for s in &df.stages {
            for i in &s.instructions {
                let what = match i.kind {
                    Kind::Env { .. } => "ENV",
                    Kind::Label { .. } => "LABEL",
                    _ => continue,
                };
                let first = after_keyword(df, i.span)
                    .split_whitespace()
                    .next()
                    .unwrap_or_default();
                if !first.is_empty() && !first.contains('=') && first != df.escape.to_string() {
                    out.at(
                        i.span,
                        format!(
                            "{what} {first} ... uses the legacy form: write {what} {first}=<value>"
                        ),
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
    fn fires_for_the_legacy_form() {
        let t = "FROM scratch\nENV A 1\nLABEL maintainer me\n";
        assert_eq!(run_dockerfile(&LegacyKeyValue, t).len(), 2);
    }

    #[test]
    fn quiet_for_key_value() {
        let t = "FROM scratch\nENV A=1 B=\"two words\"\nLABEL \\\n  a=b\n";
        assert!(run_dockerfile(&LegacyKeyValue, t).is_empty());
    }
}
