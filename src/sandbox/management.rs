//! The CometChat Management API (multi-tenancy) surface: `/cometchat-mgmt/apps…`.

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse as _, Response};
use rusqlite::Transaction;
use serde_json::{Map, Value, json};

use super::SharedState;
use super::http::{
    ApiError, Details, Query, Reply, add, data, header_str, pagination, parse_object,
    percent_decode, read_body, segments,
};
use super::store::{self, AppRow};

const SOURCE: &str = "mgmt-api";
/// Deleted apps are scheduled for removal this far ahead.
const DELETE_GRACE_SECS: i64 = 30 * 86_400;
/// Trial length shown in the App object.
const TRIAL_SECS: i64 = 30 * 86_400;

enum Op {
    CreateApp,
    ListApps,
    DeleteApp(String),
}

fn route(method: &Method, rest: &[&str]) -> Option<Op> {
    Some(match (rest, method.clone()) {
        (["apps"], Method::POST) => Op::CreateApp,
        (["apps"], Method::GET) => Op::ListApps,
        (["apps", id], Method::DELETE) => Op::DeleteApp(percent_decode(id)),
        _ => return None,
    })
}

struct Ctx {
    op: Op,
    key: Option<String>,
    secret: Option<String>,
    query: Query,
    body: Vec<u8>,
}

/// The axum handler for `/cometchat-mgmt/{*rest}`.
pub async fn handle(State(state): State<SharedState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let segs = segments(&path);
    let op = match segs.as_slice() {
        ["cometchat-mgmt", rest @ ..] => route(&parts.method, rest),
        _ => None,
    };
    let reply = match op {
        None => ApiError::not_found_api().into_reply(SOURCE),
        Some(op) => match read_body(&parts.headers, body).await {
            Err(e) => e.into_reply(SOURCE),
            Ok(body) => {
                let ctx = Ctx {
                    op,
                    key: header_str(&parts.headers, "key"),
                    secret: header_str(&parts.headers, "secret"),
                    query: Query::parse(parts.uri.query()),
                    body,
                };
                let result = state
                    .store
                    .run(move |tx| {
                        let reply = match serve(tx, ctx) {
                            Ok(v) => Reply::ok(v),
                            Err(e) => e.into_reply(SOURCE),
                        };
                        let commit = reply.status.is_success();
                        (reply, commit)
                    })
                    .await;
                result.unwrap_or_else(|e| ApiError::internal(e).into_reply(SOURCE))
            }
        },
    };
    tracing::debug!(
        method = %parts.method,
        path = %path,
        status = reply.status.as_u16(),
        "sandbox management request"
    );
    reply.into_response()
}

/// Compares two secrets without an early exit on the first differing byte.
fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn serve(tx: &Transaction<'_>, ctx: Ctx) -> Result<Value, ApiError> {
    let (Some(key), Some(secret)) = (ctx.key.as_deref(), ctx.secret.as_deref()) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "AUTH_ERR_EMPTY_AUTH_HEADER",
            "The key and secret headers are required for the Management API.",
        ));
    };
    let (want_key, want_secret) = store::management_credentials(tx)?;
    let key_ok = same_secret(key, &want_key);
    let secret_ok = same_secret(secret, &want_secret);
    if !(key_ok && secret_ok) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "AUTH_ERR_INVALID_CREDENTIALS",
            "The key or secret is invalid. Please use correct Management API credentials.",
        ));
    }
    match ctx.op {
        Op::CreateApp => create_app(tx, &ctx.body),
        Op::ListApps => list_apps(tx, &ctx.query),
        Op::DeleteApp(id) => delete_app(tx, &id),
    }
}

fn region_info(region: &str) -> Value {
    let (name, description) = match region {
        "eu" => (
            "Europe",
            "Data is stored in the EU region (sandbox emulation of Ireland).",
        ),
        "in" => (
            "India",
            "Data is stored in the India region (sandbox emulation of Mumbai).",
        ),
        _ => (
            "USA",
            "Data is stored in the US region (sandbox emulation of Ohio).",
        ),
    };
    json!({ "id": region, "name": name, "description": description })
}

/// The Management API's App object.
fn app_json(tx: &Transaction<'_>, app: &AppRow) -> Result<Value, ApiError> {
    let mut keys = Map::new();
    for k in store::keys_oldest_first(tx, &app.id)? {
        keys.insert(
            k.api_key.clone(),
            json!({
                "apiKey": k.api_key,
                "name": k.name,
                "scope": k.scope,
                "createdBy": k.created_by,
            }),
        );
    }
    Ok(json!({
        "id": app.id,
        "name": app.name,
        "plan": "trial",
        "trialEndsAt": app.created_at + TRIAL_SECS,
        "state": "active",
        "owner": 1,
        "region": app.region,
        "createdAt": app.created_at,
        "appOwner": { "id": "1", "name": "Sandbox Owner", "email": "owner@sandbox.invalid" },
        "appRegion": region_info(&app.region),
        "apiKeys": Value::Object(keys),
    }))
}

fn create_app(tx: &Transaction<'_>, body: &[u8]) -> Result<Value, ApiError> {
    let b = parse_object(body)?.unwrap_or_default();
    let mut details = Details::new();
    let name = match b.get("name") {
        None | Some(Value::Null) => {
            add(&mut details, "name", "The name field is required.");
            None
        }
        Some(Value::String(s)) => {
            let s = s.trim();
            if s.is_empty() {
                add(&mut details, "name", "The name field is required.");
                None
            } else if s.chars().count() > 100 {
                add(
                    &mut details,
                    "name",
                    "The name may not be greater than 100 characters.",
                );
                None
            } else {
                Some(s.to_owned())
            }
        }
        Some(_) => {
            add(&mut details, "name", "The name must be a string.");
            None
        }
    };
    let region = match b.get("region") {
        None | Some(Value::Null) => {
            add(&mut details, "region", "The region field is required.");
            None
        }
        Some(Value::String(s)) if matches!(s.as_str(), "us" | "eu" | "in") => Some(s.clone()),
        Some(_) => {
            add(&mut details, "region", "The selected region is invalid.");
            None
        }
    };
    // A string, and only "3" (the schema's type; the reference's "only v3").
    match b.get("version") {
        None => {}
        Some(Value::String(s)) if s == "3" => {}
        Some(_) => add(&mut details, "version", "The selected version is invalid."),
    }
    // Typed plain boolean: present, it must be one (null included), as in the chat API.
    match b.get("skipSampleData") {
        None | Some(Value::Bool(_)) => {}
        Some(_) => add(
            &mut details,
            "skipSampleData",
            "The skipSampleData field must be true or false.",
        ),
    }
    if !details.is_empty() {
        return Err(ApiError::validation(details));
    }
    let (Some(name), Some(region)) = (name, region) else {
        return Err(ApiError::internal("validated app fields missing"));
    };
    let app = store::insert_app(tx, &name, &region, store::now())?;
    Ok(data(app_json(tx, &app)?))
}

fn list_apps(tx: &Transaction<'_>, q: &Query) -> Result<Value, ApiError> {
    let mut details = Details::new();
    let per_page = q.positive("perPage", 100, Some(1000), &mut details);
    let page = q.positive("page", 1, None, &mut details);
    if !details.is_empty() {
        return Err(ApiError::validation(details));
    }
    let search = q
        .get("searchKey")
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty());
    let mut apps = store::live_apps(tx)?;
    apps.reverse(); // newest first
    let apps: Vec<AppRow> = apps
        .into_iter()
        .filter(|a| {
            search.as_ref().is_none_or(|s| {
                a.id.to_lowercase().contains(s.as_str())
                    || a.name.to_lowercase().contains(s.as_str())
            })
        })
        .collect();
    let total = apps.len() as u64;
    let skip = usize::try_from((page - 1).saturating_mul(per_page)).unwrap_or(usize::MAX);
    let items = apps
        .iter()
        .skip(skip)
        .take(usize::try_from(per_page).unwrap_or(usize::MAX))
        .map(|a| app_json(tx, a))
        .collect::<Result<Vec<Value>, ApiError>>()?;
    let count = items.len();
    Ok(json!({
        "data": items,
        "meta": { "pagination": pagination(total, count, per_page, page) },
    }))
}

fn delete_app(tx: &Transaction<'_>, id: &str) -> Result<Value, ApiError> {
    let Some(app) = store::get_app(tx, id)? else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "ERR_APP_NOT_FOUND",
            format!("The app {id} does not exist."),
        ));
    };
    if app.deleted_at.is_some() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "ERR_APP_ARCHIVED",
            format!("The app {id} has already been deleted."),
        ));
    }
    let now = store::now();
    let scheduled = now + DELETE_GRACE_SECS;
    tx.execute(
        "UPDATE apps SET deleted_at = ?2, scheduled_delete_at = ?3 WHERE id = ?1",
        rusqlite::params![id, now, scheduled],
    )?;
    Ok(data(
        json!({ "success": true, "scheduledToDeleteAt": scheduled }),
    ))
}
