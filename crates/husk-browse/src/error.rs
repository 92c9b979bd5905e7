//! [`BrowseError`]: what can stop the browser, or one copy/export from it. Each variant
//! names the object it is about and, where there is one, how to get past it.

use std::path::PathBuf;

use husk_explore::ExploreError;
use husk_oci::OciError;

/// Errors of husk-browse.
#[derive(Debug, thiserror::Error)]
pub enum BrowseError {
    #[error(
        "cannot set up or draw on the terminal (run husk browse in a terminal, or use `husk ls -R` / `husk layers` for text)"
    )]
    Terminal(#[source] std::io::Error),
    #[error("cannot copy {path} out of the image")]
    Copy {
        path: String,
        #[source]
        source: ExploreError,
    },
    #[error("{} already exists; choose another destination", dest.display())]
    Exists { dest: PathBuf },
    #[error("the destination {dest:?} does not end in a file name")]
    BadDestination { dest: String },
    #[error("layer {layer}: cannot read its tar stream")]
    Layer {
        layer: usize,
        #[source]
        source: OciError,
    },
    #[error("cannot write {}", dest.display())]
    Write {
        dest: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// `err` and its causes on one line, for the status line.
pub fn one_line(err: &dyn std::error::Error) -> String {
    let mut s = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}
