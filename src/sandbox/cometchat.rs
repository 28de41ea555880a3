//! The CometChat chat REST v3 surface: `/cometchat/{appId}/v3[.0]/…` (API keys, users, auth tokens).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse as _, Response};
use rusqlite::Transaction;
use serde_json::{Map, Value, json};

use super::SharedState;
use super::front::HostRegion;
use super::http::{
    ApiError, Details, Query, RateLimiter, Reply, ack, add, data, header_str, pagination,
    parse_object, percent_decode, read_body, segments,
};
use super::store::{self, KeyRow, NewUser, TokenRow, UserRow};
use super::user_blocks::{self, Shown};
use crate::secret::mask;

const SOURCE: &str = "chat-api";
const MAX_KEYS_PER_APP: i64 = 25;
const METADATA_MAX_BYTES: usize = 5 * 1024;

/// A uid from the path: the decoded lower-cased value, and the raw lower-cased text for messages.
#[derive(Clone)]
struct PathUid {
    uid: String,
    echo: String,
}

enum Op {
    ListKeys,
    CreateKey,
    GetKey(String),
    UpdateKey(String),
    DeleteKey(String),
    ListUsers,
    CreateUser,
    DeactivateUsers,
    ActivateUsers,
    GetUser(PathUid),
    UpdateUser(PathUid),
    DeleteUser(PathUid),
    ListTokens(PathUid),
    CreateToken(PathUid),
    FlushTokens(PathUid),
    GetToken(PathUid, String),
    UpdateToken(PathUid, String),
    DeleteToken(PathUid, String),
    /// The Calls REST API's list of calls (the app's Calls host, same `apikey`).
    ListCalls,
}

impl Op {
    /// Operations an `authOnly` key may perform.
    fn auth_only_allowed(&self) -> bool {
        matches!(self, Op::CreateUser | Op::CreateToken(_) | Op::ListCalls)
    }
}

fn route(method: &Method, rest: &[&str]) -> Option<Op> {
    let uid = |raw: &str| PathUid {
        uid: percent_decode(raw).to_lowercase(),
        echo: raw.to_lowercase(),
    };
    let m = method.clone();
    Some(match (rest, m) {
        (["apikeys"], Method::GET) => Op::ListKeys,
        (["apikeys"], Method::POST) => Op::CreateKey,
        (["apikeys", k], Method::GET) => Op::GetKey(percent_decode(k)),
        (["apikeys", k], Method::PUT) => Op::UpdateKey(percent_decode(k)),
        (["apikeys", k], Method::DELETE) => Op::DeleteKey(percent_decode(k)),
        (["users"], Method::GET) => Op::ListUsers,
        (["users"], Method::POST) => Op::CreateUser,
        (["users"], Method::DELETE) => Op::DeactivateUsers,
        (["users"], Method::PUT) => Op::ActivateUsers,
        (["users", u], Method::GET) => Op::GetUser(uid(u)),
        (["users", u], Method::PUT) => Op::UpdateUser(uid(u)),
        (["users", u], Method::DELETE) => Op::DeleteUser(uid(u)),
        (["users", u, "auth_tokens"], Method::GET) => Op::ListTokens(uid(u)),
        (["users", u, "auth_tokens"], Method::POST) => Op::CreateToken(uid(u)),
        (["users", u, "auth_tokens"], Method::DELETE) => Op::FlushTokens(uid(u)),
        (["users", u, "auth_tokens", t], Method::GET) => Op::GetToken(uid(u), percent_decode(t)),
        (["users", u, "auth_tokens", t], Method::PUT) => Op::UpdateToken(uid(u), percent_decode(t)),
        (["users", u, "auth_tokens", t], Method::DELETE) => {
            Op::DeleteToken(uid(u), percent_decode(t))
        }
        _ => return None,
    })
}

/// The request path with API keys and auth tokens masked, safe for logs.
pub fn safe_path(segs: &[&str]) -> String {
    let mut out = String::new();
    let mut prev = "";
    for s in segs {
        out.push('/');
        if prev == "apikeys" || prev == "auth_tokens" {
            out.push_str(&mask(s));
        } else {
            out.push_str(s);
        }
        prev = s;
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// Everything a chat request needs once the body has been read.
struct Ctx {
    app_id: String,
    op: Op,
    apikey: Option<String>,
    on_behalf_of: Option<String>,
    query: Query,
    /// The region of a per-app host (`{appId}.api-{region}.localhost`), which must be the app's.
    host_region: Option<String>,
    body: Vec<u8>,
}

/// The axum handler for `/cometchat/{appId}/{*rest}`.
pub async fn handle(State(state): State<SharedState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let segs = segments(&path);
    let log_path = safe_path(&segs);
    let host_region = parts.extensions.get::<HostRegion>().map(|r| r.0.clone());
    let mut reply = handle_inner(
        &state,
        &parts.method,
        &parts.headers,
        &segs,
        parts.uri.query(),
        host_region,
        body,
    )
    .await;
    // Every CometChat answer carries the rate-limit headers, errors included.
    if !reply
        .headers
        .iter()
        .any(|(n, _)| n.as_str() == "x-rate-limit")
    {
        let app = segs.get(1).map(|a| percent_decode(a)).unwrap_or_default();
        reply.headers.extend(state.limiter.peek(&app));
    }
    tracing::debug!(
        method = %parts.method,
        path = %log_path,
        status = reply.status.as_u16(),
        "sandbox cometchat request"
    );
    reply.into_response()
}

async fn handle_inner(
    state: &SharedState,
    method: &Method,
    headers: &HeaderMap,
    segs: &[&str],
    query: Option<&str>,
    host_region: Option<String>,
    body: Body,
) -> Reply {
    // segs = ["cometchat", appId, "v3" | "v3.0", …]
    let op = match segs {
        ["cometchat", _, "v3" | "v3.0", rest @ ..] => route(method, rest),
        // The Calls host of the same app: the sandbox answers its list of calls (it holds
        // none), so that a connection can test its key against both hosts.
        ["cometchat-calls", _, "v3" | "v3.0", "calls"] if method == Method::GET => {
            Some(Op::ListCalls)
        }
        _ => None,
    };
    let (Some(op), Some(app_raw)) = (op, segs.get(1)) else {
        return ApiError::not_found_api().into_reply(SOURCE);
    };
    let body = match read_body(headers, body).await {
        Ok(b) => b,
        Err(e) => return e.into_reply(SOURCE),
    };
    let ctx = Ctx {
        app_id: percent_decode(app_raw),
        op,
        apikey: header_str(headers, "apikey"),
        on_behalf_of: header_str(headers, "onbehalfof"),
        query: Query::parse(query),
        host_region,
        body,
    };
    let limiter = state.limiter.clone();
    let result = state
        .store
        .run(move |tx| {
            let reply = serve(tx, &limiter, ctx);
            let commit = reply.status.is_success();
            (reply, commit)
        })
        .await;
    match result {
        Ok(reply) => reply,
        Err(e) => ApiError::internal(e).into_reply(SOURCE),
    }
}

fn serve(tx: &Transaction<'_>, limiter: &RateLimiter, ctx: Ctx) -> Reply {
    let mut rate_headers = Vec::new();
    match authorize_and_run(tx, limiter, ctx, &mut rate_headers) {
        Ok(body) => {
            let mut r = Reply::ok(body);
            r.headers = rate_headers;
            r
        }
        Err(e) => e.with_headers(rate_headers).into_reply(SOURCE),
    }
}

fn authorize_and_run(
    tx: &Transaction<'_>,
    limiter: &RateLimiter,
    ctx: Ctx,
    rate_headers: &mut Vec<(axum::http::HeaderName, String)>,
) -> Result<Value, ApiError> {
    let app = store::get_app(tx, &ctx.app_id)?;
    let live = app.as_ref().is_some_and(|a| a.deleted_at.is_none());
    let Some(apikey) = ctx.apikey.as_deref() else {
        if live {
            *rate_headers = limiter.check(&ctx.app_id, false).headers;
        }
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "AUTH_ERR_EMPTY_APIKEY",
            "The apikey header is missing. Please provide an API key in the apikey header.",
        ));
    };
    let app = app.filter(|a| ctx.host_region.as_ref().is_none_or(|r| *r == a.region));
    let Some(app) = app else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "AUTH_ERR_INVALID_APPID",
            format!(
                "The appId {} is invalid or it does not exist in the region.",
                ctx.app_id
            ),
        ));
    };
    if app.deleted_at.is_some() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "ERR_APP_ARCHIVED",
            format!("The app {} has been deleted.", app.id),
        ));
    }
    *rate_headers = limiter.check(&app.id, false).headers;
    let Some(key) = store::get_key(tx, &app.id, apikey)? else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "AUTH_ERR_APIKEY_NOT_FOUND",
            format!(
                "The key {} does not exist. Please use correct apiKey.",
                mask(apikey)
            ),
        ));
    };
    let decision = limiter.check(&app.id, true);
    *rate_headers = decision.headers;
    if !decision.allowed {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "ERR_TOO_MANY_REQUESTS",
            "Too many requests. The rate limit for this app has been exceeded; retry after the time in Retry-After.",
        ));
    }
    if key.scope == "authOnly" && !ctx.op.auth_only_allowed() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "AUTH_ERR_NO_ACCESS",
            format!(
                "The key {} cannot be used to perform this operation. Please use API key with a correct scope to perform the operation.",
                mask(apikey)
            ),
        ));
    }
    let c = Call {
        tx,
        app_id: &app.id,
        key: &key,
        query: &ctx.query,
        body: &ctx.body,
        on_behalf_of: ctx.on_behalf_of.as_deref(),
    };
    match ctx.op {
        Op::ListKeys => c.list_keys(),
        Op::ListCalls => Ok(json!({
            "data": [],
            "meta": { "pagination": pagination(0, 0, 1, 1) },
        })),
        Op::CreateKey => c.create_key(),
        Op::GetKey(k) => c.get_key(&k),
        Op::UpdateKey(k) => c.update_key(&k),
        Op::DeleteKey(k) => c.delete_key(&k),
        Op::ListUsers => c.list_users(),
        Op::CreateUser => c.create_user(),
        Op::DeactivateUsers => c.bulk_deactivate(),
        Op::ActivateUsers => c.bulk_activate(),
        Op::GetUser(u) => c.get_user(&u),
        Op::UpdateUser(u) => c.update_user(&u),
        Op::DeleteUser(u) => c.delete_user(&u),
        Op::ListTokens(u) => c.list_tokens(&u),
        Op::CreateToken(u) => c.create_token(&u),
        Op::FlushTokens(u) => c.flush_tokens(&u),
        Op::GetToken(u, t) => c.get_token(&u, &t),
        Op::UpdateToken(u, t) => c.update_token(&u, &t),
        Op::DeleteToken(u, t) => c.delete_token(&u, &t),
    }
}

fn uid_not_found(echo: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "ERR_UID_NOT_FOUND",
        format!(
            "The UID {echo} does not exist, please make sure you have created a user with UID {echo}."
        ),
    )
}

fn token_not_found(token: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "ERR_AUTH_TOKEN_NOT_FOUND",
        format!("The Auth Token {} does not exist.", mask(token)),
    )
}

fn key_not_found(key: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "ERR_APIKEY_NOT_FOUND",
        format!("The Api Key {} does not exist.", mask(key)),
    )
}

fn check_details(details: Details) -> Result<(), ApiError> {
    if details.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(details))
    }
}

/// `name` validation shared by keys: required (create) or must have a value (update); ≤100 chars.
fn validate_name(v: Option<&Value>, required: bool, details: &mut Details) -> Option<String> {
    let empty_msg = if required {
        "The name field is required."
    } else {
        "The name field must have a value."
    };
    match v {
        None if !required => None,
        None | Some(Value::Null) => {
            add(details, "name", empty_msg);
            None
        }
        Some(Value::String(s)) => {
            let s = s.trim();
            if s.is_empty() {
                add(details, "name", empty_msg);
                None
            } else if s.chars().count() > 100 {
                add(
                    details,
                    "name",
                    "The name may not be greater than 100 characters.",
                );
                None
            } else {
                Some(s.to_owned())
            }
        }
        Some(_) => {
            add(details, "name", "The name must be a string.");
            None
        }
    }
}

fn validate_scope(v: Option<&Value>, required: bool, details: &mut Details) -> Option<String> {
    match v {
        None if !required => None,
        None | Some(Value::Null) => {
            add(details, "scope", "The scope field is required.");
            None
        }
        Some(Value::String(s)) if s == "fullAccess" || s == "authOnly" => Some(s.clone()),
        Some(_) => {
            add(details, "scope", "The selected scope is invalid.");
            None
        }
    }
}

fn valid_url(s: &str) -> bool {
    url::Url::parse(s)
        .map(|u| (u.scheme() == "http" || u.scheme() == "https") && u.host_str().is_some())
        .unwrap_or(false)
}

/// An optional string field. Present, it must be a string: the vendor's schema types these
/// fields plain `string` (not nullable), and a strict validator refuses `null` ("must be a
/// string"); to clear a field, `unset` names it.
fn opt_string(b: &Map<String, Value>, field: &str, details: &mut Details) -> Option<String> {
    match b.get(field) {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            add(details, field, format!("The {field} must be a string."));
            None
        }
    }
}

/// What is wrong with `metadata.@private`, if anything: the schema makes it an object whose
/// `email` and `contactNumber` are strings (the user's private contact fields).
fn private_problem(metadata: &Value) -> Option<(&'static str, &'static str)> {
    let private = metadata.get("@private")?;
    let Some(fields) = private.as_object() else {
        return Some((
            "metadata.@private",
            "The metadata.@private must be an object.",
        ));
    };
    for (field, msg) in [
        (
            "metadata.@private.email",
            "The metadata.@private.email must be a string.",
        ),
        (
            "metadata.@private.contactNumber",
            "The metadata.@private.contactNumber must be a string.",
        ),
    ] {
        let key = field.rsplit('.').next().unwrap_or(field);
        if fields.get(key).is_some_and(|v| !v.is_string()) {
            return Some((field, msg));
        }
    }
    None
}

/// An optional boolean: absent → `None`; present, it must be `true` or `false` (`null` too is
/// refused, as the vendor's schema types these fields plain `boolean`).
fn opt_bool(b: &Map<String, Value>, field: &str, details: &mut Details) -> Option<bool> {
    match b.get(field) {
        None => None,
        Some(Value::Bool(v)) => Some(*v),
        Some(_) => {
            add(
                details,
                field,
                format!("The {field} field must be true or false."),
            );
            None
        }
    }
}

fn opt_url(b: &Map<String, Value>, field: &str, details: &mut Details) -> Option<String> {
    let s = opt_string(b, field, details)?;
    let s = s.trim().to_owned();
    if s.chars().count() > 3000 {
        add(
            details,
            field,
            format!("The {field} may not be greater than 3000 characters."),
        );
        None
    } else if !valid_url(&s) {
        add(details, field, format!("The {field} must be a valid URL."));
        None
    } else {
        Some(s)
    }
}

/// The optional profile fields shared by create and update.
#[derive(Default)]
struct Profile {
    avatar: Option<String>,
    link: Option<String>,
    role: Option<String>,
    status_message: Option<String>,
    metadata: Option<Value>,
    tags: Option<Vec<String>>,
}

fn validate_profile(b: &Map<String, Value>, details: &mut Details) -> Profile {
    let avatar = opt_url(b, "avatar", details);
    let link = opt_url(b, "link", details);
    let role = opt_string(b, "role", details).and_then(|r| {
        let r = r.trim().to_owned();
        if r.is_empty() {
            add(details, "role", "The role field must have a value.");
            None
        } else if r.chars().count() > 100 {
            add(
                details,
                "role",
                "The role may not be greater than 100 characters.",
            );
            None
        } else {
            Some(r)
        }
    });
    let status_message = opt_string(b, "statusMessage", details);
    let metadata = match b.get("metadata") {
        None => None,
        Some(m @ Value::Object(_)) => {
            if m.to_string().len() > METADATA_MAX_BYTES {
                add(
                    details,
                    "metadata",
                    "The metadata may not be greater than 5 KB.",
                );
                None
            } else if let Some((field, msg)) = private_problem(m) {
                add(details, field, msg);
                None
            } else {
                Some(m.clone())
            }
        }
        Some(_) => {
            add(details, "metadata", "The metadata must be an object.");
            None
        }
    };
    let tags = match b.get("tags") {
        None => None,
        Some(Value::Array(items)) => {
            if items.len() > 25 {
                add(details, "tags", "The tags may not have more than 25 items.");
            }
            let mut tags: Vec<String> = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let field = format!("tags.{i}");
                match item {
                    Value::String(s) if s.trim().is_empty() => {
                        add(details, &field, format!("The {field} field is required."));
                    }
                    Value::String(s) if s.trim().chars().count() > 100 => {
                        add(
                            details,
                            &field,
                            format!("The {field} may not be greater than 100 characters."),
                        );
                    }
                    Value::String(s) => {
                        let t = s.trim().to_owned();
                        if !tags.contains(&t) {
                            tags.push(t);
                        }
                    }
                    Value::Null => add(details, &field, format!("The {field} field is required.")),
                    _ => add(details, &field, format!("The {field} must be a string.")),
                }
            }
            Some(tags)
        }
        Some(_) => {
            add(details, "tags", "The tags must be an array.");
            None
        }
    };
    Profile {
        avatar,
        link,
        role,
        status_message,
        metadata,
        tags,
    }
}

/// A list of uids in a bulk body: required, an array of strings; lower-cased and de-duplicated.
fn uid_list(b: &Map<String, Value>, field: &str) -> Result<Vec<String>, ApiError> {
    let mut details = Details::new();
    let mut out: Vec<String> = Vec::new();
    match b.get(field) {
        None | Some(Value::Null) => add(
            &mut details,
            field,
            format!("The {field} field is required."),
        ),
        Some(Value::Array(items)) if items.is_empty() => add(
            &mut details,
            field,
            format!("The {field} field is required."),
        ),
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) if !s.trim().is_empty() => {
                        let u = s.trim().to_lowercase();
                        if !out.contains(&u) {
                            out.push(u);
                        }
                    }
                    _ => add(
                        &mut details,
                        &format!("{field}.{i}"),
                        format!("The {field}.{i} must be a non-empty string."),
                    ),
                }
            }
        }
        Some(_) => add(
            &mut details,
            field,
            format!("The {field} must be an array."),
        ),
    }
    check_details(details)?;
    Ok(out)
}

fn valid_uid(uid: &str) -> bool {
    let n = uid.chars().count();
    (1..=100).contains(&n)
        && uid
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

fn conversation_id(a: &str, b: &str) -> String {
    if a <= b {
        format!("{a}_user_{b}")
    } else {
        format!("{b}_user_{a}")
    }
}

fn add_on_behalf(user: &mut Value, viewer: &str, uid: &str) {
    if let Value::Object(o) = user {
        o.insert("conversationId".into(), json!(conversation_id(viewer, uid)));
        o.insert("blockedByMe".into(), json!(false));
        o.insert("hasBlockedMe".into(), json!(false));
    }
}

/// `GET /users`' query, validated.
struct UserFilter {
    per_page: u64,
    page: u64,
    with_tags: bool,
    shown: Shown,
    status: Option<String>,
    roles: Vec<String>,
    tags: Vec<String>,
    search: Option<String>,
    search_in: Vec<String>,
}

impl UserFilter {
    fn parse(q: &Query) -> Result<UserFilter, ApiError> {
        let mut details = Details::new();
        let per_page = q.positive("perPage", 100, Some(1000), &mut details);
        let page = q.positive("page", 1, None, &mut details);
        let with_tags = q.flag("withTags", &mut details);
        let with_deactivated = q.flag("withDeactivated", &mut details);
        let only_deactivated = q.flag("onlyDeactivated", &mut details);
        // `count` changes nothing here (the total is always in `meta`), but like every boolean
        // it must be one.
        q.flag("count", &mut details);
        let status = match q.get("status").map(str::trim) {
            None => None,
            Some(s @ ("available" | "offline")) => Some(s.to_owned()),
            Some(_) => {
                add(&mut details, "status", "The selected status is invalid.");
                None
            }
        };
        let mut roles = q.list("role");
        roles.extend(q.list("roles"));
        let search_in = q.list("searchIn");
        for s in &search_in {
            if s != "uid" && s != "name" {
                add(
                    &mut details,
                    "searchIn",
                    "The selected searchIn is invalid.",
                );
            }
        }
        check_details(details)?;
        Ok(UserFilter {
            per_page,
            page,
            with_tags,
            shown: match (only_deactivated, with_deactivated) {
                (true, _) => Shown::Deactivated,
                (false, true) => Shown::All,
                (false, false) => Shown::Active,
            },
            status,
            roles,
            tags: q.list("tags"),
            search: q
                .get("searchKey")
                .map(|s| s.trim().to_lowercase())
                .filter(|s| !s.is_empty()),
            search_in,
        })
    }

    /// No filter but the deactivation one: the block summary can page it.
    fn is_plain(&self) -> bool {
        self.status.is_none()
            && self.roles.is_empty()
            && self.tags.is_empty()
            && self.search.is_none()
    }
}

/// One authorized call.
struct Call<'a> {
    tx: &'a Transaction<'a>,
    app_id: &'a str,
    key: &'a KeyRow,
    query: &'a Query,
    body: &'a [u8],
    on_behalf_of: Option<&'a str>,
}

impl Call<'_> {
    fn body_object(&self) -> Result<Map<String, Value>, ApiError> {
        Ok(parse_object(self.body)?.unwrap_or_default())
    }

    // ----- API keys ---------------------------------------------------------------------------

    fn list_keys(&self) -> Result<Value, ApiError> {
        let mut details = Details::new();
        let scope = match self.query.get("scope").map(str::trim) {
            None => None,
            Some(s @ ("fullAccess" | "authOnly")) => Some(s.to_owned()),
            Some(_) => {
                add(&mut details, "scope", "The selected scope is invalid.");
                None
            }
        };
        check_details(details)?;
        let search = self
            .query
            .get("searchKey")
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty());
        let keys: Vec<Value> = store::keys_newest_first(self.tx, self.app_id)?
            .into_iter()
            .filter(|k| scope.as_ref().is_none_or(|s| &k.scope == s))
            .filter(|k| {
                search
                    .as_ref()
                    .is_none_or(|s| k.name.to_lowercase().contains(s.as_str()))
            })
            .map(|k| k.to_json())
            .collect();
        let total = keys.len();
        Ok(json!({
            "data": keys,
            "meta": { "pagination": pagination(total as u64, total, 100, 1) },
        }))
    }

    fn create_key(&self) -> Result<Value, ApiError> {
        let b = self.body_object()?;
        let mut details = Details::new();
        let name = validate_name(b.get("name"), true, &mut details);
        let scope = validate_scope(b.get("scope"), true, &mut details);
        check_details(details)?;
        let (Some(name), Some(scope)) = (name, scope) else {
            return Err(ApiError::internal("validated key fields missing"));
        };
        let count: i64 = self.tx.query_row(
            "SELECT COUNT(*) FROM api_keys WHERE app_id = ?1",
            [self.app_id],
            |r| r.get(0),
        )?;
        if count >= MAX_KEYS_PER_APP {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "ERR_PLAN_QUOTA_RESTRICTION",
                format!(
                    "An app can have at most {MAX_KEYS_PER_APP} API keys. Delete a key before creating a new one."
                ),
            ));
        }
        let key = store::insert_key(self.tx, self.app_id, &name, &scope, "api", store::now())?;
        Ok(data(key.to_json()))
    }

    fn existing_key(&self, k: &str) -> Result<KeyRow, ApiError> {
        store::get_key(self.tx, self.app_id, k)?.ok_or_else(|| key_not_found(k))
    }

    fn no_self_action(&self, k: &str) -> Result<(), ApiError> {
        if self.key.api_key == k {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "ERR_APIKEY_NO_SELF_ACTION",
                format!(
                    "The Api Key {} cannot be used to update or delete itself. Please use another API key.",
                    mask(k)
                ),
            ));
        }
        Ok(())
    }

    fn get_key(&self, k: &str) -> Result<Value, ApiError> {
        Ok(data(self.existing_key(k)?.to_json()))
    }

    fn update_key(&self, k: &str) -> Result<Value, ApiError> {
        let mut key = self.existing_key(k)?;
        self.no_self_action(k)?;
        let b = self.body_object()?;
        let mut details = Details::new();
        let name = validate_name(b.get("name"), false, &mut details);
        let scope = validate_scope(b.get("scope"), false, &mut details);
        check_details(details)?;
        if let Some(n) = name {
            key.name = n;
        }
        if let Some(s) = scope {
            key.scope = s;
        }
        self.tx.execute(
            "UPDATE api_keys SET name = ?3, scope = ?4 WHERE app_id = ?1 AND api_key = ?2",
            rusqlite::params![self.app_id, k, key.name, key.scope],
        )?;
        Ok(data(key.to_json()))
    }

    fn delete_key(&self, k: &str) -> Result<Value, ApiError> {
        self.existing_key(k)?;
        self.no_self_action(k)?;
        self.tx.execute(
            "DELETE FROM api_keys WHERE app_id = ?1 AND api_key = ?2",
            [self.app_id, k],
        )?;
        Ok(ack(format!(
            "The Api Key {} has been deleted successfully.",
            mask(k)
        )))
    }

    // ----- Users ------------------------------------------------------------------------------

    /// Validates the `onBehalfOf` header, if present, returning the viewer's uid.
    fn viewer(&self) -> Result<Option<String>, ApiError> {
        let Some(raw) = self.on_behalf_of else {
            return Ok(None);
        };
        let uid = raw.to_lowercase();
        match store::get_user(self.tx, self.app_id, &uid)? {
            Some(u) if u.deactivated_at.is_none() => Ok(Some(uid)),
            _ => Err(uid_not_found(&uid)),
        }
    }

    fn active_user(&self, u: &PathUid) -> Result<UserRow, ApiError> {
        match store::get_user(self.tx, self.app_id, &u.uid)? {
            Some(user) if user.deactivated_at.is_none() => Ok(user),
            _ => Err(uid_not_found(&u.echo)),
        }
    }

    fn list_users(&self) -> Result<Value, ApiError> {
        let viewer = self.viewer()?;
        let f = UserFilter::parse(self.query)?;
        let offset = (f.page - 1).saturating_mul(f.per_page);
        // An unfiltered list pages through the block summary in O(page) (`user_blocks.rs`);
        // a filtered one counts and skips its matches.
        let (total, rows) = if f.is_plain() {
            let total = user_blocks::count(self.tx, self.app_id, f.shown)?;
            let rows = user_blocks::page(self.tx, self.app_id, f.shown, offset, f.per_page)?;
            (total, rows)
        } else {
            self.filtered_users(&f, offset)?
        };
        let users: Vec<Value> = rows
            .iter()
            .map(|u| {
                let mut v = u.to_json(f.with_tags, true);
                if let Some(viewer) = &viewer {
                    add_on_behalf(&mut v, viewer, &u.uid);
                }
                v
            })
            .collect();
        let count = users.len();
        Ok(json!({
            "data": users,
            "meta": {
                "pagination": pagination(total, count, f.per_page, f.page),
                "cursor": { "updatedAt": store::now(), "affix": "append" },
            },
        }))
    }

    /// A list with a status, role, tag or `searchKey` filter: `COUNT(*)` and `OFFSET` over the
    /// matches, which the indexes find.
    fn filtered_users(&self, f: &UserFilter, offset: u64) -> Result<(u64, Vec<UserRow>), ApiError> {
        use rusqlite::types::Value as Sql;
        let mut clauses: Vec<String> = vec!["u.app_id = ?".into()];
        let mut params: Vec<Sql> = vec![Sql::Text(self.app_id.to_owned())];
        match f.shown {
            Shown::Deactivated => clauses.push("u.deactivated_at IS NOT NULL".into()),
            Shown::Active => clauses.push("u.deactivated_at IS NULL".into()),
            Shown::All => {}
        }
        if let Some(s) = &f.status {
            clauses.push("u.status = ?".into());
            params.push(Sql::Text(s.clone()));
        }
        if !f.roles.is_empty() {
            clauses.push(format!(
                "u.role IN ({})",
                vec!["?"; f.roles.len()].join(", ")
            ));
            params.extend(f.roles.iter().cloned().map(Sql::Text));
        }
        if !f.tags.is_empty() {
            clauses.push(format!(
                "u.uid IN (SELECT t.uid FROM user_tags t WHERE t.app_id = ? AND t.tag IN ({}))",
                vec!["?"; f.tags.len()].join(", ")
            ));
            params.push(Sql::Text(self.app_id.to_owned()));
            params.extend(f.tags.iter().cloned().map(Sql::Text));
        }
        if let Some(s) = &f.search {
            clauses.push(search_clause(self.app_id, s, &f.search_in, &mut params));
        }
        let where_sql = clauses.join(" AND ");
        let total: i64 = self.tx.query_row(
            &format!("SELECT COUNT(*) FROM users u WHERE {where_sql}"),
            rusqlite::params_from_iter(params.iter()),
            |r| r.get(0),
        )?;
        params.push(Sql::Integer(i64::try_from(f.per_page).unwrap_or(i64::MAX)));
        params.push(Sql::Integer(i64::try_from(offset).unwrap_or(i64::MAX)));
        let mut st = self.tx.prepare(&format!(
            "SELECT {} FROM users u WHERE {where_sql} ORDER BY u.uid LIMIT ? OFFSET ?",
            store::USER_COLS
        ))?;
        let rows = st
            .query_map(
                rusqlite::params_from_iter(params.iter()),
                store::user_from_row,
            )?
            .collect::<rusqlite::Result<Vec<UserRow>>>()?;
        Ok((u64::try_from(total).unwrap_or(0), rows))
    }

    fn create_user(&self) -> Result<Value, ApiError> {
        let b = self.body_object()?;
        let mut details = Details::new();
        let uid = match b.get("uid") {
            None | Some(Value::Null) => {
                add(&mut details, "uid", "The uid field is required.");
                None
            }
            Some(Value::String(s)) => {
                let u = s.trim().to_lowercase();
                if u.is_empty() {
                    add(&mut details, "uid", "The uid field is required.");
                    None
                } else if u.chars().count() > 100 {
                    add(
                        &mut details,
                        "uid",
                        "The uid may not be greater than 100 characters.",
                    );
                    None
                } else if !valid_uid(&u) {
                    add(
                        &mut details,
                        "uid",
                        "The uid may only contain letters, numbers, dashes and underscores.",
                    );
                    None
                } else {
                    Some(u)
                }
            }
            Some(_) => {
                add(&mut details, "uid", "The uid must be a string.");
                None
            }
        };
        let name = validate_name(b.get("name"), true, &mut details);
        let profile = validate_profile(&b, &mut details);
        let with_token = opt_bool(&b, "withAuthToken", &mut details).unwrap_or(false);
        check_details(details)?;
        let (Some(uid), Some(name)) = (uid, name) else {
            return Err(ApiError::internal("validated user fields missing"));
        };
        if store::get_user(self.tx, self.app_id, &uid)?.is_some() {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "ERR_UID_ALREADY_EXISTS",
                format!("The UID {uid} is already taken. Please use a different UID."),
            ));
        }
        let new = NewUser {
            uid: uid.clone(),
            name,
            avatar: profile.avatar,
            link: profile.link,
            role: profile.role.unwrap_or_else(|| "default".to_owned()),
            status_message: profile.status_message,
            metadata: profile.metadata,
            tags: profile.tags.unwrap_or_default(),
            created_at: store::now(),
        };
        store::insert_user(self.tx, self.app_id, &new)?;
        let user = store::get_user(self.tx, self.app_id, &uid)?
            .ok_or_else(|| ApiError::internal("created user vanished"))?;
        let mut v = user.to_json(true, false);
        if with_token {
            let t = store::insert_token(self.tx, self.app_id, &uid, None, None, None)?;
            if let Value::Object(o) = &mut v {
                o.insert("authToken".into(), json!(t.token));
            }
        }
        Ok(data(v))
    }

    fn get_user(&self, u: &PathUid) -> Result<Value, ApiError> {
        let viewer = self.viewer()?;
        let user = self.active_user(u)?;
        let mut v = user.to_json(true, false);
        if let Some(viewer) = viewer {
            add_on_behalf(&mut v, &viewer, &user.uid);
        }
        Ok(data(v))
    }

    fn update_user(&self, u: &PathUid) -> Result<Value, ApiError> {
        let mut user = self.active_user(u)?;
        let b = self.body_object()?;
        let mut details = Details::new();
        let name = if b.contains_key("name") {
            validate_name(b.get("name").filter(|v| !v.is_null()), false, &mut details).or_else(
                || {
                    if b.get("name").is_some_and(Value::is_null) {
                        add(&mut details, "name", "The name field must have a value.");
                    }
                    None
                },
            )
        } else {
            None
        };
        let profile = validate_profile(&b, &mut details);
        let mut unset: Vec<String> = Vec::new();
        match b.get("unset") {
            None => {}
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    match item.as_str() {
                        Some(f @ ("avatar" | "link" | "metadata" | "statusMessage" | "tags")) => {
                            unset.push(f.to_owned())
                        }
                        _ => add(
                            &mut details,
                            &format!("unset.{i}"),
                            format!("The selected unset.{i} is invalid."),
                        ),
                    }
                }
            }
            Some(_) => add(&mut details, "unset", "The unset must be an array."),
        }
        check_details(details)?;
        if let Some(n) = name {
            user.name = n;
        }
        if let Some(a) = profile.avatar {
            user.avatar = Some(a);
        }
        if let Some(l) = profile.link {
            user.link = Some(l);
        }
        if let Some(r) = profile.role {
            user.role = r;
        }
        if let Some(s) = profile.status_message {
            user.status_message = Some(s);
        }
        if let Some(m) = profile.metadata {
            user.metadata = Some(m);
        }
        if let Some(t) = profile.tags {
            user.tags = t;
        }
        for f in &unset {
            match f.as_str() {
                "avatar" => user.avatar = None,
                "link" => user.link = None,
                "metadata" => user.metadata = None,
                "statusMessage" => user.status_message = None,
                _ => user.tags.clear(),
            }
        }
        user.updated_at = Some(store::now());
        store::save_user(self.tx, self.app_id, &user)?;
        Ok(data(user.to_json(true, false)))
    }

    fn delete_user(&self, u: &PathUid) -> Result<Value, ApiError> {
        let user = self.active_user(u)?;
        let b = self.body_object()?;
        let mut details = Details::new();
        let permanent = opt_bool(&b, "permanent", &mut details).unwrap_or(false);
        check_details(details)?;
        if permanent {
            store::delete_user(self.tx, self.app_id, &user.uid)?;
            Ok(ack(format!(
                "User with uid {} has been deleted successfully.",
                user.uid
            )))
        } else {
            store::set_deactivated(self.tx, self.app_id, &user.uid, Some(store::now()))?;
            Ok(data(json!({ "deactivatedUids": [user.uid] })))
        }
    }

    fn bulk_deactivate(&self) -> Result<Value, ApiError> {
        let b = self.body_object()?;
        let uids = uid_list(&b, "uidsToDeactivate")?;
        let (mut done, mut already, mut missing) = (Vec::new(), Vec::new(), Vec::new());
        let now = store::now();
        for uid in uids {
            match store::get_user(self.tx, self.app_id, &uid)? {
                None => missing.push(uid),
                Some(u) if u.deactivated_at.is_some() => already.push(uid),
                Some(_) => {
                    store::set_deactivated(self.tx, self.app_id, &uid, Some(now))?;
                    done.push(uid);
                }
            }
        }
        let mut o = Map::new();
        o.insert("deactivatedUids".into(), json!(done));
        if !already.is_empty() {
            o.insert("alreadyDeactivatedUids".into(), json!(already));
        }
        if !missing.is_empty() {
            o.insert("notFound".into(), json!(missing));
        }
        Ok(data(Value::Object(o)))
    }

    fn bulk_activate(&self) -> Result<Value, ApiError> {
        let b = self.body_object()?;
        let uids = uid_list(&b, "uidsToActivate")?;
        let (mut done, mut missing) = (Vec::new(), Vec::new());
        for uid in uids {
            match store::get_user(self.tx, self.app_id, &uid)? {
                None => missing.push(uid),
                Some(u) => {
                    if u.deactivated_at.is_some() {
                        store::set_deactivated(self.tx, self.app_id, &uid, None)?;
                    }
                    done.push(uid);
                }
            }
        }
        let mut o = Map::new();
        // The vendor's schema and example name it `nonDeactivatedUids`; no source shows the live
        // API sending another name.
        o.insert("nonDeactivatedUids".into(), json!(done));
        if !missing.is_empty() {
            o.insert("notFound".into(), json!(missing));
        }
        Ok(data(Value::Object(o)))
    }

    // ----- Auth tokens ------------------------------------------------------------------------

    fn token_fields(
        b: &Map<String, Value>,
        details: &mut Details,
    ) -> (Option<String>, Option<String>, Option<Value>) {
        let platform = opt_string(b, "platform", details);
        let user_agent = opt_string(b, "userAgent", details);
        let app_info = match b.get("appInfo") {
            None | Some(Value::Null) => None,
            Some(v @ (Value::Object(_) | Value::String(_))) => Some(v.clone()),
            Some(_) => {
                add(details, "appInfo", "The appInfo must be an object.");
                None
            }
        };
        (platform, user_agent, app_info)
    }

    fn create_token(&self, u: &PathUid) -> Result<Value, ApiError> {
        let user = self.active_user(u)?;
        let b = self.body_object()?;
        let mut details = Details::new();
        let force = opt_bool(&b, "force", &mut details).unwrap_or(false);
        let (platform, user_agent, app_info) = Self::token_fields(&b, &mut details);
        check_details(details)?;
        if !force {
            let existing = self
                .tx
                .query_row(
                    &format!(
                        "SELECT {} FROM auth_tokens WHERE app_id = ?1 AND uid = ?2 \
                         AND platform IS ?3 ORDER BY seq DESC LIMIT 1",
                        store::TOKEN_COLS
                    ),
                    rusqlite::params![self.app_id, user.uid, platform],
                    store::token_from_row,
                )
                .map(Some)
                .or_else(|e| match e {
                    rusqlite::Error::QueryReturnedNoRows => Ok(None),
                    e => Err(e),
                })?;
            if let Some(t) = existing {
                return Ok(data(t.to_json()));
            }
        }
        let t = store::insert_token(
            self.tx,
            self.app_id,
            &user.uid,
            platform.as_deref(),
            user_agent.as_deref(),
            app_info.as_ref(),
        )?;
        Ok(data(t.to_json()))
    }

    fn list_tokens(&self, u: &PathUid) -> Result<Value, ApiError> {
        let user = self.active_user(u)?;
        let mut details = Details::new();
        let per_page = self
            .query
            .positive("perPage", 100, Some(1000), &mut details);
        let page = self.query.positive("page", 1, None, &mut details);
        check_details(details)?;
        let total: i64 = self.tx.query_row(
            "SELECT COUNT(*) FROM auth_tokens WHERE app_id = ?1 AND uid = ?2",
            [self.app_id, &user.uid],
            |r| r.get(0),
        )?;
        let offset = i64::try_from((page - 1).saturating_mul(per_page)).unwrap_or(i64::MAX);
        let mut st = self.tx.prepare(&format!(
            "SELECT {} FROM auth_tokens WHERE app_id = ?1 AND uid = ?2 \
             ORDER BY seq DESC LIMIT ?3 OFFSET ?4",
            store::TOKEN_COLS
        ))?;
        let tokens: Vec<Value> = st
            .query_map(
                rusqlite::params![self.app_id, user.uid, per_page as i64, offset],
                store::token_from_row,
            )?
            .map(|r| r.map(|t| t.to_json()))
            .collect::<rusqlite::Result<_>>()?;
        let count = tokens.len();
        Ok(json!({
            "data": tokens,
            "meta": { "pagination": pagination(total as u64, count, per_page, page) },
        }))
    }

    fn existing_token(&self, user: &UserRow, t: &str) -> Result<TokenRow, ApiError> {
        store::get_token(self.tx, self.app_id, &user.uid, t)?.ok_or_else(|| token_not_found(t))
    }

    fn get_token(&self, u: &PathUid, t: &str) -> Result<Value, ApiError> {
        let user = self.active_user(u)?;
        Ok(data(self.existing_token(&user, t)?.to_json()))
    }

    fn update_token(&self, u: &PathUid, t: &str) -> Result<Value, ApiError> {
        let user = self.active_user(u)?;
        let mut token = self.existing_token(&user, t)?;
        let b = parse_object(self.body)?.unwrap_or_default();
        let mut details = Details::new();
        let (platform, user_agent, app_info) = Self::token_fields(&b, &mut details);
        check_details(details)?;
        if platform.is_none() && user_agent.is_none() && app_info.is_none() {
            return Err(ApiError::bad_request(
                "The request body is required: send at least one of platform, userAgent or appInfo.",
            ));
        }
        if platform.is_some() {
            token.platform = platform;
        }
        if user_agent.is_some() {
            token.user_agent = user_agent;
        }
        if app_info.is_some() {
            token.app_info = app_info;
        }
        self.tx.execute(
            "UPDATE auth_tokens SET platform = ?4, user_agent = ?5, app_info = ?6 \
             WHERE app_id = ?1 AND uid = ?2 AND token = ?3",
            rusqlite::params![
                self.app_id,
                user.uid,
                t,
                token.platform,
                token.user_agent,
                token.app_info.as_ref().map(Value::to_string)
            ],
        )?;
        Ok(data(token.to_json()))
    }

    fn delete_token(&self, u: &PathUid, t: &str) -> Result<Value, ApiError> {
        let user = self.active_user(u)?;
        self.existing_token(&user, t)?;
        self.tx.execute(
            "DELETE FROM auth_tokens WHERE app_id = ?1 AND uid = ?2 AND token = ?3",
            [self.app_id, &user.uid, t],
        )?;
        Ok(ack(format!(
            "The Auth Token {} has been deleted successfully.",
            mask(t)
        )))
    }

    fn flush_tokens(&self, u: &PathUid) -> Result<Value, ApiError> {
        let user = self.active_user(u)?;
        self.tx.execute(
            "DELETE FROM auth_tokens WHERE app_id = ?1 AND uid = ?2",
            [self.app_id, &user.uid],
        )?;
        Ok(ack(format!(
            "Cleared Auth Tokens successfully for uid {}.",
            user.uid
        )))
    }
}

/// The `searchKey` condition: a prefix of the uid, of the name, or of a word of the name, as
/// `searchIn` allows; its parameters are pushed onto `params`. Written as `uid IN (… UNION ALL
/// …)` of three index ranges (the primary key, `users_name`, `user_words`) rather than an `OR`
/// over the row, which SQLite can only answer by scanning every user of the app: at a million
/// users that is milliseconds against a quarter of a second.
fn search_clause(
    app_id: &str,
    s: &str,
    search_in: &[String],
    params: &mut Vec<rusqlite::types::Value>,
) -> String {
    use rusqlite::types::Value as Sql;
    let hi = format!("{s}\u{10FFFF}");
    let in_uid = search_in.is_empty() || search_in.iter().any(|x| x == "uid");
    let in_name = search_in.is_empty() || search_in.iter().any(|x| x == "name");
    let mut ranges: Vec<&str> = Vec::new();
    if in_uid {
        ranges.push("SELECT x.uid FROM users x WHERE x.app_id = ? AND x.uid >= ? AND x.uid < ?");
    }
    // A key without a space that begins the name also begins its first word, so the words'
    // range finds those names: the names' own range is needed only for a key with a space.
    if in_name && s.contains(char::is_whitespace) {
        ranges.push(
            "SELECT x.uid FROM users x WHERE x.app_id = ? AND x.name_lower >= ? AND x.name_lower < ?",
        );
    }
    if in_name {
        ranges.push(
            "SELECT w.uid FROM user_words w WHERE w.app_id = ? AND w.word >= ? AND w.word < ?",
        );
    }
    for _ in &ranges {
        params.push(Sql::Text(app_id.to_owned()));
        params.push(Sql::Text(s.to_owned()));
        params.push(Sql::Text(hi.clone()));
    }
    format!("u.uid IN ({})", ranges.join(" UNION ALL "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_path_masks_keys_and_tokens() {
        let p = safe_path(&[
            "cometchat",
            "abc",
            "v3",
            "apikeys",
            "0123456789abcdef0123456789abcdef01234567",
        ]);
        assert_eq!(p, "/cometchat/abc/v3/apikeys/0123…");
        let p = safe_path(&[
            "cometchat",
            "abc",
            "v3",
            "users",
            "bob",
            "auth_tokens",
            "bob_1700000000aaaaaaaaaaaa",
        ]);
        assert!(!p.contains("aaaaaaaa"));
    }

    #[test]
    fn uid_rules() {
        assert!(valid_uid("cometchat-uid-1"));
        assert!(valid_uid("a_b"));
        assert!(!valid_uid("a b"));
        assert!(!valid_uid(""));
        assert!(!valid_uid(&"a".repeat(101)));
        assert_eq!(conversation_id("zed", "amy"), "amy_user_zed");
    }
}
