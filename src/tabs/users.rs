//! Users & tokens: find a user and issue or revoke an auth token (issue 4 fills this in).

use egui::Ui;

use crate::app::{Command, TabContext};

#[derive(Default)]
pub struct UsersTab {}

impl UsersTab {
    pub fn ui(&mut self, ui: &mut Ui, cx: &mut TabContext<'_>) -> Vec<Command> {
        let subtitle = cx.connection.map(|c| c.label.as_str()).unwrap_or("");
        super::header_ui(ui, "Users & tokens", subtitle, |_| {});
        super::empty_state_ui(
            ui,
            "Users and auth tokens",
            "This tab will list the app's users, and create, deactivate and delete them, and issue and revoke their auth tokens.",
            None,
        );
        Vec::new()
    }
}
