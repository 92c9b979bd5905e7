//! husk-audit: rules that find insecure or broken images and Dockerfiles, and the reports
//! that show them.
//!
//! Shaped as "rules as data" (like ripgrep's flags): each rule is a unit struct in its own file
//! under `rules/image/` or `rules/dockerfile/` with a static [`RuleInfo`] (stable id,
//! severity, summary, explanation with the fix, references to CIS Docker 4.x, dockle,
//! hadolint and trivy) and its tests right below it. [`RULES`] is the one registry: it
//! drives `husk audit --list-rules`, the generated docs in `docs/rules/` and every report.
//!
//! Compute first, render second: [`scan_image`] streams each layer of an image once and
//! produces [`ImageFacts`] (husk-explore's merged `Filesystem` plus a side table of what
//! each file's content told: ELF facts, TLS markers; and secrets in every layer including
//! deleted files); rules turn
//! facts into [`Finding`]s; `report::{text, json, sarif}` render the same findings.
//! Nothing here reads the host: every byte comes from the image's layers.

use std::collections::BTreeMap;

pub mod content;
pub mod control;
pub mod docs;
pub mod doctor;
pub mod facts;
pub mod mapping;
pub mod registry;
pub mod report;
pub mod rule;
pub mod rules;
pub mod scan;
#[cfg(test)]
pub(crate) mod testing;

pub use facts::{Content, Identity, ImageFacts, LayerFacts, SecretHit};
pub use registry::{RULES, rule_by_id};
pub use report::Report;
pub use rule::{
    DockerfileFacts, Emit, Finding, Location, Reference, Rule, RuleInfo, Severity, Target,
};
pub use rules::dockerfile::shellcheck::{ShellcheckError, shellcheck};
pub use scan::{ScanError, ScanOptions, scan_for_start, scan_image};

/// Which rules run, and at what severity.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Rules to skip: husk ids, or (for Dockerfile rules) hadolint codes and BuildKit
    /// check names ([`control::names_rule`]).
    pub ignore: Vec<String>,
    /// Severity overrides by rule name (the lint config's `[severity]`).
    pub severity: BTreeMap<String, Severity>,
}

impl Selection {
    fn wants(&self, info: &RuleInfo) -> bool {
        !self.ignore.iter().any(|i| control::names_rule(info, i))
    }

    /// Apply the severity overrides to `f`.
    fn adjust(&self, f: &mut Finding) {
        if let Some((_, s)) = self
            .severity
            .iter()
            .find(|(n, _)| control::names_rule(f.rule, n))
        {
            f.severity = *s;
        }
    }
}

/// Run every selected image rule on `facts`.
#[must_use]
pub fn check_image(facts: &ImageFacts, sel: &Selection) -> Vec<Finding> {
    let mut out = Vec::new();
    for rule in RULES {
        let info = rule.info();
        if info.target == Target::Image && sel.wants(info) {
            let mut e = Emit::new(info, None);
            rule.check_image(facts, &mut e);
            out.extend(e.into_findings());
        }
    }
    out
}

/// Run every selected Dockerfile rule on `file`, minus what the file's own pragmas
/// (`# husk ignore=`, `# hadolint ignore=`) and `# check=skip=` directive silence, with
/// the selection's severity overrides applied.
#[must_use]
pub fn check_dockerfile(file: &DockerfileFacts, sel: &Selection) -> Vec<Finding> {
    let inline = control::InlineControl::of(&file.file);
    let mut out = Vec::new();
    for rule in RULES {
        let info = rule.info();
        if info.target == Target::Dockerfile && sel.wants(info) {
            let mut e = Emit::new(info, Some(&file.path));
            rule.check_dockerfile(file, &mut e);
            out.extend(
                e.into_findings()
                    .into_iter()
                    .filter(|f| !inline.silences(f)),
            );
        }
    }
    for f in &mut out {
        sel.adjust(f);
    }
    out
}
