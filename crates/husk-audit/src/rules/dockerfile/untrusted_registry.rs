//! HUSK-D041: FROM pulls from a registry outside the configured trusted ones (hadolint's
//! DL3026). Only active when the lint config lists `trusted-registries`.

use husk_dockerfile::BaseImage;

use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct UntrustedRegistry;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D041",
    name: "untrusted-registry",
    target: Target::Dockerfile,
    severity: Severity::High,
    summary: "FROM pulls from a registry that is not in trusted-registries",
    explanation: "When the lint config (`.husk-lint.toml`) lists `trusted-registries`, every base image must come from one of them: a base from anywhere else escapes the organisation's mirrors, scanning and signing. Names without a registry (`debian:12`) come from Docker Hub, `docker.io`.",
    fix: "Pull the base through a trusted registry (`FROM registry.example.com/library/debian:12`), or add the registry to `trusted-registries`.",
    references: &[Reference::Hadolint("DL3026")],
};

/// The registry an image name pulls from.
fn registry_of(name: &str) -> &str {
    match name.split_once('/') {
        Some((first, _)) if first.contains(['.', ':']) || first == "localhost" => first,
        _ => "docker.io",
    }
}

fn canonical(registry: &str) -> &str {
    match registry {
        "index.docker.io" | "registry-1.docker.io" | "hub.docker.com" => "docker.io",
        r => r,
    }
}

impl Rule for UntrustedRegistry {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        if file.trusted_registries.is_empty() {
            return;
        }
        for s in &file.file.stages {
            let BaseImage::Image(n) = &s.base else {
                continue;
            };
            let registry = canonical(registry_of(&n.name));
            let trusted = file
                .trusted_registries
                .iter()
                .any(|t| canonical(t.trim_end_matches('/')).eq_ignore_ascii_case(registry));
            if !trusted {
                out.at_stage(
                    file,
                    s.index,
                    s.span,
                    format!(
                        "FROM {} pulls from {registry}, which is not in trusted-registries",
                        s.base_text
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{run_dockerfile, run_dockerfile_facts};

    fn run(text: &str, trusted: &[&str]) -> usize {
        let mut facts = DockerfileFacts::new("Dockerfile", husk_dockerfile::parse(text).unwrap());
        facts.trusted_registries = trusted.iter().map(|t| (*t).to_owned()).collect();
        run_dockerfile_facts(&UntrustedRegistry, &facts).len()
    }

    #[test]
    fn fires_outside_the_trusted_list() {
        let t = "FROM quay.io/org/img:1\nFROM debian:12\nFROM localhost:5000/x\n";
        assert_eq!(run(t, &["ghcr.io"]), 3);
    }

    #[test]
    fn quiet_inside_it_and_without_a_list() {
        let t = "FROM ghcr.io/org/img:1 AS a\nFROM debian:12\nFROM a\nFROM scratch\n";
        assert_eq!(run(t, &["ghcr.io", "index.docker.io"]), 0);
        assert!(run_dockerfile(&UntrustedRegistry, "FROM quay.io/x:1\n").is_empty());
    }
}
