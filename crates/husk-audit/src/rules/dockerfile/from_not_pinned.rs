//! HUSK-D004: FROM an image not pinned by digest.

use husk_dockerfile::BaseImage;

use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct FromNotPinned;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D004",
    name: "from-not-pinned",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "FROM names an image by tag only, not by digest",
    explanation: "Tags are mutable: a registry (or whoever controls it) can point `debian:12` at different content at any time, so builds are neither reproducible nor protected from a tampered base. A `@sha256:` digest names exactly one image; tools such as Renovate or Dependabot keep digests current.",
    fix: "Append the digest: `FROM debian:12.8-slim@sha256:<digest>` (`husk inspect` or `skopeo inspect` show it).",
    references: &[Reference::Cis("4.2")],
};

impl Rule for FromNotPinned {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        for s in &file.file.stages {
            if let BaseImage::Image(name) = &s.base
                && name.digest.is_none()
            {
                out.at(
                    s.span,
                    format!("FROM {} is not pinned by digest", s.base_text),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::run_dockerfile;

    #[test]
    fn fires_for_a_tag() {
        assert_eq!(run_dockerfile(&FromNotPinned, "FROM debian:12\n").len(), 1);
    }

    #[test]
    fn quiet_for_digest_and_scratch() {
        assert!(
            run_dockerfile(
                &FromNotPinned,
                "FROM debian:12@sha256:abc AS b\nFROM b\nFROM scratch\n"
            )
            .is_empty()
        );
    }
}
