//! Users & tokens: find a user among many thousands, issue or revoke an auth token, hand it
//! over, move on. Also bulk token runs over a file of uids ([`bulk`]).
//!
//! The tab owns its state and its commands ([`UsersCommand`], sent to itself through the shell
//! with [`own`]) and performs them through `core::ops`. Users arrive in pages from a background
//! task over a channel that is drained at the start of the tab's frame.

use std::sync::mpsc;

use egui::{Key, KeyboardShortcut, Modifiers, RichText, Ui};
use egui_extras::{Column, TableBuilder, TableRow};
use futures::StreamExt;
use poll_promise::Promise;
use tokio::runtime::Handle;
use tokio::task::AbortHandle;

use crate::config::Environment;
use crate::core::client::ActiveClient;
use crate::core::errors;
use crate::core::ops::users;
use crate::core::recorder::Recorder;
use crate::providers::cometchat::{CometChatClient, NewUser, User, UserQuery, UserUpdate};
use crate::providers::{ApiError, ErrorKind};
use crate::secret::Secret;
use crate::ui::context::{Command, Tab, TabContext, TabMessage, TabView};
use crate::ui::shortcuts::Shortcut;
use crate::ui::theme::{self, Tone};
use crate::ui::toasts::Toast;
use crate::ui::widgets;

pub mod bulk;
mod detail;
mod export;
mod new_user;
mod paged;
mod store;

pub use bulk::{BulkTokens, FilePicker};
pub use detail::FRESH_TOKEN_SHOWN_SECS;
use detail::OpenUser;
use new_user::NewUserDialog;
pub use paged::{Drawn, LOAD_WHOLE_UP_TO};
use store::{Filter, FilteredView, UserStore};

/// Users per page when walking the whole list, and pages in flight.
const PAGE_SIZE: u32 = 1000;
const PAGE_CONCURRENCY: usize = 4;
/// Quiet time after the last keystroke before the server is searched (a loaded list).
const SEARCH_PAUSE_SECS: f64 = 0.35;
/// The same in paged mode, where the server is the only complete search: shorter. A paste
/// (several characters at once) or Enter asks at once.
const PAGED_SEARCH_PAUSE_SECS: f64 = 0.15;
/// Users asked of the server per search.
const SEARCH_PAGE_SIZE: u32 = 100;

/// Ctrl+Shift+C: issue a token for the open user and copy it.
const ISSUE_AND_COPY: KeyboardShortcut =
    KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::C);

/// A command of this tab, addressed to itself.
pub(crate) fn own(c: UsersCommand) -> Command {
    Command::Tab(TabMessage::new(Tab::Users, c))
}

/// The width the load progress needs beside the filters ("Stop", a bar, "Loaded N of M").
const PROGRESS_ROOM: f32 = 360.0;

/// What this tab asks itself to do (performed in [`TabView::handle`]).
pub enum UsersCommand {
    /// (Re)load every user, page by page, in the background.
    Load,
    /// Ask the server for users matching this text (`searchKey`).
    ServerSearch(String),
    /// Fetch one user by uid and open it.
    OpenByUid(String),
    LoadTokens(String),
    CreateUser(NewUser),
    /// Open the edit form over this user (Edit… in the detail pane).
    Edit(String),
    UpdateUser {
        uid: String,
        update: Box<UserUpdate>,
    },
    IssueToken {
        uid: String,
        force: bool,
        /// Copy the new token when it arrives.
        copy: bool,
    },
    RevokeToken {
        uid: String,
        token: Secret,
    },
    RevokeAll(String),
    Deactivate(String),
    Reactivate(String),
    DeletePermanently(String),
    /// `GET /users/{uid}` with `onBehalfOf: viewer`.
    ViewAs {
        uid: String,
        viewer: String,
    },
    Bulk(bulk::BulkCommand),
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum View {
    #[default]
    Users,
    Bulk,
}

enum LoadMsg {
    /// Page 1 of the unfiltered list, a screenful: its total decides between loading the
    /// whole list and paging it.
    First(crate::providers::Page<User>),
    Page {
        users: Vec<User>,
        total: u64,
    },
    Failed(ApiError),
    Done,
}

#[derive(Default)]
enum LoadPhase {
    #[default]
    NotStarted,
    Running,
    Done,
    Stopped,
    Failed(ApiError),
}

/// The background walk over all pages.
#[derive(Default)]
struct Loader {
    phase: LoadPhase,
    rx: Option<mpsc::Receiver<LoadMsg>>,
    abort: Option<AbortHandle>,
    /// Users delivered by the walk (not by searches).
    loaded: u64,
    total: Option<u64>,
    /// What paged mode needs, should the first page say the app is too large to load whole.
    source: Option<(CometChatClient, Handle, egui::Context)>,
}

impl Loader {
    fn stop(&mut self) {
        if let Some(a) = self.abort.take() {
            a.abort();
        }
        self.rx = None;
        if matches!(self.phase, LoadPhase::Running) {
            self.phase = LoadPhase::Stopped;
        }
    }

    fn is_complete(&self) -> bool {
        matches!(self.phase, LoadPhase::Done)
    }
}

impl Drop for Loader {
    fn drop(&mut self) {
        if let Some(a) = self.abort.take() {
            a.abort();
        }
    }
}

struct ServerSearch {
    needle: String,
    promise: Promise<Result<Vec<User>, ApiError>>,
}

#[derive(Default)]
pub struct UsersTab {
    bound_connection: Option<String>,
    seen_generation: u64,
    view: View,
    store: UserStore,
    filtered: FilteredView,
    loader: Loader,
    search: String,
    /// UI time of the last edit of the search text not yet sent to the server.
    search_edited_at: Option<f64>,
    server_search: Option<ServerSearch>,
    /// The last search text the server answered.
    searched: Option<String>,
    status_filter: Option<String>,
    role_filter: Option<String>,
    tag_filter: Option<String>,
    include_deactivated: bool,
    /// Position in the filtered rows that Enter opens.
    cursor: usize,
    scroll_to_cursor: bool,
    focus_search: bool,
    open: Option<OpenUser>,
    /// The open user rebuilt from the store, with the store revision it was rebuilt at.
    open_record: Option<(u64, String, Option<User>)>,
    /// An Enter on a uid that is not loaded yet: the lookup in flight.
    opening: Option<(String, Promise<Result<User, ApiError>>)>,
    new_user: Option<NewUserDialog>,
    pub bulk: BulkTokens,
    /// Paged mode: an app with more users than the whole-list limit.
    paged: Option<paged::Paged>,
    /// The search text the server was last asked for, in paged mode.
    server_needle: String,
    /// Overrides [`LOAD_WHOLE_UP_TO`] (tests page a small app).
    whole_limit: Option<u64>,
    export: export::Export,
    drawn: Drawn,
    /// The search and filters of the last frame, to start again at the top when they change.
    shown_filter: Filter,
}

impl TabView for UsersTab {
    fn id(&self) -> Tab {
        Tab::Users
    }

    fn has_dialog(&self) -> bool {
        UsersTab::has_dialog(self)
    }

    fn ui(&mut self, ui: &mut Ui, cx: &mut TabContext<'_>) -> Vec<Command> {
        self.tab_ui(ui, cx)
    }

    fn handle(&mut self, message: TabMessage, cx: &mut TabContext<'_>) {
        match message.take::<UsersCommand>() {
            Ok(c) => self.perform(cx, c),
            Err(m) => tracing::warn!("the users tab got a command of another tab ({:?})", m.tab),
        }
    }
}

impl UsersTab {
    /// Whether a dialog is open.
    pub fn has_dialog(&self) -> bool {
        self.new_user.is_some()
            || self.open.as_ref().is_some_and(OpenUser::has_dialog)
            || self.bulk.has_dialog()
    }

    /// Users loaded so far (a list loaded whole; in paged mode, the users opened).
    pub fn loaded_users(&self) -> usize {
        self.store.len()
    }

    /// In paged mode (an app larger than the whole-list limit), every user of the app.
    pub fn paged_total(&self) -> Option<u64> {
        self.paged.as_ref().map(paged::Paged::all_users)
    }

    /// The rows the table drew in the last frame: users, and placeholders for rows whose
    /// page is on its way (paged mode).
    pub fn drawn_rows(&self) -> Drawn {
        self.drawn
    }

    /// In paged mode, the rows the table has (the server's count for the filters), once the
    /// server has answered for the filters on screen.
    pub fn paged_rows(&self) -> Option<u64> {
        let p = self.paged.as_ref()?;
        let filter = self.current_filter();
        match p.shown(&filter) {
            paged::Shown::Pages(pages) => pages.total(),
            paged::Shown::Preview(_) => None,
        }
    }

    /// Pages held by the paged list and its search: what bounds its memory.
    pub fn paged_pages_held(&self) -> Option<usize> {
        let p = self.paged.as_ref()?;
        Some(p.home.stats().0 + p.search.as_ref().map_or(0, |(_, s)| s.stats().0))
    }

    /// Loads a list whole only up to `users` users (tests page a small app).
    pub fn set_whole_list_limit(&mut self, users: u64) {
        self.whole_limit = Some(users);
    }

    /// How many loaded users the table shows under the current search and filters.
    pub fn shown_users(&self) -> usize {
        self.filtered.rows().len()
    }

    /// True while a new search or filter is still being applied, a slice per frame.
    pub fn is_filtering(&self) -> bool {
        self.filtered.is_filtering()
    }

    /// The uid of the user whose detail pane is open.
    pub fn open_uid(&self) -> Option<&str> {
        self.open.as_ref().map(|o| o.uid.as_str())
    }

    /// Shows the bulk tokens view.
    pub fn show_bulk(&mut self) {
        self.view = View::Bulk;
    }

    /// Performs one of this tab's commands with the active connection's client, through the
    /// core operations (which record themselves in the audit trail).
    fn perform(&mut self, cx: &mut TabContext<'_>, command: UsersCommand) {
        let Some(client) = cx.cometchat().cloned() else {
            cx.toasts
                .push(Toast::error("Select a CometChat app connection first"));
            return;
        };
        let rec = cx.recorder.clone();
        match command {
            UsersCommand::Load => self.start_load(&cx.egui_ctx, cx.rt, client),
            UsersCommand::ServerSearch(needle) => {
                let query = UserQuery {
                    search_key: Some(needle.clone()),
                    with_tags: true,
                    with_deactivated: true,
                    per_page: Some(SEARCH_PAGE_SIZE),
                    ..UserQuery::default()
                };
                let promise =
                    cx.run(async move { client.list_users(&query, None).await.map(|p| p.items) });
                self.server_search = Some(ServerSearch { needle, promise });
            }
            UsersCommand::OpenByUid(uid) => {
                let u = uid.clone();
                let p = cx.run(async move { client.get_user(&u, None).await });
                self.opening = Some((uid, p));
            }
            UsersCommand::CreateUser(new) => {
                if let Some(d) = &mut self.new_user {
                    d.started(cx.run(async move { users::create(&client, &rec, &new).await }));
                }
            }
            UsersCommand::Edit(uid) => match self.store.get(&uid) {
                Some(user) => self.new_user = Some(NewUserDialog::edit(&user)),
                None => cx.toasts.push(Toast::error(format!(
                    "{uid} is not among the loaded users: refresh the list, then edit it"
                ))),
            },
            UsersCommand::UpdateUser { uid, update } => {
                if let Some(d) = &mut self.new_user {
                    d.started(
                        cx.run(async move { users::update(&client, &rec, &uid, &update).await }),
                    );
                }
            }
            UsersCommand::Bulk(c) => self.bulk.handle(cx, client, c),
            command => {
                if let Some(o) = self.open.as_mut() {
                    o.perform(cx, client, command);
                }
            }
        }
    }

    /// Asks for page 1 of the unfiltered list (a screenful, painted at once); its total
    /// decides: an app of at most [`LOAD_WHOLE_UP_TO`] users goes on to be loaded whole, page
    /// by page, a larger one is paged ([`paged`]).
    fn start_load(&mut self, ctx: &egui::Context, rt: &Handle, client: CometChatClient) {
        self.loader.stop();
        self.store.clear();
        self.filtered = FilteredView::default();
        self.searched = None;
        self.paged = None;
        self.server_needle.clear();
        let limit = self.whole_limit.unwrap_or(LOAD_WHOLE_UP_TO);
        // Deactivated users too, as the whole list is loaded: they count towards its size.
        let first_query = UserQuery {
            page: Some(1),
            per_page: Some(crate::core::user_pages::PER_PAGE),
            with_tags: true,
            with_deactivated: true,
            ..UserQuery::default()
        };
        let query = UserQuery {
            with_tags: true,
            with_deactivated: true,
            per_page: Some(PAGE_SIZE),
            ..UserQuery::default()
        };
        let (tx, rx) = mpsc::channel();
        let source = Some((client.clone(), rt.clone(), ctx.clone()));
        let ctx = ctx.clone();
        let task = rt.spawn(async move {
            match client.list_users(&first_query, None).await {
                Ok(first) => {
                    let total = first.pagination.total;
                    if tx.send(LoadMsg::First(first)).is_err() {
                        return;
                    }
                    ctx.request_repaint();
                    if total > limit {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.send(LoadMsg::Failed(e));
                    ctx.request_repaint();
                    return;
                }
            }
            let mut pages = std::pin::pin!(client.user_pages(query, PAGE_CONCURRENCY));
            while let Some(page) = pages.next().await {
                let msg = match page {
                    Ok(p) => LoadMsg::Page {
                        total: p.pagination.total,
                        users: p.items,
                    },
                    Err(e) => {
                        let _ = tx.send(LoadMsg::Failed(e));
                        ctx.request_repaint();
                        return;
                    }
                };
                if tx.send(msg).is_err() {
                    return;
                }
                ctx.request_repaint();
            }
            let _ = tx.send(LoadMsg::Done);
            ctx.request_repaint();
        });
        self.loader = Loader {
            phase: LoadPhase::Running,
            rx: Some(rx),
            abort: Some(task.abort_handle()),
            loaded: 0,
            total: None,
            source,
        };
    }

    /// Drains the page channel and settles promises: the start of the tab's frame.
    fn settle(&mut self, rec: &Recorder, out: &mut Vec<Command>) {
        self.drain_pages();
        self.settle_server_search(out);
        self.settle_opening(out);
        self.settle_new_user(out);
        self.settle_open_user(out);
        out.extend(self.bulk.settle(rec));
    }

    /// Takes in the pages the background walk delivered.
    fn drain_pages(&mut self) {
        if let Some(rx) = &self.loader.rx {
            let mut finished = false;
            for msg in rx.try_iter() {
                match msg {
                    LoadMsg::First(first) => {
                        let total = first.pagination.total;
                        self.loader.total = Some(total);
                        if total > self.whole_limit.unwrap_or(LOAD_WHOLE_UP_TO)
                            && let Some((client, rt, ctx)) = self.loader.source.take()
                        {
                            tracing::info!("users: {total} users, paged");
                            self.paged = Some(paged::Paged::new(client, rt, &ctx));
                            // A search typed while the first page was on its way goes to
                            // the server now.
                            self.server_needle = self.search.trim().to_lowercase();
                            self.search_edited_at = None;
                            self.loader.phase = LoadPhase::Done;
                            finished = true;
                        } else {
                            self.store
                                .reserve(usize::try_from(total).unwrap_or(usize::MAX));
                            for u in first.items {
                                self.store.upsert(u);
                            }
                        }
                    }
                    LoadMsg::Page { users, total } => {
                        self.loader.total = Some(total);
                        // Room for every user the server announced, once: growing a
                        // 100,000-user store by doubling copies it and peaks far higher.
                        self.store
                            .reserve(usize::try_from(total).unwrap_or(usize::MAX));
                        self.loader.loaded += users.len() as u64;
                        for u in users {
                            self.store.upsert(u);
                        }
                    }
                    LoadMsg::Failed(e) => {
                        self.loader.phase = LoadPhase::Failed(e);
                        finished = true;
                    }
                    LoadMsg::Done => {
                        self.loader.phase = LoadPhase::Done;
                        finished = true;
                        tracing::info!("users: all {} users loaded", self.store.len());
                    }
                }
            }
            if finished {
                self.loader.rx = None;
                self.loader.abort = None;
            }
        }
    }

    fn settle_server_search(&mut self, out: &mut Vec<Command>) {
        if let Some(s) = self.server_search.take() {
            match s.promise.try_take() {
                Ok(Ok(users)) => {
                    for u in users {
                        let (i, new) = self.store.upsert(u);
                        if !new {
                            self.filtered.recheck(&self.store, i);
                        }
                    }
                    self.searched = Some(s.needle);
                }
                Ok(Err(e)) => {
                    let x = errors::explain(&e);
                    out.push(Command::Toast(Toast::error(format!(
                        "The server search failed: {}",
                        x.title.to_lowercase()
                    ))));
                }
                Err(promise) => {
                    self.server_search = Some(ServerSearch {
                        needle: s.needle,
                        promise,
                    })
                }
            }
        }
    }

    /// A user looked up by uid: open it, or say why not.
    fn settle_opening(&mut self, out: &mut Vec<Command>) {
        if let Some((uid, p)) = self.opening.take() {
            match p.try_take() {
                Ok(Ok(user)) => {
                    let uid = user.uid.clone();
                    self.store.upsert(user);
                    self.open_user(&uid, out);
                }
                Ok(Err(e)) if e.kind == ErrorKind::NotFound => {
                    out.push(Command::Toast(Toast::error(format!("No user {uid}"))));
                }
                Ok(Err(e)) => {
                    let x = errors::explain(&e);
                    out.push(Command::Toast(Toast::error(format!(
                        "Could not open {uid}: {}",
                        x.title.to_lowercase()
                    ))));
                }
                Err(p) => self.opening = Some((uid, p)),
            }
        }
    }

    fn settle_new_user(&mut self, out: &mut Vec<Command>) {
        if let Some(d) = &mut self.new_user
            && let Some(result) = d.settle()
        {
            match result {
                Ok(user) if d.editing().is_some() => {
                    let uid = user.uid.clone();
                    let (i, new) = self.store.upsert(User {
                        auth_token: None,
                        ..user
                    });
                    if !new {
                        self.filtered.recheck(&self.store, i);
                    }
                    if let Some(p) = &mut self.paged
                        && let Some(saved) = self.store.get(&uid)
                    {
                        p.update(&uid, |u| *u = saved.clone());
                    }
                    self.new_user = None;
                    out.push(Command::Toast(Toast::success(format!(
                        "Saved the changes to user {uid}"
                    ))));
                }
                Ok(user) => {
                    let uid = user.uid.clone();
                    let with_token = user.auth_token.is_some();
                    let (i, new) = self.store.upsert(User {
                        auth_token: None,
                        ..user
                    });
                    if !new {
                        self.filtered.recheck(&self.store, i);
                    }
                    if let Some(p) = &mut self.paged {
                        p.changed_on_server();
                    }
                    self.new_user = None;
                    out.push(Command::Toast(Toast::success(if with_token {
                        format!("Created user {uid} and issued an auth token")
                    } else {
                        format!("Created user {uid}")
                    })));
                    self.open_user(&uid, out);
                }
                Err(e) => {
                    d.failed(&e);
                }
            }
        }
    }

    /// Settles the open user's requests and applies what the list must learn from them.
    fn settle_open_user(&mut self, out: &mut Vec<Command>) {
        if let Some(o) = &mut self.open {
            let effects = o.settle(out);
            for effect in effects {
                match effect {
                    detail::Effect::Deactivated(uid, deactivated) => {
                        let now = widgets::now_unix();
                        if let Some(i) = self.store.update(&uid, |u| {
                            u.deactivated_at = deactivated.then_some(now);
                        }) {
                            self.filtered.recheck(&self.store, i);
                        }
                        // In or out of the lists (the unfiltered one holds active users only).
                        if let Some(p) = &mut self.paged {
                            p.changed_on_server();
                        }
                    }
                    detail::Effect::Deleted(uid) => {
                        if let Some(p) = &mut self.paged {
                            p.changed_on_server();
                        }
                        if self.store.remove(&uid) {
                            self.filtered.invalidate();
                            if let Some(t) = &mut self.loader.total {
                                *t = t.saturating_sub(1);
                            }
                            self.loader.loaded = self.loader.loaded.saturating_sub(1);
                        }
                        self.open = None;
                        break;
                    }
                }
            }
        }
    }

    fn open_user(&mut self, uid: &str, out: &mut Vec<Command>) {
        if self.open.as_ref().is_some_and(|o| o.uid == uid) {
            return;
        }
        self.open = Some(OpenUser::new(uid));
        out.push(own(UsersCommand::LoadTokens(uid.to_owned())));
    }

    fn current_filter(&self) -> Filter {
        Filter {
            needle: self.search.trim().to_lowercase(),
            status: self.status_filter.clone(),
            role: self.role_filter.clone(),
            tag: self.tag_filter.clone(),
            include_deactivated: self.include_deactivated,
        }
    }

    fn tab_ui(&mut self, ui: &mut Ui, cx: &mut TabContext<'_>) -> Vec<Command> {
        let mut out = Vec::new();
        let Some(conn) = cx.connection else {
            super::no_connection_ui(
                ui,
                cx,
                "Users & tokens",
                "Add a CometChat app in the Connections tab to find its users and manage their auth tokens.",
                &mut out,
            );
            return out;
        };
        let subtitle = super::connection_subtitle(conn);
        match cx.client {
            Ok(ActiveClient::CometChat(_)) => {}
            Ok(_) => {
                super::header_ui(ui, "Users & tokens", &subtitle, |_| {});
                super::needs_an_app_ui(
                    ui,
                    "Users",
                    crate::core::kinds::spec(&conn.kind).provider(),
                    "Pick a CometChat app connection in the switcher above to see its users.",
                    &mut out,
                );
                return out;
            }
            Err(problem) => {
                super::header_ui(ui, "Users & tokens", &subtitle, |_| {});
                super::client_problem_ui(ui, problem, &conn.id, &mut out);
                return out;
            }
        }

        // Follow the active connection: another one starts empty, a changed one reloads.
        if self.bound_connection.as_deref() != Some(conn.id.as_str()) {
            let picker = std::mem::take(&mut self.bulk).into_picker();
            // An export of the other connection's users stops (its toast still says so).
            let export = std::mem::take(&mut self.export);
            export.cancel();
            *self = UsersTab {
                export,
                bound_connection: Some(conn.id.clone()),
                seen_generation: cx.generation,
                bulk: BulkTokens::with_picker(picker),
                whole_limit: self.whole_limit,
                ..UsersTab::default()
            };
            out.push(own(UsersCommand::Load));
        } else if self.seen_generation != cx.generation {
            self.seen_generation = cx.generation;
            out.push(own(UsersCommand::Load));
        }

        self.settle(&cx.recorder, &mut out);

        let dialog_open = self.has_dialog();
        if !dialog_open {
            for s in cx.shortcuts {
                match s {
                    Shortcut::FocusSearch => {
                        self.view = View::Users;
                        self.focus_search = true;
                    }
                    Shortcut::New => self.new_user = Some(NewUserDialog::default()),
                    Shortcut::Refresh => out.push(own(UsersCommand::Load)),
                }
            }
            if self.view == View::Users
                && ui.input_mut(|i| i.consume_shortcut(&ISSUE_AND_COPY))
                && let Some(o) = &self.open
            {
                out.push(own(UsersCommand::IssueToken {
                    uid: o.uid.clone(),
                    force: o.force,
                    copy: true,
                }));
            }
        }

        super::header_ui(ui, "Users & tokens", &subtitle, |ui| {
            if ui
                .button(RichText::new("New user…").strong())
                .on_hover_text("Ctrl+N")
                .clicked()
            {
                self.new_user = Some(NewUserDialog::default());
            }
            ui.add_space(theme::SPACE_S);
            ui.selectable_value(&mut self.view, View::Bulk, "Bulk tokens");
            ui.selectable_value(&mut self.view, View::Users, "Users");
        });

        // A file dropped on the Users view is a list of uids for Bulk tokens.
        if self.view == View::Users
            && (crate::ui::file_dialog::file_hovering(ui.ctx())
                || crate::ui::file_dialog::dropped_file(ui.ctx()).is_some())
        {
            self.view = View::Bulk;
        }
        match self.view {
            View::Users => self.users_ui(ui, cx, &mut out),
            View::Bulk => self.bulk.ui(ui, &cx.recorder, &mut out),
        }

        if let Some(d) = &mut self.new_user {
            match d.ui(ui.ctx()) {
                new_user::Outcome::Open => {}
                new_user::Outcome::Submit(new) => out.push(own(UsersCommand::CreateUser(*new))),
                new_user::Outcome::Save(uid, update) => {
                    out.push(own(UsersCommand::UpdateUser { uid, update }));
                }
                new_user::Outcome::Close => self.new_user = None,
            }
        }
        out
    }

    fn users_ui(&mut self, ui: &mut Ui, cx: &mut TabContext<'_>, out: &mut Vec<Command>) {
        self.toolbar_ui(ui, out);
        self.export_ui(ui, cx);
        // Another search or filter starts at its first match.
        let filter = self.current_filter();
        if filter != self.shown_filter {
            self.shown_filter = filter;
            self.cursor = 0;
            self.scroll_to_cursor = true;
        }

        if self.paged.is_some() {
            self.follow_paged(ui);
        } else {
            self.follow_whole(ui, out);
        }

        if let LoadPhase::Failed(e) = &self.loader.phase {
            let x = errors::explain(e);
            let title = format!("Could not load the users: {}", x.title.to_lowercase());
            let actions: Vec<&str> = match x.next {
                errors::NextStep::EditConnection => vec!["Edit connection…", "Retry"],
                _ => vec!["Retry"],
            };
            match widgets::message(ui, Tone::Error, &title, &x.body, &actions) {
                Some(i) if actions[i] == "Edit connection…" => {
                    if let Some(c) = cx.connection {
                        out.push(Command::EditConnection(c.id.clone()));
                    }
                }
                Some(_) => out.push(own(UsersCommand::Load)),
                None => {}
            }
            ui.add_space(theme::SPACE_S);
        }
        self.paged_error_ui(ui);

        self.detail_ui(ui, cx, out);
        if self.paged.is_some() {
            self.paged_table_ui(ui, cx.now_unix, out);
        } else {
            self.table_ui(ui, cx.now_unix, out);
        }
    }

    /// Paged mode: takes in pages, asks the server for the search once typing pauses (at once
    /// for a paste), and searches the held users meanwhile.
    fn follow_paged(&mut self, ui: &Ui) {
        let filter = self.current_filter();
        let now = ui.input(|i| i.time);
        if let Some(at) = self.search_edited_at {
            let wait = PAGED_SEARCH_PAUSE_SECS - (now - at);
            if wait <= 0.0 || filter.needle.is_empty() {
                self.search_edited_at = None;
                self.server_needle = filter.needle.clone();
            } else {
                ui.ctx()
                    .request_repaint_after(std::time::Duration::from_secs_f64(wait));
            }
        }
        let server = Filter {
            needle: self.server_needle.clone(),
            ..filter.clone()
        };
        if let Some(p) = &mut self.paged {
            p.poll();
            p.follow(&filter, &server);
        }
    }

    /// A paged listing that failed: say so, with Retry.
    fn paged_error_ui(&mut self, ui: &mut Ui) {
        let Some(e) = self.paged.as_ref().and_then(paged::Paged::error) else {
            return;
        };
        let x = errors::explain(e);
        let title = format!("Some users could not be loaded: {}", x.title.to_lowercase());
        if widgets::message(ui, Tone::Error, &title, &x.body, &["Retry"]).is_some()
            && let Some(p) = &mut self.paged
        {
            p.retry();
        }
        ui.add_space(theme::SPACE_S);
    }

    /// A list loaded whole: the filter runs on it a slice per frame, and the server is
    /// searched after a pause for what is not loaded yet.
    fn follow_whole(&mut self, ui: &Ui, out: &mut Vec<Command>) {
        // Keep the filtered rows in step with the filter and the data.
        self.filtered.set_filter(self.current_filter());
        if self.filtered.advance(&self.store) {
            ui.ctx().request_repaint();
        }

        // Search the server after a pause, unless everything is loaded already.
        let now = ui.input(|i| i.time);
        if let Some(at) = self.search_edited_at {
            let needle = self.search.trim().to_lowercase();
            let wait = SEARCH_PAUSE_SECS - (now - at);
            if needle.is_empty() || self.loader.is_complete() {
                self.search_edited_at = None;
            } else if wait <= 0.0 {
                self.search_edited_at = None;
                if self.searched.as_deref() != Some(needle.as_str()) {
                    out.push(own(UsersCommand::ServerSearch(needle)));
                }
            } else {
                ui.ctx()
                    .request_repaint_after(std::time::Duration::from_secs_f64(wait));
            }
        }
    }

    /// The open user's pane, on the right.
    fn detail_ui(&mut self, ui: &mut Ui, cx: &mut TabContext<'_>, out: &mut Vec<Command>) {
        if self.open.is_some() {
            egui::Panel::right("users-detail")
                .resizable(true)
                .default_size(460.0)
                .size_range(380.0..=720.0)
                .frame(
                    egui::Frame::new()
                        .inner_margin(egui::Margin {
                            left: 14,
                            right: 2,
                            top: 0,
                            bottom: 0,
                        })
                        .fill(ui.visuals().panel_fill),
                )
                .show(ui, |ui| {
                    // Rebuild the open user only when it or the store changed.
                    let revision = self.store.revision();
                    let open_uid = self.open.as_ref().map(|o| o.uid.as_str());
                    if self
                        .open_record
                        .as_ref()
                        .map(|(r, uid, _)| (*r, uid.as_str()))
                        != open_uid.map(|uid| (revision, uid))
                    {
                        self.open_record =
                            open_uid.map(|uid| (revision, uid.to_owned(), self.store.get(uid)));
                    }
                    if let Some(o) = &mut self.open {
                        o.environment = cx.connection.map_or(Environment::Dev, |c| c.environment);
                    }
                    let loading =
                        self.opening.is_some() || matches!(self.loader.phase, LoadPhase::Running);
                    if let (Some(o), Some((_, _, user))) = (&mut self.open, &self.open_record)
                        && o.ui(ui, user.as_ref(), loading, cx.now_unix, &cx.recorder, out)
                    {
                        self.open = None;
                    }
                });
        }
    }

    fn toolbar_ui(&mut self, ui: &mut Ui, out: &mut Vec<Command>) {
        let toolbar = ui.horizontal(|ui| {
            let search_id = egui::Id::unique("users-search");
            let has_focus = ui.memory(|m| m.has_focus(search_id));
            let rows = self.shown_len();
            if has_focus {
                let (down, up) = ui.input_mut(|i| {
                    (
                        i.consume_key(Modifiers::NONE, Key::ArrowDown),
                        i.consume_key(Modifiers::NONE, Key::ArrowUp),
                    )
                });
                if down && self.cursor + 1 < rows {
                    self.cursor += 1;
                    self.scroll_to_cursor = true;
                }
                if up && self.cursor > 0 {
                    self.cursor -= 1;
                    self.scroll_to_cursor = true;
                }
            }
            let before = self.search.chars().count();
            let r = ui.add(
                egui::TextEdit::singleline(&mut self.search)
                    .id(search_id)
                    .hint_text("Search uid or name  (Ctrl+F, Enter opens)")
                    .desired_width(300.0),
            );
            let label = "Search users".to_owned();
            ui.ctx()
                .accesskit_node_builder(r.id, |n| n.set_label(label));
            if std::mem::take(&mut self.focus_search) {
                widgets::focus_and_select_all(ui, &r, &self.search);
            }
            if r.changed() {
                let now = ui.input(|i| i.time);
                // A paste (several characters at once) is a whole search: no pause.
                let pasted = self.search.chars().count() > before + 1;
                self.search_edited_at = Some(if pasted && self.paged.is_some() {
                    now - PAGED_SEARCH_PAUSE_SECS
                } else {
                    now
                });
                self.cursor = 0;
            }
            if r.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter)) {
                self.open_cursor(out);
            }

            self.filters_ui(ui);
            ui.checkbox(&mut self.include_deactivated, "Include deactivated");

            // Beside the filters when there is room, else on a line of its own (below), never
            // over the filters.
            let room = ui.available_width();
            if room >= PROGRESS_ROOM {
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    self.progress_ui(ui, out);
                });
            }
            room
        });
        if toolbar.inner < PROGRESS_ROOM {
            let line = egui::vec2(ui.available_width(), ui.spacing().interact_size.y);
            ui.allocate_ui_with_layout(
                line,
                egui::Layout::right_to_left(egui::Align::Center),
                |ui| self.progress_ui(ui, out),
            );
        }
        if self.paged.is_some() {
            self.paged_status_ui(ui);
            ui.add_space(theme::SPACE_XS);
            return;
        }
        let busy_line = self.filtered.is_filtering()
            || self.server_search.is_some()
            || (!self.current_filter().is_default() && !self.store.is_empty());
        if !busy_line {
            ui.add_space(theme::SPACE_XS);
            return;
        }
        ui.horizontal(|ui| {
            let shown = self.filtered.rows().len();
            let loaded = self.store.len();
            let text = if self.current_filter().is_default() || loaded == 0 {
                String::new()
            } else {
                format!(
                    "{} of {} loaded users match",
                    thousands(shown as u64),
                    thousands(loaded as u64)
                )
            };
            if !text.is_empty() {
                widgets::muted(ui, text);
            }
            if self.filtered.is_filtering() {
                ui.spinner();
                widgets::muted(ui, "Filtering…");
            }
            if self.server_search.is_some() {
                ui.spinner();
                widgets::muted(ui, "Searching the server…");
            } else if let Some(s) = &self.searched
                && *s == self.search.trim().to_lowercase()
                && !self.loader.is_complete()
            {
                widgets::muted(ui, "· includes matches from the server");
            }
        });
        ui.add_space(theme::SPACE_XS);
    }

    /// Paged mode's line under the toolbar: how many users match (the server's count), or
    /// that the server is being searched and how many held users match meanwhile.
    fn paged_status_ui(&self, ui: &mut Ui) {
        let Some(p) = &self.paged else {
            return;
        };
        let filter = self.current_filter();
        if filter.is_default() {
            return;
        }
        let all = thousands(p.all_users());
        ui.horizontal(|ui| match (p.pending_search(&filter), p.shown(&filter)) {
            (Some(Some(_)), _) => {
                widgets::muted(
                    ui,
                    format!("The search of all {all} users failed (see above)"),
                );
            }
            (Some(None), shown) => {
                ui.spinner();
                let held = if p.preview_capped() {
                    format!("at least {}", thousands(shown.len()))
                } else {
                    thousands(shown.len())
                };
                widgets::muted(
                    ui,
                    format!("Searching all {all} users… ({held} of the users held match)"),
                );
            }
            (None, shown) => {
                let n = shown.len();
                widgets::muted(
                    ui,
                    format!(
                        "{} of all {all} users match (searched on the server)",
                        thousands(n)
                    ),
                );
            }
        });
    }

    /// The rows the table shows now (the cursor moves among them).
    fn shown_len(&self) -> usize {
        match &self.paged {
            Some(p) => usize::try_from(p.shown(&self.current_filter()).len()).unwrap_or(usize::MAX),
            None => self.filtered.rows().len(),
        }
    }

    /// The roles and tags to offer in the filter menus: those seen so far.
    fn known_words(&self) -> (Vec<String>, Vec<String>) {
        let mut roles: std::collections::BTreeSet<&String> = self.store.roles().iter().collect();
        let mut tags: std::collections::BTreeSet<&String> = self.store.tags().iter().collect();
        if let Some(p) = &self.paged {
            roles.extend(p.roles());
            tags.extend(p.tags());
        }
        (
            roles.into_iter().cloned().collect(),
            tags.into_iter().cloned().collect(),
        )
    }

    fn clear_filters(&mut self) {
        self.search.clear();
        self.server_needle.clear();
        self.status_filter = None;
        self.role_filter = None;
        self.tag_filter = None;
    }

    /// The status, role and tag filters.
    fn filters_ui(&mut self, ui: &mut Ui) {
        let (roles, tags) = self.known_words();
        let status_text = self.status_filter.as_deref().unwrap_or("Any status");
        let r = egui::ComboBox::from_id_salt("users-status-filter")
            .selected_text(status_text)
            .width(110.0)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut self.status_filter, None, "Any status");
                for s in ["available", "offline"] {
                    ui.selectable_value(&mut self.status_filter, Some(s.to_owned()), s);
                }
            });
        name_widget(ui, r.response.id, "Status filter");
        let role_text = self.role_filter.as_deref().unwrap_or("Any role").to_owned();
        let r = egui::ComboBox::from_id_salt("users-role-filter")
            .selected_text(role_text)
            .width(110.0)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut self.role_filter, None, "Any role");
                for r in &roles {
                    ui.selectable_value(&mut self.role_filter, Some(r.clone()), r);
                }
            });
        name_widget(ui, r.response.id, "Role filter");
        let tag_text = self.tag_filter.as_deref().unwrap_or("Any tag").to_owned();
        let r = egui::ComboBox::from_id_salt("users-tag-filter")
            .selected_text(tag_text)
            .width(110.0)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut self.tag_filter, None, "Any tag");
                for t in &tags {
                    ui.selectable_value(&mut self.tag_filter, Some(t.clone()), t);
                }
            });
        name_widget(ui, r.response.id, "Tag filter");
    }

    fn progress_ui(&mut self, ui: &mut Ui, out: &mut Vec<Command>) {
        if let Some(p) = &self.paged {
            if ui
                .button("⟳ Refresh")
                .on_hover_text("F5 or Ctrl+R")
                .clicked()
            {
                out.push(own(UsersCommand::Load));
            }
            let all = p.all_users();
            self.export_button_ui(ui);
            widgets::muted(ui, format!("{} users", thousands(all))).on_hover_text(
                "Too many to load at once: the rows on screen are fetched as you scroll, and search and filters ask the server",
            );
            return;
        }
        let loaded = self.loader.loaded;
        match &self.loader.phase {
            LoadPhase::Running => {
                if ui
                    .button("Stop")
                    .on_hover_text("Stop loading; what is loaded stays")
                    .clicked()
                {
                    self.loader.stop();
                }
                match self.loader.total {
                    Some(total) if total > 0 => {
                        let frac = loaded as f32 / total as f32;
                        ui.add(egui::ProgressBar::new(frac).desired_width(140.0));
                        ui.label(format!(
                            "Loaded {} of {}",
                            thousands(loaded),
                            thousands(total)
                        ));
                    }
                    _ => {
                        ui.spinner();
                        ui.label("Loading users…");
                    }
                }
            }
            LoadPhase::Stopped => {
                if ui.button("Load the rest").clicked() {
                    out.push(own(UsersCommand::Load));
                }
                widgets::muted(
                    ui,
                    format!(
                        "Stopped at {} of {}",
                        thousands(loaded),
                        thousands(self.loader.total.unwrap_or(loaded))
                    ),
                );
            }
            LoadPhase::Done | LoadPhase::Failed(_) | LoadPhase::NotStarted => {
                if ui
                    .button("⟳ Refresh")
                    .on_hover_text("F5 or Ctrl+R")
                    .clicked()
                {
                    out.push(own(UsersCommand::Load));
                }
                if matches!(self.loader.phase, LoadPhase::Done) {
                    self.export_button_ui(ui);
                }
                if matches!(self.loader.phase, LoadPhase::Done) {
                    let n = self.store.len() as u64;
                    widgets::muted(
                        ui,
                        if n == 1 {
                            "1 user".to_owned()
                        } else {
                            format!("{} users", thousands(n))
                        },
                    );
                }
            }
        }
    }

    /// Enter in the search box: open the highlighted row, or look the typed uid up.
    fn open_cursor(&mut self, out: &mut Vec<Command>) {
        let filter = self.current_filter();
        if let Some(p) = &self.paged {
            // Enter is a search now, whatever the pause.
            self.search_edited_at = None;
            self.server_needle = filter.needle.clone();
            let typed_uid = crate::model::uid::check_uid(&self.search).ok();
            let shown = p.shown(&filter);
            let pick = match shown {
                // The server has not answered: the user whose uid was typed, else the
                // server is asked for that uid, else the highlighted match held.
                paged::Shown::Preview(held) => {
                    match held.iter().find(|u| Some(&u.uid) == typed_uid.as_ref()) {
                        Some(u) => Some(u.clone()),
                        None if typed_uid.is_some() => None,
                        None => held
                            .get(self.cursor.min(held.len().saturating_sub(1)))
                            .cloned(),
                    }
                }
                // The highlighted row, once its page is here (nothing on a placeholder).
                paged::Shown::Pages(pages) => {
                    let at = (self.cursor as u64).min(pages.len().saturating_sub(1));
                    match pages.user(at) {
                        Some(u) => Some(u.clone()),
                        None => return,
                    }
                }
            };
            if let Some(u) = pick {
                let uid = u.uid.clone();
                self.store.upsert(u);
                self.open_user(&uid, out);
            } else if let Some(uid) = typed_uid {
                out.push(own(UsersCommand::OpenByUid(uid)));
            }
            return;
        }
        let rows = self.filtered.rows();
        if let Some(&i) = rows.get(self.cursor.min(rows.len().saturating_sub(1)))
            && let Some(uid) = self.store.row(i).map(|u| u.uid.to_string())
        {
            self.open_user(&uid, out);
            return;
        }
        if let Ok(uid) = crate::model::uid::check_uid(&self.search) {
            out.push(own(UsersCommand::OpenByUid(uid)));
        }
    }

    /// No row to show: loading, no users at all, or none matching.
    fn no_rows_ui(&mut self, ui: &mut Ui, out: &mut Vec<Command>) {
        match self.loader.phase {
            LoadPhase::Running | LoadPhase::NotStarted if self.store.is_empty() => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    widgets::muted(ui, "Loading users…");
                });
            }
            LoadPhase::Failed(_) if self.store.is_empty() => {
                super::empty_state_ui(
                    ui,
                    "No users loaded",
                    "Loaded 0 users: the server failed before the first page (see above). Retry when it answers again.",
                    None,
                );
            }
            LoadPhase::Stopped if self.store.is_empty() => {
                if super::empty_state_ui(
                    ui,
                    "No users loaded",
                    "Loading was stopped before the first page.",
                    Some("Load users"),
                ) {
                    out.push(own(UsersCommand::Load));
                }
            }
            _ if self.store.is_empty() => {
                if super::empty_state_ui(
                    ui,
                    "No users yet",
                    "Users are created by your app's backend, or here. Each user can then sign in with an auth token.",
                    Some("New user…"),
                ) {
                    self.new_user = Some(NewUserDialog::default());
                }
            }
            _ if self.filtered.is_filtering() => {}
            _ => {
                let uid = crate::model::uid::check_uid(&self.search).ok();
                let body = match (&uid, self.loader.is_complete()) {
                    (Some(u), false) => format!(
                        "Nothing loaded matches. Press Enter to look up the uid {u} on the server."
                    ),
                    _ => "Nothing matches the search and filters.".to_owned(),
                };
                if super::empty_state_ui(ui, "No users match", &body, Some("Clear filters")) {
                    self.clear_filters();
                }
            }
        }
    }

    fn table_ui(&mut self, ui: &mut Ui, now: i64, out: &mut Vec<Command>) {
        self.drawn = Drawn::default();
        let rows = self.filtered.rows();
        if rows.is_empty() {
            self.no_rows_ui(ui, out);
            return;
        }

        let dark = ui.visuals().dark_mode;
        let open_uid = self.open.as_ref().map(|o| o.uid.clone());
        let cursor = self.cursor.min(rows.len() - 1);
        let mut clicked: Option<String> = None;
        // Narrow (detail pane open): tags and age make way for the name.
        let wide = ui.available_width() > 900.0;
        let scroll_to = std::mem::take(&mut self.scroll_to_cursor).then_some(cursor);
        let store = &self.store;
        let mut drawn = Drawn::default();
        users_table(ui, wide, scroll_to).body(|body| {
            body.rows(theme::ROW_HEIGHT, rows.len(), |mut row| {
                let pos = row.index();
                let Some(u) = rows.get(pos).and_then(|&i| store.row(i)) else {
                    return;
                };
                drawn.rows += 1;
                let selected = open_uid.as_deref() == Some(&*u.uid);
                row.set_selected(selected);
                row.set_overline(pos == cursor && !selected && pos != 0);
                user_cells_ui(&mut row, &Cells::of_row(u, store, wide), wide, dark, now);
                if row.response().clicked() {
                    clicked = Some(u.uid.to_string());
                }
            });
        });
        self.drawn = drawn;
        if let Some(uid) = clicked {
            if let Some(p) = self
                .store
                .index_of(&uid)
                .and_then(|i| self.filtered.rows().binary_search(&i).ok())
            {
                self.cursor = p;
            }
            self.open_user(&uid, out);
        }
    }
}

/// The users table, its columns and header: the loaded list's and the paged one's.
fn users_table(ui: &mut Ui, wide: bool, scroll_to: Option<usize>) -> egui_extras::Table<'_> {
    let mut table = TableBuilder::new(ui)
        .id_salt("users-table")
        .striped(true)
        .resizable(false)
        .sense(egui::Sense::click())
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        .column(Column::remainder().at_least(140.0).clip(true))
        .column(
            Column::initial(if wide { 170.0 } else { 150.0 })
                .at_least(100.0)
                .clip(true),
        )
        .column(Column::exact(90.0).clip(true))
        .column(Column::exact(96.0));
    if wide {
        table = table
            .column(Column::initial(130.0).at_least(60.0).clip(true))
            .column(Column::exact(84.0));
    }
    if let Some(row) = scroll_to {
        table = table.scroll_to_row(row, None);
    }
    table.header(24.0, |mut h| {
        let titles: &[&str] = if wide {
            &["Name", "UID", "Role", "Status", "Tags", "Created"]
        } else {
            &["Name", "UID", "Role", "Status"]
        };
        for title in titles {
            h.col(|ui| {
                ui.label(RichText::new(*title).strong());
            });
        }
    })
}

/// What one row shows, from a loaded row or a paged user.
struct Cells<'a> {
    name: &'a str,
    uid: &'a str,
    role: &'a str,
    status: &'a str,
    deactivated: bool,
    /// Joined, only when the table is wide enough to show them.
    tags: String,
    created_at: i64,
}

impl<'a> Cells<'a> {
    fn of_row(u: &'a store::Row, store: &'a UserStore, wide: bool) -> Self {
        let tags = match u.tags.as_ref().filter(|t| wide && !t.is_empty()) {
            Some(tags) => tags
                .iter()
                .map(|&w| store.word(w))
                .collect::<Vec<_>>()
                .join(", "),
            None => String::new(),
        };
        Self {
            name: &u.name,
            uid: &u.uid,
            role: store.word(u.role),
            status: store.word(u.status),
            deactivated: u.is_deactivated(),
            tags,
            created_at: u.created_at,
        }
    }

    fn of_user(u: &'a User, wide: bool) -> Self {
        Self {
            name: &u.name,
            uid: &u.uid,
            role: &u.role,
            status: &u.status,
            deactivated: u.deactivated_at.is_some(),
            tags: match u.tags.as_ref().filter(|t| wide && !t.is_empty()) {
                Some(t) => t.join(", "),
                None => String::new(),
            },
            created_at: u.created_at,
        }
    }
}

/// One user's cells: name, uid, role, status and, when wide, tags and age.
fn user_cells_ui(row: &mut TableRow<'_, '_>, u: &Cells<'_>, wide: bool, dark: bool, now: i64) {
    row.col(|ui| {
        avatar_ui(ui, u.name, 20.0);
        ui.add(egui::Label::new(u.name).truncate().selectable(false));
    });
    row.col(|ui| {
        ui.add(
            egui::Label::new(RichText::new(u.uid).monospace())
                .truncate()
                .selectable(false),
        );
    });
    row.col(|ui| {
        ui.add(egui::Label::new(u.role).truncate().selectable(false));
    });
    row.col(|ui| {
        status_ui(ui, u.deactivated, u.status, dark);
    });
    if !wide {
        return;
    }
    row.col(|ui| {
        if !u.tags.is_empty() {
            ui.add(egui::Label::new(RichText::new(&u.tags).color(theme::muted(dark))).truncate());
        }
    });
    row.col(|ui| {
        widgets::muted(ui, widgets::age(now, u.created_at))
            .on_hover_text(widgets::date(u.created_at));
    });
}

/// Gives a widget without a text of its own (a combo box) its accessible name.
fn name_widget(ui: &Ui, id: egui::Id, name: &str) {
    let name = name.to_owned();
    ui.ctx().accesskit_node_builder(id, |n| n.set_label(name));
}

/// A round initial, coloured from the name.
fn avatar_ui(ui: &mut Ui, name: &str, size: f32) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(size, size), egui::Sense::hover());
    let hue = name
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    let colour = egui::ecolor::Hsva::new((hue % 360) as f32 / 360.0, 0.45, 0.75, 1.0);
    ui.painter()
        .circle_filled(rect.center(), size / 2.0, egui::Color32::from(colour));
    let initial: String = name
        .chars()
        .find(|c| c.is_alphanumeric())
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_else(|| "?".to_owned());
    ui.painter().text(
        rect.center(),
        egui::Align2::CENTER_CENTER,
        initial,
        egui::FontId::proportional(size * 0.55),
        egui::Color32::WHITE,
    );
}

/// Online dot and status, or a deactivated badge.
fn status_ui(ui: &mut Ui, deactivated: bool, status: &str, dark: bool) {
    if deactivated {
        widgets::badge(ui, "deactivated", theme::tone(Tone::Warning, dark));
        return;
    }
    let online = status == "available";
    let colour = if online {
        theme::tone(Tone::Success, dark).fg
    } else {
        theme::muted(dark)
    };
    ui.label(RichText::new("●").color(colour).small());
    ui.label(if online { "online" } else { "offline" });
}

pub use crate::words::thousands;

#[cfg(test)]
mod tests {
    #[test]
    fn counts_read_with_separators() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(12_000), "12,000");
        assert_eq!(super::thousands(100_000), "100,000");
        assert_eq!(super::thousands(1_234_567), "1,234,567");
    }
}
