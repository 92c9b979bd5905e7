//! HUSK-I005: the entrypoint is an ELF program for another architecture than the image's
//! config declares, or than the multi-platform index it was picked from lists it under
//! (an engine on that platform pulls this image and the kernel refuses the program).

use super::start_elf;
use crate::facts::ImageFacts;
use crate::rule::{Emit, Rule, RuleInfo, Severity, Target};

pub struct EntrypointArch;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-I005",
    name: "entrypoint-wrong-architecture",
    target: Target::Image,
    severity: Severity::Critical,
    summary: "The entrypoint is built for another CPU architecture than the image (or its index entry) declares",
    explanation: "Engines pick an image by the platform its index lists and the config's architecture, then the kernel refuses the program with \"exec format error\" (or runs it slowly under emulation when binfmt_misc is set up, hiding the mistake until production). Images glued into an index by hand (`podman manifest add`, `crane index append`) are where a wrong entry usually comes from.",
    fix: "Build the program for the image's architecture, or set the image's architecture to the program's (husk build takes it from the ELF header, and `husk build --platform-exe` builds a whole index from one program per platform).",
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
        } else if let Some(listed) = &image.listed_as
            && listed.architecture != have
        {
            out.path(
                &path,
                Some(e.layer),
                format!(
                    "the index lists this image for {listed}, but its entrypoint is an ELF program for {} (and its config says {want}): an engine on {listed} pulls it and cannot run it",
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
    fn fires_when_the_index_entry_disagrees_with_the_program() {
        let mut f = Fake::new()
            .exe("/app", &elf(62, None, &[], b""))
            .entrypoint(&["/app"])
            .facts();
        f.listed_as = Some(husk_oci::parse_platform("linux/arm64").unwrap());
        let found = run_image(&EntrypointArch, &f);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0]
                .message
                .contains("lists this image for linux/arm64"),
            "{}",
            found[0].message
        );
        f.listed_as = Some(husk_oci::parse_platform("linux/amd64").unwrap());
        assert!(run_image(&EntrypointArch, &f).is_empty());
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
