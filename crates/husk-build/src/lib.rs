//! husk-build: an executable plus options -> a finished, reproducible, non-root
//! FROM-scratch OCI image.
//!
//! [`BuildOptions`] is what a user says (flags or `husk.toml`), each option declared once
//! in `options.rs`; [`BuildOptions::into_request`] validates it into [`CheckedOptions`], and
//! [`CheckedOptions::with_entrypoint`] (once [`cargo::build_binary`] has built the program,
//! when Cargo builds it) into a [`BuildRequest`]; [`plan`] turns that into three file plans
//! (system files, shared libraries, application) using husk-elf for the loader-accurate
//! library closure; [`build`] writes them as deterministic layers (husk-layer) and
//! assembles an [`husk_oci::OwnedImage`]. Sinks (husk-formats) write it anywhere.
//!
//! Everything environmental (SOURCE_DATE_EPOCH, the cache directory, CARGO, RUSTC,
//! RUSTFLAGS, CARGO_HOME and the CARGO_TARGET_*_LINKER names) is
//! passed in by the caller through [`Environment`]; this crate reads only the files the
//! request names and the host's loader configuration through [`husk_elf::HostFs`].

mod build;
pub mod cargo;
pub mod check;
pub mod cross;
mod error;
pub mod options;
pub mod packages;
pub mod platforms;
mod sysfiles;
mod time;
pub mod trace;
pub mod values;

pub use build::{BuildOutput, CA_BUNDLE_PATH, LayerSummary, Plans, Summary, build, plan};
pub use cargo::CargoOptions;
pub use error::BuildError;
pub use options::{
    BuildOptions, BuildRequest, CheckedOptions, ConfigOptions, ContentOptions, Contents, Encoding,
    Environment, OptionGroups, Origins, OutputOptions, Program, ProgramOptions, Programs,
    RunConfig, TraceOptions,
};
pub use platforms::{IndexOutput, PlatformSpec, Platforms, Target, build_index};
pub use time::rfc3339;
pub use trace::{TraceSpec, TraceSummary, Traced};
pub use values::{CaCerts, SbomFormats, Setting};
