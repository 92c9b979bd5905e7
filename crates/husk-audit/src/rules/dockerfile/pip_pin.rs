//! HUSK-D057: `pip install` of packages without a version.

use super::shell::{list, operands, parsed_runs, pip_args, subcommand, unpinned};
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct PipPin;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D057",
    name: "pip-pin",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "pip install names packages without a version",
    explanation: "Without `pkg==version` each build installs the newest release on PyPI that day: builds of one Dockerfile differ, and a breaking or hijacked release lands silently.",
    fix: "Pin versions (`pip install flask==3.0.3`), or install from a locked requirements file (`pip install -r requirements.txt` with `==` pins and `--require-hashes`).",
    references: &[Reference::Hadolint("DL3013")],
};

const VALUE_OPTIONS: &[&str] = &[
    "-r",
    "--requirement",
    "-c",
    "--constraint",
    "-e",
    "--editable",
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "-t",
    "--target",
    "--prefix",
    "--root",
    "--platform",
    "--python-version",
    "--implementation",
    "--abi",
    "--trusted-host",
    "--progress-bar",
    "--upgrade-strategy",
    "--src",
    "--cache-dir",
    "--log",
    "--proxy",
    "--retries",
    "--timeout",
    "--python",
    "--only-binary",
    "--no-binary",
    "--config-settings",
];

/// `name==1`, `name>=1,<2`, `name~=1.2`, `name @ url`, `name[extra]==1`.
fn pinned(t: &str) -> bool {
    t.contains(['=', '<', '>', '@'])
}

impl Rule for PipPin {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        for r in parsed_runs(file) {
            for (c, prog, args) in r.programs() {
                if let Some(pip) = pip_args(prog, args)
                    && subcommand(pip) == Some("install")
                {
                    let loose = unpinned(&operands(pip, VALUE_OPTIONS), pinned);
                    if !loose.is_empty() {
                        out.at(
                            r.span(c),
                            format!("pip install without versions: {}", list(&loose)),
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
    fn fires_for_unpinned() {
        let t = "FROM python:3.12\nRUN pip install --no-cache-dir flask 'requests>=2,<3'\n";
        let f = run_dockerfile(&PipPin, t);
        assert_eq!(f.len(), 1);
        assert!(f[0].message.ends_with(": flask"));
    }

    #[test]
    fn quiet_for_pinned_requirements_and_local() {
        let t = "FROM python:3.12\nRUN pip install --no-cache-dir -r requirements.txt flask==3.0.3 . ./dist/app.whl -e ./lib\n";
        assert!(run_dockerfile(&PipPin, t).is_empty());
    }
}
