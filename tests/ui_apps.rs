//! The Apps tab, clicked through by label against an in-process sandbox over loopback HTTP:
//! create an app, open it and see its keys; delete one; refuse an empty name.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

mod common;
mod support;
mod ui_common;

use std::time::Duration;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use keydeck::config::{
    Config, Connection, ConnectionKind, Environment, FIELD_API_KEY, FIELD_KEY, FIELD_SECRET,
};
use keydeck::providers::management::AppQuery;
use keydeck::sandbox::Sandbox;
use keydeck::secret::Secret;
use keydeck::ui::{KeydeckApp, Tab};
use keydeck::vault::Vault;
use ui_common::{click, step_until, type_into};

const MGMT_ID: &str = "mgmt-1";
/// How long a step of these flows may take.
const WAIT: Duration = Duration::from_secs(20);

/// A sandbox, a management connection to it (custom base URL, secrets in the memory vault)
/// selected, and the app on top of it.
struct Fixture {
    sb: Sandbox,
    vault: Vault,
    _dirs: tempfile::TempDir,
    // Dropped last: the sandbox and the app's tasks run on it.
    rt: tokio::runtime::Runtime,
}

fn fixture(environment: Environment) -> (Fixture, Harness<'static, KeydeckApp>) {
    let rt = ui_common::runtime();
    let sb = ui_common::start_sandbox(&rt);
    let m = sb.info().cometchat.management;
    let dirs = tempfile::tempdir().unwrap();
    let config_dir = dirs.path().join("config");
    let config = Config {
        connections: vec![Connection {
            id: MGMT_ID.into(),
            label: "Sandbox management".into(),
            kind: ConnectionKind::Management,
            environment,
            base_url: Some(m.base_url.clone()),
            embedded_sandbox: false,
        }],
        retiring_keys: Vec::new(),
        selected_connection: Some(MGMT_ID.into()),
    };
    config.save(&config_dir).unwrap();
    let vault = Vault::memory();
    vault
        .store(&Vault::account(MGMT_ID, FIELD_KEY), &Secret::new(m.key))
        .unwrap();
    vault
        .store(
            &Vault::account(MGMT_ID, FIELD_SECRET),
            &Secret::new(m.secret),
        )
        .unwrap();
    let harness = ui_common::harness(ui_common::app(&rt, &dirs, vault.clone(), false));
    (
        Fixture {
            rt,
            sb,
            vault,
            _dirs: dirs,
        },
        harness,
    )
}

fn shows(h: &Harness<'static, KeydeckApp>, label: &str) -> bool {
    h.query_by_label(label).is_some()
}

/// Opens the Apps tab and waits for the list (the sandbox's demo app is in it).
fn open_apps_tab(h: &mut Harness<'static, KeydeckApp>) {
    step_until(h, "the secrets to load", |h| h.state().is_settled(), WAIT);
    h.get_by_label("Apps").click();
    step_until(h, "the apps list", |h| shows(h, "App id"), WAIT);
}

fn create_app(h: &mut Harness<'static, KeydeckApp>, name: &str, region: &str) {
    h.get_by_label("New app…").click();
    step_until(h, "the new-app dialog", |h| shows(h, "Create app"), WAIT);
    type_into(h, "Name", name);
    click(h, region);
    click(h, "Create app");
    step_until(
        h,
        "the created app in the list",
        |h| h.query_by_label("Create app").is_none() && shows(h, &format!("Open {name}")),
        WAIT,
    );
}

fn app_names(fx: &Fixture) -> Vec<String> {
    let client = common::management_client(&fx.sb);
    fx.rt
        .block_on(client.list_apps(&AppQuery::default()))
        .unwrap()
        .items
        .into_iter()
        .map(|a| a.name)
        .collect()
}

#[test]
fn a_created_app_can_be_opened_and_its_keys_listed() {
    let (fx, mut h) = fixture(Environment::Staging);
    open_apps_tab(&mut h);

    create_app(&mut h, "Support desk", "Europe");
    let client = common::management_client(&fx.sb);
    let created = fx
        .rt
        .block_on(client.list_apps(&AppQuery::default()))
        .unwrap()
        .items
        .into_iter()
        .find(|a| a.name == "Support desk")
        .expect("the sandbox has the new app");
    assert_eq!(created.region, "eu");
    assert!(shows(&h, &created.id), "the list shows the app id");

    h.get_by_label("Open Support desk").click();
    step_until(
        &mut h,
        "the opened app's keys",
        |h| shows(h, "Rest API Key") && shows(h, "Auth Key"),
        WAIT,
    );
    assert_eq!(h.state().selected_tab(), Tab::Keys);

    // The new connection is the active one: named after the app, in the management
    // connection's environment, with its chat URL on the sandbox.
    let conn = h
        .state()
        .active_connection()
        .cloned()
        .expect("a connection");
    assert_eq!(conn.label, "Support desk");
    assert_eq!(conn.environment, Environment::Staging);
    assert_eq!(
        conn.kind,
        ConnectionKind::CometChatApp {
            app_id: created.id.clone(),
            region: "eu".into()
        }
    );
    assert_eq!(
        conn.base_url,
        Some(format!("{}/cometchat/{}/v3", fx.sb.base_url(), created.id))
    );

    // The fullAccess key went to the vault (written off the UI thread).
    let full = created
        .full_access_key()
        .expect("a fullAccess key")
        .api_key
        .clone();
    let account = Vault::account(&conn.id, FIELD_API_KEY);
    step_until(
        &mut h,
        "the key in the vault",
        |_| fx.vault.get(&account).ok().flatten().is_some(),
        WAIT,
    );
    assert_eq!(fx.vault.get(&account).unwrap(), Some(full));
}

#[test]
fn a_deleted_app_leaves_the_list_after_a_confirmation_that_names_it() {
    let (fx, mut h) = fixture(Environment::Dev);
    open_apps_tab(&mut h);
    create_app(&mut h, "Old pilot", "United States");

    h.get_by_label("Delete Old pilot…").click();
    step_until(
        &mut h,
        "the confirmation",
        |h| shows(h, "Delete app Old pilot?"),
        WAIT,
    );
    assert!(
        h.query_by_label_contains("schedules the deletion")
            .is_some(),
        "the dialog explains that the deletion is scheduled"
    );
    h.get_by_label("Delete app Old pilot").click();
    step_until(
        &mut h,
        "the app to leave the list",
        |h| !shows(h, "Open Old pilot") && !shows(h, "Delete app Old pilot"),
        WAIT,
    );
    assert!(
        h.query_by_label("App Old pilot is scheduled for deletion")
            .is_some(),
        "the scheduled deletion is shown"
    );
    step_until(
        &mut h,
        "a toast with the scheduled date and time",
        |h| {
            h.state().toasts().any(|t| {
                t.text
                    .starts_with("App Old pilot is scheduled for deletion on 20")
            })
        },
        WAIT,
    );
    assert!(!app_names(&fx).contains(&"Old pilot".to_owned()));
}

#[test]
fn a_prod_connection_asks_for_the_app_name_before_deleting() {
    let (fx, mut h) = fixture(Environment::Prod);
    open_apps_tab(&mut h);
    create_app(&mut h, "Billing", "India");

    h.get_by_label("Delete Billing…").click();
    step_until(
        &mut h,
        "the confirmation",
        |h| shows(h, "Type Billing to confirm"),
        WAIT,
    );
    h.get_by_label("Delete app Billing").click();
    h.step();
    h.step();
    assert!(
        app_names(&fx).contains(&"Billing".to_owned()),
        "nothing is deleted before the name is typed"
    );
    type_into(&mut h, "Type Billing to confirm", "Billing");
    click(&mut h, "Delete app Billing");
    step_until(
        &mut h,
        "the app to leave the list",
        |h| !shows(h, "Open Billing"),
        WAIT,
    );
    assert!(!app_names(&fx).contains(&"Billing".to_owned()));
}

#[test]
fn an_empty_name_is_refused_under_the_field() {
    let (fx, mut h) = fixture(Environment::Dev);
    open_apps_tab(&mut h);
    let before = app_names(&fx);

    h.get_by_label("New app…").click();
    step_until(
        &mut h,
        "the new-app dialog",
        |h| shows(h, "Create app"),
        WAIT,
    );
    click(&mut h, "Europe");
    type_into(&mut h, "Name", "   ");
    assert!(
        shows(&h, "Give the app a name"),
        "the error is under the field"
    );
    click(&mut h, "Create app");
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Name")
        .focus();
    h.key_press(egui::Key::Enter);
    h.step();
    h.step();
    assert!(shows(&h, "Create app"), "the dialog stays open");
    assert_eq!(app_names(&fx), before, "no app was created");
}

#[test]
fn an_app_connection_offers_the_management_connections() {
    let (_fx, mut h) = fixture(Environment::Dev);
    open_apps_tab(&mut h);
    create_app(&mut h, "Chat", "United States");
    h.get_by_label("Open Chat").click();
    step_until(
        &mut h,
        "the opened app's keys",
        |h| shows(h, "Rest API Key"),
        WAIT,
    );

    h.get_by_label("Apps").click();
    step_until(
        &mut h,
        "the empty state",
        |h| shows(h, "Apps are listed by a management connection"),
        WAIT,
    );
    h.get_by_label("Switch to Sandbox management").click();
    step_until(
        &mut h,
        "the apps list again",
        |h| shows(h, "Open Chat"),
        WAIT,
    );
    assert_eq!(
        h.state().active_connection().map(|c| c.id.as_str()),
        Some(MGMT_ID)
    );
}

#[test]
fn an_app_created_in_the_embedded_sandbox_opens_on_the_sandbox() {
    let rt = ui_common::runtime();
    let dirs = tempfile::tempdir().unwrap();
    let mut h = ui_common::harness(ui_common::app(&rt, &dirs, Vault::memory(), true));
    // First run: the app starts its sandbox and selects the demo app connection.
    step_until(
        &mut h,
        "the sandbox connections",
        |h| h.state().is_settled() && h.state().config().connections.len() == 4,
        WAIT,
    );
    h.get_by_label("Apps").click();
    step_until(
        &mut h,
        "the offer to switch",
        |h| shows(h, "Switch to Sandbox management"),
        WAIT,
    );
    h.get_by_label("Switch to Sandbox management").click();
    step_until(&mut h, "the apps list", |h| shows(h, "App id"), WAIT);

    create_app(&mut h, "Field sales", "India");
    h.get_by_label("Open Field sales").click();
    step_until(
        &mut h,
        "the opened app's keys",
        |h| shows(h, "Rest API Key") && shows(h, "Auth Key"),
        WAIT,
    );
    let conn = h
        .state()
        .active_connection()
        .cloned()
        .expect("a connection");
    assert_eq!(conn.label, "Field sales");
    assert!(conn.embedded_sandbox, "it follows the sandbox's port");
    assert_eq!(conn.base_url, None);
    drop(h);
    drop(rt);
}

#[test]
fn the_app_dialogs_keep_their_buttons_inside_the_window_at_the_minimum_size_and_at_1400x900() {
    use keydeck::ui::shell::MIN_WINDOW_SIZE;
    for size in [
        egui::vec2(MIN_WINDOW_SIZE[0], MIN_WINDOW_SIZE[1]),
        egui::vec2(1400.0, 900.0),
    ] {
        for theme in [egui::Theme::Light, egui::Theme::Dark] {
            let (_fx, mut h) = fixture(Environment::Dev);
            h.set_size(size);
            h.ctx.set_theme(theme);
            step_until(
                &mut h,
                "the secrets to load",
                |h| h.state().is_settled(),
                WAIT,
            );
            h.state_mut()
                .push_command(keydeck::ui::Command::SelectTab(keydeck::ui::Tab::Apps));
            step_until(&mut h, "the apps list", |h| shows(h, "App id"), WAIT);
            create_app(&mut h, "Pilot", "United States");
            for (open, primary, cancel) in [
                ("New app…", "Create app", "Cancel"),
                ("Delete Pilot…", "Delete app Pilot", "Cancel"),
            ] {
                click(&mut h, open);
                step_until(&mut h, open, |h| shows(h, primary), WAIT);
                for label in [primary, cancel] {
                    let rect = h.get_by_label(label).rect();
                    let window = egui::Rect::from_min_size(egui::Pos2::ZERO, size);
                    assert!(
                        window.contains_rect(rect),
                        "{open} ({theme:?}): “{label}” at {rect:?} is outside {size:?}"
                    );
                }
                click(&mut h, cancel);
                step_until(&mut h, "the dialog closes", |h| !shows(h, primary), WAIT);
            }
        }
    }
}
