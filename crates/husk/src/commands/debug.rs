//! `husk debug IMAGE -o OUT`: write a debug variant of IMAGE (its layers unchanged, plus
//! one layer with a static busybox at /.husk/bin and its applet links) and print the
//! podman/docker command that runs a shell in it, sharing the original's filesystem.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use husk_transport::{CopyOptions, ImageRef, LocalRef, Source};

use crate::cli::DebugArgs;
use crate::commands::view::open;
use crate::exit::Exit;
use crate::output::Printer;

/// The applets the busybox binary says it has (`busybox --list`), or just `sh`.
fn applets(busybox: &Path) -> Vec<String> {
    let listed = Command::new(busybox)
        .arg("--list")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(|l| l.trim().to_owned())
                .filter(|l| {
                    !l.is_empty()
                        && l.chars()
                            .all(|c| c.is_ascii_alphanumeric() || "-_.[".contains(c))
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    if listed.is_empty() {
        vec!["sh".into()]
    } else {
        listed
    }
}

pub fn run(args: &DebugArgs, ctx: &husk_transport::Context, printer: &Printer) -> Result<Exit> {
    let bytes = std::fs::read(&args.busybox)
        .with_context(|| format!("cannot read {}", args.busybox.display()))?;
    let info = husk_elf::parse_elf(&bytes, &args.busybox)?;
    if info.is_dynamic() {
        bail!(
            "{} is dynamically linked; a debug layer needs a static busybox (Debian: apt-get install busybox-static)",
            args.busybox.display()
        );
    }
    drop(bytes);
    let dest: ImageRef = args.output.parse()?;
    ctx.check_destination(&dest)?;
    let opened = open(ctx, &args.image, args.platform.get())?;
    let original_user = opened
        .image
        .config()?
        .config
        .and_then(|c| c.user)
        .unwrap_or_default();
    let applets = applets(&args.busybox);
    let mtime = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let debug = husk_explore::debug_image(opened.image.as_ref(), &args.busybox, &applets, mtime)
        .with_context(|| format!("cannot build a debug image of {}", opened.reference))?;
    let tags = if args.tags.is_empty() {
        vec!["husk-debug:latest".to_owned()]
    } else {
        args.tags.clone()
    };
    let copy = CopyOptions {
        names: tags.clone(),
        ..CopyOptions::default()
    };
    ctx.copy(Source::Image(&debug.image), &dest, &copy)?;
    let digest = husk_oci::Image::digest(&debug.image)?;
    printer.info(format!(
        "wrote {dest} ({digest}): {} plus busybox at {}",
        opened.reference,
        husk_explore::DEBUG_DIR
    ));
    let run = |engine: &str, image: &str| {
        format!(
            "{engine} run --rm -it --entrypoint {} -e PATH={}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin {image}{}",
            debug.shell[0],
            husk_explore::DEBUG_DIR,
            if debug.shell.len() > 1 {
                format!(" {}", debug.shell[1..].join(" "))
            } else {
                String::new()
            }
        )
    };
    match &dest {
        ImageRef::Local(LocalRef::Engine { engine, name }) => {
            printer.data(run(engine.program(), name))?;
        }
        ImageRef::Local(LocalRef::DockerArchive { path, .. }) => {
            printer.data(run("podman", &format!("docker-archive:{}", path.display())))?;
            printer.data(format!(
                "docker load -i {} && {}",
                path.display(),
                run("docker", &tags[0])
            ))?;
        }
        other => {
            printer.data(run("podman", &other.to_string()))?;
        }
    }
    if !original_user.is_empty() {
        printer.info(format!(
            "the shell runs as the image's user {original_user}; add --user 0 for root"
        ));
    }
    Ok(Exit::Success)
}
