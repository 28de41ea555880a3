//! The window at its smallest: the top bar keeps every tab reachable by label, inside the
//! window and clear of the controls on its right.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

mod support;
mod ui_common;

use eframe::egui;
use egui_kittest::kittest::Queryable;
use keydeck::config::Environment;
use keydeck::ui::Tab;
use keydeck::ui::shell::MIN_WINDOW_SIZE;
use ui_common::{KeyChoice, click, fixture_sized, inside_window};

/// How far down the top bar reaches, in points: a tab title below it is a heading of the page.
const TOP_BAR_BOTTOM: f32 = 48.0;

/// The rect of the tab labelled `title` in the top bar, when the bar shows it.
fn bar_tab(
    h: &egui_kittest::Harness<'static, keydeck::ui::KeydeckApp>,
    title: &str,
) -> Option<egui::Rect> {
    h.query_all_by_label(title)
        .map(|n| n.rect())
        .find(|r| r.top() < TOP_BAR_BOTTOM)
}

/// Selects `tab` by its label, from the bar or from its overflow menu.
fn select(f: &mut ui_common::Fixture, tab: Tab) {
    let h = &mut f.harness;
    h.remove_cursor();
    ui_common::settle(h);
    if bar_tab(h, tab.title()).is_none() {
        click(h, "More tabs");
        click(h, tab.title());
        return;
    }
    h.query_all_by_label(tab.title())
        .find(|n| n.rect().top() < TOP_BAR_BOTTOM)
        .expect("the tab in the bar")
        .click();
    ui_common::settle(h);
}

#[test]
fn every_tab_is_reachable_by_label_at_1024x700_and_at_the_minimum_window_size() {
    let min = egui::vec2(MIN_WINDOW_SIZE[0], MIN_WINDOW_SIZE[1]);
    assert!(
        min.x <= 960.0 && min.y <= 600.0,
        "the minimum is at most 960×600"
    );
    for size in [egui::vec2(1024.0, 700.0), min] {
        let mut f = fixture_sized(KeyChoice::FullAccess, Environment::Dev, size);
        f.wait_for_keys();
        // The right-hand controls are in the window, and so is every tab shown in the bar.
        for label in ["Connection", "Settings", "Activity…"] {
            inside_window(&f.harness, label, size).unwrap();
        }
        let switcher = f.harness.get_by_label("Connection").rect();
        let window = egui::Rect::from_min_size(egui::Pos2::ZERO, size);
        for tab in Tab::ALL {
            if let Some(r) = bar_tab(&f.harness, tab.title()) {
                assert!(
                    window.contains_rect(r),
                    "{} at {r:?} is outside {size:?}",
                    tab.title()
                );
                assert!(
                    r.right() <= switcher.left(),
                    "{} at {r:?} runs into the connection switcher at {switcher:?} ({size:?})",
                    tab.title()
                );
            }
        }
        // Each tab can be selected, in any order, and back.
        for tab in [
            Tab::Connections,
            Tab::Apps,
            Tab::Users,
            Tab::Keys,
            Tab::Apps,
        ] {
            select(&mut f, tab);
            assert_eq!(
                f.harness.state().selected_tab(),
                tab,
                "{} is reachable at {size:?}",
                tab.title()
            );
            let r = bar_tab(&f.harness, tab.title()).expect("the selected tab is in the bar");
            assert!(
                window.contains_rect(r),
                "{} at {r:?} is outside {size:?}",
                tab.title()
            );
        }
    }
}
