//! HUSK-I016: shells, package managers, downloaders and privilege tools in the image.

use crate::facts::ImageFacts;
use crate::rule::{Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct AttackTools;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-I016",
    name: "attack-tools",
    target: Target::Image,
    severity: Severity::Low,
    summary: "The image ships tools an attacker would use",
    explanation: "After a code-execution bug, a shell, a package manager, a downloader (curl, wget, nc) or sudo turns one bug into a foothold: fetch a payload, install tools, escalate. A minimal image has none of them; debugging is done from outside (`husk debug`, ephemeral debug containers).",
    fix: "Build FROM scratch or a distroless base and copy only the program and what it needs; use a multi-stage build so tools stay in the build stage.",
    references: &[Reference::Cis("4.3")],
};

const TOOLS: &[(&str, &str)] = &[
    ("sh", "a shell"),
    ("bash", "a shell"),
    ("dash", "a shell"),
    ("ash", "a shell"),
    ("zsh", "a shell"),
    ("busybox", "busybox (a shell and many tools)"),
    ("apt", "a package manager"),
    ("apt-get", "a package manager"),
    ("dpkg", "a package manager"),
    ("apk", "a package manager"),
    ("yum", "a package manager"),
    ("dnf", "a package manager"),
    ("microdnf", "a package manager"),
    ("rpm", "a package manager"),
    ("pip", "a package manager"),
    ("pip3", "a package manager"),
    ("npm", "a package manager"),
    ("curl", "a downloader"),
    ("wget", "a downloader"),
    ("nc", "a network tool"),
    ("ncat", "a network tool"),
    ("netcat", "a network tool"),
    ("socat", "a network tool"),
    ("sudo", "a privilege tool"),
    ("su", "a privilege tool"),
];

const BIN_DIRS: &[&str] = &[
    "/bin",
    "/sbin",
    "/usr/bin",
    "/usr/sbin",
    "/usr/local/bin",
    "/usr/local/sbin",
];

impl Rule for AttackTools {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_image(&self, image: &ImageFacts, out: &mut Emit) {
        let mut seen = std::collections::BTreeSet::new();
        for dir in BIN_DIRS {
            for (name, what) in TOOLS {
                let p = format!("{dir}/{name}");
                let Some((real, e)) = image.lookup(&p) else {
                    continue;
                };
                if !e.is_file() || !seen.insert(p.clone()) {
                    continue;
                }
                // /bin -> usr/bin merged layouts: report the real path once.
                if !seen.insert(format!("real:{real}:{name}")) {
                    continue;
                }
                out.path(&p, Some(e.layer), format!("{name}: {what}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fake, run_image};

    #[test]
    fn fires_for_a_shell_and_curl() {
        let f = Fake::new()
            .exe("/bin/sh", b"x")
            .exe("/usr/bin/curl", b"x")
            .facts();
        assert_eq!(run_image(&AttackTools, &f).len(), 2);
    }

    #[test]
    fn quiet_for_a_lone_program() {
        assert!(run_image(&AttackTools, &Fake::new().exe("/app/server", b"x").facts()).is_empty());
    }
}
