//! The doctor's human output: will not start / may fail / fine, each cause with its fix.

use std::fmt::Write;

use husk_oci::escape;

use super::{Diagnosis, Problem};

/// Render a diagnosis as text.
#[must_use]
pub fn text(d: &Diagnosis) -> String {
    let mut out = String::new();
    let user = if d.user.is_empty() {
        "root (no User)"
    } else {
        &escape(&d.user)
    };
    let _ = writeln!(out, "{}", escape(&d.image));
    if let Some(p) = &d.platform {
        let _ = writeln!(out, "  platform: {} (as the index lists it)", escape(p));
    }
    let _ = writeln!(out, "  starts: {}", shell_words(&d.argv));
    let _ = writeln!(out, "  as user: {user}");
    section(&mut out, "will not start", &d.blocking);
    section(&mut out, "may fail", &d.may_fail);
    if !d.fine.is_empty() {
        let _ = writeln!(out, "\nfine:");
        for f in &d.fine {
            let _ = writeln!(out, "  - {}", escape(f));
        }
    }
    let verdict = if d.blocks() {
        format!(
            "\n{} problem(s) will stop this image from starting.",
            d.blocking.len()
        )
    } else {
        "\nnothing stops this image from starting.".to_owned()
    };
    out.push_str(&verdict);
    out.push('\n');
    out
}

fn section(out: &mut String, title: &str, problems: &[Problem]) {
    if problems.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{title}:");
    for p in problems {
        let _ = writeln!(out, "  x {} [{} {}]", escape(&p.cause), p.rule, p.name);
        if let Some(path) = &p.path {
            let _ = writeln!(out, "    at: {}", escape(path));
        }
        let _ = writeln!(out, "    fix: {}", escape(p.fix));
    }
}

/// argv as a shell would need it typed (only for reading).
fn shell_words(argv: &[String]) -> String {
    if argv.is_empty() {
        return "(nothing: neither Entrypoint nor Cmd is set)".to_owned();
    }
    argv.iter()
        .map(|a| {
            if !a.is_empty()
                && a.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"/._-=:,+@".contains(&b))
            {
                a.clone()
            } else {
                format!("{a:?}")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
