//! HUSK-I003: a named user or group that the image's own passwd/group files lack.

use crate::facts::{ImageFacts, parse_group};
use crate::rule::{Emit, Rule, RuleInfo, Severity, Target};

pub struct UnknownUser;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-I003",
    name: "unknown-user",
    target: Target::Image,
    severity: Severity::Critical,
    summary: "The named user or group does not exist in the image",
    explanation: "The runtime resolves a user or group *name* with the image's own /etc/passwd and /etc/group (never the host's), following symlinks inside the image. When the file or the entry is missing the container does not start: \"unable to find user app: no matching entries in passwd file\". FROM-scratch images have no passwd unless one is copied in.",
    fix: "Use numeric ids (`USER 65532:65532`), or add /etc/passwd and /etc/group entries for the name (husk build writes them).",
    references: &[],
};

impl Rule for UnknownUser {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_image(&self, image: &ImageFacts, out: &mut Emit) {
        let id = image.identity();
        let named = |s: &str| !s.is_empty() && !s.bytes().all(|b| b.is_ascii_digit());
        if named(&id.user) && id.passwd.is_none() {
            match image.lookup("/etc/passwd") {
                None => out.image(format!(
                    "user {:?} is a name but the image has no /etc/passwd",
                    id.user
                )),
                Some((path, _)) => out.path(
                    &path,
                    None,
                    format!("user {:?} is not in the image's /etc/passwd", id.user),
                ),
            }
        }
        if let Some(g) = id.group.as_deref().filter(|g| named(g)) {
            let groups = image.bytes("/etc/group").map(parse_group);
            match groups {
                None => out.image(format!(
                    "group {g:?} is a name but the image has no /etc/group"
                )),
                Some(list) if !list.iter().any(|(n, _)| n == g) => out.path(
                    "/etc/group",
                    None,
                    format!("group {g:?} is not in the image's /etc/group"),
                ),
                Some(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fake, run_image};

    #[test]
    fn fires_without_passwd_or_entry() {
        assert_eq!(
            run_image(&UnknownUser, &Fake::new().user("app").facts()).len(),
            1
        );
        assert_eq!(
            run_image(&UnknownUser, &Fake::new().base().user("app:staff").facts()).len(),
            2
        );
    }

    #[test]
    fn quiet_when_present_even_through_a_symlink() {
        let f = Fake::new()
            .symlink("/etc/passwd", "/usr/lib/passwd")
            .file("/usr/lib/passwd", b"app:x:10:10::/:/sbin/nologin\n")
            .user("app")
            .facts();
        assert!(run_image(&UnknownUser, &f).is_empty());
        assert!(run_image(&UnknownUser, &Fake::new().user("10:10").facts()).is_empty());
    }
}
