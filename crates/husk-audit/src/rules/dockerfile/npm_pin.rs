//! HUSK-D058: `npm install PKG` without a version.

use super::shell::{list, operands, parsed_runs, subcommand, unpinned};
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct NpmPin;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D058",
    name: "npm-pin",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "npm install names packages without a version",
    explanation: "`npm install PKG` takes the newest release on the registry that day, outside the lock file: builds of one Dockerfile differ, and a hijacked release lands silently.",
    fix: "Name the version (`npm install -g typescript@5.6.3`), or install the project from its lock file with `npm ci`.",
    references: &[Reference::Hadolint("DL3016")],
};

const VALUE_OPTIONS: &[&str] = &[
    "--prefix",
    "--registry",
    "--cache",
    "--tag",
    "-w",
    "--workspace",
    "--omit",
    "--include",
];

/// `name@1.2`, `@scope/name@^1`: an `@` after the first character.
fn pinned(t: &str) -> bool {
    t.get(1..).is_some_and(|rest| rest.contains('@'))
}

impl Rule for NpmPin {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        for r in parsed_runs(file) {
            for (c, prog, args) in r.programs() {
                if prog == "npm"
                    && matches!(
                        subcommand(args),
                        Some("install" | "i" | "add" | "isntall" | "in")
                    )
                {
                    let ops = operands(args, VALUE_OPTIONS);
                    let loose: Vec<&str> = unpinned(&ops, pinned)
                        .into_iter()
                        .filter(|t| !t.starts_with("git") && !t.contains(':'))
                        .collect();
                    if !loose.is_empty() {
                        out.at(
                            r.span(c),
                            format!("npm install without versions: {}", list(&loose)),
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
        let t = "FROM node:22\nRUN npm install -g typescript @angular/cli@18.2.0 @vue/cli\n";
        let f = run_dockerfile(&NpmPin, t);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message.ends_with(": typescript, @vue/cli"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn quiet_for_lockfile_and_pinned() {
        let t = "FROM node:22\nRUN npm ci && npm install && npm install -g pnpm@9.12.0 ./local github:x/y\n";
        assert!(run_dockerfile(&NpmPin, t).is_empty());
    }
}
