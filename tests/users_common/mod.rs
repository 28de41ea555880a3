//! Set-up for the Users & tokens UI flows: a sandbox over loopback and the whole app in a
//! kittest harness pointed at it. `step_until` is `tests/support`'s, re-exported here.
#![allow(dead_code)]

use std::time::Duration;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use futures::{StreamExt, stream};
use keydeck::config::{Config, Connection, ConnectionKind, Environment, FIELD_API_KEY};
use keydeck::providers::cometchat::{CometChatClient, NewUser};
use keydeck::sandbox::Sandbox;
use keydeck::secret::Secret;
use keydeck::ui::{AppEnv, Keychain, KeydeckApp, Tab, ThemeChoice, UiState};
use keydeck::vault::Vault;

pub use crate::support::step_until;

pub struct Env {
    pub rt: tokio::runtime::Runtime,
    pub sb: Sandbox,
    pub client: CometChatClient,
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let sb = rt.block_on(crate::common::sandbox());
        let client = crate::common::full_client(&sb);
        Env {
            rt,
            sb,
            client,
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// Creates users `(uid, name)` through the client, 16 at a time.
    pub fn create_users(&self, users: Vec<(String, String)>) {
        let client = self.client.clone();
        self.rt.block_on(async move {
            let results: Vec<_> = stream::iter(users)
                .map(|(uid, name)| {
                    let c = client.clone();
                    async move {
                        c.create_user(&NewUser {
                            uid,
                            name,
                            ..NewUser::default()
                        })
                        .await
                    }
                })
                .buffer_unordered(16)
                .collect()
                .await;
            for r in results {
                r.expect("user created");
            }
        });
    }

    /// How many auth tokens the sandbox holds for `uid`.
    pub fn token_count(&self, uid: &str) -> usize {
        self.rt
            .block_on(self.client.list_auth_tokens(uid, Some(100), None))
            .expect("tokens listed")
            .items
            .len()
    }

    /// Like [`Env::token_count`], but 0 when the user cannot be asked.
    pub fn token_count_quiet(&self, uid: &str) -> usize {
        self.rt
            .block_on(self.client.list_auth_tokens(uid, Some(100), None))
            .map_or(0, |p| p.items.len())
    }

    /// The app, on the Users & tokens tab, with one connection to the sandbox's demo app.
    pub fn harness(&self) -> Harness<'static, KeydeckApp> {
        self.harness_in(Environment::Dev)
    }

    /// [`Env::harness`], with the connection marked as `environment`.
    pub fn harness_in(&self, environment: Environment) -> Harness<'static, KeydeckApp> {
        let app_info = &self.sb.info().cometchat.apps[0];
        let config_dir = self.dir.path().join("config");
        let connection = Connection {
            id: "test-app".to_owned(),
            label: "Test app".to_owned(),
            kind: ConnectionKind::CometChatApp {
                app_id: app_info.app_id.clone(),
                region: app_info.region.clone(),
            },
            environment,
            base_url: Some(app_info.base_url.clone()),
            embedded_sandbox: false,
        };
        Config {
            connections: vec![connection],
            retiring_keys: Vec::new(),
            selected_connection: Some("test-app".to_owned()),
        }
        .save(&config_dir)
        .expect("config saved");
        let vault = Vault::memory();
        vault
            .store(
                &Vault::account("test-app", FIELD_API_KEY),
                &Secret::new(app_info.rest_api_key.clone()),
            )
            .expect("key stored");
        let mut app = KeydeckApp::new(AppEnv {
            rt: self.rt.handle().clone(),
            config_dir,
            data_dir: self.dir.path().join("data"),
            keychain: Keychain::Given(vault),
            start_embedded_sandbox: false,
        });
        app.restore_ui_state(UiState {
            tab: Tab::Users,
            theme: ThemeChoice::Light,
            ..UiState::default()
        });
        Harness::builder()
            .with_size(egui::vec2(1400.0, 900.0))
            .with_max_steps(100_000)
            .allow_missing_glyphs()
            .build_ui_state(|ui, app: &mut KeydeckApp| app.ui_root(ui), app)
    }
}

/// Steps until a widget labelled exactly `label` is on screen.
pub fn step_until_label(h: &mut Harness<'static, KeydeckApp>, label: &str) {
    step_until(
        h,
        &format!("“{label}”"),
        |h| h.query_by_label(label).is_some(),
        Duration::from_secs(60),
    );
}

/// Steps until a widget whose label contains `part` is on screen.
pub fn step_until_label_contains(h: &mut Harness<'static, KeydeckApp>, part: &str) {
    step_until(
        h,
        &format!("a label containing “{part}”"),
        |h| h.query_by_label_contains(part).is_some(),
        Duration::from_secs(60),
    );
}

/// The text the last frame put on the clipboard, if any.
pub fn copied_text(h: &Harness<'static, KeydeckApp>) -> Option<String> {
    h.output()
        .platform_output
        .commands
        .iter()
        .find_map(|c| match c {
            egui::OutputCommand::CopyText(t) => Some(t.clone()),
            _ => None,
        })
}

/// Steps until the app has loaded `n` users.
pub fn wait_for_users(h: &mut Harness<'static, KeydeckApp>, n: usize) {
    step_until(
        h,
        &format!("{n} users loaded"),
        |h| h.state().tabs.users.loaded_users() == n,
        Duration::from_secs(120),
    );
}

/// Clicks into the field labelled `label`, then types `text` into it.
pub fn type_into(h: &mut Harness<'static, KeydeckApp>, label: &str, text: &str) {
    h.get_by_label(label).click();
    h.step();
    h.get_by_label(label).type_text(text);
    // Errors under the fields appear a frame later and move what is below: let it settle
    // before the next click lands.
    h.step();
    h.step();
}

/// Clicks into the field labelled `label`, selects all and types `text` over it.
pub fn replace_in(h: &mut Harness<'static, KeydeckApp>, label: &str, text: &str) {
    h.get_by_label(label).click();
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.step();
    h.get_by_label(label).type_text(text);
    // Errors under the fields appear a frame later and move what is below: let it settle
    // before the next click lands.
    h.step();
    h.step();
}
