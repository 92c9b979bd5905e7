//! GitLab's code quality report (a JSON array, the `codequality` artifact of a CI job):
//! one issue per finding with a description, `check_name` (the rule id, and ShellCheck's
//! code for HUSK-D099: `HUSK-D099/SC2086`, with a `content` link to its wiki page), a
//! severity GitLab knows, the location (path and line) and a fingerprint.
//!
//! The fingerprint is the SHA-256 of the rule id, the file, the message and the how-many-th
//! identical finding it is, but not the line: GitLab matches issues between the merge
//! request and its target branch by fingerprint, so inserting a line above a finding must
//! not make it look new.

use std::collections::HashMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Report;
use crate::rule::{Finding, Location, Severity};

#[derive(Serialize)]
struct Issue<'a> {
    description: String,
    check_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<Content>,
    fingerprint: String,
    severity: &'static str,
    location: IssueLocation<'a>,
}

/// Code Climate's `content.body` (markdown): where an external code is explained.
#[derive(Serialize)]
struct Content {
    body: String,
}

#[derive(Serialize)]
struct IssueLocation<'a> {
    path: &'a str,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: u32,
}

/// GitLab's severities: info, minor, major, critical, blocker.
fn level(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Low => "minor",
        Severity::Medium => "major",
        Severity::High => "critical",
        Severity::Critical => "blocker",
    }
}

fn place<'a>(report: &'a Report, f: &'a Finding) -> (&'a str, u32) {
    match &f.location {
        Location::Dockerfile { file, line, .. } => (file.as_str(), *line),
        Location::Image { path, .. } => (
            path.as_deref()
                .or(report.image.as_deref())
                .unwrap_or("image"),
            1,
        ),
    }
}

/// Render `report` as a GitLab code quality report.
#[must_use]
pub fn render(report: &Report) -> String {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let issues: Vec<Issue<'_>> = report
        .findings
        .iter()
        .map(|f| {
            let (path, line) = place(report, f);
            let message = f.message_with_platform();
            let key = format!("{}\u{0}{path}\u{0}{message}", f.rule.id);
            let n = seen.entry(key.clone()).or_default();
            *n += 1;
            let digest = Sha256::digest(format!("{key}\u{0}{n}").as_bytes());
            Issue {
                description: format!("{}: {message}", f.rule.id),
                check_name: super::checkstyle::source(f),
                content: f.external.as_ref().map(|e| Content {
                    body: format!("{} [{}]({})", e.tool, e.code, e.help_uri),
                }),
                fingerprint: digest.iter().map(|b| format!("{b:02x}")).collect(),
                severity: level(f.severity),
                location: IssueLocation {
                    path,
                    lines: Lines { begin: line.max(1) },
                },
            }
        })
        .collect();
    serde_json::to_string_pretty(&issues).expect("issues serialise")
}
