//! The Hygiene tab: key hygiene across every connection. The inventory (`inventory.rs`): every
//! key with its age and state, findings with their fix, rotate-by dates, an export. The leak
//! scan (here): choose a folder
//! (a repository checkout, a home folder) and Keydeck looks in its files for every secret it
//! holds (`core::hygiene::scan`), with progress and Cancel, and lists file, line and the
//! secret's masked prefix with where it came from. Never the matched text.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use egui::{RichText, Ui};
use egui_extras::{Column, TableBuilder};
use futures::FutureExt;
use futures::future::BoxFuture;
use poll_promise::Promise;

mod inventory;

pub use inventory::{ExportKind, InventoryView};

use crate::core::hygiene::scan::{self, Outcome, Progress, ScanOptions, ScanReport};
use crate::ui::context::{Command, Tab, TabContext, TabView};
use crate::ui::file_dialog::{self, Picked};
use crate::ui::remote::{spawn, spawn_blocking};
use crate::ui::theme::{self, Tone};
use crate::ui::widgets;

/// Where the folder dialog comes from: the system's in the app, a fixed path in tests.
pub trait FolderPicker: Send + Sync {
    fn pick_folder(&self) -> BoxFuture<'static, Picked>;
}

/// The system's folder dialog (rfd).
pub struct NativeFolderPicker;

impl FolderPicker for NativeFolderPicker {
    fn pick_folder(&self) -> BoxFuture<'static, Picked> {
        file_dialog::native(async {
            rfd::AsyncFileDialog::new()
                .set_title("Folder to scan for secrets")
                .pick_folder()
                .await
                .map(|f| f.path().to_path_buf())
        })
        .boxed()
    }
}

/// A scan on its way.
struct Running {
    progress: Arc<Progress>,
    cancel: Arc<AtomicBool>,
    promise: Promise<Result<ScanReport, String>>,
}

pub struct HygieneTab {
    /// Every key across connections, and the findings.
    pub inventory: InventoryView,
    /// The folder to scan, as typed or picked.
    pub folder: String,
    picker: Arc<dyn FolderPicker>,
    browse: Option<Promise<Picked>>,
    running: Option<Running>,
    report: Option<ScanReport>,
    /// Why the last scan could not run, or a note about the folder dialog.
    problem: Option<String>,
    /// How many secrets a scan would look for, for the session generation and the number of
    /// tokens issued it was counted at (counted when those change, not every frame).
    held: Option<(u64, usize, usize)>,
}

impl Default for HygieneTab {
    fn default() -> Self {
        Self {
            inventory: InventoryView::default(),
            folder: String::new(),
            picker: Arc::new(NativeFolderPicker),
            browse: None,
            running: None,
            report: None,
            problem: None,
            held: None,
        }
    }
}

impl HygieneTab {
    /// Replaces the folder dialog (tests).
    pub fn set_folder_picker(&mut self, picker: Arc<dyn FolderPicker>) {
        self.picker = picker;
    }

    /// The last finished scan.
    pub fn report(&self) -> Option<&ScanReport> {
        self.report.as_ref()
    }

    pub fn is_scanning(&self) -> bool {
        self.running.is_some()
    }

    fn start(&mut self, cx: &TabContext<'_>) {
        let root = PathBuf::from(self.folder.trim());
        if self.folder.trim().is_empty() {
            self.problem = Some("Type or choose the folder to scan".to_owned());
            return;
        }
        let issued = cx.recorder.issued_tokens();
        let targets = scan::held_secrets(&cx.config.connections, cx.stored, &issued);
        let progress = Arc::new(Progress::default());
        let cancel = Arc::new(AtomicBool::new(false));
        let (p, c) = (Arc::clone(&progress), Arc::clone(&cancel));
        let rec = cx.recorder.clone();
        let promise = spawn_blocking(
            cx.rt,
            &cx.egui_ctx,
            move || {
                let report = scan::scan(&root, &targets, ScanOptions::default(), &p, &c)
                    .map_err(|e| e.to_string())?;
                scan::record(&rec, &report);
                Ok(report)
            },
            || Err("The scan stopped unexpectedly".to_owned()),
        );
        self.problem = None;
        self.running = Some(Running {
            progress,
            cancel,
            promise,
        });
    }

    fn settle_scan(&mut self) {
        let Some(run) = self.running.take() else {
            return;
        };
        match run.promise.try_take() {
            Ok(Ok(report)) => self.report = Some(report),
            Ok(Err(e)) => self.problem = Some(e),
            Err(promise) => {
                self.running = Some(Running { promise, ..run });
            }
        }
    }

    fn settle_browse(&mut self) {
        let Some(p) = self.browse.take() else {
            return;
        };
        match p.try_take() {
            Ok(Picked::Chosen(path)) => self.folder = path.display().to_string(),
            Ok(Picked::Cancelled) => {}
            Ok(Picked::Unavailable(why)) => {
                self.problem = Some(format!("{why} Type the folder's path in the field."));
            }
            Err(p) => self.browse = Some(p),
        }
    }

    /// The folder field, Browse…, Scan or (while scanning) the progress and Cancel.
    fn controls_ui(&mut self, ui: &mut Ui, cx: &TabContext<'_>) {
        let issued = cx.recorder.issued_count();
        let held = match self.held {
            Some((generation, tokens, n)) if generation == cx.generation && tokens == issued => n,
            _ => {
                let tokens = cx.recorder.issued_tokens();
                let n = scan::held_secrets(&cx.config.connections, cx.stored, &tokens).len();
                self.held = Some((cx.generation, issued, n));
                n
            }
        };
        widgets::muted(
            ui,
            format!(
                "Looks in the files of a folder (a repository checkout, a home folder) for every secret Keydeck holds: {} of {}{}. .gitignore is respected; binary files and files over 8 MiB are skipped. Only the place and the masked prefix are shown, never the text found.",
                crate::words::count(held, "secret", "secrets"),
                crate::words::count(cx.config.connections.len(), "connection", "connections"),
                if issued > 0 {
                    format!(
                        ", {} issued this session among them",
                        crate::words::count(issued, "auth token", "auth tokens")
                    )
                } else {
                    String::new()
                }
            ),
        );
        ui.add_space(theme::SPACE_S);
        if let Some(dropped) = file_dialog::dropped_file(ui.ctx()).filter(|p| p.is_dir()) {
            self.folder = dropped.display().to_string();
        }
        let scanning = self.running.is_some();
        let mut go = false;
        ui.horizontal(|ui| {
            let r = ui.add_enabled(
                !scanning,
                egui::TextEdit::singleline(&mut self.folder)
                    .hint_text("/home/you/src/shop")
                    .desired_width((ui.available_width() - 400.0).max(200.0)),
            );
            widgets::name_widget(ui, &r, "Folder to scan");
            go |= r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if ui
                .add_enabled(
                    !scanning && self.browse.is_none(),
                    egui::Button::new("Browse…"),
                )
                .clicked()
            {
                self.browse = Some(spawn(
                    cx.rt,
                    &cx.egui_ctx,
                    self.picker.pick_folder(),
                    || Picked::Cancelled,
                ));
            }
            if scanning {
                if ui.button("Cancel").clicked()
                    && let Some(run) = &self.running
                {
                    run.cancel.store(true, Ordering::SeqCst);
                }
            } else {
                let scan = ui.add_enabled(
                    held > 0 && !self.folder.trim().is_empty(),
                    egui::Button::new(RichText::new("Scan").strong()),
                );
                let reason = if held == 0 {
                    Some("No secret is held yet: add a connection first")
                } else if self.folder.trim().is_empty() {
                    Some("Type or choose a folder")
                } else {
                    None
                };
                go |= widgets::disabled_reason_ui(ui, scan, reason).clicked();
            }
        });
        if go && !scanning && held > 0 {
            self.start(cx);
        }
        if let Some(run) = &self.running {
            let s = run.progress.snapshot();
            ui.horizontal(|ui| {
                ui.spinner();
                widgets::muted(
                    ui,
                    format!(
                        "Scanning… {} files, {:.1} MB read, {} so far",
                        crate::words::thousands(s.files_scanned),
                        s.bytes_scanned as f64 / 1_000_000.0,
                        crate::words::count(s.matches as usize, "match", "matches")
                    ),
                );
            });
            ui.ctx().request_repaint_after(Duration::from_millis(100));
        }
        if let Some(p) = &self.problem {
            widgets::field_error(ui, p);
        }
    }

    /// What the last scan found.
    fn report_ui(&self, ui: &mut Ui, out: &mut Vec<Command>) {
        let Some(r) = &self.report else {
            return;
        };
        ui.add_space(theme::SPACE_M);
        let counts = format!(
            "{} files scanned ({:.1} MB), {} binary and {} too large skipped, {} looked for, in {:.1} s.",
            crate::words::thousands(r.files_scanned),
            r.bytes_scanned as f64 / 1_000_000.0,
            r.skipped_binary,
            r.skipped_large,
            crate::words::count(r.secrets, "secret", "secrets"),
            r.elapsed.as_secs_f64()
        );
        let stopped = if r.outcome == Outcome::Cancelled {
            " The scan was cancelled: the rest of the folder was not read."
        } else {
            ""
        };
        if r.is_clean() {
            widgets::message(
                ui,
                Tone::Success,
                &format!("No secret found in {}", r.root.display()),
                &format!("{counts}{stopped}"),
                &[],
            );
        } else {
            widgets::message(
                ui,
                Tone::Error,
                &format!(
                    "{} in {}",
                    crate::words::count(r.findings.len(), "secret found", "secrets found"),
                    r.root.display()
                ),
                &format!(
                    "Rotate each key that was found and remove the copy from the file (and from the repository's history). {counts}{stopped}"
                ),
                &[],
            );
            ui.add_space(theme::SPACE_S);
            findings_table(ui, r, out);
        }
        for refused in &r.refused {
            widgets::muted(
                ui,
                format!(
                    "Not looked for: {} of {} ({}): {}",
                    refused.kind, refused.origin.connection, refused.masked, refused.reason
                ),
            );
        }
    }
}

/// One row per place found: file, line:column, what it is, the masked prefix, and where it
/// came from with a way to it.
fn findings_table(ui: &mut Ui, r: &ScanReport, out: &mut Vec<Command>) {
    TableBuilder::new(ui)
        .striped(true)
        .resizable(false)
        .vscroll(false)
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        .column(Column::remainder().at_least(200.0).clip(true))
        .column(Column::exact(90.0))
        .column(Column::exact(150.0))
        .column(Column::exact(80.0))
        .column(Column::exact(260.0).clip(true))
        .header(24.0, |mut h| {
            for title in ["File", "Line:col", "What", "Secret", "Where it came from"] {
                h.col(|ui| {
                    ui.label(RichText::new(title).strong());
                });
            }
        })
        .body(|mut body| {
            for f in &r.findings {
                body.row(theme::ROW_HEIGHT, |mut row| {
                    row.col(|ui| {
                        ui.label(relative(&r.root, &f.path));
                    });
                    row.col(|ui| {
                        ui.monospace(format!("{}:{}", f.line, f.column));
                    });
                    row.col(|ui| {
                        ui.label(&f.kind);
                    });
                    row.col(|ui| {
                        ui.monospace(&f.masked);
                    });
                    row.col(|ui| origin_ui(ui, f, out));
                });
            }
        });
}

/// The connection (and field) the secret belongs to, with Open: its connection, on the tab
/// where it is rotated.
fn origin_ui(ui: &mut Ui, f: &scan::Finding, out: &mut Vec<Command>) {
    let Some(o) = f.origins.first() else {
        return;
    };
    let r = ui.button("Open");
    let label = format!("Open {} of {}", o.item, o.connection);
    ui.ctx()
        .accesskit_node_builder(r.id, |n| n.set_label(label.clone()));
    if r.on_hover_text(&label).clicked() {
        out.push(Command::SelectConnection(o.connection_id.clone()));
        // An issued token is revoked on its user's tokens; a key is rotated on API keys.
        let tab = if f.kind == scan::AUTH_TOKEN {
            Tab::Users
        } else {
            Tab::Keys
        };
        out.push(Command::SelectTab(tab));
    }
    let more = if f.origins.len() > 1 {
        format!(" (+{} more)", f.origins.len() - 1)
    } else {
        String::new()
    };
    ui.label(format!("{} · {}{more}", o.connection, o.item));
}

/// A path shown under the folder that was scanned.
fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

impl TabView for HygieneTab {
    fn id(&self) -> Tab {
        Tab::Hygiene
    }

    fn settle(&mut self, cx: &mut TabContext<'_>) -> Vec<Command> {
        self.inventory.settle(cx);
        self.settle_scan();
        self.settle_browse();
        Vec::new()
    }

    fn ui(&mut self, ui: &mut Ui, cx: &mut TabContext<'_>) -> Vec<Command> {
        let mut out = Vec::new();
        super::header_ui(
            ui,
            "Hygiene",
            "Across every connection: where Keydeck's secrets should not be",
            |_| {},
        );
        ui.add_space(theme::SPACE_S);
        egui::ScrollArea::vertical()
            .auto_shrink([false, true])
            .show(ui, |ui| {
                self.inventory.ui(ui, cx, &mut out);
                ui.add_space(theme::SPACE_L);
                ui.label(RichText::new("Leak scan").strong().size(15.0));
                self.controls_ui(ui, cx);
                self.report_ui(ui, &mut out);
            });
        out
    }
}

/// A picker that hands out a fixed folder (tests).
pub struct FixedFolder(pub PathBuf);

impl FolderPicker for FixedFolder {
    fn pick_folder(&self) -> BoxFuture<'static, Picked> {
        let p = self.0.clone();
        async move { Picked::Chosen(p) }.boxed()
    }
}
