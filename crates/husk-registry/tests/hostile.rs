//! A hostile (or just broken) registry, faked in-process on loopback: every lie it tells
//! must be refused with the reason. Also the auth flows (Basic, Bearer token) and the
//! redirect rule (Authorization never reaches another origin). Plain HTTP on loopback.
//! And registries that stop answering: every request must return (bounded by the idle
//! timeout), however the registry stalls.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use husk_oci::{Descriptor, Digest, Image, media};
use husk_registry::{Credentials, PlainHttp, RegistryOptions, RegistryRef, RetryPolicy};

/// One request as the fake server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: BTreeMap<String, String>,
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn reply(status: u16, body: &[u8]) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body: body.to_vec(),
    }
}

impl Reply {
    fn header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.into(), v.into()));
        self
    }
}

type Handler = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

/// A tiny HTTP/1.1 server: one request per connection, `Connection: close`.
struct Fake {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

fn serve(handler: Handler) -> Fake {
    accept(move |conn, seen| handle(conn, &handler, seen))
}

/// A loopback listener that runs `each` on its own thread for every connection, with the
/// list of requests seen.
fn accept(each: impl Fn(TcpStream, &Arc<Mutex<Vec<Seen>>>) + Send + Sync + 'static) -> Fake {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let each = Arc::new(each);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let (f, s) = (each.clone(), s2.clone());
            std::thread::spawn(move || f(conn, &s));
        }
    });
    Fake { port, seen }
}

/// The request line and headers of the next request on `r`.
fn read_head(r: &mut impl BufRead) -> Option<Seen> {
    let mut line = String::new();
    if r.read_line(&mut line).is_err() || line.is_empty() {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_owned();
    let path = parts.next().unwrap_or("").to_owned();
    let mut headers = BTreeMap::new();
    loop {
        let mut l = String::new();
        if r.read_line(&mut l).is_err() || l.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    Some(Seen {
        method,
        path,
        headers,
    })
}

fn content_length(req: &Seen) -> u64 {
    req.headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn handle(mut conn: TcpStream, h: &Handler, seen: &Mutex<Vec<Seen>>) {
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut r = BufReader::new(conn.try_clone().unwrap());
    let Some(req) = read_head(&mut r) else { return };
    let len = content_length(&req);
    let _ = std::io::copy(&mut (&mut r).take(len), &mut std::io::sink());
    seen.lock().unwrap().push(req.clone());
    let rep = h(&req);
    write_reply(&mut conn, &req, &rep);
}

fn write_reply(conn: &mut TcpStream, req: &Seen, rep: &Reply) {
    let mut out = format!("HTTP/1.1 {} X\r\nConnection: close\r\n", rep.status);
    let mut has_len = false;
    for (k, v) in &rep.headers {
        has_len |= k.eq_ignore_ascii_case("content-length");
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    if !has_len {
        out.push_str(&format!("Content-Length: {}\r\n", rep.body.len()));
    }
    out.push_str("\r\n");
    let _ = conn.write_all(out.as_bytes());
    if req.method != "HEAD" {
        let _ = conn.write_all(&rep.body);
    }
}

/// What a stalling server does with a request: its head is read, its body is not.
type RawHandler = Arc<dyn Fn(&Seen, &mut BufReader<TcpStream>, &mut TcpStream) + Send + Sync>;

/// A server that hands each connection to `handler` after the request head, and counts
/// the requests it saw.
fn serve_raw(handler: RawHandler) -> Fake {
    accept(move |mut conn, seen| {
        let mut r = BufReader::new(conn.try_clone().unwrap());
        if let Some(req) = read_head(&mut r) {
            seen.lock().unwrap().push(req.clone());
            handler(&req, &mut r, &mut conn);
        }
    })
}

/// Hold a connection open, silent, far longer than any idle timeout of these tests.
fn stall() {
    std::thread::sleep(Duration::from_secs(120));
}

/// Run `f` on its own thread and fail the test if it has not returned within a minute
/// (so a hang is a failure, not a stuck test run).
fn bounded<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(v) => v,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what} did not return within a minute: it hangs")
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => panic!("{what} panicked"),
    }
}

/// An error with its sources, as the CLI shows it.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// Options with a short idle timeout.
fn impatient() -> RegistryOptions {
    RegistryOptions {
        idle_timeout: Duration::from_secs(1),
        ..opts()
    }
}

fn opts() -> RegistryOptions {
    RegistryOptions {
        plain_http: PlainHttp::Loopback,
        retry: RetryPolicy {
            max_attempts: 2,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(20),
        },
        ..RegistryOptions::default()
    }
}

fn reference(port: u16, rest: &str) -> RegistryRef {
    format!("127.0.0.1:{port}/{rest}").parse().unwrap()
}

/// A one-layer image: (manifest bytes, config bytes, layer bytes).
fn image_parts(layer: &[u8]) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#
            .to_vec();
    let cd = Descriptor::for_bytes(media::OCI_CONFIG, &config);
    let ld = Descriptor::for_bytes(media::OCI_LAYER_TAR, layer);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": cd,
        "layers": [ld],
    }))
    .unwrap();
    (manifest, config, layer.to_vec())
}

/// A registry serving one image, with `tamper` applied to each blob reply.
fn registry_with(
    manifest: Vec<u8>,
    blobs: Vec<Vec<u8>>,
    tamper: impl Fn(&Digest, Reply) -> Reply + Send + Sync + 'static,
) -> Fake {
    let by_digest: BTreeMap<String, Vec<u8>> = blobs
        .into_iter()
        .map(|b| (Digest::sha256(&b).to_string(), b))
        .collect();
    serve(Arc::new(move |req: &Seen| {
        if req.path.contains("/manifests/") {
            return reply(200, &manifest).header("Content-Type", media::OCI_MANIFEST);
        }
        if let Some(d) = req.path.split("/blobs/").nth(1)
            && let Some(b) = by_digest.get(d)
        {
            return tamper(&d.parse().unwrap(), reply(200, b));
        }
        reply(404, b"{}")
    }))
}

#[test]
fn wrong_digest_blob_is_refused_with_the_digests() {
    let (m, c, l) = image_parts(b"layer bytes");
    let config_digest = Digest::sha256(&c);
    let fake = registry_with(m, vec![c.clone(), l], move |d, mut r| {
        if *d == config_digest {
            // Same size, different bytes.
            r.body = r.body.iter().map(|b| b ^ 1).collect();
        }
        r
    });
    let img = husk_registry::open(
        &reference(fake.port, "x:1"),
        &husk_oci::PlatformChoice::Only,
        &opts(),
    )
    .unwrap();
    let err = img.config().unwrap_err().to_string();
    assert!(
        err.contains("does not match") && err.contains("with digest"),
        "{err}"
    );
}

#[test]
fn wrong_size_blob_is_refused_with_the_sizes() {
    let (m, c, l) = image_parts(b"layer bytes");
    let layer_digest = Digest::sha256(&l);
    let fake = registry_with(m, vec![c, l], move |d, mut r| {
        if *d == layer_digest {
            r.body.extend_from_slice(b"extra");
        }
        r
    });
    let img = husk_registry::open(
        &reference(fake.port, "x:1"),
        &husk_oci::PlatformChoice::Only,
        &opts(),
    )
    .unwrap();
    let report = husk_oci::validate(&img);
    let text = match report {
        Ok(r) => r
            .problems
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
        Err(e) => format!("{e:#}"),
    };
    let layer = husk_oci::layers_of(&img).unwrap();
    use husk_oci::Layer;
    let err = match layer[0].open_compressed() {
        Ok(_) => panic!("a wrong-size blob was opened"),
        Err(e) => std::error::Error::source(&e)
            .map(|s| s.to_string())
            .unwrap_or_default(),
    };
    assert!(
        err.contains("expected 11 bytes, the registry sent 16"),
        "{err}\n{text}"
    );
}

#[test]
fn ambiguous_manifest_is_refused() {
    let doc = br#"{"schemaVersion":2,"manifests":[],"layers":[],"config":{"mediaType":"a","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","size":1}}"#.to_vec();
    let fake = registry_with(doc, vec![], |_, r| r);
    let err = husk_registry::open(
        &reference(fake.port, "x:1"),
        &husk_oci::PlatformChoice::Only,
        &opts(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("ambiguous"), "{err}");
}

#[test]
fn manifest_not_matching_the_asked_digest_is_refused() {
    let (m, c, l) = image_parts(b"abc");
    let other = Digest::sha256(b"something else");
    let fake = registry_with(m, vec![c, l], |_, r| r);
    let r = reference(fake.port, &format!("x@{other}"));
    let err = husk_registry::open(&r, &husk_oci::PlatformChoice::Only, &opts())
        .unwrap_err()
        .to_string();
    assert!(err.contains(&format!("expected digest {other}")), "{err}");
}

#[test]
fn lying_docker_content_digest_is_refused() {
    let (m, _, _) = image_parts(b"abc");
    let fake = serve(Arc::new(move |_req: &Seen| {
        reply(200, &m)
            .header("Content-Type", media::OCI_MANIFEST)
            .header(
                "Docker-Content-Digest",
                &Digest::sha256(b"nope").to_string(),
            )
    }));
    let err = husk_registry::open(
        &reference(fake.port, "x:1"),
        &husk_oci::PlatformChoice::Only,
        &opts(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("Docker-Content-Digest"), "{err}");
}

#[test]
fn content_type_contradicting_the_bytes_is_refused() {
    let (m, _, _) = image_parts(b"abc");
    let fake = serve(Arc::new(move |_req: &Seen| {
        reply(200, &m).header("Content-Type", media::OCI_INDEX)
    }));
    let err = husk_registry::open(
        &reference(fake.port, "x:1"),
        &husk_oci::PlatformChoice::Only,
        &opts(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("Content-Type"), "{err}");
}

#[test]
fn index_is_resolved_by_platform_and_lists_what_it_has() {
    let (m, c, l) = image_parts(b"abc");
    let md = Descriptor::for_bytes(media::OCI_MANIFEST, &m);
    let mut amd = md.clone();
    amd.platform = Some(husk_oci::Platform {
        architecture: "amd64".into(),
        os: "linux".into(),
        os_version: None,
        variant: None,
    });
    let mut arm = Descriptor::for_bytes(media::OCI_MANIFEST, b"{}");
    arm.platform = Some(husk_oci::Platform {
        architecture: "arm64".into(),
        os: "linux".into(),
        os_version: None,
        variant: None,
    });
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": media::OCI_INDEX, "manifests": [amd, arm]
    }))
    .unwrap();
    let md_s = md.digest.to_string();
    let fake = serve(Arc::new(move |req: &Seen| {
        if req.path.ends_with(&md_s) {
            reply(200, &m).header("Content-Type", media::OCI_MANIFEST)
        } else if req.path.contains("/manifests/") {
            reply(200, &index).header("Content-Type", media::OCI_INDEX)
        } else {
            reply(404, b"")
        }
    }));
    let _ = (c, l);
    let r = reference(fake.port, "x:multi");
    let err = husk_registry::open(&r, &husk_oci::PlatformChoice::Only, &opts())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("linux/amd64") && err.contains("linux/arm64"),
        "{err}"
    );
    let p = husk_oci::parse_platform("linux/s390x").unwrap();
    let err = husk_registry::open(&r, &husk_oci::PlatformChoice::Exactly(p.clone()), &opts())
        .unwrap_err()
        .to_string();
    assert!(err.contains("no image for platform linux/s390x"), "{err}");
    let p = husk_oci::parse_platform("linux/amd64").unwrap();
    let img =
        husk_registry::open(&r, &husk_oci::PlatformChoice::Exactly(p.clone()), &opts()).unwrap();
    assert_eq!(img.digest().unwrap(), md.digest);
}

#[test]
fn bearer_token_flow_and_no_authorization_across_origins() {
    let (m, c, l) = image_parts(b"layer");
    let layer_digest = Digest::sha256(&l).to_string();
    // Object storage on another port: must never see Authorization.
    let l2 = l.clone();
    let storage = serve(Arc::new(move |_req: &Seen| reply(200, &l2)));
    let storage_port = storage.port;
    let token_srv = serve(Arc::new(|req: &Seen| {
        let basic = format!("Basic {}", base64_encode(b"alice:s3cret-pass"));
        if req.headers.get("authorization") == Some(&basic) {
            reply(200, br#"{"token":"tok-123"}"#)
        } else {
            reply(401, b"")
        }
    }));
    let realm = format!("http://127.0.0.1:{}/token", token_srv.port);
    let reg = serve(Arc::new(move |req: &Seen| {
        if req.headers.get("authorization").map(String::as_str) != Some("Bearer tok-123") {
            return reply(401, b"").header(
                "WWW-Authenticate",
                &format!(r#"Bearer realm="{realm}",service="fake",scope="repository:x:pull""#),
            );
        }
        if req.path.contains("/manifests/") {
            return reply(200, &m).header("Content-Type", media::OCI_MANIFEST);
        }
        if req.path.ends_with(&layer_digest) {
            return reply(307, b"").header(
                "Location",
                &format!("http://127.0.0.1:{storage_port}/blob?sig=1"),
            );
        }
        if req.path.contains("/blobs/") {
            return reply(200, &c);
        }
        reply(404, b"")
    }));
    let mut o = opts();
    o.credentials = Some(Credentials::new("alice", "s3cret-pass"));
    let img = husk_registry::open(
        &reference(reg.port, "x:1"),
        &husk_oci::PlatformChoice::Only,
        &o,
    )
    .unwrap();
    let report = husk_oci::validate(&img).unwrap();
    assert!(
        report
            .problems
            .iter()
            .all(|p| !p.to_string().contains("blob")),
        "{:?}",
        report.problems
    );
    let token_reqs = token_srv.seen.lock().unwrap().clone();
    assert!(
        token_reqs[0].path.contains("service=fake"),
        "{:?}",
        token_reqs[0].path
    );
    assert!(
        token_reqs[0].path.contains("scope=repository%3Ax%3Apull"),
        "{:?}",
        token_reqs[0].path
    );
    let at_storage = storage.seen.lock().unwrap().clone();
    assert!(!at_storage.is_empty(), "the redirect was not followed");
    for r in &at_storage {
        assert!(
            !r.headers.contains_key("authorization"),
            "Authorization leaked to another origin: {r:?}"
        );
    }
    // Wrong password: a clear error that names the user, never the password.
    o.credentials = Some(Credentials::new("alice", "wrong-pass-xyz"));
    let err = husk_registry::open(
        &reference(reg.port, "x:1"),
        &husk_oci::PlatformChoice::Only,
        &o,
    )
    .unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("rejected the credentials"), "{shown}");
    assert!(!shown.contains("wrong-pass-xyz"), "{shown}");
}

#[test]
fn server_errors_are_retried_a_bounded_number_of_times() {
    let (m, _, _) = image_parts(b"abc");
    let n = Arc::new(Mutex::new(0));
    let n2 = n.clone();
    let fake = serve(Arc::new(move |_req: &Seen| {
        let mut k = n2.lock().unwrap();
        *k += 1;
        if *k == 1 {
            reply(503, b"")
        } else {
            reply(200, &m).header("Content-Type", media::OCI_MANIFEST)
        }
    }));
    husk_registry::open(
        &reference(fake.port, "x:1"),
        &husk_oci::PlatformChoice::Only,
        &opts(),
    )
    .unwrap();
    let always = serve(Arc::new(|_req: &Seen| {
        reply(500, br#"{"errors":[{"code":"UNKNOWN","message":"boom"}]}"#)
    }));
    let t = std::time::Instant::now();
    let err = husk_registry::open(
        &reference(always.port, "x:1"),
        &husk_oci::PlatformChoice::Only,
        &opts(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("HTTP 500: UNKNOWN boom"), "{err}");
    assert_eq!(always.seen.lock().unwrap().len(), 2, "max_attempts is 2");
    assert!(t.elapsed() < Duration::from_secs(5));
}

#[test]
fn registry_error_codes_are_kept_typed_with_the_server_message() {
    let fake = serve(Arc::new(|_req: &Seen| {
        reply(
            404,
            br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}},{"code":"VENDOR_SPECIFIC","message":"extra"}]}"#,
        )
    }));
    let err = husk_registry::open(
        &reference(fake.port, "x:1"),
        &husk_oci::PlatformChoice::Only,
        &opts(),
    )
    .unwrap_err();
    let errors = err.server_errors().expect("a 404 keeps the error document");
    assert!(
        errors.has(&husk_registry::ErrorCode::ManifestUnknown),
        "{errors:?}"
    );
    assert_eq!(errors.0[0].message, "manifest unknown");
    assert_eq!(
        errors.0[1].code,
        Some(husk_registry::ErrorCode::Other("VENDOR_SPECIFIC".into()))
    );
    let shown = err.to_string();
    assert!(
        shown.ends_with("(HTTP 404): MANIFEST_UNKNOWN manifest unknown; VENDOR_SPECIFIC extra"),
        "{shown}"
    );
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    let r: RegistryRef = "registry.example.com/x:1".parse().unwrap();
    let err = husk_registry::open(&r, &husk_oci::PlatformChoice::Only, &opts())
        .unwrap_err()
        .to_string();
    assert!(err.contains("refusing plain HTTP"), "{err}");
}

fn base64_encode(b: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn a_registry_that_never_answers_fails_after_the_idle_timeout_and_is_retried() {
    let fake = serve_raw(Arc::new(|_req, _r, _conn| stall()));
    let r = reference(fake.port, "x:1");
    let err = bounded("open of a silent registry", move || {
        husk_registry::open(&r, &husk_oci::PlatformChoice::Only, &impatient())
            .unwrap_err()
            .to_string()
    });
    let want = format!(
        "registry 127.0.0.1:{} sent no response to GET http://127.0.0.1:{}/v2/x/manifests/1 for 1 s",
        fake.port, fake.port
    );
    assert!(err.contains(&want), "{err}");
    assert!(err.contains("--registry-timeout SECONDS"), "{err}");
    assert_eq!(
        fake.seen.lock().unwrap().len(),
        2,
        "retried: max_attempts is 2"
    );
}

#[test]
fn a_manifest_that_stops_midway_fails_naming_the_bytes_received() {
    let (m, _, _) = image_parts(b"abc");
    let fake = serve_raw(Arc::new(move |_req, _r, conn| {
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\n\r\n",
            media::OCI_MANIFEST,
            m.len()
        );
        let _ = conn.write_all(head.as_bytes());
        let _ = conn.write_all(&m[..10]);
        let _ = conn.flush();
        stall();
    }));
    let r = reference(fake.port, "x:1");
    let err = bounded("open of a stalling manifest", move || {
        husk_registry::open(&r, &husk_oci::PlatformChoice::Only, &impatient())
            .unwrap_err()
            .to_string()
    });
    assert!(
        err.contains("stopped sending the response body of GET")
            && err.contains("/v2/x/manifests/1 after 10 bytes: nothing came for 1 s"),
        "{err}"
    );
}

/// A registry whose layer blob is sent by `send_layer` (after the headers).
fn registry_sending_layer(
    send_layer: impl Fn(&[u8], &mut TcpStream) + Send + Sync + 'static,
) -> (Fake, Descriptor) {
    let layer: Vec<u8> = (0..64u32 << 10).map(|i| (i * 7 % 251) as u8).collect();
    let (m, c, l) = image_parts(&layer);
    let ld = Descriptor::for_bytes(media::OCI_LAYER_TAR, &l);
    let layer_path = format!("/blobs/{}", ld.digest);
    let fake = serve_raw(Arc::new(move |req, _r, conn| {
        let (ct, body) = if req.path.contains("/manifests/") {
            (media::OCI_MANIFEST, &m)
        } else if req.path.ends_with(&layer_path) {
            let head = format!(
                "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
                l.len()
            );
            let _ = conn.write_all(head.as_bytes());
            send_layer(&l, conn);
            return;
        } else {
            ("application/octet-stream", &c)
        };
        let head = format!(
            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let _ = conn.write_all(head.as_bytes());
        let _ = conn.write_all(body);
    }));
    (fake, ld)
}

fn read_blob(port: u16, desc: Descriptor) -> Result<Vec<u8>, String> {
    bounded("a blob read", move || {
        let img = husk_registry::open(
            &reference(port, "x:1"),
            &husk_oci::PlatformChoice::Only,
            &impatient(),
        )
        .map_err(|e| chain(&e))?;
        let mut out = Vec::new();
        img.open_verified(&desc)
            .map_err(|e| chain(&e))?
            .read_to_end(&mut out)
            .map_err(|e| chain(&e))?;
        Ok(out)
    })
}

#[test]
fn a_blob_that_stops_midway_fails_naming_the_bytes_received() {
    let (fake, ld) = registry_sending_layer(|l, conn| {
        let _ = conn.write_all(&l[..1000]);
        let _ = conn.flush();
        stall();
    });
    let err = read_blob(fake.port, ld.clone()).unwrap_err();
    assert!(
        err.contains(&format!(
            "stopped sending the response body of GET http://127.0.0.1:{}/v2/x/blobs/{} after 1000 bytes",
            fake.port, ld.digest
        )),
        "{err}"
    );
}

#[test]
fn a_slow_blob_that_keeps_coming_has_no_deadline() {
    // Eight pieces 400 ms apart: 2.8 s in all, with an idle timeout of 1 s.
    let (fake, ld) = registry_sending_layer(|l, conn| {
        for piece in l.chunks(l.len().div_ceil(8)) {
            std::thread::sleep(Duration::from_millis(400));
            if conn.write_all(piece).and_then(|()| conn.flush()).is_err() {
                return;
            }
        }
    });
    let got = read_blob(fake.port, ld.clone()).unwrap();
    assert_eq!(got.len() as u64, ld.size);
}

/// An image held in memory, to push.
struct Mem {
    manifest: Vec<u8>,
    blobs: BTreeMap<Digest, Vec<u8>>,
}

impl Image for Mem {
    fn raw_manifest(&self) -> Result<Vec<u8>, husk_oci::OciError> {
        Ok(self.manifest.clone())
    }
    fn open_blob(&self, desc: &Descriptor) -> Result<husk_oci::BlobReader<'_>, husk_oci::OciError> {
        Ok(Box::new(std::io::Cursor::new(
            self.blobs[&desc.digest].clone(),
        )))
    }
    fn location(&self) -> String {
        "memory".into()
    }
}

/// Push a one-layer image with a `layer_len`-byte layer to a registry that answers HEAD
/// (404) and POST (an upload location), takes the config, and hands the upload of the
/// layer to `on_body`; the push error, with its sources.
fn push_to(
    layer_len: usize,
    on_body: impl Fn(&Seen, &mut BufReader<TcpStream>, &mut TcpStream) + Send + Sync + 'static,
) -> (Fake, String) {
    let layer: Vec<u8> = (0..layer_len).map(|i| (i % 253) as u8).collect();
    let (m, c, l) = image_parts(&layer);
    let config_put = format!("digest={}", Digest::sha256(&c)).replace(':', "%3A");
    let fake = serve_raw(Arc::new(move |req, r, conn| {
        let answer = |conn: &mut TcpStream, status: &str, extra: &str| {
            let _ = conn.write_all(
                format!(
                    "HTTP/1.1 {status}\r\nConnection: close\r\n{extra}Content-Length: 0\r\n\r\n"
                )
                .as_bytes(),
            );
        };
        match req.method.as_str() {
            "HEAD" => answer(conn, "404 Not Found", ""),
            "POST" => answer(
                conn,
                "202 Accepted",
                "Location: /v2/x/blobs/uploads/1?_state=secret\r\n",
            ),
            "PUT" if req.path.contains(&config_put) => {
                let _ = std::io::copy(&mut r.take(content_length(req)), &mut std::io::sink());
                answer(conn, "201 Created", "");
            }
            _ => on_body(req, r, conn),
        }
    }));
    let image = Mem {
        manifest: m,
        blobs: [c, l]
            .into_iter()
            .map(|b| (Digest::sha256(&b), b))
            .collect(),
    };
    let dest = reference(fake.port, "x:1");
    let err = bounded("a push", move || {
        let push = husk_registry::PushOptions {
            jobs: 1,
            ..husk_registry::PushOptions::default()
        };
        let e = husk_registry::push(
            &image,
            &dest,
            &impatient(),
            &push,
            &husk_registry::NoProgress,
        )
        .unwrap_err();
        chain(&e)
    });
    (fake, err)
}

#[test]
fn a_registry_that_stops_reading_an_upload_fails() {
    // More than the loopback socket buffers hold, so the client sees the body stop.
    let (fake, err) = push_to(48 << 20, |_req, _r, _conn| stall());
    assert!(
        err.contains("stopped reading the request body of PUT")
            && err.contains("/v2/x/blobs/uploads/1 after ")
            && err.contains(&format!("of {} bytes: nothing was taken for 1 s", 48 << 20)),
        "{err}"
    );
    assert!(
        !err.contains("secret"),
        "the upload's state is not shown: {err}"
    );
    assert!(err.contains("after 2 attempts"), "{err}");
    assert!(fake.seen.lock().unwrap().iter().any(|s| s.method == "PUT"));
}

#[test]
fn a_registry_that_takes_an_upload_and_never_answers_fails() {
    let (_fake, err) = push_to(1000, |req, r, _conn| {
        let _ = std::io::copy(&mut r.take(content_length(req)), &mut std::io::sink());
        stall();
    });
    assert!(
        err.contains("sent no response to PUT") && err.contains("/v2/x/blobs/uploads/1 for 1 s"),
        "{err}"
    );
}
