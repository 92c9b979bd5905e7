//! HUSK-D025: a blank line inside a continued instruction (BuildKit's NoEmptyContinuation).

use husk_dockerfile::Span;

use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct NoEmptyContinuation;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D025",
    name: "empty-continuation-line",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "A blank line inside an instruction continued with a backslash",
    explanation: "An empty line after a line continuation is skipped today, but BuildKit warns that empty continuation lines will become errors in a future release; and a reader easily takes the blank line for the end of the instruction.",
    fix: "Delete the blank line, or end the instruction before it.",
    references: &[Reference::Buildkit("NoEmptyContinuation")],
};

impl Rule for NoEmptyContinuation {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        let df = &file.file;
        let spans = df
            .stages
            .iter()
            .flat_map(|s| std::iter::once(s.span).chain(s.instructions.iter().map(|i| i.span)));
        for span in spans {
            let lines = span.start.line..span.end.line;
            // Here-documents keep their blank lines: they are content, not continuations.
            if lines.clone().any(|l| df.source_line(l).contains("<<")) {
                continue;
            }
            if let Some(blank) = lines.skip(1).find(|l| df.source_line(*l).trim().is_empty()) {
                let at = Span {
                    start: husk_dockerfile::Pos {
                        line: blank,
                        column: 1,
                    },
                    end: husk_dockerfile::Pos {
                        line: blank,
                        column: 1,
                    },
                };
                out.at(
                    at,
                    format!(
                        "line {blank} is an empty continuation line of the instruction on line {}",
                        span.start.line
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
    fn fires_for_a_blank_continuation() {
        let t = "FROM alpine:3.20\nRUN apk add \\\n\n    curl\n";
        let f = run_dockerfile(&NoEmptyContinuation, t);
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("line 3"), "{}", f[0].message);
    }

    #[test]
    fn quiet_for_comments_and_heredocs() {
        let t = "FROM alpine:3.20\nRUN apk add \\\n    # a comment\n    curl\nRUN <<EOF\necho a\n\necho b\nEOF\n";
        assert!(run_dockerfile(&NoEmptyContinuation, t).is_empty());
    }
}
