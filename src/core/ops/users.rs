//! Users of a CometChat app: create, look up, deactivate, reactivate, delete.

use crate::providers::cometchat::{CometChatClient, NewUser, User, UserUpdate};
use crate::providers::{ApiError, ErrorKind};

use crate::config::Environment;

use super::{Guard, Recorder};

/// What deactivating a user asks first: a confirmation that names them (their tokens stop
/// working at once). Not typed on prod: it is undone by Reactivate.
pub fn deactivate_guard() -> Guard {
    Guard::Confirm
}

/// What deleting a user for good asks first: a confirmation; on prod, the uid typed.
pub fn delete_guard(environment: Environment, uid: &str) -> Guard {
    Guard::destructive(environment, uid)
}

/// Creates a user; when the answer carries the first auth token, that is recorded too.
pub async fn create(
    client: &CometChatClient,
    rec: &Recorder,
    new: &NewUser,
) -> Result<User, ApiError> {
    let result = client.create_user(new).await;
    let uid = match &result {
        Ok(u) => u.uid.clone(),
        Err(_) => new.uid.to_lowercase(),
    };
    rec.outcome("user.created", &format!("user {uid}"), &result);
    if let Ok(u) = &result
        && let Some(token) = &u.auth_token
    {
        rec.record(
            "token.issued",
            &format!("first auth token of {uid}"),
            Ok(()),
        );
        rec.remember_issued(&uid, token);
    }
    result
}

pub async fn update(
    client: &CometChatClient,
    rec: &Recorder,
    uid: &str,
    update: &UserUpdate,
) -> Result<User, ApiError> {
    let result = client.update_user(uid, update).await;
    rec.outcome("user.changed", &format!("user {uid}"), &result);
    result
}

/// Deactivates a user: their tokens stop working until reactivated. `Ok(false)`: inactive.
pub async fn deactivate(
    client: &CometChatClient,
    rec: &Recorder,
    uid: &str,
) -> Result<bool, ApiError> {
    let result = client.delete_user(uid, false).await.map(|_| false);
    rec.outcome("user.deactivated", &format!("user {uid}"), &result);
    result
}

/// Reactivates a user. `Ok(true)`: active again.
pub async fn reactivate(
    client: &CometChatClient,
    rec: &Recorder,
    uid: &str,
) -> Result<bool, ApiError> {
    let result = client
        .reactivate_users(std::slice::from_ref(&uid.to_owned()))
        .await
        .and_then(|r| {
            if r.reactivated_uids.iter().any(|u| u == uid) {
                Ok(true)
            } else {
                Err(ApiError::new(
                    ErrorKind::NotFound,
                    format!("The server did not reactivate {uid}"),
                ))
            }
        });
    rec.outcome("user.reactivated", &format!("user {uid}"), &result);
    result
}

/// Deletes a user and everything of theirs, for good.
pub async fn delete_permanently(
    client: &CometChatClient,
    rec: &Recorder,
    uid: &str,
) -> Result<(), ApiError> {
    // "Not found" after a retry whose first try may have gone through: it is deleted.
    let result = match client.delete_user(uid, true).await {
        Err(e) if e.is_gone_after_retry() => Ok(()),
        other => other.map(|_| ()),
    };
    rec.outcome("user.deleted", &format!("user {uid}"), &result);
    result
}
