//! CometChat Management API (multi-tenancy): apps, with the `key` and `secret` headers.
//!
//! Contract: `shared/reference/cometchat-api.md` §7. There are no key endpoints here; an app's
//! keys are managed on its own chat host with its fullAccess key.

use std::fmt;

use reqwest::Method;
use serde::{Deserialize, Deserializer, Serialize};
use url::Url;

use super::cometchat::{Scope, Transport, validate_region};
use super::error::ApiError;
use super::http::{self, Call, RetryPolicy, Seg};
use super::pager::Page;
use crate::secret::Secret;

/// The real Management API host.
pub const DEFAULT_BASE_URL: &str = "https://apimgmt.cometchat.io";

/// One of an app's keys, as the app object lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppApiKey {
    pub api_key: Secret,
    #[serde(default)]
    pub name: String,
    pub scope: Scope,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

/// An app. `apiKeys` arrives as a map keyed by the key; it is kept here as a list.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct App {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub plan: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default)]
    pub trial_ends_at: Option<i64>,
    #[serde(default, deserialize_with = "keys_from_map")]
    pub api_keys: Vec<AppApiKey>,
}

impl App {
    /// The app's first fullAccess key, which is what opening the app needs.
    pub fn full_access_key(&self) -> Option<&AppApiKey> {
        self.api_keys.iter().find(|k| k.scope == Scope::FullAccess)
    }
}

fn keys_from_map<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<AppApiKey>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Keys {
        Map(std::collections::BTreeMap<String, AppApiKey>),
        List(Vec<AppApiKey>),
        Null(()),
    }
    Ok(match Keys::deserialize(d)? {
        Keys::Map(m) => m.into_values().collect(),
        Keys::List(l) => l,
        Keys::Null(()) => Vec::new(),
    })
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NewApp {
    pub name: String,
    pub region: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppQuery {
    pub search_key: Option<String>,
    pub per_page: Option<u32>,
    pub page: Option<u32>,
}

/// A delete is scheduled, not immediate.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppDeletion {
    #[serde(default)]
    pub success: bool,
    pub scheduled_to_delete_at: i64,
}

/// The Management API client. Cheap to clone.
#[derive(Clone)]
pub struct ManagementClient {
    transport: Transport,
}

impl fmt::Debug for ManagementClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManagementClient")
            .field("base", &self.transport.base().as_str())
            .field("key", &"••••")
            .field("secret", &"••••")
            .finish()
    }
}

impl ManagementClient {
    /// `base_url` replaces [`DEFAULT_BASE_URL`] when given.
    pub fn new(base_url: Option<&str>, key: Secret, secret: Secret) -> Result<Self, ApiError> {
        if key.expose().trim().is_empty() || secret.expose().trim().is_empty() {
            return Err(ApiError::invalid_config(
                "The management key and secret are both needed",
            ));
        }
        let base: Url = http::base_url_or(base_url, DEFAULT_BASE_URL)?;
        Ok(Self {
            transport: Transport::new(base, vec![("key", key), ("secret", secret)])?,
        })
    }

    pub fn base_url(&self) -> &Url {
        self.transport.base()
    }

    pub fn with_retry(mut self, policy: RetryPolicy) -> Self {
        self.transport.retry = policy;
        self
    }

    pub async fn list_apps(&self, query: &AppQuery) -> Result<Page<App>, ApiError> {
        let mut q = Vec::new();
        if let Some(s) = query.search_key.as_deref().filter(|s| !s.is_empty()) {
            q.push(("searchKey", s.to_owned()));
        }
        if let Some(p) = query.per_page {
            q.push(("perPage", p.to_string()));
        }
        if let Some(p) = query.page {
            q.push(("page", p.to_string()));
        }
        let call = Call::new(Method::GET, &[Seg::Plain("apps")]).query(q);
        self.transport.list(call).await
    }

    /// Creates an app. After a failure that leaves the outcome unknown (a garbled answer, a
    /// timeout, a broken connection, a 5xx) it looks for the app on the server before saying
    /// anything or trying once more, so an app is never created twice.
    pub async fn create_app(&self, new: &NewApp) -> Result<App, ApiError> {
        validate_region(&new.region)?;
        let call = Call::new(Method::POST, &[Seg::Plain("apps")]).json(new)?;
        let started = super::now_secs();
        match self.transport.data::<App>(call.clone()).await {
            Err(e) if e.is_ambiguous() => {
                let query = AppQuery {
                    search_key: Some(new.name.clone()),
                    per_page: Some(100),
                    page: None,
                };
                match self.list_apps(&query).await {
                    Ok(page) => match page
                        .items
                        .into_iter()
                        .filter(|a| {
                            a.name == new.name && a.created_at >= started - super::CLOCK_SLACK_SECS
                        })
                        .max_by_key(|a| a.created_at)
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

    pub async fn delete_app(&self, app_id: &str) -> Result<AppDeletion, ApiError> {
        let call = Call::new(Method::DELETE, &[Seg::Plain("apps"), Seg::Plain(app_id)]);
        self.transport.data(call).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_object_with_a_key_map_decodes() {
        let body = r#"{"id":"a1","name":"Shop","plan":"trial","state":"active","region":"us","createdAt":1,
          "apiKeys":{"k1":{"apiKey":"k1k1k1k1k1","name":"Rest API Key","scope":"fullAccess","createdBy":"app_system"},
                     "k2":{"apiKey":"k2k2k2k2k2","name":"Auth Key","scope":"authOnly","createdBy":"app_system"}}}"#;
        let app: App = serde_json::from_str(body).unwrap();
        assert_eq!(app.api_keys.len(), 2);
        assert_eq!(app.full_access_key().unwrap().name, "Rest API Key");
    }

    #[test]
    fn an_app_without_keys_decodes_to_an_empty_list() {
        let app: App = serde_json::from_str(r#"{"id":"a","name":"b"}"#).unwrap();
        assert!(app.api_keys.is_empty());
    }

    #[test]
    fn plain_http_to_a_remote_management_host_is_refused() {
        let e = ManagementClient::new(Some("http://apimgmt.example"), "k".into(), "s".into())
            .unwrap_err();
        assert_eq!(e.kind, super::super::ErrorKind::InvalidConfig);
    }
}
