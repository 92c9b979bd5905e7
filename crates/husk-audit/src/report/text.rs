//! The human report: findings grouped by rule and severity, most severe first, each group with the
//! rule's summary and fix, then a one-line summary.

use std::fmt::Write;

use husk_oci::escape;

use super::Report;
use crate::rule::{Finding, Location};

/// Where a finding is, for humans.
#[must_use]
pub fn location(f: &Finding) -> String {
    match &f.location {
        Location::Image {
            path,
            layer,
            platform,
        } => {
            let mut s = match path {
                Some(p) => format!("{p:?}"),
                None if layer.is_none() => "image config".to_owned(),
                None => String::new(),
            };
            for part in [
                layer.map(|l| format!("(layer {l})")),
                platform.as_ref().map(|p| format!("[{}]", escape(p))),
            ]
            .into_iter()
            .flatten()
            {
                if !s.is_empty() {
                    s.push(' ');
                }
                s.push_str(&part);
            }
            s
        }
        Location::Dockerfile {
            file, line, column, ..
        } => format!("{}:{line}:{column}", escape(file)),
    }
}

/// Render `report` as text.
#[must_use]
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let subject = match (&report.image, &report.dockerfile) {
        (Some(i), Some(d)) => format!("{} (built from {})", escape(i), escape(d)),
        (Some(i), None) => escape(i).into_owned(),
        (None, Some(d)) => escape(d).into_owned(),
        (None, None) => String::new(),
    };
    let _ = match &report.digest {
        Some(d) => writeln!(out, "{subject} {}", escape(d)),
        None => writeln!(out, "{subject}"),
    };
    let mut i = 0;
    while i < report.findings.len() {
        let rule = report.findings[i].rule;
        // Findings are sorted by severity first: a group is one rule at one severity (a
        // rule's build-only findings are info, shown in a group of their own).
        let severity = report.findings[i].severity;
        let group: Vec<&Finding> = report.findings[i..]
            .iter()
            .take_while(|f| f.rule.id == rule.id && f.severity == severity)
            .collect();
        i += group.len();
        let _ = writeln!(
            out,
            "\n{:<8} {} {}: {}",
            severity.as_str().to_uppercase(),
            rule.id,
            rule.name,
            rule.summary
        );
        for f in group {
            let _ = writeln!(out, "  - {}: {}", location(f), escape(&f.message));
        }
        let _ = writeln!(out, "  fix: {}", rule.fix);
    }
    let total = report.findings.len();
    if total == 0 {
        let _ = writeln!(out, "\nno findings");
    } else {
        let parts: Vec<String> = report
            .counts()
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(s, n)| format!("{n} {s}"))
            .collect();
        let _ = writeln!(
            out,
            "\n{total} finding{}: {}",
            if total == 1 { "" } else { "s" },
            parts.join(", ")
        );
    }
    out
}
