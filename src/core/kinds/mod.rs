//! The connection registry: what each provider *is*, declared once.
//!
//! A [`KindSpec`] says which fields a connection of its kind has and which are secret, how its
//! client is built (and where it finds credentials in the embedded sandbox), and how it is
//! tested, with what its errors mean in words. The connection editor, the keychain layout, the
//! client resolution and the connection test all read from here, so a new provider is one new
//! file in this folder plus one line in [`ALL`] (and its variant of
//! [`ConnectionKind`](crate::config::ConnectionKind), which is what the config file stores).

mod ably;
mod cometchat_app;
mod cometly;
mod management;

use futures::future::BoxFuture;

use crate::config::ConnectionKind;
use crate::sandbox::StartupInfo;

use super::client::{ActiveClient, ClientProblem, ConnectInput};

pub use ably::AblyKind;
pub use cometchat_app::CometChatAppKind;
pub use cometly::CometlyKind;
pub use management::ManagementKind;

/// Every provider Keydeck knows, in the order the editor offers them.
pub const ALL: [&dyn KindSpec; 4] = [&CometChatAppKind, &ManagementKind, &AblyKind, &CometlyKind];

/// A field of a connection: its name (also the keychain account suffix for secrets), its label
/// in forms and messages, and what the editor shows in it while it is empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    /// Kept in the OS keychain, masked on screen.
    pub secret: bool,
    /// The placeholder of an empty input.
    pub hint: &'static str,
    /// A fixed set of values (a drop-down) instead of free text; empty for free text.
    pub choices: &'static [&'static str],
}

impl Field {
    pub const fn secret(name: &'static str, label: &'static str, hint: &'static str) -> Self {
        Self {
            name,
            label,
            secret: true,
            hint,
            choices: &[],
        }
    }

    pub const fn plain(name: &'static str, label: &'static str, hint: &'static str) -> Self {
        Self {
            name,
            label,
            secret: false,
            hint,
            choices: &[],
        }
    }

    pub const fn choice(
        name: &'static str,
        label: &'static str,
        choices: &'static [&'static str],
    ) -> Self {
        Self {
            name,
            label,
            secret: false,
            hint: "",
            choices,
        }
    }

    /// What an empty secret input means when a value is stored ("Leave empty to keep the
    /// stored key").
    pub fn keep_hint(&self) -> String {
        let noun = self.label.rsplit(' ').next().unwrap_or(self.label);
        format!("Leave empty to keep the stored {}", noun.to_lowercase())
    }
}

/// One provider kind. Implementations are unit structs listed in [`ALL`].
pub trait KindSpec: Sync {
    /// Whether a stored connection kind is this one.
    fn is(&self, kind: &ConnectionKind) -> bool;

    /// The provider, in words ("CometChat app").
    fn provider(&self) -> &'static str;

    /// The button that opens an editor for a new connection of this kind.
    fn new_button(&self) -> &'static str;

    /// The choice in the editor's provider picker ("CometChat Management API").
    fn choice_label(&self) -> &'static str {
        self.provider()
    }

    /// The title of the editor for a new connection of this kind.
    fn new_title(&self) -> &'static str;

    /// A line under the fields of the editor, when the kind needs one.
    fn editor_note(&self) -> Option<&'static str> {
        None
    }

    /// A fresh connection kind of this provider, for a new connection.
    fn blank(&self) -> ConnectionKind;

    /// The value of a plain (non-secret) field of a stored kind.
    fn plain_value(&self, _kind: &ConnectionKind, _field: &str) -> Option<String> {
        None
    }

    /// The kind a form describes: `value` gives each plain field's text; `existing` is the
    /// kind being edited, whose hidden parts (an Ably account's chosen app) are kept.
    fn kind_from_form(
        &self,
        _value: &dyn Fn(&str) -> String,
        existing: Option<&ConnectionKind>,
    ) -> ConnectionKind {
        match existing {
            Some(k) if self.is(k) => k.clone(),
            _ => self.blank(),
        }
    }

    /// Why a plain field's value is not valid, if it is not.
    fn check(&self, _field: &str, _value: &str) -> Option<String> {
        None
    }

    /// Every field, secret or not, in the order the editor shows them.
    fn fields(&self) -> &'static [Field];

    /// The fields kept in the config file.
    fn plain_fields(&self) -> Vec<Field> {
        self.fields()
            .iter()
            .filter(|f| !f.secret)
            .copied()
            .collect()
    }

    /// The secret fields: (field, label).
    fn secret_fields(&self) -> Vec<(&'static str, &'static str)> {
        self.fields()
            .iter()
            .filter(|f| f.secret)
            .map(|f| (f.name, f.label))
            .collect()
    }

    /// The value of a secret field in the running embedded sandbox, for a sandbox connection.
    fn sandbox_secret(
        &self,
        kind: &ConnectionKind,
        info: &StartupInfo,
        field: &str,
    ) -> Option<String>;

    /// Where a sandbox connection of this kind sends its requests in the running sandbox.
    fn sandbox_base_url(&self, kind: &ConnectionKind, info: &StartupInfo) -> Option<String>;

    /// Builds the client.
    fn connect(&self, input: &ConnectInput<'_>) -> Result<ActiveClient, ClientProblem>;

    /// Calls a harmless endpoint with the client and says in words what the credential can do.
    fn test(&self, client: ActiveClient) -> BoxFuture<'static, TestReport>;
}

/// The spec of a stored connection kind.
pub fn spec(kind: &ConnectionKind) -> &'static dyn KindSpec {
    match ALL.iter().find(|s| s.is(kind)) {
        Some(s) => *s,
        // Every variant has a spec (a unit test checks it); this arm keeps the lookup total.
        None => &CometChatAppKind,
    }
}

/// Tests a client with the spec of its kind.
pub async fn test_connection(kind: &ConnectionKind, client: ActiveClient) -> TestReport {
    spec(kind).test(client).await
}

/// What a connection test found, in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestReport {
    pub ok: bool,
    pub title: String,
    pub detail: String,
    /// The form field to fix, when the test points at one.
    pub field: Option<&'static str>,
}

impl TestReport {
    pub fn works(title: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            ok: true,
            title: title.into(),
            detail: detail.into(),
            field: None,
        }
    }

    pub fn failed(title: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            ok: false,
            title: title.into(),
            detail: detail.into(),
            field: None,
        }
    }

    /// The same report with one more sentence.
    pub fn and_detail(mut self, more: impl AsRef<str>) -> Self {
        let more = more.as_ref();
        if !more.is_empty() {
            if !self.detail.is_empty() {
                self.detail.push(' ');
            }
            self.detail.push_str(more);
        }
        self
    }

    /// Points the report at the form field to fix.
    pub fn at(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }

    pub fn from_problem(p: &ClientProblem) -> Self {
        let field = match p {
            ClientProblem::MissingSecret(_) => Some(crate::config::FIELD_API_KEY),
            ClientProblem::Invalid(e) if e.message.contains("base URL") => Some("base_url"),
            ClientProblem::Invalid(e) if e.message.contains("app id") => Some("app_id"),
            _ => None,
        };
        Self {
            ok: false,
            title: "The connection is not complete".to_owned(),
            detail: p.message(),
            field,
        }
    }
}

/// The wording every kind shares for a server that cannot be reached.
fn unreachable(what: String, e: &crate::providers::ApiError) -> TestReport {
    TestReport::failed(
        what,
        format!("Fix the base URL, or check the network. ({e})"),
    )
    .at("base_url")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stored_kind_has_exactly_one_spec() {
        let kinds = [
            ConnectionKind::CometChatApp {
                app_id: "a".into(),
                region: "us".into(),
            },
            ConnectionKind::Management,
            ConnectionKind::AblyAccount {
                account_id: None,
                app_id: None,
            },
            ConnectionKind::Cometly,
        ];
        for kind in &kinds {
            assert_eq!(ALL.iter().filter(|s| s.is(kind)).count(), 1, "{kind:?}");
            assert!(spec(kind).is(kind));
            assert!(
                spec(&spec(kind).blank()).is(kind),
                "blank() is of its own kind"
            );
        }
        assert_eq!(ALL.len(), kinds.len());
    }

    #[test]
    fn secret_fields_are_the_fields_marked_secret() {
        let m = spec(&ConnectionKind::Management);
        assert_eq!(
            m.secret_fields(),
            vec![
                (crate::config::FIELD_KEY, "Key"),
                (crate::config::FIELD_SECRET, "Secret")
            ]
        );
        let app = spec(&CometChatAppKind.blank());
        assert_eq!(
            app.secret_fields(),
            vec![(crate::config::FIELD_API_KEY, "REST API key")]
        );
        assert!(app.fields().iter().any(|f| f.name == "app_id" && !f.secret));
    }
}
