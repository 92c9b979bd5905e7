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
        crate::rule::Location::Image {
            path,
            layer,
            platform,
        } => (
            format!(
                "{}\u{0}{}",
                platform.as_deref().unwrap_or_default(),
                path.as_deref().unwrap_or_default()
            ),
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
                external: None,
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

    /// One image finding on each platform of an index: every format tells them apart.
    #[test]
    fn image_findings_name_the_platform_of_an_index_entry() {
        let rule = crate::rule_by_id("HUSK-I018").unwrap();
        let findings = ["linux/amd64", "linux/arm64/v8"]
            .map(|p| Finding {
                rule,
                severity: Severity::Info,
                message: "no healthcheck is defined".into(),
                location: Location::Image {
                    path: None,
                    layer: None,
                    platform: Some(p.into()),
                },
                external: None,
            })
            .to_vec();
        let r = Report::new(Some("oci:idx".into()), None, None, findings);
        let text = text::render(&r);
        assert!(text.contains("image config [linux/arm64/v8]"), "{text}");
        let x = checkstyle::render(&r);
        assert!(x.contains("defined [linux/amd64] ("), "{x}");
        let g: Vec<serde_json::Value> = serde_json::from_str(&gitlab::render(&r)).unwrap();
        assert_ne!(g[0]["description"], g[1]["description"]);
        let j: serde_json::Value = serde_json::from_str(&json::render(&r)).unwrap();
        assert_eq!(
            j["findings"][1]["location"]["platform"], "linux/arm64/v8",
            "{j}"
        );
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

    /// A HUSK-D099 finding carries its SC code into every machine format.
    #[test]
    fn shellcheck_codes_reach_every_machine_format() {
        let mut f = report(&[4]).findings.remove(0);
        f.rule = crate::rule_by_id("HUSK-D099").unwrap();
        f.message = "SC2086 (info): Double quote to prevent globbing".into();
        f.external = Some(crate::rule::ExternalCode::shellcheck(2086));
        let mut other = f.clone();
        other.external = Some(crate::rule::ExternalCode::shellcheck(2046));
        let plain = report(&[5]).findings.remove(0);
        let r = Report::new(
            None,
            None,
            Some("Dockerfile".into()),
            vec![f.clone(), other, f, plain],
        );
        let wiki = "https://www.shellcheck.net/wiki/SC2086";

        let s: serde_json::Value = serde_json::from_str(&sarif::render(&r, None)).unwrap();
        let run = &s["runs"][0];
        let res = run["results"].as_array().unwrap();
        let d099 = res.iter().find(|x| x["ruleId"] == "HUSK-D099").unwrap();
        assert_eq!(d099["properties"]["externalCode"], "SC2086");
        assert_eq!(d099["properties"]["externalTool"], "ShellCheck");
        assert_eq!(d099["properties"]["helpUri"], wiki);
        let taxa = run["taxonomies"][0]["taxa"].as_array().unwrap();
        assert_eq!(taxa.len(), 2, "each code once: {taxa:?}");
        let i = d099["taxa"][0]["index"].as_u64().unwrap() as usize;
        assert_eq!(taxa[i]["id"], "SC2086");
        assert_eq!(taxa[i]["helpUri"], wiki);
        assert_eq!(d099["taxa"][0]["toolComponent"]["name"], "ShellCheck");
        let plain = res.iter().find(|x| x["ruleId"] == "HUSK-D005").unwrap();
        assert!(plain.get("properties").is_none() && plain.get("taxa").is_none());
        let rule = &run["tool"]["driver"]["rules"][d099["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(rule["id"], "HUSK-D099");
        assert!(
            rule["helpUri"]
                .as_str()
                .unwrap()
                .starts_with("https://www.shellcheck.net/wiki")
        );

        let j: serde_json::Value = serde_json::from_str(&json::render(&r)).unwrap();
        let findings = j["findings"].as_array().unwrap();
        let first = findings.iter().find(|x| x["rule"] == "HUSK-D099").unwrap();
        assert_eq!(first["external"]["code"], "SC2086");
        assert_eq!(first["external"]["tool"], "ShellCheck");
        assert_eq!(first["external"]["help_uri"], wiki);
        let plain = findings.iter().find(|x| x["rule"] == "HUSK-D005").unwrap();
        assert!(plain.get("external").is_none());

        let x = checkstyle::render(&r);
        assert!(x.contains("source=\"HUSK-D099/SC2086\""), "{x}");
        assert!(x.contains("source=\"HUSK-D005\""), "{x}");

        let g: Vec<serde_json::Value> = serde_json::from_str(&gitlab::render(&r)).unwrap();
        let sc: Vec<&serde_json::Value> = g
            .iter()
            .filter(|i| i["check_name"] == "HUSK-D099/SC2086")
            .collect();
        assert_eq!(sc.len(), 2);
        assert!(sc[0]["content"]["body"].as_str().unwrap().contains(wiki));
        assert_ne!(sc[0]["fingerprint"], sc[1]["fingerprint"]);
        let plain = g.iter().find(|i| i["check_name"] == "HUSK-D005").unwrap();
        assert!(plain.get("content").is_none());
    }
}
