//! HUSK-I024: the working directory is not a directory, or the user cannot enter it.

use crate::facts::ImageFacts;
use crate::rule::{Emit, Rule, RuleInfo, Severity, Target};

pub struct WorkdirUnusable;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-I024",
    name: "workdir-unusable",
    target: Target::Image,
    severity: Severity::Critical,
    summary: "The working directory is not a directory the user can enter",
    explanation: "Before it executes the entrypoint the runtime changes into `WorkingDir` as the container's user. When that path is a file (or a symlink to one) or a directory without search permission for the user, the container fails at once: \"chdir to cwd (\\\"/srv\\\") set in config.json failed: not a directory\" (or \"permission denied\"). A working directory that does not exist at all is created by the runtime (HUSK-I010 notes it).",
    fix: "Point `WORKDIR` at a directory (husk build `--workdir` creates it) that the user can enter (mode 0755, or owned by the user).",
    references: &[],
};

impl Rule for WorkdirUnusable {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_image(&self, image: &ImageFacts, out: &mut Emit) {
        let workdir = image.workdir();
        let Some((p, e)) = image.lookup(&workdir) else {
            return;
        };
        let id = image.identity();
        let user = if id.raw.is_empty() {
            "0"
        } else {
            id.raw.as_str()
        };
        if !e.is_dir() {
            out.path(
                &p,
                Some(e.layer),
                format!(
                    "the working directory {workdir} is a {}, not a directory",
                    e.kind.noun()
                ),
            );
        } else if id.uid.is_some() && !id.may(e, 1) {
            out.path(
                &p,
                Some(e.layer),
                format!(
                    "user {user:?} cannot enter the working directory {workdir} (mode {:04o}, owner {}:{})",
                    e.mode, e.uid, e.gid
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fake, messages, run_image};

    #[test]
    fn fires_for_a_file_or_a_closed_directory() {
        let f = Fake::new().file("/srv", b"x").workdir("/srv").facts();
        assert!(messages(&run_image(&WorkdirUnusable, &f))[0].contains("not a directory"));
        let f = Fake::new()
            .base()
            .dir_mode("/srv", 0o700)
            .workdir("/srv")
            .facts();
        assert!(messages(&run_image(&WorkdirUnusable, &f))[0].contains("cannot enter"));
    }

    #[test]
    fn quiet_for_a_usable_or_missing_directory() {
        let f = Fake::new().base().dir("/srv").workdir("/srv").facts();
        assert!(run_image(&WorkdirUnusable, &f).is_empty());
        let f = Fake::new().base().workdir("/nowhere").facts();
        assert!(run_image(&WorkdirUnusable, &f).is_empty());
        assert!(run_image(&WorkdirUnusable, &Fake::new().facts()).is_empty());
    }
}
