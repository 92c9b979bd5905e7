//! HUSK-I010: the user's home or the working directory is not usable by that user.

use crate::facts::ImageFacts;
use crate::rule::{Emit, Rule, RuleInfo, Severity, Target};

pub struct UnusableHome;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-I010",
    name: "unusable-home-or-workdir",
    target: Target::Image,
    severity: Severity::Low,
    summary: "The user's home directory or the working directory is not usable by the user",
    explanation: "The runtime sets `HOME` from the image's /etc/passwd and starts in `WorkingDir`. A working directory that does not exist is created by the runtime owned by root; one the user cannot enter makes the start fail. A home the user cannot write breaks every tool that keeps state or caches there (~/.cache, ~/.config).",
    fix: "Create the home owned by the user (husk build makes it 0700 uid:gid) and a working directory the user can enter.",
    references: &[],
};

impl Rule for UnusableHome {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_image(&self, image: &ImageFacts, out: &mut Emit) {
        let id = image.identity();
        if id.uid.is_none_or(|u| u == 0) {
            return;
        }
        let who = format!("user {:?}", id.raw);
        let workdir = image.workdir();
        // A file or a directory the user cannot enter is HUSK-I024's (it blocks start).
        if workdir != "/" && image.lookup(&workdir).is_none() {
            out.image(format!(
                "the working directory {workdir} does not exist (the runtime creates it owned by root)"
            ));
        }
        let Some(home) = id.passwd.as_ref().map(|p| p.home.clone()) else {
            return;
        };
        if home.is_empty() || home == "/" || home == "/nonexistent" {
            return;
        }
        match image.lookup(&home) {
            None => out.path(
                &home,
                None,
                format!("the home directory of {who}, {home}, does not exist"),
            ),
            Some((p, e)) if !e.is_dir() || !id.may(e, 3) => out.path(
                &p,
                Some(e.layer),
                format!(
                    "{who} cannot write its home directory {home} (mode {:04o}, owner {}:{})",
                    e.mode, e.uid, e.gid
                ),
            ),
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fake, run_image};

    #[test]
    fn fires_for_root_owned_home_and_missing_workdir() {
        let f = Fake::new()
            .base()
            .dir_mode("/home/nonroot", 0o755)
            .workdir("/srv")
            .facts();
        assert_eq!(run_image(&UnusableHome, &f).len(), 2);
    }

    #[test]
    fn quiet_for_the_users_own_home() {
        assert!(run_image(&UnusableHome, &Fake::new().base().facts()).is_empty());
    }
}
