//! API keys of a CometChat app: list, create, change, delete, rotate.

use crate::config::{RetiringKey, key_sha256};
use crate::providers::ApiError;
use crate::providers::cometchat::{ApiKey, ApiKeyQuery, ApiKeyUpdate, CometChatClient, NewApiKey};
use crate::secret::Secret;

use crate::config::Environment;
use crate::providers::cometchat::Scope;

use super::{Guard, Recorder};

/// A key as the audit trail names it: its name and masked value.
pub fn target(key: &ApiKey) -> String {
    format!("{} ({})", key.name, key.api_key.masked())
}

/// What deleting `key` asks first: a confirmation that names it; on a prod connection, its
/// name typed (whatever its scope: an authOnly key in use stops logins just as surely).
pub fn delete_guard(environment: Environment, key: &ApiKey) -> Guard {
    Guard::destructive(environment, &key.name)
}

/// What rotating `key` asks first: its own dialog says what happens; on a prod connection, the
/// name typed as well (a rotation puts a second live key into the world).
pub fn rotate_guard(environment: Environment, key: &ApiKey) -> Guard {
    match environment {
        Environment::Prod => Guard::TypeName(key.name.clone()),
        _ => Guard::None,
    }
}

/// What changing `key` to `scope` asks first: nothing, unless it widens the key (authOnly →
/// fullAccess) on a prod connection; then the name typed.
pub fn scope_change_guard(environment: Environment, key: &ApiKey, scope: Scope) -> Guard {
    let widens = key.scope == Scope::AuthOnly && scope == Scope::FullAccess;
    match environment {
        Environment::Prod if widens => Guard::TypeName(key.name.clone()),
        _ => Guard::None,
    }
}

pub async fn list(client: &CometChatClient) -> Result<Vec<ApiKey>, ApiError> {
    client.list_api_keys(&ApiKeyQuery::default()).await
}

pub async fn create(
    client: &CometChatClient,
    rec: &Recorder,
    new: &NewApiKey,
) -> Result<ApiKey, ApiError> {
    let result = client.create_api_key(new).await;
    let name = match &result {
        Ok(k) => target(k),
        Err(_) => new.name.clone(),
    };
    rec.outcome("key.created", &name, &result);
    result
}

pub async fn update(
    client: &CometChatClient,
    rec: &Recorder,
    key: &Secret,
    update: &ApiKeyUpdate,
) -> Result<ApiKey, ApiError> {
    let result = client.update_api_key(key, update).await;
    let name = match &result {
        Ok(k) => target(k),
        Err(_) => key.masked(),
    };
    rec.outcome("key.changed", &name, &result);
    result
}

pub async fn delete(
    client: &CometChatClient,
    rec: &Recorder,
    key: &ApiKey,
) -> Result<(), ApiError> {
    // "Not found" after a retry whose first try may have gone through: it is deleted.
    let result = match client.delete_api_key(&key.api_key).await {
        Err(e) if e.is_gone_after_retry() => Ok(()),
        other => other.map(|_| ()),
    };
    rec.outcome("key.deleted", &target(key), &result);
    result
}

/// Creates a replacement with the same name and scope; the old key stays until deleted.
pub async fn rotate(
    client: &CometChatClient,
    rec: &Recorder,
    old: &ApiKey,
) -> Result<ApiKey, ApiError> {
    let new = NewApiKey {
        name: old.name.clone(),
        scope: old.scope,
    };
    let result = client.create_api_key(&new).await;
    let what = match &result {
        Ok(k) => format!("{} → {}", target(old), k.api_key.masked()),
        Err(_) => target(old),
    };
    rec.outcome("key.rotated", &what, &result);
    result
}

/// What a rotation leaves behind in the config: the old key, remembered as retiring until
/// `deadline_unix` (by hash and masked prefix, never its value). The window lists the key as
/// retiring from this record, whichever face rotated it.
pub fn retiring_record(connection_id: &str, old: &ApiKey, deadline_unix: i64) -> RetiringKey {
    RetiringKey {
        connection_id: connection_id.to_owned(),
        key_sha256: key_sha256(&old.api_key),
        masked: old.api_key.masked(),
        name: old.name.clone(),
        deadline_unix,
    }
}
