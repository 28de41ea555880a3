//! A connection made usable: the client of its provider, or why there is none yet. The
//! resolution itself is `connect::resolve`, one layer up.

use crate::config::Connection;
use crate::providers::ApiError;
use crate::providers::ably::AblyControlClient;
use crate::providers::cometchat::CometChatClient;
use crate::providers::cometly::CometlyClient;
use crate::providers::http::RetryPolicy;
use crate::providers::management::ManagementClient;
use crate::sandbox::StartupInfo;
use crate::secret::Secret;

/// A ready client for the active connection.
#[derive(Clone, Debug)]
pub enum ActiveClient {
    CometChat(CometChatClient),
    Management(ManagementClient),
    Ably(AblyAccess),
    Cometly(CometlyClient),
}

/// An Ably account connection: the Control API client plus where the REST API is (token
/// revocation talks to it with a key of the app, not with the access token).
#[derive(Clone, Debug)]
pub struct AblyAccess {
    pub control: AblyControlClient,
    pub account_id: Option<String>,
    pub app_id: Option<String>,
    /// `None`: Ably's own REST host.
    pub rest_url: Option<String>,
}

impl ActiveClient {
    pub fn cometchat(&self) -> Option<&CometChatClient> {
        match self {
            ActiveClient::CometChat(c) => Some(c),
            _ => None,
        }
    }

    pub fn management(&self) -> Option<&ManagementClient> {
        match self {
            ActiveClient::Management(c) => Some(c),
            _ => None,
        }
    }

    pub fn ably(&self) -> Option<&AblyAccess> {
        match self {
            ActiveClient::Ably(c) => Some(c),
            _ => None,
        }
    }
}

/// Why there is no client for the active connection yet.
#[derive(Clone, Debug)]
pub enum ClientProblem {
    NoConnection,
    LoadingSecrets,
    StartingSandbox,
    SandboxFailed(String),
    MissingSecret(&'static str),
    Invalid(ApiError),
}

impl ClientProblem {
    /// Still on its way: show a spinner, not an error.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ClientProblem::LoadingSecrets | ClientProblem::StartingSandbox
        )
    }

    pub fn message(&self) -> String {
        match self {
            ClientProblem::NoConnection => {
                "No connection yet. Add one in the Connections tab.".to_owned()
            }
            ClientProblem::LoadingSecrets => "Opening the keychain…".to_owned(),
            ClientProblem::StartingSandbox => "Starting the local sandbox…".to_owned(),
            ClientProblem::SandboxFailed(e) => format!("The local sandbox did not start: {e}"),
            ClientProblem::MissingSecret(field) => {
                format!("No {field} is stored for this connection.")
            }
            ClientProblem::Invalid(e) => e.to_string(),
        }
    }
}

/// A secret typed into a form: (field name, value). Tried before the stored one.
pub type SecretInput = (&'static str, Secret);

/// Where the embedded sandbox stands, as far as resolving a sandbox connection cares.
#[derive(Clone, Copy, Debug)]
pub enum SandboxStatus<'a> {
    /// Not started by this process.
    Off,
    Starting,
    Running(&'a StartupInfo),
    Failed(&'a str),
}

/// What a kind needs to build its client: the connection's secrets (typed, stored, or from
/// the sandbox) and the sandbox it talks to, when it is an embedded-sandbox connection.
pub struct ConnectInput<'a> {
    pub connection: &'a Connection,
    /// The running sandbox, for an embedded-sandbox connection.
    pub sandbox: Option<&'a StartupInfo>,
    pub retry: RetryPolicy,
    pub(super) secret: &'a dyn Fn(&'static str, &'static str) -> Result<Secret, ClientProblem>,
}

impl ConnectInput<'_> {
    /// The value of a secret field; `label` names it in the problem when it is missing.
    pub fn secret(
        &self,
        field: &'static str,
        label: &'static str,
    ) -> Result<Secret, ClientProblem> {
        (self.secret)(field, label)
    }

    /// The base URL to use: the running sandbox's (from `from_sandbox`) or the override.
    pub fn base_url(
        &self,
        from_sandbox: impl FnOnce(&StartupInfo) -> Option<String>,
    ) -> Option<String> {
        match self.sandbox {
            Some(info) => from_sandbox(info),
            None => self.connection.base_url_override().map(str::to_owned),
        }
    }
}
