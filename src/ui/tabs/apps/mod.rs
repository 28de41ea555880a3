//! Apps: the apps a CometChat Management connection can see. List and search them, create
//! one, delete one (asking first, and showing when the deletion is scheduled), and open one as
//! an app connection that signs with its fullAccess key.
//!
//! The tab performs its own requests: it returns [`Command::Apps`], and the shell routes that
//! to [`AppsTab::handle`] with the active management client.

pub use crate::core::open_app::{app_connection, chat_base_url, existing_connection};

use egui::{RichText, Ui};
use egui_extras::{Column, TableBuilder};

use crate::config::{Connection, ConnectionKind, FIELD_API_KEY};
use crate::core::client::ActiveClient;
use crate::core::errors::{self, Explained, NextStep};
use crate::core::ops::apps;
use crate::providers::management::{App, AppDeletion, AppQuery, NewApp};
use crate::providers::pager::Page;
use crate::secret::Secret;
use crate::ui::context::{Command, Tab, TabContext, TabMessage, TabView};
use crate::ui::remote::{Op, Remote};
use crate::ui::shortcuts::Shortcut;
use crate::ui::theme::{self, Tone};
use crate::ui::toasts::Toast;
use crate::ui::widgets::{self, ConfirmDialog, ConfirmOutcome};

/// Apps per page of the list.
const PER_PAGE: u32 = 25;
/// How long typing must pause before the search goes to the server (the loaded page is
/// filtered at once).
const SEARCH_PAUSE_SECS: f64 = 0.4;
/// Longest app name the API accepts.
const MAX_NAME_CHARS: usize = 100;

/// The regions an app can live in: (id, name, one line on it).
const REGIONS: [(&str, &str, &str); 3] = [
    (
        "us",
        "United States",
        "Data stored in the US. The default for most teams",
    ),
    (
        "eu",
        "Europe",
        "Data stored in the EU, for GDPR data-residency needs",
    ),
    (
        "in",
        "India",
        "Data stored in India, for local data-residency needs",
    ),
];

/// A command of this tab, addressed to itself.
fn own(c: AppsCommand) -> Command {
    Command::Tab(TabMessage::new(Tab::Apps, c))
}

/// What the Apps tab asks itself to do (performed in [`TabView::handle`]).
#[derive(Clone, Debug)]
pub enum AppsCommand {
    /// Load the current page with the current server search.
    Refresh,
    Create(NewApp),
    Delete {
        app_id: String,
    },
}

#[derive(Default)]
pub struct AppsTab {
    list: Remote<Page<App>>,
    /// The query of the list on screen, or of the one being fetched.
    list_query: Option<AppQuery>,
    bound_connection: Option<String>,
    seen_generation: u64,
    /// What is typed in the search box: filters the loaded page at once.
    search: String,
    /// What the server was last asked for (`searchKey`).
    server_search: String,
    /// When the search text last changed (egui time), for the pause before asking the server.
    search_edited_at: Option<f64>,
    /// 1-based; 0 means the first page.
    page: u32,
    focus_search: bool,
    /// Deletions scheduled in this session, shown until the list is refreshed by hand.
    scheduled: Vec<Scheduled>,
    /// A problem with the last "Open" (no fullAccess key), shown above the list.
    open_problem: Option<(String, String)>,
    new_dialog: Option<NewAppDialog>,
    delete: Option<DeleteDialog>,
}

struct Scheduled {
    name: String,
    id: String,
    at_unix: i64,
}

#[derive(Default)]
struct NewAppDialog {
    name: String,
    region: Option<&'static str>,
    /// The name field was edited: its problem is shown from then on.
    name_touched: bool,
    /// Enter was pressed on an incomplete form: every problem is shown from then on.
    submit_tried: bool,
    op: Option<Op<App>>,
    error: Option<Explained>,
    /// The server's words on a field, until that field changes.
    name_error: Option<String>,
    region_error: Option<String>,
    asking_to_discard: bool,
}

impl NewAppDialog {
    fn is_dirty(&self) -> bool {
        !self.name.trim().is_empty() || self.region.is_some()
    }

    fn name_problem(&self) -> Option<&'static str> {
        let n = self.name.trim();
        if n.is_empty() {
            Some("Give the app a name")
        } else if n.chars().count() > MAX_NAME_CHARS {
            Some("A name has at most 100 characters")
        } else {
            None
        }
    }

    fn is_valid(&self) -> bool {
        self.name_problem().is_none() && self.region.is_some()
    }
}

struct DeleteDialog {
    app: App,
    confirm: ConfirmDialog,
    op: Option<Op<AppDeletion>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum DialogOutcome {
    Open,
    Submit,
    EditConnection,
    Close,
}

impl TabView for AppsTab {
    fn id(&self) -> Tab {
        Tab::Apps
    }

    fn has_dialog(&self) -> bool {
        AppsTab::has_dialog(self)
    }

    fn ui(&mut self, ui: &mut Ui, cx: &mut TabContext<'_>) -> Vec<Command> {
        self.tab_ui(ui, cx)
    }

    fn handle(&mut self, message: TabMessage, cx: &mut TabContext<'_>) {
        match message.take::<AppsCommand>() {
            Ok(c) => self.perform(cx, c),
            Err(m) => tracing::warn!("the apps tab got a command of another tab ({:?})", m.tab),
        }
    }
}

impl AppsTab {
    /// Whether a dialog of this tab is open.
    pub fn has_dialog(&self) -> bool {
        self.new_dialog.is_some() || self.delete.is_some()
    }

    fn page(&self) -> u32 {
        self.page.max(1)
    }

    fn query(&self) -> AppQuery {
        AppQuery {
            search_key: Some(self.server_search.trim().to_owned()).filter(|s| !s.is_empty()),
            per_page: Some(PER_PAGE),
            page: Some(self.page()),
        }
    }

    /// Performs one of this tab's commands through the core operations (which record
    /// themselves in the audit trail).
    fn perform(&mut self, cx: &mut TabContext<'_>, command: AppsCommand) {
        let Some(client) = cx.management().cloned() else {
            cx.toasts.push(Toast::error(
                "Select a CometChat management connection first",
            ));
            return;
        };
        let rec = cx.recorder.clone();
        match command {
            AppsCommand::Refresh => {
                let query = self.query();
                if self.list.is_pending() && self.list_query.as_ref() == Some(&query) {
                    return;
                }
                self.list_query = Some(query.clone());
                // Replaces a fetch for an older search: its answer is no longer wanted.
                self.list
                    .set_pending(cx.run(async move { apps::list(&client, &query).await }));
            }
            AppsCommand::Create(new) => {
                if let Some(d) = &mut self.new_dialog {
                    d.op = Some(Op::new(
                        cx.run(async move { apps::create(&client, &rec, &new).await }),
                    ));
                    d.error = None;
                }
            }
            AppsCommand::Delete { app_id } => {
                if let Some(d) = &mut self.delete {
                    d.op =
                        Some(Op::new(cx.run(async move {
                            apps::delete(&client, &rec, &app_id).await
                        })));
                    d.confirm.busy = true;
                    d.confirm.error = None;
                }
            }
        }
    }

    /// Settles finished requests. Runs first thing in [`Self::ui`], before anything is drawn.
    fn settle(&mut self) -> Vec<Command> {
        let mut out = Vec::new();
        self.list.poll();

        if let Some(d) = &mut self.new_dialog
            && let Some(result) = Op::settle(&mut d.op)
        {
            match result {
                Ok(app) => {
                    out.push(Command::Toast(Toast::success(format!(
                        "Created app {} in {}",
                        app.name,
                        region_name(&app.region)
                    ))));
                    // Show it at once; the refresh puts it where the server sorts it.
                    if let Some(page) = self.list.data_mut()
                        && !page.items.iter().any(|a| a.id == app.id)
                    {
                        page.items.insert(0, app);
                        page.pagination.total += 1;
                    }
                    out.push(own(AppsCommand::Refresh));
                    self.new_dialog = None;
                }
                Err(e) => {
                    d.name_error = e.field_errors("name").first().cloned();
                    d.region_error = e.field_errors("region").first().cloned();
                    d.error = Some(errors::explain(&e));
                }
            }
        }

        if let Some(d) = &mut self.delete
            && let Some(result) = Op::settle(&mut d.op)
        {
            d.confirm.busy = false;
            match result {
                Ok(deletion) => {
                    let app = d.app.clone();
                    if let Some(page) = self.list.data_mut() {
                        let before = page.items.len();
                        page.items.retain(|a| a.id != app.id);
                        if page.items.len() != before {
                            page.pagination.total = page.pagination.total.saturating_sub(1);
                        }
                    }
                    out.push(Command::Toast(Toast::success(format!(
                        "App {} is scheduled for deletion on {}",
                        app.name,
                        date_time(deletion.scheduled_to_delete_at)
                    ))));
                    self.scheduled.retain(|s| s.id != app.id);
                    self.scheduled.push(Scheduled {
                        name: app.name,
                        id: app.id,
                        at_unix: deletion.scheduled_to_delete_at,
                    });
                    self.delete = None;
                }
                Err(e) => {
                    let x = errors::explain(&e);
                    d.confirm.error = Some(format!("{} — {}", x.title, x.body));
                }
            }
        }
        out
    }

    fn tab_ui(&mut self, ui: &mut Ui, cx: &mut TabContext<'_>) -> Vec<Command> {
        let mut out = self.settle();
        let Some(conn) = cx.connection else {
            super::no_connection_ui(
                ui,
                cx,
                "Apps",
                "Add a CometChat Management connection (a key and a secret) in the Connections tab to list and create apps.",
                &mut out,
            );
            return out;
        };
        let subtitle = format!(
            "{} · {}",
            conn.label,
            crate::core::kinds::spec(&conn.kind).provider()
        );

        match cx.client {
            Ok(ActiveClient::Management(_)) => {}
            Ok(_) => {
                super::header_ui(ui, "Apps", &subtitle, |_| {});
                not_management_ui(ui, conn, &cx.config.connections, &mut out);
                return out;
            }
            Err(problem) => {
                super::header_ui(ui, "Apps", &subtitle, |_| {});
                super::client_problem_ui(ui, problem, &conn.id, &mut out);
                return out;
            }
        }

        // Follow the active connection: a new one starts empty, a changed one refreshes.
        if self.bound_connection.as_deref() != Some(conn.id.as_str()) {
            *self = AppsTab {
                bound_connection: Some(conn.id.clone()),
                seen_generation: cx.generation,
                ..AppsTab::default()
            };
        } else if self.seen_generation != cx.generation {
            self.seen_generation = cx.generation;
            out.push(own(AppsCommand::Refresh));
        }
        if matches!(self.list, Remote::NotRequested) {
            out.push(own(AppsCommand::Refresh));
        }

        if !self.has_dialog() {
            for s in cx.shortcuts {
                match s {
                    Shortcut::FocusSearch => self.focus_search = true,
                    Shortcut::New => self.new_dialog = Some(NewAppDialog::default()),
                    Shortcut::Refresh => self.refresh_by_hand(&mut out),
                }
            }
        }

        super::header_ui(ui, "Apps", &subtitle, |ui| {
            if ui
                .button(RichText::new("New app…").strong())
                .on_hover_text("Ctrl+N")
                .clicked()
            {
                self.new_dialog = Some(NewAppDialog::default());
            }
        });

        self.toolbar_ui(ui, &mut out);
        self.search_pause(ui, &mut out);
        self.notices_ui(ui, conn, &mut out);

        match self.list.data() {
            None if self.list.error().is_none() => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    widgets::muted(ui, "Loading apps…");
                });
            }
            None => {}
            Some(page) if page.items.is_empty() && self.server_search.trim().is_empty() => {
                let create = super::empty_state_ui(
                    ui,
                    "No apps yet",
                    "Each CometChat app has its own users, keys and region. Create one to get its keys.",
                    Some("New app…"),
                );
                if create {
                    self.new_dialog = Some(NewAppDialog::default());
                }
            }
            Some(page) => {
                let rows = self.visible_rows(&page.items);
                if rows.is_empty() {
                    if self.search != self.server_search && !self.list.is_pending() {
                        ui.horizontal(|ui| {
                            ui.spinner();
                            widgets::muted(ui, "Searching…");
                        });
                    } else if super::empty_state_ui(
                        ui,
                        "No apps match",
                        &format!("No app name or id contains “{}”.", self.search.trim()),
                        Some("Clear search"),
                    ) {
                        self.set_search(String::new(), ui.input(|i| i.time), &mut out);
                    }
                } else {
                    self.table_ui(ui, rows, conn, cx, &mut out);
                    self.pager_ui(ui, &mut out);
                }
            }
        }

        self.dialogs_ui(ui.ctx(), conn, &mut out);
        out
    }

    /// A refresh asked for by the user: also forgets the scheduled-deletion notes.
    fn refresh_by_hand(&mut self, out: &mut Vec<Command>) {
        self.scheduled.clear();
        self.open_problem = None;
        out.push(own(AppsCommand::Refresh));
    }

    fn set_search(&mut self, text: String, now: f64, out: &mut Vec<Command>) {
        self.search = text;
        if self.search.trim().is_empty() && !self.server_search.is_empty() {
            // Clearing needs no pause.
            self.server_search.clear();
            self.page = 1;
            self.search_edited_at = None;
            out.push(own(AppsCommand::Refresh));
        } else {
            self.search_edited_at = Some(now);
        }
    }

    /// Sends the search to the server once typing has paused.
    fn search_pause(&mut self, ui: &Ui, out: &mut Vec<Command>) {
        if self.search.trim() == self.server_search.trim() {
            self.search_edited_at = None;
            return;
        }
        let now = ui.input(|i| i.time);
        let edited = *self.search_edited_at.get_or_insert(now);
        let left = SEARCH_PAUSE_SECS - (now - edited);
        if left <= 0.0 {
            self.server_search = self.search.trim().to_owned();
            self.page = 1;
            self.search_edited_at = None;
            out.push(own(AppsCommand::Refresh));
        } else {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_secs_f64(left));
        }
    }

    fn toolbar_ui(&mut self, ui: &mut Ui, out: &mut Vec<Command>) {
        ui.horizontal(|ui| {
            let mut text = self.search.clone();
            let search = ui.add(
                egui::TextEdit::singleline(&mut text)
                    .hint_text("Search apps by name or id  (Ctrl+F)")
                    .desired_width(280.0),
            );
            ui.ctx()
                .accesskit_node_builder(search.id, |n| n.set_label("Search apps"));
            if text != self.search {
                self.set_search(text, ui.input(|i| i.time), out);
            }
            if std::mem::take(&mut self.focus_search) {
                widgets::focus_and_select_all(ui, &search, &self.search);
            }
            if !self.search.is_empty()
                && widgets::icon_button(ui, "Clear", "Clear search").clicked()
            {
                self.set_search(String::new(), ui.input(|i| i.time), out);
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let busy = self.list.is_pending();
                if ui
                    .add_enabled(!busy, egui::Button::new("Refresh"))
                    .on_hover_text("F5 or Ctrl+R")
                    .clicked()
                {
                    self.refresh_by_hand(out);
                }
                if busy {
                    ui.spinner();
                }
                if let Some(page) = self.list.data() {
                    let n = page.pagination.total.max(page.items.len() as u64);
                    let text = match (n, self.server_search.is_empty()) {
                        (1, true) => "1 app".to_owned(),
                        (n, true) => format!("{n} apps"),
                        (1, false) => "1 app found".to_owned(),
                        (n, false) => format!("{n} apps found"),
                    };
                    widgets::muted(ui, text);
                }
            });
        });
        ui.add_space(theme::SPACE_S);
    }

    fn notices_ui(&mut self, ui: &mut Ui, conn: &Connection, out: &mut Vec<Command>) {
        if let Some(e) = self.list.error() {
            let x = errors::explain(e);
            let next = match x.next {
                NextStep::EditConnection => vec!["Edit connection…", "Retry"],
                _ => vec!["Retry"],
            };
            let title = format!("Could not load the apps: {}", x.title.to_lowercase());
            match widgets::message(ui, Tone::Error, &title, &x.body, &next) {
                Some(i) if next[i] == "Edit connection…" => {
                    out.push(Command::EditConnection(conn.id.clone()));
                }
                Some(_) => out.push(own(AppsCommand::Refresh)),
                None => {}
            }
            ui.add_space(theme::SPACE_S);
        }
        if let Some((title, body)) = &self.open_problem {
            if widgets::message(ui, Tone::Warning, title, body, &["Dismiss"]).is_some() {
                self.open_problem = None;
            }
            ui.add_space(theme::SPACE_S);
        }
        let mut dismiss = None;
        for (i, s) in self.scheduled.iter().enumerate() {
            let title = format!("App {} is scheduled for deletion", s.name);
            let body = format!(
                "CometChat removes {} ({}) for good on {}.",
                s.name,
                s.id,
                date_time(s.at_unix)
            );
            if widgets::message(ui, Tone::Info, &title, &body, &["Dismiss"]).is_some() {
                dismiss = Some(i);
            }
            ui.add_space(theme::SPACE_XS);
        }
        if let Some(i) = dismiss {
            self.scheduled.remove(i);
        }
    }

    fn visible_rows(&self, apps: &[App]) -> Vec<App> {
        let needle = self.search.trim().to_lowercase();
        apps.iter()
            .filter(|a| {
                needle.is_empty()
                    || a.name.to_lowercase().contains(&needle)
                    || a.id.to_lowercase().contains(&needle)
            })
            .cloned()
            .collect()
    }

    fn table_ui(
        &mut self,
        ui: &mut Ui,
        rows: Vec<App>,
        conn: &Connection,
        cx: &mut TabContext<'_>,
        out: &mut Vec<Command>,
    ) {
        let dark = ui.visuals().dark_mode;
        let now = cx.now_unix;
        let header = |ui: &mut Ui, title: &str| {
            ui.label(RichText::new(title).strong());
        };
        let mut open = None;
        let mut delete = None;
        TableBuilder::new(ui)
            .striped(true)
            .resizable(false)
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::remainder().at_least(180.0).clip(true))
            .column(Column::exact(200.0))
            .column(Column::exact(64.0))
            .column(Column::exact(80.0))
            .column(Column::exact(170.0))
            .column(Column::exact(150.0))
            .header(26.0, |mut h| {
                h.col(|ui| header(ui, "Name"));
                h.col(|ui| header(ui, "App id"));
                h.col(|ui| header(ui, "Region"));
                h.col(|ui| header(ui, "Plan"));
                h.col(|ui| header(ui, "Created"));
                h.col(|ui| header(ui, "Actions"));
            })
            .body(|mut body| {
                for app in &rows {
                    body.row(theme::ROW_HEIGHT + 6.0, |mut r| {
                        r.col(|ui| {
                            ui.label(RichText::new(&app.name).strong());
                            if let Some(state) = app.state.as_deref().filter(|s| *s != "active") {
                                widgets::badge(ui, state, theme::tone(Tone::Warning, dark));
                            }
                        });
                        r.col(|ui| app_id_ui(ui, app, out));
                        r.col(|ui| {
                            let text = if app.region.is_empty() {
                                "—".to_owned()
                            } else {
                                app.region.to_uppercase()
                            };
                            widgets::badge(ui, &text, theme::neutral(dark))
                                .on_hover_text(region_name(&app.region));
                        });
                        r.col(|ui| {
                            let plan = app.plan.as_deref().unwrap_or("—");
                            let l = widgets::muted(ui, plan);
                            if let Some(ends) = app.trial_ends_at {
                                l.on_hover_text(format!("Trial ends {}", widgets::date(ends)));
                            }
                        });
                        r.col(|ui| {
                            ui.label(widgets::date(app.created_at))
                                .on_hover_text(date_time(app.created_at));
                            widgets::muted(ui, widgets::ago(now, app.created_at));
                        });
                        r.col(|ui| app_actions_ui(ui, app, &mut open, &mut delete));
                    });
                }
            });
        if let Some(app) = open {
            self.open_app(&app, conn, cx, out);
        }
        if let Some(app) = delete {
            self.ask_delete(app, conn);
        }
    }

    /// Opens the confirmation that names the app (typed on a prod connection).
    fn ask_delete(&mut self, app: App, conn: &Connection) {
        let confirm = ConfirmDialog::new(
            format!("Delete app {}?", app.name),
            format!(
                "CometChat schedules the deletion rather than deleting at once; Keydeck shows when, once the request is accepted. {} ({}) leaves this list now. Its users, groups, messages and keys are removed for good at that time, and connections that use it stop working.",
                app.name, app.id
            ),
            format!("Delete app {}", app.name),
        )
        .guarded(&apps::delete_guard(conn.environment, &app));
        self.delete = Some(DeleteDialog {
            app,
            confirm,
            op: None,
        });
    }

    fn pager_ui(&mut self, ui: &mut Ui, out: &mut Vec<Command>) {
        let Some(p) = self.list.data().map(|p| p.pagination) else {
            return;
        };
        if p.total_pages <= 1 && self.page() == 1 {
            return;
        }
        let busy = self.list.is_pending();
        ui.add_space(theme::SPACE_S);
        ui.horizontal(|ui| {
            let page = self.page();
            if ui
                .add_enabled(!busy && page > 1, egui::Button::new("Previous"))
                .clicked()
            {
                self.page = page - 1;
                out.push(own(AppsCommand::Refresh));
            }
            widgets::muted(ui, format!("Page {page} of {}", p.total_pages.max(1)));
            if ui
                .add_enabled(
                    !busy && u64::from(page) < p.total_pages,
                    egui::Button::new("Next"),
                )
                .clicked()
            {
                self.page = page + 1;
                out.push(own(AppsCommand::Refresh));
            }
        });
    }

    /// Adds (or reuses) an app connection for `app` with its fullAccess key in the keychain,
    /// selects it and shows its API keys.
    fn open_app(
        &mut self,
        app: &App,
        management: &Connection,
        cx: &mut TabContext<'_>,
        out: &mut Vec<Command>,
    ) {
        let Some(key) = app.full_access_key() else {
            self.open_problem = Some((
                format!("{} has no fullAccess key", app.name),
                "Opening an app needs a fullAccess key, and the Management API lists none for this app. Create one in the CometChat dashboard, then refresh.".to_owned(),
            ));
            return;
        };
        self.open_problem = None;
        let existing = existing_connection(&cx.config.connections, management, &app.id);
        let connection = app_connection(management, app, existing);
        if !management.embedded_sandbox
            && connection.base_url.is_none()
            && let Some(base) = management.base_url_override()
            && chat_base_url(Some(base), &app.id).is_none()
        {
            cx.toasts.push(Toast::info(format!(
                "{} uses CometChat's own host: Keydeck cannot tell where {base} serves the chat API. Edit the connection if it lives elsewhere.",
                connection.label
            )));
        }
        let id = connection.id.clone();
        out.push(Command::SaveConnection {
            connection,
            secrets: vec![(FIELD_API_KEY, key.api_key.clone())],
        });
        out.push(Command::SelectConnection(id));
        out.push(Command::SelectTab(Tab::Keys));
    }

    fn dialogs_ui(&mut self, ctx: &egui::Context, conn: &Connection, out: &mut Vec<Command>) {
        if let Some(d) = &mut self.new_dialog {
            match new_app_dialog_ui(ctx, d) {
                DialogOutcome::Open => {}
                DialogOutcome::Submit => {
                    if let Some(region) = d.region {
                        out.push(own(AppsCommand::Create(NewApp {
                            name: d.name.trim().to_owned(),
                            region: region.to_owned(),
                        })));
                    }
                }
                DialogOutcome::EditConnection => {
                    out.push(Command::EditConnection(conn.id.clone()));
                    self.new_dialog = None;
                }
                DialogOutcome::Close => self.new_dialog = None,
            }
        }

        if let Some(d) = &mut self.delete {
            match d.confirm.ui(ctx) {
                ConfirmOutcome::Confirmed if d.op.is_none() => {
                    out.push(own(AppsCommand::Delete {
                        app_id: d.app.id.clone(),
                    }));
                }
                ConfirmOutcome::Cancelled if d.op.is_none() => self.delete = None,
                _ => {}
            }
        }
    }
}

/// The empty state of an app connection: offers the management connections there are, or
/// adding one.
fn not_management_ui(
    ui: &mut Ui,
    active: &Connection,
    connections: &[Connection],
    out: &mut Vec<Command>,
) {
    let managements: Vec<&Connection> = connections
        .iter()
        .filter(|c| c.kind == ConnectionKind::Management)
        .collect();
    ui.add_space(theme::SPACE_L);
    ui.vertical_centered(|ui| {
        theme::card_frame(ui.visuals()).show(ui, |ui| {
            ui.set_max_width(480.0);
            ui.vertical_centered(|ui| {
                ui.label(
                    RichText::new("Apps are listed by a management connection")
                        .strong()
                        .size(15.0),
                );
                ui.add_space(theme::SPACE_XS);
                let what = match active.kind {
                    ConnectionKind::Cometly => "a Cometly connection (Cometly has no apps)",
                    ConnectionKind::AblyAccount { .. } => {
                        "an Ably account (its apps are on the API keys tab)"
                    }
                    _ => "a single CometChat app",
                };
                let body = if managements.is_empty() {
                    format!(
                        "{} is {what}. To list, create and delete CometChat apps, add a CometChat Management connection: the key and secret from the dashboard's multi-tenancy settings.",
                        active.label
                    )
                } else {
                    format!(
                        "{} is {what}. Switch to a management connection to list, create and delete CometChat apps.",
                        active.label
                    )
                };
                ui.add(
                    egui::Label::new(
                        RichText::new(body).color(theme::muted(ui.visuals().dark_mode)),
                    )
                    .wrap(),
                );
                ui.add_space(theme::SPACE_S);
                for m in &managements {
                    if ui
                        .button(RichText::new(format!("Switch to {}", m.label)).strong())
                        .on_hover_text(format!("A {} connection", m.environment))
                        .clicked()
                    {
                        out.push(Command::SelectConnection(m.id.clone()));
                    }
                }
                if ui.button("Add a management connection…").clicked() {
                    out.push(Command::SelectTab(Tab::Connections));
                }
            });
        });
    });
}

fn new_app_dialog_ui(ctx: &egui::Context, d: &mut NewAppDialog) -> DialogOutcome {
    let mut outcome = DialogOutcome::Open;
    let busy = d.op.is_some();
    let modal = widgets::dialog(ctx, egui::Id::unique("apps-new"), |ui| {
        ui.set_width(460.0);
        ui.heading("New app");
        ui.add_space(theme::SPACE_S);

        let problem = d.name_problem();
        let shown = d
            .name_error
            .as_deref()
            .or(if d.name_touched || d.submit_tried {
                problem
            } else {
                None
            });
        let before = d.name.clone();
        let r = widgets::text_field(ui, "Name", &mut d.name, "e.g. Support desk", shown);
        if d.name != before {
            d.name_error = None;
            d.name_touched = true;
        }
        if !r.has_focus() && d.name.is_empty() && !busy && d.region.is_none() {
            r.request_focus();
        }
        let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));

        ui.label(RichText::new("Region").strong());
        for (id, name, line) in REGIONS {
            ui.horizontal(|ui| {
                if ui.radio(d.region == Some(id), name).clicked() {
                    d.region = Some(id);
                    d.region_error = None;
                }
                widgets::muted(ui, line);
            });
        }
        if let Some(e) = &d.region_error {
            widgets::field_error(ui, e);
        } else if d.submit_tried && d.region.is_none() {
            widgets::field_error(ui, "Pick where the app's data lives");
        } else {
            widgets::muted(ui, "The region cannot be changed later.");
        }

        if let Some(x) = &d.error {
            ui.add_space(theme::SPACE_S);
            let actions: Vec<&str> = match x.next {
                NextStep::EditConnection => vec!["Edit connection…"],
                _ => Vec::new(),
            };
            if widgets::message(ui, Tone::Error, &x.title, &x.body, &actions).is_some() {
                outcome = DialogOutcome::EditConnection;
            }
        }

        ui.add_space(theme::SPACE_M);
        if d.asking_to_discard {
            if widgets::discard_prompt_ui(
                ui,
                "Discard this new app?",
                "What you typed will be lost.",
                &mut d.asking_to_discard,
            ) {
                outcome = DialogOutcome::Close;
            }
            return;
        }
        ui.horizontal(|ui| {
            let valid = d.is_valid() && !busy;
            let label = if busy { "Creating…" } else { "Create app" };
            let clicked = ui
                .add_enabled(valid, egui::Button::new(RichText::new(label).strong()))
                .on_disabled_hover_text(if busy {
                    "Waiting for the server"
                } else {
                    "Give the app a name and pick a region first"
                })
                .clicked();
            if clicked || (enter && valid) {
                outcome = DialogOutcome::Submit;
            } else if enter && !busy {
                // Enter on an incomplete form: say what is missing.
                d.submit_tried = true;
            }
            if ui.add_enabled(!busy, egui::Button::new("Cancel")).clicked() {
                if d.is_dirty() {
                    d.asking_to_discard = true;
                } else {
                    outcome = DialogOutcome::Close;
                }
            }
            if busy {
                ui.spinner();
            }
        });
    });
    if modal.should_close() && outcome == DialogOutcome::Open && !busy {
        if d.is_dirty() {
            d.asking_to_discard = true;
        } else {
            outcome = DialogOutcome::Close;
        }
    }
    outcome
}

/// A text button whose accessible name says which app it acts on ("Open Support desk").
fn named_button(ui: &mut Ui, text: &str, name: &str, enabled: bool) -> egui::Response {
    let r = ui.add_enabled(enabled, egui::Button::new(text));
    let label = name.to_owned();
    ui.ctx()
        .accesskit_node_builder(r.id, |n| n.set_label(label));
    r
}

/// A region id in words.
fn region_name(id: &str) -> &str {
    REGIONS
        .iter()
        .find(|(r, _, _)| *r == id)
        .map_or(id, |(_, name, _)| name)
}

/// A Unix timestamp as a UTC date and time: `2026-12-23 14:05 UTC`.
fn date_time(unix: i64) -> String {
    let secs = unix.rem_euclid(86_400);
    format!(
        "{} {:02}:{:02} UTC",
        widgets::date(unix),
        secs / 3600,
        (secs % 3600) / 60
    )
}

/// The app id, with Copy.
fn app_id_ui(ui: &mut Ui, app: &App, out: &mut Vec<Command>) {
    ui.spacing_mut().item_spacing.x = 4.0;
    ui.add(egui::Label::new(RichText::new(&app.id).monospace()).truncate());
    let copy = ui.add(egui::Button::new("Copy").small());
    let label = format!("Copy app id of {}", app.name);
    ui.ctx()
        .accesskit_node_builder(copy.id, |n| n.set_label(label));
    if copy.on_hover_text("Copy the app id").clicked() {
        out.push(Command::Copy {
            value: Secret::new(app.id.clone()),
            what: format!("app id of {}", app.name),
        });
    }
}

/// Open and Delete… of one app; what was clicked lands in `open` or `delete`.
fn app_actions_ui(ui: &mut Ui, app: &App, open: &mut Option<App>, delete: &mut Option<App>) {
    let has_key = app.full_access_key().is_some();
    let b = named_button(ui, "Open", &format!("Open {}", app.name), true);
    let b = if has_key {
        b.on_hover_text(format!(
            "Add a connection for {} with its fullAccess key, and show its API keys",
            app.name
        ))
    } else {
        b.on_hover_text("This app lists no fullAccess key")
    };
    if b.clicked() {
        *open = Some(app.clone());
    }
    if named_button(ui, "Delete…", &format!("Delete {}…", app.name), true).clicked() {
        *delete = Some(app.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_utc_dates_with_minutes() {
        assert_eq!(date_time(0), "1970-01-01 00:00 UTC");
        assert_eq!(date_time(1_700_000_000), "2023-11-14 22:13 UTC");
        assert_eq!(widgets::ago(1000, 990), "just now");
        assert_eq!(widgets::ago(100_000, 100_000 - 7200), "2 hours ago");
    }

    #[test]
    fn the_new_app_form_needs_a_name_and_a_region() {
        let mut d = NewAppDialog::default();
        assert_eq!(d.name_problem(), Some("Give the app a name"));
        d.name = "   ".into();
        assert_eq!(d.name_problem(), Some("Give the app a name"));
        d.name = "x".repeat(101);
        assert!(d.name_problem().is_some());
        d.name = " Support desk ".into();
        assert!(d.name_problem().is_none());
        assert!(!d.is_valid());
        d.region = Some("eu");
        assert!(d.is_valid());
        assert_eq!(region_name("eu"), "Europe");
        assert_eq!(region_name("mars"), "mars");
    }
}
