//! HUSK-D002: the final stage has no USER, or a root USER (also when inherited).

use super::{effective_user, is_root};
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct RootUser;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D002",
    name: "final-stage-root",
    target: Target::Dockerfile,
    severity: Severity::High,
    summary: "The final stage runs as root (no USER, or USER root/0)",
    explanation: "Without a USER instruction the image runs as its base image's user, which is root for scratch and for almost every distribution image; `USER root` or `USER 0` says so explicitly. The USER in effect is the last one of the final stage *or of the stages it is built on* (`FROM base` inherits base's USER). hadolint only checks the last USER written (and says nothing when there is none), and dockle does not treat `USER 0` as root; husk checks the USER actually in effect.",
    fix: "End the final stage with a numeric non-root user, e.g. `USER 65532:65532`.",
    references: &[
        Reference::Cis("4.1"),
        Reference::Hadolint("DL3002"),
        Reference::Dockle("CIS-DI-0001"),
        Reference::Trivy("DS002"),
    ],
};

impl Rule for RootUser {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        let df = &file.file;
        let fin = file.target_stage();
        match effective_user(df, fin.index) {
            None => out.at(
                fin.span,
                "the final stage has no USER: the container runs as the base image's user (root for scratch and most bases)",
            ),
            Some((user, _, span)) if is_root(&user) => {
                let inherited = !fin.instructions.iter().any(|i| i.span == span);
                let how = if inherited { " (inherited from an earlier stage)" } else { "" };
                out.at(span, format!("USER {user} in effect for the final stage is root{how}"));
            }
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{messages, run_dockerfile};

    #[test]
    fn fires_without_user_with_user_0_and_when_inherited() {
        assert_eq!(
            run_dockerfile(&RootUser, "FROM scratch\nCOPY a /a\n").len(),
            1
        );
        assert_eq!(run_dockerfile(&RootUser, "FROM scratch\nUSER 0\n").len(), 1);
        let m = messages(&run_dockerfile(
            &RootUser,
            "FROM alpine AS base\nUSER root\nFROM base\nRUN id\n",
        ));
        assert!(m[0].contains("inherited"), "{m:?}");
    }

    #[test]
    fn quiet_for_non_root() {
        assert!(run_dockerfile(&RootUser, "FROM scratch\nUSER 65532:65532\n").is_empty());
        assert!(run_dockerfile(&RootUser, "FROM alpine AS b\nUSER 10001\nFROM b\n").is_empty());
    }
}
