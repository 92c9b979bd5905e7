//! HUSK-D005: ADD used for plain local files, where COPY fits.

use husk_dockerfile::{CopySource, Kind};

use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct AddInsteadOfCopy;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D005",
    name: "add-instead-of-copy",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "ADD copies plain local files; COPY does that without surprises",
    explanation: "ADD also extracts local tar archives and fetches URLs, so what it does depends on the file: a source that turns out to be an archive is silently unpacked. COPY only copies. ADD of a local archive that is meant to be extracted is fine and not reported.",
    fix: "Replace `ADD` with `COPY` for files and directories.",
    references: &[
        Reference::Cis("4.9"),
        Reference::Hadolint("DL3020"),
        Reference::Trivy("DS005"),
    ],
};

/// Whether an ADD source is fetched rather than read from the build context: a URL, or a
/// git repository in any of BuildKit's forms (`https://host/repo.git#ref`,
/// `git@host:repo.git`, `git://`, `ssh://`).
pub(crate) fn is_remote(src: &str) -> bool {
    ["http://", "https://", "git@", "git://", "ssh://"]
        .iter()
        .any(|p| src.starts_with(p))
}

fn is_archive(src: &str) -> bool {
    [
        ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst",
    ]
    .iter()
    .any(|e| src.ends_with(e))
}

impl Rule for AddInsteadOfCopy {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        for s in &file.file.stages {
            for i in &s.instructions {
                let Kind::Add { sources, .. } = &i.kind else {
                    continue;
                };
                let plain: Vec<&str> = sources
                    .iter()
                    .filter_map(|c| match c {
                        CopySource::Path(p) if !is_remote(p) && !is_archive(p) => Some(p.as_str()),
                        _ => None,
                    })
                    .collect();
                if !plain.is_empty() {
                    out.at(
                        i.span,
                        format!("ADD of local files ({}): use COPY", plain.join(", ")),
                    );
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
    fn fires_for_local_files() {
        assert_eq!(
            run_dockerfile(&AddInsteadOfCopy, "FROM scratch\nADD app /app\n").len(),
            1
        );
    }

    /// issue 14: BuildKit's git sources, quoted or not, are not local files.
    #[test]
    fn quiet_for_git_sources() {
        let t = "FROM scratch\nADD https://github.com/org/repo.git#v1.2 /src\n\
                 ADD --keep-git-dir=true \"https://github.com/org/repo.git#${REF}\" /src\n\
                 ADD git@github.com:org/repo.git /src\nADD git://host/repo /src\n\
                 ADD ssh://git@host/repo.git /src\n";
        assert!(run_dockerfile(&AddInsteadOfCopy, t).is_empty());
    }

    #[test]
    fn quiet_for_archives_and_copy() {
        assert!(
            run_dockerfile(
                &AddInsteadOfCopy,
                "FROM scratch\nADD rootfs.tar.gz /\nCOPY app /app\n"
            )
            .is_empty()
        );
    }
}
