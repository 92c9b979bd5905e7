//! Rendering: the same [`Report`] (subject + findings) as text, JSON or SARIF 2.1.0.

pub mod json;
pub mod sarif;
pub mod text;

use crate::rule::{Finding, Severity};

/// What was audited and what was found, ready to render.
#[derive(Debug, Clone)]
pub struct Report {
    /// The image as named (`oci:out`), when an image was audited.
    pub image: Option<String>,
    /// The image digest, when an image was audited.
    pub digest: Option<String>,
    /// The Dockerfile path, when one was linted.
    pub dockerfile: Option<String>,
    /// Findings, most severe first, then by rule id and location.
    pub findings: Vec<Finding>,
}

impl Report {
    #[must_use]
    pub fn new(
        image: Option<String>,
        digest: Option<String>,
        dockerfile: Option<String>,
        mut findings: Vec<Finding>,
    ) -> Report {
        findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.rule.id.cmp(b.rule.id))
                .then_with(|| loc_key(a).cmp(&loc_key(b)))
        });
        Report {
            image,
            digest,
            dockerfile,
            findings,
        }
    }

    /// The number of findings at each severity, most severe first.
    #[must_use]
    pub fn counts(&self) -> Vec<(Severity, usize)> {
        Severity::ALL
            .iter()
            .rev()
            .map(|s| {
                (
                    *s,
                    self.findings.iter().filter(|f| f.severity == *s).count(),
                )
            })
            .collect()
    }

    /// Whether any finding is at or above `level`.
    #[must_use]
    pub fn fails(&self, level: Severity) -> bool {
        self.findings.iter().any(|f| f.severity >= level)
    }
}

fn loc_key(f: &Finding) -> (String, u32, u32) {
    match &f.location {
        crate::rule::Location::Image { path, layer } => (
            path.clone().unwrap_or_default(),
            layer.map_or(0, |l| l as u32),
            0,
        ),
        crate::rule::Location::Dockerfile {
            file, line, column, ..
        } => (file.clone(), *line, *column),
    }
}
