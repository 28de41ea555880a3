//! The operations a user can perform, as plain async functions: each takes a client, a
//! [`Recorder`] for the connection it acts through, and its arguments, and returns a typed
//! result. Each writes its own audit record (success and failure alike), so the window and
//! the command line cannot differ in what they record.
//!
//! What an operation needs to be safe lives with it too: [`Guard`] says which confirmation a
//! destructive operation asks for (and what it asks on a prod connection); how a create is
//! reconciled after an ambiguous failure is done by the provider client the operation calls
//! (it looks the object up before trying again, so nothing is created twice).

pub mod ably;
pub mod apps;
pub mod keys;
pub mod tokens;
pub mod user_export;
pub mod users;

use crate::config::Environment;

pub use super::recorder::Recorder;

/// What a destructive operation must ask before it runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Guard {
    /// Nothing to ask: it cannot lose anything.
    None,
    /// A confirmation that names what is destroyed.
    Confirm,
    /// On a prod connection: the user types this name first.
    TypeName(String),
}

impl Guard {
    /// A confirmation everywhere; on a prod connection, typing `name` as well.
    pub fn destructive(environment: Environment, name: &str) -> Self {
        match environment {
            Environment::Prod => Guard::TypeName(name.to_owned()),
            _ => Guard::Confirm,
        }
    }

    /// The name to type first, when there is one.
    pub fn typed_name(&self) -> Option<&str> {
        match self {
            Guard::TypeName(n) => Some(n),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::cometchat::{ApiKey, Scope};

    fn key(scope: Scope) -> ApiKey {
        serde_json::from_value(serde_json::json!({
            "apiKey": "0123456789abcdef0123456789abcdef01234567",
            "name": "ci-bot",
            "scope": scope.as_str(),
            "createdAt": 0,
        }))
        .unwrap()
    }

    #[test]
    fn a_destructive_operation_on_prod_asks_for_the_name() {
        assert_eq!(
            Guard::destructive(Environment::Prod, "ci-bot"),
            Guard::TypeName("ci-bot".into())
        );
        assert_eq!(
            Guard::destructive(Environment::Staging, "ci-bot"),
            Guard::Confirm
        );
    }

    #[test]
    fn on_prod_every_delete_revoke_all_rotation_and_widening_asks_for_the_name() {
        let full = key(Scope::FullAccess);
        let auth = key(Scope::AuthOnly);
        let prod = Environment::Prod;
        let name = Some("ci-bot");
        assert_eq!(keys::delete_guard(prod, &full).typed_name(), name);
        assert_eq!(keys::delete_guard(prod, &auth).typed_name(), name);
        assert_eq!(keys::rotate_guard(prod, &auth).typed_name(), name);
        assert_eq!(
            keys::scope_change_guard(prod, &auth, Scope::FullAccess).typed_name(),
            name
        );
        assert_eq!(
            keys::scope_change_guard(prod, &full, Scope::AuthOnly),
            Guard::None,
            "narrowing a key loses nothing"
        );
        assert_eq!(
            tokens::revoke_all_guard(prod, "bob").typed_name(),
            Some("bob")
        );
        assert_eq!(users::delete_guard(prod, "bob").typed_name(), Some("bob"));
        assert_eq!(
            ably::revoke_tokens_guard(prod, "root").typed_name(),
            Some("root")
        );
    }

    #[test]
    fn off_prod_destructive_operations_still_ask_and_reversible_ones_only_confirm() {
        let dev = Environment::Dev;
        let auth = key(Scope::AuthOnly);
        assert_eq!(keys::delete_guard(dev, &auth), Guard::Confirm);
        assert_eq!(keys::rotate_guard(dev, &auth), Guard::None);
        assert_eq!(
            keys::scope_change_guard(dev, &auth, Scope::FullAccess),
            Guard::None
        );
        assert_eq!(tokens::revoke_all_guard(dev, "bob"), Guard::Confirm);
        assert_eq!(tokens::revoke_guard(), Guard::Confirm);
        assert_eq!(users::deactivate_guard(), Guard::Confirm);
        assert_eq!(ably::revoke_tokens_guard(dev, "root"), Guard::Confirm);
    }
}
