//! HUSK-I005: the entrypoint is an ELF program for another architecture.

use super::start_elf;
use crate::facts::ImageFacts;
use crate::rule::{Emit, Rule, RuleInfo, Severity, Target};

pub struct EntrypointArch;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-I005",
    name: "entrypoint-wrong-architecture",
    target: Target::Image,
    severity: Severity::Critical,
    summary: "The entrypoint is built for another CPU architecture than the image declares",
    explanation: "Engines pick an image by the config's architecture, then the kernel refuses the program with \"exec format error\" (or runs it slowly under emulation when binfmt_misc is set up, hiding the mistake until production).",
    fix: "Build the program for the image's architecture, or set the image's architecture to the program's (husk build takes it from the ELF header).",
    references: &[],
};

impl Rule for EntrypointArch {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_image(&self, image: &ImageFacts, out: &mut Emit) {
        let Some((path, e, elf)) = start_elf(image) else {
            return;
        };
        let want = image.config.architecture.as_str();
        let have = elf.arch.oci_architecture();
        if have != want {
            out.path(
                &path,
                Some(e.layer),
                format!(
                    "the entrypoint is an ELF program for {} but the image is for {want}",
                    elf.arch
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fake, elf, run_image};

    #[test]
    fn fires_for_arm64_in_amd64() {
        let f = Fake::new()
            .exe("/app", &elf(183, None, &[], b""))
            .entrypoint(&["/app"])
            .facts();
        assert_eq!(run_image(&EntrypointArch, &f).len(), 1);
    }

    #[test]
    fn quiet_when_matching() {
        let f = Fake::new()
            .exe("/app", &elf(62, None, &[], b""))
            .entrypoint(&["/app"])
            .facts();
        assert!(run_image(&EntrypointArch, &f).is_empty());
    }
}
