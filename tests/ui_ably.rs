//! Ably and Cometly in the app, against an in-process sandbox over real loopback HTTP:
//! connections and their test, an Ably app's keys with badges, the capability editor with its
//! diff, revoke tokens, revoke key and "Can this key…?".
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

mod support;
mod ui_common;

use std::time::Duration;

use eframe::egui;
use eframe::egui::accesskit::Role;
use egui_kittest::kittest::{NodeT, Queryable};
use keydeck::config::{
    Config, Connection, ConnectionKind, Environment, FIELD_ACCESS_TOKEN, FIELD_API_KEY,
};
use keydeck::model::capability::Capability;
use keydeck::providers::ably::{AblyControlClient, AblyKey, KeyStatus};
use keydeck::providers::http::RetryPolicy;
use keydeck::sandbox::Sandbox;
use keydeck::secret::Secret;
use keydeck::ui::Tab;
use keydeck::vault::Vault;
use ui_common::{click, settle, step_until};

const WAIT: Duration = Duration::from_secs(10);
const ABLY: &str = "cably";
const COMETLY: &str = "ccometly";

struct Fixture {
    harness: egui_kittest::Harness<'static, keydeck::ui::KeydeckApp>,
    sandbox: Sandbox,
    _dirs: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
}

/// An Ably account connection (app chosen or not) and a Cometly connection with the key of
/// the given label, both pointing at the sandbox by base URL.
fn fixture(app_chosen: bool, cometly_key: &str) -> Fixture {
    let rt = ui_common::runtime();
    let sandbox = ui_common::start_sandbox(&rt);
    let dirs = tempfile::tempdir().expect("tempdir");
    let info = sandbox.info();
    let app_id = app_chosen.then(|| {
        let c = control(&sandbox);
        let account = info.ably.account_id.clone();
        rt.block_on(async move { c.list_apps(&account).await })
            .expect("apps")
            .into_iter()
            .find(|a| a.name == "Demo app")
            .expect("demo app")
            .id
    });
    let config = Config {
        connections: vec![
            Connection {
                id: ABLY.to_owned(),
                label: "Ably test".to_owned(),
                kind: ConnectionKind::AblyAccount {
                    account_id: Some(info.ably.account_id.clone()),
                    app_id,
                },
                environment: Environment::Dev,
                base_url: Some(info.ably.control_url.clone()),
                embedded_sandbox: false,
            },
            Connection {
                id: COMETLY.to_owned(),
                label: "Cometly test".to_owned(),
                kind: ConnectionKind::Cometly,
                environment: Environment::Dev,
                base_url: Some(info.cometly.base_url.clone()),
                embedded_sandbox: false,
            },
        ],
        retiring_keys: Vec::new(),
        selected_connection: Some(ABLY.to_owned()),
    };
    config
        .save(&dirs.path().join("config"))
        .expect("config saved");
    let vault = Vault::memory();
    vault
        .store(
            &Vault::account(ABLY, FIELD_ACCESS_TOKEN),
            &Secret::new(info.ably.access_token.clone()),
        )
        .expect("vault");
    let key = info
        .cometly
        .keys
        .iter()
        .find(|k| k.label == cometly_key)
        .expect("cometly key")
        .key
        .clone();
    vault
        .store(&Vault::account(COMETLY, FIELD_API_KEY), &Secret::new(key))
        .expect("vault");
    let harness = ui_common::harness(ui_common::app(&rt, &dirs, vault, false));
    Fixture {
        harness,
        sandbox,
        _dirs: dirs,
        rt,
    }
}

fn control(sb: &Sandbox) -> AblyControlClient {
    let a = sb.info().ably;
    AblyControlClient::new(Some(&a.control_url), &Secret::new(a.access_token))
        .expect("control client")
        .with_retry(RetryPolicy::none())
}

impl Fixture {
    fn server_keys(&self) -> Vec<AblyKey> {
        let c = control(&self.sandbox);
        let account = self.sandbox.info().ably.account_id;
        self.rt
            .block_on(async move {
                let apps = c.list_apps(&account).await?;
                let app = apps
                    .into_iter()
                    .find(|a| a.name == "Demo app")
                    .expect("demo app");
                c.list_keys(&app.id).await
            })
            .expect("keys")
    }

    fn server_key(&self, name: &str) -> Option<AblyKey> {
        self.server_keys().into_iter().find(|k| k.name == name)
    }

    fn wait_for(&mut self, what: &str, label: &str) {
        step_until(
            &mut self.harness,
            what,
            |h| h.query_by_label(label).is_some(),
            WAIT,
        );
    }

    fn badges(&self, text: &str) -> usize {
        self.harness
            .query_all_by_label(text)
            .filter(|n| n.accesskit_node().role() == Role::Label)
            .count()
    }
}

fn cap(pairs: &[(&str, &[&str])]) -> Capability {
    pairs
        .iter()
        .map(|(r, ops)| {
            (
                (*r).to_owned(),
                ops.iter().map(|o| (*o).to_owned()).collect(),
            )
        })
        .collect()
}

fn type_multiline(f: &mut Fixture, field: &str, text: &str) {
    f.harness
        .get_by_role_and_label(Role::MultilineTextInput, field)
        .focus();
    settle(&mut f.harness);
    f.harness
        .get_by_role_and_label(Role::MultilineTextInput, field)
        .type_text(text);
    settle(&mut f.harness);
}

/// Focuses a field and presses Backspace `n` times.
fn erase(f: &mut Fixture, field: &str, n: usize) {
    f.harness
        .get_by_role_and_label(Role::TextInput, field)
        .focus();
    settle(&mut f.harness);
    for _ in 0..n {
        f.harness.key_press(eframe::egui::Key::Backspace);
    }
}

fn tick(f: &mut Fixture, role: Role, label: &str) {
    f.harness.remove_cursor();
    settle(&mut f.harness);
    // Through the accessibility tree: a pointer click right after the dialog opened may land
    // while its layout is still settling.
    f.harness
        .get_by_role_and_label(role, label)
        .click_accesskit();
    settle(&mut f.harness);
}

#[test]
fn a_cometly_key_of_a_lapsed_workspace_is_explained_as_403() {
    let mut f = fixture(true, "Lapsed space");
    f.wait_for("the keys are listed", "Chat client");
    f.harness.get_by_label(Tab::Connections.title()).click();
    settle(&mut f.harness);
    click(&mut f.harness, "Edit Cometly test");
    click(&mut f.harness, "Test connection");
    f.wait_for(
        "the 403 is explained",
        "403: the key is known, but its workspace may not use the API",
    );
}

#[test]
fn an_ably_access_token_tests_as_working() {
    let mut f = fixture(true, "Marketing space");
    f.wait_for("the keys are listed", "Chat client");
    f.harness.get_by_label(Tab::Connections.title()).click();
    settle(&mut f.harness);
    click(&mut f.harness, "Edit Ably test");
    click(&mut f.harness, "Test connection");
    step_until(
        &mut f.harness,
        "the test works",
        |h| {
            h.query_by_label_contains("Works: token Sandbox full access")
                .is_some()
        },
        WAIT,
    );
    // The Cometly key of an active workspace works too.
    click(&mut f.harness, "Cancel");
    click(&mut f.harness, "Edit Cometly test");
    click(&mut f.harness, "Test connection");
    f.wait_for("the key works", "Works: the API key is accepted");
}

#[test]
fn the_app_is_chosen_then_its_keys_show_badges_and_status() {
    let mut f = fixture(false, "Marketing space");
    f.wait_for("the apps are listed", "Use app Demo app");
    click(&mut f.harness, "Use app Demo app");
    f.wait_for("the keys are listed", "Chat client");
    let saved = f.harness.state().config().connection(ABLY).cloned();
    assert!(matches!(
        saved.map(|c| c.kind),
        Some(ConnectionKind::AblyAccount {
            app_id: Some(_),
            ..
        })
    ));
    assert!(f.badges("Publish") >= 1);
    assert_eq!(f.badges("chat:*"), 1);
    assert_eq!(f.badges("enabled"), 2);
    assert_eq!(f.badges("All operations"), 1);
}

#[test]
fn a_key_is_created_on_selected_channels_and_queues_then_edited_with_a_diff() {
    let mut f = fixture(true, "Marketing space");
    f.wait_for("the keys are listed", "Chat client");

    click(&mut f.harness, "New API key…");
    ui_common::type_into(&mut f.harness, "Name", "orders-app");
    tick(&mut f, Role::CheckBox, "Publish");
    tick(&mut f, Role::CheckBox, "Subscribe");
    tick(&mut f, Role::RadioButton, "Selected channels and queues");
    ui_common::type_into(&mut f.harness, "Channel or queue", "[bogus]x");
    click(&mut f.harness, "Add");
    assert!(
        f.harness
            .query_by_label_contains("Unknown prefix [bogus]")
            .is_some()
    );
    erase(&mut f, "Channel or queue", "[bogus]x".len());
    settle(&mut f.harness);
    ui_common::type_into(&mut f.harness, "Channel or queue", "chat:*");
    click(&mut f.harness, "Add");
    ui_common::type_into(&mut f.harness, "Channel or queue", "[queue]orders");
    click(&mut f.harness, "Add");
    assert!(f.harness.query_by_label("Remove [queue]orders").is_some());
    click(&mut f.harness, "Review and create…");
    assert!(
        f.harness
            .query_by_label("+ [queue]orders: publish, subscribe")
            .is_some()
    );
    click(&mut f.harness, "Create key");
    f.wait_for("the key is listed", "Edit orders-app");
    step_until(
        &mut f.harness,
        "the new key's queue badge is shown",
        |h| {
            h.query_all_by_label("[queue]orders")
                .filter(|n| n.accesskit_node().role() == Role::Label)
                .count()
                == 1
        },
        WAIT,
    );
    let created = f.server_key("orders-app").expect("created on the server");
    assert_eq!(
        created.capability,
        cap(&[
            ("[queue]orders", &["publish", "subscribe"]),
            ("chat:*", &["publish", "subscribe"]),
        ])
    );

    // Edit: add History; the diff is shown before saving.
    click(&mut f.harness, "Edit orders-app");
    tick(&mut f, Role::CheckBox, "History");
    click(&mut f.harness, "Review changes…");
    assert!(f.harness.query_by_label("~ chat:*").is_some());
    assert!(f.harness.query_by_label("~ [queue]orders").is_some());
    assert_eq!(f.harness.query_all_by_label("+ history").count(), 2);
    assert!(
        f.server_key("orders-app")
            .is_some_and(|k| k.capability == created.capability)
    );
    click(&mut f.harness, "Save changes");
    step_until(
        &mut f.harness,
        "the editor closes",
        |h| h.query_by_label("Save changes").is_none(),
        WAIT,
    );
    assert_eq!(
        f.server_key("orders-app").map(|k| k.capability),
        Some(cap(&[
            ("[queue]orders", &["history", "publish", "subscribe"]),
            ("chat:*", &["history", "publish", "subscribe"]),
        ]))
    );
}

#[test]
fn tokens_of_a_client_id_are_revoked_with_a_result_per_target() {
    let mut f = fixture(true, "Marketing space");
    f.wait_for("the keys are listed", "Chat client");
    click(&mut f.harness, "Revoke tokens of Chat client…");
    type_multiline(&mut f, "Targets, one per line", "clientId:bob");
    click(&mut f.harness, "5 minutes ago");
    assert!(
        f.harness
            .query_by_label_contains("Tokens issued before 20")
            .is_some()
    );
    tick(&mut f, Role::CheckBox, "Allow reauth margin");
    click(&mut f.harness, "Revoke tokens…");
    // It asks first, naming the target; nothing is sent before the answer.
    assert!(
        f.harness
            .query_by_label("Revoke the tokens of clientId:bob?")
            .is_some()
    );
    click(&mut f.harness, "Revoke tokens of clientId:bob");
    f.wait_for("the result is shown", "1 revoked, 0 failed");
    assert!(f.harness.query_by_label("clientId:bob").is_some());
    assert!(
        f.harness
            .query_by_label_contains("Revoked, applies at 20")
            .is_some()
    );
}

#[test]
fn revoking_a_key_asks_first_and_marks_it_revoked() {
    let mut f = fixture(true, "Marketing space");
    f.wait_for("the keys are listed", "Chat client");
    click(&mut f.harness, "Revoke Chat client…");
    assert!(
        f.harness
            .query_by_label("Revoke key Chat client?")
            .is_some()
    );
    assert_eq!(
        f.server_key("Chat client").map(|k| k.status),
        Some(KeyStatus::Enabled)
    );
    click(&mut f.harness, "Revoke key Chat client");
    step_until(
        &mut f.harness,
        "the key shows as revoked",
        |h| {
            h.query_all_by_label("revoked")
                .any(|n| n.accesskit_node().role() == Role::Label)
        },
        WAIT,
    );
    assert_eq!(
        f.server_key("Chat client").map(|k| k.status),
        Some(KeyStatus::Revoked)
    );
    assert!(f.harness.query_by_label("Revoke Chat client…").is_none());
}

#[test]
fn can_this_key_answers_with_the_rule_that_decided() {
    let mut f = fixture(true, "Marketing space");
    f.wait_for("the keys are listed", "Chat client");
    click(&mut f.harness, "Can Chat client…?");
    ui_common::type_into(&mut f.harness, "Channel or queue", "chat:lobby");
    assert!(f.harness.query_by_label("Yes").is_some());
    assert!(
        f.harness
            .query_by_label("chat:*: presence, publish, subscribe  (decided here)")
            .is_some()
    );
    erase(&mut f, "Channel or queue", "chat:lobby".len());
    settle(&mut f.harness);
    ui_common::type_into(&mut f.harness, "Channel or queue", "news");
    assert!(f.harness.query_by_label("No").is_some());
    assert!(
        f.harness
            .query_by_label("No resource pattern of this key matches news")
            .is_some()
    );
}

#[test]
fn a_wrong_ably_access_token_is_explained_as_401_at_the_field() {
    let mut f = fixture(true, "Marketing space");
    f.wait_for("the keys are listed", "Chat client");
    f.harness.get_by_label(Tab::Connections.title()).click();
    settle(&mut f.harness);
    click(&mut f.harness, "Edit Ably test");
    ui_common::type_into(&mut f.harness, "Access token", "not-a-real-token");
    click(&mut f.harness, "Test connection");
    step_until(
        &mut f.harness,
        "the 401 is explained",
        |h| {
            h.query_all_by_label("401: Ably does not accept this access token")
                .count()
                >= 1
        },
        WAIT,
    );
}

#[test]
fn a_per_resource_key_opens_as_custom_json_that_is_validated() {
    let mut f = fixture(true, "Marketing space");
    let c = control(&f.sandbox);
    let app_id = f.server_keys()[0].app_id.clone();
    let new = keydeck::providers::ably::NewAblyKey {
        name: "mixed".to_owned(),
        capability: cap(&[("chat:*", &["publish"]), ("news", &["subscribe"])]),
        revocable_tokens: None,
    };
    f.rt.block_on(async move { c.create_key(&app_id, &new).await })
        .expect("created");
    f.wait_for("the keys are listed", "Chat client");
    click(&mut f.harness, "Refresh");
    f.wait_for("the keys are listed", "Edit mixed");
    assert_eq!(f.badges("Custom"), 1);

    click(&mut f.harness, "Edit mixed");
    assert!(f.harness.query_by_label("Custom capability").is_some());
    type_multiline(&mut f, "Capability JSON", "oops");
    assert!(
        f.harness
            .query_by_label_contains("Not valid JSON")
            .is_some()
    );
    assert!(
        f.harness
            .get_by_label("Review changes…")
            .accesskit_node()
            .is_disabled(),
        "invalid JSON cannot be saved"
    );
}

#[test]
fn cancelling_a_changed_key_asks_before_discarding() {
    let mut f = fixture(true, "Marketing space");
    f.wait_for("the keys are listed", "Chat client");
    click(&mut f.harness, "Edit Chat client");
    tick(&mut f, Role::CheckBox, "History");
    click(&mut f.harness, "Cancel");
    assert!(f.harness.query_by_label("Discard your changes?").is_some());
    click(&mut f.harness, "Keep editing");
    assert!(f.harness.query_by_label("Review changes…").is_some());
    click(&mut f.harness, "Cancel");
    click(&mut f.harness, "Discard");
    step_until(
        &mut f.harness,
        "the editor closes",
        |h| h.query_by_label("Review changes…").is_none(),
        WAIT,
    );
    assert_eq!(
        f.server_key("Chat client").map(|k| k.capability),
        Some(cap(&[("chat:*", &["presence", "publish", "subscribe"])]))
    );
}

#[test]
fn the_embedded_sandbox_gives_ably_and_cometly_connections_that_work() {
    let rt = ui_common::runtime();
    let dirs = tempfile::tempdir().expect("tempdir");
    let mut h = ui_common::harness(ui_common::app(&rt, &dirs, Vault::memory(), true));
    step_until(
        &mut h,
        "the sandbox connections are added",
        |h| h.state().is_settled() && h.state().config().connections.len() == 4,
        Duration::from_secs(60),
    );
    let id_of = |h: &egui_kittest::Harness<'static, keydeck::ui::KeydeckApp>, label: &str| {
        h.state()
            .config()
            .connections
            .iter()
            .find(|c| c.label == label)
            .map(|c| c.id.clone())
            .expect("connection")
    };
    let ably = id_of(&h, "Ably (sandbox)");
    h.state_mut()
        .push_command(keydeck::ui::Command::SelectConnection(ably));
    settle(&mut h);
    step_until(
        &mut h,
        "the apps are listed",
        |h| h.query_by_label("Use app Demo app").is_some(),
        WAIT,
    );
    click(&mut h, "Use app Demo app");
    step_until(
        &mut h,
        "the keys are listed",
        |h| h.query_by_label("Revoke tokens of Chat client…").is_some(),
        WAIT,
    );
    // Token revocation goes to the sandbox's REST URL with the key itself.
    click(&mut h, "Revoke tokens of Chat client…");
    h.get_by_role_and_label(Role::MultilineTextInput, "Targets, one per line")
        .focus();
    settle(&mut h);
    h.get_by_role_and_label(Role::MultilineTextInput, "Targets, one per line")
        .type_text("clientId:alice");
    settle(&mut h);
    click(&mut h, "Revoke tokens…");
    click(&mut h, "Revoke tokens of clientId:alice");
    step_until(
        &mut h,
        "the result is shown",
        |h| h.query_by_label("1 revoked, 0 failed").is_some(),
        WAIT,
    );
    click(&mut h, "Close");

    // The Cometly sandbox connection uses the active workspace's key.
    h.get_by_label(Tab::Connections.title()).click();
    settle(&mut h);
    click(&mut h, "Edit Cometly (sandbox)");
    click(&mut h, "Test connection");
    step_until(
        &mut h,
        "the key works",
        |h| h.query_by_label("Works: the API key is accepted").is_some(),
        WAIT,
    );
}

#[test]
fn a_read_only_token_reads_keys_and_a_refused_edit_is_explained_as_403() {
    let mut f = fixture(true, "Marketing space");
    let read_only = f.sandbox.info().ably.read_only_token;
    f.wait_for("the keys are listed", "Chat client");
    f.harness.get_by_label(Tab::Connections.title()).click();
    settle(&mut f.harness);
    click(&mut f.harness, "Edit Ably test");
    ui_common::type_into(&mut f.harness, "Access token", &read_only);
    click(&mut f.harness, "Test connection");
    step_until(
        &mut f.harness,
        "the test says what the token may not do",
        |h| h.query_by_label_contains("no write:key").is_some(),
        WAIT,
    );
    click(&mut f.harness, "Save");
    f.harness.get_by_label(Tab::Keys.title()).click();
    settle(&mut f.harness);
    f.wait_for("the keys are listed again", "Edit Chat client");

    click(&mut f.harness, "Edit Chat client");
    tick(&mut f, Role::CheckBox, "History");
    click(&mut f.harness, "Review changes…");
    click(&mut f.harness, "Save changes");
    step_until(
        &mut f.harness,
        "the refusal is explained in the editor",
        |h| {
            h.query_by_label_contains("The credential may not do this (403)")
                .is_some()
        },
        WAIT,
    );
    assert_eq!(
        f.server_key("Chat client").map(|k| k.capability),
        Some(cap(&[("chat:*", &["presence", "publish", "subscribe"])]))
    );
}

#[test]
fn f5_reloads_the_ably_keys_and_shows_a_key_made_elsewhere() {
    let mut f = fixture(true, "Marketing space");
    f.wait_for("the keys are listed", "Chat client");
    let c = control(&f.sandbox);
    let app_id = f.server_keys()[0].app_id.clone();
    let new = keydeck::providers::ably::NewAblyKey {
        name: "made-elsewhere".to_owned(),
        capability: cap(&[("*", &["subscribe"])]),
        revocable_tokens: None,
    };
    f.rt.block_on(async move { c.create_key(&app_id, &new).await })
        .expect("created");
    f.harness.key_press(eframe::egui::Key::F5);
    settle(&mut f.harness);
    f.wait_for("the new key is listed", "Edit made-elsewhere");
    assert_eq!(f.badges("Only channels"), 1);
}

#[test]
fn on_a_prod_connection_revoking_a_key_needs_its_name_typed() {
    let mut f = fixture(true, "Marketing space");
    let mut conn = f
        .harness
        .state()
        .config()
        .connection(ABLY)
        .cloned()
        .expect("connection");
    conn.environment = Environment::Prod;
    f.harness
        .state_mut()
        .push_command(keydeck::ui::Command::SaveConnection {
            connection: conn,
            secrets: Vec::new(),
        });
    f.wait_for("the keys are listed", "Revoke Chat client…");
    click(&mut f.harness, "Revoke Chat client…");
    assert!(
        f.harness
            .get_by_label("Revoke key Chat client")
            .accesskit_node()
            .is_disabled()
    );
    ui_common::type_into(&mut f.harness, "Type Chat client to confirm", "Chat client");
    click(&mut f.harness, "Revoke key Chat client");
    step_until(
        &mut f.harness,
        "the key shows as revoked",
        |h| {
            h.query_all_by_label("revoked")
                .any(|n| n.accesskit_node().role() == Role::Label)
        },
        WAIT,
    );
    assert_eq!(
        f.server_key("Chat client").map(|k| k.status),
        Some(KeyStatus::Revoked)
    );
}

#[test]
fn on_a_prod_connection_revoking_tokens_asks_first_and_needs_the_key_name_typed() {
    let mut f = fixture(true, "Marketing space");
    let mut conn = f
        .harness
        .state()
        .config()
        .connection(ABLY)
        .cloned()
        .expect("connection");
    conn.environment = Environment::Prod;
    f.harness
        .state_mut()
        .push_command(keydeck::ui::Command::SaveConnection {
            connection: conn,
            secrets: Vec::new(),
        });
    f.wait_for("the keys are listed", "Revoke tokens of Chat client…");
    click(&mut f.harness, "Revoke tokens of Chat client…");
    type_multiline(&mut f, "Targets, one per line", "clientId:carol");
    click(&mut f.harness, "Revoke tokens…");
    assert!(
        f.harness
            .get_by_label("Revoke tokens of clientId:carol")
            .accesskit_node()
            .is_disabled(),
        "disabled until the key's name is typed"
    );
    // Cancel keeps the form, sends nothing.
    click(&mut f.harness, "Cancel");
    assert!(
        f.harness
            .query_by_label("Revoke the tokens of clientId:carol?")
            .is_none()
    );
    assert!(f.harness.query_by_label("1 revoked, 0 failed").is_none());

    click(&mut f.harness, "Revoke tokens…");
    ui_common::type_into(&mut f.harness, "Type Chat client to confirm", "Chat client");
    click(&mut f.harness, "Revoke tokens of clientId:carol");
    f.wait_for("the result is shown", "1 revoked, 0 failed");
}

#[test]
fn on_a_prod_connection_widening_a_capability_needs_the_key_name_and_narrowing_does_not() {
    let mut f = fixture(true, "Marketing space");
    let mut conn = f
        .harness
        .state()
        .config()
        .connection(ABLY)
        .cloned()
        .expect("connection");
    conn.environment = Environment::Prod;
    f.harness
        .state_mut()
        .push_command(keydeck::ui::Command::SaveConnection {
            connection: conn,
            secrets: Vec::new(),
        });
    f.wait_for("the keys are listed", "Edit Chat client");
    let before = f.server_key("Chat client").expect("seeded").capability;

    // Adding History is wider: it says what is new and waits for the name.
    click(&mut f.harness, "Edit Chat client");
    tick(&mut f, Role::CheckBox, "History");
    click(&mut f.harness, "Review changes…");
    assert!(
        f.harness
            .query_by_label("This gives a production key more power")
            .is_some()
    );
    assert!(
        f.harness
            .query_by_label_contains("Newly allowed: chat:*: history")
            .is_some()
    );
    assert!(
        f.harness
            .get_by_label("Save changes")
            .accesskit_node()
            .is_disabled()
    );
    click(&mut f.harness, "Save changes");
    assert_eq!(
        f.server_key("Chat client").map(|k| k.capability),
        Some(before.clone()),
        "nothing was sent"
    );
    ui_common::type_into(
        &mut f.harness,
        "Type Chat client to allow it",
        "Chat client",
    );
    click(&mut f.harness, "Save changes");
    step_until(
        &mut f.harness,
        "the editor closes",
        |h| h.query_by_label("Save changes").is_none(),
        WAIT,
    );
    assert_eq!(
        f.server_key("Chat client").map(|k| k.capability),
        Some(cap(&[(
            "chat:*",
            &["history", "presence", "publish", "subscribe"]
        )]))
    );

    // Taking Publish away is narrower: the review asks nothing more.
    f.wait_for("the keys are listed", "Edit Chat client");
    click(&mut f.harness, "Edit Chat client");
    tick(&mut f, Role::CheckBox, "Publish");
    click(&mut f.harness, "Review changes…");
    assert!(
        f.harness
            .query_by_label("This gives a production key more power")
            .is_none()
    );
    assert!(
        !f.harness
            .get_by_label("Save changes")
            .accesskit_node()
            .is_disabled()
    );
    click(&mut f.harness, "Save changes");
    step_until(
        &mut f.harness,
        "the editor closes",
        |h| h.query_by_label("Save changes").is_none(),
        WAIT,
    );
    assert_eq!(
        f.server_key("Chat client").map(|k| k.capability),
        Some(cap(&[("chat:*", &["history", "presence", "subscribe"])]))
    );
}

#[test]
fn every_ably_dialog_keeps_its_buttons_inside_the_window_at_the_minimum_size_and_at_1400x900() {
    use keydeck::ui::shell::MIN_WINDOW_SIZE;
    for size in [
        egui::vec2(MIN_WINDOW_SIZE[0], MIN_WINDOW_SIZE[1]),
        egui::vec2(1400.0, 900.0),
    ] {
        for theme in [egui::Theme::Light, egui::Theme::Dark] {
            let mut f = fixture(true, "Marketing space");
            f.harness.set_size(size);
            f.harness.ctx.set_theme(theme);
            f.wait_for("the keys are listed", "Edit Chat client");
            let dialogs: [(&str, &str, &str); 5] = [
                ("New API key…", "Review and create…", "Cancel"),
                ("Edit Chat client", "Review changes…", "Cancel"),
                ("Revoke Chat client…", "Revoke key Chat client", "Cancel"),
                ("Revoke tokens of Chat client…", "Revoke tokens…", "Close"),
                ("Can Chat client…?", "Close", "Close"),
            ];
            for (open, primary, cancel) in dialogs {
                click(&mut f.harness, open);
                f.wait_for(open, primary);
                settle(&mut f.harness);
                for label in [primary, cancel] {
                    assert!(
                        f.harness.query_by_label(label).is_some(),
                        "{open} at {size:?} ({theme:?}): no “{label}”"
                    );
                    ui_common::inside_window(&f.harness, label, size)
                        .unwrap_or_else(|e| panic!("{open} ({theme:?}): {e}"));
                }
                click(&mut f.harness, cancel);
                step_until(
                    &mut f.harness,
                    "the dialog closes",
                    |h| h.query_by_label(primary).is_none(),
                    WAIT,
                );
            }
        }
    }
}
