//! HUSK-D065: `useradd` with a high uid and without `--no-log-init`.

use super::shell::{has_flag, hygiene_runs};
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct UseraddUid;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D065",
    name: "useradd-high-uid",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "useradd with a high uid and without --no-log-init",
    explanation: "useradd reserves the new uid's record in /var/log/lastlog and faillog, which are indexed by uid: for uid 65532 that is a 19 MB file of zeros. On disk it is sparse, but image layers do not keep holes, so the image grows by that much.",
    fix: "Add `-l` (`--no-log-init`): `useradd -l -u 65532 app`.",
    references: &[Reference::Hadolint("DL3046")],
};

/// Below this uid the log records are small (under 3 MB).
const HIGH_UID: u64 = 10_000;
/// Bytes of one lastlog record.
const LASTLOG_RECORD: u64 = 292;

impl Rule for UseraddUid {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        for r in hygiene_runs(file) {
            for (c, prog, args) in r.programs() {
                if prog != "useradd" || has_flag(args, Some('l'), &["--no-log-init"]) {
                    continue;
                }
                let uid = args.windows(2).find_map(|w| match w[0].text() {
                    "-u" | "--uid" => w[1].value.as_deref(),
                    _ => None,
                });
                let uid = uid.or_else(|| {
                    args.iter()
                        .find_map(|a| a.value.as_deref()?.strip_prefix("--uid="))
                });
                if let Some(n) = uid
                    .and_then(|u| u.parse::<u64>().ok())
                    .filter(|&n| n >= HIGH_UID)
                {
                    let mb = n.saturating_mul(LASTLOG_RECORD) / 1_000_000;
                    out.at(
                        r.span(c),
                        format!("useradd -u {n} without -l adds a {mb} MB /var/log/lastlog"),
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
    fn fires_for_high_uid() {
        let t = "FROM debian:12\nRUN useradd -u 65532 -m app && useradd --uid=100000 b\n";
        let f = run_dockerfile(&UseraddUid, t);
        assert_eq!(f.len(), 2);
        assert!(f[0].message.contains("19 MB"), "{}", f[0].message);
    }

    #[test]
    fn quiet_with_no_log_init_or_low_uid() {
        let t = "FROM debian:12\nRUN useradd -l -u 65532 app && useradd --no-log-init -u 70000 b && useradd -u 1000 c && useradd -u \"$UID\" d\n";
        assert!(run_dockerfile(&UseraddUid, t).is_empty());
    }
}
