//! The one copy: any source (a reference, or an image or index already in memory) to any
//! destination (local media or a registry). It decides, in one place:
//!
//! - **image or index**: a source that names a multi-platform index (and no
//!   `--platform`) is copied whole, every image and then the index's exact bytes, like
//!   `crane copy`, into destinations that hold an index (`oci:`, `oci-archive:`,
//!   `docker://`); a destination that holds one image gets the index's only image, or an
//!   error listing its platforms;
//! - **`--all`**: insists on the whole index, so a destination that holds one image is
//!   refused before anything is read;
//! - **`--platform`**: copies that one image (of an index in memory, a multi-platform
//!   build's, it chooses the image only for a destination that holds one image);
//! - **registry destinations**: a source in the same registry is mounted, not uploaded;
//!   blobs go `jobs` at a time (also into an `oci:` directory).

use husk_formats::{DEFAULT_JOBS, LocalRef};
use husk_oci::{Digest, Image, ImageIndex, OwnedIndex, Platform, PlatformChoice};
use husk_registry::{PushOptions, PushReport, RegistryRef};

use crate::context::Opened;
use crate::reference::engine_hint;
use crate::{Context, ImageRef, TransportError};

/// What to copy from.
#[derive(Clone, Copy)]
pub enum Source<'a> {
    /// A reference, opened whole (see [`Context::open_whole`]).
    Reference(&'a ImageRef),
    /// An image already in memory (a build's result).
    Image(&'a dyn Image),
    /// A multi-platform index already in memory (a multi-platform build's result): copied
    /// whole where the destination holds indexes, else its only image or the platforms.
    Index(&'a OwnedIndex),
}

/// How to copy.
#[derive(Debug, Clone)]
pub struct CopyOptions {
    /// Copy only this image of a multi-platform source.
    pub platform: Option<Platform>,
    /// Insist on copying a multi-platform index whole (refuse single-image destinations).
    pub all: bool,
    /// Names for local destinations: RepoTags of a docker-archive or engine, the first
    /// also the ref-name of an OCI layout written without `:REF`.
    pub names: Vec<String>,
    /// More tags to put the manifest under in a registry destination.
    pub extra_tags: Vec<String>,
    /// Blobs transferred at once (registries and `oci:` directories).
    pub jobs: usize,
    /// Registry uploads above this many bytes go in chunks of this size.
    pub chunk_size: Option<u64>,
}

impl Default for CopyOptions {
    fn default() -> Self {
        CopyOptions {
            platform: None,
            all: false,
            names: Vec::new(),
            extra_tags: Vec::new(),
            jobs: DEFAULT_JOBS,
            chunk_size: None,
        }
    }
}

/// The index a copy wrote whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexCopied {
    /// How many images it holds.
    pub images: usize,
    /// The platforms it lists, in order (`unspecified` for an entry without one).
    pub platforms: Vec<String>,
}

/// What a copy did, for the caller to render.
#[derive(Debug, Clone)]
pub struct CopyReport {
    /// The source as written (`docker://...`, `oci:...`; empty for an in-memory image).
    pub source: String,
    pub destination: String,
    /// The digest of what was written: the image's manifest, or the index.
    pub digest: Digest,
    /// `Some` when a whole index was copied.
    pub index: Option<IndexCopied>,
    /// `Some` for a registry destination: what each blob needed.
    pub push: Option<PushReport>,
}

/// The opened source, borrowed for the copy.
enum Whole<'a> {
    Image(&'a dyn Image),
    Index(&'a OwnedIndex),
}

impl Context {
    /// Copy `source` to `dest` (see the module documentation for the decisions).
    ///
    /// # Errors
    /// [`TransportError::IndexUnsupported`] for `--all` into a destination that holds one
    /// image; a multi-platform index into such a destination without `--platform` lists
    /// its platforms ([`TransportError::Platform`]); open, write and push errors name the
    /// reference.
    pub fn copy(
        &self,
        source: Source<'_>,
        dest: &ImageRef,
        opts: &CopyOptions,
    ) -> Result<CopyReport, TransportError> {
        self.check_destination(dest)?;
        if opts.all && !dest.holds_indexes() {
            return Err(TransportError::IndexUnsupported {
                destination: dest.to_string(),
            });
        }
        match source {
            Source::Image(image) => self.copy_whole(Whole::Image(image), None, dest, opts),
            Source::Index(index) => self.copy_whole(Whole::Index(index), None, dest, opts),
            Source::Reference(r) => match self.open_whole(r, opts.platform.as_ref())? {
                Opened::Image(image) => {
                    self.copy_whole(Whole::Image(image.as_ref()), Some(r), dest, opts)
                }
                Opened::Index(index) => self.copy_whole(Whole::Index(&index), Some(r), dest, opts),
            },
        }
    }

    fn copy_whole(
        &self,
        whole: Whole<'_>,
        source: Option<&ImageRef>,
        dest: &ImageRef,
        opts: &CopyOptions,
    ) -> Result<CopyReport, TransportError> {
        let mut report = CopyReport {
            source: source.map(ToString::to_string).unwrap_or_default(),
            destination: dest.to_string(),
            digest: match &whole {
                Whole::Image(i) => i.digest()?,
                Whole::Index(i) => i.digest(),
            },
            index: None,
            push: None,
        };
        match (whole, dest) {
            (Whole::Image(image), ImageRef::Registry(to)) => {
                let tune = push_options(opts, source, to);
                let pushed = husk_registry::push(
                    image,
                    to,
                    self.registry_options(),
                    &tune,
                    self.progress("push").as_ref(),
                )
                .map_err(|source| TransportError::Push {
                    destination: to.to_string(),
                    source: Box::new(source),
                })?;
                report.push = Some(pushed);
            }
            (Whole::Image(image), ImageRef::Local(to)) => write_local(image, to, opts)?,
            (Whole::Index(index), dest) if dest.holds_indexes() => {
                report.index = Some(IndexCopied {
                    images: index.images().len(),
                    platforms: husk_oci::platforms_of(index.document()),
                });
                report.push = self.write_index(index, source, dest, opts)?;
            }
            (Whole::Index(index), dest) => {
                // One image only: the one --platform names, else the index's only image
                // or this machine's (as skopeo copy without --all), else the list.
                let location = source
                    .map(ToString::to_string)
                    .unwrap_or_else(|| index.location().to_owned());
                let choice = opts
                    .platform
                    .clone()
                    .map_or(PlatformChoice::Host, PlatformChoice::Exactly);
                let desc = husk_oci::select_platform(index.document(), &choice, &location)?;
                let image = index.image(&desc)?;
                return self.copy_whole(Whole::Image(image.as_ref()), source, dest, opts);
            }
        }
        Ok(report)
    }

    /// Write a whole index to a destination that holds one: a registry (returns what the
    /// push did) or an OCI layout.
    fn write_index(
        &self,
        index: &OwnedIndex,
        source: Option<&ImageRef>,
        dest: &ImageRef,
        opts: &CopyOptions,
    ) -> Result<Option<PushReport>, TransportError> {
        match dest {
            ImageRef::Registry(to) => {
                let tune = push_options(opts, source, to);
                husk_registry::push_index(
                    index,
                    to,
                    self.registry_options(),
                    &tune,
                    self.progress("push").as_ref(),
                )
                .map(Some)
                .map_err(|source| TransportError::PushIndex {
                    destination: to.to_string(),
                    source: Box::new(source),
                })
            }
            ImageRef::Local(to) => {
                husk_formats::write_index(index, to, &opts.names, opts.jobs)
                    .map_err(|e| write_error(to, e))?;
                Ok(None)
            }
        }
    }
}

fn write_local(image: &dyn Image, to: &LocalRef, opts: &CopyOptions) -> Result<(), TransportError> {
    husk_formats::write_with(image, to, &opts.names, opts.jobs)
        .map(|_| ())
        .map_err(|e| write_error(to, e))
}

fn write_error(to: &LocalRef, source: husk_formats::FormatError) -> TransportError {
    TransportError::Write {
        destination: to.to_string(),
        hint: engine_hint(to),
        source: Box::new(source),
    }
}

/// The upload settings of a copy; a source in the same registry is mounted into `dest`'s
/// repository, not re-uploaded.
fn push_options(opts: &CopyOptions, source: Option<&ImageRef>, dest: &RegistryRef) -> PushOptions {
    let mut tune = PushOptions {
        jobs: opts.jobs,
        extra_tags: opts.extra_tags.clone(),
        ..PushOptions::default()
    };
    if let Some(size) = opts.chunk_size {
        tune.chunk_size = size;
        tune.monolithic_max = size;
    }
    if let Some(ImageRef::Registry(src)) = source
        && src.domain == dest.domain
    {
        tune.mount_from = Some(src.repository.clone());
    }
    tune
}
