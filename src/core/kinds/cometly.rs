//! A Cometly workspace, reached with a Bearer API key: stored and tested.

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::config::{ConnectionKind, FIELD_API_KEY};
use crate::providers::ErrorKind;
use crate::providers::cometly::CometlyClient;
use crate::sandbox::StartupInfo;

use super::{Field, KindSpec, TestReport, unreachable};
use crate::core::client::{ActiveClient, ClientProblem, ConnectInput};

pub struct CometlyKind;

const FIELDS: &[Field] = &[Field::secret(
    FIELD_API_KEY,
    "API key",
    "From Settings, API keys in Cometly",
)];

impl KindSpec for CometlyKind {
    fn is(&self, kind: &ConnectionKind) -> bool {
        matches!(kind, ConnectionKind::Cometly)
    }

    fn provider(&self) -> &'static str {
        "Cometly"
    }

    fn new_button(&self) -> &'static str {
        "New Cometly connection…"
    }

    fn new_title(&self) -> &'static str {
        "New Cometly connection"
    }

    fn blank(&self) -> ConnectionKind {
        ConnectionKind::Cometly
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
        (field == FIELD_API_KEY)
            .then(|| info.cometly.keys.iter().find(|k| k.active))
            .flatten()
            .map(|k| k.key.clone())
    }

    fn sandbox_base_url(&self, _kind: &ConnectionKind, info: &StartupInfo) -> Option<String> {
        Some(info.cometly.base_url.clone())
    }

    fn connect(&self, input: &ConnectInput<'_>) -> Result<ActiveClient, ClientProblem> {
        let base_url = input.base_url(|info| self.sandbox_base_url(&ConnectionKind::Cometly, info));
        let key = input.secret(FIELD_API_KEY, "API key")?;
        CometlyClient::new(base_url.as_deref(), &key)
            .map(ActiveClient::Cometly)
            .map_err(ClientProblem::Invalid)
    }

    fn test(&self, client: ActiveClient) -> BoxFuture<'static, TestReport> {
        async move {
            match client {
                ActiveClient::Cometly(c) => test(c).await,
                _ => TestReport::failed("Not a Cometly connection", ""),
            }
        }
        .boxed()
    }
}

/// Calls Cometly with the key: 401 and 403 mean different things, and say so.
async fn test(c: CometlyClient) -> TestReport {
    match c.test_key().await {
        Ok(check) => TestReport::works(
            "Works: the API key is accepted",
            match (check.rate_limit, check.rate_remaining) {
                (Some(limit), Some(left)) => format!(
                    "It can read this workspace's companies and events. {left} of {limit} requests left in this minute."
                ),
                _ => "It can read this workspace's companies and events.".to_owned(),
            },
        ),
        Err(e) => match e.kind {
            ErrorKind::Unauthenticated => TestReport::failed(
                "401: Cometly does not know this API key",
                format!(
                    "The key is wrong, was deleted, or was copied with a character missing. Copy it again from Cometly's settings. ({e})"
                ),
            )
            .at(FIELD_API_KEY),
            ErrorKind::PermissionDenied => TestReport::failed(
                "403: the key is known, but its workspace may not use the API",
                format!(
                    "The key itself is right: the workspace's subscription is inactive or its plan has no API access. Renew the plan in Cometly, or use a key of another workspace. ({e})"
                ),
            ),
            ErrorKind::Connection | ErrorKind::Timeout => {
                unreachable("Could not reach Cometly".to_owned(), &e)
            }
            _ => TestReport::failed("The test call failed", e.to_string()),
        },
    }
}
