//! [`debug_image`]: the original image plus one layer with a static busybox at
//! `/.husk/bin` (and applet symlinks), so a shell can run with the original's filesystem.
//! The original is untouched: its layer blobs are copied (verified) into a private
//! directory and the new image is assembled as a value ([`OwnedImage::assemble`]).

use std::path::{Path, PathBuf};

use husk_layer::{Entry, FileSource, ImagePath, LayerPlan, MODE_EXEC, WriteOptions, write_layer};
use husk_oci::{BlobData, Image, ImageConfig, NewLayer, OwnedImage, layers_of};

use crate::error::ExploreError;

/// Where the debug tools land in the image.
pub const DEBUG_DIR: &str = "/.husk/bin";

/// A debug image and the directory holding its blobs (deleted on drop).
pub struct DebugImage {
    pub image: OwnedImage,
    /// `/.husk/bin/sh` or `/.husk/bin/busybox`: what to run for a shell.
    pub shell: Vec<String>,
    _blobs: tempfile::TempDir,
}

/// Build the debug variant of `image` with `busybox` (a static host binary) and symlinks
/// for `applets` (e.g. `sh`, `ls`, `cat`) next to it.
///
/// # Errors
/// [`ExploreError::Oci`] reading the original, [`ExploreError::Debug`] writing the new layer,
/// [`ExploreError::Write`] for the private blob directory.
pub fn debug_image(
    image: &dyn Image,
    busybox: &Path,
    applets: &[String],
    mtime: u64,
) -> Result<DebugImage, ExploreError> {
    let tmp = tempfile::Builder::new()
        .prefix("husk-debug-")
        .tempdir()
        .map_err(|e| ExploreError::write(std::env::temp_dir(), e))?;
    let config = image.config()?;
    let mut layers = copy_layers(image, &config, tmp.path())?;
    let (plan, shell) = debug_plan(busybox, applets)?;
    let opts = WriteOptions {
        mtime,
        cache_dir: None,
        ..WriteOptions::default()
    };
    let written = write_layer(&plan, &opts, tmp.path())?;
    layers.push(NewLayer {
        descriptor: written.descriptor,
        diff_id: written.diff_id,
        blob: BlobData::File(written.blob),
        created_by: format!("husk debug: static busybox at {DEBUG_DIR}"),
        comment: Some("debug layer added by husk debug".into()),
    });
    let mut new_config = config.clone();
    new_config.rootfs.diff_ids.clear();
    new_config.history.clear();
    let annotations = image.manifest()?.annotations;
    Ok(DebugImage {
        image: OwnedImage::assemble(new_config, layers, annotations),
        shell,
        _blobs: tmp,
    })
}

/// The original's layer blobs copied (verified) into `dir`, with their history.
fn copy_layers(
    image: &dyn Image,
    config: &ImageConfig,
    dir: &Path,
) -> Result<Vec<NewLayer>, ExploreError> {
    let mut history = config.history.iter().filter(|h| !h.empty_layer);
    let mut layers = Vec::new();
    for (i, layer) in layers_of(image)?.iter().enumerate() {
        use husk_oci::Layer;
        let path: PathBuf = dir.join(layer.digest().hex());
        let mut out = std::fs::File::create(&path).map_err(|e| ExploreError::write(&path, e))?;
        let mut blob = layer.open_compressed()?;
        std::io::copy(&mut blob, &mut out).map_err(|e| husk_oci::blob_error(layer.digest(), e))?;
        let h = history.next();
        let mut descriptor = layer.descriptor().clone();
        // Same bytes, OCI name: the new manifest is an OCI one.
        descriptor.media_type = layer.compression()?.oci_media_type().to_owned();
        layers.push(NewLayer {
            descriptor,
            diff_id: layer
                .diff_id()
                .cloned()
                .ok_or_else(|| husk_oci::OciError::BlobNotFound {
                    digest: layer.digest().clone(),
                    location: format!("rootfs.diff_ids[{i}] of {}", image.location()),
                })?,
            blob: BlobData::File(path),
            created_by: h
                .and_then(|h| h.created_by.clone())
                .unwrap_or_else(|| format!("layer {i} of {}", image.location())),
            comment: h.and_then(|h| h.comment.clone()),
        });
    }
    Ok(layers)
}

/// The debug layer: busybox in [`DEBUG_DIR`] and a symlink per applet; returns it with the
/// argv of a shell.
fn debug_plan(
    busybox: &Path,
    applets: &[String],
) -> Result<(LayerPlan, Vec<String>), ExploreError> {
    let dir = ImagePath::parse(DEBUG_DIR).expect("constant path");
    let mut plan = LayerPlan::new();
    plan.add(dir.parent().expect("not root"), Entry::dir())?;
    plan.add(dir.clone(), Entry::dir())?;
    let bb = dir.join("busybox").expect("constant name");
    plan.add(
        bb,
        Entry::file(FileSource::Host(busybox.to_path_buf()), MODE_EXEC),
    )?;
    let mut shell = vec![format!("{DEBUG_DIR}/busybox"), "sh".to_owned()];
    for applet in applets {
        if applet == "busybox" || applet.contains('/') || applet.is_empty() {
            continue;
        }
        let Ok(p) = dir.join(applet) else { continue };
        plan.add(p, Entry::symlink("busybox"))?;
        if applet == "sh" {
            shell = vec![format!("{DEBUG_DIR}/sh")];
        }
    }
    Ok((plan, shell))
}
