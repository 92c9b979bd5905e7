//! How a user steers `husk lint` without touching the rules: by rule name (a husk id, a
//! hadolint code through the rules' [`Reference::Hadolint`] mapping, or a BuildKit check
//! name through [`Reference::Buildkit`]), in three places:
//!
//! - inline comments: `# husk ignore=HUSK-D004,HUSK-D014` or `# hadolint ignore=DL3008`
//!   on the lines right above an instruction silence it for that instruction;
//!   `# husk global ignore=...` / `# hadolint global ignore=...` for the whole file;
//! - BuildKit's parser directive `# check=skip=JSONArgsRecommended,StageNameCasing` (or
//!   `skip=all`, every rule carrying a BuildKit check) and `# check=error=true`, which
//!   makes every finding above info fail the run, as BuildKit fails the build;
//! - the lint config (`.husk-lint.toml` beside the Dockerfile, or `--config FILE`): rules
//!   to ignore, severity overrides, the registries FROM may pull from.
//!
//! This module only interprets text it is given; the binary reads the files.

use std::collections::BTreeMap;

use husk_dockerfile::Dockerfile;
use serde::Deserialize;

use crate::registry::RULES;
use crate::rule::{Finding, Location, Reference, RuleInfo, Severity};

/// Whether `name` names `rule`: its id, a hadolint code it covers, or its BuildKit check.
#[must_use]
pub fn names_rule(rule: &RuleInfo, name: &str) -> bool {
    let name = name.trim();
    rule.id.eq_ignore_ascii_case(name)
        || rule.references.iter().any(|r| match r {
            Reference::Hadolint(c) | Reference::Buildkit(c) => c.eq_ignore_ascii_case(name),
            _ => false,
        })
}

/// The rules `name` names (none for an unknown name or an uncovered hadolint code).
#[must_use]
pub fn rules_named(name: &str) -> Vec<&'static RuleInfo> {
    RULES
        .iter()
        .map(|r| r.info())
        .filter(|i| names_rule(i, name))
        .collect()
}

/// A lint config that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Not TOML of the expected shape.
    #[error(
        "{origin}: {message}; see docs/AUDIT.md for the keys (ignore, severity, trusted-registries)"
    )]
    Syntax {
        /// The file it came from.
        origin: String,
        /// What the TOML parser said.
        message: String,
    },
    /// A name that is no husk rule, covered hadolint code or BuildKit check.
    #[error(
        "{origin}: {key} names {name:?}, which is no rule (a HUSK id, a hadolint code husk covers, or a BuildKit check name; husk audit --list-rules lists them)"
    )]
    UnknownRule {
        /// The file it came from.
        origin: String,
        /// `ignore` or `severity`.
        key: &'static str,
        /// The name as written.
        name: String,
    },
}

/// The lint config: `.husk-lint.toml`.
///
/// ```toml
/// ignore = ["HUSK-D004", "DL3008", "StageNameCasing"]
/// trusted-registries = ["docker.io", "ghcr.io"]
/// [severity]
/// HUSK-D013 = "low"
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LintConfig {
    /// Rules never reported, by any name.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Severity per rule name.
    #[serde(default)]
    pub severity: BTreeMap<String, Severity>,
    /// Registries FROM may pull from (`docker.io` for Docker Hub names); empty: any.
    #[serde(default)]
    pub trusted_registries: Vec<String>,
}

impl<'de> Deserialize<'de> for Severity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl LintConfig {
    /// Parse a config's text; `origin` (its path) is named in errors.
    ///
    /// # Errors
    /// [`ConfigError::Syntax`] for TOML that does not fit the schema,
    /// [`ConfigError::UnknownRule`] for a name no rule answers to.
    pub fn parse(text: &str, origin: &str) -> Result<LintConfig, ConfigError> {
        let config: LintConfig = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            origin: origin.to_owned(),
            message: e.to_string().trim().replace('\n', " "),
        })?;
        let unknown = |key: &'static str, name: &str| ConfigError::UnknownRule {
            origin: origin.to_owned(),
            key,
            name: name.to_owned(),
        };
        if let Some(n) = config.ignore.iter().find(|n| rules_named(n).is_empty()) {
            return Err(unknown("ignore", n));
        }
        if let Some(n) = config.severity.keys().find(|n| rules_named(n).is_empty()) {
            return Err(unknown("severity", n));
        }
        Ok(config)
    }
}

/// What a Dockerfile says about its own linting: inline ignores and the `# check=`
/// directive.
#[derive(Debug, Clone, Default)]
pub struct InlineControl {
    /// Line of an instruction -> names ignored on it.
    by_line: BTreeMap<u32, Vec<String>>,
    /// Names ignored in the whole file.
    global: Vec<String>,
    /// `# check=skip=` names (`all` kept as is).
    skip: Vec<String>,
    /// `# check=error=true`.
    pub error: bool,
}

/// The names of a pragma comment (`husk ignore=A, B`), with whether it is global.
fn pragma(comment: &str) -> Option<(bool, Vec<String>)> {
    let comment = comment.trim_start();
    let tool_len = comment.find(char::is_whitespace)?;
    let tool = &comment[..tool_len];
    if !tool.eq_ignore_ascii_case("husk") && !tool.eq_ignore_ascii_case("hadolint") {
        return None;
    }
    let mut rest = comment[tool_len..].trim_start();
    let global = rest.len() >= 6 && rest[..6].eq_ignore_ascii_case("global");
    if global {
        rest = rest[6..].trim_start();
    }
    let list = rest.strip_prefix("ignore=")?;
    let names = list
        .split([',', ' ', '\t'])
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect();
    Some((global, names))
}

impl InlineControl {
    /// Read the pragmas and the `# check=` directive of `df`.
    #[must_use]
    pub fn of(df: &Dockerfile) -> InlineControl {
        let mut c = InlineControl::default();
        let lines: Vec<&str> = df.source().lines().collect();
        // Per line: the first line after it that is no comment, found in one pass from
        // the end (a scan per pragma was quadratic in a block of pragmas).
        let mut below = vec![None; lines.len()];
        let mut next = None;
        for (i, l) in lines.iter().enumerate().rev() {
            below[i] = next;
            if !l.trim().starts_with('#') {
                next = Some(i);
            }
        }
        for (i, line) in lines.iter().enumerate() {
            let Some((global, names)) = line.trim().strip_prefix('#').and_then(pragma) else {
                continue;
            };
            if global {
                c.global.extend(names);
                continue;
            }
            // The pragma applies to the instruction right below its comment block.
            let target = below[i].filter(|&n| !lines[n].trim().is_empty());
            if let Some(n) = target {
                c.by_line.entry(n as u32 + 1).or_default().extend(names);
            }
        }
        if let Some(check) = &df.check {
            for part in check.split(';') {
                match part.trim().split_once('=') {
                    Some((k, v)) if k.trim().eq_ignore_ascii_case("skip") => {
                        c.skip.extend(v.split(',').map(|n| n.trim().to_owned()))
                    }
                    Some((k, v)) if k.trim().eq_ignore_ascii_case("error") => {
                        c.error = v.trim().eq_ignore_ascii_case("true");
                    }
                    _ => {}
                }
            }
        }
        c
    }

    /// Whether `f` is silenced by a pragma or `# check=skip`.
    #[must_use]
    pub fn silences(&self, f: &Finding) -> bool {
        let named = |names: &[String]| names.iter().any(|n| names_rule(f.rule, n));
        if named(&self.global) || named(&self.skip) {
            return true;
        }
        let buildkit = f
            .rule
            .references
            .iter()
            .any(|r| matches!(r, Reference::Buildkit(_)));
        if buildkit && self.skip.iter().any(|n| n.eq_ignore_ascii_case("all")) {
            return true;
        }
        match &f.location {
            Location::Dockerfile { line, .. } => self.by_line.get(line).is_some_and(|n| named(n)),
            Location::Image { .. } => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_through_references() {
        assert!(!rules_named("HUSK-D002").is_empty());
        assert!(!rules_named("husk-d002").is_empty());
        assert!(
            rules_named("JSONArgsRecommended")
                .iter()
                .any(|r| r.id == "HUSK-D027")
        );
        assert!(rules_named("DL3020").iter().any(|r| r.id == "HUSK-D005"));
        assert!(rules_named("DL9999").is_empty());
    }

    #[test]
    fn config_schema_and_errors() {
        let c = LintConfig::parse(
            "ignore = [\"DL3020\"]\ntrusted-registries = [\"ghcr.io\"]\n[severity]\nHUSK-D013 = \"low\"\n",
            "x/.husk-lint.toml",
        )
        .unwrap();
        assert_eq!(c.severity["HUSK-D013"], Severity::Low);
        for (bad, what) in [
            ("ignore = [\"HUSK-D999\"]", "HUSK-D999"),
            ("[severity]\nHUSK-D013 = \"urgent\"", "urgent"),
            ("colour = 1", "colour"),
            ("ignore = ", "x/.husk-lint.toml"),
        ] {
            let e = LintConfig::parse(bad, "x/.husk-lint.toml")
                .unwrap_err()
                .to_string();
            assert!(e.contains(what) && e.contains("x/.husk-lint.toml"), "{e}");
        }
    }

    #[test]
    fn pragmas_and_check_directive() {
        let df = husk_dockerfile::parse(
            "# check=skip=StageNameCasing;error=true\n# hadolint global ignore=DL3000\nFROM scratch\n# husk ignore=HUSK-D004, HUSK-D005\n# another comment\nCOPY a /a\n\n# hadolint ignore=DL3020\n\nADD b /b\n",
        )
        .unwrap();
        let c = InlineControl::of(&df);
        assert!(c.error);
        assert_eq!(c.by_line.get(&6).map(Vec::len), Some(2));
        assert!(
            !c.by_line.contains_key(&10),
            "a blank line ends the pragma's reach"
        );
        assert_eq!(c.global, vec!["DL3000"]);
        assert_eq!(c.skip, vec!["StageNameCasing"]);
    }

    /// A block of 40,000 pragmas (1 MiB) over one instruction: each finds the instruction
    /// below the block from one pass over the lines, not by scanning the rest of the block
    /// (800 million line reads).
    #[test]
    fn a_block_of_forty_thousand_pragmas_stays_linear() {
        let n = 40_000;
        let text = format!("{}FROM scratch\n", "# hadolint ignore=DL3007\n".repeat(n));
        let c = InlineControl::of(&husk_dockerfile::parse(&text).unwrap());
        assert_eq!(c.by_line.len(), 1);
        assert_eq!(c.by_line.get(&(n as u32 + 1)).map(Vec::len), Some(n));
    }
}
