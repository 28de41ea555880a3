//! The Connections tab's editor: fields from the connection registry, errors under the field,
//! what Save returns, and Cancel.

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use keydeck::config::{ConnectionKind, FIELD_API_KEY};
use keydeck::core::kinds::{KindSpec, ManagementKind};
use keydeck::secret::Secret;
use keydeck::ui::context::Command;
use keydeck::ui::tabs::connections::ConnectionsTab;
use keydeck::ui::testing::TabUnderTest;

use crate::support::{click, fixture, tab_harness, type_into};

const KEY: &str = "0123456789abcdef0123456789abcdef01234567";

type ConnectionsHarness = Harness<'static, TabUnderTest<ConnectionsTab>>;

fn new_app_editor() -> ConnectionsHarness {
    let mut h = tab_harness(ConnectionsTab::default(), fixture());
    click(&mut h, "New CometChat app…");
    assert!(h.query_by_label("New CometChat app connection").is_some());
    h
}

/// Whether `text` is shown right under the input named `field`, aligned with it.
fn shown_under(h: &ConnectionsHarness, text: &str, field: &str) -> bool {
    let (Some(input), Some(line)) = (
        h.query_by_role_and_label(Role::TextInput, field),
        h.query_by_label(text),
    ) else {
        return false;
    };
    let (input, line) = (input.rect(), line.rect());
    let gap = line.top() - input.bottom();
    (0.0..20.0).contains(&gap) && (line.left() - input.left()).abs() < 4.0
}

#[test]
fn a_new_app_connection_with_a_bad_app_id_is_not_saved() {
    let mut h = new_app_editor();
    type_into(&mut h, "Label", "Shop");
    type_into(&mut h, "App id", "Shop App!");
    type_into(&mut h, "REST API key", KEY);
    let error = "The app id may contain only lowercase letters and digits";
    assert!(
        shown_under(&h, error, "App id"),
        "the error is under the field"
    );

    click(&mut h, "Save");
    assert!(h.state().commands().is_empty(), "nothing is saved");
    assert!(
        h.query_by_label("New CometChat app connection").is_some(),
        "the editor stays open"
    );
    assert!(shown_under(&h, error, "App id"));
}

#[test]
fn a_connection_name_over_60_characters_is_refused_under_the_field() {
    let mut h = new_app_editor();
    type_into(&mut h, "Label", &"x".repeat(61));
    type_into(&mut h, "App id", "2a1b3c4d5e6f");
    type_into(&mut h, "REST API key", KEY);
    let error = "Keep the name to 60 characters (61 now): it names the connection in the top bar";
    assert!(
        shown_under(&h, error, "Label"),
        "the reason is under the name"
    );
    click(&mut h, "Save");
    assert!(h.state().commands().is_empty(), "nothing is saved");
}

#[test]
fn a_valid_new_app_connection_is_saved_with_its_app_id_region_and_key() {
    let mut h = new_app_editor();
    type_into(&mut h, "Label", "Shop");
    type_into(&mut h, "App id", "2a1b3c4d5e6f");
    click(&mut h, "Region");
    click(&mut h, "eu");
    type_into(&mut h, "REST API key", KEY);
    click(&mut h, "Save");

    let [
        Command::SaveConnection {
            connection,
            secrets,
        },
    ] = h.state().commands()
    else {
        panic!("Save returns one SaveConnection and nothing else");
    };
    assert_eq!(connection.label, "Shop");
    assert_eq!(
        connection.kind,
        ConnectionKind::CometChatApp {
            app_id: "2a1b3c4d5e6f".to_owned(),
            region: "eu".to_owned(),
        }
    );
    // Compared, never printed.
    assert!(
        secrets
            .iter()
            .any(|(field, value)| *field == FIELD_API_KEY && *value == Secret::new(KEY)),
        "the REST API key typed is the secret input to store"
    );
    assert!(
        h.query_by_label("New CometChat app connection").is_none(),
        "the editor closes"
    );
    assert!(
        h.query_by_label("Shop").is_some(),
        "the new connection is listed"
    );
}

#[test]
fn choosing_the_management_api_asks_for_its_key_and_secret() {
    let mut h = new_app_editor();
    click(&mut h, ManagementKind.choice_label());
    assert!(h.query_by_label(ManagementKind.new_title()).is_some());
    for field in ManagementKind.fields() {
        assert!(field.secret);
        assert!(
            h.query_by_role_and_label(Role::PasswordInput, field.label)
                .is_some(),
            "a masked {} field",
            field.label
        );
    }
    let labels: Vec<&str> = ManagementKind.fields().iter().map(|f| f.label).collect();
    assert_eq!(labels, ["Key", "Secret"]);
    assert!(
        h.query_by_role_and_label(Role::TextInput, "App id")
            .is_none(),
        "an app's fields are gone"
    );
}

#[test]
fn cancel_closes_an_untouched_editor_without_asking() {
    let mut h = new_app_editor();
    click(&mut h, "Cancel");
    assert!(h.query_by_label("Discard your changes?").is_none());
    assert!(h.query_by_label("New CometChat app connection").is_none());
    assert!(h.state().commands().is_empty());
}

#[test]
fn cancel_on_a_touched_editor_asks_before_discarding() {
    let mut h = new_app_editor();
    type_into(&mut h, "Label", "Shop");
    click(&mut h, "Cancel");
    assert!(h.query_by_label("Discard your changes?").is_some());
    assert!(
        h.query_by_label("New CometChat app connection").is_some(),
        "still open while it asks"
    );

    click(&mut h, "Discard");
    assert!(h.query_by_label("New CometChat app connection").is_none());
    assert!(h.state().commands().is_empty(), "nothing is saved");
}
