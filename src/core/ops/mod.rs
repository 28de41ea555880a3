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
    fn deleting_a_key_on_prod_asks_for_the_name_of_a_full_access_key_only() {
        let full = key(Scope::FullAccess);
        let auth = key(Scope::AuthOnly);
        assert_eq!(
            keys::delete_guard(Environment::Prod, &full).typed_name(),
            Some("ci-bot")
        );
        assert_eq!(keys::delete_guard(Environment::Prod, &auth), Guard::Confirm);
        assert_eq!(keys::delete_guard(Environment::Dev, &full), Guard::Confirm);
    }
}
