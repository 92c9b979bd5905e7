//! HUSK-D056: `pip install` that keeps its download cache in the image.

use husk_dockerfile::Kind;

use super::shell::{has_flag, hygiene_runs, pip_args, subcommand};
use crate::rule::{DockerfileFacts, Emit, Reference, Rule, RuleInfo, Severity, Target};

pub struct PipNoCache;

static INFO: RuleInfo = RuleInfo {
    id: "HUSK-D056",
    name: "pip-no-cache-dir",
    target: Target::Dockerfile,
    severity: Severity::Low,
    summary: "pip install without --no-cache-dir",
    explanation: "pip keeps every wheel it downloads in ~/.cache/pip; in an image layer that is dead weight (often tens of MB) that no later RUN can remove.",
    fix: "`pip install --no-cache-dir ...`, `ENV PIP_NO_CACHE_DIR=1`, or `RUN --mount=type=cache,target=/root/.cache/pip`.",
    references: &[Reference::Hadolint("DL3042")],
};

impl Rule for PipNoCache {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn check_dockerfile(&self, file: &DockerfileFacts, out: &mut Emit) {
        let disabled = env_disables_cache(file);
        for r in hygiene_runs(file) {
            if r.cache_mount() || disabled.get(r.stage).copied().unwrap_or(false) {
                continue;
            }
            for (c, prog, args) in r.programs() {
                if let Some(pip) = pip_args(prog, args)
                    && subcommand(pip) == Some("install")
                    && !has_flag(pip, None, &["--no-cache-dir"])
                {
                    out.at(r.span(c), format!("{prog} install without --no-cache-dir"));
                }
            }
        }
    }
}

/// Per stage: `ENV PIP_NO_CACHE_DIR=...` in it or the stages it is built on (computed once
/// for the file, not per RUN).
fn env_disables_cache(file: &DockerfileFacts) -> Vec<bool> {
    super::inherits_any(
        &file.file,
        |i| matches!(&i.kind, Kind::Env { pairs } if pairs.iter().any(|(k, _)| k == "PIP_NO_CACHE_DIR")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::run_dockerfile;

    #[test]
    fn fires_for_cached_installs() {
        let t = "FROM python:3.12\nRUN pip install flask==3.0 && python3 -m pip install -r requirements.txt\n";
        assert_eq!(run_dockerfile(&PipNoCache, t).len(), 2);
    }

    #[test]
    fn quiet_without_cache() {
        let t = "FROM python:3.12\nRUN pip3 install --no-cache-dir flask==3.0\nRUN --mount=type=cache,target=/root/.cache/pip pip install x==1\n";
        assert!(run_dockerfile(&PipNoCache, t).is_empty());
        let env = "FROM python:3.12\nENV PIP_NO_CACHE_DIR=1\nRUN pip install flask==3.0\n";
        assert!(run_dockerfile(&PipNoCache, env).is_empty());
    }

    /// 100,000 RUNs in one stage: the ENV of the stages is read once for the file, not
    /// once per RUN (which read the whole stage again for each: 10 billion instructions).
    #[test]
    fn a_hundred_thousand_runs_stay_linear() {
        let runs = "RUN pip install flask==3.0\n".repeat(100_000);
        let t = format!("FROM python:3.12\n{runs}");
        assert_eq!(run_dockerfile(&PipNoCache, &t).len(), 100_000);
        let t = format!("FROM python:3.12 AS base\nENV PIP_NO_CACHE_DIR=1\nFROM base\n{runs}");
        assert!(run_dockerfile(&PipNoCache, &t).is_empty());
    }
}
