//! The JSON report: the findings with their rule's name, summary and fix inlined (and
//! `external`: the ShellCheck code and wiki page of a HUSK-D099 finding), and counts per
//! severity.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Report;
use crate::rule::{ExternalCode, Location, Severity};

#[derive(Serialize)]
struct Json<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    digest: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dockerfile: Option<&'a str>,
    summary: BTreeMap<&'static str, usize>,
    findings: Vec<JsonFinding<'a>>,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'static str,
    name: &'static str,
    severity: Severity,
    summary: &'static str,
    message: &'a str,
    location: &'a Location,
    fix: &'static str,
    /// Another tool's code for the finding (HUSK-D099: ShellCheck's), with its page.
    #[serde(skip_serializing_if = "Option::is_none")]
    external: Option<&'a ExternalCode>,
}

/// Render `report` as pretty JSON.
#[must_use]
pub fn render(report: &Report) -> String {
    let j = Json {
        image: report.image.as_deref(),
        digest: report.digest.as_deref(),
        dockerfile: report.dockerfile.as_deref(),
        summary: report
            .counts()
            .into_iter()
            .map(|(s, n)| (s.as_str(), n))
            .collect(),
        findings: report
            .findings
            .iter()
            .map(|f| JsonFinding {
                rule: f.rule.id,
                name: f.rule.name,
                severity: f.severity,
                summary: f.rule.summary,
                message: &f.message,
                location: &f.location,
                fix: f.rule.fix,
                external: f.external.as_ref(),
            })
            .collect(),
    };
    serde_json::to_string_pretty(&j).expect("report serialises")
}
