//! The JSON report: the findings with their rule's name, summary and fix inlined, and
//! counts per severity.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Report;
use crate::rule::{Location, Severity};

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
            })
            .collect(),
    };
    serde_json::to_string_pretty(&j).expect("report serialises")
}
