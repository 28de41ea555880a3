//! Cometly's public API: `/cometly/public-api/v1/…`. Bearer keys bound to a Space, per-Space
//! per-minute limits with `X-RateLimit-*` headers, Laravel cursor pages, `{message}` errors.
//!
//! Contract: `shared/reference/ably-cometly-api.md` §4. Only what a key test needs is served:
//! `GET /companies` and `GET /events`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, Method, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use rusqlite::{OptionalExtension as _, Transaction, params};
use serde_json::{Value, json};

use super::SharedState;
use super::http::{Details, Query, add, header_str, respond, segments};
use super::store;

/// Per-Space per-minute limits by endpoint (the MCP page's numbers).
pub const DEFAULT_COMPANIES_LIMIT: u32 = 15;
pub const DEFAULT_EVENTS_LIMIT: u32 = 7;
const WINDOW: Duration = Duration::from_secs(60);

static X_RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
static X_RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
static X_RATELIMIT_RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

// ---------------------------------------------------------------------------------------------
// Rate limiting

struct Window {
    start: Instant,
    count: u32,
}

/// Fixed 60-second windows per (Space, endpoint); limits per endpoint, changeable at run time.
#[derive(Default)]
pub struct CometlyLimiter {
    limits: Mutex<HashMap<String, Option<u32>>>,
    windows: Mutex<HashMap<(i64, String), Window>>,
}

struct Decision {
    allowed: bool,
    headers: Vec<(HeaderName, String)>,
}

impl CometlyLimiter {
    /// Sets `endpoint`'s limit (`None` = unlimited) and starts fresh windows for it.
    pub fn set_limit(&self, endpoint: &str, per_minute: Option<u32>) {
        if let Ok(mut l) = self.limits.lock() {
            l.insert(endpoint.to_owned(), per_minute);
        }
        if let Ok(mut w) = self.windows.lock() {
            w.retain(|(_, e), _| e != endpoint);
        }
    }

    fn limit(&self, endpoint: &str) -> Option<u32> {
        let set = self
            .limits
            .lock()
            .ok()
            .and_then(|l| l.get(endpoint).copied());
        match set {
            Some(v) => v,
            None => Some(match endpoint {
                "events" => DEFAULT_EVENTS_LIMIT,
                _ => DEFAULT_COMPANIES_LIMIT,
            }),
        }
    }

    fn check(&self, space: i64, endpoint: &str) -> Decision {
        let Some(limit) = self.limit(endpoint) else {
            return Decision {
                allowed: true,
                headers: Vec::new(),
            };
        };
        let now = Instant::now();
        let Ok(mut windows) = self.windows.lock() else {
            return Decision {
                allowed: true,
                headers: Vec::new(),
            };
        };
        let w = windows
            .entry((space, endpoint.to_owned()))
            .or_insert(Window {
                start: now,
                count: 0,
            });
        if now.duration_since(w.start) >= WINDOW {
            w.start = now;
            w.count = 0;
        }
        let allowed = w.count < limit;
        if allowed {
            w.count += 1;
        }
        let mut headers = vec![
            (X_RATELIMIT_LIMIT.clone(), limit.to_string()),
            (
                X_RATELIMIT_REMAINING.clone(),
                limit.saturating_sub(w.count).to_string(),
            ),
        ];
        if !allowed {
            let left = WINDOW.saturating_sub(now.duration_since(w.start));
            let secs = (left.as_secs() + u64::from(left.subsec_nanos() > 0)).max(1);
            headers.push((header::RETRY_AFTER, secs.to_string()));
            headers.push((
                X_RATELIMIT_RESET.clone(),
                (store::now() as u64 + secs).to_string(),
            ));
        }
        Decision { allowed, headers }
    }
}

// ---------------------------------------------------------------------------------------------
// Seeding

/// Seeds once: "Marketing space" (active) and "Lapsed space" (inactive subscription), one key
/// each, a handful of companies and events.
pub fn seed(tx: &Transaction<'_>) -> anyhow::Result<()> {
    if store::get_meta(tx, "cometly_seeded")?.is_some() {
        return Ok(());
    }
    let t0 = store::now();
    for (id, name, active) in [(1, "Marketing space", true), (2, "Lapsed space", false)] {
        tx.execute(
            "INSERT INTO cometly_spaces (id, name, active) VALUES (?1, ?2, ?3)",
            params![id, name, active],
        )?;
        tx.execute(
            "INSERT INTO cometly_keys (key, label, space_id, created) VALUES (?1, ?2, ?3, ?4)",
            params![store::random_hex(24), name, id, t0],
        )?;
    }
    let companies = [
        (1, "acme.test", "Acme"),
        (1, "globex.test", "Globex"),
        (1, "initech.test", "Initech"),
        (1, "umbrella.test", "Umbrella"),
        (1, "hooli.test", "Hooli"),
        (1, "stark.test", "Stark Industries"),
        (1, "wayne.test", "Wayne Enterprises"),
        (1, "tyrell.test", "Tyrell"),
        (2, "oldco.test", "Old Co"),
        (2, "gone.test", "Gone Ltd"),
    ];
    for (space, domain, name) in companies {
        tx.execute(
            "INSERT INTO cometly_companies (space_id, domain, name) VALUES (?1, ?2, ?3)",
            params![space, domain, name],
        )?;
    }
    let names = ["purchase", "lead_generated", "page_view", "custom_event_1"];
    for i in 0..24i64 {
        let event_name = names[usize::try_from(i).unwrap_or(0) % names.len()];
        let amount = (event_name == "purchase").then_some(19.0 + (i as f64) * 5.5);
        let at = t0 - (i + 1) * 6 * 3600;
        tx.execute(
            "INSERT INTO cometly_events (space_id, profile_id, company_id, event_name, amount, \
             event_time_utc, order_id) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                1000 + i % 7,
                1 + i % 8,
                event_name,
                amount,
                store::sql_datetime(at),
                amount.map(|_| format!("ORD-{:04}", 1000 + i))
            ],
        )?;
    }
    store::set_meta(tx, "cometly_seeded", &t0.to_string())?;
    Ok(())
}

/// A key as the start-up line lists it.
pub struct KeyInfo {
    pub label: String,
    pub key: String,
    pub active: bool,
}

/// Every key, oldest first, with whether its Space's subscription is active.
pub fn keys(tx: &Transaction<'_>) -> anyhow::Result<Vec<KeyInfo>> {
    let mut st = tx.prepare(
        "SELECT k.label, k.key, s.active FROM cometly_keys k \
         JOIN cometly_spaces s ON s.id = k.space_id ORDER BY k.space_id, k.rowid",
    )?;
    let rows = st
        .query_map([], |r| {
            Ok(KeyInfo {
                label: r.get(0)?,
                key: r.get(1)?,
                active: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

// ---------------------------------------------------------------------------------------------
// Requests

struct Out {
    status: StatusCode,
    body: Value,
    headers: Vec<(HeaderName, String)>,
}

impl Out {
    fn message(status: StatusCode, message: &str) -> Out {
        Out {
            status,
            body: json!({ "message": message }),
            headers: Vec::new(),
        }
    }

    /// Laravel's 422: the first message plus "(and N more errors)", and every message per field.
    fn validation(details: Details) -> Out {
        let all: Vec<&String> = details.values().flatten().collect();
        let first = all.first().map(|s| s.as_str()).unwrap_or("Invalid data.");
        let message = match all.len() {
            0 | 1 => first.to_owned(),
            2 => format!("{first} (and 1 more error)"),
            n => format!("{first} (and {} more errors)", n - 1),
        };
        Out {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: json!({ "message": message, "errors": details }),
            headers: Vec::new(),
        }
    }
}

#[derive(Clone, Copy)]
enum Op {
    Companies,
    Events,
}

impl Op {
    fn endpoint(self) -> &'static str {
        match self {
            Op::Companies => "companies",
            Op::Events => "events",
        }
    }
}

/// The axum handler for `/cometly/public-api/v1/{*rest}`.
pub async fn handle(State(state): State<SharedState>, req: Request) -> Response {
    let (parts, _body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let segs = segments(&path);
    let op = match (segs.as_slice(), &parts.method) {
        (["cometly", "public-api", "v1", "companies"], &Method::GET) => Some(Op::Companies),
        (["cometly", "public-api", "v1", "events"], &Method::GET) => Some(Op::Events),
        _ => None,
    };
    let out = match op {
        None => Out::message(StatusCode::NOT_FOUND, "Not found."),
        Some(op) => serve(&state, op, &parts.headers, parts.uri.query(), &path).await,
    };
    tracing::debug!(
        method = %parts.method,
        path = %path,
        status = out.status.as_u16(),
        "sandbox cometly request"
    );
    respond(out.status, Some(&out.body), out.headers)
}

async fn serve(
    state: &SharedState,
    op: Op,
    headers: &HeaderMap,
    query: Option<&str>,
    path: &str,
) -> Out {
    let key = header_str(headers, header::AUTHORIZATION.as_str()).and_then(|v| {
        let (scheme, key) = v.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| key.trim().to_owned())
    });
    let host = header_str(headers, header::HOST.as_str()).unwrap_or_else(|| "127.0.0.1".into());
    let base = format!("http://{host}{path}");
    let query = Query::parse(query);
    let limiter = state.cometly_limiter.clone();
    let result = state
        .store
        .run(move |tx| {
            let out = match space_of(tx, key.as_deref()) {
                Err(e) => Out::message(StatusCode::INTERNAL_SERVER_ERROR, &internal(e)),
                Ok(None) => Out::message(StatusCode::UNAUTHORIZED, "Unauthenticated."),
                Ok(Some((space, active))) => {
                    let decision = limiter.check(space, op.endpoint());
                    let mut out = if !decision.allowed {
                        Out::message(StatusCode::TOO_MANY_REQUESTS, "Too Many Attempts.")
                    } else if !active {
                        Out::message(
                            StatusCode::FORBIDDEN,
                            "Your Cometly subscription is inactive. Reactivate it to use the API.",
                        )
                    } else {
                        let r = match op {
                            Op::Companies => companies(tx, space, &query, &base),
                            Op::Events => events(tx, space, &query, &base),
                        };
                        r.unwrap_or_else(|e| {
                            Out::message(StatusCode::INTERNAL_SERVER_ERROR, &internal(e))
                        })
                    };
                    out.headers.extend(decision.headers);
                    out
                }
            };
            (out, false)
        })
        .await;
    result.unwrap_or_else(|e| Out::message(StatusCode::INTERNAL_SERVER_ERROR, &internal(e)))
}

fn internal(e: impl std::fmt::Display) -> String {
    tracing::error!("sandbox cometly internal error: {e}");
    "Server Error".to_owned()
}

/// The key's Space and whether its subscription is active.
fn space_of(tx: &Transaction<'_>, key: Option<&str>) -> rusqlite::Result<Option<(i64, bool)>> {
    let Some(key) = key.filter(|k| !k.is_empty()) else {
        return Ok(None);
    };
    tx.query_row(
        "SELECT s.id, s.active FROM cometly_keys k JOIN cometly_spaces s ON s.id = k.space_id \
         WHERE k.key = ?1",
        [key],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// A Laravel-style cursor: base64 of `{"id":N,"_pointsToNextItems":bool}`.
fn encode_cursor(id: i64, next: bool) -> String {
    let raw = json!({ "id": id, "_pointsToNextItems": next }).to_string();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode_cursor(c: &str) -> Option<(i64, bool)> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c.trim_end_matches('='))
        .ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    Some((
        v.get("id")?.as_i64()?,
        v.get("_pointsToNextItems")?.as_bool()?,
    ))
}

/// Reads `per_page` and `cursor`, adding messages to `details`.
fn paging(q: &Query, default: u64, max: u64, details: &mut Details) -> (u64, Option<(i64, bool)>) {
    let per_page = match q.get("per_page") {
        None => default,
        Some(raw) => match raw.trim().parse::<u64>() {
            Ok(n) if (1..=max).contains(&n) => n,
            _ => {
                add(
                    details,
                    "per_page",
                    format!("The per page field must be between 1 and {max}."),
                );
                default
            }
        },
    };
    let cursor = match q.get("cursor").filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => match decode_cursor(c) {
            Some(c) => Some(c),
            None => {
                add(details, "cursor", "The cursor is invalid.");
                None
            }
        },
    };
    (per_page, cursor)
}

/// One cursor page from up to `per_page + 1` `(id, item)` rows fetched in cursor order (the
/// extra row says whether there is more); `extra` query parameters are kept in page URLs.
fn cursor_page(
    rows: Vec<(i64, Value)>,
    per_page: u64,
    cursor: Option<(i64, bool)>,
    base: &str,
    q: &Query,
    extra: &[&str],
) -> Value {
    let per = usize::try_from(per_page).unwrap_or(usize::MAX);
    let backwards = matches!(cursor, Some((_, false)));
    let mut rows = rows;
    let more = rows.len() > per;
    rows.truncate(per);
    if backwards {
        rows.reverse();
    }
    let (has_next, has_prev) = if backwards {
        (true, more)
    } else {
        (more, cursor.is_some())
    };
    let first = rows.first().map(|(id, _)| *id);
    let last = rows.last().map(|(id, _)| *id);
    let next_cursor = last.filter(|_| has_next).map(|id| encode_cursor(id, true));
    let prev_cursor = first
        .filter(|_| has_prev)
        .map(|id| encode_cursor(id, false));
    let url = |c: &Option<String>| {
        c.as_ref().map(|c| {
            let mut pairs = url::form_urlencoded::Serializer::new(String::new());
            for k in extra {
                if let Some(v) = q.get(k) {
                    pairs.append_pair(k, v);
                }
            }
            pairs.append_pair("per_page", &per_page.to_string());
            pairs.append_pair("cursor", c);
            format!("{base}?{}", pairs.finish())
        })
    };
    json!({
        "data": rows.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
        "path": base,
        "per_page": per_page,
        "next_cursor": next_cursor,
        "next_page_url": url(&next_cursor),
        "prev_cursor": prev_cursor,
        "prev_page_url": url(&prev_cursor),
    })
}

/// The SQL condition and order for a cursor.
fn cursor_sql(cursor: Option<(i64, bool)>) -> (&'static str, &'static str, i64) {
    match cursor {
        None => ("id > ?2", "ASC", 0),
        Some((id, true)) => ("id > ?2", "ASC", id),
        Some((id, false)) => ("id < ?2", "DESC", id),
    }
}

fn companies(tx: &Transaction<'_>, space: i64, q: &Query, base: &str) -> rusqlite::Result<Out> {
    let mut details = Details::new();
    let (per_page, cursor) = paging(q, 25, 1000, &mut details);
    if !details.is_empty() {
        return Ok(Out::validation(details));
    }
    let (cond, order, at) = cursor_sql(cursor);
    let mut st = tx.prepare(&format!(
        "SELECT id, domain FROM cometly_companies WHERE space_id = ?1 AND {cond} \
         ORDER BY id {order} LIMIT ?3"
    ))?;
    let limit = i64::try_from(per_page).unwrap_or(i64::MAX - 1) + 1;
    let rows = st
        .query_map(params![space, at, limit], |r| {
            let id: i64 = r.get(0)?;
            let domain: String = r.get(1)?;
            Ok((id, json!({ "id": id, "domain": domain })))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Out {
        status: StatusCode::OK,
        body: cursor_page(rows, per_page, cursor, base, q, &[]),
        headers: Vec::new(),
    })
}

/// `YYYY-MM-DD HH:MM:SS` with plausible ranges.
fn is_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 19 {
        return false;
    }
    let digits = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
    let seps = [(4, b'-'), (7, b'-'), (10, b' '), (13, b':'), (16, b':')];
    if !digits.iter().all(|&i| b[i].is_ascii_digit()) || !seps.iter().all(|&(i, c)| b[i] == c) {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().unwrap_or(99);
    (1..=12).contains(&num(5..7))
        && (1..=31).contains(&num(8..10))
        && num(11..13) < 24
        && num(14..16) < 60
        && num(17..19) < 60
}

fn events(tx: &Transaction<'_>, space: i64, q: &Query, base: &str) -> rusqlite::Result<Out> {
    let mut details = Details::new();
    let mut date = |field: &str, label: &str| -> Option<String> {
        match q.get(field).map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                add(
                    &mut details,
                    field,
                    format!("The {label} field is required."),
                );
                None
            }
            Some(v) if is_datetime(v) => Some(v.to_owned()),
            Some(_) => {
                add(
                    &mut details,
                    field,
                    format!("The {label} field must match the format Y-m-d H:i:s."),
                );
                None
            }
        }
    };
    let start = date("start_date", "start date");
    let end = date("end_date", "end date");
    if let (Some(s), Some(e)) = (&start, &end)
        && e < s
    {
        add(
            &mut details,
            "end_date",
            "The end date field must be a date after or equal to start date.",
        );
    }
    let names = q.list("event_names");
    if names.len() > 10 {
        add(
            &mut details,
            "event_names",
            "The event names field must not have more than 10 items.",
        );
    }
    let (per_page, cursor) = paging(q, 200, 5000, &mut details);
    if !details.is_empty() {
        return Ok(Out::validation(details));
    }
    let (Some(start), Some(end)) = (start, end) else {
        return Ok(Out::message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid dates.",
        ));
    };
    let (cond, order, at) = cursor_sql(cursor);
    let mut st = tx.prepare(&format!(
        "SELECT id, profile_id, company_id, event_name, amount, event_time_utc, order_id \
         FROM cometly_events WHERE space_id = ?1 AND {cond} \
         AND event_time_utc >= ?3 AND event_time_utc <= ?4 ORDER BY id {order}"
    ))?;
    let limit = usize::try_from(per_page).unwrap_or(usize::MAX - 1) + 1;
    let rows = st
        .query_map(params![space, at, start, end], |r| {
            let id: i64 = r.get(0)?;
            let name: String = r.get(3)?;
            let amount: Option<f64> = r.get(4)?;
            let order_id: Option<String> = r.get(6)?;
            Ok((
                id,
                name.clone(),
                json!({
                    "id": id,
                    "profile_id": r.get::<_, i64>(1)?,
                    "company_id": r.get::<_, Option<i64>>(2)?,
                    "space_id": space,
                    "event_name": name,
                    "configured_name": name.replace('_', " "),
                    "amount": amount,
                    "is_upsell": false,
                    "event_time_utc": r.get::<_, String>(5)?,
                    "order_id": order_id,
                    "order_name": order_id.as_ref().map(|o| format!("Order {o}")),
                }),
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let rows: Vec<(i64, Value)> = rows
        .into_iter()
        .filter(|(_, name, _)| names.is_empty() || names.contains(name))
        .map(|(id, _, v)| (id, v))
        .take(limit)
        .collect();
    Ok(Out {
        status: StatusCode::OK,
        body: cursor_page(rows, per_page, cursor, base, q, &["start_date", "end_date"]),
        headers: Vec::new(),
    })
}
