//! The Users tab at 1,000,000 users, beside the same at 100 users in the same run: the first
//! screenful, a search on the server, jumps with the scroll bar and frame time while scrolling.
//! The whole app runs headless (`frames::Headless`) against a sandbox over loopback; times are
//! wall-clock from the input to the frame that paints the rows (network included), frame
//! time is the UI thread's CPU time.

use std::time::Duration;

use keydeck::sandbox::{Sandbox, SandboxOptions};

use super::frames::Headless;
use super::{RUNS, Row, median, pass};

const SMALL: u64 = 100;
/// Rows of a first screenful at 1400×900 (fewer than fit, so that the figure does not depend
/// on the exact row height).
const SCREENFUL: usize = 20;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Median wall time to the first screenful, each run a new app.
fn first_screen(rt: &tokio::runtime::Runtime, sb: &Sandbox, rows: usize) -> f64 {
    median(
        (0..RUNS)
            .map(|_| ms(Headless::new(rt.handle(), sb).first_screen(rows)))
            .collect(),
    )
}

/// Median frame time while scrolling, per run, then the median of the runs.
fn frame_time(ui: &mut Headless) -> f64 {
    let mut medians = Vec::new();
    for _ in 0..RUNS {
        let (times, scrolled) = ui.scroll(240);
        assert!(scrolled, "scrolling changed nothing on screen");
        medians.push(median(
            times.iter().map(|t| t.as_secs_f64() * 1e3).collect(),
        ));
    }
    median(medians)
}

/// The rows: `million` is a sandbox already seeded with 1,000,000 users.
pub fn rows(rt: &tokio::runtime::Runtime, million: &Sandbox) -> Vec<Row> {
    let small = rt
        .block_on(Sandbox::start(SandboxOptions {
            port: 0,
            data: None,
            seed_demo_users: false,
        }))
        .expect("sandbox");
    let app_id = small.info().cometchat.apps[0].app_id.clone();
    small.set_rate_limit(&app_id, None);
    rt.block_on(small.seed_users(None, SMALL)).expect("seeded");

    let small_first = first_screen(rt, &small, SCREENFUL);
    let big_first = first_screen(rt, million, SCREENFUL);
    let mut small_ui = Headless::new(rt.handle(), &small);
    small_ui.settle();
    let small_frame = frame_time(&mut small_ui);
    drop(small_ui);

    let mut ui = Headless::new(rt.handle(), million);
    ui.settle();
    let total = ui
        .app
        .tabs
        .users
        .paged_total()
        .expect("a million users are paged");
    assert!(total >= 990_000, "{total} users");
    let big_frame = frame_time(&mut ui);

    // Searches: a uid (one match) and a name prefix, pasted; then back to the whole list.
    ui.focus_search();
    let mut by_uid = Vec::new();
    let mut by_name = Vec::new();
    for i in 0..RUNS {
        let uid = format!("user-{:07}", 123_457 + i * 98_765);
        by_uid.push(ms(ui.paste_search(&uid, |n| n == 1)));
        ui.clear_search();
        by_name.push(ms(ui.paste_search("alice ch", |n| n > 0)));
        ui.clear_search();
    }
    let (by_uid, by_name) = (median(by_uid), median(by_name));

    // Jumps with the scroll bar, from the top each time.
    let mut jumps = Vec::new();
    let mut blank = false;
    for fraction in [0.5, 0.9] {
        for _ in 0..RUNS {
            let (t, b) = ui.jump(fraction);
            jumps.push((fraction, ms(t)));
            blank |= b;
            ui.jump(0.0);
        }
    }
    let jump = |f: f32| {
        median(
            jumps
                .iter()
                .filter(|(g, _)| *g == f)
                .map(|(_, t)| *t)
                .collect(),
        )
    };
    let (j50, j90) = (jump(0.5), jump(0.9));
    let held = ui.app.tabs.users.paged_pages_held().unwrap_or(0);
    drop(ui);
    rt.block_on(small.shutdown());

    let first_ratio = big_first / small_first;
    let frame_ratio = big_frame / small_frame;
    vec![
        Row {
            figure: "Users tab opened → first screenful painted (1,000,000 users, paged)".into(),
            value: format!("{big_first:.1} ms"),
            reference: format!("100 users: {small_first:.1} ms"),
            target: "≤ 250 ms; ≤ 1.2 × 100 users".into(),
            verdict: format!(
                "{first_ratio:.2}× → {}",
                pass(big_first <= 250.0 && first_ratio <= 1.2)
            ),
        },
        Row {
            figure: "search pasted → matches painted, 1,000,000 users (server `searchKey`)".into(),
            value: format!("uid: {by_uid:.1} ms · name prefix “alice ch”: {by_name:.1} ms"),
            reference: "—".into(),
            target: "≤ 200 ms".into(),
            verdict: pass(by_uid.max(by_name) <= 200.0).into(),
        },
        Row {
            figure: "scroll bar jump → rows painted, 1,000,000 users".into(),
            value: format!(
                "to 50 %: {j50:.1} ms · to 90 %: {j90:.1} ms; {}",
                if blank {
                    "a blank frame was seen"
                } else {
                    "placeholders meanwhile, no blank frame"
                }
            ),
            reference: format!("pages held afterwards: {held} (bound 200 + 50)"),
            target: "≤ 300 ms, no blank frame".into(),
            verdict: pass(j50.max(j90) <= 300.0 && !blank).into(),
        },
        Row {
            figure: "frame time scrolling, 1,000,000 users (UI pass + tessellation, CPU)".into(),
            value: format!("{big_frame:.2} ms"),
            reference: format!("100 users: {small_frame:.2} ms"),
            target: "≤ 1.0 ms; ≤ 1.3 × 100 users".into(),
            verdict: format!(
                "{frame_ratio:.2}× → {}",
                pass(big_frame <= 1.0 && frame_ratio <= 1.3)
            ),
        },
    ]
}
