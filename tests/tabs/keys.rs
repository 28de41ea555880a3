//! The API keys tab without a usable client: where to go next.

use egui_kittest::kittest::Queryable;
use keydeck::core::client::ClientProblem;
use keydeck::ui::context::{Command, Tab};
use keydeck::ui::tabs::keys::KeysTab;

use crate::support::{click, fixture, tab_harness};

#[test]
fn without_a_connection_the_keys_tab_sends_you_to_the_connections_tab() {
    let mut h = tab_harness(KeysTab::default(), fixture());
    assert!(h.query_by_label("No connection yet").is_some());

    click(&mut h, "Open connections");
    assert!(
        matches!(h.state().commands(), [Command::SelectTab(Tab::Connections)]),
        "the button asks for the Connections tab"
    );
}

#[test]
fn a_connection_without_its_key_says_so_and_offers_to_edit_it() {
    let fx = fixture()
        .with_connection(crate::app_connection("c1", "Shop"), Vec::new())
        .with_client(Err(ClientProblem::MissingSecret("REST API key")));
    let mut h = tab_harness(KeysTab::default(), fx);
    assert!(
        h.query_by_label("This connection cannot be used yet")
            .is_some()
    );
    assert!(
        h.query_by_label("No REST API key is stored for this connection.")
            .is_some()
    );

    click(&mut h, "Edit connection…");
    assert!(
        matches!(h.state().commands(), [Command::EditConnection(id)] if id == "c1"),
        "the button asks to edit this connection"
    );
}

#[test]
fn while_the_keychain_opens_the_keys_tab_waits_instead_of_saying_there_is_no_connection() {
    let fx = fixture().with_client(Err(ClientProblem::LoadingSecrets));
    let h = tab_harness(KeysTab::default(), fx);
    assert!(h.query_by_label("Opening the keychain…").is_some());
    assert!(h.query_by_label("No connection yet").is_none());
    assert!(h.query_by_label("Open connections").is_none());
}
