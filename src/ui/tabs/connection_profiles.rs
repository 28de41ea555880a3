//! Export… and Import… on the Connections tab: connection profiles as a file a team shares
//! (no secrets; see [`crate::core::profiles`]), through the system's file dialog or, where
//! there is none, a typed path.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
use poll_promise::Promise;

use crate::config::Connection;
use crate::core::profiles;
use crate::ui::context::{Command, TabContext};
use crate::ui::file_dialog::{self, PathPrompt, Picked, PromptOutcome};
use crate::ui::remote::spawn;
use crate::ui::theme::{self, Tone};
use crate::ui::toasts::Toast;
use crate::ui::widgets::{self, ConfirmDialog, ConfirmOutcome};

/// The suggested name of an exported file.
const FILE_NAME: &str = "keydeck-connections.json";

/// Where the file dialogs come from: the system's in the app, fixed paths in tests.
pub trait ProfilePicker: Send + Sync {
    fn pick_export(&self) -> BoxFuture<'static, Picked>;
    fn pick_import(&self) -> BoxFuture<'static, Picked>;
}

/// The system's file dialogs (rfd).
pub struct NativeProfilePicker;

impl ProfilePicker for NativeProfilePicker {
    fn pick_export(&self) -> BoxFuture<'static, Picked> {
        file_dialog::native(async {
            rfd::AsyncFileDialog::new()
                .set_title("Export connections (no secrets)")
                .set_file_name(FILE_NAME)
                .add_filter("JSON", &["json"])
                .save_file()
                .await
                .map(|f| f.path().to_path_buf())
        })
        .boxed()
    }

    fn pick_import(&self) -> BoxFuture<'static, Picked> {
        file_dialog::native(async {
            rfd::AsyncFileDialog::new()
                .set_title("Import connections")
                .add_filter("JSON", &["json"])
                .pick_file()
                .await
                .map(|f| f.path().to_path_buf())
        })
        .boxed()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
    Export,
    Import,
}

/// The Export… and Import… buttons, the dialog on its way, and the typed-path prompt.
pub struct ProfileSharing {
    picker: Arc<dyn ProfilePicker>,
    pick: Option<(Purpose, Promise<Picked>)>,
    prompt: Option<(Purpose, PathPrompt)>,
    /// The last import's problem, kept on screen until the next try.
    problem: Option<String>,
    /// A checked file's connections, shown before they are added.
    confirm: Option<(Vec<Connection>, ConfirmDialog)>,
}

impl Default for ProfileSharing {
    fn default() -> Self {
        Self {
            picker: Arc::new(NativeProfilePicker),
            pick: None,
            prompt: None,
            problem: None,
            confirm: None,
        }
    }
}

impl ProfileSharing {
    /// Replaces the file dialogs (tests use fixed paths).
    pub fn set_picker(&mut self, picker: Arc<dyn ProfilePicker>) {
        self.picker = picker;
    }

    /// The two buttons (for the tab's header).
    pub fn buttons_ui(&mut self, ui: &mut egui::Ui, cx: &TabContext<'_>) {
        let busy = self.pick.is_some();
        let export = ui
            .add_enabled(
                !busy && !cx.config.connections.is_empty(),
                egui::Button::new("Export…"),
            )
            .on_hover_text("Save the connection profiles to a file to share: no secrets");
        if export.clicked() {
            self.start(Purpose::Export, cx);
        }
        let import = ui
            .add_enabled(!busy, egui::Button::new("Import…"))
            .on_hover_text("Add the connections of a file exported by Keydeck");
        if import.clicked() {
            self.start(Purpose::Import, cx);
        }
    }

    fn start(&mut self, purpose: Purpose, cx: &TabContext<'_>) {
        let f = match purpose {
            Purpose::Export => self.picker.pick_export(),
            Purpose::Import => self.picker.pick_import(),
        };
        self.prompt = None;
        self.problem = None;
        self.pick = Some((purpose, spawn(cx.rt, &cx.egui_ctx, f, || Picked::Cancelled)));
    }

    /// Settles a finished file dialog: exports or imports, or asks for a typed path.
    pub fn settle(&mut self, connections: &[Connection]) -> Vec<Command> {
        let Some((purpose, p)) = self.pick.take() else {
            return Vec::new();
        };
        match p.try_take() {
            Ok(Picked::Chosen(path)) => match self.act(purpose, &path, connections) {
                Ok(commands) => commands,
                Err(e) => {
                    self.problem = Some(e);
                    Vec::new()
                }
            },
            Ok(Picked::Cancelled) => Vec::new(),
            Ok(Picked::Unavailable(why)) => {
                self.prompt = Some((
                    purpose,
                    match purpose {
                        Purpose::Export => PathPrompt::save(why, "Export", FILE_NAME),
                        Purpose::Import => PathPrompt::open(why, "Import"),
                    },
                ));
                Vec::new()
            }
            Err(p) => {
                self.pick = Some((purpose, p));
                Vec::new()
            }
        }
    }

    /// The typed-path prompt and the last problem, under the header; a `.json` file dropped
    /// on the window is imported.
    pub fn ui(&mut self, ui: &mut egui::Ui, connections: &[Connection]) -> Vec<Command> {
        let mut out = Vec::new();
        if let Some((list, confirm)) = &mut self.confirm {
            match confirm.ui(ui.ctx()) {
                ConfirmOutcome::Confirmed => {
                    out.push(Command::ImportConnections(std::mem::take(list)));
                    self.confirm = None;
                }
                ConfirmOutcome::Cancelled => self.confirm = None,
                ConfirmOutcome::Open => {}
            }
        }
        if let Some(path) = file_dialog::dropped_file(ui.ctx()).filter(|p| {
            p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        }) {
            self.prompt = None;
            match self.act(Purpose::Import, &path, connections) {
                Ok(commands) => out.extend(commands),
                Err(e) => self.problem = Some(e),
            }
        }
        if let Some(problem) = &self.problem {
            widgets::message(
                ui,
                Tone::Error,
                "The connections were not imported",
                problem,
                &[],
            );
            ui.add_space(theme::SPACE_S);
        }
        let Some((purpose, prompt)) = &mut self.prompt else {
            return out;
        };
        let purpose = *purpose;
        let chosen = match prompt.ui(ui) {
            PromptOutcome::Open => None,
            PromptOutcome::Cancelled => {
                self.prompt = None;
                None
            }
            PromptOutcome::Chosen(path) => Some(path),
        };
        ui.add_space(theme::SPACE_S);
        if let Some(path) = chosen {
            match self.act(purpose, &path, connections) {
                Ok(commands) => {
                    self.prompt = None;
                    out.extend(commands);
                }
                Err(e) => {
                    if let Some((_, prompt)) = &mut self.prompt {
                        prompt.failed(e);
                    }
                }
            }
        }
        out
    }

    /// Exports to `path`, or reads and checks the file at `path` for import.
    fn act(
        &mut self,
        purpose: Purpose,
        path: &Path,
        connections: &[Connection],
    ) -> Result<Vec<Command>, String> {
        match purpose {
            Purpose::Export => {
                export_to(path, connections)?;
                Ok(vec![Command::Toast(Toast::success(format!(
                    "Exported {} to {} (no secrets)",
                    crate::words::count(connections.len(), "connection", "connections"),
                    path.display()
                )))])
            }
            Purpose::Import => {
                let parsed = import_from(path)?;
                if parsed.connections.is_empty() {
                    return Err(
                        "The file holds no connection to import (connections to the exporting machine's own sandbox are left out)"
                            .to_owned(),
                    );
                }
                self.problem = None;
                self.confirm = Some((parsed.connections.clone(), import_question(&parsed)));
                Ok(Vec::new())
            }
        }
    }
}

/// Writes the profiles of `connections` to `path` (private to the user, like every file
/// Keydeck writes).
pub fn export_to(path: &Path, connections: &[Connection]) -> Result<(), String> {
    crate::config::write_atomically(path, profiles::export(connections).as_bytes())
        .map_err(|e| format!("Could not write {}: {e}", path.display()))
}

/// Reads and checks the profiles file at `path` (at most [`profiles::MAX_FILE_BYTES`]).
pub fn import_from(path: &Path) -> Result<profiles::Parsed, String> {
    let size = std::fs::metadata(path)
        .map_err(|e| format!("Could not read {}: {e}", path.display()))?
        .len();
    if size > profiles::MAX_FILE_BYTES {
        return Err(format!(
            "{} is {} KiB: too large for a connections file",
            path.display(),
            size / 1024
        ));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("Could not read {}: {e}", path.display()))?;
    profiles::parse(&text)
}

/// The question before an import: each connection with its provider, environment and host,
/// because its key will be sent to that host.
fn import_question(parsed: &profiles::Parsed) -> ConfirmDialog {
    let n = parsed.connections.len();
    let what = crate::words::count(n, "connection", "connections");
    let mut body = String::from(
        "Check each host: a connection's key is sent to the host it names. Secrets are read from this machine's keychain when it holds them, and asked for when not.\n",
    );
    for c in &parsed.connections {
        let host = c
            .base_url_override()
            .map_or_else(|| "the provider's own host".to_owned(), str::to_owned);
        body.push_str(&format!(
            "\n• {}: {}, {}, {host}",
            c.label,
            crate::core::kinds::spec(&c.kind).provider(),
            c.environment.name()
        ));
    }
    if parsed.skipped_sandbox > 0 {
        body.push_str(&format!(
            "\n\nLeft out: {} to the exporting machine's own sandbox.",
            crate::words::count(parsed.skipped_sandbox, "connection", "connections")
        ));
    }
    ConfirmDialog::new(format!("Import {what}?"), body, format!("Import {what}"))
}

/// A picker that hands out fixed paths (tests).
pub struct FixedProfilePaths {
    pub export: PathBuf,
    pub import: PathBuf,
}

impl ProfilePicker for FixedProfilePaths {
    fn pick_export(&self) -> BoxFuture<'static, Picked> {
        let p = self.export.clone();
        async move { Picked::Chosen(p) }.boxed()
    }

    fn pick_import(&self) -> BoxFuture<'static, Picked> {
        let p = self.import.clone();
        async move { Picked::Chosen(p) }.boxed()
    }
}
