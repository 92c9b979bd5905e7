//! HUSK-D006: ADD of a URL or git repository without a checksum.

use husk_dockerfile::{CopySource, Kind};

use super::add_instead_of_copy::is_remote;
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct AddUrl;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D006",
    name: "add-url",
    target: Target::Dockerfile,
    severity: Severity::Medium,
    summary: "ADD fetches a URL without verifying a checksum",
    explanation: "`ADD https://...` downloads at build time whatever the server returns: builds are not reproducible and a compromised server or mirror ends up in the image. BuildKit's `--checksum=sha256:...` flag pins the content.",
    fix: "Add `--checksum=sha256:<digest>` to the ADD, or download in a build stage and verify the checksum there.",
    references: &[Reference::Hadolint("DL3020"), Reference::Trivy("DS005")],
};

impl Rule for AddUrl {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        for s in &file.file.stages {
            for i in &s.instructions {
                let Kind::Add { sources, flags, .. } = &i.kind else {
                    continue;
                };
                if flags.iter().any(|(k, _)| k == "checksum") {
                    continue;
                }
                for c in sources {
                    if let CopySource::Path(p) = c
                        && is_remote(p)
                    {
                        out.at(i.span, format!("ADD {p} has no --checksum"));
                    }
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
    fn fires_for_a_url() {
        assert_eq!(
            run_dockerfile(
                &AddUrl,
                "FROM scratch\nADD https://example.com/x.tgz /x.tgz\n"
            )
            .len(),
            1
        );
    }

    #[test]
    fn quiet_with_checksum() {
        let t = "FROM scratch\nADD --checksum=sha256:abc https://example.com/x.tgz /x.tgz\n";
        assert!(run_dockerfile(&AddUrl, t).is_empty());
    }
}
