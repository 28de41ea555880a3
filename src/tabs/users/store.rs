//! The loaded users and the filtered view of them. Built for 100,000 users: each user's
//! search text is lower-cased once when it arrives; the filtered index list is recomputed only
//! when the filter or the data changes, in slices of a few milliseconds per frame, and a
//! narrower search only rescans what the previous one matched.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use crate::providers::cometchat::User;

/// How long one frame may spend filtering before it yields to drawing.
const FILTER_BUDGET: Duration = Duration::from_millis(3);

/// Every user loaded so far, in arrival order, with a uid index.
#[derive(Default)]
pub struct UserStore {
    users: Vec<User>,
    /// `uid \n name`, lower-cased: what a search matches against.
    hay: Vec<String>,
    by_uid: HashMap<String, u32>,
    roles: BTreeSet<String>,
    tags: BTreeSet<String>,
}

impl UserStore {
    pub fn len(&self) -> usize {
        self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    pub fn user(&self, index: u32) -> Option<&User> {
        self.users.get(index as usize)
    }

    pub fn get(&self, uid: &str) -> Option<&User> {
        self.by_uid.get(uid).and_then(|&i| self.user(i))
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

    /// Adds a user, or replaces the one with the same uid. Returns its index and whether it
    /// was new.
    pub fn upsert(&mut self, user: User) -> (u32, bool) {
        self.roles.insert(user.role.clone());
        if let Some(tags) = &user.tags {
            self.tags.extend(tags.iter().cloned());
        }
        let hay = haystack(&user);
        if let Some(&i) = self.by_uid.get(&user.uid) {
            self.users[i as usize] = user;
            self.hay[i as usize] = hay;
            return (i, false);
        }
        let i = u32::try_from(self.users.len()).unwrap_or(u32::MAX);
        self.by_uid.insert(user.uid.clone(), i);
        self.users.push(user);
        self.hay.push(hay);
        (i, true)
    }

    /// Changes a user in place (after deactivating it, say). The search text stays valid:
    /// uid and name are not changed this way.
    pub fn update(&mut self, uid: &str, f: impl FnOnce(&mut User)) -> Option<u32> {
        let i = *self.by_uid.get(uid)?;
        f(&mut self.users[i as usize]);
        Some(i)
    }

    /// Forgets a user (deleted permanently). Rare, so the O(n) reindex is fine.
    pub fn remove(&mut self, uid: &str) -> bool {
        let Some(i) = self.by_uid.remove(uid) else {
            return false;
        };
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
        *self = Self::default();
    }

    fn matches(&self, i: usize, f: &Filter) -> bool {
        let (Some(u), Some(hay)) = (self.users.get(i), self.hay.get(i)) else {
            return false;
        };
        f.matches(u, hay)
    }
}

fn haystack(u: &User) -> String {
    let mut s = String::with_capacity(u.uid.len() + u.name.len() + 1);
    s.push_str(&u.uid);
    s.push('\n');
    s.push_str(&u.name.to_lowercase());
    s
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
    pub fn matches(&self, u: &User, hay: &str) -> bool {
        (self.include_deactivated || !u.is_deactivated())
            && self.status.as_ref().is_none_or(|s| &u.status == s)
            && self.role.as_ref().is_none_or(|r| &u.role == r)
            && self
                .tag
                .as_ref()
                .is_none_or(|t| u.tags.as_ref().is_some_and(|tags| tags.contains(t)))
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
