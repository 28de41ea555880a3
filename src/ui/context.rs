//! What a tab gets from the shell ([`TabContext`]) and what it may ask of it ([`Command`]).
//!
//! This is the one module of the shell that tabs import: it names no tab, so tabs and shell do
//! not import each other in a loop. A tab performs its own requests (see `ui::request`); a
//! `Command` is only what crosses tabs or touches the session: switch tab or connection, copy,
//! save a connection, store a key.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;

use poll_promise::Promise;
use serde::{Deserialize, Serialize};
use tokio::runtime::Handle;

use crate::config::{Config, Connection, RetiringKey};
use crate::core::client::{AblyAccess, ActiveClient, ClientProblem};
use crate::core::connect::{self, Resolver};
use crate::core::recorder::Recorder;
use crate::core::session::Session;
use crate::providers::ApiError;
use crate::providers::cometchat::CometChatClient;
use crate::providers::management::ManagementClient;
use crate::sandbox::StartupInfo;
use crate::secret::Secret;
use crate::vault::Vault;

use super::remote::spawn_api;
use super::shortcuts::Shortcut;
use super::toasts::{Toast, Toasts};

pub use crate::core::client::SecretInput;

/// The tabs, in the order of the top bar. Also `keydeck --tab keys|users|apps|connections`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum,
)]
pub enum Tab {
    #[default]
    Keys,
    Users,
    Apps,
    Connections,
    Hygiene,
}

impl Tab {
    pub const ALL: [Tab; 5] = [
        Tab::Keys,
        Tab::Users,
        Tab::Apps,
        Tab::Connections,
        Tab::Hygiene,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Keys => "API keys",
            Tab::Users => "Users & tokens",
            Tab::Apps => "Apps",
            Tab::Connections => "Connections",
            Tab::Hygiene => "Hygiene",
        }
    }
}

/// What a tab gets to draw and act with: the runtime, the active connection and its client,
/// the recorder of the audit trail, toasts, the config and this frame's shortcuts.
pub struct TabContext<'a> {
    pub rt: &'a Handle,
    pub egui_ctx: egui::Context,
    pub config: &'a Config,
    pub connection: Option<&'a Connection>,
    pub client: &'a Result<ActiveClient, ClientProblem>,
    /// Turns any connection into a client (a connection test before it is saved).
    pub resolver: &'a Resolver<'a>,
    /// Changes whenever the active connection or its secrets change: tabs drop their data then.
    pub generation: u64,
    /// Writes audit records naming the active connection; core operations take it.
    pub recorder: Recorder,
    pub toasts: &'a mut Toasts,
    pub vault: &'a Vault,
    /// Which secret fields are stored, by account (`"{id}/{field}"`).
    pub stored: &'a HashMap<String, Secret>,
    /// The session: where each secret stands in the keychain.
    pub session: &'a Session,
    pub sandbox: Option<&'a StartupInfo>,
    pub shortcuts: &'a [Shortcut],
    pub now_unix: i64,
}

impl TabContext<'_> {
    pub fn cometchat(&self) -> Option<&CometChatClient> {
        self.client.as_ref().ok().and_then(ActiveClient::cometchat)
    }

    pub fn management(&self) -> Option<&ManagementClient> {
        self.client.as_ref().ok().and_then(ActiveClient::management)
    }

    pub fn ably(&self) -> Option<&AblyAccess> {
        self.client.as_ref().ok().and_then(ActiveClient::ably)
    }

    /// Whether this secret field of this connection has a stored value.
    pub fn has_secret(&self, connection_id: &str, field: &str) -> bool {
        self.stored
            .contains_key(&Vault::account(connection_id, field))
    }

    /// The one way a view runs a request: on the runtime, repainting when it is done, a panic
    /// turned into an error. Keep the promise in the view's state (a `Remote` or an `Op`).
    pub fn run<T: Send + 'static>(
        &self,
        fut: impl Future<Output = Result<T, ApiError>> + Send + 'static,
    ) -> Promise<Result<T, ApiError>> {
        spawn_api(self.rt, &self.egui_ctx, fut)
    }

    /// A client for any connection, with secrets typed into a form tried first.
    pub fn client_for(
        &self,
        connection: &Connection,
        typed: &[SecretInput],
    ) -> Result<ActiveClient, ClientProblem> {
        connect::resolve(connection, typed, self.resolver)
    }
}

/// A tab as the shell sees it: the shell iterates these and never names a tab's own types.
pub trait TabView {
    /// Which tab this is.
    fn id(&self) -> Tab;

    /// Whether a dialog of the tab is open (global shortcuts are not read then).
    fn has_dialog(&self) -> bool {
        false
    }

    /// Settles finished requests, first thing in a frame, before anything is drawn.
    fn settle(&mut self, _cx: &mut TabContext<'_>) -> Vec<Command> {
        Vec::new()
    }

    /// Draws the tab; returns what it asks of the shell.
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut TabContext<'_>) -> Vec<Command>;

    /// Performs one of the tab's own commands (sent as [`Command::Tab`]).
    fn handle(&mut self, _message: TabMessage, _cx: &mut TabContext<'_>) {}
}

/// A tab's own command, addressed to it. The shell routes it back without looking inside; the
/// tab takes its own type out with [`TabMessage::take`].
pub struct TabMessage {
    pub tab: Tab,
    message: Box<dyn Any + Send>,
}

impl TabMessage {
    pub fn new<T: Any + Send>(tab: Tab, message: T) -> Self {
        Self {
            tab,
            message: Box::new(message),
        }
    }

    /// The message as the tab's own command type, or itself back when it is another type.
    pub fn take<T: Any>(self) -> Result<T, Self> {
        match self.message.downcast::<T>() {
            Ok(m) => Ok(*m),
            Err(message) => Err(Self {
                tab: self.tab,
                message,
            }),
        }
    }
}

/// What a view asks of the shell: what crosses tabs or changes the session.
pub enum Command {
    SelectTab(Tab),
    SelectConnection(String),
    /// Switch to the Connections tab and open the editor of this connection.
    EditConnection(String),
    ToggleTheme,
    /// Put a value on the clipboard; `what` names it in the confirmation toast.
    Copy {
        value: Secret,
        what: String,
    },
    Toast(Toast),
    /// Turn presentation mode (every secret masked, no reveal) on or off.
    SetPresentationMode(bool),
    /// Put version, OS and the recent log (secrets masked) on the clipboard.
    CopyDiagnostics,
    /// A tab's own command, performed by that tab ([`TabView::handle`]).
    Tab(TabMessage),

    // ----- The session: connections, their secrets, retiring keys -------------------------
    /// Remember a key as retiring (survives a restart).
    MarkRetiring(RetiringKey),
    /// Forget the retiring record of a key (deleted, or the rotation was abandoned).
    ForgetRetiring {
        connection_id: String,
        key_sha256: String,
    },
    /// Store a new API key in the keychain for this connection.
    UseKeyForConnection {
        connection_id: String,
        key: Secret,
    },
    /// Add or replace a connection; empty secret inputs keep what is stored.
    SaveConnection {
        connection: Connection,
        secrets: Vec<SecretInput>,
    },
    RemoveConnection(String),
    /// Add the connections of a profiles file (those already here are left alone).
    ImportConnections(Vec<Connection>),
    AddSandboxConnections,
    /// Ask the OS keychain again (unlock prompt): secrets kept in memory are written to it.
    RetryKeychain,
    /// Write again every secret the keychain refused.
    RetryUnsavedSecrets,
}
