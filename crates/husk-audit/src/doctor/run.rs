//! After a real run: the runtime's (or the program's) last words mapped back to the
//! static causes. The library does not run anything; the CLI runs the engine and passes
//! what it saw in a [`RunOutcome`].

use serde::Serialize;

use super::{Diagnosis, Problem};

/// What happened when the engine ran the image.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunOutcome {
    /// The engine's exit code (`None` when it was killed).
    pub exit_code: Option<i32>,
    /// Still running when the timeout ended it: the program started.
    pub timed_out: bool,
    /// Standard error of the engine and the program (bounded by the caller).
    pub stderr: String,
}

impl RunOutcome {
    /// Whether the container failed: a non-zero exit before the timeout.
    #[must_use]
    pub fn failed(&self) -> bool {
        !self.timed_out && self.exit_code != Some(0)
    }
}

/// The kinds of start failure a runtime or a program reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunFailure {
    /// `exec /app: no such file or directory`, `executable file not found in $PATH`.
    NotFound,
    /// `exec format error` (or `input/output error`: an ELF file cut in its headers).
    ExecFormat,
    /// `too many levels of symbolic links`: a loop of `#!` interpreters, or more than
    /// the kernel follows.
    Loop,
    /// `permission denied`.
    PermissionDenied,
    /// `unable to find user app: no matching entries in passwd file`.
    UnknownUser,
    /// `error while loading shared libraries: libx.so: cannot open shared object file`.
    MissingLibrary,
    /// `version 'GLIBC_2.38' not found`.
    SymbolVersion,
    /// `chdir to cwd ... failed`, podman's `workdir "/srv" exists ..., but is not a directory`.
    Workdir,
    /// An interpreter without its library: `Could not find platform independent libraries`.
    RuntimeStdlib,
}

impl RunFailure {
    /// The rules whose findings explain this failure.
    #[must_use]
    pub fn rules(self) -> &'static [&'static str] {
        match self {
            RunFailure::NotFound => &["HUSK-I004", "HUSK-I006", "HUSK-I007"],
            RunFailure::ExecFormat => &["HUSK-I005", "HUSK-I004", "HUSK-I007"],
            RunFailure::Loop => &["HUSK-I007", "HUSK-I004"],
            RunFailure::PermissionDenied => &["HUSK-I004", "HUSK-I024"],
            RunFailure::UnknownUser => &["HUSK-I003"],
            RunFailure::MissingLibrary => &["HUSK-I006"],
            RunFailure::SymbolVersion => &["HUSK-I022"],
            RunFailure::Workdir => &["HUSK-I024"],
            RunFailure::RuntimeStdlib => &["HUSK-I023"],
        }
    }
}

/// Message fragments, most specific first, and what they mean.
const PATTERNS: &[(&str, RunFailure)] = &[
    ("chdir to cwd", RunFailure::Workdir),
    ("but is not a directory", RunFailure::Workdir),
    ("unable to find user", RunFailure::UnknownUser),
    ("unable to find group", RunFailure::UnknownUser),
    (
        "no matching entries in passwd file",
        RunFailure::UnknownUser,
    ),
    ("no matching entries in group file", RunFailure::UnknownUser),
    ("exec format error", RunFailure::ExecFormat),
    ("input/output error", RunFailure::ExecFormat),
    ("too many levels of symbolic links", RunFailure::Loop),
    (
        "error while loading shared libraries",
        RunFailure::MissingLibrary,
    ),
    ("' not found (required by", RunFailure::SymbolVersion),
    (
        "could not find platform independent libraries",
        RunFailure::RuntimeStdlib,
    ),
    ("no module named 'encodings'", RunFailure::RuntimeStdlib),
    (
        "error occurred during initialization of vm",
        RunFailure::RuntimeStdlib,
    ),
    ("can't find a usable init.tcl", RunFailure::RuntimeStdlib),
    ("can't locate strict.pm", RunFailure::RuntimeStdlib),
    (
        "cannot load such file -- rubygems",
        RunFailure::RuntimeStdlib,
    ),
    ("permission denied", RunFailure::PermissionDenied),
    ("no such file or directory", RunFailure::NotFound),
    ("executable file not found", RunFailure::NotFound),
];

/// The kind of start failure `stderr` reports, and the line that says so.
#[must_use]
pub fn classify(stderr: &str) -> Option<(RunFailure, String)> {
    let lower = stderr.to_ascii_lowercase();
    PATTERNS.iter().find_map(|(needle, kind)| {
        let at = lower.find(needle)?;
        let start = lower[..at].rfind('\n').map_or(0, |i| i + 1);
        let end = lower[at..].find('\n').map_or(lower.len(), |i| at + i);
        Some((
            *kind,
            stderr.get(start..end).unwrap_or_default().trim().to_owned(),
        ))
    })
}

/// Explain a run: which static causes account for what the engine said.
#[must_use]
pub fn explain(d: &Diagnosis, outcome: &RunOutcome) -> Explanation {
    let failure = classify(&outcome.stderr);
    let causes: Vec<Problem> = match &failure {
        Some((kind, _)) => d
            .blocking
            .iter()
            .chain(&d.may_fail)
            .filter(|p| kind.rules().contains(&p.rule))
            .cloned()
            .collect(),
        None => Vec::new(),
    };
    Explanation {
        started: outcome.timed_out || outcome.exit_code == Some(0),
        failure: failure.as_ref().map(|(k, _)| *k),
        message: failure.map(|(_, line)| line),
        causes,
    }
}

/// What a run showed, tied to the static diagnosis.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// The program started (it exited 0 or was still running at the timeout).
    pub started: bool,
    pub failure: Option<RunFailure>,
    /// The line of stderr that names the failure.
    pub message: Option<String>,
    /// The static findings that explain it.
    pub causes: Vec<Problem>,
}
