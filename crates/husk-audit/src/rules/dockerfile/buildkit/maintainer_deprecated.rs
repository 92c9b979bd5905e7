//! HUSK-D028: MAINTAINER (BuildKit's MaintainerDeprecated, hadolint's DL4000).

use husk_dockerfile::Kind;

use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct MaintainerDeprecated;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D028",
    name: "maintainer-deprecated",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "MAINTAINER is deprecated",
    explanation: "MAINTAINER sets the deprecated `author` field of the image config, which OCI tooling does not show. The standard place is the `org.opencontainers.image.authors` label.",
    fix: "Replace it with `LABEL org.opencontainers.image.authors=\"name <email>\"`.",
    references: &[
        Reference::Buildkit("MaintainerDeprecated"),
        Reference::Hadolint("DL4000"),
    ],
};

impl Rule for MaintainerDeprecated {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        for s in &file.file.stages {
            for i in &s.instructions {
                if let Kind::Maintainer { name } = &i.kind {
                    out.at(
                        i.span,
                        format!("MAINTAINER {name}: use LABEL org.opencontainers.image.authors"),
                    );
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
    fn fires_for_maintainer() {
        assert_eq!(
            run_dockerfile(&MaintainerDeprecated, "FROM scratch\nMAINTAINER me\n").len(),
            1
        );
    }

    #[test]
    fn quiet_for_the_label() {
        let t = "FROM scratch\nLABEL org.opencontainers.image.authors=me\n";
        assert!(run_dockerfile(&MaintainerDeprecated, t).is_empty());
    }
}
