//! HUSK-D008: secrets in ENV or ARG.

use husk_dockerfile::Kind;

use crate::content::secret_name;
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct SecretArgEnv;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D008",
    name: "secret-in-env-or-arg",
    target: Target::Dockerfile,
    severity: Severity::High,
    summary: "A secret is passed with ENV or ARG",
    explanation: "ENV values are stored in the image config for anyone to read. ARG values are not, but every RUN that uses them records them in the image history (`docker history --no-trunc`) and in build caches. Names such as *_PASSWORD, *_TOKEN, *_SECRET, API_KEY are treated as secrets; names ending in _FILE/_PATH/_DIR are not.",
    fix: "Use a BuildKit secret mount (`RUN --mount=type=secret,id=token ...`) at build time, and runtime secrets (orchestrator secrets, mounted files) for the container.",
    references: &[
        Reference::Dockle("CIS-DI-0010"),
        Reference::Trivy("secret scanning"),
        Reference::Buildkit("SecretsUsedInArgOrEnv"),
        Reference::Hadolint("DL3064"),
    ],
};

impl Rule for SecretArgEnv {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        let df = &file.file;
        for ((k, _), span) in df.global_args.iter().zip(&df.global_arg_spans) {
            if secret_name(k) {
                out.at(*span, format!("global ARG {k} looks like a secret (build arguments end up in the image history)"));
            }
        }
        for s in &df.stages {
            for i in &s.instructions {
                match &i.kind {
                    Kind::Env { pairs } => {
                        for (k, v) in pairs {
                            if secret_name(k) && !v.is_empty() {
                                out.at(
                                    i.span,
                                    format!("ENV {k} bakes a secret into the image config"),
                                );
                            }
                        }
                    }
                    Kind::Arg { args } => {
                        for (k, _) in args {
                            if secret_name(k) {
                                out.at(i.span, format!("ARG {k} looks like a secret (build arguments end up in the image history)"));
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::run_dockerfile;

    #[test]
    fn fires_for_env_and_arg() {
        let t = "FROM scratch\nARG NPM_TOKEN\nENV DB_PASSWORD=hunter2\n";
        assert_eq!(run_dockerfile(&SecretArgEnv, t).len(), 2);
    }

    #[test]
    fn quiet_for_file_pointers() {
        let t = "FROM scratch\nENV DB_PASSWORD_FILE=/run/secrets/db APP_PORT=8443\n";
        assert!(run_dockerfile(&SecretArgEnv, t).is_empty());
    }
}
