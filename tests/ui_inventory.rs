//! The Hygiene tab's inventory through the whole app (kittest, a sandbox over loopback, the
//! in-memory keychain): every key across connections, and each finding with its fix: keys
//! older than the policy, a stored key deleted behind Keydeck's back (drift), a key stored in
//! two connections, a retiring key whose overlap ended, a "rotate by" date due; the export
//! holds masked prefixes only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

mod support;
mod ui_common;

use std::time::Duration;

use egui_kittest::kittest::Queryable;
use keydeck::config::{Environment, FIELD_API_KEY, RetiringKey, key_sha256};
use keydeck::providers::cometchat::Scope;
use keydeck::ui::{Command, Tab};
use keydeck::vault::Vault;
use ui_common::{KeyChoice, click, fixture, step_until};

const WAIT: Duration = Duration::from_secs(20);

#[test]
fn the_inventory_lists_every_key_and_each_finding_offers_its_fix() {
    let mut f = fixture(KeyChoice::FullAccess, Environment::Dev);
    let config_dir = f.dirs.path().join("config");
    let mut config = ui_common::saved_config(&mut f.harness, &config_dir);

    // Arrange: a key stored by a second connection and then deleted on the server (drift);
    // the Auth Key stored by two more connections; a key retiring since yesterday.
    let gone = f.create_key("gone-elsewhere", Scope::AuthOnly);
    let auth = f.server_key("Auth Key").unwrap();
    let old = f.create_key("old-retiring", Scope::AuthOnly);
    for (id, label, key) in [
        ("desk", "Support desk", &gone.api_key),
        ("kiosk", "Kiosk", &auth.api_key),
        ("lobby", "Lobby", &auth.api_key),
    ] {
        let mut c = config.connections[0].clone();
        c.id = id.to_owned();
        c.label = label.to_owned();
        config.connections.push(c);
        f.vault
            .store(&Vault::account(id, FIELD_API_KEY), key)
            .unwrap();
    }
    config.retiring_keys.push(RetiringKey {
        connection_id: ui_common::CONNECTION_ID.to_owned(),
        key_sha256: key_sha256(&old.api_key),
        masked: old.api_key.masked(),
        name: old.name.clone(),
        deadline_unix: keydeck::words::now_unix() - 86_400,
    });
    config.save(&config_dir).unwrap();
    let admin = f.admin();
    f.rt.block_on(admin.delete_api_key(&gone.api_key)).unwrap();
    // The age policy: 20 days (the demo app's keys are a month old).
    std::fs::write(config_dir.join("hygiene.json"), r#"{"policy_days": 20}"#).unwrap();

    f.harness = ui_common::harness(ui_common::app(&f.rt, &f.dirs, f.vault.clone(), false));
    f.harness
        .state_mut()
        .push_command(Command::SelectTab(Tab::Hygiene));
    step_until(
        &mut f.harness,
        "the inventory is gathered",
        |h| {
            let inv = &h.state().tabs.hygiene.inventory;
            !inv.is_gathering() && !inv.rows.is_empty()
        },
        WAIT,
    );
    let inv = &f.harness.state().tabs.hygiene.inventory;
    let names: Vec<&str> = inv.rows.iter().map(|r| r.name.as_str()).collect();
    for name in ["Auth Key", "Rest API Key", "old-retiring"] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let titles: Vec<String> = inv.findings.iter().map(|f| f.title.clone()).collect();
    let has = |part: &str| titles.iter().any(|t| t.contains(part));
    assert!(has("Rest API Key"), "{titles:?}");
    assert!(has("is older than 20 days"), "{titles:?}");
    assert!(
        has(&format!(
            "Support desk's stored key {} no longer exists on the server",
            gone.api_key.masked()
        )),
        "drift: {titles:?}"
    );
    assert!(has("is stored in 2 connections"), "{titles:?}");
    assert!(
        has("old-retiring") && has("still on the server after its overlap ended"),
        "{titles:?}"
    );

    // What is due this week is said at start-up, in a banner that opens the tab.
    step_until(
        &mut f.harness,
        "the start-up banner",
        |h| {
            h.query_by_label_contains("Key hygiene: ").is_some()
                && h.query_by_label_contains("due within a week").is_some()
        },
        WAIT,
    );

    // Each finding is on screen with its fix; the drift's goes to the connection's editor.
    let drift_title = format!(
        "Support desk's stored key {} no longer exists on the server",
        gone.api_key.masked()
    );
    assert!(f.harness.query_by_label(&drift_title).is_some());

    // A "rotate by" date three days out becomes a finding due this week, kept locally.
    let in_three_days = keydeck::words::now_unix() + 3 * 86_400;
    let date = keydeck::words::date(in_three_days);
    click(&mut f.harness, "Rotate Rest API Key by");
    ui_common::type_into(&mut f.harness, "Rotate by date", &date);
    click(&mut f.harness, "Save");
    step_until(
        &mut f.harness,
        "the rotate-by finding",
        |h| {
            h.query_all_by_label_contains(&format!("is to be rotated by {date}"))
                .count()
                >= 1
        },
        WAIT,
    );
    let local = std::fs::read_to_string(config_dir.join("hygiene.json")).unwrap();
    assert!(local.contains(&key_sha256(&f.server_key("Rest API Key").unwrap().api_key)));

    // The export holds masked prefixes, never a key.
    let out = f.dirs.path().join("inventory.csv");
    let mut cx_rows = f.harness.state().tabs.hygiene.inventory.rows.clone();
    cx_rows.sort_by(|a, b| a.name.cmp(&b.name));
    let csv = keydeck::core::hygiene::inventory::to_csv(&cx_rows, keydeck::words::now_unix());
    std::fs::write(&out, &csv).unwrap();
    assert!(csv.starts_with("provider,connection,app,name,key"));
    for k in f.server_keys() {
        assert!(
            !csv.contains(k.api_key.expose()),
            "no key value in the export"
        );
    }
    assert!(csv.contains(&auth.api_key.masked()));

    // The fix of an age finding goes to the API keys tab of the key's connection.
    f.harness
        .query_all_by_label("Rotate…")
        .next()
        .expect("a Rotate… fix")
        .click();
    step_until(
        &mut f.harness,
        "the API keys tab",
        |h| h.state().selected_tab() == Tab::Keys,
        WAIT,
    );
}

#[test]
fn a_connections_own_age_policy_is_set_in_the_tab_and_turns_its_old_keys_into_findings() {
    let mut f = fixture(KeyChoice::FullAccess, Environment::Dev);
    let config_dir = f.dirs.path().join("config");
    f.harness
        .state_mut()
        .push_command(Command::SelectTab(Tab::Hygiene));
    step_until(
        &mut f.harness,
        "the inventory is gathered",
        |h| {
            let inv = &h.state().tabs.hygiene.inventory;
            !inv.is_gathering() && !inv.rows.is_empty()
        },
        WAIT,
    );
    // The demo app's keys are a month old: within the default 90 days.
    let old = |h: &egui_kittest::Harness<'_, keydeck::ui::KeydeckApp>| {
        h.state()
            .tabs
            .hygiene
            .inventory
            .findings
            .iter()
            .filter(|f| f.title.contains("is older than 20 days"))
            .count()
    };
    assert_eq!(old(&f.harness), 0);

    // Test app's own policy: 20 days.
    click(&mut f.harness, "Per connection…");
    ui_common::type_into(&mut f.harness, "Age policy of Test app in days", "20");
    f.harness.key_press(egui::Key::Enter);
    step_until(
        &mut f.harness,
        "the keys older than 20 days are findings",
        |h| {
            old(h) >= 1
                && h.query_all_by_label_contains("is older than 20 days")
                    .next()
                    .is_some()
        },
        WAIT,
    );
    let local = keydeck::core::hygiene::inventory::Local::load(&config_dir);
    assert_eq!(local.policy_days_for(ui_common::CONNECTION_ID), 20);
    assert_eq!(local.policy_days, None, "the global policy is untouched");

    // A policy that is no number of days is refused, and the saved one kept.
    ui_common::type_into(&mut f.harness, "Age policy of Test app in days", "x");
    f.harness.key_press(egui::Key::Enter);
    ui_common::settle(&mut f.harness);
    assert_eq!(
        keydeck::core::hygiene::inventory::Local::load(&config_dir)
            .policy_days_for(ui_common::CONNECTION_ID),
        20
    );

    // Back to the default: the findings go.
    click(&mut f.harness, "Use the default policy for Test app");
    step_until(
        &mut f.harness,
        "the age findings are gone",
        |h| old(h) == 0,
        WAIT,
    );
    let local = keydeck::core::hygiene::inventory::Local::load(&config_dir);
    assert!(local.connection_policy_days.is_empty());
}

/// Notifications as a test sees them: what was shown, or a service that never answers.
struct FakeNotifier {
    shown: std::sync::Mutex<Vec<String>>,
    answers: bool,
}

impl keydeck::core::hygiene::remind::Notifier for FakeNotifier {
    fn notify(&self, r: &keydeck::core::hygiene::remind::Reminder) -> Result<(), String> {
        if !self.answers {
            // A session bus that takes its time to say no one serves notifications.
            std::thread::sleep(Duration::from_secs(3));
            return Err("org.freedesktop.DBus.Error.ServiceUnknown".to_owned());
        }
        self.shown
            .lock()
            .unwrap()
            .push(format!("{}: {}", r.summary, r.body));
        Ok(())
    }
}

/// The app over a config whose Rest API Key is to be rotated by tomorrow, with `notifier`.
fn app_with_a_rotate_by_date_due(
    f: &mut ui_common::Fixture,
    notifier: std::sync::Arc<FakeNotifier>,
) -> std::path::PathBuf {
    let config_dir = f.dirs.path().join("config");
    ui_common::saved_config(&mut f.harness, &config_dir);
    let key = f.server_key("Rest API Key").unwrap().api_key;
    let tomorrow = keydeck::words::now_unix() + 86_400;
    std::fs::write(
        config_dir.join("hygiene.json"),
        format!(r#"{{"rotate_by": {{"{}": {tomorrow}}}}}"#, key_sha256(&key)),
    )
    .unwrap();
    let mut app = ui_common::app(&f.rt, &f.dirs, f.vault.clone(), false);
    app.tabs.hygiene.inventory.set_notifier(notifier);
    f.harness = ui_common::harness(app);
    config_dir
}

#[test]
fn a_rotate_by_date_due_is_a_desktop_notification_once_a_day_with_no_secret_in_it() {
    let mut f = fixture(KeyChoice::FullAccess, Environment::Dev);
    let notifier = std::sync::Arc::new(FakeNotifier {
        shown: std::sync::Mutex::new(Vec::new()),
        answers: true,
    });
    let config_dir = app_with_a_rotate_by_date_due(&mut f, notifier.clone());
    // Sent at start-up, whichever tab is open.
    step_until(
        &mut f.harness,
        "the reminder is sent",
        |h| {
            !notifier.shown.lock().unwrap().is_empty()
                && !h.state().tabs.hygiene.inventory.is_notifying()
                && h.state().is_settled()
        },
        WAIT,
    );
    let key = f.server_key("Rest API Key").unwrap().api_key;
    let shown = notifier.shown.lock().unwrap().clone();
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert!(
        shown[0].starts_with(&format!("Rotate Rest API Key ({})", key.masked())),
        "{shown:?}"
    );
    assert!(shown[0].contains("is to be rotated by"), "{shown:?}");
    for k in f.server_keys() {
        assert!(
            !shown[0].contains(k.api_key.expose()),
            "no key in {shown:?}"
        );
    }
    let local = keydeck::core::hygiene::inventory::Local::load(&config_dir);
    assert_eq!(
        local.notified.get(&key_sha256(&key)),
        Some(&keydeck::words::date(keydeck::words::now_unix()))
    );

    // Gathered again the same day (and the app started again): not sent twice.
    f.harness
        .state_mut()
        .push_command(Command::SelectTab(Tab::Hygiene));
    click(&mut f.harness, "Check again");
    step_until(
        &mut f.harness,
        "gathered again",
        |h| !h.state().tabs.hygiene.inventory.is_gathering(),
        WAIT,
    );
    ui_common::settle(&mut f.harness);
    let mut app = ui_common::app(&f.rt, &f.dirs, f.vault.clone(), false);
    app.tabs.hygiene.inventory.set_notifier(notifier.clone());
    f.harness = ui_common::harness(app);
    step_until(
        &mut f.harness,
        "gathered after a restart",
        |h| {
            let inv = &h.state().tabs.hygiene.inventory;
            !inv.rows.is_empty() && !inv.is_gathering() && !inv.is_notifying()
        },
        WAIT,
    );
    ui_common::settle(&mut f.harness);
    assert_eq!(notifier.shown.lock().unwrap().len(), 1);
}

#[test]
fn without_a_notification_service_the_banner_says_it_and_the_window_does_not_wait() {
    let mut f = fixture(KeyChoice::FullAccess, Environment::Dev);
    let notifier = std::sync::Arc::new(FakeNotifier {
        shown: std::sync::Mutex::new(Vec::new()),
        answers: false,
    });
    let config_dir = app_with_a_rotate_by_date_due(&mut f, notifier);
    step_until(
        &mut f.harness,
        "the reminder is tried",
        |h| h.state().tabs.hygiene.inventory.is_notifying(),
        WAIT,
    );
    // The service takes 3 s to answer; frames go on meanwhile.
    let started = std::time::Instant::now();
    f.harness.step();
    assert!(started.elapsed() < Duration::from_millis(1500));
    assert!(f.harness.state().tabs.hygiene.inventory.is_notifying());
    step_until(
        &mut f.harness,
        "the banner",
        |h| {
            !h.state().tabs.hygiene.inventory.is_notifying()
                && h.query_by_label_contains("is to be rotated by").is_some()
                && h.query_by_label_contains("due within a week").is_some()
        },
        WAIT,
    );
    let local = keydeck::core::hygiene::inventory::Local::load(&config_dir);
    assert!(local.notified.is_empty(), "not marked as shown: {local:?}");
}

#[test]
fn hundreds_of_findings_show_a_few_in_full_and_list_the_rest_one_line_each_drawing_only_those_in_view()
 {
    let mut f = fixture(KeyChoice::FullAccess, Environment::Dev);
    // 500 keys created a day apart: about 400 are older than the 90-day policy.
    f.rt.block_on(f.sandbox.seed_api_keys(None, 500)).unwrap();
    f.harness
        .state_mut()
        .push_command(Command::SelectTab(Tab::Hygiene));
    ui_common::settle(&mut f.harness);
    if !f.harness.state().tabs.hygiene.inventory.is_gathering() {
        click(&mut f.harness, "Check again");
    }
    step_until(
        &mut f.harness,
        "the 500 keys are gathered",
        |h| {
            let inv = &h.state().tabs.hygiene.inventory;
            !inv.is_gathering() && inv.rows.len() >= 500
        },
        WAIT,
    );
    let findings = f.harness.state().tabs.hygiene.inventory.findings.len();
    assert!(findings > 300, "{findings} findings");
    let more = format!("{} more findings", findings - 8);
    click(&mut f.harness, &more);
    ui_common::settle(&mut f.harness);
    let fixes = f.harness.query_all_by_label("Rotate…").count();
    assert!(
        (1..60).contains(&fixes),
        "8 in full and the lines in view, not all {findings}: {fixes}"
    );
    assert!(
        f.harness
            .query_all_by_label_contains("many-key-")
            .next()
            .is_some()
    );
}
