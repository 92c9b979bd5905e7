//! The one output policy: data to stdout, chatter to stderr, nothing but data with
//! `--quiet` or `--format json`. A closed stdout (`husk ... | head`) ends quietly.

use std::io::{self, Write};

pub struct Printer {
    pub quiet: bool,
}

impl Printer {
    /// A line of data (stdout).
    pub fn data(&self, line: impl AsRef<str>) -> io::Result<()> {
        let mut out = io::stdout().lock();
        writeln!(out, "{}", line.as_ref())
    }

    /// A buffered writer for bulk data (stdout); errors, a closed pipe included, are
    /// returned by its writes and `flush`, so callers pass them up.
    pub fn data_writer(&self) -> io::BufWriter<io::StdoutLock<'static>> {
        io::BufWriter::with_capacity(64 * 1024, io::stdout().lock())
    }

    /// A line of human chatter (stderr), dropped with --quiet.
    pub fn info(&self, line: impl AsRef<str>) {
        if !self.quiet {
            let _ = writeln!(io::stderr().lock(), "{}", line.as_ref());
        }
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
