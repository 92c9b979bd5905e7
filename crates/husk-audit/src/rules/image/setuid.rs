//! HUSK-I011: setuid or setgid files.

use husk_layer::ImagePath;

use crate::facts::ImageFacts;
use crate::rule::{Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct Setuid;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-I011",
    name: "setuid-files",
    target: Target::Image,
    severity: Severity::Medium,
    summary: "The image contains setuid or setgid files",
    explanation: "A setuid/setgid program runs with its owner's or group's privileges whoever starts it: with a root-owned one, any code execution as the non-root user is one bug away from root. Containers rarely need any.",
    fix: "Remove the bits (`chmod u-s,g-s FILE`) or the files; run with `--security-opt no-new-privileges` as defence in depth.",
    references: &[Reference::Cis("4.8"), Reference::Dockle("CIS-DI-0008")],
};

impl Rule for Setuid {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_image(&self, image: &ImageFacts, out: &mut Emit) {
        for (p, e) in image.files.walk(&ImagePath::root()) {
            if e.is_file() && e.mode & 0o6000 != 0 {
                let what = match (e.mode & 0o4000 != 0, e.mode & 0o2000 != 0) {
                    (true, true) => "setuid and setgid",
                    (true, false) => "setuid",
                    _ => "setgid",
                };
                out.path(
                    p,
                    Some(e.layer),
                    format!("{what} (mode {:04o}, owner {}:{})", e.mode, e.uid, e.gid),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fake, run_image};

    #[test]
    fn fires_for_setuid() {
        let f = Fake::new().file_mode("/usr/bin/su", b"x", 0o4755).facts();
        assert_eq!(run_image(&Setuid, &f).len(), 1);
    }

    #[test]
    fn quiet_for_plain_modes() {
        let f = Fake::new()
            .file_mode("/app", b"x", 0o555)
            .dir_mode("/tmp", 0o1777)
            .facts();
        assert!(run_image(&Setuid, &f).is_empty());
    }
}
