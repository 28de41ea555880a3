//! Shared HTTP plumbing: the error envelope, replies, body and query parsing, rate limiting.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Request bodies above this size are refused with 413.
pub const MAX_BODY: usize = 64 * 1024;

/// Validation messages per field, as `details` in the error envelope.
pub type Details = BTreeMap<String, Vec<String>>;

/// An API error rendered into the CometChat error envelope.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Option<Details>,
    pub headers: Vec<(HeaderName, String)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: None,
            headers: Vec::new(),
        }
    }

    /// 400 `ERR_BAD_REQUEST` with per-field details.
    pub fn validation(details: Details) -> Self {
        let mut e = ApiError::new(
            StatusCode::BAD_REQUEST,
            "ERR_BAD_REQUEST",
            "Failed to validate the data sent with the request.",
        );
        e.details = Some(details);
        e
    }

    /// 400 `ERR_BAD_REQUEST` with a plain message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "ERR_BAD_REQUEST", message)
    }

    pub fn not_found_api() -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "ERR_API_NOT_FOUND",
            "The API endpoint is invalid. Please verify the API call.",
        )
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!("sandbox internal error: {err}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ERR_EXCEPTION",
            "Something went wrong while processing the request.",
        )
    }

    pub fn payload_too_large() -> Self {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "ERR_PAYLOAD_TOO_LARGE",
            format!("The request body is larger than the allowed {MAX_BODY} bytes."),
        )
    }

    pub fn with_headers(mut self, headers: Vec<(HeaderName, String)>) -> Self {
        self.headers.extend(headers);
        self
    }

    /// The envelope: `{"error":{code,message,devMessage,source,details?}}`.
    pub fn body(&self, source: &str) -> Value {
        let mut e = serde_json::Map::new();
        e.insert("code".into(), json!(self.code));
        e.insert("message".into(), json!(self.message));
        e.insert("devMessage".into(), json!(self.message));
        e.insert("source".into(), json!(source));
        if let Some(d) = &self.details {
            e.insert("details".into(), json!(d));
        }
        json!({ "error": Value::Object(e) })
    }

    pub fn into_reply(self, source: &str) -> Reply {
        Reply {
            status: self.status,
            body: self.body(source),
            headers: self.headers,
        }
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        ApiError::internal(e)
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        ApiError::internal(e)
    }
}

/// A finished JSON reply.
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: Vec<(HeaderName, String)>,
}

impl Reply {
    pub fn ok(body: Value) -> Self {
        Reply {
            status: StatusCode::OK,
            body,
            headers: Vec::new(),
        }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        respond(self.status, Some(&self.body), self.headers)
    }
}

/// A response with a JSON body (or an empty one) and extra headers; header values that are
/// not valid header text are dropped.
pub fn respond(
    status: StatusCode,
    body: Option<&Value>,
    headers: Vec<(HeaderName, String)>,
) -> Response {
    let mut resp = match body {
        Some(body) => {
            let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
            let mut r = Response::new(Body::from(bytes));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        }
        None => Response::new(Body::empty()),
    };
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
    resp
}

/// `{"data": …}`.
pub fn data(v: Value) -> Value {
    json!({ "data": v })
}

/// `{"data":{"success":true,"message":…}}`.
pub fn ack(message: impl Into<String>) -> Value {
    json!({ "data": { "success": true, "message": message.into() } })
}

/// `meta.pagination`; `total_pages` is at least 1 (Laravel style).
pub fn pagination(total: u64, count: usize, per_page: u64, page: u64) -> Value {
    let total_pages = if per_page == 0 {
        1
    } else {
        total.div_ceil(per_page).max(1)
    };
    json!({
        "total": total,
        "count": count,
        "per_page": per_page,
        "current_page": page,
        "total_pages": total_pages,
    })
}

/// A header as a trimmed string, if present and non-empty.
pub fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// Reads the body, refusing anything above [`MAX_BODY`].
pub async fn read_body(headers: &HeaderMap, body: Body) -> Result<Vec<u8>, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(ApiError::payload_too_large());
    }
    axum::body::to_bytes(body, MAX_BODY)
        .await
        .map(|b| b.to_vec())
        .map_err(|_| ApiError::payload_too_large())
}

/// Parses an optional JSON body: empty → `None`; malformed → 400.
pub fn parse_json(bytes: &[u8]) -> Result<Option<Value>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice::<Value>(bytes)
        .map(Some)
        .map_err(|e| ApiError::bad_request(format!("The request body is not valid JSON: {e}.")))
}

/// Parses an optional JSON body that, when present, must be an object.
pub fn parse_object(bytes: &[u8]) -> Result<Option<serde_json::Map<String, Value>>, ApiError> {
    match parse_json(bytes)? {
        None => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(ApiError::bad_request(
            "The request body must be a JSON object.",
        )),
    }
}

/// Percent-decodes one path segment (no `+` handling: that is a query-string convention).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex_val(bytes[i + 1]), hex_val(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Splits a raw path into raw segments, ignoring one trailing slash.
pub fn segments(path: &str) -> Vec<&str> {
    let p = path.strip_prefix('/').unwrap_or(path);
    let p = p.strip_suffix('/').unwrap_or(p);
    if p.is_empty() {
        Vec::new()
    } else {
        p.split('/').collect()
    }
}

/// Parsed query string. Repeated keys and `key[]` forms are kept as multiple values.
#[derive(Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(q: Option<&str>) -> Query {
        let pairs = q
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| {
                        let k = k.strip_suffix("[]").unwrap_or(&k).to_owned();
                        (k, v.into_owned())
                    })
                    .collect()
            })
            .unwrap_or_default();
        Query { pairs }
    }

    /// The last value for `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// All values for `key`, each split on commas, trimmed, non-empty.
    pub fn list(&self, key: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| v.split(','))
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// A boolean flag (`true`/`1` → true; `false`/`0`/absent → false); other values, the empty
    /// one included, → details (the provider's 400).
    pub fn flag(&self, key: &str, details: &mut Details) -> bool {
        match self.get(key).map(|v| v.trim().to_ascii_lowercase()) {
            None => false,
            Some(v) if v == "false" || v == "0" => false,
            Some(v) if v == "true" || v == "1" => true,
            Some(_) => {
                add(
                    details,
                    key,
                    format!("The {key} field must be true or false."),
                );
                false
            }
        }
    }

    /// A positive integer with a default and an optional maximum; errors go to details.
    pub fn positive(
        &self,
        key: &str,
        default: u64,
        max: Option<u64>,
        details: &mut Details,
    ) -> u64 {
        let Some(raw) = self.get(key) else {
            return default;
        };
        let raw = raw.trim();
        if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) && raw.parse::<i64>().is_err()
        {
            // Beyond a 64-bit signed integer, as a PHP/Laravel `integer` rule sees it.
            add(details, key, format!("The {key} must be an integer."));
            return default;
        }
        match raw.parse::<u64>() {
            Ok(n) if n >= 1 => match max {
                Some(m) if n > m => {
                    add(
                        details,
                        key,
                        format!("The {key} may not be greater than {m}."),
                    );
                    default
                }
                _ => n,
            },
            _ => {
                add(details, key, format!("The {key} must be at least 1."));
                default
            }
        }
    }
}

/// Adds a validation message for `field`.
pub fn add(details: &mut Details, field: &str, msg: impl Into<String>) {
    details
        .entry(field.to_owned())
        .or_default()
        .push(msg.into());
}

// ---------------------------------------------------------------------------------------------
// Rate limiting

/// The default per-app limit per minute ("standard operations").
pub const DEFAULT_RATE_LIMIT: u32 = 20_000;
const WINDOW: Duration = Duration::from_secs(60);

struct Window {
    start: Instant,
    count: u32,
}

/// Fixed 60-second windows per app; limits can be changed at run time.
#[derive(Default)]
pub struct RateLimiter {
    overrides: Mutex<HashMap<String, Option<u32>>>,
    windows: Mutex<HashMap<String, Window>>,
}

/// What the limiter decided for one request.
pub struct RateDecision {
    pub allowed: bool,
    pub headers: Vec<(HeaderName, String)>,
}

static X_RATE_LIMIT: HeaderName = HeaderName::from_static("x-rate-limit");
static X_RATE_LIMIT_REMAINING: HeaderName = HeaderName::from_static("x-rate-limit-remaining");
static X_RATE_LIMIT_RESET: HeaderName = HeaderName::from_static("x-rate-limit-reset");

impl RateLimiter {
    pub fn set_limit(&self, app_id: &str, per_minute: Option<u32>) {
        if let Ok(mut o) = self.overrides.lock() {
            o.insert(app_id.to_owned(), per_minute);
        }
        if let Ok(mut w) = self.windows.lock() {
            w.remove(app_id);
        }
    }

    fn limit(&self, app_id: &str) -> Option<u32> {
        self.overrides
            .lock()
            .ok()
            .and_then(|o| o.get(app_id).copied())
            .unwrap_or(Some(DEFAULT_RATE_LIMIT))
    }

    /// The current limit and what is left of it, without starting a window (so that requests
    /// naming apps that do not exist leave nothing behind).
    pub fn peek(&self, app_id: &str) -> Vec<(HeaderName, String)> {
        let Some(limit) = self.limit(app_id) else {
            return Vec::new();
        };
        let used = self
            .windows
            .lock()
            .ok()
            .and_then(|w| {
                w.get(app_id)
                    .filter(|w| w.start.elapsed() < WINDOW)
                    .map(|w| w.count)
            })
            .unwrap_or(0);
        vec![
            (X_RATE_LIMIT.clone(), limit.to_string()),
            (
                X_RATE_LIMIT_REMAINING.clone(),
                limit.saturating_sub(used).to_string(),
            ),
        ]
    }

    /// Counts one request when `consume`, else only reports the current state.
    pub fn check(&self, app_id: &str, consume: bool) -> RateDecision {
        let Some(limit) = self.limit(app_id) else {
            return RateDecision {
                allowed: true,
                headers: Vec::new(),
            };
        };
        let now = Instant::now();
        let Ok(mut windows) = self.windows.lock() else {
            return RateDecision {
                allowed: true,
                headers: Vec::new(),
            };
        };
        let w = windows.entry(app_id.to_owned()).or_insert(Window {
            start: now,
            count: 0,
        });
        if now.duration_since(w.start) >= WINDOW {
            w.start = now;
            w.count = 0;
        }
        let allowed = w.count < limit;
        if consume && allowed {
            w.count += 1;
        }
        let remaining = limit.saturating_sub(w.count);
        let mut headers = vec![
            (X_RATE_LIMIT.clone(), limit.to_string()),
            (X_RATE_LIMIT_REMAINING.clone(), remaining.to_string()),
        ];
        if consume && !allowed {
            let left = WINDOW.saturating_sub(now.duration_since(w.start));
            let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
            let secs = secs.max(1);
            headers.push((header::RETRY_AFTER, secs.to_string()));
            headers.push((
                X_RATE_LIMIT_RESET.clone(),
                (super::store::now() as u64 + secs).to_string(),
            ));
        }
        RateDecision {
            allowed: allowed || !consume,
            headers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b"), "a b");
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%41%42c"), "ABc");
    }

    #[test]
    fn limiter_counts_and_blocks() {
        let l = RateLimiter::default();
        l.set_limit("a", Some(2));
        assert!(l.check("a", true).allowed);
        assert!(l.check("a", true).allowed);
        let d = l.check("a", true);
        assert!(!d.allowed);
        assert!(d.headers.iter().any(|(n, _)| n == header::RETRY_AFTER));
        l.set_limit("a", None);
        assert!(l.check("a", true).allowed);
    }
}
