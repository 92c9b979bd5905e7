//! HUSK-D039: a comment right above a named stage or an ARG that does not start with its
//! name (BuildKit's experimental InvalidDefinitionDescription).

use husk_dockerfile::{Kind, Span};

use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct InvalidDefinitionDescription;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D039",
    name: "definition-description",
    target: Target::Dockerfile,
    severity: Severity::Info,
    summary: "The comment above a stage or ARG does not start with its name",
    explanation: "Tools that document a build (`docker buildx build --call=outline`) take the comment right above `FROM ... AS name` or `ARG name` as its description when it starts with the name: `# build compiles the server`. A comment there that is not a description is better separated by a blank line.",
    fix: "Start the comment with the name (`# name does ...`), or put a blank line between it and the instruction.",
    references: &[Reference::Buildkit("InvalidDefinitionDescription")],
};

fn check(file: &DockerfileFacts, out: &mut Emit, span: Span, name: &str) {
    let Some(above) = span.start.line.checked_sub(1).filter(|l| *l > 0) else {
        return;
    };
    let line = file.file.source_line(above).trim();
    let Some(comment) = line.strip_prefix('#') else {
        return;
    };
    // A comment block that reaches the top of the file is the file's header.
    if (1..above).all(|l| file.file.source_line(l).trim_start().starts_with('#')) {
        return;
    }
    let first = comment.split_whitespace().next().unwrap_or_default();
    // Parser directives and tool pragmas are not descriptions.
    if first.contains('=') || matches!(first, "husk" | "hadolint" | "syntax" | "escape" | "check") {
        return;
    }
    if !first.eq_ignore_ascii_case(name) {
        out.at(
            span,
            format!(
                "the comment on line {above} describes {name} but does not start with {name:?}"
            ),
        );
    }
}

impl Rule for InvalidDefinitionDescription {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        let df = &file.file;
        for (span, args) in df.global_arg_spans.iter().zip(&df.global_args) {
            check(file, out, *span, &args.0);
        }
        for s in &df.stages {
            if let Some(n) = s.name_as_written.as_deref() {
                check(file, out, s.span, n);
            }
            for i in &s.instructions {
                if let Kind::Arg { args } = &i.kind
                    && let [(name, _)] = args.as_slice()
                {
                    check(file, out, i.span, name);
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
    fn fires_for_an_unrelated_comment() {
        let t = "# header\n\n# the version\nARG V=1\n# compile it\nFROM alpine:3.20 AS build\n";
        assert_eq!(run_dockerfile(&InvalidDefinitionDescription, t).len(), 2);
    }

    #[test]
    fn quiet_for_descriptions_and_separated_comments() {
        let t = "# a file header\nFROM alpine:3.20 AS a\n# V is the version\nARG V=1\n# a note\n\nFROM alpine:3.20 AS build\n# hadolint ignore=DL3008\nARG X\n";
        assert!(run_dockerfile(&InvalidDefinitionDescription, t).is_empty());
    }
}
