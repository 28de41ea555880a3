//! Bulk tokens: import a file of uids, preview how many exist, are missing or are invalid,
//! issue one token per existing uid with bounded concurrency, cancel, and export the results
//! (tokens left out unless explicitly asked for, after a warning).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use egui::{RichText, Ui};
use egui_extras::{Column, TableBuilder};
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt, stream};
use poll_promise::Promise;
use tokio::runtime::Handle;
use tokio::task::AbortHandle;

use crate::core::errors;
use crate::core::ops::tokens;
use crate::core::recorder::Recorder;
use crate::model::uid::{self, UidProblem};
use crate::providers::cometchat::CometChatClient;
use crate::providers::{ApiError, ErrorKind};
use crate::secret::Secret;
use crate::ui::context::{Command, TabContext};
use crate::ui::file_dialog::{self, PathPrompt, Picked, PromptOutcome};
use crate::ui::remote::spawn;
use crate::ui::theme::{self, Tone};
use crate::ui::toasts::Toast;
use crate::ui::widgets;

use super::{UsersCommand, own, thousands};

/// Token requests in flight during a run, and lookups in flight during the preview.
pub const ISSUE_CONCURRENCY: usize = 8;
const CHECK_CONCURRENCY: usize = 16;
/// How many not-issued uids the summary names before "and N more".
const NAMED_IN_SUMMARY: usize = 12;

/// Where file dialogs come from: the native one in the app, fixed paths in tests.
pub trait FilePicker: Send + Sync {
    fn pick_import(&self) -> BoxFuture<'static, Picked>;
    fn pick_export(&self, suggested_name: String) -> BoxFuture<'static, Picked>;

    /// Where to save the export of the user list (CSV or JSON, from the name's extension).
    fn pick_users_export(&self, suggested_name: String) -> BoxFuture<'static, Picked> {
        file_dialog::native(async move {
            rfd::AsyncFileDialog::new()
                .set_title("Export the users")
                .set_file_name(suggested_name)
                .add_filter("CSV", &["csv"])
                .add_filter("JSON", &["json"])
                .save_file()
                .await
                .map(|f| f.path().to_path_buf())
        })
        .boxed()
    }
}

/// The system's file dialogs (rfd).
pub struct NativePicker;

impl FilePicker for NativePicker {
    fn pick_import(&self) -> BoxFuture<'static, Picked> {
        file_dialog::native(async {
            rfd::AsyncFileDialog::new()
                .set_title("Import uids")
                .add_filter("CSV or text", &["csv", "txt", "tsv"])
                .add_filter("All files", &["*"])
                .pick_file()
                .await
                .map(|f| f.path().to_path_buf())
        })
        .boxed()
    }

    fn pick_export(&self, suggested_name: String) -> BoxFuture<'static, Picked> {
        file_dialog::native(async move {
            rfd::AsyncFileDialog::new()
                .set_title("Export bulk token results")
                .set_file_name(suggested_name)
                .add_filter("CSV", &["csv"])
                .save_file()
                .await
                .map(|f| f.path().to_path_buf())
        })
        .boxed()
    }
}

/// What a typed path (the file dialog could not open) is for.
#[derive(Clone, Copy)]
enum PromptFor {
    Import,
    Export { include_tokens: bool },
}

pub enum BulkCommand {
    Check,
    Run,
    PickImport,
    PickExport { include_tokens: bool },
}

/// Whether a uid exists, as the preview found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    Pending,
    Exists,
    Missing,
    Failed(String),
}

/// What happened to one row in the run.
#[derive(Clone, Debug)]
pub enum Outcome {
    Issued(Secret),
    UnknownUser,
    InvalidUid(String),
    Failed(String),
    NotRun,
}

impl Outcome {
    fn word(&self) -> String {
        match self {
            Outcome::Issued(_) => "issued".to_owned(),
            Outcome::UnknownUser => "unknown user".to_owned(),
            Outcome::InvalidUid(why) => format!("invalid uid: {why}"),
            Outcome::Failed(why) => format!("failed: {why}"),
            Outcome::NotRun => "not run (cancelled)".to_owned(),
        }
    }
}

pub struct BulkRow {
    pub line: usize,
    pub raw: String,
    pub uid: Result<String, UidProblem>,
    pub check: Check,
    pub outcome: Option<Outcome>,
}

impl BulkRow {
    fn shown_uid(&self) -> &str {
        match &self.uid {
            Ok(u) => u,
            Err(_) => &self.raw,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Phase {
    #[default]
    Empty,
    Checking,
    Ready,
    Running,
    Finished {
        cancelled: bool,
    },
}

enum Msg {
    Checked(usize, Check),
    Issued(usize, Result<Secret, ApiError>),
    Finished,
}

struct ExportChoice {
    include_tokens: bool,
}

/// Counts for the preview and the summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub total: usize,
    pub invalid: usize,
    pub exist: usize,
    pub missing: usize,
    pub unchecked: usize,
    pub issued: usize,
    pub failed: usize,
    pub not_run: usize,
}

pub struct BulkTokens {
    picker: Arc<dyn FilePicker>,
    source: Option<String>,
    rows: Vec<BulkRow>,
    duplicates: usize,
    phase: Phase,
    rx: Option<mpsc::Receiver<Msg>>,
    cancel: Option<Arc<AtomicBool>>,
    abort: Option<AbortHandle>,
    /// Rows sent to the server in the run.
    to_issue: usize,
    import_pick: Option<Promise<Picked>>,
    export_pick: Option<(Promise<Picked>, bool)>,
    /// The file dialog could not open: a path typed by hand instead.
    path_prompt: Option<(PromptFor, PathPrompt)>,
    export_dialog: Option<ExportChoice>,
    notice: Option<(Tone, String)>,
    only_problems: bool,
    pending: Vec<Command>,
}

impl Default for BulkTokens {
    fn default() -> Self {
        Self::with_picker(Arc::new(NativePicker))
    }
}

impl Drop for BulkTokens {
    fn drop(&mut self) {
        if let Some(c) = &self.cancel {
            c.store(true, Ordering::SeqCst);
        }
    }
}

impl BulkTokens {
    pub fn with_picker(picker: Arc<dyn FilePicker>) -> Self {
        Self {
            picker,
            source: None,
            rows: Vec::new(),
            duplicates: 0,
            phase: Phase::Empty,
            rx: None,
            cancel: None,
            abort: None,
            to_issue: 0,
            import_pick: None,
            export_pick: None,
            path_prompt: None,
            export_dialog: None,
            notice: None,
            only_problems: false,
            pending: Vec::new(),
        }
    }

    /// Replaces the file dialogs (tests use fixed paths).
    pub fn set_file_picker(&mut self, picker: Arc<dyn FilePicker>) {
        self.picker = picker;
    }

    pub(super) fn picker(&self) -> Arc<dyn FilePicker> {
        Arc::clone(&self.picker)
    }

    pub(super) fn into_picker(self) -> Arc<dyn FilePicker> {
        Arc::clone(&self.picker)
    }

    pub fn has_dialog(&self) -> bool {
        self.export_dialog.is_some()
    }

    pub fn rows(&self) -> &[BulkRow] {
        &self.rows
    }

    pub fn is_running(&self) -> bool {
        matches!(self.phase, Phase::Checking | Phase::Running)
    }

    pub fn counts(&self) -> Counts {
        let mut c = Counts {
            total: self.rows.len(),
            ..Counts::default()
        };
        for r in &self.rows {
            if r.uid.is_err() {
                c.invalid += 1;
            } else {
                match r.check {
                    Check::Exists => c.exist += 1,
                    Check::Missing => c.missing += 1,
                    Check::Pending | Check::Failed(_) => c.unchecked += 1,
                }
            }
            match r.outcome {
                Some(Outcome::Issued(_)) => c.issued += 1,
                Some(Outcome::Failed(_)) => c.failed += 1,
                Some(Outcome::NotRun) => c.not_run += 1,
                _ => {}
            }
        }
        c
    }

    /// Reads a file of uids and starts the preview. Tests call this instead of the dialog.
    pub fn import_path(&mut self, path: PathBuf) -> Result<(), String> {
        if self.is_running() {
            return Err("Wait for the current run to finish or cancel it".to_owned());
        }
        let text = read_text(&path)?;
        let list = uid::parse_uid_list(&text);
        self.source = Some(
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.display().to_string()),
        );
        self.duplicates = list.duplicates;
        self.rows = list
            .lines
            .into_iter()
            .map(|l| BulkRow {
                line: l.line,
                raw: l.raw,
                uid: l.uid,
                check: Check::Pending,
                outcome: None,
            })
            .collect();
        self.notice = None;
        self.phase = Phase::Empty;
        if self.rows.is_empty() {
            self.notice = Some((
                Tone::Warning,
                "The file has no uids: one per line, or a CSV whose first column is the uid."
                    .to_owned(),
            ));
        } else {
            self.pending
                .push(own(UsersCommand::Bulk(BulkCommand::Check)));
        }
        Ok(())
    }

    /// Writes `uid,result[,token]` to `path`; the token column only with `include_tokens`.
    pub fn export_to(&self, path: PathBuf, include_tokens: bool) -> Result<usize, String> {
        let mut csv = String::from(if include_tokens {
            "uid,result,token\n"
        } else {
            "uid,result\n"
        });
        let mut n = 0;
        for r in &self.rows {
            let Some(outcome) = &r.outcome else { continue };
            csv.push_str(&crate::words::csv_field(r.shown_uid()));
            csv.push(',');
            csv.push_str(&crate::words::csv_field(&outcome.word()));
            if include_tokens {
                csv.push(',');
                if let Outcome::Issued(t) = outcome {
                    csv.push_str(&crate::words::csv_field(t.expose()));
                }
            }
            csv.push('\n');
            n += 1;
        }
        crate::config::write_atomically(&path, csv.as_bytes())
            .map_err(|e| format!("Could not write {}: {e}", path.display()))?;
        Ok(n)
    }

    /// Stops scheduling new token requests; those in flight finish and are reported.
    pub fn cancel(&mut self) {
        if let Some(c) = &self.cancel {
            c.store(true, Ordering::SeqCst);
        }
        if self.phase == Phase::Checking {
            if let Some(a) = self.abort.take() {
                a.abort();
            }
            self.rx = None;
            self.phase = Phase::Ready;
        }
    }

    fn cancelling(&self) -> bool {
        self.cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::SeqCst))
    }

    pub(super) fn handle(
        &mut self,
        cx: &TabContext<'_>,
        client: CometChatClient,
        command: BulkCommand,
    ) {
        let (ctx, rt) = (&cx.egui_ctx, cx.rt);
        match command {
            BulkCommand::Check => self.start_check(ctx, rt, client),
            BulkCommand::Run => self.start_run(ctx, rt, client, cx.recorder.clone()),
            BulkCommand::PickImport => {
                let f = self.picker.pick_import();
                self.path_prompt = None;
                self.import_pick = Some(spawn(rt, ctx, f, || Picked::Cancelled));
            }
            BulkCommand::PickExport { include_tokens } => {
                let f = self.picker.pick_export(self.export_name());
                self.path_prompt = None;
                self.export_pick = Some((spawn(rt, ctx, f, || Picked::Cancelled), include_tokens));
            }
        }
    }

    /// The export's suggested file name, after the imported file.
    fn export_name(&self) -> String {
        format!(
            "{}-tokens-results.csv",
            self.source
                .as_deref()
                .and_then(|s| Path::new(s).file_stem())
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "bulk".to_owned())
        )
    }

    fn start_check(&mut self, ctx: &egui::Context, rt: &Handle, client: CometChatClient) {
        let targets: Vec<(usize, String)> = self
            .rows
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.uid.as_ref().ok().map(|u| (i, u.clone())))
            .collect();
        for r in &mut self.rows {
            r.check = Check::Pending;
            r.outcome = None;
        }
        let (tx, rx) = mpsc::channel();
        let ctx = ctx.clone();
        let task = rt.spawn(async move {
            let mut results = stream::iter(targets)
                .map(|(i, uid)| {
                    let client = client.clone();
                    async move { (i, client.get_user(&uid, None).await) }
                })
                .buffer_unordered(CHECK_CONCURRENCY);
            while let Some((i, r)) = results.next().await {
                let check = match r {
                    Ok(_) => Check::Exists,
                    Err(e) if e.kind == ErrorKind::NotFound => Check::Missing,
                    Err(e) => Check::Failed(errors::explain(&e).title),
                };
                if tx.send(Msg::Checked(i, check)).is_err() {
                    return;
                }
                ctx.request_repaint();
            }
            let _ = tx.send(Msg::Finished);
            ctx.request_repaint();
        });
        self.rx = Some(rx);
        self.abort = Some(task.abort_handle());
        self.cancel = None;
        self.phase = Phase::Checking;
    }

    fn start_run(
        &mut self,
        ctx: &egui::Context,
        rt: &Handle,
        client: CometChatClient,
        rec: Recorder,
    ) {
        if self.phase != Phase::Ready && !matches!(self.phase, Phase::Finished { .. }) {
            return;
        }
        let mut targets: Vec<(usize, String)> = Vec::new();
        for (i, r) in self.rows.iter_mut().enumerate() {
            // A finished run is resumed: rows already issued keep their token.
            if matches!(r.outcome, Some(Outcome::Issued(_))) {
                continue;
            }
            r.outcome = match (&r.uid, &r.check) {
                (Err(p), _) => Some(Outcome::InvalidUid(p.to_string())),
                (Ok(_), Check::Missing) => Some(Outcome::UnknownUser),
                (Ok(_), Check::Failed(why)) => {
                    Some(Outcome::Failed(format!("could not check the uid: {why}")))
                }
                (Ok(u), Check::Exists | Check::Pending) => {
                    targets.push((i, u.clone()));
                    None
                }
            };
        }
        self.to_issue = targets.len();
        let cancel = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let ctx = ctx.clone();
        let stop = Arc::clone(&cancel);
        let task = rt.spawn(async move {
            let wake = ctx.clone();
            tokens::issue_many(&client, &rec, targets, ISSUE_CONCURRENCY, stop, |i, r| {
                let listening = tx.send(Msg::Issued(i, r)).is_ok();
                wake.request_repaint();
                listening
            })
            .await;
            let _ = tx.send(Msg::Finished);
            ctx.request_repaint();
        });
        self.rx = Some(rx);
        self.abort = Some(task.abort_handle());
        self.cancel = Some(cancel);
        self.phase = Phase::Running;
        self.notice = None;
    }

    /// Drains the run's channel and settles file dialogs: the start of the frame.
    pub(super) fn settle(&mut self, rec: &Recorder) -> Vec<Command> {
        let mut out = std::mem::take(&mut self.pending);
        if let Some(rx) = &self.rx {
            let mut finished = false;
            for msg in rx.try_iter() {
                match msg {
                    Msg::Checked(i, check) => {
                        if let Some(r) = self.rows.get_mut(i) {
                            r.check = check;
                        }
                    }
                    Msg::Issued(i, result) => {
                        if let Some(r) = self.rows.get_mut(i) {
                            r.outcome = Some(match result {
                                Ok(token) => Outcome::Issued(token),
                                Err(e) if e.kind == ErrorKind::NotFound => Outcome::UnknownUser,
                                Err(e) => Outcome::Failed(errors::explain(&e).title),
                            });
                        }
                    }
                    Msg::Finished => finished = true,
                }
            }
            if finished {
                self.rx = None;
                self.abort = None;
                self.phase = match self.phase {
                    Phase::Checking => Phase::Ready,
                    _ => {
                        let cancelled = self.cancelling();
                        for r in &mut self.rows {
                            if r.outcome.is_none() {
                                r.outcome = Some(Outcome::NotRun);
                            }
                        }
                        let c = self.counts();
                        out.push(Command::Toast(if cancelled {
                            Toast::info(format!(
                                "Bulk run cancelled: issued {} of {}",
                                c.issued, self.to_issue
                            ))
                        } else {
                            Toast::success(format!("Bulk run done: issued {}", tokens(c.issued)))
                        }));
                        Phase::Finished { cancelled }
                    }
                };
            }
        }

        if let Some(p) = self.import_pick.take() {
            match p.try_take() {
                Ok(Picked::Chosen(path)) => self.import_chosen(path, &mut out),
                Ok(Picked::Cancelled) => {}
                Ok(Picked::Unavailable(why)) => {
                    self.path_prompt = Some((PromptFor::Import, PathPrompt::open(why, "Import")));
                }
                Err(p) => self.import_pick = Some(p),
            }
        }
        if let Some((p, include_tokens)) = self.export_pick.take() {
            match p.try_take() {
                Ok(Picked::Chosen(path)) => {
                    if let Err(e) = self.export_chosen(&path, include_tokens, rec, &mut out) {
                        self.notice = Some((Tone::Error, e));
                    }
                }
                Ok(Picked::Cancelled) => {}
                Ok(Picked::Unavailable(why)) => {
                    let prompt = PathPrompt::save(why, "Save", &self.export_name());
                    self.path_prompt = Some((PromptFor::Export { include_tokens }, prompt));
                }
                Err(p) => self.export_pick = Some((p, include_tokens)),
            }
        }
        out
    }

    /// Imports the chosen file; a file that cannot be read says so and keeps what was shown.
    fn import_chosen(&mut self, path: PathBuf, out: &mut Vec<Command>) {
        if let Err(e) = self.import_path(path) {
            self.notice = Some((Tone::Error, e));
        }
        out.append(&mut self.pending);
    }

    /// Writes the results to the chosen file (and records it when tokens went into it).
    fn export_chosen(
        &mut self,
        path: &Path,
        include_tokens: bool,
        rec: &Recorder,
        out: &mut Vec<Command>,
    ) -> Result<(), String> {
        let result = self.export_to(path.to_owned(), include_tokens);
        if include_tokens {
            // Tokens written to a file leave Keydeck's care: that is worth a line.
            rec.record(
                "token.exported",
                &format!("bulk results to {}", path.display()),
                result.as_ref().map(|_| ()).map_err(Clone::clone),
            );
        }
        let n = result?;
        out.push(Command::Toast(Toast::success(format!(
            "Exported {} rows to {}{}",
            n,
            path.display(),
            if include_tokens { ", with tokens" } else { "" }
        ))));
        Ok(())
    }

    /// The typed path, when the file dialog could not open; a file dropped on the window
    /// imports at once.
    fn path_prompt_ui(&mut self, ui: &mut Ui, rec: &Recorder, out: &mut Vec<Command>) {
        if !self.is_running()
            && let Some(path) = file_dialog::dropped_file(ui.ctx())
        {
            self.path_prompt = None;
            self.import_chosen(path, out);
        }
        let Some((purpose, prompt)) = &mut self.path_prompt else {
            return;
        };
        let (chosen, purpose) = match prompt.ui(ui) {
            PromptOutcome::Open => return,
            PromptOutcome::Cancelled => {
                self.path_prompt = None;
                return;
            }
            PromptOutcome::Chosen(path) => (path, *purpose),
        };
        let result = match purpose {
            PromptFor::Import => self.import_path(chosen).map(|()| {
                out.append(&mut self.pending);
            }),
            PromptFor::Export { include_tokens } => {
                self.export_chosen(&chosen, include_tokens, rec, out)
            }
        };
        match result {
            Ok(()) => self.path_prompt = None,
            // What went wrong goes under the path, which stays as typed.
            Err(e) => {
                if let Some((_, prompt)) = &mut self.path_prompt {
                    prompt.failed(e);
                }
            }
        }
        ui.add_space(theme::SPACE_S);
    }

    pub(super) fn ui(&mut self, ui: &mut Ui, rec: &Recorder, out: &mut Vec<Command>) {
        ui.horizontal(|ui| {
            let busy = self.is_running() || self.import_pick.is_some();
            if ui
                .add_enabled(!busy, egui::Button::new("Import file…"))
                .on_hover_text(
                    "A CSV (uid in the first column) or a text file with one uid per line",
                )
                .clicked()
            {
                out.push(own(UsersCommand::Bulk(BulkCommand::PickImport)));
            }
            if let Some(s) = &self.source {
                widgets::muted(ui, format!("From {s}"));
            }
        });
        ui.add_space(theme::SPACE_S);
        self.path_prompt_ui(ui, rec, out);
        if file_dialog::file_hovering(ui.ctx()) && !self.is_running() {
            widgets::message(ui, Tone::Info, "Drop the file to import its uids", "", &[]);
            ui.add_space(theme::SPACE_S);
        }
        if let Some((tone, text)) = &self.notice {
            widgets::message(ui, *tone, text, "", &[]);
            ui.add_space(theme::SPACE_S);
        }
        if self.rows.is_empty() {
            super::super::empty_state_ui(
                ui,
                "Issue tokens for many users at once",
                "Import a CSV or text file of uids. Keydeck checks which exist, issues one token per existing user, and lets you export the results.",
                None,
            );
            return;
        }

        let c = self.counts();
        self.summary_ui(ui, c, out);
        ui.add_space(theme::SPACE_S);
        ui.horizontal(|ui| {
            ui.checkbox(&mut self.only_problems, "Only rows that were not issued");
        });
        self.table_ui(ui);
        self.export_dialog_ui(ui.ctx(), out);
    }

    fn summary_ui(&mut self, ui: &mut Ui, c: Counts, out: &mut Vec<Command>) {
        let dark = ui.visuals().dark_mode;
        theme::card_frame(ui.visuals()).show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal_wrapped(|ui| self.counts_ui(ui, c, dark));
            ui.add_space(theme::SPACE_S);
            match self.phase {
                Phase::Empty => {}
                Phase::Checking => self.checking_ui(ui, c),
                Phase::Ready => ready_ui(ui, c, out),
                Phase::Running => self.running_ui(ui, c),
                Phase::Finished { cancelled } => self.finished_ui(ui, c, cancelled, out),
            }
        });
    }

    /// How many uids, and how many of them exist, are missing, invalid, repeated, unchecked.
    fn counts_ui(&self, ui: &mut Ui, c: Counts, dark: bool) {
        ui.label(RichText::new(format!("{} uids", thousands(c.total as u64))).strong());
        widgets::badge(
            ui,
            &format!("{} exist", c.exist),
            theme::tone(Tone::Success, dark),
        );
        widgets::badge(
            ui,
            &format!("{} missing", c.missing),
            theme::tone(Tone::Warning, dark),
        );
        widgets::badge(
            ui,
            &format!("{} invalid", c.invalid),
            theme::tone(Tone::Error, dark),
        );
        if self.duplicates > 0 {
            widgets::badge(
                ui,
                &crate::words::count(self.duplicates, "repeat dropped", "repeats dropped"),
                theme::neutral(dark),
            );
        }
        if c.unchecked > 0 && self.phase != Phase::Checking {
            widgets::badge(
                ui,
                &format!("{} not checked", c.unchecked),
                theme::neutral(dark),
            );
        }
    }

    fn checking_ui(&mut self, ui: &mut Ui, c: Counts) {
        let checked = c.exist + c.missing;
        let valid = c.total - c.invalid;
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(format!("Checking which uids exist… {checked} of {valid}"));
            if ui.button("Cancel").clicked() {
                self.cancel();
            }
        });
    }

    fn running_ui(&mut self, ui: &mut Ui, c: Counts) {
        let done = c.issued
            + c.failed
            + self
                .rows
                .iter()
                .filter(|r| {
                    matches!(r.outcome, Some(Outcome::UnknownUser)) && r.check == Check::Exists
                })
                .count();
        let total = self.to_issue.max(1);
        ui.horizontal(|ui| {
            ui.add(
                egui::ProgressBar::new(done as f32 / total as f32)
                    .desired_width(260.0)
                    .show_percentage(),
            );
            ui.label(format!("Issued {} of {}", c.issued, self.to_issue));
            let cancelling = self.cancelling();
            if ui
                .add_enabled(
                    !cancelling,
                    egui::Button::new(if cancelling {
                        "Cancelling…"
                    } else {
                        "Cancel"
                    }),
                )
                .on_hover_text("Stop sending new requests; those in flight finish")
                .clicked()
            {
                self.cancel();
            }
        });
    }

    /// How the run ended, what was not issued, and export / run the rest.
    fn finished_ui(&mut self, ui: &mut Ui, c: Counts, cancelled: bool, out: &mut Vec<Command>) {
        let title = if cancelled {
            format!(
                "Issued {} of {} before you cancelled",
                c.issued, self.to_issue
            )
        } else {
            format!("Issued {}", tokens(c.issued))
        };
        let body = self.not_issued_text(c);
        let tone = if cancelled || c.failed > 0 {
            Tone::Warning
        } else {
            Tone::Success
        };
        let mut actions = vec!["Export results…"];
        if cancelled || c.failed > 0 {
            actions.push("Run the rest");
        }
        match widgets::message(ui, tone, &title, &body, &actions) {
            Some(0) => {
                self.export_dialog = Some(ExportChoice {
                    include_tokens: false,
                })
            }
            Some(_) => out.push(own(UsersCommand::Bulk(BulkCommand::Run))),
            None => {}
        }
    }

    /// The rows not issued (the first few by name) and how many were not run.
    fn not_issued_text(&self, c: Counts) -> String {
        let not_issued: Vec<String> = self
            .rows
            .iter()
            .filter(|r| !matches!(r.outcome, Some(Outcome::Issued(_)) | Some(Outcome::NotRun)))
            .map(|r| format!("{} ({})", r.shown_uid(), short_word(r.outcome.as_ref())))
            .collect();
        let mut body = String::new();
        if !not_issued.is_empty() {
            body = format!("Not issued ({}): ", not_issued.len());
            body.push_str(
                &not_issued
                    .iter()
                    .take(NAMED_IN_SUMMARY)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            if not_issued.len() > NAMED_IN_SUMMARY {
                body.push_str(&format!(
                    ", and {} more",
                    not_issued.len() - NAMED_IN_SUMMARY
                ));
            }
            body.push('.');
        }
        if c.not_run > 0 {
            if !body.is_empty() {
                body.push(' ');
            }
            body.push_str(&format!("{} not run.", thousands(c.not_run as u64)));
        }
        body
    }

    fn table_ui(&mut self, ui: &mut Ui) {
        let dark = ui.visuals().dark_mode;
        let shown: Vec<usize> = self
            .rows
            .iter()
            .enumerate()
            .filter(|(_, r)| !self.only_problems || !matches!(r.outcome, Some(Outcome::Issued(_))))
            .map(|(i, _)| i)
            .collect();
        TableBuilder::new(ui)
            .id_salt("bulk-table")
            .striped(true)
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::exact(56.0))
            .column(Column::initial(260.0).at_least(120.0).clip(true))
            .column(Column::exact(110.0))
            .column(Column::remainder().at_least(160.0).clip(true))
            .header(24.0, |mut h| {
                for t in ["Line", "UID", "Exists", "Result"] {
                    h.col(|ui| {
                        ui.label(RichText::new(t).strong());
                    });
                }
            })
            .body(|body| {
                body.rows(theme::ROW_HEIGHT - 4.0, shown.len(), |mut row| {
                    let Some(r) = shown.get(row.index()).and_then(|&i| self.rows.get(i)) else {
                        return;
                    };
                    row.col(|ui| {
                        widgets::muted(ui, r.line.to_string());
                    });
                    row.col(|ui| {
                        ui.add(
                            egui::Label::new(RichText::new(r.shown_uid()).monospace()).truncate(),
                        );
                    });
                    row.col(|ui| {
                        let (text, tone) = match (&r.uid, &r.check) {
                            (Err(_), _) => ("invalid", Tone::Error),
                            (Ok(_), Check::Exists) => ("exists", Tone::Success),
                            (Ok(_), Check::Missing) => ("missing", Tone::Warning),
                            (Ok(_), Check::Failed(_)) => ("unknown", Tone::Warning),
                            (Ok(_), Check::Pending) => ("…", Tone::Info),
                        };
                        widgets::badge(ui, text, theme::tone(tone, dark));
                    });
                    row.col(|ui| {
                        let (text, colour) = match &r.outcome {
                            None => match &r.uid {
                                Err(p) => (p.to_string(), theme::muted(dark)),
                                Ok(_) => (String::new(), theme::muted(dark)),
                            },
                            Some(o @ Outcome::Issued(t)) => (
                                format!("{} · {}", o.word(), t.masked()),
                                theme::tone(Tone::Success, dark).fg,
                            ),
                            Some(o @ Outcome::NotRun) => (o.word(), theme::muted(dark)),
                            Some(o) => (o.word(), theme::tone(Tone::Error, dark).fg),
                        };
                        ui.add(egui::Label::new(RichText::new(text).color(colour)).truncate());
                    });
                });
            });
    }

    fn export_dialog_ui(&mut self, ctx: &egui::Context, out: &mut Vec<Command>) {
        let issued = self.counts().issued;
        let Some(choice) = &mut self.export_dialog else {
            return;
        };
        let mut close = false;
        let modal = widgets::dialog(ctx, egui::Id::unique("bulk-export"), |ui| {
            ui.set_width(460.0);
            ui.heading("Export results");
            ui.add_space(theme::SPACE_S);
            ui.label("A CSV with one line per uid: uid, result.");
            ui.add_space(theme::SPACE_S);
            ui.radio_value(
                &mut choice.include_tokens,
                false,
                "Without tokens (recommended)",
            );
            ui.radio_value(&mut choice.include_tokens, true, "Include tokens");
            if choice.include_tokens {
                ui.add_space(theme::SPACE_XS);
                widgets::message(
                    ui,
                    Tone::Warning,
                    &format!("The file will hold {} in plain text", tokens(issued)),
                    "Anyone who gets the file can sign in as those users. Send it only over a safe channel, and delete it once the tokens are handed over.",
                    &[],
                );
            }
            ui.add_space(theme::SPACE_M);
            ui.horizontal(|ui| {
                let label = if choice.include_tokens {
                    "Save with tokens…"
                } else {
                    "Save CSV…"
                };
                if ui.button(RichText::new(label).strong()).clicked() {
                    out.push(own(UsersCommand::Bulk(BulkCommand::PickExport {
                        include_tokens: choice.include_tokens,
                    })));
                    close = true;
                }
                if ui.button("Cancel").clicked() {
                    close = true;
                }
            });
        });
        if close || modal.should_close() {
            self.export_dialog = None;
        }
    }
}

/// Ready to run: issue a token per existing (or unchecked) user.
fn ready_ui(ui: &mut Ui, c: Counts, out: &mut Vec<Command>) {
    ui.horizontal(|ui| {
        let n = c.exist + c.unchecked;
        let label = format!("Issue {}", tokens(n));
        if ui
            .add_enabled(n > 0, egui::Button::new(RichText::new(label).strong()))
            .clicked()
        {
            out.push(own(UsersCommand::Bulk(BulkCommand::Run)));
        }
        widgets::muted(
            ui,
            "One new token per existing user; missing and invalid uids are skipped",
        );
    });
}

fn short_word(o: Option<&Outcome>) -> &'static str {
    match o {
        Some(Outcome::UnknownUser) => "unknown user",
        Some(Outcome::InvalidUid(_)) => "invalid uid",
        Some(Outcome::Failed(_)) => "failed",
        Some(Outcome::Issued(_)) => "issued",
        Some(Outcome::NotRun) | None => "not run",
    }
}

fn tokens(n: usize) -> String {
    if n == 1 {
        "1 token".to_owned()
    } else {
        format!("{} tokens", thousands(n as u64))
    }
}

fn read_text(path: &Path) -> Result<String, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("Could not read {}: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|_| format!("{} is not a UTF-8 text file", path.display()))
}
