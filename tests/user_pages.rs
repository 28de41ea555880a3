//! The paged user source (`core::user_pages`) and the streamed user export
//! (`core::ops::user_export`) against the sandbox over loopback HTTP, with thousands of
//! seeded users.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test may stop at the first surprise

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use keydeck::audit::AuditLog;
use keydeck::core::ops::Recorder;
use keydeck::core::ops::user_export::{self, ExportError, ExportFormat, ExportProgress};
use keydeck::core::user_pages::{PER_PAGE, UserPages};
use keydeck::core::worker::Waker;
use keydeck::providers::cometchat::{CometChatClient, UserQuery};
use keydeck::sandbox::Sandbox;
use keydeck::vault::Vault;

const USERS: u64 = 2_500;

struct Env {
    rt: tokio::runtime::Runtime,
    sb: Sandbox,
    client: CometChatClient,
    /// Every user the unfiltered, active-only listing has.
    total: u64,
}

fn env() -> Env {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let sb = rt.block_on(common::sandbox());
    rt.block_on(sb.seed_users(None, USERS)).unwrap();
    let client = common::full_client(&sb);
    let total = rt
        .block_on(client.list_users(&UserQuery::default(), None))
        .unwrap()
        .pagination
        .total;
    assert!(total >= USERS - USERS / 100, "seeded: {total}");
    Env {
        rt,
        sb,
        client,
        total,
    }
}

fn pages(env: &Env, query: UserQuery) -> UserPages {
    let wake: Waker = Arc::new(|| {});
    UserPages::new(env.client.clone(), env.rt.handle().clone(), wake, query)
}

/// Shows `rows` until every one of them is held.
fn settle(p: &mut UserPages, rows: std::ops::Range<u64>) {
    let started = Instant::now();
    loop {
        p.show(rows.clone());
        p.poll();
        let end = rows.end.min(p.total().unwrap_or(u64::MAX));
        if p.total().is_some() && (rows.start..end).all(|i| p.user(i).is_some()) {
            return;
        }
        assert!(p.error().is_none(), "a page failed: {:?}", p.error());
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "rows {rows:?} never arrived"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The uid at `index` of the listing `query`, asked directly.
fn uid_at(env: &Env, query: &UserQuery, index: u64) -> String {
    let q = UserQuery {
        per_page: Some(PER_PAGE),
        page: Some(u32::try_from(index / u64::from(PER_PAGE)).unwrap() + 1),
        ..query.clone()
    };
    let page = env.rt.block_on(env.client.list_users(&q, None)).unwrap();
    page.items[usize::try_from(index % u64::from(PER_PAGE)).unwrap()]
        .uid
        .clone()
}

#[test]
fn rows_anywhere_in_the_list_are_the_servers_rows_fetched_a_page_at_a_time() {
    let env = env();
    let mut p = pages(&env, UserQuery::default());
    assert_eq!(p.len(), 0, "nothing before the first answer");
    settle(&mut p, 0..40);
    assert_eq!(p.total(), Some(env.total), "the total is the server's");
    let (held, requested, _) = p.stats();
    assert!(
        held <= 2 && requested <= 2,
        "{held} pages held, {requested} asked for"
    );
    assert!(
        p.user(u64::from(PER_PAGE) * 5).is_none(),
        "a far row is not fetched"
    );

    // A jump deep into the list: the rows are the server's at that position.
    let far = env.total * 9 / 10;
    settle(&mut p, far..far + 30);
    assert_eq!(
        p.user(far).unwrap().uid,
        uid_at(&env, &UserQuery::default(), far)
    );
    let last = env.total - 1;
    settle(&mut p, last - 10..last + 1);
    assert_eq!(
        p.user(last).unwrap().uid,
        uid_at(&env, &UserQuery::default(), last)
    );
    assert!(p.user(env.total).is_none(), "nothing past the end");
    drop(env.sb);
}

#[test]
fn a_page_scrolled_past_is_cancelled_and_the_pages_held_stay_bounded() {
    let env = env();
    let mut p = pages(&env, UserQuery::default()).with_capacity(4);
    settle(&mut p, 0..40);
    // Asked for, then scrolled past before it could be taken in: cancelled.
    p.show(500..540);
    p.show(1_500..1_540);
    let (_, _, cancelled) = p.stats();
    assert!(cancelled >= 1, "the page of rows 500… was not cancelled");
    // Scroll through ten pages, far apart: never more than four held.
    for i in 0..10u64 {
        let at = (i * 230) % env.total;
        settle(&mut p, at..at + 30);
        assert!(p.stats().0 <= 4, "{} pages held", p.stats().0);
    }
    assert!(p.user(0).is_none(), "the first page was dropped");
    settle(&mut p, 0..10);
    assert_eq!(
        p.user(0).unwrap().uid,
        uid_at(&env, &UserQuery::default(), 0)
    );
}

#[test]
fn a_search_is_the_servers_with_its_own_total_and_a_refresh_sees_a_deleted_user() {
    let env = env();
    let query = UserQuery {
        search_key: Some("user-00012".to_owned()),
        ..UserQuery::default()
    };
    let mut p = pages(&env, query.clone());
    settle(&mut p, 0..100);
    let expected = env
        .rt
        .block_on(env.client.list_users(&query, None))
        .unwrap()
        .pagination
        .total;
    assert_eq!(p.total(), Some(expected));
    assert!((90..=100).contains(&expected), "{expected} matches");
    assert!(p.held().all(|u| u.uid.starts_with("user-00012")));

    let gone = p.user(0).unwrap().uid.clone();
    env.rt
        .block_on(env.client.delete_user(&gone, true))
        .unwrap();
    p.refresh();
    assert!(p.user(0).is_none(), "a refresh forgets the pages");
    assert_eq!(p.total(), Some(expected), "and keeps the height until told");
    settle(&mut p, 0..100);
    assert_eq!(p.total(), Some(expected - 1));
    assert!(p.held().all(|u| u.uid != gone));
}

#[test]
fn the_export_streams_every_user_and_a_cancelled_one_leaves_no_file() {
    let env = env();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit").join("audit.jsonl");
    let rec = Recorder::new(AuditLog::open(&audit, &Vault::memory()).map_err(|e| e.to_string()));
    let csv = dir.path().join("users.csv");
    let progress = ExportProgress::new();
    let n = env
        .rt
        .block_on(user_export::export(
            &env.client,
            &rec,
            UserQuery::default(),
            ExportFormat::Csv,
            &csv,
            Arc::clone(&progress),
        ))
        .unwrap();
    assert_eq!(n, env.total);
    assert_eq!(progress.counts(), (env.total, env.total));
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], user_export::CSV_HEADER);
    assert_eq!(lines.len() as u64, env.total + 1);
    assert!(
        lines[1..].iter().all(|l| l.starts_with("user-")),
        "one seeded user a line"
    );

    let json = dir.path().join("users.json");
    let n = env
        .rt
        .block_on(user_export::export(
            &env.client,
            &rec,
            UserQuery {
                with_deactivated: true,
                ..UserQuery::default()
            },
            ExportFormat::for_path(&json),
            &json,
            ExportProgress::new(),
        ))
        .unwrap();
    let parsed: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(parsed.len() as u64, n);
    assert!(n >= env.total, "deactivated users included");
    assert!(parsed.iter().all(|u| u.get("authToken").is_none()));

    // Cancelled: an error that says so, and nothing left under the name or beside it.
    let cancelled = dir.path().join("cancelled.csv");
    let progress = ExportProgress::new();
    progress.cancel();
    let r = env.rt.block_on(user_export::export(
        &env.client,
        &rec,
        UserQuery::default(),
        ExportFormat::Csv,
        &cancelled,
        progress,
    ));
    assert!(matches!(r, Err(ExportError::Cancelled)), "{r:?}");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names.len(),
        3,
        "the two finished exports and the audit folder: {names:?}"
    );
    // Each export is in the audit trail, with its count and file, cancelled one included.
    let started = Instant::now();
    loop {
        let trail = std::fs::read_to_string(&audit).unwrap_or_default();
        if trail.matches("users.exported").count() == 3 {
            assert!(trail.contains(&format!("{} users to", env.total)));
            assert!(trail.contains("cancelled"));
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{trail}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn pages_that_fail_are_not_asked_for_again_until_retry() {
    use keydeck::sandbox::{Fault, FaultRule};
    let env = env();
    let mut p = pages(&env, UserQuery::default());
    settle(&mut p, 0..40);
    env.sb.set_fault(FaultRule {
        method: Some("GET".to_owned()),
        path_contains: "/users".to_owned(),
        fault: Fault::Malformed,
        times: None,
    });
    // Rows across two pages, both failing, shown frame after frame.
    let rows = 1_050..1_150;
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(500) {
        p.show(rows.clone());
        p.poll();
        std::thread::sleep(Duration::from_millis(2));
    }
    let (_, requested, _) = p.stats();
    assert!(p.error().is_some(), "the failure is kept");
    assert!(p.failed(1_050) && p.failed(1_149));
    assert!(
        requested <= 1 + 3,
        "{requested} requests: failed pages are not asked for in a loop"
    );
    env.sb.clear_faults();
    p.retry();
    settle(&mut p, rows.clone());
    assert!(p.error().is_none() && !p.failed(1_050));
}
