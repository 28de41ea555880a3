//! Tabs on their own, room by room: each tab in a kittest harness with an in-memory core
//! (`keydeck::ui::testing`, `tests/support`): no sandbox, no shell. What crosses tabs or
//! reaches a provider is tested end to end in `tests/ui_*.rs`.
//!
//! One test binary for every tab (one file each), to keep the number of test binaries down.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

#[path = "../support/mod.rs"]
mod support;

mod apps;
mod connections;
mod keys;

use keydeck::config::{Connection, ConnectionKind, Environment};

/// A CometChat app connection called `label`; its app id is `shop1`, region eu.
pub fn app_connection(id: &str, label: &str) -> Connection {
    Connection {
        id: id.to_owned(),
        label: label.to_owned(),
        kind: ConnectionKind::CometChatApp {
            app_id: "shop1".to_owned(),
            region: "eu".to_owned(),
        },
        environment: Environment::Dev,
        base_url: None,
        embedded_sandbox: false,
    }
}
