//! HUSK-D020: a COPY without `--from` of an absolute path that an earlier stage creates
//! (or a system path an earlier image stage has): it copies from the build context.

use std::collections::HashMap;

use husk_dockerfile::{BaseImage, CopySource, Kind, Span, Stage};

use crate::rule::{DockerfileFacts, Emit, Rule, RuleInfo, Severity, Target};

pub struct CopyWithoutFrom;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D020",
    name: "copy-missing-from",
    target: Target::Dockerfile,
    severity: Severity::High,
    summary: "COPY of a path an earlier stage creates, without --from: it copies from the build context",
    explanation: "Without `--from`, COPY reads the build context, where a leading `/` means the context's root, not a stage's filesystem. `COPY /project/dist/app /app` after a build stage that writes `/project/dist/app` copies nothing from that stage: the build fails when the context has no such file, or silently ships a stale one when it has. BuildKit then also skips the build stage, since nothing uses it.",
    fix: "Add `--from=<stage>` naming the stage that creates the file (husk names it).",
    references: &[],
};

/// System trees every image-based stage has (the CA bundle, timezone data, libraries).
const SYSTEM_PREFIXES: &[&str] = &[
    "/etc/", "/usr/", "/lib/", "/lib64/", "/bin/", "/sbin/", "/opt/",
];

/// `a//b/./c/` as `/a/b/c`.
fn normalize(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    format!("/{}", parts.join("/"))
}

/// `p` resolved against the working directory `wd`.
fn resolve(wd: &str, p: &str) -> String {
    if p.starts_with('/') {
        normalize(p)
    } else {
        normalize(&format!("{wd}/{p}"))
    }
}

/// The absolute paths a stage's instructions create or name: WORKDIRs, COPY/ADD
/// destinations, and the path-like words of its RUNs (resolved against the WORKDIR).
fn created_paths(stage: &Stage) -> Vec<String> {
    let mut wd = String::from("/");
    let mut out = Vec::new();
    for i in &stage.instructions {
        match &i.kind {
            Kind::Workdir { path } => {
                wd = resolve(&wd, path);
                out.push(wd.clone());
            }
            Kind::Copy { dest, .. } | Kind::Add { dest, .. } => out.push(resolve(&wd, dest)),
            Kind::Run { command, .. } => {
                for w in command.text().split_whitespace() {
                    let w = w.trim_matches(|c: char| matches!(c, '"' | '\'' | ';' | '&' | '|'));
                    let w = w.split_once('=').map_or(w, |(_, v)| v);
                    if w.contains('/')
                        && !w.contains("://")
                        && !w.starts_with('$')
                        && !w.starts_with('-')
                    {
                        out.push(resolve(&wd, w));
                    }
                }
            }
            _ => {}
        }
    }
    out.retain(|p| p != "/");
    out
}

/// What the stages before the current one created, built up stage by stage so the rule
/// stays linear in the number of stages.
#[derive(Default)]
struct Earlier {
    /// Created path -> the last stage that created it.
    created: HashMap<String, usize>,
    /// Per stage: whether it is built on an image (has the image's system files).
    image_based: Vec<bool>,
}

impl Earlier {
    /// The earlier stage `source` most likely comes from, and whether it created it (else
    /// it is a system path of an image-based stage).
    fn origin(&self, source: &str) -> Option<(usize, bool)> {
        let mut p = source;
        loop {
            if let Some(&i) = self.created.get(p) {
                return Some((i, true));
            }
            match p.rfind('/') {
                Some(0) | None => break,
                Some(cut) => p = &p[..cut],
            }
        }
        if SYSTEM_PREFIXES.iter().any(|p| source.starts_with(p)) {
            let i = self.image_based.iter().rposition(|b| *b)?;
            return Some((i, false));
        }
        None
    }

    fn add(&mut self, stage: &Stage) {
        let image_based = match stage.base {
            BaseImage::Image(_) => true,
            BaseImage::Scratch => false,
            BaseImage::Stage { index } => self.image_based.get(index).copied().unwrap_or(false),
        };
        self.image_based.push(image_based);
        for p in created_paths(stage) {
            self.created.insert(p, stage.index);
        }
    }
}

impl Rule for CopyWithoutFrom {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        let mut earlier = Earlier::default();
        for s in &file.file.stages {
            for i in &s.instructions {
                let Kind::Copy {
                    from: None,
                    sources,
                    ..
                } = &i.kind
                else {
                    continue;
                };
                for c in sources {
                    let CopySource::Path(p) = c else { continue };
                    if !p.starts_with('/') || p.contains('$') {
                        continue;
                    }
                    if let Some((from, created)) = earlier.origin(&normalize(p)) {
                        report(file, out, i.span, p, from, created);
                    }
                }
            }
            earlier.add(s);
        }
    }
}

fn report(
    file: &DockerfileFacts,
    out: &mut Emit,
    span: Span,
    path: &str,
    from: usize,
    created: bool,
) {
    let name = file
        .file
        .stages
        .get(from)
        .and_then(|s| s.name_as_written.clone())
        .unwrap_or_else(|| from.to_string());
    let label = file.stage_label(from);
    let why = if created {
        format!("{label} creates it")
    } else {
        format!("it is a system path {label} has")
    };
    out.at(
        span,
        format!("COPY {path} has no --from, so it copies from the build context, but {why}; did you mean COPY --from={name}?"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{messages, run_dockerfile};

    #[test]
    fn fires_for_paths_an_earlier_stage_makes() {
        let t = "FROM golang:1.23 AS build\nCOPY ./ /project\nWORKDIR /project\n\
                 RUN go build -o dist/app .\nFROM scratch\nCOPY /project//dist/app /app\n\
                 COPY /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/\n";
        let f = run_dockerfile(&CopyWithoutFrom, t);
        let m = messages(&f);
        assert_eq!(m.len(), 2, "{m:?}");
        assert!(
            m[0].contains("stage 0 (build) creates it") && m[0].contains("--from=build"),
            "{m:?}"
        );
        assert!(m[1].contains("system path"), "{m:?}");
    }

    #[test]
    fn ten_thousand_stages_stay_linear() {
        let mut t = String::from("FROM alpine:3.20 AS s0\n");
        for i in 1..10_000 {
            t.push_str(&format!("FROM scratch AS s{i}\nCOPY /x{i} /x{i}\n"));
        }
        // Each /xN is created by stage N, after its own COPY: only /x1.. from later stages
        // would match, and none do.
        assert!(run_dockerfile(&CopyWithoutFrom, &t).is_empty());
    }

    #[test]
    fn quiet_for_context_paths_and_from() {
        let t = "FROM golang:1.23 AS build\nWORKDIR /src\nRUN go build -o /out/app .\n\
                 FROM scratch\nCOPY --from=build /out/app /app\nCOPY config.toml /etc/app/\n\
                 COPY /out-of-context.txt /x\n";
        assert!(run_dockerfile(&CopyWithoutFrom, t).is_empty());
    }

    /// A single stage copying `/etc/...` from the context has no stage to confuse.
    #[test]
    fn quiet_for_a_single_stage() {
        assert!(
            run_dockerfile(&CopyWithoutFrom, "FROM alpine:3.20\nCOPY /etc/motd /etc/\n").is_empty()
        );
    }
}
