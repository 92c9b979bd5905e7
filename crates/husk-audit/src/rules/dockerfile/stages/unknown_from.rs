//! HUSK-D018: `COPY --from=` or `RUN --mount=from=` names no stage and is not an image
//! reference with a registry, tag or digest: BuildKit pulls an image by that name.

use std::collections::HashMap;

use husk_dockerfile::Dockerfile;

use super::distance;
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct UnknownFrom;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D018",
    name: "from-names-no-stage",
    target: Target::Dockerfile,
    severity: Severity::High,
    summary: "COPY --from or RUN --mount from= names no stage, so BuildKit pulls an image by that name",
    explanation: "When the value of `--from` is not the name or index of a stage, BuildKit takes it as an image reference: `COPY --from=buidl /app /app` pulls `docker.io/library/buidl:latest` from Docker Hub. A typo in a stage name becomes a registry pull of whatever image has that name, which anyone can publish. References with a registry, tag or digest (`--from=alpine:3.20`, `--from=ghcr.io/org/tool`) are clearly images and are not reported.",
    fix: "Fix the stage name (husk suggests the closest one), or write the image with a tag or digest (`--from=busybox:1.37`) when an image is meant.",
    references: &[Reference::Hadolint("DL3022")],
};

/// Whether a `--from` value is written as an image reference: a registry or path, a tag
/// or a digest.
fn looks_like_image(value: &str) -> bool {
    value.contains(['/', ':', '@'])
}

/// The stage name closest to `value`, if one is close (edit distance 2 or less). Names
/// whose length differs by more than 2 are not compared: they cannot be that close.
fn closest<'a>(df: &'a Dockerfile, value: &str) -> Option<&'a str> {
    df.stages
        .iter()
        .filter_map(|s| s.name_as_written.as_deref())
        .filter(|n| n.len().abs_diff(value.len()) <= 2)
        .map(|n| (distance(n, value), n))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

impl Rule for UnknownFrom {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        let df = &file.file;
        // The suggestion per value, so a value repeated on thousands of COPYs compares
        // the stage names once.
        let mut suggested: HashMap<&str, Option<&str>> = HashMap::new();
        let resolver = df.from_resolver();
        for s in &df.stages {
            for r in df.stage_refs(s.index) {
                let v = r.value;
                if v.contains('$') || looks_like_image(v) || resolver.resolve(v).is_some() {
                    continue;
                }
                let pulled = format!("docker.io/library/{}:latest", v.to_ascii_lowercase());
                match *suggested.entry(v).or_insert_with(|| closest(df, v)) {
                    Some(n) => out.at(
                        r.instruction.span,
                        format!("--from={v} names no stage, so BuildKit pulls the image {pulled}; did you mean --from={n}?"),
                    ),
                    None => out.at_severity(
                        r.instruction.span,
                        Severity::Medium,
                        format!("--from={v} names no stage, so BuildKit pulls the image {pulled}; name a stage, or write the image with a tag ({v}:<version>)"),
                    ),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{messages, run_dockerfile};

    /// 10,000 stages and 10,000 `COPY --from=` a name none has: the names are compared
    /// once per distinct value (100 million edit distances before), and only with names
    /// of about its length.
    #[test]
    fn ten_thousand_unknown_refs_compare_names_once() {
        let mut t = String::new();
        for i in 0..10_000 {
            t.push_str(&format!("FROM alpine:3.20 AS stage{i}\n"));
        }
        t.push_str(&"COPY --from=stage1x /a /a\nCOPY --from=zz /a /a\n".repeat(5_000));
        let m = messages(&run_dockerfile(&UnknownFrom, &t));
        assert_eq!(m.len(), 10_000);
        assert!(m[0].contains("did you mean --from=stage1?"), "{}", m[0]);
        assert!(m[1].contains("name a stage"), "{}", m[1]);
    }

    #[test]
    fn fires_for_a_typo_and_a_bare_name() {
        let t = "FROM golang:1.23 AS build\nFROM scratch\nCOPY --from=buidl /app /app\n\
                 RUN --mount=type=bind,from=tools,target=/t true\n";
        let f = run_dockerfile(&UnknownFrom, t);
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(
            messages(&f)[0].contains("did you mean --from=build"),
            "{f:?}"
        );
        assert_eq!(f[0].severity, Severity::High);
        assert_eq!(f[1].severity, Severity::Medium);
    }

    #[test]
    fn quiet_for_stages_indices_images_and_args() {
        let t = "ARG B=build\nFROM golang:1.23 AS Build\nFROM scratch\nCOPY --from=build /a /a\n\
                 COPY --from=0 /a /a\nCOPY --from=busybox:1.37 /bin/sh /sh\n\
                 COPY --from=ghcr.io/org/tool /t /t\nCOPY --from=${B} /a /a\n\
                 RUN --mount=type=cache,target=/c --mount=from=BUILD,target=/b true\n";
        assert!(run_dockerfile(&UnknownFrom, t).is_empty());
    }

    /// Names that look like images but are stages: the stage wins, as in BuildKit.
    #[test]
    fn a_stage_named_like_an_image_is_a_stage() {
        let t = "FROM alpine:3.20 AS alpine\nFROM scratch\nCOPY --from=alpine /bin/sh /sh\n";
        assert!(run_dockerfile(&UnknownFrom, t).is_empty());
    }
}
