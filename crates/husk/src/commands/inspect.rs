//! `husk inspect IMAGE [--format json]`: digest, platform, how a container from the image
//! runs, its layers (digest, size, what created them) and history. Reads no layer. A
//! multi-platform index without `--platform` lists its platforms.

use std::io::Write;

use anyhow::Result;
use husk_explore::{escape, summarize};

use crate::cli::{Format, InspectArgs};
use crate::commands::view::open;
use crate::exit::Exit;
use crate::output::{Printer, bytes};

fn list(v: &Option<Vec<String>>) -> String {
    match v {
        None => "-".into(),
        Some(v) => escape(&serde_json::to_string(v).unwrap_or_default()).into_owned(),
    }
}

fn or_dash(v: &Option<String>) -> String {
    v.as_deref().map_or("-".into(), |s| escape(s).into_owned())
}

/// An index named without `--platform`: its digest and media type, and one line per
/// image (platform, manifest digest, size); JSON is the index document itself.
fn inspect_index(
    format: Format,
    reference: &husk_transport::ImageRef,
    index: &husk_oci::OwnedIndex,
    printer: &Printer,
) -> Result<Exit> {
    let mut out = printer.data_writer(format != Format::Json);
    if format == Format::Json {
        serde_json::to_writer_pretty(&mut out, index.document())?;
        writeln!(out)?;
        out.flush()?;
        return Ok(Exit::Success);
    }
    writeln!(out, "{:<12} {}", "image:", escape(&reference.to_string()))?;
    writeln!(out, "{:<12} {}", "digest:", index.digest())?;
    writeln!(out, "{:<12} {}", "media type:", escape(index.media_type()))?;
    writeln!(
        out,
        "platforms:   (choose one with --platform to inspect it)"
    )?;
    for d in &index.document().manifests {
        let platform = d
            .platform
            .as_ref()
            .map_or_else(|| "unspecified".to_owned(), ToString::to_string);
        writeln!(
            out,
            "  {:<16} {} {:>10}",
            escape(&platform),
            d.digest,
            bytes(d.size)
        )?;
    }
    out.flush()?;
    Ok(Exit::Success)
}

pub fn run(args: &InspectArgs, ctx: &husk_transport::Context, printer: &Printer) -> Result<Exit> {
    if args.platform.is_none() {
        let reference: husk_transport::ImageRef = args.image.parse()?;
        if let husk_transport::Opened::Index(index) = ctx.open_whole(&reference, None)? {
            return inspect_index(args.format, &reference, &index, printer);
        }
    }
    let opened = open(ctx, &args.image, args.platform.as_deref())?;
    let s = summarize(opened.image.as_ref())?;
    let mut out = printer.data_writer(args.format == Format::Text);
    if args.format == Format::Json {
        serde_json::to_writer_pretty(&mut out, &s)?;
        writeln!(out)?;
        out.flush()?;
        return Ok(Exit::Success);
    }
    let mut w = |k: &str, v: String| writeln!(out, "{k:<12} {v}");
    w("image:", opened.reference.to_string())?;
    w("digest:", s.digest.clone())?;
    w("config:", s.config_digest.clone())?;
    w("platform:", escape(&s.platform).into_owned())?;
    w("created:", or_dash(&s.created))?;
    w("user:", or_dash(&s.user))?;
    w("entrypoint:", list(&s.entrypoint))?;
    w("cmd:", list(&s.cmd))?;
    w("workdir:", or_dash(&s.workdir))?;
    w("stop signal:", or_dash(&s.stop_signal))?;
    w(
        "ports:",
        if s.ports.is_empty() {
            "-".into()
        } else {
            escape(&s.ports.join(" ")).into_owned()
        },
    )?;
    if s.env.is_empty() {
        w("env:", "-".into())?;
    }
    for (i, e) in s.env.iter().enumerate() {
        w(if i == 0 { "env:" } else { "" }, escape(e).into_owned())?;
    }
    if s.labels.is_empty() {
        w("labels:", "-".into())?;
    }
    for (i, (k, v)) in s.labels.iter().enumerate() {
        w(
            if i == 0 { "labels:" } else { "" },
            format!("{}={}", escape(k), escape(v)),
        )?;
    }
    w("healthcheck:", healthcheck(s.healthcheck.as_ref()))?;
    layers_and_history(&mut out, &s)?;
    out.flush()?;
    Ok(Exit::Success)
}

/// The healthcheck line: command, interval, timeout, start period, retries.
fn healthcheck(h: Option<&husk_explore::inspect::HealthcheckInfo>) -> String {
    let Some(h) = h else {
        return "-".into();
    };
    let secs = |n: Option<i64>| n.map_or("-".into(), |n| format!("{}s", n / 1_000_000_000));
    format!(
        "{} interval {} timeout {} start period {} retries {}",
        list(&Some(h.test.clone())),
        secs(h.interval),
        secs(h.timeout),
        secs(h.start_period),
        h.retries.map_or("-".into(), |r| r.to_string())
    )
}

/// The layers (index, digest, size, what created them) and the history.
fn layers_and_history(
    out: &mut impl Write,
    s: &husk_explore::inspect::Summary,
) -> std::io::Result<()> {
    writeln!(out, "layers:")?;
    for l in &s.layers {
        writeln!(
            out,
            "  {:>2}  {}  {:>10}  {}",
            l.index,
            l.digest,
            bytes(l.size),
            or_dash(&l.created_by)
        )?;
    }
    writeln!(out, "history:")?;
    for h in &s.history {
        writeln!(
            out,
            "  {:<25} {}{}",
            or_dash(&h.created),
            or_dash(&h.created_by),
            if h.empty_layer { "  (no layer)" } else { "" }
        )?;
    }
    Ok(())
}
