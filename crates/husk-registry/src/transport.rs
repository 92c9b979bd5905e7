//! One registry endpoint over HTTP: builds the client (rustls with ring, system roots plus
//! `--ca-cert` files, no automatic redirects), sends requests with bounded retries,
//! answers 401 challenges (Basic, or the Bearer token flow), and follows redirects itself
//! so that `Authorization` never goes to another origin (blob GETs are often redirected
//! to object storage). Every request is under the idle timeout of [`crate::idle`]: a
//! registry that sends or takes nothing for that long fails the attempt with
//! [`RegistryError::Stalled`], retried like a connection reset.

use std::io::Read;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use reqwest::blocking::{Client, Response};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, LOCATION, WWW_AUTHENTICATE};
use reqwest::{Method, Url};

use crate::auth::{Credentials, Secret};
use crate::codes::ServerErrors;
use crate::idle::{BodyReader, BodySender, Failure, ReqBody, Stall, StallContext};
use crate::retry::{retryable_error, retryable_status};
use crate::{RegistryError, RegistryOptions, RegistryRef, challenge, options::PlainHttp};

/// Most redirects followed for one request.
const MAX_REDIRECTS: u32 = 5;
/// The most of an error response body read to explain it.
const MAX_ERROR_BODY: u64 = 64 << 10;
/// The limit of establishing a connection (TCP and TLS).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// Whether two URLs share an origin (scheme, host, port): only then may a redirect
/// carry the `Authorization` header along.
pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str().map(str::to_ascii_lowercase) == b.host_str().map(str::to_ascii_lowercase)
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Whether a URL's host is loopback (`localhost`, 127.0.0.0/8, `::1`).
pub fn is_loopback_url(u: &Url) -> bool {
    let Some(h) = u.host_str() else { return false };
    let h = h.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The API endpoint of a registry domain (Docker Hub's API lives elsewhere).
fn endpoint_authority(domain: &str) -> &str {
    if domain == crate::reference::DEFAULT_DOMAIN {
        "registry-1.docker.io"
    } else {
        domain
    }
}

/// Build the HTTP client every request of one operation shares.
///
/// # Errors
/// An unreadable CA file or a client that cannot be built.
pub fn build_client(opts: &RegistryOptions) -> Result<Client, RegistryError> {
    build_client_for(opts, None)
}

/// [`build_client`] for connections to `registry` (`HOST[:PORT]`), whose certs.d
/// directory is trusted too; TLS is configured by [`crate::tls::client_config`].
///
/// # Errors
/// An unreadable CA file or certificate directory, or a client that cannot be built.
pub fn build_client_for(
    opts: &RegistryOptions,
    registry: Option<&str>,
) -> Result<Client, RegistryError> {
    blocking_client(opts, tls_config(opts, registry)?)
}

/// The TLS configuration of the clients for `registry`.
fn tls_config(
    opts: &RegistryOptions,
    registry: Option<&str>,
) -> Result<rustls::ClientConfig, RegistryError> {
    // The ring provider must be the process default before any client is built: with two
    // providers compiled in, rustls refuses to pick one and reqwest panics.
    let _ = rustls::crypto::ring::default_provider().install_default();
    crate::tls::client_config(opts, registry)
}

/// The idle timeout in effect (a zero one would fail every request at once).
fn idle_timeout(opts: &RegistryOptions) -> Duration {
    opts.idle_timeout.max(Duration::from_millis(1))
}

/// The settings both clients share (reqwest's blocking and async builders have the same
/// methods, not a common trait).
macro_rules! common_settings {
    ($builder:expr, $tls:expr) => {
        $builder
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .pool_max_idle_per_host(8)
            .user_agent(concat!("husk/", env!("CARGO_PKG_VERSION")))
            .tls_backend_preconfigured($tls)
    };
}

/// The client of requests without a body. Its `timeout` is the idle timeout: in reqwest's
/// blocking client it bounds the wait for the response headers and then each read of the
/// body on its own, so a download that keeps moving has no deadline (see [`crate::idle`]).
fn blocking_client(
    opts: &RegistryOptions,
    tls: rustls::ClientConfig,
) -> Result<Client, RegistryError> {
    common_settings!(Client::builder(), tls)
        .timeout(idle_timeout(opts))
        .build()
        .map_err(RegistryError::Client)
}

/// The client of requests with a body, driven by [`BodySender`] (which bounds each step
/// by the idle timeout itself).
fn async_client(tls: rustls::ClientConfig) -> Result<reqwest::Client, RegistryError> {
    common_settings!(reqwest::Client::builder(), tls)
        .build()
        .map_err(RegistryError::Client)
}

/// The body of a request, rebuilt for every attempt.
pub(crate) type MakeBody<'a> = dyn Fn() -> Result<ReqBody, RegistryError> + 'a;

/// A request, described so that it can be sent again (retry, auth, redirect).
pub(crate) struct Req<'a> {
    pub method: Method,
    pub url: Url,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<&'a MakeBody<'a>>,
    /// Retry connection errors and 5xx (only for requests that are safe to repeat).
    pub retry: bool,
    /// Follow 3xx redirects (GET/HEAD of blobs).
    pub follow: bool,
}

impl<'a> Req<'a> {
    pub fn new(method: Method, url: Url) -> Req<'a> {
        Req {
            method,
            url,
            headers: Vec::new(),
            body: None,
            retry: true,
            follow: false,
        }
    }
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// A registry endpoint plus the state of its authentication.
pub(crate) struct Transport {
    client: Client,
    /// The TLS configuration, for the client of requests with a body.
    tls: rustls::ClientConfig,
    /// Sends requests with a body; started with the first one.
    body_sender: OnceLock<BodySender>,
    base: Url,
    /// The registry's domain as written in the reference, for messages.
    pub registry: String,
    creds: Option<Credentials>,
    auth: Mutex<Option<Secret>>,
    scopes: Vec<String>,
    opts: RegistryOptions,
}

impl Transport {
    /// A transport for `reference`'s registry that asks for `scopes`
    /// (`repository:NAME:pull,push`) when a token is needed.
    ///
    /// # Errors
    /// Plain HTTP not allowed, bad CA files, unreadable auth files.
    pub fn new(
        reference: &RegistryRef,
        opts: &RegistryOptions,
        scopes: Vec<String>,
    ) -> Result<Transport, RegistryError> {
        let scheme = match opts.plain_http {
            PlainHttp::Never => "https",
            PlainHttp::Loopback if reference.is_loopback() => "http",
            PlainHttp::Loopback => {
                return Err(RegistryError::InsecureRefused {
                    host: reference.domain.clone(),
                });
            }
            PlainHttp::Any => "http",
        };
        let authority = endpoint_authority(&reference.domain);
        let base = Url::parse(&format!("{scheme}://{authority}/")).map_err(|e| {
            RegistryError::UnsupportedDocument {
                what: format!("registry address {authority}"),
                reason: e.to_string(),
            }
        })?;
        let creds = match &opts.credentials {
            Some(c) => Some(c.clone()),
            None => {
                crate::auth::lookup(&opts.auth_files, &reference.domain, &reference.repository)?
            }
        };
        let tls = tls_config(opts, Some(&reference.domain))?;
        Ok(Transport {
            client: blocking_client(opts, tls.clone())?,
            tls,
            body_sender: OnceLock::new(),
            base,
            registry: reference.domain.clone(),
            creds,
            auth: Mutex::new(None),
            scopes,
            opts: opts.clone(),
        })
    }

    /// `<base>/v2/<path>`.
    pub fn url(&self, path: &str) -> Url {
        self.base
            .join(&format!("v2/{path}"))
            .expect("registry API paths are valid URL paths")
    }

    /// Resolve a `Location` header against the request URL.
    pub fn location(&self, resp: &Response, what: &str) -> Result<Url, RegistryError> {
        resp.headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|l| resp.url().join(l).ok())
            .ok_or_else(|| RegistryError::BadLocation {
                what: what.to_owned(),
            })
    }

    pub fn log(&self, level: u8, line: impl FnOnce() -> String) {
        if let Some(log) = &self.opts.log
            && self.opts.verbosity >= level
        {
            log(&line());
        }
    }

    pub fn retry_policy(&self) -> &crate::RetryPolicy {
        &self.opts.retry
    }

    /// What a stall of `method` `url` reports.
    fn stall_context(&self, method: &Method, url: &Url) -> StallContext {
        StallContext {
            registry: self.registry.clone(),
            method: method.clone(),
            url: url.clone(),
            idle: idle_timeout(&self.opts),
        }
    }

    /// The body of `resp` (the answer to `method`), whose reads fail with
    /// [`RegistryError::Stalled`] (inside the I/O error) when the registry sends nothing
    /// for the idle timeout.
    pub fn body_reader(&self, method: &Method, resp: Response) -> BodyReader {
        let ctx = self.stall_context(method, resp.url());
        BodyReader::new(resp, ctx)
    }

    fn body_sender(&self) -> Result<&BodySender, RegistryError> {
        if let Some(s) = self.body_sender.get() {
            return Ok(s);
        }
        let sender = BodySender::new(async_client(self.tls.clone())?, idle_timeout(&self.opts))?;
        // Another thread may have won the race; its sender is as good.
        let _ = self.body_sender.set(sender);
        Ok(self.body_sender.get().expect("set above"))
    }

    /// Send `req`: retries (if `req.retry`), one re-authentication on 401, redirects
    /// (if `req.follow`) with `Authorization` dropped when the origin changes. Only
    /// failed attempts count against the retry policy; a re-authentication or a redirect
    /// is a new leg, not a retry.
    ///
    /// # Errors
    /// The last transport error, an authentication failure, or a bad redirect. Other
    /// statuses come back as responses for the caller to judge.
    pub fn send(&self, req: &Req<'_>) -> Result<Response, RegistryError> {
        let mut leg = Leg {
            url: req.url.clone(),
            method: req.method.clone(),
            send_auth: true,
        };
        let mut retries = 0u32;
        let mut reauthenticated = false;
        let mut redirects = 0u32;
        loop {
            let attempt = retries + 1;
            let resp = match self.attempt(req, &leg)? {
                Ok(resp) => resp,
                Err(Failure::Stalled(stall)) => {
                    if self.retry_after_stall(req, attempt) {
                        retries += 1;
                        continue;
                    }
                    return Err(self.stall_context(&leg.method, &leg.url).error(stall));
                }
                Err(Failure::Net(e)) => {
                    if let Some(tls) = crate::tls::connection_error(&e, &leg.url) {
                        return Err(tls);
                    }
                    if self.retry_after_error(req, &e, attempt) {
                        retries += 1;
                        continue;
                    }
                    return Err(RegistryError::Http {
                        method: leg.method.to_string(),
                        url: leg.url.to_string(),
                        source: e,
                    });
                }
            };
            let status = resp.status().as_u16();
            if status == 401 {
                if !leg.send_auth || reauthenticated {
                    return Err(self.unauthorized());
                }
                reauthenticated = true;
                self.reauthenticate(resp)?;
            } else if req.follow && matches!(status, 301 | 302 | 303 | 307 | 308) {
                redirects += 1;
                leg = self.follow_redirect(resp, leg, redirects)?;
            } else if self.retry_after_status(req, status, attempt) {
                retries += 1;
            } else {
                return Ok(resp);
            }
        }
    }

    /// One attempt: the request of `leg` with `req`'s headers and body, and the
    /// `Authorization` of the current credentials unless the leg left the origin. The
    /// inner result is the network's answer or a stall (either may be retried); the outer
    /// one a request that could not be made.
    fn attempt(
        &self,
        req: &Req<'_>,
        leg: &Leg,
    ) -> Result<Result<Response, Failure>, RegistryError> {
        let auth = if leg.send_auth {
            self.current_auth()
        } else {
            None
        };
        let headers = self.request_headers(req, leg, auth.as_ref())?;
        let body = match req.body {
            Some(make) if leg.method != Method::GET && leg.method != Method::HEAD => Some(make()?),
            _ => None,
        };
        self.log(1, || format!("> {} {}", leg.method, leg.url));
        self.log(2, || {
            let mut h: Vec<String> = req
                .headers
                .iter()
                .map(|(n, v)| format!(">   {n}: {v}"))
                .collect();
            if auth.is_some() {
                h.push(">   authorization: <redacted>".into());
            }
            h.join("\n")
        });
        let sent = match body {
            Some(body) => {
                self.body_sender()?
                    .send(leg.method.clone(), leg.url.clone(), headers, body)
            }
            None => self
                .client
                .request(leg.method.clone(), leg.url.clone())
                .headers(headers)
                .send()
                .map_err(|e| {
                    if crate::idle::is_timeout(&e) {
                        Failure::Stalled(Stall::Response)
                    } else {
                        Failure::Net(e)
                    }
                }),
        };
        self.log_answer(leg, &sent);
        Ok(sent)
    }

    /// `req`'s headers, and `auth` as a sensitive `Authorization`.
    fn request_headers(
        &self,
        req: &Req<'_>,
        leg: &Leg,
        auth: Option<&Secret>,
    ) -> Result<HeaderMap, RegistryError> {
        let mut headers = HeaderMap::new();
        for (name, value) in &req.headers {
            let v =
                HeaderValue::from_str(value).map_err(|_| RegistryError::UnsupportedDocument {
                    what: format!(
                        "{value:?} (for the {name} header of {} {})",
                        leg.method,
                        crate::idle::shown_url(&leg.url)
                    ),
                    reason: "it is not a valid HTTP header value".into(),
                })?;
            headers.append(*name, v);
        }
        if let Some(a) = auth {
            let mut v =
                HeaderValue::from_str(a.expose()).map_err(|_| RegistryError::BadChallenge {
                    registry: self.registry.clone(),
                    reason: "the token is not a valid header value".into(),
                })?;
            v.set_sensitive(true);
            headers.insert(AUTHORIZATION, v);
        }
        Ok(headers)
    }

    /// `-v`: the answer of one attempt.
    fn log_answer(&self, leg: &Leg, sent: &Result<Response, Failure>) {
        match sent {
            Ok(r) => self.log(1, || {
                format!("< {} {} {}", r.status().as_u16(), leg.method, leg.url)
            }),
            Err(Failure::Net(e)) => self.log(1, || format!("< {} {}: {e}", leg.method, leg.url)),
            Err(Failure::Stalled(s)) => self.log(1, || {
                format!(
                    "< {} {}: stalled ({s:?}) for the idle timeout of {:?}",
                    leg.method,
                    leg.url,
                    idle_timeout(&self.opts)
                )
            }),
        }
    }

    fn current_auth(&self) -> Option<Secret> {
        self.auth
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn set_auth(&self, value: Secret) {
        *self
            .auth
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(value);
    }

    /// The retry decision after a transport error: retry (after the backoff) when the
    /// request may be retried, the error is transient and the policy allows another.
    fn retry_after_error(&self, req: &Req<'_>, e: &reqwest::Error, attempt: u32) -> bool {
        let policy = &self.opts.retry;
        let again = req.retry && retryable_error(e) && policy.allows_another(attempt);
        if again {
            std::thread::sleep(policy.backoff(attempt));
        }
        again
    }

    /// The retry decision after a stall: as [`Transport::retry_after_error`] (a stall is
    /// transient, like a connection reset).
    fn retry_after_stall(&self, req: &Req<'_>, attempt: u32) -> bool {
        let policy = &self.opts.retry;
        let again = req.retry && policy.allows_another(attempt);
        if again {
            std::thread::sleep(policy.backoff(attempt));
        }
        again
    }

    /// The retry decision after a status: as [`Transport::retry_after_error`], for
    /// transient statuses (429, 5xx).
    fn retry_after_status(&self, req: &Req<'_>, status: u16, attempt: u32) -> bool {
        let policy = &self.opts.retry;
        let again = req.retry && retryable_status(status) && policy.allows_another(attempt);
        if again {
            std::thread::sleep(policy.backoff(attempt));
        }
        again
    }

    /// Answer a 401 once: the challenge of `resp` gives the next `Authorization`.
    fn reauthenticate(&self, resp: Response) -> Result<(), RegistryError> {
        let challenge = resp
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        drop(resp);
        self.authenticate(challenge.as_deref())
    }

    /// The next leg after redirect number `redirects`: its `Location`, checked (a bounded
    /// count, http(s) only, no downgrade to plain http off loopback), without
    /// `Authorization` once the origin changes, as GET after a 303.
    fn follow_redirect(
        &self,
        resp: Response,
        leg: Leg,
        redirects: u32,
    ) -> Result<Leg, RegistryError> {
        let status = resp.status().as_u16();
        let next = self.location(&resp, &format!("redirect of {}", leg.url))?;
        drop(resp);
        check_redirect(&leg.url, &next, redirects)?;
        // Never forward credentials to another host (or port, or scheme).
        let send_auth = leg.send_auth && same_origin(&leg.url, &next);
        self.log(1, || {
            format!(
                "  redirected to {next}{}",
                if send_auth {
                    ""
                } else {
                    " (without authorization)"
                }
            )
        });
        Ok(Leg {
            url: next,
            method: if status == 303 {
                Method::GET
            } else {
                leg.method
            },
            send_auth,
        })
    }

    fn unauthorized(&self) -> RegistryError {
        match &self.creds {
            Some(c) => RegistryError::Unauthorized {
                registry: self.registry.clone(),
                user: Some(c.username.clone()),
            },
            None => RegistryError::AuthRequired {
                registry: self.registry.clone(),
            },
        }
    }

    /// Answer a 401 challenge: Basic with the credentials, or fetch a Bearer token.
    fn authenticate(&self, header: Option<&str>) -> Result<(), RegistryError> {
        let bad = |reason: String| RegistryError::BadChallenge {
            registry: self.registry.clone(),
            reason,
        };
        let header =
            header.ok_or_else(|| bad("HTTP 401 without a WWW-Authenticate header".into()))?;
        let challenges = challenge::parse(header).map_err(bad)?;
        if let Some(b) = challenges.iter().find(|c| c.scheme == "bearer") {
            let token = self.fetch_token(b)?;
            self.set_auth(Secret::new(format!("Bearer {}", token.expose())));
            return Ok(());
        }
        if challenges.iter().any(|c| c.scheme == "basic") {
            let creds = self.creds.as_ref().ok_or_else(|| self.unauthorized())?;
            self.log(1, || {
                format!("  basic authentication as {:?}", creds.username)
            });
            self.set_auth(creds.basic_header());
            return Ok(());
        }
        Err(bad(format!(
            "unsupported scheme {:?}",
            challenges[0].scheme
        )))
    }

    /// The token flow of the distribution auth spec: GET realm?service=..&scope=.., with
    /// Basic credentials when there are any, answer `{"token": ..}` or `{"access_token": ..}`.
    fn fetch_token(&self, c: &challenge::Challenge) -> Result<Secret, RegistryError> {
        let realm = c
            .param("realm")
            .ok_or_else(|| RegistryError::BadChallenge {
                registry: self.registry.clone(),
                reason: "a Bearer challenge without realm".into(),
            })?;
        let token_err = |reason: String| RegistryError::Token {
            realm: realm.to_owned(),
            reason,
        };
        let mut url = Url::parse(realm).map_err(|e| token_err(format!("not a URL: {e}")))?;
        match url.scheme() {
            "https" => {}
            "http"
                if self.opts.plain_http == PlainHttp::Any
                    || (self.opts.plain_http == PlainHttp::Loopback && is_loopback_url(&url)) => {}
            _ => {
                return Err(token_err(
                    "the realm must be https (plain http only for a loopback realm with --insecure-http)".into(),
                ));
            }
        }
        {
            let mut q = url.query_pairs_mut();
            if let Some(s) = c.param("service") {
                q.append_pair("service", s);
            }
            let mut scopes: Vec<&str> = c
                .param("scope")
                .map(|s| s.split(' ').collect())
                .unwrap_or_default();
            for s in &self.scopes {
                if !scopes.contains(&s.as_str()) {
                    scopes.push(s);
                }
            }
            for s in scopes.iter().filter(|s| !s.is_empty()) {
                q.append_pair("scope", s);
            }
        }
        self.log(1, || {
            format!(
                "  fetching a token from {url}{}",
                match &self.creds {
                    Some(c) => format!(" as {:?}", c.username),
                    None => " anonymously".into(),
                }
            )
        });
        let resp = self.token_request(&url, &token_err)?;
        let status = resp.status().as_u16();
        if status == 401 || status == 403 {
            return Err(self.unauthorized());
        }
        if status != 200 {
            return Err(token_err(format!("HTTP {status}")));
        }
        #[derive(serde::Deserialize)]
        struct TokenJson {
            token: Option<String>,
            access_token: Option<String>,
        }
        let body = read_limited(self, resp, 1 << 20, "token response")?;
        let t: TokenJson = serde_json::from_slice(&body)
            .map_err(|_| token_err("the answer is not JSON with a token".into()))?;
        let token = t
            .token
            .filter(|t| !t.is_empty())
            .or(t.access_token.filter(|t| !t.is_empty()))
            .ok_or_else(|| token_err("the answer has no token".into()))?;
        Ok(Secret::new(token))
    }

    /// GET the token URL (with Basic credentials when there are any), retried under the
    /// policy.
    fn token_request(
        &self,
        url: &Url,
        token_err: &dyn Fn(String) -> RegistryError,
    ) -> Result<Response, RegistryError> {
        let policy = &self.opts.retry;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut rb = self.client.get(url.clone());
            if let Some(creds) = &self.creds {
                let mut v = HeaderValue::from_str(creds.basic_header().expose()).map_err(|_| {
                    token_err("the credentials are not a valid header value".into())
                })?;
                v.set_sensitive(true);
                rb = rb.header(AUTHORIZATION, v);
            }
            match rb.send() {
                Ok(r)
                    if retryable_status(r.status().as_u16()) && policy.allows_another(attempt) => {}
                Ok(r) => return Ok(r),
                Err(e) => {
                    if let Some(tls) = crate::tls::connection_error(&e, url) {
                        return Err(tls);
                    }
                    if !(retryable_error(&e) && policy.allows_another(attempt)) {
                        if crate::idle::is_timeout(&e) {
                            return Err(self
                                .stall_context(&Method::GET, url)
                                .error(Stall::Response));
                        }
                        return Err(token_err(format!("request failed: {e}")));
                    }
                }
            }
            std::thread::sleep(policy.backoff(attempt));
        }
    }

    /// Turn an unexpected response into an error naming the request and the registry's
    /// error codes.
    pub fn status_error(&self, method: &Method, what: &str, resp: Response) -> RegistryError {
        let status = resp.status().as_u16();
        let url = resp.url().to_string();
        let errors = server_errors(resp);
        match status {
            401 => self.unauthorized(),
            403 => RegistryError::Denied {
                registry: self.registry.clone(),
                url,
                errors,
            },
            404 => RegistryError::NotFound {
                what: what.to_owned(),
                url,
                errors,
            },
            _ => RegistryError::Status {
                method: method.to_string(),
                url,
                status,
                errors,
            },
        }
    }
}

/// Where a request is sent on this leg: the URL and method after redirects, and whether
/// it still goes to the origin the credentials are for.
struct Leg {
    url: Url,
    method: Method,
    send_auth: bool,
}

/// Whether a redirect from `from` to `next` may be followed as redirect number `count`.
fn check_redirect(from: &Url, next: &Url, count: u32) -> Result<(), RegistryError> {
    let refuse = |reason: String| {
        Err(RegistryError::BadRedirect {
            from: from.to_string(),
            to: next.to_string(),
            reason,
        })
    };
    if count > MAX_REDIRECTS {
        return refuse(format!("more than {MAX_REDIRECTS} redirects"));
    }
    if !matches!(next.scheme(), "http" | "https") {
        return refuse("only http and https locations are followed".into());
    }
    if from.scheme() == "https" && next.scheme() == "http" && !is_loopback_url(next) {
        return refuse("it downgrades https to plain http".into());
    }
    Ok(())
}

/// The registry's error document of a failed response (bounded read).
fn server_errors(resp: Response) -> ServerErrors {
    let mut body = Vec::new();
    let _ = resp.take(MAX_ERROR_BODY).read_to_end(&mut body);
    ServerErrors::parse(&body)
}

/// Read a whole (small) body of a GET answer, refusing more than `limit` bytes; a body
/// that stops coming is [`RegistryError::Stalled`].
pub(crate) fn read_limited(
    t: &Transport,
    resp: Response,
    limit: u64,
    what: &str,
) -> Result<Vec<u8>, RegistryError> {
    if let Some(n) = resp.content_length()
        && n > limit
    {
        return Err(RegistryError::TooLarge {
            what: what.to_owned(),
            limit,
        });
    }
    let url = resp.url().to_string();
    let mut out = Vec::new();
    t.body_reader(&Method::GET, resp)
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| {
            crate::idle::stalled(e).unwrap_or_else(|e| {
                RegistryError::Oci(husk_oci::OciError::Io {
                    path: url.into(),
                    source: e,
                })
            })
        })?;
    if out.len() as u64 > limit {
        return Err(RegistryError::TooLarge {
            what: what.to_owned(),
            limit,
        });
    }
    Ok(out)
}

/// Share one transport between the image and its blob readers.
pub(crate) type SharedTransport = Arc<Transport>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_rules_for_redirects() {
        let u = |s: &str| Url::parse(s).unwrap();
        let reg = u("https://reg.example/v2/a/blobs/sha256:x");
        assert!(same_origin(&reg, &u("https://REG.example:443/other")));
        assert!(!same_origin(&reg, &u("https://storage.example/blob")));
        assert!(!same_origin(&reg, &u("https://reg.example:8443/blob")));
        assert!(!same_origin(&reg, &u("http://reg.example/blob")));
        assert!(!same_origin(
            &u("http://127.0.0.1:5000/"),
            &u("http://127.0.0.1:5001/")
        ));
        assert!(is_loopback_url(&u("http://127.0.0.2:1/")));
        assert!(is_loopback_url(&u("http://[::1]:1/")));
        assert!(is_loopback_url(&u("http://LOCALHOST/")));
        assert!(!is_loopback_url(&u("http://10.0.0.1/")));
    }
}
