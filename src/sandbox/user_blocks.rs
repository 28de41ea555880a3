//! Paging through an app's users in O(page), and seeding many of them at once.
//!
//! `GET /users` takes page numbers and lists users by uid. `LIMIT ? OFFSET ?` makes SQLite step
//! over every row before the page, so page 9,000 of a million users cost 9,000 pages of work.
//! Instead the store keeps an order-statistics summary beside the `users` table:
//!
//! * `user_blocks` cuts each app's uids into ranges: a block holds the uids from its `first_uid`
//!   up to (not including) the next block's; the first block of an app starts at `''`. Each
//!   block counts its users (`total`) and those not deactivated (`active`).
//! * `user_counts` holds the same two counts for the whole app, so a page's `pagination.total`
//!   is one row, not a `COUNT(*)`.
//!
//! Triggers on `users` keep both exact on every insert, delete and (de)activation, whatever path
//! makes the change, so the counts never depend on the Rust code remembering them. Blocks are
//! about [`BLOCK`] users: a block that grows past `2 × BLOCK` is split in two after an insert
//! ([`split_if_full`], O(BLOCK)); one that empties is dropped (its range joins the previous
//! block). A rebuild ([`rebuild`]) cuts fresh blocks of exactly `BLOCK` after a bulk seed.
//!
//! Page `p` of `per_page` is then: walk the app's blocks in uid order adding up their counts
//! until the one holding position `(p-1) × per_page` (≈ N / BLOCK small rows at most: 1,000
//! for a million users), and read `per_page` rows from the users' primary key starting at that
//! block's `first_uid`, skipping fewer than `2 × BLOCK` rows inside the block. The result is
//! what `ORDER BY uid LIMIT ? OFFSET ?` returns, at a cost bounded by the block size instead of
//! the page number. Filtered lists (status, role, tags, `searchKey`) are not summarised and
//! keep the plain `OFFSET` over their (indexed) matches.

use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension as _, Transaction, params};

use super::store::{self, UserRow};

/// The target number of users in a block.
pub const BLOCK: i64 = 1024;

/// The summary tables. Part of the store's schema.
pub const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS user_blocks (
    app_id    TEXT NOT NULL,
    first_uid TEXT NOT NULL,
    total     INTEGER NOT NULL,
    active    INTEGER NOT NULL,
    PRIMARY KEY (app_id, first_uid)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS user_counts (
    app_id TEXT PRIMARY KEY,
    total  INTEGER NOT NULL,
    active INTEGER NOT NULL
) WITHOUT ROWID;
"#;

/// The triggers that keep the summary exact. A bulk seed drops them ([`DROP_TRIGGERS`]) for the
/// length of its transaction, rebuilds the summary, and creates them again.
pub const TRIGGERS: &str = r#"
CREATE TRIGGER IF NOT EXISTS users_count_insert AFTER INSERT ON users BEGIN
    INSERT OR IGNORE INTO user_blocks (app_id, first_uid, total, active)
        VALUES (NEW.app_id, '', 0, 0);
    INSERT OR IGNORE INTO user_counts (app_id, total, active) VALUES (NEW.app_id, 0, 0);
    UPDATE user_blocks SET total = total + 1, active = active + (NEW.deactivated_at IS NULL)
     WHERE app_id = NEW.app_id AND first_uid = (SELECT MAX(b.first_uid) FROM user_blocks b
           WHERE b.app_id = NEW.app_id AND b.first_uid <= NEW.uid);
    UPDATE user_counts SET total = total + 1, active = active + (NEW.deactivated_at IS NULL)
     WHERE app_id = NEW.app_id;
END;
CREATE TRIGGER IF NOT EXISTS users_count_delete AFTER DELETE ON users BEGIN
    UPDATE user_blocks SET total = total - 1, active = active - (OLD.deactivated_at IS NULL)
     WHERE app_id = OLD.app_id AND first_uid = (SELECT MAX(b.first_uid) FROM user_blocks b
           WHERE b.app_id = OLD.app_id AND b.first_uid <= OLD.uid);
    DELETE FROM user_blocks
     WHERE app_id = OLD.app_id AND first_uid <> '' AND total = 0
       AND first_uid = (SELECT MAX(b.first_uid) FROM user_blocks b
           WHERE b.app_id = OLD.app_id AND b.first_uid <= OLD.uid);
    UPDATE user_counts SET total = total - 1, active = active - (OLD.deactivated_at IS NULL)
     WHERE app_id = OLD.app_id;
END;
CREATE TRIGGER IF NOT EXISTS users_count_activation AFTER UPDATE OF deactivated_at ON users
WHEN (OLD.deactivated_at IS NULL) <> (NEW.deactivated_at IS NULL) BEGIN
    UPDATE user_blocks
       SET active = active + (NEW.deactivated_at IS NULL) - (OLD.deactivated_at IS NULL)
     WHERE app_id = NEW.app_id AND first_uid = (SELECT MAX(b.first_uid) FROM user_blocks b
           WHERE b.app_id = NEW.app_id AND b.first_uid <= NEW.uid);
    UPDATE user_counts
       SET active = active + (NEW.deactivated_at IS NULL) - (OLD.deactivated_at IS NULL)
     WHERE app_id = NEW.app_id;
END;
"#;

/// From this many new users on, a seed drops the secondary indexes of users and builds them
/// again at the end: one sort instead of a million inserts at random places (about a third of
/// the time at a million).
const REINDEX_FROM: u64 = 100_000;

const DROP_INDEXES: &str = "DROP INDEX IF EXISTS users_name; DROP INDEX IF EXISTS users_role; \
     DROP INDEX IF EXISTS user_words_uid; DROP INDEX IF EXISTS user_tags_uid;";

/// SQLite's page cache while seeding (negative: KiB), 256 MiB; the store's own setting is put
/// back after.
const SEED_CACHE_KIB: i64 = -262_144;

const DROP_TRIGGERS: &str = "DROP TRIGGER IF EXISTS users_count_insert; \
     DROP TRIGGER IF EXISTS users_count_delete; \
     DROP TRIGGER IF EXISTS users_count_activation;";

/// Builds the summary for stores made before it existed (once; the `user_blocks` meta row
/// marks it).
pub fn migrate(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    if store::get_meta(tx, "user_blocks")?.is_some() {
        return Ok(());
    }
    let apps: Vec<String> = {
        let mut st = tx.prepare("SELECT DISTINCT app_id FROM users")?;
        st.query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?
    };
    for app in apps {
        rebuild(tx, &app)?;
    }
    store::set_meta(tx, "user_blocks", "1")
}

/// Recounts an app's users into fresh blocks of exactly [`BLOCK`] (the last one shorter).
pub fn rebuild(conn: &Connection, app_id: &str) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM user_blocks WHERE app_id = ?1", [app_id])?;
    conn.execute("DELETE FROM user_counts WHERE app_id = ?1", [app_id])?;
    let mut ins = conn.prepare_cached(
        "INSERT INTO user_blocks (app_id, first_uid, total, active) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut st = conn
        .prepare("SELECT uid, deactivated_at IS NULL FROM users WHERE app_id = ?1 ORDER BY uid")?;
    let mut rows = st.query([app_id])?;
    let (mut first, mut total, mut active) = (String::new(), 0i64, 0i64);
    let (mut all, mut all_active) = (0i64, 0i64);
    while let Some(r) = rows.next()? {
        if total == BLOCK {
            ins.execute(params![app_id, first, total, active])?;
            first = r.get(0)?;
            (total, active) = (0, 0);
        }
        let is_active: bool = r.get(1)?;
        total += 1;
        active += i64::from(is_active);
        all += 1;
        all_active += i64::from(is_active);
    }
    ins.execute(params![app_id, first, total, active])?;
    conn.execute(
        "INSERT INTO user_counts (app_id, total, active) VALUES (?1, ?2, ?3)",
        params![app_id, all, all_active],
    )?;
    Ok(())
}

/// Splits the block that holds `uid` when it has grown past `2 × BLOCK`: its first `BLOCK`
/// users stay, the rest start a new block. O(BLOCK), once per `BLOCK` inserts at most.
pub fn split_if_full(conn: &Connection, app_id: &str, uid: &str) -> rusqlite::Result<()> {
    let block: Option<(String, i64, i64)> = conn
        .query_row(
            "SELECT first_uid, total, active FROM user_blocks \
             WHERE app_id = ?1 AND first_uid <= ?2 ORDER BY first_uid DESC LIMIT 1",
            [app_id, uid],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((first, total, active)) = block.filter(|b| b.1 > 2 * BLOCK) else {
        return Ok(());
    };
    let middle: String = conn.query_row(
        "SELECT uid FROM users WHERE app_id = ?1 AND uid >= ?2 ORDER BY uid LIMIT 1 OFFSET ?3",
        params![app_id, first, BLOCK],
        |r| r.get(0),
    )?;
    let low_active: i64 = conn.query_row(
        "SELECT COUNT(*) FROM users WHERE app_id = ?1 AND uid >= ?2 AND uid < ?3 \
         AND deactivated_at IS NULL",
        params![app_id, first, middle],
        |r| r.get(0),
    )?;
    conn.execute(
        "UPDATE user_blocks SET total = ?3, active = ?4 WHERE app_id = ?1 AND first_uid = ?2",
        params![app_id, first, BLOCK, low_active],
    )?;
    conn.execute(
        "INSERT INTO user_blocks (app_id, first_uid, total, active) VALUES (?1, ?2, ?3, ?4)",
        params![app_id, middle, total - BLOCK, active - low_active],
    )?;
    Ok(())
}

/// Which users an unfiltered list shows: `withDeactivated`, `onlyDeactivated`, or neither.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Shown {
    Active,
    Deactivated,
    All,
}

impl Shown {
    fn count(self, total: i64, active: i64) -> i64 {
        match self {
            Shown::Active => active,
            Shown::Deactivated => total - active,
            Shown::All => total,
        }
    }

    fn clause(self) -> &'static str {
        match self {
            Shown::Active => "AND u.deactivated_at IS NULL",
            Shown::Deactivated => "AND u.deactivated_at IS NOT NULL",
            Shown::All => "",
        }
    }
}

/// How many users an unfiltered list has.
pub fn count(conn: &Connection, app_id: &str, shown: Shown) -> rusqlite::Result<u64> {
    let counts: Option<(i64, i64)> = conn
        .query_row(
            "SELECT total, active FROM user_counts WHERE app_id = ?1",
            [app_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(counts.map_or(0, |(t, a)| u64::try_from(shown.count(t, a)).unwrap_or(0)))
}

/// The users at positions `offset .. offset + limit` of the unfiltered list in uid order:
/// the block walk finds where position `offset` lies, the primary key reads from there.
pub fn page(
    conn: &Connection,
    app_id: &str,
    shown: Shown,
    offset: u64,
    limit: u64,
) -> rusqlite::Result<Vec<UserRow>> {
    let offset = i64::try_from(offset).unwrap_or(i64::MAX);
    let mut walk = conn.prepare_cached(
        "SELECT first_uid, total, active FROM user_blocks WHERE app_id = ?1 ORDER BY first_uid",
    )?;
    let mut blocks = walk.query([app_id])?;
    let mut before = 0i64;
    let mut start = None;
    while let Some(b) = blocks.next()? {
        let n = shown.count(b.get(1)?, b.get(2)?);
        if before + n > offset {
            start = Some(b.get::<_, String>(0)?);
            break;
        }
        before += n;
    }
    let Some(start) = start else {
        return Ok(Vec::new());
    };
    let mut st = conn.prepare_cached(&format!(
        "SELECT {} FROM users u WHERE u.app_id = ?1 AND u.uid >= ?2 {} \
         ORDER BY u.uid LIMIT ?3 OFFSET ?4",
        store::USER_COLS,
        shown.clause()
    ))?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    st.query_map(
        params![app_id, start, limit, offset - before],
        store::user_from_row,
    )?
    .collect()
}

// ---------------------------------------------------------------------------------------------
// Seeding many users

/// What [`seed_many`] did.
#[derive(Debug, Clone)]
pub struct SeedReport {
    pub app_id: String,
    /// Users `user-0000001 …` the app now has.
    pub seeded: u64,
    /// How many of them this call added (0 when the app already had them).
    pub added: u64,
    pub elapsed: Duration,
}

/// The uid of the `i`-th synthetic user (1-based): `user-0000001`.
pub fn seeded_uid(i: u64) -> String {
    format!("user-{i:07}")
}

/// One synthetic user: a name from the demo lists (so a name prefix has realistic hits), and
/// a few roles, statuses and tags; about one in a thousand is deactivated.
struct Synthetic {
    uid: String,
    name: String,
    words: [&'static str; 2],
    role: &'static str,
    status: &'static str,
    tags: &'static [&'static str],
    deactivated: bool,
}

fn synthetic(i: u64) -> Synthetic {
    let (first, last) = store::demo_name(i);
    let role = match i {
        _ if i.is_multiple_of(1000) => "admin",
        _ if i.is_multiple_of(50) => "moderator",
        _ => "default",
    };
    let tags: &[&str] = match i {
        _ if i.is_multiple_of(100) => &["beta", "vip"],
        _ if i.is_multiple_of(10) => &["beta"],
        _ => &[],
    };
    Synthetic {
        uid: seeded_uid(i),
        name: format!("{} {}", store::title(first), store::title(last)),
        words: [first, last],
        role,
        status: if i.is_multiple_of(7) {
            "available"
        } else {
            "offline"
        },
        tags,
        deactivated: i.is_multiple_of(997),
    }
}

/// How many of `user-0000001 …` the app has: the highest one (they are added in order).
fn seeded_so_far(conn: &Connection, app_id: &str) -> rusqlite::Result<u64> {
    let max: Option<String> = conn.query_row(
        "SELECT MAX(uid) FROM users WHERE app_id = ?1 AND uid >= 'user-' AND uid < 'user.'",
        [app_id],
        |r| r.get(0),
    )?;
    Ok(max
        .and_then(|m| m.strip_prefix("user-").and_then(|n| n.parse().ok()))
        .unwrap_or(0))
}

/// Inserts synthetic users `from..=to` (of `to`) with one prepared statement per table.
fn insert_synthetic(tx: &Transaction<'_>, app_id: &str, from: u64, to: u64) -> anyhow::Result<()> {
    let t0 = store::now();
    let mut user = tx.prepare(
        "INSERT OR IGNORE INTO users (app_id, uid, name, name_lower, role, status, tags, \
         created_at, deactivated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    let mut word =
        tx.prepare("INSERT OR IGNORE INTO user_words (app_id, word, uid) VALUES (?1, ?2, ?3)")?;
    let mut tag =
        tx.prepare("INSERT OR IGNORE INTO user_tags (app_id, tag, uid) VALUES (?1, ?2, ?3)")?;
    let span = i64::try_from(to).unwrap_or(i64::MAX).max(1);
    for i in from..=to {
        let s = synthetic(i);
        let tags = (!s.tags.is_empty()).then(|| serde_json::json!(s.tags).to_string());
        // Created over the 30 days before now, in uid order.
        let at = t0 - 30 * 86_400 + (i64::try_from(i).unwrap_or(0) * 29 * 86_400) / span;
        user.execute(params![
            app_id,
            s.uid,
            s.name,
            s.name.to_lowercase(),
            s.role,
            s.status,
            tags,
            at,
            s.deactivated.then_some(t0 - 86_400),
        ])?;
        for w in s.words {
            word.execute(params![app_id, w, s.uid])?;
        }
        for t in s.tags {
            tag.execute(params![app_id, t, s.uid])?;
        }
    }
    Ok(())
}

/// Adds synthetic users `user-0000001 … user-{n}` that `app_id` does not have yet, in the one
/// transaction `tx`, with one prepared statement per table; then rebuilds the app's blocks.
/// The count triggers are dropped for the length of the transaction (a rollback restores
/// them). A million users take seconds. `synchronous` stays as the store has it: in WAL mode
/// with `NORMAL` a commit does not wait for the disk anyway.
pub fn seed_many(tx: &Transaction<'_>, app_id: &str, n: u64) -> anyhow::Result<SeedReport> {
    let started = Instant::now();
    let have = seeded_so_far(tx, app_id)?;
    if have >= n {
        return Ok(SeedReport {
            app_id: app_id.to_owned(),
            seeded: have,
            added: 0,
            elapsed: started.elapsed(),
        });
    }
    let reindex = n - have >= REINDEX_FROM;
    tx.execute_batch(DROP_TRIGGERS)?;
    if reindex {
        tx.execute_batch(DROP_INDEXES)?;
    }
    let cache: i64 = tx.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
    tx.pragma_update(None, "cache_size", SEED_CACHE_KIB)?;
    let seeded = insert_synthetic(tx, app_id, have + 1, n).and_then(|()| {
        if reindex {
            // The schema's `CREATE INDEX IF NOT EXISTS` builds them again, sorting once.
            tx.execute_batch(store::SCHEMA)?;
        }
        rebuild(tx, app_id)?;
        Ok(tx.execute_batch(TRIGGERS)?)
    });
    tx.pragma_update(None, "cache_size", cache)?;
    seeded?;
    Ok(SeedReport {
        app_id: app_id.to_owned(),
        seeded: n,
        added: n - have,
        elapsed: started.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with_app() -> (store::Store, String) {
        let s = store::Store::open(None).unwrap();
        let app = s
            .with_tx(|tx| Ok(store::insert_app(tx, "t", "us", 0)?))
            .unwrap();
        (s, app.id)
    }

    fn uids(rows: &[UserRow]) -> Vec<String> {
        rows.iter().map(|u| u.uid.clone()).collect()
    }

    fn offset_page(conn: &Connection, app: &str, shown: Shown, off: u64, lim: u64) -> Vec<String> {
        let sql = format!(
            "SELECT u.uid FROM users u WHERE u.app_id = ?1 {} ORDER BY u.uid LIMIT ?2 OFFSET ?3",
            shown.clause()
        );
        let mut st = conn.prepare(&sql).unwrap();
        st.query_map(params![app, lim as i64, off as i64], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn pages_match_offset_paging_through_splits_deletes_and_deactivations() {
        let (s, app) = store_with_app();
        s.with_tx(|tx| check_paging(tx, &app)).unwrap();
    }

    fn check_paging(tx: &Transaction<'_>, app: &str) -> anyhow::Result<()> {
        let app = app.to_owned();
        seed_many(tx, &app, 5_000).unwrap();
        // Single inserts between seeded uids grow a block past 2 × BLOCK and split it.
        for i in 0..2_500 {
            let u = store::NewUser {
                uid: format!("user-00010{i:04}x"),
                name: format!("Extra {i}"),
                avatar: None,
                link: None,
                role: "default".into(),
                status_message: None,
                metadata: None,
                tags: vec![],
                created_at: 0,
            };
            store::insert_user(tx, &app, &u).unwrap();
        }
        for i in (1..=5_000).step_by(7) {
            store::delete_user(tx, &app, &seeded_uid(i)).unwrap();
        }
        for i in (3..=5_000).step_by(11) {
            store::set_deactivated(tx, &app, &seeded_uid(i), Some(1)).unwrap();
        }
        let blocks: i64 = tx
            .query_row(
                "SELECT COUNT(*) FROM user_blocks WHERE app_id = ?1",
                [&app],
                |r| r.get(0),
            )
            .unwrap();
        assert!(blocks > 5, "blocks were split: {blocks}");
        for shown in [Shown::Active, Shown::Deactivated, Shown::All] {
            let all = offset_page(tx, &app, shown, 0, u64::MAX >> 2);
            assert_eq!(count(tx, &app, shown).unwrap(), all.len() as u64);
            for (off, lim) in [(0, 100), (1023, 5), (1024, 100), (3000, 1000), (7000, 100)] {
                assert_eq!(
                    uids(&page(tx, &app, shown, off, lim).unwrap()),
                    offset_page(tx, &app, shown, off, lim),
                    "{shown:?} at {off}"
                );
            }
        }
        Ok(())
    }

    #[test]
    fn seeding_again_adds_only_what_is_missing() {
        let (s, app) = store_with_app();
        s.with_tx(|tx| {
            assert_eq!(seed_many(tx, &app, 300)?.added, 300);
            assert_eq!(seed_many(tx, &app, 300)?.added, 0);
            assert_eq!(seed_many(tx, &app, 500)?.added, 200);
            assert_eq!(count(tx, &app, Shown::All)?, 500);
            Ok(())
        })
        .unwrap();
        let triggers: i64 = s
            .with_tx(|tx| {
                Ok(tx.query_row(
                    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .unwrap();
        assert_eq!(triggers, 3, "the count triggers are back");
    }

    #[test]
    fn a_large_seed_builds_the_indexes_again() {
        let (s, app) = store_with_app();
        s.with_tx(|tx| {
            seed_many(tx, &app, REINDEX_FROM)?;
            let indexes: Vec<String> = tx
                .prepare(
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'user%'",
                )?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for name in [
                "users_name",
                "users_role",
                "user_words_uid",
                "user_tags_uid",
            ] {
                assert!(indexes.iter().any(|i| i == name), "{name} in {indexes:?}");
            }
            let cache: i64 = tx.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
            assert_eq!(cache, -2000, "the store's cache size is back");
            let alices: i64 = tx.query_row(
                "SELECT COUNT(*) FROM users INDEXED BY users_name \
                 WHERE app_id = ?1 AND name_lower >= 'alice ' AND name_lower < 'alice!'",
                [&app],
                |r| r.get(0),
            )?;
            assert_eq!(alices, 1_666);
            assert_eq!(count(tx, &app, Shown::All)?, REINDEX_FROM);
            Ok(())
        })
        .unwrap();
    }
}
