//! HUSK-D007: key or credential files copied into the final stage.

use husk_dockerfile::{CopySource, Kind};

use super::inherited;
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct SecretFiles;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D007",
    name: "secret-files-copied",
    target: Target::Dockerfile,
    severity: Severity::High,
    summary: "A private key or credentials file is copied into the final image",
    explanation: "COPY/ADD of a key (id_rsa, *.key, *key*.pem), a .env file, .npmrc, .pypirc, .netrc, .git-credentials, cloud credentials, .ssh or .aws directories, or PKCS#12 stores puts the secret into a layer that everyone who pulls the image can read, even if a later step deletes it.",
    fix: "Use BuildKit secret mounts (`RUN --mount=type=secret,id=npmrc,target=/root/.npmrc ...`) and list these files in .dockerignore; inject runtime secrets when the container starts.",
    references: &[Reference::Cis("4.10"), Reference::Trivy("secret scanning")],
};

pub(crate) fn secret_path(p: &str) -> bool {
    let p = p.trim_end_matches('/');
    let base = p.rsplit('/').next().unwrap_or(p).to_ascii_lowercase();
    matches!(
        base.as_str(),
        "id_rsa"
            | "id_dsa"
            | "id_ecdsa"
            | "id_ed25519"
            | ".env"
            | ".npmrc"
            | ".pypirc"
            | ".netrc"
            | ".git-credentials"
            | "credentials"
            | ".ssh"
            | ".aws"
            | ".docker"
    ) || base.ends_with(".key")
        || base.ends_with(".p12")
        || base.ends_with(".pfx")
        || base.ends_with(".jks")
        || (base.ends_with(".pem") && (base.contains("key") || base.contains("private")))
        || (base.starts_with(".env.") && base != ".env.example" && base != ".env.sample")
}

impl Rule for SecretFiles {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        let df = &file.file;
        for i in inherited(df, file.target_stage().index) {
            let sources = match &i.kind {
                Kind::Copy { sources, .. } | Kind::Add { sources, .. } => sources,
                _ => continue,
            };
            for c in sources {
                if let CopySource::Path(p) = c
                    && secret_path(p)
                {
                    out.at(i.span, format!("{p} is copied into the final image"));
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
    fn fires_for_keys_and_env_files() {
        let t = "FROM scratch\nCOPY id_rsa /root/.ssh/id_rsa\nCOPY .env tls.key /app/\n";
        assert_eq!(run_dockerfile(&SecretFiles, t).len(), 3);
    }

    #[test]
    fn quiet_for_certificates_and_build_stages() {
        let t = "FROM alpine AS b\nCOPY server.key /k\nFROM scratch\nCOPY --from=b /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/\nCOPY cert.pem /cert.pem\n";
        assert!(run_dockerfile(&SecretFiles, t).is_empty());
    }
}
