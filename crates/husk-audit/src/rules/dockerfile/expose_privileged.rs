//! HUSK-D012: EXPOSE of a port below 1024 while the final USER is not root.

use husk_dockerfile::Kind;

use super::{effective_user, inherited, is_root};
use crate::rule::{DockerfileFacts, Emit, Rule, RuleInfo, Severity, Target};

pub struct ExposePrivileged;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D012",
    name: "expose-privileged-port-non-root",
    target: Target::Dockerfile,
    severity: Severity::Info,
    summary: "EXPOSE of a port below 1024 with a non-root USER",
    explanation: "Informational, because it depends on where the image runs. A non-root process needs CAP_NET_BIND_SERVICE (or a lowered `net.ipv4.ip_unprivileged_port_start`) to bind below 1024. Docker 20.10+ and podman lower the sysctl per container, so it works locally; Kubernetes does not, so the same image fails to bind there.",
    fix: "Listen on 1024 or above (e.g. `EXPOSE 8443`) and map the public port outside the container.",
    references: &[],
};

impl Rule for ExposePrivileged {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        let df = &file.file;
        let fin = file.target_stage().index;
        let Some((user, _, _)) = effective_user(df, fin) else {
            return;
        };
        if is_root(&user) {
            return;
        }
        for i in inherited(df, fin) {
            let Kind::Expose { ports } = &i.kind else {
                continue;
            };
            for p in ports {
                let n: u32 = p
                    .split(['/', '-'])
                    .next()
                    .unwrap_or_default()
                    .parse()
                    .unwrap_or(u32::MAX);
                if n < 1024 {
                    out.at(i.span, format!("EXPOSE {p} with USER {user}: works on Docker 20.10+ and podman, fails on Kubernetes without NET_BIND_SERVICE"));
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
    fn fires_for_443_non_root() {
        assert_eq!(
            run_dockerfile(&ExposePrivileged, "FROM scratch\nUSER 1000\nEXPOSE 443\n").len(),
            1
        );
    }

    #[test]
    fn quiet_for_8443() {
        assert!(
            run_dockerfile(
                &ExposePrivileged,
                "FROM scratch\nUSER 1000\nEXPOSE 8443/tcp\n"
            )
            .is_empty()
        );
    }
}
