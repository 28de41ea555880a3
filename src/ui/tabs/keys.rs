//! API keys of the selected CometChat app: a sortable, filterable table; create, rename,
//! change scope, reveal, copy, delete (asking first), and rotate with an overlap.

use std::collections::HashSet;

use egui::{RichText, Ui};
use egui_extras::{Column, TableBuilder, TableRow};

use crate::config::{RetiringKey, key_sha256};
use crate::core::client::ActiveClient;
use crate::core::errors::{self, Explained, NextStep};
use crate::core::ops::keys;
use crate::providers::cometchat::{ApiKey, ApiKeyUpdate, NewApiKey, Scope};
use crate::secret::Secret;
use crate::ui::context::{Command, Tab, TabContext, TabMessage, TabView};
use crate::ui::remote::{Op, Remote};
use crate::ui::shortcuts::Shortcut;
use crate::ui::theme::{self, Tone};
use crate::ui::toasts::Toast;
use crate::ui::widgets::{self, ConfirmDialog, ConfirmOutcome, SecretAction};

/// Longest name the API accepts.
const MAX_NAME_CHARS: usize = 100;

/// Overlap choices offered when rotating: (label, seconds).
const OVERLAPS: [(&str, i64); 4] = [
    ("1 hour", 3600),
    ("1 day", 86_400),
    ("7 days", 7 * 86_400),
    ("30 days", 30 * 86_400),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SortBy {
    Name,
    Scope,
    Created,
}

/// What this tab asks itself to do (performed in [`TabView::handle`]).
pub enum KeysCommand {
    Refresh,
    Create(NewApiKey),
    Update {
        key: Secret,
        update: ApiKeyUpdate,
    },
    Delete(ApiKey),
    /// Create a replacement with the same name and scope.
    Rotate {
        old: ApiKey,
        overlap_secs: i64,
    },
}

/// A command of this tab, addressed to itself.
fn own(c: KeysCommand) -> Command {
    Command::Tab(TabMessage::new(Tab::Keys, c))
}

#[derive(Default)]
pub struct KeysTab {
    pub list: Remote<Vec<ApiKey>>,
    bound_connection: Option<String>,
    seen_generation: u64,
    search: String,
    scope_filter: Option<Scope>,
    sort: Option<(SortBy, bool)>,
    focus_search: bool,
    /// SHA-256 of the keys whose value is shown.
    revealed: HashSet<String>,
    editing: Option<RowEdit>,
    new_dialog: Option<NewKeyDialog>,
    created: Option<CreatedDialog>,
    delete: Option<DeleteDialog>,
    rotate: Option<RotateDialog>,
    /// The keys of an Ably app, shown instead when the active connection is an Ably account.
    pub ably: super::ably_keys::AblyKeysTab,
}

struct RowEdit {
    /// The key as it was when editing began: what the scope guard compares with.
    before: ApiKey,
    environment: crate::config::Environment,
    /// Asking before a widening save (prod): the update waiting and the question.
    confirm: Option<(ApiKeyUpdate, ConfirmDialog)>,
    key: Secret,
    key_hash: String,
    name: String,
    scope: Scope,
    original: (String, Scope),
    op: Option<Op<ApiKey>>,
    error: Option<String>,
}

#[derive(Default)]
struct NewKeyDialog {
    name: String,
    scope: Option<Scope>,
    op: Option<Op<ApiKey>>,
    error: Option<Explained>,
    field_error: Option<String>,
    asking_to_discard: bool,
}

impl NewKeyDialog {
    fn is_dirty(&self) -> bool {
        !self.name.trim().is_empty() || self.scope.is_some()
    }

    fn name_problem(&self) -> Option<&'static str> {
        let n = self.name.trim();
        if n.is_empty() {
            Some("Give the key a name")
        } else if n.chars().count() > MAX_NAME_CHARS {
            Some("A name has at most 100 characters")
        } else {
            None
        }
    }
}

struct CreatedDialog {
    title: String,
    key: ApiKey,
    revealed: bool,
    /// The connection that signs with the old key, when the user may switch it to this one.
    offer_for_connection: Option<String>,
    stored: bool,
    note: Option<String>,
}

struct DeleteDialog {
    key: ApiKey,
    connection_id: String,
    confirm: ConfirmDialog,
    op: Option<Op<()>>,
}

struct RotateDialog {
    old: ApiKey,
    /// On prod, the name to type before the replacement is created (`keys::rotate_guard`).
    typed_name: Option<String>,
    typed: String,
    connection_id: String,
    old_is_connection_key: bool,
    overlap_secs: i64,
    op: Option<Op<ApiKey>>,
    error: Option<Explained>,
}

impl TabView for KeysTab {
    fn id(&self) -> Tab {
        Tab::Keys
    }

    fn has_dialog(&self) -> bool {
        KeysTab::has_dialog(self)
    }

    fn settle(&mut self, _cx: &mut TabContext<'_>) -> Vec<Command> {
        self.settle_results()
    }

    fn ui(&mut self, ui: &mut Ui, cx: &mut TabContext<'_>) -> Vec<Command> {
        self.tab_ui(ui, cx)
    }

    fn handle(&mut self, message: TabMessage, cx: &mut TabContext<'_>) {
        match message.take::<KeysCommand>() {
            Ok(c) => self.perform(cx, c),
            Err(m) => self.ably.handle(m, cx),
        }
    }
}

impl KeysTab {
    /// Whether a dialog is open (shortcuts are not read then).
    pub fn has_dialog(&self) -> bool {
        self.new_dialog.is_some()
            || self.created.is_some()
            || self.delete.is_some()
            || self.rotate.is_some()
            || self.ably.has_dialog()
    }

    /// Performs one of this tab's commands through the core operations (which record
    /// themselves in the audit trail); an Ably command goes to the Ably view.
    fn perform(&mut self, cx: &TabContext<'_>, command: KeysCommand) {
        let Some(client) = cx.cometchat().cloned() else {
            return;
        };
        let rec = cx.recorder.clone();
        match command {
            KeysCommand::Refresh => {
                self.list
                    .refresh(|| cx.run(async move { keys::list(&client).await }));
            }
            KeysCommand::Create(new) => {
                if let Some(d) = &mut self.new_dialog {
                    d.op = Some(Op::new(
                        cx.run(async move { keys::create(&client, &rec, &new).await }),
                    ));
                    d.error = None;
                }
            }
            KeysCommand::Update { key, update } => {
                if let Some(e) = &mut self.editing {
                    e.op = Some(Op::new(cx.run(async move {
                        keys::update(&client, &rec, &key, &update).await
                    })));
                    e.error = None;
                }
            }
            KeysCommand::Delete(key) => {
                if let Some(d) = &mut self.delete {
                    d.op = Some(Op::new(
                        cx.run(async move { keys::delete(&client, &rec, &key).await }),
                    ));
                    d.confirm.busy = true;
                    d.confirm.error = None;
                }
            }
            KeysCommand::Rotate { old, overlap_secs } => {
                if let Some(d) = &mut self.rotate {
                    d.op = Some(Op::new(
                        cx.run(async move { keys::rotate(&client, &rec, &old).await }),
                    ));
                    d.overlap_secs = overlap_secs;
                    d.error = None;
                }
            }
        }
    }

    /// Settles finished operations; returns follow-up commands. Runs at the start of a frame.
    fn settle_results(&mut self) -> Vec<Command> {
        let mut out = self.ably.settle();
        self.list.poll();
        self.settle_create(&mut out);
        self.settle_edit(&mut out);
        self.settle_delete(&mut out);
        self.settle_rotate(&mut out);
        out
    }

    fn settle_create(&mut self, out: &mut Vec<Command>) {
        if let Some(d) = &mut self.new_dialog
            && let Some(result) = Op::settle(&mut d.op)
        {
            match result {
                Ok(key) => {
                    out.push(own(KeysCommand::Refresh));
                    out.push(Command::Toast(Toast::success(format!(
                        "Created key {}",
                        key.name
                    ))));
                    self.new_dialog = None;
                    self.created = Some(CreatedDialog {
                        title: "API key created".to_owned(),
                        key,
                        revealed: true,
                        offer_for_connection: None,
                        stored: false,
                        note: None,
                    });
                }
                Err(e) => {
                    d.field_error = e.field_errors("name").first().cloned();
                    d.error = Some(errors::explain(&e));
                }
            }
        }
    }

    fn settle_edit(&mut self, out: &mut Vec<Command>) {
        if let Some(edit) = &mut self.editing
            && let Some(result) = Op::settle(&mut edit.op)
        {
            match result {
                Ok(updated) => {
                    if let Some(list) = self.list.data_mut()
                        && let Some(k) = list.iter_mut().find(|k| k.api_key == updated.api_key)
                    {
                        *k = updated.clone();
                    }
                    out.push(Command::Toast(Toast::success(format!(
                        "Saved key {}",
                        updated.name
                    ))));
                    out.push(own(KeysCommand::Refresh));
                    self.editing = None;
                }
                Err(e) => {
                    let x = errors::explain(&e);
                    edit.error = Some(format!("{} — {}", x.title, x.body));
                }
            }
        }
    }

    fn settle_delete(&mut self, out: &mut Vec<Command>) {
        if let Some(d) = &mut self.delete
            && let Some(result) = Op::settle(&mut d.op)
        {
            d.confirm.busy = false;
            match result {
                Ok(()) => {
                    let hash = key_sha256(&d.key.api_key);
                    if let Some(list) = self.list.data_mut() {
                        list.retain(|k| k.api_key != d.key.api_key);
                    }
                    out.push(Command::ForgetRetiring {
                        connection_id: d.connection_id.clone(),
                        key_sha256: hash,
                    });
                    out.push(Command::Toast(Toast::success(format!(
                        "Deleted key {}",
                        d.key.name
                    ))));
                    out.push(own(KeysCommand::Refresh));
                    self.delete = None;
                }
                Err(e) => {
                    let x = errors::explain(&e);
                    d.confirm.error = Some(format!("{} — {}", x.title, x.body));
                }
            }
        }
    }

    fn settle_rotate(&mut self, out: &mut Vec<Command>) {
        if let Some(d) = &mut self.rotate
            && let Some(result) = Op::settle(&mut d.op)
        {
            match result {
                Ok(new_key) => {
                    let deadline = widgets::now_unix() + d.overlap_secs;
                    out.push(Command::MarkRetiring(RetiringKey {
                        connection_id: d.connection_id.clone(),
                        key_sha256: key_sha256(&d.old.api_key),
                        masked: d.old.api_key.masked(),
                        name: d.old.name.clone(),
                        deadline_unix: deadline,
                    }));
                    out.push(own(KeysCommand::Refresh));
                    self.created = Some(CreatedDialog {
                        title: format!("Replacement for {} created", d.old.name),
                        key: new_key,
                        revealed: true,
                        offer_for_connection: d
                            .old_is_connection_key
                            .then(|| d.connection_id.clone()),
                        stored: false,
                        note: Some(format!(
                            "The old key ({}) stays listed as retiring for {}. Move your apps to the new key, then delete the old one.",
                            d.old.api_key.masked(),
                            OVERLAPS
                                .iter()
                                .find(|(_, s)| *s == d.overlap_secs)
                                .map(|(l, _)| *l)
                                .unwrap_or("the overlap")
                        )),
                    });
                    self.rotate = None;
                }
                Err(e) => {
                    d.error = Some(errors::explain(&e));
                }
            }
        }
    }

    fn tab_ui(&mut self, ui: &mut Ui, cx: &mut TabContext<'_>) -> Vec<Command> {
        let mut out = Vec::new();
        let Some(conn) = cx.connection else {
            super::no_connection_ui(
                ui,
                cx,
                "API keys",
                "Add a CometChat app in the Connections tab to manage its API keys.",
                &mut out,
            );
            return out;
        };
        let subtitle = super::connection_subtitle(conn);

        let client = match cx.client {
            Ok(ActiveClient::CometChat(c)) => c.clone(),
            Ok(ActiveClient::Ably(_)) => return self.ably.ui(ui, cx),
            Ok(_) => {
                super::header_ui(ui, "API keys", &subtitle, |_| {});
                super::needs_an_app_ui(
                    ui,
                    "API keys",
                    crate::core::kinds::spec(&conn.kind).provider(),
                    "Pick a CometChat app or an Ably account in the switcher above to see its keys, or open the Apps tab.",
                    &mut out,
                );
                return out;
            }
            Err(problem) => {
                super::header_ui(ui, "API keys", &subtitle, |_| {});
                super::client_problem_ui(ui, problem, &conn.id, &mut out);
                return out;
            }
        };

        self.follow_connection(&conn.id, cx.generation, &mut out);
        self.read_shortcuts(cx.shortcuts, &mut out);

        super::header_ui(ui, "API keys", &subtitle, |ui| {
            if ui
                .button(RichText::new("New API key…").strong())
                .on_hover_text("Ctrl+N")
                .clicked()
            {
                self.new_dialog = Some(NewKeyDialog::default());
            }
        });

        self.toolbar_ui(ui, &mut out);
        self.list_error_ui(ui, &conn.id, &mut out);

        let own_key = client.api_key().clone();
        let retiring: Vec<&RetiringKey> = cx
            .config
            .retiring_keys
            .iter()
            .filter(|r| r.connection_id == conn.id)
            .collect();
        self.forget_gone_retiring(&retiring, &conn.id, &mut out);
        self.list_ui(ui, &retiring, &own_key, conn, cx, &mut out);

        self.dialogs_ui(ui.ctx(), cx, &own_key, &mut out);
        out
    }

    /// Follows the active connection: a new one starts empty, a changed one refreshes.
    fn follow_connection(&mut self, connection_id: &str, generation: u64, out: &mut Vec<Command>) {
        if self.bound_connection.as_deref() != Some(connection_id) {
            *self = KeysTab {
                bound_connection: Some(connection_id.to_owned()),
                seen_generation: generation,
                ..KeysTab::default()
            };
        } else if self.seen_generation != generation {
            self.seen_generation = generation;
            out.push(own(KeysCommand::Refresh));
        }
        if matches!(self.list, Remote::NotRequested) {
            out.push(own(KeysCommand::Refresh));
        }
    }

    fn read_shortcuts(&mut self, shortcuts: &[Shortcut], out: &mut Vec<Command>) {
        for s in shortcuts {
            match s {
                Shortcut::FocusSearch => self.focus_search = true,
                Shortcut::New => self.new_dialog = Some(NewKeyDialog::default()),
                Shortcut::Refresh => out.push(own(KeysCommand::Refresh)),
            }
        }
    }

    /// Why the list could not be loaded, with the next step.
    fn list_error_ui(&self, ui: &mut Ui, connection_id: &str, out: &mut Vec<Command>) {
        let Some(e) = self.list.error() else { return };
        let x = errors::explain(e);
        let next = match x.next {
            NextStep::EditConnection => vec!["Edit connection…", "Retry"],
            NextStep::None => vec!["Retry"],
            NextStep::Retry | NextStep::Refresh => vec!["Retry"],
        };
        let title = format!("Could not load the keys: {}", x.title.to_lowercase());
        match widgets::message(ui, Tone::Error, &title, &x.body, &next) {
            Some(i) if next[i] == "Edit connection…" => {
                out.push(Command::EditConnection(connection_id.to_owned()))
            }
            Some(_) => out.push(own(KeysCommand::Refresh)),
            None => {}
        }
        ui.add_space(theme::SPACE_S);
    }

    /// A retiring record whose key is gone (deleted elsewhere) is forgotten.
    fn forget_gone_retiring(
        &self,
        retiring: &[&RetiringKey],
        connection_id: &str,
        out: &mut Vec<Command>,
    ) {
        let Remote::Ready(keys) = &self.list else {
            return;
        };
        for r in retiring {
            if !keys
                .iter()
                .any(|k| k.api_key.masked() == r.masked && r.matches(connection_id, &k.api_key))
            {
                out.push(Command::ForgetRetiring {
                    connection_id: connection_id.to_owned(),
                    key_sha256: r.key_sha256.clone(),
                });
            }
        }
    }

    /// The keys as the list stands: loading, none yet, none matching, or the table.
    fn list_ui(
        &mut self,
        ui: &mut Ui,
        retiring: &[&RetiringKey],
        own_key: &Secret,
        conn: &crate::config::Connection,
        cx: &TabContext<'_>,
        out: &mut Vec<Command>,
    ) {
        match self.list.data() {
            None if self.list.is_pending() || matches!(self.list, Remote::NotRequested) => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    widgets::muted(ui, "Loading API keys…");
                });
            }
            None => {}
            Some(keys) if keys.is_empty() => {
                let clicked = super::empty_state_ui(
                    ui,
                    "No API keys yet",
                    "An app needs a fullAccess key for servers and an authOnly key for logins.",
                    Some("New API key…"),
                );
                if clicked {
                    self.new_dialog = Some(NewKeyDialog::default());
                }
            }
            Some(keys) => {
                let rows = self.visible_rows(keys, retiring, cx.now_unix);
                if rows.is_empty() {
                    if super::empty_state_ui(
                        ui,
                        "No keys match",
                        "Nothing matches the search and scope filter.",
                        Some("Clear filters"),
                    ) {
                        self.search.clear();
                        self.scope_filter = None;
                    }
                } else {
                    self.table_ui(ui, rows, own_key, conn, cx, out);
                }
            }
        }
    }

    fn toolbar_ui(&mut self, ui: &mut Ui, out: &mut Vec<Command>) {
        ui.horizontal(|ui| {
            let search = ui.add(
                egui::TextEdit::singleline(&mut self.search)
                    .hint_text("Search keys by name  (Ctrl+F)")
                    .desired_width(260.0),
            );
            if std::mem::take(&mut self.focus_search) {
                widgets::focus_and_select_all(ui, &search, &self.search);
            }
            let scope_text = self.scope_filter.map_or("All scopes", Scope::as_str);
            let filter = egui::ComboBox::from_id_salt("keys-scope-filter")
                .selected_text(scope_text)
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.scope_filter, None, "All scopes");
                    for s in Scope::ALL {
                        ui.selectable_value(&mut self.scope_filter, Some(s), s.as_str());
                    }
                });
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let busy = self.list.is_pending();
                if ui
                    .add_enabled(!busy, egui::Button::new("Refresh"))
                    .on_hover_text("F5 or Ctrl+R")
                    .clicked()
                {
                    out.push(own(KeysCommand::Refresh));
                }
                if busy {
                    ui.spinner();
                }
                if let Some(keys) = self.list.data() {
                    let n = keys.len();
                    widgets::muted(
                        ui,
                        if n == 1 {
                            "1 key".to_owned()
                        } else {
                            format!("{n} keys")
                        },
                    );
                }
            });
            ui.ctx()
                .accesskit_node_builder(filter.response.id, |n| n.set_label("Scope filter"));
        });
        ui.add_space(theme::SPACE_S);
    }

    fn visible_rows(&self, keys: &[ApiKey], retiring: &[&RetiringKey], now: i64) -> Vec<Row> {
        let needle = self.search.trim().to_lowercase();
        let mut rows: Vec<Row> = keys
            .iter()
            .filter(|k| self.scope_filter.is_none_or(|s| s == k.scope))
            .filter(|k| needle.is_empty() || k.name.to_lowercase().contains(&needle))
            .map(|k| {
                let hash = key_sha256(&k.api_key);
                let retiring_left = retiring
                    .iter()
                    .find(|r| r.key_sha256 == hash)
                    .map(|r| r.deadline_unix - now);
                Row {
                    key: k.clone(),
                    hash,
                    retiring_left,
                }
            })
            .collect();
        let (by, asc) = self.sort.unwrap_or((SortBy::Created, false));
        rows.sort_by(|a, b| {
            let o = match by {
                SortBy::Name => a.key.name.to_lowercase().cmp(&b.key.name.to_lowercase()),
                SortBy::Scope => a.key.scope.cmp(&b.key.scope),
                SortBy::Created => a.key.created_at.cmp(&b.key.created_at),
            };
            if asc { o } else { o.reverse() }
        });
        rows
    }

    fn table_ui(
        &mut self,
        ui: &mut Ui,
        rows: Vec<Row>,
        own_key: &Secret,
        conn: &crate::config::Connection,
        cx: &TabContext<'_>,
        out: &mut Vec<Command>,
    ) {
        let dark = ui.visuals().dark_mode;
        let sort = self.sort.unwrap_or((SortBy::Created, false));
        let mut new_sort = None;
        // In a narrow window the age moves into the Created cell's tooltip, so that Actions
        // stays whole at the minimum window size.
        let with_age = ui.available_width() >= WIDE_TABLE;
        let mut table = TableBuilder::new(ui)
            .striped(true)
            .resizable(false)
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::remainder().at_least(180.0).clip(true))
            .column(Column::exact(230.0))
            .column(Column::exact(100.0))
            .column(Column::exact(96.0));
        if with_age {
            table = table.column(Column::exact(80.0));
        }
        table
            .column(Column::exact(236.0))
            .header(26.0, |mut h| {
                h.col(|ui| sort_header_ui(ui, "Name", SortBy::Name, sort, &mut new_sort));
                h.col(|ui| {
                    ui.label(RichText::new("Key").strong());
                });
                h.col(|ui| sort_header_ui(ui, "Scope", SortBy::Scope, sort, &mut new_sort));
                h.col(|ui| sort_header_ui(ui, "Created", SortBy::Created, sort, &mut new_sort));
                if with_age {
                    h.col(|ui| {
                        ui.label(RichText::new("Age").strong());
                    });
                }
                h.col(|ui| {
                    ui.label(RichText::new("Actions").strong());
                });
            })
            .body(|mut body| {
                for row in &rows {
                    let shown = ShownRow {
                        row,
                        is_own: &row.key.api_key == own_key,
                        id_text: format!("{} ({})", row.key.name, row.key.api_key.masked()),
                        editing: self
                            .editing
                            .as_ref()
                            .is_some_and(|e| e.key_hash == row.hash),
                        dark,
                    };
                    body.row(theme::ROW_HEIGHT + 6.0, |mut r| {
                        self.row_ui(&mut r, &shown, conn, cx, with_age, out);
                    });
                }
            });
        if let Some(s) = new_sort {
            self.sort = Some(s);
        }
        if let Some(e) = self.editing.as_ref().and_then(|e| e.error.clone()) {
            ui.add_space(theme::SPACE_S);
            widgets::field_error(ui, &e);
        }
    }

    /// One key's cells: name, value, scope, created, age and actions.
    fn row_ui(
        &mut self,
        r: &mut TableRow<'_, '_>,
        shown: &ShownRow<'_>,
        conn: &crate::config::Connection,
        cx: &TabContext<'_>,
        with_age: bool,
        out: &mut Vec<Command>,
    ) {
        let k = &shown.row.key;
        r.col(|ui| self.name_cell_ui(ui, shown));
        r.col(|ui| self.key_cell_ui(ui, shown, cx, out));
        r.col(|ui| self.scope_cell_ui(ui, shown));
        let age = widgets::age(cx.now_unix, k.created_at);
        r.col(|ui| {
            let date = widgets::muted(ui, widgets::date(k.created_at));
            if !with_age {
                date.on_hover_text(format!("{age} old"));
            }
        });
        if with_age {
            r.col(|ui| {
                widgets::muted(ui, age);
            });
        }
        r.col(|ui| {
            if shown.editing {
                self.row_edit_actions_ui(ui, &shown.id_text, out);
            } else {
                self.row_actions_ui(ui, k, shown, conn, cx.session);
            }
        });
    }

    fn name_cell_ui(&mut self, ui: &mut Ui, shown: &ShownRow<'_>) {
        let (k, id_text, dark) = (&shown.row.key, &shown.id_text, shown.dark);
        if shown.editing {
            if let Some(e) = &mut self.editing {
                let resp = ui.add(
                    egui::TextEdit::singleline(&mut e.name)
                        .desired_width(ui.available_width() - 8.0),
                );
                let label = format!("New name for {id_text}");
                ui.ctx()
                    .accesskit_node_builder(resp.id, |n| n.set_label(label));
            }
        } else {
            ui.label(&k.name);
            if shown.is_own {
                widgets::badge(ui, "this connection", theme::neutral(dark))
                    .on_hover_text("This connection signs its requests with this key");
            }
            if let Some(left) = shown.row.retiring_left {
                widgets::badge(
                    ui,
                    &format!("retiring · {}", widgets::time_left(left)),
                    theme::retiring(dark),
                )
                .on_hover_text("Replaced by a rotation; delete it once your apps use the new key");
            }
        }
    }

    fn key_cell_ui(
        &mut self,
        ui: &mut Ui,
        shown: &ShownRow<'_>,
        cx: &TabContext<'_>,
        out: &mut Vec<Command>,
    ) {
        let (k, hash) = (&shown.row.key, &shown.row.hash);
        let mut revealed = self.revealed.contains(hash);
        let name = format!("key {}", shown.id_text);
        match widgets::secret_value(ui, &k.api_key, &mut revealed, &name) {
            SecretAction::Copy => out.push(Command::Copy {
                value: k.api_key.clone(),
                what: format!("key {}", k.name),
            }),
            SecretAction::Revealed => {
                cx.recorder.record("key.revealed", &keys::target(k), Ok(()));
            }
            SecretAction::None => {}
        }
        if revealed {
            self.revealed.insert(hash.clone());
        } else {
            self.revealed.remove(hash);
        }
    }

    fn scope_cell_ui(&mut self, ui: &mut Ui, shown: &ShownRow<'_>) {
        let k = &shown.row.key;
        if !shown.editing {
            widgets::scope_badge(ui, k.scope).on_hover_text(k.scope.explanation());
            return;
        }
        let Some(e) = &mut self.editing else { return };
        let combo = egui::ComboBox::from_id_salt(("scope-edit", &shown.row.hash))
            .selected_text(e.scope.as_str())
            .width(90.0)
            .show_ui(ui, |ui| {
                for s in Scope::ALL {
                    ui.selectable_value(&mut e.scope, s, s.as_str())
                        .on_hover_text(s.explanation());
                }
            });
        let label = format!("Scope of {}", shown.id_text);
        ui.ctx()
            .accesskit_node_builder(combo.response.id, |n| n.set_label(label));
    }

    fn row_edit_actions_ui(&mut self, ui: &mut Ui, id_text: &str, out: &mut Vec<Command>) {
        let Some(e) = &mut self.editing else { return };
        let busy = e.op.is_some() || e.confirm.is_some();
        let name_ok = !e.name.trim().is_empty() && e.name.trim().chars().count() <= MAX_NAME_CHARS;
        let changed = (e.name.trim().to_owned(), e.scope) != e.original;
        let save = named_button(
            ui,
            busy_or(busy, "Save"),
            &format!("Save {id_text}"),
            name_ok && changed && !busy,
        );
        let enter = ui.input(|i| i.key_pressed(egui::Key::Enter));
        if (save.clicked() || (enter && name_ok && changed && !busy)) && name_ok && !busy {
            let mut update = ApiKeyUpdate::default();
            if e.name.trim() != e.original.0 {
                update.name = Some(e.name.trim().to_owned());
            }
            if e.scope != e.original.1 {
                update.scope = Some(e.scope);
            }
            let guard = keys::scope_change_guard(e.environment, &e.before, e.scope);
            if guard == crate::core::ops::Guard::None {
                out.push(own(KeysCommand::Update {
                    key: e.key.clone(),
                    update,
                }));
            } else {
                let b = &e.before;
                let confirm = ConfirmDialog::new(
                    format!("Give {} full access?", b.name),
                    format!(
                        "{} ({}) becomes a {} key: whoever holds it can do every operation on this prod app, not only sign users in.",
                        b.name,
                        b.api_key.masked(),
                        e.scope
                    ),
                    format!("Make {} {}", b.name, e.scope),
                )
                .guarded(&guard);
                e.confirm = Some((update, confirm));
            }
        }
        let escape = e.confirm.is_none() && ui.input(|i| i.key_pressed(egui::Key::Escape));
        if named_button(ui, "Cancel", &format!("Cancel editing {id_text}"), !busy).clicked()
            || escape
        {
            self.editing = None;
        }
        if busy {
            ui.spinner();
        }
    }

    fn row_actions_ui(
        &mut self,
        ui: &mut Ui,
        k: &ApiKey,
        shown: &ShownRow<'_>,
        conn: &crate::config::Connection,
        session: &crate::core::session::Session,
    ) {
        let (is_own, id_text, hash) = (shown.is_own, shown.id_text.as_str(), &shown.row.hash);
        if named_button(
            ui,
            "Edit",
            &format!("Edit {id_text}"),
            self.editing.is_none(),
        )
        .on_hover_text("Rename or change the scope")
        .clicked()
        {
            self.editing = Some(RowEdit {
                before: k.clone(),
                environment: conn.environment,
                confirm: None,
                key: k.api_key.clone(),
                key_hash: hash.to_owned(),
                name: k.name.clone(),
                scope: k.scope,
                original: (k.name.clone(), k.scope),
                op: None,
                error: None,
            });
        }
        if named_button(ui, "Rotate…", &format!("Rotate {id_text}"), true)
            .on_hover_text("Create a replacement with the same name and scope")
            .clicked()
        {
            self.rotate = Some(RotateDialog {
                old: k.clone(),
                typed_name: keys::rotate_guard(conn.environment, k)
                    .typed_name()
                    .map(str::to_owned),
                typed: String::new(),
                connection_id: conn.id.clone(),
                old_is_connection_key: is_own,
                overlap_secs: OVERLAPS[1].1,
                op: None,
                error: None,
            });
        }
        let delete = named_button(ui, "Delete…", &format!("Delete {id_text}"), !is_own);
        if is_own {
            delete.on_disabled_hover_text(
                "This connection signs its requests with this key, and a key cannot delete itself. Rotate it and switch the connection to the new key first.",
            );
        } else if delete.clicked() {
            let others = session.connections_storing(&k.api_key, &conn.id);
            let names = others
                .iter()
                .map(|o| format!("\"{o}\""))
                .collect::<Vec<_>>()
                .join(", ");
            let also = match others.len() {
                0 => String::new(),
                1 => format!(
                    " Keydeck's connection {names} stores this key too and stops working with it; edit it to another key first."
                ),
                _ => format!(
                    " Keydeck's connections {names} store this key too and stop working with it; edit them to another key first."
                ),
            };
            let confirm = ConfirmDialog::new(
                format!("Delete key {}?", k.name),
                format!(
                    "Everything that uses {} ({}, {}) stops working at once.{also} This cannot be undone.",
                    k.name,
                    k.api_key.masked(),
                    k.scope
                ),
                format!("Delete key {}", k.name),
            )
            .guarded(&keys::delete_guard(conn.environment, k));
            self.delete = Some(DeleteDialog {
                key: k.clone(),
                connection_id: conn.id.clone(),
                confirm,
                op: None,
            });
        }
    }

    fn dialogs_ui(
        &mut self,
        ctx: &egui::Context,
        cx: &mut TabContext<'_>,
        own_key: &Secret,
        out: &mut Vec<Command>,
    ) {
        let connection_id = cx.connection.map(|c| c.id.clone()).unwrap_or_default();
        if let Some(d) = &mut self.new_dialog {
            match new_key_dialog_ui(ctx, d) {
                DialogOutcome::Open => {}
                DialogOutcome::Submit => out.push(own(KeysCommand::Create(NewApiKey {
                    name: d.name.trim().to_owned(),
                    scope: d.scope.unwrap_or(Scope::AuthOnly),
                }))),
                DialogOutcome::EditConnection => {
                    out.push(Command::EditConnection(connection_id.clone()));
                    self.new_dialog = None;
                }
                DialogOutcome::Close => self.new_dialog = None,
            }
        }

        if let Some(d) = &mut self.delete {
            match d.confirm.ui(ctx) {
                ConfirmOutcome::Confirmed => {
                    if &d.key.api_key == own_key {
                        d.confirm.error = Some("This connection signs its requests with this key; a key cannot delete itself.".to_owned());
                    } else {
                        out.push(own(KeysCommand::Delete(d.key.clone())));
                    }
                }
                ConfirmOutcome::Cancelled if d.op.is_none() => self.delete = None,
                _ => {}
            }
        }

        if let Some(e) = &mut self.editing
            && let Some((update, confirm)) = &mut e.confirm
        {
            match confirm.ui(ctx) {
                ConfirmOutcome::Confirmed => {
                    out.push(own(KeysCommand::Update {
                        key: e.key.clone(),
                        update: update.clone(),
                    }));
                    e.confirm = None;
                }
                ConfirmOutcome::Cancelled => e.confirm = None,
                ConfirmOutcome::Open => {}
            }
        }

        if let Some(d) = &mut self.rotate {
            match rotate_dialog_ui(ctx, d) {
                DialogOutcome::Submit => out.push(own(KeysCommand::Rotate {
                    old: d.old.clone(),
                    overlap_secs: d.overlap_secs,
                })),
                DialogOutcome::EditConnection => {
                    out.push(Command::EditConnection(connection_id.clone()));
                    self.rotate = None;
                }
                DialogOutcome::Close => self.rotate = None,
                DialogOutcome::Open => {}
            }
        }

        if let Some(d) = &mut self.created {
            let where_kept = cx.vault.where_kept_phrase();
            if created_dialog_ui(ctx, d, where_kept, out) {
                self.created = None;
            }
        }
    }
}

struct Row {
    key: ApiKey,
    hash: String,
    retiring_left: Option<i64>,
}

/// A row as the table draws it this frame.
struct ShownRow<'a> {
    row: &'a Row,
    /// The key this connection signs with.
    is_own: bool,
    /// "name (masked key)", what the row's controls are labelled after.
    id_text: String,
    editing: bool,
    dark: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum DialogOutcome {
    Open,
    Submit,
    EditConnection,
    Close,
}

/// A column title that sorts by it: a click on the sorted column flips the order; a new column
/// starts ascending, except Created (newest first).
/// From this table width on, the Age column is shown (below it, the age is the Created cell's
/// tooltip).
const WIDE_TABLE: f32 = 1000.0;

fn sort_header_ui(
    ui: &mut Ui,
    title: &str,
    by: SortBy,
    sort: (SortBy, bool),
    new_sort: &mut Option<(SortBy, bool)>,
) {
    let r = ui
        .add(egui::Button::new(RichText::new(title).strong()).frame(false))
        .on_hover_text(format!("Sort by {}", title.to_lowercase()));
    if sort.0 == by {
        sort_arrow(ui, sort.1);
    }
    if r.clicked() {
        *new_sort = Some((
            by,
            if sort.0 == by {
                !sort.1
            } else {
                by != SortBy::Created
            },
        ));
    }
}

/// A small triangle after a sorted column's title: up when ascending.
fn sort_arrow(ui: &mut Ui, ascending: bool) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
    let c = rect.center();
    let (tip, base) = if ascending { (-3.5, 3.0) } else { (3.5, -3.0) };
    let points = vec![
        egui::pos2(c.x - 4.0, c.y + base),
        egui::pos2(c.x + 4.0, c.y + base),
        egui::pos2(c.x, c.y + tip),
    ];
    let colour = ui.visuals().strong_text_color();
    ui.painter().add(egui::Shape::convex_polygon(
        points,
        colour,
        egui::Stroke::NONE,
    ));
}

fn busy_or(busy: bool, text: &str) -> &str {
    if busy { "Saving…" } else { text }
}

/// A text button whose accessible name says which row it acts on ("Delete ci-bot (a1b2…)").
fn named_button(ui: &mut Ui, text: &str, name: &str, enabled: bool) -> egui::Response {
    let r = ui.add_enabled(enabled, egui::Button::new(text));
    let label = name.to_owned();
    ui.ctx()
        .accesskit_node_builder(r.id, |n| n.set_label(label));
    r
}

/// Room a dialog leaves around its scrolling body for its heading, its buttons and the
/// window's margins, in points.
const DIALOG_CHROME_HEIGHT: f32 = 190.0;

/// The tallest a dialog's scrolling body may be in this window: what is left once the
/// heading and the buttons have their room, so that the buttons stay on screen.
fn dialog_body_max_height(ctx: &egui::Context) -> f32 {
    (ctx.content_rect().height() - DIALOG_CHROME_HEIGHT).max(80.0)
}

/// "API key created" and a rotation's result: the new key once, and, when this connection
/// signed with the old key, the offer to switch it. The body scrolls; Done and the offer stay
/// in the button row. Returns true when it is closed.
fn created_dialog_ui(
    ctx: &egui::Context,
    d: &mut CreatedDialog,
    where_kept: &str,
    out: &mut Vec<Command>,
) -> bool {
    let mut close = false;
    let body_max = dialog_body_max_height(ctx);
    let modal = widgets::dialog(ctx, egui::Id::unique("keys-created"), |ui| {
        ui.set_width(480.0);
        ui.heading(&d.title);
        ui.add_space(theme::SPACE_S);
        egui::ScrollArea::vertical()
            .id_salt("keys-created-body")
            .max_height(body_max)
            .auto_shrink([false, true])
            .show(ui, |ui| created_body_ui(ui, d, out));
        ui.add_space(theme::SPACE_M);
        ui.horizontal_wrapped(|ui| {
            if ui.button("Done").clicked() {
                close = true;
            }
            if let Some(conn_id) = &d.offer_for_connection
                && !d.stored
                && ui
                    .button(format!(
                        "Use the new key for this connection ({where_kept})"
                    ))
                    .clicked()
            {
                out.push(Command::UseKeyForConnection {
                    connection_id: conn_id.clone(),
                    key: d.key.api_key.clone(),
                });
                d.stored = true;
            }
        });
    });
    close || modal.should_close()
}

/// The created dialog's body: the key, what to do with it, and the connection's note.
fn created_body_ui(ui: &mut Ui, d: &mut CreatedDialog, out: &mut Vec<Command>) {
    ui.horizontal(|ui| {
        ui.label(RichText::new(&d.key.name).strong());
        widgets::scope_badge(ui, d.key.scope);
    });
    ui.add_space(theme::SPACE_XS);
    theme::card_frame(ui.visuals()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        if widgets::secret_value(ui, &d.key.api_key, &mut d.revealed, "new key")
            == SecretAction::Copy
        {
            out.push(Command::Copy {
                value: d.key.api_key.clone(),
                what: format!("key {}", d.key.name),
            });
        }
    });
    ui.add_space(theme::SPACE_XS);
    widgets::muted(
        ui,
        "Copy it now and hand it only to the servers or apps that need it.",
    );
    if let Some(note) = &d.note {
        ui.add_space(theme::SPACE_S);
        ui.add(egui::Label::new(note.as_str()).wrap());
    }
    if d.offer_for_connection.is_some() {
        ui.add_space(theme::SPACE_S);
        widgets::message(
            ui,
            Tone::Warning,
            "This connection signs with the old key",
            if d.stored {
                "Done: the connection now uses the new key."
            } else {
                "Use the new key for this connection, so that the old one can be deleted."
            },
            &[],
        );
    }
}

fn new_key_dialog_ui(ctx: &egui::Context, d: &mut NewKeyDialog) -> DialogOutcome {
    let mut outcome = DialogOutcome::Open;
    let busy = d.op.is_some();
    let modal = widgets::dialog(ctx, egui::Id::unique("keys-new"), |ui| {
        ui.set_width(460.0);
        ui.heading("New API key");
        ui.add_space(theme::SPACE_S);
        let problem = d.name_problem();
        let show_problem =
            d.field_error
                .as_deref()
                .or(if d.name.is_empty() { None } else { problem });
        let before = d.name.clone();
        let r = widgets::text_field(ui, "Name", &mut d.name, "e.g. ci-bot", show_problem);
        if d.name != before {
            d.field_error = None;
        }
        if !r.has_focus() && d.name.is_empty() && !busy && d.scope.is_none() {
            r.request_focus();
        }
        let submit_on_enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        ui.label(RichText::new("Scope").strong());
        let scope = d.scope.unwrap_or(Scope::AuthOnly);
        for s in Scope::ALL {
            ui.horizontal(|ui| {
                if ui.radio(scope == s, s.as_str()).clicked() {
                    d.scope = Some(s);
                }
                widgets::muted(ui, scope_line(s));
            });
        }
        if let Some(x) = &d.error {
            ui.add_space(theme::SPACE_S);
            let actions: Vec<&str> = x.next.label().into_iter().collect();
            if widgets::message(ui, Tone::Error, &x.title, &x.body, &actions).is_some() {
                outcome = DialogOutcome::EditConnection;
            }
        }
        ui.add_space(theme::SPACE_M);
        if d.asking_to_discard {
            if widgets::discard_prompt_ui(
                ui,
                "Discard this new key?",
                "What you typed will be lost.",
                &mut d.asking_to_discard,
            ) {
                outcome = DialogOutcome::Close;
            }
            return;
        }
        ui.horizontal(|ui| {
            let valid = problem.is_none() && !busy;
            let label = if busy { "Creating…" } else { "Create key" };
            let create = ui.add_enabled(valid, egui::Button::new(RichText::new(label).strong()));
            if create.clicked() || (submit_on_enter && valid) {
                outcome = DialogOutcome::Submit;
            }
            if ui.button("Cancel").clicked() {
                outcome = if d.is_dirty() {
                    d.asking_to_discard = true;
                    DialogOutcome::Open
                } else {
                    DialogOutcome::Close
                };
            }
            if busy {
                ui.spinner();
            } else {
                widgets::disabled_reason_ui(ui, create, problem);
            }
        });
    });
    if modal.should_close() && outcome == DialogOutcome::Open {
        if d.is_dirty() {
            d.asking_to_discard = true;
        } else {
            outcome = DialogOutcome::Close;
        }
    }
    outcome
}

/// One line on each scope, as the New dialog shows it.
fn scope_line(s: Scope) -> &'static str {
    match s {
        Scope::FullAccess => "Every operation. For servers only, never in an app",
        Scope::AuthOnly => "Creating users and auth tokens only. Safe for logins",
    }
}

fn rotate_dialog_ui(ctx: &egui::Context, d: &mut RotateDialog) -> DialogOutcome {
    let mut outcome = DialogOutcome::Open;
    let busy = d.op.is_some();
    let modal = widgets::dialog(ctx, egui::Id::unique("keys-rotate"), |ui| {
        ui.set_width(460.0);
        ui.heading(format!("Rotate key {}", d.old.name));
        ui.add_space(theme::SPACE_S);
        ui.add(
            egui::Label::new(format!(
                "CometChat keys cannot be rolled in place. Keydeck creates a new {} key named {}, and keeps the old one ({}) listed as retiring until you delete it.",
                d.old.scope,
                d.old.name,
                d.old.api_key.masked()
            ))
            .wrap(),
        );
        ui.add_space(theme::SPACE_S);
        ui.label(RichText::new("Overlap").strong());
        ui.horizontal(|ui| {
            for (label, secs) in OVERLAPS {
                ui.radio_value(&mut d.overlap_secs, secs, label);
            }
        });
        widgets::muted(
            ui,
            "How long both keys should work while your apps switch over.",
        );
        if let Some(name) = &d.typed_name {
            ui.add_space(theme::SPACE_S);
            let label = format!("Type {name} to confirm");
            widgets::text_field(ui, &label, &mut d.typed, name, None);
        }
        let typed_ok = d
            .typed_name
            .as_ref()
            .is_none_or(|n| d.typed.trim() == n.as_str());
        if let Some(x) = &d.error {
            ui.add_space(theme::SPACE_S);
            let actions: Vec<&str> = x.next.label().into_iter().collect();
            if widgets::message(ui, Tone::Error, &x.title, &x.body, &actions).is_some() {
                outcome = DialogOutcome::EditConnection;
            }
        }
        ui.add_space(theme::SPACE_M);
        ui.horizontal(|ui| {
            let label = if busy {
                "Creating…"
            } else {
                "Create replacement"
            };
            let create = ui.add_enabled(
                !busy && typed_ok,
                egui::Button::new(RichText::new(label).strong()),
            );
            if create
                .on_disabled_hover_text("Type the key's name first: this is a prod connection")
                .clicked()
            {
                outcome = DialogOutcome::Submit;
            }
            if ui.button("Cancel").clicked() {
                outcome = DialogOutcome::Close;
            }
            if busy {
                ui.spinner();
            }
        });
    });
    if modal.should_close() && outcome == DialogOutcome::Open && !busy {
        outcome = DialogOutcome::Close;
    }
    outcome
}
