//! HUSK-D067: `COPY --from=X / /`, a stage's (or image's) entire filesystem copied over
//! another (hadolint's DL3067).

use husk_dockerfile::{CopySource, FromResolver, Kind};

use super::inherits_any;

use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct CopyWholeFilesystem;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D067",
    name: "copy-entire-filesystem",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "COPY --from=<stage> / /: a whole filesystem copied over the image",
    explanation: "Copying the root of another stage onto the root brings everything that stage holds: compilers, package manager caches and databases, `/tmp`, its `/etc/passwd` over this image's. It is the opposite of a multi-stage build, which copies the files the program needs; the image is as large as the build stage and carries its vulnerabilities. Reported only when the stage copied from (or a stage it is built on) runs commands: a stage that only gathers files (`FROM scratch` plus COPYs, the usual export or squash stage) or only names an image (`FROM tonistiigi/xx AS xx`, whose documented use is `COPY --from=xx / /`) is meant to be copied whole. hadolint's DL3067 also reports those and `--from=<image>`; husk also reads `/.` and `//` as the root. Reported at info in a build-only stage.",
    fix: "Copy what the program needs (`COPY --from=build /app/bin/server /server`), or build the stage `FROM` the other one.",
    references: &[Reference::Hadolint("DL3067")],
};

/// Whether `p` names the root: `/`, `//`, `/.`, `"/"`.
fn is_root(p: &str) -> bool {
    let p = p.trim_matches(|c| c == '"' || c == '\'');
    p.starts_with('/') && p.split('/').all(|part| part.is_empty() || part == ".")
}

/// Whether `--from` names a stage that runs commands (a RUN in it or a stage it is built
/// on): its filesystem holds what the build installed, not only files put there.
/// `runs_in` is that fact per stage, computed on the first COPY that needs it; `resolver`
/// gathers the global ARGs once for every `--from`.
fn runs_commands(
    file: &DockerfileFacts,
    resolver: &FromResolver<'_>,
    from: &str,
    runs_in: &mut Option<Vec<bool>>,
) -> bool {
    let df = &file.file;
    resolver.resolve(from).is_some_and(|stage| {
        runs_in
            .get_or_insert_with(|| inherits_any(df, |i| matches!(i.kind, Kind::Run { .. })))
            .get(stage.index)
            .copied()
            .unwrap_or(false)
    })
}

impl Rule for CopyWholeFilesystem {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        let mut runs_in = None;
        let resolver = file.file.from_resolver();
        for s in &file.file.stages {
            for i in &s.instructions {
                let Kind::Copy {
                    from: Some(from),
                    sources,
                    dest,
                    ..
                } = &i.kind
                else {
                    continue;
                };
                let root = sources
                    .iter()
                    .any(|src| matches!(src, CopySource::Path(p) if is_root(p)));
                if root && is_root(dest) && runs_commands(file, &resolver, from, &mut runs_in) {
                    out.at_stage(
                        file,
                        s.index,
                        i.span,
                        format!("COPY --from={from} / / copies the whole filesystem of {from} over this image"),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{dockerfile_lines, run_dockerfile};

    fn lines(t: &str) -> Vec<u32> {
        dockerfile_lines(&CopyWholeFilesystem, t)
    }

    /// hadolint 2.15.1's DL3067 reports lines 4, 9 and 10 of this file, not the others;
    /// husk leaves out line 9 on purpose (an image, whose content it does not know).
    #[test]
    fn agrees_with_hadolint_dl3067() {
        let t = "FROM debian:12 AS build\n\
                 RUN make\n\
                 FROM scratch\n\
                 COPY --from=build / /\n\
                 COPY --from=build /usr /usr\n\
                 COPY --from=build / /rootfs/\n\
                 COPY --from=build / .\n\
                 COPY --from=build ./ /\n\
                 COPY --from=busybox:1.36 / /\n\
                 COPY --from=build \"/\" \"/\"\n\
                 COPY / /\n";
        assert_eq!(lines(t), [4, 10]);
    }

    /// Export and squash stages, and an image named by a stage, are meant to be copied
    /// whole (buildkit's own Dockerfile: `COPY --from=xx / /`, `cni-plugins-export`).
    #[test]
    fn stages_that_run_nothing_are_quiet() {
        let t = "FROM tonistiigi/xx:1.6.1 AS xx\n\
                 FROM scratch AS export\n\
                 COPY --from=xx /usr/bin/xx-info /\n\
                 FROM export AS again\n\
                 FROM golang:1.23\n\
                 COPY --from=xx / /\n\
                 COPY --from=export / /\n\
                 COPY --from=again / /\n\
                 COPY --from=nosuchstage / /\n";
        assert!(lines(t).is_empty());
        let t =
            "FROM golang:1.23 AS b\nRUN go build\nFROM b AS c\nFROM scratch\nCOPY --from=c / /\n";
        assert_eq!(lines(t), [5], "a RUN in the stage it is built on counts");
    }

    /// husk also reads `/.` and `//` as the root (hadolint does not); a build-only stage
    /// is told at info.
    #[test]
    fn root_spellings_and_build_only_stages() {
        let t = "FROM debian:12 AS build\nRUN make\nFROM scratch\nCOPY --from=build /. //\n";
        assert_eq!(lines(t), [4]);
        let t = "FROM debian:12 AS a\nRUN make\nFROM debian:12 AS b\nCOPY --from=a / /\nFROM scratch\nCOPY --from=a /x /x\n";
        let f = run_dockerfile(&CopyWholeFilesystem, t);
        assert_eq!(f[0].severity, Severity::Info);
        assert!(!is_root(""));
        assert!(!is_root("/./x"));
    }
}
