//! HUSK-D016: `curl ... | sh`.

use super::{Sep, commands, program, runs};
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct CurlPipeShell;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D016",
    name: "curl-pipe-shell",
    target: Target::Dockerfile,
    severity: Severity::High,
    summary: "RUN pipes a download straight into a shell",
    explanation: "`curl URL | sh` runs whatever the server sends at build time, unverified: a compromised or hijacked host owns the build and the image, and a dropped connection can run a truncated script. Without `set -o pipefail` a failed download even lets the build succeed.",
    fix: "Download to a file, verify its checksum or signature (`echo \"<sha256>  install.sh\" | sha256sum -c`), then run it; better, install from a package or `ADD --checksum`.",
    references: &[Reference::Hadolint("DL4006")],
};

const SHELLS: &[&str] = &[
    "sh", "bash", "dash", "zsh", "ash", "ksh", "python", "python3", "perl", "ruby", "node",
];

impl Rule for CurlPipeShell {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        for s in &file.file.stages {
            for (i, text) in runs(&s.instructions) {
                let cmds = commands(&text);
                for pair in cmds.windows(2) {
                    let (a, sep) = &pair[0];
                    let (b, _) = &pair[1];
                    let (Some(pa), _) = program(a) else { continue };
                    let (Some(pb), _) = program(b) else { continue };
                    if *sep == Sep::Pipe && matches!(pa, "curl" | "wget") && SHELLS.contains(&pb) {
                        out.at(i.span, format!("{pa} output is piped into {pb}"));
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
    fn fires_for_curl_sh() {
        let t = "FROM debian:12\nRUN curl -fsSL https://get.example.com | sudo bash -s --\n";
        assert_eq!(run_dockerfile(&CurlPipeShell, t).len(), 1);
    }

    #[test]
    fn quiet_for_verified_downloads() {
        let t = "FROM debian:12\nRUN curl -o i.sh https://x && echo 'abc  i.sh' | sha256sum -c && sh i.sh\n";
        assert!(run_dockerfile(&CurlPipeShell, t).is_empty());
    }
}
