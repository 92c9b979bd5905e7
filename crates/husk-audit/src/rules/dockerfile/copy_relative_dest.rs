//! HUSK-D066: COPY or ADD to a relative destination in a stage with no WORKDIR of its own
//! (hadolint's DL3045): the files land under whatever working directory the base image
//! sets.

use husk_dockerfile::{BaseImage, Kind};

use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct CopyRelativeDest;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D066",
    name: "copy-relative-destination",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "COPY/ADD to a relative destination before any WORKDIR",
    explanation: "A relative COPY or ADD destination (`COPY app.py .`, `COPY conf/ etc/`) is resolved against the working directory, which until the stage (or a stage it is built on) sets a WORKDIR is the one the base image's config says: `/` for most images, `/go` for golang, `/usr/src/app` for others. When the base image changes it, the files move and the commands that expect them fail. Not reported for a stage built on `scratch` (its working directory is `/`, nothing can move it) or for a destination that starts with a variable.",
    fix: "Set `WORKDIR /app` (an absolute path) before the COPY, or give an absolute destination (`COPY app.py /app/`).",
    references: &[Reference::Hadolint("DL3045")],
};

/// Whether `dest` is resolved against the working directory: not absolute (`/x`,
/// Windows `C:\x`), not a variable (`$HOME/x`, whose value the linter does not know).
fn relative(dest: &str) -> bool {
    let d = dest.trim_matches(|c| c == '"' || c == '\'');
    let b = d.as_bytes();
    let drive =
        b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && matches!(b[2], b'/' | b'\\');
    !(d.is_empty() || d.starts_with(['/', '\\', '$']) || drive)
}

impl Rule for CopyRelativeDest {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        let df = &file.file;
        // Per stage, in order: whether its working directory is known by its end (a
        // WORKDIR in it or a stage it is built on, or a scratch base: `/`).
        let mut known: Vec<bool> = Vec::with_capacity(df.stages.len());
        // Per stage: the FROM text of the image its ancestry starts from.
        let image: Vec<&str> =
            df.along_ancestry(|s, base: Option<&&str>| base.copied().unwrap_or(&s.base_text));
        for s in &df.stages {
            let mut set = match s.base {
                BaseImage::Scratch => true,
                BaseImage::Stage { index } => known.get(index).copied().unwrap_or(false),
                BaseImage::Image(_) => false,
            };
            for i in &s.instructions {
                let (keyword, dest) = match &i.kind {
                    Kind::Workdir { .. } => {
                        set = true;
                        continue;
                    }
                    Kind::Copy { dest, .. } => ("COPY", dest),
                    Kind::Add { dest, .. } => ("ADD", dest),
                    _ => continue,
                };
                if !set && relative(dest) {
                    let image = image.get(s.index).copied().unwrap_or_default();
                    out.at(
                        i.span,
                        format!("{keyword} to the relative destination {dest} with no WORKDIR set: it lands under whatever working directory {image} sets"),
                    );
                }
            }
            known.push(set);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{dockerfile_lines, run_dockerfile};

    fn lines(t: &str) -> Vec<u32> {
        dockerfile_lines(&CopyRelativeDest, t)
    }

    /// The cases hadolint 2.15.1's DL3045 reports (lines 2, 3, 6, 11) and the ones it
    /// does not, checked against the binary.
    #[test]
    fn agrees_with_hadolint_dl3045() {
        let t = "FROM debian:12 AS build\n\
                 COPY a.txt rel/\n\
                 COPY b.txt ./\n\
                 COPY c.txt /abs\n\
                 COPY h.txt $HOME/x\n\
                 COPY [\"e.txt\", \"rel3/\"]\n\
                 FROM debian:12\n\
                 WORKDIR /app\n\
                 COPY i.txt rel4\n\
                 FROM build\n\
                 COPY j.txt rel5\n\
                 FROM debian:12 AS w\n\
                 WORKDIR /w\n\
                 FROM w\n\
                 COPY k.txt rel6\n";
        assert_eq!(lines(t), [2, 3, 6, 11]);
    }

    /// Where husk differs on purpose: ADD too (the same ambiguity), never under scratch
    /// (its working directory is `/`).
    #[test]
    fn add_counts_and_scratch_is_known() {
        assert_eq!(lines("FROM alpine:3.20\nADD f.tgz opt/\n"), [2]);
        assert!(lines("FROM scratch\nCOPY app .\nCOPY --from=b /x rel\n").is_empty());
        let f = run_dockerfile(&CopyRelativeDest, "FROM node:20 AS a\nFROM a\nCOPY . .\n");
        assert!(f[0].message.contains("node:20 sets"), "{:?}", f[0].message);
    }

    #[test]
    fn odd_destinations_do_not_panic_or_misfire() {
        assert!(lines("FROM a\nCOPY x C:\\app\nCOPY y c:/w\nCOPY z \"/q\"\n").is_empty());
        assert_eq!(lines("FROM a\nCOPY x é\n"), [2]);
        assert!(!relative(""));
        assert!(!relative("\"\""));
        assert!(relative("C:"));
    }
}
