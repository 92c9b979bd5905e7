//! Build options as the user gives them (flags or `husk.toml`), declared once, and their
//! validation into a [`BuildRequest`].
//!
//! `build_options!` below lists every option once: its type, its `husk.toml` key and its
//! flag. From that one list come [`BuildOptions`] (which is also the `husk.toml` schema),
//! [`Origins`] (where each value came from, so an error names the flag or the key in the
//! file), [`BuildOptions::merged`] (flags over the file, field by field) and
//! [`BuildOptions::KEYS`]. The list is in groups (program, run-time config, contents, trace,
//! output): each group becomes a struct ([`OptionGroups`]), checked by one function whose
//! pattern names every option of the group, as the CLI does with its flags. Adding an option
//! is one line in its group plus its validation in that group's function; an option nobody
//! handles does not compile:
//!
//! ```compile_fail,E0027
//! // A pattern that does not name every option is an error, like this one.
//! let husk_build::BuildOptions { entrypoint, origins } = husk_build::BuildOptions::default();
//! ```

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use husk_layer::ImagePath;
use serde::Deserialize;

use crate::platforms::{PlatformSpec, Target, check_platforms};
use crate::trace::TraceSpec;
use crate::values::{
    CaCerts, FileSpec, Port, SbomFormats, Setting, User, parse_compression, parse_epoch,
    parse_file_spec, parse_key_value, parse_path, parse_port, parse_sbom_formats, parse_signal,
    parse_user, parse_user_name,
};
use crate::values::{parse_duration, parse_host_dir, parse_trace_run};
use crate::{BuildError, CargoOptions};

/// Declares the options in groups: `group Struct { field: Type, key "toml-key", flag
/// "--flag" [, merge path]; ... }`. `merge` names how a value from the flags combines with
/// one from the file (default: it replaces it). The groups are how the options are checked
/// ([`BuildOptions::into_groups`]); `husk.toml` and [`BuildOptions`] are flat.
macro_rules! build_options {
    (@merge $base:expr, $over:expr) => { $over };
    (@merge $base:expr, $over:expr, $merge:path) => {
        match $base {
            Some(base) => $merge(base, $over),
            None => $over,
        }
    };
    ($(
        $(#[$gdoc:meta])*
        $group:ident $Group:ident {
            $(
                $(#[$doc:meta])*
                $field:ident: $ty:ty, key $key:literal, flag $flag:literal $(, merge $merge:path)?;
            )*
        }
    )*) => {
        /// Raw options from one source, or several merged. Every field is optional so a
        /// file and flags can be merged; `husk.toml` uses the keys, and an unknown key is
        /// an error naming it.
        #[derive(Debug, Clone, Default, PartialEq, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct BuildOptions {
            $($(
                $(#[$doc])*
                #[serde(rename = $key)]
                pub $field: Option<$ty>,
            )*)*
            /// Where each value came from (the flags, unless read from a file); not a key.
            #[serde(skip)]
            pub origins: Origins,
        }

        $(
            $(#[$gdoc])*
            #[derive(Debug, Clone, Default, PartialEq)]
            pub struct $Group {
                $(
                    $(#[$doc])*
                    pub $field: Option<$ty>,
                )*
            }
        )*

        /// Every option, in its group.
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct OptionGroups {
            $( pub $group: $Group, )*
        }

        /// Where each option's value came from: one [`Setting`] per option.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Origins {
            $($( pub $field: Setting, )*)*
        }

        impl Default for Origins {
            /// Every option given as its flag.
            fn default() -> Origins {
                Origins {
                    $($( $field: Setting::flag($flag, $key), )*)*
                }
            }
        }

        impl Origins {
            /// Every option given as its key in the file at `path` (a Cargo.toml's
            /// `[package.metadata.husk]` table when `cargo`, else a `husk.toml`).
            #[must_use]
            pub fn in_file(path: &Path, cargo: bool) -> Origins {
                let mut origins = Origins::default();
                $($(
                    origins.$field.file = Some(path.to_path_buf());
                    origins.$field.in_cargo_manifest = cargo;
                )*)*
                origins
            }
        }

        impl BuildOptions {
            /// The `husk.toml` keys, in declaration order.
            pub const KEYS: &[&str] = &[$($($key),*),*];

            /// `self` with every option set in `over` replacing its own (the `[cargo]`
            /// table merged key by key); each keeps where its value came from.
            #[must_use]
            pub fn merged(mut self, over: BuildOptions) -> BuildOptions {
                let BuildOptions { $($($field,)*)* origins } = over;
                $($(
                    if let Some(value) = $field {
                        self.$field = Some(
                            build_options!(@merge self.$field.take(), value $(, $merge)?),
                        );
                        self.origins.$field = origins.$field;
                    }
                )*)*
                self
            }

            /// The options in their groups, and where each came from.
            #[must_use]
            pub fn into_groups(self) -> (OptionGroups, Origins) {
                let BuildOptions { $($($field,)*)* origins } = self;
                (OptionGroups { $( $group: $Group { $($field,)* }, )* }, origins)
            }

            /// Options from their groups, each given as its flag.
            #[must_use]
            pub fn from_groups(groups: OptionGroups) -> BuildOptions {
                let OptionGroups { $( $group: $Group { $($field,)* }, )* } = groups;
                BuildOptions { $($($field,)*)* origins: Origins::default() }
            }
        }
    };
}

build_options! {
    /// What to package and how it is started.
    program ProgramOptions {
        /// Host path of the executable to package.
        entrypoint: PathBuf, key "entrypoint", flag "ENTRYPOINT";
        /// Where it lands in the image (default `/app/<name>`).
        dest: String, key "dest", flag "--dest";
        /// Arguments appended to the entrypoint.
        args: Vec<String>, key "args", flag "-- ARGS";
        /// Build the entrypoint with Cargo first (the `[cargo]` table).
        cargo: CargoOptions, key "cargo", flag "--cargo", merge CargoOptions::merged;
        /// One executable (and optionally a sysroot) per platform: `[[platform]]` tables,
        /// or `--platform-exe PLATFORM=PATH` and `--sysroot PLATFORM=DIR`; several
        /// platforms make one multi-platform index.
        platforms: Vec<PlatformSpec>, key "platform", flag "--platform-exe";
    }
    /// The image's run-time configuration.
    config ConfigOptions {
        /// The image's default Cmd.
        cmd: Vec<String>, key "cmd", flag "--cmd";
        /// Numeric `UID[:GID]` to run as (default `65532:65532`).
        user: String, key "user", flag "--user";
        /// Name of the app user in /etc/passwd (default `nonroot` for 65532, else `app`).
        user_name: String, key "user-name", flag "--user-name";
        /// Allow user 0.
        allow_root: bool, key "allow-root", flag "--allow-root";
        /// The container's working directory.
        workdir: String, key "workdir", flag "--workdir";
        /// `KEY=VALUE` environment variables.
        env: Vec<String>, key "env", flag "--env";
        /// `KEY=VALUE` image labels.
        labels: Vec<String>, key "labels", flag "--label";
        /// `KEY=VALUE` manifest annotations.
        annotations: Vec<String>, key "annotations", flag "--annotation";
        /// `PORT[/PROTO]` to expose.
        expose: Vec<String>, key "expose", flag "--expose";
        /// The signal that stops the container.
        stop_signal: String, key "stop-signal", flag "--stop-signal";
        /// Exec-form healthcheck command (Docker's HEALTHCHECK CMD), e.g. ["/app/x", "healthcheck"].
        healthcheck: Vec<String>, key "healthcheck", flag "--healthcheck";
    }
    /// What the image holds besides the program.
    contents ContentOptions {
        /// Extra files: `SRC:DEST[:MODE[:UID:GID]]`.
        files: Vec<String>, key "files", flag "--file";
        /// The CA bundle: a host path, `"host"` (the default) or `"none"` (see [`CaCerts`]).
        ca_certs: CaCerts, key "ca-certs", flag "--ca-certs";
        /// Resolve and add shared libraries (default true).
        libraries: bool, key "libraries", flag "--no-libraries";
        /// Add glibc NSS modules for files/dns (default true when libc is in the closure).
        nss: bool, key "nss", flag "--no-nss";
        /// Add /etc/passwd, /etc/group, /etc/nsswitch.conf and the home directory (default true).
        passwd: bool, key "passwd", flag "--no-passwd";
        /// Add /tmp with mode 1777 (default true).
        tmp: bool, key "tmp", flag "--no-tmp";
        /// Add /usr/share/zoneinfo from the host (default false).
        tzdata: bool, key "tzdata", flag "--tzdata";
        /// Write `/var/lib/dpkg/status.d/` records of the packages that supplied files, and
        /// the OS identity files, so scanners see them (default true).
        package_db: bool, key "package-db", flag "--no-package-db";
    }
    /// Tracing the program to find the files it opens, and checking the built image.
    trace TraceOptions {
        /// Trace the entrypoint run with the baked args and add what it opened (`--trace`).
        trace: bool, key "trace", flag "--trace";
        /// More traced runs, each one shell-split argument string (implies `trace`).
        trace_runs: Vec<String>, key "trace-run", flag "--trace-run";
        /// How long a traced run may take before SIGTERM (`500ms`, `10s`, `2m`; default 10s).
        trace_timeout: String, key "trace-timeout", flag "--trace-timeout";
        /// `KEY=VALUE` environment of the traced runs (over the image's).
        trace_env: Vec<String>, key "trace-env", flag "--trace-env";
        /// Host working directory of the traced runs (default: the image's workdir, else `/`).
        trace_workdir: PathBuf, key "trace-workdir", flag "--trace-workdir";
        /// Host trees whose files the trace never adds.
        trace_excludes: Vec<PathBuf>, key "trace-exclude", flag "--trace-exclude";
        /// Host paths added even though they are secrets or in the home.
        trace_includes: Vec<PathBuf>, key "trace-include", flag "--trace-include";
        /// A traced run that exits non-zero is not an error.
        trace_allow_failure: bool, key "trace-allow-failure", flag "--trace-allow-failure";
        /// Write what the trace added and skipped as JSON to this file; the CLI writes it.
        trace_report: PathBuf, key "trace-report", flag "--trace-report";
        /// Run the built image with podman and compare it with the host run; the CLI does it.
        check: bool, key "check", flag "--check";
    }
    /// How the image is encoded, named, described and where it goes.
    output OutputOptions {
        /// Image names (default `<name>:latest`).
        tags: Vec<String>, key "tags", flag "--tag";
        /// `gzip`, `zstd`, `gzip:9`, `zstd:19`.
        compression: String, key "compression", flag "--compression";
        /// SBOM documents to write and attach to the image: `spdx`, `cyclonedx` or `all`.
        sbom: String, key "sbom", flag "--sbom";
        /// Where the SBOM documents go (default: next to the first output); the CLI writes them.
        sbom_output: PathBuf, key "sbom-output", flag "--sbom-output";
        /// Outputs (`oci:DIR`, `oci-archive:FILE`, `docker-archive:FILE`, `podman:NAME`); the
        /// CLI writes them.
        outputs: Vec<String>, key "outputs", flag "--output";
        /// Load into podman or docker after building; the CLI does it.
        load: bool, key "load", flag "--load";
        /// The image of a multi-platform build that outputs holding one image
        /// (`docker-archive:`, `podman:`, `--load`) get; the CLI writes them.
        output_platform: String, key "output-platform", flag "--platform";
    }
}

/// Where a Cargo package keeps its husk options.
pub const CARGO_METADATA_TABLE: &str = "package.metadata.husk";

/// The program to package: a host executable, or one Cargo builds first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Program {
    Path(PathBuf),
    Cargo(CargoOptions),
}

/// The programs to package: the entrypoint (a path or a Cargo build, its platform read
/// from its ELF header) and one executable per platform named with `--platform-exe` or
/// `[[platform]]`. Each becomes one image; several make a multi-platform index.
#[derive(Debug, Clone, PartialEq)]
pub struct Programs {
    pub main: Option<Program>,
    pub per_platform: Vec<(husk_oci::Platform, PathBuf)>,
}

/// Validated build inputs. `E` is the entrypoint and `D` where it lands: a host path and an
/// image path in a request ready to build ([`BuildRequest`]), the [`Programs`] and an
/// optional path while Cargo may still have to build one ([`CheckedOptions`]).
#[derive(Debug, Clone)]
pub struct BuildRequest<E = PathBuf, D = ImagePath> {
    pub entrypoint: E,
    pub dest: D,
    /// The platform named for this image's program, and every platform's sysroot.
    pub target: Target,
    pub args: Vec<String>,
    /// `--trace` and its options: the runs to trace (none: no trace).
    pub trace: Option<TraceSpec>,
    /// Image names; `<name>:latest` when none was given.
    pub tags: Vec<String>,
    pub config: RunConfig,
    pub contents: Contents,
    pub encoding: Encoding,
}

/// The image's run-time configuration, checked.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub cmd: Option<Vec<String>>,
    pub user: User,
    pub user_name: String,
    pub workdir: Option<ImagePath>,
    pub env: Vec<(String, String)>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub expose: Vec<Port>,
    pub stop_signal: Option<String>,
    pub healthcheck: Option<Vec<String>>,
}

/// What the image holds besides the program, checked.
#[derive(Debug, Clone)]
pub struct Contents {
    pub files: Vec<FileSpec>,
    pub ca_certs: CaCerts,
    pub libraries: bool,
    pub nss: bool,
    pub passwd: bool,
    pub tmp: bool,
    pub tzdata: bool,
    /// Write the image's dpkg package records and OS identity files.
    pub package_db: bool,
}

/// How the image's bytes are made and described.
#[derive(Debug, Clone)]
pub struct Encoding {
    pub compression: husk_layer::Compression,
    /// The SBOM documents to produce.
    pub sbom: SbomFormats,
    /// Seconds since the epoch for every mtime and the created time (SOURCE_DATE_EPOCH).
    pub epoch: u64,
    /// Where compressed layers are cached between builds.
    pub cache_dir: Option<PathBuf>,
    /// Where the dpkg file-name index is kept between builds.
    pub dpkg_index_dir: Option<PathBuf>,
}

/// Every option checked; the entrypoint may still have to be built by Cargo, so where it
/// lands is known only when given.
pub type CheckedOptions = BuildRequest<Programs, Option<ImagePath>>;

/// Settings that come from the environment, read by the CLI and passed down: this crate
/// reads no environment variable itself.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// SOURCE_DATE_EPOCH.
    pub source_date_epoch: Option<String>,
    /// The layer cache directory (none: no cache).
    pub cache_dir: Option<PathBuf>,
    /// Where the dpkg file-name index is kept (none: every `.list` file is read). It only
    /// chooses which files are read, never what the image holds, so `--no-cache` keeps it.
    pub dpkg_index_dir: Option<PathBuf>,
    /// The Cargo program to run (`$CARGO`; default `cargo`).
    pub cargo: Option<OsString>,
    /// `$RUSTFLAGS`, which a static Cargo build extends (a `-C linker=` in it is the
    /// user's linker for every target).
    pub rustflags: Option<String>,
    /// `$RUSTC`: the rustc asked for the host's triple and a target's library directory
    /// (default `rustc`).
    pub rustc: Option<OsString>,
    /// `$CARGO_HOME` (default `~/.cargo`): its `config.toml` may name a target's linker.
    pub cargo_home: Option<PathBuf>,
    /// The names of the `CARGO_TARGET_<TRIPLE>_LINKER` variables set: those targets'
    /// linkers are the user's, not Debian's cross gcc.
    pub target_linkers: Vec<String>,
    /// `$HOME`: a traced run never brings files from it into the image.
    pub home: Option<PathBuf>,
}

impl BuildOptions {
    /// Read options from a `husk.toml`. Relative paths in it (`entrypoint`, `files`,
    /// `ca-certs`, `[cargo] manifest-path`) are taken from the file's directory, and each
    /// value remembers the file for error messages.
    ///
    /// # Errors
    /// [`BuildError::Io`] when the file cannot be read, [`BuildError::ConfigFile`] naming
    /// the file, the key and the line when it is not valid.
    pub fn from_toml_file(path: &Path) -> Result<BuildOptions, BuildError> {
        let text = std::fs::read_to_string(path).map_err(|source| BuildError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut opts = Self::from_toml_str(&text).map_err(|message| BuildError::ConfigFile {
            path: path.to_path_buf(),
            message,
        })?;
        opts.origins = Origins::in_file(path, false);
        if let Some(base) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            opts.resolve_relative_paths(base);
        }
        Ok(opts)
    }

    /// Parse options from TOML text.
    ///
    /// # Errors
    /// The TOML error text (names unknown keys and the line).
    pub fn from_toml_str(text: &str) -> Result<BuildOptions, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim_end().to_owned())
    }

    /// Read the options of a Cargo package: the `[package.metadata.husk]` table of its
    /// `Cargo.toml`, with the same keys as `husk.toml` (one schema: an unknown key is an
    /// error naming the manifest and the key). Relative paths are taken from the
    /// manifest's directory. `None` when the manifest has no such table.
    ///
    /// # Errors
    /// [`BuildError::Io`] when the manifest cannot be read, [`BuildError::ConfigFile`]
    /// naming it when it is not TOML or the table is not valid.
    pub fn from_cargo_manifest(path: &Path) -> Result<Option<BuildOptions>, BuildError> {
        let text = std::fs::read_to_string(path).map_err(|source| BuildError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let bad = |message: String| BuildError::ConfigFile {
            path: path.to_path_buf(),
            message,
        };
        let doc: toml::Table = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let Some(table) = doc
            .get("package")
            .and_then(|p| p.get("metadata"))
            .and_then(|m| m.get(CARGO_METADATA_TABLE.rsplit('.').next()?))
        else {
            return Ok(None);
        };
        let mut opts: BuildOptions = table.clone().try_into().map_err(|e: toml::de::Error| {
            bad(format!("[{CARGO_METADATA_TABLE}]: {}", e.message()))
        })?;
        opts.origins = Origins::in_file(path, true);
        if let Some(base) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            opts.resolve_relative_paths(base);
        }
        Ok(Some(opts))
    }

    fn resolve_relative_paths(&mut self, base: &Path) {
        let join = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        if let Some(e) = &mut self.entrypoint {
            join(e);
        }
        if let Some(CaCerts::File(p)) = &mut self.ca_certs {
            join(p);
        }
        if let Some(p) = &mut self.sbom_output {
            join(p);
        }
        if let Some(m) = self.cargo.as_mut().and_then(|c| c.manifest_path.as_mut()) {
            join(m);
        }
        for spec in self.platforms.iter_mut().flatten() {
            for p in [&mut spec.entrypoint, &mut spec.sysroot]
                .into_iter()
                .flatten()
            {
                join(p);
            }
        }
        for p in [&mut self.trace_workdir, &mut self.trace_report]
            .into_iter()
            .flatten()
        {
            join(p);
        }
        for p in [&mut self.trace_excludes, &mut self.trace_includes]
            .into_iter()
            .flatten()
            .flatten()
        {
            join(p);
        }
        for f in self.files.iter_mut().flatten() {
            if !f.starts_with('/') {
                *f = format!("{}/{f}", base.display());
            }
        }
    }

    /// Validate every option. The result names the program to package (a path, or a
    /// Cargo build still to run); [`CheckedOptions::with_entrypoint`] completes it once the
    /// executable exists. Nothing is read from disk here; nothing is written. Each group is
    /// checked by a function whose pattern names every option of the group, so an option
    /// nobody handles does not compile.
    ///
    /// # Errors
    /// The first invalid option, naming the flag or the key and file it came from.
    pub fn into_request(self, env: &Environment) -> Result<CheckedOptions, BuildError> {
        let (groups, at) = self.into_groups();
        let OptionGroups {
            program:
                ProgramOptions {
                    entrypoint,
                    dest,
                    args,
                    cargo,
                    platforms,
                },
            config,
            contents,
            trace,
            output,
        } = groups;
        let args = args.unwrap_or_default();
        let (tags, encoding) = check_output(&at, env, output)?;
        let platforms = check_platforms(&at.platforms, platforms)?;
        Ok(BuildRequest {
            entrypoint: Programs {
                main: program(entrypoint, cargo, !platforms.programs.is_empty())?,
                per_platform: platforms.programs,
            },
            dest: dest.map(|d| parse_path(&at.dest, &d)).transpose()?,
            target: Target {
                expected: None,
                sysroots: platforms.sysroots,
            },
            trace: check_trace(&at, env, trace, &args)?,
            args,
            tags,
            config: check_config(&at, config)?,
            contents: check_contents(&at, contents)?,
            encoding,
        })
    }
}

impl CheckedOptions {
    /// The request for the executable at `entrypoint` (the given path, or what Cargo
    /// built): it lands at the given dest or `/app/<name>`, and is tagged `<name>:latest`
    /// when no tag was given.
    ///
    /// # Errors
    /// [`BuildError::BadPath`] when the default destination made from the file's name is
    /// not a valid image path.
    pub fn with_entrypoint(self, entrypoint: PathBuf) -> Result<BuildRequest, BuildError> {
        self.finish(entrypoint, None)
    }

    /// One request per program: the entrypoint's (`main`: the given path, or what Cargo
    /// built, one per target; their platforms come from their ELF headers) first, then
    /// one per `--platform-exe`, each checked against the platform named for it when
    /// built. They share the destination (from the first program's name unless given),
    /// the tags and every other option; with `--sbom` each image gets its own documents.
    ///
    /// # Errors
    /// [`BuildError::NoEntrypoint`] when there is no program at all,
    /// [`BuildError::OnePlatformOnly`] for `--trace` with several programs, and
    /// [`CheckedOptions::with_entrypoint`]'s errors.
    pub fn into_requests(self, main: Vec<PathBuf>) -> Result<Vec<BuildRequest>, BuildError> {
        let mut programs: Vec<(Option<husk_oci::Platform>, PathBuf)> =
            main.into_iter().map(|exe| (None, exe)).collect();
        programs.extend(
            self.entrypoint
                .per_platform
                .iter()
                .map(|(p, exe)| (Some(p.clone()), exe.clone())),
        );
        let count = programs.len();
        if count > 1 {
            let one_only = |option| Err(BuildError::OnePlatformOnly { option, count });
            if self.trace.is_some() {
                return one_only("--trace");
            }
        }
        let mut programs = programs.into_iter();
        let Some((expected, exe)) = programs.next() else {
            return Err(BuildError::NoEntrypoint);
        };
        let first = self.finish(exe, expected)?;
        let mut reqs = vec![first.clone()];
        for (expected, exe) in programs {
            let mut req = first.clone();
            req.entrypoint = exe;
            req.target.expected = expected;
            reqs.push(req);
        }
        Ok(reqs)
    }

    /// The request for `entrypoint`, named for the platform `expected` (if any).
    fn finish(
        self,
        entrypoint: PathBuf,
        expected: Option<husk_oci::Platform>,
    ) -> Result<BuildRequest, BuildError> {
        let BuildRequest {
            entrypoint: _,
            dest,
            mut target,
            args,
            trace,
            mut tags,
            config,
            contents,
            encoding,
        } = self;
        // A traced program runs from its host path (an interpreter finds its library
        // relative to itself), so that is where it lands unless --dest says otherwise.
        let entrypoint = match &trace {
            Some(_) => std::path::absolute(&entrypoint).unwrap_or(entrypoint),
            None => entrypoint,
        };
        let dest = match (dest, &trace) {
            (Some(d), _) => d,
            (None, Some(_)) => {
                ImagePath::parse(&entrypoint.to_string_lossy()).map_err(|source| {
                    BuildError::BadPath {
                        option: Setting::flag("--dest", "dest"),
                        value: entrypoint.display().to_string(),
                        source,
                    }
                })?
            }
            (None, None) => default_dest(&entrypoint)?,
        };
        if tags.is_empty() {
            tags.push(format!("{}:latest", dest.file_name().unwrap_or("app")));
        }
        target.expected = expected;
        Ok(BuildRequest {
            entrypoint,
            dest,
            target,
            args,
            trace,
            tags,
            config,
            contents,
            encoding,
        })
    }
}

/// The run-time configuration: user (root refused without `allow-root`), paths, lists.
fn check_config(at: &Origins, config: ConfigOptions) -> Result<RunConfig, BuildError> {
    let ConfigOptions {
        cmd,
        user,
        user_name,
        allow_root,
        workdir,
        env,
        labels,
        annotations,
        expose,
        stop_signal,
        healthcheck,
    } = config;
    let (user, user_name) = check_user(at, user, user_name, allow_root)?;
    Ok(RunConfig {
        cmd,
        user,
        user_name,
        workdir: workdir.map(|w| parse_path(&at.workdir, &w)).transpose()?,
        env: each(&at.env, env, parse_key_value)?,
        labels: each(&at.labels, labels, parse_key_value)?
            .into_iter()
            .collect(),
        annotations: each(&at.annotations, annotations, parse_key_value)?
            .into_iter()
            .collect(),
        expose: ports(&at.expose, expose)?,
        stop_signal: stop_signal
            .map(|s| parse_signal(&at.stop_signal, &s))
            .transpose()?,
        healthcheck: check_healthcheck(&at.healthcheck, healthcheck)?,
    })
}

/// The contents: extra files parsed, every switch at its default when not given.
fn check_contents(at: &Origins, contents: ContentOptions) -> Result<Contents, BuildError> {
    let ContentOptions {
        files,
        ca_certs,
        libraries,
        nss,
        passwd,
        tmp,
        tzdata,
        package_db,
    } = contents;
    Ok(Contents {
        files: each(&at.files, files, parse_file_spec)?,
        ca_certs: ca_certs.unwrap_or(CaCerts::Host),
        libraries: libraries.unwrap_or(true),
        nss: nss.unwrap_or(true),
        passwd: passwd.unwrap_or(true),
        tmp: tmp.unwrap_or(true),
        tzdata: tzdata.unwrap_or(false),
        package_db: package_db.unwrap_or(true),
    })
}

/// The tags and the encoding. `sbom-output`, `outputs` and `load` are the CLI's: it writes
/// the documents and the outputs.
fn check_output(
    at: &Origins,
    env: &Environment,
    output: OutputOptions,
) -> Result<(Vec<String>, Encoding), BuildError> {
    let OutputOptions {
        tags,
        compression,
        sbom,
        sbom_output: _,
        outputs: _,
        load: _,
        output_platform: _,
    } = output;
    let encoding = Encoding {
        compression: parse_compression(&at.compression, compression.as_deref().unwrap_or("gzip"))?,
        sbom: sbom
            .map(|s| parse_sbom_formats(&at.sbom, &s))
            .transpose()?
            .unwrap_or_default(),
        epoch: env
            .source_date_epoch
            .as_deref()
            .map(parse_epoch)
            .transpose()?
            .unwrap_or(0),
        cache_dir: env.cache_dir.clone(),
        dpkg_index_dir: env.dpkg_index_dir.clone(),
    };
    Ok((tags.unwrap_or_default(), encoding))
}

/// The program: at most one of an entrypoint path and a Cargo build; none only when
/// executables are given per platform.
fn program(
    entrypoint: Option<PathBuf>,
    cargo: Option<CargoOptions>,
    per_platform: bool,
) -> Result<Option<Program>, BuildError> {
    match (entrypoint, cargo) {
        (Some(_), Some(_)) => Err(BuildError::EntrypointAndCargo),
        (Some(path), None) => Ok(Some(Program::Path(path))),
        (None, Some(cargo)) => Ok(Some(Program::Cargo(cargo))),
        (None, None) if per_platform => Ok(None),
        (None, None) => Err(BuildError::NoEntrypoint),
    }
}

/// `/app/<file name of the entrypoint>`.
fn default_dest(entrypoint: &Path) -> Result<ImagePath, BuildError> {
    let name = entrypoint
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| !n.is_empty())
        .unwrap_or("app");
    parse_path(&Setting::flag("--dest", "dest"), &format!("/app/{name}"))
}

/// The user (refused when root without `allow-root`) and its passwd name.
fn check_user(
    at: &Origins,
    user: Option<String>,
    user_name: Option<String>,
    allow_root: Option<bool>,
) -> Result<(User, String), BuildError> {
    let parsed = parse_user(&at.user, user.as_deref().unwrap_or("65532:65532"))?;
    if parsed.uid == 0 && !allow_root.unwrap_or(false) {
        return Err(BuildError::RootUser {
            value: user.unwrap_or_default(),
        });
    }
    let name = match user_name {
        Some(n) => parse_user_name(&at.user_name, &n)?,
        None => match parsed.uid {
            0 => "root".into(),
            65532 => "nonroot".into(),
            65534 => "nobody".into(),
            _ => "app".into(),
        },
    };
    Ok((parsed, name))
}

/// Each value of a list option parsed with `parse`.
fn each<T>(
    at: &Setting,
    values: Option<Vec<String>>,
    parse: fn(&Setting, &str) -> Result<T, BuildError>,
) -> Result<Vec<T>, BuildError> {
    values
        .unwrap_or_default()
        .iter()
        .map(|v| parse(at, v))
        .collect()
}

/// The exposed ports, sorted, each once.
fn ports(at: &Setting, values: Option<Vec<String>>) -> Result<Vec<Port>, BuildError> {
    let mut ports = each(at, values, parse_port)?;
    ports.sort();
    ports.dedup();
    Ok(ports)
}

/// The trace to run: on with `--trace` or any `--trace-run`; the baked args are the first
/// run. The other trace options are checked even when tracing is off. `trace-report` and
/// `check` are the CLI's: it writes the report and runs the check.
fn check_trace(
    at: &Origins,
    env: &Environment,
    trace: TraceOptions,
    baked: &[String],
) -> Result<Option<TraceSpec>, BuildError> {
    let TraceOptions {
        trace: on,
        trace_runs,
        trace_timeout,
        trace_env,
        trace_workdir,
        trace_excludes,
        trace_includes,
        trace_allow_failure,
        trace_report: _,
        check: _,
    } = trace;
    let mut runs = vec![baked.to_vec()];
    for r in trace_runs.unwrap_or_default() {
        runs.push(parse_trace_run(&at.trace_runs, &r)?);
    }
    let host_paths = |setting: &Setting, v: Option<Vec<PathBuf>>| {
        v.unwrap_or_default()
            .iter()
            .map(|p| parse_host_dir(setting, p))
            .collect::<Result<Vec<_>, _>>()
    };
    let spec = TraceSpec {
        timeout: match &trace_timeout {
            Some(t) => parse_duration(&at.trace_timeout, t)?,
            None => std::time::Duration::from_secs(10),
        },
        env: each(&at.trace_env, trace_env, parse_key_value)?,
        workdir: trace_workdir
            .map(|w| parse_host_dir(&at.trace_workdir, &w))
            .transpose()?,
        excludes: host_paths(&at.trace_excludes, trace_excludes)?,
        includes: host_paths(&at.trace_includes, trace_includes)?,
        allow_failure: trace_allow_failure.unwrap_or(false),
        homes: env.home.iter().cloned().collect(),
        runs,
    };
    Ok((on.unwrap_or(false) || spec.runs.len() > 1).then_some(spec))
}

/// A healthcheck command must name a program.
fn check_healthcheck(
    at: &Setting,
    cmd: Option<Vec<String>>,
) -> Result<Option<Vec<String>>, BuildError> {
    match cmd {
        Some(c) if c.first().is_none_or(String::is_empty) => {
            Err(BuildError::EmptyHealthcheck { option: at.clone() })
        }
        c => Ok(c),
    }
}

#[cfg(test)]
mod tests;
