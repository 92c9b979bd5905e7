//! HUSK-D016: `curl ... | sh`.

use husk_dockerfile::shell::SimpleCommand;

use super::shell::{ParsedRun, parsed_runs};
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
        for r in parsed_runs(file) {
            for (c, prog, _) in r.programs() {
                if !matches!(prog, "curl" | "wget") {
                    continue;
                }
                if let Some(sh) = next_in_pipe(&r, c) {
                    out.at(r.span(c), format!("{prog} output is piped into {sh}"));
                }
            }
            // `sh -c "$(curl ...)"`: the download is the script.
            for (c, prog, args) in r.programs() {
                if SHELLS.contains(&prog)
                    && args.iter().any(|a| {
                        a.value.is_none() && (a.raw.contains("$(curl") || a.raw.contains("$(wget"))
                    })
                {
                    out.at(r.span(c), format!("{prog} runs a downloaded script"));
                }
            }
        }
    }
}

/// The shell the command's output is piped into, if the next command in its pipeline is one.
fn next_in_pipe<'a>(r: &'a ParsedRun<'_>, c: &SimpleCommand) -> Option<&'a str> {
    r.programs()
        .find(|(n, _, _)| n.pipeline == c.pipeline && n.pipe_index == c.pipe_index + 1)
        .map(|(_, p, _)| p)
        .filter(|p| SHELLS.contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::run_dockerfile;

    #[test]
    fn fires_for_curl_sh() {
        let t = "FROM debian:12\nRUN curl -fsSL https://get.example.com | sudo bash -s --\n";
        assert_eq!(run_dockerfile(&CurlPipeShell, t).len(), 1);
        let sub = "FROM debian:12\nRUN sh -c \"$(curl -fsSL https://x/install.sh)\"\n";
        assert_eq!(run_dockerfile(&CurlPipeShell, sub).len(), 1);
        let split = "FROM debian:12\nRUN curl -fsSL \\\n  https://get.example.com \\\n  | sh\n";
        assert_eq!(run_dockerfile(&CurlPipeShell, split).len(), 1);
    }

    #[test]
    fn quiet_for_verified_downloads() {
        let t = "FROM debian:12\nRUN curl -o i.sh https://x && echo 'abc  i.sh' | sha256sum -c && sh i.sh\n";
        assert!(run_dockerfile(&CurlPipeShell, t).is_empty());
        let quoted = "FROM debian:12\nRUN echo 'curl x | sh' && curl -o f x | tee log\n";
        assert!(run_dockerfile(&CurlPipeShell, quoted).is_empty());
    }
}
