//! The desktop shell: the window, its chrome, and the one place commands are handled.
//!
//! The shell only routes: each tab owns its state and its requests and returns [`Command`]s
//! for what crosses tabs; the session ([`crate::core::session`]) owns connections and secrets;
//! promises are settled at the start of a frame; every network and keychain call runs off the
//! UI thread, so the window never waits.

mod chrome;
mod commands;
mod lifecycle;
mod sandbox;
mod state;
mod window;

pub use chrome::MIN_WINDOW_SIZE;
pub use state::{AppEnv, Keychain, ThemeChoice, UiState};
pub use window::{dirs, run};

use std::path::PathBuf;

use egui::Ui;
use tokio::runtime::Handle;

use crate::core::client::{ActiveClient, ClientProblem};
use crate::core::recorder::Recorder;
use crate::core::session::{KeychainState, Session};
use crate::sandbox::Sandbox;
use crate::ui::context::{Command, Tab, TabContext};
use crate::ui::tabs::Tabs;
use crate::ui::tabs::activity::ActivityView;
use crate::ui::toasts::{Toast, Toasts};
use crate::ui::{clipboard, probe, retry_status, shortcuts, widgets};
use crate::vault::Vault;

use sandbox::EmbeddedSandbox;

/// The window icon, also used by packaging.
pub const ICON_PNG: &[u8] = include_bytes!("../../../assets/icon.png");

/// The eframe storage key of the remembered UI state.
const UI_STATE_KEY: &str = "keydeck-ui";

/// The clipboard worker and the errors it reports.
struct ClipboardLink {
    clipboard: clipboard::Clipboard,
    errors: std::sync::mpsc::Receiver<String>,
}

pub struct KeydeckApp {
    rt: Handle,
    /// "Retrying (2 of 3)…" and its Cancel, shared with every client.
    retry: retry_status::RetryStatus,
    data_dir: PathBuf,
    log_dir: PathBuf,
    session: Session,
    start_embedded_sandbox: bool,
    sandbox: EmbeddedSandbox,
    started: bool,
    client: Result<ActiveClient, ClientProblem>,
    ui_state: UiState,
    pub tabs: Tabs,
    pub activity: ActivityView,
    /// The audit revision the Activity window last saw.
    audit_seen: u64,
    toasts: Toasts,
    commands: Vec<Command>,
    icon: Option<egui::TextureHandle>,
    /// Without one, copies go through egui (no clearing).
    clipboard: Option<ClipboardLink>,
    /// Off unless `KEYDECK_FIRST_FRAME_PROBE=1` (see [`probe`]).
    probe: probe::FirstFrameProbe,
}

impl KeydeckApp {
    pub fn new(env: AppEnv) -> Self {
        let recorder = Recorder::waiting(&env.data_dir.join("audit.jsonl"));
        let session = match env.keychain {
            Keychain::Given(vault) => Session::open(&env.config_dir, vault, recorder),
            Keychain::OpenOs => Session::open_os(&env.config_dir, recorder),
        };
        Self {
            rt: env.rt,
            retry: retry_status::RetryStatus::default(),
            log_dir: env.data_dir.join("logs"),
            data_dir: env.data_dir,
            session,
            start_embedded_sandbox: env.start_embedded_sandbox,
            sandbox: EmbeddedSandbox::default(),
            started: false,
            client: Err(ClientProblem::LoadingSecrets),
            ui_state: UiState::default(),
            tabs: Tabs::default(),
            activity: ActivityView::default(),
            audit_seen: 0,
            toasts: Toasts::default(),
            commands: Vec::new(),
            icon: None,
            clipboard: None,
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
            Ok(clipboard) => {
                self.clipboard = Some(ClipboardLink {
                    clipboard,
                    errors: rx,
                })
            }
            Err(e) => tracing::warn!("no clipboard worker: {e}"),
        }
    }

    /// The clipboard worker, when there is one.
    pub fn clipboard(&self) -> Option<&clipboard::Clipboard> {
        self.clipboard.as_ref().map(|c| &c.clipboard)
    }

    /// Where the audit trail is written, when it could be opened.
    pub fn audit_path(&self) -> Option<PathBuf> {
        self.session.recorder().path()
    }

    /// The folder whose newest log file "Copy diagnostics" includes.
    pub fn set_log_dir(&mut self, dir: PathBuf) {
        self.log_dir = dir;
    }

    /// Applies what was remembered from the last run.
    pub fn restore_ui_state(&mut self, state: UiState) {
        self.ui_state = state;
    }

    pub fn ui_state(&self) -> UiState {
        self.ui_state
    }

    pub fn config(&self) -> &crate::config::Config {
        self.session.config()
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    pub fn selected_tab(&self) -> Tab {
        self.ui_state.tab
    }

    pub fn vault(&self) -> &Vault {
        self.session.vault()
    }

    /// The sandbox started by the app itself, when there is one.
    pub fn embedded_sandbox(&self) -> Option<&Sandbox> {
        self.sandbox.running()
    }

    /// True once the secrets are loaded, every keychain and config write has landed, and the
    /// embedded sandbox (if any) is running.
    pub fn is_settled(&self) -> bool {
        self.session.is_idle() && !self.sandbox.is_starting()
    }

    pub fn toasts(&self) -> impl Iterator<Item = &Toast> {
        self.toasts.iter()
    }

    pub fn active_connection(&self) -> Option<&crate::config::Connection> {
        self.session.active_connection()
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
        let commands = std::mem::take(&mut self.commands);
        for command in commands {
            self.handle_command(ctx, command);
        }
        self.client = self.resolve_client();
        if *self.session.keychain() == KeychainState::Checking {
            // Nothing else repaints while a keychain call waits on its unlock prompt: look again
            // so that "waiting for you to unlock it" shows when it is due.
            ctx.request_repaint_after(std::time::Duration::from_millis(500));
        }
    }

    /// Draws everything. Runs [`Self::logic`] first, so a test harness needs only this.
    pub fn ui_root(&mut self, ui: &mut Ui) {
        let ctx = ui.ctx().clone();
        self.logic(&ctx);
        ctx.set_theme(self.ui_state.theme.preference());
        widgets::set_presentation_mode(&ctx, self.ui_state.presentation_mode);

        let shortcuts = shortcuts::read(&ctx, self.tabs.any_dialog());
        let mut commands = Vec::new();

        egui::Panel::top("keydeck-top")
            .resizable(false)
            .frame(
                egui::Frame::side_top_panel(ui.style())
                    .inner_margin(egui::Margin::symmetric(14, 8)),
            )
            .show(ui, |ui| self.top_bar_ui(ui, &mut commands));

        self.banners_ui(ui);

        egui::Panel::bottom("keydeck-status")
            .resizable(false)
            .frame(
                egui::Frame::side_top_panel(ui.style())
                    .inner_margin(egui::Margin::symmetric(14, 4)),
            )
            .show(ui, |ui| self.status_bar_ui(ui));

        let central = egui::CentralPanel::default()
            .frame(egui::Frame::central_panel(ui.style()).inner_margin(egui::Margin::same(16)))
            .show(ui, |ui| {
                let tab = self.ui_state.tab;
                let out = self.with_tabs(&ctx, &shortcuts, |tabs, cx| tabs.get_mut(tab).ui(ui, cx));
                commands.extend(out);
            });

        // The Activity window only, and only while it is open: nothing to clone every frame.
        if self.activity.open {
            let audit_path = self.audit_path();
            let vault = self.session.vault().clone();
            self.activity.chain_break = self.session.recorder().chain_break();
            commands.extend(self.activity.ui(
                &ctx,
                &self.rt,
                audit_path.as_deref(),
                &vault,
                // Below the top bar and banners, above the status bar: never over them.
                central.response.rect,
            ));
        }

        self.toasts.ui(&ctx);
        self.commands.extend(commands);
        if !self.commands.is_empty() {
            ctx.request_repaint();
        }
    }

    /// Lends the tabs a context built from the session, the client and the sandbox.
    fn with_tabs<R>(
        &mut self,
        ctx: &egui::Context,
        shortcuts: &[shortcuts::Shortcut],
        f: impl FnOnce(&mut Tabs, &mut TabContext<'_>) -> R,
    ) -> R {
        let resolver = lifecycle::resolver(&self.session, &self.sandbox, &self.retry);
        let mut cx = TabContext {
            rt: &self.rt,
            egui_ctx: ctx.clone(),
            config: self.session.config(),
            connection: self.session.active_connection(),
            client: &self.client,
            resolver: &resolver,
            generation: self.session.generation(),
            recorder: self.session.recorder(),
            toasts: &mut self.toasts,
            vault: self.session.vault(),
            stored: self.session.secrets(),
            session: &self.session,
            sandbox: self.sandbox.info(),
            shortcuts,
            now_unix: widgets::now_unix(),
        };
        f(&mut self.tabs, &mut cx)
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
