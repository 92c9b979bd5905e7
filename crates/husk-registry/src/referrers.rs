//! OCI 1.1 referrers on a registry: artifacts (an SBOM, a signature) whose manifest names
//! an image manifest as its `subject`.
//!
//! Listing asks the referrers API (`GET /v2/<name>/referrers/<digest>`, distribution-spec
//! v1.1); a registry without it answers 404, and then the fallback tag scheme is read:
//! an image index tagged `<alg>-<hex>` of the subject's digest, listing the referrers.
//! Attaching pushes the artifact by digest, then, when the registry has no referrers API
//! (Debian's docker-registry 2.8 has none), adds the artifact's descriptor to that
//! fallback index and PUTs it under the tag again.

use husk_oci::spec::to_canonical_json;
use husk_oci::{Descriptor, Digest, Image, Index, MAX_DOCUMENT_BYTES, media, parse_index};
use reqwest::Method;

use crate::progress::Progress;
use crate::push::{PushOptions, push, put_manifest};
use crate::transport::{Req, Transport, read_limited};
use crate::{RegistryError, RegistryOptions, RegistryRef};

/// How a registry keeps an image's referrers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferrersVia {
    /// The referrers API.
    Api,
    /// The fallback tag `<alg>-<hex>` (the registry has no referrers API).
    FallbackTag,
}

/// An image's referrers and where they were found.
#[derive(Debug, Clone)]
pub struct Referrers {
    pub via: ReferrersVia,
    /// The referrers' descriptors (with `artifactType`).
    pub manifests: Vec<Descriptor>,
}

/// The fallback tag of a subject: `sha256-<hex>`.
#[must_use]
pub fn fallback_tag(subject: &Digest) -> String {
    subject.to_string().replacen(':', "-", 1)
}

fn transport(
    repo: &RegistryRef,
    opts: &RegistryOptions,
    push: bool,
) -> Result<Transport, RegistryError> {
    let actions = if push { "pull,push" } else { "pull" };
    Transport::new(
        repo,
        opts,
        vec![format!("repository:{}:{actions}", repo.repository)],
    )
}

/// GET an index at `path` (under the repository); `None` on 404.
fn get_index(t: &Transport, path: &str, what: &str) -> Result<Option<Index>, RegistryError> {
    let req = Req::new(Method::GET, t.url(path)).header("accept", media::OCI_INDEX);
    let resp = t.send(&req)?;
    match resp.status().as_u16() {
        200 => {
            let bytes = read_limited(t, resp, MAX_DOCUMENT_BYTES, what)?;
            Ok(Some(parse_index(&bytes, what)?))
        }
        404 => Ok(None),
        _ => Err(t.status_error(&Method::GET, what, resp)),
    }
}

fn list_with(
    t: &Transport,
    repo: &RegistryRef,
    subject: &Digest,
) -> Result<Referrers, RegistryError> {
    let name = &repo.repository;
    let what = format!("the referrers of {name}@{subject}");
    if let Some(index) = get_index(t, &format!("{name}/referrers/{subject}"), &what)? {
        return Ok(Referrers {
            via: ReferrersVia::Api,
            manifests: index.manifests,
        });
    }
    let tag = fallback_tag(subject);
    let what = format!("the referrers index {name}:{tag}");
    let manifests = get_index(t, &format!("{name}/manifests/{tag}"), &what)?
        .map(|i| i.manifests)
        .unwrap_or_default();
    Ok(Referrers {
        via: ReferrersVia::FallbackTag,
        manifests,
    })
}

/// The referrers of `subject` in `repo`'s repository.
///
/// # Errors
/// Network, authentication, or a malformed index.
pub fn list_referrers(
    repo: &RegistryRef,
    subject: &Digest,
    opts: &RegistryOptions,
) -> Result<Referrers, RegistryError> {
    let t = transport(repo, opts, false)?;
    list_with(&t, repo, subject)
}

/// Pushes `artifact` (a manifest with a `subject`) into `repo`'s repository by digest and
/// makes it a referrer of `subject`: through the registry's referrers API when it has one,
/// else by adding `entry` (the artifact manifest's descriptor with its `artifactType`) to
/// the fallback tag's index. Returns how the registry keeps it.
///
/// # Errors
/// As [`push`], or the fallback index cannot be read or written.
pub fn attach(
    artifact: &dyn Image,
    entry: &Descriptor,
    repo: &RegistryRef,
    subject: &Digest,
    opts: &RegistryOptions,
    progress: &dyn Progress,
) -> Result<ReferrersVia, RegistryError> {
    let by_digest = RegistryRef {
        tag: None,
        digest: Some(entry.digest.clone()),
        ..repo.clone()
    };
    push(
        artifact,
        &by_digest,
        opts,
        &PushOptions::default(),
        progress,
    )?;
    let t = transport(repo, opts, true)?;
    let found = list_with(&t, repo, subject)?;
    if found.via == ReferrersVia::Api {
        return Ok(ReferrersVia::Api);
    }
    let mut manifests = found.manifests;
    if !manifests.iter().any(|d| d.digest == entry.digest) {
        manifests.push(entry.clone());
    }
    let index = to_canonical_json(&Index {
        schema_version: 2,
        media_type: Some(media::OCI_INDEX.into()),
        manifests,
        annotations: Default::default(),
    });
    put_manifest(
        &t,
        &repo.repository,
        &fallback_tag(subject),
        &index,
        media::OCI_INDEX,
        &Digest::sha256(&index),
    )?;
    Ok(ReferrersVia::FallbackTag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fallback_tag_is_alg_dash_hex() {
        let d = Digest::sha256(b"x");
        let tag = fallback_tag(&d);
        assert_eq!(tag, format!("sha256-{}", d.hex()));
        assert!(!tag.contains(':'));
    }
}
