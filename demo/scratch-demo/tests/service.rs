//! In-process tests of the service over real TLS on an ephemeral loopback port.

mod common;

use std::time::{Duration, Instant};

use common::*;
use hyper::{StatusCode, Version};
use scratch_demo::server::ServeOptions;
use scratch_demo::tls;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// (request target, expected greeting body), expectations derived from Go's semantics.
const PATHS: &[(&str, &str)] = &[
    ("/", r#"Hello, "/" from Scratch Demo!"#),
    ("/hello", r#"Hello, "/hello" from Scratch Demo!"#),
    ("/a%22b", r#"Hello, "/a&#34;b" from Scratch Demo!"#),
    ("/tab%09x", r#"Hello, "/tab\tx" from Scratch Demo!"#),
    (
        "/it's&more",
        r#"Hello, "/it&#39;s&amp;more" from Scratch Demo!"#,
    ),
    (
        "/%3Cscript%3Ealert(1)%3C/script%3E",
        r#"Hello, "/&lt;script&gt;alert(1)&lt;/script&gt;" from Scratch Demo!"#,
    ),
    ("/%00", r#"Hello, "/\x00" from Scratch Demo!"#),
    ("/%ff", r#"Hello, "/\xff" from Scratch Demo!"#),
    ("/a%2Fb", r#"Hello, "/a/b" from Scratch Demo!"#),
    ("/caf%C3%A9", "Hello, \"/café\" from Scratch Demo!"),
    ("/%F0%9F%98%80", "Hello, \"/😀\" from Scratch Demo!"),
    ("/e%CC%81", "Hello, \"/e\u{301}\" from Scratch Demo!"),
    ("/%E2%80%8B", r#"Hello, "/\u200b" from Scratch Demo!"#),
    (
        "/back%5Cslash",
        r#"Hello, "/back\\slash" from Scratch Demo!"#,
    ),
    // The query is not part of r.URL.Path.
    ("/q?x=%22&y=1", r#"Hello, "/q" from Scratch Demo!"#),
];

#[tokio::test]
async fn greeting_for_many_paths_over_http1() {
    let server = TestServer::start(test_options()).await;
    for (target, want) in PATHS {
        let got = get_h1(&server, target).await;
        assert_eq!(got.status, StatusCode::OK, "{target}");
        assert_eq!(got.body, *want, "{target}");
        assert_eq!(
            got.headers[hyper::header::CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );
    }
    assert_eq!(server.shutdown().await.abandoned_connections, 0);
}

#[tokio::test]
async fn malformed_escape_is_400_and_closes_like_go() {
    let server = TestServer::start(test_options()).await;
    for target in ["/%zz", "/a%4", "/%"] {
        let got = get_h1(&server, target).await;
        assert_eq!(got.status, StatusCode::BAD_REQUEST, "{target}");
        assert_eq!(got.body, "400 Bad Request");
        assert_eq!(got.headers[hyper::header::CONNECTION], "close");
    }
}

#[tokio::test]
async fn healthz_answers_ok() {
    let server = TestServer::start(test_options()).await;
    let got = get_h1(&server, "/healthz").await;
    assert_eq!((got.status, got.body.as_str()), (StatusCode::OK, "ok"));
}

#[tokio::test]
async fn http2_via_alpn_serves_many_streams_on_one_connection() {
    let server = TestServer::start(test_options()).await;
    let (mut sender, _conn) = h2_client(&server).await;
    for (target, want) in PATHS {
        let got = get_h2(&server, &mut sender, target).await;
        assert_eq!(got.version, Version::HTTP_2);
        assert_eq!(
            (got.status, got.body.as_str()),
            (StatusCode::OK, *want),
            "{target}"
        );
    }
    // Concurrent streams on the same connection.
    let futs: Vec<_> = (0..8)
        .map(|i| {
            let mut s = sender.clone();
            let server = &server;
            async move { get_h2(server, &mut s, &format!("/n{i}")).await }
        })
        .collect();
    for (i, got) in futures_join(futs).await.into_iter().enumerate() {
        assert_eq!(got.body, format!("Hello, \"/n{i}\" from Scratch Demo!"));
    }
}

async fn futures_join<F: std::future::Future>(futs: Vec<F>) -> Vec<F::Output> {
    let mut out = Vec::new();
    let mut handles = Vec::new();
    for f in futs {
        handles.push(Box::pin(f));
    }
    for h in handles {
        out.push(h.await);
    }
    out
}

#[tokio::test]
async fn no_alpn_falls_back_to_http1() {
    let server = TestServer::start(test_options()).await;
    let stream = tls_connect(server.addr, server.client_config(&[]))
        .await
        .unwrap();
    assert_eq!(stream.get_ref().1.alpn_protocol(), None);
}

#[test]
fn server_offers_exactly_tls13_and_tls12() {
    let versions: Vec<_> = tls::PROTOCOL_VERSIONS.iter().map(|v| v.version).collect();
    assert_eq!(
        versions,
        [
            rustls::ProtocolVersion::TLSv1_3,
            rustls::ProtocolVersion::TLSv1_2
        ]
    );
    assert_eq!(
        tls::ALPN_PROTOCOLS,
        [b"h2".as_slice(), b"http/1.1".as_slice()]
    );
}

#[tokio::test]
async fn tls12_only_and_tls13_only_clients_both_work() {
    let server = TestServer::start(test_options()).await;
    for (version, want) in [
        (&rustls::version::TLS12, rustls::ProtocolVersion::TLSv1_2),
        (&rustls::version::TLS13, rustls::ProtocolVersion::TLSv1_3),
    ] {
        let cfg = client_config(&server.cert, &[version], &[b"http/1.1"]);
        let mut stream = tls_connect(server.addr, cfg).await.expect("handshake");
        assert_eq!(stream.get_ref().1.protocol_version(), Some(want));
        // The client (rustls's default order) lists AES-256 first; the server's own
        // order wins, as Go's does: AES-128-GCM.
        let suite = stream
            .get_ref()
            .1
            .negotiated_cipher_suite()
            .unwrap()
            .suite();
        let want_suite = match want {
            rustls::ProtocolVersion::TLSv1_3 => rustls::CipherSuite::TLS13_AES_128_GCM_SHA256,
            _ => rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        };
        assert_eq!(suite, want_suite, "{want:?}");
        stream
            .write_all(b"GET /v HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut buf = Vec::new();
        let _ = within(BOUND, "read", stream.read_to_end(&mut buf)).await;
        let text = String::from_utf8_lossy(&buf);
        assert!(text.starts_with("HTTP/1.1 200 OK"), "{text}");
        assert!(
            text.ends_with(r#"Hello, "/v" from Scratch Demo!"#),
            "{text}"
        );
    }
}

/// A raw ClientHello record for `legacy_version` with the given extensions
/// (type, data). Cipher suites: TLS 1.0-era CBC suites plus one TLS 1.2 AEAD suite, so
/// only the version can be the reason for refusal.
fn client_hello(legacy_version: [u8; 2], extensions: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let be16 = |n: usize| u16::try_from(n).unwrap().to_be_bytes();
    let mut body = Vec::new();
    body.extend_from_slice(&legacy_version);
    body.extend_from_slice(&[0x5a; 32]); // random
    body.push(0); // session id
    body.extend_from_slice(&[0x00, 0x06, 0xc0, 0x13, 0x00, 0x2f, 0xc0, 0x2f]);
    body.extend_from_slice(&[0x01, 0x00]); // compression: null
    if !extensions.is_empty() {
        let mut exts = Vec::new();
        for (ty, data) in extensions {
            exts.extend_from_slice(&ty.to_be_bytes());
            exts.extend_from_slice(&be16(data.len()));
            exts.extend_from_slice(data);
        }
        body.extend_from_slice(&be16(exts.len()));
        body.extend_from_slice(&exts);
    }
    let mut hs = vec![0x01, 0x00];
    hs.extend_from_slice(&be16(body.len()));
    hs.extend_from_slice(&body);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend_from_slice(&be16(hs.len()));
    record.extend_from_slice(&hs);
    record
}

/// signature_algorithms (13): ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256.
fn sig_algs() -> (u16, Vec<u8>) {
    (13, vec![0x00, 0x04, 0x04, 0x03, 0x08, 0x04])
}

/// supported_versions (43) listing `versions`.
fn supported_versions(versions: &[[u8; 2]]) -> (u16, Vec<u8>) {
    let mut data = vec![u8::try_from(versions.len() * 2).unwrap()];
    for v in versions {
        data.extend_from_slice(v);
    }
    (43, data)
}

/// Sends `hello` on a fresh TCP connection and returns the first 7 bytes answered.
async fn first_record(addr: std::net::SocketAddr, hello: &[u8], what: &str) -> [u8; 7] {
    let mut tcp = within(BOUND, "connect", TcpStream::connect(addr))
        .await
        .unwrap();
    tcp.write_all(hello).await.unwrap();
    let mut buf = [0u8; 7];
    within(BOUND, "alert", tcp.read_exact(&mut buf))
        .await
        .unwrap_or_else(|e| panic!("{what}: no alert: {e}"));
    // And the server closes the connection.
    let mut rest = Vec::new();
    let _ = within(BOUND, "close", tcp.read_to_end(&mut rest)).await;
    buf
}

#[tokio::test]
async fn tls10_and_tls11_client_hellos_get_protocol_version_alert() {
    let server = TestServer::start(test_options()).await;
    let cases = [
        ("TLS 1.1 hello", client_hello([3, 2], &[sig_algs()])),
        ("TLS 1.0 hello", client_hello([3, 1], &[sig_algs()])),
        (
            "supported_versions offering 1.1 and 1.0 only",
            client_hello([3, 2], &[sig_algs(), supported_versions(&[[3, 2], [3, 1]])]),
        ),
    ];
    for (what, hello) in cases {
        let buf = first_record(server.addr, &hello, what).await;
        // Alert record: content type 21, length 2, level fatal (2), protocol_version (70).
        assert_eq!(buf[0], 0x15, "{what}: not an alert record: {buf:02x?}");
        assert_eq!(&buf[3..], &[0x00, 0x02, 0x02, 0x46], "{what}: {buf:02x?}");
    }
    // A bare TLS 1.0-era hello (no extensions at all, as old clients send) is refused
    // with a fatal alert too (rustls checks for signature_algorithms first).
    let buf = first_record(server.addr, &client_hello([3, 1], &[]), "bare hello").await;
    assert_eq!((buf[0], buf[5]), (0x15, 0x02), "bare hello: {buf:02x?}");
    assert!(matches!(buf[6], 0x28 | 0x46), "bare hello: {buf:02x?}");
}

/// Reads until EOF or error; returns how long it took.
async fn time_until_closed<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> Duration {
    let start = Instant::now();
    let mut buf = [0u8; 512];
    within(BOUND, "server to close the connection", async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    start.elapsed()
}

#[tokio::test]
async fn client_stopping_mid_headers_is_disconnected_after_header_timeout() {
    let timeout = Duration::from_millis(400);
    let server = TestServer::start(ServeOptions {
        header_read_timeout: timeout,
        idle_timeout: Duration::from_secs(60),
        ..test_options()
    })
    .await;
    let mut stream = tls_connect(server.addr, server.client_config(&[b"http/1.1"]))
        .await
        .unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Partial: ")
        .await
        .unwrap();
    stream.flush().await.unwrap();
    let waited = time_until_closed(&mut stream).await;
    assert!(
        waited >= timeout - Duration::from_millis(50) && waited < Duration::from_secs(3),
        "closed after {waited:?}"
    );
}

#[tokio::test]
async fn slowloris_trickling_header_bytes_is_still_cut_off() {
    let timeout = Duration::from_millis(500);
    let server = TestServer::start(ServeOptions {
        header_read_timeout: timeout,
        idle_timeout: Duration::from_secs(60),
        ..test_options()
    })
    .await;
    let stream = tls_connect(server.addr, server.client_config(&[b"http/1.1"]))
        .await
        .unwrap();
    let (mut rd, mut wr) = tokio::io::split(stream);
    let start = Instant::now();
    let writer = tokio::spawn(async move {
        let _ = wr.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n").await;
        // One header byte every 50 ms, for at most 4 s.
        for _ in 0..80 {
            if wr.write_all(b"a").await.is_err() || wr.flush().await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let _ = time_until_closed(&mut rd).await;
    let waited = start.elapsed();
    writer.abort();
    assert!(waited < Duration::from_secs(2), "closed after {waited:?}");
}

#[tokio::test]
async fn silent_keepalive_http1_connection_is_closed_by_header_timeout() {
    let server = TestServer::start(ServeOptions {
        header_read_timeout: Duration::from_millis(300),
        ..test_options()
    })
    .await;
    let mut stream = tls_connect(server.addr, server.client_config(&[b"http/1.1"]))
        .await
        .unwrap();
    stream
        .write_all(b"GET /1 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let waited = time_until_closed(&mut stream).await;
    assert!(waited < Duration::from_secs(3), "closed after {waited:?}");
}

#[tokio::test]
async fn tcp_that_never_handshakes_is_dropped_after_handshake_timeout() {
    let timeout = Duration::from_millis(300);
    let server = TestServer::start(ServeOptions {
        handshake_timeout: timeout,
        ..test_options()
    })
    .await;
    // Silent TCP, and a ClientHello cut off after its record header.
    for partial in [&[][..], &[0x16, 0x03, 0x01, 0x02, 0x00][..]] {
        let mut tcp = within(BOUND, "connect", TcpStream::connect(server.addr))
            .await
            .unwrap();
        tcp.write_all(partial).await.unwrap();
        let waited = time_until_closed(&mut tcp).await;
        assert!(
            waited >= timeout - Duration::from_millis(50) && waited < Duration::from_secs(3),
            "closed after {waited:?} (sent {partial:?})"
        );
    }
}

#[tokio::test]
async fn idle_http2_connection_is_closed_after_idle_timeout() {
    let server = TestServer::start(ServeOptions {
        idle_timeout: Duration::from_millis(300),
        ..test_options()
    })
    .await;
    let (mut sender, conn) = h2_client(&server).await;
    let got = get_h2(&server, &mut sender, "/x").await;
    assert_eq!(got.status, StatusCode::OK);
    let start = Instant::now();
    let _ = within(BOUND, "h2 connection to end", conn).await;
    assert!(start.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn oversized_request_head_gets_431() {
    let server = TestServer::start(ServeOptions {
        max_header_bytes: 4096,
        ..test_options()
    })
    .await;
    let mut stream = tls_connect(server.addr, server.client_config(&[b"http/1.1"]))
        .await
        .unwrap();
    let big = "x".repeat(8000);
    let req = format!("GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: {big}\r\n\r\n");
    let _ = stream.write_all(req.as_bytes()).await;
    let mut buf = Vec::new();
    let _ = within(BOUND, "431", stream.read_to_end(&mut buf)).await;
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 431"), "{text}");
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_for_a_free_slot() {
    let server = TestServer::start(ServeOptions {
        max_connections: 1,
        ..test_options()
    })
    .await;
    // The only slot is busy (a request in flight), so it cannot be shed.
    let mut first = tls_connect(server.addr, server.client_config(&[b"http/1.1"]))
        .await
        .unwrap();
    first
        .write_all(b"GET /__test/slow/1500 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The second TCP connect succeeds (kernel backlog) but TLS cannot complete while the
    // only slot is taken.
    let cfg = server.client_config(&[b"http/1.1"]);
    let addr = server.addr;
    let second = tokio::spawn(async move { tls_connect(addr, cfg).await });
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        !second.is_finished(),
        "second handshake completed past the cap"
    );
    drop(first);
    let second = within(BOUND, "second handshake", second)
        .await
        .unwrap()
        .expect("second handshake after the slot freed");
    drop(second);
}

#[tokio::test]
async fn at_the_cap_an_idle_connection_is_shed_for_a_newcomer() {
    let server = TestServer::start(ServeOptions {
        max_connections: 2,
        ..test_options()
    })
    .await;
    // A connection that handshook and then said nothing, and one still handshaking.
    let mut idle = tls_connect(server.addr, server.client_config(&[b"http/1.1"]))
        .await
        .unwrap();
    let mut silent = within(BOUND, "connect", TcpStream::connect(server.addr))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // A real client still gets served, twice (each time someone idle gives way).
    for target in ["/a", "/b"] {
        let got = get_h1(&server, target).await;
        assert_eq!(got.status, StatusCode::OK, "{target}");
    }
    // The two idle connections were closed to make room.
    time_until_closed(&mut idle).await;
    time_until_closed(&mut silent).await;
}

#[tokio::test]
async fn shutdown_lets_in_flight_request_finish_and_refuses_new_connections() {
    let mut server = TestServer::start(test_options()).await;
    let (mut sender, _conn) = h2_client(&server).await;
    let uri = format!("https://localhost:{}/__test/slow/700", server.addr.port());
    let req = hyper::Request::get(uri)
        .body(http_body_util::Empty::<bytes::Bytes>::new())
        .unwrap();
    let in_flight = tokio::spawn(async move { sender.send_request(req).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let run = server.begin_shutdown();
    let resp = within(BOUND, "in-flight response", in_flight)
        .await
        .unwrap()
        .expect("in-flight request must complete");
    let got = read(resp).await;
    assert_eq!(
        (got.status, got.body.as_str()),
        (StatusCode::OK, "slept 700 ms")
    );
    let report = within(BOUND, "run to return", run).await.unwrap();
    assert_eq!(report.abandoned_connections, 0);
    assert!(
        TcpStream::connect(server.addr).await.is_err(),
        "listener must be closed after shutdown"
    );
}

#[tokio::test]
async fn drain_is_bounded_by_drain_timeout() {
    let mut server = TestServer::start(ServeOptions {
        drain_timeout: Duration::from_millis(300),
        ..test_options()
    })
    .await;
    let (mut sender, _conn) = h2_client(&server).await;
    let uri = format!("https://localhost:{}/__test/slow/5000", server.addr.port());
    let req = hyper::Request::get(uri)
        .body(http_body_util::Empty::<bytes::Bytes>::new())
        .unwrap();
    let _in_flight = tokio::spawn(async move { sender.send_request(req).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let start = Instant::now();
    let report = within(BOUND, "run to return", server.begin_shutdown())
        .await
        .unwrap();
    assert_eq!(report.abandoned_connections, 1);
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn test_endpoint_is_off_by_default() {
    let server = TestServer::start(ServeOptions::default()).await;
    let got = get_h1(&server, "/__test/slow/1").await;
    assert_eq!(got.body, r#"Hello, "/__test/slow/1" from Scratch Demo!"#);
}

#[tokio::test]
async fn healthcheck_probe_verifies_with_ca_file_or_skips_on_loopback() {
    let server = TestServer::start(test_options()).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("server.crt");
    std::fs::write(&ca, &server.cert_pem).unwrap();
    let url = format!("https://127.0.0.1:{}/healthz", server.addr.port());
    let t = Duration::from_secs(5);
    scratch_demo::healthcheck::probe(&url, Some(&ca), t)
        .await
        .expect("probe trusting server.crt");
    scratch_demo::healthcheck::probe(&url, None, t)
        .await
        .expect("loopback probe without CA");
    // A certificate the server does not have must fail verification.
    let other = tls::generate_self_signed(&["localhost".into(), "127.0.0.1".into()]).unwrap();
    std::fs::write(&ca, &other.cert_pem).unwrap();
    assert!(
        scratch_demo::healthcheck::probe(&url, Some(&ca), t)
            .await
            .is_err()
    );
    // A status other than 200 is unhealthy.
    let url404 = format!("https://127.0.0.1:{}/%zz", server.addr.port());
    assert!(matches!(
        scratch_demo::healthcheck::probe(&url404, None, t).await,
        Err(scratch_demo::Error::Unhealthy { .. })
    ));
}

/// Options with 1 s deadlines everywhere, so that a test sees each one fire quickly.
fn short_deadlines() -> ServeOptions {
    ServeOptions {
        handshake_timeout: Duration::from_secs(1),
        header_read_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(1),
        close_timeout: Duration::from_secs(1),
        ..test_options()
    }
}

#[tokio::test]
async fn http2_connection_that_never_sends_its_preface_is_closed() {
    let server = TestServer::start(short_deadlines()).await;
    // ALPN h2, then silence; and ALPN h2, then half a preface.
    for sent in [&b""[..], &b"PRI * HTTP/2.0\r\n"[..]] {
        let mut stream = tls_connect(server.addr, server.client_config(&[b"h2"]))
            .await
            .unwrap();
        assert_eq!(stream.get_ref().1.alpn_protocol(), Some(b"h2".as_slice()));
        stream.write_all(sent).await.unwrap();
        stream.flush().await.unwrap();
        // Bounded by BOUND: the server must close it (EOF), the client never will.
        time_until_closed(&mut stream).await;
    }
}

#[tokio::test]
async fn idle_http2_connection_that_never_answers_the_goaway_ping_is_closed() {
    let server = TestServer::start(short_deadlines()).await;
    let mut stream = tls_connect(server.addr, server.client_config(&[b"h2"]))
        .await
        .unwrap();
    // The preface and an empty SETTINGS frame, then nothing: no SETTINGS ack, no PING ack.
    stream
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    stream.flush().await.unwrap();
    let mut seen = Vec::new();
    within(BOUND, "server to close the connection", async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    let types = frame_types(&seen);
    assert!(types.contains(&7), "no GOAWAY among frames {types:?}");
    assert!(types.contains(&6), "no PING among frames {types:?}");
}

/// The types of the HTTP/2 frames in `bytes` (a server's output, in order).
fn frame_types(bytes: &[u8]) -> Vec<u8> {
    let mut types = Vec::new();
    let mut at = 0;
    while at + 9 <= bytes.len() {
        let len = usize::from(bytes[at]) << 16
            | usize::from(bytes[at + 1]) << 8
            | usize::from(bytes[at + 2]);
        types.push(bytes[at + 3]);
        at += 9 + len;
    }
    types
}

#[tokio::test]
async fn http1_header_trickled_a_line_at_a_time_is_cut() {
    let server = TestServer::start(short_deadlines()).await;
    let stream = tls_connect(server.addr, server.client_config(&[b"http/1.1"]))
        .await
        .unwrap();
    let (mut rd, mut wr) = tokio::io::split(stream);
    let writer = tokio::spawn(async move {
        let _ = wr.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n").await;
        // A complete header line every 200 ms, for far longer than BOUND.
        for i in 0..300 {
            let line = format!("X-Line-{i}: {i}\r\n");
            if wr.write_all(line.as_bytes()).await.is_err() || wr.flush().await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    time_until_closed(&mut rd).await;
    writer.abort();
}

#[tokio::test]
async fn partial_client_hello_is_cut() {
    let server = TestServer::start(short_deadlines()).await;
    let hello = client_hello([3, 3], &[sig_algs(), supported_versions(&[[3, 4], [3, 3]])]);
    let mut tcp = within(BOUND, "connect", TcpStream::connect(server.addr))
        .await
        .unwrap();
    tcp.write_all(&hello[..hello.len() / 2]).await.unwrap();
    time_until_closed(&mut tcp).await;
}

#[tokio::test]
async fn http1_responses_after_shutdown_began_carry_connection_close() {
    let mut server = TestServer::start(test_options()).await;
    let mut stream = tls_connect(server.addr, server.client_config(&[b"http/1.1"]))
        .await
        .unwrap();
    // Keep-alive request in flight while shutdown begins.
    stream
        .write_all(b"GET /__test/slow/700 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let run = server.begin_shutdown();
    let mut buf = Vec::new();
    let _ = within(BOUND, "response", stream.read_to_end(&mut buf)).await;
    let text = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 200"), "{text}");
    assert!(text.contains("\r\nconnection: close\r\n"), "{text}");
    let report = within(BOUND, "run to return", run).await.unwrap();
    assert_eq!(report.abandoned_connections, 0);
}

/// A client session store that counts the TLS 1.3 tickets the server sends.
#[derive(Debug)]
struct CountingStore {
    inner: rustls::client::ClientSessionMemoryCache,
    tickets: std::sync::atomic::AtomicUsize,
}

impl rustls::client::ClientSessionStore for CountingStore {
    fn set_kx_hint(&self, name: rustls::pki_types::ServerName<'static>, g: rustls::NamedGroup) {
        self.inner.set_kx_hint(name, g);
    }
    fn kx_hint(&self, name: &rustls::pki_types::ServerName<'_>) -> Option<rustls::NamedGroup> {
        self.inner.kx_hint(name)
    }
    fn set_tls12_session(
        &self,
        name: rustls::pki_types::ServerName<'static>,
        value: rustls::client::Tls12ClientSessionValue,
    ) {
        self.inner.set_tls12_session(name, value);
    }
    fn tls12_session(
        &self,
        name: &rustls::pki_types::ServerName<'_>,
    ) -> Option<rustls::client::Tls12ClientSessionValue> {
        self.inner.tls12_session(name)
    }
    fn remove_tls12_session(&self, name: &rustls::pki_types::ServerName<'static>) {
        self.inner.remove_tls12_session(name);
    }
    fn insert_tls13_ticket(
        &self,
        name: rustls::pki_types::ServerName<'static>,
        value: rustls::client::Tls13ClientSessionValue,
    ) {
        self.tickets
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.insert_tls13_ticket(name, value);
    }
    fn take_tls13_ticket(
        &self,
        name: &rustls::pki_types::ServerName<'static>,
    ) -> Option<rustls::client::Tls13ClientSessionValue> {
        self.inner.take_tls13_ticket(name)
    }
}

/// One request on a fresh connection (`Connection: close`); the handshake kind.
async fn one_request(
    server: &TestServer,
    cfg: std::sync::Arc<rustls::ClientConfig>,
) -> Option<rustls::HandshakeKind> {
    let mut stream = tls_connect(server.addr, cfg).await.expect("handshake");
    let kind = stream.get_ref().1.handshake_kind();
    stream
        .write_all(b"GET /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let _ = within(BOUND, "read", stream.read_to_end(&mut buf)).await;
    assert!(String::from_utf8_lossy(&buf).ends_with(r#"Hello, "/t" from Scratch Demo!"#));
    kind
}

/// Resumption as Go does it: one stateless ticket per TLS 1.3 handshake (rustls's default
/// is two, each an entry in a locked server-side cache), and every reconnection resumes,
/// TLS 1.3 and TLS 1.2 alike; a ticket is reusable (stateless), not consumed on the server.
#[tokio::test]
async fn reconnections_resume_with_one_stateless_ticket_per_handshake() {
    assert_eq!(tls::TLS13_TICKETS, 1);
    let server = TestServer::start(test_options()).await;
    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        let store = std::sync::Arc::new(CountingStore {
            inner: rustls::client::ClientSessionMemoryCache::new(32),
            tickets: std::sync::atomic::AtomicUsize::new(0),
        });
        let mut cfg = (*client_config(&server.cert, &[version], &[b"http/1.1"])).clone();
        cfg.resumption = rustls::client::Resumption::store(store.clone());
        let cfg = std::sync::Arc::new(cfg);
        let first = one_request(&server, cfg.clone()).await;
        assert_eq!(first, Some(rustls::HandshakeKind::Full), "{version:?}");
        for _ in 0..3 {
            let again = one_request(&server, cfg.clone()).await;
            assert_eq!(again, Some(rustls::HandshakeKind::Resumed), "{version:?}");
        }
        let tickets = store.tickets.load(std::sync::atomic::Ordering::SeqCst);
        if version.version == rustls::ProtocolVersion::TLSv1_3 {
            assert_eq!(tickets, 4, "one ticket per handshake");
        } else {
            assert_eq!(tickets, 0);
        }
    }
}
