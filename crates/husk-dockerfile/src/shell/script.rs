//! The text a RUN hands to its shell, built from the Dockerfile's raw text so that every
//! byte of it maps back to a Dockerfile line; and the shell that runs it.

use serde::Serialize;

/// A RUN's script as the shell receives it, with the Dockerfile line of every part.
///
/// Shell form: BuildKit removes each escape-newline pair (no space is put in its place)
/// and drops comment and blank lines inside the continuation; that is what [`Script::text`]
/// holds. A heredoc RUN (`RUN <<EOF`) runs the body; `RUN <<EOF CMD` runs `CMD` with the
/// body on its standard input, so the text is the command line, the body and the
/// delimiter. Exec form runs no shell unless its program is one (`["sh", "-c", "..."]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Script {
    pub text: String,
    /// The shell the script itself picks (exec form `["bash", "-c", ..]`, a heredoc's
    /// `#!` line); `None` when the stage's `SHELL` (default `/bin/sh -c`) runs it.
    pub shell: Option<Vec<String>>,
    /// `(offset in text, Dockerfile line)`, ascending: from each offset on, the text comes
    /// from that line.
    #[serde(skip)]
    origin: Vec<(usize, u32)>,
}

impl Script {
    /// A script whose every byte comes from one Dockerfile line.
    #[must_use]
    pub fn on_line(text: String, line: u32) -> Script {
        Script {
            text,
            shell: None,
            origin: vec![(0, line)],
        }
    }

    /// The Dockerfile line the script's byte `offset` comes from.
    #[must_use]
    pub fn line_at(&self, offset: usize) -> u32 {
        let i = self.origin.partition_point(|&(o, _)| o <= offset);
        self.origin
            .get(i.saturating_sub(1))
            .map_or(0, |&(_, line)| line)
    }

    /// The first Dockerfile line of the script.
    #[must_use]
    pub fn first_line(&self) -> u32 {
        self.origin.first().map_or(0, |&(_, l)| l)
    }

    /// Shell form: `raw` is the instruction's argument text as written (continuations
    /// included), starting on Dockerfile line `line`.
    #[must_use]
    pub fn shell_form(raw: &str, line: u32, escape: char) -> Script {
        let mut s = Script {
            text: String::with_capacity(raw.len()),
            shell: None,
            origin: Vec::new(),
        };
        s.push_continued(raw, line, escape);
        s
    }

    /// A RUN with a heredoc: `args` is its command line after the marker (empty for
    /// `RUN <<EOF`, `bash -e` for `RUN <<EOF bash -e`) on line `line`, `body` the
    /// heredoc body starting on `body_line`.
    #[must_use]
    pub fn heredoc(args: &str, line: u32, body: &str, body_line: u32, escape: char) -> Script {
        let mut s = Script {
            text: String::new(),
            shell: None,
            origin: Vec::new(),
        };
        if args.trim().is_empty() {
            // Only the marker: BuildKit runs the body itself (by its #! line if any).
            if let Some(first) = body.lines().next()
                && let Some(interp) = first.strip_prefix("#!")
            {
                s.shell = Some(interp.split_whitespace().map(str::to_owned).collect());
            }
            s.push_lines(body, body_line);
            return s;
        }
        // `CMD` with the body on its standard input: the parse already took the marker
        // away, so the script gets one back (quoted: the body is data to this shell).
        s.push_continued(args, line, escape);
        s.text.push_str(" <<'HUSK_EOF'\n");
        s.push_lines(body, body_line);
        if !s.text.ends_with('\n') {
            s.text.push('\n');
        }
        s.text.push_str("HUSK_EOF\n");
        s
    }

    /// Exec form: a script only when the program is a shell given `-c SCRIPT`.
    #[must_use]
    pub fn exec_form(argv: &[String], line: u32) -> Option<Script> {
        let program = argv.first()?;
        super::Dialect::of_program(program)?;
        let c = argv.iter().skip(1).position(|a| is_dash_c(a))? + 1;
        let text = argv.get(c + 1)?.clone();
        Some(Script {
            text,
            shell: Some(argv[..=c].to_vec()),
            origin: vec![(0, line)],
        })
    }

    fn mark(&mut self, line: u32) {
        match self.origin.last_mut() {
            Some(last) if last.0 == self.text.len() => last.1 = line,
            _ => self.origin.push((self.text.len(), line)),
        }
    }

    /// Lines joined as BuildKit joins a continued instruction.
    fn push_continued(&mut self, raw: &str, line: u32, escape: char) {
        for (i, l) in raw.split('\n').enumerate() {
            let l = l.strip_suffix('\r').unwrap_or(l);
            let trimmed = l.trim_start();
            if i > 0 && (trimmed.starts_with('#') || trimmed.trim_end().is_empty()) {
                continue;
            }
            self.mark(line.saturating_add(u32::try_from(i).unwrap_or(u32::MAX)));
            match l.trim_end().strip_suffix(escape) {
                Some(body) => self.text.push_str(body),
                None => self.text.push_str(l),
            }
        }
    }

    /// Lines kept as they are (a heredoc body).
    fn push_lines(&mut self, body: &str, line: u32) {
        for (i, l) in body.split_inclusive('\n').enumerate() {
            self.mark(line.saturating_add(u32::try_from(i).unwrap_or(u32::MAX)));
            self.text.push_str(l);
        }
    }
}

/// `-c`, or a cluster of short options that holds it (`-ec`, `-xc`).
fn is_dash_c(arg: &str) -> bool {
    arg.strip_prefix('-')
        .is_some_and(|f| !f.starts_with('-') && f.contains('c'))
}
