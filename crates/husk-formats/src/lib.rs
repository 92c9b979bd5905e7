//! husk-formats: images on local media, in both directions.
//!
//! Sources turn an [`LocalRef`] into a `Box<dyn husk_oci::Image>`; sinks write any image.
//! One module per medium: [`oci_layout`] (OCI image layout directory and oci-archive,
//! image-spec `image-layout.md`), [`docker_archive`] (`docker save` format), [`engine`]
//! (podman/docker through their `save`/`load` commands). Registries are not local media:
//! this crate does not know them (the transport layer above routes references).
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
pub mod referrers;
mod select;
mod store;
mod tar_index;

use husk_oci::{Descriptor, Image, OwnedIndex};

pub use docker_archive::{
    DockerArchiveImage, open_docker_archive, write_docker_archive, write_docker_archive_to,
};
pub use engine::{EngineImage, engine_available, load_into_engine, open_engine_image};
pub use error::FormatError;
pub use husk_oci::{PlatformChoice, PlatformError, parse_platform, select_platform};
pub use oci_layout::{
    DEFAULT_JOBS, LayoutImage, open_oci_archive, open_oci_archive_index, open_oci_dir,
    open_oci_dir_index, write_oci_archive, write_oci_archive_index, write_oci_dir,
    write_oci_dir_index, write_oci_dir_with,
};
pub use reference::{Engine, LocalRef, TRANSPORTS};
pub use referrers::{ArtifactBlob, attach_to_oci_dir, referrers_in_oci_dir};
pub use store::open_regular;

/// Open the image `reference` names.
///
/// # Errors
/// See the per-medium open functions.
pub fn open(
    reference: &LocalRef,
    platform: &PlatformChoice,
) -> Result<Box<dyn Image>, FormatError> {
    Ok(match reference {
        LocalRef::Oci { dir, reference } => {
            Box::new(open_oci_dir(dir, reference.as_deref(), platform)?)
        }
        LocalRef::OciArchive { path, reference } => {
            Box::new(open_oci_archive(path, reference.as_deref(), platform)?)
        }
        LocalRef::DockerArchive { path, reference } => {
            Box::new(open_docker_archive(path, reference.as_deref())?)
        }
        LocalRef::Engine { engine, name } => Box::new(open_engine_image(*engine, name)?),
    })
}

/// The multi-platform index `reference` names, whole: `Some` when it is an OCI layout
/// (`oci:DIR[:REF]`, `oci-archive:FILE[:REF]`) entry whose media type is an image index or
/// manifest list; `None` when it names a single image or a medium without indexes.
///
/// # Errors
/// See [`open_oci_dir_index`].
pub fn open_index(reference: &LocalRef) -> Result<Option<OwnedIndex>, FormatError> {
    match reference {
        LocalRef::Oci { dir, reference } => open_oci_dir_index(dir, reference.as_deref()),
        LocalRef::OciArchive { path, reference } => {
            open_oci_archive_index(path, reference.as_deref())
        }
        LocalRef::DockerArchive { .. } | LocalRef::Engine { .. } => Ok(None),
    }
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
    dest: &LocalRef,
    tags: &[String],
    jobs: usize,
) -> Result<Written, FormatError> {
    let ref_name = |r: &Option<String>| r.clone().or_else(|| tags.first().cloned());
    let descriptor = match dest {
        LocalRef::Oci { dir, reference } => {
            write_oci_dir_index(index, dir, ref_name(reference).as_deref(), jobs)?
        }
        LocalRef::OciArchive { path, reference } => {
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
pub fn check_destination(dest: &LocalRef) -> Result<(), FormatError> {
    match dest {
        LocalRef::Oci { dir, .. } => oci_layout::check_dir_destination(dir).map(|_| ()),
        LocalRef::OciArchive { path, .. } => {
            atomic::check_replaceable_archive(path, "oci-layout", "an oci-archive")
        }
        LocalRef::DockerArchive { path, .. } => {
            atomic::check_replaceable_archive(path, "manifest.json", "a docker-archive")
        }
        LocalRef::Engine { engine, .. } => {
            if engine_available(*engine) {
                Ok(())
            } else {
                Err(FormatError::EngineMissing {
                    engine: engine.program(),
                })
            }
        }
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
pub fn write(image: &dyn Image, dest: &LocalRef, tags: &[String]) -> Result<Written, FormatError> {
    write_with(image, dest, tags, DEFAULT_JOBS)
}

/// As [`write`], with up to `jobs` blobs written at once into an `oci:` directory (the
/// archive and engine sinks are sequential streams).
///
/// # Errors
/// See the per-medium write functions.
pub fn write_with(
    image: &dyn Image,
    dest: &LocalRef,
    tags: &[String],
    jobs: usize,
) -> Result<Written, FormatError> {
    let destination = dest.to_string();
    let ref_name = |r: &Option<String>| r.clone().or_else(|| tags.first().cloned());
    Ok(match dest {
        LocalRef::Oci { dir, reference } => Written {
            destination,
            descriptor: Some(write_oci_dir_with(
                image,
                dir,
                ref_name(reference).as_deref(),
                jobs,
            )?),
            engine_output: None,
        },
        LocalRef::OciArchive { path, reference } => Written {
            destination,
            descriptor: Some(write_oci_archive(
                image,
                path,
                ref_name(reference).as_deref(),
            )?),
            engine_output: None,
        },
        LocalRef::DockerArchive { path, reference } => {
            let mut all: Vec<String> = reference.iter().cloned().collect();
            all.extend(tags.iter().cloned());
            write_docker_archive(image, path, &all)?;
            Written {
                destination,
                descriptor: None,
                engine_output: None,
            }
        }
        LocalRef::Engine { engine, name } => {
            let mut all = vec![name.clone()];
            all.extend(tags.iter().filter(|t| *t != name).cloned());
            Written {
                destination,
                descriptor: None,
                engine_output: Some(load_into_engine(*engine, image, &all)?),
            }
        }
    })
}
