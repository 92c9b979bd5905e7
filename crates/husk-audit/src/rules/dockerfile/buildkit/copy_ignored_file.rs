//! HUSK-D040: COPY/ADD of a context path the `.dockerignore` excludes (BuildKit's
//! experimental CopyIgnoredFile).

use husk_dockerfile::{CopySource, Kind};

use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct CopyIgnoredFile;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D040",
    name: "copy-ignored-file",
    target: Target::Dockerfile,
    severity: Severity::Medium,
    summary: "COPY or ADD names a file the .dockerignore excludes from the context",
    explanation: "Files the `.dockerignore` (beside the Dockerfile, as `husk lint` reads it) excludes are never sent to the builder: a COPY of one fails with \"not found\", or, with a wildcard, silently copies less than it says.",
    fix: "Remove the path from `.dockerignore` (or add a `!path` exception), or stop copying it.",
    references: &[Reference::Buildkit("CopyIgnoredFile")],
};

impl Rule for CopyIgnoredFile {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        let Some(ignore) = &file.dockerignore else {
            return;
        };
        for s in &file.file.stages {
            for i in &s.instructions {
                let sources = match &i.kind {
                    Kind::Copy {
                        from: None,
                        sources,
                        ..
                    }
                    | Kind::Add { sources, .. } => sources,
                    _ => continue,
                };
                for c in sources {
                    if let CopySource::Path(p) = c
                        && !p.contains("://")
                        && !p.starts_with("git@")
                        && !p.contains('$')
                        && ignore.excludes(p)
                    {
                        out.at(i.span, format!("{p} is excluded by .dockerignore, so the build context does not have it"));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::run_dockerfile_facts;
    use husk_dockerfile::DockerIgnore;

    fn run(text: &str, ignore: &str) -> usize {
        let mut facts = DockerfileFacts::new("Dockerfile", husk_dockerfile::parse(text).unwrap());
        facts.dockerignore = Some(DockerIgnore::parse(ignore));
        run_dockerfile_facts(&CopyIgnoredFile, &facts).len()
    }

    #[test]
    fn fires_for_ignored_sources() {
        assert_eq!(
            run(
                "FROM scratch\nCOPY .env secrets/a.key /app/\nADD build/app /app\n",
                ".env\nsecrets\nbuild/\n"
            ),
            3
        );
    }

    #[test]
    fn quiet_for_kept_files_stages_and_urls() {
        let t = "FROM alpine:3.20 AS b\nFROM scratch\nCOPY --from=b /build/x /x\nCOPY README.md src /app/\nADD https://example.com/build /b\n";
        assert_eq!(run(t, "*.md\n!README.md\nbuild\n"), 0);
        assert!(
            crate::testing::run_dockerfile(&CopyIgnoredFile, "FROM scratch\nCOPY .env /\n")
                .is_empty()
        );
    }
}
