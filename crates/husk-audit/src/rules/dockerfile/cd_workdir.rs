//! HUSK-D061: `cd` in RUN where WORKDIR says it once.

use super::shell::parsed_runs;
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct CdWorkdir;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D061",
    name: "cd-instead-of-workdir",
    target: Target::Dockerfile,
    severity: Severity::Info,
    summary: "RUN changes directory with cd",
    explanation: "A `cd` lasts until the end of its RUN only; the next RUN, COPY and the container start in the WORKDIR again, so steps silently run in another directory than the reader assumes. WORKDIR states the directory once, for every later instruction. A `cd` inside a subshell `( cd dir && make )` is local on purpose and not reported.",
    fix: "Put `WORKDIR /path` before the RUN and drop the `cd`, or keep the `cd` inside `( ... )` when it is meant for one command.",
    references: &[Reference::Hadolint("DL3003")],
};

impl Rule for CdWorkdir {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        for r in parsed_runs(file) {
            if let Some(c) = r
                .parsed
                .commands
                .iter()
                .find(|c| !c.isolated && c.name() == Some("cd"))
            {
                let dir = c.words.get(1).map_or("", |w| w.text());
                out.at(r.span(c), format!("cd {dir}: use WORKDIR"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::run_dockerfile;

    #[test]
    fn fires_for_cd() {
        let t = "FROM debian:12\nRUN cd /src && make\n";
        assert_eq!(run_dockerfile(&CdWorkdir, t).len(), 1);
    }

    #[test]
    fn quiet_for_subshell_and_workdir() {
        let t = "FROM debian:12\nWORKDIR /src\nRUN (cd lib && make) && make && echo cd /x\n";
        assert!(run_dockerfile(&CdWorkdir, t).is_empty());
    }
}
