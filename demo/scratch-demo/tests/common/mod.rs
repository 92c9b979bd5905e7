//! Test helpers: an in-process server on an ephemeral loopback port with a generated
//! certificate, and rustls clients that trust exactly that certificate (no verification
//! is ever skipped in tests). Every wait is bounded by [`BOUND`] or shorter.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper::{HeaderMap, Request, StatusCode, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, ServerName};
use scratch_demo::log::{LogFormat, Logger};
use scratch_demo::server::{ServeOptions, Server, ShutdownReport};
use scratch_demo::tls;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_rustls::client::TlsStream;

/// The longest any single step of a test may take.
pub const BOUND: Duration = Duration::from_secs(10);

/// Awaits `fut` for at most `d`, panicking with `what` on timeout.
pub async fn within<F: std::future::Future>(d: Duration, what: &str, fut: F) -> F::Output {
    match tokio::time::timeout(d, fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after {d:?}: {what}"),
    }
}

/// Options for tests: production values with the test endpoint on.
pub fn test_options() -> ServeOptions {
    ServeOptions {
        test_endpoints: true,
        ..ServeOptions::default()
    }
}

/// A running in-process server.
pub struct TestServer {
    pub addr: SocketAddr,
    pub cert: CertificateDer<'static>,
    pub cert_pem: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<ShutdownReport>>,
}

impl TestServer {
    /// Starts a server on 127.0.0.1:0 with a fresh certificate for localhost/127.0.0.1.
    pub async fn start(opts: ServeOptions) -> Self {
        tls::install_default_provider();
        let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        let generated = tls::generate_self_signed(&names).expect("generate certificate");
        let cert = generated.pair.chain[0].clone();
        let config = tls::server_config(generated.pair).expect("server config");
        let server = Server::bind(
            "127.0.0.1:0".parse().unwrap(),
            config,
            opts,
            Logger::new(LogFormat::Text, false),
        )
        .await
        .expect("bind 127.0.0.1:0");
        let addr = server.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async move {
            let _ = rx.await;
        }));
        Self {
            addr,
            cert,
            cert_pem: generated.cert_pem,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// Triggers shutdown and waits (bounded) for `run` to return.
    pub async fn shutdown(mut self) -> ShutdownReport {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let task = self.task.take().unwrap();
        within(BOUND, "server shutdown", task)
            .await
            .expect("server task")
    }

    /// Sends the shutdown signal without waiting.
    pub fn begin_shutdown(&mut self) -> JoinHandle<ShutdownReport> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task.take().unwrap()
    }

    /// A client config trusting only this server's certificate.
    pub fn client_config(&self, alpn: &[&[u8]]) -> Arc<rustls::ClientConfig> {
        client_config(&self.cert, tls::PROTOCOL_VERSIONS, alpn)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A rustls client config with `cert` as its only trust anchor.
pub fn client_config(
    cert: &CertificateDer<'static>,
    versions: &[&'static rustls::SupportedProtocolVersion],
    alpn: &[&[u8]],
) -> Arc<rustls::ClientConfig> {
    tls::install_default_provider();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.clone()).expect("add trust anchor");
    let mut cfg = rustls::ClientConfig::builder_with_provider(tls::provider())
        .with_protocol_versions(versions)
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(cfg)
}

/// TCP + TLS to `addr`, verifying the name `localhost`.
pub async fn tls_connect(
    addr: SocketAddr,
    cfg: Arc<rustls::ClientConfig>,
) -> std::io::Result<TlsStream<TcpStream>> {
    within(BOUND, "tls connect", async {
        let tcp = TcpStream::connect(addr).await?;
        tokio_rustls::TlsConnector::from(cfg)
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
    })
    .await
}

/// A response, fully read.
#[derive(Debug)]
pub struct Got {
    pub status: StatusCode,
    pub version: Version,
    pub headers: HeaderMap,
    pub body: String,
}

/// One HTTP/1.1 GET of `target` (origin-form, sent as is) over a new TLS connection.
pub async fn get_h1(server: &TestServer, target: &str) -> Got {
    let stream = tls_connect(server.addr, server.client_config(&[b"http/1.1"]))
        .await
        .expect("connect");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("h1 handshake");
    tokio::spawn(conn);
    let req = Request::get(target)
        .header(hyper::header::HOST, "localhost")
        .body(Empty::<Bytes>::new())
        .expect("request");
    read(
        within(BOUND, "h1 response", sender.send_request(req))
            .await
            .expect("send"),
    )
    .await
}

/// Reads a response body completely (bounded).
pub async fn read(resp: hyper::Response<hyper::body::Incoming>) -> Got {
    let (parts, body) = resp.into_parts();
    let bytes = within(BOUND, "body", body.collect())
        .await
        .expect("body")
        .to_bytes();
    Got {
        status: parts.status,
        version: parts.version,
        headers: parts.headers,
        body: String::from_utf8(bytes.to_vec()).expect("utf-8 body"),
    }
}

/// An HTTP/2 connection (ALPN h2) to the server.
pub async fn h2_client(
    server: &TestServer,
) -> (
    hyper::client::conn::http2::SendRequest<Empty<Bytes>>,
    JoinHandle<hyper::Result<()>>,
) {
    let stream = tls_connect(server.addr, server.client_config(&[b"h2"]))
        .await
        .expect("connect");
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(b"h2".as_slice()));
    let (sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .expect("h2 handshake");
    (sender, tokio::spawn(conn))
}

/// GET over an existing HTTP/2 connection.
pub async fn get_h2(
    server: &TestServer,
    sender: &mut hyper::client::conn::http2::SendRequest<Empty<Bytes>>,
    target: &str,
) -> Got {
    let uri = format!("https://localhost:{}{target}", server.addr.port());
    let req = Request::get(uri)
        .body(Empty::<Bytes>::new())
        .expect("request");
    read(
        within(BOUND, "h2 response", sender.send_request(req))
            .await
            .expect("send"),
    )
    .await
}
