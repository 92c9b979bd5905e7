//! HUSK-I017: a port below 1024 exposed by an image that runs as a non-root user.

use crate::facts::ImageFacts;
use crate::rule::{Emit, Rule, RuleInfo, Severity, Target};

pub struct PrivilegedPort;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-I017",
    name: "privileged-port-non-root",
    target: Target::Image,
    severity: Severity::Info,
    summary: "A port below 1024 is exposed while the container runs as a non-root user",
    explanation: "Informational, because it depends on where the image runs. Binding a port below 1024 needs CAP_NET_BIND_SERVICE unless `net.ipv4.ip_unprivileged_port_start` is lowered. Docker 20.10+ and recent podman set that sysctl to 0 in each container, so it works there; Kubernetes does not, so the same image fails with \"permission denied\" on bind unless the pod adds NET_BIND_SERVICE or the sysctl (an unsafe sysctl on older clusters).",
    fix: "Listen on a port of 1024 or above (e.g. 8443) and map it at the service or load balancer; or grant NET_BIND_SERVICE explicitly in the pod spec.",
    references: &[],
};

impl Rule for PrivilegedPort {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_image(&self, image: &ImageFacts, out: &mut Emit) {
        let id = image.identity();
        if id.raw.is_empty() || id.uid == Some(0) {
            return;
        }
        for port in image.runtime().exposed_ports.unwrap_or_default().keys() {
            let n: u32 = port
                .split('/')
                .next()
                .unwrap_or_default()
                .parse()
                .unwrap_or(u32::MAX);
            if n < 1024 {
                out.image(format!(
                    "port {port} is below 1024 and user {:?} is not root: works on Docker 20.10+ and podman (unprivileged port sysctl), fails on Kubernetes without NET_BIND_SERVICE or net.ipv4.ip_unprivileged_port_start",
                    id.raw
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fake, run_image};

    #[test]
    fn fires_for_443_as_non_root() {
        assert_eq!(
            run_image(
                &PrivilegedPort,
                &Fake::new().base().expose("443/tcp").facts()
            )
            .len(),
            1
        );
    }

    #[test]
    fn quiet_for_high_ports() {
        assert!(
            run_image(
                &PrivilegedPort,
                &Fake::new().base().expose("8443/tcp").facts()
            )
            .is_empty()
        );
    }
}
