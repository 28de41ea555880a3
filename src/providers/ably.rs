//! Ably: the Control API (apps and keys with capabilities, Bearer access token) and the
//! realtime REST API's token revocation (Basic auth with the issuing key).
//!
//! Contract: `shared/reference/ably-cometly-api.md` §1 and §3.

use std::fmt;

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use url::Url;

use super::error::{ApiError, FieldErrors};
use super::http::{self, Call, RetryPolicy, Seg};
use crate::model::capability::Capability;
use crate::secret::Secret;

/// The real Control API.
pub const DEFAULT_CONTROL_URL: &str = "https://control.ably.net/v1";
/// The real realtime REST host (token revocation).
pub const DEFAULT_REST_URL: &str = "https://main.realtime.ably.net";

/// `GET /me`: the access token, its user and its account.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Me {
    pub token: TokenInfo,
    #[serde(default)]
    pub user: Option<MeUser>,
    pub account: Account,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct TokenInfo {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub capabilities: Vec<String>,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub last_used_at: Option<String>,
}

impl TokenInfo {
    pub fn has(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct MeUser {
    pub id: i64,
    #[serde(default)]
    pub email: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Account {
    pub id: String,
    #[serde(default)]
    pub name: String,
}

/// An Ably app (only the fields a key console needs).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AblyApp {
    #[serde(default)]
    pub account_id: String,
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub tls_only: Option<bool>,
    /// Epoch milliseconds.
    #[serde(default)]
    pub created: i64,
    #[serde(default)]
    pub modified: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_only: Option<bool>,
}

/// Whether a key still works. The API sends 0/1; some clients send strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum KeyStatus {
    Enabled,
    Revoked,
}

impl KeyStatus {
    pub fn label(self) -> &'static str {
        match self {
            Self::Enabled => "enabled",
            Self::Revoked => "revoked",
        }
    }
}

fn key_status<'de, D: Deserializer<'de>>(d: D) -> Result<KeyStatus, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) if n.as_i64() == Some(1) => KeyStatus::Revoked,
        Some(Value::String(s)) if s == "1" || s.eq_ignore_ascii_case("revoked") => {
            KeyStatus::Revoked
        }
        _ => KeyStatus::Enabled,
    })
}

fn default_status() -> KeyStatus {
    KeyStatus::Enabled
}

/// An Ably API key. `key` is the whole `appId.keyId:secret`, a [`Secret`].
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AblyKey {
    #[serde(default)]
    pub app_id: String,
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default = "default_status", deserialize_with = "key_status")]
    pub status: KeyStatus,
    pub key: Secret,
    #[serde(default)]
    pub capability: Capability,
    #[serde(default)]
    pub revocable_tokens: Option<bool>,
    #[serde(default)]
    pub created: i64,
    #[serde(default)]
    pub modified: i64,
}

impl AblyKey {
    /// `appId.keyId`, the key's public name (what revocation paths use).
    pub fn key_name(&self) -> String {
        format!("{}.{}", self.app_id, self.id)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAblyKey {
    pub name: String,
    pub capability: Capability,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocable_tokens: Option<bool>,
}

/// A partial update; `capability` replaces the whole map.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capability: Option<Capability>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocable_tokens: Option<bool>,
}

/// The Control API client for one access token. Cheap to clone.
#[derive(Clone)]
pub struct AblyControlClient {
    http: reqwest::Client,
    base: Url,
    auth: Vec<(&'static str, Secret)>,
    retry: RetryPolicy,
}

impl fmt::Debug for AblyControlClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AblyControlClient")
            .field("base", &self.base.as_str())
            .field("token", &"••••")
            .finish()
    }
}

impl AblyControlClient {
    pub fn with_retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    pub fn new(base_url: Option<&str>, access_token: &Secret) -> Result<Self, ApiError> {
        if access_token.expose().trim().is_empty() {
            return Err(ApiError::invalid_config("The access token is empty"));
        }
        let base = http::base_url_or(base_url, DEFAULT_CONTROL_URL)?;
        Ok(Self {
            http: http::shared_client()?,
            base,
            auth: vec![(
                "authorization",
                Secret::new(format!("Bearer {}", access_token.expose())),
            )],
            retry: RetryPolicy::default(),
        })
    }

    pub async fn me(&self) -> Result<Me, ApiError> {
        self.json(Call::new(Method::GET, &[Seg::Plain("me")])).await
    }

    pub async fn list_apps(&self, account_id: &str) -> Result<Vec<AblyApp>, ApiError> {
        let call = Call::new(
            Method::GET,
            &[
                Seg::Plain("accounts"),
                Seg::Plain(account_id),
                Seg::Plain("apps"),
            ],
        );
        self.json(call).await
    }

    pub async fn create_app(&self, account_id: &str, name: &str) -> Result<AblyApp, ApiError> {
        let call = Call::new(
            Method::POST,
            &[
                Seg::Plain("accounts"),
                Seg::Plain(account_id),
                Seg::Plain("apps"),
            ],
        )
        .json(&serde_json::json!({ "name": name }))?;
        self.json(call).await
    }

    pub async fn update_app(&self, app_id: &str, patch: &AppPatch) -> Result<AblyApp, ApiError> {
        let call =
            Call::new(Method::PATCH, &[Seg::Plain("apps"), Seg::Plain(app_id)]).json(patch)?;
        self.json(call).await
    }

    pub async fn delete_app(&self, app_id: &str) -> Result<(), ApiError> {
        let call = Call::new(Method::DELETE, &[Seg::Plain("apps"), Seg::Plain(app_id)]);
        self.empty(call).await
    }

    pub async fn list_keys(&self, app_id: &str) -> Result<Vec<AblyKey>, ApiError> {
        let call = Call::new(
            Method::GET,
            &[Seg::Plain("apps"), Seg::Plain(app_id), Seg::Plain("keys")],
        );
        self.json(call).await
    }

    /// Creates a key. After a failure that leaves the outcome unknown it looks for the key
    /// among the app's keys before saying anything or trying once more, so a key is never
    /// created twice.
    pub async fn create_key(&self, app_id: &str, new: &NewAblyKey) -> Result<AblyKey, ApiError> {
        let call = Call::new(
            Method::POST,
            &[Seg::Plain("apps"), Seg::Plain(app_id), Seg::Plain("keys")],
        )
        .json(new)?;
        // Ably's `created` is in milliseconds.
        let started_ms = (super::now_secs() - super::CLOCK_SLACK_SECS).saturating_mul(1000);
        match self.json::<AblyKey>(call.clone()).await {
            Err(e) if e.is_ambiguous() => match self.list_keys(app_id).await {
                Ok(keys) => match keys
                    .into_iter()
                    .filter(|k| k.name == new.name && k.created >= started_ms)
                    .max_by_key(|k| k.created)
                {
                    Some(found) => Ok(found),
                    None => self.json(call).await,
                },
                Err(_) => Err(e),
            },
            other => other,
        }
    }

    pub async fn update_key(
        &self,
        app_id: &str,
        key_id: &str,
        patch: &KeyPatch,
    ) -> Result<AblyKey, ApiError> {
        let call = Call::new(
            Method::PATCH,
            &[
                Seg::Plain("apps"),
                Seg::Plain(app_id),
                Seg::Plain("keys"),
                Seg::Plain(key_id),
            ],
        )
        .json(patch)?;
        self.json(call).await
    }

    /// Revokes a key for good: it stops working and cannot be reinstated.
    pub async fn revoke_key(&self, app_id: &str, key_id: &str) -> Result<(), ApiError> {
        let call = Call::new(
            Method::POST,
            &[
                Seg::Plain("apps"),
                Seg::Plain(app_id),
                Seg::Plain("keys"),
                Seg::Plain(key_id),
                Seg::Plain("revoke"),
            ],
        );
        self.empty(call).await
    }

    async fn json<T: DeserializeOwned>(&self, call: Call) -> Result<T, ApiError> {
        let (reply, secrets) =
            http::execute(&self.http, &self.base, &self.auth, call, &self.retry).await?;
        let secrets: Vec<&str> = secrets.iter().map(Secret::expose).collect();
        check(&reply, &secrets)?;
        serde_json::from_slice(&reply.body).map_err(|e| {
            ApiError::bad_response(format!(
                "The answer does not match the Ably Control API: {e}"
            ))
            .with_status(reply.status)
        })
    }

    async fn empty(&self, call: Call) -> Result<(), ApiError> {
        let (reply, secrets) =
            http::execute(&self.http, &self.base, &self.auth, call, &self.retry).await?;
        let secrets: Vec<&str> = secrets.iter().map(Secret::expose).collect();
        check(&reply, &secrets)
    }
}

/// Ably's flat error object; the realtime REST API wraps the same fields in `{error: …}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AblyErrorBody {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    code: Option<Value>,
    #[serde(default)]
    details: Option<Value>,
}

#[derive(Deserialize)]
struct WrappedError {
    error: AblyErrorBody,
}

/// Ably's numeric codes that say more than the status does.
fn ably_kind_code(code: &str) -> Option<&'static str> {
    match code {
        // Revocable tokens / revocation not enabled: the key may not do this.
        "40163" | "40164" | "40121" | "40300" | "40160" => Some("PERMISSION"),
        _ => None,
    }
}

/// Maps a non-2xx reply to an [`ApiError`]; a body that is not JSON becomes the message.
fn check(reply: &http::Reply, secrets: &[&str]) -> Result<(), ApiError> {
    if (200..300).contains(&reply.status) {
        return Ok(());
    }
    let parsed = serde_json::from_slice::<WrappedError>(&reply.body)
        .map(|w| w.error)
        .or_else(|_| serde_json::from_slice::<AblyErrorBody>(&reply.body));
    let (code, message, fields) = match parsed {
        Ok(body) => (
            body.code.map(|c| match c {
                Value::String(s) => s,
                other => other.to_string(),
            }),
            body.message,
            body.details.map(details_fields).unwrap_or_default(),
        ),
        Err(_) => {
            let text = String::from_utf8_lossy(&reply.body).trim().to_owned();
            (
                None,
                Some(text).filter(|t| !t.is_empty()),
                FieldErrors::new(),
            )
        }
    };
    let mut err = ApiError::from_response(
        reply.status,
        code.clone(),
        message,
        fields,
        http::retry_after(&reply.headers),
    );
    if code.as_deref().and_then(ably_kind_code).is_some() {
        err.kind = super::ErrorKind::PermissionDenied;
    }
    Err(err.scrubbed(secrets))
}

fn details_fields(details: Value) -> FieldErrors {
    let mut out = FieldErrors::new();
    if let Value::Object(map) = details {
        for (k, v) in map {
            let msgs = match v {
                Value::Array(a) => a
                    .into_iter()
                    .map(|m| {
                        m.as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| m.to_string())
                    })
                    .collect(),
                Value::String(s) => vec![s],
                other => vec![other.to_string()],
            };
            out.insert(k, msgs);
        }
    }
    out
}

/// A revocation request: up to 100 `type:value` targets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RevokeTokens {
    pub targets: Vec<String>,
    /// Epoch milliseconds; the server's "now" when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_before: Option<i64>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub allow_reauth_margin: bool,
}

/// The versioned batch result of a revocation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevokeResult {
    #[serde(default)]
    pub success_count: u32,
    #[serde(default)]
    pub failure_count: u32,
    #[serde(default)]
    pub results: Vec<RevokeItem>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevokeItem {
    pub target: String,
    #[serde(default)]
    pub issued_before: Option<i64>,
    #[serde(default)]
    pub applies_at: Option<i64>,
    #[serde(default)]
    pub error: Option<RevokeItemError>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevokeItemError {
    #[serde(default)]
    pub code: Option<i64>,
    #[serde(default)]
    pub status_code: Option<u16>,
    #[serde(default)]
    pub message: String,
}

/// Checks one target specifier before it is sent.
pub fn validate_target(target: &str) -> Result<(), String> {
    let Some((kind, value)) = target.split_once(':') else {
        return Err(format!(
            "{target:?} needs a type: clientId:, revocationKey: or channel:"
        ));
    };
    if !matches!(kind, "clientId" | "revocationKey" | "channel") {
        return Err(format!(
            "Unknown target type {kind:?}: use clientId, revocationKey or channel"
        ));
    }
    if value.trim().is_empty() {
        return Err(format!("{kind}: needs a value"));
    }
    Ok(())
}

/// Revokes tokens issued by one key, authenticating with that key (Basic auth).
#[derive(Clone)]
pub struct AblyRestClient {
    http: reqwest::Client,
    base: Url,
    key_name: String,
    auth: Vec<(&'static str, Secret)>,
    retry: RetryPolicy,
}

impl fmt::Debug for AblyRestClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AblyRestClient")
            .field("base", &self.base.as_str())
            .field("key_name", &self.key_name)
            .finish()
    }
}

impl AblyRestClient {
    pub fn with_retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// `key` is the whole `appId.keyId:secret`.
    pub fn new(base_url: Option<&str>, key: &Secret) -> Result<Self, ApiError> {
        let Some((key_name, secret)) = key.expose().split_once(':') else {
            return Err(ApiError::invalid_config(
                "An Ably key looks like appId.keyId:secret",
            ));
        };
        if !key_name.contains('.') || secret.is_empty() {
            return Err(ApiError::invalid_config(
                "An Ably key looks like appId.keyId:secret",
            ));
        }
        use base64::Engine as _;
        let basic = base64::engine::general_purpose::STANDARD.encode(key.expose());
        let base = http::base_url_or(base_url, DEFAULT_REST_URL)?;
        Ok(Self {
            http: http::shared_client()?,
            base,
            key_name: key_name.to_owned(),
            auth: vec![
                ("authorization", Secret::new(format!("Basic {basic}"))),
                ("x-ably-version", Secret::new("3")),
            ],
            retry: RetryPolicy::default(),
        })
    }

    pub fn key_name(&self) -> &str {
        &self.key_name
    }

    pub async fn revoke_tokens(&self, request: &RevokeTokens) -> Result<RevokeResult, ApiError> {
        if request.targets.is_empty() || request.targets.len() > 100 {
            return Err(ApiError::invalid_config(
                "Give between 1 and 100 revocation targets",
            ));
        }
        let call = Call::new(
            Method::POST,
            &[
                Seg::Plain("keys"),
                Seg::Plain(&self.key_name),
                Seg::Plain("revokeTokens"),
            ],
        )
        .json(request)?;
        let (reply, secrets) =
            http::execute(&self.http, &self.base, &self.auth, call, &self.retry).await?;
        let secrets: Vec<&str> = secrets.iter().map(Secret::expose).collect();
        check(&reply, &secrets)?;
        serde_json::from_slice(&reply.body).map_err(|e| {
            ApiError::bad_response(format!("The revocation answer is not a batch result: {e}"))
                .with_status(reply.status)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_decodes_with_numeric_or_string_status() {
        let k: AblyKey = serde_json::from_str(
            r#"{"appId":"a1B2c3","id":"Xy9_zz","name":"n","status":1,"key":"a1B2c3.Xy9_zz:secretsecret",
                "capability":{"*":["publish"]},"revocableTokens":true,"created":1,"modified":2}"#,
        )
        .unwrap();
        assert_eq!(k.status, KeyStatus::Revoked);
        assert_eq!(k.key_name(), "a1B2c3.Xy9_zz");
        assert!(!format!("{k:?}").contains("secretsecret"));
        let k: AblyKey = serde_json::from_str(r#"{"id":"x","key":"a.x:s","status":"0"}"#).unwrap();
        assert_eq!(k.status, KeyStatus::Enabled);
    }

    #[test]
    fn targets_need_a_known_type_and_a_value() {
        assert!(validate_target("clientId:alice").is_ok());
        assert!(validate_target("channel:chat:*").is_ok());
        assert!(validate_target("alice").is_err());
        assert!(validate_target("user:alice").is_err());
        assert!(validate_target("clientId: ").is_err());
    }

    #[test]
    fn a_rest_client_needs_a_whole_key() {
        assert!(AblyRestClient::new(None, &Secret::new("app.key:secret")).is_ok());
        assert!(AblyRestClient::new(None, &Secret::new("app.key")).is_err());
        assert!(AblyRestClient::new(None, &Secret::new("nodot:secret")).is_err());
    }
}
