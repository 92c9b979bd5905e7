//! The idle timeout of registry requests: a request fails when the registry sends or
//! takes nothing for [`RegistryOptions::idle_timeout`](crate::RegistryOptions), whatever
//! the phase (waiting for the response headers, reading the response body, sending the
//! request body), and progress resets the clock, so a large blob that keeps moving has
//! no deadline.
//!
//! Requests without a body use reqwest's blocking client, whose `timeout` is exactly
//! that: the time to the response headers, then each read of the body waits at most that
//! long ([`BodyReader`] turns such a timeout into [`Stall::ResponseBody`]). A request with
//! a body cannot: the blocking client puts the whole upload and the wait for the headers
//! under one deadline, and without a deadline a registry that stops reading the body
//! hangs the caller forever. So [`BodySender`] sends them with reqwest's async client on
//! a runtime with one worker thread (started with the first such request): the caller's
//! thread reads the body and hands it over chunk by chunk through a one-slot channel,
//! each hand-over and then the wait for the response bounded by the idle timeout; on a
//! stall the request's task is aborted, which drops its connection.

use std::io::{self, Read};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use reqwest::blocking::Response;
use reqwest::header::HeaderMap;
use reqwest::{Method, ResponseBuilderExt, Url};

use crate::RegistryError;

/// Where a request stalled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stall {
    /// No response headers (after the request and its body were handed over).
    Response,
    /// The response body stopped after `after` bytes.
    ResponseBody { after: u64 },
    /// The registry stopped taking the request body after `sent` of `total` bytes.
    RequestBody { sent: u64, total: u64 },
}

/// The text of [`RegistryError::Stalled`].
pub(crate) fn describe(
    registry: &str,
    method: &str,
    url: &str,
    stall: &Stall,
    idle: Duration,
) -> String {
    let secs = secs(idle);
    let what = match stall {
        Stall::Response => {
            format!("registry {registry} sent no response to {method} {url} for {secs}")
        }
        Stall::ResponseBody { after } => format!(
            "registry {registry} stopped sending the response body of {method} {url} after {after} bytes: nothing came for {secs}"
        ),
        Stall::RequestBody { sent, total } => format!(
            "registry {registry} stopped reading the request body of {method} {url} after {sent} of {total} bytes: nothing was taken for {secs}"
        ),
    };
    format!(
        "{what}; if the registry is only slow, allow it more time with --registry-timeout SECONDS"
    )
}

fn secs(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// A URL as shown in messages: scheme, host, port and path; never the query (upload
/// locations carry session state, redirects to object storage carry signatures) nor
/// user info.
pub(crate) fn shown_url(url: &Url) -> String {
    let mut s = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
    if let Some(p) = url.port() {
        s.push_str(&format!(":{p}"));
    }
    s.push_str(url.path());
    s
}

/// Why an attempt got no response: the network's error, or a stall.
#[derive(Debug)]
pub(crate) enum Failure {
    Net(reqwest::Error),
    Stalled(Stall),
}

/// Whether an error (of reqwest, or an I/O error wrapping one) is the blocking client's
/// timeout rather than anything the peer did.
pub(crate) fn is_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(e) = cur {
        if let Some(r) = e.downcast_ref::<reqwest::Error>() {
            return r.is_timeout() && !r.is_connect();
        }
        if let Some(io) = e.downcast_ref::<io::Error>()
            && let Some(inner) = io.get_ref()
        {
            cur = Some(inner);
            continue;
        }
        cur = e.source();
    }
    false
}

/// What a stalled read reports: [`RegistryError::Stalled`] inside an I/O error of kind
/// `TimedOut`.
pub(crate) struct StallContext {
    pub registry: String,
    pub method: Method,
    pub url: Url,
    pub idle: Duration,
}

impl StallContext {
    pub fn error(&self, stall: Stall) -> RegistryError {
        RegistryError::Stalled {
            registry: self.registry.clone(),
            method: self.method.to_string(),
            url: shown_url(&self.url),
            stall,
            idle: self.idle,
        }
    }
}

/// A response body whose reads fail with [`Stall::ResponseBody`] when the blocking
/// client's per-read timeout fires.
pub(crate) struct BodyReader {
    resp: Response,
    ctx: StallContext,
    read: u64,
}

impl BodyReader {
    pub fn new(resp: Response, ctx: StallContext) -> BodyReader {
        BodyReader { resp, ctx, read: 0 }
    }
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.resp.read(buf) {
            Ok(n) => {
                self.read += n as u64;
                Ok(n)
            }
            Err(e) if is_timeout(&e) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                self.ctx.error(Stall::ResponseBody { after: self.read }),
            )),
            Err(e) => Err(e),
        }
    }
}

/// The [`RegistryError`] inside an I/O error made by [`BodyReader`], if it is one.
pub(crate) fn stalled(e: io::Error) -> Result<RegistryError, io::Error> {
    let ours = e.kind() == io::ErrorKind::TimedOut
        && e.get_ref()
            .is_some_and(|i| i.downcast_ref::<RegistryError>().is_some());
    if !ours {
        return Err(e);
    }
    let inner = e.into_inner().expect("checked above");
    Ok(*inner.downcast::<RegistryError>().expect("checked above"))
}

/// A request body: bytes, or a reader of exactly `len` bytes.
pub(crate) enum ReqBody {
    Bytes(Vec<u8>),
    Reader(Box<dyn Read + Send>, u64),
}

/// Bytes handed to the connection at a time.
const CHUNK: usize = 64 << 10;
/// The most of a response to a request with a body that is kept (registries answer
/// uploads and manifest PUTs with an empty body or a small error document).
const MAX_RESPONSE_BODY: usize = 1 << 20;

/// Sends requests with a body, with the idle timeout (see the module documentation).
pub(crate) struct BodySender {
    rt: tokio::runtime::Runtime,
    client: reqwest::Client,
    idle: Duration,
}

impl BodySender {
    pub fn new(client: reqwest::Client, idle: Duration) -> Result<BodySender, RegistryError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("husk-registry-body")
            .enable_all()
            .build()
            .map_err(RegistryError::Runtime)?;
        Ok(BodySender { rt, client, idle })
    }

    /// Send one request with `body`. The outer error is a body that could not be read;
    /// the inner one what the network or the registry did.
    pub fn send(
        &self,
        method: Method,
        url: Url,
        headers: HeaderMap,
        body: ReqBody,
    ) -> Result<Response, Failure> {
        let idle = self.idle;
        let (mut reader, total): (Box<dyn Read + Send>, u64) = match body {
            ReqBody::Bytes(b) => {
                let n = b.len() as u64;
                (Box::new(io::Cursor::new(b)), n)
            }
            ReqBody::Reader(r, n) => (r, n),
        };
        let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(1);
        let request = self
            .client
            .request(method, url)
            .headers(headers)
            .body(reqwest::Body::wrap(ChannelBody { rx, len: total }));
        let mut task = self.rt.spawn(async move {
            let resp = request.send().await.map_err(Failure::Net)?;
            collect(resp, idle).await
        });
        let mut sent = 0u64;
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    // As the blocking client does: the body fails, and so the request.
                    let _ = tx.try_send(Err(e));
                    break;
                }
            };
            let chunk = Bytes::copy_from_slice(&buf[..n]);
            let handed = self
                .rt
                .block_on(async { tokio::time::timeout(idle, tx.send(Ok(chunk))).await });
            match handed {
                Ok(Ok(())) => sent += n as u64,
                // The request ended (answered early, or failed): its result says how.
                Ok(Err(_)) => break,
                // Answered without reading the rest: take the answer.
                Err(_) if task.is_finished() => break,
                Err(_) => {
                    task.abort();
                    return Err(Failure::Stalled(Stall::RequestBody { sent, total }));
                }
            }
        }
        drop(tx);
        // (Timers are made inside the runtime: `block_on` enters it.)
        let answered = self
            .rt
            .block_on(async { tokio::time::timeout(idle, &mut task).await });
        match answered {
            Ok(Ok(result)) => result,
            Ok(Err(join)) => std::panic::resume_unwind(join.into_panic()),
            Err(_) => {
                task.abort();
                Err(Failure::Stalled(Stall::Response))
            }
        }
    }
}

/// Read the response of a request with a body into a blocking [`Response`] (at most
/// [`MAX_RESPONSE_BODY`] bytes of its body are kept), each read bounded by `idle`.
async fn collect(mut resp: reqwest::Response, idle: Duration) -> Result<Response, Failure> {
    let mut builder = http::Response::builder()
        .status(resp.status())
        .version(resp.version())
        .url(resp.url().clone());
    if let Some(h) = builder.headers_mut() {
        *h = resp.headers().clone();
    }
    let mut body = Vec::new();
    loop {
        match tokio::time::timeout(idle, resp.chunk()).await {
            Ok(Ok(Some(c))) => {
                body.extend_from_slice(&c);
                if body.len() >= MAX_RESPONSE_BODY {
                    body.truncate(MAX_RESPONSE_BODY);
                    break;
                }
            }
            Ok(Ok(None)) => break,
            Ok(Err(e)) => return Err(Failure::Net(e)),
            Err(_) => {
                return Err(Failure::Stalled(Stall::ResponseBody {
                    after: body.len() as u64,
                }));
            }
        }
    }
    let resp = builder
        .body(body)
        .expect("the parts of a response reqwest parsed");
    Ok(Response::from(resp))
}

/// The request body as hyper pulls it: chunks from the caller's thread.
struct ChannelBody {
    rx: tokio::sync::mpsc::Receiver<io::Result<Bytes>>,
    len: u64,
}

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, io::Error>>> {
        self.rx
            .poll_recv(cx)
            .map(|c| c.map(|r| r.map(http_body::Frame::data)))
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_query_or_user() {
        let u =
            Url::parse("https://u:p@reg.example:5000/v2/a/blobs/uploads/x?_state=secret").unwrap();
        assert_eq!(
            shown_url(&u),
            "https://reg.example:5000/v2/a/blobs/uploads/x"
        );
    }

    #[test]
    fn messages_say_what_stalled_and_how_to_wait_longer() {
        let m = describe(
            "r:1",
            "PUT",
            "http://r:1/v2/x",
            &Stall::RequestBody { sent: 5, total: 9 },
            Duration::from_millis(1500),
        );
        assert!(m.contains("after 5 of 9 bytes"), "{m}");
        assert!(m.contains("1.5 s"), "{m}");
        assert!(m.contains("--registry-timeout"), "{m}");
    }
}
