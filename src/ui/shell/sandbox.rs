//! The sandbox embedded in the window's process: started on first run (or when a sandbox
//! connection needs it), its state for the status bar and the banner.

use std::path::PathBuf;

use poll_promise::Promise;
use tokio::runtime::Handle;

use crate::core::client::SandboxStatus;
use crate::sandbox::{Sandbox, SandboxOptions, StartupInfo};
use crate::ui::remote::spawn;

// One value for the whole app: the size difference costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
pub enum SandboxState {
    Off,
    Starting(Promise<Result<Sandbox, String>>),
    Running { sandbox: Sandbox, info: StartupInfo },
    Failed(String),
}

/// The embedded sandbox and what the window does around it.
pub struct EmbeddedSandbox {
    pub state: SandboxState,
    /// Add the sandbox connections once it runs (first run, or the user asked).
    pub add_connections_when_ready: bool,
    pub banner_dismissed: bool,
}

/// What [`EmbeddedSandbox::settle`] found.
pub enum SandboxEvent {
    Started,
    Failed(String),
}

impl Default for EmbeddedSandbox {
    fn default() -> Self {
        Self {
            state: SandboxState::Off,
            add_connections_when_ready: false,
            banner_dismissed: false,
        }
    }
}

impl EmbeddedSandbox {
    /// Starts it in the background (once; again after a failure).
    pub fn start(&mut self, rt: &Handle, ctx: &egui::Context, data_dir: PathBuf) {
        if !matches!(self.state, SandboxState::Off | SandboxState::Failed(_)) {
            return;
        }
        let data = data_dir.join("sandbox.sqlite3");
        self.state = SandboxState::Starting(spawn(
            rt,
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

    /// Takes in a finished start.
    pub fn settle(&mut self) -> Option<SandboxEvent> {
        // Only a starting sandbox is taken out: replacing a running one would drop (stop) it.
        if !matches!(self.state, SandboxState::Starting(_)) {
            return None;
        }
        let SandboxState::Starting(p) = std::mem::replace(&mut self.state, SandboxState::Off)
        else {
            return None;
        };
        let (state, event) = match p.try_take() {
            Ok(Ok(sandbox)) => {
                let info = sandbox.info();
                tracing::info!("local sandbox at {}", sandbox.base_url());
                (
                    SandboxState::Running { sandbox, info },
                    Some(SandboxEvent::Started),
                )
            }
            Ok(Err(e)) => {
                self.add_connections_when_ready = false;
                (
                    SandboxState::Failed(e.clone()),
                    Some(SandboxEvent::Failed(e)),
                )
            }
            Err(p) => (SandboxState::Starting(p), None),
        };
        self.state = state;
        event
    }

    pub fn is_starting(&self) -> bool {
        matches!(self.state, SandboxState::Starting(_))
    }

    pub fn running(&self) -> Option<&Sandbox> {
        match &self.state {
            SandboxState::Running { sandbox, .. } => Some(sandbox),
            _ => None,
        }
    }

    pub fn info(&self) -> Option<&StartupInfo> {
        match &self.state {
            SandboxState::Running { info, .. } => Some(info),
            _ => None,
        }
    }

    /// The state as client resolution needs it.
    pub fn status(&self) -> SandboxStatus<'_> {
        match &self.state {
            SandboxState::Off => SandboxStatus::Off,
            SandboxState::Starting(_) => SandboxStatus::Starting,
            SandboxState::Running { info, .. } => SandboxStatus::Running(info),
            SandboxState::Failed(e) => SandboxStatus::Failed(e),
        }
    }

    /// The status bar's words, if any.
    pub fn status_line(&self) -> Option<String> {
        match &self.state {
            SandboxState::Running { sandbox, .. } => {
                Some(format!("Local sandbox at {}", sandbox.base_url()))
            }
            SandboxState::Starting(_) => Some("Starting the local sandbox…".to_owned()),
            SandboxState::Failed(e) => Some(format!("Local sandbox failed: {e}")),
            SandboxState::Off => None,
        }
    }
}
