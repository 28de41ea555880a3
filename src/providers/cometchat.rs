//! CometChat REST v3: API keys, users and auth tokens of one app, with its `apikey` header.
//!
//! Contract: `shared/reference/cometchat-api.md` §3–§6. One method per operation; typed
//! requests and responses; every failure is an [`ApiError`].

use std::collections::BTreeMap;
use std::fmt;

use futures::Stream;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use super::error::{ApiError, ErrorKind, FieldErrors};
use super::http::{self, Call, RetryPolicy, Seg};
use super::pager::{self, Page, Pagination};
use super::{CLOCK_SLACK_SECS, now_secs};
use crate::secret::Secret;

/// The three regions CometChat documents.
pub const REGIONS: [&str; 3] = ["us", "eu", "in"];

/// The scope of a CometChat API key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    /// Every REST operation; for servers only.
    #[serde(rename = "fullAccess")]
    FullAccess,
    /// Creating users and auth tokens only.
    #[serde(rename = "authOnly")]
    AuthOnly,
}

impl Scope {
    pub const ALL: [Scope; 2] = [Scope::FullAccess, Scope::AuthOnly];

    /// The value the API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::FullAccess => "fullAccess",
            Scope::AuthOnly => "authOnly",
        }
    }

    /// One line on what a key of this scope is for.
    pub fn explanation(self) -> &'static str {
        match self {
            Scope::FullAccess => "Every REST operation. Keep it on servers only.",
            Scope::AuthOnly => "Can create users and auth tokens only. For demos and logins.",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where one CometChat app is reached.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppEndpoint {
    pub app_id: String,
    pub region: String,
    /// Replaces `https://{appId}.api-{region}.cometchat.io/v3` (the sandbox, a proxy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
}

impl AppEndpoint {
    /// The base URL calls go to, with the transport rule applied.
    pub fn base_url(&self) -> Result<Url, ApiError> {
        match self.base_url.as_deref().map(str::trim) {
            Some(custom) if !custom.is_empty() => http::parse_base_url(custom),
            _ => {
                validate_app_id(&self.app_id)?;
                validate_region(&self.region)?;
                http::parse_base_url(&format!(
                    "https://{}.api-{}.cometchat.io/v3",
                    self.app_id, self.region
                ))
            }
        }
    }
}

impl AppEndpoint {
    /// The Calls REST base URL (`https://{appId}.call-{region}.cometchat.io/v3`, the same
    /// `apikey`). Under a base URL override it is derived the way the chat host is named: a
    /// per-app host `….api-{region}…` becomes `….call-{region}…`, the sandbox's path form
    /// `/cometchat/{appId}/v3` becomes `/cometchat-calls/{appId}/v3`. `None`: a custom base URL
    /// (a proxy) that names no Calls host.
    pub fn calls_base_url(&self) -> Result<Option<Url>, ApiError> {
        let chat = self.base_url()?;
        let host = chat.host_str().unwrap_or_default().to_owned();
        // Only CometChat's own naming is followed: `{appId}.api-{region}.cometchat.io`, or the
        // same on this machine (`….localhost`). Any other host is a proxy whose Calls host is
        // not known; guessing one could send the key to a domain nobody configured.
        let own = format!("{}.api-{}.", self.app_id, self.region);
        let parent = host.strip_prefix(&own).unwrap_or_default();
        if matches!(parent, "cometchat.io" | "localhost") {
            let mut calls = chat.clone();
            calls
                .set_host(Some(&host.replacen(".api-", ".call-", 1)))
                .map_err(|e| ApiError::invalid_config(format!("No Calls host: {e}")))?;
            return Ok(Some(calls));
        }
        if http::is_loopback(&chat) && chat.path().starts_with("/cometchat/") {
            let mut calls = chat.clone();
            calls.set_path(&chat.path().replacen("/cometchat/", "/cometchat-calls/", 1));
            return Ok(Some(calls));
        }
        Ok(None)
    }
}

/// An app id becomes part of a host name: lowercase letters and digits only.
pub fn validate_app_id(app_id: &str) -> Result<(), ApiError> {
    if app_id.is_empty() {
        return Err(ApiError::invalid_config("The app id is empty"));
    }
    if app_id.len() > 64
        || !app_id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    {
        return Err(ApiError::invalid_config(
            "The app id may contain only lowercase letters and digits",
        ));
    }
    Ok(())
}

pub fn validate_region(region: &str) -> Result<(), ApiError> {
    if REGIONS.contains(&region) {
        Ok(())
    } else {
        Err(ApiError::invalid_config(format!(
            "The region must be one of us, eu, in (got {region:?})"
        )))
    }
}

/// An API key as the API returns it. The value is a [`Secret`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKey {
    pub api_key: Secret,
    pub name: String,
    pub scope: Scope,
    #[serde(default)]
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NewApiKey {
    pub name: String,
    pub scope: Scope,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ApiKeyUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApiKeyQuery {
    pub scope: Option<Scope>,
    pub search_key: Option<String>,
}

/// A user. Optional fields are absent when the API omits them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub uid: String,
    pub name: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deactivated_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_active_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// Present on create with `withAuthToken`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_token: Option<Secret>,
    /// Present with `onBehalfOf`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_by_me: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_blocked_me: Option<bool>,
}

impl User {
    pub fn is_deactivated(&self) -> bool {
        self.deactivated_at.is_some()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewUser {
    pub uid: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub with_auth_token: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// Fields to clear: `avatar`, `link`, `metadata`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unset: Vec<String>,
}

/// Filters for listing users. `per_page` and `page` default to the API's (100, 1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserQuery {
    pub search_key: Option<String>,
    pub status: Option<String>,
    pub role: Option<String>,
    pub tags: Vec<String>,
    pub with_tags: bool,
    pub with_deactivated: bool,
    pub only_deactivated: bool,
    pub per_page: Option<u32>,
    pub page: Option<u32>,
}

impl UserQuery {
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        if let Some(s) = self.search_key.as_deref().filter(|s| !s.is_empty()) {
            q.push(("searchKey", s.to_owned()));
        }
        if let Some(s) = &self.status {
            q.push(("status", s.clone()));
        }
        if let Some(r) = &self.role {
            q.push(("role", r.clone()));
        }
        if !self.tags.is_empty() {
            q.push(("tags", self.tags.join(",")));
        }
        if self.with_tags {
            q.push(("withTags", "true".to_owned()));
        }
        if self.with_deactivated {
            q.push(("withDeactivated", "true".to_owned()));
        }
        if self.only_deactivated {
            q.push(("onlyDeactivated", "true".to_owned()));
        }
        if let Some(p) = self.per_page {
            q.push(("perPage", p.to_string()));
        }
        if let Some(p) = self.page {
            q.push(("page", p.to_string()));
        }
        q
    }
}

/// What `DELETE /users/{uid}` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserDeletion {
    /// Soft delete: the user is deactivated and can be reactivated.
    Deactivated,
    /// `permanent: true`: the user and its tokens are gone.
    Deleted { message: String },
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkDeactivation {
    #[serde(default)]
    pub deactivated_uids: Vec<String>,
    #[serde(default)]
    pub already_deactivated_uids: Vec<String>,
    #[serde(default)]
    pub not_found: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkReactivation {
    /// `nonDeactivatedUids` in CometChat's schema and example.
    #[serde(default, rename = "nonDeactivatedUids")]
    pub reactivated_uids: Vec<String>,
    #[serde(default)]
    pub not_found: Vec<String>,
}

/// An auth token of a user. The value is a [`Secret`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthToken {
    pub uid: String,
    pub auth_token: Secret,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// An object in requests; some list responses carry a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_info: Option<Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAuthToken {
    /// Mint a new token even if one exists for the same platform.
    pub force: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_info: Option<Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthTokenUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_info: Option<Value>,
}

/// `{success, message}`, the API's acknowledgement of a delete.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Ack {
    #[serde(default)]
    pub success: bool,
    #[serde(default)]
    pub message: String,
}

/// The client for one CometChat app and one API key. Cheap to clone.
#[derive(Clone)]
pub struct CometChatClient {
    transport: Transport,
    app_id: String,
    /// The Calls host of the same app, when it is known (see [`AppEndpoint::calls_base_url`]).
    calls_base: Option<Url>,
}

impl fmt::Debug for CometChatClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CometChatClient")
            .field("base", &self.transport.base.as_str())
            .field("app_id", &self.app_id)
            .field("api_key", self.api_key())
            .finish()
    }
}

impl CometChatClient {
    pub fn new(endpoint: &AppEndpoint, api_key: Secret) -> Result<Self, ApiError> {
        if api_key.expose().trim().is_empty() {
            return Err(ApiError::invalid_config("The API key is empty"));
        }
        Ok(Self {
            transport: Transport::new(endpoint.base_url()?, vec![("apikey", api_key)])?,
            app_id: endpoint.app_id.clone(),
            calls_base: endpoint.calls_base_url()?,
        })
    }

    /// The app's Calls REST host, when it is known.
    pub fn calls_base_url(&self) -> Option<&Url> {
        self.calls_base.as_ref()
    }

    /// Whether the key reaches the app's Calls REST host: lists one call
    /// (`GET /calls?perPage=1`). `Ok(None)`: no Calls host is known for this connection.
    pub async fn probe_calls(&self) -> Result<Option<u64>, ApiError> {
        let Some(base) = &self.calls_base else {
            return Ok(None);
        };
        let mut calls = Transport::new(base.clone(), self.transport.auth.clone())?;
        calls.retry = self.transport.retry.clone();
        let call =
            Call::new(Method::GET, &[Seg::Plain("calls")]).query(vec![("perPage", "1".to_owned())]);
        let page: Page<Value> = calls.list(call).await?;
        Ok(Some(page.pagination.total))
    }

    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    pub fn base_url(&self) -> &Url {
        &self.transport.base
    }

    /// The same client with another retry policy (an observer for "Retrying (2 of 3)…").
    pub fn with_retry(mut self, policy: RetryPolicy) -> Self {
        self.transport.retry = policy;
        self
    }

    /// The key this client authenticates with.
    pub fn api_key(&self) -> &Secret {
        &self.transport.auth[0].1
    }

    // ----- API keys ------------------------------------------------------------------------

    /// Lists the app's keys, newest first.
    pub async fn list_api_keys(&self, query: &ApiKeyQuery) -> Result<Vec<ApiKey>, ApiError> {
        let mut q = Vec::new();
        if let Some(scope) = query.scope {
            q.push(("scope", scope.as_str().to_owned()));
        }
        if let Some(s) = query.search_key.as_deref().filter(|s| !s.is_empty()) {
            q.push(("searchKey", s.to_owned()));
        }
        let call = Call::new(Method::GET, &[Seg::Plain("apikeys")]).query(q);
        Ok(self.transport.list::<ApiKey>(call).await?.items)
    }

    /// Creates a key. After a failure that leaves the outcome unknown (timeout, broken
    /// connection, 5xx), it looks for the key before trying once more, so a key is never
    /// created twice.
    pub async fn create_api_key(&self, new: &NewApiKey) -> Result<ApiKey, ApiError> {
        let call = Call::new(Method::POST, &[Seg::Plain("apikeys")]).json(new)?;
        let started = now_secs();
        match self.transport.data::<ApiKey>(call.clone()).await {
            Err(e) if e.is_ambiguous() => {
                let query = ApiKeyQuery {
                    scope: Some(new.scope),
                    search_key: Some(new.name.clone()),
                };
                match self.list_api_keys(&query).await {
                    Ok(keys) => match keys
                        .into_iter()
                        .find(|k| k.name == new.name && k.created_at >= started - CLOCK_SLACK_SECS)
                    {
                        Some(found) => Ok(found),
                        None => self.transport.data(call).await,
                    },
                    Err(_) => Err(e),
                }
            }
            other => other,
        }
    }

    pub async fn get_api_key(&self, key: &Secret) -> Result<ApiKey, ApiError> {
        let call = Call::new(
            Method::GET,
            &[Seg::Plain("apikeys"), Seg::Secret(key.expose())],
        )
        .secret(key);
        self.transport.data(call).await
    }

    pub async fn update_api_key(
        &self,
        key: &Secret,
        update: &ApiKeyUpdate,
    ) -> Result<ApiKey, ApiError> {
        let call = Call::new(
            Method::PUT,
            &[Seg::Plain("apikeys"), Seg::Secret(key.expose())],
        )
        .secret(key)
        .json(update)?;
        self.transport.data(call).await
    }

    pub async fn delete_api_key(&self, key: &Secret) -> Result<Ack, ApiError> {
        let call = Call::new(
            Method::DELETE,
            &[Seg::Plain("apikeys"), Seg::Secret(key.expose())],
        )
        .secret(key);
        self.transport.data(call).await
    }

    // ----- Users ---------------------------------------------------------------------------

    /// Creates a user; after an ambiguous failure it looks the uid up before trying again.
    pub async fn create_user(&self, new: &NewUser) -> Result<User, ApiError> {
        let call = Call::new(Method::POST, &[Seg::Plain("users")]).json(new)?;
        let started = now_secs();
        match self.transport.data::<User>(call.clone()).await {
            Err(e) if e.is_ambiguous() => {
                match self.get_user(&new.uid.to_lowercase(), None).await {
                    Ok(mut user) if user.created_at >= started - CLOCK_SLACK_SECS => {
                        // It was created. The token its answer carried was made too: find it
                        // rather than issue a second one that leaves the first unseen.
                        if new.with_auth_token {
                            let newest = self
                                .list_auth_tokens(&user.uid, None, None)
                                .await?
                                .items
                                .into_iter()
                                .filter(|t| t.created_at >= started - CLOCK_SLACK_SECS)
                                .max_by_key(|t| t.created_at);
                            let token = match newest {
                                Some(t) => t,
                                None => {
                                    self.create_auth_token(&user.uid, &NewAuthToken::default())
                                        .await?
                                }
                            };
                            user.auth_token = Some(token.auth_token);
                        }
                        Ok(user)
                    }
                    Ok(_) => Err(e),
                    Err(check) if check.kind == ErrorKind::NotFound => {
                        self.transport.data(call).await
                    }
                    Err(_) => Err(e),
                }
            }
            other => other,
        }
    }

    /// One page of users. `on_behalf_of` sends the `onBehalfOf` header.
    pub async fn list_users(
        &self,
        query: &UserQuery,
        on_behalf_of: Option<&str>,
    ) -> Result<Page<User>, ApiError> {
        let mut call = Call::new(Method::GET, &[Seg::Plain("users")]).query(query.pairs());
        call.on_behalf_of = on_behalf_of.map(str::to_owned);
        self.transport.list(call).await
    }

    /// Every page of users, fetched with at most `concurrency` requests in flight, in page
    /// order. Dropping the stream stops the walk.
    pub fn user_pages(
        &self,
        query: UserQuery,
        concurrency: usize,
    ) -> impl Stream<Item = Result<Page<User>, ApiError>> + Send + 'static {
        let client = self.clone();
        pager::pages(concurrency, move |page| {
            let client = client.clone();
            let mut q = query.clone();
            q.page = Some(page);
            async move { client.list_users(&q, None).await }
        })
    }

    /// Every user that matches, all pages collected.
    pub async fn list_all_users(
        &self,
        query: UserQuery,
        concurrency: usize,
    ) -> Result<Vec<User>, ApiError> {
        pager::collect(self.user_pages(query, concurrency)).await
    }

    pub async fn get_user(&self, uid: &str, on_behalf_of: Option<&str>) -> Result<User, ApiError> {
        let mut call = Call::new(Method::GET, &[Seg::Plain("users"), Seg::Plain(uid)]);
        call.on_behalf_of = on_behalf_of.map(str::to_owned);
        self.transport.data(call).await
    }

    pub async fn update_user(&self, uid: &str, update: &UserUpdate) -> Result<User, ApiError> {
        let call = Call::new(Method::PUT, &[Seg::Plain("users"), Seg::Plain(uid)]).json(update)?;
        self.transport.data(call).await
    }

    /// Deactivates the user, or with `permanent` removes it and its tokens.
    pub async fn delete_user(&self, uid: &str, permanent: bool) -> Result<UserDeletion, ApiError> {
        let call = Call::new(Method::DELETE, &[Seg::Plain("users"), Seg::Plain(uid)])
            .json(&serde_json::json!({ "permanent": permanent }))?;
        let data: Value = self.transport.data(call).await?;
        if data.get("deactivatedUids").is_some() {
            return Ok(UserDeletion::Deactivated);
        }
        match serde_json::from_value::<Ack>(data) {
            Ok(ack) if ack.success => Ok(UserDeletion::Deleted {
                message: ack.message,
            }),
            _ => Err(ApiError::bad_response(
                "The delete-user answer had neither deactivatedUids nor success",
            )),
        }
    }

    pub async fn deactivate_users(&self, uids: &[String]) -> Result<BulkDeactivation, ApiError> {
        let call = Call::new(Method::DELETE, &[Seg::Plain("users")])
            .json(&serde_json::json!({ "uidsToDeactivate": uids }))?;
        self.transport.data(call).await
    }

    pub async fn reactivate_users(&self, uids: &[String]) -> Result<BulkReactivation, ApiError> {
        let call = Call::new(Method::PUT, &[Seg::Plain("users")])
            .json(&serde_json::json!({ "uidsToActivate": uids }))?;
        self.transport.data(call).await
    }

    // ----- Auth tokens ---------------------------------------------------------------------

    pub async fn create_auth_token(
        &self,
        uid: &str,
        new: &NewAuthToken,
    ) -> Result<AuthToken, ApiError> {
        let call = Call::new(Method::POST, &tokens_path(uid)).json(new)?;
        let started = now_secs();
        match self.transport.data::<AuthToken>(call.clone()).await {
            Err(e) if e.is_ambiguous() => match self.list_auth_tokens(uid, None, None).await {
                Ok(page) => match page
                    .items
                    .into_iter()
                    .filter(|t| t.created_at >= started - CLOCK_SLACK_SECS)
                    .filter(|t| new.platform.is_none() || t.platform == new.platform)
                    .max_by_key(|t| t.created_at)
                {
                    Some(found) => Ok(found),
                    None => self.transport.data(call).await,
                },
                Err(_) => Err(e),
            },
            other => other,
        }
    }

    /// One page of a user's tokens (`per_page` defaults to 100).
    pub async fn list_auth_tokens(
        &self,
        uid: &str,
        per_page: Option<u32>,
        page: Option<u32>,
    ) -> Result<Page<AuthToken>, ApiError> {
        let mut q = Vec::new();
        if let Some(p) = per_page {
            q.push(("perPage", p.to_string()));
        }
        if let Some(p) = page {
            q.push(("page", p.to_string()));
        }
        let call = Call::new(Method::GET, &tokens_path(uid)).query(q);
        self.transport.list(call).await
    }

    pub async fn get_auth_token(&self, uid: &str, token: &Secret) -> Result<AuthToken, ApiError> {
        let call = Call::new(Method::GET, &token_path(uid, token)).secret(token);
        self.transport.data(call).await
    }

    pub async fn update_auth_token(
        &self,
        uid: &str,
        token: &Secret,
        update: &AuthTokenUpdate,
    ) -> Result<AuthToken, ApiError> {
        let call = Call::new(Method::PUT, &token_path(uid, token))
            .secret(token)
            .json(update)?;
        self.transport.data(call).await
    }

    pub async fn delete_auth_token(&self, uid: &str, token: &Secret) -> Result<Ack, ApiError> {
        let call = Call::new(Method::DELETE, &token_path(uid, token)).secret(token);
        self.transport.data(call).await
    }

    /// Deletes every token of the user ("flush").
    pub async fn flush_auth_tokens(&self, uid: &str) -> Result<Ack, ApiError> {
        let call = Call::new(Method::DELETE, &tokens_path(uid));
        self.transport.data(call).await
    }
}

fn tokens_path(uid: &str) -> [Seg<'_>; 3] {
    [
        Seg::Plain("users"),
        Seg::Plain(uid),
        Seg::Plain("auth_tokens"),
    ]
}

fn token_path<'a>(uid: &'a str, token: &'a Secret) -> [Seg<'a>; 4] {
    [
        Seg::Plain("users"),
        Seg::Plain(uid),
        Seg::Plain("auth_tokens"),
        Seg::Secret(token.expose()),
    ]
}

/// Sends CometChat-style requests (the chat API and the Management API share envelopes and
/// errors) with a fixed set of credential headers.
#[derive(Clone)]
pub(crate) struct Transport {
    http: reqwest::Client,
    base: Url,
    auth: Vec<(&'static str, Secret)>,
    pub(crate) retry: RetryPolicy,
}

impl Transport {
    pub(crate) fn new(base: Url, auth: Vec<(&'static str, Secret)>) -> Result<Self, ApiError> {
        Ok(Self {
            http: http::shared_client()?,
            base,
            auth,
            retry: RetryPolicy::default(),
        })
    }

    pub(crate) fn base(&self) -> &Url {
        &self.base
    }

    pub(crate) async fn data<T: DeserializeOwned>(&self, call: Call) -> Result<T, ApiError> {
        let env: DataEnvelope<T> = self.execute(call).await?;
        Ok(env.data)
    }

    pub(crate) async fn list<T: DeserializeOwned>(&self, call: Call) -> Result<Page<T>, ApiError> {
        let env: ListEnvelope<T> = self.execute(call).await?;
        let count = env.data.len() as u64;
        let pagination = env
            .meta
            .and_then(|m| m.pagination)
            .unwrap_or_else(|| Pagination::single(count));
        Ok(Page {
            items: env.data,
            pagination,
        })
    }

    async fn execute<T: DeserializeOwned>(&self, call: Call) -> Result<T, ApiError> {
        let is_delete = call.method == Method::DELETE;
        let (reply, secrets) =
            http::execute(&self.http, &self.base, &self.auth, call, &self.retry).await?;
        let secrets: Vec<&str> = secrets.iter().map(Secret::expose).collect();
        let decoded = decode(reply.status, &reply.headers, &reply.body, &secrets);
        match decoded {
            // Only the thing's own "not found" (ERR_APIKEY_NOT_FOUND, ERR_UID_NOT_FOUND…), never
            // a wrong app id or an archived app, which no earlier try could have caused.
            Err(e)
                if is_delete
                    && reply.status == 404
                    && reply.earlier_try_may_have_applied
                    && e.code.as_deref().is_some_and(|c| {
                        c.ends_with("_NOT_FOUND")
                            && !c.starts_with("AUTH_")
                            && c != "ERR_API_NOT_FOUND"
                    }) =>
            {
                Err(e.gone_after_retry())
            }
            other => other,
        }
    }
}

#[derive(Debug, Deserialize)]
struct DataEnvelope<T> {
    data: T,
}

#[derive(Deserialize)]
struct ListEnvelope<T> {
    data: Vec<T>,
    #[serde(default)]
    meta: Option<ListMeta>,
}

#[derive(Deserialize)]
struct ListMeta {
    #[serde(default)]
    pagination: Option<Pagination>,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    dev_message: Option<String>,
    #[serde(default)]
    details: Option<Value>,
}

/// Turns a reply into `T` or an [`ApiError`]. A body that does not fit the documented
/// envelope is a `BadResponse`, never a panic.
pub fn decode<T: DeserializeOwned>(
    status: u16,
    headers: &reqwest::header::HeaderMap,
    body: &[u8],
    secrets: &[&str],
) -> Result<T, ApiError> {
    if (200..300).contains(&status) {
        return serde_json::from_slice::<T>(body).map_err(|e| {
            ApiError::bad_response(format!(
                "The server's answer does not match the CometChat API: {e}"
            ))
            .with_status(status)
        });
    }
    let retry_after = http::retry_after(headers);
    let err = match serde_json::from_slice::<ErrorEnvelope>(body) {
        Ok(env) => ApiError::from_response(
            status,
            env.error.code,
            env.error.message.or(env.error.dev_message),
            env.error.details.map(field_errors).unwrap_or_default(),
            retry_after,
        ),
        Err(_) => ApiError::from_response(status, None, None, FieldErrors::new(), retry_after),
    };
    Err(err.scrubbed(secrets))
}

/// `details` is `{field: [messages]}`; tolerate a single string per field.
fn field_errors(details: Value) -> FieldErrors {
    let mut out = BTreeMap::new();
    if let Value::Object(map) = details {
        for (field, v) in map {
            let messages = match v {
                Value::Array(items) => items
                    .into_iter()
                    .map(|m| match m {
                        Value::String(s) => s,
                        other => other.to_string(),
                    })
                    .collect(),
                Value::String(s) => vec![s],
                other => vec![other.to_string()],
            };
            out.insert(field, messages);
        }
    }
    out
}

impl ApiError {
    /// True when the error is CometChat's refusal of an authOnly key.
    pub fn is_scope_refusal(&self) -> bool {
        self.kind == ErrorKind::PermissionDenied && self.is_code("AUTH_ERR_NO_ACCESS")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_calls_host_is_named_after_the_chat_host() {
        let endpoint = |base: Option<&str>| AppEndpoint {
            app_id: "abc123".to_owned(),
            region: "eu".to_owned(),
            base_url: base.map(str::to_owned),
        };
        let calls = |base| {
            endpoint(base)
                .calls_base_url()
                .unwrap()
                .map(|u| u.to_string())
        };
        assert_eq!(
            calls(None).as_deref(),
            Some("https://abc123.call-eu.cometchat.io/v3")
        );
        assert_eq!(
            calls(Some("https://abc123.api-eu.cometchat.io/v3")).as_deref(),
            Some("https://abc123.call-eu.cometchat.io/v3")
        );
        // Another domain that merely looks alike is a proxy: no Calls host is guessed.
        assert_eq!(
            calls(Some("https://abc123.api-eu.gateway.example/v3")),
            None
        );
        assert_eq!(calls(Some("https://acme.api-gw.io/v3")), None);
        assert_eq!(
            calls(Some("https://proxy.example.com/cometchat/abc123/v3")),
            None
        );
        assert_eq!(
            calls(Some("http://127.0.0.1:8787/cometchat/abc123/v3")).as_deref(),
            Some("http://127.0.0.1:8787/cometchat-calls/abc123/v3")
        );
        assert_eq!(calls(Some("https://proxy.example.com/chat")), None);
    }
    use reqwest::header::HeaderMap;

    #[test]
    fn the_default_base_url_is_the_real_host() {
        let ep = AppEndpoint {
            app_id: "208125083d6b2e3d".into(),
            region: "eu".into(),
            base_url: None,
        };
        assert_eq!(
            ep.base_url().unwrap().as_str(),
            "https://208125083d6b2e3d.api-eu.cometchat.io/v3"
        );
        let bad = AppEndpoint {
            app_id: "evil.com/x".into(),
            region: "us".into(),
            base_url: None,
        };
        assert_eq!(bad.base_url().unwrap_err().kind, ErrorKind::InvalidConfig);
    }

    #[test]
    fn malformed_success_bodies_are_bad_responses() {
        let h = HeaderMap::new();
        let e =
            decode::<DataEnvelope<ApiKey>>(200, &h, b"{\"data\":{\"name\":1}}", &[]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadResponse);
        let e = decode::<DataEnvelope<ApiKey>>(200, &h, b"<html>", &[]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadResponse);
    }

    #[test]
    fn validation_details_are_kept_per_field() {
        let h = HeaderMap::new();
        let body = br#"{"error":{"code":"ERR_BAD_REQUEST","message":"Failed to validate the data sent with the request.","details":{"uid":["The uid field is required."],"tags.0":"The tags.0 field is required."}}}"#;
        let e = decode::<Value>(400, &h, body, &[]).unwrap_err();
        assert_eq!(e.field_errors("uid"), ["The uid field is required."]);
        assert_eq!(e.field_errors("tags.0"), ["The tags.0 field is required."]);
    }

    #[test]
    fn error_bodies_that_are_not_json_still_map_by_status() {
        let h = HeaderMap::new();
        let e = decode::<Value>(502, &h, b"Bad Gateway", &[]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Server);
        assert_eq!(e.status, Some(502));
    }

    #[test]
    fn debug_of_a_client_and_a_key_masks_the_values() {
        let key = "0123456789abcdef0123456789abcdef01234567";
        let ep = AppEndpoint {
            app_id: "abc".into(),
            region: "us".into(),
            base_url: Some("http://127.0.0.1:9/cometchat/abc/v3".into()),
        };
        let c = CometChatClient::new(&ep, Secret::new(key)).unwrap();
        assert!(!format!("{c:?}").contains(key));
        let k = ApiKey {
            api_key: Secret::new(key),
            name: "n".into(),
            scope: Scope::AuthOnly,
            created_at: 0,
        };
        assert!(!format!("{k:?}").contains(key));
    }
}
