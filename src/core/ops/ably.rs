//! Keys of an Ably app (Control API) and token revocation (REST, with a key of the app).

use crate::core::client::AblyAccess;
use crate::model::capability::Capability;
use crate::providers::ApiError;
use crate::providers::ably::{
    AblyApp, AblyKey, AblyRestClient, KeyPatch, NewAblyKey, RevokeResult, RevokeTokens,
};
use crate::secret::Secret;

use crate::config::Environment;

use super::{Guard, Recorder};

/// A key as the audit trail names it.
pub fn target(key: &AblyKey) -> String {
    format!("Ably key {} ({})", key.name, key.id)
}

/// What revoking a key asks first: a confirmation that names it; its name typed on prod.
pub fn revoke_key_guard(environment: Environment, name: &str) -> Guard {
    Guard::destructive(environment, name)
}

/// What revoking tokens with a key asks first: a confirmation that names the targets; on
/// prod, the key's name typed.
pub fn revoke_tokens_guard(environment: Environment, key_name: &str) -> Guard {
    Guard::destructive(environment, key_name)
}

/// What saving a changed capability asks first: nothing, unless it widens what the key can do
/// on a prod connection; then the key's name typed. A new key has nothing to widen.
pub fn capability_change_guard(
    environment: Environment,
    key_name: &str,
    before: &Capability,
    after: &Capability,
) -> Guard {
    let widens = !crate::model::capability::widening(before, after).is_empty();
    match environment {
        Environment::Prod if widens => Guard::TypeName(key_name.to_owned()),
        _ => Guard::None,
    }
}

/// The apps of the connection's account (the account of the token when none is chosen).
pub async fn list_apps(a: &AblyAccess) -> Result<Vec<AblyApp>, ApiError> {
    let account = match &a.account_id {
        Some(id) => id.clone(),
        None => a.control.me().await?.account.id,
    };
    a.control.list_apps(&account).await
}

pub async fn list_keys(a: &AblyAccess, app_id: &str) -> Result<Vec<AblyKey>, ApiError> {
    a.control.list_keys(app_id).await
}

pub async fn create_key(
    a: &AblyAccess,
    rec: &Recorder,
    app_id: &str,
    new: &NewAblyKey,
) -> Result<AblyKey, ApiError> {
    let result = a.control.create_key(app_id, new).await;
    let what = match &result {
        Ok(k) => target(k),
        Err(_) => format!("Ably key {} in app {app_id}", new.name),
    };
    rec.outcome("ably.key.created", &what, &result);
    result
}

pub async fn update_key(
    a: &AblyAccess,
    rec: &Recorder,
    app_id: &str,
    key_id: &str,
    patch: &KeyPatch,
) -> Result<AblyKey, ApiError> {
    let result = a.control.update_key(app_id, key_id, patch).await;
    let what = match &result {
        Ok(k) => target(k),
        Err(_) => format!("Ably key {key_id}"),
    };
    rec.outcome("ably.key.changed", &what, &result);
    result
}

pub async fn revoke_key(
    a: &AblyAccess,
    rec: &Recorder,
    app_id: &str,
    key_id: &str,
) -> Result<(), ApiError> {
    let result = a.control.revoke_key(app_id, key_id).await;
    rec.outcome(
        "ably.key.revoked",
        &format!("Ably key {key_id} of app {app_id}"),
        &result,
    );
    result
}

/// Revokes tokens by target with a key of the app (Ably's REST API, not the Control API).
pub async fn revoke_tokens(
    a: &AblyAccess,
    rec: &Recorder,
    key: &Secret,
    request: &RevokeTokens,
) -> Result<RevokeResult, ApiError> {
    let result = match AblyRestClient::new(a.rest_url.as_deref(), key) {
        Ok(rest) => rest.revoke_tokens(request).await,
        Err(e) => Err(e),
    };
    let what = format!(
        "tokens of {} with key {}",
        request.targets.join(", "),
        key.masked()
    );
    rec.outcome("ably.tokens.revoked", &what, &result);
    result
}
