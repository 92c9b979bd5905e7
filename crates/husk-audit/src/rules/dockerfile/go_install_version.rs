//! HUSK-D060: `go install PKG` without `@version` (or with `@latest`).

use super::shell::{list, operands, parsed_runs, subcommand, unpinned};
use crate::rule::{DockerfileFacts, Emit, Rule, RuleInfo, Severity, Target};

pub struct GoInstallVersion;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D060",
    name: "go-install-version",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "go install of a remote package without a fixed @version",
    explanation: "`go install example.com/tool@latest` (and, outside a module, a path without `@version`) builds whatever the module's newest tag is that day: builds of one Dockerfile differ, and a hijacked release lands silently.",
    fix: "Name the version: `go install golang.org/x/tools/gopls@v0.16.2`.",
    references: &[],
};

const VALUE_OPTIONS: &[&str] = &[
    "-o",
    "-tags",
    "-ldflags",
    "-gcflags",
    "-mod",
    "-modfile",
    "-p",
    "-pkgdir",
    "-toolexec",
    "-asmflags",
    "-buildmode",
    "-compiler",
    "-overlay",
];

impl Rule for GoInstallVersion {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        for r in parsed_runs(file) {
            for (c, prog, args) in r.programs() {
                if prog == "go" && subcommand(args) == Some("install") {
                    // Remote paths only: a first element with a dot (a host name).
                    let remote = |t: &str| t.split('/').next().is_some_and(|h| h.contains('.'));
                    let loose: Vec<&str> = unpinned(&operands(args, VALUE_OPTIONS), |t| {
                        t.rsplit_once('@').is_some_and(|(_, v)| v != "latest")
                    })
                    .into_iter()
                    .filter(|t| remote(t))
                    .collect();
                    if !loose.is_empty() {
                        out.at(
                            r.span(c),
                            format!("go install without a fixed @version: {}", list(&loose)),
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
    fn fires_for_latest_and_missing_versions() {
        let t = "FROM golang:1.23\nRUN go install golang.org/x/tools/gopls@latest && go install -v github.com/x/y/cmd/z\n";
        assert_eq!(run_dockerfile(&GoInstallVersion, t).len(), 2);
    }

    #[test]
    fn quiet_for_versions_and_local_packages() {
        let t = "FROM golang:1.23\nRUN go install golang.org/x/tools/gopls@v0.16.2 && go install ./cmd/... && go install -ldflags=-s std\n";
        assert!(run_dockerfile(&GoInstallVersion, t).is_empty());
    }
}
