//! The Users tab over an app too large to load whole (more than [`LOAD_WHOLE_UP_TO`] users):
//! the table sits on [`UserPages`], which fetches the pages around the rows on screen and
//! holds a bounded number of them. Search and filters go to the server (`searchKey`, `status`,
//! `role`, `tags`, `withDeactivated`); while it answers, the rows already held that match are
//! shown at once, under "Searching all N users…".

use std::ops::Range;
use std::sync::Arc;

use egui::{RichText, Ui};
use egui_extras::TableRow;

use crate::core::user_pages::UserPages;
use crate::core::worker::Waker;
use crate::providers::cometchat::{CometChatClient, User, UserQuery};
use crate::ui::context::Command;
use crate::ui::theme;
use crate::ui::widgets;

use super::store::Filter;
use super::{Cells, UsersTab, thousands};

/// An app with at most this many users is loaded whole: search and filters then run on the
/// whole list at once, without the server (measured: 100,000 users cost +50 MB). A larger app
/// is paged, and its cost no longer grows with its size.
pub const LOAD_WHOLE_UP_TO: u64 = 100_000;

/// Pages held for a search's results (the unfiltered list holds the default).
const SEARCH_PAGES: usize = 50;
/// At most this many held users are shown while the server searches.
const PREVIEW_MAX: usize = 1000;
/// Rows asked for before the table has drawn any.
const FIRST_SCREEN: u64 = 40;

/// What the table shows in paged mode.
pub(super) enum Shown<'a> {
    /// A server listing, paged.
    Pages(&'a UserPages),
    /// The held users that match, while the server searches.
    Preview(&'a [User]),
}

impl Shown<'_> {
    pub(super) fn len(&self) -> u64 {
        match self {
            Shown::Pages(p) => p.len(),
            Shown::Preview(v) => v.len() as u64,
        }
    }

    pub(super) fn user(&self, index: u64) -> Option<&User> {
        match self {
            Shown::Pages(p) => p.user(index),
            Shown::Preview(v) => usize::try_from(index).ok().and_then(|i| v.get(i)),
        }
    }

    /// Whether the row's page failed to load (its placeholder says so).
    fn failed(&self, index: u64) -> bool {
        matches!(self, Shown::Pages(p) if p.failed(index))
    }
}

/// The listing a filter asks the server for.
pub(super) fn query_for(f: &Filter) -> UserQuery {
    UserQuery {
        search_key: (!f.needle.is_empty()).then(|| f.needle.clone()),
        status: f.status.clone(),
        role: f.role.clone(),
        tags: f.tag.iter().cloned().collect(),
        with_tags: true,
        with_deactivated: f.include_deactivated,
        ..UserQuery::default()
    }
}

/// The rows drawn in the last frame: held and placeholders.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Drawn {
    pub rows: usize,
    pub placeholders: usize,
}

pub(super) struct Paged {
    client: CometChatClient,
    rt: tokio::runtime::Handle,
    wake: Waker,
    /// The unfiltered list.
    pub(super) home: UserPages,
    /// The server's answer to a search or filter.
    pub(super) search: Option<(Filter, UserPages)>,
    preview: Option<(Filter, Vec<User>)>,
}

impl Paged {
    /// Paged mode; the unfiltered list's first page is asked for at once.
    pub(super) fn new(
        client: CometChatClient,
        rt: tokio::runtime::Handle,
        ctx: &egui::Context,
    ) -> Self {
        let ctx = ctx.clone();
        let wake: Waker = Arc::new(move || ctx.request_repaint());
        let mut home = UserPages::new(
            client.clone(),
            rt.clone(),
            wake.clone(),
            query_for(&Filter::default()),
        );
        home.show(0..FIRST_SCREEN);
        Self {
            client,
            rt,
            wake,
            home,
            search: None,
            preview: None,
        }
    }

    /// Takes in the pages that arrived.
    pub(super) fn poll(&mut self) -> bool {
        let home = self.home.poll();
        let search = self.search.as_mut().is_some_and(|(_, p)| p.poll());
        home || search
    }

    /// Follows the filters: the server is asked for `server` (the search text once typing
    /// pauses), and the held users are searched at once for `current`.
    pub(super) fn follow(&mut self, current: &Filter, server: &Filter) {
        if server.is_default() {
            self.search = None;
        } else if self.search.as_ref().map(|(f, _)| f) != Some(server) {
            let mut pages = UserPages::new(
                self.client.clone(),
                self.rt.clone(),
                self.wake.clone(),
                query_for(server),
            )
            .with_capacity(SEARCH_PAGES);
            pages.show(0..FIRST_SCREEN);
            self.search = Some((server.clone(), pages));
        }
        if current.is_default() {
            self.preview = None;
        } else if self.preview.as_ref().map(|(f, _)| f) != Some(current) {
            let mut seen = std::collections::HashSet::new();
            let held = self
                .home
                .held()
                .chain(self.search.iter().flat_map(|(_, p)| p.held()));
            let matches: Vec<User> = held
                .filter(|u| current.matches_user(u) && seen.insert(u.uid.as_str()))
                .take(PREVIEW_MAX)
                .cloned()
                .collect();
            self.preview = Some((current.clone(), matches));
        }
    }

    /// The server's answer for `current` once it has one, else the held users that match.
    pub(super) fn shown(&self, current: &Filter) -> Shown<'_> {
        if current.is_default() {
            return Shown::Pages(&self.home);
        }
        if let Some((f, p)) = &self.search
            && f == current
            && p.total().is_some()
        {
            return Shown::Pages(p);
        }
        Shown::Preview(self.preview.as_ref().map_or(&[], |(_, v)| v.as_slice()))
    }

    /// The source for `current`, to tell which rows it needs: before its first answer
    /// (shown as the preview meanwhile) that asks for its first page again after a Retry or
    /// a refresh.
    fn shown_mut(&mut self, current: &Filter) -> Option<&mut UserPages> {
        if current.is_default() {
            return Some(&mut self.home);
        }
        match &mut self.search {
            Some((f, p)) if f == current => Some(p),
            _ => None,
        }
    }

    /// Whether the held users shown while the server searches were cut at [`PREVIEW_MAX`].
    pub(super) fn preview_capped(&self) -> bool {
        self.preview
            .as_ref()
            .is_some_and(|(_, v)| v.len() >= PREVIEW_MAX)
    }

    /// The server search for `current` that has not answered yet, and its failure if any.
    pub(super) fn pending_search(
        &self,
        current: &Filter,
    ) -> Option<Option<&crate::providers::ApiError>> {
        if current.is_default() {
            return None;
        }
        match &self.search {
            Some((f, p)) if f == current && p.total().is_some() => None,
            Some((f, p)) if f == current => Some(p.error()),
            _ => Some(None),
        }
    }

    /// Every user of the app, as the unfiltered list's paging says.
    pub(super) fn all_users(&self) -> u64 {
        self.home.len()
    }

    pub(super) fn error(&self) -> Option<&crate::providers::ApiError> {
        self.home
            .error()
            .or_else(|| self.search.as_ref().and_then(|(_, p)| p.error()))
    }

    pub(super) fn retry(&mut self) {
        self.home.retry();
        if let Some((_, p)) = &mut self.search {
            p.retry();
        }
    }

    /// A user was edited: the held copies follow; a search or filter is asked again (the
    /// edit may take the user in or out of it).
    pub(super) fn update(&mut self, uid: &str, f: impl Fn(&mut User)) {
        self.home.update(uid, &f);
        if let Some((_, p)) = &mut self.search {
            p.refresh();
        }
        if let Some((_, v)) = &mut self.preview
            && let Some(u) = v.iter_mut().find(|u| u.uid == uid)
        {
            f(u);
        }
    }

    /// Users were created, deleted, deactivated or reactivated: every listing is fetched
    /// again.
    pub(super) fn changed_on_server(&mut self) {
        self.home.refresh();
        if let Some((_, p)) = &mut self.search {
            p.refresh();
        }
        self.preview = None;
    }

    pub(super) fn roles(&self) -> impl Iterator<Item = &String> {
        self.home
            .roles()
            .iter()
            .chain(self.search.iter().flat_map(|(_, p)| p.roles().iter()))
    }

    pub(super) fn tags(&self) -> impl Iterator<Item = &String> {
        self.home
            .tags()
            .iter()
            .chain(self.search.iter().flat_map(|(_, p)| p.tags().iter()))
    }
}

impl UsersTab {
    /// The table in paged mode: every row of the listing, a placeholder where its page is
    /// still on its way; afterwards the source is told which rows were on screen.
    pub(super) fn paged_table_ui(&mut self, ui: &mut Ui, now: i64, out: &mut Vec<Command>) {
        let filter = self.current_filter();
        let Some(paged) = &self.paged else {
            return;
        };
        let shown = paged.shown(&filter);
        let len = shown.len();
        self.drawn = Drawn::default();
        if len == 0 {
            // Still ask for the first page (after a Retry or a refresh, nothing else will).
            if let Some(source) = self.paged.as_mut().and_then(|p| p.shown_mut(&filter)) {
                source.show(0..FIRST_SCREEN);
            }
            self.paged_empty_ui(ui, &filter, out);
            return;
        }
        let dark = ui.visuals().dark_mode;
        let open_uid = self.open.as_ref().map(|o| o.uid.clone());
        let cursor = (self.cursor as u64).min(len - 1);
        let wide = ui.available_width() > 900.0;
        let scroll_to = std::mem::take(&mut self.scroll_to_cursor).then_some(cursor);
        let mut clicked: Option<(u64, User)> = None;
        let mut drawn = Drawn::default();
        let mut range: Option<Range<u64>> = None;
        super::users_table(ui, wide, scroll_to.and_then(|c| usize::try_from(c).ok())).body(
            |body| {
                let rows = usize::try_from(len).unwrap_or(usize::MAX);
                body.rows(theme::ROW_HEIGHT, rows, |mut row| {
                    let pos = row.index() as u64;
                    range = Some(
                        range
                            .as_ref()
                            .map_or(pos..pos + 1, |r| r.start.min(pos)..r.end.max(pos + 1)),
                    );
                    let Some(u) = shown.user(pos) else {
                        drawn.placeholders += 1;
                        placeholder_cells_ui(&mut row, wide, dark, shown.failed(pos));
                        return;
                    };
                    drawn.rows += 1;
                    let selected = open_uid.as_deref() == Some(u.uid.as_str());
                    row.set_selected(selected);
                    row.set_overline(pos == cursor && !selected && pos != 0);
                    super::user_cells_ui(&mut row, &Cells::of_user(u, wide), wide, dark, now);
                    if row.response().clicked() {
                        clicked = Some((pos, u.clone()));
                    }
                });
            },
        );
        self.drawn = drawn;
        if let Some(source) = self.paged.as_mut().and_then(|p| p.shown_mut(&filter)) {
            source.show(range.unwrap_or(0..FIRST_SCREEN));
        }
        if let Some((pos, user)) = clicked {
            self.cursor = usize::try_from(pos).unwrap_or(usize::MAX);
            let uid = user.uid.clone();
            self.store.upsert(user);
            self.open_user(&uid, out);
        }
    }

    /// No row: the server search still running, nothing at all, or nothing matching.
    fn paged_empty_ui(&mut self, ui: &mut Ui, filter: &Filter, out: &mut Vec<Command>) {
        let Some(paged) = &self.paged else {
            return;
        };
        if let Some(failed) = paged.pending_search(filter) {
            if failed.is_none() {
                ui.horizontal(|ui| {
                    ui.spinner();
                    widgets::muted(
                        ui,
                        format!(
                            "None of the users held match yet; searching all {} users…",
                            thousands(paged.all_users())
                        ),
                    );
                });
            }
            return;
        }
        if filter.is_default() {
            if super::super::empty_state_ui(
                ui,
                "No users yet",
                "Users are created by your app's backend, or here. Each user can then sign in with an auth token.",
                Some("New user…"),
            ) {
                self.new_user = Some(super::NewUserDialog::default());
            }
            return;
        }
        let uid = crate::model::uid::check_uid(&self.search).ok();
        let body = match uid {
            Some(u) => format!(
                "No user of all {} matches. Press Enter to look up the uid {u} itself.",
                thousands(paged.all_users())
            ),
            None => format!(
                "None of all {} users matches the search and filters.",
                thousands(paged.all_users())
            ),
        };
        if super::super::empty_state_ui(ui, "No users match", &body, Some("Clear filters")) {
            self.clear_filters();
        }
        let _ = out;
    }
}

/// A row whose page is on its way: muted bars where its cells will be. A row whose page
/// failed says so (the message above has Retry).
fn placeholder_cells_ui(row: &mut TableRow<'_, '_>, wide: bool, dark: bool, failed: bool) {
    let columns = if wide { 6 } else { 4 };
    for c in 0..columns {
        row.col(|ui| {
            if c == 0 {
                let text = if failed {
                    "Not loaded (see above)"
                } else {
                    "Loading…"
                };
                ui.add(
                    egui::Label::new(RichText::new(text).color(theme::muted(dark)))
                        .truncate()
                        .selectable(false),
                );
                return;
            }
            if failed {
                return;
            }
            let width = (ui.available_width() - 12.0).clamp(0.0, 90.0);
            let (rect, _) = ui.allocate_exact_size(egui::vec2(width, 8.0), egui::Sense::hover());
            ui.painter()
                .rect_filled(rect, 4.0, theme::muted(dark).gamma_multiply(0.25));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_filter_goes_to_the_server_and_the_held_users_are_matched_alike() {
        let f = Filter {
            needle: "ali".to_owned(),
            status: Some("available".to_owned()),
            role: Some("moderator".to_owned()),
            tag: Some("vip".to_owned()),
            include_deactivated: true,
        };
        let q = query_for(&f);
        assert_eq!(q.search_key.as_deref(), Some("ali"));
        assert_eq!(q.status.as_deref(), Some("available"));
        assert_eq!(q.role.as_deref(), Some("moderator"));
        assert_eq!(q.tags, vec!["vip".to_owned()]);
        assert!(q.with_deactivated && q.with_tags);
        assert_eq!(query_for(&Filter::default()).search_key, None);

        let alice = User {
            uid: "alice".to_owned(),
            name: "Alice Liddell".to_owned(),
            status: "available".to_owned(),
            role: "moderator".to_owned(),
            tags: Some(vec!["vip".to_owned()]),
            deactivated_at: Some(1),
            ..User::default()
        };
        assert!(f.matches_user(&alice));
        let by_name = Filter {
            needle: "liddell".to_owned(),
            ..Filter::default()
        };
        assert!(
            !by_name.matches_user(&alice),
            "a deactivated user is hidden unless asked for"
        );
        let active = User {
            deactivated_at: None,
            ..alice.clone()
        };
        assert!(by_name.matches_user(&active));
        let other_tag = Filter {
            tag: Some("beta".to_owned()),
            ..Filter::default()
        };
        assert!(!other_tag.matches_user(&active));
    }
}
