//! HUSK-I019: the healthcheck calls a program the image does not have.

use crate::facts::ImageFacts;
use crate::rule::{Emit, Rule, RuleInfo, Severity, Target};

pub struct HealthcheckProgram;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-I019",
    name: "healthcheck-program-missing",
    target: Target::Image,
    severity: Severity::High,
    summary: "The healthcheck runs a program that is not in the image",
    explanation: "A healthcheck is executed inside the container. `CMD-SHELL` (the shell form) needs /bin/sh, and the usual `curl -f http://localhost/` needs curl: neither exists in a minimal image, so the check always fails and the container is reported unhealthy (and restarted in a loop by some orchestrators) although the service is fine.",
    fix: "Use an exec-form healthcheck that runs a program in the image, typically the service itself with a health flag: `HEALTHCHECK CMD [\"/app\", \"--health\"]`.",
    references: &[],
};

impl Rule for HealthcheckProgram {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_image(&self, image: &ImageFacts, out: &mut Emit) {
        let test = image
            .runtime()
            .healthcheck
            .and_then(|h| h.test)
            .unwrap_or_default();
        let (path, wd) = (image.path_var(), image.workdir());
        match test.first().map(String::as_str) {
            Some("CMD-SHELL") => {
                if image.find_program("/bin/sh", &path, &wd).is_none() {
                    out.image(format!(
                        "the healthcheck is in shell form ({:?}) but the image has no /bin/sh",
                        test[1..].join(" ")
                    ));
                } else if let Some(prog) = test.get(1).and_then(|c| c.split_whitespace().next())
                    && image.find_program(prog, &path, &wd).is_none()
                {
                    out.image(format!(
                        "the healthcheck runs {prog:?}, which is not in the image"
                    ));
                }
            }
            Some("CMD") => {
                if let Some(prog) = test.get(1)
                    && image.find_program(prog, &path, &wd).is_none()
                {
                    out.image(format!(
                        "the healthcheck runs {prog:?}, which is not in the image"
                    ));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fake, run_image};

    #[test]
    fn fires_for_curl_and_shell_form() {
        let f = Fake::new()
            .healthcheck(&["CMD", "curl", "-f", "http://localhost/"])
            .facts();
        assert_eq!(run_image(&HealthcheckProgram, &f).len(), 1);
        let f = Fake::new()
            .healthcheck(&["CMD-SHELL", "curl -f http://localhost/ || exit 1"])
            .facts();
        assert_eq!(run_image(&HealthcheckProgram, &f).len(), 1);
    }

    #[test]
    fn quiet_when_the_program_exists() {
        let f = Fake::new()
            .exe("/app", b"x")
            .healthcheck(&["CMD", "/app", "--health"])
            .facts();
        assert!(run_image(&HealthcheckProgram, &f).is_empty());
    }
}
