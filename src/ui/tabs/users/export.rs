//! Export… on the Users tab: every user matching the filters (not only those loaded or
//! held), streamed page by page to a CSV or JSON file by `core::ops::user_export`, with
//! progress and Cancel. Never a token.

use std::path::PathBuf;
use std::sync::Arc;

use egui::Ui;
use poll_promise::Promise;

use crate::core::ops::user_export::{self, ExportError, ExportFormat, ExportProgress};
use crate::providers::cometchat::UserQuery;
use crate::ui::context::TabContext;
use crate::ui::file_dialog::{PathPrompt, Picked, PromptOutcome};
use crate::ui::remote::spawn;
use crate::ui::theme;
use crate::ui::toasts::Toast;
use crate::ui::widgets;

use super::store::Filter;
use super::{UsersTab, paged, thousands};

/// The name the save dialog offers.
const SUGGESTED_NAME: &str = "users.csv";

#[derive(Default)]
pub(super) enum Export {
    #[default]
    Idle,
    /// Export… was clicked: the save dialog opens next.
    Requested,
    /// The save dialog is open.
    Picking(Promise<Picked>),
    /// No dialog could open: a typed path.
    Typing(PathPrompt),
    Running {
        path: PathBuf,
        progress: Arc<ExportProgress>,
        promise: Promise<Result<u64, ExportError>>,
    },
}

impl Export {
    /// Cancels a running export (the connection changed); anything else is dropped.
    pub(super) fn cancel(&self) {
        if let Export::Running { progress, .. } = self {
            progress.cancel();
        }
    }
}

/// What is exported: the filters on screen, but not the search text (a search finds a user;
/// an export is of a population), and deactivated users only when they are shown.
fn export_query(f: &Filter) -> UserQuery {
    paged::query_for(&Filter {
        needle: String::new(),
        ..f.clone()
    })
}

impl UsersTab {
    /// The Export… button (beside Refresh), disabled while an export runs.
    pub(super) fn export_button_ui(&mut self, ui: &mut Ui) {
        let idle = matches!(self.export, Export::Idle);
        let r = ui
            .add_enabled(idle, egui::Button::new("Export…"))
            .on_hover_text(
                "Save every user matching the status, role, tag and deactivated filters to a CSV or JSON file (no tokens)",
            );
        if r.clicked() {
            self.export = Export::Requested;
        }
    }

    /// The export's line under the toolbar: a typed path when no dialog opened, progress
    /// with Cancel while it runs; its end is a toast.
    pub(super) fn export_ui(&mut self, ui: &mut Ui, cx: &mut TabContext<'_>) {
        match std::mem::take(&mut self.export) {
            Export::Idle => {}
            Export::Requested => {
                let f = self
                    .bulk
                    .picker()
                    .pick_users_export(SUGGESTED_NAME.to_owned());
                self.export = Export::Picking(spawn(cx.rt, &cx.egui_ctx, f, || Picked::Cancelled));
            }
            Export::Picking(p) => match p.try_take() {
                Ok(Picked::Chosen(path)) => self.start_export(cx, path),
                Ok(Picked::Cancelled) => {}
                Ok(Picked::Unavailable(why)) => {
                    self.export = Export::Typing(PathPrompt::save(why, "Export", SUGGESTED_NAME));
                }
                Err(p) => self.export = Export::Picking(p),
            },
            Export::Typing(mut prompt) => match prompt.ui(ui) {
                PromptOutcome::Open => self.export = Export::Typing(prompt),
                PromptOutcome::Cancelled => {}
                PromptOutcome::Chosen(path) => self.start_export(cx, path),
            },
            Export::Running {
                path,
                progress,
                promise,
            } => match promise.try_take() {
                Ok(result) => finished(cx, &path, result),
                Err(promise) => {
                    running_ui(ui, &path, &progress);
                    self.export = Export::Running {
                        path,
                        progress,
                        promise,
                    };
                }
            },
        }
    }

    fn start_export(&mut self, cx: &mut TabContext<'_>, path: PathBuf) {
        let Some(client) = cx.cometchat().cloned() else {
            cx.toasts
                .push(Toast::error("Select a CometChat app connection first"));
            return;
        };
        let query = export_query(&self.current_filter());
        let format = ExportFormat::for_path(&path);
        let progress = ExportProgress::new();
        let (rec, p, dest) = (cx.recorder.clone(), Arc::clone(&progress), path.clone());
        let promise = spawn(
            cx.rt,
            &cx.egui_ctx,
            async move { user_export::export(&client, &rec, query, format, &dest, p).await },
            || {
                Err(ExportError::Io {
                    path: PathBuf::new(),
                    source: std::io::Error::other("the export stopped unexpectedly"),
                })
            },
        );
        self.export = Export::Running {
            path,
            progress,
            promise,
        };
    }
}

/// "Exporting users to …: 12,000 of 1,000,000", a bar and Cancel.
fn running_ui(ui: &mut Ui, path: &std::path::Path, progress: &ExportProgress) {
    ui.horizontal(|ui| {
        let (written, total) = progress.counts();
        if progress.is_cancelled() {
            ui.spinner();
            widgets::muted(ui, "Cancelling the export…");
            return;
        }
        if ui
            .button("Cancel export")
            .on_hover_text("Stop; no file is left behind")
            .clicked()
        {
            progress.cancel();
        }
        if total > 0 {
            ui.add(egui::ProgressBar::new(written as f32 / total as f32).desired_width(140.0));
        } else {
            ui.spinner();
        }
        widgets::muted(
            ui,
            format!(
                "Exporting users to {}: {} of {}",
                path.display(),
                thousands(written),
                if total > 0 {
                    thousands(total)
                } else {
                    "…".to_owned()
                }
            ),
        );
    });
    ui.ctx()
        .request_repaint_after(std::time::Duration::from_millis(100));
    ui.add_space(theme::SPACE_XS);
}

fn finished(cx: &mut TabContext<'_>, path: &std::path::Path, result: Result<u64, ExportError>) {
    match result {
        Ok(n) => cx.toasts.push(Toast::success(format!(
            "Exported {} to {} (no tokens)",
            crate::words::count(usize::try_from(n).unwrap_or(usize::MAX), "user", "users"),
            path.display()
        ))),
        Err(ExportError::Cancelled) => cx
            .toasts
            .push(Toast::info("Export cancelled; no file was written")),
        Err(e) => cx.toasts.push(Toast::error(format!(
            "The export failed, and no file was written: {e}"
        ))),
    }
}
