//! The one error type of husk-build. Each variant names the option, file or path it is
//! about and says how to fix it; an invalid option names where its value came from (the
//! flag, or the key in a named `husk.toml`) through [`Setting`].

use std::path::PathBuf;

use husk_layer::ImagePath;

use crate::values::Setting;

/// Errors of `husk build`. Each names the option, file or path it is about and says how
/// to fix it.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("invalid {option} {value:?}: expected UID[:GID] with numeric ids (e.g. 65532:65532)")]
    BadUser { option: Setting, value: String },
    #[error(
        "invalid {option} {value:?}: expected a user name of 1-32 letters, digits, '_', '-' or '.', not starting with '-'"
    )]
    BadUserName { option: Setting, value: String },
    #[error(
        "refusing to build an image that runs as root (user {value}); pass --allow-root if you really mean it"
    )]
    RootUser { value: String },
    #[error("invalid {option} {value:?}: expected PORT[/tcp|/udp] with PORT in 1-65535")]
    BadPort { option: Setting, value: String },
    #[error("invalid {option} {value:?}: expected KEY=VALUE with a non-empty KEY")]
    BadKeyValue { option: Setting, value: String },
    #[error(
        "invalid {option} {value:?}: expected SRC:DEST[:MODE[:UID:GID]] with an absolute DEST, octal MODE and numeric owner"
    )]
    BadFileSpec { option: Setting, value: String },
    #[error("invalid mode {value:?} in {option}: expected octal permission bits such as 0755")]
    BadMode { option: Setting, value: String },
    #[error("invalid {option} {value:?}: expected a signal name like SIGTERM or a number 1-64")]
    BadSignal { option: Setting, value: String },
    #[error(
        "invalid {option} {value:?}: expected gzip or zstd (optionally gzip:LEVEL / zstd:LEVEL)"
    )]
    BadCompression { option: Setting, value: String },
    #[error(
        "invalid {option}: the healthcheck command is empty; give the program and its arguments, one per --healthcheck"
    )]
    EmptyHealthcheck { option: Setting },
    #[error("invalid {option} {value:?}")]
    BadPath {
        option: Setting,
        value: String,
        #[source]
        source: husk_layer::PathError,
    },
    #[error("cannot place {src} inside {dest}: its name is not a valid image path component")]
    FileDest {
        src: PathBuf,
        dest: ImagePath,
        #[source]
        source: husk_layer::PathError,
    },
    #[error("shared library {path} has no valid image path; move it or pass --no-libraries")]
    LibraryPath {
        path: PathBuf,
        #[source]
        source: husk_layer::PathError,
    },
    #[error(
        "no entrypoint given: pass the executable to package, e.g. `husk build ./app --output oci:out`"
    )]
    NoEntrypoint,
    #[error("entrypoint {path} does not exist or cannot be read")]
    EntrypointUnreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "entrypoint {path} is a script for {interpreter}, which is not in the image; add it with --file HOSTPATH:{interpreter} (it must be an ELF executable)"
    )]
    ScriptWithoutInterpreter { path: PathBuf, interpreter: String },
    #[error(
        "entrypoint {path} is not an executable file (neither ELF nor a #! script); husk packages compiled programs, or scripts whose interpreter you add"
    )]
    NotExecutable { path: PathBuf },
    #[error(
        "{path} is an ELF file for {found}, but the entrypoint is for {expected}; an image has one platform"
    )]
    MixedArch {
        path: PathBuf,
        found: String,
        expected: String,
    },
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "CA bundle {path} has no PEM certificate in it; pass a PEM bundle with --ca-certs or use --no-ca-certs"
    )]
    BadCaBundle { path: PathBuf },
    #[error(
        "no CA bundle at {path} on this host; install ca-certificates, pass --ca-certs PATH, or --no-ca-certs if the program makes no TLS connections"
    )]
    NoHostCaBundle { path: PathBuf },
    #[error("no time zone data at {path}; install tzdata or drop --tzdata")]
    NoTzdata { path: PathBuf },
    #[error(transparent)]
    Elf(#[from] husk_elf::ElfError),
    #[error(transparent)]
    Plan(#[from] husk_layer::PlanError),
    #[error(transparent)]
    Layer(#[from] husk_layer::LayerError),
    #[error("invalid {option} {value:?}: expected spdx, cyclonedx or all")]
    BadSbomFormat { option: Setting, value: String },
    #[error(
        "cannot read the host's package database for the image's package records; pass --no-package-db to build without them"
    )]
    PackageDb(#[source] husk_sbom::SbomError),
    #[error(
        "cannot write the image's package records (status.d); pass --no-package-db to build without them"
    )]
    PackageRecords(#[source] husk_sbom::SbomError),
    #[error(
        "{path} is written by husk build itself ({generated}); a later layer would replace it with {new}: {fix}"
    )]
    ReplacesGenerated {
        path: husk_layer::ImagePath,
        generated: String,
        new: String,
        fix: &'static str,
    },
    #[error("cannot describe the image's files in its SBOM")]
    Sbom(#[source] husk_sbom::SbomError),
    #[error("invalid SOURCE_DATE_EPOCH {value:?}: expected a non-negative integer of seconds")]
    BadEpoch { value: String },
    #[error("{message}")]
    Cargo { message: String },
    #[error(
        "both an entrypoint path and a Cargo build were given; use one (drop the ENTRYPOINT argument / entrypoint key, or the Cargo options)"
    )]
    EntrypointAndCargo,
    #[error("cannot read the built image's manifest to compute its digest")]
    Assemble(#[source] husk_oci::OciError),
    #[error("{path}: {message}")]
    ConfigFile { path: PathBuf, message: String },
    #[error(
        "invalid {option} {value:?}: expected a whole number with ms, s or m (500ms, 10s, 2m), at most a day"
    )]
    BadDuration { option: Setting, value: String },
    #[error(
        "invalid {option} {value:?}: it does not split into arguments (an unclosed quote, a trailing backslash or a NUL byte)"
    )]
    BadTraceRun { option: Setting, value: String },
    #[error("invalid {option} {value:?}: expected an absolute host path")]
    NotAbsolute { option: Setting, value: PathBuf },
    #[error(transparent)]
    Trace(#[from] husk_trace::TraceError),
    #[error(
        "the traced run `{command}` failed ({exit}); fix the program or its arguments, or pass --trace-allow-failure to keep what it opened anyway\n--- its stderr ---\n{stderr}"
    )]
    TraceFailed {
        command: String,
        exit: String,
        stderr: String,
    },
    #[error(
        "--trace-workdir {path} cannot be used for the traced runs: it is not a directory on this host; create it or pass another"
    )]
    TraceWorkdir { path: PathBuf },
    #[error("traced path {path} has no valid image path; exclude it with --trace-exclude")]
    TracedPath {
        path: PathBuf,
        #[source]
        source: husk_layer::PathError,
    },
    #[error("--check: {0}")]
    Check(String),
    #[error("invalid {option} {value:?}: {reason}")]
    BadPlatform {
        option: Setting,
        value: String,
        reason: String,
    },
    #[error(
        "{option}: two {what} for {platform}: {} and {}; give one per platform",
        files.0.display(),
        files.1.display()
    )]
    DuplicatePlatform {
        option: Setting,
        platform: String,
        what: &'static str,
        files: Box<(PathBuf, PathBuf)>,
    },
    #[error(
        "{path} was given for {said}, but its ELF header says {found}; pass it as --platform-exe {found}={} (or give the {said} build)",
        path.display()
    )]
    PlatformMismatch {
        path: PathBuf,
        said: String,
        found: String,
    },
    #[error(
        "{path} is for an ELF machine that has no OCI platform; a multi-platform build takes programs for {}",
        "amd64, arm64, 386, arm, ppc64le, s390x or riscv64"
    )]
    UnsupportedMachine { path: PathBuf },
    #[error("the {platform} libraries of {} are not in {}; {}", path.display(), hint.0, hint.1)]
    ForeignLibraries {
        platform: String,
        path: PathBuf,
        /// Where they were looked for, and how to provide them.
        hint: Box<(String, String)>,
        #[source]
        source: Box<husk_elf::ElfError>,
    },
    #[error(
        "{option} is for one image, but this build makes {count} (one per platform); drop it, or build that platform on its own"
    )]
    OnePlatformOnly { option: &'static str, count: usize },
    #[error(
        "building for {target} needs a linker for it, and Debian's cross gcc {gcc} is not installed: apt-get install {package} (or set {var} to a linker for {target})"
    )]
    CrossLinkerMissing {
        target: String,
        gcc: &'static str,
        package: &'static str,
        var: String,
    },
    #[error(
        "the Rust standard library for {target} is not installed ({} has none): rustup target add {target}",
        libdir.display()
    )]
    TargetStdMissing { target: String, libdir: PathBuf },
    #[error(
        "{option}: {} and {} both build linux/{arch} images; give one target per platform",
        targets.0,
        targets.1
    )]
    TargetsForOnePlatform {
        option: Setting,
        arch: &'static str,
        targets: Box<(String, String)>,
    },
    #[error("a build thread panicked; this is a bug in husk, please report it")]
    Panicked,
}
