//! The inventory view of the Hygiene tab: every key across connections, the findings with a
//! fix one click away, "rotate by" dates, the age policy, and an export for an auditor.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use egui::{RichText, Ui};
use egui_extras::{Column, TableBuilder};
use poll_promise::Promise;

use crate::core::connect;
use crate::core::hygiene::inventory::{self, Finding, Fix, KeyRow, Local, Part};
use crate::core::hygiene::remind::{self, DesktopNotifier, Notifier};
use crate::ui::context::{Command, Tab, TabContext};
use crate::ui::file_dialog::{self, PathPrompt, Picked, PromptOutcome};
use crate::ui::remote::{spawn, spawn_blocking};
use crate::ui::theme::{self, Tone};
use crate::ui::toasts::Toast;
use crate::ui::widgets;

/// Every connection's part, and what Keydeck did through each connection.
type Gathered = (Vec<Part>, HashMap<String, inventory::Usage>);

/// The inventory's state: the last gathering, what is on its way, and the local facts.
#[derive(Default)]
pub struct InventoryView {
    pub parts: Vec<Part>,
    /// What Keydeck did through each connection (read from the audit trail with the parts).
    usage: HashMap<String, inventory::Usage>,
    pub rows: Vec<KeyRow>,
    pub findings: Vec<Finding>,
    gathering: Option<Promise<Gathered>>,
    /// The generation of the session the inventory was gathered for.
    gathered_for: Option<u64>,
    local: Option<Local>,
    filter: String,
    /// The findings past the first few are listed.
    more_findings_open: bool,
    /// Each row's text as the filter searches it (lowercase), made with the rows.
    row_texts: Vec<String>,
    /// The rows the filter shows: (the filter they were found for, their indices).
    shown: Option<(String, Vec<usize>)>,
    /// The row whose "rotate by" date is being edited: (key hash, the text typed).
    editing_date: Option<(String, String)>,
    policy_text: String,
    /// The per-connection age policies are being edited (under the global one).
    per_connection_open: bool,
    /// What is typed for each connection's own policy, by connection id (empty: the global).
    connection_policy_text: HashMap<String, String>,
    export: Option<(ExportKind, Promise<Picked>)>,
    prompt: Option<(ExportKind, PathPrompt)>,
    /// The start-up banner about findings due within a week was dismissed.
    pub banner_dismissed: bool,
    reminders: Reminders,
}

/// What sending a batch of reminders gave: the keys announced, or why it stopped and the keys
/// announced before.
type Sent = Result<Vec<String>, (String, Vec<String>)>;

/// Rotate-by reminders as desktop notifications, sent off the UI thread, at most once a key a
/// day. Where no notification service answers, the start-up banner (which lists the same
/// findings) is all the user gets, and no notification is tried again in this run.
struct Reminders {
    notifier: Arc<dyn Notifier>,
    sending: Option<Promise<Sent>>,
    /// The rows changed: look for reminders due.
    check: bool,
    /// No notification service answered in this run.
    unavailable: bool,
}

impl Default for Reminders {
    fn default() -> Self {
        Self {
            notifier: Arc::new(DesktopNotifier),
            sending: None,
            check: false,
            unavailable: false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportKind {
    Csv,
    Json,
}

impl ExportKind {
    fn file_name(self) -> &'static str {
        match self {
            ExportKind::Csv => "keydeck-inventory.csv",
            ExportKind::Json => "keydeck-inventory.json",
        }
    }
}

impl InventoryView {
    pub fn is_gathering(&self) -> bool {
        self.gathering.is_some()
    }

    /// Replaces the desktop notifications (tests).
    pub fn set_notifier(&mut self, notifier: Arc<dyn Notifier>) {
        self.reminders.notifier = notifier;
    }

    /// Reminders are being sent.
    pub fn is_notifying(&self) -> bool {
        self.reminders.sending.is_some()
    }

    fn config_dir(cx: &TabContext<'_>) -> Option<PathBuf> {
        Some(cx.session.config_dir().to_path_buf())
    }

    fn local(&mut self, cx: &TabContext<'_>) -> &mut Local {
        let dir = Self::config_dir(cx);
        self.local
            .get_or_insert_with(|| dir.map(|d| Local::load(&d)).unwrap_or_default())
    }

    fn save_local(&mut self, cx: &TabContext<'_>) -> Option<String> {
        let dir = Self::config_dir(cx)?;
        let local = self.local.as_ref()?;
        local
            .save(&dir)
            .err()
            .map(|e| format!("Could not save the hygiene settings: {e}"))
    }

    /// Asks every connection's server for its keys (in parallel), off the UI thread.
    pub fn start(&mut self, cx: &TabContext<'_>) {
        let jobs: Vec<_> = cx
            .config
            .connections
            .iter()
            .map(|c| {
                let client = connect::resolve(c, &[], cx.resolver);
                let stored = inventory::stored_secrets(c, cx.stored);
                inventory::gather(c.clone(), client, stored)
            })
            .collect();
        let audit = cx.recorder.path();
        let gather = async move {
            let parts = futures::future::join_all(jobs).await;
            // The trail is read here, off the UI thread, once per gathering.
            let usage = tokio::task::spawn_blocking(move || {
                audit
                    .and_then(|p| crate::audit::read_readable(&p).ok())
                    .map(|records| inventory::usage_from_audit(&records))
                    .unwrap_or_default()
            })
            .await
            .unwrap_or_default();
            (parts, usage)
        };
        self.gathering = Some(spawn(cx.rt, &cx.egui_ctx, gather, Default::default));
        self.gathered_for = Some(cx.generation);
    }

    /// Settles a finished gathering; recomputes the rows and findings. Announces findings due
    /// within a week, once.
    pub fn settle(&mut self, cx: &mut TabContext<'_>) {
        // Gathered once the connections and their secrets are known, and again when they change.
        if self.gathering.is_none()
            && self.gathered_for != Some(cx.generation)
            && !cx.session.is_loading_secrets()
            && !cx.config.connections.is_empty()
        {
            self.start(cx);
        }
        if let Some(p) = self.gathering.take() {
            match p.try_take() {
                Ok((parts, usage)) => {
                    self.parts = parts;
                    self.usage = usage;
                    self.recompute(cx);
                }
                Err(p) => self.gathering = Some(p),
            }
        }
        self.settle_export(cx);
        self.settle_reminders(cx);
    }

    /// Records the reminders a finished send announced; sends the ones due and not yet
    /// announced today, off the UI thread.
    fn settle_reminders(&mut self, cx: &mut TabContext<'_>) {
        if let Some(p) = self.reminders.sending.take() {
            let sent = match p.try_take() {
                Ok(Ok(sent)) => sent,
                Ok(Err((why, sent))) => {
                    tracing::debug!(
                        "no desktop notification for the rotate-by reminders (the start-up banner lists them): {why}"
                    );
                    self.reminders.unavailable = true;
                    sent
                }
                Err(p) => {
                    self.reminders.sending = Some(p);
                    return;
                }
            };
            if !sent.is_empty() {
                let now = cx.now_unix;
                remind::mark_notified(self.local(cx), &sent, now);
                if let Some(e) = self.save_local(cx) {
                    cx.toasts.push(Toast::error(e));
                }
            }
        }
        if !self.reminders.check || self.reminders.unavailable || self.gathering.is_some() {
            return;
        }
        self.reminders.check = false;
        let local = self.local(cx).clone();
        let due = remind::due_reminders(&self.rows, &local, cx.now_unix);
        if due.is_empty() {
            return;
        }
        let notifier = Arc::clone(&self.reminders.notifier);
        self.reminders.sending = Some(spawn_blocking(
            cx.rt,
            &cx.egui_ctx,
            move || remind::send(notifier.as_ref(), &due),
            || Err(("the notifier stopped".to_owned(), Vec::new())),
        ));
    }

    fn recompute(&mut self, cx: &TabContext<'_>) {
        let local = self.local(cx).clone();
        self.rows = inventory::assemble(&self.parts, &cx.config.retiring_keys, &local, &self.usage);
        self.findings = inventory::findings(&self.rows, &self.parts, &local, cx.now_unix);
        // Those due soon first: only the first few are shown in full.
        self.findings.sort_by_key(|f| !f.due_soon);
        self.row_texts = self.rows.iter().map(|r| row_text(r, cx.now_unix)).collect();
        self.shown = None;
        self.reminders.check = true;
    }

    /// Findings due within a week (or past due), for the start-up banner.
    pub fn due_soon(&self) -> Vec<&Finding> {
        self.findings.iter().filter(|f| f.due_soon).collect()
    }

    /// How many findings there are (for the tab's title).
    pub fn finding_count(&self) -> usize {
        self.findings.len()
    }

    pub fn ui(&mut self, ui: &mut Ui, cx: &mut TabContext<'_>, out: &mut Vec<Command>) {
        ui.horizontal(|ui| {
            ui.label(RichText::new("Inventory").strong().size(15.0));
            if self.gathering.is_some() {
                ui.spinner();
                widgets::muted(ui, "Asking every connection for its keys…");
            } else if ui.button("Check again").clicked() {
                self.start(cx);
            }
            self.policy_ui(ui, cx);
            ui.toggle_value(&mut self.per_connection_open, "Per connection…")
                .on_hover_text("An age policy of its own for a connection");
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                self.export_buttons_ui(ui, cx);
            });
        });
        if let Some((kind, prompt)) = &mut self.prompt {
            let kind = *kind;
            match prompt.ui(ui) {
                PromptOutcome::Open => {}
                PromptOutcome::Cancelled => self.prompt = None,
                PromptOutcome::Chosen(path) => match self.write_export(kind, &path, cx) {
                    Ok(()) => self.prompt = None,
                    Err(e) => {
                        if let Some((_, p)) = &mut self.prompt {
                            p.failed(e);
                        }
                    }
                },
            }
        }
        if self.per_connection_open {
            self.connection_policies_ui(ui, cx);
        }
        self.findings_ui(ui, out);
        ui.add_space(theme::SPACE_S);
        self.table_ui(ui, cx);
    }

    /// Each connection's own age policy: a number of days, or empty to follow the global one.
    fn connection_policies_ui(&mut self, ui: &mut Ui, cx: &mut TabContext<'_>) {
        let global = self.local(cx).policy_days();
        let own = self.local(cx).connection_policy_days.clone();
        widgets::muted(
            ui,
            format!(
                "A connection's own policy replaces the {global} days above for its keys; empty follows them"
            ),
        );
        let mut change: Option<(String, Option<i64>)> = None;
        let mut refused = false;
        egui::Grid::new("connection_policies")
            .num_columns(4)
            .spacing([theme::SPACE_S, theme::SPACE_XS])
            .show(ui, |ui| {
                for c in &cx.config.connections {
                    ui.label(&c.label);
                    let saved = own.get(&c.id).map(i64::to_string).unwrap_or_default();
                    let text = self
                        .connection_policy_text
                        .entry(c.id.clone())
                        .or_insert_with(|| saved.clone());
                    let r = ui.add(
                        egui::TextEdit::singleline(text)
                            .hint_text(global.to_string())
                            .desired_width(40.0),
                    );
                    widgets::name_widget(ui, &r, &format!("Age policy of {} in days", c.label));
                    ui.label("days");
                    if r.lost_focus() && *text != saved {
                        match parse_policy(text) {
                            Ok(days) => change = Some((c.id.clone(), days)),
                            Err(()) => {
                                *text = saved.clone();
                                refused = true;
                            }
                        }
                    }
                    if own.contains_key(&c.id) {
                        let b = ui.small_button("Use the default");
                        let name = format!("Use the default policy for {}", c.label);
                        ui.ctx().accesskit_node_builder(b.id, |n| n.set_label(name));
                        if b.clicked() {
                            change = Some((c.id.clone(), None));
                        }
                    } else {
                        ui.label("");
                    }
                    ui.end_row();
                }
            });
        if refused {
            cx.toasts.push(Toast::error(
                "An age policy is a number of days, 1 to 3650 (empty: the default)",
            ));
        }
        if let Some((id, days)) = change {
            let text = days.map(|d| d.to_string()).unwrap_or_default();
            self.connection_policy_text.insert(id.clone(), text);
            let own = &mut self.local(cx).connection_policy_days;
            match days {
                Some(d) => own.insert(id, d),
                None => own.remove(&id),
            };
            if let Some(e) = self.save_local(cx) {
                cx.toasts.push(Toast::error(e));
            }
            self.recompute(cx);
        }
    }

    fn policy_ui(&mut self, ui: &mut Ui, cx: &mut TabContext<'_>) {
        ui.add_space(theme::SPACE_M);
        let days = self.local(cx).policy_days();
        if self.policy_text.is_empty() {
            self.policy_text = days.to_string();
        }
        ui.label("Rotate keys older than");
        let r = ui.add(egui::TextEdit::singleline(&mut self.policy_text).desired_width(40.0));
        widgets::name_widget(ui, &r, "Age policy in days");
        ui.label("days");
        if r.lost_focus() {
            match self.policy_text.trim().parse::<i64>() {
                Ok(d) if (1..=3650).contains(&d) => {
                    if d != days {
                        self.local(cx).policy_days = Some(d);
                        if let Some(e) = self.save_local(cx) {
                            cx.toasts.push(Toast::error(e));
                        }
                        self.recompute(cx);
                    }
                }
                _ => {
                    self.policy_text = days.to_string();
                    cx.toasts.push(Toast::error(
                        "The age policy is a number of days, 1 to 3650",
                    ));
                }
            }
        }
    }

    /// The first findings in full (those due soon first), the rest as a scrolled list of one
    /// line each that draws only the lines in view: thousands of old keys are thousands of
    /// findings, and laying each out as a message every frame made the tab crawl.
    fn findings_ui(&mut self, ui: &mut Ui, out: &mut Vec<Command>) {
        if self.findings.is_empty() {
            if !self.rows.is_empty() {
                widgets::muted(ui, "No findings: every key is within the policy.");
            }
            return;
        }
        ui.add_space(theme::SPACE_XS);
        for f in self.findings.iter().take(FINDINGS_IN_FULL) {
            let (action, commands) = fix_commands(&f.fix);
            let tone = if f.due_soon {
                Tone::Warning
            } else {
                Tone::Info
            };
            if widgets::message(ui, tone, &f.title, &f.detail, &[action]).is_some() {
                out.extend(commands);
            }
            ui.add_space(theme::SPACE_XS);
        }
        let rest = self.findings.get(FINDINGS_IN_FULL..).unwrap_or_default();
        if rest.is_empty() {
            return;
        }
        let label = match rest.len() {
            1 => "1 more finding".to_owned(),
            n => format!("{} more findings", crate::words::thousands(n as u64)),
        };
        ui.toggle_value(&mut self.more_findings_open, label);
        if !self.more_findings_open {
            return;
        }
        egui::ScrollArea::vertical()
            .id_salt("more_findings")
            .max_height(MORE_FINDINGS_HEIGHT)
            .auto_shrink([false, true])
            .show_rows(ui, theme::ROW_HEIGHT, rest.len(), |ui, range| {
                for f in &rest[range] {
                    ui.horizontal(|ui| {
                        ui.set_height(theme::ROW_HEIGHT);
                        let (action, commands) = fix_commands(&f.fix);
                        if ui.small_button(action).clicked() {
                            out.extend(commands);
                        }
                        ui.add(egui::Label::new(&f.title).truncate())
                            .on_hover_text(&f.detail);
                    });
                }
            });
    }

    fn table_ui(&mut self, ui: &mut Ui, cx: &mut TabContext<'_>) {
        if self.rows.is_empty() {
            return;
        }
        ui.horizontal(|ui| {
            let r = ui.add(
                egui::TextEdit::singleline(&mut self.filter)
                    .hint_text("Filter by connection, name, scope, state…")
                    .desired_width(280.0),
            );
            widgets::name_widget(ui, &r, "Filter keys");
            widgets::muted(ui, crate::words::count(self.rows.len(), "key", "keys"));
        });
        let needle = self.filter.trim().to_lowercase();
        let now = cx.now_unix;
        // Filtered once per change of the filter (or of the rows), not every frame.
        let shown = match self.shown.take() {
            Some((n, shown)) if n == needle => shown,
            _ => (0..self.rows.len())
                .filter(|i| {
                    needle.is_empty() || self.row_texts.get(*i).is_some_and(|t| t.contains(&needle))
                })
                .collect(),
        };
        let mut set_date: Option<(String, Option<i64>)> = None;
        TableBuilder::new(ui)
            .striped(true)
            .resizable(true)
            // Its own scrolling (10,000 keys draw only the rows in view), inside the tab's.
            .max_scroll_height(420.0)
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::initial(150.0).at_least(80.0).clip(true))
            .column(Column::initial(160.0).at_least(80.0).clip(true))
            .column(Column::initial(70.0))
            .column(Column::initial(140.0).at_least(60.0).clip(true))
            .column(Column::initial(80.0))
            .column(Column::initial(90.0))
            .column(Column::initial(130.0).clip(true))
            .column(Column::remainder().at_least(160.0))
            .header(24.0, |mut h| {
                for t in [
                    "Connection",
                    "Name",
                    "Key",
                    "Scope",
                    "Age",
                    "Last used",
                    "State",
                    "Rotate by",
                ] {
                    h.col(|ui| {
                        ui.label(RichText::new(t).strong());
                    });
                }
            })
            .body(|body| {
                body.rows(theme::ROW_HEIGHT, shown.len(), |mut row| {
                    let r = &self.rows[shown[row.index()]];
                    row.col(|ui| {
                        // An Ably account lists the keys of all its apps: which one, on hover.
                        let r2 = ui.label(&r.connection);
                        if r.app.is_empty() {
                            r2.on_hover_text(r.provider);
                        } else {
                            r2.on_hover_text(format!("{}, app {}", r.provider, r.app));
                        }
                    });
                    row.col(|ui| {
                        ui.label(&r.name);
                    });
                    row.col(|ui| {
                        ui.monospace(&r.masked);
                    });
                    row.col(|ui| {
                        ui.label(&r.scope).on_hover_text(&r.scope);
                    });
                    row.col(|ui| {
                        let age = r
                            .created_unix
                            .map_or_else(|| "—".to_owned(), |c| crate::words::span(now - c));
                        widgets::muted(ui, age);
                    });
                    row.col(|ui| {
                        let used = r
                            .last_used_unix
                            .map_or_else(|| "—".to_owned(), |t| widgets::ago(now, t));
                        widgets::muted(ui, used).on_hover_text(
                            "When Keydeck last acted through a connection that stores it",
                        );
                    });
                    row.col(|ui| {
                        let state = ui.label(r.state.word(now));
                        if !r.stored_in.is_empty() {
                            state.on_hover_text(format!("Stored in {}", r.stored_in.join(", ")));
                        }
                    });
                    row.col(|ui| {
                        if let Some(change) = rotate_by_ui(ui, r, &mut self.editing_date) {
                            set_date = Some(change);
                        }
                    });
                });
            });
        self.shown = Some((needle, shown));
        if let Some((hash, by)) = set_date {
            match by {
                Some(t) => self.local(cx).rotate_by.insert(hash, t),
                None => self.local(cx).rotate_by.remove(&hash),
            };
            if let Some(e) = self.save_local(cx) {
                cx.toasts.push(Toast::error(e));
            }
            self.recompute(cx);
        }
    }

    fn export_buttons_ui(&mut self, ui: &mut Ui, cx: &TabContext<'_>) {
        let busy = self.export.is_some() || self.rows.is_empty();
        for (label, kind) in [
            ("Export JSON…", ExportKind::Json),
            ("Export CSV…", ExportKind::Csv),
        ] {
            if ui
                .add_enabled(!busy, egui::Button::new(label))
                .on_hover_text("Every key with its masked prefix, never a value")
                .clicked()
            {
                let name = kind.file_name().to_owned();
                let f = file_dialog::native(async move {
                    rfd::AsyncFileDialog::new()
                        .set_title("Export the key inventory")
                        .set_file_name(name)
                        .save_file()
                        .await
                        .map(|f| f.path().to_path_buf())
                });
                self.export = Some((kind, spawn(cx.rt, &cx.egui_ctx, f, || Picked::Cancelled)));
            }
        }
    }

    fn settle_export(&mut self, cx: &mut TabContext<'_>) {
        let Some((kind, p)) = self.export.take() else {
            return;
        };
        match p.try_take() {
            Ok(Picked::Chosen(path)) => {
                if let Err(e) = self.write_export(kind, &path, cx) {
                    cx.toasts.push(Toast::error(e));
                }
            }
            Ok(Picked::Cancelled) => {}
            Ok(Picked::Unavailable(why)) => {
                self.prompt = Some((kind, PathPrompt::save(why, "Save", kind.file_name())));
            }
            Err(p) => self.export = Some((kind, p)),
        }
    }

    /// Writes the export (private to the user) and says where.
    pub fn write_export(
        &mut self,
        kind: ExportKind,
        path: &Path,
        cx: &mut TabContext<'_>,
    ) -> Result<(), String> {
        let text = match kind {
            ExportKind::Csv => inventory::to_csv(&self.rows, cx.now_unix),
            ExportKind::Json => inventory::to_json(&self.rows),
        };
        crate::config::write_atomically(path, text.as_bytes())
            .map_err(|e| format!("Could not write {}: {e}", path.display()))?;
        cx.recorder.record(
            "inventory.exported",
            &format!("{} keys to {}", self.rows.len(), path.display()),
            Ok(()),
        );
        cx.toasts.push(Toast::success(format!(
            "Exported {} to {} (masked prefixes only)",
            crate::words::count(self.rows.len(), "key", "keys"),
            path.display()
        )));
        Ok(())
    }
}

/// Findings shown in full; the rest are one line each, in a list of this height.
const FINDINGS_IN_FULL: usize = 8;
const MORE_FINDINGS_HEIGHT: f32 = 240.0;

/// The button a finding offers, and what it does.
fn fix_commands(fix: &Fix) -> (&'static str, Vec<Command>) {
    match fix {
        Fix::Rotate { connection_id } => (
            "Rotate…",
            vec![
                Command::SelectConnection(connection_id.clone()),
                Command::SelectTab(Tab::Keys),
            ],
        ),
        Fix::Delete { connection_id } => (
            "Delete…",
            vec![
                Command::SelectConnection(connection_id.clone()),
                Command::SelectTab(Tab::Keys),
            ],
        ),
        Fix::EditConnection { connection_id } => (
            "Edit connection…",
            vec![Command::EditConnection(connection_id.clone())],
        ),
    }
}

/// A connection's own age policy as typed: empty is none (the global one applies).
fn parse_policy(text: &str) -> Result<Option<i64>, ()> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<i64>() {
        Ok(d) if (1..=3650).contains(&d) => Ok(Some(d)),
        _ => Err(()),
    }
}

/// What the filter looks in.
fn row_text(r: &KeyRow, now: i64) -> String {
    format!(
        "{} {} {} {} {} {} {}",
        r.provider,
        r.connection,
        r.name,
        r.masked,
        r.scope,
        r.state.word(now),
        r.stored_in.join(" ")
    )
    .to_lowercase()
}

/// A row's "rotate by" date: shown, or edited in place (YYYY-MM-DD, Set, Clear). Returns a
/// change: (key hash, the new date or none).
fn rotate_by_ui(
    ui: &mut Ui,
    r: &KeyRow,
    editing: &mut Option<(String, String)>,
) -> Option<(String, Option<i64>)> {
    let mine = editing.as_ref().is_some_and(|(h, _)| *h == r.key_sha256);
    if !mine {
        let text = r
            .rotate_by_unix
            .map_or_else(|| "—".to_owned(), crate::words::date);
        ui.label(text);
        let b = ui.small_button("Set…");
        let name = format!("Rotate {} by", r.name);
        ui.ctx().accesskit_node_builder(b.id, |n| n.set_label(name));
        if b.clicked() {
            let current = r.rotate_by_unix.map(crate::words::date).unwrap_or_default();
            *editing = Some((r.key_sha256.clone(), current));
        }
        return None;
    }
    let (_, text) = editing.as_mut()?;
    let field = ui.add(
        egui::TextEdit::singleline(text)
            .hint_text("YYYY-MM-DD")
            .desired_width(90.0),
    );
    widgets::name_widget(ui, &field, "Rotate by date");
    let parsed = crate::words::parse_date(text);
    let mut change = None;
    if ui
        .add_enabled(parsed.is_some(), egui::Button::new("Save"))
        .clicked()
        && let Some(t) = parsed
    {
        change = Some((r.key_sha256.clone(), Some(t)));
    }
    if ui.small_button("Clear").clicked() {
        change = Some((r.key_sha256.clone(), None));
    }
    if change.is_some() {
        *editing = None;
    }
    change
}
