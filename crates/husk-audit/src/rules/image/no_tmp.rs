//! HUSK-I009: no /tmp, or a /tmp that is not mode 1777.

use crate::facts::ImageFacts;
use crate::rule::{Emit, Rule, RuleInfo, Severity, Target};

pub struct NoTmp;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-I009",
    name: "no-tmp",
    target: Target::Image,
    severity: Severity::Medium,
    summary: "/tmp is missing or not a world-writable sticky directory (1777)",
    explanation: "Programs and libraries create temporary files in /tmp (or `TMPDIR`) without asking: Go's os.CreateTemp, Python's tempfile, glibc's tmpfile, JVM and .NET caches. A FROM-scratch image has no /tmp, and a non-root user cannot write to a 0755 one, so those calls fail at run time.",
    fix: "Create /tmp with mode 1777 (husk build does), e.g. `COPY --chmod=1777 tmp /tmp` from a build stage, or mount a tmpfs at /tmp.",
    references: &[],
};

impl Rule for NoTmp {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_image(&self, image: &ImageFacts, out: &mut Emit) {
        match image.lookup("/tmp") {
            None => out.image("the image has no /tmp"),
            Some((p, e)) if !e.is_dir() => out.path(&p, Some(e.layer), "/tmp is not a directory"),
            Some((p, e)) if e.mode & 0o1777 != 0o1777 => out.path(
                &p,
                Some(e.layer),
                format!("/tmp has mode {:04o}, not 1777", e.mode),
            ),
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fake, run_image};

    #[test]
    fn fires_when_missing_or_closed() {
        assert_eq!(run_image(&NoTmp, &Fake::new().facts()).len(), 1);
        assert_eq!(
            run_image(&NoTmp, &Fake::new().dir_mode("/tmp", 0o755).facts()).len(),
            1
        );
    }

    #[test]
    fn quiet_with_1777() {
        assert!(run_image(&NoTmp, &Fake::new().dir_mode("/tmp", 0o1777).facts()).is_empty());
    }
}
