//! Fault injection: rules set at run time (through [`super::Sandbox::set_fault`] or
//! `PUT /_sandbox/faults`) make matching requests slow, fail, or come back broken.
//!
//! The HTTP endpoint exists only when the sandbox was started with it (the headless
//! `keydeck sandbox`; never the app's embedded sandbox), and every call to it must carry that
//! run's token, `Authorization: Bearer <token>`: any local process could otherwise make the
//! sandbox fail. Embedding code and tests use the Rust handle instead.
//!
//! Faults that refuse a request (`status`, `tooManyRequests`, `reset`) act BEFORE the request is
//! processed, so nothing changes. Faults that break the answer (`truncated`, `malformed`,
//! `stall`) act AFTER it is processed: the write happened but the caller cannot tell, which is
//! the "ambiguous failure" a client must survive without duplicating anything. `latency` delays
//! the request and then serves it normally.
//!
//! Rules are tried in order and the first match applies; a rule with `times: Some(n)` applies to
//! the next `n` matching requests and is then removed. `/_sandbox/…` itself is never faulted.

use std::sync::Mutex;
use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use futures::StreamExt as _;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::SharedState;
use super::http::segments;

/// Longest latency or stall a rule may ask for.
const MAX_DELAY_MS: u64 = 600_000;
/// How long a truncated body waits after its first half (so it is flushed) before the
/// connection is dropped.
const TRUNCATE_FLUSH_DELAY: Duration = Duration::from_millis(50);

/// One fault rule. JSON: `{"method":"POST","pathContains":"/apikeys","fault":{"type":"status",
/// "status":503},"times":1}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct FaultRule {
    /// HTTP method to match (case-insensitive); `None` matches any.
    #[serde(default)]
    pub method: Option<String>,
    /// A substring of the request path (without the query); `""` matches every path.
    pub path_contains: String,
    pub fault: Fault,
    /// `None`: every matching request; `Some(n)`: the next `n` matching requests.
    #[serde(default)]
    pub times: Option<u32>,
}

/// What happens to a matching request. Serde-tagged by `type`, camelCase:
/// `{"type":"latency","ms":200}`, `{"type":"status","status":503}`,
/// `{"type":"tooManyRequests","retryAfterSecs":2}`, `{"type":"reset"}`, `{"type":"truncated"}`,
/// `{"type":"malformed"}`, `{"type":"stall","ms":5000}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Fault {
    /// Waits `ms`, then serves the request normally.
    Latency { ms: u64 },
    /// Answers `status` (meant for 500, 502, 503, 504) without processing the request.
    Status { status: u16 },
    /// Answers 429 with `Retry-After: retry_after_secs` without processing the request.
    TooManyRequests { retry_after_secs: u64 },
    /// Closes the connection without any response; the request is not processed.
    Reset,
    /// Processes the request, sends its status and headers (with the full `Content-Length`) and
    /// the first half of the body, then drops the connection.
    Truncated,
    /// Processes the request, then answers 200 with a body that is not JSON.
    Malformed,
    /// Processes the request, sends status and headers, holds the body back for `ms`, then
    /// sends it.
    Stall { ms: u64 },
}

impl Fault {
    fn name(&self) -> &'static str {
        match self {
            Fault::Latency { .. } => "latency",
            Fault::Status { .. } => "status",
            Fault::TooManyRequests { .. } => "tooManyRequests",
            Fault::Reset => "reset",
            Fault::Truncated => "truncated",
            Fault::Malformed => "malformed",
            Fault::Stall { .. } => "stall",
        }
    }
}

impl FaultRule {
    /// Why the rule cannot be served, if it cannot.
    pub fn problem(&self) -> Option<String> {
        match &self.fault {
            Fault::Latency { ms } | Fault::Stall { ms } if *ms > MAX_DELAY_MS => {
                Some(format!("ms may be at most {MAX_DELAY_MS}"))
            }
            Fault::Status { status } if !(100..=599).contains(status) => {
                Some(format!("{status} is not an HTTP status"))
            }
            _ if self.times == Some(0) => Some("times must be at least 1".to_owned()),
            _ => None,
        }
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && path.contains(self.path_contains.as_str())
    }
}

/// The active rules.
#[derive(Default)]
pub struct FaultSet {
    rules: Mutex<Vec<FaultRule>>,
}

impl FaultSet {
    pub fn add(&self, rule: FaultRule) {
        if let Ok(mut r) = self.rules.lock() {
            r.push(rule);
        }
    }

    pub fn replace(&self, rules: Vec<FaultRule>) {
        if let Ok(mut r) = self.rules.lock() {
            *r = rules;
        }
    }

    pub fn clear(&self) {
        self.replace(Vec::new());
    }

    /// The active rules, with `times` counting what is left.
    pub fn list(&self) -> Vec<FaultRule> {
        self.rules.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// The fault for this request, if a rule matches; counts the use.
    fn take(&self, method: &str, path: &str) -> Option<Fault> {
        let mut rules = self.rules.lock().ok()?;
        let i = rules.iter().position(|r| r.matches(method, path))?;
        let fault = rules[i].fault.clone();
        match rules[i].times {
            Some(n) if n <= 1 => {
                rules.remove(i);
            }
            Some(n) => rules[i].times = Some(n - 1),
            None => {}
        }
        Some(fault)
    }
}

/// A JSON error body every client here can read: CometChat's `error.code/message`, Ably's
/// `error.code/message/statusCode` and Cometly's top-level `message`.
fn fault_body(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({
        "message": message,
        "error": {
            "code": code,
            "message": message,
            "statusCode": status.as_u16(),
        },
    });
    let mut resp = Json(body).into_response();
    *resp.status_mut() = status;
    resp
}

fn io_error(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::ConnectionReset, what.to_owned())
}

/// A body that fails at once: hyper drops the connection before anything is flushed.
fn reset_response() -> Response {
    let stream = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(io_error("sandbox fault: reset"))
    });
    Response::new(Body::from_stream(stream))
}

/// The middleware that applies the rules; it wraps the whole router.
pub async fn layer(State(state): State<SharedState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if path.starts_with("/_sandbox/") {
        return next.run(req).await;
    }
    let method = req.method().as_str().to_owned();
    let Some(fault) = state.faults.take(&method, &path) else {
        return next.run(req).await;
    };
    tracing::info!(
        method = %method,
        path = %super::cometchat::safe_path(&segments(&path)),
        fault = fault.name(),
        "sandbox fault injected"
    );
    match fault {
        Fault::Latency { ms } => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            next.run(req).await
        }
        Fault::Status { status } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            fault_body(
                status,
                "ERR_SANDBOX_FAULT",
                &format!("Injected fault: HTTP {}", status.as_u16()),
            )
        }
        Fault::TooManyRequests { retry_after_secs } => {
            let mut resp = fault_body(
                StatusCode::TOO_MANY_REQUESTS,
                "ERR_TOO_MANY_REQUESTS",
                "Injected fault: too many requests",
            );
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            resp
        }
        Fault::Reset => reset_response(),
        Fault::Truncated => {
            let (parts, bytes) = match processed(req, next).await {
                Ok(p) => p,
                Err(resp) => return resp,
            };
            if bytes.is_empty() {
                // Nothing to cut in half: the closest thing is a dropped connection.
                return reset_response();
            }
            let full = bytes.len();
            let half = bytes.slice(..full / 2);
            let stream = futures::stream::iter([Ok::<Bytes, std::io::Error>(half)]).chain(
                futures::stream::once(async {
                    // Pending first, so hyper flushes the head and the first half.
                    tokio::time::sleep(TRUNCATE_FLUSH_DELAY).await;
                    Err(io_error("sandbox fault: truncated"))
                }),
            );
            let mut resp = Response::from_parts(parts, Body::from_stream(stream));
            resp.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(full));
            resp
        }
        Fault::Malformed => {
            if let Err(resp) = processed(req, next).await {
                return resp;
            }
            let mut resp = Response::new(Body::from(r#"{"data": <not json> "#));
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            resp
        }
        Fault::Stall { ms } => {
            let (parts, bytes) = match processed(req, next).await {
                Ok(p) => p,
                Err(resp) => return resp,
            };
            let full = bytes.len();
            let stream = futures::stream::once(async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Ok::<Bytes, std::io::Error>(bytes)
            });
            let mut resp = Response::from_parts(parts, Body::from_stream(stream));
            resp.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(full));
            resp
        }
    }
}

/// Serves the request and reads its whole answer.
async fn processed(
    req: Request,
    next: Next,
) -> Result<(axum::http::response::Parts, Bytes), Response> {
    let resp = next.run(req).await;
    let (parts, body) = resp.into_parts();
    match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => Ok((parts, bytes)),
        Err(e) => {
            tracing::error!("sandbox fault: reading the processed answer failed: {e}");
            Err(fault_body(
                StatusCode::INTERNAL_SERVER_ERROR,
                "ERR_SANDBOX_FAULT",
                "The sandbox could not read its own answer",
            ))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// `/_sandbox/faults`

/// `None` when `headers` carry this run's fault token, else the 401 to answer.
fn refused(state: &SharedState, headers: &HeaderMap) -> Option<Response> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let ok = match (state.faults_token.as_deref(), given) {
        (Some(want), Some(given)) => {
            let (a, b) = (want.as_bytes(), given.as_bytes());
            a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
        }
        _ => false,
    };
    (!ok).then(|| {
        fault_body(
            StatusCode::UNAUTHORIZED,
            "AUTH_ERR_FAULTS_TOKEN",
            "The fault endpoint needs this run's token: Authorization: Bearer <faults.token from the start-up line>",
        )
    })
}

/// `GET /_sandbox/faults`: the active rules.
pub async fn list(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    if let Some(r) = refused(&state, &headers) {
        return r;
    }
    Json(state.faults.list()).into_response()
}

/// `PUT /_sandbox/faults`: replaces the rules with the JSON list in the body.
pub async fn put(State(state): State<SharedState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(r) = refused(&state, &headers) {
        return r;
    }
    let rules: Vec<FaultRule> = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return fault_body(
                StatusCode::BAD_REQUEST,
                "ERR_BAD_REQUEST",
                &format!("Expected a JSON list of fault rules: {e}"),
            );
        }
    };
    if let Some((i, p)) = rules
        .iter()
        .enumerate()
        .find_map(|(i, r)| r.problem().map(|p| (i, p)))
    {
        return fault_body(
            StatusCode::BAD_REQUEST,
            "ERR_BAD_REQUEST",
            &format!("Rule {i}: {p}"),
        );
    }
    state.faults.replace(rules);
    Json(state.faults.list()).into_response()
}

/// `DELETE /_sandbox/faults`: removes every rule.
pub async fn clear(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    if let Some(r) = refused(&state, &headers) {
        return r;
    }
    state.faults.clear();
    StatusCode::NO_CONTENT.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_serialize_tagged_camel_case() {
        let rule = FaultRule {
            method: Some("POST".into()),
            path_contains: "/apikeys".into(),
            fault: Fault::TooManyRequests {
                retry_after_secs: 2,
            },
            times: Some(1),
        };
        let v = serde_json::to_value(&rule).unwrap_or_default();
        assert_eq!(
            v,
            json!({"method":"POST","pathContains":"/apikeys",
                   "fault":{"type":"tooManyRequests","retryAfterSecs":2},"times":1})
        );
        let back: FaultRule =
            serde_json::from_value(json!({"pathContains":"","fault":{"type":"reset"}}))
                .unwrap_or_else(|_| rule.clone());
        assert_eq!(back.fault, Fault::Reset);
        assert_eq!(back.times, None);
        assert_eq!(back.method, None);
    }

    #[test]
    fn times_counts_down_and_the_first_match_wins() {
        let set = FaultSet::default();
        set.add(FaultRule {
            method: Some("post".into()),
            path_contains: "/users".into(),
            fault: Fault::Reset,
            times: Some(2),
        });
        set.add(FaultRule {
            method: None,
            path_contains: "".into(),
            fault: Fault::Malformed,
            times: None,
        });
        assert_eq!(set.take("POST", "/x/users"), Some(Fault::Reset));
        assert_eq!(set.list()[0].times, Some(1));
        assert_eq!(set.take("GET", "/x/users"), Some(Fault::Malformed));
        assert_eq!(set.take("POST", "/x/users/a"), Some(Fault::Reset));
        assert_eq!(set.take("POST", "/x/users"), Some(Fault::Malformed));
        assert_eq!(set.list().len(), 1);
        set.clear();
        assert_eq!(set.take("POST", "/x/users"), None);
    }

    #[test]
    fn bad_rules_are_named() {
        let mut rule = FaultRule {
            method: None,
            path_contains: "".into(),
            fault: Fault::Status { status: 1000 },
            times: None,
        };
        assert!(rule.problem().is_some());
        rule.fault = Fault::Status { status: 503 };
        assert!(rule.problem().is_none());
        rule.times = Some(0);
        assert!(rule.problem().is_some());
    }
}
