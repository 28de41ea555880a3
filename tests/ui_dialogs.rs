//! Every dialog of a CometChat app connection, opened at the minimum window size and at
//! 1400×900 (light and dark): its primary button and its way out lie wholly inside the window,
//! by their AccessKit bounds. (The Ably dialogs are checked in `ui_ably.rs`, the key-created and
//! rotation results in `ui_keys.rs`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

mod support;
mod ui_common;

use std::time::Duration;

use eframe::egui;
use egui_kittest::kittest::Queryable;
use keydeck::config::Environment;
use keydeck::providers::cometchat::{NewAuthToken, NewUser, Scope};
use keydeck::ui::Tab;
use keydeck::ui::shell::MIN_WINDOW_SIZE;
use ui_common::{Fixture, KeyChoice, click, fixture_sized, inside_window, row, step_until};

const WAIT: Duration = Duration::from_secs(10);

fn sizes() -> [egui::Vec2; 2] {
    [
        egui::vec2(MIN_WINDOW_SIZE[0], MIN_WINDOW_SIZE[1]),
        egui::vec2(1400.0, 900.0),
    ]
}

/// Waits for `primary` to show, then checks it and `cancel` are inside the window, then leaves
/// through `cancel`.
fn check(f: &mut Fixture, what: &str, primary: &str, cancel: &str, size: egui::Vec2) {
    step_until(
        &mut f.harness,
        &format!("{what}: “{primary}” shows"),
        |h| h.query_by_label(primary).is_some(),
        WAIT,
    );
    ui_common::settle(&mut f.harness);
    for label in [primary, cancel] {
        if let Err(e) = inside_window(&f.harness, label, size) {
            panic!("{what} ({}): {e}", theme_name(f));
        }
    }
    click(&mut f.harness, cancel);
    step_until(
        &mut f.harness,
        &format!("{what} closes"),
        |h| h.query_by_label(primary).is_none(),
        WAIT,
    );
}

/// Selects `tab` from the top bar (or its overflow menu at the smallest sizes).
fn select(f: &mut Fixture, tab: Tab) {
    let h = &mut f.harness;
    h.remove_cursor();
    ui_common::settle(h);
    let in_bar = h
        .query_all_by_label(tab.title())
        .find(|n| n.rect().top() < 48.0)
        .map(|n| n.rect().center());
    match in_bar {
        Some(_) => {
            h.query_all_by_label(tab.title())
                .find(|n| n.rect().top() < 48.0)
                .expect("the tab in the bar")
                .click();
            ui_common::settle(h);
        }
        None => {
            click(h, "More tabs");
            click(h, tab.title());
        }
    }
    assert_eq!(h.state().selected_tab(), tab);
}

/// Scrolls the widget labelled `label` into view and presses it.
fn reach(f: &mut Fixture, label: &str) {
    f.harness.get_by_label(label).scroll_to_me();
    ui_common::settle(&mut f.harness);
    f.harness.get_by_label(label).click_accesskit();
    ui_common::settle(&mut f.harness);
}

fn theme_name(f: &Fixture) -> &'static str {
    if f.harness.ctx.theme() == egui::Theme::Dark {
        "dark"
    } else {
        "light"
    }
}

fn keys_dialogs(f: &mut Fixture, size: egui::Vec2) {
    select(f, Tab::Keys);
    f.wait_for_key("spare");
    let spare = f.server_key("spare").expect("spare key");
    click(&mut f.harness, "New API key…");
    check(f, "New API key", "Create key", "Cancel", size);
    click(&mut f.harness, &format!("Rotate {}", row(&spare)));
    check(f, "Rotate", "Create replacement", "Cancel", size);
    click(&mut f.harness, &format!("Delete {}", row(&spare)));
    check(f, "Delete key", "Delete key spare", "Cancel", size);
}

fn users_dialogs(f: &mut Fixture, token: &keydeck::secret::Secret, size: egui::Vec2) {
    select(f, Tab::Users);
    click(&mut f.harness, "New user…");
    check(f, "New user", "Create user", "Cancel", size);
    step_until(
        &mut f.harness,
        "the user is listed",
        |h| h.query_by_label("Dana Dialogs").is_some(),
        WAIT,
    );
    click(&mut f.harness, "Dana Dialogs");
    step_until(
        &mut f.harness,
        "the user's tokens are listed",
        |h| h.query_by_label("Auth tokens (1)").is_some(),
        WAIT,
    );
    click(&mut f.harness, "Edit…");
    check(f, "Edit user", "Save changes", "Cancel", size);
    click(&mut f.harness, "Revoke all…");
    check(f, "Revoke all", "Revoke 1 token of dana", "Cancel", size);
    let token = format!("auth token {}", token.masked());
    click(&mut f.harness, &format!("Revoke {token}…"));
    check(
        f,
        "Revoke one token",
        &format!("Revoke {token}"),
        "Cancel",
        size,
    );
    // Far down the detail pane at the smallest size: pressed as a keyboard user would, after
    // scrolling to it.
    reach(f, "Deactivate user…");
    check(f, "Deactivate", "Deactivate user dana", "Cancel", size);
    reach(f, "Delete user dana permanently…");
    check(f, "Delete user", "Delete user dana", "Cancel", size);
}

fn connections_dialogs(f: &mut Fixture, size: egui::Vec2) {
    select(f, Tab::Connections);
    // The header's actions fit the window too.
    for label in [
        "New CometChat app…",
        "Other providers",
        "Import…",
        "Export…",
    ] {
        inside_window(&f.harness, label, size).unwrap();
    }
    click(&mut f.harness, "New CometChat app…");
    check(f, "New connection", "Save", "Cancel", size);
    click(&mut f.harness, "Edit Test app");
    check(f, "Edit connection", "Save", "Cancel", size);
    click(&mut f.harness, "Remove Test app");
    check(
        f,
        "Remove connection",
        "Remove connection Test app",
        "Cancel",
        size,
    );
}

#[test]
fn every_dialog_keeps_its_buttons_inside_the_window_at_the_minimum_size_and_at_1400x900() {
    for size in sizes() {
        for dark in [false, true] {
            let mut f = fixture_sized(KeyChoice::FullAccess, Environment::Dev, size);
            f.harness.ctx.set_theme(if dark {
                egui::Theme::Dark
            } else {
                egui::Theme::Light
            });
            f.create_key("spare", Scope::AuthOnly);
            let admin = f.admin();
            let token =
                f.rt.block_on(async {
                    admin
                        .create_user(&NewUser {
                            uid: "dana".to_owned(),
                            name: "Dana Dialogs".to_owned(),
                            ..NewUser::default()
                        })
                        .await?;
                    admin
                        .create_auth_token("dana", &NewAuthToken::default())
                        .await
                })
                .expect("user and token")
                .auth_token;
            f.wait_for_keys();
            keys_dialogs(&mut f, size);
            users_dialogs(&mut f, &token, size);
            connections_dialogs(&mut f, size);

            // The Activity window: below the top bar, its close button and exports inside.
            click(&mut f.harness, "Activity…");
            step_until(
                &mut f.harness,
                "the Activity window opens",
                |h| h.query_by_label("Export CSV…").is_some(),
                WAIT,
            );
            ui_common::settle(&mut f.harness);
            for label in ["Export CSV…", "Export JSON lines…"] {
                inside_window(&f.harness, label, size).unwrap();
            }
            let top_bar = f.harness.get_by_label("Activity…").rect();
            let export = f.harness.get_by_label("Export CSV…").rect();
            assert!(
                export.top() > top_bar.bottom(),
                "the Activity window stays below the top bar at {size:?}"
            );
        }
    }
}
