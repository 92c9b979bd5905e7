//! HUSK-D027: CMD/ENTRYPOINT in shell form in an image with a shell (BuildKit's
//! JSONArgsRecommended). Scratch images are HUSK-D009's.

use husk_dockerfile::{BaseImage, Command, Kind};

use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct JsonArgsRecommended;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D027",
    name: "shell-form-entrypoint",
    target: Target::Dockerfile,
    severity: Severity::Medium,
    summary: "CMD or ENTRYPOINT in shell form: signals go to /bin/sh, not to the program",
    explanation: "Shell form runs `/bin/sh -c \"<text>\"`: the shell is PID 1 and receives SIGTERM on `docker stop`, which a non-interactive `sh` neither handles nor forwards. The program never sees it and is killed after the grace period (10 s by default) without a chance to shut down cleanly. Exec (JSON) form runs the program itself as PID 1.",
    fix: "Write it in exec form: `ENTRYPOINT [\"/app\", \"--flag\"]`; if a shell is needed, end the script with `exec \"$@\"` or `exec program`.",
    references: &[
        Reference::Buildkit("JSONArgsRecommended"),
        Reference::Hadolint("DL3025"),
    ],
};

impl Rule for JsonArgsRecommended {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        let df = &file.file;
        // Per stage, in order: whether its chain starts from scratch.
        let mut scratch: Vec<bool> = Vec::with_capacity(df.stages.len());
        for s in &df.stages {
            scratch.push(match s.base {
                BaseImage::Scratch => true,
                BaseImage::Stage { index } => scratch.get(index).copied().unwrap_or(false),
                BaseImage::Image(_) => false,
            });
            // An explicit SHELL says the shell form is deliberate (BuildKit skips it too).
            let shell_set = s
                .instructions
                .iter()
                .any(|i| matches!(i.kind, Kind::Shell { .. }));
            if shell_set || scratch.last().copied().unwrap_or(false) {
                continue;
            }
            for i in &s.instructions {
                let (what, command) = match &i.kind {
                    Kind::Cmd { command } => ("CMD", command),
                    Kind::Entrypoint { command } => ("ENTRYPOINT", command),
                    _ => continue,
                };
                if let Command::Shell(text) = command
                    && !text.trim_start().starts_with("exec ")
                {
                    out.at_stage(
                        file,
                        s.index,
                        i.span,
                        format!(
                            "{what} {text} is in shell form: the program does not receive SIGTERM"
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
    fn fires_for_shell_form() {
        let t = "FROM alpine:3.20\nENTRYPOINT /app --serve\nCMD run\n";
        assert_eq!(run_dockerfile(&JsonArgsRecommended, t).len(), 2);
    }

    #[test]
    fn quiet_for_exec_form_shell_and_scratch() {
        let t = "FROM alpine:3.20 AS a\nENTRYPOINT [\"/app\"]\nCMD exec /app\n\
                 FROM alpine:3.20 AS b\nSHELL [\"/bin/bash\", \"-c\"]\nCMD /app\n\
                 FROM scratch\nCMD /app\n";
        assert!(run_dockerfile(&JsonArgsRecommended, t).is_empty());
    }
}
