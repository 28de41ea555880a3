//! The one shared helper of the UI tests: [`step_until`] for work that finishes in the
//! background, [`click`], [`type_into`] and [`settle`] by label, and [`tab_harness`], which
//! runs one tab with an in-memory core ([`keydeck::ui::testing`]): no sandbox, no shell.
//!
//! Every helper takes any harness, the whole app's (`tests/ui_common`, `tests/users_common`)
//! or one tab's.
#![allow(dead_code)]

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use keydeck::ui::context::TabView;
use keydeck::ui::testing::{TabFixture, TabUnderTest};

/// One runtime for the tab tests of a test binary, started on first use: a tab runs its
/// requests on it (there are none without a client, but a tab may still spawn).
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime")
    })
}

/// A fixture with no connection yet, on the shared runtime.
pub fn fixture() -> TabFixture {
    TabFixture::new(runtime().handle().clone())
}

/// `tab` alone in a harness, with `fixture` as its shell, after its first frames.
pub fn tab_harness<T: TabView + 'static>(
    tab: T,
    fixture: TabFixture,
) -> Harness<'static, TabUnderTest<T>> {
    let mut h = Harness::builder()
        .with_size(egui::vec2(1100.0, 760.0))
        .build_ui_state(
            |ui, state: &mut TabUnderTest<T>| state.ui(ui),
            TabUnderTest::new(tab, fixture),
        );
    settle(&mut h);
    h
}

/// Steps the UI until `done` holds, sleeping between frames so that background work (network
/// tasks, keychain and config writes) can finish; fails naming `description` after `timeout`.
#[track_caller]
pub fn step_until<'a, S>(
    h: &mut Harness<'a, S>,
    description: &str,
    mut done: impl FnMut(&Harness<'a, S>) -> bool,
    timeout: Duration,
) {
    let start = Instant::now();
    h.step();
    while !done(h) {
        if start.elapsed() > timeout {
            panic!("timed out after {timeout:?} waiting until {description}");
        }
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    // One more frame so that what the last result triggered is drawn.
    h.step();
}

/// Runs a few frames: a click or a key press takes effect one frame after it is sent, and
/// what it opens is in the tree one frame later.
pub fn settle<S>(h: &mut Harness<'_, S>) {
    for _ in 0..3 {
        h.step();
    }
}

/// Clicks a widget by its label, after moving the pointer away so that no tooltip from the
/// previous click lies over it (a real user moves the mouse first, too).
pub fn click<S>(h: &mut Harness<'_, S>, label: &str) {
    h.remove_cursor();
    settle(h);
    h.get_by_label(label).click();
    settle(h);
}

/// Focuses the text field with this accessible name and types into it.
pub fn type_into<S>(h: &mut Harness<'_, S>, field: &str, text: &str) {
    use egui::accesskit::Role;
    // Secret fields are password inputs while masked.
    let role = if h.query_by_role_and_label(Role::TextInput, field).is_some() {
        Role::TextInput
    } else {
        Role::PasswordInput
    };
    h.get_by_role_and_label(role, field).focus();
    settle(h);
    h.get_by_role_and_label(role, field).type_text(text);
    settle(h);
}
