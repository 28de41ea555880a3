//! A CometChat app's users for one query, a page at a time: what a table of a million users
//! sits on. Pages are fetched around the rows on screen (and one ahead in the direction of
//! scrolling), a page no longer wanted is cancelled while in flight, and the pages held are
//! bounded: the least recently shown is dropped first. The row count is the provider's own
//! total (its paging metadata), so the table has its full height before any row beyond the
//! first page is fetched.
//!
//! No window here: the caller says which rows are on screen ([`UserPages::show`]) and takes in
//! what arrived ([`UserPages::poll`]); a waker (the window's repaint) is called on each arrival.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::Range;
use std::sync::mpsc;

use tokio::runtime::Handle;
use tokio::task::AbortHandle;

use crate::core::worker::Waker;
use crate::providers::ApiError;
use crate::providers::cometchat::{CometChatClient, User, UserQuery};
use crate::providers::pager::Page;

/// Users per page: a few screenfuls, so a jump anywhere costs one small request.
pub const PER_PAGE: u32 = 100;

/// Pages kept by default: 20,000 users, a few megabytes, whatever the app's size.
pub const CACHED_PAGES: usize = 200;

struct Cached {
    users: Vec<User>,
    /// When it was last on screen (a tick of [`UserPages::show`]).
    used: u64,
}

struct Arrival {
    generation: u64,
    page: u32,
    result: Result<Page<User>, ApiError>,
}

/// The users of one query, paged on demand.
pub struct UserPages {
    client: CometChatClient,
    rt: Handle,
    wake: Waker,
    query: UserQuery,
    per_page: u32,
    capacity: usize,
    total: Option<u64>,
    /// By page number, from 0.
    pages: HashMap<u32, Cached>,
    in_flight: HashMap<u32, AbortHandle>,
    /// The pages the last [`UserPages::show`] needed: never dropped to make room.
    wanted: HashSet<u32>,
    /// The last failure, and every page that failed: none is asked for again until
    /// [`UserPages::retry`] (a server that is down is not hammered).
    error: Option<ApiError>,
    failed: HashSet<u32>,
    tx: mpsc::Sender<Arrival>,
    rx: mpsc::Receiver<Arrival>,
    /// Bumped by [`UserPages::refresh`], so an answer to an earlier request is ignored.
    generation: u64,
    tick: u64,
    /// The first row shown last time, for the direction of scrolling.
    last_start: u64,
    roles: BTreeSet<String>,
    tags: BTreeSet<String>,
    /// Requests sent and cancelled, for the curious (tests, logs).
    requested: u64,
    cancelled: u64,
}

impl UserPages {
    /// A source for `query` (its page and page size are set here), nothing fetched yet.
    pub fn new(client: CometChatClient, rt: Handle, wake: Waker, query: UserQuery) -> Self {
        let (tx, rx) = mpsc::channel();
        Self {
            client,
            rt,
            wake,
            query: UserQuery {
                page: None,
                per_page: None,
                ..query
            },
            per_page: PER_PAGE,
            capacity: CACHED_PAGES,
            total: None,
            pages: HashMap::new(),
            in_flight: HashMap::new(),
            wanted: HashSet::new(),
            error: None,
            failed: HashSet::new(),
            tx,
            rx,
            generation: 0,
            tick: 0,
            last_start: 0,
            roles: BTreeSet::new(),
            tags: BTreeSet::new(),
            requested: 0,
            cancelled: 0,
        }
    }

    /// Keeps at most `pages` pages (at least 4).
    pub fn with_capacity(mut self, pages: usize) -> Self {
        self.capacity = pages.max(4);
        self
    }

    pub fn query(&self) -> &UserQuery {
        &self.query
    }

    /// The provider's total for the query, once a page has answered.
    pub fn total(&self) -> Option<u64> {
        self.total
    }

    /// The rows the table has: the total, or none before the first answer.
    pub fn len(&self) -> u64 {
        self.total.unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True while any page is being fetched.
    pub fn is_loading(&self) -> bool {
        !self.in_flight.is_empty()
    }

    /// The last failure, until [`UserPages::retry`].
    pub fn error(&self) -> Option<&ApiError> {
        self.error.as_ref()
    }

    /// Pages held now, and requests sent and cancelled so far.
    pub fn stats(&self) -> (usize, u64, u64) {
        (self.pages.len(), self.requested, self.cancelled)
    }

    /// The roles and tags seen on the pages fetched so far (for the filter menus).
    pub fn roles(&self) -> &BTreeSet<String> {
        &self.roles
    }

    pub fn tags(&self) -> &BTreeSet<String> {
        &self.tags
    }

    /// The user at row `index`, when its page is held.
    pub fn user(&self, index: u64) -> Option<&User> {
        let per = u64::from(self.per_page);
        let page = u32::try_from(index / per).ok()?;
        let at = usize::try_from(index % per).ok()?;
        self.pages.get(&page)?.users.get(at)
    }

    /// Whether row `index`'s page failed (until [`UserPages::retry`]).
    pub fn failed(&self, index: u64) -> bool {
        u32::try_from(index / u64::from(self.per_page)).is_ok_and(|p| self.failed.contains(&p))
    }

    /// Every user held, page by page (for an instant local search while the server answers).
    pub fn held(&self) -> impl Iterator<Item = &User> {
        let mut numbers: Vec<&u32> = self.pages.keys().collect();
        numbers.sort_unstable();
        numbers
            .into_iter()
            .filter_map(|n| self.pages.get(n))
            .flat_map(|p| p.users.iter())
    }

    /// Takes in the pages that arrived. Returns true when anything changed.
    pub fn poll(&mut self) -> bool {
        let mut changed = false;
        while let Ok(a) = self.rx.try_recv() {
            if a.generation != self.generation {
                continue;
            }
            self.in_flight.remove(&a.page);
            changed = true;
            match a.result {
                Ok(page) => self.take_page(a.page, page),
                Err(e) => {
                    tracing::warn!(
                        "users: page {} failed: {}",
                        a.page.saturating_add(1),
                        e.message
                    );
                    self.failed.insert(a.page);
                    self.error = Some(e);
                }
            }
        }
        if changed {
            self.evict();
        }
        changed
    }

    fn take_page(&mut self, number: u32, page: Page<User>) {
        let total = page.pagination.total;
        if self.total.is_some_and(|t| t < total) {
            // The list grew: a page held short (the last one then) would stay short.
            let per = u64::from(self.per_page);
            self.pages.retain(|p, c| {
                let full = total.saturating_sub(u64::from(*p) * per).min(per);
                c.users.len() as u64 >= full
            });
        }
        self.total = Some(total);
        for u in &page.items {
            if !self.roles.contains(&u.role) {
                self.roles.insert(u.role.clone());
            }
            for t in u.tags.iter().flatten() {
                if !self.tags.contains(t) {
                    self.tags.insert(t.clone());
                }
            }
        }
        let users = page
            .items
            .into_iter()
            .map(|u| User {
                auth_token: None,
                ..u
            })
            .collect();
        self.tick += 1;
        self.pages.insert(
            number,
            Cached {
                users,
                used: self.tick,
            },
        );
    }

    /// The rows `visible` are on screen: fetch the pages they need that are not held (and one
    /// more in the direction of scrolling), cancel those in flight that are no longer needed.
    /// Before the total is known only the first page is asked for.
    pub fn show(&mut self, visible: Range<u64>) {
        self.tick += 1;
        let per = u64::from(self.per_page);
        let wanted: HashSet<u32> = match self.total {
            None => HashSet::from([0]),
            Some(0) => HashSet::new(),
            Some(total) => {
                let last_row = total - 1;
                let start = visible.start.min(last_row);
                let end = visible.end.max(visible.start + 1).min(total) - 1;
                let (first, last) = (start / per, end / per);
                let ahead = if start < self.last_start {
                    first.checked_sub(1)
                } else {
                    Some(last + 1).filter(|p| *p <= last_row / per)
                };
                self.last_start = start;
                (first..=last)
                    .chain(ahead)
                    .filter_map(|p| u32::try_from(p).ok())
                    .collect()
            }
        };
        for p in &wanted {
            if let Some(c) = self.pages.get_mut(p) {
                c.used = self.tick;
            }
        }
        // Scrolled past: stop fetching what is no longer wanted.
        let gone: Vec<u32> = self
            .in_flight
            .keys()
            .filter(|p| !wanted.contains(p))
            .copied()
            .collect();
        for p in gone {
            if let Some(a) = self.in_flight.remove(&p) {
                a.abort();
                self.cancelled += 1;
            }
        }
        let mut missing: Vec<u32> = wanted
            .iter()
            .filter(|p| {
                !self.pages.contains_key(p)
                    && !self.in_flight.contains_key(p)
                    && !self.failed.contains(p)
            })
            .copied()
            .collect();
        missing.sort_unstable();
        for p in missing {
            self.fetch(p);
        }
        self.wanted = wanted;
    }

    fn fetch(&mut self, page: u32) {
        let query = UserQuery {
            page: Some(page.saturating_add(1)),
            per_page: Some(self.per_page),
            ..self.query.clone()
        };
        let (client, tx, wake, generation) = (
            self.client.clone(),
            self.tx.clone(),
            self.wake.clone(),
            self.generation,
        );
        let task = self.rt.spawn(async move {
            let result = client.list_users(&query, None).await;
            if tx
                .send(Arrival {
                    generation,
                    page,
                    result,
                })
                .is_ok()
            {
                wake();
            }
        });
        self.requested += 1;
        self.in_flight.insert(page, task.abort_handle());
    }

    /// Drops the least recently shown pages beyond the capacity, never one on screen.
    fn evict(&mut self) {
        while self.pages.len() > self.capacity {
            let oldest = self
                .pages
                .iter()
                .filter(|(p, _)| !self.wanted.contains(p))
                .min_by_key(|(_, c)| c.used)
                .map(|(p, _)| *p);
            match oldest {
                Some(p) => {
                    self.pages.remove(&p);
                }
                None => break,
            }
        }
    }

    /// Forgets the failure, so the next [`UserPages::show`] asks again.
    pub fn retry(&mut self) {
        self.error = None;
        self.failed.clear();
    }

    /// Forgets every page (the list changed on the server: a user deleted or created); the
    /// total is kept until the next answer, so the table keeps its height.
    pub fn refresh(&mut self) {
        for (_, a) in self.in_flight.drain() {
            a.abort();
        }
        self.generation += 1;
        self.pages.clear();
        self.error = None;
        self.failed.clear();
    }

    /// Changes the held copy of a user (after an edit or a deactivation).
    pub fn update(&mut self, uid: &str, f: impl Fn(&mut User)) {
        for c in self.pages.values_mut() {
            if let Some(u) = c.users.iter_mut().find(|u| u.uid == uid) {
                f(u);
            }
        }
    }
}

impl Drop for UserPages {
    fn drop(&mut self) {
        for (_, a) in self.in_flight.drain() {
            a.abort();
        }
    }
}

impl std::fmt::Debug for UserPages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserPages")
            .field("query", &self.query)
            .field("total", &self.total)
            .field("pages", &self.pages.len())
            .field("in_flight", &self.in_flight.len())
            .finish_non_exhaustive()
    }
}
