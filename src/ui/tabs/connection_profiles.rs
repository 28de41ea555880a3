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
use crate::ui::widgets;

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
}

impl Default for ProfileSharing {
    fn default() -> Self {
        Self {
            picker: Arc::new(NativeProfilePicker),
            pick: None,
            prompt: None,
            problem: None,
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
                let list = import_from(path)?;
                self.problem = None;
                Ok(vec![Command::ImportConnections(list)])
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

/// Reads and checks the profiles file at `path`.
pub fn import_from(path: &Path) -> Result<Vec<Connection>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("Could not read {}: {e}", path.display()))?;
    profiles::parse(&text)
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
