//! HUSK-I014: private keys, tokens and credential files in any layer, deleted or not.

use crate::facts::ImageFacts;
use crate::rule::{Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct Secrets;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-I014",
    name: "secrets-in-layers",
    target: Target::Image,
    severity: Severity::Critical,
    summary: "A private key, token or credentials file is in a layer",
    explanation: "Every layer is shipped and can be unpacked by anyone who can pull the image, so a file deleted by a later layer (`RUN rm id_rsa`) is still there in the layer that added it. husk reads every file of every layer and looks for PEM/OpenSSH/PKCS#8 private keys, cloud and forge tokens (AWS, GitHub, GitLab, Slack, Google, Stripe, npm, PyPI), and credential files (.docker/config.json, .aws/credentials, .npmrc, .pypirc, .netrc, .git-credentials, id_rsa, .env with secrets, PKCS#12 stores).",
    fix: "Revoke the secret, then keep it out of the build: use BuildKit secret mounts (`RUN --mount=type=secret,...`), a .dockerignore, or a build stage whose files are not copied into the final image.",
    references: &[
        Reference::Cis("4.10"),
        Reference::Dockle("CIS-DI-0010"),
        Reference::Dockle("DKL-DI-0005"),
        Reference::Trivy("secret scanning"),
    ],
};

impl Rule for Secrets {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_image(&self, image: &ImageFacts, out: &mut Emit) {
        for s in &image.secrets {
            let status = if s.visible {
                String::new()
            } else {
                " (deleted or replaced by a later layer, still in this one)".to_owned()
            };
            out.path(&s.path, Some(s.layer), format!("{}{status}", s.what));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fake, messages, run_image};

    #[test]
    fn fires_for_deleted_keys_too() {
        let f = Fake::new()
            .secret(0, "/root/.ssh/id_rsa", "an OpenSSH private key", false)
            .facts();
        assert!(messages(&run_image(&Secrets, &f))[0].contains("deleted"));
    }

    #[test]
    fn quiet_without() {
        assert!(run_image(&Secrets, &Fake::new().base().facts()).is_empty());
    }
}
