//! HUSK-D009: shell-form ENTRYPOINT, CMD or HEALTHCHECK in a FROM-scratch final stage.

use husk_dockerfile::{Command, Kind};

use super::{from_scratch, inherited};
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct ShellFormScratch;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D009",
    name: "shell-form-in-scratch",
    target: Target::Dockerfile,
    severity: Severity::High,
    summary: "Shell-form ENTRYPOINT/CMD/HEALTHCHECK in an image built FROM scratch",
    explanation: "The shell form (`CMD /app --serve`) is run as `/bin/sh -c \"/app --serve\"`, and a FROM-scratch image has no /bin/sh, so the container (or its healthcheck) fails with \"no such file or directory\". The exec form runs the program directly. Not reported when the Dockerfile copies something into /bin.",
    fix: "Use the JSON exec form: `ENTRYPOINT [\"/app\", \"--serve\"]`, `HEALTHCHECK CMD [\"/app\", \"--health\"]`.",
    references: &[Reference::Hadolint("DL3025")],
};

impl Rule for ShellFormScratch {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        let df = &file.file;
        let fin = file.target_stage().index;
        if !from_scratch(df, fin) {
            return;
        }
        let all = inherited(df, fin);
        let has_bin = all.iter().any(|i| match &i.kind {
            Kind::Copy { dest, .. } | Kind::Add { dest, .. } => {
                dest == "/" || dest.starts_with("/bin")
            }
            _ => false,
        });
        if has_bin {
            return;
        }
        for i in all {
            let (what, cmd) = match &i.kind {
                Kind::Entrypoint { command } => ("ENTRYPOINT", Some(command)),
                Kind::Cmd { command } => ("CMD", Some(command)),
                Kind::Healthcheck { command, .. } => ("HEALTHCHECK CMD", command.as_ref()),
                _ => continue,
            };
            if let Some(Command::Shell(text)) = cmd {
                out.at(i.span, format!("{what} {text} is in shell form and needs /bin/sh, which a scratch image lacks"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::run_dockerfile;

    #[test]
    fn fires_for_shell_form_on_scratch() {
        let t = "FROM scratch\nCOPY app /app\nENTRYPOINT /app\nHEALTHCHECK CMD /app health\n";
        assert_eq!(run_dockerfile(&ShellFormScratch, t).len(), 2);
    }

    #[test]
    fn quiet_for_exec_form_or_distro_bases() {
        assert!(
            run_dockerfile(&ShellFormScratch, "FROM scratch\nENTRYPOINT [\"/app\"]\n").is_empty()
        );
        assert!(run_dockerfile(&ShellFormScratch, "FROM alpine:3\nCMD /app\n").is_empty());
    }
}
