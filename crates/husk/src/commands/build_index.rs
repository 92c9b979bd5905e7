//! `husk build` of several platforms (`--platform-exe`, `[[platform]]`): one request per
//! program -> `husk_build::build_index` (the images built in parallel, each platform from
//! its ELF header) -> one OCI image index, copied whole into `oci:`, `oci-archive:` and
//! `docker://` outputs; outputs that hold one image (`docker-archive:`, engines,
//! `--load`) get the `--platform` image, or nothing is written and the error lists them.
//! With `--sbom`, each image's own documents are written beside the outputs (named with
//! its platform) and attached to that image's manifest in `oci:` layouts and registries.

use anyhow::{Context, Result};
use husk_build::{BuildRequest, IndexOutput};
use husk_formats::Engine;
use husk_oci::Platform;
use husk_transport::{ImageRef, Source};
use serde::Serialize;

use crate::cli::Format;
use crate::exit::Exit;
use crate::output::{Printer, bytes};

/// Where a multi-platform build goes.
pub struct Outputs<'a> {
    pub outputs: &'a [ImageRef],
    pub load: Option<Engine>,
    /// `--platform`: the image for outputs that hold one.
    pub platform: Option<Platform>,
    /// `--sbom-output`: where each image's SBOM documents go.
    pub sbom_dir: Option<&'a std::path::Path>,
}

/// `--platform`, parsed before any work.
///
/// # Errors
/// When it is not `OS/ARCH[/VARIANT]`.
pub fn output_platform(value: Option<&str>) -> Result<Option<Platform>> {
    value
        .map(|v| husk_oci::parse_platform(v).context("invalid --platform"))
        .transpose()
}

/// Build every platform's image, write the index everywhere, print the summary.
pub fn run(
    format: Format,
    ctx: &husk_transport::Context,
    reqs: &[BuildRequest],
    to: &Outputs<'_>,
    printer: &Printer,
) -> Result<Exit> {
    let programs: Vec<String> = reqs
        .iter()
        .map(|r| r.entrypoint.display().to_string())
        .collect();
    let built = husk_build::build_index(reqs, &husk_elf::RealFs).with_context(|| {
        format!(
            "cannot build a multi-platform image from {}",
            programs.join(", ")
        )
    })?;
    // An output that holds one image needs its image chosen before anything is written.
    let single = to
        .outputs
        .iter()
        .find(|d| !d.holds_indexes())
        .map(ToString::to_string)
        .or_else(|| to.load.map(|e| format!("--load {}", e.program())));
    if let Some(dest) = single {
        let location = format!("the built index (for {dest})");
        let choice = husk_oci::PlatformChoice::from(to.platform.clone());
        husk_oci::select_platform(built.index.document(), &choice, &location)?;
    }
    let tags = reqs.first().map(|r| r.tags.clone()).unwrap_or_default();
    let mut written = super::build::write_outputs(
        ctx,
        Source::Index(&built.index),
        to.outputs,
        to.load,
        &tags,
        to.platform.clone(),
        printer,
    )?;
    let epoch = reqs.first().map_or(0, |r| r.encoding.epoch);
    written.extend(sbom_documents(ctx, &built, to, &tags, epoch, printer)?);
    print_summary(format, &built, reqs, &tags, written, printer)?;
    Ok(Exit::Success)
}

/// `--sbom`: each image's documents written (named with its platform) and attached to
/// that image's manifest at every output that keeps referrers; the paths written.
fn sbom_documents(
    ctx: &husk_transport::Context,
    built: &IndexOutput,
    to: &Outputs<'_>,
    tags: &[String],
    epoch: u64,
    printer: &Printer,
) -> Result<Vec<String>> {
    let created = (epoch > 0).then(|| husk_build::rfc3339(epoch));
    let mut written = Vec::new();
    for (summary, docs) in built.summaries.iter().zip(&built.documents) {
        if docs.is_empty() {
            continue;
        }
        let image = built
            .index
            .images()
            .iter()
            .find(|i| i.digest().is_ok_and(|d| d == summary.digest))
            .context("the built index lost one of its images")?;
        let slug = Some(super::sbom_files::platform_slug(&summary.platform));
        let paths = super::sbom_files::write_documents(
            to.sbom_dir,
            to.outputs,
            tags,
            slug.as_deref(),
            docs,
        )?;
        written.extend(paths.iter().map(|p| p.display().to_string()));
        let lines = super::sbom_files::attach_documents(
            ctx,
            image.as_ref(),
            to.outputs,
            docs,
            created.clone(),
        )?;
        for line in lines {
            printer.info(format!("  {line}"));
        }
    }
    Ok(written)
}

#[derive(Serialize)]
struct JsonIndex<'a> {
    digest: String,
    media_type: &'a str,
    platforms: Vec<String>,
    images: Vec<JsonImage<'a>>,
    tags: &'a [String],
    outputs: Vec<String>,
}

#[derive(Serialize)]
struct JsonImage<'a> {
    platform: String,
    digest: String,
    program: String,
    files: usize,
    compressed_size: u64,
    layers: Vec<JsonLayer<'a>>,
    libraries: &'a [String],
}

#[derive(Serialize)]
struct JsonLayer<'a> {
    digest: String,
    size: u64,
    entries: usize,
    reused: bool,
    /// In every image of the index (stored and pushed once).
    shared: bool,
    created_by: &'a str,
}

/// Whether a layer digest is in every image.
fn shared(built: &IndexOutput, digest: &husk_oci::Digest) -> bool {
    built
        .summaries
        .iter()
        .all(|s| s.layers.iter().any(|l| &l.digest == digest))
}

/// The summary: JSON, or text lines on stderr and the index digest on stdout.
fn print_summary(
    format: Format,
    built: &IndexOutput,
    reqs: &[BuildRequest],
    tags: &[String],
    written: Vec<String>,
    printer: &Printer,
) -> Result<()> {
    let platforms = husk_oci::platforms_of(built.index.document());
    let digest = built.index.digest().to_string();
    if format == Format::Json {
        let j = json_summary(built, reqs, tags, platforms, written);
        printer.data(serde_json::to_string_pretty(&j)?)?;
        return Ok(());
    }
    printer.info(format!(
        "built index {digest} ({}) of {} images",
        platforms.join(", "),
        built.summaries.len()
    ));
    for (s, r) in built.summaries.iter().zip(reqs) {
        printer.info(format!(
            "  {}: {} from {}, {} files, {} compressed",
            s.platform,
            s.digest,
            r.entrypoint.display(),
            s.files,
            bytes(s.compressed_size)
        ));
        for l in &s.layers {
            printer.info(format!(
                "    layer {} {:>10}  {} entries{}{}  {}",
                l.digest.short(),
                bytes(l.size),
                l.entries,
                if l.reused { " (cached)" } else { "" },
                if shared(built, &l.digest) {
                    " (shared)"
                } else {
                    ""
                },
                l.what
            ));
        }
    }
    for w in &written {
        printer.info(format!("  wrote {w}"));
    }
    printer.data(digest)?;
    Ok(())
}

/// The JSON summary of a multi-platform build.
fn json_summary<'a>(
    built: &'a IndexOutput,
    reqs: &[BuildRequest],
    tags: &'a [String],
    platforms: Vec<String>,
    written: Vec<String>,
) -> JsonIndex<'a> {
    let images = built
        .summaries
        .iter()
        .zip(reqs)
        .map(|(s, r)| JsonImage {
            platform: s.platform.to_string(),
            digest: s.digest.to_string(),
            program: r.entrypoint.display().to_string(),
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
                    shared: shared(built, &l.digest),
                    created_by: &l.what,
                })
                .collect(),
            libraries: &s.libraries,
        })
        .collect();
    JsonIndex {
        digest: built.index.digest().to_string(),
        media_type: built.index.media_type(),
        platforms,
        images,
        tags,
        outputs: written,
    }
}
