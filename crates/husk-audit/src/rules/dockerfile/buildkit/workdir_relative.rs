//! HUSK-D030: a relative WORKDIR with no absolute one before it (BuildKit's
//! WorkdirRelativePath, hadolint's DL3000).

use husk_dockerfile::{BaseImage, Kind};

use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct WorkdirRelative;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D030",
    name: "workdir-relative",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "A relative WORKDIR with no absolute WORKDIR before it",
    explanation: "A relative WORKDIR is resolved against the working directory the base image happens to set; when the base image changes it, every following instruction runs somewhere else.",
    fix: "Use an absolute path (`WORKDIR /app`), or set an absolute WORKDIR first.",
    references: &[
        Reference::Buildkit("WorkdirRelativePath"),
        Reference::Hadolint("DL3000"),
    ],
};

impl Rule for WorkdirRelative {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        let df = &file.file;
        // Per stage, in order: whether an absolute WORKDIR is set by its end.
        let mut set: Vec<bool> = Vec::with_capacity(df.stages.len());
        for s in &df.stages {
            let mut absolute = match s.base {
                BaseImage::Stage { index } => set.get(index).copied().unwrap_or(false),
                _ => false,
            };
            for i in &s.instructions {
                let Kind::Workdir { path } = &i.kind else {
                    continue;
                };
                let path = path.trim_matches('"');
                if path.starts_with('/') || path.starts_with('$') {
                    absolute = true;
                } else if !absolute {
                    out.at(
                        i.span,
                        format!("WORKDIR {path} is relative to whatever the base image sets"),
                    );
                }
            }
            set.push(absolute);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::run_dockerfile;

    #[test]
    fn fires_for_a_first_relative_workdir() {
        assert_eq!(
            run_dockerfile(&WorkdirRelative, "FROM alpine:3.20\nWORKDIR app\n").len(),
            1
        );
    }

    #[test]
    fn quiet_after_an_absolute_one() {
        let t = "FROM alpine:3.20 AS b\nWORKDIR /src\nFROM b\nWORKDIR app\nWORKDIR $HOME\n";
        assert!(run_dockerfile(&WorkdirRelative, t).is_empty());
    }
}
