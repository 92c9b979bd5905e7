//! HUSK-I012: world-writable files, or directories without the sticky bit.

use husk_explore::EntryKind;
use husk_layer::ImagePath;

use crate::facts::ImageFacts;
use crate::rule::{Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct WorldWritable;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-I012",
    name: "world-writable",
    target: Target::Image,
    severity: Severity::Medium,
    summary: "Files or directories are writable by every user",
    explanation: "A world-writable file can be changed by any process in the container, whatever its uid: programs and configuration can be replaced. A world-writable directory without the sticky bit lets any user delete or rename others' files in it. /tmp (1777) is the expected exception.",
    fix: "Drop the `o+w` bit (`chmod o-w`), or add the sticky bit to shared directories (`chmod 1777`); avoid `chmod 777`.",
    references: &[Reference::Cis("4.8")],
};

impl Rule for WorldWritable {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_image(&self, image: &ImageFacts, out: &mut Emit) {
        for (p, e) in image.files.walk(&ImagePath::root()) {
            let ww = e.mode & 0o002 != 0;
            match e.kind {
                EntryKind::File if ww => out.path(
                    p,
                    Some(e.layer),
                    format!("world-writable file (mode {:04o})", e.mode),
                ),
                EntryKind::Dir if ww && e.mode & 0o1000 == 0 => out.path(
                    p,
                    Some(e.layer),
                    format!(
                        "world-writable directory without the sticky bit (mode {:04o})",
                        e.mode
                    ),
                ),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fake, run_image};

    #[test]
    fn fires_for_777() {
        let f = Fake::new()
            .dir_mode("/data", 0o777)
            .file_mode("/app.conf", b"x", 0o666)
            .facts();
        assert_eq!(run_image(&WorldWritable, &f).len(), 2);
    }

    #[test]
    fn quiet_for_sticky_tmp_and_symlinks() {
        let f = Fake::new()
            .dir_mode("/tmp", 0o1777)
            .symlink("/x", "/tmp")
            .facts();
        assert!(run_image(&WorldWritable, &f).is_empty());
    }
}
