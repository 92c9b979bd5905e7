//! Command-line arguments (clap derive). Handlers live in `commands/`, one per subcommand.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "husk",
    version,
    about = "Build, explore and audit minimal FROM-scratch OCI images, with no daemon",
    propagate_version = true
)]
pub struct Cli {
    /// Print only errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Colour in text reports: auto (a terminal, and NO_COLOR unset), always or never.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "WHEN"
    )]
    pub color: ColorChoice,
    #[command(flatten)]
    pub registry: RegistryFlags,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Package an executable into a reproducible, non-root FROM-scratch image.
    Build(Box<BuildArgs>),
    /// Recompute every digest, size and diff_id of an image and cross-check them.
    Validate(ValidateArgs),
    /// Show an image's digest, platform, run settings, layers and history.
    Inspect(InspectArgs),
    /// List the merged filesystem of an image (or one layer's own entries).
    Ls(LsArgs),
    /// Draw the merged filesystem of an image as a tree.
    Tree(TreeArgs),
    /// Print a file of an image (symlinks followed inside the image).
    Cat(CatArgs),
    /// Copy a file or directory out of an image: husk cp IMAGE PATH DEST.
    Cp(CpArgs),
    /// Write an image's flattened filesystem to DEST.tar or into a directory.
    Export(ExportArgs),
    /// Files and config settings that differ between two images (exit 1 if any).
    Diff(DiffArgs),
    /// Per layer: sizes, bytes added, bytes wasted by later layers, efficiency.
    Layers(LayersArgs),
    /// Explore an image's layers and file tree in an interactive terminal view (like dive).
    Browse(BrowseArgs),
    /// Write a debug variant of an image with a static busybox at /.husk/bin.
    Debug(DebugArgs),
    /// Find insecure or broken settings and files in an image (and its Dockerfile).
    Audit(AuditArgs),
    /// Say why an image will not start (and, with --run, why it failed), before it ever runs.
    Doctor(crate::commands::doctor::DoctorArgs),
    /// Check a Dockerfile with the audit's Dockerfile rules.
    Lint(LintArgs),
    /// Upload an image to a registry: husk push IMAGE docker://HOST[:PORT]/REPO[:TAG].
    Push(PushArgs),
    /// Fetch a registry image, verified, into any destination: husk pull docker://... -o oci:DIR.
    Pull(PullArgs),
    /// Check credentials for a registry and store them in the auth file.
    Login(LoginArgs),
    /// The SBOM of any image (its package databases, Rust/Go program data, files), or with --attached the artifacts attached to it.
    Sbom(SbomArgs),
    /// Print a shell completion script, e.g. husk completions bash > /etc/bash_completion.d/husk.
    Completions(CompletionsArgs),
    /// Print husk's man page (roff), or write one page per command into --dir.
    Man(ManArgs),
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct ManArgs {
    /// Write husk.1 and husk-COMMAND.1 for every command into this directory.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadEngine {
    Auto,
    Podman,
    Docker,
}

#[derive(Args, Debug)]
pub struct BuildArgs {
    /// The executable to package (host path). May also come from husk.toml.
    pub entrypoint: Option<PathBuf>,
    /// Arguments baked into the entrypoint (after `--`).
    #[arg(last = true)]
    pub args: Vec<String>,
    /// Read options from this TOML file (default: ./husk.toml when it exists). Flags override it.
    #[arg(short = 'c', long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where the executable lands in the image [default: /app/<name>].
    #[arg(long, value_name = "PATH")]
    pub dest: Option<String>,
    /// Do not use or fill the layer cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Summary format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    #[command(flatten, next_help_heading = "Image configuration")]
    pub run: ConfigArgs,
    #[command(flatten, next_help_heading = "Contents")]
    pub contents: ContentArgs,
    #[command(flatten, next_help_heading = "Trace")]
    pub trace: TraceArgs,
    #[command(flatten, next_help_heading = "Output")]
    pub output: OutputArgs,
    #[command(flatten, next_help_heading = "Platforms")]
    pub platforms: PlatformArgs,
    /// Build the entrypoint with Cargo first.
    #[command(flatten)]
    pub cargo_args: CargoArgs,
}

/// The image's run-time configuration (the `config` group of the build options).
#[derive(Args, Debug)]
pub struct ConfigArgs {
    /// The image's default Cmd (repeat for each argument).
    #[arg(long = "cmd", value_name = "ARG")]
    pub cmd: Vec<String>,
    /// Numeric user to run as: UID[:GID] [default: 65532:65532 "nonroot"].
    #[arg(long, value_name = "UID[:GID]")]
    pub user: Option<String>,
    /// Name of that user in /etc/passwd [default: nonroot for 65532, app otherwise].
    #[arg(long, value_name = "NAME")]
    pub user_name: Option<String>,
    /// Allow an image that runs as root (user 0).
    #[arg(long)]
    pub allow_root: bool,
    /// Working directory of the container (created when no file puts it there).
    #[arg(long, value_name = "DIR")]
    pub workdir: Option<String>,
    /// Environment variable KEY=VALUE (repeatable).
    #[arg(long = "env", short = 'e', value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Image label KEY=VALUE (repeatable).
    #[arg(long = "label", short = 'l', value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Manifest annotation KEY=VALUE (repeatable).
    #[arg(long = "annotation", value_name = "KEY=VALUE")]
    pub annotations: Vec<String>,
    /// Port to expose: PORT[/tcp|/udp] (repeatable).
    #[arg(long = "expose", short = 'p', value_name = "PORT[/PROTO]")]
    pub expose: Vec<String>,
    /// Signal that stops the container (SIGTERM, SIGINT, ...).
    #[arg(long, value_name = "SIGNAL")]
    pub stop_signal: Option<String>,
    /// Healthcheck command in exec form, one argument per flag (Docker HEALTHCHECK CMD).
    #[arg(long = "healthcheck", value_name = "ARG")]
    pub healthcheck: Vec<String>,
}

/// What the image holds besides the program (the `contents` group).
#[derive(Args, Debug)]
pub struct ContentArgs {
    /// Add a host file or directory: SRC:DEST[:MODE[:UID:GID]]; DEST ending in / puts SRC inside it.
    #[arg(long = "file", value_name = "SRC:DEST")]
    pub files: Vec<String>,
    /// CA bundle to install at /etc/ssl/certs/ca-certificates.crt [default: the host's].
    #[arg(long, value_name = "PATH", conflicts_with = "no_ca_certs")]
    pub ca_certs: Option<PathBuf>,
    /// Do not add a CA bundle (nor SSL_CERT_FILE).
    #[arg(long)]
    pub no_ca_certs: bool,
    /// Do not resolve and add shared libraries.
    #[arg(long)]
    pub no_libraries: bool,
    /// Do not add glibc NSS modules.
    #[arg(long)]
    pub no_nss: bool,
    /// Do not add /etc/passwd, /etc/group, /etc/nsswitch.conf and the home directory.
    #[arg(long)]
    pub no_passwd: bool,
    /// Do not add /tmp.
    #[arg(long)]
    pub no_tmp: bool,
    /// Add the host's time zone database (/usr/share/zoneinfo).
    #[arg(long)]
    pub tzdata: bool,
    /// Do not write /var/lib/dpkg/status.d/ records of the Debian packages that supplied files (nor /etc/os-release, /etc/debian_version): scanners then see no packages.
    #[arg(long)]
    pub no_package_db: bool,
}

/// Tracing the program and checking the built image (the `trace` group).
#[derive(Args, Debug)]
pub struct TraceArgs {
    /// Run the entrypoint (with the args after --) under a tracer and add every file it opened, ran or listed.
    #[arg(long)]
    pub trace: bool,
    /// One more traced run, its arguments split like a shell would (repeatable; implies --trace).
    #[arg(
        long = "trace-run",
        value_name = "'ARGS...'",
        allow_hyphen_values = true
    )]
    pub trace_runs: Vec<String>,
    /// Stop a traced run still going after this long (SIGTERM, then SIGKILL): 500ms, 10s, 2m [default: 10s].
    #[arg(long, value_name = "DURATION")]
    pub trace_timeout: Option<String>,
    /// Environment variable KEY=VALUE of the traced runs, over the image's (repeatable).
    #[arg(long = "trace-env", value_name = "KEY=VALUE")]
    pub trace_env: Vec<String>,
    /// Host working directory of the traced runs [default: the image's workdir if it exists here, else /].
    #[arg(long, value_name = "DIR")]
    pub trace_workdir: Option<PathBuf>,
    /// Never add traced files under this host directory (repeatable).
    #[arg(long = "trace-exclude", value_name = "DIR")]
    pub trace_excludes: Vec<PathBuf>,
    /// Add this host path even if it looks like a secret or lies in the home (repeatable).
    #[arg(long = "trace-include", value_name = "PATH")]
    pub trace_includes: Vec<PathBuf>,
    /// A traced run that exits non-zero is not an error.
    #[arg(long)]
    pub trace_allow_failure: bool,
    /// Write what the trace added (and which process opened it with which call) and skipped, as JSON.
    #[arg(long, value_name = "FILE")]
    pub trace_report: Option<PathBuf>,
    /// After writing, run the image with podman (read-only, no capabilities, no network) and compare exit code and stdout with the host run.
    #[arg(long)]
    pub check: bool,
}

/// Names, encoding, SBOMs and where the image goes (the `output` group).
#[derive(Args, Debug)]
pub struct OutputArgs {
    /// Name for the image, e.g. demo:1.0 (repeatable) [default: <name>:latest].
    #[arg(long = "tag", short = 't', value_name = "NAME")]
    pub tags: Vec<String>,
    /// Layer compression: gzip, zstd, gzip:LEVEL, zstd:LEVEL [default: gzip].
    #[arg(long, value_name = "ALGO")]
    pub compression: Option<String>,
    /// Write SBOM documents (spdx, cyclonedx or all) and attach them to the image as OCI referrers.
    #[arg(long, value_name = "FORMAT", value_parser = ["spdx", "cyclonedx", "all"])]
    pub sbom: Option<String>,
    /// Directory for the SBOM documents (default: next to the first output).
    #[arg(long, value_name = "DIR")]
    pub sbom_output: Option<PathBuf>,
    /// Where to write the image (repeatable): oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REPO:TAG], podman:NAME, docker:NAME (local engines) or docker://HOST[:PORT]/REPO[:TAG|@DIGEST] (a registry).
    #[arg(short = 'o', long = "output", value_name = "REF")]
    pub outputs: Vec<String>,
    /// Push the image to a registry after building: docker://HOST[:PORT]/REPO[:TAG] (repeatable; same as -o docker://...).
    #[arg(long = "push", value_name = "REF")]
    pub push: Vec<String>,
    /// Load the image into a local engine after building.
    #[arg(long, value_name = "ENGINE", num_args = 0..=1, default_missing_value = "auto")]
    pub load: Option<LoadEngine>,
    /// Of a multi-platform build, the image for outputs that hold one (docker-archive:, podman:, docker:, --load), e.g. linux/arm64.
    #[arg(long, value_name = "PLATFORM")]
    pub platform: Option<String>,
}

/// One executable (and sysroot) per platform: several make one multi-platform index (the
/// `[[platform]]` tables of husk.toml, which these flags replace).
#[derive(Args, Debug)]
pub struct PlatformArgs {
    /// The executable for a platform, e.g. linux/arm64=./app-arm64 (repeatable; with ENTRYPOINT or alone). Its ELF header must agree.
    #[arg(long = "platform-exe", value_name = "PLATFORM=PATH", value_parser = platform_pair)]
    pub platform_exes: Vec<(String, PathBuf)>,
    /// Look a platform's shared libraries up in this root filesystem instead of the host's multiarch directories, e.g. linux/arm64=/srv/arm64-root (repeatable).
    #[arg(long = "sysroot", value_name = "PLATFORM=DIR", value_parser = platform_pair)]
    pub sysroots: Vec<(String, PathBuf)>,
}

/// `PLATFORM=PATH` split at the first `=` (the platform is checked by the build).
fn platform_pair(s: &str) -> Result<(String, PathBuf), String> {
    match s.split_once('=') {
        Some((p, path)) if !p.is_empty() && !path.is_empty() => Ok((p.to_owned(), path.into())),
        _ => Err(format!(
            "expected PLATFORM=PATH, e.g. linux/arm64=./app-arm64, not {s:?}"
        )),
    }
}

/// The Cargo options of `husk build` (the `[cargo]` table of husk.toml).
#[derive(Args, Debug)]
pub struct CargoArgs {
    /// Build the entrypoint from a Cargo package first (like ko for Go); implied by the options below.
    #[arg(long, help_heading = "Cargo")]
    pub cargo: bool,
    /// Cargo package to build (-p).
    #[arg(long, value_name = "SPEC", help_heading = "Cargo")]
    pub package: Option<String>,
    /// Binary target of that package.
    #[arg(long, value_name = "NAME", help_heading = "Cargo")]
    pub bin: Option<String>,
    /// Path to the Cargo.toml.
    #[arg(long, value_name = "PATH", help_heading = "Cargo")]
    pub manifest_path: Option<PathBuf>,
    /// Cargo profile [default: release].
    #[arg(long, value_name = "NAME", help_heading = "Cargo")]
    pub cargo_profile: Option<String>,
    /// Target triple; repeat (or separate with commas) for one image per target in one
    /// multi-platform index [default: the host's with --static].
    #[arg(
        long = "target",
        value_name = "TRIPLE",
        value_delimiter = ',',
        help_heading = "Cargo"
    )]
    pub targets: Vec<String>,
    /// A target built only where its Rust standard library and linker are installed,
    /// skipped with a note elsewhere (repeatable).
    #[arg(
        long = "optional-target",
        value_name = "TRIPLE",
        value_delimiter = ',',
        help_heading = "Cargo"
    )]
    pub optional_targets: Vec<String>,
    /// Link statically (static-pie): no library layer needed.
    #[arg(long = "static", help_heading = "Cargo")]
    pub static_link: bool,
    /// Cargo features to enable (comma-separated or repeated).
    #[arg(
        long,
        value_name = "FEATURES",
        value_delimiter = ',',
        help_heading = "Cargo"
    )]
    pub features: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// The image: oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REPO:TAG], podman:NAME, docker:NAME (local engines) or docker://HOST[:PORT]/REPO[:TAG|@DIGEST] (a registry).
    pub image: String,
    /// Check only this platform's image of a multi-platform index, e.g. linux/arm64 [default: every image, and the index].
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    /// Report format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// `--platform` of the commands that read one image (ls, cat, cp, sbom, ...): which image
/// of a multi-platform index they read.
#[derive(Args, Debug, Clone, Default)]
pub struct PlatformArg {
    /// Of a multi-platform index, read this platform's image, e.g. linux/arm64 [default: this machine's, or the index's only image].
    #[arg(long = "platform", value_name = "OS/ARCH[/VARIANT]")]
    pub value: Option<String>,
}

impl PlatformArg {
    pub fn get(&self) -> Option<&str> {
        self.value.as_deref()
    }
}

/// Resource limits for reading layers (see husk_explore::Limits for the defaults).
#[derive(Args, Debug, Clone, Default)]
pub struct LimitArgs {
    /// Most tar headers read from one layer [default: 2000000].
    #[arg(long, value_name = "N", help_heading = "Limits")]
    pub max_entries: Option<u64>,
    /// Largest PAX header or GNU long name, in bytes [default: 1048576].
    #[arg(long, value_name = "BYTES", help_heading = "Limits")]
    pub max_header_bytes: Option<u64>,
    /// Most decompressed bytes of one layer [default: 68719476736].
    #[arg(long, value_name = "BYTES", help_heading = "Limits")]
    pub max_layer_bytes: Option<u64>,
    /// Most decompressed bytes of all layers together [default: 137438953472].
    #[arg(long, value_name = "BYTES", help_heading = "Limits")]
    pub max_image_bytes: Option<u64>,
    /// Most paths in the merged view, implicit directories included [default: 4000000].
    #[arg(long, value_name = "N", help_heading = "Limits")]
    pub max_paths: Option<u64>,
    /// Most bytes of all path names in the merged view [default: 268435456].
    #[arg(long, value_name = "BYTES", help_heading = "Limits")]
    pub max_path_bytes: Option<u64>,
    /// Most bytes of extended attributes (names and values) in one layer and in the merged view [default: 67108864].
    #[arg(long, value_name = "BYTES", help_heading = "Limits")]
    pub max_xattr_bytes: Option<u64>,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// The image: oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REPO:TAG], podman:NAME, docker:NAME (local engines) or docker://HOST[:PORT]/REPO[:TAG|@DIGEST] (a registry).
    pub image: String,
    /// Inspect this platform's image of a multi-platform index, e.g. linux/arm64 [default: the index, listing its platforms].
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

#[derive(Args, Debug)]
pub struct LsArgs {
    /// The image: oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REPO:TAG], podman:NAME, docker:NAME (local engines) or docker://HOST[:PORT]/REPO[:TAG|@DIGEST] (a registry).
    pub image: String,
    /// Directory or file inside the image [default: /].
    pub path: Option<String>,
    /// Long format: mode, owner, size, layer, link target.
    #[arg(short, long)]
    pub long: bool,
    /// Everything below PATH, as full paths.
    #[arg(short = 'R', long)]
    pub recursive: bool,
    /// Show only layer N's own entries (whiteouts included), counted from 0.
    #[arg(long, value_name = "N")]
    pub layer: Option<usize>,
    #[command(flatten)]
    pub platform: PlatformArg,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Args, Debug)]
pub struct TreeArgs {
    /// The image: oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REPO:TAG], podman:NAME, docker:NAME (local engines) or docker://HOST[:PORT]/REPO[:TAG|@DIGEST] (a registry).
    pub image: String,
    /// Directory inside the image [default: /].
    pub path: Option<String>,
    /// Show only layer N's own entries, counted from 0.
    #[arg(long, value_name = "N")]
    pub layer: Option<usize>,
    #[command(flatten)]
    pub platform: PlatformArg,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Args, Debug)]
pub struct CatArgs {
    /// The image: oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REPO:TAG], podman:NAME, docker:NAME (local engines) or docker://HOST[:PORT]/REPO[:TAG|@DIGEST] (a registry).
    pub image: String,
    /// File inside the image.
    pub path: String,
    #[command(flatten)]
    pub platform: PlatformArg,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Args, Debug)]
pub struct CpArgs {
    /// The image: oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REPO:TAG], podman:NAME, docker:NAME (local engines) or docker://HOST[:PORT]/REPO[:TAG|@DIGEST] (a registry).
    pub image: String,
    /// File or directory inside the image (symlinks followed inside the image).
    pub path: String,
    /// Host destination: a directory's contents go into DEST; a file becomes DEST (or DEST/NAME).
    pub dest: PathBuf,
    /// Write into a non-empty DEST, replacing what is in the way.
    #[arg(long)]
    pub force: bool,
    /// Keep setuid/setgid bits (dropped by default).
    #[arg(long)]
    pub preserve_modes: bool,
    /// Create device nodes and FIFOs (as root only; skipped by default).
    #[arg(long)]
    pub devices: bool,
    #[command(flatten)]
    pub platform: PlatformArg,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The image: oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REPO:TAG], podman:NAME, docker:NAME (local engines) or docker://HOST[:PORT]/REPO[:TAG|@DIGEST] (a registry).
    pub image: String,
    /// DEST.tar for a flattened tar, anything else for a directory.
    pub dest: PathBuf,
    /// Replace an existing DEST.tar, or write into a non-empty directory.
    #[arg(long)]
    pub force: bool,
    /// Keep setuid/setgid bits when extracting into a directory (dropped by default).
    #[arg(long)]
    pub preserve_modes: bool,
    /// Write device nodes and FIFOs: into DEST.tar, or created in a directory as root only (skipped by default).
    #[arg(long)]
    pub devices: bool,
    #[command(flatten)]
    pub platform: PlatformArg,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The old image: oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REPO:TAG], podman:NAME, docker:NAME (local engines) or docker://HOST[:PORT]/REPO[:TAG|@DIGEST] (a registry).
    pub image_a: String,
    /// The new image (the same forms as the old one).
    pub image_b: String,
    #[command(flatten)]
    pub platform: PlatformArg,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Args, Debug)]
pub struct LayersArgs {
    /// The image: oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REPO:TAG], podman:NAME, docker:NAME (local engines) or docker://HOST[:PORT]/REPO[:TAG|@DIGEST] (a registry).
    pub image: String,
    #[command(flatten)]
    pub platform: PlatformArg,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Args, Debug)]
pub struct BrowseArgs {
    /// The image: oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REPO:TAG], podman:NAME, docker:NAME (local engines) or docker://HOST[:PORT]/REPO[:TAG|@DIGEST] (a registry).
    pub image: String,
    #[command(flatten)]
    pub platform: PlatformArg,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Args, Debug)]
pub struct DebugArgs {
    /// The image: oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REPO:TAG], podman:NAME, docker:NAME (local engines) or docker://HOST[:PORT]/REPO[:TAG|@DIGEST] (a registry).
    pub image: String,
    /// Where to write the debug image: oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REPO:TAG], podman:NAME, docker:NAME (local engines) or docker://HOST[:PORT]/REPO[:TAG|@DIGEST] (a registry).
    #[arg(short = 'o', long = "output", value_name = "REF")]
    pub output: String,
    /// Static busybox to add (Debian's busybox-static installs /bin/busybox).
    #[arg(long, value_name = "PATH", default_value = "/bin/busybox")]
    pub busybox: PathBuf,
    /// Name for the debug image (repeatable) [default: husk-debug:latest].
    #[arg(long = "tag", short = 't', value_name = "NAME")]
    pub tags: Vec<String>,
    #[command(flatten)]
    pub platform: PlatformArg,
}

/// Registry connection flags, accepted by every command (any image argument may be a
/// registry, docker://HOST[:PORT]/REPO[:TAG|@DIGEST]; docker:NAME is the local engine).
#[derive(Args, Debug, Clone, Default)]
pub struct RegistryFlags {
    /// Trust this PEM CA certificate (bundle) for registries, besides the system roots and certs.d (repeatable); a self-signed server certificate given here is trusted as is.
    #[arg(long, value_name = "FILE", global = true, help_heading = "Registry")]
    pub ca_cert: Vec<PathBuf>,
    /// Use the certificates in DIR (*.crt trusted, NAME.cert + NAME.key a client certificate) for every registry, instead of certs.d/HOST:PORT/ (as skopeo's --cert-dir).
    #[arg(long, value_name = "DIR", global = true, help_heading = "Registry")]
    pub cert_dir: Option<PathBuf>,
    /// Talk plain HTTP to loopback registries (localhost, 127.0.0.0/8, ::1); other hosts are refused.
    #[arg(long, global = true, help_heading = "Registry")]
    pub insecure_http: bool,
    /// Allow plain HTTP to any registry host (credentials travel in clear text).
    #[arg(long, global = true, help_heading = "Registry")]
    pub insecure_http_remote: bool,
    /// Auth file to read credentials from (and `husk login` to write) [default: podman's, then docker's].
    #[arg(long, value_name = "FILE", global = true, help_heading = "Registry")]
    pub authfile: Option<PathBuf>,
    /// Log registry requests to stderr (-vv: with headers; credentials are never shown).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count, global = true, help_heading = "Registry")]
    pub verbose: u8,
    /// Attempts per registry request or blob upload before giving up (with backoff).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 5,
        global = true,
        help_heading = "Registry"
    )]
    pub retries: u32,
    /// Fail a registry request (then retry it as --retries allows) when the registry sends or takes nothing for this many seconds: no answer, or a body that stops; a transfer that keeps moving has no deadline.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(1..),
        global = true,
        help_heading = "Registry"
    )]
    pub registry_timeout: u64,
}

#[derive(Args, Debug)]
pub struct PushArgs {
    /// The image to push: oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REPO:TAG], podman:NAME, docker:NAME (local engines) or docker://HOST[:PORT]/REPO[:TAG|@DIGEST] (a registry).
    pub image: String,
    /// Where: docker://HOST[:PORT]/REPO[:TAG] (or @DIGEST, which must be the image's); the docker:// may be left out when HOST has a '.' or ':PORT' or is localhost.
    pub destination: String,
    /// Push only this image of a multi-platform source, e.g. linux/amd64 (default: the whole index).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    /// Push every image of a multi-platform index and the index itself (already the default when the source names an index and no --platform is given; accepted as in skopeo copy --all).
    #[arg(long, conflicts_with = "platform")]
    pub all: bool,
    /// Also tag the pushed manifest with NAME (repeatable).
    #[arg(long = "tag", short = 't', value_name = "NAME")]
    pub tags: Vec<String>,
    /// Blobs above this many bytes are uploaded in PATCH chunks of this size.
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 20)]
    pub chunk_size: u64,
    /// Blobs uploaded at once.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub jobs: usize,
    /// Also copy the artifacts attached to the image (SBOMs, signatures: OCI referrers).
    #[arg(long)]
    pub with_referrers: bool,
}

#[derive(Args, Debug)]
pub struct PullArgs {
    /// The image in a registry: docker://HOST[:PORT]/REPO[:TAG|@DIGEST].
    pub reference: String,
    /// Where to write it: oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REPO:TAG], podman:NAME, docker:NAME (local engines) or docker://HOST[:PORT]/REPO[:TAG|@DIGEST] (a registry).
    #[arg(short = 'o', long = "output", value_name = "REF")]
    pub output: String,
    /// Pull only this image of a multi-platform index, e.g. linux/amd64 (default: the whole index into oci:, oci-archive: and docker://; otherwise its only image, or this machine's).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    /// Copy a multi-platform index whole (every image and the index, byte for byte); fails when the destination cannot hold an index.
    #[arg(long, conflicts_with = "platform")]
    pub all: bool,
    /// Name for the written image [default: the reference's tag (oci) or HOST/REPO:TAG].
    #[arg(long, value_name = "NAME")]
    pub tag: Option<String>,
    /// Blobs fetched at once (into oci: directories and registries; archives are written in order).
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub jobs: usize,
    /// Also copy the artifacts attached to the image (SBOMs, signatures: OCI referrers), verified; the output must be an oci: layout or a registry.
    #[arg(long)]
    pub with_referrers: bool,
}

/// SBOM document formats of `husk sbom`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SbomFormat {
    /// SPDX 2.3 JSON.
    Spdx,
    /// CycloneDX 1.6 JSON.
    Cyclonedx,
}

#[derive(Args, Debug)]
pub struct SbomArgs {
    /// The image: oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REPO:TAG], podman:NAME, docker:NAME (local engines) or docker://HOST[:PORT]/REPO[:TAG|@DIGEST] (a registry).
    pub image: String,
    /// Document format.
    #[arg(long, value_enum, default_value = "spdx")]
    pub format: SbomFormat,
    /// List the artifacts (SBOMs, signatures) attached to the image instead (oci: layouts and registries).
    #[arg(long)]
    pub attached: bool,
    #[command(flatten)]
    pub platform: PlatformArg,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Args, Debug)]
pub struct LoginArgs {
    /// The registry: HOST[:PORT].
    pub registry: String,
    /// User name.
    #[arg(short = 'u', long = "username", value_name = "USER")]
    pub username: String,
    /// Read the password from standard input (the only way to give it).
    #[arg(long)]
    pub password_stdin: bool,
}

/// Report formats of `husk audit` and `husk lint`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    Text,
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
    /// Checkstyle XML (Jenkins, reviewdog).
    Checkstyle,
    /// GitLab code quality JSON (the `codequality` report artifact).
    Gitlab,
    /// Markdown (only with --list-rules).
    Markdown,
}

/// Options shared by `husk audit` and `husk lint`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Report format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
    /// Exit 1 when a finding is at or above this severity: info, low, medium, high, critical, or never.
    #[arg(long, value_name = "LEVEL", default_value = "high")]
    pub fail_on: String,
    /// Skip a rule by id, e.g. HUSK-I018; for Dockerfile rules also a hadolint code (DL3008) or a BuildKit check name (repeatable).
    #[arg(long = "ignore", value_name = "ID")]
    pub ignore: Vec<String>,
}

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// The image: oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REPO:TAG], podman:NAME, docker:NAME (local engines) or docker://HOST[:PORT]/REPO[:TAG|@DIGEST] (a registry).
    #[arg(required_unless_present = "list_rules")]
    pub image: Option<String>,
    /// Also check the Dockerfile the image was built from (findings carry its line numbers).
    #[arg(long, value_name = "FILE")]
    pub dockerfile: Option<PathBuf>,
    /// Print every rule (id, severity, summary) and exit.
    #[arg(long, conflicts_with_all = ["image", "dockerfile"])]
    pub list_rules: bool,
    /// Audit only this platform's image of a multi-platform index, e.g. linux/arm64 [default: every image].
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    #[command(flatten)]
    pub check: CheckArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Args, Debug)]
pub struct LintArgs {
    /// The Dockerfile to check, or - to read it from standard input.
    pub dockerfile: PathBuf,
    /// Do not run ShellCheck on the RUN scripts (it runs when `shellcheck` is on PATH).
    #[arg(long)]
    pub no_shellcheck: bool,
    /// Lint for building this stage (as docker build --target): rules about the image look at it and the stages it needs; others are build-only.
    #[arg(long, value_name = "STAGE")]
    pub target: Option<String>,
    /// Lint config: ignore, [severity], trusted-registries (default: .husk-lint.toml beside the Dockerfile, when there is one).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub check: CheckArgs,
}

impl Command {
    /// Whether the command prints machine-readable output (`--format json` or `sarif`):
    /// then nothing but data is printed, so registry progress bars stay off too.
    pub fn machine_output(&self) -> bool {
        let machine = |f: ReportFormat| {
            matches!(
                f,
                ReportFormat::Json
                    | ReportFormat::Sarif
                    | ReportFormat::Checkstyle
                    | ReportFormat::Gitlab
            )
        };
        match self {
            Command::Build(a) => a.format == Format::Json,
            Command::Validate(a) => a.format == Format::Json,
            Command::Inspect(a) => a.format == Format::Json,
            Command::Ls(a) => a.format == Format::Json,
            Command::Diff(a) => a.format == Format::Json,
            Command::Layers(a) => a.format == Format::Json,
            Command::Audit(a) => machine(a.check.format),
            Command::Doctor(a) => a.format == Format::Json,
            Command::Lint(a) => machine(a.check.format),
            Command::Sbom(a) => !a.attached,
            // The screen is the browser's: progress bars on stderr would draw over it.
            Command::Browse(_) => true,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Every form an image argument takes; each image argument's help lists them all.
    const FORMS: [&str; 6] = [
        "oci:DIR[:REF]",
        "oci-archive:FILE[:REF]",
        "docker-archive:FILE[:REPO:TAG]",
        "podman:NAME",
        "docker:NAME",
        "docker://HOST[:PORT]/REPO[:TAG|@DIGEST]",
    ];

    #[test]
    fn every_image_argument_lists_every_form_docker_scheme_included() {
        let cli = Cli::command();
        let mut checked = 0;
        for sub in cli.get_subcommands() {
            for arg in sub.get_arguments() {
                let id = arg.get_id().as_str();
                if !matches!(id, "image" | "image_a" | "outputs" | "output") {
                    continue;
                }
                let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
                for form in FORMS {
                    assert!(
                        help.contains(form),
                        "husk {} {id}: {form} missing from {help:?}",
                        sub.get_name()
                    );
                }
                checked += 1;
            }
        }
        assert!(checked >= 14, "only {checked} image arguments found");
        let pull = cli.find_subcommand("pull").unwrap();
        let reference = pull
            .get_arguments()
            .find(|a| a.get_id() == "reference")
            .unwrap();
        assert!(
            reference
                .get_help()
                .unwrap()
                .to_string()
                .contains("docker://HOST[:PORT]/REPO[:TAG|@DIGEST]")
        );
    }
}
