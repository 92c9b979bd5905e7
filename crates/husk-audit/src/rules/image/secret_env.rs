//! HUSK-I015: secret-looking environment variables in the image config.

use crate::content::secret_name;
use crate::facts::ImageFacts;
use crate::rule::{Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct SecretEnv;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-I015",
    name: "secret-env",
    target: Target::Image,
    severity: Severity::High,
    summary: "An environment variable in the image config looks like a secret",
    explanation: "`Env` is stored in the image config, in clear, for anyone who can pull the image (`husk inspect`, `docker inspect`), and is inherited by every process. Names such as *_PASSWORD, *_TOKEN, *_SECRET, API_KEY with a value are almost always credentials baked in at build time. Names ending in _FILE, _PATH or _DIR point at secrets instead and are fine.",
    fix: "Pass secrets at run time (orchestrator secrets, mounted files, `docker run -e`), never with `ENV` or `husk build --env`.",
    references: &[
        Reference::Dockle("CIS-DI-0010"),
        Reference::Trivy("secret scanning"),
    ],
};

impl Rule for SecretEnv {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_image(&self, image: &ImageFacts, out: &mut Emit) {
        for kv in image.runtime().env.unwrap_or_default() {
            let (k, v) = kv.split_once('=').unwrap_or((&kv, ""));
            if secret_name(k) && !v.trim().is_empty() {
                out.image(format!(
                    "environment variable {k} has a value ({} characters)",
                    v.len()
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fake, run_image};

    #[test]
    fn fires_for_a_password() {
        assert_eq!(
            run_image(&SecretEnv, &Fake::new().env("DB_PASSWORD=hunter2").facts()).len(),
            1
        );
    }

    #[test]
    fn quiet_for_files_and_empty_values() {
        let f = Fake::new()
            .env("DB_PASSWORD_FILE=/run/secrets/db")
            .env("API_TOKEN=")
            .env("PATH=/bin")
            .facts();
        assert!(run_image(&SecretEnv, &f).is_empty());
    }
}
