//! HUSK-D024: `FROM x as y` with the two keywords in different cases (BuildKit's
//! FromAsCasing).

use super::{after_keyword, keyword};
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct FromAsCasing;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D024",
    name: "from-as-casing",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "The AS keyword is not in the same case as FROM",
    explanation: "`FROM golang:1.23 as build` mixes an upper-case instruction with a lower-case keyword; BuildKit warns about it. Consistent casing keeps a Dockerfile easy to scan.",
    fix: "Write `FROM ... AS name` (or `from ... as name`).",
    references: &[Reference::Buildkit("FromAsCasing")],
};

fn is_upper(s: &str) -> bool {
    !s.chars().any(|c| c.is_ascii_lowercase())
}

impl Rule for FromAsCasing {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        let df = &file.file;
        for s in &df.stages {
            if s.name.is_none() {
                continue;
            }
            let from = keyword(df, s.span);
            let words: Vec<&str> = after_keyword(df, s.span).split_whitespace().collect();
            let Some(as_kw) = words
                .iter()
                .rev()
                .nth(1)
                .filter(|w| w.eq_ignore_ascii_case("as"))
            else {
                continue;
            };
            let upper_from = is_upper(from);
            if upper_from != is_upper(as_kw)
                || (!upper_from && as_kw.chars().any(|c| c.is_ascii_uppercase()))
            {
                out.at(
                    s.span,
                    format!("'{as_kw}' does not match the case of '{from}'"),
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
    fn fires_for_mixed_case() {
        let t = "FROM alpine:3.20 as build\nfrom alpine:3.20 AS b2\nFROM scratch\n";
        assert_eq!(run_dockerfile(&FromAsCasing, t).len(), 2);
    }

    #[test]
    fn quiet_for_matching_case() {
        let t = "FROM alpine:3.20 AS build\nfrom alpine:3.20 as b2\nFROM scratch\n";
        assert!(run_dockerfile(&FromAsCasing, t).is_empty());
    }
}
