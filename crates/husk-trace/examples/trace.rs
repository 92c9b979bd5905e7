//! A tiny CLI over husk-trace for the benchmark and for trying the tracer by hand:
//! `cargo run --release -p husk-trace --example trace -- [-v] [-t SECS] PROGRAM [ARGS...]`
//! traces PROGRAM in the current directory with the current environment and prints a
//! summary on stderr (`-v`: every needed path and every skipped one on stdout too;
//! `-q`: trace only, no closure: what the benchmark compares with strace).

use std::process::ExitCode;
use std::time::Duration;

use husk_trace::{Policy, Scenario, closure};

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = args.first().is_some_and(|a| a == "-v");
    if verbose {
        args.remove(0);
    }
    let trace_only = args.first().is_some_and(|a| a == "-q");
    if trace_only {
        args.remove(0);
    }
    let mut timeout = Duration::from_secs(60);
    if args.first().is_some_and(|a| a == "-t") && args.len() > 1 {
        timeout = Duration::from_secs(args[1].parse().unwrap_or(60));
        args.drain(..2);
    }
    let Some(program) = args.first().cloned() else {
        eprintln!("usage: trace [-v] [-q] [-t SECS] PROGRAM [ARGS...]");
        return ExitCode::from(2);
    };
    let mut s = Scenario::new(program, args.into_iter().skip(1));
    s.env = std::env::vars_os().collect();
    s.cwd = std::env::current_dir().unwrap_or_else(|_| "/".into());
    s.timeout = timeout;
    let t = match husk_trace::trace(&s) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    if trace_only {
        return if t.exit.success() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        };
    }
    let homes: Vec<_> = std::env::var_os("HOME")
        .map(Into::into)
        .into_iter()
        .collect();
    let needed = closure(&t, &Policy::new(&homes));
    if verbose {
        for (p, e) in &needed.entries {
            println!(
                "need {} {:?} ({} by {})",
                p.display(),
                e.kind,
                e.via.syscall,
                e.via.pid
            );
        }
        for (p, s) in &needed.skipped {
            println!("skip {} {:?} ({})", p.display(), s.reason, s.rule);
        }
        for w in &t.warnings {
            println!("warning {w}");
        }
    }
    eprintln!(
        "{}: {}, {} accesses, {} probes, {} created, {} needed, {} skipped, {:.3}s{}",
        t.program.display(),
        t.exit,
        t.accesses.len(),
        t.probes.len(),
        t.created.len(),
        needed.entries.len(),
        needed.skipped.len(),
        t.elapsed.as_secs_f64(),
        if t.timed_out { " (timed out)" } else { "" }
    );
    if t.exit.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
