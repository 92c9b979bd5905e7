//! The one output policy: data to stdout, chatter to stderr, nothing but data with
//! `--quiet` or `--format json`. A closed stdout (`husk ... | head`) ends quietly.
//!
//! Nothing from an image reaches the terminal raw: every line of text (data, chatter,
//! errors) passes through [`husk_oci::escape_text`], so a control or bidi character that a
//! renderer forgot to escape field by field is still shown as an escape. Documents that
//! serde already escaped (JSON, SARIF, SBOMs) go out as they are ([`Printer::json`]), and
//! so do file contents (`husk cat`, [`Printer::data_writer`] with `escape: false`).

use std::io::{self, BufWriter, StdoutLock, Write};

use husk_oci::escape_text;

pub struct Printer {
    pub quiet: bool,
}

impl Printer {
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

/// Human byte sizes: 512 B, 1.5 KiB, 3.2 MiB.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    format!("{v:.1} {}", UNITS[i])
}
