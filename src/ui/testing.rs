//! A tab on its own, for tests: an in-memory core (a [`Session`] over a temporary config
//! folder, the in-memory vault, an audit trail in the same folder), no sandbox and no shell.
//!
//! [`TabFixture`] stands in for the shell: it builds the [`TabContext`] of each frame and
//! performs what a tab returns the way the shell would, at the start of the next frame
//! (`ARCHITECTURE.md`, "The life of one click"). A tab's own messages go back to
//! [`TabView::handle`]; every other [`Command`] is kept in [`TabFixture::commands`] for the
//! test to look at, and the few that change what the tab sees (a saved or selected connection,
//! a toast) are applied as well. [`TabUnderTest`] is the state of an `egui_kittest` harness.
//!
//! Not `#[cfg(test)]`: the integration tests under `tests/` use it (`tests/support/`). It
//! names no test framework, so the library does not depend on one.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::runtime::Handle;

use crate::audit::AuditLog;
use crate::config::Connection;
use crate::core::client::{ActiveClient, ClientProblem, SandboxStatus, SecretInput};
use crate::core::connect::Resolver;
use crate::core::recorder::Recorder;
use crate::core::session::{Notice, Session};
use crate::providers::http::RetryPolicy;
use crate::vault::Vault;

use super::context::{Command, TabContext, TabView};
use super::shortcuts::{self, Shortcut};
use super::toasts::{Toast, Toasts};
use super::{theme, widgets};

/// The shell around one tab in a test: session, client, toasts, and what the tab asked for.
pub struct TabFixture {
    rt: Handle,
    session: Session,
    client: Result<ActiveClient, ClientProblem>,
    toasts: Toasts,
    /// Returned by the tab, performed at the start of the next frame.
    pending: Vec<Command>,
    /// Everything the tab asked of the shell, except its own messages.
    commands: Vec<Command>,
    started: bool,
    // Declared last, so it is removed after the session's worker has finished its writes.
    _dir: TempDir,
}

impl TabFixture {
    /// No connection (`Err(ClientProblem::NoConnection)`), an empty config, an empty vault.
    /// The runtime stays with the caller (a test keeps it alive longer than the fixture).
    pub fn new(rt: Handle) -> Self {
        let dir = TempDir::new();
        let vault = Vault::memory();
        let audit = AuditLog::open(&dir.0.join("data").join("audit.jsonl"), &vault)
            .map_err(|e| e.to_string());
        let session = Session::open(&dir.0.join("config"), vault, Recorder::new(audit));
        Self {
            rt,
            session,
            client: Err(ClientProblem::NoConnection),
            toasts: Toasts::default(),
            pending: Vec::new(),
            commands: Vec::new(),
            started: false,
            _dir: dir,
        }
    }

    /// Adds a connection (and stores its secrets) and makes it the active one. The client
    /// stays what [`Self::with_client`] says: the fixture resolves nothing by itself.
    pub fn with_connection(mut self, connection: Connection, secrets: Vec<SecretInput>) -> Self {
        self.session.save_connection(connection, secrets);
        self
    }

    /// The client the tab gets, or why there is none.
    pub fn with_client(mut self, client: Result<ActiveClient, ClientProblem>) -> Self {
        self.client = client;
        self
    }

    pub fn set_client(&mut self, client: Result<ActiveClient, ClientProblem>) {
        self.client = client;
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    pub fn session_mut(&mut self) -> &mut Session {
        &mut self.session
    }

    /// What the tab asked of the shell so far, in order; its own messages are not here.
    pub fn commands(&self) -> &[Command] {
        &self.commands
    }

    /// Takes the commands seen so far, so that the next assertion sees only newer ones.
    pub fn take_commands(&mut self) -> Vec<Command> {
        std::mem::take(&mut self.commands)
    }

    /// The toasts pushed by the tab or sent as [`Command::Toast`].
    pub fn toasts(&self) -> impl Iterator<Item = &Toast> {
        self.toasts.iter()
    }

    /// Lends a [`TabContext`] built as the shell builds it, with no sandbox and calls that
    /// are not retried.
    pub fn with_context<R>(
        &mut self,
        egui_ctx: &egui::Context,
        shortcuts: &[Shortcut],
        f: impl FnOnce(&mut TabContext<'_>) -> R,
    ) -> R {
        let resolver = Resolver {
            secrets: self.session.secrets(),
            secrets_loading: self.session.is_loading_secrets(),
            sandbox: SandboxStatus::Off,
            retry: RetryPolicy::none(),
        };
        let mut cx = TabContext {
            rt: &self.rt,
            egui_ctx: egui_ctx.clone(),
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
            sandbox: None,
            shortcuts,
            now_unix: widgets::now_unix(),
        };
        f(&mut cx)
    }

    /// One frame of `tab`, in the shell's order: settle, perform what was asked, draw.
    pub fn frame(&mut self, tab: &mut dyn TabView, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        if !self.started {
            self.started = true;
            theme::install(&ctx);
            let waker = ctx.clone();
            self.session
                .set_waker(Arc::new(move || waker.request_repaint()));
        }
        for notice in self.session.poll() {
            if let Notice::Failed(e) = notice {
                self.toasts.push(Toast::error(e));
            }
        }
        let settled = self.with_context(&ctx, &[], |cx| tab.settle(cx));
        self.pending.extend(settled);
        for command in std::mem::take(&mut self.pending) {
            self.perform(tab, &ctx, command);
        }
        let shortcuts = shortcuts::read(&ctx, tab.has_dialog());
        let asked = self.with_context(&ctx, &shortcuts, |cx| tab.ui(ui, cx));
        self.pending.extend(asked);
        if !self.pending.is_empty() {
            ctx.request_repaint();
        }
    }

    fn perform(&mut self, tab: &mut dyn TabView, ctx: &egui::Context, command: Command) {
        match command {
            Command::Tab(message) if message.tab == tab.id() => {
                self.with_context(ctx, &[], |cx| tab.handle(message, cx));
                return;
            }
            Command::SaveConnection {
                ref connection,
                ref secrets,
            } => {
                self.session
                    .save_connection(connection.clone(), secrets.clone());
            }
            Command::SelectConnection(ref id) => {
                self.session.select_connection(id);
            }
            Command::Toast(ref toast) => self.toasts.push(toast.clone()),
            _ => {}
        }
        self.commands.push(command);
    }
}

/// The state of a test harness: the tab and the fixture around it.
pub struct TabUnderTest<T> {
    pub tab: T,
    pub fixture: TabFixture,
}

impl<T: TabView> TabUnderTest<T> {
    pub fn new(tab: T, fixture: TabFixture) -> Self {
        Self { tab, fixture }
    }

    /// One frame: what the harness calls.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        self.fixture.frame(&mut self.tab, ui);
    }

    /// What the tab asked of the shell so far.
    pub fn commands(&self) -> &[Command] {
        self.fixture.commands()
    }
}

/// A folder of its own under the system's temporary folder, removed on drop. (The library has
/// no `tempfile`; this is all a fixture needs of it.)
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        Self(std::env::temp_dir().join(format!(
            "keydeck-tab-fixture-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
        )))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::context::{Tab, TabMessage};

    /// Asks for its own message and a tab switch once, and counts the messages it gets.
    #[derive(Default)]
    struct Echo {
        asked: bool,
        handled: Vec<u32>,
    }

    impl TabView for Echo {
        fn id(&self) -> Tab {
            Tab::Keys
        }

        fn ui(&mut self, _ui: &mut egui::Ui, _cx: &mut TabContext<'_>) -> Vec<Command> {
            if std::mem::replace(&mut self.asked, true) {
                return Vec::new();
            }
            vec![
                Command::Tab(TabMessage::new(Tab::Keys, 7_u32)),
                Command::SelectTab(Tab::Connections),
            ]
        }

        fn handle(&mut self, message: TabMessage, _cx: &mut TabContext<'_>) {
            if let Ok(n) = message.take::<u32>() {
                self.handled.push(n);
            }
        }
    }

    #[test]
    fn own_messages_go_back_to_the_tab_on_the_next_frame_and_the_rest_is_kept() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let mut fixture = TabFixture::new(rt.handle().clone());
        let mut tab = Echo::default();
        let ctx = egui::Context::default();
        for _ in 0..2 {
            let mut output =
                ctx.run_ui(egui::RawInput::default(), |ui| fixture.frame(&mut tab, ui));
            output.textures_delta.clear();
        }
        assert_eq!(tab.handled, [7]);
        assert!(matches!(
            fixture.commands(),
            [Command::SelectTab(Tab::Connections)]
        ));
    }
}
