//! The Apps tab on a connection that cannot list apps.

use egui_kittest::kittest::Queryable;
use keydeck::config::{Connection, ConnectionKind, Environment, FIELD_KEY, FIELD_SECRET};
use keydeck::core::client::ActiveClient;
use keydeck::providers::cometchat::{AppEndpoint, CometChatClient};
use keydeck::secret::Secret;
use keydeck::ui::context::{Command, Tab};
use keydeck::ui::tabs::apps::AppsTab;
use keydeck::ui::testing::TabFixture;

use crate::support::{click, fixture, tab_harness};

/// The fixture on an app connection "Shop", with its client (no request is made).
fn on_an_app_connection(fx: TabFixture) -> TabFixture {
    let client = CometChatClient::new(
        &AppEndpoint {
            app_id: "shop1".to_owned(),
            region: "eu".to_owned(),
            base_url: None,
        },
        Secret::new("0123456789abcdef0123456789abcdef01234567"),
    )
    .expect("client");
    fx.with_connection(crate::app_connection("app-1", "Shop"), Vec::new())
        .with_client(Ok(ActiveClient::CometChat(client)))
}

#[test]
fn on_an_app_connection_the_apps_tab_explains_it_needs_a_management_connection() {
    let mut h = tab_harness(AppsTab::default(), on_an_app_connection(fixture()));
    assert!(
        h.query_by_label("Apps are listed by a management connection")
            .is_some()
    );
    assert!(
        h.query_by_label_contains("Shop is a single CometChat app")
            .is_some(),
        "it names the connection"
    );

    click(&mut h, "Add a management connection…");
    assert!(matches!(
        h.state().commands(),
        [Command::SelectTab(Tab::Connections)]
    ));
}

#[test]
fn on_an_app_connection_the_apps_tab_offers_the_management_connections_there_are() {
    let management = Connection {
        id: "mgmt-1".to_owned(),
        label: "Company".to_owned(),
        kind: ConnectionKind::Management,
        environment: Environment::Prod,
        base_url: None,
        embedded_sandbox: false,
    };
    let secrets = vec![
        (FIELD_KEY, Secret::new("k")),
        (FIELD_SECRET, Secret::new("s")),
    ];
    // Saved first: the app connection, saved last, is the active one.
    let fx = on_an_app_connection(fixture().with_connection(management, secrets));
    let mut h = tab_harness(AppsTab::default(), fx);

    click(&mut h, "Switch to Company");
    assert!(
        matches!(h.state().commands(), [Command::SelectConnection(id)] if id == "mgmt-1"),
        "the button asks for the management connection"
    );
    let active = h.state().fixture.session().active_connection();
    assert_eq!(active.map(|c| c.label.as_str()), Some("Company"));
}
