//! The shell and the Connections tab: the embedded sandbox on first run, adding and testing a
//! connection, duplicating and removing one, bringing the sandbox connections back.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

mod support;
mod ui_common;

use std::time::Duration;

use egui_kittest::kittest::Queryable;
use keydeck::config::{Config, ConnectionKind, Environment, FIELD_API_KEY};
use keydeck::secret::Secret;
use keydeck::ui::Tab;
use keydeck::vault::Vault;
use ui_common::{KeyChoice, click, fixture, step_until, type_into};

const SANDBOX_START: Duration = Duration::from_secs(60);
const WAIT: Duration = Duration::from_secs(10);

#[test]
fn the_first_run_starts_the_sandbox_shows_its_demo_app_and_a_later_run_reuses_its_data() {
    let rt = ui_common::runtime();
    let dirs = tempfile::tempdir().expect("tempdir");
    let vault = Vault::memory();
    let mut h = ui_common::harness(ui_common::app(&rt, &dirs, vault.clone(), true));
    step_until(
        &mut h,
        "the demo app's two keys are listed",
        |h| h.query_by_label("Rest API Key").is_some() && h.query_by_label("Auth Key").is_some(),
        SANDBOX_START,
    );
    assert!(
        h.query_by_label("Local sandbox, not a live service")
            .is_some(),
        "the banner says so"
    );

    let info = h
        .state()
        .embedded_sandbox()
        .expect("embedded sandbox")
        .info();
    let demo = info.cometchat.apps[0].clone();
    let config_dir = dirs.path().join("config");
    let config = ui_common::saved_config(&mut h, &config_dir);
    assert_eq!(
        config.connections.len(),
        4,
        "demo app, management, Ably and Cometly"
    );
    assert!(
        config
            .connections
            .iter()
            .any(|c| matches!(c.kind, ConnectionKind::AblyAccount { .. })
                && c.label == "Ably (sandbox)")
    );
    assert!(
        config
            .connections
            .iter()
            .any(|c| c.kind == ConnectionKind::Cometly && c.label == "Cometly (sandbox)")
    );
    assert!(
        config
            .connections
            .iter()
            .all(|c| c.embedded_sandbox && c.base_url.is_none())
    );
    let app_conn = config
        .connections
        .iter()
        .find(|c| matches!(c.kind, ConnectionKind::CometChatApp { .. }))
        .expect("demo app connection")
        .clone();
    let text = std::fs::read_to_string(Config::path(&config_dir)).expect("config file");
    assert!(
        !text.contains(&demo.rest_api_key),
        "no secret in the config file"
    );
    assert!(!text.contains(&info.cometchat.management.secret));
    step_until(
        &mut h,
        "the key reaches the vault",
        |_| {
            vault
                .get(&Vault::account(&app_conn.id, FIELD_API_KEY))
                .ok()
                .flatten()
                == Some(Secret::new(demo.rest_api_key.clone()))
        },
        WAIT,
    );
    assert!(
        dirs.path().join("data/sandbox.sqlite3").exists(),
        "data file in the data dir"
    );

    // A key made now is still there on the next run, which reuses the same sandbox data.
    let client = keydeck::providers::cometchat::CometChatClient::new(
        &keydeck::providers::cometchat::AppEndpoint {
            app_id: demo.app_id.clone(),
            region: demo.region.clone(),
            base_url: Some(demo.base_url.clone()),
        },
        Secret::new(demo.rest_api_key.clone()),
    )
    .expect("client");
    let new = keydeck::providers::cometchat::NewApiKey {
        name: "persisted-bot".into(),
        scope: keydeck::providers::cometchat::Scope::AuthOnly,
    };
    rt.block_on(async move { client.create_api_key(&new).await })
        .expect("create");
    drop(h);

    let mut again = ui_common::harness(ui_common::app(&rt, &dirs, vault.clone(), true));
    step_until(
        &mut again,
        "the restarted app lists the key made on the first run",
        |h| h.query_by_label("persisted-bot").is_some(),
        SANDBOX_START,
    );
    assert_eq!(
        ui_common::saved_config(&mut again, &config_dir)
            .connections
            .len(),
        4,
        "no duplicates"
    );
}

#[test]
fn testing_a_connection_says_what_its_key_can_do_and_saving_keeps_the_key_in_the_vault() {
    let mut f = fixture(KeyChoice::FullAccess, Environment::Dev);
    let demo = f.sandbox.info().cometchat.apps[0].clone();
    f.wait_for_keys();
    f.select_tab(Tab::Connections);
    click(&mut f.harness, "New CometChat app…");
    type_into(&mut f.harness, "Label", "Login key");
    type_into(&mut f.harness, "App id", &demo.app_id);
    type_into(&mut f.harness, "REST API key", &demo.auth_key);
    type_into(
        &mut f.harness,
        "Base URL override (optional)",
        &demo.base_url,
    );
    click(&mut f.harness, "Test connection");
    step_until(
        &mut f.harness,
        "the test explains an authOnly key",
        |h| h.query_by_label("Works: an authOnly key").is_some(),
        WAIT,
    );
    assert!(
        f.harness
            .query_by_label_contains("can create users and auth tokens only")
            .is_some()
    );
    // Both of the app's hosts are tried with the same key: REST and Calls.
    assert!(
        f.harness
            .query_by_label_contains("Calls host 127.0.0.1: the key works there too.")
            .is_some(),
        "the Calls host was tested"
    );

    click(&mut f.harness, "Save");
    let config_dir = f.dirs.path().join("config");
    step_until(
        &mut f.harness,
        "the connection is saved",
        |_| Config::load(&config_dir).is_ok_and(|c| c.connections.len() == 2),
        WAIT,
    );
    let config = ui_common::saved_config(&mut f.harness, &config_dir);
    let saved = config
        .connections
        .iter()
        .find(|c| c.label == "Login key")
        .expect("saved");
    assert_eq!(saved.base_url.as_deref(), Some(demo.base_url.as_str()));
    let text = std::fs::read_to_string(Config::path(&config_dir)).expect("file");
    assert!(
        !text.contains(&demo.auth_key),
        "the key is not in the config file"
    );
    let account = Vault::account(&saved.id, FIELD_API_KEY);
    let vault = f.vault.clone();
    step_until(
        &mut f.harness,
        "the key is in the vault",
        |_| vault.get(&account).ok().flatten() == Some(Secret::new(demo.auth_key.clone())),
        WAIT,
    );

    // The test is in the audit trail, under the connection's label, with no key in it.
    let path = f.harness.state().audit_path().expect("audit trail open");
    let records = keydeck::audit::read_all(&path).expect("readable");
    let tested = records
        .iter()
        .find(|r| r.action == "connection.tested")
        .expect("the connection test is audited");
    assert_eq!(
        (tested.connection.as_str(), tested.outcome.as_str()),
        ("Login key", "ok")
    );
    let text = std::fs::read_to_string(&path).expect("readable");
    assert!(!text.contains(&demo.auth_key), "no key in the trail");
}

#[test]
fn a_wrong_key_is_named_as_the_field_to_fix() {
    let mut f = fixture(KeyChoice::FullAccess, Environment::Dev);
    let demo = f.sandbox.info().cometchat.apps[0].clone();
    f.wait_for_keys();
    f.select_tab(Tab::Connections);
    click(&mut f.harness, "New CometChat app…");
    type_into(&mut f.harness, "Label", "Typo");
    type_into(&mut f.harness, "App id", &demo.app_id);
    type_into(
        &mut f.harness,
        "REST API key",
        "0000000000000000000000000000000000000000",
    );
    type_into(
        &mut f.harness,
        "Base URL override (optional)",
        &demo.base_url,
    );
    click(&mut f.harness, "Test connection");
    step_until(
        &mut f.harness,
        "the test names the key as the problem",
        |h| {
            h.query_all_by_label("The REST API key was not accepted")
                .count()
                >= 2
        },
        WAIT,
    );
    assert!(
        f.harness
            .query_by_label_contains("Fix the REST API key")
            .is_some()
    );
    assert!(
        f.harness
            .query_by_label_contains("Calls host 127.0.0.1: the key was not accepted there")
            .is_some(),
        "the Calls host refuses the wrong key too"
    );
}

#[test]
fn duplicate_copies_the_profile_and_its_secret() {
    let mut f = fixture(KeyChoice::FullAccess, Environment::Staging);
    let demo = f.sandbox.info().cometchat.apps[0].clone();
    f.wait_for_keys();
    f.select_tab(Tab::Connections);
    click(&mut f.harness, "Duplicate Test app");
    assert!(
        f.harness.query_by_label("Test app (copy)").is_some()
            || f.harness
                .query_by_label_contains("New CometChat app connection")
                .is_some()
    );
    click(&mut f.harness, "Save");
    let config_dir = f.dirs.path().join("config");
    step_until(
        &mut f.harness,
        "the copy is saved",
        |_| Config::load(&config_dir).is_ok_and(|c| c.connections.len() == 2),
        WAIT,
    );
    let config = ui_common::saved_config(&mut f.harness, &config_dir);
    let copy = config
        .connections
        .iter()
        .find(|c| c.id != ui_common::CONNECTION_ID)
        .expect("copy");
    assert_eq!(copy.label, "Test app (copy)");
    assert_eq!(copy.environment, Environment::Staging);
    let account = Vault::account(&copy.id, FIELD_API_KEY);
    let vault = f.vault.clone();
    step_until(
        &mut f.harness,
        "the copy's key is in the vault",
        |_| vault.get(&account).ok().flatten() == Some(Secret::new(demo.rest_api_key.clone())),
        WAIT,
    );
}

#[test]
fn removed_sandbox_connections_come_back_with_the_button() {
    let rt = ui_common::runtime();
    let dirs = tempfile::tempdir().expect("tempdir");
    let mut h = ui_common::harness(ui_common::app(&rt, &dirs, Vault::memory(), true));
    step_until(
        &mut h,
        "the demo app is listed",
        |h| h.query_by_label("Rest API Key").is_some(),
        SANDBOX_START,
    );
    h.get_by_label("Connections").click();
    ui_common::settle(&mut h);
    click(&mut h, "Remove Demo app (sandbox)");
    assert!(
        h.query_by_label("Remove connection Demo app (sandbox)?")
            .is_some(),
        "it asks first"
    );
    click(&mut h, "Remove connection Demo app (sandbox)");
    step_until(
        &mut h,
        "the demo app connection is gone",
        |h| h.query_by_label("Demo app (sandbox)").is_none(),
        WAIT,
    );
    let config_dir = dirs.path().join("config");
    assert_eq!(
        ui_common::saved_config(&mut h, &config_dir)
            .connections
            .len(),
        3
    );

    click(&mut h, "Add sandbox connections");
    step_until(
        &mut h,
        "the demo app connection is back",
        |h| h.query_by_label("Demo app (sandbox)").is_some(),
        WAIT,
    );
    assert_eq!(
        ui_common::saved_config(&mut h, &config_dir)
            .connections
            .len(),
        4
    );
}

#[test]
fn profiles_are_exported_without_secrets_and_imported_with_the_keychains_secrets_or_asked_for() {
    use keydeck::ui::tabs::connection_profiles::FixedProfilePaths;
    let mut f = fixture(KeyChoice::FullAccess, Environment::Prod);
    let demo = f.sandbox.info().cometchat.apps[0].clone();
    f.wait_for_keys();
    f.select_tab(Tab::Connections);
    let file = f.dirs.path().join("team/keydeck-connections.json");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    f.harness
        .state_mut()
        .tabs
        .connections
        .sharing
        .set_picker(std::sync::Arc::new(FixedProfilePaths {
            export: file.clone(),
            import: file.clone(),
        }));
    click(&mut f.harness, "Export…");
    step_until(
        &mut f.harness,
        "the file is written",
        |_| file.exists(),
        WAIT,
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("\"Test app\""), "{text}");
    assert!(!text.contains(&demo.rest_api_key), "no key in the file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the file is private");
    }

    // A teammate whose keychain holds the key: the imported connection works at once.
    let run_with = |vault: Vault| {
        let rt = ui_common::runtime();
        let dirs = tempfile::tempdir().unwrap();
        let mut h = ui_common::harness(ui_common::app(&rt, &dirs, vault, false));
        h.state_mut()
            .tabs
            .connections
            .sharing
            .set_picker(std::sync::Arc::new(FixedProfilePaths {
                export: file.clone(),
                import: file.clone(),
            }));
        (rt, dirs, h)
    };
    let holding = Vault::memory();
    holding
        .store(
            &Vault::account(ui_common::CONNECTION_ID, FIELD_API_KEY),
            &Secret::new(demo.rest_api_key.clone()),
        )
        .unwrap();
    let (_rt, dirs, mut h) = run_with(holding);
    h.state_mut()
        .push_command(keydeck::ui::Command::SelectTab(Tab::Connections));
    ui_common::settle(&mut h);
    click(&mut h, "Import…");
    // It shows what the file holds, with the host each key goes to, before adding anything.
    step_until(
        &mut h,
        "the question names the connection and its host",
        |h| h.query_by_label("Import 1 connection?").is_some(),
        WAIT,
    );
    assert!(
        h.query_by_label_contains("• Test app: CometChat app, prod, http://127.0.0.1")
            .is_some()
    );
    click(&mut h, "Import 1 connection");
    step_until(
        &mut h,
        "the connection is imported",
        |h| {
            h.query_by_label_contains("Imported 1 connection: Test app")
                .is_some()
        },
        WAIT,
    );
    let config = ui_common::saved_config(&mut h, &dirs.path().join("config"));
    assert_eq!(config.connections.len(), 1);
    assert_eq!(config.connections[0].environment, Environment::Prod);
    step_until(
        &mut h,
        "the key read from the keychain",
        |h| h.state().is_settled() && h.query_by_label_contains("Missing:").is_none(),
        WAIT,
    );
    // Importing the same file again adds nothing.
    click(&mut h, "Import…");
    step_until(
        &mut h,
        "the question",
        |h| h.query_by_label("Import 1 connection?").is_some(),
        WAIT,
    );
    click(&mut h, "Import 1 connection");
    step_until(
        &mut h,
        "nothing is imported twice",
        |h| {
            h.query_by_label_contains(
                "Nothing imported: every connection in the file is already here",
            )
            .is_some()
        },
        WAIT,
    );

    // A teammate whose keychain does not: the connection says what is missing and asks.
    let (_rt2, _dirs2, mut h) = run_with(Vault::memory());
    h.state_mut()
        .push_command(keydeck::ui::Command::SelectTab(Tab::Connections));
    ui_common::settle(&mut h);
    click(&mut h, "Import…");
    step_until(
        &mut h,
        "the question",
        |h| h.query_by_label("Import 1 connection?").is_some(),
        WAIT,
    );
    click(&mut h, "Import 1 connection");
    step_until(
        &mut h,
        "the missing key is named",
        |h| h.query_by_label("Missing: REST API key").is_some(),
        WAIT,
    );
    click(&mut h, "Enter the secrets of Test app");
    step_until(
        &mut h,
        "the editor opens on the connection",
        |h| h.query_by_label("Edit connection Test app").is_some(),
        WAIT,
    );
}
