//! HUSK-D038: EXPOSE with an IP address or a host port (BuildKit's ExposeInvalidFormat,
//! hadolint's DL3011 for out-of-range ports).

use husk_dockerfile::Kind;

use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct ExposeInvalidFormat;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D038",
    name: "expose-invalid-format",
    target: Target::Dockerfile,
    severity: Severity::Medium,
    summary: "EXPOSE has an IP address, a host port mapping or a port out of range",
    explanation: "EXPOSE documents a container port (`8080`, `8080/tcp`, `8000-8010`). An IP address or a `host:container` mapping belongs to `docker run -p`: in a Dockerfile it is ignored with a warning today and will be an error. Ports are 1 to 65535.",
    fix: "Write only the container port (`EXPOSE 8080`), and publish it with `-p HOST:8080` at run time.",
    references: &[
        Reference::Buildkit("ExposeInvalidFormat"),
        Reference::Hadolint("DL3011"),
    ],
};

/// Why a port word is invalid, if it is.
fn problem(p: &str) -> Option<&'static str> {
    if p.starts_with('$') {
        return None;
    }
    let port = p.split('/').next().unwrap_or_default();
    if port.contains(':') {
        return Some("an IP address or host port mapping");
    }
    let in_range = port
        .split('-')
        .all(|n| n.parse::<u32>().is_ok_and(|n| (1..=65535).contains(&n)));
    (!in_range).then_some("not a port number from 1 to 65535")
}

impl Rule for ExposeInvalidFormat {
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
                    if let Some(why) = problem(p) {
                        out.at(i.span, format!("EXPOSE {p} is {why}"));
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
    fn fires_for_mappings_and_bad_ports() {
        let t = "FROM scratch\nEXPOSE 0.0.0.0:80:80 8080:80 70000 http\n";
        assert_eq!(run_dockerfile(&ExposeInvalidFormat, t).len(), 4);
    }

    #[test]
    fn quiet_for_ports_ranges_and_args() {
        let t = "FROM scratch\nEXPOSE 80 443/tcp 8000-8010/udp $PORT\n";
        assert!(run_dockerfile(&ExposeInvalidFormat, t).is_empty());
    }
}
