//! Auth tokens of a user: issue, revoke one, revoke all.

use crate::providers::ApiError;
use crate::providers::cometchat::{AuthToken, CometChatClient, NewAuthToken};
use crate::secret::Secret;

use crate::config::Environment;

use super::{Guard, Recorder};

/// What revoking one token asks first: a confirmation that names the token (masked) and its
/// user. Not typed even on prod: a token has no name to type, and the user keeps the others.
pub fn revoke_guard() -> Guard {
    Guard::Confirm
}

/// What revoking every token of a user asks first: a confirmation; on prod, the uid typed.
pub fn revoke_all_guard(environment: Environment, uid: &str) -> Guard {
    Guard::destructive(environment, uid)
}

pub async fn list(client: &CometChatClient, uid: &str) -> Result<Vec<AuthToken>, ApiError> {
    client
        .list_auth_tokens(uid, Some(100), None)
        .await
        .map(|p| p.items)
}

/// Issues a token and remembers it for this run's leak scans ([`Recorder::remember_issued`]).
pub async fn issue(
    client: &CometChatClient,
    rec: &Recorder,
    uid: &str,
    new: &NewAuthToken,
) -> Result<AuthToken, ApiError> {
    let result = client.create_auth_token(uid, new).await;
    let what = match &result {
        Ok(t) => format!("auth token {} of {uid}", t.auth_token.masked()),
        Err(_) => format!("user {uid}"),
    };
    rec.outcome("token.issued", &what, &result);
    if let Ok(t) = &result {
        rec.remember_issued(uid, &t.auth_token);
    }
    result
}

pub async fn revoke(
    client: &CometChatClient,
    rec: &Recorder,
    uid: &str,
    token: &Secret,
) -> Result<(), ApiError> {
    let result = client.delete_auth_token(uid, token).await.map(|_| ());
    rec.outcome(
        "token.revoked",
        &format!("auth token {} of {uid}", token.masked()),
        &result,
    );
    result
}

pub async fn revoke_all(
    client: &CometChatClient,
    rec: &Recorder,
    uid: &str,
) -> Result<(), ApiError> {
    let result = client.flush_auth_tokens(uid).await.map(|_| ());
    rec.outcome("token.flushed", &format!("user {uid}"), &result);
    result
}

/// Issues a token (forced: a new one even when the user has some) for each uid, `concurrency`
/// at a time, until done or until `stop` is set. Each result goes to `on_result` with the
/// uid's index as it arrives; `on_result` returns false when nobody listens any more. One
/// audit record sums the run up (how many were issued, and whether it was cancelled); each
/// token issued is remembered for the leak scan ([`Recorder::remember_issued`]).
pub async fn issue_many(
    client: &CometChatClient,
    rec: &Recorder,
    targets: Vec<(usize, String)>,
    concurrency: usize,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    mut on_result: impl FnMut(usize, Result<Secret, ApiError>) -> bool,
) {
    use futures::StreamExt;
    use std::sync::atomic::Ordering;

    let new = NewAuthToken {
        force: true,
        ..NewAuthToken::default()
    };
    let halt = std::sync::Arc::clone(&stop);
    let mut results = futures::stream::iter(targets)
        .take_while(move |_| futures::future::ready(!halt.load(Ordering::SeqCst)))
        .map(|(i, uid)| {
            let new = new.clone();
            async move {
                let r = client
                    .create_auth_token(&uid, &new)
                    .await
                    .map(|t| t.auth_token);
                (i, uid, r)
            }
        })
        .buffer_unordered(concurrency.max(1));
    let mut issued = 0usize;
    let mut listening = true;
    while let Some((i, uid, r)) = results.next().await {
        if let Ok(token) = &r {
            issued += 1;
            rec.remember_issued(&uid, token);
        }
        if listening && !on_result(i, r) {
            listening = false;
            stop.store(true, Ordering::SeqCst);
        }
    }
    let cancelled = stop.load(Ordering::SeqCst);
    rec.record(
        "token.issued",
        &format!(
            "bulk run: {}",
            crate::words::count(issued, "token", "tokens")
        ),
        if cancelled {
            Err("cancelled".to_owned())
        } else {
            Ok(())
        },
    );
}
