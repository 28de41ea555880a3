//! One CometChat app, reached with a REST API key (`apikey` header; scope fullAccess or
//! authOnly).

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::config::{ConnectionKind, FIELD_API_KEY};
use crate::providers::cometchat::{
    ApiKeyQuery, AppEndpoint, CometChatClient, REGIONS, Scope, validate_app_id,
};
use crate::providers::{ApiError, ErrorKind};
use crate::sandbox::StartupInfo;

use super::{Field, KindSpec, TestReport, unreachable};
use crate::core::client::{ActiveClient, ClientProblem, ConnectInput};

pub struct CometChatAppKind;

const FIELDS: &[Field] = &[
    Field::plain("app_id", "App id", "e.g. 2a1b3c4d5e6f"),
    Field::choice("region", "Region", &REGIONS),
    Field::secret(FIELD_API_KEY, "REST API key", "40 hexadecimal characters"),
];

impl KindSpec for CometChatAppKind {
    fn is(&self, kind: &ConnectionKind) -> bool {
        matches!(kind, ConnectionKind::CometChatApp { .. })
    }

    fn provider(&self) -> &'static str {
        "CometChat app"
    }

    fn new_button(&self) -> &'static str {
        "New CometChat app…"
    }

    fn new_title(&self) -> &'static str {
        "New CometChat app connection"
    }

    fn blank(&self) -> ConnectionKind {
        ConnectionKind::CometChatApp {
            app_id: String::new(),
            region: "us".to_owned(),
        }
    }

    fn plain_value(&self, kind: &ConnectionKind, field: &str) -> Option<String> {
        let ConnectionKind::CometChatApp { app_id, region } = kind else {
            return None;
        };
        match field {
            "app_id" => Some(app_id.clone()),
            "region" => Some(region.clone()),
            _ => None,
        }
    }

    fn kind_from_form(
        &self,
        value: &dyn Fn(&str) -> String,
        _existing: Option<&ConnectionKind>,
    ) -> ConnectionKind {
        ConnectionKind::CometChatApp {
            app_id: value("app_id").trim().to_owned(),
            region: value("region"),
        }
    }

    fn check(&self, field: &str, value: &str) -> Option<String> {
        match field {
            "app_id" => validate_app_id(value.trim()).err().map(|e| e.message),
            "region" => (!REGIONS.contains(&value)).then(|| "Pick a region".to_owned()),
            _ => None,
        }
    }

    fn fields(&self) -> &'static [Field] {
        FIELDS
    }

    fn sandbox_secret(
        &self,
        kind: &ConnectionKind,
        info: &StartupInfo,
        field: &str,
    ) -> Option<String> {
        let ConnectionKind::CometChatApp { app_id, .. } = kind else {
            return None;
        };
        (field == FIELD_API_KEY)
            .then(|| info.cometchat.apps.iter().find(|a| &a.app_id == app_id))
            .flatten()
            .map(|a| a.rest_api_key.clone())
    }

    fn sandbox_base_url(&self, kind: &ConnectionKind, info: &StartupInfo) -> Option<String> {
        let ConnectionKind::CometChatApp { app_id, .. } = kind else {
            return None;
        };
        info.cometchat
            .apps
            .iter()
            .find(|a| &a.app_id == app_id)
            .map(|a| a.base_url.clone())
            // An app created (Apps tab) after the sandbox started: same host.
            .or_else(|| {
                crate::core::open_app::chat_base_url(
                    Some(&info.cometchat.management.base_url),
                    app_id,
                )
            })
    }

    fn connect(&self, input: &ConnectInput<'_>) -> Result<ActiveClient, ClientProblem> {
        let ConnectionKind::CometChatApp { app_id, region } = &input.connection.kind else {
            return Err(ClientProblem::Invalid(ApiError::invalid_config(
                "Not a CometChat app connection",
            )));
        };
        let base_url = match input.sandbox {
            Some(info) => Some(
                self.sandbox_base_url(&input.connection.kind, info)
                    .ok_or_else(|| {
                        ClientProblem::Invalid(ApiError::invalid_config(format!(
                            "The local sandbox has no app {app_id}"
                        )))
                    })?,
            ),
            None => input.connection.base_url_override().map(str::to_owned),
        };
        let endpoint = AppEndpoint {
            app_id: app_id.clone(),
            region: region.clone(),
            base_url,
        };
        let key = input.secret(FIELD_API_KEY, "REST API key")?;
        CometChatClient::new(&endpoint, key)
            .map(|c| c.with_retry(input.retry.clone()))
            .map(ActiveClient::CometChat)
            .map_err(ClientProblem::Invalid)
    }

    fn test(&self, client: ActiveClient) -> BoxFuture<'static, TestReport> {
        async move {
            match client {
                ActiveClient::CometChat(c) => test(c).await,
                _ => TestReport::failed("Not a CometChat app connection", ""),
            }
        }
        .boxed()
    }
}

/// Tests the key on the app's REST host (what it may do), then on its Calls host, and says
/// of each whether the key reaches it.
async fn test(c: CometChatClient) -> TestReport {
    let rest = test_rest(&c).await;
    let calls = calls_line(&c).await;
    rest.and_detail(calls)
}

/// One sentence on the Calls host: reached with this key, refused, or not checked.
async fn calls_line(c: &CometChatClient) -> String {
    let host = c
        .calls_base_url()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    match c.probe_calls().await {
        Ok(Some(_)) => format!("Calls host {host}: the key works there too."),
        Ok(None) => {
            "Calls host: not checked, the connection's custom base URL names none.".to_owned()
        }
        Err(e) => match e.kind {
            ErrorKind::Unauthenticated | ErrorKind::PermissionDenied => format!(
                "Calls host {host}: the key was not accepted there ({})",
                e.message
            ),
            ErrorKind::Connection | ErrorKind::Timeout => {
                format!("Calls host {host}: could not be reached ({})", e.message)
            }
            _ => format!("Calls host {host}: the test call failed ({e})"),
        },
    }
}

/// Lists the app's keys: says which scope the key has and what it may do.
async fn test_rest(c: &CometChatClient) -> TestReport {
    let host = c.base_url().host_str().unwrap_or("the server").to_owned();
    match c.list_api_keys(&ApiKeyQuery::default()).await {
        Ok(keys) => {
            let scope = keys
                .iter()
                .find(|k| &k.api_key == c.api_key())
                .map(|k| k.scope)
                .unwrap_or(Scope::FullAccess);
            TestReport::works(
                format!("Works: a {scope} key"),
                format!(
                    "REST host {host}: it can manage API keys, users and auth tokens of app {}. The app has {}.",
                    c.app_id(),
                    crate::words::count(keys.len(), "key", "keys")
                ),
            )
        }
        Err(e) if e.is_code("AUTH_ERR_NO_ACCESS") => TestReport::works(
            "Works: an authOnly key",
            format!(
                "REST host {host}: it can create users and auth tokens only. To manage API keys or list users, use a fullAccess key."
            ),
        ),
        Err(e) => match e.kind {
            ErrorKind::Unauthenticated => TestReport::failed(
                "The REST API key was not accepted",
                format!("Fix the REST API key: this app does not know it. ({e})"),
            )
            .at(FIELD_API_KEY),
            ErrorKind::NotFound => TestReport::failed(
                "The app was not found",
                format!("Fix the app id or the region. ({e})"),
            )
            .at("app_id"),
            ErrorKind::Connection | ErrorKind::Timeout => {
                unreachable(format!("Could not reach {host}"), &e)
            }
            ErrorKind::InvalidConfig => {
                TestReport::failed("The connection is not set up correctly", e.to_string())
            }
            _ => TestReport::failed("The test call failed", e.to_string()),
        },
    }
}
