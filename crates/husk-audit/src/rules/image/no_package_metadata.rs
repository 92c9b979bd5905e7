//! HUSK-I026: nothing a scanner reads to learn the image's packages.

use husk_layer::ImagePath;

use crate::facts::ImageFacts;
use crate::rule::{Emit, Rule, RuleInfo, Severity, Target};

pub struct NoPackageMetadata;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-I026",
    name: "no-package-metadata",
    target: Target::Image,
    severity: Severity::Info,
    summary: "The image has no package metadata: scanners will list no packages",
    explanation: "Vulnerability scanners and SBOM tools (trivy, grype, syft) find an image's packages through its package database (/var/lib/dpkg/status or the distroless /var/lib/dpkg/status.d/, /lib/apk/db/installed, the rpm database) and the dependency data compiled into programs (cargo-auditable's `.dep-v0`, Go's build info). A FROM-scratch image of copied files has none of these, so a scan reports nothing: not because nothing is vulnerable, but because nothing is visible.",
    fix: "Build with `husk build` (it writes /var/lib/dpkg/status.d records of the Debian packages that supplied the files unless --no-package-db), build Rust programs with `cargo auditable build` (`husk build --cargo` does when cargo-auditable is installed), or attach an SBOM (`husk build --sbom all`).",
    references: &[],
};

/// Package databases scanners read, as files or as directories of entries.
const DATABASES: [&str; 5] = [
    "/var/lib/dpkg/status",
    "/lib/apk/db/installed",
    "/var/lib/rpm/rpmdb.sqlite",
    "/var/lib/rpm/Packages",
    "/usr/lib/sysimage/rpm/rpmdb.sqlite",
];
const STATUS_D: &str = "/var/lib/dpkg/status.d";

impl Rule for NoPackageMetadata {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_image(&self, image: &ImageFacts, out: &mut Emit) {
        if DATABASES.iter().any(|p| image.is_file(p)) {
            return;
        }
        if let Some((dir, node)) = image.lookup(STATUS_D)
            && node.is_dir()
            && image.files.walk(&dir).any(|(_, e)| e.is_file())
        {
            return;
        }
        let programs = image
            .files
            .walk(&ImagePath::root())
            .filter(|(_, e)| e.is_file())
            .any(|(_, e)| image.content_of(e).is_some_and(|c| c.build_data.is_some()));
        if !programs {
            out.image(
                "no package database (dpkg, apk, rpm) and no program with cargo-auditable or Go build data",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Fake, run_image};

    #[test]
    fn fires_for_copied_files_alone() {
        let facts = Fake::new()
            .exe("/app/server", b"\x7fELF\x02\x01\x01")
            .facts();
        assert_eq!(run_image(&NoPackageMetadata, &facts).len(), 1);
        // An empty status.d, or a status.d that is a file, is no database.
        let facts = Fake::new().dir(STATUS_D).facts();
        assert_eq!(run_image(&NoPackageMetadata, &facts).len(), 1);
        let facts = Fake::new().file(STATUS_D, b"Package: x\n").facts();
        assert_eq!(run_image(&NoPackageMetadata, &facts).len(), 1);
    }

    #[test]
    fn quiet_with_a_database_or_build_data() {
        for facts in [
            Fake::new().file("/var/lib/dpkg/status.d/libc6", b"Package: libc6\n"),
            Fake::new().file("/var/lib/dpkg/status", b"Package: libc6\n"),
            Fake::new().file("/lib/apk/db/installed", b"P:musl\n"),
            Fake::new().exe("/app/go", b"\x7fELF\x02\x01\x01 .go.buildinfo\0 more"),
            Fake::new().exe("/app/rs", b"\x7fELF\x02\x01\x01 .dep-v0\0 more"),
        ] {
            assert!(run_image(&NoPackageMetadata, &facts.facts()).is_empty());
        }
    }
}
