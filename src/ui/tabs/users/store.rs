//! The loaded users and the filtered view of them. Built for 100,000 users: each user is kept
//! as a compact [`Row`] (what the table and the search need; the rare fields boxed apart, the
//! repeated role, status and tag strings interned), its search text is lower-cased once when
//! it arrives, and the filtered index list is recomputed only when the filter or the data
//! changes, in slices of a few milliseconds per frame; a narrower search only rescans what
//! the previous one matched.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::providers::cometchat::User;

/// How long one frame may spend filtering before it yields to drawing.
const FILTER_BUDGET: Duration = Duration::from_millis(3);

/// The most users [`UserStore::reserve`] makes room for ahead of time, whatever the server
/// says its total is.
const MAX_RESERVED: usize = 1_000_000;

/// An interned string: a role, a status or a tag (see [`UserStore::word`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Word(u32);

/// One loaded user: about a third of the size of a [`User`]. A `User` spends most of its
/// bytes on optional fields that are almost always empty; a row keeps those in [`Extra`],
/// allocated only when one is set (the benchmark's 100,000 users have none).
#[derive(Debug)]
pub struct Row {
    pub uid: Box<str>,
    pub name: Box<str>,
    pub role: Word,
    pub status: Word,
    pub created_at: i64,
    /// Set on every user of a list (the API repeats `createdAt` when there was no update).
    pub updated_at: Option<i64>,
    pub deactivated_at: Option<i64>,
    pub last_active_at: Option<i64>,
    pub tags: Option<Box<[Word]>>,
    extra: Option<Box<Extra>>,
}

impl Row {
    pub fn is_deactivated(&self) -> bool {
        self.deactivated_at.is_some()
    }
}

/// The rarely set fields of a user. (A user's auth token is never kept here.)
#[derive(Debug, Default, PartialEq)]
struct Extra {
    avatar: Option<String>,
    link: Option<String>,
    status_message: Option<String>,
    metadata: Option<Value>,
    conversation_id: Option<String>,
    blocked_by_me: Option<bool>,
    has_blocked_me: Option<bool>,
}

/// Every user loaded so far, in arrival order, with a uid index.
#[derive(Default)]
pub struct UserStore {
    users: Vec<Row>,
    /// `uid \n name`, lower-cased: what a search matches against.
    hay: Vec<Box<str>>,
    by_uid: HashMap<Box<str>, u32>,
    /// The interned roles, statuses and tags; a [`Word`] indexes this.
    words: Vec<Box<str>>,
    word_index: HashMap<Box<str>, Word>,
    roles: BTreeSet<String>,
    tags: BTreeSet<String>,
    /// Bumped by every change, so that what is derived from a user can be kept until then.
    revision: u64,
}

impl UserStore {
    pub fn revision(&self) -> u64 {
        self.revision
    }

    pub fn len(&self) -> usize {
        self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    pub fn row(&self, index: u32) -> Option<&Row> {
        self.users.get(index as usize)
    }

    /// The text of an interned role, status or tag.
    pub fn word(&self, w: Word) -> &str {
        self.words.get(w.0 as usize).map_or("", |s| s)
    }

    /// The whole user with this uid, rebuilt from its row (for the detail pane: one a frame).
    pub fn get(&self, uid: &str) -> Option<User> {
        self.by_uid
            .get(uid)
            .and_then(|&i| self.row(i))
            .map(|r| self.to_user(r))
    }

    fn to_user(&self, r: &Row) -> User {
        let e = r.extra.as_deref();
        User {
            uid: r.uid.to_string(),
            name: r.name.to_string(),
            status: self.word(r.status).to_owned(),
            role: self.word(r.role).to_owned(),
            created_at: r.created_at,
            updated_at: r.updated_at,
            deactivated_at: r.deactivated_at,
            last_active_at: r.last_active_at,
            avatar: e.and_then(|e| e.avatar.clone()),
            link: e.and_then(|e| e.link.clone()),
            status_message: e.and_then(|e| e.status_message.clone()),
            metadata: e.and_then(|e| e.metadata.clone()),
            tags: r
                .tags
                .as_ref()
                .map(|t| t.iter().map(|&w| self.word(w).to_owned()).collect()),
            auth_token: None,
            conversation_id: e.and_then(|e| e.conversation_id.clone()),
            blocked_by_me: e.and_then(|e| e.blocked_by_me),
            has_blocked_me: e.and_then(|e| e.has_blocked_me),
        }
    }

    fn intern(&mut self, s: &str) -> Word {
        if let Some(&w) = self.word_index.get(s) {
            return w;
        }
        let w = Word(u32::try_from(self.words.len()).unwrap_or(u32::MAX));
        self.words.push(s.into());
        self.word_index.insert(s.into(), w);
        w
    }

    fn make_row(&mut self, u: User) -> Row {
        let extra = Extra {
            avatar: u.avatar,
            link: u.link,
            status_message: u.status_message,
            metadata: u.metadata,
            conversation_id: u.conversation_id,
            blocked_by_me: u.blocked_by_me,
            has_blocked_me: u.has_blocked_me,
        };
        let tags = u
            .tags
            .map(|t| t.iter().map(|t| self.intern(t)).collect::<Box<[Word]>>());
        Row {
            role: self.intern(&u.role),
            status: self.intern(&u.status),
            uid: u.uid.into_boxed_str(),
            name: u.name.into_boxed_str(),
            created_at: u.created_at,
            updated_at: u.updated_at,
            deactivated_at: u.deactivated_at,
            last_active_at: u.last_active_at,
            tags,
            extra: (extra != Extra::default()).then(|| Box::new(extra)),
        }
    }

    pub fn index_of(&self, uid: &str) -> Option<u32> {
        self.by_uid.get(uid).copied()
    }

    /// The roles and tags seen so far, for the filter menus.
    pub fn roles(&self) -> &BTreeSet<String> {
        &self.roles
    }

    pub fn tags(&self) -> &BTreeSet<String> {
        &self.tags
    }

    /// Makes room for `total` users in all, up to [`MAX_RESERVED`]. Memory that is reserved
    /// but not yet filled is address space, not resident memory.
    pub fn reserve(&mut self, total: usize) {
        let more = total.min(MAX_RESERVED).saturating_sub(self.users.len());
        self.users.reserve_exact(more);
        self.hay.reserve_exact(more);
        self.by_uid.reserve(more);
    }

    /// Adds a user, or replaces the one with the same uid. Returns its index and whether it
    /// was new.
    pub fn upsert(&mut self, user: User) -> (u32, bool) {
        if !self.roles.contains(&user.role) {
            self.roles.insert(user.role.clone());
        }
        if let Some(tags) = &user.tags {
            for t in tags {
                if !self.tags.contains(t) {
                    self.tags.insert(t.clone());
                }
            }
        }
        self.revision += 1;
        let hay = haystack(&user);
        let row = self.make_row(user);
        if let Some(&i) = self.by_uid.get(&row.uid) {
            self.users[i as usize] = row;
            self.hay[i as usize] = hay;
            return (i, false);
        }
        let i = u32::try_from(self.users.len()).unwrap_or(u32::MAX);
        self.by_uid.insert(row.uid.clone(), i);
        self.users.push(row);
        self.hay.push(hay);
        (i, true)
    }

    /// Changes a user (after deactivating it, say). The search text stays valid: uid and
    /// name are not changed this way.
    pub fn update(&mut self, uid: &str, f: impl FnOnce(&mut User)) -> Option<u32> {
        let i = *self.by_uid.get(uid)?;
        self.revision += 1;
        let mut user = self.to_user(self.users.get(i as usize)?);
        f(&mut user);
        let row = self.make_row(user);
        self.users[i as usize] = row;
        Some(i)
    }

    /// Forgets a user (deleted permanently). Rare, so the O(n) reindex is fine.
    pub fn remove(&mut self, uid: &str) -> bool {
        let Some(i) = self.by_uid.remove(uid) else {
            return false;
        };
        self.revision += 1;
        self.users.remove(i as usize);
        self.hay.remove(i as usize);
        for v in self.by_uid.values_mut() {
            if *v > i {
                *v -= 1;
            }
        }
        true
    }

    pub fn clear(&mut self) {
        *self = Self {
            revision: self.revision + 1,
            ..Self::default()
        };
    }

    fn matches(&self, i: usize, f: &Filter) -> bool {
        let (Some(u), Some(hay)) = (self.users.get(i), self.hay.get(i)) else {
            return false;
        };
        f.matches(self, u, hay)
    }
}

fn haystack(u: &User) -> Box<str> {
    let mut s = String::with_capacity(u.uid.len() + u.name.len() + 1);
    s.push_str(&u.uid);
    s.push('\n');
    s.push_str(&u.name.to_lowercase());
    s.into_boxed_str()
}

/// What the table shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Lower-cased, trimmed search text.
    pub needle: String,
    /// `available` or `offline`.
    pub status: Option<String>,
    pub role: Option<String>,
    pub tag: Option<String>,
    pub include_deactivated: bool,
}

impl Filter {
    fn matches(&self, store: &UserStore, u: &Row, hay: &str) -> bool {
        (self.include_deactivated || !u.is_deactivated())
            && self
                .status
                .as_ref()
                .is_none_or(|s| store.word(u.status) == s)
            && self.role.as_ref().is_none_or(|r| store.word(u.role) == r)
            && self.tag.as_ref().is_none_or(|t| {
                u.tags
                    .as_ref()
                    .is_some_and(|tags| tags.iter().any(|&w| store.word(w) == t))
            })
            && (self.needle.is_empty() || hay.contains(self.needle.as_str()))
    }

    /// True when every user matching `self` also matches `wider`, so `self` can be computed
    /// from `wider`'s rows alone.
    fn narrows(&self, wider: &Filter) -> bool {
        self.status == wider.status
            && self.role == wider.role
            && self.tag == wider.tag
            && self.include_deactivated == wider.include_deactivated
            && self.needle.contains(wider.needle.as_str())
    }

    pub fn is_default(&self) -> bool {
        self == &Filter::default()
    }

    /// [`Filter::matches`] for a whole user (a row of a paged list).
    pub fn matches_user(&self, u: &User) -> bool {
        (self.include_deactivated || u.deactivated_at.is_none())
            && self.status.as_ref().is_none_or(|s| &u.status == s)
            && self.role.as_ref().is_none_or(|r| &u.role == r)
            && self
                .tag
                .as_ref()
                .is_none_or(|t| u.tags.as_ref().is_some_and(|tags| tags.contains(t)))
            && (self.needle.is_empty()
                || u.uid.contains(self.needle.as_str())
                || u.name.to_lowercase().contains(self.needle.as_str()))
    }
}

/// A filter being computed a slice at a time.
struct Job {
    filter: Filter,
    /// Rows of a wider filter to rescan, when narrowing.
    candidates: Option<Vec<u32>>,
    cursor: usize,
    /// The next store row not covered by the candidates (all rows, without candidates).
    tail_cursor: usize,
    rows: Vec<u32>,
}

/// The filtered index list, kept in step with the store.
#[derive(Default)]
pub struct FilteredView {
    applied: Filter,
    rows: Vec<u32>,
    job: Option<Job>,
    /// The store length `rows` accounts for.
    seen: usize,
}

impl FilteredView {
    /// The indices (into the store) of the rows to show, in store order.
    pub fn rows(&self) -> &[u32] {
        &self.rows
    }

    pub fn filter(&self) -> &Filter {
        self.job.as_ref().map_or(&self.applied, |j| &j.filter)
    }

    pub fn is_filtering(&self) -> bool {
        self.job.is_some()
    }

    /// Asks for `filter`; does nothing when it is already shown or being computed.
    pub fn set_filter(&mut self, filter: Filter) {
        if &filter == self.filter() {
            return;
        }
        let candidates = filter
            .narrows(&self.applied)
            .then(|| self.rows.clone())
            .filter(|_| self.job.is_none());
        let tail_cursor = if candidates.is_some() { self.seen } else { 0 };
        self.job = Some(Job {
            filter,
            candidates,
            cursor: 0,
            tail_cursor,
            rows: Vec::new(),
        });
    }

    /// Everything must be recomputed (rows removed or replaced).
    pub fn invalidate(&mut self) {
        let filter = self.filter().clone();
        self.job = Some(Job {
            filter,
            candidates: None,
            cursor: 0,
            tail_cursor: 0,
            rows: Vec::new(),
        });
    }

    /// Re-checks one changed row against the shown filter.
    pub fn recheck(&mut self, store: &UserStore, index: u32) {
        if self.job.is_some() || (index as usize) >= self.seen {
            return;
        }
        let keep = store.matches(index as usize, &self.applied);
        match self.rows.binary_search(&index) {
            Ok(pos) if !keep => {
                self.rows.remove(pos);
            }
            Err(pos) if keep => self.rows.insert(pos, index),
            _ => {}
        }
    }

    /// Brings the view up to date: new rows are checked against the filter, and a running
    /// job advances for at most a few milliseconds. Returns true while work remains.
    pub fn advance(&mut self, store: &UserStore) -> bool {
        let Some(job) = &mut self.job else {
            for i in self.seen..store.len() {
                if store.matches(i, &self.applied) {
                    self.rows.push(i as u32);
                }
            }
            self.seen = store.len();
            return false;
        };
        let started = Instant::now();
        let mut n = 0usize;
        let out_of_time = |n: &mut usize| {
            *n += 1;
            (*n).is_multiple_of(2048) && started.elapsed() > FILTER_BUDGET
        };
        if let Some(candidates) = &job.candidates {
            while job.cursor < candidates.len() {
                let i = candidates[job.cursor];
                job.cursor += 1;
                if store.matches(i as usize, &job.filter) {
                    job.rows.push(i);
                }
                if out_of_time(&mut n) {
                    return true;
                }
            }
        }
        while job.tail_cursor < store.len() {
            let i = job.tail_cursor;
            job.tail_cursor += 1;
            if store.matches(i, &job.filter) {
                job.rows.push(i as u32);
            }
            if out_of_time(&mut n) {
                return true;
            }
        }
        if let Some(job) = self.job.take() {
            self.applied = job.filter;
            self.rows = job.rows;
            self.seen = store.len();
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(uid: &str, name: &str, role: &str, deactivated: bool) -> User {
        User {
            uid: uid.to_owned(),
            name: name.to_owned(),
            role: role.to_owned(),
            status: "offline".to_owned(),
            deactivated_at: deactivated.then_some(1),
            ..User::default()
        }
    }

    #[test]
    fn a_row_gives_back_the_user_it_was_made_from_without_its_token() {
        let mut s = UserStore::default();
        let full = User {
            uid: "ada".to_owned(),
            name: "Ada Lovelace".to_owned(),
            role: "admin".to_owned(),
            status: "available".to_owned(),
            created_at: 10,
            updated_at: Some(11),
            last_active_at: Some(12),
            avatar: Some("https://example.com/a.png".to_owned()),
            link: Some("https://example.com".to_owned()),
            status_message: Some("Computing".to_owned()),
            metadata: Some(serde_json::json!({"team": "engines"})),
            tags: Some(vec!["vip".to_owned(), "beta".to_owned()]),
            auth_token: Some(crate::secret::Secret::new("ada_1_secret".to_owned())),
            conversation_id: Some("c1".to_owned()),
            blocked_by_me: Some(false),
            has_blocked_me: Some(true),
            ..User::default()
        };
        s.upsert(full.clone());
        s.upsert(User {
            updated_at: Some(2),
            ..user("bob", "Bob", "admin", false)
        });
        let back = s.get("ada").expect("stored");
        assert_eq!(back.auth_token, None, "tokens are not kept in the store");
        assert_eq!(
            back,
            User {
                auth_token: None,
                ..full
            }
        );
        let bob = s.row(1).unwrap();
        assert_eq!(s.word(bob.role), "admin");
        assert_eq!(bob.role, s.row(0).unwrap().role, "one interned role");
        assert!(
            bob.extra.is_none(),
            "nothing rare to box, updatedAt included"
        );
        let before = s.revision();
        s.update("bob", |u| u.deactivated_at = Some(3));
        assert!(s.row(1).unwrap().is_deactivated());
        assert!(s.revision() > before, "a change moves the revision");
        assert_eq!(s.get("bob").unwrap().name, "Bob");
    }

    fn settle(v: &mut FilteredView, s: &UserStore) {
        while v.advance(s) {}
    }

    #[test]
    fn searching_narrows_and_widens_and_follows_new_rows() {
        let mut s = UserStore::default();
        for i in 0..10_000 {
            s.upsert(user(
                &format!("user-{i:05}"),
                &format!("Person {i}"),
                "default",
                i % 10 == 0,
            ));
        }
        let mut v = FilteredView::default();
        settle(&mut v, &s);
        assert_eq!(
            v.rows().len(),
            9_000,
            "deactivated users are hidden by default"
        );
        let f = |needle: &str| Filter {
            needle: needle.to_owned(),
            ..Filter::default()
        };
        v.set_filter(f("user-012"));
        settle(&mut v, &s);
        assert_eq!(v.rows().len(), 90);
        v.set_filter(f("user-0123"));
        settle(&mut v, &s);
        assert_eq!(v.rows().len(), 9);
        s.upsert(user("user-01239x", "Late", "default", false));
        settle(&mut v, &s);
        assert_eq!(
            v.rows().len(),
            10,
            "a row that arrives later is filtered too"
        );
        v.set_filter(f("person 1234"));
        settle(&mut v, &s);
        assert_eq!(v.rows().len(), 1);
        let i = s.index_of("user-01234").unwrap();
        s.update("user-01234", |u| u.deactivated_at = Some(5));
        v.recheck(&s, i);
        assert!(v.rows().is_empty());
        assert!(s.remove("user-00001"));
        assert_eq!(s.index_of("user-00002"), Some(1));
    }
}
