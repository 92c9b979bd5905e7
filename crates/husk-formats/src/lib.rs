//! husk-formats: images on local media, in both directions.
//!
//! Sources turn an [`ImageRef`] into a `Box<dyn husk_oci::Image>`; sinks write any image.
//! One module per medium: [`oci_layout`] (OCI image layout directory and oci-archive,
//! image-spec `image-layout.md`), [`docker_archive`] (`docker save` format), [`engine`]
//! (podman/docker through their `save`/`load` commands). Registries live in their own
//! crate, the only one with HTTP.
//!
//! Every sink writes atomically (temporary sibling, then rename) and refuses to replace a
//! destination that is not already an image of the same kind.

mod archive_tar;
mod atomic;
pub mod docker_archive;
pub mod engine;
mod error;
pub mod oci_layout;
mod reference;
pub mod registry_ref;
mod select;
mod store;
mod tar_index;

use husk_oci::{Descriptor, Image, OwnedIndex, Platform};

pub use docker_archive::{
    DockerArchiveImage, open_docker_archive, write_docker_archive, write_docker_archive_to,
};
pub use engine::{EngineImage, engine_available, load_into_engine, open_engine_image};
pub use error::FormatError;
pub use oci_layout::{
    DEFAULT_JOBS, LayoutImage, open_oci_archive, open_oci_archive_index, open_oci_dir,
    open_oci_dir_index, write_oci_archive, write_oci_archive_index, write_oci_dir,
    write_oci_dir_index, write_oci_dir_with,
};
pub use reference::{Engine, ImageRef};
pub use registry_ref::{RegistryRef, RegistryRefError};
pub use select::{parse_platform, select_platform};

/// Open the image `reference` names.
///
/// # Errors
/// See the per-medium open functions.
pub fn open(
    reference: &ImageRef,
    platform: Option<&Platform>,
) -> Result<Box<dyn Image>, FormatError> {
    Ok(match reference {
        ImageRef::Oci { dir, reference } => {
            Box::new(open_oci_dir(dir, reference.as_deref(), platform)?)
        }
        ImageRef::OciArchive { path, reference } => {
            Box::new(open_oci_archive(path, reference.as_deref(), platform)?)
        }
        ImageRef::DockerArchive { path, reference } => {
            Box::new(open_docker_archive(path, reference.as_deref())?)
        }
        ImageRef::Engine { engine, name } => Box::new(open_engine_image(*engine, name)?),
        ImageRef::Registry(_) => {
            return Err(FormatError::NeedsRegistry {
                reference: reference.to_string(),
            });
        }
    })
}

/// The multi-platform index `reference` names, whole: `Some` when it is an OCI layout
/// (`oci:DIR[:REF]`, `oci-archive:FILE[:REF]`) entry whose media type is an image index or
/// manifest list; `None` when it names a single image or a medium without indexes.
///
/// # Errors
/// See [`open_oci_dir_index`]; a registry reference is [`FormatError::NeedsRegistry`].
pub fn open_index(reference: &ImageRef) -> Result<Option<OwnedIndex>, FormatError> {
    match reference {
        ImageRef::Oci { dir, reference } => open_oci_dir_index(dir, reference.as_deref()),
        ImageRef::OciArchive { path, reference } => {
            open_oci_archive_index(path, reference.as_deref())
        }
        ImageRef::DockerArchive { .. } | ImageRef::Engine { .. } => Ok(None),
        ImageRef::Registry(_) => Err(FormatError::NeedsRegistry {
            reference: reference.to_string(),
        }),
    }
}

/// Whether `dest` can hold a whole multi-platform index (see [`write_index`]).
pub fn holds_indexes(dest: &ImageRef) -> bool {
    matches!(dest, ImageRef::Oci { .. } | ImageRef::OciArchive { .. })
}

/// Write a whole multi-platform index to an OCI destination (`oci:DIR[:REF]` or
/// `oci-archive:FILE[:REF]`; the ref-name is `:REF`, else the first of `tags`). A
/// directory gets up to `jobs` blobs at once.
///
/// # Errors
/// [`FormatError::IndexUnsupported`] for media that hold one image; see
/// [`write_oci_dir_index`].
pub fn write_index(
    index: &OwnedIndex,
    dest: &ImageRef,
    tags: &[String],
    jobs: usize,
) -> Result<Written, FormatError> {
    let ref_name = |r: &Option<String>| r.clone().or_else(|| tags.first().cloned());
    let descriptor = match dest {
        ImageRef::Oci { dir, reference } => {
            write_oci_dir_index(index, dir, ref_name(reference).as_deref(), jobs)?
        }
        ImageRef::OciArchive { path, reference } => {
            write_oci_archive_index(index, path, ref_name(reference).as_deref())?
        }
        other => {
            return Err(FormatError::IndexUnsupported {
                destination: other.to_string(),
            });
        }
    };
    Ok(Written {
        destination: dest.to_string(),
        descriptor: Some(descriptor),
        engine_output: None,
    })
}

/// Check, before any work, that `dest` may be written: an existing destination must be
/// an image of the same kind (or an empty directory for `oci:`), and an engine must be
/// installed.
///
/// # Errors
/// [`FormatError::DestinationNotOurs`] or [`FormatError::EngineMissing`].
pub fn check_destination(dest: &ImageRef) -> Result<(), FormatError> {
    match dest {
        ImageRef::Oci { dir, .. } => oci_layout::check_dir_destination(dir).map(|_| ()),
        ImageRef::OciArchive { path, .. } => {
            atomic::check_replaceable_archive(path, "oci-layout", "an oci-archive")
        }
        ImageRef::DockerArchive { path, .. } => {
            atomic::check_replaceable_archive(path, "manifest.json", "a docker-archive")
        }
        ImageRef::Engine { engine, .. } => {
            if engine_available(*engine) {
                Ok(())
            } else {
                Err(FormatError::EngineMissing {
                    engine: engine.program(),
                })
            }
        }
        ImageRef::Registry(_) => Err(FormatError::NeedsRegistry {
            reference: dest.to_string(),
        }),
    }
}

/// What a sink wrote.
#[derive(Debug, Clone)]
pub struct Written {
    pub destination: String,
    /// The index entry, for OCI destinations.
    pub descriptor: Option<Descriptor>,
    /// Engine output, for engine destinations.
    pub engine_output: Option<String>,
}

/// Write `image` to `dest`. `tags` name it (RepoTags of a docker-archive or engine load;
/// the first one is the ref-name of an OCI destination without an explicit `:REF`).
///
/// # Errors
/// See the per-medium write functions.
pub fn write(image: &dyn Image, dest: &ImageRef, tags: &[String]) -> Result<Written, FormatError> {
    write_with(image, dest, tags, DEFAULT_JOBS)
}

/// As [`write`], with up to `jobs` blobs written at once into an `oci:` directory (the
/// archive and engine sinks are sequential streams).
///
/// # Errors
/// See the per-medium write functions.
pub fn write_with(
    image: &dyn Image,
    dest: &ImageRef,
    tags: &[String],
    jobs: usize,
) -> Result<Written, FormatError> {
    let destination = dest.to_string();
    let ref_name = |r: &Option<String>| r.clone().or_else(|| tags.first().cloned());
    Ok(match dest {
        ImageRef::Oci { dir, reference } => Written {
            destination,
            descriptor: Some(write_oci_dir_with(
                image,
                dir,
                ref_name(reference).as_deref(),
                jobs,
            )?),
            engine_output: None,
        },
        ImageRef::OciArchive { path, reference } => Written {
            destination,
            descriptor: Some(write_oci_archive(
                image,
                path,
                ref_name(reference).as_deref(),
            )?),
            engine_output: None,
        },
        ImageRef::DockerArchive { path, reference } => {
            let mut all: Vec<String> = reference.iter().cloned().collect();
            all.extend(tags.iter().cloned());
            write_docker_archive(image, path, &all)?;
            Written {
                destination,
                descriptor: None,
                engine_output: None,
            }
        }
        ImageRef::Engine { engine, name } => {
            let mut all = vec![name.clone()];
            all.extend(tags.iter().filter(|t| *t != name).cloned());
            Written {
                destination,
                descriptor: None,
                engine_output: Some(load_into_engine(*engine, image, &all)?),
            }
        }
        ImageRef::Registry(_) => {
            return Err(FormatError::NeedsRegistry {
                reference: destination,
            });
        }
    })
}
