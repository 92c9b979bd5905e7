//! HUSK-I030: files with capabilities (`security.capability`, as `setcap` sets them).

use husk_explore::xattr::{FileCaps, cap_bit, describe_caps};
use husk_layer::ImagePath;

use crate::facts::ImageFacts;
use crate::rule::{Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct FileCapabilities;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-I030",
    name: "file-capabilities",
    target: Target::Image,
    severity: Severity::High,
    summary: "The image contains files with capabilities (setcap)",
    explanation: "A file capability (the `security.capability` extended attribute that `setcap` writes, carried in the layer as a PAX `SCHILY.xattr.security.capability` record) gives a program privileges whoever runs it, as a setuid bit does, but without any mode bit: scans for setuid files do not see it (CIS Docker 4.8's `find / -perm /6000` and dockle's CIS-DI-0008, which this rule extends, among them). Each file is reported with its capabilities as `getcap` prints them, at a severity for what they grant:\n\n- **high** when any is as good as root or a way to it: `cap_sys_admin`, `cap_setuid`, `cap_setgid`, `cap_setpcap`, `cap_setfcap`, `cap_dac_override`, `cap_dac_read_search`, `cap_chown`, `cap_fowner`, `cap_fsetid`, `cap_sys_ptrace`, `cap_sys_module`, `cap_sys_rawio`, `cap_mknod`, `cap_net_admin`, `cap_bpf`, `cap_mac_admin`, `cap_mac_override`;\n- **low** for `cap_net_bind_service` alone (a server that binds a port below 1024 as a non-root user: common and legitimate, though there are better ways), and for a malformed value (the kernel refuses to execute the file);\n- **medium** for any other set (`cap_net_raw` on `ping`, `cap_sys_nice`, bits the kernel does not name yet).\n\nThe capabilities a program gets are limited by the container's bounding set (Docker's default drops most of the dangerous ones), but `--cap-add`, `--privileged` or a permissive Kubernetes security context make them live; `--security-opt no-new-privileges` (`allowPrivilegeEscalation: false`) makes the kernel ignore them. A revision 3 value applies only in a user namespace whose root is its `rootid`, which the message shows.",
    fix: "Remove the capability in the build (`setcap -r FILE`; `COPY` keeps the capabilities a file has in the build context, and so do `cp --preserve=xattr` and `tar --xattrs`), or the file. To bind a port below 1024 as a non-root user, listen on a port of 1024 or above and map it, or run with `--sysctl net.ipv4.ip_unprivileged_port_start=0` (the default in Docker 20.10+ and podman) rather than shipping `cap_net_bind_service`. Run with `--security-opt no-new-privileges` as defence in depth.",
    references: &[Reference::Cis("4.8"), Reference::Dockle("CIS-DI-0008")],
};

/// Capabilities as good as root, or one step from it (see the rule's explanation).
const DANGEROUS: [&str; 18] = [
    "cap_sys_admin",
    "cap_setuid",
    "cap_setgid",
    "cap_setpcap",
    "cap_setfcap",
    "cap_dac_override",
    "cap_dac_read_search",
    "cap_chown",
    "cap_fowner",
    "cap_fsetid",
    "cap_sys_ptrace",
    "cap_sys_module",
    "cap_sys_rawio",
    "cap_mknod",
    "cap_net_admin",
    "cap_bpf",
    "cap_mac_admin",
    "cap_mac_override",
];

fn mask(names: &[&str]) -> u64 {
    names
        .iter()
        .filter_map(|n| cap_bit(n))
        .fold(0, |m, b| m | 1 << b)
}

/// The severity of a file granting `caps`, and the dangerous capabilities among them;
/// `None` for a value that grants nothing.
fn judge(caps: &FileCaps) -> Option<(Severity, Vec<String>)> {
    let any = caps.any();
    if any == 0 {
        return None;
    }
    let dangerous = any & mask(&DANGEROUS);
    let severity = if dangerous != 0 {
        Severity::High
    } else if any == mask(&["cap_net_bind_service"]) {
        Severity::Low
    } else {
        Severity::Medium
    };
    let named = FileCaps {
        permitted: dangerous,
        inheritable: 0,
        ..*caps
    };
    Some((severity, named.names()))
}

impl Rule for FileCapabilities {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_image(&self, image: &ImageFacts, out: &mut Emit) {
        for (p, e) in image.files.walk(&ImagePath::root()) {
            if !e.is_file() {
                continue;
            }
            let Some(caps) = e.capabilities() else {
                continue;
            };
            let owner = format!("mode {:04o}, owner {}:{}", e.mode, e.uid, e.gid);
            let (severity, message) = match &caps {
                Err(_) => (
                    Severity::Low,
                    format!(
                        "{} ({owner}): the kernel refuses to execute it",
                        describe_caps(&caps)
                    ),
                ),
                Ok(c) => {
                    let Some((severity, dangerous)) = judge(c) else {
                        continue;
                    };
                    let mut m = format!("file capabilities {c} ({owner})");
                    if !dangerous.is_empty() {
                        m.push_str(&format!(
                            "; {} as good as root",
                            if dangerous.len() == 1 {
                                format!("{} is", dangerous[0])
                            } else {
                                format!("{} are", dangerous.join(", "))
                            }
                        ));
                    }
                    if let Some(r) = c.rootid.filter(|&r| r != 0) {
                        m.push_str(&format!(
                            "; applied only in a user namespace whose root is uid {r}"
                        ));
                    }
                    (severity, m)
                }
            };
            out.path_severity(p, Some(e.layer), severity, message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fake, run_image};
    use husk_explore::xattr::CAPABILITY_XATTR;

    fn caps(names: &[&str]) -> Vec<u8> {
        FileCaps::of(names, false).encode()
    }

    #[test]
    fn names_the_capabilities_at_a_severity_for_what_they_grant() {
        let f = Fake::new()
            .exe("/usr/bin/su2", b"x")
            .xattr("/usr/bin/su2", CAPABILITY_XATTR, &caps(&["cap_setuid"]))
            .exe("/usr/bin/web", b"x")
            .xattr(
                "/usr/bin/web",
                CAPABILITY_XATTR,
                &caps(&["cap_net_bind_service"]),
            )
            .exe("/bin/ping", b"x")
            .xattr("/bin/ping", CAPABILITY_XATTR, &caps(&["cap_net_raw"]))
            .exe("/bin/dbg", b"x")
            .xattr(
                "/bin/dbg",
                CAPABILITY_XATTR,
                &caps(&["cap_sys_admin", "cap_sys_ptrace", "cap_net_raw"]),
            )
            .facts();
        let got: Vec<(String, Severity, String)> = run_image(&FileCapabilities, &f)
            .into_iter()
            .map(|f| {
                let crate::rule::Location::Image { path, .. } = f.location else {
                    panic!("image finding")
                };
                (path.unwrap(), f.severity, f.message)
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "/bin/dbg".to_owned(),
                    Severity::High,
                    "file capabilities cap_net_raw,cap_sys_ptrace,cap_sys_admin+ep (mode 0755, owner 0:0); cap_sys_ptrace, cap_sys_admin are as good as root".to_owned()
                ),
                (
                    "/bin/ping".to_owned(),
                    Severity::Medium,
                    "file capabilities cap_net_raw+ep (mode 0755, owner 0:0)".to_owned()
                ),
                (
                    "/usr/bin/su2".to_owned(),
                    Severity::High,
                    "file capabilities cap_setuid+ep (mode 0755, owner 0:0); cap_setuid is as good as root".to_owned()
                ),
                (
                    "/usr/bin/web".to_owned(),
                    Severity::Low,
                    "file capabilities cap_net_bind_service+ep (mode 0755, owner 0:0)".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn malformed_and_namespaced_values_say_so() {
        let v3 = FileCaps {
            rootid: Some(100_000),
            ..FileCaps::of(&["cap_net_raw"], false)
        }
        .encode();
        let f = Fake::new()
            .exe("/a", b"x")
            .xattr("/a", CAPABILITY_XATTR, &[1, 2, 3])
            .exe("/b", b"x")
            .xattr("/b", CAPABILITY_XATTR, &v3)
            .exe("/c", b"x")
            .xattr("/c", CAPABILITY_XATTR, &FileCaps::of(&[], false).encode())
            .facts();
        let got = run_image(&FileCapabilities, &f);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].severity, Severity::Low);
        assert!(got[0].message.contains("malformed security.capability"));
        assert!(
            got[1]
                .message
                .contains("[rootid=100000] (mode 0755, owner 0:0); applied only in a user namespace whose root is uid 100000"),
            "{}",
            got[1].message
        );
    }

    #[test]
    fn quiet_without_capabilities() {
        let f = Fake::new()
            .file_mode("/usr/bin/su", b"x", 0o4755)
            .exe("/app", b"x")
            .xattr("/app", "user.note", b"v")
            .dir("/d")
            .xattr("/d", CAPABILITY_XATTR, &caps(&["cap_setuid"]))
            .facts();
        assert!(run_image(&FileCapabilities, &f).is_empty());
    }
}
