//! HUSK-D031: a variable used before any ARG or ENV defines it (BuildKit's UndefinedVar).

use std::collections::HashSet;

use husk_dockerfile::{BaseImage, CopySource, Instruction, Kind};

use super::{PREDEFINED_ARGS, var_refs};
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct UndefinedVar;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D031",
    name: "undefined-variable",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "An instruction uses a variable that no ARG or ENV defines before it",
    explanation: "The builder expands `$VAR` in COPY, ADD, ENV, LABEL, WORKDIR, USER, EXPOSE, VOLUME and STOPSIGNAL. A variable that is not defined expands to nothing: `COPY app /$APP_DIR/` copies to `/`. Global ARGs (before the first FROM) are not in scope inside a stage until it declares `ARG NAME` again. When the stage is built on an image, the variable may come from the image's ENV, which husk cannot see: then the finding is info.",
    fix: "Declare it first (`ARG NAME=default` or `ENV NAME=value`), redeclare a global ARG inside the stage (`ARG NAME`), or fix the name.",
    references: &[Reference::Buildkit("UndefinedVar")],
};

/// Names every image environment has (set by the runtime or every base).
const ALWAYS: &[&str] = &["PATH", "HOME", "HOSTNAME", "TERM", "PWD", "USER"];

/// The expanded words of an instruction.
fn expanded(i: &Instruction) -> Vec<&str> {
    match &i.kind {
        Kind::Copy {
            sources,
            dest,
            flags,
            ..
        }
        | Kind::Add {
            sources,
            dest,
            flags,
        } => sources
            .iter()
            .filter_map(|c| match c {
                CopySource::Path(p) => Some(p.as_str()),
                CopySource::HereDoc(_) => None,
            })
            .chain(flags.iter().filter_map(|(_, v)| v.as_deref()))
            .chain([dest.as_str()])
            .collect(),
        Kind::Env { pairs } | Kind::Label { pairs } => {
            pairs.iter().map(|(_, v)| v.as_str()).collect()
        }
        Kind::Arg { args } => args.iter().filter_map(|(_, v)| v.as_deref()).collect(),
        Kind::Workdir { path } => vec![path],
        Kind::User { user, group } => std::iter::once(user.as_str())
            .chain(group.as_deref())
            .collect(),
        Kind::Expose { ports } => ports.iter().map(String::as_str).collect(),
        Kind::Volume { paths } => paths.iter().map(String::as_str).collect(),
        Kind::Stopsignal { signal } => vec![signal],
        _ => Vec::new(),
    }
}

/// Names an instruction defines.
fn defines(i: &Instruction) -> Vec<&str> {
    match &i.kind {
        Kind::Env { pairs } => pairs.iter().map(|(k, _)| k.as_str()).collect(),
        Kind::Arg { args } => args.iter().map(|(k, _)| k.as_str()).collect(),
        _ => Vec::new(),
    }
}

impl Rule for UndefinedVar {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        let df = &file.file;
        let globals: HashSet<&str> = df.global_args.iter().map(|(k, _)| k.as_str()).collect();
        // Per stage, built up in order (a base is always an earlier stage): the names
        // defined by the end of it, and whether its chain starts from an image.
        let mut after: Vec<(HashSet<&str>, bool)> = Vec::with_capacity(df.stages.len());
        for s in &df.stages {
            let (mut known, from_image) = match s.base {
                BaseImage::Stage { index } if index < after.len() => after[index].clone(),
                BaseImage::Image(_) => (HashSet::new(), true),
                _ => (HashSet::new(), false),
            };
            known.extend(PREDEFINED_ARGS.iter().chain(ALWAYS).copied());
            for i in &s.instructions {
                for v in expanded(i).into_iter().flat_map(var_refs) {
                    if known.contains(v) {
                        continue;
                    }
                    let hint = if globals.contains(v) {
                        format!("; the global ARG {v} needs `ARG {v}` inside the stage")
                    } else {
                        String::new()
                    };
                    let message = format!(
                        "${v} is not defined by an ARG or ENV before this instruction{hint}"
                    );
                    if from_image && hint.is_empty() {
                        out.at_severity(
                            i.span,
                            Severity::Info,
                            format!("{message} (unless the base image sets it)"),
                        );
                    } else {
                        out.at(i.span, message);
                    }
                }
                known.extend(defines(i));
            }
            after.push((known, from_image));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::run_dockerfile;

    #[test]
    fn fires_for_undefined_and_unredeclared_globals() {
        let t = "ARG VERSION=1\nFROM scratch\nCOPY app /$APP_DIR/\nLABEL v=$VERSION\n";
        let f = run_dockerfile(&UndefinedVar, t);
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(f.iter().all(|f| f.severity == Severity::Low));
        assert!(f[1].message.contains("ARG VERSION"), "{}", f[1].message);
        let f = run_dockerfile(&UndefinedVar, "FROM alpine:3.20\nWORKDIR $APP\n");
        assert_eq!(f[0].severity, Severity::Info);
    }

    #[test]
    fn quiet_for_defined_inherited_and_predefined() {
        let t = "ARG VERSION=1\nFROM scratch AS a\nENV DIR=/app\nFROM a\nARG VERSION\n\
                 ARG USER_ID=1000\nCOPY app $DIR/\nLABEL v=$VERSION p=$TARGETPLATFORM\n\
                 USER $USER_ID\nENV PATH=$PATH:/x X=${UNSET:-d}\n";
        assert!(run_dockerfile(&UndefinedVar, t).is_empty());
    }
}
