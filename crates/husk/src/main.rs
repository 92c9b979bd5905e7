//! husk: the command-line front end. It parses arguments, reads the environment, calls
//! the library crates, renders their results and maps them to an exit code. Logic lives
//! in the libraries (husk-build, husk-transport, husk-oci, ...). `main` builds the one
//! transport Context (`context.rs`) and passes it to every command that touches images.

mod cli;
mod commands;
mod context;
mod exit;
mod open;
mod output;
mod progress;
mod summary;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use husk_oci::escape_text;

use crate::cli::{Cli, Command};
use crate::exit::Exit;
use crate::output::Printer;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let printer = Printer::new(cli.quiet, cli.color);
    // Progress bars: never with --quiet or machine-readable output (see progress.rs).
    let ctx = context::build(&cli.registry, cli.quiet || cli.command.machine_output());
    let result = match &cli.command {
        Command::Push(args) => commands::push::run(args, &ctx, &printer),
        Command::Pull(args) => commands::pull::run(args, &ctx, &printer),
        Command::Login(args) => commands::login::run(args, &ctx, &printer),
        Command::Build(args) => commands::build::run(args, &ctx, &printer),
        Command::Validate(args) => commands::validate::run(args, &ctx, &printer),
        Command::Inspect(args) => commands::inspect::run(args, &ctx, &printer),
        Command::Ls(args) => commands::ls::run(args, &ctx, &printer),
        Command::Tree(args) => commands::tree::run(args, &ctx, &printer),
        Command::Cat(args) => commands::cat::run(args, &ctx, &printer),
        Command::Cp(args) => commands::cp::run(args, &ctx, &printer),
        Command::Export(args) => commands::export::run(args, &ctx, &printer),
        Command::Diff(args) => commands::diff::run(args, &ctx, &printer),
        Command::Layers(args) => commands::layers::run(args, &ctx, &printer),
        Command::Browse(args) => commands::browse::run(args, &ctx),
        Command::Debug(args) => commands::debug::run(args, &ctx, &printer),
        Command::Audit(args) => commands::audit::run(args, &ctx, &printer),
        Command::Doctor(args) => commands::doctor::run(args, &ctx, &printer),
        Command::Sbom(args) => commands::sbom::run(args, &ctx, &printer),
        Command::Lint(args) => commands::lint::run(args, &printer),
        Command::Completions(args) => commands::shell::completions(args, &printer),
        Command::Man(args) => commands::shell::man(args, &printer),
    };
    match result {
        Ok(code) => code.into(),
        Err(err) => {
            // A closed stdout (`husk ... | head`) is not an error worth reporting.
            if err
                .chain()
                .filter_map(|c| c.downcast_ref::<std::io::Error>())
                .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return Exit::Success.into();
            }
            report(&err);
            Exit::Error.into()
        }
    }
}

/// `error: ...` then one indented `caused by:` line per source, escaped: messages quote
/// image data and registry error bodies.
fn report(err: &anyhow::Error) {
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "error: {}", escape_text(&err.to_string()));
    for cause in err.chain().skip(1) {
        let _ = writeln!(e, "  caused by: {}", escape_text(&cause.to_string()));
    }
}
