//! The CometChat Management API, reached with a `key` and a `secret`: apps of the account.

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::config::{ConnectionKind, FIELD_KEY, FIELD_SECRET};
use crate::providers::ErrorKind;
use crate::providers::management::{AppQuery, ManagementClient};
use crate::sandbox::StartupInfo;

use super::{Field, KindSpec, TestReport, unreachable};
use crate::core::client::{ActiveClient, ClientProblem, ConnectInput};

pub struct ManagementKind;

const FIELDS: &[Field] = &[
    Field::secret(FIELD_KEY, "Key", "Management key"),
    Field::secret(FIELD_SECRET, "Secret", "Management secret"),
];

impl KindSpec for ManagementKind {
    fn is(&self, kind: &ConnectionKind) -> bool {
        matches!(kind, ConnectionKind::Management)
    }

    fn provider(&self) -> &'static str {
        "CometChat management"
    }

    fn new_button(&self) -> &'static str {
        "New management connection…"
    }

    fn choice_label(&self) -> &'static str {
        "CometChat Management API"
    }

    fn new_title(&self) -> &'static str {
        "New management connection"
    }

    fn blank(&self) -> ConnectionKind {
        ConnectionKind::Management
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
        let m = &info.cometchat.management;
        match field {
            FIELD_KEY => Some(m.key.clone()),
            FIELD_SECRET => Some(m.secret.clone()),
            _ => None,
        }
    }

    fn sandbox_base_url(&self, _kind: &ConnectionKind, info: &StartupInfo) -> Option<String> {
        Some(info.cometchat.management.base_url.clone())
    }

    fn connect(&self, input: &ConnectInput<'_>) -> Result<ActiveClient, ClientProblem> {
        let base_url =
            input.base_url(|info| self.sandbox_base_url(&ConnectionKind::Management, info));
        let key = input.secret(FIELD_KEY, "management key")?;
        let secret = input.secret(FIELD_SECRET, "management secret")?;
        ManagementClient::new(base_url.as_deref(), key, secret)
            .map(|c| c.with_retry(input.retry.clone()))
            .map(ActiveClient::Management)
            .map_err(ClientProblem::Invalid)
    }

    fn test(&self, client: ActiveClient) -> BoxFuture<'static, TestReport> {
        async move {
            match client {
                ActiveClient::Management(m) => test(m).await,
                _ => TestReport::failed("Not a management connection", ""),
            }
        }
        .boxed()
    }
}

/// Lists one page of apps: says how many the credential sees.
async fn test(m: ManagementClient) -> TestReport {
    let host = m.base_url().host_str().unwrap_or("the server").to_owned();
    let query = AppQuery {
        per_page: Some(1),
        ..AppQuery::default()
    };
    match m.list_apps(&query).await {
        Ok(page) => TestReport::works(
            "Works: a management credential",
            format!(
                "It can list, create and delete apps. It sees {} app(s).",
                page.pagination.total
            ),
        ),
        Err(e) => match e.kind {
            ErrorKind::Unauthenticated => TestReport::failed(
                "The key or secret was not accepted",
                format!("Fix the key or the secret. ({e})"),
            )
            .at(FIELD_SECRET),
            ErrorKind::PermissionDenied => TestReport::failed(
                "The credential may not list apps",
                format!("The plan or the credential does not allow this. ({e})"),
            ),
            ErrorKind::Connection | ErrorKind::Timeout | ErrorKind::NotFound => {
                unreachable(format!("Could not reach the Management API at {host}"), &e)
            }
            _ => TestReport::failed("The test call failed", e.to_string()),
        },
    }
}
