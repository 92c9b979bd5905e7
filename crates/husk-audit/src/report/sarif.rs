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
    #[serde(skip_serializing_if = "Vec::is_empty")]
    taxonomies: Vec<Taxonomy>,
    results: Vec<SarifResult>,
}

/// Another tool's codes (ShellCheck's) as a SARIF taxonomy: one taxon per code met, with
/// its help page, so a result can name its code beside its husk rule.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Taxonomy {
    name: &'static str,
    information_uri: &'static str,
    taxa: Vec<Taxon>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Taxon {
    id: String,
    help_uri: String,
}

/// A result's reference to a taxon: its id, its index in the taxonomy, the taxonomy's
/// index in `run.taxonomies`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TaxonRef {
    id: String,
    index: usize,
    tool_component: ComponentRef,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ComponentRef {
    name: &'static str,
    index: usize,
}

/// A result's `properties`: the external code and its page, when it has one.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultProperties {
    external_tool: &'static str,
    external_code: String,
    help_uri: String,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<&'static str>,
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
    #[serde(skip_serializing_if = "Vec::is_empty")]
    taxa: Vec<TaxonRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<ResultProperties>,
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
                help_uri: (i.id == "HUSK-D099").then_some(SHELLCHECK_WIKI),
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
    let taxonomy = taxonomy(report);
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
            taxa: taxon_ref(f, taxonomy.as_ref()).into_iter().collect(),
            properties: f.external.as_ref().map(|e| ResultProperties {
                external_tool: e.tool,
                external_code: e.code.clone(),
                help_uri: e.help_uri.clone(),
            }),
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
            taxonomies: taxonomy.into_iter().collect(),
            results,
        }],
    };
    serde_json::to_string_pretty(&sarif).expect("SARIF serialises")
}

/// ShellCheck's wiki, the help of HUSK-D099 (each result names its own page).
const SHELLCHECK_WIKI: &str = "https://www.shellcheck.net/wiki/";

/// The ShellCheck taxonomy of the report's findings: every SC code once, sorted; `None`
/// when no finding has one.
fn taxonomy(report: &Report) -> Option<Taxonomy> {
    let mut taxa: Vec<Taxon> = report
        .findings
        .iter()
        .filter_map(|f| f.external.as_ref())
        .filter(|e| e.tool == "ShellCheck")
        .map(|e| Taxon {
            id: e.code.clone(),
            help_uri: e.help_uri.clone(),
        })
        .collect();
    taxa.sort_by(|a, b| a.id.cmp(&b.id));
    taxa.dedup_by(|a, b| a.id == b.id);
    (!taxa.is_empty()).then_some(Taxonomy {
        name: "ShellCheck",
        information_uri: "https://www.shellcheck.net/",
        taxa,
    })
}

/// A finding's reference into the ShellCheck taxonomy.
fn taxon_ref(f: &Finding, taxonomy: Option<&Taxonomy>) -> Option<TaxonRef> {
    let code = &f.external.as_ref()?.code;
    let index = taxonomy?.taxa.iter().position(|t| &t.id == code)?;
    Some(TaxonRef {
        id: code.clone(),
        index,
        tool_component: ComponentRef {
            name: "ShellCheck",
            index: 0,
        },
    })
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
        Location::Image {
            path,
            layer,
            platform,
        } => {
            let image = report.image.clone().unwrap_or_default();
            let mut name = image;
            if let Some(p) = path {
                name.push_str(p);
            }
            if let Some(l) = layer {
                name.push_str(&format!(" (layer {l})"));
            }
            if let Some(p) = platform {
                name.push_str(&format!(" [{p}]"));
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
