//! HUSK-D011: USER by name in a stage that has no /etc/passwd.

use husk_dockerfile::Kind;

use super::{inherits_any, scratch_based};
use crate::rule::{DockerfileFacts, Emit, Rule, RuleInfo, Severity, Target};

pub struct NamedUserNoPasswd;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D011",
    name: "named-user-without-passwd",
    target: Target::Dockerfile,
    severity: Severity::High,
    summary: "USER names a user in a FROM-scratch stage that has no /etc/passwd",
    explanation: "A user *name* is looked up in the image's /etc/passwd when the container starts. A stage built FROM scratch has no passwd unless one is copied in, so `USER app` makes every `docker run` fail with \"unable to find user app\".",
    fix: "Use a numeric user (`USER 65532:65532`), or copy /etc/passwd and /etc/group with that user from a build stage.",
    references: &[],
};

impl Rule for NamedUserNoPasswd {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        let df = &file.file;
        // Per stage, once for the file (a chain of scratch stages stays linear).
        let scratch = scratch_based(df);
        let has_passwd = inherits_any(df, |i| match &i.kind {
            Kind::Copy { dest, sources, .. } | Kind::Add { dest, sources, .. } => dest == "/"
                || dest.starts_with("/etc")
                || sources.iter().any(
                    |c| matches!(c, husk_dockerfile::CopySource::Path(p) if p.ends_with("passwd")),
                ),
            _ => false,
        });
        for s in &df.stages {
            let on_scratch = scratch.get(s.index).copied().unwrap_or(false);
            let passwd = has_passwd.get(s.index).copied().unwrap_or(true);
            if !on_scratch || passwd {
                continue;
            }
            for i in &s.instructions {
                if let Kind::User { user, .. } = &i.kind
                    && !user.is_empty()
                    && !user.bytes().all(|b| b.is_ascii_digit())
                    && !user.starts_with('$')
                {
                    out.at(
                        i.span,
                        format!("USER {user} is a name, but this scratch stage has no /etc/passwd"),
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
    fn fires_without_passwd() {
        assert_eq!(
            run_dockerfile(&NamedUserNoPasswd, "FROM scratch\nUSER app\n").len(),
            1
        );
    }

    #[test]
    fn quiet_with_passwd_or_numbers() {
        let t =
            "FROM alpine:3 AS b\nFROM scratch\nCOPY --from=b /etc/passwd /etc/passwd\nUSER app\n";
        assert!(run_dockerfile(&NamedUserNoPasswd, t).is_empty());
        assert!(run_dockerfile(&NamedUserNoPasswd, "FROM scratch\nUSER 1000\n").is_empty());
    }
}
