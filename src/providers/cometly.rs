//! Cometly's public API: Bearer keys bound to a Space. Keys cannot be listed or created through
//! the API, so Keydeck stores them and tests them.
//!
//! Contract: `shared/reference/ably-cometly-api.md` §4.

use std::fmt;

use reqwest::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::error::{ApiError, ErrorKind, FieldErrors};
use super::http::{self, Call, RetryPolicy, Seg};
use crate::secret::Secret;

pub const DEFAULT_BASE_URL: &str = "https://app.cometly.com/public-api/v1";

/// A Laravel cursor page.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct CursorPage<T> {
    pub data: Vec<T>,
    #[serde(default)]
    pub per_page: Option<u32>,
    #[serde(default)]
    pub next_cursor: Option<String>,
    #[serde(default)]
    pub prev_cursor: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Company {
    pub id: serde_json::Value,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Event {
    pub id: serde_json::Value,
    #[serde(default)]
    pub event_name: Option<String>,
    #[serde(default)]
    pub amount: Option<f64>,
    #[serde(default)]
    pub event_time_utc: Option<String>,
}

/// What a key test found out, in plain words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyCheck {
    /// The Space's rate limit, when the server sent it.
    pub rate_limit: Option<u32>,
    pub rate_remaining: Option<u32>,
}

#[derive(Clone)]
pub struct CometlyClient {
    http: reqwest::Client,
    base: Url,
    auth: Vec<(&'static str, Secret)>,
    retry: RetryPolicy,
}

impl fmt::Debug for CometlyClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CometlyClient")
            .field("base", &self.base.as_str())
            .field("key", &"••••")
            .finish()
    }
}

impl CometlyClient {
    pub fn with_retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    pub fn new(base_url: Option<&str>, key: &Secret) -> Result<Self, ApiError> {
        if key.expose().trim().is_empty() {
            return Err(ApiError::invalid_config("The API key is empty"));
        }
        let base = http::base_url_or(base_url, DEFAULT_BASE_URL)?;
        Ok(Self {
            http: http::shared_client()?,
            base,
            auth: vec![(
                "authorization",
                Secret::new(format!("Bearer {}", key.expose())),
            )],
            retry: RetryPolicy::default(),
        })
    }

    /// The cheapest read-only call (`GET /companies?per_page=1`): Ok means the key works.
    pub async fn test_key(&self) -> Result<KeyCheck, ApiError> {
        let call = Call::new(Method::GET, &[Seg::Plain("companies")])
            .query(vec![("per_page", "1".to_owned())]);
        let reply = self.send(call).await?;
        let header = |name: &str| {
            reply
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok())
        };
        // The body must still be a page, or the "key works" verdict would be a guess.
        let _: CursorPage<Company> = parse(&reply)?;
        Ok(KeyCheck {
            rate_limit: header("x-ratelimit-limit"),
            rate_remaining: header("x-ratelimit-remaining"),
        })
    }

    pub async fn list_companies(
        &self,
        per_page: u32,
        cursor: Option<&str>,
    ) -> Result<CursorPage<Company>, ApiError> {
        let mut q = vec![("per_page", per_page.to_string())];
        if let Some(c) = cursor {
            q.push(("cursor", c.to_owned()));
        }
        let reply = self
            .send(Call::new(Method::GET, &[Seg::Plain("companies")]).query(q))
            .await?;
        parse(&reply)
    }

    /// Events between two `YYYY-MM-DD HH:MM:SS` times (the Space's time zone).
    pub async fn list_events(
        &self,
        start_date: &str,
        end_date: &str,
        per_page: u32,
    ) -> Result<CursorPage<Event>, ApiError> {
        let q = vec![
            ("start_date", start_date.to_owned()),
            ("end_date", end_date.to_owned()),
            ("per_page", per_page.to_string()),
        ];
        let reply = self
            .send(Call::new(Method::GET, &[Seg::Plain("events")]).query(q))
            .await?;
        parse(&reply)
    }

    async fn send(&self, call: Call) -> Result<http::Reply, ApiError> {
        let (reply, secrets) =
            http::execute(&self.http, &self.base, &self.auth, call, &self.retry).await?;
        if (200..300).contains(&reply.status) {
            return Ok(reply);
        }
        let secrets: Vec<&str> = secrets.iter().map(Secret::expose).collect();
        Err(error_of(&reply).scrubbed(&secrets))
    }
}

#[derive(Deserialize)]
struct MessageBody {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    errors: Option<serde_json::Value>,
}

fn error_of(reply: &http::Reply) -> ApiError {
    let body = serde_json::from_slice::<MessageBody>(&reply.body).ok();
    let mut fields = FieldErrors::new();
    if let Some(serde_json::Value::Object(map)) = body.as_ref().and_then(|b| b.errors.clone()) {
        for (k, v) in map {
            let msgs = match v {
                serde_json::Value::Array(a) => a
                    .into_iter()
                    .map(|m| {
                        m.as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| m.to_string())
                    })
                    .collect(),
                other => vec![other.to_string()],
            };
            fields.insert(k, msgs);
        }
    }
    let mut err = ApiError::from_response(
        reply.status,
        None,
        body.and_then(|b| b.message),
        fields,
        http::retry_after(&reply.headers),
    );
    // Cometly's 403 means "no permission for this resource, or the subscription is inactive".
    if reply.status == 403 {
        err.kind = ErrorKind::PermissionDenied;
    }
    err
}

fn parse<T: DeserializeOwned>(reply: &http::Reply) -> Result<T, ApiError> {
    serde_json::from_slice(&reply.body).map_err(|e| {
        ApiError::bad_response(format!("The answer does not match the Cometly API: {e}"))
            .with_status(reply.status)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_page_of_companies_decodes() {
        let p: CursorPage<Company> = serde_json::from_str(
            r#"{"data":[{"id":1,"domain":"acme.test"}],"path":"x","per_page":1,"next_cursor":"abc","next_page_url":null,"prev_cursor":null,"prev_page_url":null}"#,
        )
        .unwrap();
        assert_eq!(p.data.len(), 1);
        assert_eq!(p.next_cursor.as_deref(), Some("abc"));
    }

    #[test]
    fn the_client_never_prints_its_key() {
        let c = CometlyClient::new(None, &Secret::new("cmt_live_0123456789abcdef")).unwrap();
        assert!(!format!("{c:?}").contains("0123456789"));
    }
}
