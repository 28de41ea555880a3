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

use crate::config::{Connection, Environment};

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
    pub fn destructive(connection: Option<&Connection>, name: &str) -> Self {
        match connection {
            Some(c) if c.environment == Environment::Prod => Guard::TypeName(name.to_owned()),
            _ => Guard::Confirm,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConnectionKind;

    fn conn(environment: Environment) -> Connection {
        Connection {
            id: "c1".into(),
            label: "Shop".into(),
            kind: ConnectionKind::Management,
            environment,
            base_url: None,
            embedded_sandbox: false,
        }
    }

    #[test]
    fn a_destructive_operation_on_prod_asks_for_the_name() {
        assert_eq!(
            Guard::destructive(Some(&conn(Environment::Prod)), "ci-bot"),
            Guard::TypeName("ci-bot".into())
        );
        assert_eq!(
            Guard::destructive(Some(&conn(Environment::Staging)), "ci-bot"),
            Guard::Confirm
        );
        assert_eq!(Guard::destructive(None, "ci-bot"), Guard::Confirm);
    }
}
