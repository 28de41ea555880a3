//! An Ably account, reached with a Control API access token (`Authorization: Bearer`); token
//! revocation talks to Ably's REST host with a key of the app instead.

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::config::{ConnectionKind, FIELD_ACCESS_TOKEN};
use crate::providers::ably::AblyControlClient;
use crate::providers::{ApiError, ErrorKind};
use crate::sandbox::StartupInfo;

use super::{Field, KindSpec, TestReport, unreachable};
use crate::core::client::{AblyAccess, ActiveClient, ClientProblem, ConnectInput};

pub struct AblyKind;

const FIELDS: &[Field] = &[Field::secret(
    FIELD_ACCESS_TOKEN,
    "Access token",
    "From Account, Access tokens in the Ably dashboard",
)];

impl KindSpec for AblyKind {
    fn is(&self, kind: &ConnectionKind) -> bool {
        matches!(kind, ConnectionKind::AblyAccount { .. })
    }

    fn provider(&self) -> &'static str {
        "Ably account"
    }

    fn new_button(&self) -> &'static str {
        "New Ably account…"
    }

    fn new_title(&self) -> &'static str {
        "New Ably account connection"
    }

    fn editor_note(&self) -> Option<&'static str> {
        Some("You choose the app in the API keys tab after the token is checked.")
    }

    fn blank(&self) -> ConnectionKind {
        ConnectionKind::AblyAccount {
            account_id: None,
            app_id: None,
        }
    }

    fn fields(&self) -> &'static [Field] {
        FIELDS
    }

    fn sandbox_secret(
        &self,
        _kind: &ConnectionKind,
        info: &StartupInfo,
        field: &str,
    ) -> Option<String> {
        (field == FIELD_ACCESS_TOKEN).then(|| info.ably.access_token.clone())
    }

    fn sandbox_base_url(&self, _kind: &ConnectionKind, info: &StartupInfo) -> Option<String> {
        Some(info.ably.control_url.clone())
    }

    fn connect(&self, input: &ConnectInput<'_>) -> Result<ActiveClient, ClientProblem> {
        let ConnectionKind::AblyAccount { account_id, app_id } = &input.connection.kind else {
            return Err(ClientProblem::Invalid(ApiError::invalid_config(
                "Not an Ably account connection",
            )));
        };
        let (control_url, rest_url) = match input.sandbox {
            Some(info) => (
                Some(info.ably.control_url.clone()),
                Some(info.ably.rest_url.clone()),
            ),
            None => {
                let control = input.connection.base_url_override().map(str::to_owned);
                // A sandbox started by hand serves both APIs on one host.
                let rest = control.as_deref().and_then(|u| {
                    u.trim_end_matches('/')
                        .strip_suffix("/ably/control/v1")
                        .map(|base| format!("{base}/ably/rest"))
                });
                (control, rest)
            }
        };
        let token = input.secret(FIELD_ACCESS_TOKEN, "access token")?;
        AblyControlClient::new(control_url.as_deref(), &token)
            .map(|control| {
                ActiveClient::Ably(AblyAccess {
                    control,
                    account_id: account_id.clone(),
                    app_id: app_id.clone(),
                    rest_url,
                })
            })
            .map_err(ClientProblem::Invalid)
    }

    fn test(&self, client: ActiveClient) -> BoxFuture<'static, TestReport> {
        async move {
            match client {
                ActiveClient::Ably(a) => test(&a).await,
                _ => TestReport::failed("Not an Ably account connection", ""),
            }
        }
        .boxed()
    }
}

/// `me()` then the account's apps: says whose token it is and what it may do.
async fn test(a: &AblyAccess) -> TestReport {
    let fail = |e: ApiError| {
        match e.kind {
        ErrorKind::Unauthenticated => TestReport::failed(
            "401: Ably does not accept this access token",
            format!(
                "The token is wrong, expired or was revoked. Create a new one under Account, Access tokens in the Ably dashboard. ({e})"
            ),
        )
        .at(FIELD_ACCESS_TOKEN),
        ErrorKind::PermissionDenied => TestReport::failed(
            "403: the token is valid, but may not do this",
            format!(
                "The access token lacks a capability (for example read:app or read:key), or belongs to another account. Give the token more capabilities in the dashboard. ({e})"
            ),
        ),
        ErrorKind::Connection | ErrorKind::Timeout => {
            unreachable("Could not reach the Ably Control API".to_owned(), &e)
        }
        _ => TestReport::failed("The test call failed", e.to_string()),
    }
    };
    let me = match a.control.me().await {
        Ok(me) => me,
        Err(e) => return fail(e),
    };
    let account = a.account_id.clone().unwrap_or(me.account.id.clone());
    let can_write = me.token.has("write:key");
    match a.control.list_apps(&account).await {
        Ok(apps) => TestReport::works(
            format!(
                "Works: token {} of account {}",
                me.token.name, me.account.name
            ),
            format!(
                "It sees {} app(s){}.",
                apps.len(),
                if can_write {
                    " and can create, change and revoke their keys"
                } else {
                    "; it may read keys but not change them (no write:key)"
                }
            ),
        ),
        Err(e) => fail(e),
    }
}
