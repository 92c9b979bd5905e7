//! The owned model and its conversion from parse-dockerfile's tree.

use std::collections::{BTreeMap, HashMap};

use parse_dockerfile as pd;
use serde::Serialize;

use crate::ParseError;
use crate::shell::Script;
use crate::text::{Lines, Span, clean_shell, pairs, substitute, words};

/// A parsed Dockerfile.
#[derive(Debug, Clone, Serialize)]
pub struct Dockerfile {
    /// The `# syntax=` directive.
    pub syntax: Option<String>,
    /// The escape character (`\` unless `# escape=` says otherwise).
    pub escape: char,
    /// The `# check=` directive as written (`skip=JSONArgsRecommended;error=true`).
    pub check: Option<String>,
    /// `ARG`s before the first `FROM`, with their defaults.
    pub global_args: Vec<(String, Option<String>)>,
    /// Where each global `ARG` instruction is, parallel to `global_args`.
    pub global_arg_spans: Vec<Span>,
    pub stages: Vec<Stage>,
    /// Instructions BuildKit does not know, skipped by the parse.
    pub unknown: Vec<UnknownInstruction>,
    /// Lower-cased stage name -> index of the first stage with it, built once by the
    /// parse so name lookups are one hash probe (thousands of stages stay linear).
    #[serde(skip)]
    stage_names: HashMap<String, usize>,
    /// The text as parsed, for rules about how it is written (casing, comments).
    #[serde(skip)]
    source: String,
    /// Byte offset of each line of `source`.
    #[serde(skip)]
    line_starts: Vec<usize>,
}

/// An unknown instruction keyword and where it is.
#[derive(Debug, Clone, Serialize)]
pub struct UnknownInstruction {
    pub name: String,
    pub span: Span,
}

/// One build stage.
#[derive(Debug, Clone, Serialize)]
pub struct Stage {
    pub index: usize,
    /// `AS name`, lowercased as BuildKit compares them.
    pub name: Option<String>,
    /// `AS name` as written.
    pub name_as_written: Option<String>,
    /// The FROM image text as written.
    pub base_text: String,
    /// The base after global ARG substitution, classified.
    pub base: BaseImage,
    pub platform: Option<String>,
    /// The FROM instruction.
    pub span: Span,
    pub instructions: Vec<Instruction>,
}

/// What a stage starts from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BaseImage {
    Scratch,
    /// An earlier stage, by index.
    Stage {
        index: usize,
    },
    Image(ImageName),
}

/// An image reference split for policy: `registry/repo:tag@digest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageName {
    /// Everything before the tag and digest.
    pub name: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageName {
    #[must_use]
    pub fn parse(s: &str) -> ImageName {
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (r, Some(d.to_owned())),
            None => (s, None),
        };
        let slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[slash..].rfind(':') {
            Some(i) => (
                rest[..slash + i].to_owned(),
                Some(rest[slash + i + 1..].to_owned()),
            ),
            None => (rest.to_owned(), None),
        };
        ImageName { name, tag, digest }
    }
}

/// One instruction with its position.
#[derive(Debug, Clone, Serialize)]
pub struct Instruction {
    pub span: Span,
    #[serde(flatten)]
    pub kind: Kind,
}

/// A command in exec (JSON) or shell form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "form", content = "value", rename_all = "snake_case")]
pub enum Command {
    Exec(Vec<String>),
    /// Continuations and comment lines removed (heredoc bodies appended on new lines).
    Shell(String),
}

impl Command {
    /// The text a shell would run (exec form joined with spaces).
    #[must_use]
    pub fn text(&self) -> String {
        match self {
            Command::Exec(v) => v.join(" "),
            Command::Shell(s) => s.clone(),
        }
    }
}

/// A COPY/ADD source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum CopySource {
    Path(String),
    /// An inline here-document (its body).
    HereDoc(String),
}

/// The instructions, typed.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "keyword", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Kind {
    Add {
        flags: Vec<(String, Option<String>)>,
        sources: Vec<CopySource>,
        dest: String,
    },
    Copy {
        /// `--from=` value (stage name, index or image).
        from: Option<String>,
        flags: Vec<(String, Option<String>)>,
        sources: Vec<CopySource>,
        dest: String,
    },
    Arg {
        args: Vec<(String, Option<String>)>,
    },
    Env {
        pairs: Vec<(String, String)>,
    },
    Label {
        pairs: Vec<(String, String)>,
    },
    Run {
        flags: Vec<(String, Option<String>)>,
        command: Command,
        /// What the shell runs, positioned (`None`: exec form that runs no shell).
        #[serde(skip)]
        script: Option<Script>,
    },
    Cmd {
        command: Command,
    },
    Entrypoint {
        command: Command,
    },
    Healthcheck {
        flags: Vec<(String, Option<String>)>,
        /// `None` for `HEALTHCHECK NONE`.
        command: Option<Command>,
    },
    User {
        user: String,
        group: Option<String>,
    },
    Workdir {
        path: String,
    },
    Expose {
        ports: Vec<String>,
    },
    Shell {
        shell: Vec<String>,
    },
    Stopsignal {
        signal: String,
    },
    Volume {
        paths: Vec<String>,
    },
    Maintainer {
        name: String,
    },
    Onbuild {
        instruction: Box<Instruction>,
    },
}

impl Dockerfile {
    /// The last stage: what `docker build` produces without `--target`.
    #[must_use]
    pub fn final_stage(&self) -> &Stage {
        self.stages.last().expect("a parsed Dockerfile has a stage")
    }

    /// The chain of stages `index` is built on, itself first, ending at a scratch or image
    /// base.
    #[must_use]
    pub fn ancestry(&self, index: usize) -> Vec<&Stage> {
        let mut out = Vec::new();
        let mut cur = self.stages.get(index);
        while let Some(s) = cur {
            out.push(s);
            cur = match s.base {
                BaseImage::Stage { index } if index < s.index => self.stages.get(index),
                _ => None,
            };
        }
        out
    }

    /// The stage that stage `index` is built on, when that is an earlier stage: the step
    /// [`Dockerfile::ancestry`] takes.
    #[must_use]
    pub fn parent(&self, index: usize) -> Option<usize> {
        let s = self.stages.get(index)?;
        match s.base {
            BaseImage::Stage { index: p } if p < s.index => Some(p),
            _ => None,
        }
    }

    /// A fact of every stage that follows its ancestry, in one pass over the stages: per
    /// stage in order, `f(stage, the fact of the stage it is built on)` (`None` for a
    /// stage built on an image or scratch). Each stage is seen once, so a fact of the
    /// whole ancestry (the SHELL in force, an ENV set anywhere up the chain) costs the
    /// stages' length, not a walk of [`Dockerfile::ancestry`] per stage: a chain of
    /// thousands of stages stays linear.
    pub fn along_ancestry<'a, T>(
        &'a self,
        mut f: impl FnMut(&'a Stage, Option<&T>) -> T,
    ) -> Vec<T> {
        let mut out: Vec<T> = Vec::with_capacity(self.stages.len());
        for (i, s) in self.stages.iter().enumerate() {
            // A parsed file's stage `i` has index `i`, so its parent's fact is already
            // there; a hand-edited stage list that points forward gets `None`.
            let base = self.parent(i).and_then(|p| out.get(p));
            let fact = f(s, base);
            out.push(fact);
        }
        out
    }

    /// The text as written (unknown instructions included).
    #[must_use]
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Line `line` (1-based) of the text as written, without its line ending; empty past
    /// the end.
    #[must_use]
    pub fn source_line(&self, line: u32) -> &str {
        let idx = (line as usize).wrapping_sub(1);
        let Some(&start) = self.line_starts.get(idx) else {
            return "";
        };
        let end = self
            .line_starts
            .get(idx + 1)
            .map_or(self.source.len(), |e| e - 1);
        self.source
            .get(start..end.max(start))
            .unwrap_or_default()
            .trim_end_matches('\r')
    }

    /// The stage a `COPY --from=` value names, if it names one.
    ///
    /// A name no stage has costs a scan of the stages; [`Dockerfile::from_resolver`]
    /// looks many names up with one.
    #[must_use]
    pub fn stage_named(&self, name: &str) -> Option<&Stage> {
        self.stage_named_or(name, |lower| {
            self.stages
                .iter()
                .find(|s| s.name.as_deref() == Some(lower))
        })
    }

    /// [`Dockerfile::stage_named`], with `scan(lowercased name)` finding the first stage
    /// of that name when the parse's index has none.
    pub(crate) fn stage_named_or<'a>(
        &'a self,
        name: &str,
        scan: impl FnOnce(&str) -> Option<&'a Stage>,
    ) -> Option<&'a Stage> {
        let lower = name.to_ascii_lowercase();
        let named = |s: &&Stage| s.name.as_deref() == Some(lower.as_str());
        // The index is checked against the (public, mutable) stages; a stale hit or a
        // miss falls back to the scan.
        self.stage_names
            .get(&lower)
            .and_then(|&i| self.stages.get(i))
            .filter(named)
            .or_else(|| scan(&lower))
            .or_else(|| name.parse::<usize>().ok().and_then(|i| self.stages.get(i)))
    }
}

const MAX_UNKNOWN: usize = 1000;

pub(crate) fn parse(text: &str) -> Result<Dockerfile, ParseError> {
    let mut owned = text.to_owned();
    let mut unknown = Vec::new();
    loop {
        let failure = match pd::parse(&owned) {
            Ok(df) => {
                let mut file = convert(&owned, &df, unknown);
                // Comments and casing are read from the text as written.
                text.clone_into(&mut file.source);
                file.line_starts = line_starts(text);
                return Ok(file);
            }
            Err(e) => e,
        };
        {
            let e = failure;
            {
                let message = format!("{e:#}");
                let lines = Lines::new(&owned);
                let line = e.line();
                let is_unknown = message.starts_with("unknown instruction");
                if !is_unknown || line == 0 || unknown.len() >= MAX_UNKNOWN {
                    return Err(ParseError {
                        line: line as u32,
                        column: e.column() as u32,
                        message,
                    });
                }
                // Blank the unknown keyword's line (keeping offsets) and parse again.
                let content = lines.line(line);
                let indent = content.len() - content.trim_start().len();
                let start = lines.line_start(line).unwrap_or(0);
                let name = content
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                unknown.push(UnknownInstruction {
                    span: lines.span(start + indent..start + indent + name.len()),
                    name,
                });
                let end = start + content.len();
                let blank: String = owned[start..end]
                    .chars()
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                owned.replace_range(start..end, &blank);
            }
        }
    }
}

fn convert(text: &str, df: &pd::Dockerfile<'_>, unknown: Vec<UnknownInstruction>) -> Dockerfile {
    let lines = Lines::new(text);
    let escape = df
        .parser_directives
        .escape
        .as_ref()
        .map_or('\\', |d| d.value.value);
    let cx = Cx {
        lines: &lines,
        escape,
    };
    let mut global_args = Vec::new();
    let mut global_arg_spans = Vec::new();
    for a in df.global_args() {
        let pairs = arg_pairs(&a.arguments.value, escape);
        let span = lines.span(a.arg.span.start..a.arguments.span.end);
        global_arg_spans.extend(std::iter::repeat_n(span, pairs.len()));
        global_args.extend(pairs);
    }
    let vars: BTreeMap<String, String> = global_args
        .iter()
        .map(|(k, v)| (k.clone(), v.clone().unwrap_or_default()))
        .collect();
    let mut stages: Vec<Stage> = Vec::new();
    let mut stage_names: HashMap<String, usize> = HashMap::new();
    for (index, st) in df.stages().enumerate() {
        let base_text = st.from.image.value.to_string();
        let resolved = substitute(&base_text, &vars);
        let base = stage_base(&resolved, &stage_names);
        let platform = st
            .from
            .options
            .iter()
            .find(|f| f.name.value == "platform")
            .and_then(|f| f.value.as_ref())
            .map(|v| substitute(&v.value, &vars));
        let end = st
            .from
            .as_
            .as_ref()
            .map_or(st.from.image.span.end, |(_, n)| n.span.end);
        let name_as_written = st.from.as_.as_ref().map(|(_, n)| n.value.to_string());
        let name = name_as_written.as_ref().map(|n| n.to_ascii_lowercase());
        if let Some(n) = &name {
            stage_names.entry(n.clone()).or_insert(index);
        }
        stages.push(Stage {
            index,
            name,
            name_as_written,
            base_text,
            base,
            platform,
            span: lines.span(st.from.from.span.start..end),
            instructions: st
                .instructions
                .iter()
                .filter_map(|i| cx.instruction(i))
                .collect(),
        });
    }
    let directive =
        |d: &Option<pd::ParserDirective<&str>>| d.as_ref().map(|d| d.value.value.to_owned());
    Dockerfile {
        syntax: directive(&df.parser_directives.syntax),
        escape,
        check: directive(&df.parser_directives.check),
        global_args,
        global_arg_spans,
        stages,
        unknown,
        stage_names,
        source: text.to_owned(),
        line_starts: line_starts(text),
    }
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

/// What a `FROM` value (after `ARG` substitution) builds on: `scratch`, an earlier stage
/// by its lower-cased name, or an image.
fn stage_base(resolved: &str, stage_names: &HashMap<String, usize>) -> BaseImage {
    if resolved.eq_ignore_ascii_case("scratch") {
        BaseImage::Scratch
    } else if let Some(&prev) = stage_names.get(&resolved.to_ascii_lowercase()) {
        BaseImage::Stage { index: prev }
    } else {
        BaseImage::Image(ImageName::parse(resolved))
    }
}

/// A COPY/ADD word without the quotes BuildKit's word processing removes
/// (`ADD "https://github.com/org/repo.git#v1" /src`).
fn unquote(word: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = word.strip_prefix(q).and_then(|w| w.strip_suffix(q)) {
            return inner;
        }
    }
    word
}

fn arg_pairs(raw: &str, escape: char) -> Vec<(String, Option<String>)> {
    words(raw, escape)
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
            None => (w, None),
        })
        .collect()
}

/// An instruction's start and end byte offsets and what it says.
type Parts = (usize, usize, Kind);

struct Cx<'a> {
    lines: &'a Lines<'a>,
    escape: char,
}

impl Cx<'_> {
    fn flags(&self, flags: &[pd::Flag<'_>]) -> Vec<(String, Option<String>)> {
        flags
            .iter()
            .map(|f| {
                (
                    f.name.value.to_string(),
                    f.value.as_ref().map(|v| v.value.to_string()),
                )
            })
            .collect()
    }

    fn command(&self, c: &pd::Command<'_>, heredocs: &[pd::HereDoc<'_>]) -> (Command, usize) {
        match c {
            pd::Command::Exec(v) => (
                Command::Exec(v.value.iter().map(|s| s.value.to_string()).collect()),
                v.span.end,
            ),
            pd::Command::Shell(s) => {
                let mut text = clean_shell(s.value, self.escape);
                let mut end = s.span.end;
                for h in heredocs {
                    text.push('\n');
                    text.push_str(&h.value);
                    end = end.max(h.span.end);
                }
                (Command::Shell(text), end)
            }
            _ => (Command::Shell(String::new()), 0),
        }
    }

    /// The script a RUN hands to its shell, with Dockerfile lines.
    fn run_script(&self, r: &pd::RunInstruction<'_>) -> Option<Script> {
        match &r.arguments {
            pd::Command::Exec(v) => {
                let argv: Vec<String> = v.value.iter().map(|s| s.value.to_string()).collect();
                Script::exec_form(&argv, self.lines.pos(v.span.start).line)
            }
            pd::Command::Shell(s) => {
                let line = self.lines.pos(s.span.start).line;
                Some(match r.here_docs.first() {
                    Some(h) => Script::heredoc(
                        s.value,
                        line,
                        &h.value,
                        self.lines.pos(h.span.start).line,
                        self.escape,
                    ),
                    None => Script::shell_form(s.value, line, self.escape),
                })
            }
            _ => None,
        }
    }

    fn sources(&self, src: &[pd::Source<'_>]) -> (Vec<CopySource>, usize) {
        let mut end = 0;
        let v = src
            .iter()
            .map(|s| match s {
                pd::Source::Path(p) => {
                    end = end.max(p.span.end);
                    CopySource::Path(unquote(&p.value).to_owned())
                }
                pd::Source::HereDoc(h) => {
                    end = end.max(h.span.end);
                    CopySource::HereDoc(h.value.to_string())
                }
                _ => CopySource::Path(String::new()),
            })
            .collect();
        (v, end)
    }

    /// ADD and COPY.
    fn file_instruction(&self, i: &pd::Instruction<'_>) -> Option<Parts> {
        let parts = match i {
            pd::Instruction::Add(a) => {
                let (sources, _) = self.sources(&a.src);
                (
                    a.add.span.start,
                    a.dest.span.end,
                    Kind::Add {
                        flags: self.flags(&a.options),
                        sources,
                        dest: unquote(&a.dest.value).to_owned(),
                    },
                )
            }
            pd::Instruction::Copy(c) => {
                let (sources, send) = self.sources(&c.src);
                let flags = self.flags(&c.options);
                (
                    c.copy.span.start,
                    c.dest.span.end.max(send),
                    Kind::Copy {
                        from: flags
                            .iter()
                            .find(|(k, _)| k == "from")
                            .and_then(|(_, v)| v.clone()),
                        flags,
                        sources,
                        dest: unquote(&c.dest.value).to_owned(),
                    },
                )
            }
            _ => return None,
        };
        Some(parts)
    }

    /// RUN, CMD, ENTRYPOINT and HEALTHCHECK: a command and its flags.
    fn command_instruction(&self, i: &pd::Instruction<'_>) -> Option<Parts> {
        let parts = match i {
            pd::Instruction::Run(r) => {
                let (command, end) = self.command(&r.arguments, &r.here_docs);
                (
                    r.run.span.start,
                    end,
                    Kind::Run {
                        flags: self.flags(&r.options),
                        command,
                        script: self.run_script(r),
                    },
                )
            }
            pd::Instruction::Cmd(c) => {
                let (command, end) = self.command(&c.arguments, &[]);
                (c.cmd.span.start, end, Kind::Cmd { command })
            }
            pd::Instruction::Entrypoint(e) => {
                let (command, end) = self.command(&e.arguments, &[]);
                (e.entrypoint.span.start, end, Kind::Entrypoint { command })
            }
            pd::Instruction::Healthcheck(h) => {
                let (command, end) = match &h.arguments {
                    pd::HealthcheckArguments::Cmd { arguments, .. } => {
                        let (c, end) = self.command(arguments, &[]);
                        (Some(c), end)
                    }
                    pd::HealthcheckArguments::None { none, .. } => (None, none.span.end),
                    _ => (None, h.healthcheck.span.end),
                };
                (
                    h.healthcheck.span.start,
                    end,
                    Kind::Healthcheck {
                        flags: self.flags(&h.options),
                        command,
                    },
                )
            }
            _ => return None,
        };
        Some(parts)
    }

    /// ARG, ENV, LABEL, USER, WORKDIR, STOPSIGNAL and MAINTAINER: one setting or a list of pairs.
    fn setting_instruction(&self, i: &pd::Instruction<'_>) -> Option<Parts> {
        let parts = match i {
            pd::Instruction::Arg(a) => (
                a.arg.span.start,
                a.arguments.span.end,
                Kind::Arg {
                    args: arg_pairs(&a.arguments.value, self.escape),
                },
            ),
            pd::Instruction::Env(e) => (
                e.env.span.start,
                e.arguments.span.end,
                Kind::Env {
                    pairs: pairs(&e.arguments.value, self.escape),
                },
            ),
            pd::Instruction::Label(l) => (
                l.label.span.start,
                l.arguments.span.end,
                Kind::Label {
                    pairs: pairs(&l.arguments.value, self.escape),
                },
            ),
            pd::Instruction::User(u) => {
                let raw = u.arguments.value.trim();
                let (user, group) = match raw.split_once(':') {
                    Some((u, g)) => (u.to_owned(), Some(g.to_owned())),
                    None => (raw.to_owned(), None),
                };
                (
                    u.user.span.start,
                    u.arguments.span.end,
                    Kind::User { user, group },
                )
            }
            pd::Instruction::Workdir(w) => (
                w.workdir.span.start,
                w.arguments.span.end,
                Kind::Workdir {
                    path: w.arguments.value.to_string(),
                },
            ),
            pd::Instruction::Stopsignal(s) => (
                s.stopsignal.span.start,
                s.arguments.span.end,
                Kind::Stopsignal {
                    signal: s.arguments.value.to_string(),
                },
            ),
            pd::Instruction::Maintainer(m) => (
                m.maintainer.span.start,
                m.name.span.end,
                Kind::Maintainer {
                    name: m.name.value.to_string(),
                },
            ),
            _ => return None,
        };
        Some(parts)
    }

    /// EXPOSE, SHELL and VOLUME: a list of words.
    fn list_instruction(&self, i: &pd::Instruction<'_>) -> Option<Parts> {
        let parts = match i {
            pd::Instruction::Expose(e) => (
                e.expose.span.start,
                e.arguments.last().map_or(e.expose.span.end, |a| a.span.end),
                Kind::Expose {
                    ports: e
                        .arguments
                        .iter()
                        .flat_map(|a| words(&a.value, self.escape))
                        .collect(),
                },
            ),
            pd::Instruction::Shell(s) => (
                s.shell.span.start,
                s.arguments.last().map_or(s.shell.span.end, |a| a.span.end),
                Kind::Shell {
                    shell: s.arguments.iter().map(|a| a.value.to_string()).collect(),
                },
            ),
            pd::Instruction::Volume(v) => {
                let (paths, end) = match &v.arguments {
                    pd::JsonOrStringArray::Json(j) => (
                        j.value.iter().map(|s| s.value.to_string()).collect(),
                        j.span.end,
                    ),
                    pd::JsonOrStringArray::String(s) => (
                        s.iter().map(|s| s.value.to_string()).collect(),
                        s.last().map_or(v.volume.span.end, |a| a.span.end),
                    ),
                };
                (v.volume.span.start, end, Kind::Volume { paths })
            }
            _ => return None,
        };
        Some(parts)
    }

    /// One instruction of a stage, with its span; `None` for FROM (never in a stage's
    /// list) and for any instruction the parser adds that this model does not know.
    fn instruction(&self, i: &pd::Instruction<'_>) -> Option<Instruction> {
        let (start, end, kind) = match i {
            pd::Instruction::Onbuild(o) => {
                let inner = self.instruction(&o.instruction)?;
                (
                    o.onbuild.span.start,
                    o.onbuild.span.end,
                    Kind::Onbuild {
                        instruction: Box::new(inner),
                    },
                )
            }
            _ => self
                .file_instruction(i)
                .or_else(|| self.command_instruction(i))
                .or_else(|| self.setting_instruction(i))
                .or_else(|| self.list_instruction(i))?,
        };
        let mut span = self.lines.span(start..end.max(start));
        if let Kind::Onbuild { instruction } = &kind {
            span.end = instruction.span.end;
        }
        Some(Instruction { span, kind })
    }
}
