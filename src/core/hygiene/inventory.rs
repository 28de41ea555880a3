//! The inventory: every key Keydeck knows, across connections (what each CometChat app lists
//! on the server, the keys of every app an Ably access token sees, and what each connection
//! stores in the keychain), with its
//! age, state and where it is stored; and the findings an admin acts on, each with its fix.
//!
//! Rows hold a key's masked prefix and the SHA-256 of its value (to recognise it, as retiring
//! records do), never the value.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::config::{Connection, ConnectionKind, RetiringKey, key_sha256};
use crate::core::client::{AblyAccess, ActiveClient, ClientProblem};
use crate::core::kinds;
use crate::providers::cometchat::ApiKeyQuery;
use crate::providers::{ApiError, ErrorKind};
use crate::secret::Secret;
use crate::vault::Vault;

/// The age policy when none is set: a key older than this is due for rotation.
pub const DEFAULT_POLICY_DAYS: i64 = 90;
/// "Rotate by" dates this close are shown at start-up.
pub const DUE_SOON_DAYS: i64 = 7;

/// Where a key stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    Active,
    /// Replaced by a rotation; its overlap ends then (Unix seconds).
    Retiring {
        until_unix: i64,
    },
    Revoked,
    /// Stored in the keychain; the server was not asked (it cannot list keys for this kind or
    /// this key's scope).
    StoredOnly,
}

impl KeyState {
    pub fn word(&self, now_unix: i64) -> String {
        match self {
            KeyState::Active => "active".to_owned(),
            KeyState::Retiring { until_unix } if *until_unix <= now_unix => {
                "retiring, overlap ended".to_owned()
            }
            KeyState::Retiring { until_unix } => format!(
                "retiring, {} left",
                crate::words::span(until_unix - now_unix)
            ),
            KeyState::Revoked => "revoked".to_owned(),
            KeyState::StoredOnly => "stored".to_owned(),
        }
    }
}

/// One key Keydeck knows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyRow {
    pub provider: &'static str,
    pub connection_id: String,
    pub connection: String,
    /// The app it belongs to (CometChat or Ably app id), when there is one.
    pub app: String,
    pub name: String,
    pub masked: String,
    #[serde(skip)]
    pub key_sha256: String,
    /// `fullAccess`/`authOnly`, an Ably capability summary, or the stored field's label.
    pub scope: String,
    pub created_unix: Option<i64>,
    pub state: KeyState,
    /// The connections that store this key in the keychain.
    pub stored_in: Vec<String>,
    /// Set locally by the user ("rotate by"), Unix seconds.
    pub rotate_by_unix: Option<i64>,
    /// When Keydeck last acted through a connection that stores this key (its audit trail),
    /// Unix seconds.
    pub last_used_unix: Option<i64>,
    /// Keydeck used it only for work an authOnly key can do (users and tokens created).
    #[serde(skip)]
    pub auth_only_work: bool,
    /// An Ably key allowed every operation on every resource.
    #[serde(skip)]
    pub allows_everything: bool,
}

/// What asking one connection's server went like.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reached {
    Listed,
    /// Not asked (no listing for this kind or scope).
    NotAsked,
    /// The stored credential was refused (401/403): why.
    Rejected(String),
    /// The server could not be reached or failed: why.
    Failed(String),
}

/// One connection's part of the inventory.
#[derive(Clone, Debug)]
pub struct Part {
    pub connection_id: String,
    pub connection: String,
    pub rows: Vec<KeyRow>,
    pub reached: Reached,
    /// Stored keys the server's list does not hold (deleted elsewhere): masked prefixes.
    pub drift: Vec<String>,
}

/// One secret a connection stores: its field, the field's label and the value.
pub struct Stored {
    pub field: &'static str,
    pub label: &'static str,
    pub value: Secret,
}

/// The secrets a connection stores (the session's, by vault account), field by field.
pub fn stored_secrets(c: &Connection, secrets: &HashMap<String, Secret>) -> Vec<Stored> {
    kinds::spec(&c.kind)
        .secret_fields()
        .into_iter()
        .filter_map(|(field, label)| {
            secrets
                .get(&Vault::account(&c.id, field))
                .filter(|s| !s.is_empty())
                .map(|s| Stored {
                    field,
                    label,
                    value: s.clone(),
                })
        })
        .collect()
}

/// Asks one connection's server for its keys (CometChat app, Ably app) and adds what the
/// keychain stores for it. Never fails: what went wrong is in [`Part::reached`].
pub async fn gather(
    c: Connection,
    client: Result<ActiveClient, ClientProblem>,
    stored: Vec<Stored>,
) -> Part {
    let mut part = Part {
        connection_id: c.id.clone(),
        connection: c.label.clone(),
        rows: Vec::new(),
        reached: Reached::NotAsked,
        drift: Vec::new(),
    };
    let listed = match client {
        Ok(ActiveClient::CometChat(cc)) => Some(
            cc.list_api_keys(&ApiKeyQuery::default())
                .await
                .map(|keys| cometchat_rows(&c, cc.app_id(), keys)),
        ),
        Ok(ActiveClient::Ably(a)) => Some(ably_account_rows(&c, &a).await),
        Ok(_) => None,
        Err(p) => {
            part.reached = Reached::Failed(p.message());
            None
        }
    };
    match listed {
        Some(Ok(rows)) => {
            part.reached = Reached::Listed;
            part.rows = rows;
        }
        Some(Err(e)) if e.is_code("AUTH_ERR_NO_ACCESS") => part.reached = Reached::NotAsked,
        Some(Err(e)) => part.reached = reached_after(&e),
        None => {}
    }
    for Stored { label, value, .. } in stored {
        let hash = key_sha256(&value);
        if part.rows.iter().any(|r| r.key_sha256 == hash) {
            continue;
        }
        // Listed, but not there: deleted behind Keydeck's back. Only the app's own key field
        // is compared (an Ably access token is not one of the app's keys).
        if part.reached == Reached::Listed && matches!(c.kind, ConnectionKind::CometChatApp { .. })
        {
            part.drift.push(value.masked());
        }
        part.rows.push(stored_row(&c, label, &value));
    }
    part
}

/// The keys of every app the access token sees, not only the connection's chosen app (that is
/// only where its tabs open): the account's apps, then each app's keys, in parallel. When the
/// apps cannot be listed (a token without `read:app`), the chosen app's keys alone. An app
/// whose keys cannot be listed is left out (logged); an error only when no app could be.
async fn ably_account_rows(c: &Connection, a: &AblyAccess) -> Result<Vec<KeyRow>, ApiError> {
    let apps = match account_apps(a).await {
        Ok(apps) => apps,
        Err(e) => match &a.app_id {
            Some(app) => vec![app.clone()],
            None => return Err(e),
        },
    };
    let lists = futures::future::join_all(apps.iter().map(|app| a.control.list_keys(app))).await;
    let mut rows = Vec::new();
    let mut failed: Vec<(&String, ApiError)> = Vec::new();
    for (app, listed) in apps.iter().zip(lists) {
        match listed {
            Ok(keys) => rows.extend(ably_rows(c, app, keys)),
            Err(e) => failed.push((app, e)),
        }
    }
    if rows.is_empty()
        && let Some((_, e)) = failed.pop()
    {
        return Err(e);
    }
    for (app, e) in failed {
        tracing::warn!(
            "the keys of Ably app {app} were left out of the inventory of {}: {}",
            c.label,
            crate::core::errors::explain(&e).title
        );
    }
    Ok(rows)
}

/// The ids of the account's apps (the connection's account, else the token's).
async fn account_apps(a: &AblyAccess) -> Result<Vec<String>, ApiError> {
    let account = match &a.account_id {
        Some(id) => id.clone(),
        None => a.control.me().await?.account.id,
    };
    let apps = a.control.list_apps(&account).await?;
    Ok(apps.into_iter().map(|app| app.id).collect())
}

fn reached_after(e: &ApiError) -> Reached {
    match e.kind {
        ErrorKind::Unauthenticated | ErrorKind::PermissionDenied => {
            Reached::Rejected(crate::core::errors::explain(e).title)
        }
        _ => Reached::Failed(crate::core::errors::explain(e).title),
    }
}

fn base_row(c: &Connection, app: &str, name: &str, value: &Secret) -> KeyRow {
    KeyRow {
        provider: kinds::spec(&c.kind).provider(),
        connection_id: c.id.clone(),
        connection: c.label.clone(),
        app: app.to_owned(),
        name: name.to_owned(),
        masked: value.masked(),
        key_sha256: key_sha256(value),
        scope: String::new(),
        created_unix: None,
        state: KeyState::Active,
        stored_in: Vec::new(),
        rotate_by_unix: None,
        last_used_unix: None,
        auth_only_work: false,
        allows_everything: false,
    }
}

fn cometchat_rows(
    c: &Connection,
    app_id: &str,
    keys: Vec<crate::providers::cometchat::ApiKey>,
) -> Vec<KeyRow> {
    keys.into_iter()
        .map(|k| KeyRow {
            scope: k.scope.to_string(),
            created_unix: (k.created_at > 0).then_some(k.created_at),
            ..base_row(c, app_id, &k.name, &k.api_key)
        })
        .collect()
}

fn ably_rows(
    c: &Connection,
    app_id: &str,
    keys: Vec<crate::providers::ably::AblyKey>,
) -> Vec<KeyRow> {
    keys.into_iter()
        .map(|k| {
            let everything = k
                .capability
                .iter()
                .any(|(r, ops)| r.contains('*') && ops.iter().any(|o| o == "*"));
            let name = if k.name.is_empty() {
                k.key_name()
            } else {
                k.name.clone()
            };
            KeyRow {
                scope: crate::model::capability::summary(&k.capability),
                created_unix: (k.created > 0).then_some(k.created / 1000),
                state: match k.status {
                    crate::providers::ably::KeyStatus::Enabled => KeyState::Active,
                    crate::providers::ably::KeyStatus::Revoked => KeyState::Revoked,
                },
                allows_everything: everything,
                ..base_row(c, app_id, &name, &k.key)
            }
        })
        .collect()
}

fn stored_row(c: &Connection, label: &str, value: &Secret) -> KeyRow {
    let app = match &c.kind {
        ConnectionKind::CometChatApp { app_id, .. } => app_id.clone(),
        ConnectionKind::AblyAccount { app_id, .. } => app_id.clone().unwrap_or_default(),
        _ => String::new(),
    };
    KeyRow {
        scope: label.to_owned(),
        state: KeyState::StoredOnly,
        ..base_row(c, &app, &format!("{label} of {}", c.label), value)
    }
}

/// The local, non-secret facts the inventory adds: when each key should be rotated by (set by
/// the user), and the age policy. Kept in `hygiene.json` beside the connections.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Local {
    /// Key SHA-256 → rotate by (Unix seconds).
    #[serde(default)]
    pub rotate_by: HashMap<String, i64>,
    /// Older than this many days is a finding (default 90).
    #[serde(default)]
    pub policy_days: Option<i64>,
    /// Connection id → its own age policy in days, where the user set one (a prod app rotated
    /// monthly, a sandbox never): it replaces [`Self::policy_days`] for that connection's keys.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub connection_policy_days: BTreeMap<String, i64>,
    /// Key SHA-256 → the day (`YYYY-MM-DD`, UTC) its rotate-by reminder was last shown as a
    /// desktop notification: at most one a day (the `remind` module).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub notified: BTreeMap<String, String>,
}

impl Local {
    pub const FILE: &'static str = "hygiene.json";

    /// The policy every connection without its own follows.
    pub fn policy_days(&self) -> i64 {
        self.policy_days.unwrap_or(DEFAULT_POLICY_DAYS)
    }

    /// The policy of one connection: its own when set, else the global one.
    pub fn policy_days_for(&self, connection_id: &str) -> i64 {
        self.connection_policy_days
            .get(connection_id)
            .copied()
            .unwrap_or_else(|| self.policy_days())
    }

    pub fn load(config_dir: &std::path::Path) -> Self {
        std::fs::read_to_string(config_dir.join(Self::FILE))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    pub fn save(&self, config_dir: &std::path::Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        crate::config::write_atomically(&config_dir.join(Self::FILE), text.as_bytes())
    }
}

/// What Keydeck did through one connection, from the audit trail.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub last_unix: i64,
    /// Every action recorded through it (`user.created`, `key.deleted`…).
    pub actions: std::collections::BTreeSet<String>,
}

/// The work an authOnly key can do (and what touches no server).
const AUTH_ONLY_WORK: [&str; 2] = ["user.created", "token.issued"];
const NO_SERVER: [&str; 6] = [
    "connection.added",
    "connection.changed",
    "connection.tested",
    "key.revealed",
    "secret.copied",
    "token.revealed",
];

/// What Keydeck did through each connection (by its label, as the trail names it).
pub fn usage_from_audit(records: &[crate::audit::Record]) -> HashMap<String, Usage> {
    let mut out: HashMap<String, Usage> = HashMap::new();
    for r in records.iter().filter(|r| !r.connection.is_empty()) {
        let u = out.entry(r.connection.clone()).or_default();
        u.last_unix = u.last_unix.max(r.time_ms / 1000);
        u.actions.insert(r.action.clone());
    }
    out
}

/// The whole inventory from its parts: which connections store each key, retiring states
/// from the retiring records, rotate-by dates from the local file, last use from the trail.
pub fn assemble(
    parts: &[Part],
    retiring: &[RetiringKey],
    local: &Local,
    usage: &HashMap<String, Usage>,
) -> Vec<KeyRow> {
    let mut stored: HashMap<&str, Vec<String>> = HashMap::new();
    for p in parts {
        for r in p.rows.iter().filter(|r| r.state == KeyState::StoredOnly) {
            stored
                .entry(r.key_sha256.as_str())
                .or_default()
                .push(p.connection.clone());
        }
    }
    // By hash, so that 10,000 keys cost one pass and not one pass per key.
    let listed: std::collections::HashSet<&str> = parts
        .iter()
        .flat_map(|q| &q.rows)
        .filter(|q| q.state != KeyState::StoredOnly)
        .map(|q| q.key_sha256.as_str())
        .collect();
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut rows: Vec<KeyRow> = Vec::new();
    for p in parts {
        for r in &p.rows {
            // A stored key the server listed too is one row: the listed one.
            if r.state == KeyState::StoredOnly && listed.contains(r.key_sha256.as_str()) {
                continue;
            }
            if !seen.insert(r.key_sha256.as_str()) {
                continue;
            }
            let mut r = r.clone();
            r.stored_in = stored
                .get(r.key_sha256.as_str())
                .cloned()
                .unwrap_or_default();
            if let Some(rk) = retiring.iter().find(|k| k.key_sha256 == r.key_sha256) {
                r.state = KeyState::Retiring {
                    until_unix: rk.deadline_unix,
                };
            }
            r.rotate_by_unix = local.rotate_by.get(&r.key_sha256).copied();
            let used: Vec<&Usage> = r.stored_in.iter().filter_map(|c| usage.get(c)).collect();
            r.last_used_unix = used.iter().map(|u| u.last_unix).max();
            let actions: Vec<&String> = used.iter().flat_map(|u| &u.actions).collect();
            r.auth_only_work = actions.iter().any(|a| AUTH_ONLY_WORK.contains(&a.as_str()))
                && actions.iter().all(|a| {
                    AUTH_ONLY_WORK.contains(&a.as_str()) || NO_SERVER.contains(&a.as_str())
                });
            rows.push(r);
        }
    }
    rows
}

/// What a finding asks the admin to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fix {
    /// Rotate the key (on its connection's API keys tab).
    Rotate { connection_id: String },
    /// Delete the retiring key (on its connection's API keys tab).
    Delete { connection_id: String },
    /// Edit the connection (its stored credential is gone or refused).
    EditConnection { connection_id: String },
}

/// One thing to act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub title: String,
    pub detail: String,
    pub fix: Fix,
    /// Due within [`DUE_SOON_DAYS`] (or already past): shown at start-up.
    pub due_soon: bool,
}

/// The findings over an inventory, its parts (drift, refused credentials) and the policy.
pub fn findings(rows: &[KeyRow], parts: &[Part], local: &Local, now_unix: i64) -> Vec<Finding> {
    let mut out = Vec::new();
    let day = 86_400;
    for r in rows {
        let policy = local.policy_days_for(&r.connection_id);
        let rotate = Fix::Rotate {
            connection_id: r.connection_id.clone(),
        };
        let who = format!("{} ({}) of {}", r.name, r.masked, r.connection);
        if let Some(created) = r.created_unix
            && r.state == KeyState::Active
            && now_unix - created > policy * day
        {
            out.push(Finding {
                title: format!("{who} is older than {policy} days"),
                detail: format!(
                    "Created {} ago. Rotate it: a new key with the same name and scope, the old one kept for an overlap.",
                    crate::words::span(now_unix - created)
                ),
                fix: rotate.clone(),
                due_soon: false,
            });
        }
        if let KeyState::Retiring { until_unix } = r.state
            && until_unix <= now_unix
        {
            out.push(Finding {
                title: format!("{who} is still on the server after its overlap ended"),
                detail: "Its replacement is in use; delete the old key.".to_owned(),
                fix: Fix::Delete {
                    connection_id: r.connection_id.clone(),
                },
                due_soon: true,
            });
        }
        if let Some(by) = r.rotate_by_unix
            && by - now_unix <= DUE_SOON_DAYS * day
            && r.state == KeyState::Active
        {
            out.push(Finding {
                title: if by <= now_unix {
                    format!("{who} was to be rotated by {}", crate::words::date(by))
                } else {
                    format!("{who} is to be rotated by {}", crate::words::date(by))
                },
                detail: "The date you set for it.".to_owned(),
                fix: rotate.clone(),
                due_soon: true,
            });
        }
        if r.auth_only_work && r.scope == "fullAccess" && r.state == KeyState::Active {
            out.push(Finding {
                title: format!("{who} is fullAccess but Keydeck only ever used it for authOnly work"),
                detail: "It has only created users and issued tokens. Rotate it into an authOnly key, which cannot manage API keys or list users.".to_owned(),
                fix: rotate.clone(),
                due_soon: false,
            });
        }
        if r.allows_everything && r.state == KeyState::Active {
            out.push(Finding {
                title: format!("{who} may do everything on every channel"),
                detail: "Give it only the operations and channels its clients use.".to_owned(),
                fix: rotate.clone(),
                due_soon: false,
            });
        }
        if r.stored_in.len() > 1 {
            out.push(Finding {
                title: format!("{who} is stored in {} connections", r.stored_in.len()),
                detail: format!(
                    "{}: rotating or deleting it breaks all of them.",
                    r.stored_in.join(", ")
                ),
                fix: Fix::EditConnection {
                    connection_id: r.connection_id.clone(),
                },
                due_soon: false,
            });
        }
    }
    out.extend(connection_findings(parts));
    out
}

/// What each connection's answer says: a stored key gone from the server, a refused credential.
fn connection_findings(parts: &[Part]) -> Vec<Finding> {
    let mut out = Vec::new();
    for p in parts {
        let edit = Fix::EditConnection {
            connection_id: p.connection_id.clone(),
        };
        for masked in &p.drift {
            out.push(Finding {
                title: format!(
                    "{}'s stored key {masked} no longer exists on the server",
                    p.connection
                ),
                detail: "It was deleted elsewhere. Edit the connection to store a key that exists, or remove the connection.".to_owned(),
                fix: edit.clone(),
                due_soon: true,
            });
        }
        if let Reached::Rejected(why) = &p.reached {
            // Its key was refused: if another connection lists the same app and the key is
            // not among its keys, it was deleted behind Keydeck's back.
            let gone: Vec<&KeyRow> = p
                .rows
                .iter()
                .filter(|r| {
                    r.state == KeyState::StoredOnly
                        && !r.app.is_empty()
                        && app_listed_without(parts, &r.app, &r.key_sha256)
                })
                .collect();
            if !gone.is_empty() {
                for r in gone {
                    out.push(Finding {
                        title: format!(
                            "{}'s stored key {} no longer exists on the server",
                            p.connection, r.masked
                        ),
                        detail: "It was deleted elsewhere. Edit the connection to store a key that exists, or remove the connection.".to_owned(),
                        fix: edit.clone(),
                        due_soon: true,
                    });
                }
                continue;
            }
            out.push(Finding {
                title: format!("{}'s stored credential is refused", p.connection),
                detail: format!("{why}. Edit the connection and store a working one."),
                fix: edit.clone(),
                due_soon: true,
            });
        }
    }
    out
}

/// Whether another connection listed `app`'s keys and `key_sha256` is not among them.
fn app_listed_without(parts: &[Part], app: &str, key_sha256: &str) -> bool {
    let listing: Vec<&KeyRow> = parts
        .iter()
        .filter(|q| q.reached == Reached::Listed)
        .flat_map(|q| &q.rows)
        .filter(|r| r.app == app && r.state != KeyState::StoredOnly)
        .collect();
    !listing.is_empty() && listing.iter().all(|r| r.key_sha256 != key_sha256)
}

/// The inventory as CSV for an auditor: masked prefixes only, never a value.
pub fn to_csv(rows: &[KeyRow], now_unix: i64) -> String {
    let mut out =
        String::from("provider,connection,app,name,key,scope,created,state,stored_in,rotate_by\n");
    for r in rows {
        let fields = [
            r.provider.to_owned(),
            r.connection.clone(),
            r.app.clone(),
            r.name.clone(),
            r.masked.clone(),
            r.scope.clone(),
            r.created_unix.map(crate::words::date).unwrap_or_default(),
            r.state.word(now_unix),
            r.stored_in.join("; "),
            r.rotate_by_unix.map(crate::words::date).unwrap_or_default(),
            r.last_used_unix.map(crate::words::date).unwrap_or_default(),
        ];
        let line: Vec<String> = fields.iter().map(|f| crate::words::csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

/// The inventory as JSON for an auditor: masked prefixes only.
pub fn to_json(rows: &[KeyRow]) -> String {
    serde_json::to_string_pretty(rows).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, hash: &str) -> KeyRow {
        KeyRow {
            provider: "Ably account",
            connection_id: "a1".to_owned(),
            connection: "Chat (Ably)".to_owned(),
            app: "app1".to_owned(),
            name: name.to_owned(),
            masked: "abcd…".to_owned(),
            key_sha256: hash.to_owned(),
            scope: "[*]*: *".to_owned(),
            created_unix: Some(1_000),
            state: KeyState::Active,
            stored_in: Vec::new(),
            rotate_by_unix: None,
            last_used_unix: None,
            auth_only_work: false,
            allows_everything: false,
        }
    }

    #[test]
    fn an_ably_key_allowed_everything_and_a_past_rotate_by_date_are_findings() {
        let now = 10 * 86_400;
        let mut root = row("Root", "h1");
        root.allows_everything = true;
        let mut chat = row("Chat client", "h2");
        chat.rotate_by_unix = Some(now - 86_400);
        let quiet = row("Quiet", "h3");
        let local = Local::default();
        let found = findings(&[root, chat, quiet], &[], &local, now);
        let titles: Vec<&str> = found.iter().map(|f| f.title.as_str()).collect();
        assert_eq!(found.len(), 2, "{titles:?}");
        assert!(titles[0].contains("Root") && titles[0].contains("everything"));
        assert!(titles[1].contains("was to be rotated by"));
        assert!(found[1].due_soon);
        // The policy: 9 days old is over a 5-day policy.
        let strict = Local {
            policy_days: Some(5),
            ..Local::default()
        };
        assert_eq!(
            findings(&[row("Quiet", "h3")], &[], &strict, now)[0].title,
            "Quiet (abcd…) of Chat (Ably) is older than 5 days"
        );
    }

    #[test]
    fn a_connections_own_age_policy_replaces_the_global_one_for_its_keys_only() {
        let now = 10 * 86_400;
        let mut other = row("Elsewhere", "h4");
        other.connection_id = "b2".to_owned();
        other.connection = "Other".to_owned();
        // Both keys are 9 days old; the global policy is 90 days, a1's own is 5.
        let local = Local {
            connection_policy_days: [("a1".to_owned(), 5)].into_iter().collect(),
            ..Local::default()
        };
        assert_eq!(local.policy_days_for("a1"), 5);
        assert_eq!(local.policy_days_for("b2"), DEFAULT_POLICY_DAYS);
        let found = findings(&[row("Quiet", "h3"), other.clone()], &[], &local, now);
        let titles: Vec<&str> = found.iter().map(|f| f.title.as_str()).collect();
        assert_eq!(
            titles,
            ["Quiet (abcd…) of Chat (Ably) is older than 5 days"]
        );
        // A longer one of its own keeps a connection quiet under a strict global policy.
        let strict = Local {
            policy_days: Some(5),
            connection_policy_days: [("b2".to_owned(), 30)].into_iter().collect(),
            ..Local::default()
        };
        let found = findings(&[row("Quiet", "h3"), other], &[], &strict, now);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].title.starts_with("Quiet"));
        // Kept in hygiene.json beside the global one, and read back.
        let dir = tempfile::tempdir().unwrap();
        strict.save(dir.path()).unwrap();
        let text = std::fs::read_to_string(dir.path().join(Local::FILE)).unwrap();
        assert!(text.contains("connection_policy_days"), "{text}");
        assert_eq!(Local::load(dir.path()), strict);
        // A file written before per-connection policies reads as none.
        std::fs::write(dir.path().join(Local::FILE), r#"{"policy_days": 20}"#).unwrap();
        assert_eq!(Local::load(dir.path()).policy_days_for("b2"), 20);
    }

    #[test]
    fn a_key_listed_and_stored_is_one_row_that_names_where_it_is_stored() {
        let listed = row("Root", "h1");
        let mut stored = row("API key of Kiosk", "h1");
        stored.state = KeyState::StoredOnly;
        stored.connection = "Kiosk".to_owned();
        let parts = [
            Part {
                connection_id: "a1".to_owned(),
                connection: "Chat (Ably)".to_owned(),
                rows: vec![listed],
                reached: Reached::Listed,
                drift: Vec::new(),
            },
            Part {
                connection_id: "k".to_owned(),
                connection: "Kiosk".to_owned(),
                rows: vec![stored],
                reached: Reached::NotAsked,
                drift: Vec::new(),
            },
        ];
        let rows = assemble(&parts, &[], &Local::default(), &HashMap::new());
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].stored_in, ["Kiosk"]);
        let csv = to_csv(&rows, 0);
        assert!(csv.contains("Kiosk") && !csv.contains("h1"), "{csv}");
    }

    #[test]
    fn a_full_access_key_used_only_for_users_and_tokens_is_a_finding_with_its_last_use() {
        let mut key = row("Rest API Key", "h9");
        key.scope = "fullAccess".to_owned();
        key.created_unix = None;
        let mut stored = key.clone();
        stored.state = KeyState::StoredOnly;
        stored.connection = "Support desk".to_owned();
        let part = |rows: Vec<KeyRow>, connection: &str, reached| Part {
            connection_id: connection.to_owned(),
            connection: connection.to_owned(),
            rows,
            reached,
            drift: Vec::new(),
        };
        let parts = [
            part(vec![key], "Chat (Ably)", Reached::Listed),
            part(vec![stored], "Support desk", Reached::NotAsked),
        ];
        let record = |action: &str, secs: i64| crate::audit::Record {
            seq: 1,
            time_ms: secs * 1000,
            time: String::new(),
            user: String::new(),
            connection: "Support desk".to_owned(),
            action: action.to_owned(),
            target: String::new(),
            outcome: "ok".to_owned(),
            prev: String::new(),
            hash: String::new(),
            chain: None,
            via: None,
        };
        let only_users =
            usage_from_audit(&[record("user.created", 50), record("token.issued", 70)]);
        let rows = assemble(&parts, &[], &Local::default(), &only_users);
        assert_eq!(rows[0].last_used_unix, Some(70));
        let found = findings(&rows, &parts, &Local::default(), 100);
        assert!(
            found
                .iter()
                .any(|f| f.title.contains("only ever used it for authOnly work")),
            "{found:?}"
        );
        // One key deleted through it: the fullAccess scope was needed.
        let mixed = usage_from_audit(&[record("token.issued", 50), record("key.deleted", 60)]);
        let rows = assemble(&parts, &[], &Local::default(), &mixed);
        assert!(
            findings(&rows, &parts, &Local::default(), 100)
                .iter()
                .all(|f| !f.title.contains("authOnly work"))
        );
    }
}
