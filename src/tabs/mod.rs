//! One module per tab. Each tab is a struct that owns its UI state; its `ui()` draws with a
//! [`crate::app::TabContext`] and returns the [`crate::app::Command`]s it wants performed.

pub mod ably_keys;
pub mod activity;
pub mod apps;
pub mod connections;
pub mod keys;
pub mod users;

use egui::{RichText, Ui};

use crate::app::theme;

/// The heading row of a tab: a title, a muted subtitle, and room on the right for actions.
pub fn header_ui(ui: &mut Ui, title: &str, subtitle: &str, right: impl FnOnce(&mut Ui)) {
    ui.horizontal(|ui| {
        ui.vertical(|ui| {
            ui.label(RichText::new(title).heading().strong());
            if !subtitle.is_empty() {
                crate::widgets::muted(ui, subtitle);
            }
        });
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), right);
    });
    ui.add_space(theme::SPACE_M);
}

/// A centred card for empty and waiting states, with an optional action; true when clicked.
pub fn empty_state_ui(ui: &mut Ui, title: &str, body: &str, action: Option<&str>) -> bool {
    let mut clicked = false;
    ui.add_space(theme::SPACE_L);
    ui.vertical_centered(|ui| {
        theme::card_frame(ui.visuals()).show(ui, |ui| {
            ui.set_max_width(460.0);
            ui.vertical_centered(|ui| {
                ui.label(RichText::new(title).strong().size(15.0));
                ui.add_space(theme::SPACE_XS);
                ui.add(
                    egui::Label::new(
                        RichText::new(body).color(theme::muted(ui.visuals().dark_mode)),
                    )
                    .wrap(),
                );
                if let Some(a) = action {
                    ui.add_space(theme::SPACE_S);
                    clicked = ui.button(a).clicked();
                }
            });
        });
    });
    clicked
}

/// A tab that works on an app, opened on another kind of connection: why, and a way to the
/// Apps tab. `what` names the tab's subject ("API keys"), `where_to` ends the sentence.
pub fn needs_an_app_ui(
    ui: &mut Ui,
    what: &str,
    kind: &str,
    where_to: &str,
    out: &mut Vec<crate::app::Command>,
) {
    if empty_state_ui(
        ui,
        &format!("{what} belong to an app"),
        &format!("This is a {kind} connection. {where_to}"),
        Some("Open apps"),
    ) {
        out.push(crate::app::Command::SelectTab(crate::app::Tab::Apps));
    }
}

/// Why the active connection has no client yet: a spinner while secrets load or the sandbox
/// starts, otherwise the problem with a way to fix it.
pub fn client_problem_ui(
    ui: &mut Ui,
    problem: &crate::app::ClientProblem,
    connection_id: &str,
    out: &mut Vec<crate::app::Command>,
) {
    if problem.is_transient() {
        ui.horizontal(|ui| {
            ui.spinner();
            crate::widgets::muted(ui, problem.message());
        });
    } else if crate::widgets::message(
        ui,
        theme::Tone::Error,
        "This connection cannot be used yet",
        &problem.message(),
        &["Edit connection…"],
    )
    .is_some()
    {
        out.push(crate::app::Command::EditConnection(
            connection_id.to_owned(),
        ));
    }
}
