//! `husk build`: flags (+ husk.toml) -> BuildRequest -> husk_build::build -> sinks.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use husk_build::{
    BuildOptions, BuildRequest, CaCerts, CargoOptions, CheckedOptions, ConfigOptions,
    ContentOptions, Environment, OptionGroups, OutputOptions, PlatformSpec, Program,
    ProgramOptions, Summary, TraceOptions,
};
use husk_formats::Engine;
use husk_transport::{CopyOptions, ImageRef, LocalRef, Source};
use serde::Serialize;

use crate::cli::{
    BuildArgs, CargoArgs, ConfigArgs, ContentArgs, Format, LoadEngine, OutputArgs, PlatformArgs,
    TraceArgs,
};
use crate::exit::Exit;
use crate::output::{Printer, bytes};

/// Settings read from the environment (only the CLI reads it).
pub fn environment(no_cache: bool) -> Environment {
    // husk's cache root: $HUSK_CACHE_DIR, else $XDG_CACHE_HOME/husk, else ~/.cache/husk.
    let root = std::env::var_os("HUSK_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("husk")))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/husk")));
    Environment {
        source_date_epoch: std::env::var("SOURCE_DATE_EPOCH")
            .ok()
            .filter(|s| !s.is_empty()),
        cache_dir: root
            .as_ref()
            .filter(|_| !no_cache)
            .map(|d| d.join("layers")),
        // Kept with --no-cache: it only decides which dpkg lists are read.
        dpkg_index_dir: root.map(|d| d.join("dpkg")),
        cargo: std::env::var_os("CARGO").filter(|c| !c.is_empty()),
        rustflags: std::env::var("RUSTFLAGS").ok(),
        rustc: std::env::var_os("RUSTC").filter(|c| !c.is_empty()),
        cargo_home: std::env::var_os("CARGO_HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo"))),
        target_linkers: std::env::vars_os()
            .filter(|(_, v)| !v.is_empty())
            .filter_map(|(k, _)| k.into_string().ok())
            .filter(|k| k.starts_with("CARGO_TARGET_") && k.ends_with("_LINKER"))
            .collect(),
        home: std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from),
    }
}

fn non_empty<T: Clone>(v: &[T]) -> Option<Vec<T>> {
    (!v.is_empty()).then(|| v.to_vec())
}

/// The options the flags set (only those given, so they override the file). Each group's
/// pattern names every flag of the group, so a new flag that is not turned into an option
/// does not compile.
fn flag_options(a: &BuildArgs) -> BuildOptions {
    let BuildArgs {
        entrypoint,
        args,
        config: _,
        dest,
        run,
        contents,
        trace,
        output,
        platforms,
        cargo_args,
        no_cache: _,
        format: _,
    } = a;
    BuildOptions::from_groups(OptionGroups {
        program: ProgramOptions {
            entrypoint: entrypoint.clone(),
            dest: dest.clone(),
            args: non_empty(args),
            cargo: cargo_flags(cargo_args),
            platforms: platform_flags(platforms),
        },
        config: config_flags(run),
        contents: content_flags(contents),
        trace: trace_flags(trace),
        output: output_flags(output),
    })
}

fn config_flags(a: &ConfigArgs) -> ConfigOptions {
    let ConfigArgs {
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
    } = a;
    ConfigOptions {
        cmd: non_empty(cmd),
        user: user.clone(),
        user_name: user_name.clone(),
        allow_root: allow_root.then_some(true),
        workdir: workdir.clone(),
        env: non_empty(env),
        labels: non_empty(labels),
        annotations: non_empty(annotations),
        expose: non_empty(expose),
        stop_signal: stop_signal.clone(),
        healthcheck: non_empty(healthcheck),
    }
}

fn content_flags(a: &ContentArgs) -> ContentOptions {
    let ContentArgs {
        files,
        ca_certs,
        no_ca_certs,
        no_libraries,
        no_nss,
        no_passwd,
        no_tmp,
        tzdata,
        no_package_db,
    } = a;
    ContentOptions {
        files: non_empty(files),
        ca_certs: match (no_ca_certs, ca_certs) {
            (true, _) => Some(CaCerts::None),
            (false, Some(path)) => Some(CaCerts::File(path.clone())),
            (false, None) => None,
        },
        libraries: no_libraries.then_some(false),
        nss: no_nss.then_some(false),
        passwd: no_passwd.then_some(false),
        tmp: no_tmp.then_some(false),
        tzdata: tzdata.then_some(true),
        package_db: no_package_db.then_some(false),
    }
}

fn trace_flags(a: &TraceArgs) -> TraceOptions {
    let TraceArgs {
        trace,
        trace_runs,
        trace_timeout,
        trace_env,
        trace_workdir,
        trace_excludes,
        trace_includes,
        trace_allow_failure,
        trace_report,
        check,
    } = a;
    TraceOptions {
        trace: trace.then_some(true),
        trace_runs: non_empty(trace_runs),
        trace_timeout: trace_timeout.clone(),
        trace_env: non_empty(trace_env),
        trace_workdir: trace_workdir.clone(),
        trace_excludes: non_empty(trace_excludes),
        trace_includes: non_empty(trace_includes),
        trace_allow_failure: trace_allow_failure.then_some(true),
        trace_report: trace_report.clone(),
        check: check.then_some(true),
    }
}

/// The output options; `--push` is an `--output` the CLI adds when it writes them.
fn output_flags(a: &OutputArgs) -> OutputOptions {
    let OutputArgs {
        tags,
        compression,
        sbom,
        sbom_output,
        outputs,
        push: _,
        load,
        platform,
    } = a;
    OutputOptions {
        tags: non_empty(tags),
        compression: compression.clone(),
        sbom: sbom.clone(),
        sbom_output: sbom_output.clone(),
        outputs: non_empty(outputs),
        load: load.map(|_| true),
        output_platform: platform.clone(),
    }
}

/// `--platform-exe` and `--sysroot`, one entry per flag (the build checks that each
/// platform has one of each at most); none given: the file's `[[platform]]` tables stay.
fn platform_flags(a: &PlatformArgs) -> Option<Vec<PlatformSpec>> {
    let PlatformArgs {
        platform_exes,
        sysroots,
    } = a;
    let mut specs: Vec<PlatformSpec> = platform_exes
        .iter()
        .map(|(platform, exe)| PlatformSpec {
            platform: platform.clone(),
            entrypoint: Some(exe.clone()),
            sysroot: None,
        })
        .collect();
    for (platform, dir) in sysroots {
        match specs
            .iter_mut()
            .find(|s| &s.platform == platform && s.sysroot.is_none())
        {
            Some(spec) => spec.sysroot = Some(dir.clone()),
            None => specs.push(PlatformSpec {
                platform: platform.clone(),
                entrypoint: None,
                sysroot: Some(dir.clone()),
            }),
        }
    }
    non_empty(&specs)
}

/// The Cargo build the flags ask for: `--cargo`, or any Cargo option.
fn cargo_flags(a: &CargoArgs) -> Option<CargoOptions> {
    let CargoArgs {
        cargo,
        package,
        bin,
        manifest_path,
        cargo_profile,
        targets,
        optional_targets,
        static_link,
        features,
    } = a;
    let c = CargoOptions {
        manifest_path: manifest_path.clone(),
        package: package.clone(),
        bin: bin.clone(),
        profile: cargo_profile.clone(),
        targets: non_empty(targets),
        optional_targets: non_empty(optional_targets),
        static_link: static_link.then_some(true),
        features: non_empty(features),
    };
    (*cargo || c != CargoOptions::default()).then_some(c)
}

/// The options of `./husk.toml` or `--config FILE` (when there is one), with the flags
/// over them, over the `[package.metadata.husk]` table of the package a Cargo build
/// builds (flags > husk.toml > Cargo.toml).
fn read_options(args: &BuildArgs, printer: &Printer) -> Result<BuildOptions> {
    let file_opts = match &args.config {
        Some(path) => Some(BuildOptions::from_toml_file(path)?),
        None if Path::new("husk.toml").is_file() => {
            printer.info("using options from ./husk.toml");
            Some(BuildOptions::from_toml_file(Path::new("husk.toml"))?)
        }
        None => None,
    };
    let opts = match file_opts {
        Some(f) => f.merged(flag_options(args)),
        None => flag_options(args),
    };
    Ok(match cargo_metadata(&opts, printer)? {
        Some(meta) => meta.merged(opts),
        None => opts,
    })
}

/// The `[package.metadata.husk]` options of the package a Cargo build builds: its
/// `--manifest-path`, else `./Cargo.toml` (a workspace member is named by its own
/// manifest path). None without a Cargo build, a manifest or the table.
fn cargo_metadata(opts: &BuildOptions, printer: &Printer) -> Result<Option<BuildOptions>> {
    let Some(cargo) = &opts.cargo else {
        return Ok(None);
    };
    let manifest = cargo
        .manifest_path
        .clone()
        .unwrap_or_else(|| PathBuf::from("Cargo.toml"));
    if !manifest.is_file() {
        return Ok(None);
    }
    let meta = BuildOptions::from_cargo_manifest(&manifest)?;
    if meta.is_some() {
        printer.info(format!(
            "using options from [package.metadata.husk] in {}",
            manifest.display()
        ));
    }
    Ok(meta)
}

/// The requests for the programs: the given path, or the executables Cargo builds (run
/// only after every option and destination was checked; one per target), and one per
/// `--platform-exe`.
fn with_program(
    checked: CheckedOptions,
    env: &Environment,
    printer: &Printer,
) -> Result<Vec<BuildRequest>> {
    let exes = match &checked.entrypoint.main {
        None => Vec::new(),
        Some(Program::Path(path)) => vec![path.clone()],
        Some(Program::Cargo(cargo)) => cargo_build(cargo, env, printer)?,
    };
    Ok(checked.into_requests(exes)?)
}

/// Every target's check, then one Cargo run per target; says what it built and skipped.
fn cargo_build(cargo: &CargoOptions, env: &Environment, printer: &Printer) -> Result<Vec<PathBuf>> {
    let cwd = Path::new(".");
    let plan = husk_build::cargo::plan_runs(cargo, cwd, env)?;
    for (target, why) in &plan.skipped {
        printer.info(format!("skipping optional target {target}: {why}"));
    }
    for run in &plan.runs {
        if let (Some(target), Some((var, linker))) = (&run.target, &run.linker) {
            printer.info(format!(
                "linking {target} with {} (setting {var}; set it yourself to choose another)",
                linker.to_string_lossy()
            ));
        }
    }
    printer.info(match plan.runs.len() {
        1 => "building the entrypoint with cargo".to_owned(),
        n => format!("building the entrypoint with cargo for {n} targets"),
    });
    let built = husk_build::cargo::build_binaries(cargo, &plan, cwd, env)?;
    for b in &built {
        if b.auditable {
            printer.info(format!(
                "cargo auditable built {} (its crate list is embedded for scanners)",
                b.executable.display()
            ));
        } else {
            printer.info(format!(
                "cargo built {}; cargo-auditable is not installed, so scanners will not see its crates (cargo install cargo-auditable --locked)",
                b.executable.display()
            ));
        }
    }
    Ok(built.into_iter().map(|b| b.executable).collect())
}

fn pick_engine(choice: LoadEngine) -> Result<Engine> {
    Ok(match choice {
        LoadEngine::Podman => Engine::Podman,
        LoadEngine::Docker => Engine::Docker,
        LoadEngine::Auto => {
            if husk_formats::engine_available(Engine::Podman) {
                Engine::Podman
            } else if husk_formats::engine_available(Engine::Docker) {
                Engine::Docker
            } else {
                bail!(
                    "--load found neither podman nor docker on PATH; install one or write the image with --output"
                )
            }
        }
    })
}

/// `--trace-report FILE`: the JSON of what the trace added and skipped.
fn write_report(path: &Path, traced: &husk_build::Traced) -> Result<()> {
    let json = serde_json::to_vec_pretty(&traced.report())?;
    std::fs::write(path, json)
        .with_context(|| format!("cannot write the --trace-report file {}", path.display()))
}

/// `--check`: load the image into podman unless `--load podman` did, run each scenario in
/// it and compare with the host; the image loaded only for the check is untagged after.
fn check_image(
    ctx: &husk_transport::Context,
    built: &husk_build::BuildOutput,
    req: &BuildRequest,
    loaded: bool,
    printer: &Printer,
) -> Result<()> {
    use husk_oci::Image;
    let runs = husk_build::check::runs(req, built.traced.as_ref().map(|t| t.runs.as_slice()))?;
    let id = built.image.manifest()?.config.digest.hex().to_owned();
    let check_tag = format!("localhost/husk-check:{}", &id[..12]);
    if !loaded {
        let dest = ImageRef::Local(LocalRef::Engine {
            engine: Engine::Podman,
            name: check_tag.clone(),
        });
        let copy = CopyOptions {
            names: vec![check_tag.clone()],
            ..CopyOptions::default()
        };
        ctx.copy(Source::Image(&built.image), &dest, &copy)
            .context("--check: cannot load the image into podman")?;
    }
    let result = runs
        .iter()
        .try_for_each(|run| husk_build::check::check_one(req, &id, run));
    if !loaded {
        let _ = std::process::Command::new("podman")
            .args(["rmi", "--force", &check_tag])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
    result?;
    printer.info(format!(
        "  check: {} run(s) in podman (read-only, no capabilities, no network) matched the host",
        runs.len()
    ));
    Ok(())
}

#[derive(Serialize)]
struct JsonSummary<'a> {
    digest: String,
    platform: String,
    user: &'a str,
    entrypoint: &'a [String],
    files: usize,
    compressed_size: u64,
    layers: Vec<JsonLayer<'a>>,
    libraries: &'a [String],
    trace: Option<&'a husk_build::TraceSummary>,
    packages: usize,
    package_db: bool,
    tags: &'a [String],
    outputs: Vec<String>,
}

#[derive(Serialize)]
struct JsonLayer<'a> {
    digest: String,
    size: u64,
    entries: usize,
    reused: bool,
    created_by: &'a str,
}

/// Whether the image goes only into an engine (`--load` and no output): engines load an
/// uncompressed docker-archive, so such a build compresses nothing.
fn load_only(outputs: &[ImageRef], load: Option<Engine>) -> bool {
    outputs.is_empty() && load.is_some()
}

/// Write the built image (or index) to every output, then load it into `load`'s engine,
/// all through the transport's one copy; returns what was written, for the summary.
/// `platform` picks the image of an index for outputs that hold one image.
pub(crate) fn write_outputs(
    ctx: &husk_transport::Context,
    source: Source<'_>,
    outputs: &[ImageRef],
    load: Option<Engine>,
    tags: &[String],
    platform: Option<husk_oci::Platform>,
    printer: &Printer,
) -> Result<Vec<String>> {
    let mut written = Vec::new();
    let copy = CopyOptions {
        names: tags.to_vec(),
        platform,
        ..CopyOptions::default()
    };
    for dest in outputs {
        let report = ctx.copy(source, dest, &copy)?;
        if let Some(push) = &report.push {
            printer.info(format!("  {}", crate::summary::push_line(push)));
        }
        written.push(dest.to_string());
    }
    if let Some(engine) = load {
        let dest = ImageRef::Local(LocalRef::Engine {
            engine,
            name: tags.first().cloned().unwrap_or_default(),
        });
        ctx.copy(source, &dest, &copy)
            .with_context(|| format!("cannot load the image into {}", engine.program()))?;
        written.push(format!("{}:{}", engine.program(), tags.join(",")));
    }
    Ok(written)
}

/// The outputs (`--output`s and `--push`es) and the engine `--load` writes to.
fn destinations(opts: &BuildOptions, args: &BuildArgs) -> Result<(Vec<ImageRef>, Option<Engine>)> {
    let outputs: Vec<ImageRef> = opts
        .outputs
        .clone()
        .unwrap_or_default()
        .iter()
        .chain(args.output.push.iter())
        .map(|o| o.parse::<ImageRef>())
        .collect::<Result<_, _>>()?;
    let load = if opts.load.unwrap_or(false) {
        Some(pick_engine(args.output.load.unwrap_or(LoadEngine::Auto))?)
    } else {
        None
    };
    if outputs.is_empty() && load.is_none() {
        bail!(
            "nothing to write: pass --output oci:DIR, oci-archive:FILE or docker-archive:FILE, or --load"
        );
    }
    Ok((outputs, load))
}

pub fn run(args: &BuildArgs, ctx: &husk_transport::Context, printer: &Printer) -> Result<Exit> {
    let opts = read_options(args, printer)?;
    let (outputs, load) = destinations(&opts, args)?;
    let check = opts.check.unwrap_or(false);
    if check && !husk_formats::engine_available(Engine::Podman) {
        bail!(
            "--check runs the image with podman, which is not installed (or not on PATH); install podman or drop --check"
        );
    }
    let report = opts.trace_report.clone();
    let sbom_dir = opts.sbom_output.clone();
    let platform = super::build_index::output_platform(opts.output_platform.as_deref())?;
    let env = environment(args.no_cache);
    let checked = opts.into_request(&env)?;
    // Refuse bad destinations before doing any work (a Cargo build included), so a bad one
    // writes nothing anywhere.
    for dest in &outputs {
        ctx.check_destination(dest)?;
    }
    let mut reqs = with_program(checked, &env, printer)?;
    if reqs.len() > 1 {
        if check {
            bail!(
                "--check runs one image; drop it for a multi-platform build, or build and check one platform at a time"
            );
        }
        let to = super::build_index::Outputs {
            outputs: &outputs,
            load,
            platform,
            sbom_dir: sbom_dir.as_deref(),
        };
        return super::build_index::run(args.format, ctx, &reqs, &to, printer);
    }
    let mut req = reqs.pop().context("no program to build")?;
    if load_only(&outputs, load) && req.encoding.compression != husk_layer::Compression::None {
        // The engine takes an uncompressed docker-archive: compressing would be undone.
        req.encoding.compression = husk_layer::Compression::None;
        printer.info(format!(
            "layers left uncompressed: the image only goes into {}, which stores them so",
            load.map_or("the engine", Engine::program)
        ));
    }

    let fs = husk_elf::RealFs;
    let built = husk_build::build(&req, &fs)
        .with_context(|| format!("cannot build an image from {}", req.entrypoint.display()))?;
    if let (Some(path), Some(traced)) = (&report, &built.traced) {
        write_report(path, traced)?;
    }
    let mut written = write_outputs(
        ctx,
        Source::Image(&built.image),
        &outputs,
        load,
        &req.tags,
        None,
        printer,
    )?;
    written.extend(sbom_documents(
        ctx,
        &built,
        &req,
        &outputs,
        sbom_dir.as_deref(),
        printer,
    )?);
    if check {
        let loaded = load == Some(Engine::Podman);
        check_image(ctx, &built, &req, loaded, printer)?;
    }

    print_summary(args.format, &built.summary, &req, written, printer)?;
    Ok(Exit::Success)
}

/// `--sbom`: the documents written (the paths, for the summary) and attached to the image
/// at every output that keeps referrers.
fn sbom_documents(
    ctx: &husk_transport::Context,
    built: &husk_build::BuildOutput,
    req: &BuildRequest,
    outputs: &[ImageRef],
    dir: Option<&Path>,
    printer: &Printer,
) -> Result<Vec<String>> {
    let documents = super::sbom_files::write_documents(dir, outputs, &req.tags, None, &built.sbom)?;
    let created = (req.encoding.epoch > 0).then(|| husk_build::rfc3339(req.encoding.epoch));
    for line in
        super::sbom_files::attach_documents(ctx, &built.image, outputs, &built.sbom, created)?
    {
        printer.info(format!("  {line}"));
    }
    Ok(documents.iter().map(|p| p.display().to_string()).collect())
}

/// What the summary says about the image's package records.
fn packages_line(s: &Summary, req: &BuildRequest) -> String {
    if s.package_db {
        format!(
            "  {} Debian packages recorded in /var/lib/dpkg/status.d (scanners see them; --no-package-db leaves them out)",
            s.packages
        )
    } else if !req.contents.package_db {
        "  no package records (--no-package-db): scanners will see no packages".to_owned()
    } else {
        "  no Debian package supplied the image's files: no package records".to_owned()
    }
}

/// The summary of a build: JSON, or text lines on stderr and the digest on stdout.
fn print_summary(
    format: Format,
    s: &Summary,
    req: &BuildRequest,
    written: Vec<String>,
    printer: &Printer,
) -> Result<()> {
    match format {
        Format::Json => {
            let j = JsonSummary {
                digest: s.digest.to_string(),
                platform: s.platform.to_string(),
                user: &s.user,
                entrypoint: &s.entrypoint,
                files: s.files,
                compressed_size: s.compressed_size,
                layers: s
                    .layers
                    .iter()
                    .map(|l| JsonLayer {
                        digest: l.digest.to_string(),
                        size: l.size,
                        entries: l.entries,
                        reused: l.reused,
                        created_by: &l.what,
                    })
                    .collect(),
                libraries: &s.libraries,
                trace: s.trace.as_ref(),
                packages: s.packages,
                package_db: s.package_db,
                tags: &req.tags,
                outputs: written,
            };
            printer.json(serde_json::to_string_pretty(&j)?)?;
        }
        Format::Text => {
            printer.info(format!(
                "built {} ({}) from {}",
                s.digest,
                s.platform,
                req.entrypoint.display()
            ));
            for l in &s.layers {
                printer.info(format!(
                    "  layer {} {:>10}  {} entries{}  {}",
                    l.digest.short(),
                    bytes(l.size),
                    l.entries,
                    if l.reused { " (cached)" } else { "" },
                    l.what
                ));
            }
            printer.info(format!(
                "  {} layers, {} files, {} compressed; user {}; entrypoint {:?}",
                s.layers.len(),
                s.files,
                bytes(s.compressed_size),
                s.user,
                s.entrypoint
            ));
            if let Some(t) = &s.trace {
                print_trace_summary(t, printer);
            }
            printer.info(packages_line(s, req));
            for w in &written {
                printer.info(format!("  wrote {w}"));
            }
            printer.data(s.digest.to_string())?;
        }
    }
    Ok(())
}

/// The trace's lines of the text summary: what it added per top-level directory and what
/// it skipped per reason.
fn print_trace_summary(t: &husk_build::TraceSummary, printer: &Printer) {
    let list = |m: &std::collections::BTreeMap<String, usize>| {
        m.iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    printer.info(format!(
        "  trace added {} entries ({}){}",
        t.added,
        list(&t.added_per_top),
        if t.in_other_layers > 0 {
            format!("; {} more were already in other layers", t.in_other_layers)
        } else {
            String::new()
        }
    ));
    if !t.skipped_per_reason.is_empty() {
        printer.info(format!(
            "  trace skipped {} (see --trace-report for each path)",
            list(&t.skipped_per_reason)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_engine_load_skips_compression() {
        let oci: ImageRef = "oci:/tmp/out".parse().unwrap();
        let push: ImageRef = "docker://localhost:5000/a:1".parse().unwrap();
        assert!(load_only(&[], Some(Engine::Podman)));
        assert!(load_only(&[], Some(Engine::Docker)));
        assert!(!load_only(&[oci], Some(Engine::Podman)));
        assert!(!load_only(&[push], Some(Engine::Podman)));
        assert!(!load_only(&[], None));
    }
}
