//! `husk lint DOCKERFILE`: the audit's Dockerfile rules on one file.

use anyhow::Result;
use husk_audit::{Report, check_dockerfile};

use super::check::{finish, read_dockerfile};
use crate::cli::LintArgs;
use crate::exit::Exit;
use crate::output::Printer;

pub fn run(args: &LintArgs, printer: &Printer) -> Result<Exit> {
    let selection = args.check.selection()?;
    args.check.fail_level()?;
    let facts = read_dockerfile(&args.dockerfile)?;
    let findings = check_dockerfile(&facts, &selection);
    let report = Report::new(None, None, Some(facts.path.clone()), findings);
    finish(&report, &args.check, Some(&facts), printer)
}
