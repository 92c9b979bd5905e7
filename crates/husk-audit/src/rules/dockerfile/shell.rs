//! What the RUN rules share: every RUN of the Dockerfile parsed once (husk-dockerfile's
//! shell model, cached per thread by script text, so a dozen rules cost one parse),
//! flag tests on argv words, the span of one command, and the one gate for hygiene rules.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use husk_dockerfile::shell::{Dialect, Parsed, Run, Script, SimpleCommand, Word};
use husk_dockerfile::{Pos, Span};

use crate::rule::DockerfileFacts;

/// One RUN, parsed.
pub(crate) struct ParsedRun<'a> {
    pub stage: usize,
    pub run: Run<'a>,
    pub parsed: Rc<Parsed>,
}

impl ParsedRun<'_> {
    /// The span of one of its commands: from its line to the end of the instruction.
    pub fn span(&self, cmd: &SimpleCommand) -> Span {
        let span = self.run.instruction.span;
        if cmd.line < span.start.line || cmd.line > span.end.line {
            return span;
        }
        Span {
            start: Pos {
                line: cmd.line,
                column: 1,
            },
            end: span.end,
        }
    }

    /// Whether a `--mount=type=cache` keeps package caches out of the layer.
    pub fn cache_mount(&self) -> bool {
        self.run
            .flags
            .iter()
            .any(|(k, v)| k == "mount" && v.as_deref().is_some_and(|v| v.contains("type=cache")))
    }

    /// The commands with a program, as `(command, program, arguments)`.
    pub fn programs(&self) -> impl Iterator<Item = (&SimpleCommand, &str, &[Word])> {
        self.parsed
            .commands
            .iter()
            .filter_map(|c| c.program().map(|(p, a)| (c, p, a)))
    }
}

/// Parses by script text and dialect.
type Cache = HashMap<(String, Option<Dialect>), Rc<Parsed>>;

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(HashMap::new());
}

/// Entries kept per thread before the cache starts over.
const CACHE_ENTRIES: usize = 512;

/// `script` parsed as `dialect`, from the cache when the same text was parsed before.
pub(crate) fn parse_cached(script: &Script, dialect: Option<Dialect>) -> Rc<Parsed> {
    let key = (script.text.clone(), dialect);
    if let Some(p) = CACHE.with(|c| c.borrow().get(&key).cloned()) {
        return p;
    }
    let parsed = Rc::new(match dialect {
        Some(d) => husk_dockerfile::shell::parse(script, d),
        None => Parsed::default(),
    });
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_ENTRIES {
            c.clear();
        }
        c.insert(key, Rc::clone(&parsed));
    });
    parsed
}

/// Every RUN of every stage, parsed (the stages read once: [`Dockerfile::all_runs`]).
///
/// [`Dockerfile::all_runs`]: husk_dockerfile::Dockerfile::all_runs
pub(crate) fn parsed_runs(file: &DockerfileFacts) -> Vec<ParsedRun<'_>> {
    let df = &file.file;
    let mut out = Vec::new();
    for (stage, runs) in df.stages.iter().zip(df.all_runs()) {
        for run in runs {
            let parsed = match run.script {
                // A script's cached parse; its line numbers are the script's own, and the
                // same text on another line is another key only through `text`, so the
                // lines are taken again from this script below.
                Some(s) => relined(parse_cached(s, run.shell.dialect), s),
                None => Rc::new(run.parse()),
            };
            out.push(ParsedRun {
                stage: stage.index,
                run,
                parsed,
            });
        }
    }
    out
}

/// A cached parse with its lines taken from `script` (equal texts may sit on other lines).
fn relined(parsed: Rc<Parsed>, script: &Script) -> Rc<Parsed> {
    if parsed
        .commands
        .iter()
        .all(|c| c.line == script.line_at(c.offset))
    {
        return parsed;
    }
    let mut p = (*parsed).clone();
    for c in &mut p.commands {
        c.line = script.line_at(c.offset);
    }
    Rc::new(p)
}

/// The RUNs of stages whose hygiene matters (see [`hygiene_applies`]).
pub(crate) fn hygiene_runs(file: &DockerfileFacts) -> Vec<ParsedRun<'_>> {
    parsed_runs(file)
        .into_iter()
        .filter(|r| hygiene_applies(file, r.stage))
        .collect()
}

/// The one gate of the image-hygiene rules (caches, recommends, cleanup): only stages
/// that reach the built image count (the target, `--target` or the final stage, and every
/// stage it is built on, copies or mounts from, transitively: [`DockerfileFacts::reaches`]);
/// a build-only stage leaves nothing of its caches in the image.
pub(crate) fn hygiene_applies(file: &DockerfileFacts, stage: usize) -> bool {
    file.reaches(stage)
}

/// Whether `args` hold the option: a long form (`--yes`, `--yes=...`) or a short letter,
/// alone or in a cluster (`-y`, `-qy`).
pub(crate) fn has_flag(args: &[Word], short: Option<char>, longs: &[&str]) -> bool {
    args.iter().any(|a| {
        let t = a.text();
        if let Some(long) = t.strip_prefix("--") {
            let name = long.split('=').next().unwrap_or(long);
            return longs.iter().any(|l| l.trim_start_matches('-') == name);
        }
        match (short, t.strip_prefix('-')) {
            (Some(c), Some(cluster)) => cluster
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .any(|x| x == c),
            _ => false,
        }
    })
}

/// The first word that is no option: the subcommand (`install` of `apt-get -y install`).
pub(crate) fn subcommand(args: &[Word]) -> Option<&str> {
    args.iter().map(Word::text).find(|t| !t.starts_with('-'))
}

/// The operands after the subcommand that are not options (package names and specs).
/// `takes_value` lists options whose value is the next word (`-t bookworm`).
pub(crate) fn operands<'a>(args: &'a [Word], takes_value: &[&str]) -> Vec<&'a Word> {
    let mut out = Vec::new();
    let mut skip_next = false;
    let mut seen_sub = false;
    for a in args {
        let t = a.text();
        if skip_next {
            skip_next = false;
        } else if t.starts_with('-') {
            skip_next = takes_value.contains(&t);
        } else if !seen_sub {
            seen_sub = true;
        } else {
            out.push(a);
        }
    }
    out
}

/// The static operands that name no version by `pinned`, leaving out expansions
/// (`$PKGS`), paths, URLs and package files: what a pinning rule reports.
pub(crate) fn unpinned<'a>(ops: &[&'a Word], pinned: impl Fn(&str) -> bool) -> Vec<&'a str> {
    ops.iter()
        .filter_map(|w| w.value.as_deref())
        .filter(|t| !is_local_or_url(t) && !pinned(t))
        .collect()
}

/// A path, URL or package file rather than a package name.
fn is_local_or_url(t: &str) -> bool {
    t.starts_with(['.', '/', '~'])
        || t.contains("://")
        || t.starts_with("git+")
        || [
            ".deb", ".rpm", ".whl", ".tar.gz", ".tgz", ".gem", ".zip", ".apk",
        ]
        .iter()
        .any(|e| t.ends_with(e))
}

/// `pkgs` joined for a message, at most a few named.
pub(crate) fn list(pkgs: &[&str]) -> String {
    const SHOWN: usize = 4;
    let mut s = pkgs
        .iter()
        .take(SHOWN)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if pkgs.len() > SHOWN {
        s.push_str(&format!(" and {} more", pkgs.len() - SHOWN));
    }
    s
}

/// `pip install ...` in any spelling (`pip3`, `pip3.12`, `python3 -m pip`, `uv pip`):
/// the arguments after `pip`, or `None` for another command.
pub(crate) fn pip_args<'a>(prog: &str, args: &'a [Word]) -> Option<&'a [Word]> {
    let is_pip = |p: &str| {
        p == "pip"
            || p.strip_prefix("pip")
                .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
    };
    if is_pip(prog) {
        return Some(args);
    }
    let texts: Vec<&str> = args.iter().take(2).map(Word::text).collect();
    match (prog, texts.as_slice()) {
        (p, ["-m", m, ..]) if p.starts_with("python") && is_pip(m) => args.get(2..),
        _ => None,
    }
}
