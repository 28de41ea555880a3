//! Shared set-up for the egui_kittest flows that cross tabs: a tokio runtime, an in-process
//! sandbox on 127.0.0.1:0, and a Keydeck app with tempdirs, the in-memory vault and a
//! connection to that sandbox's demo app. The stepping and clicking helpers are
//! `tests/support`'s, re-exported here.
#![allow(dead_code)]

use std::time::Duration;

use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use keydeck::config::{Config, Connection, ConnectionKind, Environment, FIELD_API_KEY};
use keydeck::providers::cometchat::{ApiKey, ApiKeyQuery, AppEndpoint, CometChatClient};
use keydeck::sandbox::{Sandbox, SandboxOptions};
use keydeck::secret::Secret;
use keydeck::ui::{AppEnv, Keychain, KeydeckApp, Tab};
use keydeck::vault::Vault;

// Each test binary uses some of them.
#[allow(unused_imports)]
pub use crate::support::{click, settle, step_until, type_into};

pub const CONNECTION_ID: &str = "ctest";

/// Which of the demo app's keys the test connection uses.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum KeyChoice {
    FullAccess,
    AuthOnly,
}

pub struct Fixture {
    pub harness: Harness<'static, KeydeckApp>,
    pub sandbox: Sandbox,
    pub vault: Vault,
    pub dirs: tempfile::TempDir,
    // Dropped last: the app's tasks run on it.
    pub rt: tokio::runtime::Runtime,
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

pub fn start_sandbox(rt: &tokio::runtime::Runtime) -> Sandbox {
    rt.block_on(Sandbox::start(SandboxOptions {
        port: 0,
        data: None,
        seed_demo_users: false,
    }))
    .expect("sandbox starts")
}

pub fn harness(app: KeydeckApp) -> Harness<'static, KeydeckApp> {
    harness_sized(app, egui::vec2(1280.0, 800.0))
}

/// The app in a window of `size` points. Missing glyphs are allowed: the test fonts lack
/// some symbols the real app's fallback fonts draw.
pub fn harness_sized(app: KeydeckApp, size: egui::Vec2) -> Harness<'static, KeydeckApp> {
    Harness::builder()
        .with_size(size)
        .allow_missing_glyphs()
        .build_ui_state(|ui, app: &mut KeydeckApp| app.ui_root(ui), app)
}

/// Whether the widget labelled `label` lies wholly inside a window of `size` (by its
/// AccessKit bounds), with a message naming both when it does not.
pub fn inside_window(
    h: &Harness<'static, KeydeckApp>,
    label: &str,
    size: egui::Vec2,
) -> Result<(), String> {
    let rect = h.get_by_label(label).rect();
    let window = egui::Rect::from_min_size(egui::Pos2::ZERO, size);
    if window.contains_rect(rect) {
        Ok(())
    } else {
        Err(format!(
            "“{label}” at {rect:?} is outside the {size:?} window"
        ))
    }
}

pub fn app(
    rt: &tokio::runtime::Runtime,
    dirs: &tempfile::TempDir,
    vault: Vault,
    embedded: bool,
) -> KeydeckApp {
    KeydeckApp::new(AppEnv {
        rt: rt.handle().clone(),
        config_dir: dirs.path().join("config"),
        data_dir: dirs.path().join("data"),
        keychain: Keychain::Given(vault),
        start_embedded_sandbox: embedded,
    })
}

/// A fixture whose one connection is the sandbox's demo app with the chosen key.
pub fn fixture(key: KeyChoice, environment: Environment) -> Fixture {
    fixture_sized(key, environment, egui::vec2(1280.0, 800.0))
}

/// [`fixture`] in a window of `size` points.
pub fn fixture_sized(key: KeyChoice, environment: Environment, size: egui::Vec2) -> Fixture {
    let rt = runtime();
    let sandbox = start_sandbox(&rt);
    let dirs = tempfile::tempdir().expect("tempdir");
    let info = sandbox.info();
    let demo = &info.cometchat.apps[0];
    let config = Config {
        connections: vec![Connection {
            id: CONNECTION_ID.to_owned(),
            label: "Test app".to_owned(),
            kind: ConnectionKind::CometChatApp {
                app_id: demo.app_id.clone(),
                region: demo.region.clone(),
            },
            environment,
            base_url: Some(demo.base_url.clone()),
            embedded_sandbox: false,
        }],
        retiring_keys: Vec::new(),
        selected_connection: Some(CONNECTION_ID.to_owned()),
    };
    config
        .save(&dirs.path().join("config"))
        .expect("config saved");
    let vault = Vault::memory();
    let value = match key {
        KeyChoice::FullAccess => demo.rest_api_key.clone(),
        KeyChoice::AuthOnly => demo.auth_key.clone(),
    };
    vault
        .store(
            &Vault::account(CONNECTION_ID, FIELD_API_KEY),
            &Secret::new(value),
        )
        .expect("vault");
    let harness = harness_sized(app(&rt, &dirs, vault.clone(), false), size);
    Fixture {
        harness,
        sandbox,
        vault,
        dirs,
        rt,
    }
}

impl Fixture {
    /// A fullAccess client of the demo app, to arrange and check the server's state.
    pub fn admin(&self) -> CometChatClient {
        let info = self.sandbox.info();
        let demo = &info.cometchat.apps[0];
        CometChatClient::new(
            &AppEndpoint {
                app_id: demo.app_id.clone(),
                region: demo.region.clone(),
                base_url: Some(demo.base_url.clone()),
            },
            Secret::new(demo.rest_api_key.clone()),
        )
        .expect("client")
    }

    pub fn server_keys(&self) -> Vec<ApiKey> {
        let admin = self.admin();
        self.rt
            .block_on(async move { admin.list_api_keys(&ApiKeyQuery::default()).await })
            .expect("list keys")
    }

    pub fn server_key(&self, name: &str) -> Option<ApiKey> {
        self.server_keys().into_iter().find(|k| k.name == name)
    }

    pub fn create_key(&self, name: &str, scope: keydeck::providers::cometchat::Scope) -> ApiKey {
        let admin = self.admin();
        let new = keydeck::providers::cometchat::NewApiKey {
            name: name.to_owned(),
            scope,
        };
        self.rt
            .block_on(async move { admin.create_api_key(&new).await })
            .expect("create key")
    }

    /// Waits until the keys tab shows the list (its first key's name is on screen).
    pub fn wait_for_keys(&mut self) {
        step_until(
            &mut self.harness,
            "the keys list is shown",
            |h| h.query_by_label("Rest API Key").is_some(),
            Duration::from_secs(10),
        );
    }

    /// Refreshes with F5 and waits until a key of this name is listed.
    pub fn wait_for_key(&mut self, name: &str) {
        self.wait_for_keys();
        self.harness.key_press(egui::Key::F5);
        settle(&mut self.harness);
        step_until(
            &mut self.harness,
            &format!("key {name} is listed"),
            |h| h.query_by_label(name).is_some(),
            Duration::from_secs(10),
        );
    }

    pub fn select_tab(&mut self, tab: Tab) {
        self.harness.get_by_label(tab.title()).click();
        self.harness.step();
        self.harness.step();
    }
}

/// The label of a key's row actions: "{name} ({masked})".
pub fn row(key: &ApiKey) -> String {
    format!("{} ({})", key.name, key.api_key.masked())
}

/// Activates a button by its label through the accessibility tree (as a screen reader or
/// keyboard user would). Used for the key-created dialog's "Done", where a synthetic pointer
/// click right after the dialog opened was not delivered in the harness.
pub fn press(h: &mut Harness<'static, KeydeckApp>, label: &str) {
    h.get_by_label(label).click_accesskit();
    settle(h);
}

/// The config file as written once the app's background writes (keychain, config) have landed.
#[track_caller]
pub fn saved_config(h: &mut Harness<'static, KeydeckApp>, config_dir: &std::path::Path) -> Config {
    step_until(
        h,
        "the background writes to land",
        |h| h.state().is_settled(),
        Duration::from_secs(10),
    );
    Config::load(config_dir).expect("config")
}

/// Turns presentation mode on or off the way a user would: the top bar's button, or (when the
/// bar is compact) the checkbox in Settings.
pub fn toggle_presentation(h: &mut Harness<'static, KeydeckApp>) {
    if h.query_by_label("Presentation mode").is_some() {
        click(h, "Presentation mode");
    } else {
        click(h, "Settings");
        click(h, "Presentation mode (mask every secret)");
        h.key_press(egui::Key::Escape);
        settle(h);
    }
}
