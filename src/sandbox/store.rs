//! The sandbox's SQLite store: schema, one-time seeding, and small helpers.
//!
//! One `Connection` sits behind a `std::sync::Mutex`; every request runs its work in one short
//! transaction on a blocking thread ([`Store::run`]). The lock is never held across an `.await`.

use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use rand::RngCore as _;
use rusqlite::{Connection, OptionalExtension as _, Transaction, params};
use serde_json::{Value, json};

use super::user_blocks;

/// Current unix time in seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Current unix time in milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// `n` random URL-safe characters (`A–Z a–z 0–9 - _`), as Ably uses for ids and secrets.
pub fn random_url_safe(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| char::from(URL_SAFE[usize::from(b & 63)]))
        .collect()
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Unix seconds → `(y, m, d, hh, mm, ss)` in UTC.
fn utc_parts(secs: i64) -> (i64, u32, u32, i64, i64, i64) {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Unix seconds → `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339(secs: i64) -> String {
    let (y, m, d, hh, mm, ss) = utc_parts(secs);
    format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
}

/// Unix seconds → `YYYY-MM-DD HH:MM:SS` (UTC), Cometly's date-time format.
pub fn sql_datetime(secs: i64) -> String {
    let (y, m, d, hh, mm, ss) = utc_parts(secs);
    format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}")
}

/// `n` random bytes as lowercase hex (`2n` characters).
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A new 40-character API key.
pub fn new_api_key() -> String {
    random_hex(20)
}

/// A new auth token: `<uid>_<10-digit createdAt><30 lowercase hex>`.
pub fn new_auth_token(uid: &str, created_at: i64) -> String {
    format!("{uid}_{created_at:010}{}", random_hex(15))
}

/// The schema; every statement is `IF NOT EXISTS`, so running it again recreates only what is
/// missing (a bulk seed drops indexes and runs it to build them again).
pub const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS apps (
    seq                   INTEGER PRIMARY KEY AUTOINCREMENT,
    id                    TEXT NOT NULL UNIQUE,
    name                  TEXT NOT NULL,
    region                TEXT NOT NULL,
    created_at            INTEGER NOT NULL,
    deleted_at            INTEGER,
    scheduled_delete_at   INTEGER
);
CREATE TABLE IF NOT EXISTS api_keys (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id     TEXT NOT NULL REFERENCES apps(id),
    api_key    TEXT NOT NULL,
    name       TEXT NOT NULL,
    scope      TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (app_id, api_key)
);
CREATE TABLE IF NOT EXISTS users (
    app_id         TEXT NOT NULL REFERENCES apps(id),
    uid            TEXT NOT NULL,
    name           TEXT NOT NULL,
    name_lower     TEXT NOT NULL,
    avatar         TEXT,
    link           TEXT,
    role           TEXT NOT NULL,
    status         TEXT NOT NULL,
    status_message TEXT,
    metadata       TEXT,
    tags           TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER,
    deactivated_at INTEGER,
    PRIMARY KEY (app_id, uid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS users_name ON users(app_id, name_lower);
CREATE INDEX IF NOT EXISTS users_role ON users(app_id, role);
CREATE TABLE IF NOT EXISTS user_words (
    app_id TEXT NOT NULL,
    word   TEXT NOT NULL,
    uid    TEXT NOT NULL,
    PRIMARY KEY (app_id, word, uid),
    FOREIGN KEY (app_id, uid) REFERENCES users(app_id, uid) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS user_words_uid ON user_words(app_id, uid);
CREATE TABLE IF NOT EXISTS user_tags (
    app_id TEXT NOT NULL,
    tag    TEXT NOT NULL,
    uid    TEXT NOT NULL,
    PRIMARY KEY (app_id, tag, uid),
    FOREIGN KEY (app_id, uid) REFERENCES users(app_id, uid) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS user_tags_uid ON user_tags(app_id, uid);
CREATE TABLE IF NOT EXISTS auth_tokens (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id     TEXT NOT NULL,
    uid        TEXT NOT NULL,
    token      TEXT NOT NULL,
    platform   TEXT,
    user_agent TEXT,
    app_info   TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (app_id, token),
    FOREIGN KEY (app_id, uid) REFERENCES users(app_id, uid) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS auth_tokens_user ON auth_tokens(app_id, uid, seq);
CREATE TABLE IF NOT EXISTS ably_accounts (
    id      TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ably_access_tokens (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES ably_accounts(id),
    name         TEXT NOT NULL,
    token        TEXT NOT NULL UNIQUE,
    capabilities TEXT NOT NULL,
    created      INTEGER NOT NULL,
    last_used_at INTEGER
);
CREATE TABLE IF NOT EXISTS ably_apps (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL REFERENCES ably_accounts(id),
    name       TEXT NOT NULL,
    status     TEXT NOT NULL,
    tls_only   INTEGER,
    created    INTEGER NOT NULL,
    modified   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ably_keys (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id           TEXT NOT NULL REFERENCES ably_apps(id) ON DELETE CASCADE,
    id               TEXT NOT NULL,
    name             TEXT NOT NULL,
    secret           TEXT NOT NULL,
    capability       TEXT NOT NULL,
    revocable_tokens INTEGER NOT NULL,
    status           INTEGER NOT NULL DEFAULT 0,
    created          INTEGER NOT NULL,
    modified         INTEGER NOT NULL,
    UNIQUE (app_id, id)
);
CREATE TABLE IF NOT EXISTS ably_revocations (
    seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
    key_name            TEXT NOT NULL,
    target              TEXT NOT NULL,
    issued_before       INTEGER NOT NULL,
    applies_at          INTEGER NOT NULL,
    allow_reauth_margin INTEGER NOT NULL,
    created             INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ably_revocations_key ON ably_revocations(key_name, seq);
CREATE TABLE IF NOT EXISTS ably_tokens (
    token      TEXT PRIMARY KEY,
    key_name   TEXT NOT NULL,
    client_id  TEXT,
    capability TEXT NOT NULL,
    issued     INTEGER NOT NULL,
    expires    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS cometly_spaces (
    id     INTEGER PRIMARY KEY,
    name   TEXT NOT NULL,
    active INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS cometly_keys (
    key      TEXT PRIMARY KEY,
    label    TEXT NOT NULL,
    space_id INTEGER NOT NULL REFERENCES cometly_spaces(id),
    created  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS cometly_companies (
    id       INTEGER PRIMARY KEY,
    space_id INTEGER NOT NULL REFERENCES cometly_spaces(id),
    domain   TEXT NOT NULL,
    name     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cometly_companies_space ON cometly_companies(space_id, id);
CREATE TABLE IF NOT EXISTS cometly_events (
    id             INTEGER PRIMARY KEY,
    space_id       INTEGER NOT NULL REFERENCES cometly_spaces(id),
    profile_id     INTEGER NOT NULL,
    company_id     INTEGER,
    event_name     TEXT NOT NULL,
    amount         REAL,
    event_time_utc TEXT NOT NULL,
    order_id       TEXT
);
CREATE INDEX IF NOT EXISTS cometly_events_space ON cometly_events(space_id, event_time_utc);
"#;

/// The shared store handle.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

impl Store {
    /// Opens (or creates) the store with its schema. Seeding is the caller's (`sandbox/mod.rs`):
    /// the store knows no surface, so it never calls back into the routes' modules.
    pub fn open(data: Option<&Path>) -> anyhow::Result<Store> {
        let conn = match data {
            Some(path) => {
                // 0600 in a 0700 folder before SQLite opens it: its -wal/-shm take its mode.
                crate::paths::prepare_sqlite_file(path)
                    .with_context(|| format!("creating {}", path.display()))?;
                let conn = Connection::open(path)
                    .with_context(|| format!("opening sandbox store {}", path.display()))?;
                let mode: String =
                    conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
                if !mode.eq_ignore_ascii_case("wal") {
                    anyhow::bail!("sandbox store could not switch to WAL mode (got {mode})");
                }
                conn
            }
            None => Connection::open_in_memory()?,
        };
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        conn.execute_batch(user_blocks::SCHEMA)?;
        conn.execute_batch(user_blocks::TRIGGERS)?;
        let store = Store {
            conn: Arc::new(Mutex::new(conn)),
        };
        store.with_tx(|tx| Ok(user_blocks::migrate(tx)?))?;
        Ok(store)
    }

    /// Runs `f` in one transaction on the calling thread; commits on `Ok`.
    pub fn with_tx<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let mut guard = self
            .conn
            .lock()
            .map_err(|_| anyhow::anyhow!("sandbox store lock poisoned"))?;
        let tx = guard.transaction()?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` (which must not block for long) on the blocking pool with the connection locked.
    /// `f` gets a transaction and decides itself whether to commit (it returns `(T, commit)`).
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> (T, bool) + Send + 'static,
    ) -> anyhow::Result<T> {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || -> anyhow::Result<T> {
            let mut guard = conn
                .lock()
                .map_err(|_| anyhow::anyhow!("sandbox store lock poisoned"))?;
            let tx = guard.transaction()?;
            let (out, commit) = f(&tx);
            if commit {
                tx.commit()?;
            } else {
                tx.rollback()?;
            }
            Ok(out)
        })
        .await
        .context("sandbox store task failed")?
    }
}

/// An app row as the public info and the management API need it.
#[derive(Clone)]
pub struct AppRow {
    pub id: String,
    pub name: String,
    pub region: String,
    pub created_at: i64,
    pub deleted_at: Option<i64>,
}

/// An API-key row.
#[derive(Clone)]
pub struct KeyRow {
    pub api_key: String,
    pub name: String,
    pub scope: String,
    pub created_by: String,
    pub created_at: i64,
}

impl KeyRow {
    /// The chat API's ApiKey object.
    pub fn to_json(&self) -> Value {
        json!({
            "apiKey": self.api_key,
            "name": self.name,
            "scope": self.scope,
            "createdAt": self.created_at,
        })
    }
}

fn app_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AppRow> {
    Ok(AppRow {
        id: r.get(0)?,
        name: r.get(1)?,
        region: r.get(2)?,
        created_at: r.get(3)?,
        deleted_at: r.get(4)?,
    })
}

const APP_COLS: &str = "id, name, region, created_at, deleted_at";

pub fn get_app(conn: &Connection, id: &str) -> rusqlite::Result<Option<AppRow>> {
    conn.query_row(
        &format!("SELECT {APP_COLS} FROM apps WHERE id = ?1"),
        [id],
        app_from_row,
    )
    .optional()
}

/// Apps that are not deleted, oldest first.
pub fn live_apps(conn: &Connection) -> rusqlite::Result<Vec<AppRow>> {
    let mut st = conn.prepare(&format!(
        "SELECT {APP_COLS} FROM apps WHERE deleted_at IS NULL ORDER BY seq"
    ))?;
    st.query_map([], app_from_row)?.collect()
}

fn key_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<KeyRow> {
    Ok(KeyRow {
        api_key: r.get(0)?,
        name: r.get(1)?,
        scope: r.get(2)?,
        created_by: r.get(3)?,
        created_at: r.get(4)?,
    })
}

const KEY_COLS: &str = "api_key, name, scope, created_by, created_at";

pub fn get_key(conn: &Connection, app_id: &str, key: &str) -> rusqlite::Result<Option<KeyRow>> {
    conn.query_row(
        &format!("SELECT {KEY_COLS} FROM api_keys WHERE app_id = ?1 AND api_key = ?2"),
        [app_id, key],
        key_from_row,
    )
    .optional()
}

/// An app's keys, newest first (insertion order breaks ties).
pub fn keys_newest_first(conn: &Connection, app_id: &str) -> rusqlite::Result<Vec<KeyRow>> {
    let mut st = conn.prepare(&format!(
        "SELECT {KEY_COLS} FROM api_keys WHERE app_id = ?1 ORDER BY created_at DESC, seq DESC"
    ))?;
    st.query_map([app_id], key_from_row)?.collect()
}

/// An app's keys, oldest first.
pub fn keys_oldest_first(conn: &Connection, app_id: &str) -> rusqlite::Result<Vec<KeyRow>> {
    let mut st = conn.prepare(&format!(
        "SELECT {KEY_COLS} FROM api_keys WHERE app_id = ?1 ORDER BY seq"
    ))?;
    st.query_map([app_id], key_from_row)?.collect()
}

pub fn insert_key(
    conn: &Connection,
    app_id: &str,
    name: &str,
    scope: &str,
    created_by: &str,
    created_at: i64,
) -> rusqlite::Result<KeyRow> {
    let api_key = new_api_key();
    conn.execute(
        "INSERT INTO api_keys (app_id, api_key, name, scope, created_by, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![app_id, api_key, name, scope, created_by, created_at],
    )?;
    Ok(KeyRow {
        api_key,
        name: name.to_owned(),
        scope: scope.to_owned(),
        created_by: created_by.to_owned(),
        created_at,
    })
}

/// Creates an app with its two default keys.
pub fn insert_app(
    conn: &Connection,
    name: &str,
    region: &str,
    created_at: i64,
) -> rusqlite::Result<AppRow> {
    let id = random_hex(8);
    conn.execute(
        "INSERT INTO apps (id, name, region, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![id, name, region, created_at],
    )?;
    insert_key(
        conn,
        &id,
        "Rest API Key",
        "fullAccess",
        "app_system",
        created_at,
    )?;
    insert_key(conn, &id, "Auth Key", "authOnly", "app_system", created_at)?;
    Ok(AppRow {
        id,
        name: name.to_owned(),
        region: region.to_owned(),
        created_at,
        deleted_at: None,
    })
}

pub fn get_meta(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()
}

pub fn set_meta(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) \
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}

/// The management key and secret.
pub fn management_credentials(conn: &Connection) -> anyhow::Result<(String, String)> {
    let key = get_meta(conn, "mgmt_key")?.context("management key missing from store")?;
    let secret = get_meta(conn, "mgmt_secret")?.context("management secret missing from store")?;
    Ok((key, secret))
}

/// A new user as the store wants it (already validated).
pub struct NewUser {
    pub uid: String,
    pub name: String,
    pub avatar: Option<String>,
    pub link: Option<String>,
    pub role: String,
    pub status_message: Option<String>,
    pub metadata: Option<Value>,
    pub tags: Vec<String>,
    pub created_at: i64,
}

/// A stored user.
pub struct UserRow {
    pub uid: String,
    pub name: String,
    pub avatar: Option<String>,
    pub link: Option<String>,
    pub role: String,
    pub status: String,
    pub status_message: Option<String>,
    pub metadata: Option<Value>,
    pub tags: Vec<String>,
    pub created_at: i64,
    pub updated_at: Option<i64>,
    pub deactivated_at: Option<i64>,
}

impl UserRow {
    /// The User object. `with_tags` adds non-empty tags; `in_list` always adds `updatedAt`.
    pub fn to_json(&self, with_tags: bool, in_list: bool) -> Value {
        let mut o = serde_json::Map::new();
        o.insert("uid".into(), json!(self.uid));
        o.insert("name".into(), json!(self.name));
        if let Some(a) = &self.avatar {
            o.insert("avatar".into(), json!(a));
        }
        if let Some(l) = &self.link {
            o.insert("link".into(), json!(l));
        }
        o.insert("role".into(), json!(self.role));
        if let Some(m) = &self.metadata {
            o.insert("metadata".into(), m.clone());
        }
        o.insert("status".into(), json!(self.status));
        if let Some(s) = &self.status_message {
            o.insert("statusMessage".into(), json!(s));
        }
        o.insert("createdAt".into(), json!(self.created_at));
        match self.updated_at {
            Some(u) => {
                o.insert("updatedAt".into(), json!(u));
            }
            None if in_list => {
                o.insert("updatedAt".into(), json!(self.created_at));
            }
            None => {}
        }
        if let Some(d) = self.deactivated_at {
            o.insert("deactivatedAt".into(), json!(d));
        }
        if with_tags && !self.tags.is_empty() {
            o.insert("tags".into(), json!(self.tags));
        }
        Value::Object(o)
    }
}

pub const USER_COLS: &str = "u.uid, u.name, u.avatar, u.link, u.role, u.status, u.status_message, \
     u.metadata, u.tags, u.created_at, u.updated_at, u.deactivated_at";

pub fn user_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserRow> {
    let metadata: Option<String> = r.get(7)?;
    let tags: Option<String> = r.get(8)?;
    Ok(UserRow {
        uid: r.get(0)?,
        name: r.get(1)?,
        avatar: r.get(2)?,
        link: r.get(3)?,
        role: r.get(4)?,
        status: r.get(5)?,
        status_message: r.get(6)?,
        metadata: metadata.and_then(|m| serde_json::from_str(&m).ok()),
        tags: tags
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default(),
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
        deactivated_at: r.get(11)?,
    })
}

/// A user, active or not.
pub fn get_user(conn: &Connection, app_id: &str, uid: &str) -> rusqlite::Result<Option<UserRow>> {
    conn.query_row(
        &format!("SELECT {USER_COLS} FROM users u WHERE u.app_id = ?1 AND u.uid = ?2"),
        [app_id, uid],
        user_from_row,
    )
    .optional()
}

/// The lower-cased words of a name, for `searchKey` word-prefix matching.
pub fn name_words(name: &str) -> Vec<String> {
    let mut words: Vec<String> = name
        .to_lowercase()
        .split(|c: char| c.is_whitespace())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    words.sort();
    words.dedup();
    words
}

fn write_user_index(
    conn: &Connection,
    app_id: &str,
    uid: &str,
    name: &str,
    tags: &[String],
) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM user_words WHERE app_id = ?1 AND uid = ?2",
        [app_id, uid],
    )?;
    conn.execute(
        "DELETE FROM user_tags WHERE app_id = ?1 AND uid = ?2",
        [app_id, uid],
    )?;
    let mut w = conn.prepare_cached(
        "INSERT OR IGNORE INTO user_words (app_id, word, uid) VALUES (?1, ?2, ?3)",
    )?;
    for word in name_words(name) {
        w.execute([app_id, &word, uid])?;
    }
    let mut t = conn
        .prepare_cached("INSERT OR IGNORE INTO user_tags (app_id, tag, uid) VALUES (?1, ?2, ?3)")?;
    for tag in tags {
        t.execute([app_id, tag, uid])?;
    }
    Ok(())
}

fn opt_json(v: &Option<Value>) -> Option<String> {
    v.as_ref().map(Value::to_string)
}

fn tags_json(tags: &[String]) -> Option<String> {
    (!tags.is_empty()).then(|| json!(tags).to_string())
}

pub fn insert_user(conn: &Connection, app_id: &str, u: &NewUser) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO users (app_id, uid, name, name_lower, avatar, link, role, status, \
         status_message, metadata, tags, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'offline', ?8, ?9, ?10, ?11)",
        params![
            app_id,
            u.uid,
            u.name,
            u.name.to_lowercase(),
            u.avatar,
            u.link,
            u.role,
            u.status_message,
            opt_json(&u.metadata),
            tags_json(&u.tags),
            u.created_at
        ],
    )?;
    write_user_index(conn, app_id, &u.uid, &u.name, &u.tags)?;
    user_blocks::split_if_full(conn, app_id, &u.uid)
}

/// Writes every mutable field of `u` back.
pub fn save_user(conn: &Connection, app_id: &str, u: &UserRow) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET name = ?3, name_lower = ?4, avatar = ?5, link = ?6, role = ?7, \
         status_message = ?8, metadata = ?9, tags = ?10, updated_at = ?11, deactivated_at = ?12 \
         WHERE app_id = ?1 AND uid = ?2",
        params![
            app_id,
            u.uid,
            u.name,
            u.name.to_lowercase(),
            u.avatar,
            u.link,
            u.role,
            u.status_message,
            opt_json(&u.metadata),
            tags_json(&u.tags),
            u.updated_at,
            u.deactivated_at
        ],
    )?;
    write_user_index(conn, app_id, &u.uid, &u.name, &u.tags)
}

pub fn set_deactivated(
    conn: &Connection,
    app_id: &str,
    uid: &str,
    at: Option<i64>,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET deactivated_at = ?3 WHERE app_id = ?1 AND uid = ?2",
        params![app_id, uid, at],
    )?;
    Ok(())
}

pub fn delete_user(conn: &Connection, app_id: &str, uid: &str) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM users WHERE app_id = ?1 AND uid = ?2",
        [app_id, uid],
    )?;
    Ok(())
}

/// A stored auth token.
pub struct TokenRow {
    pub uid: String,
    pub token: String,
    pub platform: Option<String>,
    pub user_agent: Option<String>,
    pub app_info: Option<Value>,
    pub created_at: i64,
}

impl TokenRow {
    pub fn to_json(&self) -> Value {
        let mut o = serde_json::Map::new();
        o.insert("uid".into(), json!(self.uid));
        o.insert("authToken".into(), json!(self.token));
        if let Some(p) = &self.platform {
            o.insert("platform".into(), json!(p));
        }
        if let Some(u) = &self.user_agent {
            o.insert("userAgent".into(), json!(u));
        }
        if let Some(a) = &self.app_info {
            o.insert("appInfo".into(), a.clone());
        }
        o.insert("createdAt".into(), json!(self.created_at));
        Value::Object(o)
    }
}

pub const TOKEN_COLS: &str = "uid, token, platform, user_agent, app_info, created_at";

pub fn token_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TokenRow> {
    let app_info: Option<String> = r.get(4)?;
    Ok(TokenRow {
        uid: r.get(0)?,
        token: r.get(1)?,
        platform: r.get(2)?,
        user_agent: r.get(3)?,
        app_info: app_info.and_then(|a| serde_json::from_str(&a).ok()),
        created_at: r.get(5)?,
    })
}

pub fn insert_token(
    conn: &Connection,
    app_id: &str,
    uid: &str,
    platform: Option<&str>,
    user_agent: Option<&str>,
    app_info: Option<&Value>,
) -> rusqlite::Result<TokenRow> {
    let created_at = now();
    let token = new_auth_token(uid, created_at);
    conn.execute(
        "INSERT INTO auth_tokens (app_id, uid, token, platform, user_agent, app_info, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            app_id,
            uid,
            token,
            platform,
            user_agent,
            app_info.map(Value::to_string),
            created_at
        ],
    )?;
    Ok(TokenRow {
        uid: uid.to_owned(),
        token,
        platform: platform.map(str::to_owned),
        user_agent: user_agent.map(str::to_owned),
        app_info: app_info.cloned(),
        created_at,
    })
}

pub fn get_token(
    conn: &Connection,
    app_id: &str,
    uid: &str,
    token: &str,
) -> rusqlite::Result<Option<TokenRow>> {
    conn.query_row(
        &format!(
            "SELECT {TOKEN_COLS} FROM auth_tokens WHERE app_id = ?1 AND uid = ?2 AND token = ?3"
        ),
        [app_id, uid, token],
        token_from_row,
    )
    .optional()
}

// ---------------------------------------------------------------------------------------------
// Seeding

const FIRST: [&str; 60] = [
    "alice", "bruno", "chloe", "diego", "elena", "farid", "grace", "hiro", "ines", "jamal", "kira",
    "liam", "maya", "noah", "olga", "pedro", "quinn", "rosa", "sami", "tara", "umar", "vera",
    "wei", "ximena", "yusuf", "zoe", "amara", "ben", "carla", "dmitri", "emma", "felix", "gita",
    "hugo", "ivy", "jonas", "kofi", "lena", "marco", "nadia", "oscar", "priya", "rafael", "sofia",
    "tomas", "ulla", "victor", "wanda", "yara", "zaid", "anika", "bilal", "cora", "dev", "esme",
    "fynn", "hana", "ingrid", "jin", "lucia",
];

const LAST: [&str; 60] = [
    "chen",
    "silva",
    "martin",
    "ramos",
    "petrova",
    "haddad",
    "kim",
    "tanaka",
    "garcia",
    "wright",
    "novak",
    "obrien",
    "patel",
    "fischer",
    "ivanova",
    "costa",
    "taylor",
    "lopez",
    "nasser",
    "singh",
    "farouk",
    "jensen",
    "zhang",
    "ortiz",
    "demir",
    "adams",
    "okafor",
    "cohen",
    "rossi",
    "volkov",
    "dubois",
    "weber",
    "rao",
    "laurent",
    "nguyen",
    "berg",
    "mensah",
    "schulz",
    "bianchi",
    "karimi",
    "lindqvist",
    "sharma",
    "moreno",
    "santos",
    "horvat",
    "nielsen",
    "hughes",
    "kowalski",
    "aziz",
    "khan",
    "mehta",
    "yilmaz",
    "walsh",
    "kapoor",
    "blake",
    "larsen",
    "sato",
    "olsen",
    "park",
    "fernandez",
];

/// The `i`-th first and last name of the demo lists (every pair once in 3,600).
pub fn demo_name(i: u64) -> (&'static str, &'static str) {
    let at = |n: u64| usize::try_from(n % 60).unwrap_or(0);
    (FIRST[at(i)], LAST[at(i / 60)])
}

/// `alice` → `Alice`.
pub fn title(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Seeds CometChat's demo app and management credential exactly once (the `seeded` meta row
/// marks it).
pub fn seed(tx: &Transaction<'_>, seed_demo_users: bool) -> anyhow::Result<()> {
    if get_meta(tx, "seeded")?.is_some() {
        return Ok(());
    }
    let t0 = now();
    set_meta(tx, "schema_version", "1")?;
    set_meta(tx, "mgmt_key", &random_hex(8))?;
    set_meta(tx, "mgmt_secret", &random_hex(20))?;
    let app = insert_app(tx, "Demo app", "us", t0 - 30 * 86_400)?;
    if seed_demo_users {
        seed_users(tx, &app.id, t0)?;
    }
    set_meta(tx, "seeded", &t0.to_string())?;
    Ok(())
}

fn seed_users(tx: &Transaction<'_>, app_id: &str, t0: i64) -> anyhow::Result<()> {
    for (i, (first, last)) in FIRST.iter().zip(LAST.iter()).enumerate() {
        let uid = format!("{first}-{last}");
        let name = format!("{} {}", title(first), title(last));
        let (role, tags, metadata) = match i {
            0 => (
                "admin",
                vec!["staff".to_owned(), "beta".to_owned()],
                Some(json!({"@private": {"email": "alice.chen@example.com"}, "team": "platform"})),
            ),
            1 => ("moderator", vec!["staff".to_owned()], None),
            4 => (
                "default",
                vec!["beta".to_owned()],
                Some(json!({"plan": "pro", "@private": {"contactNumber": "+1-555-0100"}})),
            ),
            7 => ("default", vec!["vip".to_owned(), "beta".to_owned()], None),
            12 => (
                "moderator",
                vec![],
                Some(json!({"timezone": "Asia/Kolkata"})),
            ),
            _ => ("default", vec![], None),
        };
        let user = NewUser {
            uid: uid.clone(),
            name,
            avatar: (i % 3 != 2).then(|| format!("https://avatars.example.com/{uid}.png")),
            link: (i % 10 == 3).then(|| format!("https://example.com/people/{uid}")),
            role: role.to_owned(),
            status_message: (i % 11 == 5).then(|| "Heads down this week".to_owned()),
            metadata,
            tags,
            created_at: t0 - 29 * 86_400 + (i as i64) * 37_000,
        };
        insert_user(tx, app_id, &user)?;
        match i {
            0 => {
                insert_token(tx, app_id, &uid, Some("web"), Some("Mozilla/5.0"), None)?;
                insert_token(tx, app_id, &uid, Some("ios"), None, None)?;
            }
            2 => {
                insert_token(tx, app_id, &uid, None, None, None)?;
            }
            58 | 59 => set_deactivated(tx, app_id, &uid, Some(t0 - 86_400))?,
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_format_in_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(sql_datetime(1_700_000_000), "2023-11-14 22:13:20");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn url_safe_ids_have_the_asked_length_and_alphabet() {
        let id = random_url_safe(6);
        assert_eq!(id.len(), 6);
        assert!(id.bytes().all(|b| URL_SAFE.contains(&b)));
    }
}
