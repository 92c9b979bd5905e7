//! HUSK-I018: no healthcheck.

use crate::facts::ImageFacts;
use crate::rule::{Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct NoHealthcheck;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-I018",
    name: "no-healthcheck",
    target: Target::Image,
    severity: Severity::Info,
    summary: "The image defines no healthcheck",
    explanation: "Docker and podman use the image's healthcheck to mark a running container unhealthy (and orchestrators built on them restart it). Kubernetes ignores it and uses probes instead, so this is informational. In a FROM-scratch image the healthcheck must be the program itself (`/app --health`), since there is no curl or shell.",
    fix: "Add an exec-form healthcheck that the image can run, e.g. `HEALTHCHECK CMD [\"/app\", \"--health\"]` or `husk build --healthcheck /app --healthcheck --health`.",
    references: &[Reference::Cis("4.6"), Reference::Dockle("CIS-DI-0006")],
};

impl Rule for NoHealthcheck {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_image(&self, image: &ImageFacts, out: &mut Emit) {
        let test = image
            .runtime()
            .healthcheck
            .and_then(|h| h.test)
            .unwrap_or_default();
        match test.first().map(String::as_str) {
            None => out.image("no healthcheck is defined"),
            Some("NONE") => out.image("the healthcheck is disabled (NONE)"),
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fake, run_image};

    #[test]
    fn fires_without() {
        assert_eq!(run_image(&NoHealthcheck, &Fake::new().facts()).len(), 1);
    }

    #[test]
    fn quiet_with_one() {
        assert!(
            run_image(
                &NoHealthcheck,
                &Fake::new().healthcheck(&["CMD", "/app", "health"]).facts()
            )
            .is_empty()
        );
    }
}
