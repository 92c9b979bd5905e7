//! `husk doctor`: why an image will not start, before and after it fails.
//!
//! The doctor owns no check of its own that could disagree with `husk audit`: every cause
//! it reports is a finding of an image rule (the start rules in [`START_RULES`]), so what
//! blocks start is exactly what the critical rules find, and `husk audit` fails on the
//! same images. What the doctor adds is the explanation: the findings grouped by what they
//! mean for the start (will not start / may fail), each with its rule's fix; a trace of
//! what was checked and found fine (the program, its loader and libraries, the user, the
//! working directory); the argv of `docker run IMAGE ARGS`; and, after a real run
//! ([`run`]), the runtime's message mapped back to these causes.

mod render;
mod run;

use serde::Serialize;

pub use render::text;
pub use run::{Explanation, RunFailure, RunOutcome, classify, explain};

use crate::facts::ImageFacts;
use crate::rule::{Emit, Finding, Location, Severity};
use crate::rules::image::{closure, start, start_elf, start_program};

/// The rules that judge whether and how the container starts, by id.
pub const START_RULES: &[&str] = &[
    "HUSK-I001",
    "HUSK-I002",
    "HUSK-I003",
    "HUSK-I004",
    "HUSK-I005",
    "HUSK-I006",
    "HUSK-I007",
    "HUSK-I008",
    "HUSK-I010",
    "HUSK-I019",
    "HUSK-I022",
    "HUSK-I023",
    "HUSK-I024",
    "HUSK-I025",
    "HUSK-I027",
];

/// One reason the image will not start (or may fail after starting).
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// The rule that found it (`HUSK-I006`).
    pub rule: &'static str,
    /// The rule's name (`missing-shared-library`).
    pub name: &'static str,
    pub severity: Severity,
    /// The cause, in one sentence (the finding's message).
    pub cause: String,
    /// The path the finding is about, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// How to fix it (the rule's fix).
    pub fix: &'static str,
}

/// Everything the doctor found.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    pub image: String,
    /// The platform the multi-platform index lists this image under, when it was picked
    /// from one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// What the container executes: Entrypoint + Cmd (or the ARGS given).
    pub argv: Vec<String>,
    /// The `User` of the config (`""` is root).
    pub user: String,
    /// Causes that stop the container from starting (critical findings).
    pub blocking: Vec<Problem>,
    /// Problems that let it start but may break it later.
    pub may_fail: Vec<Problem>,
    /// What was checked and is fine.
    pub fine: Vec<String>,
}

impl Diagnosis {
    /// Whether something stops the container from starting.
    #[must_use]
    pub fn blocks(&self) -> bool {
        !self.blocking.is_empty()
    }
}

/// What `docker run IMAGE ARGS...` does to the config: ARGS replace `Cmd` (the
/// `Entrypoint` stays). Empty `args` leave the config as it is.
pub fn with_args(facts: &mut ImageFacts, args: &[String]) {
    if args.is_empty() {
        return;
    }
    facts.config.config.get_or_insert_with(Default::default).cmd = Some(args.to_vec());
}

/// Run the start rules on `facts` and explain what they found.
#[must_use]
pub fn diagnose(facts: &ImageFacts) -> Diagnosis {
    let mut blocking = Vec::new();
    let mut may_fail = Vec::new();
    for rule in crate::RULES {
        let info = rule.info();
        if !START_RULES.contains(&info.id) {
            continue;
        }
        let mut e = Emit::new(info, None);
        rule.check_image(facts, &mut e);
        for f in e.into_findings() {
            let p = problem(&f);
            if f.severity == Severity::Critical {
                blocking.push(p);
            } else {
                may_fail.push(p);
            }
        }
    }
    Diagnosis {
        image: facts.name.clone(),
        platform: facts.listed_as.as_ref().map(ToString::to_string),
        argv: facts.argv(),
        user: facts.user(),
        blocking,
        may_fail,
        fine: fine(facts),
    }
}

fn problem(f: &Finding) -> Problem {
    let path = match &f.location {
        Location::Image { path, .. } => path.clone(),
        Location::Dockerfile { file, .. } => Some(file.clone()),
    };
    Problem {
        rule: f.rule.id,
        name: f.rule.name,
        severity: f.severity,
        cause: f.message.clone(),
        path,
        fix: f.rule.fix,
    }
}

/// What the start simulation found in place, as short lines.
fn fine(facts: &ImageFacts) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(s) = start(facts)
        && let Some((path, node)) = &s.found
    {
        out.push(format!(
            "{:?} is {path} (mode {:04o}, owner {}:{})",
            s.argv[0], node.mode, node.uid, node.gid
        ));
        if let Some((prog, _)) = start_program(facts)
            && prog != *path
        {
            out.push(format!("the script runs through {prog}"));
        }
    }
    if let Some((path, _, elf)) = start_elf(facts) {
        let kind = if elf.is_dynamic() {
            "dynamically linked"
        } else {
            "static"
        };
        out.push(format!("{path} is a {kind} ELF program for {}", elf.arch));
        if let Some(i) = elf.interpreter.as_deref().filter(|i| facts.is_file(i)) {
            out.push(format!("its loader {i} is in the image"));
        }
        let edges = closure(facts, path.as_str(), elf);
        let found = edges.iter().filter(|e| e.lookup.found.is_some()).count();
        if found > 0 {
            out.push(format!(
                "{found} shared libraries found the way the loader searches"
            ));
        }
    }
    let id = facts.identity();
    match (id.uid, id.gid) {
        (Some(u), Some(g)) => out.push(format!("runs as uid {u}, gid {g}")),
        (Some(u), None) => out.push(format!("runs as uid {u}")),
        _ => {}
    }
    out.push(format!("working directory {}", facts.workdir()));
    out
}

#[cfg(test)]
mod tests;
