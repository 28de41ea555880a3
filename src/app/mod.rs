//! The desktop shell: window, top bar, banners, tabs, and the one place commands are handled.
//!
//! The app only routes: each tab owns its state and returns [`Command`]s; promises are settled
//! at the start of a frame; every network and keychain call runs on the tokio runtime owned by
//! `main`, so the UI thread never waits.

use std::collections::HashMap;
use std::path::PathBuf;

use egui::{RichText, Ui};
use poll_promise::Promise;
use serde::{Deserialize, Serialize};
use tokio::runtime::Handle;

use crate::audit::{AuditLog, Event};
use crate::config::{
    self, Config, Connection, ConnectionKind, Environment, FIELD_ACCESS_TOKEN, FIELD_API_KEY,
    FIELD_KEY, FIELD_SECRET,
};
use crate::providers::ApiError;
use crate::providers::ably::AblyControlClient;
use crate::providers::cometchat::{AppEndpoint, CometChatClient};
use crate::providers::cometly::CometlyClient;
use crate::providers::management::ManagementClient;
use crate::sandbox::{Sandbox, SandboxOptions, StartupInfo};
use crate::secret::Secret;
use crate::tabs::activity::ActivityView;
use crate::tabs::{apps::AppsTab, connections::ConnectionsTab, keys::KeysTab, users::UsersTab};
use crate::vault::{Backend, Vault, VaultError};
use crate::widgets;

pub mod clipboard;
pub mod commands;
pub mod errors;
pub mod probe;
pub mod remote;
pub mod retry_status;
pub mod shortcuts;
pub mod theme;
pub mod toasts;

pub use commands::Command;
use remote::{spawn, spawn_api, spawn_blocking};
use shortcuts::Shortcut;
use theme::Tone;
use toasts::{Toast, Toasts};

/// The window icon, also used by packaging.
pub const ICON_PNG: &[u8] = include_bytes!("../../assets/icon.png");

/// The eframe storage key of the remembered UI state.
const UI_STATE_KEY: &str = "keydeck-ui";

/// The tabs, in the order of the top bar. Also `keydeck --tab keys|users|apps|connections`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum,
)]
pub enum Tab {
    #[default]
    Keys,
    Users,
    Apps,
    Connections,
}

impl Tab {
    pub const ALL: [Tab; 4] = [Tab::Keys, Tab::Users, Tab::Apps, Tab::Connections];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Keys => "API keys",
            Tab::Users => "Users & tokens",
            Tab::Apps => "Apps",
            Tab::Connections => "Connections",
        }
    }
}

/// Light, dark, or whatever the system uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThemeChoice {
    #[default]
    System,
    Light,
    Dark,
}

impl ThemeChoice {
    fn preference(self) -> egui::ThemePreference {
        match self {
            ThemeChoice::System => egui::ThemePreference::System,
            ThemeChoice::Light => egui::ThemePreference::Light,
            ThemeChoice::Dark => egui::ThemePreference::Dark,
        }
    }
}

/// What is remembered between runs besides the window size: nothing secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UiState {
    pub tab: Tab,
    pub theme: ThemeChoice,
    /// Every secret masked and reveal disabled (screen sharing, demos).
    pub presentation_mode: bool,
    /// Seconds after which a copied secret is cleared from the clipboard.
    pub clear_clipboard_secs: u64,
}

impl Default for UiState {
    fn default() -> Self {
        Self {
            tab: Tab::default(),
            theme: ThemeChoice::default(),
            presentation_mode: false,
            clear_clipboard_secs: clipboard::DEFAULT_CLEAR_SECS,
        }
    }
}

/// Everything the app needs from outside; tests point the directories at a tempdir and use
/// the in-memory vault.
pub struct AppEnv {
    pub rt: Handle,
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
    pub vault: Vault,
    /// Start the sandbox in-process when there are no connections, or embedded ones.
    pub start_embedded_sandbox: bool,
}

/// A ready client for the active connection.
#[derive(Clone, Debug)]
pub enum ActiveClient {
    CometChat(CometChatClient),
    Management(ManagementClient),
    Ably(AblyAccess),
    Cometly(CometlyClient),
}

/// An Ably account connection: the Control API client plus where the REST API is (token
/// revocation talks to it with a key of the app, not with the access token).
#[derive(Clone, Debug)]
pub struct AblyAccess {
    pub control: AblyControlClient,
    pub account_id: Option<String>,
    pub app_id: Option<String>,
    /// `None`: Ably's own REST host.
    pub rest_url: Option<String>,
}

impl ActiveClient {
    pub fn cometchat(&self) -> Option<&CometChatClient> {
        match self {
            ActiveClient::CometChat(c) => Some(c),
            _ => None,
        }
    }

    pub fn management(&self) -> Option<&ManagementClient> {
        match self {
            ActiveClient::Management(c) => Some(c),
            _ => None,
        }
    }

    pub fn ably(&self) -> Option<&AblyAccess> {
        match self {
            ActiveClient::Ably(c) => Some(c),
            _ => None,
        }
    }
}

/// Why there is no client for the active connection yet.
#[derive(Clone, Debug)]
pub enum ClientProblem {
    NoConnection,
    LoadingSecrets,
    StartingSandbox,
    SandboxFailed(String),
    MissingSecret(&'static str),
    Invalid(ApiError),
}

impl ClientProblem {
    /// Still on its way: show a spinner, not an error.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ClientProblem::LoadingSecrets | ClientProblem::StartingSandbox
        )
    }

    pub fn message(&self) -> String {
        match self {
            ClientProblem::NoConnection => {
                "No connection yet. Add one in the Connections tab.".to_owned()
            }
            ClientProblem::LoadingSecrets => "Opening the keychain…".to_owned(),
            ClientProblem::StartingSandbox => "Starting the local sandbox…".to_owned(),
            ClientProblem::SandboxFailed(e) => format!("The local sandbox did not start: {e}"),
            ClientProblem::MissingSecret(field) => {
                format!("No {field} is stored for this connection.")
            }
            ClientProblem::Invalid(e) => e.to_string(),
        }
    }
}

/// What a tab gets to draw with: the runtime, the active connection and its client, toasts,
/// the vault, the config and this frame's shortcuts.
pub struct TabContext<'a> {
    pub rt: &'a Handle,
    pub egui_ctx: egui::Context,
    pub config: &'a Config,
    pub connection: Option<&'a Connection>,
    pub client: &'a Result<ActiveClient, ClientProblem>,
    /// Changes whenever the active connection or its secrets change: tabs drop their data then.
    pub generation: u64,
    pub toasts: &'a mut Toasts,
    pub vault: &'a Vault,
    /// Which secret fields are stored, by account (`"{id}/{field}"`).
    pub stored: &'a HashMap<String, Secret>,
    pub sandbox: Option<&'a StartupInfo>,
    pub shortcuts: &'a [Shortcut],
    pub now_unix: i64,
}

impl TabContext<'_> {
    pub fn cometchat(&self) -> Option<&CometChatClient> {
        self.client.as_ref().ok().and_then(ActiveClient::cometchat)
    }

    pub fn management(&self) -> Option<&ManagementClient> {
        self.client.as_ref().ok().and_then(ActiveClient::management)
    }

    pub fn ably(&self) -> Option<&AblyAccess> {
        self.client.as_ref().ok().and_then(ActiveClient::ably)
    }

    /// Whether this secret field of this connection has a stored value.
    pub fn has_secret(&self, connection_id: &str, field: &str) -> bool {
        self.stored
            .contains_key(&Vault::account(connection_id, field))
    }
}

// One value for the whole app: the size difference costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
enum SandboxState {
    Off,
    Starting(Promise<Result<Sandbox, String>>),
    Running { sandbox: Sandbox, info: StartupInfo },
    Failed(String),
}

type SecretLoad = Vec<(String, Result<Option<Secret>, VaultError>)>;

pub struct KeydeckApp {
    rt: Handle,
    /// "Retrying (2 of 3)…" and its Cancel, shared with every client.
    retry: retry_status::RetryStatus,
    config_dir: PathBuf,
    data_dir: PathBuf,
    vault: Vault,
    config: Config,
    config_problem: Option<String>,
    /// The session's copy of the stored secrets, by account. Writes go here first, then to
    /// the vault off the UI thread.
    secrets: HashMap<String, Secret>,
    secrets_loading: Option<Promise<SecretLoad>>,
    start_embedded_sandbox: bool,
    sandbox: SandboxState,
    add_sandbox_connections_when_ready: bool,
    sandbox_banner_dismissed: bool,
    started: bool,
    generation: u64,
    client: Result<ActiveClient, ClientProblem>,
    ui_state: UiState,
    pub keys: KeysTab,
    pub users: UsersTab,
    pub apps: AppsTab,
    pub connections: ConnectionsTab,
    toasts: Toasts,
    /// Keychain writes and other background chores; a failure becomes a toast.
    chores: Vec<Promise<Option<Toast>>>,
    commands: Vec<Command>,
    icon: Option<egui::TextureHandle>,
    /// The clipboard worker; without one, copies go through egui (no clearing).
    clipboard: Option<clipboard::Clipboard>,
    clipboard_errors: Option<std::sync::mpsc::Receiver<String>>,
    /// The audit trail, or why it could not be opened.
    audit: Result<AuditLog, String>,
    audit_problem_shown: bool,
    log_dir: PathBuf,
    pub activity: ActivityView,
    /// Off unless `KEYDECK_FIRST_FRAME_PROBE=1` (see [`probe`]).
    probe: probe::FirstFrameProbe,
}

impl KeydeckApp {
    pub fn new(env: AppEnv) -> Self {
        let audit = AuditLog::open(&env.data_dir.join("audit.jsonl"), &env.vault).map_err(|e| {
            tracing::warn!("{e}");
            e.to_string()
        });
        let log_dir = env.data_dir.join("logs");
        let (config, config_problem) = match Config::load(&env.config_dir) {
            Ok(c) => (c, None),
            Err(e) => {
                tracing::warn!("{e}");
                (Config::default(), Some(e.to_string()))
            }
        };
        Self {
            rt: env.rt,
            retry: retry_status::RetryStatus::default(),
            config_dir: env.config_dir,
            data_dir: env.data_dir,
            vault: env.vault,
            config,
            config_problem,
            secrets: HashMap::new(),
            secrets_loading: None,
            start_embedded_sandbox: env.start_embedded_sandbox,
            sandbox: SandboxState::Off,
            add_sandbox_connections_when_ready: false,
            sandbox_banner_dismissed: false,
            started: false,
            generation: 0,
            client: Err(ClientProblem::LoadingSecrets),
            ui_state: UiState::default(),
            keys: KeysTab::default(),
            users: UsersTab::default(),
            apps: AppsTab::default(),
            connections: ConnectionsTab::default(),
            toasts: Toasts::default(),
            chores: Vec::new(),
            commands: Vec::new(),
            icon: None,
            clipboard: None,
            clipboard_errors: None,
            audit,
            audit_problem_shown: false,
            log_dir,
            activity: ActivityView::default(),
            probe: probe::FirstFrameProbe::default(),
        }
    }

    /// Routes copies through this clipboard: secrets are kept out of history and cleared
    /// after the configured delay.
    pub fn set_clipboard(&mut self, backend: impl clipboard::ClipboardBackend) {
        let (tx, rx) = std::sync::mpsc::channel();
        match clipboard::Clipboard::start(backend, move |e| {
            let _ = tx.send(e);
        }) {
            Ok(c) => {
                self.clipboard = Some(c);
                self.clipboard_errors = Some(rx);
            }
            Err(e) => tracing::warn!("no clipboard worker: {e}"),
        }
    }

    /// The clipboard worker, when there is one.
    pub fn clipboard(&self) -> Option<&clipboard::Clipboard> {
        self.clipboard.as_ref()
    }

    /// Where the audit trail is written, when it could be opened.
    pub fn audit_path(&self) -> Option<&std::path::Path> {
        self.audit.as_ref().ok().map(AuditLog::path)
    }

    /// The folder whose newest log file "Copy diagnostics" includes.
    pub fn set_log_dir(&mut self, dir: PathBuf) {
        self.log_dir = dir;
    }

    /// Appends to the audit trail; the first failure becomes a toast.
    fn record(&mut self, action: &str, target: &str, outcome: Result<(), String>) {
        let connection = self
            .active_connection()
            .map(|c| c.label.clone())
            .unwrap_or_default();
        let event = match &outcome {
            Ok(()) => Event::ok(&connection, action, target),
            Err(e) => Event::failed(&connection, action, target, e),
        };
        let result = match &mut self.audit {
            Ok(log) => log.append(&event).map(|_| ()).map_err(|e| e.to_string()),
            Err(e) => Err(e.clone()),
        };
        match result {
            Ok(()) => self.activity.mark_stale(),
            Err(e) => {
                if !self.audit_problem_shown {
                    self.audit_problem_shown = true;
                    self.toasts.push(Toast::error(format!(
                        "The audit trail cannot be written: {e}"
                    )));
                }
            }
        }
    }

    /// Applies what was remembered from the last run.
    pub fn restore_ui_state(&mut self, state: UiState) {
        self.ui_state = state;
    }

    pub fn ui_state(&self) -> UiState {
        self.ui_state
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn selected_tab(&self) -> Tab {
        self.ui_state.tab
    }

    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    /// The sandbox started by the app itself, when there is one.
    pub fn embedded_sandbox(&self) -> Option<&Sandbox> {
        match &self.sandbox {
            SandboxState::Running { sandbox, .. } => Some(sandbox),
            _ => None,
        }
    }

    /// True once the secrets are loaded and the embedded sandbox (if any) is running.
    pub fn is_settled(&self) -> bool {
        self.secrets_loading.is_none() && !matches!(self.sandbox, SandboxState::Starting(_))
    }

    pub fn toasts(&self) -> impl Iterator<Item = &Toast> {
        self.toasts.iter()
    }

    pub fn active_connection(&self) -> Option<&Connection> {
        let id = self.config.selected_connection.as_deref()?;
        self.config.connection(id)
    }

    /// Queues a command as if a view had returned it.
    pub fn push_command(&mut self, command: Command) {
        self.commands.push(command);
    }

    // ----- frame ---------------------------------------------------------------------------

    /// Settles promises and runs queued commands: the start of every frame.
    pub fn logic(&mut self, ctx: &egui::Context) {
        if !self.started {
            self.started = true;
            self.start(ctx);
        }
        self.settle(ctx);
        for command in std::mem::take(&mut self.commands) {
            self.handle_command(ctx, command);
        }
        self.client = self.resolve_client();
    }

    /// Draws everything. Runs [`Self::logic`] first, so a test harness needs only this.
    pub fn ui_root(&mut self, ui: &mut Ui) {
        let ctx = ui.ctx().clone();
        self.logic(&ctx);
        ctx.set_theme(self.ui_state.theme.preference());
        widgets::set_presentation_mode(&ctx, self.ui_state.presentation_mode);

        let dialog_open = self.keys.has_dialog() || self.connections.has_dialog();
        let shortcuts = shortcuts::read(&ctx, dialog_open);
        let mut commands = Vec::new();

        egui::Panel::top("keydeck-top")
            .frame(
                egui::Frame::side_top_panel(ui.style())
                    .inner_margin(egui::Margin::symmetric(14, 8)),
            )
            .show(ui, |ui| self.top_bar_ui(ui, &mut commands));

        self.banners_ui(ui);

        egui::Panel::bottom("keydeck-status")
            .frame(
                egui::Frame::side_top_panel(ui.style())
                    .inner_margin(egui::Margin::symmetric(14, 4)),
            )
            .show(ui, |ui| self.status_bar_ui(ui));

        egui::CentralPanel::default()
            .frame(egui::Frame::central_panel(ui.style()).inner_margin(egui::Margin::same(16)))
            .show(ui, |ui| {
                let active_id = self.config.selected_connection.clone();
                let connection = active_id
                    .as_deref()
                    .and_then(|id| self.config.connection(id));
                let sandbox_info = match &self.sandbox {
                    SandboxState::Running { info, .. } => Some(info),
                    _ => None,
                };
                let mut cx = TabContext {
                    rt: &self.rt,
                    egui_ctx: ctx.clone(),
                    config: &self.config,
                    connection,
                    client: &self.client,
                    generation: self.generation,
                    toasts: &mut self.toasts,
                    vault: &self.vault,
                    stored: &self.secrets,
                    sandbox: sandbox_info,
                    shortcuts: &shortcuts,
                    now_unix: widgets::now_unix(),
                };
                let out = match self.ui_state.tab {
                    Tab::Keys => self.keys.ui(ui, &mut cx),
                    Tab::Users => self.users.ui(ui, &mut cx),
                    Tab::Apps => self.apps.ui(ui, &mut cx),
                    Tab::Connections => self.connections.ui(ui, &mut cx),
                };
                commands.extend(out);
            });

        let audit_path = self.audit_path().map(std::path::Path::to_owned);
        let vault = self.vault.clone();
        commands.extend(
            self.activity
                .ui(&ctx, &self.rt, audit_path.as_deref(), &vault),
        );

        self.toasts.ui(&ctx);
        self.commands.extend(commands);
        if !self.commands.is_empty() {
            ctx.request_repaint();
        }
    }

    fn top_bar_ui(&mut self, ui: &mut Ui, commands: &mut Vec<Command>) {
        let dark = ui.visuals().dark_mode;
        ui.horizontal(|ui| {
            if let Some(icon) = &self.icon {
                ui.add(
                    egui::Image::new(icon)
                        .fit_to_exact_size(egui::vec2(22.0, 22.0))
                        .alt_text("Keydeck"),
                );
            }
            ui.label(RichText::new("Keydeck").strong().size(16.0));
            ui.add_space(theme::SPACE_L);
            for tab in Tab::ALL {
                let selected = self.ui_state.tab == tab;
                let text = if selected {
                    RichText::new(tab.title())
                        .strong()
                        .color(theme::accent(dark))
                } else {
                    RichText::new(tab.title())
                };
                if ui.selectable_label(selected, text).clicked() {
                    commands.push(Command::SelectTab(tab));
                }
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                self.theme_toggle_ui(ui, commands);
                let presenting = self.ui_state.presentation_mode;
                let r = ui
                    .selectable_label(presenting, "Presentation mode")
                    .on_hover_text("Mask every secret and disable reveal (for screen sharing)");
                if r.clicked() {
                    commands.push(Command::SetPresentationMode(!presenting));
                }
                if ui.button("Activity…").clicked() {
                    self.activity.open = true;
                    self.activity.mark_stale();
                }
                self.settings_menu_ui(ui, commands);
                ui.add_space(theme::SPACE_S);
                self.connection_switcher_ui(ui, commands);
            });
        });
    }

    fn settings_menu_ui(&mut self, ui: &mut Ui, commands: &mut Vec<Command>) {
        ui.menu_button("Settings", |ui| {
            let mut presenting = self.ui_state.presentation_mode;
            if ui
                .checkbox(&mut presenting, "Presentation mode (mask every secret)")
                .changed()
            {
                commands.push(Command::SetPresentationMode(presenting));
            }
            ui.horizontal(|ui| {
                ui.label("Clear copied secrets after");
                let r = ui.add(
                    egui::DragValue::new(&mut self.ui_state.clear_clipboard_secs)
                        .range(5..=600)
                        .suffix(" s"),
                );
                widgets::name_widget(ui, &r, "Clear copied secrets after (seconds)");
            });
            if self.clipboard.is_none() {
                widgets::muted(
                    ui,
                    "The system clipboard is not available: copies are not cleared",
                );
            }
            ui.separator();
            if ui.button("Copy diagnostics").clicked() {
                commands.push(Command::CopyDiagnostics);
                ui.close();
            }
        });
    }

    fn theme_toggle_ui(&mut self, ui: &mut Ui, commands: &mut Vec<Command>) {
        let dark = ui.visuals().dark_mode;
        let (text, name) = if dark {
            ("Light", "Switch to the light theme")
        } else {
            ("Dark", "Switch to the dark theme")
        };
        let r = ui.button(text);
        let label = name.to_owned();
        ui.ctx()
            .accesskit_node_builder(r.id, |n| n.set_label(label));
        let r = r.on_hover_text(format!("{name} (right-click to follow the system)"));
        if r.clicked() {
            commands.push(Command::ToggleTheme);
        }
        r.context_menu(|ui| {
            if ui
                .selectable_label(
                    self.ui_state.theme == ThemeChoice::System,
                    "Follow the system theme",
                )
                .clicked()
            {
                self.ui_state.theme = ThemeChoice::System;
                ui.close();
            }
        });
    }

    fn connection_switcher_ui(&mut self, ui: &mut Ui, commands: &mut Vec<Command>) {
        let active = self.active_connection().cloned();
        if let Some(c) = &active {
            widgets::environment_badge(ui, c.environment);
        }
        let selected_text = match &active {
            Some(c) => format!("{}  ·  {}", c.label, c.kind.provider()),
            None => "No connection".to_owned(),
        };
        let combo = egui::ComboBox::from_id_salt("keydeck-connection")
            .selected_text(selected_text)
            .width(280.0)
            .show_ui(ui, |ui| {
                if self.config.connections.is_empty() {
                    widgets::muted(ui, "No connections yet");
                }
                for c in &self.config.connections {
                    let selected = active.as_ref().is_some_and(|a| a.id == c.id);
                    ui.horizontal(|ui| {
                        let r = ui.selectable_label(
                            selected,
                            format!("{}  ·  {}", c.label, c.kind.provider()),
                        );
                        widgets::environment_badge(ui, c.environment);
                        if r.clicked() {
                            commands.push(Command::SelectConnection(c.id.clone()));
                        }
                    });
                }
                ui.separator();
                if ui.button("Manage connections…").clicked() {
                    commands.push(Command::SelectTab(Tab::Connections));
                }
            })
            .response;
        ui.ctx()
            .accesskit_node_builder(combo.id, |n| n.set_label("Connection"));
    }

    fn banners_ui(&mut self, ui: &mut Ui) {
        let show_sandbox = !self.sandbox_banner_dismissed
            && self.active_connection().is_some_and(|c| c.embedded_sandbox);
        let keychain_reason = self.vault.fallback_reason().map(str::to_owned);
        let config_problem = self.config_problem.clone();
        if !show_sandbox && keychain_reason.is_none() && config_problem.is_none() {
            return;
        }
        egui::Panel::top("keydeck-banners")
            .frame(egui::Frame::new().inner_margin(egui::Margin {
                left: 16,
                right: 16,
                top: 10,
                bottom: 0,
            }))
            .show_separator_line(false)
            .show(ui, |ui| {
                if let Some(reason) = keychain_reason {
                    widgets::message(
                        ui,
                        Tone::Warning,
                        "No OS keychain: secrets are kept in memory for this session only",
                        &format!("Keydeck never writes secrets to a file, so you will be asked for them again after a restart. The keychain said: {reason}"),
                        &[],
                    );
                    ui.add_space(theme::SPACE_XS);
                }
                if let Some(problem) = config_problem {
                    widgets::message(
                        ui,
                        Tone::Error,
                        "The connections file could not be read",
                        &format!("Keydeck started without connections and will not overwrite it until you change a connection. {problem}"),
                        &[],
                    );
                    ui.add_space(theme::SPACE_XS);
                }
                if show_sandbox {
                    let provider = self
                        .active_connection()
                        .map(|c| match c.kind {
                            ConnectionKind::AblyAccount { .. } => "Ably",
                            ConnectionKind::Cometly => "Cometly",
                            _ => "CometChat",
                        })
                        .unwrap_or("CometChat");
                    let body = format!(
                        "This connection talks to the {provider} emulator built into Keydeck, running on this machine. Everything here is demo data; nothing reaches {provider}."
                    );
                    let clicked = widgets::message(
                        ui,
                        Tone::Info,
                        "Local sandbox, not a live service",
                        &body,
                        &["Dismiss"],
                    );
                    if clicked.is_some() {
                        self.sandbox_banner_dismissed = true;
                    }
                    ui.add_space(theme::SPACE_XS);
                }
            });
    }

    fn status_bar_ui(&self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            ui.spacing_mut().item_spacing.x = theme::SPACE_M;
            let secrets = match self.vault.backend() {
                Backend::Os => "Secrets: OS keychain",
                Backend::Memory => "Secrets: memory only (this session)",
            };
            widgets::muted(ui, secrets);
            match &self.sandbox {
                SandboxState::Running { sandbox, .. } => {
                    widgets::muted(ui, format!("Local sandbox at {}", sandbox.base_url()));
                }
                SandboxState::Starting(_) => {
                    widgets::muted(ui, "Starting the local sandbox…");
                }
                SandboxState::Failed(e) => {
                    widgets::muted(ui, format!("Local sandbox failed: {e}"));
                }
                SandboxState::Off => {}
            }
            if let Err(p) = &self.client
                && p.is_transient()
            {
                ui.spinner();
            }
            self.retry.ui(ui);
        });
    }

    // ----- start-up and settling -----------------------------------------------------------

    fn start(&mut self, ctx: &egui::Context) {
        theme::install(ctx);
        self.retry.set_context(ctx);
        self.icon = eframe::icon_data::from_png_bytes(ICON_PNG)
            .ok()
            .map(|icon| {
                let image = egui::ColorImage::from_rgba_unmultiplied(
                    [icon.width as usize, icon.height as usize],
                    &icon.rgba,
                );
                ctx.load_texture("keydeck-icon", image, egui::TextureOptions::LINEAR)
            });
        let first_run = self.config.connections.is_empty() && self.config_problem.is_none();
        let has_embedded = self.config.connections.iter().any(|c| c.embedded_sandbox);
        if self.start_embedded_sandbox && (first_run || has_embedded) {
            self.start_sandbox(ctx);
            self.add_sandbox_connections_when_ready = first_run;
        }
        self.load_secrets(ctx);
    }

    fn start_sandbox(&mut self, ctx: &egui::Context) {
        if !matches!(self.sandbox, SandboxState::Off | SandboxState::Failed(_)) {
            return;
        }
        let data = self.data_dir.join("sandbox.sqlite3");
        let data_dir = self.data_dir.clone();
        self.sandbox = SandboxState::Starting(spawn(
            &self.rt,
            ctx,
            async move {
                crate::paths::create_private_dir(&data_dir)
                    .map_err(|e| format!("could not create {}: {e}", data_dir.display()))?;
                Sandbox::start(SandboxOptions {
                    port: 0,
                    data: Some(data),
                    seed_demo_users: true,
                })
                .await
                .map_err(|e| format!("{e:#}"))
            },
            || Err("the sandbox task panicked".to_owned()),
        ));
    }

    fn load_secrets(&mut self, ctx: &egui::Context) {
        let accounts: Vec<String> = self
            .config
            .connections
            .iter()
            .flat_map(|c| {
                c.kind
                    .secret_fields()
                    .iter()
                    .map(|(field, _)| Vault::account(&c.id, field))
                    .collect::<Vec<_>>()
            })
            .collect();
        let vault = self.vault.clone();
        self.secrets_loading = Some(spawn_blocking(
            &self.rt,
            ctx,
            move || {
                accounts
                    .into_iter()
                    .map(|a| {
                        let r = vault.get(&a);
                        (a, r)
                    })
                    .collect()
            },
            Vec::new,
        ));
    }

    fn settle(&mut self, ctx: &egui::Context) {
        if let Some(p) = self.secrets_loading.take() {
            match p.try_take() {
                Ok(loaded) => {
                    let mut failures = 0;
                    for (account, result) in loaded {
                        match result {
                            Ok(Some(secret)) => {
                                self.secrets.entry(account).or_insert(secret);
                            }
                            Ok(None) => {}
                            Err(e) => {
                                failures += 1;
                                tracing::warn!("keychain read of {account} failed: {e}");
                            }
                        }
                    }
                    if failures > 0 {
                        self.toasts.push(Toast::error(format!(
                            "{failures} secret(s) could not be read from the keychain"
                        )));
                    }
                    self.generation += 1;
                }
                Err(p) => self.secrets_loading = Some(p),
            }
        }

        // Only a starting sandbox is taken out: replacing a running one would drop (stop) it.
        if matches!(self.sandbox, SandboxState::Starting(_))
            && let SandboxState::Starting(p) =
                std::mem::replace(&mut self.sandbox, SandboxState::Off)
        {
            self.sandbox = match p.try_take() {
                Ok(Ok(sandbox)) => {
                    let info = sandbox.info();
                    tracing::info!("local sandbox at {}", sandbox.base_url());
                    self.generation += 1;
                    SandboxState::Running { sandbox, info }
                }
                Ok(Err(e)) => {
                    self.toasts.push(Toast::error(format!(
                        "The local sandbox did not start: {e}"
                    )));
                    self.add_sandbox_connections_when_ready = false;
                    SandboxState::Failed(e)
                }
                Err(p) => SandboxState::Starting(p),
            };
        }
        if self.add_sandbox_connections_when_ready
            && matches!(self.sandbox, SandboxState::Running { .. })
            && self.secrets_loading.is_none()
        {
            self.add_sandbox_connections_when_ready = false;
            self.add_sandbox_connections(ctx);
        }

        self.chores.retain_mut(|p| match p.ready_mut() {
            Some(toast) => {
                if let Some(t) = toast.take() {
                    self.toasts.push(t);
                }
                false
            }
            None => true,
        });

        if let Some(rx) = &self.clipboard_errors {
            for e in rx.try_iter() {
                self.toasts
                    .push(Toast::error(format!("The clipboard failed: {e}")));
            }
        }
        if let Some(t) = self.activity.settle() {
            self.toasts.push(t);
        }

        let out = self.keys.settle(self.generation);
        self.commands.extend(out);
        let out = self.connections.settle();
        self.commands.extend(out);
    }

    /// Resolves the active connection into a client: secrets from the session copy (or, for
    /// the embedded sandbox, from the sandbox itself), base URL from the override or the
    /// running sandbox.
    fn resolve_client(&self) -> Result<ActiveClient, ClientProblem> {
        let Some(conn) = self.active_connection() else {
            return Err(ClientProblem::NoConnection);
        };
        self.client_for(conn, &[])
    }

    fn client_for(
        &self,
        conn: &Connection,
        overrides: &[commands::SecretInput],
    ) -> Result<ActiveClient, ClientProblem> {
        if self.secrets_loading.is_some() {
            return Err(ClientProblem::LoadingSecrets);
        }
        let info = if conn.embedded_sandbox {
            match &self.sandbox {
                SandboxState::Running { info, .. } => Some(info),
                SandboxState::Failed(e) => return Err(ClientProblem::SandboxFailed(e.clone())),
                SandboxState::Off | SandboxState::Starting(_) => {
                    return Err(ClientProblem::StartingSandbox);
                }
            }
        } else {
            None
        };
        let secret = |field: &'static str, label: &'static str| -> Result<Secret, ClientProblem> {
            if let Some((_, s)) = overrides.iter().find(|(f, s)| *f == field && !s.is_empty()) {
                return Ok(s.clone());
            }
            if let Some(s) = self.secrets.get(&Vault::account(&conn.id, field)) {
                return Ok(s.clone());
            }
            if let Some(info) = info {
                let from_sandbox = match (&conn.kind, field) {
                    (ConnectionKind::CometChatApp { app_id, .. }, FIELD_API_KEY) => info
                        .cometchat
                        .apps
                        .iter()
                        .find(|a| &a.app_id == app_id)
                        .map(|a| a.rest_api_key.clone()),
                    (ConnectionKind::Management, FIELD_KEY) => {
                        Some(info.cometchat.management.key.clone())
                    }
                    (ConnectionKind::Management, FIELD_SECRET) => {
                        Some(info.cometchat.management.secret.clone())
                    }
                    (ConnectionKind::AblyAccount { .. }, FIELD_ACCESS_TOKEN) => {
                        Some(info.ably.access_token.clone())
                    }
                    (ConnectionKind::Cometly, FIELD_API_KEY) => info
                        .cometly
                        .keys
                        .iter()
                        .find(|k| k.active)
                        .map(|k| k.key.clone()),
                    _ => None,
                };
                if let Some(s) = from_sandbox {
                    return Ok(Secret::new(s));
                }
            }
            Err(ClientProblem::MissingSecret(label))
        };
        let running = match &self.sandbox {
            SandboxState::Running { info, .. } => Some(info),
            _ => None,
        };
        let credentials: Vec<Secret> = (conn.kind.secret_fields().iter())
            .filter_map(|(field, label)| secret(field, label).ok())
            .collect();
        config::check_credential_destination(conn, &credentials, running)
            .map_err(|e| ClientProblem::Invalid(ApiError::invalid_config(e)))?;
        match &conn.kind {
            ConnectionKind::CometChatApp { app_id, region } => {
                let base_url = match info {
                    Some(info) => info
                        .cometchat
                        .apps
                        .iter()
                        .find(|a| &a.app_id == app_id)
                        .map(|a| a.base_url.clone())
                        // An app created (Apps tab) after the sandbox started: same host.
                        .or_else(|| {
                            crate::tabs::apps::chat_base_url(
                                Some(&info.cometchat.management.base_url),
                                app_id,
                            )
                        })
                        .ok_or_else(|| {
                            ClientProblem::Invalid(ApiError::invalid_config(format!(
                                "The local sandbox has no app {app_id}"
                            )))
                        })
                        .map(Some)?,
                    None => conn.base_url_override().map(str::to_owned),
                };
                let endpoint = AppEndpoint {
                    app_id: app_id.clone(),
                    region: region.clone(),
                    base_url,
                };
                let key = secret(FIELD_API_KEY, "REST API key")?;
                CometChatClient::new(&endpoint, key)
                    .map(|c| c.with_retry(self.retry.policy()))
                    .map(ActiveClient::CometChat)
                    .map_err(ClientProblem::Invalid)
            }
            ConnectionKind::Management => {
                let base_url = match info {
                    Some(info) => Some(info.cometchat.management.base_url.clone()),
                    None => conn.base_url_override().map(str::to_owned),
                };
                let key = secret(FIELD_KEY, "management key")?;
                let sec = secret(FIELD_SECRET, "management secret")?;
                ManagementClient::new(base_url.as_deref(), key, sec)
                    .map(|c| c.with_retry(self.retry.policy()))
                    .map(ActiveClient::Management)
                    .map_err(ClientProblem::Invalid)
            }
            ConnectionKind::AblyAccount { account_id, app_id } => {
                let (control_url, rest_url) = match info {
                    Some(info) => (
                        Some(info.ably.control_url.clone()),
                        Some(info.ably.rest_url.clone()),
                    ),
                    None => {
                        let control = conn.base_url_override().map(str::to_owned);
                        // A sandbox started by hand serves both APIs on one host.
                        let rest = control.as_deref().and_then(|u| {
                            u.trim_end_matches('/')
                                .strip_suffix("/ably/control/v1")
                                .map(|base| format!("{base}/ably/rest"))
                        });
                        (control, rest)
                    }
                };
                let token = secret(FIELD_ACCESS_TOKEN, "access token")?;
                AblyControlClient::new(control_url.as_deref(), &token)
                    .map(|control| {
                        ActiveClient::Ably(AblyAccess {
                            control,
                            account_id: account_id.clone(),
                            app_id: app_id.clone(),
                            rest_url,
                        })
                    })
                    .map_err(ClientProblem::Invalid)
            }
            ConnectionKind::Cometly => {
                let base_url = match info {
                    Some(info) => Some(info.cometly.base_url.clone()),
                    None => conn.base_url_override().map(str::to_owned),
                };
                let key = secret(FIELD_API_KEY, "API key")?;
                CometlyClient::new(base_url.as_deref(), &key)
                    .map(ActiveClient::Cometly)
                    .map_err(ClientProblem::Invalid)
            }
        }
    }

    // ----- commands --------------------------------------------------------------------------

    /// The one place where commands are performed.
    pub fn handle_command(&mut self, ctx: &egui::Context, command: Command) {
        match command {
            Command::SelectTab(tab) => self.ui_state.tab = tab,
            Command::SelectConnection(id) => {
                if self.config.connection(&id).is_some() {
                    self.config.selected_connection = Some(id);
                    self.generation += 1;
                    self.save_config();
                }
            }
            Command::EditConnection(id) => {
                self.ui_state.tab = Tab::Connections;
                if let Some(c) = self.config.connection(&id).cloned() {
                    self.connections.open_editor(&c);
                }
            }
            Command::ToggleTheme => {
                self.ui_state.theme = if ctx.global_style().visuals.dark_mode {
                    ThemeChoice::Light
                } else {
                    ThemeChoice::Dark
                };
            }
            Command::Copy { value, what } => {
                let secs = self.ui_state.clear_clipboard_secs.max(1);
                match &self.clipboard {
                    Some(c) => {
                        c.copy_secret(value.expose(), std::time::Duration::from_secs(secs));
                        self.toasts.push(Toast::success(format!(
                            "Copied {what} — clears in {secs} s"
                        )));
                    }
                    None => {
                        ctx.copy_text(value.expose().to_owned());
                        self.toasts.push(Toast::success(format!("Copied {what}")));
                    }
                }
                self.record(
                    "secret.copied",
                    &format!("{what} ({})", value.masked()),
                    Ok(()),
                );
            }
            Command::Toast(t) => self.toasts.push(t),
            Command::SetPresentationMode(on) => self.ui_state.presentation_mode = on,
            Command::CopyDiagnostics => {
                let text = crate::logging::diagnostics(&self.log_dir);
                match &self.clipboard {
                    Some(c) => c.copy_text(&text),
                    None => ctx.copy_text(text),
                }
                self.toasts
                    .push(Toast::success("Copied diagnostics (secrets masked)"));
            }
            Command::Audit {
                action,
                target,
                outcome,
            } => self.record(action, &target, outcome),
            Command::RefreshKeys => {
                if let Some(client) = self.client.as_ref().ok().and_then(ActiveClient::cometchat) {
                    let client = client.clone();
                    let rt = self.rt.clone();
                    self.keys.list.refresh(|| {
                        spawn_api(&rt, ctx, async move {
                            client.list_api_keys(&Default::default()).await
                        })
                    });
                }
            }
            Command::CreateKey(new) => {
                if let Some(client) = self.cometchat_client() {
                    let p = spawn_api(
                        &self.rt,
                        ctx,
                        async move { client.create_api_key(&new).await },
                    );
                    self.keys.create_started(p);
                }
            }
            Command::UpdateKey { key, update } => {
                if let Some(client) = self.cometchat_client() {
                    let p = spawn_api(&self.rt, ctx, async move {
                        client.update_api_key(&key, &update).await
                    });
                    self.keys.update_started(p);
                }
            }
            Command::DeleteKey { key, name: _ } => {
                if let Some(client) = self.cometchat_client() {
                    let p = spawn_api(&self.rt, ctx, async move {
                        client.delete_api_key(&key).await.map(|_| ())
                    });
                    self.keys.delete_started(p);
                }
            }
            Command::RotateKey { old, overlap_secs } => {
                if let Some(client) = self.cometchat_client() {
                    let new = crate::providers::cometchat::NewApiKey {
                        name: old.name.clone(),
                        scope: old.scope,
                    };
                    let p = spawn_api(
                        &self.rt,
                        ctx,
                        async move { client.create_api_key(&new).await },
                    );
                    self.keys.rotate_started(p, overlap_secs);
                }
            }
            Command::MarkRetiring(record) => {
                self.config.retiring_keys.retain(|r| {
                    !(r.connection_id == record.connection_id && r.key_sha256 == record.key_sha256)
                });
                self.config.retiring_keys.push(record);
                self.save_config();
            }
            Command::ForgetRetiring {
                connection_id,
                key_sha256,
            } => {
                let before = self.config.retiring_keys.len();
                self.config
                    .retiring_keys
                    .retain(|r| !(r.connection_id == connection_id && r.key_sha256 == key_sha256));
                if self.config.retiring_keys.len() != before {
                    self.save_config();
                }
            }
            Command::UseKeyForConnection { connection_id, key } => {
                self.record(
                    "connection.changed",
                    &format!("uses key {}", key.masked()),
                    Ok(()),
                );
                self.store_secret(ctx, &connection_id, FIELD_API_KEY, key);
                self.generation += 1;
                self.toasts.push(Toast::success(format!(
                    "The connection now uses the new key ({})",
                    self.vault.where_kept().to_lowercase()
                )));
            }
            Command::SaveConnection {
                connection,
                secrets,
            } => {
                let is_new = self.config.connection(&connection.id).is_none();
                for (field, value) in secrets {
                    if !value.is_empty() {
                        self.store_secret(ctx, &connection.id, field, value);
                    }
                }
                let label = connection.label.clone();
                let id = connection.id.clone();
                match self
                    .config
                    .connections
                    .iter_mut()
                    .find(|c| c.id == connection.id)
                {
                    Some(existing) => *existing = connection,
                    None => self.config.connections.push(connection),
                }
                if is_new || self.config.selected_connection.is_none() {
                    self.config.selected_connection = Some(id);
                }
                self.config_problem = None;
                self.generation += 1;
                self.save_config();
                self.record(
                    if is_new {
                        "connection.added"
                    } else {
                        "connection.changed"
                    },
                    &label,
                    Ok(()),
                );
                self.toasts.push(Toast::success(if is_new {
                    format!("Added connection {label}")
                } else {
                    format!("Saved connection {label}")
                }));
            }
            Command::RemoveConnection(id) => {
                let Some(conn) = self.config.connection(&id).cloned() else {
                    return;
                };
                self.config.connections.retain(|c| c.id != id);
                self.config.retiring_keys.retain(|r| r.connection_id != id);
                if self.config.selected_connection.as_deref() == Some(id.as_str()) {
                    self.config.selected_connection =
                        self.config.connections.first().map(|c| c.id.clone());
                }
                for (field, _) in conn.kind.secret_fields() {
                    self.remove_secret(ctx, &id, field);
                }
                self.generation += 1;
                self.save_config();
                self.record("connection.removed", &conn.label, Ok(()));
                self.toasts
                    .push(Toast::success(format!("Removed connection {}", conn.label)));
            }
            Command::TestConnection {
                connection,
                secrets,
            } => {
                let p = match self.client_for(&connection, &secrets) {
                    Ok(client) => spawn(
                        &self.rt,
                        ctx,
                        crate::tabs::connections::test_connection(client),
                        || crate::tabs::connections::TestReport::failed("The test crashed", ""),
                    ),
                    Err(problem) => Promise::from_ready(
                        crate::tabs::connections::TestReport::from_problem(&problem),
                    ),
                };
                self.connections.test_started(p);
            }
            Command::Users(c) => {
                let client = self.client.as_ref().ok().and_then(ActiveClient::cometchat);
                (self.users).handle(ctx, &self.rt, client.cloned(), &mut self.toasts, c);
            }
            Command::Ably(c) => {
                let client = self.client.as_ref().ok().and_then(ActiveClient::ably);
                (self.keys.ably).handle(c, &self.rt, ctx, client.cloned(), &mut self.toasts);
            }
            Command::Apps(c) => self.apps.handle(
                c,
                &self.rt,
                ctx,
                self.client
                    .as_ref()
                    .ok()
                    .and_then(ActiveClient::management)
                    .cloned(),
                &mut self.toasts,
            ),
            Command::AddSandboxConnections => match self.sandbox {
                SandboxState::Running { .. } => self.add_sandbox_connections(ctx),
                _ => {
                    self.add_sandbox_connections_when_ready = true;
                    self.start_sandbox(ctx);
                }
            },
        }
    }

    fn cometchat_client(&mut self) -> Option<CometChatClient> {
        let client = self
            .client
            .as_ref()
            .ok()
            .and_then(ActiveClient::cometchat)
            .cloned();
        if client.is_none() {
            self.toasts
                .push(Toast::error("Select a CometChat app connection first"));
        }
        client
    }

    /// Adds (or brings back) the connections of the embedded sandbox's demo app and its
    /// management credential, and selects the demo app.
    fn add_sandbox_connections(&mut self, ctx: &egui::Context) {
        let SandboxState::Running { info, .. } = &self.sandbox else {
            return;
        };
        let info = info.clone();
        let mut added = Vec::new();
        let mut first_app = None;
        for app in &info.cometchat.apps {
            let existing = self.config.connections.iter().find(|c| {
                c.embedded_sandbox
                    && matches!(&c.kind, ConnectionKind::CometChatApp { app_id, .. } if app_id == &app.app_id)
            });
            let id = match existing {
                Some(c) => c.id.clone(),
                None => {
                    let c = Connection {
                        id: config::new_connection_id(),
                        label: "Demo app (sandbox)".to_owned(),
                        kind: ConnectionKind::CometChatApp {
                            app_id: app.app_id.clone(),
                            region: app.region.clone(),
                        },
                        environment: Environment::Dev,
                        base_url: None,
                        embedded_sandbox: true,
                    };
                    let id = c.id.clone();
                    self.store_secret(
                        ctx,
                        &id,
                        FIELD_API_KEY,
                        Secret::new(app.rest_api_key.clone()),
                    );
                    added.push(c.label.clone());
                    self.config.connections.push(c);
                    id
                }
            };
            first_app.get_or_insert(id);
        }
        let has_management = self
            .config
            .connections
            .iter()
            .any(|c| c.embedded_sandbox && c.kind == ConnectionKind::Management);
        if !has_management {
            let c = Connection {
                id: config::new_connection_id(),
                label: "Sandbox management".to_owned(),
                kind: ConnectionKind::Management,
                environment: Environment::Dev,
                base_url: None,
                embedded_sandbox: true,
            };
            let m = &info.cometchat.management;
            self.store_secret(ctx, &c.id, FIELD_KEY, Secret::new(m.key.clone()));
            self.store_secret(ctx, &c.id, FIELD_SECRET, Secret::new(m.secret.clone()));
            added.push(c.label.clone());
            self.config.connections.push(c);
        }
        let sandbox_kinds = [
            (
                "Ably (sandbox)",
                ConnectionKind::AblyAccount {
                    account_id: Some(info.ably.account_id.clone()),
                    app_id: None,
                },
                FIELD_ACCESS_TOKEN,
                Some(info.ably.access_token.clone()),
            ),
            (
                "Cometly (sandbox)",
                ConnectionKind::Cometly,
                FIELD_API_KEY,
                info.cometly
                    .keys
                    .iter()
                    .find(|k| k.active)
                    .map(|k| k.key.clone()),
            ),
        ];
        for (label, kind, field, value) in sandbox_kinds {
            let there = self.config.connections.iter().any(|c| {
                c.embedded_sandbox
                    && std::mem::discriminant(&c.kind) == std::mem::discriminant(&kind)
            });
            let Some(value) = value else { continue };
            if !there {
                let c = Connection {
                    id: config::new_connection_id(),
                    label: label.to_owned(),
                    kind,
                    environment: Environment::Dev,
                    base_url: None,
                    embedded_sandbox: true,
                };
                self.store_secret(ctx, &c.id, field, Secret::new(value));
                added.push(c.label.clone());
                self.config.connections.push(c);
            }
        }
        if let Some(id) = first_app
            && self.active_connection().is_none_or(|c| !c.embedded_sandbox)
        {
            self.config.selected_connection = Some(id);
        }
        self.sandbox_banner_dismissed = false;
        self.generation += 1;
        self.save_config();
        if added.is_empty() {
            self.toasts
                .push(Toast::info("The sandbox connections are already there"));
        } else {
            self.toasts
                .push(Toast::success(format!("Added {}", added.join(" and "))));
        }
    }

    /// Keeps the secret for the session at once and writes it to the vault off the UI thread.
    fn store_secret(
        &mut self,
        ctx: &egui::Context,
        connection_id: &str,
        field: &str,
        value: Secret,
    ) {
        let account = Vault::account(connection_id, field);
        self.secrets.insert(account.clone(), value.clone());
        let vault = self.vault.clone();
        self.chores.push(spawn_blocking(
            &self.rt,
            ctx,
            move || {
                vault
                    .store(&account, &value)
                    .err()
                    .map(|e| Toast::error(format!("Could not store a secret in the keychain: {e}")))
            },
            || Some(Toast::error("The keychain write crashed")),
        ));
    }

    fn remove_secret(&mut self, ctx: &egui::Context, connection_id: &str, field: &str) {
        let account = Vault::account(connection_id, field);
        self.secrets.remove(&account);
        let vault = self.vault.clone();
        self.chores.push(spawn_blocking(
            &self.rt,
            ctx,
            move || {
                vault.remove(&account).err().map(|e| {
                    Toast::error(format!("Could not remove a secret from the keychain: {e}"))
                })
            },
            || Some(Toast::error("The keychain delete crashed")),
        ));
    }

    fn save_config(&mut self) {
        if self.config_problem.is_some() {
            // Do not overwrite a file we could not read.
            return;
        }
        if let Err(e) = self.config.save(&self.config_dir) {
            self.toasts.push(Toast::error(format!("{e}")));
        }
    }
}

impl eframe::App for KeydeckApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        KeydeckApp::logic(self, ctx);
    }

    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        self.probe.on_frame(ui.ctx());
        self.ui_root(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, UI_STATE_KEY, &self.ui_state);
    }

    fn persist_egui_memory(&self) -> bool {
        // egui's memory can hold text typed into fields; remember only what UiState names.
        false
    }
}

/// Opens the window and runs until it is closed, on `open_tab` if given (else the tab the
/// user left it on). `rt` must be entered by the caller.
pub fn run(rt: Handle, open_tab: Option<Tab>) -> anyhow::Result<()> {
    let (config_dir, data_dir) = dirs()?;
    // Before eframe opens its storage: its app.ron then stays 0600 in a 0700 folder.
    if let Err(e) = crate::paths::prepare_ui_state_file("keydeck") {
        tracing::warn!("could not prepare the window state file: {e}");
    }
    let vault = open_vault(&rt);
    let env = AppEnv {
        rt,
        config_dir,
        data_dir,
        vault,
        start_embedded_sandbox: true,
    };
    let system_clipboard = clipboard::SystemClipboard::open()
        .map_err(|e| tracing::warn!("no system clipboard, copies are not cleared: {e}"))
        .ok();
    let icon = eframe::icon_data::from_png_bytes(ICON_PNG)
        .map_err(|e| anyhow::anyhow!("the window icon is not a PNG: {e}"))?;
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Keydeck")
            .with_app_id("keydeck")
            .with_icon(icon)
            .with_inner_size([1180.0, 760.0])
            .with_min_inner_size([860.0, 520.0]),
        persist_window: true,
        ..Default::default()
    };
    eframe::run_native(
        "Keydeck",
        options,
        Box::new(move |cc| {
            let mut app = KeydeckApp::new(env);
            if let Some(c) = system_clipboard {
                app.set_clipboard(c);
            }
            if let Ok(dir) = crate::paths::log_dir() {
                app.set_log_dir(dir);
            }
            let mut state = cc
                .storage
                .and_then(|s| eframe::get_value::<UiState>(s, UI_STATE_KEY))
                .unwrap_or_default();
            if let Some(tab) = open_tab {
                state.tab = tab;
            }
            app.restore_ui_state(state);
            app.probe = probe::FirstFrameProbe::from_env();
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("could not open the window: {e}"))
}

/// The config and data directories: `KEYDECK_CONFIG_DIR` / `KEYDECK_DATA_DIR`, else the
/// platform's own (see [`crate::paths`]).
pub fn dirs() -> anyhow::Result<(PathBuf, PathBuf)> {
    Ok((crate::paths::config_dir()?, crate::paths::data_dir()?))
}

/// How long start-up waits for the OS keychain to answer before it falls back to memory.
const KEYCHAIN_PROBE_SECS: u64 = 4;

/// Opens the OS keychain on a blocking thread; falls back to the in-memory vault (with the
/// reason, for the banner) when it fails or does not answer in time. This runs before the
/// window opens, so no frame waits on it.
fn open_vault(rt: &Handle) -> Vault {
    let (tx, rx) = std::sync::mpsc::channel();
    rt.spawn_blocking(move || {
        let _ = tx.send(Vault::os_or_memory());
    });
    match rx.recv_timeout(std::time::Duration::from_secs(KEYCHAIN_PROBE_SECS)) {
        Ok((vault, None)) => vault,
        Ok((_, Some(e))) => {
            tracing::warn!("no OS keychain: {e}");
            Vault::memory_fallback(e.to_string())
        }
        Err(_) => {
            Vault::memory_fallback(format!("it did not answer within {KEYCHAIN_PROBE_SECS} s"))
        }
    }
}
