//! One connection's life, from `accept` to close, with a deadline in every state:
//!
//! | state | bounded by |
//! |---|---|
//! | TLS handshake (silent TCP, partial ClientHello) | `handshake_timeout` |
//! | ALPN h2, connection preface not yet sent | `header_read_timeout` (read here, before hyper sees the stream) |
//! | HTTP/1.1 request head, trickled or absent (also between keep-alive requests) | `header_read_timeout` (hyper's, a total deadline for the head) |
//! | no request in flight, either protocol | `idle_timeout`, then a graceful close |
//! | graceful close not finishing (an HTTP/2 client never answering the GOAWAY's PING) | `close_timeout`, then the connection is dropped |
//!
//! In every state the connection table may shed the connection when it has no request in
//! flight (see `table.rs`); shutdown closes handshakes at once and drains the rest.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::Shared;
use super::events::Event;
use super::table::{ConnState, Slot};

/// The HTTP/2 client connection preface (RFC 9113 section 3.4).
const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Polls a hyper connection (HTTP/1.1 or HTTP/2: both have an inherent
/// `graceful_shutdown`, no common trait) to completion while watching for shutdown and
/// idleness. Evaluates to `Some(result)` when the connection ended by itself, `None`
/// when it was dropped because its graceful close did not finish in `close_timeout`.
macro_rules! drive {
    ($conn:expr, $stop:expr, $state:expr, $shared:expr) => {{
        let conn = $conn;
        tokio::pin!(conn);
        let opts = &$shared.opts;
        let idle = opts.idle_timeout;
        let period = (idle / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
        // The first check is one period in (`interval` would tick at once: a wake-up per
        // connection for nothing); the far deadline is armed only once closing.
        let mut tick = tokio::time::interval_at(Instant::now() + period, period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut closing = false;
        // Far enough never to fire, near enough not to overflow.
        let mut deadline = Instant::now() + Duration::from_secs(86_400 * 365);
        loop {
            tokio::select! {
                r = conn.as_mut() => break Some(r),
                _ = $stop.wait_for(|stop| *stop), if !closing => {
                    // The drain is bounded by `drain_timeout` in `Server::run`.
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                }
                _ = tick.tick(), if !closing => {
                    if $state.idle_for() >= idle {
                        $shared.events.add(Event::IdleClosed, 1);
                        conn.as_mut().graceful_shutdown();
                        closing = true;
                        deadline = Instant::now() + opts.close_timeout;
                    }
                }
                () = tokio::time::sleep_until(deadline), if closing => {
                    $shared.events.add(Event::CloseTimeout, 1);
                    break None;
                }
            }
        }
    }};
}

/// Serves one accepted connection; its slot is released when this returns.
pub(super) async fn serve(
    tcp: TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
    slot: Slot,
) {
    let state = Arc::clone(slot.state());
    tokio::select! {
        biased;
        // Shed by the table to make room: dropping the stream closes the socket.
        () = state.shed() => {}
        () = life(tcp, peer, acceptor, &shared, stop, &state) => {}
    }
    drop(slot);
}

async fn life(
    tcp: TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    shared: &Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    state: &Arc<ConnState>,
) {
    let Some(tls) = handshake(tcp, acceptor, shared, &mut stop).await else {
        return;
    };
    state.touch();
    let is_h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2".as_slice());
    let service = {
        let shared = Arc::clone(shared);
        let state = Arc::clone(state);
        hyper::service::service_fn(move |req| {
            super::routes::handle(req, peer, Arc::clone(&shared), Arc::clone(&state))
        })
    };
    if is_h2 {
        let Some(io) = preface(tls, shared, &mut stop).await else {
            return;
        };
        let conn = shared
            .h2
            .serve_connection(hyper_util::rt::TokioIo::new(io), service);
        let result = drive!(conn, stop, state, shared);
        note_h2_result(shared, result);
    } else {
        let conn = shared
            .h1
            .serve_connection(hyper_util::rt::TokioIo::new(tls), service);
        let result = drive!(conn, stop, state, shared);
        note_h1_result(shared, result);
    }
}

/// The TLS handshake, bounded by `handshake_timeout`; `None` when it failed, timed out
/// or shutdown began.
async fn handshake(
    tcp: TcpStream,
    acceptor: TlsAcceptor,
    shared: &Shared,
    stop: &mut watch::Receiver<bool>,
) -> Option<TlsStream<TcpStream>> {
    let accept = tokio::time::timeout(shared.opts.handshake_timeout, acceptor.accept(tcp));
    tokio::select! {
        _ = stop.wait_for(|stop| *stop) => None,
        r = accept => match r {
            Ok(Ok(tls)) => Some(tls),
            Ok(Err(_)) => {
                shared.events.add(Event::HandshakeFailed, 1);
                None
            }
            Err(_) => {
                shared.events.add(Event::HandshakeTimeout, 1);
                None
            }
        },
    }
}

/// Reads the HTTP/2 preface within `header_read_timeout` (hyper would wait for it
/// forever), then hands hyper a stream that replays it.
async fn preface<S>(
    mut tls: S,
    shared: &Shared,
    stop: &mut watch::Receiver<bool>,
) -> Option<impl AsyncRead + AsyncWrite + Unpin + Send + 'static>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut buf = [0u8; 24];
    let read = tokio::time::timeout(shared.opts.header_read_timeout, tls.read_exact(&mut buf));
    let outcome = tokio::select! {
        _ = stop.wait_for(|stop| *stop) => return None,
        r = read => r,
    };
    match outcome {
        Ok(Ok(_)) if &buf == H2_PREFACE => {}
        Ok(Ok(_)) => {
            shared.events.add(Event::BadPreface, 1);
            return None;
        }
        Ok(Err(_)) => return None,
        Err(_) => {
            shared.events.add(Event::PrefaceTimeout, 1);
            return None;
        }
    }
    let (rd, wr) = tokio::io::split(tls);
    Some(tokio::io::join(std::io::Cursor::new(buf).chain(rd), wr))
}

fn note_h1_result(shared: &Shared, result: Option<hyper::Result<()>>) {
    let Some(Err(e)) = result else { return };
    if e.is_timeout() {
        shared.events.add(Event::HeaderTimeout, 1);
    } else if e.is_parse() || e.is_parse_too_large() {
        shared.events.add(Event::BadRequestHead, 1);
    }
}

fn note_h2_result(shared: &Shared, result: Option<hyper::Result<()>>) {
    let Some(Err(e)) = result else { return };
    let Some(h2) = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<h2::Error>()) else {
        return;
    };
    // A GOAWAY this side sent because of the peer's frames (not an I/O error, not the
    // peer's own GOAWAY).
    if h2.is_go_away()
        && !h2.is_remote()
        && let Some(reason) = h2.reason()
    {
        shared.events.goaway(format!("{reason:?}"));
    }
}
