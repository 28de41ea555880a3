//! Apps: the apps of a CometChat Management connection (issue 4 fills this in).

use egui::Ui;

use crate::app::{Command, TabContext};

#[derive(Default)]
pub struct AppsTab {}

impl AppsTab {
    pub fn ui(&mut self, ui: &mut Ui, cx: &mut TabContext<'_>) -> Vec<Command> {
        let subtitle = cx.connection.map(|c| c.label.as_str()).unwrap_or("");
        super::header_ui(ui, "Apps", subtitle, |_| {});
        super::empty_state_ui(
            ui,
            "Apps of a management connection",
            "This tab will list the apps a CometChat Management credential can see, and create and delete them.",
            None,
        );
        Vec::new()
    }
}
