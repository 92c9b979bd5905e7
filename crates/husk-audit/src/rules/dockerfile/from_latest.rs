//! HUSK-D003: FROM an image without a tag, or with `latest`.

use husk_dockerfile::BaseImage;

use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct FromLatest;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D003",
    name: "from-latest",
    target: Target::Dockerfile,
    severity: Severity::Medium,
    summary: "FROM uses an untagged or `latest` image",
    explanation: "An untagged image means `latest`, which moves: the same Dockerfile builds something different tomorrow, and a major version bump arrives unannounced. ARGs from before the first FROM are substituted before this check, so `FROM debian:${TAG}` is judged by TAG's default. A digest pins the image whatever the tag says.",
    fix: "Name a specific version tag, and better also pin the digest: `FROM debian:12.8-slim@sha256:...`.",
    references: &[
        Reference::Cis("4.2"),
        Reference::Hadolint("DL3006"),
        Reference::Hadolint("DL3007"),
        Reference::Trivy("DS001"),
    ],
};

impl Rule for FromLatest {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        for s in &file.file.stages {
            let BaseImage::Image(name) = &s.base else {
                continue;
            };
            if name.digest.is_some() {
                continue;
            }
            match name.tag.as_deref() {
                None => out.at(
                    s.span,
                    format!("FROM {} has no tag (means latest)", name.name),
                ),
                Some("latest") => out.at(s.span, format!("FROM {}:latest", name.name)),
                Some(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::run_dockerfile;

    #[test]
    fn fires_for_untagged_and_latest() {
        assert_eq!(
            run_dockerfile(&FromLatest, "FROM alpine\nFROM debian:latest\n").len(),
            2
        );
        assert_eq!(
            run_dockerfile(&FromLatest, "ARG T=latest\nFROM debian:${T}\n").len(),
            1
        );
    }

    #[test]
    fn quiet_for_tags_digests_scratch_and_stages() {
        let text = "FROM golang:1.23 AS b\nFROM b AS c\nFROM alpine@sha256:abc\nFROM scratch\n";
        assert!(run_dockerfile(&FromLatest, text).is_empty());
    }
}
