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

static CLIENT: LazyLock<Result<reqwest::Client, String>> = LazyLock::new(|| {
    reqwest::Client::builder()
        .user_agent(concat!("keydeck/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(DEFAULT_TIMEOUT)
        .build()
        .map_err(|e| e.to_string())
});

/// The process-wide HTTP client: one connection pool and one TLS configuration for all
/// providers.
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

/// What came back: status, headers and the whole body.
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Sends a request and reads the whole body. Transport failures become `ApiError`s whose
/// text has no URL in it; HTTP error statuses are left to the caller's error parser.
pub async fn send(
    method: &Method,
    log_path: &str,
    request: RequestBuilder,
    secrets: &[&str],
) -> Result<Reply, ApiError> {
    let started = Instant::now();
    let result = async {
        let response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await?;
        Ok::<_, reqwest::Error>(Reply {
            status,
            headers,
            body,
        })
    }
    .await;
    let ms = started.elapsed().as_millis();
    match result {
        Ok(reply) => {
            tracing::debug!(target: "keydeck::http", "{method} {log_path} → {} in {ms} ms", reply.status);
            Ok(reply)
        }
        Err(e) => {
            let err = ApiError::from(e).scrubbed(secrets);
            tracing::debug!(target: "keydeck::http", "{method} {log_path} failed in {ms} ms: {err}");
            Err(err)
        }
    }
}

/// One request before it is sent. Path segments are owned so that the call can outlive the
/// borrowed arguments of the method that built it.
pub struct Call {
    method: Method,
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

/// Sends a [`Call`] under `base` with the given credential headers. Returns the reply and the
/// secrets an error message must be scrubbed of.
pub async fn execute(
    client: &reqwest::Client,
    base: &Url,
    auth: &[(&'static str, Secret)],
    call: Call,
) -> Result<(Reply, Vec<Secret>), ApiError> {
    let target = target(base, &call.segs())?;
    let mut request = client
        .request(call.method.clone(), target.url)
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
    if let Some(body) = call.body {
        request = request
            .header("content-type", "application/json")
            .body(body);
    }
    let secrets: Vec<Secret> = auth
        .iter()
        .map(|(_, s)| s.clone())
        .chain(call.secrets)
        .collect();
    let exposed: Vec<&str> = secrets.iter().map(Secret::expose).collect();
    let reply = send(&call.method, &target.log_path, request, &exposed).await?;
    Ok((reply, secrets))
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
