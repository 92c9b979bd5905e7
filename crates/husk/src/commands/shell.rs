//! `husk completions SHELL` and `husk man`: shell completion scripts and man pages made
//! from the same clap definition as the parser, so they never drift from the flags.

use std::path::Path;

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::exit::Exit;
use crate::output::Printer;

/// The completion script for `args.shell`, on stdout.
pub fn completions(args: &CompletionsArgs, printer: &Printer) -> Result<Exit> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "husk", &mut script);
    printer.json(String::from_utf8_lossy(&script).trim_end())?;
    Ok(Exit::Success)
}

/// husk(1) on stdout, or every page (husk.1, husk-build.1, ...) written into `--dir`.
pub fn man(args: &ManArgs, printer: &Printer) -> Result<Exit> {
    let cmd = Cli::command();
    match &args.dir {
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut page)
                .context("cannot render the man page")?;
            printer.json(String::from_utf8_lossy(&page).trim_end())?;
        }
        Some(dir) => {
            write_pages(cmd, dir)?;
            printer.info(format!("wrote the man pages into {}", dir.display()));
        }
    }
    Ok(Exit::Success)
}

fn write_pages(cmd: clap::Command, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    clap_mangen::generate_to(cmd, dir)
        .with_context(|| format!("cannot write the man pages into {}", dir.display()))
}
