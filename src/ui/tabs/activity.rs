//! The Activity window: the audit trail newest first, a filter, the chain's status, exports
//! (JSON lines or CSV) and "Copy diagnostics".

use std::path::{Path, PathBuf};
use std::sync::Arc;

use egui::{RichText, Ui};
use futures::FutureExt;
use futures::future::BoxFuture;
use poll_promise::Promise;
use tokio::runtime::Handle;

use crate::audit::{self, Record};
use crate::ui::context::Command;
use crate::ui::file_dialog::{self, PathPrompt, Picked, PromptOutcome};
use crate::ui::theme::{self, Tone};
use crate::ui::toasts::Toast;
use crate::ui::widgets;

/// Where the export dialog comes from: the native one in the app, a fixed path in tests.
pub trait SavePicker: Send + Sync {
    fn pick_save(&self, suggested_name: String) -> BoxFuture<'static, Picked>;
}

/// The system's save dialog (rfd).
pub struct NativeSavePicker;

impl SavePicker for NativeSavePicker {
    fn pick_save(&self, suggested_name: String) -> BoxFuture<'static, Picked> {
        file_dialog::native(async move {
            rfd::AsyncFileDialog::new()
                .set_title("Export activity")
                .set_file_name(suggested_name)
                .add_filter("JSON lines", &["jsonl"])
                .add_filter("CSV", &["csv"])
                .save_file()
                .await
                .map(|f| f.path().to_path_buf())
        })
        .boxed()
    }
}

/// How an export ended.
enum Exported {
    Written(PathBuf),
    Failed(String),
    Cancelled,
    /// No save dialog could open: why, to ask for a typed path.
    NoDialog(String),
}

fn suggested_name(format: ExportFormat) -> String {
    format!("keydeck-activity.{}", format.extension())
}

fn written(path: &Path) -> Toast {
    Toast::success(format!("Exported activity to {}", path.display()))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    JsonLines,
    Csv,
}

impl ExportFormat {
    fn extension(self) -> &'static str {
        match self {
            ExportFormat::JsonLines => "jsonl",
            ExportFormat::Csv => "csv",
        }
    }
}

/// Writes `records` to `path`. Records hold no secret values (targets are masked).
pub fn export(records: &[Record], format: ExportFormat, path: &Path) -> std::io::Result<()> {
    let mut out = String::new();
    match format {
        ExportFormat::JsonLines => {
            for r in records {
                out.push_str(&serde_json::to_string(r).map_err(std::io::Error::other)?);
                out.push('\n');
            }
        }
        ExportFormat::Csv => {
            out.push_str("seq,time,user,connection,action,target,outcome,prev,hash\n");
            for r in records {
                let fields = [
                    r.seq.to_string(),
                    r.time.clone(),
                    r.user.clone(),
                    r.connection.clone(),
                    r.action.clone(),
                    r.target.clone(),
                    r.outcome.clone(),
                    r.prev.clone(),
                    r.hash.clone(),
                ];
                let line: Vec<String> = fields.iter().map(|f| crate::words::csv_field(f)).collect();
                out.push_str(&line.join(","));
                out.push('\n');
            }
        }
    }
    // Private to the user, like every file Keydeck writes.
    crate::config::write_atomically(path, out.as_bytes())
}

/// Whether a record matches the filter text (any field, case-insensitive).
pub fn matches(r: &Record, filter: &str) -> bool {
    let f = filter.trim().to_lowercase();
    f.is_empty()
        || [
            &r.time,
            &r.user,
            &r.connection,
            &r.action,
            &r.target,
            &r.outcome,
        ]
        .iter()
        .any(|s| s.to_lowercase().contains(&f))
}

pub struct ActivityView {
    pub open: bool,
    pub filter: String,
    /// Oldest first, as in the file.
    records: Vec<Record>,
    /// The chain's status: (fully proven, what was proven and what not), or what is wrong.
    chain: Result<(bool, String), String>,
    stale: bool,
    /// The banner about a trail found altered at start-up was dismissed (the Activity window
    /// still says it).
    pub chain_break_dismissed: bool,
    /// The trail found altered at start-up, shown above the current segment.
    pub chain_break: Option<audit::ChainBreak>,
    picker: Arc<dyn SavePicker>,
    exporting: Option<(Promise<Exported>, ExportFormat)>,
    /// The save dialog could not open: a path typed by hand, for this format.
    path_prompt: Option<(ExportFormat, PathPrompt)>,
    /// An export finished in the window (a typed path): its toast, for the next settle.
    done: Option<Toast>,
    /// A read and verification of the trail on its way (it asks the keychain: off the UI
    /// thread).
    loading: Option<Promise<Loaded>>,
}

/// The trail as read, and what its verification proved.
type Loaded = (Vec<Record>, Result<(bool, String), String>);

fn load(path: &Path, vault: &crate::vault::Vault) -> Loaded {
    let records = audit::read_readable(path).unwrap_or_default();
    let chain = audit::verify(path, vault)
        .map(|r| (r.is_proven(), r.statement().join(" ")))
        .map_err(|e| e.to_string());
    (records, chain)
}

impl Default for ActivityView {
    fn default() -> Self {
        Self {
            open: false,
            filter: String::new(),
            records: Vec::new(),
            chain: Ok((true, String::new())),
            stale: true,
            chain_break_dismissed: false,
            chain_break: None,
            picker: Arc::new(NativeSavePicker),
            exporting: None,
            path_prompt: None,
            done: None,
            loading: None,
        }
    }
}

impl ActivityView {
    pub fn set_save_picker(&mut self, picker: Arc<dyn SavePicker>) {
        self.picker = picker;
    }

    /// The trail changed: read it again the next time the window is drawn.
    pub fn mark_stale(&mut self) {
        self.stale = true;
    }

    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// The records that pass the filter, newest first.
    pub fn visible(&self) -> Vec<&Record> {
        self.records
            .iter()
            .rev()
            .filter(|r| matches(r, &self.filter))
            .collect()
    }

    /// Reads the trail again and verifies it against the keychain behind `vault`, here and
    /// now (tests); the window does it off the UI thread.
    pub fn reload(&mut self, path: &Path, vault: &crate::vault::Vault) {
        self.stale = false;
        (self.records, self.chain) = load(path, vault);
    }

    fn start_reload(
        &mut self,
        rt: &Handle,
        ctx: &egui::Context,
        path: &Path,
        vault: &crate::vault::Vault,
    ) {
        self.stale = false;
        let (path, vault) = (path.to_owned(), vault.clone());
        self.loading = Some(crate::ui::remote::spawn_blocking(
            rt,
            ctx,
            move || load(&path, &vault),
            || (Vec::new(), Err("reading the trail crashed".to_owned())),
        ));
    }

    /// The records that pass the filter, oldest first: what an export writes.
    fn to_export(&self) -> Vec<Record> {
        self.records
            .iter()
            .filter(|r| matches(r, &self.filter))
            .cloned()
            .collect()
    }

    /// Starts an export of the filtered records (oldest first) to a file the user picks.
    pub fn start_export(&mut self, rt: &Handle, ctx: &egui::Context, format: ExportFormat) {
        let records = self.to_export();
        let pick = self.picker.pick_save(suggested_name(format));
        self.path_prompt = None;
        let promise = crate::ui::remote::spawn(
            rt,
            ctx,
            async move {
                match pick.await {
                    Picked::Chosen(path) => match export(&records, format, &path) {
                        Ok(()) => Exported::Written(path),
                        Err(e) => Exported::Failed(e.to_string()),
                    },
                    Picked::Cancelled => Exported::Cancelled,
                    Picked::Unavailable(why) => Exported::NoDialog(why),
                }
            },
            || Exported::Failed("the export crashed".to_owned()),
        );
        self.exporting = Some((promise, format));
    }

    /// Settles a finished read of the trail, and a finished export into a toast.
    pub fn settle(&mut self) -> Option<Toast> {
        if let Some(p) = self.loading.take() {
            match p.try_take() {
                Ok((records, chain)) => (self.records, self.chain) = (records, chain),
                Err(p) => self.loading = Some(p),
            }
        }
        if let Some(t) = self.done.take() {
            return Some(t);
        }
        let (p, format) = self.exporting.take()?;
        match p.try_take() {
            Ok(Exported::Cancelled) => None,
            Ok(Exported::Written(path)) => Some(written(&path)),
            Ok(Exported::Failed(e)) => {
                Some(Toast::error(format!("Could not export the activity: {e}")))
            }
            Ok(Exported::NoDialog(why)) => {
                let prompt = PathPrompt::save(why, "Save", &suggested_name(format));
                self.path_prompt = Some((format, prompt));
                None
            }
            Err(p) => {
                self.exporting = Some((p, format));
                None
            }
        }
    }

    /// The typed path, when the save dialog could not open.
    fn path_prompt_ui(&mut self, ui: &mut Ui) {
        let Some((format, prompt)) = &mut self.path_prompt else {
            return;
        };
        match prompt.ui(ui) {
            PromptOutcome::Open => {}
            PromptOutcome::Cancelled => self.path_prompt = None,
            PromptOutcome::Chosen(path) => {
                let format = *format;
                match export(&self.to_export(), format, &path) {
                    Ok(()) => {
                        self.done = Some(written(&path));
                        self.path_prompt = None;
                    }
                    Err(e) => {
                        if let Some((_, prompt)) = &mut self.path_prompt {
                            prompt.failed(format!("Could not write it: {e}"));
                        }
                    }
                }
            }
        }
        ui.add_space(theme::SPACE_XS);
    }

    pub fn ui(
        &mut self,
        ctx: &egui::Context,
        rt: &Handle,
        audit_path: Option<&Path>,
        vault: &crate::vault::Vault,
        bounds: egui::Rect,
    ) -> Vec<Command> {
        let mut out = Vec::new();
        if !self.open {
            return out;
        }
        if self.stale
            && self.loading.is_none()
            && let Some(path) = audit_path
        {
            self.start_reload(rt, ctx, path, vault);
        }
        let mut open = self.open;
        let mut export = None;
        egui::Window::new("Activity")
            .open(&mut open)
            .constrain_to(bounds)
            .default_pos(bounds.min + egui::vec2(24.0, 24.0))
            .default_size([
                760.0_f32.min(bounds.width() - 48.0).max(240.0),
                480.0_f32.min(bounds.height() - 48.0).max(160.0),
            ])
            .show(ctx, |ui| export = self.window_ui(ui, audit_path, &mut out));
        self.open = open;
        // Requests start here, outside the window's closure, like every other request.
        if let Some(format) = export {
            self.start_export(rt, ctx, format);
        }
        out
    }

    /// Draws the window's content; returns the export the user asked for, if any.
    fn window_ui(
        &mut self,
        ui: &mut Ui,
        audit_path: Option<&Path>,
        out: &mut Vec<Command>,
    ) -> Option<ExportFormat> {
        let mut export = None;
        let dark = ui.visuals().dark_mode;
        if let Some(found) = &self.chain_break {
            widgets::message(ui, Tone::Error, &found.headline(), &found.body(), &[]);
            ui.add_space(theme::SPACE_XS);
        }
        match (&self.chain, audit_path) {
            _ if self.loading.is_some() => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    widgets::muted(ui, "Reading and checking the trail…");
                })
                .response
            }
            (_, None) => widgets::muted(ui, "The audit trail could not be opened"),
            (Ok((proven, text)), Some(_)) => ui.colored_label(
                theme::tone(
                    if *proven {
                        Tone::Success
                    } else {
                        Tone::Warning
                    },
                    dark,
                )
                .fg,
                text,
            ),
            (Err(e), Some(_)) => ui.colored_label(
                theme::tone(Tone::Error, dark).fg,
                format!("Chain broken: {e}"),
            ),
        };
        ui.horizontal(|ui| {
            let r = ui.add(
                egui::TextEdit::singleline(&mut self.filter)
                    .hint_text("Filter by action, target, user…")
                    .desired_width(280.0),
            );
            widgets::name_widget(ui, &r, "Filter activity");
            let busy = self.exporting.is_some();
            if ui
                .add_enabled(!busy, egui::Button::new("Export JSON lines…"))
                .clicked()
            {
                export = Some(ExportFormat::JsonLines);
            }
            if ui
                .add_enabled(!busy, egui::Button::new("Export CSV…"))
                .clicked()
            {
                export = Some(ExportFormat::Csv);
            }
            if ui.button("Copy diagnostics").clicked() {
                out.push(Command::CopyDiagnostics);
            }
        });
        self.path_prompt_ui(ui);
        ui.separator();
        let visible = self.visible();
        if visible.is_empty() {
            widgets::muted(ui, "No activity yet");
            return export;
        }
        egui::ScrollArea::vertical().show(ui, |ui| {
            egui::Grid::new("activity-grid")
                .striped(true)
                .num_columns(5)
                .show(ui, |ui| {
                    for h in ["Time", "Action", "Target", "Connection", "Outcome"] {
                        ui.label(RichText::new(h).strong());
                    }
                    ui.end_row();
                    for r in visible {
                        widgets::muted(ui, &r.time);
                        ui.label(RichText::new(&r.action).monospace());
                        ui.label(&r.target);
                        ui.label(&r.connection);
                        if r.outcome == "ok" {
                            ui.label("ok");
                        } else {
                            ui.colored_label(theme::tone(Tone::Error, dark).fg, &r.outcome);
                        }
                        ui.end_row();
                    }
                });
        });
        export
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{AuditLog, Event};

    #[test]
    fn the_filter_matches_any_field_and_exports_keep_the_chain_fields() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let vault = crate::vault::Vault::memory();
        let mut log = AuditLog::open(&path, &vault).unwrap();
        log.append(&Event::ok("Prod app", "key.created", "ci-bot (a1b2…)"))
            .unwrap();
        log.append(&Event::failed(
            "Prod app",
            "token.revoked",
            "user alice",
            "not found",
        ))
        .unwrap();
        let mut view = ActivityView::default();
        view.reload(&path, &vault);
        assert_eq!(view.visible()[0].action, "token.revoked", "newest first");
        view.filter = "CI-BOT".to_owned();
        assert_eq!(view.visible().len(), 1);
        view.filter = "not found".to_owned();
        assert_eq!(view.visible()[0].target, "user alice");

        let jsonl = dir.path().join("out.jsonl");
        export(view.records(), ExportFormat::JsonLines, &jsonl).unwrap();
        let again: Vec<Record> = std::fs::read_to_string(&jsonl)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(again, view.records());

        let csv = dir.path().join("out.csv");
        export(view.records(), ExportFormat::Csv, &csv).unwrap();
        let text = std::fs::read_to_string(&csv).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert!(text.contains("\"failed: not found\"") || text.contains("failed: not found"));
    }
}
