//! The HTTPS server: listener, accept loop, connection cap and graceful shutdown.
//!
//! # Connection life cycle
//! 1. **Listen.** The socket is bound with an explicit listen backlog (`listen_backlog`,
//!    4096 by default; the kernel clamps it to `net.core.somaxconn`) and
//!    TCP_DEFER_ACCEPT, so a connection reaches `accept` with its ClientHello (one
//!    wake-up per new connection, and a silent client waits in the kernel, not in the
//!    table).
//! 2. **Cap.** Every connection has a place in the connection table ([`table`]), at most
//!    `max_connections`. When the table is full and a connection arrives, the least
//!    recently active connection with no request in flight (still handshaking, waiting
//!    for a request, or idle) is shed to make room, taken first from the address holding
//!    the most connections; only when every connection is busy does the newcomer wait
//!    (and accepting pause) until one ends. There is no hard per-address cap (see
//!    `table.rs` for why).
//! 3. **Every protocol state has a deadline** ([`connection`]): the TLS handshake
//!    (`handshake_timeout`), the HTTP/2 preface and the HTTP/1.1 request head
//!    (`header_read_timeout`, a total deadline: trickling bytes does not extend it), no
//!    request in flight (`idle_timeout`, then a graceful close: HTTP/2 gets a GOAWAY),
//!    and a graceful close that does not finish (`close_timeout`, e.g. a GOAWAY's PING
//!    never answered). The protocol is chosen by ALPN (`h2`, else HTTP/1.1).
//!    HTTP/1.1 also has `max_header_size` (431 beyond it); HTTP/2 has
//!    `max_concurrent_streams`, `max_header_list_size` and hyper's rapid-reset guard.
//! 4. **Logs.** Sheds, timeouts and refusals are counted and summarised at most once per
//!    `event_log_interval` ([`events`]), never one line per connection.
//! 5. **Shutdown.** When the `shutdown` future passed to [`Server::run`] completes, the
//!    listener is closed (new connections are refused), handshakes in progress are dropped,
//!    HTTP/1.1 responses from then on carry `connection: close`, every connection is told
//!    to shut down gracefully (idle HTTP/1.1 connections close at once, requests in flight
//!    finish, HTTP/2 gets a GOAWAY), and `run` waits until all connections are gone or
//!    `drain_timeout` has passed.
//!
//! # Routes
//! `/healthz` answers `ok` (the original has no such route: it would greet "/healthz").
//! Every other path gets the greeting from [`crate::greeting`]; a malformed
//! percent-escape gets Go's `400 Bad Request`. With `test_endpoints`, `/__test/slow/<ms>`
//! sleeps (at most 30 s) before answering, so tests can hold a request in flight.

mod connection;
mod events;
mod routes;
mod table;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::error::{Error, Result};
use crate::log::Logger;
use events::{Event, Events};
use table::Table;

/// hyper's smallest accepted `max_buf_size`.
const MIN_BUF_SIZE: usize = 8192;
/// Upper bound for `max_connections`.
pub const MAX_CONNECTIONS_LIMIT: usize = 1_000_000;
/// The default listen backlog (Linux clamps it to `net.core.somaxconn`, 4096 since 5.4).
pub const DEFAULT_LISTEN_BACKLOG: u32 = 4096;
/// The default connection cap.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;
/// File descriptors kept free beside the connections (listener, stdio, runtime).
pub const RESERVED_FDS: u64 = 64;

/// Limits and timeouts of the server. [`Default`] gives the production values.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Time allowed for the TLS handshake after `accept`.
    pub handshake_timeout: Duration,
    /// Time allowed to receive a complete HTTP/1.1 request head, or the HTTP/2
    /// connection preface; also bounds a silent HTTP/1.1 keep-alive connection.
    pub header_read_timeout: Duration,
    /// Close a connection that has had no request in flight for this long.
    pub idle_timeout: Duration,
    /// A connection told to close (idle) that has not closed after this long is dropped
    /// (an HTTP/2 client that never answers the GOAWAY's PING).
    pub close_timeout: Duration,
    /// On shutdown, how long to wait for connections to finish.
    pub drain_timeout: Duration,
    /// Connections open at once; beyond it the least active idle one is shed.
    pub max_connections: usize,
    /// The listen backlog asked of the kernel.
    pub listen_backlog: u32,
    /// HTTP/1.1: largest request head (request line plus headers), in bytes.
    pub max_header_bytes: usize,
    /// HTTP/2: streams a client may have open at once.
    pub h2_max_concurrent_streams: u32,
    /// HTTP/2: largest decoded header list, in bytes.
    pub h2_max_header_list_size: u32,
    /// At most one summary of sheds, timeouts and refusals per this interval.
    pub event_log_interval: Duration,
    /// Serve `/__test/slow/<ms>` (tests only; off in production).
    pub test_endpoints: bool,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            handshake_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            close_timeout: Duration::from_secs(5),
            drain_timeout: Duration::from_secs(10),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            listen_backlog: DEFAULT_LISTEN_BACKLOG,
            max_header_bytes: 16 * 1024,
            h2_max_concurrent_streams: 100,
            h2_max_header_list_size: 16 * 1024,
            event_log_interval: Duration::from_secs(10),
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
    events: Events,
    /// Set when shutdown begins (HTTP/1.1 responses then carry `connection: close`).
    stopping: AtomicBool,
}

/// A bound, not yet running, server.
pub struct Server {
    listener: TcpListener,
    acceptor: TlsAcceptor,
    shared: Arc<Shared>,
}

impl Server {
    /// Binds `addr` (port 0 picks a free port, see [`Server::local_addr`]) with
    /// `opts.listen_backlog`.
    ///
    /// # Errors
    /// [`Error::Bind`] when the address cannot be bound (in use, privileged port, ...).
    pub async fn bind(
        addr: SocketAddr,
        tls: Arc<rustls::ServerConfig>,
        opts: ServeOptions,
        logger: Logger,
    ) -> Result<Self> {
        let listener = listen(addr, opts.listen_backlog).map_err(|source| {
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

    /// Wraps an already bound listener (its backlog is whatever it was bound with).
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
        // No hyper keep-alive PINGs: its timer would race the idle GOAWAY, and the idle
        // watchdog with `close_timeout` already bounds a peer that stops answering.
        Self {
            listener,
            acceptor: TlsAcceptor::from(tls),
            shared: Arc::new(Shared {
                opts,
                logger,
                h1,
                h2,
                events: Events::default(),
                stopping: AtomicBool::new(false),
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
        let table = Arc::new(Table::new(shared.opts.max_connections));
        let reporter = tokio::spawn(report_events(Arc::clone(&shared), Arc::clone(&table)));
        let (stop_tx, stop_rx) = watch::channel(false);
        accept_loop(&listener, &acceptor, &shared, &table, stop_rx, shutdown).await;
        drop(listener);
        shared.stopping.store(true, Ordering::Release);
        let _ = stop_tx.send(true);
        let open = table.len();
        let drain = shared.opts.drain_timeout;
        shared.logger.info(&format!(
            "shutting down: listener closed, draining {open} connection(s) for up to {drain:?}"
        ));
        let abandoned = match tokio::time::timeout(drain, table.drained()).await {
            Ok(()) => 0,
            Err(_) => table.len(),
        };
        reporter.abort();
        let every = shared.opts.event_log_interval;
        shared
            .events
            .report(&shared.logger, every, table.cap(), table.heaviest());
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

/// A TCP listener on `addr` with SO_REUSEADDR (as std and mio set it) and `backlog`.
fn listen(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    let listener = socket.listen(backlog.max(1))?;
    defer_accept(&listener);
    Ok(listener)
}

/// TCP_DEFER_ACCEPT (as nginx's `listen ... deferred`): the kernel hands a connection to
/// `accept` once its first bytes (the ClientHello) have arrived, not at the handshake's
/// last ACK, so a new connection wakes the server once instead of twice, and a client
/// that connects and sends nothing waits in the kernel instead of taking a slot of the
/// connection table. After the period, Linux hands the connection over anyway (the
/// handshake timeout then applies as before). Best effort: an error leaves the listener
/// as it was.
fn defer_accept(listener: &TcpListener) {
    use std::os::fd::AsRawFd as _;
    let seconds: libc::c_int = DEFER_ACCEPT_SECONDS;
    // SAFETY: setsockopt reads `size_of::<c_int>()` bytes from the valid `seconds` on the
    // listener's open descriptor, which outlives the call.
    let _ = unsafe {
        libc::setsockopt(
            listener.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_DEFER_ACCEPT,
            std::ptr::from_ref(&seconds).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
}

/// How long a connection may stay silent in the kernel before it is accepted anyway.
const DEFER_ACCEPT_SECONDS: libc::c_int = 1;

/// Accepts until `shutdown` completes, making room in the table for each newcomer.
async fn accept_loop<F: Future<Output = ()>>(
    listener: &TcpListener,
    acceptor: &TlsAcceptor,
    shared: &Arc<Shared>,
    table: &Arc<Table>,
    stop: watch::Receiver<bool>,
    shutdown: F,
) {
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            () = &mut shutdown => return,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    shared.events.accept_failed(&e);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Room is made only for a connection that has arrived: a full table sheds one
        // idle connection per newcomer, and nothing while nobody is waiting.
        let made = tokio::select! {
            () = &mut shutdown => return,
            made = table.room() => made,
        };
        shared.events.add(Event::Shed, made.shed);
        shared.events.add(Event::CapWait, u64::from(made.waited));
        let _ = tcp.set_nodelay(true);
        let slot = table.admit(peer.ip());
        tokio::spawn(connection::serve(
            tcp,
            peer,
            acceptor.clone(),
            Arc::clone(shared),
            stop.clone(),
            slot,
        ));
    }
}

/// Writes the event summary once per `event_log_interval` (nothing when quiet).
async fn report_events(shared: Arc<Shared>, table: Arc<Table>) {
    let every = shared.opts.event_log_interval;
    loop {
        tokio::time::sleep(every).await;
        shared
            .events
            .report(&shared.logger, every, table.cap(), table.heaviest());
    }
}

/// Raises this process's soft limit on open files to its hard limit (as Go's runtime
/// does), so that `max_connections` can be reached; returns the soft limit now in force.
///
/// # Errors
/// The OS error when the limit cannot be read or changed.
pub fn raise_open_files_limit() -> std::io::Result<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `rlimit` into the valid, exclusively borrowed `lim`.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    if lim.rlim_cur < lim.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: setrlimit only reads the valid `raised`.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        lim = raised;
    }
    Ok(lim.rlim_cur)
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsRawFd as _;

    /// The listener asks the kernel to defer accepting until the first bytes arrive.
    #[tokio::test]
    async fn the_listener_defers_accept_until_data() {
        let listener = super::listen("127.0.0.1:0".parse().unwrap(), 16).unwrap();
        let mut value: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: getsockopt writes at most `len` bytes into the valid, exclusively
        // borrowed `value`, and the length into `len`, for the open listener.
        let rc = unsafe {
            libc::getsockopt(
                listener.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_DEFER_ACCEPT,
                std::ptr::from_mut(&mut value).cast(),
                &mut len,
            )
        };
        assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
        // Linux reports the period rounded up to its SYN-ACK retransmission schedule.
        assert!(
            value >= super::DEFER_ACCEPT_SECONDS,
            "TCP_DEFER_ACCEPT = {value}"
        );
    }
}
