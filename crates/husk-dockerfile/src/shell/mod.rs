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

use crate::model::{Dockerfile, Instruction, Kind};

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
        let dialect = argv.first().and_then(|p| Dialect::of_program(p));
        let pipefail = argv.windows(2).any(|w| {
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
        self.name() == Some("set")
            && self.words.windows(2).any(|w| {
                let (a, b) = (w[0].text(), w[1].text());
                b == "pipefail" && a.starts_with('-') && a.ends_with('o')
            })
    }
}

fn base_name(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
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
            offset: 0,
            line,
        }],
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
    #[must_use]
    pub fn runs(&self, index: usize) -> Vec<Run<'_>> {
        let mut out = Vec::new();
        let mut shell = Shell::default_linux();
        for stage in self.ancestry(index).into_iter().rev() {
            for i in &stage.instructions {
                match &i.kind {
                    Kind::Shell { shell: argv } => shell = Shell::new(argv.clone()),
                    Kind::Run {
                        flags,
                        command,
                        script,
                    } if stage.index == index => out.push(Run {
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
        }
        out
    }
}
