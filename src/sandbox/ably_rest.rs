//! Ably's realtime REST API, as much of it as ably-js needs to issue and revoke tokens: served at
//! the root of its own listener (`keydeck sandbox --ably-rest-port`, so that
//! `new Ably.Rest({ key, restHost: '127.0.0.1', port, tls: false })` works unchanged) and under
//! `/ably/rest` on the main one.
//!
//! * `GET /time` → `[epoch ms]`;
//! * `POST /keys/{keyName}/requestToken`: a signed TokenRequest (HMAC-SHA256 of the six fields,
//!   the way ably-js's `createTokenRequest` signs it) or token params with Basic auth → TokenDetails
//!   with the key's capability intersected with the requested one, a TTL within the key's cap
//!   and the `clientId`;
//! * `POST /keys/{keyName}/revokeTokens`: Basic auth with the issuing key, per-target results;
//! * `POST /channels/{channel}/messages` (publish; the messages go nowhere) and
//!   `GET /channels/{channel}/messages` (an empty history), behind Basic or token auth and the
//!   capability, so that a revoked (or expired) token is refused with 40141 (40142) the way
//!   Ably refuses it.
//!
//! Bodies are JSON or MessagePack (`Content-Type`), replies follow `Accept`: ably-js speaks
//! MessagePack by default in Node. Errors are `{error: …}` with the `X-Ably-Error*` headers.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use rusqlite::{OptionalExtension as _, Transaction, params};
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

use super::SharedState;
use super::ably::{AblyError, KeyRow, Out, get_key, in_store};
use super::http::{header_str, percent_decode, read_body, segments};
use super::store;
use crate::model::capability::{self, Capability};

/// `issuedBefore` may be at most this far in the past.
const ISSUED_BEFORE_WINDOW_MS: i64 = 3_600_000;
/// Clock slack tolerated for an `issuedBefore` a little ahead of the server's clock.
const ISSUED_BEFORE_SLACK_MS: i64 = 1_000;
/// `allowReauthMargin` delays enforcement by this much.
const REAUTH_MARGIN_MS: i64 = 30_000;
/// A token's life when the request names none (Ably's default: one hour).
const DEFAULT_TTL_MS: i64 = 3_600_000;
/// The longest life of a token (Ably: 24 hours).
const MAX_TTL_MS: i64 = 86_400_000;
/// The longest life of a token from a key with revocable tokens (Ably: one hour).
const MAX_REVOCABLE_TTL_MS: i64 = 3_600_000;
/// A signed token request's timestamp may differ from the server's clock by this much.
const TIMESTAMP_WINDOW_MS: i64 = 600_000;

const MSGPACK: &str = "application/x-msgpack";

// ---------------------------------------------------------------------------------------------
// Wire formats

/// Which format a reply is written in: what `Accept` asks for, JSON by default.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Format {
    Json,
    MsgPack,
}

impl Format {
    fn accepted(headers: &HeaderMap) -> Format {
        match header_str(headers, header::ACCEPT.as_str()) {
            Some(a) if a.contains(MSGPACK) => Format::MsgPack,
            _ => Format::Json,
        }
    }

    fn of_body(headers: &HeaderMap) -> Format {
        match header_str(headers, header::CONTENT_TYPE.as_str()) {
            Some(c) if c.starts_with(MSGPACK) => Format::MsgPack,
            _ => Format::Json,
        }
    }
}

/// Writes `out` in `format`; a MessagePack reply carries its own content type.
fn encode(out: Out, format: Format) -> Response {
    if format == Format::Json {
        return out.into_response();
    }
    let (status, headers) = (out.status, out.headers.clone());
    let Some(body) = out.body.as_ref() else {
        return out.into_response();
    };
    let bytes = match rmp_serde::to_vec_named(body) {
        Ok(b) => b,
        Err(e) => return AblyError::internal(e).wrapped().into_response(),
    };
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(MSGPACK));
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
    resp
}

/// Reads an optional object body in JSON or MessagePack. `None` for an empty body.
async fn object_body(
    headers: &HeaderMap,
    body: Body,
) -> Result<Option<Map<String, Value>>, AblyError> {
    match value_body(headers, body).await? {
        None => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(AblyError::bad_request("The request body must be an object")),
    }
}

/// Reads an optional body in JSON or MessagePack. `None` for an empty body.
async fn value_body(headers: &HeaderMap, body: Body) -> Result<Option<Value>, AblyError> {
    let bytes = read_body(headers, body).await.map_err(|_| {
        AblyError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            41300,
            "The request body is too large",
        )
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let parsed = match Format::of_body(headers) {
        Format::MsgPack => rmp_serde::from_slice::<Value>(&bytes)
            .map_err(|e| format!("The request body is not valid MessagePack: {e}")),
        Format::Json => serde_json::from_slice::<Value>(&bytes)
            .map_err(|e| format!("The request body is not valid JSON: {e}")),
    };
    parsed.map(Some).map_err(AblyError::bad_request)
}

/// Epoch milliseconds from a JSON or MessagePack number (ably-js's MessagePack encoder writes
/// large integers as float64).
fn as_ms(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| {
        v.as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
            .map(|f| f as i64)
    })
}

// ---------------------------------------------------------------------------------------------
// Routing

enum Op {
    Time,
    RequestToken(String),
    RevokeTokens(String),
    History(String),
    Publish(String),
}

fn route(method: &Method, segs: &[&str]) -> Option<Op> {
    let segs = match segs {
        ["ably", "rest", rest @ ..] => rest,
        all => all,
    };
    match (segs, method) {
        (["time"], &Method::GET) => Some(Op::Time),
        (["keys", k, "requestToken"], &Method::POST) => Some(Op::RequestToken(percent_decode(k))),
        (["keys", k, "revokeTokens"], &Method::POST) => Some(Op::RevokeTokens(percent_decode(k))),
        (["channels", c, "messages"], &Method::GET) => Some(Op::History(percent_decode(c))),
        (["channels", c, "messages"], &Method::POST) => Some(Op::Publish(percent_decode(c))),
        _ => None,
    }
}

/// The axum handler for every Ably REST path (root listener and `/ably/rest/…`).
pub async fn handle(State(state): State<SharedState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let format = Format::accepted(&parts.headers);
    let auth = header_str(&parts.headers, header::AUTHORIZATION.as_str());
    let out = match route(&parts.method, &segments(&path)) {
        None => AblyError::not_found("Not found").wrapped(),
        Some(Op::Time) => Out::json(StatusCode::OK, json!([store::now_ms()])),
        Some(Op::History(channel)) => {
            let run = move |tx: &Transaction<'_>| {
                let out = channel_op(tx, auth.as_deref(), &channel, "history")
                    .map(|()| Out::json(StatusCode::OK, json!([])));
                (out.unwrap_or_else(AblyError::wrapped), false)
            };
            in_store(&state, run, AblyError::wrapped).await
        }
        Some(Op::Publish(channel)) => match value_body(&parts.headers, body).await {
            Err(e) => e.wrapped(),
            Ok(_messages) => {
                let run = move |tx: &Transaction<'_>| {
                    let out = channel_op(tx, auth.as_deref(), &channel, "publish").map(|()| {
                        let id = store::random_url_safe(12);
                        Out::json(
                            StatusCode::CREATED,
                            json!({ "channel": channel, "messageId": id }),
                        )
                    });
                    (out.unwrap_or_else(AblyError::wrapped), false)
                };
                in_store(&state, run, AblyError::wrapped).await
            }
        },
        Some(op @ (Op::RequestToken(_) | Op::RevokeTokens(_))) => {
            let version = header_str(&parts.headers, "x-ably-version")
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0);
            match object_body(&parts.headers, body).await {
                Err(e) => e.wrapped(),
                Ok(body) => {
                    let run = move |tx: &Transaction<'_>| {
                        let result = match &op {
                            Op::RequestToken(k) => request_token(tx, auth.as_deref(), k, body),
                            Op::RevokeTokens(k) => {
                                revoke_tokens(tx, auth.as_deref(), k, body, version)
                            }
                            _ => Err(AblyError::not_found("Not found")),
                        };
                        result.unwrap_or_else(|e| (e.wrapped(), false))
                    };
                    in_store(&state, run, AblyError::wrapped).await
                }
            }
        }
    };
    tracing::debug!(
        method = %parts.method,
        path = %path,
        status = out.status.as_u16(),
        "sandbox ably rest request"
    );
    encode(out, format)
}

// ---------------------------------------------------------------------------------------------
// Authentication

/// What a request authenticated as.
enum Caller {
    Key(KeyRow),
    Token(TokenRow),
}

struct TokenRow {
    key_name: String,
    client_id: Option<String>,
    capability: Capability,
    issued: i64,
    expires: i64,
}

/// Finds the key a Basic `Authorization` value (`base64(keyName:secret)`) names.
fn key_of_basic(tx: &Transaction<'_>, cred: &str) -> Result<KeyRow, AblyError> {
    let bad = || AblyError::invalid_credentials("Invalid credentials");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(cred.trim())
        .map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (name, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let key = key_by_name(tx, name)?.ok_or_else(bad)?;
    if !same_secret(&key.secret, secret) {
        return Err(bad());
    }
    if key.status != 0 {
        return Err(AblyError::invalid_credentials("The key has been revoked"));
    }
    Ok(key)
}

fn key_by_name(tx: &Transaction<'_>, name: &str) -> rusqlite::Result<Option<KeyRow>> {
    match name.split_once('.') {
        Some((app_id, key_id)) => get_key(tx, app_id, key_id),
        None => Ok(None),
    }
}

/// Authenticates Basic (an API key) or Bearer (a token issued here, base64 as ably-js sends it
/// or raw) credentials. A token is refused once expired (40142) or revoked (40141).
fn caller(tx: &Transaction<'_>, auth: Option<&str>) -> Result<Caller, AblyError> {
    let Some(auth) = auth else {
        return Err(AblyError::invalid_credentials(
            "No authentication: use Basic auth with an API key, or a token",
        ));
    };
    let (scheme, cred) = auth.split_once(' ').unwrap_or((auth, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return key_of_basic(tx, cred).map(Caller::Key);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AblyError::invalid_credentials(
            "Unsupported authentication scheme",
        ));
    }
    let cred = cred.trim();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(cred)
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    let token = match decoded
        .as_deref()
        .map(|t| token_by_value(tx, t))
        .transpose()?
    {
        Some(Some(t)) => t,
        _ => token_by_value(tx, cred)?
            .ok_or_else(|| AblyError::invalid_credentials("Invalid token"))?,
    };
    let now = store::now_ms();
    if token.expires <= now {
        return Err(AblyError::new(
            StatusCode::UNAUTHORIZED,
            40142,
            "Token expired",
        ));
    }
    if is_revoked(tx, &token, now)? {
        return Err(AblyError::new(
            StatusCode::UNAUTHORIZED,
            40141,
            "Token revoked",
        ));
    }
    Ok(Caller::Token(token))
}

fn token_by_value(tx: &Transaction<'_>, token: &str) -> rusqlite::Result<Option<TokenRow>> {
    tx.query_row(
        "SELECT key_name, client_id, capability, issued, expires FROM ably_tokens WHERE token = ?1",
        [token],
        |r| {
            let cap: String = r.get(2)?;
            Ok(TokenRow {
                key_name: r.get(0)?,
                client_id: r.get(1)?,
                capability: serde_json::from_str(&cap).unwrap_or_default(),
                issued: r.get(3)?,
                expires: r.get(4)?,
            })
        },
    )
    .optional()
}

/// Whether a revocation of the issuing key covers `token`: a matching target, issued before
/// the revocation's `issuedBefore`, and the revocation in force (`appliesAt` passed).
fn is_revoked(tx: &Transaction<'_>, token: &TokenRow, now: i64) -> rusqlite::Result<bool> {
    let mut st = tx.prepare(
        "SELECT target FROM ably_revocations \
         WHERE key_name = ?1 AND issued_before > ?2 AND applies_at <= ?3",
    )?;
    let targets = st
        .query_map(params![token.key_name, token.issued, now], |r| {
            r.get::<_, String>(0)
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(targets.iter().any(|t| match t.split_once(':') {
        Some(("clientId", id)) => token.client_id.as_deref() == Some(id),
        Some(("channel", resource)) => token.capability.contains_key(resource),
        _ => false,
    }))
}

/// Compares two secrets without an early exit on the first differing byte.
fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

// ---------------------------------------------------------------------------------------------
// Channels (the operations that show a token working, or refused)

/// Authenticates the caller and checks that its capability grants `op` on `channel`.
fn channel_op(
    tx: &Transaction<'_>,
    auth: Option<&str>,
    channel: &str,
    op: &str,
) -> Result<(), AblyError> {
    let cap = match caller(tx, auth)? {
        Caller::Key(k) => k.capability,
        Caller::Token(t) => t.capability,
    };
    if !capability::can(&cap, op, channel).allowed {
        return Err(AblyError::new(
            StatusCode::UNAUTHORIZED,
            40160,
            format!("Action not permitted: {op} on channel {channel}"),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Tokens

/// HMAC-SHA256 (RFC 2104), base64: how ably-js signs a TokenRequest with the key's secret.
fn hmac_sha256_base64(secret: &[u8], text: &[u8]) -> String {
    const BLOCK: usize = 64;
    let mut key = [0u8; BLOCK];
    if secret.len() > BLOCK {
        let d = Sha256::digest(secret);
        key[..d.len()].copy_from_slice(&d);
    } else {
        key[..secret.len()].copy_from_slice(secret);
    }
    let mut inner = Sha256::new();
    inner.update(key.map(|b| b ^ 0x36));
    inner.update(text);
    let mut outer = Sha256::new();
    outer.update(key.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    base64::engine::general_purpose::STANDARD.encode(outer.finalize())
}

/// A field as ably-js puts it into the signed text: a string as is, a number in decimal,
/// absent as empty.
fn sign_field(body: &Map<String, Value>, name: &str) -> String {
    match body.get(name) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => as_ms(v)
            .map(|n| n.to_string())
            .unwrap_or_else(|| v.to_string()),
    }
}

/// Checks a signed TokenRequest (`mac` present) against the key's secret.
fn check_signed(key: &KeyRow, body: &Map<String, Value>) -> Result<(), AblyError> {
    let text = format!(
        "{}\n{}\n{}\n{}\n{}\n{}\n",
        key.key_name(),
        sign_field(body, "ttl"),
        sign_field(body, "capability"),
        sign_field(body, "clientId"),
        sign_field(body, "timestamp"),
        sign_field(body, "nonce"),
    );
    let mac = sign_field(body, "mac");
    if !same_secret(
        &hmac_sha256_base64(key.secret.as_bytes(), text.as_bytes()),
        &mac,
    ) {
        return Err(AblyError::invalid_credentials(
            "Invalid mac: the token request was not signed with this key's secret",
        ));
    }
    let timestamp = body.get("timestamp").and_then(as_ms).unwrap_or(0);
    if (timestamp - store::now_ms()).abs() > TIMESTAMP_WINDOW_MS {
        return Err(AblyError::new(
            StatusCode::UNAUTHORIZED,
            40104,
            "Timestamp not current",
        ));
    }
    Ok(())
}

/// The token's capability: the requested one intersected with the key's (Ably's rule); the
/// key's own when none is requested; an empty intersection is refused.
fn token_capability(key: &Capability, requested: Option<&Value>) -> Result<Capability, AblyError> {
    let requested: Capability = match requested {
        None | Some(Value::Null) => return Ok(key.clone()),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(key.clone()),
        Some(Value::String(s)) => capability::parse(s)
            .map_err(|e| AblyError::bad_request(format!("Invalid capability: {}", e.0)))?,
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|_| AblyError::bad_request("Invalid capability"))?,
    };
    let mut out = Capability::new();
    for (pattern, ops) in &requested {
        for (kpattern, kops) in key {
            let resource = if capability::pattern_matches(kpattern, pattern) {
                pattern
            } else if capability::pattern_matches(pattern, kpattern) {
                kpattern
            } else {
                continue;
            };
            let granted: Vec<String> =
                match (ops.iter().any(|o| o == "*"), kops.iter().any(|o| o == "*")) {
                    (_, true) => ops.clone(),
                    (true, false) => kops.clone(),
                    (false, false) => ops.iter().filter(|o| kops.contains(o)).cloned().collect(),
                };
            let entry: &mut Vec<String> = out.entry(resource.clone()).or_default();
            for op in granted {
                if !entry.contains(&op) {
                    entry.push(op);
                }
            }
        }
    }
    out.retain(|_, ops| !ops.is_empty());
    if out.is_empty() {
        return Err(AblyError::new(
            StatusCode::UNAUTHORIZED,
            40160,
            "The requested capability is not permitted by the key",
        ));
    }
    for ops in out.values_mut() {
        ops.sort();
    }
    Ok(out)
}

/// `POST /keys/{keyName}/requestToken`: a signed TokenRequest, or token params with Basic auth.
fn request_token(
    tx: &Transaction<'_>,
    auth: Option<&str>,
    path_key: &str,
    body: Option<Map<String, Value>>,
) -> Result<(Out, bool), AblyError> {
    let body = body.unwrap_or_default();
    let key = if body.contains_key("mac") {
        let key = key_by_name(tx, path_key)?
            .ok_or_else(|| AblyError::not_found(format!("No key named {path_key}")))?;
        if key.status != 0 {
            return Err(AblyError::invalid_credentials("The key has been revoked"));
        }
        check_signed(&key, &body)?;
        key
    } else {
        match caller(tx, auth)? {
            Caller::Key(k) => k,
            Caller::Token(_) => {
                return Err(AblyError::new(
                    StatusCode::UNAUTHORIZED,
                    40162,
                    "Requesting a token needs a signed token request or basic authentication",
                ));
            }
        }
    };
    if key.key_name() != path_key {
        return Err(AblyError::new(
            StatusCode::FORBIDDEN,
            40300,
            "A token request must name the key that signs it",
        ));
    }
    if let Some(named) = body.get("keyName").and_then(Value::as_str)
        && named != path_key
    {
        return Err(AblyError::bad_request("keyName does not match the path"));
    }
    let max = if key.revocable_tokens {
        MAX_REVOCABLE_TTL_MS
    } else {
        MAX_TTL_MS
    };
    let ttl = match body.get("ttl") {
        None | Some(Value::Null) => DEFAULT_TTL_MS.min(max),
        Some(Value::String(s)) if s.is_empty() => DEFAULT_TTL_MS.min(max),
        Some(v) => sign_field(&body, "ttl")
            .parse::<i64>()
            .ok()
            .or_else(|| as_ms(v))
            .filter(|t| *t > 0)
            .ok_or_else(|| {
                AblyError::bad_request("ttl must be a positive number of milliseconds")
            })?,
    };
    if ttl > max {
        return Err(AblyError::new(
            StatusCode::BAD_REQUEST,
            40003,
            format!("ttl {ttl} is longer than this key allows ({max} ms)"),
        ));
    }
    let client_id = match body.get("clientId") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(AblyError::bad_request("clientId must be a string")),
    };
    let cap = token_capability(&key.capability, body.get("capability"))?;
    let issued = store::now_ms();
    let token = format!("{}.{}", key.app_id, store::random_url_safe(64));
    tx.execute(
        "INSERT INTO ably_tokens (token, key_name, client_id, capability, issued, expires) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            token,
            key.key_name(),
            client_id,
            serde_json::to_string(&cap).map_err(AblyError::internal)?,
            issued,
            issued + ttl
        ],
    )?;
    let mut details = json!({
        "token": token,
        "keyName": key.key_name(),
        "issued": issued,
        "expires": issued + ttl,
        // Compact and key-sorted, the canonical form ably-js also signs.
        "capability": serde_json::to_string(&cap).map_err(AblyError::internal)?,
    });
    if let (Some(id), Value::Object(m)) = (client_id, &mut details) {
        m.insert("clientId".into(), json!(id));
    }
    Ok((Out::json(StatusCode::OK, details), true))
}

// ---------------------------------------------------------------------------------------------
// Token revocation

/// Why a target specifier is refused, if it is.
fn target_problem(target: &str) -> Option<String> {
    let Some((kind, value)) = target.split_once(':') else {
        return Some(format!(
            "Invalid target specifier {target:?}: expected type:value"
        ));
    };
    if !matches!(kind, "clientId" | "revocationKey" | "channel") {
        return Some(format!(
            "Invalid target specifier {target:?}: unknown type {kind:?}"
        ));
    }
    if value.is_empty() {
        return Some(format!("Invalid target specifier {target:?}: empty value"));
    }
    None
}

/// The key a revocation authenticates as: Basic only (a token is refused with 40162).
fn revoking_key(tx: &Transaction<'_>, auth: Option<&str>) -> Result<KeyRow, AblyError> {
    let Some(auth) = auth else {
        return Err(AblyError::invalid_credentials(
            "No authentication: use Basic auth with the API key",
        ));
    };
    let (scheme, cred) = auth.split_once(' ').unwrap_or((auth, ""));
    if scheme.eq_ignore_ascii_case("bearer") {
        return Err(AblyError::new(
            StatusCode::UNAUTHORIZED,
            40162,
            "Token revocation requires basic authentication with the API key that issued the tokens",
        ));
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(AblyError::invalid_credentials(
            "Unsupported authentication scheme",
        ));
    }
    key_of_basic(tx, cred)
}

/// `issuedBefore` (default now) and `allowReauthMargin` (default false), validated.
fn revocation_times(body: &Map<String, Value>, now: i64) -> Result<(i64, bool), AblyError> {
    let issued_before = match body.get("issuedBefore") {
        None | Some(Value::Null) => now,
        Some(v) => {
            let t = as_ms(v)
                .ok_or_else(|| AblyError::bad_request("issuedBefore must be epoch milliseconds"))?;
            if t > now + ISSUED_BEFORE_SLACK_MS {
                return Err(AblyError::bad_request("issuedBefore is in the future"));
            }
            if t < now - ISSUED_BEFORE_WINDOW_MS {
                return Err(AblyError::bad_request(
                    "issuedBefore is more than an hour in the past",
                ));
            }
            t
        }
    };
    let margin = match body.get("allowReauthMargin") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(AblyError::bad_request(
                "allowReauthMargin must be true or false",
            ));
        }
    };
    Ok((issued_before, margin))
}

/// Returns the reply and whether anything was recorded (so the transaction commits).
fn revoke_tokens(
    tx: &Transaction<'_>,
    auth: Option<&str>,
    path_key: &str,
    body: Option<Map<String, Value>>,
    version: f64,
) -> Result<(Out, bool), AblyError> {
    let key = revoking_key(tx, auth)?;
    if key.key_name() != path_key {
        return Err(AblyError::new(
            StatusCode::FORBIDDEN,
            40300,
            "A key can only revoke the tokens it issued",
        ));
    }
    if !key.revocable_tokens {
        return Err(AblyError::new(
            StatusCode::UNAUTHORIZED,
            40163,
            "Revocable tokens are not enabled for this key",
        ));
    }
    let body = body.unwrap_or_default();
    let targets: Vec<String> = match body.get("targets") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|t| t.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| AblyError::bad_request("targets must be strings"))?,
        _ => {
            return Err(AblyError::bad_request(
                "targets is required: a list of 1 to 100 target specifiers",
            ));
        }
    };
    if targets.is_empty() || targets.len() > 100 {
        return Err(AblyError::bad_request(format!(
            "targets must hold 1 to 100 target specifiers (got {})",
            targets.len()
        )));
    }
    let now = store::now_ms();
    let (issued_before, margin) = revocation_times(&body, now)?;
    let applies_at = if margin { now + REAUTH_MARGIN_MS } else { now };
    let key_name = key.key_name();
    let mut results = Vec::with_capacity(targets.len());
    let (mut ok, mut failed) = (0u32, 0u32);
    for target in targets {
        if let Some(problem) = target_problem(&target) {
            failed += 1;
            results.push(json!({
                "target": target,
                "error": { "code": 40000, "statusCode": 400, "message": problem },
            }));
            continue;
        }
        tx.execute(
            "INSERT INTO ably_revocations (key_name, target, issued_before, applies_at, \
             allow_reauth_margin, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![key_name, target, issued_before, applies_at, margin, now],
        )?;
        ok += 1;
        results.push(json!({
            "target": target,
            "issuedBefore": issued_before,
            "appliesAt": applies_at,
        }));
    }
    let out = if version >= 3.0 {
        Out::json(
            StatusCode::OK,
            json!({ "successCount": ok, "failureCount": failed, "results": results }),
        )
    } else if failed == 0 {
        Out::json(StatusCode::CREATED, Value::Array(results))
    } else {
        let mut out = AblyError::new(
            StatusCode::BAD_REQUEST,
            40020,
            "Batched response includes errors",
        )
        .wrapped();
        if let Some(Value::Object(m)) = out.body.as_mut() {
            m.insert("batchResponse".into(), Value::Array(results));
        }
        out
    };
    Ok((out, ok > 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_the_rfc_4231_vector() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mac = hmac_sha256_base64(b"Jefe", b"what do ya want for nothing?");
        let hex: String = base64::engine::general_purpose::STANDARD
            .decode(mac)
            .unwrap_or_default()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_token_capability_is_the_intersection_with_the_key() {
        // Ably's documented example (CAPDOC).
        let key: Capability = [
            (
                "ns:*".to_owned(),
                vec!["presence".into(), "publish".into(), "subscribe".into()],
            ),
            (
                "notifications".to_owned(),
                vec!["history".into(), "subscribe".into()],
            ),
        ]
        .into();
        let requested = json!(
            "{\"ns:user-123\":[\"subscribe\"],\"notifications\":[\"*\"],\"private\":[\"publish\"]}"
        );
        let cap = token_capability(&key, Some(&requested)).unwrap_or_default();
        let want: Capability = [
            ("ns:user-123".to_owned(), vec!["subscribe".into()]),
            (
                "notifications".to_owned(),
                vec!["history".into(), "subscribe".into()],
            ),
        ]
        .into();
        assert_eq!(cap, want);
        let none = json!("{\"private\":[\"publish\"]}");
        let e = token_capability(&key, Some(&none)).err().map(|e| e.code);
        assert_eq!(e, Some(40160));
        assert_eq!(token_capability(&key, None).unwrap_or_default(), key);
    }

    #[test]
    fn formats_follow_accept_and_content_type() {
        let mut h = HeaderMap::new();
        assert_eq!(Format::accepted(&h), Format::Json);
        h.insert(header::ACCEPT, HeaderValue::from_static(MSGPACK));
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-msgpack; charset=binary"),
        );
        assert_eq!(Format::accepted(&h), Format::MsgPack);
        assert_eq!(Format::of_body(&h), Format::MsgPack);
        assert_eq!(as_ms(&json!(1.7e12)), Some(1_700_000_000_000));
        assert_eq!(as_ms(&json!(1.5)), None);
    }
}
