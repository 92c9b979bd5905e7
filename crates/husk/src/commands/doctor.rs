//! `husk doctor IMAGE [--run] [-- ARGS...]`: why an image will not start.
//!
//! Statically, with no engine: the merged view is built and only the files the start
//! needs are read (`husk_audit::scan_for_start`), and `husk_audit::doctor` runs the start
//! rules as the image's user on Entrypoint + Cmd (or Entrypoint + ARGS, as `docker run
//! IMAGE ARGS` would). With `--run` the image is also run with podman under a timeout, and
//! podman's message is tied back to the static causes. A multi-platform index is examined
//! image by image (or the one `--platform` picks), each as an engine on the platform the
//! index lists it under would run it; `--run` takes one, this machine's unless `--platform`
//! names another. Exit 0 when nothing blocks start, 1 when something
//! does on any platform (or the run failed), 2 on errors.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use clap::Args;
use husk_audit::doctor::{self, Diagnosis, Explanation, RunOutcome};
use husk_audit::{ScanOptions, scan_for_start};
use husk_formats::{Engine, LocalRef};
use husk_oci::{Image, OwnedIndex, Platform, PlatformChoice};
use husk_transport::{CopyOptions, ImageRef, Opened, Source};
use serde::Serialize;

use crate::cli::{Format, LimitArgs};
use crate::exit::Exit;
use crate::open::{exactly, index_entries};
use crate::output::Printer;

/// Most bytes of the container's stderr kept for the explanation.
const MAX_STDERR: u64 = 64 << 10;

#[derive(Args, Debug)]
pub struct DoctorArgs {
    /// The image: oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REPO:TAG], podman:NAME, docker:NAME (local engines) or docker://HOST[:PORT]/REPO[:TAG|@DIGEST] (a registry).
    pub image: String,
    /// Arguments that replace the image's Cmd, as `docker run IMAGE ARGS...` does (after `--`).
    #[arg(last = true)]
    pub args: Vec<String>,
    /// Examine only this platform's image of a multi-platform index, e.g. linux/arm64 [default: every image].
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Also run the image with podman and explain how it failed.
    #[arg(long)]
    pub run: bool,
    /// Seconds the container may run with --run before it counts as started.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub timeout: u64,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// The JSON document.
#[derive(Serialize)]
struct Output<'a> {
    #[serde(flatten)]
    diagnosis: &'a Diagnosis,
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<RunReport<'a>>,
}

#[derive(Serialize)]
struct RunReport<'a> {
    outcome: &'a RunOutcome,
    explanation: &'a Explanation,
}

pub fn run(args: &DoctorArgs, ctx: &husk_transport::Context, printer: &Printer) -> Result<Exit> {
    let parsed: ImageRef = args.image.parse()?;
    let image = match ctx.open_whole(&parsed, None)? {
        Opened::Index(index) => return run_index(args, ctx, &parsed, &index, printer),
        Opened::Image(image) => image, // --platform chooses only from an index
    };
    let diagnosis = examine(args, &parsed, image.as_ref(), None, printer)?;
    let ran = run_if_asked(
        args,
        ctx,
        &parsed,
        image.as_ref(),
        None,
        &diagnosis,
        printer,
    )?;
    print(args.format, &diagnosis, ran.as_ref(), printer)?;
    Ok(verdict(&[&diagnosis], ran.as_ref()))
}

/// A multi-platform index: every image it lists (or the one `--platform` picks), each
/// examined as an engine on its listed platform would run it, so an entry whose program
/// is for another machine than the index says is caught (HUSK-I005).
fn run_index(
    args: &DoctorArgs,
    ctx: &husk_transport::Context,
    parsed: &ImageRef,
    index: &OwnedIndex,
    printer: &Printer,
) -> Result<Exit> {
    let choice = match (args.platform.as_deref(), args.run) {
        (Some(p), _) => Some(exactly(p)?),
        // --run runs the image podman would pick: this machine's.
        (None, true) => Some(PlatformChoice::Host),
        (None, false) => None,
    };
    let entries = index_entries(index, choice.as_ref())?;
    let mut diagnoses = Vec::new();
    for (platform, image) in &entries {
        diagnoses.push(examine(args, parsed, *image, platform.clone(), printer)?);
    }
    if let ([d], [(platform, image)]) = (diagnoses.as_slice(), entries.as_slice()) {
        let wanted = platform.as_ref().map(ToString::to_string);
        let ran = run_if_asked(args, ctx, parsed, *image, wanted.as_deref(), d, printer)?;
        print(args.format, d, ran.as_ref(), printer)?;
        return Ok(verdict(&[d], ran.as_ref()));
    }
    print_index(args.format, parsed, index, &diagnoses, printer)?;
    Ok(verdict(&diagnoses.iter().collect::<Vec<_>>(), None))
}

/// Scan one image for what its start needs and run the start rules on it.
fn examine(
    args: &DoctorArgs,
    parsed: &ImageRef,
    image: &dyn Image,
    listed_as: Option<Platform>,
    printer: &Printer,
) -> Result<Diagnosis> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let opts = ScanOptions {
        limits: args.limits.limits(),
        now,
    };
    match &listed_as {
        Some(p) => printer.info(format!("examining {parsed} ({p})")),
        None => printer.info(format!("examining {parsed}")),
    }
    let mut facts = scan_for_start(image, &opts, &args.args)
        .with_context(|| format!("cannot examine {parsed}"))?;
    facts.name = parsed.to_string();
    facts.listed_as = listed_as;
    Ok(doctor::diagnose(&facts))
}

fn run_if_asked(
    args: &DoctorArgs,
    ctx: &husk_transport::Context,
    parsed: &ImageRef,
    image: &dyn Image,
    platform: Option<&str>,
    diagnosis: &Diagnosis,
    printer: &Printer,
) -> Result<Option<(RunOutcome, Explanation)>> {
    if !args.run {
        return Ok(None);
    }
    let platform = platform.or(args.platform.as_deref());
    run_and_explain(args, ctx, parsed, image, platform, diagnosis, printer).map(Some)
}

/// Exit 1 when anything blocks a start (or the run failed), else 0.
fn verdict(diagnoses: &[&Diagnosis], ran: Option<&(RunOutcome, Explanation)>) -> Exit {
    let failed = ran.is_some_and(|(o, _)| o.failed());
    if diagnoses.iter().any(|d| d.blocks()) || failed {
        Exit::Findings
    } else {
        Exit::Success
    }
}

/// The JSON document of an index: its reference and digest, and one diagnosis per
/// platform.
#[derive(Serialize)]
struct IndexOutput<'a> {
    image: String,
    index: String,
    platforms: &'a [Diagnosis],
}

fn print_index(
    format: Format,
    parsed: &ImageRef,
    index: &OwnedIndex,
    diagnoses: &[Diagnosis],
    printer: &Printer,
) -> Result<()> {
    if format == Format::Json {
        let out = IndexOutput {
            image: parsed.to_string(),
            index: index.digest().to_string(),
            platforms: diagnoses,
        };
        return Ok(printer.json(serde_json::to_string_pretty(&out)?)?);
    }
    let mut text = format!(
        "{} is a multi-platform index of {} image(s); each is examined as its platform runs it.\n",
        husk_oci::escape(&parsed.to_string()),
        diagnoses.len()
    );
    for d in diagnoses {
        text.push('\n');
        text.push_str(&doctor::text(d));
    }
    let blocked: Vec<&str> = diagnoses
        .iter()
        .filter(|d| d.blocks())
        .map(|d| d.platform.as_deref().unwrap_or("unspecified"))
        .collect();
    if !blocked.is_empty() {
        text.push_str(&format!(
            "\nwill not start on: {}\n",
            husk_oci::escape(&blocked.join(", "))
        ));
    }
    Ok(printer.report(text.trim_end())?)
}

/// `--run`: run the image with podman and tie what it said to the diagnosis.
fn run_and_explain(
    args: &DoctorArgs,
    ctx: &husk_transport::Context,
    parsed: &ImageRef,
    image: &dyn Image,
    platform: Option<&str>,
    diagnosis: &Diagnosis,
    printer: &Printer,
) -> Result<(RunOutcome, Explanation)> {
    let (r, loaded) = engine_reference(ctx, parsed, image)?;
    printer.info(format!(
        "running {r} with podman ({} s at most)",
        args.timeout
    ));
    let outcome = run_podman(&r, platform, &args.args, Duration::from_secs(args.timeout));
    if let Some(tag) = loaded {
        let _ = Command::new("podman")
            .args(["rmi", "-f", &tag])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let outcome = outcome?;
    let explanation = doctor::explain(diagnosis, &outcome);
    Ok((outcome, explanation))
}

fn print(
    format: Format,
    d: &Diagnosis,
    ran: Option<&(RunOutcome, Explanation)>,
    printer: &Printer,
) -> Result<()> {
    match format {
        Format::Json => {
            let out = Output {
                diagnosis: d,
                run: ran.map(|(outcome, explanation)| RunReport {
                    outcome,
                    explanation,
                }),
            };
            printer.json(serde_json::to_string_pretty(&out)?)?;
        }
        Format::Text => {
            printer.report(doctor::text(d).trim_end())?;
            if let Some((o, e)) = ran {
                printer.data(run_text(o, e).trim_end())?;
            }
        }
    }
    Ok(())
}

fn run_text(o: &RunOutcome, e: &Explanation) -> String {
    let mut s = String::from("\nrun (podman):\n");
    if o.timed_out {
        s.push_str("  still running at the timeout: it started (stopped by husk)\n");
    } else {
        let code = o.exit_code.map_or("killed".to_owned(), |c| c.to_string());
        s.push_str(&format!("  exit code: {code}\n"));
    }
    if let Some(m) = &e.message {
        s.push_str(&format!("  podman said: {}\n", husk_oci::escape(m)));
    }
    if e.causes.is_empty() && !e.started {
        s.push_str(
            "  husk found no static cause for this failure: the program itself may have failed (see its output above)\n",
        );
    }
    for c in &e.causes {
        s.push_str(&format!(
            "  because: {} [{}]\n    fix: {}\n",
            husk_oci::escape(&c.cause),
            c.rule,
            c.fix
        ));
    }
    s
}

/// The reference podman runs: an engine image by name, a registry image by its
/// reference; any other medium is loaded into podman first under a private tag (the
/// second value, removed after the run).
fn engine_reference(
    ctx: &husk_transport::Context,
    r: &ImageRef,
    image: &dyn Image,
) -> Result<(String, Option<String>)> {
    Ok(match r {
        ImageRef::Local(LocalRef::Engine {
            engine: Engine::Podman,
            name,
        }) => (name.clone(), None),
        ImageRef::Registry(reg) => (reg.to_string(), None),
        ImageRef::Local(LocalRef::Engine { .. }) => {
            bail!(
                "--run runs images with podman; copy the docker: image first (husk pull docker:NAME -o podman:NAME) and run that"
            )
        }
        ImageRef::Local(_) => {
            let tag = format!("localhost/husk-doctor:{}", std::process::id());
            let dest = ImageRef::Local(LocalRef::Engine {
                engine: Engine::Podman,
                name: tag.clone(),
            });
            ctx.copy(Source::Image(image), &dest, &CopyOptions::default())
                .with_context(|| {
                    format!(
                        "cannot load {r} into podman for --run (is podman installed and working?)"
                    )
                })?;
            (tag.clone(), Some(tag))
        }
    })
}

/// `podman run --rm` with a timeout: exit code, whether it was still running, stderr.
fn run_podman(
    reference: &str,
    platform: Option<&str>,
    args: &[String],
    timeout: Duration,
) -> Result<RunOutcome> {
    let name = format!("husk-doctor-{}", std::process::id());
    let mut cmd = Command::new("podman");
    cmd.args(["run", "--rm", "--name", &name, "--network", "none"]);
    if let Some(p) = platform {
        cmd.args(["--platform", p]);
    }
    let mut child = cmd
        .arg(reference)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => anyhow::anyhow!(
                "--run needs podman, which is not installed (or not in PATH); install podman, or run husk doctor without --run"
            ),
            _ => anyhow::Error::new(e).context("cannot start podman"),
        })?;
    let mut stderr = child
        .stderr
        .take()
        .context("podman's stderr is not captured")?;
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = (&mut stderr).take(MAX_STDERR).read_to_end(&mut buf);
        let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        buf
    });
    let deadline = Instant::now() + timeout;
    let (status, timed_out) = loop {
        if let Some(s) = child.try_wait().context("waiting for podman")? {
            break (Some(s), false);
        }
        if Instant::now() >= deadline {
            let _ = Command::new("podman")
                .args(["rm", "-f", "-t", "0", &name])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let _ = child.kill();
            let _ = child.wait();
            break (None, true);
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = reader.join().unwrap_or_default();
    Ok(RunOutcome {
        exit_code: status.and_then(|s| s.code()),
        timed_out,
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    })
}
