//! husk-oci: the image model every other husk crate uses.
//!
//! It owns digests ([`Digest`], hashing and verifying streams), the OCI image-spec
//! documents ([`spec`]), media types ([`media`]), the read-only [`Image`], [`Layer`] and
//! [`ImageIndex`] traits that every source (OCI layout, archives, engines, registries)
//! implements, the by-value [`OwnedImage`] that builds produce and [`OwnedIndex`] (a multi-platform
//! image by value, copied whole by push/pull), and [`validate`], which
//! recomputes every digest, size and diff_id of an image. [`escape()`] and [`escape_text`]
//! are how every husk renderer prints untrusted text (see [`mod@escape`]).
//!
//! Shaped after go-containerregistry's `v1` package: small fallible accessors, defaults
//! for everything derivable, images as values. Follows OCI image-spec v1.1.
//! This crate does no networking and knows no container engine.
//!
//! Documents held in memory (manifests, indexes, configs) are capped at
//! [`MAX_DOCUMENT_BYTES`] wherever they are read ([`read_capped`], [`read_document`]) or
//! parsed ([`parse_manifest`], [`parse_index`], [`parse_config`]); `validate` reads each
//! distinct layer blob once, however often a manifest lists it.

mod digest;
mod error;
pub mod escape;
mod image;
mod index;
pub mod media;
mod platform;
pub mod spec;
mod validate;

pub use digest::{
    Algorithm, DiffIdReader, Digest, Hasher, HashingReader, HashingWriter, VerifyingReader,
};
pub use error::OciError;
pub use escape::{escape, escape_text};
pub use image::{
    BlobData, BlobReader, CappedReadError, Image, ImageIndex, ImageLayer, Layer,
    MAX_DOCUMENT_BYTES, NewLayer, OwnedImage, blob_error, layers_of, parse_config, parse_index,
    parse_manifest, read_capped, read_document,
};
pub use index::{OwnedIndex, is_index_media_type};
pub use platform::{
    PlatformChoice, PlatformError, host_platform, is_attestation, parse_platform, platforms_of,
    select_platform,
};
pub use spec::{Descriptor, ImageConfig, Index, Manifest, Platform};
pub use validate::{
    IndexProblem, IndexReport, Problem, ValidationReport, validate, validate_index,
};
