//! Docs generated from the registry: one Markdown page per rule (`docs/rules/<ID>.md`) and
//! an index with the mapping to CIS Docker, dockle, hadolint and trivy
//! (`docs/rules/README.md`), and the coverage map of hadolint and BuildKit checks
//! (`docs/rules/MAPPING.md`, from [`crate::mapping`]). `tests/docs.rs` fails when the committed files differ and
//! rewrites them with `HUSK_UPDATE_DOCS=1`.

use std::fmt::Write;

use crate::registry::RULES;
use crate::rule::{Reference, RuleInfo, Target};

fn refs(info: &RuleInfo, pick: fn(&Reference) -> bool) -> String {
    let v: Vec<&str> = info
        .references
        .iter()
        .filter(|r| pick(r))
        .map(Reference::id)
        .collect();
    if v.is_empty() {
        "—".to_owned()
    } else {
        v.join(", ")
    }
}

/// The page of one rule.
#[must_use]
pub fn rule_page(info: &RuleInfo) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# {} {}\n", info.id, info.name);
    let _ = writeln!(
        s,
        "*Generated from `crates/husk-audit` by `HUSK_UPDATE_DOCS=1 cargo test -p husk-audit --test docs`; do not edit.*\n"
    );
    let _ = writeln!(
        s,
        "- **Checks:** {}",
        match info.target {
            Target::Image => "images (`husk audit IMAGE`)",
            Target::Dockerfile => "Dockerfiles (`husk lint`, `husk audit --dockerfile`)",
        }
    );
    let _ = writeln!(s, "- **Severity:** {}", info.severity);
    let _ = writeln!(s, "- **Summary:** {}\n", info.summary);
    let _ = writeln!(s, "## Why\n\n{}\n", info.explanation);
    let _ = writeln!(s, "## Fix\n\n{}\n", info.fix);
    if !info.references.is_empty() {
        let _ = writeln!(s, "## Corresponds to\n");
        for r in info.references {
            let _ = writeln!(s, "- {} {}", r.source(), r.id());
        }
        s.push('\n');
    }
    let _ = writeln!(s, "Silence it with `--ignore {}`.", info.id);
    s
}

/// The index: every rule with its severity and the corresponding ids in other tools.
#[must_use]
pub fn index() -> String {
    let mut s = String::new();
    s.push_str("# husk audit rules\n\n");
    s.push_str("*Generated from the rule registry (`crates/husk-audit/src/registry.rs`) by `HUSK_UPDATE_DOCS=1 cargo test -p husk-audit --test docs`; do not edit.*\n\n");
    s.push_str("`husk audit IMAGE [--dockerfile FILE]` runs the image rules (and the Dockerfile rules on FILE); `husk lint DOCKERFILE` runs the Dockerfile rules. `husk audit --list-rules` prints this list. Ids are stable.\n\n");
    s.push_str(
        "| id | name | severity | summary | CIS Docker | dockle | hadolint | trivy | BuildKit |\n",
    );
    s.push_str("|---|---|---|---|---|---|---|---|---|\n");
    for r in RULES {
        let i = r.info();
        let _ = writeln!(
            s,
            "| [{id}]({id}.md) | {} | {} | {} | {} | {} | {} | {} | {} |",
            i.name,
            i.severity,
            i.summary.replace('|', "\\|"),
            refs(i, |r| matches!(r, Reference::Cis(_))),
            refs(i, |r| matches!(r, Reference::Dockle(_))),
            refs(i, |r| matches!(r, Reference::Hadolint(_))),
            refs(i, |r| matches!(r, Reference::Trivy(_))),
            refs(i, |r| matches!(r, Reference::Buildkit(_))),
            id = i.id,
        );
    }
    s
}

/// Every generated file: (path relative to `docs/rules/`, content).
#[must_use]
pub fn files() -> Vec<(String, String)> {
    let mut v = vec![
        ("README.md".to_owned(), index()),
        ("MAPPING.md".to_owned(), crate::mapping::page()),
    ];
    v.extend(
        RULES
            .iter()
            .map(|r| (format!("{}.md", r.info().id), rule_page(r.info()))),
    );
    v
}
