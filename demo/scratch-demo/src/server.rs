//! The HTTPS server: accept loop, per-connection limits and graceful shutdown.
//!
//! # Connection life cycle
//! 1. **Cap.** A connection slot (a semaphore permit, `max_connections` in all) is taken
//!    *before* `accept`. When all slots are busy the server simply stops accepting: excess
//!    connections wait in the kernel's listen backlog (and are refused by the kernel once
//!    that is full) until a slot frees up. Their handshake timer starts only when accepted.
//! 2. **TLS handshake**, bounded by `handshake_timeout`; a peer that never completes it
//!    (silent TCP, partial ClientHello) is dropped.
//! 3. **HTTP.** The protocol is chosen by ALPN: `h2` gets hyper's HTTP/2 server, anything
//!    else (including no ALPN) HTTP/1.1. No preface sniffing, so a silent client cannot
//!    park a connection in an unbounded read.
//!    - HTTP/1.1: hyper's `header_read_timeout` (its timer starts whenever the connection
//!      waits for a request head, so it also bounds a silent client and the wait between
//!      keep-alive requests), `max_header_size` (431 beyond it) and `max_buf_size`.
//!    - HTTP/2: `max_concurrent_streams` and `max_header_list_size`; hyper's defaults guard
//!      against rapid-reset floods.
//!    - Both: an **idle timeout** watchdog. When no request has been in flight on the
//!      connection for `idle_timeout`, the connection is shut down gracefully (HTTP/2 gets a
//!      GOAWAY).
//! 4. **Shutdown.** When the `shutdown` future passed to [`Server::run`] completes, the
//!    listener is closed (new connections are refused), handshakes in progress are dropped,
//!    every connection is told to shut down gracefully (idle HTTP/1.1 connections close at
//!    once, requests in flight finish, HTTP/2 gets a GOAWAY), and `run` waits until all
//!    connections are gone or `drain_timeout` has passed.
//!
//! # Routes
//! `/healthz` answers `ok` (the original has no such route: it would greet "/healthz").
//! Every other path gets the greeting from [`crate::greeting`]; a malformed
//! percent-escape gets Go's `400 Bad Request`. With `test_endpoints`, `/__test/slow/<ms>`
//! sleeps (at most 30 s) before answering, so tests can hold a request in flight.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONNECTION, CONTENT_TYPE, HeaderValue, USER_AGENT};
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, Version};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio_rustls::TlsAcceptor;

use crate::error::{Error, Result};
use crate::greeting;
use crate::log::{AccessEntry, Logger};

/// hyper's smallest accepted `max_buf_size`.
const MIN_BUF_SIZE: usize = 8192;
/// Upper bound for `max_connections` (keeps the drain wait's permit count in a `u32`).
pub const MAX_CONNECTIONS_LIMIT: usize = 1_000_000;
/// Longest delay the test endpoint honours.
const MAX_TEST_DELAY: Duration = Duration::from_secs(30);

/// Limits and timeouts of the server. [`Default`] gives the production values.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Time allowed for the TLS handshake after `accept`.
    pub handshake_timeout: Duration,
    /// HTTP/1.1: time allowed to receive a complete request head.
    pub header_read_timeout: Duration,
    /// Close a connection that has had no request in flight for this long.
    pub idle_timeout: Duration,
    /// On shutdown, how long to wait for connections to finish.
    pub drain_timeout: Duration,
    /// Connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// HTTP/1.1: largest request head (request line plus headers), in bytes.
    pub max_header_bytes: usize,
    /// HTTP/2: streams a client may have open at once.
    pub h2_max_concurrent_streams: u32,
    /// HTTP/2: largest decoded header list, in bytes.
    pub h2_max_header_list_size: u32,
    /// Serve `/__test/slow/<ms>` (tests only; off in production).
    pub test_endpoints: bool,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            handshake_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            drain_timeout: Duration::from_secs(10),
            max_connections: 1024,
            max_header_bytes: 16 * 1024,
            h2_max_concurrent_streams: 100,
            h2_max_header_list_size: 16 * 1024,
            test_endpoints: false,
        }
    }
}

/// What happened at shutdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Connections still open when `drain_timeout` ran out (0 on a clean drain).
    pub abandoned_connections: usize,
}

struct Shared {
    opts: ServeOptions,
    logger: Logger,
    h1: http1::Builder,
    h2: http2::Builder<TokioExecutor>,
}

/// A bound, not yet running, server.
pub struct Server {
    listener: TcpListener,
    acceptor: TlsAcceptor,
    shared: Arc<Shared>,
}

impl Server {
    /// Binds `addr` (port 0 picks a free port, see [`Server::local_addr`]).
    ///
    /// # Errors
    /// [`Error::Bind`] when the address cannot be bound (in use, privileged port, ...).
    pub async fn bind(
        addr: SocketAddr,
        tls: Arc<rustls::ServerConfig>,
        opts: ServeOptions,
        logger: Logger,
    ) -> Result<Self> {
        let listener = TcpListener::bind(addr).await.map_err(|source| {
            let hint = if source.kind() == std::io::ErrorKind::PermissionDenied {
                " (ports below 1024 need root, CAP_NET_BIND_SERVICE or the \
                 net.ipv4.ip_unprivileged_port_start sysctl; or pick a port >= 1024)"
            } else {
                ""
            };
            Error::Bind { addr, hint, source }
        })?;
        Ok(Self::from_listener(listener, tls, opts, logger))
    }

    /// Wraps an already bound listener.
    pub fn from_listener(
        listener: TcpListener,
        tls: Arc<rustls::ServerConfig>,
        mut opts: ServeOptions,
        logger: Logger,
    ) -> Self {
        opts.max_connections = opts.max_connections.clamp(1, MAX_CONNECTIONS_LIMIT);
        let mut h1 = http1::Builder::new();
        h1.timer(TokioTimer::new())
            .header_read_timeout(opts.header_read_timeout)
            .max_header_size(opts.max_header_bytes)
            .max_buf_size(opts.max_header_bytes.max(MIN_BUF_SIZE))
            .keep_alive(true);
        let mut h2 = http2::Builder::new(TokioExecutor::new());
        h2.timer(TokioTimer::new())
            .max_concurrent_streams(opts.h2_max_concurrent_streams)
            .max_header_list_size(opts.h2_max_header_list_size);
        Self {
            listener,
            acceptor: TlsAcceptor::from(tls),
            shared: Arc::new(Shared {
                opts,
                logger,
                h1,
                h2,
            }),
        }
    }

    /// The address actually bound.
    ///
    /// # Errors
    /// The OS error if the socket has no local address (not expected for a bound socket).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then drains (see the module docs).
    pub async fn run<F: Future<Output = ()>>(self, shutdown: F) -> ShutdownReport {
        let Server {
            listener,
            acceptor,
            shared,
        } = self;
        let limit = shared.opts.max_connections;
        let slots = Arc::new(Semaphore::new(limit));
        let (stop_tx, stop_rx) = watch::channel(false);
        tokio::pin!(shutdown);
        loop {
            let permit = tokio::select! {
                () = &mut shutdown => break,
                p = Arc::clone(&slots).acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => break,
                },
            };
            let (tcp, peer) = tokio::select! {
                () = &mut shutdown => break,
                r = listener.accept() => match r {
                    Ok(x) => x,
                    Err(e) => {
                        // EMFILE and friends: back off instead of spinning.
                        shared.logger.warn(&format!("accept failed: {e}"));
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let _ = tcp.set_nodelay(true);
            tokio::spawn(connection(
                tcp,
                peer,
                acceptor.clone(),
                Arc::clone(&shared),
                stop_rx.clone(),
                permit,
            ));
        }
        drop(listener);
        let _ = stop_tx.send(true);
        let open = limit - slots.available_permits();
        let drain = shared.opts.drain_timeout;
        shared.logger.info(&format!(
            "shutting down: listener closed, draining {open} connection(s) for up to {drain:?}"
        ));
        // Every connection task holds one permit until it ends: holding all of them means
        // all connections are gone.
        let all = u32::try_from(limit).unwrap_or(u32::MAX);
        let abandoned = match tokio::time::timeout(drain, slots.acquire_many(all)).await {
            Ok(_) => 0,
            Err(_) => limit - slots.available_permits(),
        };
        if abandoned == 0 {
            shared.logger.info("shutdown complete");
        } else {
            shared.logger.warn(&format!(
                "drain timeout: abandoning {abandoned} connection(s)"
            ));
        }
        ShutdownReport {
            abandoned_connections: abandoned,
        }
    }
}

/// Per-connection bookkeeping for the idle timeout.
struct Activity {
    in_flight: AtomicUsize,
    last: Mutex<Instant>,
}

impl Activity {
    fn new() -> Self {
        Self {
            in_flight: AtomicUsize::new(0),
            last: Mutex::new(Instant::now()),
        }
    }

    fn touch(&self) {
        if let Ok(mut last) = self.last.lock() {
            *last = Instant::now();
        }
    }

    /// How long the connection has had no request in flight (zero while one is).
    fn idle_for(&self) -> Duration {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return Duration::ZERO;
        }
        self.last.lock().map(|l| l.elapsed()).unwrap_or_default()
    }
}

/// Marks a request in flight for as long as it lives, even if the handler is cancelled.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn begin(activity: &Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        Self(Arc::clone(activity))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Polls a hyper connection to completion while watching for shutdown and idleness.
macro_rules! drive {
    ($conn:expr, $stop:expr, $activity:expr, $idle:expr) => {{
        let conn = $conn;
        tokio::pin!(conn);
        let idle: Duration = $idle;
        let period = (idle / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut closing = false;
        loop {
            tokio::select! {
                _ = conn.as_mut() => break,
                _ = $stop.wait_for(|stop| *stop), if !closing => {
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                }
                _ = tick.tick(), if !closing => {
                    if $activity.idle_for() >= idle {
                        conn.as_mut().graceful_shutdown();
                        closing = true;
                    }
                }
            }
        }
    }};
}

async fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    let handshake = tokio::time::timeout(shared.opts.handshake_timeout, acceptor.accept(tcp));
    let tls = tokio::select! {
        _ = stop.wait_for(|stop| *stop) => return,
        r = handshake => match r {
            Ok(Ok(tls)) => tls,
            // Handshake failed or timed out: dropping the stream closes the socket.
            Ok(Err(_)) | Err(_) => return,
        },
    };
    let is_h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2".as_slice());
    let activity = Arc::new(Activity::new());
    let service = {
        let shared = Arc::clone(&shared);
        let activity = Arc::clone(&activity);
        service_fn(move |req| handle(req, peer, Arc::clone(&shared), Arc::clone(&activity)))
    };
    let io = TokioIo::new(tls);
    let idle = shared.opts.idle_timeout;
    if is_h2 {
        drive!(
            shared.h2.serve_connection(io, service),
            stop,
            activity,
            idle
        );
    } else {
        drive!(
            shared.h1.serve_connection(io, service),
            stop,
            activity,
            idle
        );
    }
}

async fn handle(
    req: Request<Incoming>,
    peer: SocketAddr,
    shared: Arc<Shared>,
    activity: Arc<Activity>,
) -> std::result::Result<Response<Full<Bytes>>, Infallible> {
    let _in_flight = InFlight::begin(&activity);
    let start = Instant::now();
    let (status, body) = respond(&req, &shared.opts).await;
    let body_len = body.len();
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if status == StatusCode::BAD_REQUEST && req.version() < Version::HTTP_2 {
        // As Go's server does after a request it cannot parse.
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
