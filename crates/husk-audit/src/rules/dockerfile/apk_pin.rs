//! HUSK-D053: `apk add` of packages without a version.

use super::shell::{list, operands, parsed_runs, subcommand, unpinned};
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct ApkPin;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D053",
    name: "apk-pin",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "apk add names packages without a version",
    explanation: "Without `pkg=version` (or `pkg~version`) each build installs whatever the Alpine repository holds that day, so builds of one Dockerfile differ.",
    fix: "Pin the versions: `apk add --no-cache curl=8.5.0-r0`, or `curl~8.5` for the latest patch of a release.",
    references: &[Reference::Hadolint("DL3018")],
};

const VALUE_OPTIONS: &[&str] = &[
    "-t",
    "--virtual",
    "-X",
    "--repository",
    "--root",
    "-p",
    "--arch",
    "--keys-dir",
    "--repositories-file",
    "--cache-dir",
];

impl Rule for ApkPin {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        for r in parsed_runs(file) {
            for (c, prog, args) in r.programs() {
                if prog == "apk" && subcommand(args) == Some("add") {
                    let loose = unpinned(&operands(args, VALUE_OPTIONS), |t| {
                        t.contains(['=', '~', '<', '>'])
                    });
                    if !loose.is_empty() {
                        out.at(
                            r.span(c),
                            format!("apk add without versions: {}", list(&loose)),
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
        let t =
            "FROM alpine:3.20\nRUN apk add --no-cache --virtual .build-deps git curl=8.5.0-r0\n";
        let f = run_dockerfile(&ApkPin, t);
        assert_eq!(f.len(), 1);
        assert!(f[0].message.ends_with(": git"), "{}", f[0].message);
    }

    #[test]
    fn quiet_for_pinned() {
        let t = "FROM alpine:3.20\nRUN apk add --no-cache -t .deps git=2.45.2-r0 'curl~8.5' && apk del .deps\n";
        assert!(run_dockerfile(&ApkPin, t).is_empty());
    }
}
