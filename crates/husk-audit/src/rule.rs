//! Rules as data: a [`Rule`] is a unit struct with a static [`RuleInfo`] (stable id,
//! severity, summary, explanation with the fix, references) and a check function. Checks
//! only compute [`Finding`]s; renderers (`report/`) decide how they look.

use std::fmt;
use std::str::FromStr;

use husk_dockerfile::{DockerIgnore, Dockerfile, Span, Stage, UnknownTarget};
use serde::Serialize;

use crate::facts::ImageFacts;

/// How bad a finding is, ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The SARIF `level` for this severity.
    #[must_use]
    pub fn sarif_level(self) -> &'static str {
        match self {
            Severity::Info => "note",
            Severity::Low | Severity::Medium => "warning",
            Severity::High | Severity::Critical => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // pad, not write_str, so width and alignment (`{:<8}`) apply in tables.
        f.pad(self.as_str())
    }
}

/// An unknown severity name.
#[derive(Debug, thiserror::Error)]
#[error("unknown severity {0:?} (expected info, low, medium, high or critical)")]
pub struct UnknownSeverity(pub String);

impl FromStr for Severity {
    type Err = UnknownSeverity;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownSeverity(s.to_owned()))
    }
}

/// What a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    Image,
    Dockerfile,
}

/// The corresponding check in another tool or benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "source", content = "id", rename_all = "lowercase")]
pub enum Reference {
    /// CIS Docker Benchmark section (4.x: container images and build files).
    Cis(&'static str),
    Dockle(&'static str),
    Hadolint(&'static str),
    Trivy(&'static str),
    /// A BuildKit build check (`docker build --check`), by its name: `JSONArgsRecommended`.
    /// `# check=skip=NAME` in a Dockerfile skips the husk rules that carry it.
    Buildkit(&'static str),
}

impl Reference {
    #[must_use]
    pub fn source(&self) -> &'static str {
        match self {
            Reference::Cis(_) => "CIS Docker",
            Reference::Dockle(_) => "dockle",
            Reference::Hadolint(_) => "hadolint",
            Reference::Trivy(_) => "trivy",
            Reference::Buildkit(_) => "BuildKit check",
        }
    }

    #[must_use]
    pub fn id(&self) -> &'static str {
        match self {
            Reference::Cis(s)
            | Reference::Dockle(s)
            | Reference::Hadolint(s)
            | Reference::Trivy(s)
            | Reference::Buildkit(s) => s,
        }
    }
}

/// A rule's definition: the single source of `--list-rules`, docs/rules and reports.
#[derive(Debug, Serialize)]
pub struct RuleInfo {
    /// Stable id: `HUSK-I0nn` for image rules, `HUSK-D0nn` for Dockerfile rules. Never
    /// reused or renumbered.
    pub id: &'static str,
    /// Short kebab-case name.
    pub name: &'static str,
    pub target: Target,
    pub severity: Severity,
    /// One line.
    pub summary: &'static str,
    /// Why it matters (Markdown paragraphs).
    pub explanation: &'static str,
    /// How to fix it (one or two sentences).
    pub fix: &'static str,
    pub references: &'static [Reference],
}

/// One audit rule. Image rules implement [`Rule::check_image`], Dockerfile rules
/// [`Rule::check_dockerfile`]; the other method keeps its empty default.
pub trait Rule: Sync {
    fn info(&self) -> &'static RuleInfo;
    fn check_image(&self, _image: &ImageFacts, _out: &mut Emit) {}
    fn check_dockerfile(&self, _file: &DockerfileFacts, _out: &mut Emit) {}
}

/// A parsed Dockerfile, the name it is reported under, and what the run knows around it:
/// the build target and which stages reach it, the `.dockerignore`, the trusted registries.
///
/// Rules about what ends up in the image (bloat, package hygiene, build tools) report
/// through [`Emit::at_stage`], which keeps the rule's severity for stages that
/// [reach](DockerfileFacts::reaches) the target and lowers it to info for build-only
/// stages; rules about the image's configuration read [`DockerfileFacts::target_stage`].
#[derive(Debug, Clone)]
pub struct DockerfileFacts {
    /// The path as given (`Dockerfile`, `docker/app.Dockerfile`), used as the SARIF uri.
    pub path: String,
    pub file: Dockerfile,
    /// The index of the stage being built: `--target NAME`, else the last stage.
    pub target: usize,
    /// Per stage index: whether it reaches the target ([`Dockerfile::reaching`]).
    pub reaching: Vec<bool>,
    /// The `.dockerignore` beside the Dockerfile, when there is one.
    pub dockerignore: Option<DockerIgnore>,
    /// Registries `FROM` may pull from (`trusted-registries` in the lint config); empty
    /// means any.
    pub trusted_registries: Vec<String>,
}

impl DockerfileFacts {
    /// The facts for building the last stage, with no `.dockerignore` and no registry
    /// policy.
    #[must_use]
    pub fn new(path: impl Into<String>, file: Dockerfile) -> DockerfileFacts {
        let reaching = file.reaching(None).unwrap_or_default();
        DockerfileFacts {
            path: path.into(),
            target: file.stages.len().saturating_sub(1),
            file,
            reaching,
            dockerignore: None,
            trusted_registries: Vec::new(),
        }
    }

    /// The same facts for building the stage `target` names (`None`: the last stage).
    ///
    /// # Errors
    /// [`UnknownTarget`] when no stage has that name.
    pub fn with_target(mut self, target: Option<&str>) -> Result<DockerfileFacts, UnknownTarget> {
        self.reaching = self.file.reaching(target)?;
        self.target = self.file.target_index(target)?;
        Ok(self)
    }

    /// The stage being built (what `docker build --target` produces).
    #[must_use]
    pub fn target_stage(&self) -> &Stage {
        self.file
            .stages
            .get(self.target)
            .unwrap_or_else(|| self.file.final_stage())
    }

    /// Whether stage `index` reaches the target (is built and ends up in, or feeds, the
    /// image). Unknown indices count as reaching, so a rule never hides a finding by
    /// mistake.
    #[must_use]
    pub fn reaches(&self, index: usize) -> bool {
        self.reaching.get(index).copied().unwrap_or(true)
    }

    /// How a build-only stage is named in messages: `stage 2 (test)`.
    #[must_use]
    pub fn stage_label(&self, index: usize) -> String {
        match self
            .file
            .stages
            .get(index)
            .and_then(|s| s.name_as_written.as_deref())
        {
            Some(n) => format!("stage {index} ({n})"),
            None => format!("stage {index}"),
        }
    }
}

/// Where a finding is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Location {
    /// The image config or the image as a whole.
    Image {
        #[serde(skip_serializing_if = "Option::is_none")]
        path: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        layer: Option<usize>,
        /// The platform a multi-platform index lists the image under (`linux/arm64/v8`),
        /// when the audited reference is an index.
        #[serde(skip_serializing_if = "Option::is_none")]
        platform: Option<String>,
    },
    Dockerfile {
        file: String,
        line: u32,
        column: u32,
        end_line: u32,
        end_column: u32,
    },
}

/// One finding.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    #[serde(rename = "rule", serialize_with = "ser_rule_id")]
    pub rule: &'static RuleInfo,
    pub severity: Severity,
    pub message: String,
    pub location: Location,
    /// The code of the tool whose finding this passes on (HUSK-D099: ShellCheck's SC2086).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalCode>,
}

impl Finding {
    /// The message, followed by ` [PLATFORM]` for a finding about one image of a
    /// multi-platform index: for formats that have no place of their own for it.
    #[must_use]
    pub fn message_with_platform(&self) -> std::borrow::Cow<'_, str> {
        match &self.location {
            Location::Image {
                platform: Some(p), ..
            } => format!("{} [{p}]", self.message).into(),
            _ => self.message.as_str().into(),
        }
    }
}

/// Another tool's code for a finding a husk rule passes on, with its documentation page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExternalCode {
    /// The tool, as its users name it (`ShellCheck`).
    pub tool: &'static str,
    /// Its code (`SC2086`).
    pub code: String,
    /// The page that explains the code.
    pub help_uri: String,
}

impl ExternalCode {
    /// ShellCheck's code `SC<number>` and its wiki page.
    #[must_use]
    pub fn shellcheck(number: u32) -> ExternalCode {
        ExternalCode {
            tool: "ShellCheck",
            code: format!("SC{number}"),
            help_uri: format!("https://www.shellcheck.net/wiki/SC{number}"),
        }
    }
}

fn ser_rule_id<S: serde::Serializer>(r: &&'static RuleInfo, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(r.id)
}

/// Where a rule puts its findings.
pub struct Emit<'a> {
    rule: &'static RuleInfo,
    dockerfile: Option<&'a str>,
    findings: Vec<Finding>,
}

impl<'a> Emit<'a> {
    #[must_use]
    pub fn new(rule: &'static RuleInfo, dockerfile: Option<&'a str>) -> Self {
        Emit {
            rule,
            dockerfile,
            findings: Vec::new(),
        }
    }

    /// A finding about the image config or the image as a whole.
    pub fn image(&mut self, message: impl Into<String>) {
        self.push(
            message,
            Location::Image {
                path: None,
                layer: None,
                platform: None,
            },
        );
    }

    /// A finding about a path (and the layer it comes from).
    pub fn path(
        &mut self,
        path: impl AsRef<str>,
        layer: Option<usize>,
        message: impl Into<String>,
    ) {
        let path = path.as_ref();
        self.push(
            message,
            Location::Image {
                path: Some(path.to_owned()),
                layer,
                platform: None,
            },
        );
    }

    /// A finding about a path with a severity other than the rule's.
    pub fn path_severity(
        &mut self,
        path: impl AsRef<str>,
        layer: Option<usize>,
        severity: Severity,
        message: impl Into<String>,
    ) {
        self.path(path, layer, message);
        if let Some(f) = self.findings.last_mut() {
            f.severity = severity;
        }
    }

    /// A finding at a Dockerfile position.
    pub fn at(&mut self, span: Span, message: impl Into<String>) {
        let file = self.dockerfile.unwrap_or("Dockerfile").to_owned();
        self.push(
            message,
            Location::Dockerfile {
                file,
                line: span.start.line,
                column: span.start.column,
                end_line: span.end.line,
                end_column: span.end.column,
            },
        );
    }

    /// A finding at a Dockerfile position in stage `stage`: at the rule's severity when
    /// the stage reaches the build target, as info (saying so) when it is build-only.
    pub fn at_stage(
        &mut self,
        facts: &DockerfileFacts,
        stage: usize,
        span: Span,
        message: impl Into<String>,
    ) {
        if facts.reaches(stage) {
            self.at(span, message);
        } else {
            let message = format!(
                "{} (in {}, a build-only stage: it does not reach the image)",
                message.into(),
                facts.stage_label(stage)
            );
            self.at_severity(span, Severity::Info, message);
        }
    }

    /// A finding at a Dockerfile position with a severity other than the rule's.
    pub fn at_severity(&mut self, span: Span, severity: Severity, message: impl Into<String>) {
        self.at(span, message);
        if let Some(f) = self.findings.last_mut() {
            f.severity = severity;
        }
    }

    fn push(&mut self, message: impl Into<String>, location: Location) {
        self.findings.push(Finding {
            rule: self.rule,
            severity: self.rule.severity,
            message: message.into(),
            location,
            external: None,
        });
    }

    #[must_use]
    pub fn into_findings(self) -> Vec<Finding> {
        self.findings
    }
}
