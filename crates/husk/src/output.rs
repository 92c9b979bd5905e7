//! The one output policy: data to stdout, chatter to stderr, nothing but data with
//! `--quiet` or `--format json`. A closed stdout (`husk ... | head`) ends quietly.
//!
//! Nothing from an image reaches the terminal raw: every line of text (data, chatter,
//! errors) passes through [`husk_oci::escape_text`], so a control or bidi character that a
//! renderer forgot to escape field by field is still shown as an escape. Documents that
//! serde already escaped (JSON, SARIF, SBOMs) go out as they are ([`Printer::json`]), and
//! so do file contents (`husk cat`, [`Printer::data_writer`] with `escape: false`).

use std::io::{self, BufWriter, IsTerminal, StdoutLock, Write};

use husk_oci::escape_text;

use crate::cli::ColorChoice;

/// ANSI colours of the report headings: the audit's severities (bold red, red, yellow,
/// cyan, dim) and the doctor's sections (bold red, yellow, green).
const HEADING_COLOURS: [(&str, &str); 8] = [
    ("CRITICAL", "1;31"),
    ("HIGH", "31"),
    ("MEDIUM", "33"),
    ("LOW", "36"),
    ("INFO", "2"),
    ("will not start:", "1;31"),
    ("may fail:", "33"),
    ("fine:", "32"),
];

/// `line` with its leading heading coloured, if it starts with one (the heading alone, or
/// followed by a space).
fn paint(line: &str) -> Option<String> {
    HEADING_COLOURS.iter().find_map(|(word, code)| {
        let rest = line.strip_prefix(word)?;
        (rest.is_empty() || rest.starts_with(' '))
            .then(|| format!("\x1b[{code}m{word}\x1b[0m{rest}"))
    })
}

pub struct Printer {
    pub quiet: bool,
    /// Colour the severities of text reports (`--color`, NO_COLOR, a terminal).
    pub color: bool,
}

impl Printer {
    /// The printer for `--quiet` and `--color`: `auto` colours only a terminal, and
    /// never when NO_COLOR is set to anything (no-color.org) or TERM is `dumb`.
    pub fn new(quiet: bool, color: ColorChoice) -> Printer {
        let color = match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
                    && io::stdout().is_terminal()
            }
        };
        Printer { quiet, color }
    }

    /// A text report (stdout), escaped; with colour, each line that starts with a
    /// severity (a group heading) has that word coloured, after escaping, so only husk's
    /// own escape sequences reach the terminal.
    pub fn report(&self, text: impl AsRef<str>) -> io::Result<()> {
        let mut out = io::stdout().lock();
        for line in text.as_ref().lines() {
            let line = escape_text(line);
            match self.color.then(|| paint(&line)).flatten() {
                Some(painted) => writeln!(out, "{painted}")?,
                None => writeln!(out, "{line}")?,
            }
        }
        Ok(())
    }

    /// A line of text data (stdout), escaped.
    pub fn data(&self, line: impl AsRef<str>) -> io::Result<()> {
        let mut out = io::stdout().lock();
        writeln!(out, "{}", escape_text(line.as_ref()))
    }

    /// A machine-readable document (stdout) as serialized: JSON and SARIF escape control
    /// characters themselves, and an escape here would change their meaning.
    pub fn json(&self, doc: impl AsRef<str>) -> io::Result<()> {
        let mut out = io::stdout().lock();
        writeln!(out, "{}", doc.as_ref())
    }

    /// A buffered writer for bulk data (stdout): text escaped line by line when `escape`
    /// (renderers), bytes as given otherwise (documents, file contents). Errors, a closed
    /// pipe included, are returned by its writes and `flush`, so callers pass them up.
    pub fn data_writer(&self, escape: bool) -> DataWriter {
        DataWriter {
            out: BufWriter::with_capacity(64 * 1024, io::stdout().lock()),
            line: escape.then(Vec::new),
        }
    }

    /// A line of human chatter (stderr), escaped, dropped with --quiet.
    pub fn info(&self, line: impl AsRef<str>) {
        if !self.quiet {
            let _ = writeln!(io::stderr().lock(), "{}", escape_text(line.as_ref()));
        }
    }
}

/// Standard output, buffered; with escaping on, each complete line goes out through
/// [`escape_text`] (a line is held until its newline, so a character split across writes
/// is escaped whole).
pub struct DataWriter {
    out: BufWriter<StdoutLock<'static>>,
    line: Option<Vec<u8>>,
}

impl DataWriter {
    fn hold(&mut self, bytes: &[u8]) {
        if let Some(line) = self.line.as_mut() {
            line.extend_from_slice(bytes);
        }
    }

    fn flush_line(&mut self) -> io::Result<()> {
        if let Some(line) = self.line.as_mut().filter(|l| !l.is_empty()) {
            let text = String::from_utf8_lossy(line);
            self.out.write_all(escape_text(&text).as_bytes())?;
            line.clear();
        }
        Ok(())
    }
}

impl Write for DataWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.line.is_none() {
            return self.out.write(buf);
        }
        let mut rest = buf;
        while let Some(i) = rest.iter().position(|&b| b == b'\n') {
            self.hold(&rest[..=i]);
            self.flush_line()?;
            rest = &rest[i + 1..];
        }
        self.hold(rest);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_line()?;
        self.out.flush()
    }
}

impl Drop for DataWriter {
    fn drop(&mut self) {
        let _ = self.flush_line();
    }
}

pub use husk_explore::human_bytes as bytes;
