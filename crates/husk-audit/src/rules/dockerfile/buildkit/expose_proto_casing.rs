//! HUSK-D037: `EXPOSE 80/TCP` (BuildKit's ExposeProtoCasing).

use husk_dockerfile::Kind;

use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct ExposeProtoCasing;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D037",
    name: "expose-proto-casing",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "EXPOSE names the protocol in upper case",
    explanation: "Protocols in EXPOSE are `tcp`, `udp` and `sctp`, in lower case; other spellings are normalised by some tools and kept as written by others, so the port may not match what a runtime publishes.",
    fix: "Write the protocol in lower case: `EXPOSE 8080/tcp`.",
    references: &[Reference::Buildkit("ExposeProtoCasing")],
};

impl Rule for ExposeProtoCasing {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        for s in &file.file.stages {
            for i in &s.instructions {
                let Kind::Expose { ports } = &i.kind else {
                    continue;
                };
                for p in ports {
                    if let Some((_, proto)) = p.split_once('/')
                        && proto.chars().any(|c| c.is_ascii_uppercase())
                    {
                        out.at(
                            i.span,
                            format!(
                                "EXPOSE {p}: write the protocol as {}",
                                proto.to_ascii_lowercase()
                            ),
                        );
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
    fn fires_for_upper_case() {
        assert_eq!(
            run_dockerfile(&ExposeProtoCasing, "FROM scratch\nEXPOSE 80/TCP 53/Udp\n").len(),
            2
        );
    }

    #[test]
    fn quiet_for_lower_case() {
        assert!(
            run_dockerfile(&ExposeProtoCasing, "FROM scratch\nEXPOSE 80/tcp 8080\n").is_empty()
        );
    }
}
