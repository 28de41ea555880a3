//! One module per tab. Each tab is a struct that owns its UI state, its own commands and its
//! requests, and implements [`TabView`]: the shell iterates [`Tabs`] and never names a tab's
//! own types. A tab draws with a [`TabContext`] and returns the [`Command`]s that cross tabs (see `crate::ui::context::TabContext`).

pub mod ably_keys;
pub mod activity;
pub mod apps;
pub mod connection_profiles;
pub mod connections;
pub mod hygiene;
pub mod keys;
pub mod users;

use egui::{RichText, Ui};

use crate::ui::context::{Command, Tab, TabContext, TabView};
use crate::ui::theme;

/// Every tab, one field each. Adding a tab: its module, a field here, a line in
/// [`Tabs::all_mut`], and its [`Tab`] id.
#[derive(Default)]
pub struct Tabs {
    pub keys: keys::KeysTab,
    pub users: users::UsersTab,
    pub apps: apps::AppsTab,
    pub connections: connections::ConnectionsTab,
    pub hygiene: hygiene::HygieneTab,
}

impl Tabs {
    /// The tabs in the order of [`Tab::ALL`].
    pub fn all_mut(&mut self) -> [&mut dyn TabView; 5] {
        [
            &mut self.keys,
            &mut self.users,
            &mut self.apps,
            &mut self.connections,
            &mut self.hygiene,
        ]
    }

    pub fn get_mut(&mut self, tab: Tab) -> &mut dyn TabView {
        match tab {
            Tab::Keys => &mut self.keys,
            Tab::Users => &mut self.users,
            Tab::Apps => &mut self.apps,
            Tab::Connections => &mut self.connections,
            Tab::Hygiene => &mut self.hygiene,
        }
    }

    /// Whether any tab has a dialog open (global shortcuts are not read then).
    pub fn any_dialog(&mut self) -> bool {
        self.all_mut().iter().any(|t| t.has_dialog())
    }
}

/// The heading row of a tab: a title, a muted subtitle, and room on the right for actions.
/// The subtitle has a line of its own under the title, so a long one never runs under the
/// actions.
pub fn header_ui(ui: &mut Ui, title: &str, subtitle: &str, right: impl FnOnce(&mut Ui)) {
    ui.horizontal(|ui| {
        ui.label(RichText::new(title).heading().strong());
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), right);
    });
    if !subtitle.is_empty() {
        crate::ui::widgets::muted(ui, subtitle);
    }
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

/// A tab's subtitle for its connection: the label, and for a CometChat app its id and region.
pub fn connection_subtitle(conn: &crate::config::Connection) -> String {
    match &conn.kind {
        crate::config::ConnectionKind::CometChatApp { app_id, region } => {
            format!("{} · app {app_id} · region {region}", conn.label)
        }
        _ => conn.label.clone(),
    }
}

/// A tab with no active connection: while the keychain opens or the sandbox starts (the
/// first run's connections come then), a spinner that says so; otherwise "No connection yet"
/// and a way to the Connections tab. `title` heads the tab, `body` says what to add.
pub fn no_connection_ui(
    ui: &mut Ui,
    cx: &TabContext<'_>,
    title: &str,
    body: &str,
    out: &mut Vec<Command>,
) {
    header_ui(ui, title, "", |_| {});
    if let Err(problem) = cx.client
        && problem.is_transient()
    {
        ui.horizontal(|ui| {
            ui.spinner();
            crate::ui::widgets::muted(ui, problem.message());
        });
        return;
    }
    if empty_state_ui(ui, "No connection yet", body, Some("Open connections")) {
        out.push(Command::SelectTab(Tab::Connections));
    }
}

/// A tab that works on an app, opened on another kind of connection: why, and a way to the
/// Apps tab. `what` names the tab's subject ("API keys"), `where_to` ends the sentence.
pub fn needs_an_app_ui(
    ui: &mut Ui,
    what: &str,
    kind: &str,
    where_to: &str,
    out: &mut Vec<Command>,
) {
    if empty_state_ui(
        ui,
        &format!("{what} belong to an app"),
        &format!("This is a {kind} connection. {where_to}"),
        Some("Open apps"),
    ) {
        out.push(Command::SelectTab(Tab::Apps));
    }
}

/// Why the active connection has no client yet: a spinner while secrets load or the sandbox
/// starts, otherwise the problem with a way to fix it.
pub fn client_problem_ui(
    ui: &mut Ui,
    problem: &crate::core::client::ClientProblem,
    connection_id: &str,
    out: &mut Vec<Command>,
) {
    if problem.is_transient() {
        ui.horizontal(|ui| {
            ui.spinner();
            crate::ui::widgets::muted(ui, problem.message());
        });
    } else if crate::ui::widgets::message(
        ui,
        theme::Tone::Error,
        "This connection cannot be used yet",
        &problem.message(),
        &["Edit connection…"],
    )
    .is_some()
    {
        out.push(Command::EditConnection(connection_id.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tabs_are_listed_in_the_order_of_the_top_bar_and_found_by_id() {
        let mut tabs = Tabs::default();
        let ids: Vec<Tab> = tabs.all_mut().iter().map(|t| t.id()).collect();
        assert_eq!(ids, Tab::ALL);
        for tab in Tab::ALL {
            assert_eq!(tabs.get_mut(tab).id(), tab);
        }
    }
}
