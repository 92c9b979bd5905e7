//! The Checkstyle XML report (what hadolint's `--format checkstyle` writes, and what
//! Jenkins' warnings plugin, reviewdog and many CI tools read): one `<file>` per
//! location, one `<error>` per finding with its line, column, severity and rule id (and
//! ShellCheck's code for HUSK-D099: `source="HUSK-D099/SC2086"`).

use std::collections::BTreeMap;
use std::fmt::Write;

use super::Report;
use crate::rule::{Finding, Location, Severity};

/// XML text with the five special characters escaped and control characters dropped
/// (XML 1.0 cannot carry them).
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// Checkstyle's severities: error, warning, info.
fn level(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Low | Severity::Medium => "warning",
        Severity::High | Severity::Critical => "error",
    }
}

/// The file a finding is in (the image name for image findings), its line and column.
fn place<'a>(report: &'a Report, f: &'a Finding) -> (&'a str, u32, u32) {
    match &f.location {
        Location::Dockerfile {
            file, line, column, ..
        } => (file.as_str(), *line, *column),
        Location::Image { path, .. } => (
            path.as_deref()
                .or(report.image.as_deref())
                .unwrap_or("image"),
            0,
            0,
        ),
    }
}

/// The `source` of a finding: its rule id, followed by the external code when it passes
/// one on (`HUSK-D099/SC2086`, so tools that group by source keep ShellCheck's codes apart).
pub(crate) fn source(f: &Finding) -> String {
    match &f.external {
        Some(e) => format!("{}/{}", f.rule.id, e.code),
        None => f.rule.id.to_owned(),
    }
}

/// Render `report` as Checkstyle XML.
#[must_use]
pub fn render(report: &Report) -> String {
    let mut files: BTreeMap<&str, Vec<(&Finding, u32, u32)>> = BTreeMap::new();
    for f in &report.findings {
        let (file, line, column) = place(report, f);
        files.entry(file).or_default().push((f, line, column));
    }
    if files.is_empty()
        && let Some(d) = report.dockerfile.as_deref()
    {
        files.insert(d, Vec::new());
    }
    let mut s =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<checkstyle version=\"4.3\">\n");
    for (file, findings) in files {
        let _ = writeln!(s, "  <file name=\"{}\">", esc(file));
        for (f, line, column) in findings {
            let _ = write!(s, "    <error line=\"{line}\"");
            if column > 0 {
                let _ = write!(s, " column=\"{column}\"");
            }
            let _ = writeln!(
                s,
                " severity=\"{}\" message=\"{}\" source=\"{}\"/>",
                level(f.severity),
                esc(&format!("{} ({})", f.message_with_platform(), f.rule.name)),
                esc(&source(f))
            );
        }
        s.push_str("  </file>\n");
    }
    s.push_str("</checkstyle>\n");
    s
}
