//! The Users tab over an app larger than its whole-list limit: paged, searched on the server,
//! exported. The limit is lowered to 1,000 so that a sandbox seeded with 2,500 users stands in
//! for a million (the benchmark measures the million: `cargo bench --bench perf -- million`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

mod common;
mod support;
mod users_common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use egui::{Event, Key, Modifiers, MouseWheelSource, MouseWheelUnit, TouchPhase, vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use futures::FutureExt;
use futures::future::BoxFuture;
use keydeck::providers::cometchat::UserQuery;
use keydeck::sandbox::{Fault, FaultRule};
use keydeck::ui::KeydeckApp;
use keydeck::ui::file_dialog::Picked;
use keydeck::ui::tabs::users::{FilePicker, thousands};
use users_common::{Env, step_until, step_until_label, step_until_label_contains};

const USERS: u64 = 2_500;

/// Hands out a fixed path for the users export.
struct ExportTo(PathBuf);

impl FilePicker for ExportTo {
    fn pick_import(&self) -> BoxFuture<'static, Picked> {
        async { Picked::Cancelled }.boxed()
    }
    fn pick_export(&self, _suggested: String) -> BoxFuture<'static, Picked> {
        async { Picked::Cancelled }.boxed()
    }
    fn pick_users_export(&self, _suggested: String) -> BoxFuture<'static, Picked> {
        let p = self.0.clone();
        async move { Picked::Chosen(p) }.boxed()
    }
}

/// The active users the sandbox lists, and the uid at `index` of that list.
fn listing(env: &Env, index: u64) -> (u64, String) {
    let page = env
        .rt
        .block_on(env.client.list_users(
            &UserQuery {
                per_page: Some(100),
                page: Some(u32::try_from(index / 100).unwrap() + 1),
                ..UserQuery::default()
            },
            None,
        ))
        .unwrap();
    let uid = page.items[usize::try_from(index % 100).unwrap()]
        .uid
        .clone();
    (page.pagination.total, uid)
}

/// What the sandbox counts for `searchKey`.
fn search_total(env: &Env, key: &str) -> u64 {
    env.rt
        .block_on(env.client.list_users(
            &UserQuery {
                search_key: Some(key.to_owned()),
                ..UserQuery::default()
            },
            None,
        ))
        .unwrap()
        .pagination
        .total
}

/// The app on a sandbox of 2,500 users, paged from 1,000.
fn paged_app(env: &Env) -> Harness<'static, KeydeckApp> {
    env.rt.block_on(env.sb.seed_users(None, USERS)).unwrap();
    let mut h = env.harness();
    h.state_mut().tabs.users.set_whole_list_limit(1_000);
    // The first frame may have asked for the list already: ask again under the new limit.
    h.key_press(Key::F5);
    step_until(
        &mut h,
        "the list paged",
        |h| h.state().tabs.users.paged_total().is_some(),
        Duration::from_secs(30),
    );
    h
}

fn wheel(h: &mut Harness<'static, KeydeckApp>, dy: f32) {
    h.input_mut()
        .events
        .push(Event::PointerMoved(egui::pos2(400.0, 500.0)));
    h.input_mut().events.push(Event::MouseWheel {
        unit: MouseWheelUnit::Point,
        delta: vec2(0.0, dy),
        phase: TouchPhase::Move,
        source: MouseWheelSource::Unknown,
        modifiers: Modifiers::NONE,
    });
}

fn all_rows_drawn(h: &Harness<'static, KeydeckApp>) -> bool {
    let d = h.state().tabs.users.drawn_rows();
    d.rows > 0 && d.placeholders == 0
}

#[test]
fn a_large_app_is_paged_jumped_through_searched_on_the_server_and_exported() {
    let env = Env::new();
    let mut h = paged_app(&env);
    let (total, uid0) = listing(&env, 0);
    let (_, last_uid) = listing(&env, total - 1);

    // The first screenful, and the count from the server's paging, with nothing loaded whole.
    step_until(
        &mut h,
        "the first rows",
        all_rows_drawn,
        Duration::from_secs(30),
    );
    assert_eq!(h.state().tabs.users.paged_total(), Some(total));
    step_until_label(&mut h, &format!("{} users", thousands(total)));
    assert!(h.query_by_label(&uid0).is_some(), "row 0 is {uid0}");
    assert_eq!(
        h.state().tabs.users.loaded_users(),
        0,
        "nothing loaded whole"
    );

    // A jump to the end: placeholders at once, then the server's last rows.
    wheel(&mut h, -1.0e7);
    h.step();
    h.step();
    let drawn = h.state().tabs.users.drawn_rows();
    assert!(
        drawn.placeholders > 0,
        "a row whose page is on its way is a placeholder ({drawn:?})"
    );
    assert!(h.query_all_by_label("Loading…").next().is_some());
    step_until(
        &mut h,
        "the last rows",
        all_rows_drawn,
        Duration::from_secs(30),
    );
    step_until_label(&mut h, &last_uid);
    let held = h.state().tabs.users.paged_pages_held().unwrap();
    assert!(held <= 4, "only the pages looked at are held: {held}");

    // A search goes to the server, which counts all the matches (not only those held).
    h.get_by_label("Search users").click();
    h.step();
    h.get_by_label("Search users").type_text("user-00019");
    let expected = search_total(&env, "user-00019");
    step_until_label_contains(
        &mut h,
        &format!(
            "{} of all {} users match (searched on the server)",
            thousands(expected),
            thousands(total)
        ),
    );
    step_until(
        &mut h,
        "the matches drawn",
        all_rows_drawn,
        Duration::from_secs(30),
    );
    assert!(h.query_by_label("user-0001900").is_some());
    assert!(h.query_by_label(&last_uid).is_none() || last_uid.starts_with("user-00019"));

    // A click opens the user.
    h.get_by_label("user-0001901").click();
    step_until(
        &mut h,
        "the user open",
        |h| h.state().tabs.users.open_uid() == Some("user-0001901"),
        Duration::from_secs(10),
    );

    // Export…: every user (the search text is not a filter of the export), never a token.
    let file = env.dir.path().join("all-users.csv");
    h.state_mut()
        .tabs
        .users
        .bulk
        .set_file_picker(Arc::new(ExportTo(file.clone())));
    h.get_by_label("Export…").click();
    step_until_label_contains(&mut h, &format!("Exported {} users to", thousands(total)));
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        text.lines().count() as u64,
        total + 1,
        "a header and every user"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the export is private");
    }
}

#[test]
fn a_page_that_fails_says_so_keeps_its_placeholders_and_retry_fetches_it() {
    let env = Env::new();
    let mut h = paged_app(&env);
    step_until(
        &mut h,
        "the first rows",
        all_rows_drawn,
        Duration::from_secs(30),
    );

    env.sb.set_fault(FaultRule {
        method: Some("GET".to_owned()),
        path_contains: "/users".to_owned(),
        fault: Fault::Malformed,
        times: None,
    });
    wheel(&mut h, -1.0e7);
    step_until_label_contains(&mut h, "Some users could not be loaded");
    h.run_steps(5);
    assert!(
        h.state().tabs.users.drawn_rows().placeholders > 0,
        "the rows that failed stay placeholders, never blank"
    );
    assert!(
        h.query_all_by_label("Not loaded (see above)")
            .next()
            .is_some(),
        "a row whose page failed says so"
    );

    env.sb.clear_faults();
    h.get_by_label("Retry").click();
    step_until(
        &mut h,
        "the rows after Retry",
        all_rows_drawn,
        Duration::from_secs(30),
    );
    assert!(
        h.query_by_label_contains("Some users could not be loaded")
            .is_none()
    );
}

#[test]
fn a_search_that_failed_is_retried_and_a_refresh_keeps_asking_the_server() {
    let env = Env::new();
    let mut h = paged_app(&env);
    step_until(
        &mut h,
        "the first rows",
        all_rows_drawn,
        Duration::from_secs(30),
    );
    let (total, _) = listing(&env, 0);
    let matched = format!(
        "{} of all {} users match (searched on the server)",
        thousands(search_total(&env, "user-00023")),
        thousands(total)
    );

    // The server fails the search: it says so, and Retry asks again.
    env.sb.set_fault(FaultRule {
        method: Some("GET".to_owned()),
        path_contains: "/users".to_owned(),
        fault: Fault::Malformed,
        times: None,
    });
    h.get_by_label("Search users").click();
    h.step();
    h.get_by_label("Search users").type_text("user-00023");
    step_until_label_contains(&mut h, "Some users could not be loaded");
    step_until_label_contains(&mut h, "The search of all");
    env.sb.clear_faults();
    h.get_by_label("Retry").click();
    step_until_label_contains(&mut h, &matched);
    step_until(
        &mut h,
        "the matches drawn",
        all_rows_drawn,
        Duration::from_secs(30),
    );
    assert!(h.query_by_label("user-0002300").is_some());

    // F5 with the search still typed: the server is asked again, never left spinning.
    h.key_press(Key::F5);
    h.run_steps(2);
    step_until_label_contains(&mut h, &matched);
    step_until(
        &mut h,
        "the matches drawn again",
        all_rows_drawn,
        Duration::from_secs(30),
    );
}
