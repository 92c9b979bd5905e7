//! RUN scripts as data: the script text with its Dockerfile lines ([`Script`]), the shell
//! that runs it ([`Shell`]), and its simple commands ([`Parsed`], [`SimpleCommand`]): argv
//! words with quotes removed when they are static, pipeline membership, whether the
//! command runs in a subshell, and the Dockerfile line of each.
//!
//! The parser is brush-parser (the parser of the brush shell): MIT, released every few
//! weeks, a bash and POSIX grammar whose AST has and-or lists, pipelines, subshells,
//! compound commands, functions, heredocs and process substitution, and a word parser that
//! separates quoted text from expansions. The others looked at: yash-syntax (GPL-3.0, which
//! an Apache-2.0 tool cannot take, and an async API), conch-parser (no release since 2017),
//! tree-sitter-bash (C sources, a concrete syntax tree with no unquoting). Its cost: a
//! few proc-macro crates (peg, bon, cached) at build time and Rust 1.88. Its types stay
//! inside this module (`walk.rs`); rules see only this model.
//!
//! Hostile input is bounded before the parser sees it: a script over
//! [`MAX_SCRIPT_BYTES`] or nested deeper than [`MAX_NESTING`] is not parsed (the
//! parser recurses), the walk stops after [`MAX_COMMANDS`] commands, and the reason is in
//! [`Parsed::incomplete`]. A script the parser rejects yields no commands, never a panic.

mod script;
mod walk;

use serde::Serialize;

pub use script::Script;

use crate::model::{Dockerfile, Instruction, Kind, Stage};

/// Scripts larger than this are not parsed.
pub const MAX_SCRIPT_BYTES: usize = 256 * 1024;
/// Scripts nested deeper than this (subshells, groups, `if`/`for`/`while`/`case`,
/// substitutions, heredocs fed to shells) are not parsed.
pub const MAX_NESTING: usize = 48;
/// At most this many commands are kept from one script.
pub const MAX_COMMANDS: usize = 20_000;

/// A POSIX-family shell, by the program that runs the script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    Sh,
    Dash,
    /// busybox ash.
    Ash,
    Bash,
    /// ksh, mksh.
    Ksh,
    Zsh,
}

impl Dialect {
    /// The dialect of a program (`/bin/bash`, `sh`, `busybox`); `None` for anything that
    /// is no POSIX-family shell (PowerShell, `cmd`, `python3`).
    #[must_use]
    pub fn of_program(program: &str) -> Option<Dialect> {
        let base = program.rsplit(['/', '\\']).next().unwrap_or(program);
        let base = base.strip_suffix(".exe").unwrap_or(base);
        Some(match base {
            "sh" => Dialect::Sh,
            "dash" => Dialect::Dash,
            "ash" | "busybox" => Dialect::Ash,
            "bash" => Dialect::Bash,
            "ksh" | "mksh" | "ksh93" | "pdksh" | "oksh" => Dialect::Ksh,
            "zsh" => Dialect::Zsh,
            _ => return None,
        })
    }

    /// ShellCheck's `--shell` name, `None` for a dialect it does not check (zsh).
    #[must_use]
    pub fn shellcheck_name(self) -> Option<&'static str> {
        match self {
            Dialect::Sh | Dialect::Ash => Some("sh"),
            Dialect::Dash => Some("dash"),
            Dialect::Bash => Some("bash"),
            Dialect::Ksh => Some("ksh"),
            Dialect::Zsh => None,
        }
    }

    fn is_posix(self) -> bool {
        matches!(self, Dialect::Sh | Dialect::Dash | Dialect::Ash)
    }
}

/// The shell a RUN script runs under: the stage's `SHELL` (default `/bin/sh -c`) or the
/// one an exec-form RUN names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shell {
    pub argv: Vec<String>,
    /// `None`: no POSIX-family shell (PowerShell, cmd): its scripts are not analysed.
    pub dialect: Option<Dialect>,
    /// Started with `-o pipefail` (`["/bin/bash", "-o", "pipefail", "-c"]`, `-eo pipefail`).
    pub pipefail: bool,
}

impl Shell {
    /// The shell of an argv (`SHELL ["/bin/bash", "-o", "pipefail", "-c"]`).
    #[must_use]
    pub fn new(argv: Vec<String>) -> Shell {
        let program = after_env(&argv);
        let dialect = program.first().and_then(|p| Dialect::of_program(p));
        let pipefail = program.windows(2).any(|w| {
            w[1] == "pipefail"
                && w[0].starts_with('-')
                && !w[0].starts_with("--")
                && w[0].ends_with('o')
        });
        Shell {
            argv,
            dialect,
            pipefail,
        }
    }

    /// `/bin/sh -c`, what a Linux image runs without `SHELL`.
    #[must_use]
    pub fn default_linux() -> Shell {
        Shell::new(vec!["/bin/sh".into(), "-c".into()])
    }
}

/// One word of a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Word {
    /// As written (quotes included).
    pub raw: String,
    /// With quotes and escapes removed, when it has no expansion (`$X`, `$(..)`, `~`).
    pub value: Option<String>,
}

impl Word {
    /// The value when static, else the raw text.
    #[must_use]
    pub fn text(&self) -> &str {
        self.value.as_deref().unwrap_or(&self.raw)
    }
}

/// One simple command of a script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimpleCommand {
    /// The command name and its arguments (assignments and redirections left out).
    pub words: Vec<Word>,
    /// Which pipeline it is in (numbered in the order they are met), its place in it and
    /// the pipeline's length (1: not piped).
    pub pipeline: usize,
    pub pipe_index: usize,
    pub pipe_len: usize,
    /// Runs in a subshell, a command or process substitution, or a pipeline: what it
    /// changes (`cd`, `set`) does not reach the commands after it.
    pub isolated: bool,
    /// The shell environment it runs in: an index in [`Parsed::scopes`] (0: the RUN's).
    pub scope: usize,
    /// Byte offset in [`Script::text`] (of its own script for a heredoc fed to a shell).
    pub offset: usize,
    /// The Dockerfile line it is on.
    pub line: u32,
}

/// Wrappers that run the program named after them.
const WRAPPERS: &[&str] = &[
    "sudo", "env", "exec", "command", "nohup", "time", "nice", "xargs", "doas",
];

impl SimpleCommand {
    /// The program's base name (`/usr/bin/apt-get` -> `apt-get`) and its arguments, after
    /// wrappers (`sudo`, `env`, `exec`, ...), their options and `VAR=value` words.
    #[must_use]
    pub fn program(&self) -> Option<(&str, &[Word])> {
        let mut i = 0;
        while let Some(w) = self.words.get(i) {
            let t = w.text();
            let after_wrapper = i > 0
                && t.starts_with('-')
                && WRAPPERS.contains(&base_name(self.words[i - 1].text()));
            if WRAPPERS.contains(&base_name(t))
                || (t.contains('=') && !t.starts_with('-') && !t.starts_with('/'))
                || after_wrapper
            {
                i += 1;
                continue;
            }
            return Some((base_name(t), &self.words[i + 1..]));
        }
        None
    }

    /// The name as written (first word), without wrappers removed.
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        self.words.first().map(|w| base_name(w.text()))
    }

    /// Whether this is `set` turning pipefail on (`set -o pipefail`, `set -euxo pipefail`).
    #[must_use]
    pub fn sets_pipefail(&self) -> bool {
        self.pipefail_change() == Some(true)
    }

    /// What this command does to pipefail: `Some(true)` for `set -o pipefail`,
    /// `set -euxo pipefail`, `set -o errexit -o pipefail`, `shopt -so pipefail`;
    /// `Some(false)` for `set +o pipefail`, `shopt -uo pipefail`; `None` otherwise. The
    /// last of several `pipefail` options wins, as in the shell.
    #[must_use]
    pub fn pipefail_change(&self) -> Option<bool> {
        let args = self.words.get(1..)?;
        match self.name()? {
            "set" => set_pipefail(args),
            "shopt" if args.iter().any(|w| w.text() == "pipefail") => {
                let flags: String = args
                    .iter()
                    .map(Word::text)
                    .filter(|a| a.starts_with('-') && !a.starts_with("--"))
                    .collect();
                if !flags.contains('o') {
                    return None;
                }
                match (flags.contains('s'), flags.contains('u')) {
                    (true, false) => Some(true),
                    (false, true) => Some(false),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// `set`'s options, read as the shell reads them: clusters of `-x`/`+x` letters, the one
/// ending in `o` taking the next word as an option name, up to `--`, `-` or the first
/// other word (the positional parameters: `set -- -o pipefail` sets `$1` and `$2`).
fn set_pipefail(args: &[Word]) -> Option<bool> {
    let mut change = None;
    let mut words = args.iter().map(Word::text);
    while let Some(a) = words.next() {
        let on = a.starts_with('-');
        if a == "--" || a == "-" || !(on || a.starts_with('+')) {
            break;
        }
        if a.ends_with('o') {
            match words.next() {
                Some("pipefail") => change = Some(on),
                Some(_) => {}
                None => break,
            }
        }
    }
    change
}

fn base_name(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// A command line without a leading `env` (`#!/usr/bin/env bash`, `env -S bash -e`), its
/// options and `VAR=value` words: the program it runs and that program's arguments.
fn after_env(argv: &[String]) -> Vec<String> {
    if argv.first().map(|p| base_name(p)) != Some("env") {
        return argv.to_vec();
    }
    let mut out = Vec::new();
    let mut rest = argv[1..].iter();
    let mut split_next = false;
    for a in rest.by_ref() {
        let split = if split_next {
            Some(a.as_str())
        } else {
            a.strip_prefix("-S")
        };
        if let Some(text) = split {
            // `env -S 'bash -eo pipefail'` splits its argument into words.
            out.extend(text.split_whitespace().map(str::to_owned));
            split_next = out.is_empty() && !split_next;
            if !out.is_empty() {
                break;
            }
        } else if !a.starts_with('-') && !a.contains('=') {
            out.push(a.clone());
            break;
        }
    }
    out.extend(rest.cloned());
    out
}

/// A shell environment a script's commands run in. Scope 0 is the RUN's shell; a
/// subshell, a command or process substitution, a background job or a function body is
/// a copy of its parent's (`inherits`); a new shell process (`sh -c 'SCRIPT'`, a heredoc
/// fed to `bash`) starts from its own command line (`pipefail`: `bash -o pipefail -c`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Scope {
    pub parent: Option<usize>,
    pub inherits: bool,
    pub pipefail: bool,
}

/// Why a script was not (fully) analysed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Incomplete {
    TooLarge {
        bytes: usize,
    },
    TooDeep,
    TooManyCommands,
    Syntax {
        message: String,
    },
    /// Run by no POSIX-family shell (PowerShell, cmd, a `#!` interpreter).
    NotShell {
        program: String,
    },
}

/// A script's simple commands, in source order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Parsed {
    pub commands: Vec<SimpleCommand>,
    /// The shell environments the commands run in ([`SimpleCommand::scope`]).
    pub scopes: Vec<Scope>,
    pub incomplete: Option<Incomplete>,
}

impl Parsed {
    /// Whether a top-level `set -o pipefail` comes before byte `offset`.
    #[must_use]
    pub fn pipefail_before(&self, offset: usize) -> bool {
        self.commands
            .iter()
            .any(|c| c.offset < offset && !c.isolated && c.sets_pipefail())
    }

    /// Whether command `index` runs in a shell process of its own (`sh -c 'SCRIPT'`, a
    /// heredoc fed to `bash`), not in the RUN's shell or a copy of it.
    #[must_use]
    pub fn in_nested_shell(&self, index: usize) -> bool {
        let mut scope = self.commands.get(index).map_or(0, |c| c.scope);
        for _ in 0..=self.scopes.len() {
            match self.scopes.get(scope) {
                Some(Scope {
                    parent: Some(p),
                    inherits,
                    ..
                }) if *p < scope => {
                    if !inherits {
                        return true;
                    }
                    scope = *p;
                }
                _ => return false,
            }
        }
        false
    }

    /// Whether pipefail is on when command `index` runs, the RUN's shell having been
    /// started with it or not (`shell_pipefail`): the last `set -o pipefail` or
    /// `set +o pipefail` before it in its own shell environment, else in the one that
    /// environment copies (a subshell's parent), else how that environment started.
    /// A `set` inside a pipeline or a background job changes nothing after it.
    #[must_use]
    pub fn pipefail_at(&self, index: usize, shell_pipefail: bool) -> bool {
        let Some(cmd) = self.commands.get(index) else {
            return shell_pipefail;
        };
        let mut scope = cmd.scope;
        // Every step goes to a parent with a smaller index: the walk ends.
        for _ in 0..=self.scopes.len() {
            let change = self
                .commands
                .iter()
                .filter(|c| c.scope == scope && c.offset < cmd.offset && c.pipe_len == 1)
                .rev()
                .find_map(SimpleCommand::pipefail_change);
            if let Some(on) = change {
                return on;
            }
            match self.scopes.get(scope) {
                Some(s) if s.pipefail => return true,
                Some(Scope {
                    parent: Some(p),
                    inherits: true,
                    ..
                }) if *p < scope => scope = *p,
                Some(Scope {
                    parent: Some(_), ..
                }) => return false,
                _ => return shell_pipefail,
            }
        }
        shell_pipefail
    }
}

/// Parse `script` as `dialect` (POSIX dialects parse in sh mode).
#[must_use]
pub fn parse(script: &Script, dialect: Dialect) -> Parsed {
    walk::parse(script, dialect.is_posix())
}

/// An exec-form command that runs no shell, as one command.
#[must_use]
pub fn exec_command(argv: &[String], line: u32) -> Parsed {
    let words = argv
        .iter()
        .map(|a| Word {
            raw: a.clone(),
            value: Some(a.clone()),
        })
        .collect();
    Parsed {
        commands: vec![SimpleCommand {
            words,
            pipeline: 0,
            pipe_index: 0,
            pipe_len: 1,
            isolated: false,
            scope: 0,
            offset: 0,
            line,
        }],
        scopes: vec![Scope::default()],
        incomplete: None,
    }
}

/// One RUN of a stage, with the shell that runs it.
#[derive(Debug, Clone)]
pub struct Run<'a> {
    pub instruction: &'a Instruction,
    pub flags: &'a [(String, Option<String>)],
    /// The script, `None` for an exec-form RUN that runs no shell.
    pub script: Option<&'a Script>,
    /// The argv of an exec-form RUN.
    pub exec: Option<&'a [String]>,
    pub shell: Shell,
}

impl Run<'_> {
    /// The RUN's commands: its script parsed under its shell, or its exec-form argv.
    #[must_use]
    pub fn parse(&self) -> Parsed {
        match (self.script, self.exec) {
            (Some(s), _) => match self.shell.dialect {
                Some(d) => parse(s, d),
                None => Parsed {
                    commands: Vec::new(),
                    scopes: Vec::new(),
                    incomplete: Some(Incomplete::NotShell {
                        program: self.shell.argv.first().cloned().unwrap_or_default(),
                    }),
                },
            },
            (None, Some(argv)) => exec_command(argv, self.instruction.span.start.line),
            (None, None) => Parsed::default(),
        }
    }
}

impl Dockerfile {
    /// The RUN instructions of stage `index`, each with the shell it runs under (the last
    /// `SHELL` of the stage or the stages it is built on, else `/bin/sh -c`; an exec-form
    /// `["bash", "-c", ..]` or a heredoc's `#!` line picks its own).
    ///
    /// One stage's cost is its ancestry; for every stage, [`Dockerfile::all_runs`] costs
    /// the file once.
    #[must_use]
    pub fn runs(&self, index: usize) -> Vec<Run<'_>> {
        let Some(stage) = self.stages.get(index) else {
            return Vec::new();
        };
        // The SHELL in force where the stage starts: the last one of the nearest stage it
        // is built on that has one.
        let start = self
            .ancestry(index)
            .into_iter()
            .skip(1)
            .find_map(last_shell);
        stage_runs(stage, start).0
    }

    /// The RUN instructions of every stage, by stage index, as [`Dockerfile::runs`] gives
    /// them, in one pass: each stage starts with the SHELL its base stage ended with, so a
    /// chain of thousands of stages is read once, not once per stage.
    #[must_use]
    pub fn all_runs(&self) -> Vec<Vec<Run<'_>>> {
        let mut out = Vec::with_capacity(self.stages.len());
        self.along_ancestry(|stage, base: Option<&Option<&[String]>>| {
            let (runs, end) = stage_runs(stage, base.copied().flatten());
            out.push(runs);
            end
        });
        out
    }
}

/// The argv of the last `SHELL` of `stage`.
fn last_shell(stage: &Stage) -> Option<&[String]> {
    count_stage_scan();
    stage.instructions.iter().rev().find_map(|i| match &i.kind {
        Kind::Shell { shell } => Some(shell.as_slice()),
        _ => None,
    })
}

/// The RUNs of `stage` when it starts under the SHELL `start` (`None`: `/bin/sh -c`),
/// and the SHELL in force at its end.
fn stage_runs<'a>(
    stage: &'a Stage,
    start: Option<&'a [String]>,
) -> (Vec<Run<'a>>, Option<&'a [String]>) {
    count_stage_scan();
    let mut out = Vec::new();
    let mut end = start;
    let mut shell = start.map_or_else(Shell::default_linux, |argv| Shell::new(argv.to_vec()));
    for i in &stage.instructions {
        match &i.kind {
            Kind::Shell { shell: argv } => {
                shell = Shell::new(argv.clone());
                end = Some(argv);
            }
            Kind::Run {
                flags,
                command,
                script,
            } => out.push(Run {
                instruction: i,
                flags,
                script: script.as_ref(),
                exec: match command {
                    crate::Command::Exec(v) if script.is_none() => Some(v),
                    _ => None,
                },
                shell: script
                    .as_ref()
                    .and_then(|s| s.shell.clone())
                    .map_or_else(|| shell.clone(), Shell::new),
            }),
            _ => {}
        }
    }
    (out, end)
}

#[cfg(test)]
thread_local! {
    /// Stages whose instructions [`Dockerfile::runs`] and [`Dockerfile::all_runs`] read,
    /// for the tests that count work.
    static STAGE_SCANS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

#[cfg(test)]
fn count_stage_scan() {
    STAGE_SCANS.with(|c| c.set(c.get() + 1));
}

#[cfg(not(test))]
fn count_stage_scan() {}

#[cfg(test)]
mod tests {
    use super::STAGE_SCANS;
    use crate::parse;

    fn scans<T>(f: impl FnOnce() -> T) -> (T, usize) {
        STAGE_SCANS.with(|c| c.set(0));
        let out = f();
        (out, STAGE_SCANS.with(std::cell::Cell::get))
    }

    /// `all_runs` agrees with `runs` stage by stage: SHELLs carried down the chain, a
    /// stage on an image starting over at `/bin/sh -c`, an exec form's own program.
    #[test]
    fn all_runs_is_runs_of_every_stage() {
        let df = parse(
            "FROM alpine AS a\nSHELL [\"/bin/bash\", \"-c\"]\nRUN one\n\
             FROM a AS b\nRUN two\nSHELL [\"/bin/zsh\", \"-c\"]\nRUN three\n\
             FROM b AS c\nRUN four\nRUN [\"/bin/ash\", \"-c\", \"five\"]\n\
             FROM alpine AS d\nRUN six\nFROM a\nRUN seven\n",
        )
        .unwrap();
        let all = df.all_runs();
        assert_eq!(all.len(), df.stages.len());
        let shells = |runs: &[super::Run<'_>]| -> Vec<String> {
            runs.iter().map(|r| r.shell.argv.join(" ")).collect()
        };
        for (i, runs) in all.iter().enumerate() {
            let one = df.runs(i);
            assert_eq!(shells(runs), shells(&one), "stage {i}");
            let spans =
                |r: &[super::Run<'_>]| r.iter().map(|r| r.instruction.span).collect::<Vec<_>>();
            assert_eq!(spans(runs), spans(&one), "stage {i}");
        }
        assert_eq!(shells(&all[1]), ["/bin/bash -c", "/bin/zsh -c"]);
        assert_eq!(shells(&all[2]), ["/bin/zsh -c", "/bin/ash -c"]);
        assert_eq!(shells(&all[3]), ["/bin/sh -c"]);
        assert_eq!(shells(&all[4]), ["/bin/bash -c"]);
        assert!(df.runs(99).is_empty());
    }

    /// 20,000 stages, each built on the one before: every stage's RUNs are found reading
    /// each stage once (a walk of the ancestry per stage read 200 million).
    #[test]
    fn twenty_thousand_stages_chain_read_once() {
        let mut text = String::from("FROM alpine AS s0\nSHELL [\"/bin/bash\", \"-c\"]\n");
        for i in 1..20_000 {
            text.push_str(&format!("FROM s{} AS s{i}\nRUN step {i}\n", i - 1));
        }
        let df = parse(&text).unwrap();
        let (all, n) = scans(|| df.all_runs());
        assert_eq!(n, 20_000);
        assert_eq!(all.len(), 20_000);
        assert!(
            all[1..]
                .iter()
                .all(|r| r.len() == 1 && r[0].shell.argv[0] == "/bin/bash")
        );
        // One stage alone walks its ancestry once, up to the nearest SHELL.
        let (last, n) = scans(|| df.runs(19_999));
        assert_eq!(n, 20_000);
        assert_eq!(last[0].shell.argv[0], "/bin/bash");
    }
}
