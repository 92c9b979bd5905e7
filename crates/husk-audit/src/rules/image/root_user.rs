//! HUSK-I001: the container runs as root.

use crate::facts::{ImageFacts, MAX_ID};
use crate::rule::{Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct RootUser;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-I001",
    name: "root-user",
    target: Target::Image,
    severity: Severity::High,
    summary: "The container runs as root",
    explanation: "With no `User`, or `root`, `0`, `0:0`, `root:root`, or a name that the image's own /etc/passwd maps to uid 0, the process runs as root: a breakout or a writable host mount is then root on the host unless user namespaces are in use. A uid above 4294967294 is not a valid user at all: runtimes reject it or wrap it around, possibly to 0.",
    fix: "Set a numeric non-root user, e.g. `USER 65532:65532` in the Dockerfile or `husk build --user 65532:65532` (the default).",
    references: &[
        Reference::Cis("4.1"),
        Reference::Dockle("CIS-DI-0001"),
        Reference::Hadolint("DL3002"),
        Reference::Trivy("DS002"),
    ],
};

impl Rule for RootUser {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_image(&self, image: &ImageFacts, out: &mut Emit) {
        let id = image.identity();
        if id.raw.is_empty() {
            out.image("no user is set (User is empty): the container runs as root (uid 0)");
            return;
        }
        if let Ok(n) = id.user.parse::<u64>()
            && n > MAX_ID
        {
            out.image(format!(
                "user {:?}: uid {n} is out of range (largest valid uid is {MAX_ID})",
                id.raw
            ));
            return;
        }
        if id.uid == Some(0) {
            let how = if id.user == "0" {
                String::new()
            } else {
                " (the image's /etc/passwd maps it to uid 0)".to_owned()
            };
            out.image(format!("user {:?} is root{how}", id.raw));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fake, messages, run_image};

    #[test]
    fn fires_on_root_forms() {
        let base = Fake::new().base();
        for user in ["", "0", "0:0", "root", "root:root"] {
            let f = run_image(&RootUser, &base.clone().user(user).facts());
            assert_eq!(f.len(), 1, "{user:?}");
        }
        let f = run_image(&RootUser, &base.clone().user("4294967296").facts());
        assert!(messages(&f)[0].contains("out of range"));
    }

    #[test]
    fn quiet_for_numeric_non_root() {
        assert!(run_image(&RootUser, &Fake::new().base().user("65532:65532").facts()).is_empty());
        assert!(run_image(&RootUser, &Fake::new().user("1000").facts()).is_empty());
    }
}
