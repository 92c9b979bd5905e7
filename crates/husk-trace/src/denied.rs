//! Why ptrace or seccomp was refused, and what fixes it: read from the host's Yama setting,
//! this process's seccomp mode and its capabilities, judged by a pure function.

/// The host facts that decide whether ptrace may work.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostFacts {
    /// `/proc/sys/kernel/yama/ptrace_scope`, when Yama is enabled.
    pub yama_scope: Option<u32>,
    /// `Seccomp:` of `/proc/self/status`: 2 means a filter confines this process.
    pub seccomp_mode: Option<u32>,
    /// Whether CAP_SYS_PTRACE is in this process's effective set.
    pub cap_sys_ptrace: bool,
}

impl HostFacts {
    /// Reads the facts; what cannot be read stays unknown.
    #[must_use]
    pub fn read() -> HostFacts {
        let yama = std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope").ok();
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        HostFacts::parse(yama.as_deref(), &status)
    }

    /// The facts from the Yama file's text and `/proc/self/status`.
    #[must_use]
    pub fn parse(yama: Option<&str>, status: &str) -> HostFacts {
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(str::trim)
        };
        // CAP_SYS_PTRACE is capability 19.
        let cap = field("CapEff:")
            .and_then(|v| u64::from_str_radix(v, 16).ok())
            .is_some_and(|caps| caps & (1 << 19) != 0);
        HostFacts {
            yama_scope: yama.and_then(|y| y.trim().parse().ok()),
            seccomp_mode: field("Seccomp:").and_then(|v| v.parse().ok()),
            cap_sys_ptrace: cap,
        }
    }
}

/// What to do when PTRACE_TRACEME was refused.
#[must_use]
pub fn ptrace_fix(f: &HostFacts) -> String {
    match f.yama_scope {
        Some(3) => {
            return "kernel.yama.ptrace_scope is 3 (ptrace disabled until reboot): set \
                    kernel.yama.ptrace_scope to 1 in /etc/sysctl.d/ and reboot"
                .to_string();
        }
        Some(2) if !f.cap_sys_ptrace => {
            return "kernel.yama.ptrace_scope is 2 (admin only): run as root or with \
                    CAP_SYS_PTRACE, or set kernel.yama.ptrace_scope to 1 \
                    (sysctl -w kernel.yama.ptrace_scope=1)"
                .to_string();
        }
        _ => {}
    }
    if f.seccomp_mode == Some(2) {
        return "this process runs under a seccomp filter that refuses ptrace (a container \
                runtime's default profile): run the container with --cap-add=SYS_PTRACE, \
                or with a seccomp profile that allows ptrace"
            .to_string();
    }
    if !f.cap_sys_ptrace {
        return "ptrace is not permitted here: inside a container, run it with \
                --cap-add=SYS_PTRACE; on the host, check kernel.yama.ptrace_scope (1 works)"
            .to_string();
    }
    "ptrace is not permitted here: check kernel.yama.ptrace_scope (1 works) and any \
     security module (AppArmor, SELinux) that confines this process"
        .to_string()
}

/// What to do when installing the seccomp filter was refused.
#[must_use]
pub fn seccomp_fix() -> String {
    "the kernel refused the seccomp filter: it needs CONFIG_SECCOMP_FILTER, and a container \
     must allow prctl(PR_SET_NO_NEW_PRIVS) and seccomp(2) (run it with \
     --security-opt seccomp=unconfined, or a profile that allows them)"
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = "Name:\tx\nCapEff:\t000001ffffffffff\nSeccomp:\t0\n";
    const CONTAINER: &str = "CapEff:\t00000000a80425fb\nSeccomp:\t2\n";

    #[test]
    fn facts_parse_from_proc_text() {
        let f = HostFacts::parse(Some("1\n"), ROOT);
        assert_eq!(f.yama_scope, Some(1));
        assert_eq!(f.seccomp_mode, Some(0));
        assert!(f.cap_sys_ptrace);
        let f = HostFacts::parse(None, CONTAINER);
        assert!(!f.cap_sys_ptrace);
        assert_eq!(f.seccomp_mode, Some(2));
        assert_eq!(
            HostFacts::parse(Some("junk"), "CapEff:\tzz\n"),
            HostFacts::default()
        );
    }

    #[test]
    fn each_cause_names_its_fix() {
        let yama3 = HostFacts::parse(Some("3"), ROOT);
        assert!(ptrace_fix(&yama3).contains("kernel.yama.ptrace_scope to 1"));
        let yama2 = HostFacts::parse(Some("2"), CONTAINER);
        assert!(ptrace_fix(&yama2).contains("CAP_SYS_PTRACE"));
        let docker = HostFacts::parse(Some("1"), CONTAINER);
        assert!(ptrace_fix(&docker).contains("--cap-add=SYS_PTRACE"));
        assert!(seccomp_fix().contains("seccomp"));
    }
}
