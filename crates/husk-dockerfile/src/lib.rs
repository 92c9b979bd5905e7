//! husk-dockerfile: a Dockerfile as data, with line:column positions and no policy.
//!
//! Parsing is parse-dockerfile's (BuildKit's grammar: parser directives, heredocs, JSON
//! versus shell form with BuildKit's fallback, line continuations, byte spans). This crate
//! turns its borrowed tree into an owned model that rules can read without knowing the
//! grammar: stages with their base resolved (global `ARG`s substituted, `scratch`, an
//! earlier stage, or an image reference split into name/tag/digest), `ENV`/`LABEL`/`ARG`
//! split into pairs, shell-form text with continuations and comment lines removed, and
//! every position as a 1-based line and column (what SARIF regions want).
//!
//! An unknown instruction aborts a BuildKit parse; here it is recorded in
//! [`Dockerfile::unknown`] with its position and the parse goes on without that line, so a
//! linter can report it as a finding next to everything else. Every other syntax error is a
//! [`ParseError`] with its line.
//!
//! The stage graph ([`Dockerfile::reaching`]) says which stages a build target needs: the
//! target, the stage it is built on and every stage its `COPY --from=` and
//! `RUN --mount=from=` name, transitively. Rules about image bloat use it to tell the
//! stages that end up in the image from build-only stages BuildKit skips or discards.
//!
//! [`DockerIgnore`] is a `.dockerignore` with BuildKit's matching, so a linter can tell
//! which COPY sources the build context will not have.
//!
//! [`read_dockerfile`] reads one from the host: regular files only, opened without
//! blocking, at most [`MAX_DOCKERFILE_BYTES`]. Stage names are indexed once (lower-cased
//! once), so a file with thousands of stages resolves `FROM` and `COPY --from` in linear
//! time.

mod graph;
mod ignore;
mod model;
mod read;
pub mod shell;
mod text;

pub use graph::{FromResolver, StageRef, UnknownTarget};
pub use ignore::DockerIgnore;
pub use model::{
    BaseImage, Command, CopySource, Dockerfile, ImageName, Instruction, Kind, Stage,
    UnknownInstruction,
};
pub use read::{MAX_DOCKERFILE_BYTES, ReadError, read_dockerfile, read_dockerfile_from};
pub use text::{Pos, Span, clean_shell, substitute};

/// A Dockerfile that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// Parse a Dockerfile's text.
///
/// # Errors
/// [`ParseError`] for any syntax error other than an unknown instruction (those are
/// collected in [`Dockerfile::unknown`]).
pub fn parse(text: &str) -> Result<Dockerfile, ParseError> {
    model::parse(text)
}
