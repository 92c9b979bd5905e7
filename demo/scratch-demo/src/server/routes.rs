//! Routes: `/healthz`, the greeting for every other path, and the test-only slow
//! endpoint; plus the access-log line for each request.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONNECTION, CONTENT_TYPE, HeaderValue, USER_AGENT};
use hyper::{Request, Response, StatusCode, Version};

use super::table::{ConnState, InFlight};
use super::{ServeOptions, Shared};
use crate::greeting;
use crate::log::AccessEntry;

/// Longest delay the test endpoint honours.
const MAX_TEST_DELAY: Duration = Duration::from_secs(30);

pub(super) async fn handle(
    req: Request<Incoming>,
    peer: SocketAddr,
    shared: Arc<Shared>,
    state: Arc<ConnState>,
) -> std::result::Result<Response<Full<Bytes>>, Infallible> {
    let _in_flight = InFlight::begin(&state);
    let start = Instant::now();
    let (status, body) = respond(&req, &shared.opts).await;
    let body_len = body.len();
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    // After a request it cannot parse, as Go's server does; and once shutdown has begun,
    // so that a keep-alive client does not send another request on a closing connection.
    let closing = shared.stopping.load(Ordering::Acquire);
    if (status == StatusCode::BAD_REQUEST || closing) && req.version() < Version::HTTP_2 {
        resp.headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    if !shared.logger.access_enabled() {
        return Ok(resp);
    }
    let target = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path(), |pq| pq.as_str());
    let user_agent = req
        .headers()
        .get(USER_AGENT)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    shared.logger.access(&AccessEntry {
        peer,
        method: req.method().as_str(),
        target,
        version: version_str(req.version()),
        status: status.as_u16(),
        bytes: body_len,
        duration: start.elapsed(),
        user_agent: user_agent.as_deref(),
    });
    Ok(resp)
}

/// Status and body for a request.
async fn respond(req: &Request<Incoming>, opts: &ServeOptions) -> (StatusCode, String) {
    let path = req.uri().path();
    if path == "/healthz" {
        return (StatusCode::OK, "ok".into());
    }
    if let Some(ms) = path
        .strip_prefix("/__test/slow/")
        .filter(|_| opts.test_endpoints)
    {
        let ms = ms.parse::<u64>().unwrap_or(0);
        tokio::time::sleep(Duration::from_millis(ms).min(MAX_TEST_DELAY)).await;
        return (StatusCode::OK, format!("slept {ms} ms"));
    }
    match greeting::greeting(path) {
        Ok(text) => (StatusCode::OK, text),
        Err(_) => (StatusCode::BAD_REQUEST, greeting::bad_request_body().into()),
    }
}

fn version_str(v: Version) -> &'static str {
    match v {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_11 => "HTTP/1.1",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/?",
    }
}
