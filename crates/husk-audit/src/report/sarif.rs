//! SARIF 2.1.0 (the shape GitHub code scanning accepts): one run, every rule
//! of the registry in `tool.driver.rules` (so `ruleIndex` is the registry position), one
//! result per finding. Dockerfile findings carry their region; image findings point at the
//! Dockerfile's final FROM line when one was given (code scanning needs a location), else
//! at the image reference as a logical location.

use serde::Serialize;

use super::Report;
use crate::registry::RULES;
use crate::rule::{Finding, Location};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Sarif {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    results: Vec<SarifResult>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    information_uri: &'static str,
    rules: Vec<SarifRule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Text {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifRule {
    id: &'static str,
    name: &'static str,
    short_description: Text,
    full_description: Text,
    default_configuration: Level,
    help: Text,
    properties: RuleProperties,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleProperties {
    tags: Vec<String>,
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Level {
    level: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<SarifLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifLocation {
    #[serde(skip_serializing_if = "Option::is_none")]
    physical_location: Option<Physical>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<Logical>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Physical {
    artifact_location: Artifact,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Artifact {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    start_column: u32,
    end_line: u32,
    end_column: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Logical {
    fully_qualified_name: String,
    kind: &'static str,
}

/// GitHub's `security-severity` scale (0-10) for a severity.
fn security_severity(s: crate::Severity) -> &'static str {
    match s {
        crate::Severity::Info => "0.0",
        crate::Severity::Low => "3.0",
        crate::Severity::Medium => "5.5",
        crate::Severity::High => "8.0",
        crate::Severity::Critical => "9.5",
    }
}

/// Render `report` as SARIF 2.1.0. `image_anchor` is the Dockerfile region image findings
/// are attached to, when the image was audited together with its Dockerfile.
#[must_use]
pub fn render(report: &Report, image_anchor: Option<(&str, husk_dockerfile::Span)>) -> String {
    let rules = RULES
        .iter()
        .map(|r| {
            let i = r.info();
            SarifRule {
                id: i.id,
                name: i.name,
                short_description: Text {
                    text: i.summary.to_owned(),
                },
                full_description: Text {
                    text: i.explanation.to_owned(),
                },
                default_configuration: Level {
                    level: i.severity.sarif_level(),
                },
                help: Text {
                    text: format!("{}\n\nFix: {}", i.explanation, i.fix),
                },
                properties: RuleProperties {
                    tags: vec![
                        "security".to_owned(),
                        format!("{:?}", i.target).to_lowercase(),
                    ],
                    security_severity: security_severity(i.severity),
                },
            }
        })
        .collect();
    let results = report
        .findings
        .iter()
        .map(|f| SarifResult {
            rule_id: f.rule.id,
            rule_index: RULES
                .iter()
                .position(|r| r.info().id == f.rule.id)
                .unwrap_or_default(),
            level: f.severity.sarif_level(),
            message: Text {
                text: f.message.clone(),
            },
            locations: vec![location(f, report, image_anchor)],
        })
        .collect();
    let sarif = Sarif {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "husk",
                    version: env!("CARGO_PKG_VERSION"),
                    information_uri: "https://example.invalid/husk",
                    rules,
                },
            },
            results,
        }],
    };
    serde_json::to_string_pretty(&sarif).expect("SARIF serialises")
}

fn location(
    f: &Finding,
    report: &Report,
    anchor: Option<(&str, husk_dockerfile::Span)>,
) -> SarifLocation {
    match &f.location {
        Location::Dockerfile {
            file,
            line,
            column,
            end_line,
            end_column,
        } => SarifLocation {
            physical_location: Some(Physical {
                artifact_location: Artifact { uri: uri(file) },
                region: Region {
                    start_line: *line,
                    start_column: *column,
                    end_line: *end_line,
                    end_column: *end_column,
                },
            }),
            logical_locations: Vec::new(),
        },
        Location::Image { path, layer } => {
            let image = report.image.clone().unwrap_or_default();
            let mut name = image;
            if let Some(p) = path {
                name.push_str(p);
            }
            if let Some(l) = layer {
                name.push_str(&format!(" (layer {l})"));
            }
            SarifLocation {
                physical_location: anchor.map(|(file, span)| Physical {
                    artifact_location: Artifact { uri: uri(file) },
                    region: Region {
                        start_line: span.start.line,
                        start_column: span.start.column,
                        end_line: span.end.line,
                        end_column: span.end.column,
                    },
                }),
                logical_locations: vec![Logical {
                    fully_qualified_name: name,
                    kind: if path.is_some() { "object" } else { "module" },
                }],
            }
        }
    }
}

/// A relative file path as a URI reference (forward slashes, spaces escaped).
fn uri(path: &str) -> String {
    path.trim_start_matches("./")
        .replace('\\', "/")
        .replace('%', "%25")
        .replace(' ', "%20")
}
