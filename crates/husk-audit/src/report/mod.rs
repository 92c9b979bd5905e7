//! Rendering: the same [`Report`] (subject + findings) as text, JSON, SARIF 2.1.0,
//! Checkstyle XML or a GitLab code quality report.

pub mod checkstyle;
pub mod gitlab;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::Location;

    fn report(lines: &[u32]) -> Report {
        let rule = crate::rule_by_id("HUSK-D005").unwrap();
        let findings = lines
            .iter()
            .map(|l| Finding {
                rule,
                severity: Severity::Low,
                message: "ADD of local files (a<&\"b\u{1}>): use COPY".into(),
                location: Location::Dockerfile {
                    file: "dir/Docker file".into(),
                    line: *l,
                    column: 1,
                    end_line: *l,
                    end_column: 9,
                },
            })
            .collect();
        Report::new(None, None, Some("dir/Docker file".into()), findings)
    }

    #[test]
    fn checkstyle_is_escaped_xml() {
        let x = checkstyle::render(&report(&[3]));
        assert!(x.starts_with("<?xml"), "{x}");
        assert!(x.contains("<file name=\"dir/Docker file\">"), "{x}");
        assert!(
            x.contains("line=\"3\" column=\"1\" severity=\"warning\""),
            "{x}"
        );
        assert!(
            x.contains("a&lt;&amp;&quot;b&gt;") && !x.contains('\u{1}'),
            "{x}"
        );
        assert!(x.contains("source=\"HUSK-D005\""), "{x}");
        let empty = checkstyle::render(&Report::new(None, None, Some("Dockerfile".into()), vec![]));
        assert!(empty.contains("<file name=\"Dockerfile\">"), "{empty}");
    }

    /// Fingerprints survive lines moving, and two identical findings differ.
    #[test]
    fn gitlab_fingerprints_are_stable_and_unique() {
        let parse = |r: &Report| -> Vec<serde_json::Value> {
            serde_json::from_str(&gitlab::render(r)).unwrap()
        };
        let a = parse(&report(&[3, 7]));
        let b = parse(&report(&[4, 9]));
        assert_eq!(a[0]["fingerprint"], b[0]["fingerprint"]);
        assert_ne!(a[0]["fingerprint"], a[1]["fingerprint"]);
        assert_eq!(a[0]["severity"], "minor");
        assert_eq!(a[0]["check_name"], "HUSK-D005");
        assert_eq!(a[0]["location"]["lines"]["begin"], 3);
        assert_eq!(a[0]["location"]["path"], "dir/Docker file");
    }
}
