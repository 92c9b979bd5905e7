//! Registry plumbing of the CLI: the global registry flags become
//! `husk_registry::RegistryOptions` (the environment is read here and nowhere else:
//! `REGISTRY_AUTH_FILE`, `XDG_RUNTIME_DIR`, `XDG_CONFIG_HOME`, `DOCKER_CONFIG`, `HOME`,
//! `CI`), per-blob progress bars on a terminal (indicatif, quiet in CI and pipes), and
//! the `-v` request log on stderr.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::{Context, Result};
use husk_formats::{ImageRef, RegistryRef};
use husk_oci::{Digest, Image, OwnedIndex, Platform};
use husk_registry::{
    BlobOutcome, NoProgress, PlainHttp, Progress, PushOptions, PushReport, RegistryImage,
    RegistryOptions, Remote,
};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::RegistryFlags;

static FLAGS: OnceLock<(RegistryFlags, bool)> = OnceLock::new();

/// Remember the global registry flags (and --quiet) for every command.
pub fn init(flags: &RegistryFlags, quiet: bool) {
    let _ = FLAGS.set((flags.clone(), quiet));
}

fn flags() -> (RegistryFlags, bool) {
    FLAGS.get().cloned().unwrap_or_default()
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The auth files credentials are read from, in order: `--authfile`, else
/// `$REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json`,
/// `$XDG_CONFIG_HOME/containers/auth.json` (podman), then `$DOCKER_CONFIG/config.json`
/// or `~/.docker/config.json` (docker).
pub fn auth_files(flag: Option<&PathBuf>) -> Vec<PathBuf> {
    if let Some(f) = flag {
        return vec![f.clone()];
    }
    let home = env_path("HOME");
    let mut v = Vec::new();
    if let Some(f) = env_path("REGISTRY_AUTH_FILE") {
        v.push(f);
    }
    if let Some(d) = env_path("XDG_RUNTIME_DIR") {
        v.push(d.join("containers/auth.json"));
    }
    if let Some(d) =
        env_path("XDG_CONFIG_HOME").or_else(|| home.as_ref().map(|h| h.join(".config")))
    {
        v.push(d.join("containers/auth.json"));
    }
    if let Some(d) = env_path("DOCKER_CONFIG").or_else(|| home.as_ref().map(|h| h.join(".docker")))
    {
        v.push(d.join("config.json"));
    }
    v
}

/// Where `husk login` stores credentials: `--authfile`, else the podman auth file
/// (`$REGISTRY_AUTH_FILE`, else `$XDG_RUNTIME_DIR/containers/auth.json`), else, with
/// neither set, docker's `~/.docker/config.json` (`$DOCKER_CONFIG/config.json`).
pub fn login_file() -> Result<PathBuf> {
    if let Some(f) = flags().0.authfile {
        return Ok(f);
    }
    env_path("REGISTRY_AUTH_FILE")
        .or_else(|| env_path("XDG_RUNTIME_DIR").map(|d| d.join("containers/auth.json")))
        .or_else(|| env_path("DOCKER_CONFIG").map(|d| d.join("config.json")))
        .or_else(|| env_path("HOME").map(|h| h.join(".docker/config.json")))
        .context("no place for the auth file: set REGISTRY_AUTH_FILE or pass --authfile")
}

/// The registry options the global flags and the environment give.
pub fn options() -> RegistryOptions {
    let (f, _) = flags();
    let plain_http = match (f.insecure_http, f.insecure_http_remote) {
        (_, true) => PlainHttp::Any,
        (true, false) => PlainHttp::Loopback,
        (false, false) => PlainHttp::Never,
    };
    RegistryOptions {
        auth_files: auth_files(f.authfile.as_ref()),
        credentials: None,
        ca_certs: f.ca_cert.clone(),
        cert_dir: f.cert_dir.clone(),
        certs_d: husk_registry::tls::certs_d_roots(
            env_path("XDG_CONFIG_HOME")
                .or_else(|| env_path("HOME").map(|h| h.join(".config")))
                .as_deref(),
        ),
        plain_http,
        retry: husk_registry::RetryPolicy {
            max_attempts: f.retries.max(1),
            ..husk_registry::RetryPolicy::default()
        },
        log: (f.verbose > 0).then(|| {
            let log: husk_registry::Logger = Arc::new(|line: &str| eprintln!("husk: {line}"));
            log
        }),
        verbosity: f.verbose,
    }
}

/// Per-blob bars on stderr when it is a terminal; nothing with --quiet or machine-readable
/// output (both arrive as `quiet` from `init`), with `CI` set to anything but `false`
/// (GitHub Actions, GitLab, ... set `CI=true`; their logs are not terminals anyway, but
/// some allocate a pty), or when stderr is not a tty. stdout never gets progress.
pub fn progress(verb: &'static str) -> Arc<dyn Progress> {
    let (_, quiet) = flags();
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
    if quiet || ci || !std::io::stderr().is_terminal() {
        return Arc::new(NoProgress);
    }
    Arc::new(Bars {
        multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
        bars: Mutex::new(HashMap::new()),
        verb,
    })
}

struct Bars {
    multi: MultiProgress,
    bars: Mutex<HashMap<Digest, ProgressBar>>,
    verb: &'static str,
}

impl Progress for Bars {
    fn start(&self, digest: &Digest, size: u64) {
        let mut bars = self.bars.lock().expect("bars lock");
        let bar = bars.entry(digest.clone()).or_insert_with(|| {
            let b = self.multi.add(ProgressBar::new(size));
            b.set_style(
                ProgressStyle::with_template(
                    "{msg:24} [{bar:30}] {bytes:>10}/{total_bytes:10} {bytes_per_sec:>12}",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            b
        });
        bar.set_message(format!("{} {}", self.verb, digest.short()));
        bar.set_position(0);
    }
    fn position(&self, digest: &Digest, position: u64) {
        if let Some(b) = self.bars.lock().expect("bars lock").get(digest) {
            b.set_position(position);
        }
    }
    fn finish(&self, digest: &Digest, outcome: BlobOutcome) {
        if let Some(b) = self.bars.lock().expect("bars lock").get(digest) {
            let word = match outcome {
                BlobOutcome::Existed => "exists",
                BlobOutcome::Mounted => "mounted",
                BlobOutcome::Uploaded => "pushed",
                BlobOutcome::Downloaded => "pulled",
            };
            b.finish_with_message(format!("{word} {}", digest.short()));
        }
    }
}

/// Open a registry image (with download progress).
pub fn open(reference: &RegistryRef, platform: Option<&Platform>) -> Result<RegistryImage> {
    let image = husk_registry::open(reference, platform, &options())
        .with_context(|| format!("cannot open {reference}"))?;
    Ok(image.with_progress(progress("pull")))
}

/// What a reference opened whole names.
pub enum Opened {
    Image(Box<dyn Image>),
    Index(OwnedIndex),
}

/// Open `reference` for copying: with a platform, that one image; without, the whole
/// multi-platform index when it names one (a registry index or manifest list, or an OCI
/// layout entry that is an index), else the image.
pub fn open_whole(reference: &ImageRef, platform: Option<&Platform>) -> Result<Opened> {
    if let ImageRef::Registry(r) = reference {
        if platform.is_some() {
            return Ok(Opened::Image(Box::new(open(r, platform)?)));
        }
        let remote = husk_registry::open_remote(r, &options(), Some(progress("pull")))
            .with_context(|| format!("cannot open {r}"))?;
        return Ok(match remote {
            Remote::Image(i) => Opened::Image(Box::new(i)),
            Remote::Index(i) => Opened::Index(i),
        });
    }
    if platform.is_none()
        && let Some(index) = husk_formats::open_index(reference)
            .with_context(|| format!("cannot open {reference}"))?
    {
        return Ok(Opened::Index(index));
    }
    Ok(Opened::Image(
        husk_formats::open(reference, platform)
            .with_context(|| format!("cannot open {reference}"))?,
    ))
}

/// A source in the same registry is mounted into `dest`'s repository, not re-uploaded.
fn with_mount(mut tune: PushOptions, source: Option<&ImageRef>, dest: &RegistryRef) -> PushOptions {
    if let Some(ImageRef::Registry(src)) = source
        && src.domain == dest.domain
        && tune.mount_from.is_none()
    {
        tune.mount_from = Some(src.repository.clone());
    }
    tune
}

/// Push a whole index to `dest` (same mount rule as [`push`]).
pub fn push_index(
    index: &OwnedIndex,
    source: Option<&ImageRef>,
    dest: &RegistryRef,
    tune: PushOptions,
) -> Result<PushReport> {
    let tune = with_mount(tune, source, dest);
    let progress = progress("push");
    husk_registry::push_index(index, dest, &options(), &tune, progress.as_ref())
        .with_context(|| format!("cannot push the index to {dest}"))
}

/// Check a registry destination before work: the flags must allow its scheme.
pub fn check_destination(dest: &ImageRef) -> Result<()> {
    match dest {
        ImageRef::Registry(r) => {
            let o = options();
            if o.plain_http == PlainHttp::Loopback && !r.is_loopback() {
                return Err(husk_registry::RegistryError::InsecureRefused {
                    host: r.domain.clone(),
                }
                .into());
            }
            Ok(())
        }
        other => Ok(husk_formats::check_destination(other)?),
    }
}

/// Push `image` to `dest`; a source in the same registry is mounted, not re-uploaded.
pub fn push(
    image: &dyn Image,
    source: Option<&ImageRef>,
    dest: &RegistryRef,
    tune: PushOptions,
) -> Result<PushReport> {
    let tune = with_mount(tune, source, dest);
    let progress = progress("push");
    husk_registry::push(image, dest, &options(), &tune, progress.as_ref())
        .with_context(|| format!("cannot push to {dest}"))
}

/// One line about an index push: where, how many images, and what was sent.
pub fn index_summary(index: &OwnedIndex, report: &PushReport) -> String {
    format!(
        "{} (an index of {} images: {})",
        summary(report),
        index.images().len(),
        platforms(index)
    )
}

/// The platforms an index lists, for messages.
pub fn platforms(index: &OwnedIndex) -> String {
    index
        .document()
        .manifests
        .iter()
        .map(|d| {
            d.platform
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_else(|| "unspecified".into())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One line about a push: where, digest, and what was sent.
pub fn summary(report: &PushReport) -> String {
    let count = |o| report.blobs.iter().filter(|(_, x)| *x == o).count();
    format!(
        "pushed {} ({} blobs uploaded, {} already there, {} mounted; {} sent)",
        report.references.join(", "),
        count(BlobOutcome::Uploaded),
        count(BlobOutcome::Existed),
        count(BlobOutcome::Mounted),
        crate::output::bytes(report.uploaded_bytes())
    )
}
