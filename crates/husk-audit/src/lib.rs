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

pub mod content;
pub mod docs;
pub mod doctor;
pub mod facts;
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

/// Which rules run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Rule ids to skip.
    pub ignore: Vec<String>,
}

impl Selection {
    fn wants(&self, info: &RuleInfo) -> bool {
        !self.ignore.iter().any(|i| i.eq_ignore_ascii_case(info.id))
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

/// Run every selected Dockerfile rule on `file`.
#[must_use]
pub fn check_dockerfile(file: &DockerfileFacts, sel: &Selection) -> Vec<Finding> {
    let mut out = Vec::new();
    for rule in RULES {
        let info = rule.info();
        if info.target == Target::Dockerfile && sel.wants(info) {
            let mut e = Emit::new(info, Some(&file.path));
            rule.check_dockerfile(file, &mut e);
            out.extend(e.into_findings());
        }
    }
    out
}
