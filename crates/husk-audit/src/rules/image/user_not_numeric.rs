//! HUSK-I002: the user is a name, which Kubernetes cannot check against runAsNonRoot.

use crate::facts::ImageFacts;
use crate::rule::{Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct UserNotNumeric;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-I002",
    name: "user-not-numeric",
    target: Target::Image,
    severity: Severity::Medium,
    summary: "The user is a name, not a number",
    explanation: "Kubernetes enforces `runAsNonRoot` from the image's `User` field without looking inside the image, so a name such as `app` makes the pod fail with \"image has non-numeric user (app), cannot verify user is non-root\". A name also depends on the image's /etc/passwd being present and correct.",
    fix: "Use the numeric uid (and gid) instead of the name, e.g. `USER 10001:10001`.",
    references: &[Reference::Cis("4.1"), Reference::Hadolint("DL3066")],
};

impl Rule for UserNotNumeric {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_image(&self, image: &ImageFacts, out: &mut Emit) {
        let id = image.identity();
        let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !id.user.is_empty() && !numeric(&id.user) {
            let uid = id.uid.map_or_else(String::new, |u| {
                format!(" (uid {u} in the image's /etc/passwd)")
            });
            out.image(format!("user {:?} is a name{uid}", id.user));
        } else if let Some(g) = id.group.as_deref().filter(|g| !numeric(g)) {
            out.image(format!("group {g:?} is a name"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fake, run_image};

    #[test]
    fn fires_for_names() {
        assert_eq!(
            run_image(&UserNotNumeric, &Fake::new().base().user("nonroot").facts()).len(),
            1
        );
        assert_eq!(
            run_image(
                &UserNotNumeric,
                &Fake::new().base().user("1:nonroot").facts()
            )
            .len(),
            1
        );
    }

    #[test]
    fn quiet_for_numbers() {
        assert!(run_image(&UserNotNumeric, &Fake::new().base().facts()).is_empty());
    }
}
