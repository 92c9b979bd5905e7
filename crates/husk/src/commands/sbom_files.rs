//! Where `husk build --sbom` writes its documents: `--sbom-output DIR`, else next to the
//! first local output (`out` -> `./out.spdx.json`), else (a registry or engine output) the
//! current directory, named after the image. Each image of a multi-platform build has its
//! own documents, named with its platform (`out.linux-arm64-v8.spdx.json`) and attached to
//! its own manifest.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use husk_transport::{Artifact, ImageRef, LocalRef, ReferrersVia};

/// The directory and file-name stem of the documents for these outputs.
fn placement(dir: Option<&Path>, outputs: &[ImageRef], tags: &[String]) -> (PathBuf, String) {
    let image_name = || {
        let tag = tags.first().map_or("image", String::as_str);
        let name = tag.rsplit('/').next().unwrap_or(tag);
        name.split(':').next().unwrap_or(name).to_owned()
    };
    let first_local = outputs.iter().find_map(|o| match o {
        ImageRef::Local(
            LocalRef::Oci { dir, .. }
            | LocalRef::OciArchive { path: dir, .. }
            | LocalRef::DockerArchive { path: dir, .. },
        ) => Some(dir.clone()),
        _ => None,
    });
    let stem = first_local
        .as_ref()
        .and_then(|p| p.file_name())
        .map_or_else(image_name, |n| n.to_string_lossy().into_owned());
    let parent = first_local
        .as_ref()
        .and_then(|p| p.parent())
        .map(Path::to_path_buf)
        .unwrap_or_default();
    match dir {
        Some(d) => (d.to_path_buf(), stem),
        None => (parent, stem),
    }
}

/// The file-name part of a platform: `linux/arm64/v8` -> `linux-arm64-v8`.
pub fn platform_slug(platform: &husk_oci::Platform) -> String {
    platform
        .to_string()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// The path a document (`sbom.spdx.json`, `sbom.cdx.json`) is written to: `stem` and,
/// for one image of an index, its platform's slug before the extension.
fn document_path(dir: &Path, stem: &str, platform: Option<&str>, file: &str) -> PathBuf {
    let ext = file.strip_prefix("sbom.").unwrap_or(file);
    let stem = match platform {
        Some(p) => format!("{stem}.{p}"),
        None => stem.to_owned(),
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    dir.join(format!("{stem}.{ext}"))
}

/// Writes each document (of the image for `platform`, in a multi-platform build);
/// returns the paths written.
pub fn write_documents(
    dir: Option<&Path>,
    outputs: &[ImageRef],
    tags: &[String],
    platform: Option<&str>,
    docs: &[(String, Vec<u8>)],
) -> Result<Vec<PathBuf>> {
    let (dir, stem) = placement(dir, outputs, tags);
    let mut written = Vec::new();
    for (file, bytes) in docs {
        let path = document_path(&dir, &stem, platform, file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {} for the SBOM", parent.display()))?;
        }
        std::fs::write(&path, bytes).with_context(|| {
            format!(
                "cannot write the SBOM {}; choose another directory with --sbom-output",
                path.display()
            )
        })?;
        written.push(path);
    }
    Ok(written)
}

/// The artifact type (and document media type) of a document file name.
fn artifact_type(file: &str) -> &'static str {
    if file.ends_with(".spdx.json") {
        "application/spdx+json"
    } else {
        "application/vnd.cyclonedx+json"
    }
}

/// Attaches every document to the image at every output that keeps referrers (`oci:`
/// layouts and registries); returns a line per attachment for the summary.
pub fn attach_documents(
    ctx: &husk_transport::Context,
    image: &dyn husk_oci::Image,
    outputs: &[ImageRef],
    docs: &[(String, Vec<u8>)],
    created: Option<String>,
) -> Result<Vec<String>> {
    let mut lines = Vec::new();
    if docs.is_empty() {
        return Ok(lines);
    }
    let subject = husk_transport::subject_of(image)?;
    for dest in outputs {
        if !matches!(
            dest,
            ImageRef::Registry(_) | ImageRef::Local(LocalRef::Oci { .. })
        ) {
            lines.push(format!(
                "SBOM not attached to {dest}: only oci: layouts and registries keep referrers"
            ));
            continue;
        }
        for (file, bytes) in docs {
            let kind = artifact_type(file);
            let artifact = Artifact::document(
                subject.clone(),
                kind,
                kind,
                file,
                bytes.clone(),
                created.clone(),
            );
            let done = ctx
                .attach(dest, &subject.digest, &artifact)
                .with_context(|| format!("cannot attach {file} to {dest}"))?;
            let how = match done.via {
                None => "as a referrer in index.json".to_owned(),
                Some(ReferrersVia::Api) => "through the referrers API".to_owned(),
                Some(ReferrersVia::FallbackTag) => format!(
                    "under the fallback tag {}",
                    husk_registry::fallback_tag(&subject.digest)
                ),
            };
            lines.push(format!(
                "attached {file} ({}) to {dest} {how}",
                artifact.entry().digest.short()
            ));
        }
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> ImageRef {
        s.parse().unwrap()
    }

    #[test]
    fn documents_go_next_to_the_first_local_output() {
        let (dir, stem) = placement(None, &[r("oci:build/out")], &["curl:latest".into()]);
        assert_eq!((dir, stem.as_str()), (PathBuf::from("build"), "out"));
        let p = document_path(Path::new(""), "out", None, "sbom.spdx.json");
        assert_eq!(p, PathBuf::from("./out.spdx.json"));
    }

    #[test]
    fn each_platform_has_its_own_documents() {
        let arm = husk_oci::parse_platform("linux/arm64/v8").unwrap();
        let slug = platform_slug(&arm);
        assert_eq!(slug, "linux-arm64-v8");
        let p = document_path(Path::new("b"), "out", Some(&slug), "sbom.cdx.json");
        assert_eq!(p, PathBuf::from("b/out.linux-arm64-v8.cdx.json"));
    }

    #[test]
    fn a_registry_output_names_them_after_the_image() {
        let outs = [r("docker://localhost:5000/team/curl:1")];
        let (dir, stem) = placement(None, &outs, &["team/curl:1".into()]);
        assert_eq!((dir, stem.as_str()), (PathBuf::new(), "curl"));
        let (dir, _) = placement(Some(Path::new("/x")), &outs, &[]);
        assert_eq!(dir, PathBuf::from("/x"));
    }
}
