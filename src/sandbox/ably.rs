//! Ably: the Control API (`/ably/control/v1/…`, Bearer access tokens with capabilities, apps
//! and keys), the account's seed, and the error and reply types that the realtime REST surface
//! (`ably_rest.rs`) shares.
//!
//! Contract: `shared/reference/ably-cometly-api.md` §1–§3 and §5. Control API errors are the
//! flat `{message, code, statusCode, href}`; realtime REST errors are wrapped in `{error: …}`
//! and repeated in the `X-Ably-ErrorCode` / `X-Ably-ErrorMessage` headers.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, Method, StatusCode, header};
use axum::response::Response;
use rusqlite::{OptionalExtension as _, Transaction, params};
use serde_json::{Map, Value, json};

use super::SharedState;
use super::http::{header_str, percent_decode, read_body, respond, segments};
use super::store;
use crate::model::capability::{self, Capability};

/// The access-token capabilities the emulator knows.
pub const TOKEN_CAPABILITIES: [&str; 4] = ["read:app", "write:app", "read:key", "write:key"];
/// At most this many keys per app (error 40127).
const MAX_KEYS_PER_APP: i64 = 100;
/// `last_used_at` is refreshed at most this often.
const LAST_USED_GRANULARITY_SECS: i64 = 600;

static X_ABLY_ERRORCODE: HeaderName = HeaderName::from_static("x-ably-errorcode");
static X_ABLY_ERRORMESSAGE: HeaderName = HeaderName::from_static("x-ably-errormessage");

// ---------------------------------------------------------------------------------------------
// Errors and replies

/// An Ably error: HTTP status, Ably's 5-digit code, message.
#[derive(Debug)]
pub(crate) struct AblyError {
    pub(super) status: StatusCode,
    pub(super) code: u32,
    pub(super) message: String,
}

impl AblyError {
    pub(super) fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        AblyError {
            status,
            code,
            message: message.into(),
        }
    }

    pub(super) fn access_denied() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, 40100, "Access denied")
    }

    pub(super) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, 40400, message)
    }

    pub(super) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, 40000, message)
    }

    pub(super) fn invalid_credentials(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, 40101, message)
    }

    pub(super) fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!("sandbox ably internal error: {err}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, 50000, "Internal error")
    }

    fn fields(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("message".into(), json!(self.message));
        m.insert("code".into(), json!(self.code));
        m.insert("statusCode".into(), json!(self.status.as_u16()));
        m.insert(
            "href".into(),
            json!(format!("https://help.ably.io/error/{}", self.code)),
        );
        m
    }

    /// The Control API's flat error object.
    pub(super) fn flat(self) -> Out {
        Out::json(self.status, Value::Object(self.fields()))
    }

    /// The realtime REST API's `{error: …}` with the `X-Ably-Error*` headers.
    pub(super) fn wrapped(self) -> Out {
        let headers = vec![
            (X_ABLY_ERRORCODE.clone(), self.code.to_string()),
            (X_ABLY_ERRORMESSAGE.clone(), header_safe(&self.message)),
        ];
        let mut out = Out::json(
            self.status,
            json!({ "error": Value::Object(self.fields()) }),
        );
        out.headers = headers;
        out
    }
}

impl From<rusqlite::Error> for AblyError {
    fn from(e: rusqlite::Error) -> Self {
        AblyError::internal(e)
    }
}

impl From<anyhow::Error> for AblyError {
    fn from(e: anyhow::Error) -> Self {
        AblyError::internal(e)
    }
}

/// Header values must be visible ASCII; anything else becomes `?`.
fn header_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c == ' ' || c.is_ascii_graphic() {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// A finished reply: status, optional JSON body, extra headers.
pub(crate) struct Out {
    pub(super) status: StatusCode,
    pub(super) body: Option<Value>,
    pub(super) headers: Vec<(HeaderName, String)>,
}

impl Out {
    pub(super) fn json(status: StatusCode, body: Value) -> Self {
        Out {
            status,
            body: Some(body),
            headers: Vec::new(),
        }
    }

    fn empty(status: StatusCode) -> Self {
        Out {
            status,
            body: None,
            headers: Vec::new(),
        }
    }

    pub(super) fn into_response(self) -> Response {
        respond(self.status, self.body.as_ref(), self.headers)
    }
}

// ---------------------------------------------------------------------------------------------
// Rows

struct TokenRow {
    id: String,
    account_id: String,
    name: String,
    capabilities: Vec<String>,
    last_used_at: Option<i64>,
}

struct AppRow {
    id: String,
    account_id: String,
    name: String,
    status: String,
    tls_only: Option<bool>,
    created: i64,
    modified: i64,
}

impl AppRow {
    fn to_json(&self) -> Value {
        json!({
            "accountId": self.account_id,
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "tlsOnly": self.tls_only,
            "apnsUseSandboxEndpoint": null,
            "created": self.created,
            "modified": self.modified,
        })
    }
}

pub(super) struct KeyRow {
    pub(super) app_id: String,
    pub(super) id: String,
    pub(super) name: String,
    pub(super) secret: String,
    pub(super) capability: Capability,
    pub(super) revocable_tokens: bool,
    pub(super) status: i64,
    created: i64,
    modified: i64,
}

impl KeyRow {
    pub(super) fn key_name(&self) -> String {
        format!("{}.{}", self.app_id, self.id)
    }

    fn to_json(&self) -> Value {
        json!({
            "appId": self.app_id,
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "key": format!("{}:{}", self.key_name(), self.secret),
            "capability": self.capability,
            "revocableTokens": self.revocable_tokens,
            "created": self.created,
            "modified": self.modified,
        })
    }
}

const APP_COLS: &str = "id, account_id, name, status, tls_only, created, modified";

fn app_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AppRow> {
    Ok(AppRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        name: r.get(2)?,
        status: r.get(3)?,
        tls_only: r.get(4)?,
        created: r.get(5)?,
        modified: r.get(6)?,
    })
}

const KEY_COLS: &str =
    "app_id, id, name, secret, capability, revocable_tokens, status, created, modified";

fn key_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<KeyRow> {
    let cap: String = r.get(4)?;
    Ok(KeyRow {
        app_id: r.get(0)?,
        id: r.get(1)?,
        name: r.get(2)?,
        secret: r.get(3)?,
        capability: serde_json::from_str(&cap).unwrap_or_default(),
        revocable_tokens: r.get(5)?,
        status: r.get(6)?,
        created: r.get(7)?,
        modified: r.get(8)?,
    })
}

fn token_by_value(tx: &Transaction<'_>, token: &str) -> rusqlite::Result<Option<TokenRow>> {
    tx.query_row(
        "SELECT id, account_id, name, capabilities, last_used_at \
         FROM ably_access_tokens WHERE token = ?1",
        [token],
        |r| {
            let caps: String = r.get(3)?;
            Ok(TokenRow {
                id: r.get(0)?,
                account_id: r.get(1)?,
                name: r.get(2)?,
                capabilities: serde_json::from_str(&caps).unwrap_or_default(),
                last_used_at: r.get(4)?,
            })
        },
    )
    .optional()
}

fn get_app(tx: &Transaction<'_>, id: &str) -> rusqlite::Result<Option<AppRow>> {
    tx.query_row(
        &format!("SELECT {APP_COLS} FROM ably_apps WHERE id = ?1"),
        [id],
        app_from_row,
    )
    .optional()
}

pub(super) fn get_key(
    tx: &Transaction<'_>,
    app_id: &str,
    key_id: &str,
) -> rusqlite::Result<Option<KeyRow>> {
    tx.query_row(
        &format!("SELECT {KEY_COLS} FROM ably_keys WHERE app_id = ?1 AND id = ?2"),
        [app_id, key_id],
        key_from_row,
    )
    .optional()
}

fn insert_app(
    tx: &Transaction<'_>,
    account_id: &str,
    name: &str,
    status: &str,
    tls_only: Option<bool>,
    at: i64,
) -> rusqlite::Result<AppRow> {
    let id = unique_id(tx, "SELECT 1 FROM ably_apps WHERE id = ?1", &[])?;
    tx.execute(
        "INSERT INTO ably_apps (id, account_id, name, status, tls_only, created, modified) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        params![id, account_id, name, status, tls_only, at],
    )?;
    Ok(AppRow {
        id,
        account_id: account_id.to_owned(),
        name: name.to_owned(),
        status: status.to_owned(),
        tls_only,
        created: at,
        modified: at,
    })
}

fn insert_key(
    tx: &Transaction<'_>,
    app_id: &str,
    name: &str,
    cap: &Capability,
    revocable: bool,
    at: i64,
) -> anyhow::Result<KeyRow> {
    let id = unique_id(
        tx,
        "SELECT 1 FROM ably_keys WHERE id = ?1 AND app_id = ?2",
        &[app_id],
    )?;
    let secret = store::random_url_safe(43);
    tx.execute(
        "INSERT INTO ably_keys (app_id, id, name, secret, capability, revocable_tokens, status, \
         created, modified) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?7)",
        params![
            app_id,
            id,
            name,
            secret,
            serde_json::to_string(cap)?,
            revocable,
            at
        ],
    )?;
    Ok(KeyRow {
        app_id: app_id.to_owned(),
        id,
        name: name.to_owned(),
        secret,
        capability: cap.clone(),
        revocable_tokens: revocable,
        status: 0,
        created: at,
        modified: at,
    })
}

/// A fresh 6-character id that `exists` (with `?1` = the id, `?2…` = `extra`) does not find.
fn unique_id(tx: &Transaction<'_>, exists: &str, extra: &[&str]) -> rusqlite::Result<String> {
    loop {
        let id = store::random_url_safe(6);
        let mut args: Vec<&str> = vec![&id];
        args.extend_from_slice(extra);
        let taken = tx
            .query_row(exists, rusqlite::params_from_iter(args), |_| Ok(()))
            .optional()?
            .is_some();
        if !taken {
            return Ok(id);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Seeding

/// Seeds the Ably account once: an account, a full and a read-only access token, and "Demo
/// app" with a "Root" key and a revocable "Chat client" key.
pub fn seed(tx: &Transaction<'_>) -> anyhow::Result<()> {
    if store::get_meta(tx, "ably_seeded")?.is_some() {
        return Ok(());
    }
    let t0 = store::now();
    let account_id = store::random_url_safe(6);
    tx.execute(
        "INSERT INTO ably_accounts (id, name, created) VALUES (?1, 'Sandbox account', ?2)",
        params![account_id, t0],
    )?;
    let full = store::random_url_safe(43);
    let read_only = store::random_url_safe(43);
    for (name, token, caps) in [
        ("Sandbox full access", &full, TOKEN_CAPABILITIES.to_vec()),
        (
            "Sandbox read only",
            &read_only,
            vec!["read:app", "read:key"],
        ),
    ] {
        tx.execute(
            "INSERT INTO ably_access_tokens (id, account_id, name, token, capabilities, created) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                store::random_url_safe(12),
                account_id,
                name,
                token,
                serde_json::to_string(&caps)?,
                t0
            ],
        )?;
    }
    store::set_meta(tx, "ably_account_id", &account_id)?;
    store::set_meta(tx, "ably_access_token", &full)?;
    store::set_meta(tx, "ably_read_only_token", &read_only)?;
    let at = (t0 - 30 * 86_400) * 1000;
    let app = insert_app(tx, &account_id, "Demo app", "enabled", Some(false), at)?;
    let root: Capability = [("[*]*".to_owned(), vec!["*".to_owned()])].into();
    insert_key(tx, &app.id, "Root", &root, false, at)?;
    let chat: Capability = [(
        "chat:*".to_owned(),
        vec![
            "presence".to_owned(),
            "publish".to_owned(),
            "subscribe".to_owned(),
        ],
    )]
    .into();
    insert_key(tx, &app.id, "Chat client", &chat, true, at)?;
    store::set_meta(tx, "ably_seeded", &t0.to_string())?;
    Ok(())
}

/// The seeded account and access tokens, for the start-up line.
pub struct Credentials {
    pub account_id: String,
    pub access_token: String,
    pub read_only_token: String,
}

pub fn credentials(tx: &Transaction<'_>) -> anyhow::Result<Credentials> {
    let get = |k: &str| -> anyhow::Result<String> {
        store::get_meta(tx, k)?.ok_or_else(|| anyhow::anyhow!("{k} missing from the store"))
    };
    Ok(Credentials {
        account_id: get("ably_account_id")?,
        access_token: get("ably_access_token")?,
        read_only_token: get("ably_read_only_token")?,
    })
}

/// An Ably API key as the start-up line shows it (`appId.keyId:secret`).
pub struct KeyInfo {
    pub name: String,
    pub key: String,
    pub revocable_tokens: bool,
}

/// The enabled keys of every app, oldest first.
pub fn keys(tx: &Transaction<'_>) -> anyhow::Result<Vec<KeyInfo>> {
    let mut st = tx.prepare(&format!(
        "SELECT {KEY_COLS} FROM ably_keys WHERE status = 0 ORDER BY seq"
    ))?;
    let rows = st
        .query_map([], key_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows
        .into_iter()
        .map(|k| KeyInfo {
            key: format!("{}:{}", k.key_name(), k.secret),
            name: k.name,
            revocable_tokens: k.revocable_tokens,
        })
        .collect())
}

/// One recorded token revocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revocation {
    pub key_name: String,
    pub target: String,
    pub issued_before: i64,
    pub applies_at: i64,
    pub allow_reauth_margin: bool,
}

/// Every recorded revocation, oldest first.
pub fn revocations(tx: &Transaction<'_>) -> anyhow::Result<Vec<Revocation>> {
    let mut st = tx.prepare(
        "SELECT key_name, target, issued_before, applies_at, allow_reauth_margin \
         FROM ably_revocations ORDER BY seq",
    )?;
    let rows = st
        .query_map([], |r| {
            Ok(Revocation {
                key_name: r.get(0)?,
                target: r.get(1)?,
                issued_before: r.get(2)?,
                applies_at: r.get(3)?,
                allow_reauth_margin: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

// ---------------------------------------------------------------------------------------------
// Shared request plumbing

/// Reads and parses an optional JSON object body. `None` for an empty body.
async fn object_body(
    headers: &HeaderMap,
    body: Body,
) -> Result<Option<Map<String, Value>>, AblyError> {
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
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(Some(m)),
        Ok(_) => Err(AblyError::bad_request(
            "The request body must be a JSON object",
        )),
        Err(e) => Err(AblyError::bad_request(format!(
            "The request body is not valid JSON: {e}"
        ))),
    }
}

/// Runs `f` in a store transaction, committing only when `f` says so.
pub(super) async fn in_store(
    state: &SharedState,
    f: impl FnOnce(&Transaction<'_>) -> (Out, bool) + Send + 'static,
    wrap: fn(AblyError) -> Out,
) -> Out {
    match state.store.run(f).await {
        Ok(out) => out,
        Err(e) => wrap(AblyError::internal(e)),
    }
}

// ---------------------------------------------------------------------------------------------
// Control API

enum Ctl {
    Me,
    ListApps(String),
    CreateApp(String),
    UpdateApp(String),
    DeleteApp(String),
    ListKeys(String),
    CreateKey(String),
    UpdateKey(String, String),
    RevokeKey(String, String),
}

impl Ctl {
    /// The access-token capability the operation needs.
    fn needs(&self) -> Option<&'static str> {
        match self {
            Ctl::Me => None,
            Ctl::ListApps(_) => Some("read:app"),
            Ctl::CreateApp(_) | Ctl::UpdateApp(_) | Ctl::DeleteApp(_) => Some("write:app"),
            Ctl::ListKeys(_) => Some("read:key"),
            Ctl::CreateKey(_) | Ctl::UpdateKey(..) | Ctl::RevokeKey(..) => Some("write:key"),
        }
    }
}

fn control_route(method: &Method, rest: &[&str]) -> Option<Ctl> {
    let d = |s: &str| percent_decode(s);
    Some(match (rest, method.clone()) {
        (["me"], Method::GET) => Ctl::Me,
        (["accounts", a, "apps"], Method::GET) => Ctl::ListApps(d(a)),
        (["accounts", a, "apps"], Method::POST) => Ctl::CreateApp(d(a)),
        (["apps", a], Method::PATCH) => Ctl::UpdateApp(d(a)),
        (["apps", a], Method::DELETE) => Ctl::DeleteApp(d(a)),
        (["apps", a, "keys"], Method::GET) => Ctl::ListKeys(d(a)),
        (["apps", a, "keys"], Method::POST) => Ctl::CreateKey(d(a)),
        (["apps", a, "keys", k], Method::PATCH) => Ctl::UpdateKey(d(a), d(k)),
        (["apps", a, "keys", k, "revoke"], Method::POST) => Ctl::RevokeKey(d(a), d(k)),
        _ => return None,
    })
}

/// 405 with `Allow` for a known path asked with another method (what an HTTP API behind a
/// router answers; nothing documents otherwise for the Control API), else 404.
fn not_routed(rest: &[&str]) -> Out {
    let allowed: Vec<&str> = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
    ]
    .iter()
    .filter(|m| control_route(m, rest).is_some())
    .map(Method::as_str)
    .collect();
    if allowed.is_empty() {
        return AblyError::not_found("Not found").flat();
    }
    let mut out =
        AblyError::new(StatusCode::METHOD_NOT_ALLOWED, 40500, "Method not allowed").flat();
    out.headers.push((header::ALLOW, allowed.join(", ")));
    out
}

/// The bearer token of an `Authorization` header, if it is one.
fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = header_str(headers, header::AUTHORIZATION.as_str())?;
    let (scheme, token) = v.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

/// The axum handler for `/ably/control/v1/{*rest}`.
pub async fn control(State(state): State<SharedState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let segs = segments(&path);
    let rest = match segs.as_slice() {
        ["ably", "control", "v1", rest @ ..] => rest,
        _ => &[][..],
    };
    let op = control_route(&parts.method, rest);
    let out = match op {
        None => not_routed(rest),
        Some(op) => match object_body(&parts.headers, body).await {
            Err(e) => e.flat(),
            Ok(body) => {
                let token = bearer(&parts.headers);
                in_store(
                    &state,
                    move |tx| {
                        let out = match serve_control(tx, token.as_deref(), op, body) {
                            Ok(out) => out,
                            Err(e) => e.flat(),
                        };
                        let commit = out.status.is_success();
                        (out, commit)
                    },
                    AblyError::flat,
                )
                .await
            }
        },
    };
    tracing::debug!(
        method = %parts.method,
        path = %path,
        status = out.status.as_u16(),
        "sandbox ably control request"
    );
    out.into_response()
}

/// The access token a Control API call carries, checked for the capability `op` needs, with
/// its `last_used_at` refreshed (at most every ten minutes).
fn authenticate(
    tx: &Transaction<'_>,
    token: Option<&str>,
    op: &Ctl,
) -> Result<(TokenRow, i64), AblyError> {
    let token = match token {
        Some(t) => token_by_value(tx, t)?.ok_or_else(AblyError::access_denied)?,
        None => return Err(AblyError::access_denied()),
    };
    if let Some(cap) = op.needs()
        && !token.capabilities.iter().any(|c| c == cap)
    {
        return Err(AblyError::new(
            StatusCode::FORBIDDEN,
            40300,
            format!("The access token lacks the {cap} capability"),
        ));
    }
    let now_s = store::now();
    let last_used = match token.last_used_at {
        Some(t) if now_s - t < LAST_USED_GRANULARITY_SECS => t,
        _ => {
            tx.execute(
                "UPDATE ably_access_tokens SET last_used_at = ?2 WHERE id = ?1",
                params![token.id, now_s],
            )?;
            now_s
        }
    };
    Ok((token, last_used))
}

/// `POST /apps/{app_id}/keys`.
fn create_key(
    tx: &Transaction<'_>,
    token: &TokenRow,
    app_id: &str,
    body: &Map<String, Value>,
    now: i64,
) -> Result<Out, AblyError> {
    let app = owned_app(tx, token, app_id)?;
    let fields = key_fields(body)?;
    let name = fields
        .name
        .ok_or_else(|| AblyError::bad_request("name is required"))?;
    let cap = fields
        .capability
        .ok_or_else(|| AblyError::bad_request("capability is required"))?;
    let live: i64 = tx.query_row(
        "SELECT COUNT(*) FROM ably_keys WHERE app_id = ?1 AND status = 0",
        [&app.id],
        |r| r.get(0),
    )?;
    if live >= MAX_KEYS_PER_APP {
        return Err(AblyError::new(
            StatusCode::UNAUTHORIZED,
            40127,
            "Maximum number of keys per application exceeded",
        ));
    }
    let key = insert_key(
        tx,
        &app.id,
        &name,
        &cap,
        fields.revocable_tokens.unwrap_or(false),
        now,
    )?;
    Ok(Out::json(StatusCode::CREATED, key.to_json()))
}

/// `PATCH /apps/{app_id}/keys/{key_id}`.
fn update_key(
    tx: &Transaction<'_>,
    token: &TokenRow,
    app_id: &str,
    key_id: &str,
    body: &Map<String, Value>,
    now: i64,
) -> Result<Out, AblyError> {
    let app = owned_app(tx, token, app_id)?;
    let mut key = get_key(tx, &app.id, key_id)?
        .ok_or_else(|| AblyError::not_found(format!("Key {key_id} not found")))?;
    if key.status != 0 {
        return Err(AblyError::not_found(format!(
            "Key {key_id} has been revoked"
        )));
    }
    let fields = key_fields(body)?;
    if let Some(n) = fields.name {
        key.name = n;
    }
    if let Some(c) = fields.capability {
        key.capability = c;
    }
    if let Some(r) = fields.revocable_tokens {
        key.revocable_tokens = r;
    }
    key.modified = now.max(key.modified + 1);
    tx.execute(
        "UPDATE ably_keys SET name = ?3, capability = ?4, revocable_tokens = ?5, \
         modified = ?6 WHERE app_id = ?1 AND id = ?2",
        params![
            key.app_id,
            key.id,
            key.name,
            serde_json::to_string(&key.capability).map_err(AblyError::internal)?,
            key.revocable_tokens,
            key.modified
        ],
    )?;
    Ok(Out::json(StatusCode::OK, key.to_json()))
}

fn serve_control(
    tx: &Transaction<'_>,
    token: Option<&str>,
    op: Ctl,
    body: Option<Map<String, Value>>,
) -> Result<Out, AblyError> {
    let (token, last_used) = authenticate(tx, token, &op)?;
    let body = body.unwrap_or_default();
    let now = store::now_ms();
    match op {
        Ctl::Me => me(tx, &token, last_used),
        Ctl::ListApps(account) => {
            check_account(&token, &account)?;
            let mut st = tx.prepare(&format!(
                "SELECT {APP_COLS} FROM ably_apps WHERE account_id = ?1 ORDER BY seq"
            ))?;
            let apps = st
                .query_map([&account], app_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let list: Vec<Value> = apps.iter().map(AppRow::to_json).collect();
            Ok(Out::json(StatusCode::OK, Value::Array(list)))
        }
        Ctl::CreateApp(account) => {
            check_account(&token, &account)?;
            let fields = app_fields(&body)?;
            let name = fields
                .name
                .ok_or_else(|| AblyError::bad_request("name is required"))?;
            let status = fields.status.unwrap_or_else(|| "enabled".to_owned());
            let app = insert_app(tx, &account, &name, &status, fields.tls_only, now)?;
            Ok(Out::json(StatusCode::CREATED, app.to_json()))
        }
        Ctl::UpdateApp(app_id) => {
            let mut app = owned_app(tx, &token, &app_id)?;
            let fields = app_fields(&body)?;
            if let Some(n) = fields.name {
                app.name = n;
            }
            if let Some(s) = fields.status {
                app.status = s;
            }
            if body.contains_key("tlsOnly") {
                app.tls_only = fields.tls_only;
            }
            app.modified = now.max(app.modified + 1);
            tx.execute(
                "UPDATE ably_apps SET name = ?2, status = ?3, tls_only = ?4, modified = ?5 \
                 WHERE id = ?1",
                params![app.id, app.name, app.status, app.tls_only, app.modified],
            )?;
            Ok(Out::json(StatusCode::OK, app.to_json()))
        }
        Ctl::DeleteApp(app_id) => {
            let app = owned_app(tx, &token, &app_id)?;
            // ON DELETE CASCADE removes the app's keys.
            tx.execute("DELETE FROM ably_apps WHERE id = ?1", [&app.id])?;
            Ok(Out::empty(StatusCode::NO_CONTENT))
        }
        Ctl::ListKeys(app_id) => {
            let app = owned_app(tx, &token, &app_id)?;
            let mut st = tx.prepare(&format!(
                "SELECT {KEY_COLS} FROM ably_keys WHERE app_id = ?1 ORDER BY seq"
            ))?;
            let keys = st
                .query_map([&app.id], key_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let list: Vec<Value> = keys.iter().map(KeyRow::to_json).collect();
            Ok(Out::json(StatusCode::OK, Value::Array(list)))
        }
        Ctl::CreateKey(app_id) => create_key(tx, &token, &app_id, &body, now),
        Ctl::UpdateKey(app_id, key_id) => update_key(tx, &token, &app_id, &key_id, &body, now),
        Ctl::RevokeKey(app_id, key_id) => {
            let app = owned_app(tx, &token, &app_id)?;
            let key = get_key(tx, &app.id, &key_id)?
                .ok_or_else(|| AblyError::not_found(format!("Key {key_id} not found")))?;
            if key.status == 0 {
                tx.execute(
                    "UPDATE ably_keys SET status = 1, modified = ?3 WHERE app_id = ?1 AND id = ?2",
                    params![key.app_id, key.id, now.max(key.modified + 1)],
                )?;
            }
            Ok(Out::empty(StatusCode::OK))
        }
    }
}

fn me(tx: &Transaction<'_>, token: &TokenRow, last_used: i64) -> Result<Out, AblyError> {
    let account_name: String = tx.query_row(
        "SELECT name FROM ably_accounts WHERE id = ?1",
        [&token.account_id],
        |r| r.get(0),
    )?;
    Ok(Out::json(
        StatusCode::OK,
        json!({
            "token": {
                "id": token.id,
                "name": token.name,
                "capabilities": token.capabilities,
                "expires_at": null,
                "last_used_at": store::rfc3339(last_used),
            },
            "user": { "id": 1, "email": "owner@sandbox.invalid" },
            "account": { "id": token.account_id, "name": account_name },
        }),
    ))
}

fn check_account(token: &TokenRow, account: &str) -> Result<(), AblyError> {
    if token.account_id == account {
        Ok(())
    } else {
        Err(AblyError::not_found(format!("Account {account} not found")))
    }
}

/// An app of the token's account, or 404.
fn owned_app(tx: &Transaction<'_>, token: &TokenRow, app_id: &str) -> Result<AppRow, AblyError> {
    match get_app(tx, app_id)? {
        Some(app) if app.account_id == token.account_id => Ok(app),
        _ => Err(AblyError::not_found(format!("App {app_id} not found"))),
    }
}

#[derive(Default)]
struct AppFields {
    name: Option<String>,
    status: Option<String>,
    tls_only: Option<bool>,
}

/// AppPost / AppPatch (`additionalProperties: false`): the fields the sandbox keeps, then the
/// push settings, accepted (typed as the document types them) and not stored.
const APP_KEYS: [&str; 3] = ["name", "status", "tlsOnly"];
/// The push settings that are `string | null`.
const APP_PUSH_STRINGS: [&str; 9] = [
    "fcmKey",
    "fcmServiceAccount",
    "fcmProjectId",
    "apnsCertificate",
    "apnsPrivateKey",
    "apnsSigningKey",
    "apnsSigningKeyId",
    "apnsIssuerKey",
    "apnsTopicHeader",
];

/// Any string, trimmed (nothing documents a limit, nor a refusal of a blank name). `null` is
/// refused as any other non-string: the document types `name` (AppPost, AppPatch, KeyPost,
/// KeyPatch) and `status` as plain, non-nullable strings, unlike `tlsOnly` and
/// `revocableTokens`.
fn name_field(body: &Map<String, Value>) -> Result<Option<String>, AblyError> {
    match body.get("name") {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(_) => Err(AblyError::bad_request("name must be a string")),
    }
}

/// The push settings, checked against their documented types and then ignored.
fn check_push_settings(body: &Map<String, Value>) -> Result<(), AblyError> {
    for k in APP_PUSH_STRINGS {
        if !matches!(body.get(k), None | Some(Value::Null | Value::String(_))) {
            return Err(AblyError::bad_request(format!("{k} must be a string")));
        }
    }
    if !matches!(
        body.get("apnsUseSandboxEndpoint"),
        None | Some(Value::Null | Value::Bool(_))
    ) {
        return Err(AblyError::bad_request(
            "apnsUseSandboxEndpoint must be true or false",
        ));
    }
    match body.get("apnsAuthType") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if s == "certificate" || s == "token" => Ok(()),
        Some(_) => Err(AblyError::bad_request(
            "apnsAuthType must be \"certificate\" or \"token\"",
        )),
    }
}

fn app_fields(body: &Map<String, Value>) -> Result<AppFields, AblyError> {
    let known = |k: &str| {
        APP_KEYS.contains(&k)
            || APP_PUSH_STRINGS.contains(&k)
            || k == "apnsUseSandboxEndpoint"
            || k == "apnsAuthType"
    };
    if let Some(k) = body.keys().find(|k| !known(k)) {
        return Err(AblyError::bad_request(format!("Unknown field {k}")));
    }
    check_push_settings(body)?;
    let mut f = AppFields {
        name: name_field(body)?,
        ..AppFields::default()
    };
    match body.get("status") {
        None => {}
        Some(Value::String(s)) if s == "enabled" || s == "disabled" => f.status = Some(s.clone()),
        Some(_) => {
            return Err(AblyError::bad_request(
                "status must be \"enabled\" or \"disabled\"",
            ));
        }
    }
    match body.get("tlsOnly") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(b)) => f.tls_only = Some(*b),
        Some(_) => return Err(AblyError::bad_request("tlsOnly must be true or false")),
    }
    Ok(f)
}

#[derive(Default)]
struct KeyFields {
    name: Option<String>,
    capability: Option<Capability>,
    revocable_tokens: Option<bool>,
}

fn key_fields(body: &Map<String, Value>) -> Result<KeyFields, AblyError> {
    if let Some(k) = body
        .keys()
        .find(|k| !matches!(k.as_str(), "name" | "capability" | "revocableTokens"))
    {
        return Err(AblyError::bad_request(format!("Unknown field {k}")));
    }
    let mut f = KeyFields {
        name: name_field(body)?,
        ..KeyFields::default()
    };
    match body.get("capability") {
        None => {}
        Some(v) => {
            // The shared rules (§2.5): validated, ops sorted and de-duplicated. `null` is not
            // an object, so it is an invalid capability, not an absent one.
            let cap = capability::parse(&v.to_string()).map_err(|e| {
                AblyError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    42200,
                    format!("Invalid capability: {e}"),
                )
            })?;
            f.capability = Some(cap);
        }
    }
    match body.get("revocableTokens") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(b)) => f.revocable_tokens = Some(*b),
        Some(_) => {
            return Err(AblyError::bad_request(
                "revocableTokens must be true or false",
            ));
        }
    }
    Ok(f)
}
