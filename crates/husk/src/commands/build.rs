//! `husk build`: flags (+ husk.toml) -> BuildRequest -> husk_build::build -> sinks.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use husk_build::{BuildError, BuildOptions, CargoOptions, Environment};
use husk_formats::Engine;
use husk_transport::{CopyOptions, ImageRef, LocalRef, Source};
use serde::Serialize;

use crate::cli::{BuildArgs, Format, LoadEngine};
use crate::exit::Exit;
use crate::output::{Printer, bytes};

/// Settings read from the environment (only the CLI reads it).
pub fn environment(no_cache: bool) -> Environment {
    let cache_dir = if no_cache {
        None
    } else {
        std::env::var_os("HUSK_CACHE_DIR")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("husk")))
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/husk")))
            .map(|d| d.join("layers"))
    };
    Environment {
        source_date_epoch: std::env::var("SOURCE_DATE_EPOCH")
            .ok()
            .filter(|s| !s.is_empty()),
        cache_dir,
    }
}

fn non_empty<T>(v: Vec<T>) -> Option<Vec<T>> {
    (!v.is_empty()).then_some(v)
}

/// The options the flags set (only those given, so they override the file).
fn flag_options(a: &BuildArgs) -> BuildOptions {
    BuildOptions {
        entrypoint: a.entrypoint.clone(),
        dest: a.dest.clone(),
        args: non_empty(a.args.clone()),
        cmd: non_empty(a.cmd.clone()),
        files: non_empty(a.files.clone()),
        user: a.user.clone(),
        user_name: a.user_name.clone(),
        allow_root: a.allow_root.then_some(true),
        workdir: a.workdir.clone(),
        env: non_empty(a.env.clone()),
        labels: non_empty(a.labels.clone()),
        annotations: non_empty(a.annotations.clone()),
        expose: non_empty(a.expose.clone()),
        stop_signal: a.stop_signal.clone(),
        healthcheck: non_empty(a.healthcheck.clone()),
        tags: non_empty(a.tags.clone()),
        compression: a.compression.clone(),
        ca_certs: if a.no_ca_certs {
            Some("none".into())
        } else {
            a.ca_certs.as_ref().map(|p| p.display().to_string())
        },
        libraries: a.no_libraries.then_some(false),
        nss: a.no_nss.then_some(false),
        passwd: a.no_passwd.then_some(false),
        tmp: a.no_tmp.then_some(false),
        tzdata: a.tzdata.then_some(true),
        outputs: non_empty(a.outputs.clone()),
        load: a.load.map(|_| true),
        cargo: cargo_flags(a),
    }
}

fn cargo_flags(a: &BuildArgs) -> Option<CargoOptions> {
    let c = CargoOptions {
        manifest_path: a.manifest_path.clone(),
        package: a.package.clone(),
        bin: a.bin.clone(),
        profile: a.cargo_profile.clone(),
        target: a.target.clone(),
        static_link: a.static_link.then_some(true),
        features: non_empty(a.features.clone()),
    };
    (a.cargo || c != CargoOptions::default()).then_some(c)
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

/// Write the built image to every output, then load it into `load`'s engine, all through
/// the transport's one copy; returns what was written, for the summary.
fn write_outputs(
    ctx: &husk_transport::Context,
    image: &dyn husk_oci::Image,
    outputs: &[ImageRef],
    load: Option<Engine>,
    tags: &[String],
    printer: &Printer,
) -> Result<Vec<String>> {
    let mut written = Vec::new();
    let copy = CopyOptions {
        names: tags.to_vec(),
        ..CopyOptions::default()
    };
    for dest in outputs {
        let report = ctx.copy(Source::Image(image), dest, &copy)?;
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
        ctx.copy(Source::Image(image), &dest, &copy)
            .with_context(|| format!("cannot load the image into {}", engine.program()))?;
        written.push(format!("{}:{}", engine.program(), tags.join(",")));
    }
    Ok(written)
}

pub fn run(args: &BuildArgs, ctx: &husk_transport::Context, printer: &Printer) -> Result<Exit> {
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
    let outputs: Vec<ImageRef> = opts
        .outputs
        .clone()
        .unwrap_or_default()
        .iter()
        .chain(args.push.iter())
        .map(|o| o.parse::<ImageRef>())
        .collect::<Result<_, _>>()?;
    let load = if opts.load.unwrap_or(false) {
        Some(pick_engine(args.load.unwrap_or(LoadEngine::Auto))?)
    } else {
        None
    };
    if outputs.is_empty() && load.is_none() {
        bail!(
            "nothing to write: pass --output oci:DIR, oci-archive:FILE or docker-archive:FILE, or --load"
        );
    }
    let env = environment(args.no_cache);
    let mut opts = opts;
    if let Some(cargo) = opts.cargo.take() {
        if opts.entrypoint.is_some() {
            return Err(BuildError::EntrypointAndCargo.into());
        }
        // Check every other option before a possibly long cargo build.
        let mut probe = opts.clone();
        probe.entrypoint = Some("cargo-binary".into());
        probe.into_request(&env)?;
        for dest in &outputs {
            ctx.check_destination(dest)?;
        }
        printer.info("building the entrypoint with cargo");
        let exe = husk_build::cargo::build_binary(&cargo, Path::new("."))?;
        printer.info(format!("cargo built {}", exe.display()));
        opts.entrypoint = Some(exe);
    }
    let mut req = opts.into_request(&env)?;
    if req.tags.is_empty() {
        let name = req.dest.file_name().unwrap_or("app").to_owned();
        req.tags.push(format!("{name}:latest"));
    }
    // Refuse bad destinations before doing any work, so a bad one writes nothing anywhere.
    for dest in &outputs {
        ctx.check_destination(dest)?;
    }

    let fs = husk_elf::RealFs;
    let built = husk_build::build(&req, &fs)
        .with_context(|| format!("cannot build an image from {}", req.entrypoint.display()))?;
    let written = write_outputs(ctx, &built.image, &outputs, load, &req.tags, printer)?;

    let s = &built.summary;
    match args.format {
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
                tags: &req.tags,
                outputs: written,
            };
            printer.data(serde_json::to_string_pretty(&j)?)?;
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
            for w in &written {
                printer.info(format!("  wrote {w}"));
            }
            printer.data(s.digest.to_string())?;
        }
    }
    Ok(Exit::Success)
}
