//! What views ask for. Tabs return these from `ui()`; [`super::KeydeckApp::handle_command`] is
//! the one place that performs them.

use crate::config::{Connection, RetiringKey};
use crate::providers::cometchat::{ApiKey, ApiKeyUpdate, NewApiKey};
use crate::secret::Secret;

use super::Tab;
use super::toasts::Toast;

/// A secret field typed into a form: (field name, value).
pub type SecretInput = (&'static str, Secret);

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
    /// Append an entry to the audit trail; the app adds time, user and connection. `target`
    /// names what was acted on with any secret masked.
    Audit {
        action: &'static str,
        target: String,
        outcome: Result<(), String>,
    },

    // ----- API keys of the active CometChat app ------------------------------------------
    RefreshKeys,
    CreateKey(NewApiKey),
    UpdateKey {
        key: Secret,
        update: ApiKeyUpdate,
    },
    DeleteKey {
        key: Secret,
        name: String,
    },
    /// Create a replacement with the same name and scope.
    RotateKey {
        old: ApiKey,
        overlap_secs: i64,
    },
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

    // ----- Connections ---------------------------------------------------------------------
    /// Add or replace a connection; empty secret inputs keep what is stored.
    SaveConnection {
        connection: Connection,
        secrets: Vec<SecretInput>,
    },
    RemoveConnection(String),
    /// Try a connection as it is in the editor; the result goes back to the editor.
    TestConnection {
        connection: Connection,
        secrets: Vec<SecretInput>,
    },
    AddSandboxConnections,

    // ----- Users & tokens (the tab performs its own requests) -----------------------------
    Users(crate::tabs::users::UsersCommand),
    // ----- Apps of the active management connection (performed by the Apps tab) ------------
    Apps(crate::tabs::apps::AppsCommand),
    // ----- Keys of the active Ably app (performed by the Ably keys view) ---------------------
    Ably(crate::tabs::ably_keys::AblyCommand),
}
