//! brush-parser's AST flattened into [`SimpleCommand`]s: the only code that sees the
//! parser's types. Nested scripts (command and process substitutions, `sh -c 'SCRIPT'`,
//! a heredoc fed to a shell) are parsed and walked too, marked isolated.

use brush_parser::ast::{self, SourceLocation};
use brush_parser::word::{self, WordPiece, WordPieceWithSource};
use brush_parser::{ParserOptions, SourcePosition};

use super::{
    Dialect, Incomplete, MAX_COMMANDS, MAX_NESTING, MAX_SCRIPT_BYTES, Parsed, Scope, Script, Shell,
    SimpleCommand, Word,
};

/// Where the walk is: the text being walked starts at byte `base` of the script.
#[derive(Clone, Copy)]
struct Ctx<'t> {
    text: &'t Text<'t>,
    depth: usize,
    isolated: bool,
    /// The shell environment (index in [`Walker::scopes`]) the commands run in.
    scope: usize,
}

/// One text handed to the parser, and how its char indices become script offsets.
struct Text<'a> {
    base: usize,
    /// Byte offset of each char when the text is not ASCII (brush counts chars).
    chars: Option<Vec<usize>>,
    _text: &'a str,
}

impl<'a> Text<'a> {
    fn new(text: &'a str, base: usize) -> Self {
        let chars = (!text.is_ascii()).then(|| {
            let mut v: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
            v.push(text.len());
            v
        });
        Text {
            base,
            chars,
            _text: text,
        }
    }

    fn offset(&self, pos: &SourcePosition) -> usize {
        let byte = match &self.chars {
            Some(v) => v
                .get(pos.index)
                .copied()
                .unwrap_or_else(|| v.last().copied().unwrap_or(0)),
            None => pos.index,
        };
        self.base + byte
    }
}

struct Walker<'s> {
    script: &'s Script,
    opts: ParserOptions,
    out: Vec<SimpleCommand>,
    pipelines: usize,
    scopes: Vec<Scope>,
    incomplete: Option<Incomplete>,
}

pub(super) fn parse(script: &Script, posix: bool) -> Parsed {
    let opts = ParserOptions {
        sh_mode: posix,
        enable_extended_globbing: !posix,
        ..ParserOptions::default()
    };
    let mut w = Walker {
        script,
        opts,
        out: Vec::new(),
        pipelines: 0,
        scopes: vec![Scope::default()],
        incomplete: None,
    };
    if script.text.len() > MAX_SCRIPT_BYTES {
        w.incomplete = Some(Incomplete::TooLarge {
            bytes: script.text.len(),
        });
    } else {
        w.program(&script.text, 0, 0, 0);
    }
    Parsed {
        commands: w.out,
        scopes: w.scopes,
        incomplete: w.incomplete,
    }
}

/// An upper bound on how deep `text` nests: every opening bracket, backquote and
/// compound keyword counts, quoted or not, so the bound errs high.
fn nesting(text: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for token in text.split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|')) {
        match token {
            "if" | "case" | "for" | "while" | "until" | "select" => depth += 1,
            "fi" | "esac" | "done" => depth = depth.saturating_sub(1),
            _ => {}
        }
        max = max.max(depth);
        for c in token.chars() {
            match c {
                '(' | '{' | '`' | '<' => depth += 1,
                ')' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
            max = max.max(depth);
        }
    }
    max
}

impl Walker<'_> {
    fn stop(&mut self, why: Incomplete) {
        self.incomplete.get_or_insert(why);
    }

    /// A new shell environment inside `cx`'s: a copy of it (`inherits`: subshell,
    /// substitution, background job) or a new shell process started with or without
    /// `-o pipefail`. Returns its index.
    fn enter(&mut self, cx: Ctx<'_>, inherits: bool, pipefail: bool) -> usize {
        self.scopes.push(Scope {
            parent: Some(cx.scope),
            inherits,
            pipefail,
        });
        self.scopes.len() - 1
    }

    /// `cx` moved into a new copy of its shell environment, isolated.
    fn sub<'t>(&mut self, cx: Ctx<'t>) -> Ctx<'t> {
        let scope = self.enter(cx, true, false);
        Ctx {
            isolated: true,
            scope,
            ..cx
        }
    }

    /// Parse and walk one text found at byte `base` of the script, run in `scope` (0: the
    /// RUN's own shell; any other is isolated).
    fn program(&mut self, text: &str, base: usize, depth: usize, scope: usize) {
        if depth + nesting(text) > MAX_NESTING {
            return self.stop(Incomplete::TooDeep);
        }
        let mut parser = brush_parser::Parser::new(text.as_bytes(), &self.opts);
        let program = match parser.parse_program() {
            Ok(p) => p,
            Err(e) => {
                // A nested script that does not parse is the outer script's business.
                if depth == 0 {
                    self.stop(Incomplete::Syntax {
                        message: e.to_string(),
                    });
                }
                return;
            }
        };
        let t = Text::new(text, base);
        let cx = Ctx {
            text: &t,
            depth,
            isolated: scope != 0,
            scope,
        };
        for list in &program.complete_commands {
            self.list(list, cx);
        }
    }

    fn list(&mut self, list: &ast::CompoundList, cx: Ctx<'_>) {
        for ast::CompoundListItem(and_or, sep) in &list.0 {
            let cx = if matches!(sep, ast::SeparatorOperator::Async) {
                self.sub(cx)
            } else {
                cx
            };
            self.pipeline(&and_or.first, cx);
            for next in &and_or.additional {
                match next {
                    ast::AndOr::And(p) | ast::AndOr::Or(p) => self.pipeline(p, cx),
                }
            }
        }
    }

    fn pipeline(&mut self, p: &ast::Pipeline, cx: Ctx<'_>) {
        let id = self.pipelines;
        self.pipelines += 1;
        let len = p.seq.len();
        for (index, c) in p.seq.iter().enumerate() {
            let cx = Ctx {
                isolated: cx.isolated || len > 1,
                ..cx
            };
            self.command(c, (id, index, len), cx);
        }
    }

    fn command(&mut self, c: &ast::Command, pipe: (usize, usize, usize), cx: Ctx<'_>) {
        if cx.depth > MAX_NESTING {
            return self.stop(Incomplete::TooDeep);
        }
        let inner = Ctx {
            depth: cx.depth + 1,
            ..cx
        };
        match c {
            ast::Command::Simple(s) => self.simple(s, pipe, cx),
            ast::Command::Compound(c, redirects) => {
                self.compound(c, inner);
                if let Some(r) = redirects {
                    for r in &r.0 {
                        self.redirect(r, None, inner);
                    }
                }
            }
            ast::Command::Function(f) => {
                let body = self.sub(inner);
                self.compound(&f.body.0, body);
            }
            ast::Command::ExtendedTest(..) => {}
        }
    }

    fn compound(&mut self, c: &ast::CompoundCommand, cx: Ctx<'_>) {
        match c {
            ast::CompoundCommand::Arithmetic(_) => {}
            ast::CompoundCommand::ArithmeticForClause(f) => self.list(&f.body.list, cx),
            ast::CompoundCommand::BraceGroup(b) => self.list(&b.list, cx),
            ast::CompoundCommand::Subshell(s) => {
                let sub = self.sub(cx);
                self.list(&s.list, sub);
            }
            ast::CompoundCommand::ForClause(f) => {
                for w in f.values.iter().flatten() {
                    self.word(w, cx);
                }
                self.list(&f.body.list, cx);
            }
            ast::CompoundCommand::CaseClause(c) => {
                self.word(&c.value, cx);
                for item in &c.cases {
                    if let Some(l) = &item.cmd {
                        self.list(l, cx);
                    }
                }
            }
            ast::CompoundCommand::IfClause(i) => {
                self.list(&i.condition, cx);
                self.list(&i.then, cx);
                for e in i.elses.iter().flatten() {
                    if let Some(c) = &e.condition {
                        self.list(c, cx);
                    }
                    self.list(&e.body, cx);
                }
            }
            ast::CompoundCommand::WhileClause(w) | ast::CompoundCommand::UntilClause(w) => {
                self.list(&w.0, cx);
                self.list(&w.1.list, cx);
            }
            ast::CompoundCommand::Coprocess(c) => {
                let id = self.pipelines;
                self.pipelines += 1;
                let sub = self.sub(cx);
                self.command(&c.body, (id, 0, 1), sub);
            }
        }
    }

    fn simple(&mut self, s: &ast::SimpleCommand, pipe: (usize, usize, usize), cx: Ctx<'_>) {
        if self.out.len() >= MAX_COMMANDS {
            return self.stop(Incomplete::TooManyCommands);
        }
        let offset = s
            .location()
            .map_or(cx.text.base, |l| cx.text.offset(&l.start));
        let slot = self.out.len();
        self.out.push(SimpleCommand {
            words: Vec::new(),
            pipeline: pipe.0,
            pipe_index: pipe.1,
            pipe_len: pipe.2,
            isolated: cx.isolated,
            scope: cx.scope,
            offset,
            line: self.script.line_at(offset),
        });
        let inner = Ctx {
            depth: cx.depth + 1,
            isolated: true,
            ..cx
        };
        let items = s.prefix.iter().flat_map(|p| p.0.iter());
        let name = s.word_or_name.iter();
        let suffix = s.suffix.iter().flat_map(|p| p.0.iter());
        let mut words = Vec::new();
        let mut heredocs = Vec::new();
        for item in items {
            self.item(item, &mut words, &mut heredocs, inner);
        }
        for w in name {
            words.push(self.word(w, inner));
        }
        for item in suffix {
            self.item(item, &mut words, &mut heredocs, inner);
        }
        self.nested_scripts(&words, &heredocs, offset, inner);
        if let Some(c) = self.out.get_mut(slot) {
            c.words = words;
        }
    }

    fn item<'a>(
        &mut self,
        item: &'a ast::CommandPrefixOrSuffixItem,
        words: &mut Vec<Word>,
        heredocs: &mut Vec<&'a ast::Word>,
        cx: Ctx<'_>,
    ) {
        match item {
            ast::CommandPrefixOrSuffixItem::Word(w) => words.push(self.word(w, cx)),
            ast::CommandPrefixOrSuffixItem::AssignmentWord(_, w) => {
                self.word(w, cx);
            }
            ast::CommandPrefixOrSuffixItem::IoRedirect(r) => self.redirect(r, Some(heredocs), cx),
            ast::CommandPrefixOrSuffixItem::ProcessSubstitution(_, s) => {
                let sub = self.sub(cx);
                self.list(&s.list, sub);
            }
        }
    }

    fn redirect<'a>(
        &mut self,
        r: &'a ast::IoRedirect,
        heredocs: Option<&mut Vec<&'a ast::Word>>,
        cx: Ctx<'_>,
    ) {
        match r {
            ast::IoRedirect::File(_, _, target) => match target {
                ast::IoFileRedirectTarget::Filename(w)
                | ast::IoFileRedirectTarget::Duplicate(w) => {
                    self.word(w, cx);
                }
                ast::IoFileRedirectTarget::ProcessSubstitution(_, s) => {
                    let sub = self.sub(cx);
                    self.list(&s.list, sub);
                }
                ast::IoFileRedirectTarget::Fd(_) => {}
            },
            ast::IoRedirect::HereDocument(_, h) => {
                if let Some(v) = heredocs {
                    v.push(&h.doc);
                }
            }
            ast::IoRedirect::HereString(_, w) | ast::IoRedirect::OutputAndError(w, _) => {
                self.word(w, cx);
            }
        }
    }

    /// A shell given `-c SCRIPT` or a heredoc runs a script of its own: walk it too, in
    /// a new shell environment with the options of its command line (`bash -o pipefail
    /// -c`), none inherited.
    fn nested_scripts(
        &mut self,
        words: &[Word],
        heredocs: &[&ast::Word],
        offset: usize,
        cx: Ctx<'_>,
    ) {
        let Some(first) = words.first() else { return };
        if Dialect::of_program(first.text()).is_none() {
            return;
        }
        if let Some(i) = words.iter().position(|w| {
            w.text()
                .strip_prefix('-')
                .is_some_and(|f| !f.starts_with('-') && f.contains('c'))
        }) && let Some(script) = words.get(i + 1).and_then(|w| w.value.as_deref())
        {
            let scope = self.enter(cx, false, pipefail_flag(&words[..=i]));
            self.program(script, offset, cx.depth, scope);
        }
        for doc in heredocs {
            let base = doc
                .loc
                .as_ref()
                .map_or(offset, |l| cx.text.offset(&l.start));
            let scope = self.enter(cx, false, pipefail_flag(words));
            self.program(&doc.value, base, cx.depth, scope);
        }
    }

    /// A word's static value, walking the scripts of its substitutions.
    fn word(&mut self, w: &ast::Word, cx: Ctx<'_>) -> Word {
        let raw = &w.value;
        if !raw.contains(['\'', '"', '\\', '$', '`', '~']) {
            return Word {
                raw: raw.clone(),
                value: Some(raw.clone()),
            };
        }
        let base = w
            .loc
            .as_ref()
            .map_or(cx.text.base, |l| cx.text.offset(&l.start));
        let value = match word::parse(raw, &self.opts) {
            Ok(pieces) => self.pieces(&pieces, base, false, cx),
            Err(_) => None,
        };
        Word {
            raw: raw.clone(),
            value,
        }
    }

    /// Fold word pieces into their static text (`None` once anything expands).
    fn pieces(
        &mut self,
        pieces: &[WordPieceWithSource],
        base: usize,
        quoted: bool,
        cx: Ctx<'_>,
    ) -> Option<String> {
        let mut out = Some(String::new());
        for p in pieces {
            let at = base + p.start_index;
            let text: Option<String> = match &p.piece {
                WordPiece::Text(s) | WordPiece::SingleQuotedText(s) => Some(s.clone()),
                WordPiece::EscapeSequence(s) => {
                    let c = s.strip_prefix('\\').unwrap_or(s);
                    // Inside double quotes a backslash stays unless it escapes $ ` " \.
                    if quoted && !c.starts_with(['$', '`', '"', '\\']) {
                        Some(s.clone())
                    } else {
                        Some(c.to_owned())
                    }
                }
                WordPiece::DoubleQuotedSequence(inner)
                | WordPiece::GettextDoubleQuotedSequence(inner) => {
                    self.pieces(inner, base, true, cx)
                }
                WordPiece::CommandSubstitution(s) => {
                    let scope = self.enter(cx, true, false);
                    self.program(s, at + 2, cx.depth + 1, scope);
                    None
                }
                WordPiece::BackquotedCommandSubstitution(s) => {
                    let scope = self.enter(cx, true, false);
                    self.program(s, at + 1, cx.depth + 1, scope);
                    None
                }
                WordPiece::AnsiCQuotedText(_)
                | WordPiece::TildeExpansion(_)
                | WordPiece::ParameterExpansion(_)
                | WordPiece::ArithmeticExpression(_) => None,
            };
            out = match (out, text) {
                (Some(mut o), Some(t)) => {
                    o.push_str(&t);
                    Some(o)
                }
                _ => None,
            };
        }
        out
    }
}

/// Whether a shell's command line (`bash -eo pipefail -c`) turns pipefail on.
fn pipefail_flag(words: &[Word]) -> bool {
    Shell::new(words.iter().map(|w| w.text().to_owned()).collect()).pipefail
}
