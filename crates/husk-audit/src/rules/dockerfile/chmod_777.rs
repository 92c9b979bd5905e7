//! HUSK-D017: `chmod 777` (or `--chmod=777`).

use husk_dockerfile::Kind;

use super::shell::parsed_runs;
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct Chmod777;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D017",
    name: "chmod-777",
    target: Target::Dockerfile,
    severity: Severity::Medium,
    summary: "Files are made writable by everyone (chmod 777)",
    explanation: "`chmod 777` (or `a+rwx`, `o+w`, `COPY --chmod=777`) lets any process in the container replace programs and configuration, and is usually a workaround for a user/ownership problem that `--chown` fixes properly.",
    fix: "Give the files to the user that needs them (`COPY --chown=65532:65532`) with 0755/0644 modes, or 1777 for a shared scratch directory.",
    references: &[Reference::Cis("4.8")],
};

fn world_writable(mode: &str) -> bool {
    if mode.bytes().all(|b| b.is_ascii_digit()) && !mode.is_empty() {
        let last = mode.bytes().last().unwrap_or(b'0') - b'0';
        let sticky = mode.len() == 4 && mode.as_bytes()[0] & 1 == 1;
        return last & 2 != 0 && !sticky;
    }
    mode.split(',').any(|c| {
        (c.starts_with('o') || c.starts_with('a') || c.starts_with('+'))
            && c.contains('+')
            && c.contains('w')
    })
}

impl Rule for Chmod777 {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        for s in &file.file.stages {
            for i in &s.instructions {
                if let Kind::Copy { flags, .. } | Kind::Add { flags, .. } = &i.kind
                    && let Some((_, Some(m))) = flags.iter().find(|(k, _)| k == "chmod")
                    && world_writable(m)
                {
                    out.at_stage(
                        file,
                        s.index,
                        i.span,
                        format!("--chmod={m} makes the files world-writable"),
                    );
                }
            }
        }
        for r in parsed_runs(file) {
            for (c, prog, args) in r.programs() {
                if prog == "chmod"
                    && let Some(m) = args
                        .iter()
                        .map(|a| a.text())
                        .find(|a| !a.starts_with('-') || a.starts_with("-w"))
                    && world_writable(m)
                {
                    out.at_stage(
                        file,
                        r.stage,
                        r.span(c),
                        format!("chmod {m} makes files world-writable"),
                    );
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
    fn fires_for_777() {
        let t = "FROM debian:12\nRUN chmod -R 777 /app\nCOPY --chmod=777 a /a\n";
        assert_eq!(run_dockerfile(&Chmod777, t).len(), 2);
    }

    #[test]
    fn quiet_for_sane_modes() {
        let t = "FROM debian:12\nRUN chmod 755 /app && chmod 1777 /scratch && chmod +x /app\n";
        assert!(run_dockerfile(&Chmod777, t).is_empty());
    }
}
