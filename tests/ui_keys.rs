//! The API keys tab against an in-process sandbox over real loopback HTTP, clicking by label.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

mod support;
mod ui_common;

use std::time::Duration;

use eframe::egui;
use eframe::egui::accesskit::Role;
use egui_kittest::kittest::{NodeT, Queryable};
use keydeck::config::{Config, Environment};
use keydeck::providers::cometchat::Scope;
use ui_common::{KeyChoice, fixture, row, step_until};

const WAIT: Duration = Duration::from_secs(10);

fn count_badges(f: &ui_common::Fixture, text: &str) -> usize {
    f.harness
        .query_all_by_label(text)
        .filter(|n| n.accesskit_node().role() == Role::Label)
        .count()
}

#[test]
fn a_created_key_appears_with_the_right_badge() {
    let mut f = fixture(KeyChoice::FullAccess, Environment::Dev);
    f.wait_for_keys();
    let full_badges = count_badges(&f, "fullAccess");

    f.harness.get_by_label("New API key…").click();
    ui_common::settle(&mut f.harness);
    ui_common::type_into(&mut f.harness, "Name", "ci-bot");
    f.harness
        .get_by_role_and_label(Role::RadioButton, "fullAccess")
        .click();
    ui_common::settle(&mut f.harness);
    f.harness.get_by_label("Create key").click();
    ui_common::settle(&mut f.harness);
    step_until(
        &mut f.harness,
        "the created key is shown",
        |h| h.query_by_label("API key created").is_some(),
        WAIT,
    );
    let created = f
        .server_key("ci-bot")
        .expect("the key exists on the server");
    assert_eq!(created.scope, Scope::FullAccess);
    // The new key is shown in full so that it can be copied.
    assert!(f.harness.query_by_label(created.api_key.expose()).is_some());

    ui_common::press(&mut f.harness, "Done");
    step_until(
        &mut f.harness,
        "the new row is listed",
        |h| {
            h.query_by_label(&format!("Edit {}", row(&created)))
                .is_some()
        },
        WAIT,
    );
    // The dialog fades out over a few frames; then exactly one more fullAccess badge is listed.
    step_until(
        &mut f.harness,
        "one more fullAccess badge is listed",
        |h| {
            h.query_all_by_label("fullAccess")
                .filter(|n| n.accesskit_node().role() == Role::Label)
                .count()
                == full_badges + 1
        },
        WAIT,
    );
    assert!(f.harness.query_by_label("API key created").is_none());
    assert!(f.harness.query_by_label("ci-bot").is_some());
}

#[test]
fn a_scope_change_updates_the_badge() {
    let mut f = fixture(KeyChoice::FullAccess, Environment::Dev);
    let key = f.create_key("ci-bot", Scope::AuthOnly);
    f.wait_for_key("ci-bot");
    let auth_badges = count_badges(&f, "authOnly");

    f.harness
        .get_by_label(&format!("Edit {}", row(&key)))
        .click();
    ui_common::settle(&mut f.harness);
    f.harness
        .get_by_label(&format!("Scope of {}", row(&key)))
        .click();
    ui_common::settle(&mut f.harness);
    f.harness
        .get_all_by_label("fullAccess")
        .find(|n| n.accesskit_node().role() != Role::Label)
        .expect("a fullAccess choice in the scope menu")
        .click();
    ui_common::settle(&mut f.harness);
    f.harness
        .get_by_label(&format!("Save {}", row(&key)))
        .click();
    ui_common::settle(&mut f.harness);
    step_until(
        &mut f.harness,
        "the edit is saved",
        |h| h.query_by_label(&format!("Edit {}", row(&key))).is_some(),
        WAIT,
    );
    assert_eq!(
        f.server_key("ci-bot").map(|k| k.scope),
        Some(Scope::FullAccess)
    );
    step_until(
        &mut f.harness,
        "the badge shows the new scope",
        |h| {
            h.query_all_by_label("authOnly")
                .filter(|n| n.accesskit_node().role() == Role::Label)
                .count()
                == auth_badges - 1
        },
        WAIT,
    );
}

#[test]
fn delete_asks_first_then_removes_the_key() {
    let mut f = fixture(KeyChoice::FullAccess, Environment::Dev);
    let key = f.create_key("old-bot", Scope::AuthOnly);
    f.wait_for_key("old-bot");

    f.harness
        .get_by_label(&format!("Delete {}", row(&key)))
        .click();
    ui_common::settle(&mut f.harness);
    assert!(
        f.harness.query_by_label("Delete key old-bot?").is_some(),
        "it asks first"
    );
    assert!(
        f.server_key("old-bot").is_some(),
        "nothing is deleted before the answer"
    );

    f.harness.get_by_label("Delete key old-bot").click();
    ui_common::settle(&mut f.harness);
    step_until(
        &mut f.harness,
        "the row is gone",
        |h| h.query_by_label(&format!("Delete {}", row(&key))).is_none(),
        WAIT,
    );
    assert!(f.server_key("old-bot").is_none());
}

#[test]
fn on_prod_a_full_access_key_is_deleted_only_after_its_name_is_typed() {
    let mut f = fixture(KeyChoice::FullAccess, Environment::Prod);
    let key = f.create_key("prod-bot", Scope::FullAccess);
    f.wait_for_key("prod-bot");

    f.harness
        .get_by_label(&format!("Delete {}", row(&key)))
        .click();
    ui_common::settle(&mut f.harness);
    let button = f.harness.get_by_label("Delete key prod-bot");
    assert!(
        button.accesskit_node().is_disabled(),
        "disabled until the name is typed"
    );
    ui_common::type_into(&mut f.harness, "Type prod-bot to confirm", "prod-bot");
    let button = f.harness.get_by_label("Delete key prod-bot");
    assert!(!button.accesskit_node().is_disabled());
    button.click();
    ui_common::settle(&mut f.harness);
    step_until(
        &mut f.harness,
        "the key is deleted",
        |h| h.query_by_label(&format!("Delete {}", row(&key))).is_none(),
        WAIT,
    );
    assert!(f.server_key("prod-bot").is_none());
}

#[test]
fn the_connections_own_key_cannot_be_deleted_and_self_changes_are_explained() {
    let mut f = fixture(KeyChoice::FullAccess, Environment::Dev);
    f.wait_for_keys();
    let own = f.server_key("Rest API Key").expect("the demo key");

    assert!(
        f.harness.query_by_label("this connection").is_some(),
        "the own key is marked"
    );
    let delete_label = format!("Delete {}", row(&own));
    let delete = f.harness.get_by_label(&delete_label);
    assert!(delete.accesskit_node().is_disabled());

    // Renaming it anyway: the server refuses with ERR_APIKEY_NO_SELF_ACTION, explained.
    f.harness
        .get_by_label(&format!("Edit {}", row(&own)))
        .click();
    ui_common::settle(&mut f.harness);
    let field = format!("New name for {}", row(&own));
    ui_common::type_into(&mut f.harness, &field, " 2");
    f.harness
        .get_by_label(&format!("Save {}", row(&own)))
        .click();
    ui_common::settle(&mut f.harness);
    step_until(
        &mut f.harness,
        "the self-action error is explained",
        |h| {
            h.query_by_label_contains("A key cannot change or delete itself")
                .is_some()
        },
        WAIT,
    );
    assert_eq!(
        f.server_key("Rest API Key").map(|k| k.api_key),
        Some(own.api_key)
    );
}

#[test]
fn reveal_shows_and_hides_the_key() {
    let mut f = fixture(KeyChoice::FullAccess, Environment::Dev);
    let key = f.create_key("peek-bot", Scope::AuthOnly);
    f.wait_for_key("peek-bot");
    assert!(
        f.harness.query_by_label(key.api_key.expose()).is_none(),
        "masked at first"
    );

    f.harness
        .get_by_label(&format!("Reveal key {}", row(&key)))
        .click();
    ui_common::settle(&mut f.harness);
    assert!(
        f.harness.query_by_label(key.api_key.expose()).is_some(),
        "revealed"
    );

    f.harness
        .get_by_label(&format!("Hide key {}", row(&key)))
        .click();
    ui_common::settle(&mut f.harness);
    assert!(
        f.harness.query_by_label(key.api_key.expose()).is_none(),
        "hidden again"
    );
}

#[test]
fn a_403_shows_the_explained_error_and_keeps_the_form_filled_in() {
    let mut f = fixture(KeyChoice::AuthOnly, Environment::Dev);
    step_until(
        &mut f.harness,
        "the list error is explained",
        |h| h.query_by_label_contains("It is an authOnly key").is_some(),
        WAIT,
    );
    assert!(
        f.harness.query_by_label("Edit connection…").is_some(),
        "the next step is offered"
    );

    f.harness.get_by_label("New API key…").click();
    ui_common::settle(&mut f.harness);
    ui_common::type_into(&mut f.harness, "Name", "blocked-bot");
    f.harness.get_by_label("Create key").click();
    ui_common::settle(&mut f.harness);
    step_until(
        &mut f.harness,
        "the dialog explains the 403",
        |h| {
            h.query_by_label("This connection's key may not do this")
                .is_some()
        },
        WAIT,
    );
    let name = f.harness.get_by_role_and_label(Role::TextInput, "Name");
    assert_eq!(
        name.value().as_deref(),
        Some("blocked-bot"),
        "the form keeps what was typed"
    );
    assert!(f.server_key("blocked-bot").is_none());
}

#[test]
fn rotation_leaves_a_retiring_key_and_a_new_one() {
    let mut f = fixture(KeyChoice::FullAccess, Environment::Dev);
    let old = f.create_key("rot-bot", Scope::FullAccess);
    f.wait_for_key("rot-bot");

    f.harness
        .get_by_label(&format!("Rotate {}", row(&old)))
        .click();
    ui_common::settle(&mut f.harness);
    f.harness.get_by_label("1 day").click();
    ui_common::settle(&mut f.harness);
    f.harness.get_by_label("Create replacement").click();
    ui_common::settle(&mut f.harness);
    step_until(
        &mut f.harness,
        "the replacement is shown",
        |h| {
            h.query_by_label("Replacement for rot-bot created")
                .is_some()
        },
        WAIT,
    );
    let both: Vec<_> = f
        .server_keys()
        .into_iter()
        .filter(|k| k.name == "rot-bot")
        .collect();
    assert_eq!(both.len(), 2, "the old key is kept and a new one exists");
    let new = both
        .iter()
        .find(|k| k.api_key != old.api_key)
        .expect("new key")
        .clone();
    assert_eq!(new.scope, Scope::FullAccess);
    assert!(
        f.harness.query_by_label(new.api_key.expose()).is_some(),
        "the new key is shown"
    );

    ui_common::press(&mut f.harness, "Done");
    step_until(
        &mut f.harness,
        "the old key is listed as retiring",
        |h| h.query_by_label_contains("retiring · ").is_some(),
        WAIT,
    );
    assert!(
        f.harness
            .query_by_label(&format!("Delete {}", row(&new)))
            .is_some()
    );

    // The retiring record survives a restart and holds no key value.
    let config_dir = f.dirs.path().join("config");
    let config = ui_common::saved_config(&mut f.harness, &config_dir);
    let text = std::fs::read_to_string(Config::path(&config_dir)).expect("config file");
    assert!(!text.contains(old.api_key.expose()));
    assert_eq!(config.retiring_keys.len(), 1);
    assert!(config.retiring_keys[0].matches(ui_common::CONNECTION_ID, &old.api_key));

    let app = ui_common::app(&f.rt, &f.dirs, f.vault.clone(), false);
    let mut again = ui_common::harness(app);
    step_until(
        &mut again,
        "the restarted app shows the retiring key",
        |h| h.query_by_label_contains("retiring · 23 h").is_some(),
        WAIT,
    );
}

#[test]
fn escape_on_an_edited_form_asks_before_discarding() {
    let mut f = fixture(KeyChoice::FullAccess, Environment::Dev);
    f.wait_for_keys();
    f.harness.get_by_label("New API key…").click();
    ui_common::settle(&mut f.harness);
    ui_common::type_into(&mut f.harness, "Name", "half-typed");
    f.harness.key_press(eframe::egui::Key::Escape);
    ui_common::settle(&mut f.harness);
    assert!(f.harness.query_by_label("Discard this new key?").is_some());
    f.harness.get_by_label("Discard").click();
    ui_common::settle(&mut f.harness);
    assert!(
        f.harness.query_by_label("Create key").is_none(),
        "the dialog closed"
    );
}

#[test]
fn a_retried_call_says_so_and_cancel_stops_it_with_the_error() {
    use keydeck::sandbox::{Fault, FaultRule};
    let mut f = fixture(KeyChoice::FullAccess, Environment::Dev);
    f.wait_for_keys();
    // The next list is refused with a long Retry-After; the client would wait, then retry.
    f.sandbox.set_fault(FaultRule {
        method: Some("GET".into()),
        path_contains: "/apikeys".into(),
        fault: Fault::TooManyRequests {
            retry_after_secs: 30,
        },
        times: Some(1),
    });
    f.harness.get_by_label("Refresh").click();
    step_until(
        &mut f.harness,
        "the status bar says it is retrying",
        |h| h.query_by_label_contains("Retrying (2 of 3)").is_some(),
        WAIT,
    );
    ui_common::press(&mut f.harness, "Cancel retry");
    step_until(
        &mut f.harness,
        "the retry line is gone",
        |h| h.query_by_label_contains("Retrying (2 of 3)").is_none(),
        WAIT,
    );
    step_until(
        &mut f.harness,
        "the rate limit is explained",
        |h| {
            h.query_by_label_contains("Could not load the keys: too many requests")
                .is_some()
        },
        WAIT,
    );
    // The keys listed before are still on screen.
    assert!(f.harness.query_by_label("Rest API Key").is_some());
}

#[test]
fn on_prod_rotating_and_widening_a_key_need_its_name_typed() {
    let mut f = fixture(KeyChoice::FullAccess, Environment::Prod);
    let key = f.create_key("login-bot", Scope::AuthOnly);
    f.wait_for_key("login-bot");

    // Rotation: Create replacement waits for the name.
    f.harness
        .get_by_label(&format!("Rotate {}", row(&key)))
        .click();
    ui_common::settle(&mut f.harness);
    assert!(
        f.harness
            .get_by_label("Create replacement")
            .accesskit_node()
            .is_disabled(),
        "disabled until the name is typed"
    );
    ui_common::type_into(&mut f.harness, "Type login-bot to confirm", "login-bot");
    assert!(
        !f.harness
            .get_by_label("Create replacement")
            .accesskit_node()
            .is_disabled()
    );
    f.harness.get_by_label("Cancel").click();
    ui_common::settle(&mut f.harness);
    assert_eq!(
        f.server_keys()
            .iter()
            .filter(|k| k.name == "login-bot")
            .count(),
        1,
        "nothing rotated on Cancel"
    );

    // Widening authOnly → fullAccess asks, with the name typed; nothing is sent before.
    f.harness
        .get_by_label(&format!("Edit {}", row(&key)))
        .click();
    ui_common::settle(&mut f.harness);
    f.harness
        .get_by_label(&format!("Scope of {}", row(&key)))
        .click();
    ui_common::settle(&mut f.harness);
    f.harness
        .get_all_by_label("fullAccess")
        .find(|n| n.accesskit_node().role() != Role::Label)
        .expect("a fullAccess choice in the scope menu")
        .click();
    ui_common::settle(&mut f.harness);
    f.harness
        .get_by_label(&format!("Save {}", row(&key)))
        .click();
    ui_common::settle(&mut f.harness);
    assert!(
        f.harness
            .query_by_label("Give login-bot full access?")
            .is_some()
    );
    assert!(
        f.harness
            .get_by_label("Make login-bot fullAccess")
            .accesskit_node()
            .is_disabled()
    );
    assert_eq!(
        f.server_key("login-bot").map(|k| k.scope),
        Some(Scope::AuthOnly)
    );
    ui_common::type_into(&mut f.harness, "Type login-bot to confirm", "login-bot");
    f.harness.get_by_label("Make login-bot fullAccess").click();
    ui_common::settle(&mut f.harness);
    step_until(
        &mut f.harness,
        "the wider scope is saved",
        |h| h.query_by_label(&format!("Edit {}", row(&key))).is_some(),
        WAIT,
    );
    assert_eq!(
        f.server_key("login-bot").map(|k| k.scope),
        Some(Scope::FullAccess)
    );
}

#[test]
fn the_rotation_result_keeps_done_and_use_the_new_key_on_screen_at_960x600_and_1400x900() {
    for size in [egui::vec2(960.0, 600.0), egui::vec2(1400.0, 900.0)] {
        let mut f = ui_common::fixture_sized(KeyChoice::FullAccess, Environment::Dev, size);
        f.wait_for_keys();
        let own_value = f.sandbox.info().cometchat.apps[0].rest_api_key.clone();
        let own = f
            .server_keys()
            .into_iter()
            .find(|k| k.api_key.expose() == own_value)
            .expect("the connection's own key");
        // The connection's own key: the result offers to switch the connection to the new one.
        f.harness
            .get_by_label(&format!("Rotate {}", row(&own)))
            .click();
        ui_common::settle(&mut f.harness);
        f.harness.get_by_label("Create replacement").click();
        step_until(
            &mut f.harness,
            "the rotation result",
            |h| h.query_by_label_contains("Replacement for ").is_some(),
            WAIT,
        );
        let use_new = f
            .harness
            .query_by_label_contains("Use the new key for this connection (")
            .expect("the offer")
            .accesskit_node()
            .label()
            .expect("labelled");
        for label in ["Done", use_new.as_str()] {
            ui_common::inside_window(&f.harness, label, size).unwrap();
        }
        ui_common::click(&mut f.harness, &use_new);
        ui_common::inside_window(&f.harness, "Done", size).unwrap();
        ui_common::click(&mut f.harness, "Done");
        assert!(
            f.harness
                .query_by_label_contains("Replacement for ")
                .is_none(),
            "Done closes it at {size:?}"
        );
    }
}

#[test]
fn the_api_key_created_dialog_keeps_done_on_screen_at_960x600_and_1400x900() {
    for size in [egui::vec2(960.0, 600.0), egui::vec2(1400.0, 900.0)] {
        let mut f = ui_common::fixture_sized(KeyChoice::FullAccess, Environment::Dev, size);
        f.wait_for_keys();
        for name in ["first-bot", "second-bot"] {
            f.harness.get_by_label("New API key…").click();
            ui_common::settle(&mut f.harness);
            ui_common::type_into(&mut f.harness, "Name", name);
            f.harness.get_by_label("Create key").click();
            step_until(
                &mut f.harness,
                "the key created",
                |h| h.query_by_label("API key created").is_some(),
                WAIT,
            );
            ui_common::inside_window(&f.harness, "Done", size).unwrap();
            // By AccessKit, as a keyboard user would: a pointer click on this dialog's Done
            // right after New API key closed is not delivered in the harness (see `press`);
            // the rotation test clicks it with the pointer.
            ui_common::press(&mut f.harness, "Done");
            assert!(
                f.harness.query_by_label("API key created").is_none(),
                "Done closes it at {size:?} for {name}"
            );
        }
    }
}

#[test]
fn create_key_says_why_it_is_disabled_and_enter_submits_the_valid_form() {
    let mut f = fixture(KeyChoice::FullAccess, Environment::Dev);
    f.wait_for_keys();
    f.harness.get_by_label("New API key…").click();
    ui_common::settle(&mut f.harness);
    assert!(
        f.harness
            .get_by_label("Create key")
            .accesskit_node()
            .is_disabled()
    );
    assert!(
        f.harness.query_by_label("Give the key a name").is_some(),
        "the empty form says why Create key is off"
    );
    ui_common::type_into(&mut f.harness, "Name", "enter-bot");
    assert!(f.harness.query_by_label("Give the key a name").is_none());
    f.harness.key_press(egui::Key::Enter);
    step_until(
        &mut f.harness,
        "the key is created",
        |h| h.query_by_label("API key created").is_some(),
        WAIT,
    );
    assert!(f.server_key("enter-bot").is_some());
}

#[test]
fn deleting_a_key_another_connection_stores_names_that_connection_in_the_question() {
    let mut f = fixture(KeyChoice::FullAccess, Environment::Dev);
    let config_dir = f.dirs.path().join("config");
    let mut config = ui_common::saved_config(&mut f.harness, &config_dir);
    // A second connection, for support work, stores the app's authOnly key.
    let auth = f
        .server_key("Auth Key")
        .expect("the demo app has its Auth Key");
    let mut second = config.connections[0].clone();
    second.id = "support-desk".to_owned();
    second.label = "Support desk".to_owned();
    config.connections.push(second);
    config.save(&config_dir).expect("config saved");
    f.vault
        .store(
            &keydeck::vault::Vault::account("support-desk", keydeck::config::FIELD_API_KEY),
            &auth.api_key,
        )
        .expect("stored");
    f.harness = ui_common::harness(ui_common::app(&f.rt, &f.dirs, f.vault.clone(), false));
    f.wait_for_key("Auth Key");

    ui_common::click(&mut f.harness, &format!("Delete {}", row(&auth)));
    step_until(
        &mut f.harness,
        "the question names the other connection",
        |h| {
            h.query_by_label_contains("Keydeck's connection \"Support desk\" stores this key too")
                .is_some()
        },
        WAIT,
    );
    // A key no other connection stores says nothing of the kind.
    ui_common::click(&mut f.harness, "Cancel");
    let other = f.create_key("lonely", Scope::AuthOnly);
    f.wait_for_key("lonely");
    ui_common::click(&mut f.harness, &format!("Delete {}", row(&other)));
    step_until(
        &mut f.harness,
        "the question opens",
        |h| h.query_by_label("Delete key lonely?").is_some(),
        WAIT,
    );
    assert!(
        f.harness
            .query_by_label_contains("stores this key too")
            .is_none()
    );
}
