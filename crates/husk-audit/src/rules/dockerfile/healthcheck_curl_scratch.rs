//! HUSK-D010: a HEALTHCHECK that calls curl or wget in a FROM-scratch image.

use husk_dockerfile::{Command, Kind};

use super::{commands, from_scratch, inherited, program};
use crate::rule::{DockerfileFacts, Emit, Rule, RuleInfo, Severity, Target};

pub struct HealthcheckCurlScratch;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D010",
    name: "healthcheck-curl-in-scratch",
    target: Target::Dockerfile,
    severity: Severity::High,
    summary: "The HEALTHCHECK calls curl or wget, which a scratch image does not have",
    explanation: "The healthcheck runs inside the container. The ubiquitous `HEALTHCHECK CMD curl -f http://localhost/` cannot work in a FROM-scratch image: there is no curl (nor wget, nor a shell), so the container is always reported unhealthy.",
    fix: "Let the program check itself, `HEALTHCHECK CMD [\"/app\", \"--health\"]`, or copy a static health-probe binary into the image.",
    references: &[],
};

impl Rule for HealthcheckCurlScratch {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        let df = &file.file;
        let fin = file.target_stage().index;
        if !from_scratch(df, fin) {
            return;
        }
        for i in inherited(df, fin) {
            let Kind::Healthcheck {
                command: Some(c), ..
            } = &i.kind
            else {
                continue;
            };
            let first = match c {
                Command::Exec(v) => v
                    .first()
                    .map(|p| p.rsplit('/').next().unwrap_or(p).to_owned()),
                Command::Shell(s) => commands(s)
                    .first()
                    .and_then(|(w, _)| program(w).0.map(str::to_owned)),
            };
            if let Some(p) = first.filter(|p| p == "curl" || p == "wget") {
                out.at(
                    i.span,
                    format!("the HEALTHCHECK runs {p}, which a scratch image does not have"),
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
    fn fires_for_curl() {
        let t = "FROM scratch\nHEALTHCHECK CMD [\"curl\", \"-f\", \"http://localhost/\"]\n";
        assert_eq!(run_dockerfile(&HealthcheckCurlScratch, t).len(), 1);
    }

    #[test]
    fn quiet_for_the_program_itself() {
        let t = "FROM scratch\nHEALTHCHECK CMD [\"/app\", \"--health\"]\n";
        assert!(run_dockerfile(&HealthcheckCurlScratch, t).is_empty());
    }
}
