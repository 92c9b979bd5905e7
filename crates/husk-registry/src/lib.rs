//! husk-registry: images in OCI distribution registries, both directions. The only husk
//! crate with HTTP (reqwest, blocking, on rustls with the ring provider).
//!
//! - [`RegistryRef`] ([`reference`]) names an image in a registry,
//!   `docker://HOST[:PORT]/REPO[:TAG][@DIGEST]`; this crate does not know local media.
//! - [`open`] gives a [`RegistryImage`]: a `husk_oci::Image` whose manifest is fetched and
//!   verified up front (indexes resolved by platform) and whose blobs are streamed on
//!   demand and verified by the `Image` defaults.
//! - [`open_remote`] gives an image or a whole index ([`husk_oci::OwnedIndex`], one
//!   `RegistryImage` per manifest it lists) for copying every platform.
//! - [`push`] / [`push_index`] write any image: HEAD, mount, monolithic or chunked
//!   upload, manifest last.
//! - [`auth`] reads docker/podman auth files and credential helpers; [`challenge`] parses
//!   `WWW-Authenticate`; the transport answers Basic and Bearer challenges, retries with
//!   backoff ([`RetryPolicy`]) and never forwards `Authorization` across origins.
//! - No request hangs on a registry that stops answering: one that sends or takes nothing
//!   for [`RegistryOptions::idle_timeout`] fails with [`RegistryError::Stalled`] (and is
//!   retried where that is safe); progress resets the clock, so big blobs have no
//!   deadline (`idle.rs`).
//!
//! - A registry's error document is kept typed: [`ErrorCode`] (the spec's codes) and the
//!   server's messages in [`ServerErrors`], inside the HTTP error variants.
//!
//! Follows the OCI distribution spec v1.1 (`spec.md`: pulling, pushing, chunked uploads,
//! mounting) and the Docker registry token authentication spec.
//!
//! Own client rather than oci-client: the upload path must resume chunked uploads from
//! the registry's `Range`, stream from a borrowed `Image` reader, PUT exact manifest bytes
//! and media types, follow redirects under our own header policy and verify every
//! document; oci-client covers parts of that with behaviour we would have to work around.

pub mod auth;
pub mod challenge;
mod codes;
mod error;
mod idle;
mod options;
mod progress;
mod push;
pub mod reference;
mod referrers;
pub mod retry;
mod source;
pub mod tls;
pub mod transport;

pub use auth::{Credentials, Secret};
pub use codes::{ErrorCode, ServerError, ServerErrors};
pub use error::RegistryError;
pub use husk_oci::{PlatformError, parse_platform};
pub use idle::Stall;
pub use options::{DEFAULT_IDLE_TIMEOUT, Logger, PlainHttp, RegistryOptions};
pub use progress::{BlobOutcome, NoProgress, Progress};
pub use push::{PushOptions, PushReport, check_login, manifest_media_type, push, push_index};
pub use reference::{RegistryRef, RegistryRefError};
pub use referrers::{Referrers, ReferrersVia, attach, fallback_tag, list_referrers};
pub use retry::RetryPolicy;
pub use source::{DocumentKind, RegistryImage, Remote, classify, open, open_remote};
