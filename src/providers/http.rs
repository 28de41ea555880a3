//! The HTTP plumbing every provider client shares: base-URL rules, path building that keeps
//! secrets out of logs, one send function with timing and status mapping.

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder};
use url::{Host, Url};

use serde::Serialize;

use super::error::ApiError;
use crate::secret::Secret;

/// How long one call may take, from connect to the last byte of the body.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Makes *ring* the process's TLS crypto provider, once. reqwest is built without a provider of
/// its own (its default, aws-lc-rs, made the binary about 2 MB larger); every reqwest client,
/// including the ones tests build, needs this before it is built.
pub fn install_tls_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // An error means another provider is already installed, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

static CLIENT: LazyLock<Result<reqwest::Client, String>> = LazyLock::new(|| {
    install_tls_provider();
    reqwest::Client::builder()
        .user_agent(concat!("keydeck/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(DEFAULT_TIMEOUT)
        // No automatic redirects: reqwest's default policy strips only `Authorization` and
        // `Cookie` on a cross-host hop, so CometChat's `apikey` and the Management `key` and
        // `secret` headers would follow a 302 to any host, even over plain http. A redirect
        // is returned as it is and [`execute`] turns it into an error that names the target.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())
});

/// The process-wide HTTP client: one connection pool and one TLS configuration for all
/// providers. It never follows a redirect (see [`execute`]).
pub fn shared_client() -> Result<reqwest::Client, ApiError> {
    CLIENT
        .as_ref()
        .cloned()
        .map_err(|e| ApiError::invalid_config(format!("Could not set up HTTPS: {e}")))
}

/// Parses a base URL and applies the transport rule: `https://` everywhere, plain `http://`
/// only to this machine (loopback), which is where the sandbox lives.
pub fn parse_base_url(text: &str) -> Result<Url, ApiError> {
    let text = text.trim();
    let url = Url::parse(text)
        .map_err(|e| ApiError::invalid_config(format!("The base URL is not a valid URL: {e}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ApiError::invalid_config(
            "The base URL must not contain a user name or password",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ApiError::invalid_config(
            "The base URL must not contain a query or a fragment",
        ));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(ApiError::invalid_config(
            "Plain http:// is allowed only to this machine (127.0.0.1, ::1, localhost); use https://",
        )),
        other => Err(ApiError::invalid_config(format!(
            "The base URL must start with https:// (got {other}://)"
        ))),
    }
}

/// The override when one is given and not blank, else the provider's own host; either way
/// under the transport rule of [`parse_base_url`].
pub fn base_url_or(custom: Option<&str>, default: &str) -> Result<Url, ApiError> {
    parse_base_url(
        custom
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .unwrap_or(default),
    )
}

/// True for 127.0.0.0/8, ::1 and `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// One path segment: plain ones are logged as they are, secret ones (a key, a token) masked.
#[derive(Clone, Copy)]
pub enum Seg<'a> {
    Plain(&'a str),
    Secret(&'a str),
}

/// A URL under a base, and the same path as it may appear in a log.
pub struct Target {
    pub url: Url,
    pub log_path: String,
}

/// Appends the segments (percent-encoded) to the base URL.
pub fn target(base: &Url, segs: &[Seg<'_>]) -> Result<Target, ApiError> {
    let mut url = base.clone();
    let mut log_path = url.path().trim_end_matches('/').to_owned();
    {
        let mut parts = url
            .path_segments_mut()
            .map_err(|()| ApiError::invalid_config("The base URL cannot carry a path"))?;
        parts.pop_if_empty();
        for seg in segs {
            match seg {
                Seg::Plain(s) => {
                    parts.push(s);
                    log_path.push('/');
                    log_path.push_str(s);
                }
                Seg::Secret(s) => {
                    parts.push(s);
                    log_path.push('/');
                    log_path.push_str(&crate::secret::mask(s));
                }
            }
        }
    }
    Ok(Target { url, log_path })
}

/// A transport failure, and whether the server may have seen the request.
#[derive(Debug)]
pub struct SendError {
    pub error: ApiError,
    pub reached_server: bool,
}

/// What came back: status, headers and the whole body.
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// An earlier try of this idempotent call failed after it may have reached the server
    /// (a 5xx, a broken connection, a timeout): a 404 now may mean that try did the work.
    pub earlier_try_may_have_applied: bool,
}

/// Sends a request and reads the whole body. Transport failures become `ApiError`s whose
/// text has no URL in it; HTTP error statuses are left to the caller's error parser.
pub async fn send(
    method: &Method,
    log_path: &str,
    request: RequestBuilder,
    secrets: &[&str],
) -> Result<Reply, SendError> {
    let started = Instant::now();
    let result = async {
        let response = request.send().await.map_err(|e| (e, false))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        // An error from here on is the answer breaking off, not a malformed answer: reqwest
        // calls it a decode error, but the server did act, so it is an ambiguous failure.
        let body = response.bytes().await.map_err(|e| (e, true))?;
        Ok::<_, (reqwest::Error, bool)>(Reply {
            status,
            headers,
            body,
            earlier_try_may_have_applied: false,
        })
    }
    .await;
    let ms = started.elapsed().as_millis();
    match result {
        Ok(reply) => {
            tracing::debug!(target: "keydeck::http", "{method} {log_path} → {} in {ms} ms", reply.status);
            Ok(reply)
        }
        Err((e, in_body)) => {
            // A failed connect means the request never left this machine.
            let reached_server = !e.is_connect();
            let mut error = ApiError::from(e).scrubbed(secrets);
            if in_body && error.kind != super::ErrorKind::Timeout {
                error.kind = super::ErrorKind::Connection;
                error.message = format!(
                    "The connection broke while the answer was arriving: {}",
                    error.message
                );
            }
            tracing::debug!(target: "keydeck::http", "{method} {log_path} failed in {ms} ms: {error}");
            Err(SendError {
                error,
                reached_server,
            })
        }
    }
}

/// One request before it is sent. Path segments are owned so that the call can outlive the
/// borrowed arguments of the method that built it.
#[derive(Clone)]
pub struct Call {
    pub(crate) method: Method,
    segs: Vec<(String, bool)>,
    query: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
    /// CometChat's `onBehalfOf` header.
    pub on_behalf_of: Option<String>,
    extra_headers: Vec<(&'static str, String)>,
    /// Values to scrub from error messages besides the API key.
    secrets: Vec<Secret>,
}

impl Call {
    pub fn new(method: Method, segs: &[Seg<'_>]) -> Self {
        Self {
            method,
            segs: segs
                .iter()
                .map(|s| match s {
                    Seg::Plain(p) => ((*p).to_owned(), false),
                    Seg::Secret(p) => ((*p).to_owned(), true),
                })
                .collect(),
            query: Vec::new(),
            body: None,
            on_behalf_of: None,
            extra_headers: Vec::new(),
            secrets: Vec::new(),
        }
    }

    fn segs(&self) -> Vec<Seg<'_>> {
        self.segs
            .iter()
            .map(|(s, secret)| {
                if *secret {
                    Seg::Secret(s)
                } else {
                    Seg::Plain(s)
                }
            })
            .collect()
    }

    pub fn query(mut self, q: Vec<(&'static str, String)>) -> Self {
        self.query = q;
        self
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.extra_headers.push((name, value.into()));
        self
    }

    pub fn secret(mut self, s: &Secret) -> Self {
        self.secrets.push(s.clone());
        self
    }

    pub fn json<B: Serialize>(mut self, body: &B) -> Result<Self, ApiError> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| ApiError::invalid_config(format!("Could not encode the request: {e}")))?;
        self.body = Some(bytes);
        Ok(self)
    }
}

/// How a call is retried. Only failures that cannot have changed anything are retried
/// blindly: any method after a refused connection or a 429, and idempotent methods (GET, PUT,
/// DELETE) after a timeout, a broken connection or a 5xx. A POST that may have reached the
/// server is never repeated here; the provider client checks what exists first.
#[derive(Clone)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// The whole call, retries and waits included, ends by then.
    pub deadline: Duration,
    /// Told before each wait, so a UI can say "Retrying (2 of 3)…".
    pub observer: Option<RetryObserver>,
    /// A Cancel button: when this counter changes while a call waits to retry, the call stops
    /// retrying and reports the failure it had.
    pub cancel: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
}

/// Receives one event before each retry.
pub type RetryObserver = std::sync::Arc<dyn Fn(&RetryEvent) + Send + Sync>;

/// A retry about to happen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryEvent {
    /// The attempt about to start (2 for the first retry).
    pub attempt: u32,
    pub max_attempts: u32,
    pub delay: Duration,
    /// Why: the error of the attempt that failed.
    pub reason: String,
}

impl RetryEvent {
    /// "Retrying (2 of 3)…", for a status line.
    pub fn label(&self) -> String {
        format!("Retrying ({} of {})…", self.attempt, self.max_attempts)
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(300),
            max_delay: Duration::from_secs(8),
            deadline: Duration::from_secs(60),
            observer: None,
            cancel: None,
        }
    }
}

impl RetryPolicy {
    /// One attempt, no waiting: for callers that retry themselves.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Backoff with "equal jitter": half the exponential delay, plus up to as much again.
    fn backoff(&self, failed_attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << failed_attempt.saturating_sub(1).min(16))
            .min(self.max_delay);
        let half = exp / 2;
        let jitter = rand::random_range(0.0..=1.0_f64);
        half + half.mul_f64(jitter)
    }
}

impl std::fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("max_attempts", &self.max_attempts)
            .field("base_delay", &self.base_delay)
            .field("max_delay", &self.max_delay)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
    )
}

/// An answer that says "try again later" without anything having been done (429), or a
/// server failure that an idempotent call may retry (5xx).
fn retryable_status(method: &Method, status: u16) -> bool {
    status == 429 || (is_idempotent(method) && matches!(status, 500 | 502 | 503 | 504))
}

/// Sends a [`Call`] under `base` with the given credential headers, retrying as `policy`
/// allows. Returns the last reply (which may be an error status) and the secrets an error
/// message must be scrubbed of.
pub async fn execute(
    client: &reqwest::Client,
    base: &Url,
    auth: &[(&'static str, Secret)],
    call: Call,
    policy: &RetryPolicy,
) -> Result<(Reply, Vec<Secret>), ApiError> {
    let target = target(base, &call.segs())?;
    let secrets: Vec<Secret> = auth
        .iter()
        .map(|(_, s)| s.clone())
        .chain(call.secrets.iter().cloned())
        .collect();
    let exposed: Vec<&str> = secrets.iter().map(Secret::expose).collect();
    let started = Instant::now();
    let max_attempts = policy.max_attempts.max(1);
    let cancel_generation = || {
        policy
            .cancel
            .as_ref()
            .map(|c| c.load(std::sync::atomic::Ordering::SeqCst))
    };
    let started_generation = cancel_generation();
    let mut attempt = 1;
    let mut may_have_applied = false;
    let finish = |outcome: Result<Reply, SendError>, may_have_applied: bool| match outcome {
        Ok(mut reply) => {
            reply.earlier_try_may_have_applied = may_have_applied;
            Ok(reply)
        }
        Err(e) => Err(e.error),
    };
    loop {
        let remaining = policy.deadline.saturating_sub(started.elapsed());
        if remaining.is_zero() {
            return Err(ApiError::new(
                super::ErrorKind::Timeout,
                format!("Gave up after {} s", policy.deadline.as_secs()),
            ));
        }
        let request =
            build(client, &target.url, auth, &call).timeout(remaining.min(DEFAULT_TIMEOUT));
        let outcome = send(&call.method, &target.log_path, request, &exposed).await;
        if let Ok(reply) = &outcome
            && is_redirect(reply.status)
        {
            let location = reply
                .headers
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok());
            let error = ApiError::redirect_refused(reply.status, &target.url, location);
            tracing::warn!(target: "keydeck::http", "{} {}: {error}", call.method, target.log_path);
            return Err(error.scrubbed(&exposed));
        }
        let (retry, reason, server_delay) = match &outcome {
            Ok(reply) if retryable_status(&call.method, reply.status) => (
                true,
                format!("HTTP {}", reply.status),
                retry_after(&reply.headers),
            ),
            Ok(_) => (false, String::new(), None),
            Err(e) => (
                e.error.kind.is_transient() && (!e.reached_server || is_idempotent(&call.method)),
                e.error.message.clone(),
                None,
            ),
        };
        if !retry || attempt >= max_attempts || cancel_generation() != started_generation {
            return finish(outcome, may_have_applied).map(|reply| (reply, secrets));
        }
        let delay = server_delay.unwrap_or_else(|| policy.backoff(attempt));
        if delay >= policy.deadline.saturating_sub(started.elapsed()) {
            // Waiting would outlast the deadline: report now, with the server's delay.
            return finish(outcome, may_have_applied).map(|reply| (reply, secrets));
        }
        // A 503 says the server did not take the work on; other 5xx, a broken connection or a
        // timeout may come after it was done.
        may_have_applied |= match &outcome {
            Ok(reply) => reply.status >= 500 && reply.status != 503,
            Err(e) => e.reached_server,
        };
        attempt += 1;
        let event = RetryEvent {
            attempt,
            max_attempts,
            delay,
            reason,
        };
        tracing::info!(target: "keydeck::http", "{} {} {}: {} in {} ms", call.method, target.log_path, event.label(), event.reason, delay.as_millis());
        if let Some(observer) = &policy.observer {
            observer(&event);
        }
        // Sleep in short steps so that Cancel takes effect at once.
        let wake = Instant::now() + delay;
        while Instant::now() < wake && cancel_generation() == started_generation {
            tokio::time::sleep((wake - Instant::now()).min(Duration::from_millis(100))).await;
        }
        if cancel_generation() != started_generation {
            tracing::info!(target: "keydeck::http", "{} {} retry cancelled", call.method, target.log_path);
            return finish(outcome, may_have_applied).map(|reply| (reply, secrets));
        }
    }
}

fn build(
    client: &reqwest::Client,
    url: &Url,
    auth: &[(&'static str, Secret)],
    call: &Call,
) -> RequestBuilder {
    let mut request = client
        .request(call.method.clone(), url.clone())
        .header("accept", "application/json");
    for (name, value) in auth {
        request = request.header(*name, value.expose());
    }
    for (name, value) in &call.extra_headers {
        request = request.header(*name, value);
    }
    if let Some(uid) = &call.on_behalf_of {
        request = request.header("onBehalfOf", uid);
    }
    if !call.query.is_empty() {
        request = request.query(&call.query);
    }
    if let Some(body) = &call.body {
        request = request
            .header("content-type", "application/json")
            .body(body.clone());
    }
    request
}

/// A status that asks the client to go elsewhere (301, 302, 303, 307, 308 and the rest of
/// 3xx but 304, which is an answer to a conditional request, never sent here).
fn is_redirect(status: u16) -> bool {
    (300..400).contains(&status) && status != 304
}

/// Reads `Retry-After` as whole seconds (the form every provider here uses).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_is_accepted_and_plain_http_only_on_loopback() {
        assert!(parse_base_url("https://abc.api-us.cometchat.io/v3").is_ok());
        assert!(parse_base_url("http://127.0.0.1:8080/x").is_ok());
        assert!(parse_base_url("http://127.1.2.3/x").is_ok());
        assert!(parse_base_url("http://[::1]:9/x").is_ok());
        assert!(parse_base_url("http://localhost:9").is_ok());
        let e = parse_base_url("http://example.com/v3").unwrap_err();
        assert_eq!(e.kind, super::super::ErrorKind::InvalidConfig);
        assert!(e.message.contains("https://"));
        assert!(parse_base_url("http://10.0.0.1/v3").is_err());
        assert!(parse_base_url("ftp://127.0.0.1/").is_err());
        assert!(parse_base_url("not a url").is_err());
        assert!(parse_base_url("https://user:pw@host/").is_err());
    }

    #[test]
    fn secret_segments_are_encoded_in_the_url_and_masked_in_the_log() {
        let base = parse_base_url("http://127.0.0.1:1/cometchat/app/v3/").unwrap();
        let key = "0123456789abcdef0123456789abcdef01234567";
        let t = target(&base, &[Seg::Plain("apikeys"), Seg::Secret(key)]).unwrap();
        assert_eq!(
            t.url.as_str(),
            format!("http://127.0.0.1:1/cometchat/app/v3/apikeys/{key}")
        );
        assert_eq!(t.log_path, "/cometchat/app/v3/apikeys/0123…");
        let t = target(&base, &[Seg::Plain("users"), Seg::Plain("a b/c")]).unwrap();
        assert!(t.url.as_str().ends_with("/users/a%20b%2Fc"), "{}", t.url);
    }
}
