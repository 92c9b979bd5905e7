//! The small system files a FROM-scratch image needs and nobody remembers to add:
//! /etc/passwd, /etc/group (root, the app user, nobody), /etc/nsswitch.conf.
//! Formats per passwd(5), group(5) and nsswitch.conf(5).

use crate::values::User;

const NOLOGIN: &str = "/sbin/nologin";

/// The home directory of the app user (`None` for nobody, who has none).
pub fn home_of(user: User, name: &str) -> Option<String> {
    match user.uid {
        0 => Some("/root".into()),
        65534 => None,
        _ => Some(format!("/home/{name}")),
    }
}

/// `/etc/passwd` with root, the app user and nobody, sorted by uid.
pub fn passwd(user: User, name: &str) -> String {
    let mut lines = vec![(0, format!("root:x:0:0:root:/root:{NOLOGIN}"))];
    if user.uid != 0 && user.uid != 65534 {
        let home = home_of(user, name).unwrap_or_else(|| "/nonexistent".into());
        lines.push((
            user.uid,
            format!("{name}:x:{}:{}:{name}:{home}:{NOLOGIN}", user.uid, user.gid),
        ));
    }
    lines.push((
        65534,
        format!("nobody:x:65534:65534:nobody:/nonexistent:{NOLOGIN}"),
    ));
    lines.sort();
    lines.into_iter().map(|(_, l)| l + "\n").collect()
}

/// `/etc/group` with root, the app group and nogroup, sorted by gid.
pub fn group(user: User, name: &str) -> String {
    let mut lines = vec![(0, "root:x:0:".to_owned())];
    if user.gid != 0 && user.gid != 65534 {
        lines.push((user.gid, format!("{name}:x:{}:", user.gid)));
    }
    lines.push((65534, "nogroup:x:65534:".to_owned()));
    lines.sort();
    lines.into_iter().map(|(_, l)| l + "\n").collect()
}

/// `/etc/nsswitch.conf`: files for the databases the image ships, dns for hosts.
pub fn nsswitch() -> &'static str {
    "passwd:    files\ngroup:     files\nshadow:    files\nhosts:     files dns\nnetworks:  files\nprotocols: files\nservices:  files\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_nonroot_user() {
        let u = User {
            uid: 65532,
            gid: 65532,
        };
        assert_eq!(
            passwd(u, "nonroot"),
            "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
        );
        assert_eq!(
            group(u, "nonroot"),
            "root:x:0:\nnonroot:x:65532:\nnogroup:x:65534:\n"
        );
    }

    #[test]
    fn nobody_and_root_are_not_duplicated() {
        let nobody = User {
            uid: 65534,
            gid: 65534,
        };
        assert_eq!(passwd(nobody, "nobody").lines().count(), 2);
        assert_eq!(group(nobody, "nobody").lines().count(), 2);
        let root = User { uid: 0, gid: 0 };
        assert_eq!(passwd(root, "root").lines().count(), 2);
    }

    #[test]
    fn sorted_by_id() {
        let u = User {
            uid: 70000,
            gid: 70000,
        };
        let p = passwd(u, "app");
        assert!(p.lines().last().unwrap().starts_with("app:"));
    }
}
