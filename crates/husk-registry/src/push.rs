//! Pushing any `husk_oci::Image` (and an index of images) to a registry, following the
//! distribution spec's push flow: for each blob a HEAD (skip what is there), else a
//! cross-repository mount when asked, else an upload — monolithic (POST then one PUT) for
//! small blobs, chunked (PATCH with Content-Range, resumed from the registry's `Range`
//! after a failure) for big ones. Blobs go first, in parallel; the manifest is PUT last
//! with its exact bytes and media type, and only if every blob is there, so a failed push
//! never leaves a manifest that points at missing blobs.

use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use crate::RegistryRef;
use husk_oci::{Descriptor, Digest, Image, Manifest, OciError, OwnedIndex, media};
use reqwest::Method;
use reqwest::blocking::Response;

use crate::idle::ReqBody;
use crate::progress::{BlobOutcome, Progress};
use crate::retry::retryable_status;
use crate::transport::{Req, Transport};
use crate::{RegistryError, RegistryOptions};

/// How blobs are uploaded.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// A repository of the same registry to mount blobs from (`POST ?mount=&from=`).
    pub mount_from: Option<String>,
    /// Blobs up to this size go in one PUT; bigger ones in PATCH chunks.
    pub monolithic_max: u64,
    /// Size of one PATCH chunk.
    pub chunk_size: u64,
    /// Blobs uploaded at once.
    pub jobs: usize,
    /// More tags to PUT the same manifest under.
    pub extra_tags: Vec<String>,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions {
            mount_from: None,
            monolithic_max: 64 << 20,
            chunk_size: 32 << 20,
            jobs: 4,
            extra_tags: Vec::new(),
        }
    }
}

/// What a push did.
#[derive(Debug, Clone)]
pub struct PushReport {
    /// The manifest (or index) digest.
    pub digest: Digest,
    /// `docker://host/repo:tag` (and `@digest`) references written.
    pub references: Vec<String>,
    pub blobs: Vec<(Descriptor, BlobOutcome)>,
}

impl PushReport {
    /// Bytes actually sent (uploaded blobs only).
    pub fn uploaded_bytes(&self) -> u64 {
        self.blobs
            .iter()
            .filter(|(_, o)| *o == BlobOutcome::Uploaded)
            .map(|(d, _)| d.size)
            .sum()
    }
}

/// The media type to PUT a manifest with: its own `mediaType`, else Docker schema 2 when
/// its config is a Docker config, else OCI.
pub fn manifest_media_type(m: &Manifest) -> &str {
    match m.media_type.as_deref() {
        Some(mt) => mt,
        None if m.config.media_type == media::DOCKER_CONFIG => media::DOCKER_MANIFEST,
        None => media::OCI_MANIFEST,
    }
}

fn scopes(dest: &RegistryRef, mount_from: Option<&str>) -> Vec<String> {
    let mut s = vec![format!("repository:{}:pull,push", dest.repository)];
    if let Some(from) = mount_from
        && from != dest.repository
    {
        s.push(format!("repository:{from}:pull"));
    }
    s
}

/// Push `image` to `dest` (its tag, or `latest`; or by digest when `dest` has only a
/// digest, which must then be the image's).
///
/// # Errors
/// Reading the source, network, authentication, or the registry refusing a blob or the
/// manifest. On any blob failure the manifest is not PUT.
pub fn push(
    image: &dyn Image,
    dest: &RegistryRef,
    opts: &RegistryOptions,
    push: &PushOptions,
    progress: &dyn Progress,
) -> Result<PushReport, RegistryError> {
    let t = Transport::new(dest, opts, scopes(dest, push.mount_from.as_deref()))?;
    let digest = image.digest()?;
    if let Some(wanted) = &dest.digest
        && wanted != &digest
    {
        return Err(RegistryError::DigestRefMismatch {
            wanted: wanted.clone(),
            actual: digest,
        });
    }
    let blobs = push_image_blobs(&t, image, dest, push, progress)?;
    let raw = image.raw_manifest()?;
    let manifest = image.manifest()?;
    let mt = manifest_media_type(&manifest).to_owned();
    let mut references = Vec::new();
    for r in manifest_targets(dest, &push.extra_tags) {
        put_manifest(&t, &dest.repository, &r, &raw, &mt, &digest)?;
        references.push(reference_string(dest, &r));
    }
    Ok(PushReport {
        digest,
        references,
        blobs,
    })
}

/// Push a whole multi-platform index: every image's config and layers first (each blob
/// once, `push.jobs` at a time), then each image manifest by digest, then the index with
/// its exact bytes and media type under the tag(s). Nothing is PUT before every blob is
/// there, and the index is PUT only after every manifest it lists was accepted, so a
/// failed push never leaves an index that points at a missing manifest (nor a manifest
/// that points at a missing blob).
///
/// # Errors
/// As [`push`].
pub fn push_index(
    index: &OwnedIndex,
    dest: &RegistryRef,
    opts: &RegistryOptions,
    push: &PushOptions,
    progress: &dyn Progress,
) -> Result<PushReport, RegistryError> {
    let digest = index.digest();
    if let Some(wanted) = &dest.digest
        && wanted != &digest
    {
        return Err(RegistryError::DigestRefMismatch {
            wanted: wanted.clone(),
            actual: digest,
        });
    }
    let t = Transport::new(dest, opts, scopes(dest, push.mount_from.as_deref()))?;
    let mut work: Vec<(Descriptor, &dyn Image)> = Vec::new();
    for image in index.images() {
        add_blobs_of(image.as_ref(), &mut work)?;
    }
    let blobs = push_blobs(&t, &work, dest, push, progress)?;
    for image in index.images() {
        let raw = image.raw_manifest()?;
        let d = Digest::sha256(&raw);
        // The index's descriptor says the type (OwnedIndex checked that it agrees with the
        // manifest's own mediaType when it has one).
        let mt = match index.document().manifests.iter().find(|m| m.digest == d) {
            Some(m) => m.media_type.clone(),
            None => manifest_media_type(&image.manifest()?).to_owned(),
        };
        put_manifest(&t, &dest.repository, &d.to_string(), &raw, &mt, &d)?;
    }
    let mut references = Vec::new();
    for r in manifest_targets(dest, &push.extra_tags) {
        put_manifest(
            &t,
            &dest.repository,
            &r,
            index.raw(),
            index.media_type(),
            &digest,
        )?;
        references.push(reference_string(dest, &r));
    }
    Ok(PushReport {
        digest,
        references,
        blobs,
    })
}

fn manifest_targets(dest: &RegistryRef, extra: &[String]) -> Vec<String> {
    let mut v = vec![match (&dest.tag, &dest.digest) {
        (Some(t), _) => t.clone(),
        (None, Some(d)) => d.to_string(),
        (None, None) => "latest".into(),
    }];
    for t in extra {
        if !v.contains(t) {
            v.push(t.clone());
        }
    }
    v
}

fn reference_string(dest: &RegistryRef, r: &str) -> String {
    match r.parse::<Digest>() {
        Ok(d) => RegistryRef {
            tag: None,
            digest: Some(d),
            ..dest.clone()
        }
        .to_string(),
        Err(_) => dest.with_tag(r).to_string(),
    }
}

/// The config and layers of `image` not yet in `work`.
fn add_blobs_of<'a>(
    image: &'a dyn Image,
    work: &mut Vec<(Descriptor, &'a dyn Image)>,
) -> Result<(), RegistryError> {
    let manifest = image.manifest()?;
    for d in std::iter::once(manifest.config).chain(manifest.layers) {
        if !work.iter().any(|(x, _)| x.digest == d.digest) {
            work.push((d, image));
        }
    }
    Ok(())
}

/// Upload the config and layers of `image`, `push.jobs` at a time.
fn push_image_blobs(
    t: &Transport,
    image: &dyn Image,
    dest: &RegistryRef,
    push: &PushOptions,
    progress: &dyn Progress,
) -> Result<Vec<(Descriptor, BlobOutcome)>, RegistryError> {
    let mut work = Vec::new();
    add_blobs_of(image, &mut work)?;
    push_blobs(t, &work, dest, push, progress)
}

/// Upload blobs (each from its image), `push.jobs` at a time; the first failure stops
/// the others from starting.
fn push_blobs(
    t: &Transport,
    descs: &[(Descriptor, &dyn Image)],
    dest: &RegistryRef,
    push: &PushOptions,
    progress: &dyn Progress,
) -> Result<Vec<(Descriptor, BlobOutcome)>, RegistryError> {
    let next = Mutex::new(0usize);
    let failed = AtomicBool::new(false);
    let results: Mutex<Vec<(usize, Result<BlobOutcome, RegistryError>)>> = Mutex::new(Vec::new());
    let jobs = push.jobs.clamp(1, 16).min(descs.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                loop {
                    if failed.load(Ordering::Relaxed) {
                        break;
                    }
                    let i = {
                        let mut n = next.lock().expect("queue lock");
                        let i = *n;
                        *n += 1;
                        i
                    };
                    let Some((desc, image)) = descs.get(i) else {
                        break;
                    };
                    let r = upload_blob(t, *image, desc, &dest.repository, push, progress);
                    if r.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    results.lock().expect("results lock").push((i, r));
                }
            });
        }
    });
    let mut results = results.into_inner().expect("results lock");
    results.sort_by_key(|(i, _)| *i);
    let mut out = Vec::new();
    for (i, r) in results {
        out.push((descs[i].0.clone(), r?));
    }
    Ok(out)
}

fn blob_exists(t: &Transport, repository: &str, desc: &Descriptor) -> Result<bool, RegistryError> {
    let url = t.url(&format!("{repository}/blobs/{}", desc.digest));
    let mut req = Req::new(Method::HEAD, url);
    req.follow = true;
    let resp = t.send(&req)?;
    match resp.status().as_u16() {
        // reqwest's content_length() is the (empty) body's size for HEAD: read the header.
        200 => Ok(resp
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .is_none_or(|n| n == desc.size)),
        404 => Ok(false),
        _ => Err(t.status_error(&Method::HEAD, &format!("blob {}", desc.digest), resp)),
    }
}

/// Whether a failed upload attempt is worth another try.
fn retryable_upload(e: &RegistryError) -> bool {
    match e {
        RegistryError::Http { .. }
        | RegistryError::BadLocation { .. }
        | RegistryError::Stalled { .. } => true,
        RegistryError::Status { status, .. } => retryable_status(*status) || *status == 416,
        RegistryError::NotFound { .. } => true, // an upload session that vanished
        _ => false,
    }
}

fn upload_blob(
    t: &Transport,
    image: &dyn Image,
    desc: &Descriptor,
    repository: &str,
    push: &PushOptions,
    progress: &dyn Progress,
) -> Result<BlobOutcome, RegistryError> {
    progress.start(&desc.digest, desc.size);
    if blob_exists(t, repository, desc)? {
        t.log(1, || format!("  blob {} exists, skipped", desc.digest));
        progress.finish(&desc.digest, BlobOutcome::Existed);
        return Ok(BlobOutcome::Existed);
    }
    let policy = t.retry_policy().clone();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let r = try_upload(t, image, desc, repository, push, progress);
        match r {
            Ok(outcome) => {
                progress.finish(&desc.digest, outcome);
                return Ok(outcome);
            }
            Err(e) => {
                t.log(1, || format!("  upload of {} failed: {e}", desc.digest));
                if !retryable_upload(&e) || !policy.allows_another(attempt) {
                    return Err(RegistryError::UploadFailed {
                        digest: desc.digest.clone(),
                        repository: repository.to_owned(),
                        attempts: attempt,
                        source: Box::new(e),
                    });
                }
                std::thread::sleep(policy.backoff(attempt));
                // The failed attempt may have completed on the registry's side.
                if blob_exists(t, repository, desc).unwrap_or(false) {
                    progress.finish(&desc.digest, BlobOutcome::Uploaded);
                    return Ok(BlobOutcome::Uploaded);
                }
                progress.start(&desc.digest, desc.size);
            }
        }
    }
}

fn expect(
    t: &Transport,
    resp: Response,
    method: Method,
    ok: u16,
    what: &str,
) -> Result<Response, RegistryError> {
    if resp.status().as_u16() == ok {
        Ok(resp)
    } else {
        Err(t.status_error(&method, what, resp))
    }
}

fn try_upload(
    t: &Transport,
    image: &dyn Image,
    desc: &Descriptor,
    repository: &str,
    push: &PushOptions,
    progress: &dyn Progress,
) -> Result<BlobOutcome, RegistryError> {
    let what = format!("upload of blob {}", desc.digest);
    let mut url = t.url(&format!("{repository}/blobs/uploads/"));
    if let Some(from) = push.mount_from.as_deref().filter(|f| *f != repository) {
        url.query_pairs_mut()
            .append_pair("mount", &desc.digest.to_string())
            .append_pair("from", from);
    }
    let resp = t.send(&Req::new(Method::POST, url).header("content-length", "0"))?;
    let status = resp.status().as_u16();
    if status == 201 && push.mount_from.is_some() {
        t.log(1, || format!("  blob {} mounted", desc.digest));
        return Ok(BlobOutcome::Mounted);
    }
    let resp = expect(t, resp, Method::POST, 202, &what)?;
    let location = t.location(&resp, &what)?;
    drop(resp);
    if desc.size <= push.monolithic_max {
        let mut put = location;
        put.query_pairs_mut()
            .append_pair("digest", &desc.digest.to_string());
        let resp = send_stream(t, Method::PUT, put, image, desc, 0, desc.size, progress)?;
        expect(t, resp, Method::PUT, 201, &what)?;
        return Ok(BlobOutcome::Uploaded);
    }
    upload_chunked(t, image, desc, location, push.chunk_size.max(1), progress)
}

/// PATCH the blob in chunks. After a failed chunk, ask the registry how much it has
/// (GET on the upload URL answers `Range: 0-LAST`) and go on from there when that is a
/// chunk boundary we know; otherwise give up this session (the caller starts a new one).
fn upload_chunked(
    t: &Transport,
    image: &dyn Image,
    desc: &Descriptor,
    mut location: reqwest::Url,
    chunk: u64,
    progress: &dyn Progress,
) -> Result<BlobOutcome, RegistryError> {
    let what = format!("chunked upload of blob {}", desc.digest);
    let policy = t.retry_policy().clone();
    let mut offset = 0u64;
    let mut failures = 0u32;
    while offset < desc.size {
        let n = chunk.min(desc.size - offset);
        let r = send_stream(
            t,
            Method::PATCH,
            location.clone(),
            image,
            desc,
            offset,
            n,
            progress,
        )
        .and_then(|resp| expect(t, resp, Method::PATCH, 202, &what));
        match r {
            Ok(resp) => {
                location = t.location(&resp, &what)?;
                offset += n;
            }
            Err(e) if retryable_upload(&e) && policy.allows_another(failures + 1) => {
                failures += 1;
                t.log(1, || format!("  chunk at {offset} of {} failed ({e}); asking the registry where to resume", desc.digest));
                std::thread::sleep(policy.backoff(failures));
                let (loc, have) = upload_status(t, &location, &what)?;
                if have == offset || have == offset + n {
                    location = loc;
                    offset = have;
                    progress.position(&desc.digest, offset);
                } else {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
    }
    let mut put = location;
    put.query_pairs_mut()
        .append_pair("digest", &desc.digest.to_string());
    let resp = t.send(&Req {
        retry: false,
        ..Req::new(Method::PUT, put).header("content-length", "0")
    })?;
    expect(t, resp, Method::PUT, 201, &what)?;
    Ok(BlobOutcome::Uploaded)
}

/// GET an upload session: its new location and how many bytes the registry holds.
fn upload_status(
    t: &Transport,
    location: &reqwest::Url,
    what: &str,
) -> Result<(reqwest::Url, u64), RegistryError> {
    let resp = t.send(&Req::new(Method::GET, location.clone()))?;
    let resp = expect(t, resp, Method::GET, 204, what)?;
    let loc = t.location(&resp, what).unwrap_or_else(|_| location.clone());
    let range = resp
        .headers()
        .get("range")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // "0-LAST"; distribution answers "0-0" for both 0 and 1 byte: treat it as 0.
    let have = match range
        .trim()
        .strip_prefix("0-")
        .and_then(|l| l.parse::<u64>().ok())
    {
        Some(0) | None => 0,
        Some(last) => last + 1,
    };
    Ok((loc, have))
}

/// Send `take` bytes of a blob, starting at `skip`, as a request body streamed from the
/// source image (verified: at the blob's end its digest is checked before the last
/// bytes go out). The image's reader borrows the image, and reqwest wants a `'static`
/// body, so a scoped thread pumps it through a bounded channel.
#[allow(clippy::too_many_arguments)]
fn send_stream(
    t: &Transport,
    method: Method,
    url: reqwest::Url,
    image: &dyn Image,
    desc: &Descriptor,
    skip: u64,
    take: u64,
    progress: &dyn Progress,
) -> Result<Response, RegistryError> {
    let source_error: Mutex<Option<OciError>> = Mutex::new(None);
    let result = std::thread::scope(|s| {
        let make = || -> Result<ReqBody, RegistryError> {
            let (tx, rx) = sync_channel::<io::Result<Vec<u8>>>(4);
            let source_error = &source_error;
            s.spawn(move || {
                if let Err(e) = pump(image, desc, skip, take, &tx, progress) {
                    *source_error.lock().expect("error slot") = Some(e);
                    let _ = tx.send(Err(io::Error::other("the source blob could not be read")));
                }
            });
            Ok(ReqBody::Reader(Box::new(ChanReader::new(rx)), take))
        };
        let mut req = Req::new(method, url)
            .header("content-type", "application/octet-stream")
            .header("content-length", take.to_string());
        if skip > 0 || take < desc.size {
            req = req.header("content-range", format!("{skip}-{}", skip + take - 1));
        }
        req.body = Some(&make);
        req.retry = false;
        t.send(&req)
    });
    if let Some(e) = source_error.into_inner().expect("error slot") {
        return Err(RegistryError::Source {
            digest: desc.digest.clone(),
            source: e,
        });
    }
    result
}

const PUMP_CHUNK: usize = 1 << 20;

fn pump(
    image: &dyn Image,
    desc: &Descriptor,
    skip: u64,
    take: u64,
    tx: &SyncSender<io::Result<Vec<u8>>>,
    progress: &dyn Progress,
) -> Result<(), OciError> {
    let mut r = image.open_verified(desc)?;
    let read_err = |e: io::Error| husk_oci::blob_error(&desc.digest, e);
    if skip > 0 {
        let skipped = io::copy(&mut (&mut r).take(skip), &mut io::sink()).map_err(read_err)?;
        if skipped != skip {
            return Err(OciError::BlobMismatch {
                digest: desc.digest.clone(),
                expected_size: desc.size,
                actual_size: skipped,
                actual_digest: None,
            });
        }
    }
    let ends_blob = skip + take == desc.size;
    let mut left = take;
    let mut pos = skip;
    while left > 0 {
        let want = (left as usize).min(PUMP_CHUNK);
        let mut buf = vec![0u8; want];
        let mut filled = 0;
        while filled < want {
            let n = r.read(&mut buf[filled..]).map_err(read_err)?;
            if n == 0 {
                return Err(OciError::BlobMismatch {
                    digest: desc.digest.clone(),
                    expected_size: desc.size,
                    actual_size: pos + filled as u64,
                    actual_digest: None,
                });
            }
            filled += n;
        }
        left -= want as u64;
        pos += want as u64;
        if left == 0 && ends_blob {
            // Reach the end of the verified stream so a wrong digest fails before the
            // last bytes are sent.
            let mut probe = [0u8; 1];
            if r.read(&mut probe).map_err(read_err)? != 0 {
                return Err(OciError::BlobMismatch {
                    digest: desc.digest.clone(),
                    expected_size: desc.size,
                    actual_size: desc.size + 1,
                    actual_digest: None,
                });
            }
        }
        if tx.send(Ok(buf)).is_err() {
            return Ok(()); // the request ended (failed or refused); nothing to report here
        }
        progress.position(&desc.digest, pos);
    }
    Ok(())
}

/// The receiving end of the pump, as a `Read` for reqwest.
struct ChanReader {
    rx: Receiver<io::Result<Vec<u8>>>,
    cur: Vec<u8>,
    at: usize,
}

impl ChanReader {
    fn new(rx: Receiver<io::Result<Vec<u8>>>) -> ChanReader {
        ChanReader {
            rx,
            cur: Vec::new(),
            at: 0,
        }
    }
}

impl Read for ChanReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.cur.len() {
            match self.rx.recv() {
                Ok(Ok(b)) => {
                    self.cur = b;
                    self.at = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len() - self.at);
        buf[..n].copy_from_slice(&self.cur[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

pub(crate) fn put_manifest(
    t: &Transport,
    repository: &str,
    reference: &str,
    raw: &[u8],
    media_type: &str,
    digest: &Digest,
) -> Result<(), RegistryError> {
    let url = t.url(&format!("{repository}/manifests/{reference}"));
    let body = Arc::<[u8]>::from(raw);
    let make = || Ok(ReqBody::Bytes(body.to_vec()));
    let mut req = Req::new(Method::PUT, url).header("content-type", media_type);
    req.body = Some(&make);
    let what = format!("manifest {digest} as {repository}:{reference}");
    let resp = t.send(&req)?;
    let resp = expect(t, resp, Method::PUT, 201, &what)?;
    if let Some(h) = resp
        .headers()
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<Digest>().ok())
        && h.algorithm() == digest.algorithm()
        && &h != digest
    {
        return Err(RegistryError::DigestMismatch {
            what: format!("{what} (the registry's Docker-Content-Digest)"),
            expected: digest.clone(),
            actual: h,
        });
    }
    t.log(1, || {
        format!("  manifest {digest} stored as {repository}:{reference}")
    });
    Ok(())
}

/// Check credentials: `GET /v2/` on `registry` with them (answering the challenge).
///
/// # Errors
/// [`RegistryError::Unauthorized`] for rejected credentials; network errors.
pub fn check_login(registry: &str, opts: &RegistryOptions) -> Result<(), RegistryError> {
    let reference: RegistryRef =
        format!("{registry}/husk-login-check")
            .parse()
            .map_err(
                |e: crate::RegistryRefError| RegistryError::UnsupportedDocument {
                    what: format!("registry {registry:?}"),
                    reason: e.0,
                },
            )?;
    let t = Transport::new(&reference, opts, Vec::new())?;
    let resp = t.send(&Req::new(Method::GET, t.url("")))?;
    expect(&t, resp, Method::GET, 200, "the registry API root /v2/")?;
    Ok(())
}
