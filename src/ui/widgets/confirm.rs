//! A dialog that asks before something is destroyed, names what it destroys, and can require
//! the name to be typed first.

use egui::RichText;

use crate::ui::theme;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfirmOutcome {
    Open,
    Confirmed,
    Cancelled,
}

/// Ask-first dialog state. Drawn with [`ConfirmDialog::ui`] every frame while it is open.
#[derive(Clone, Debug)]
pub struct ConfirmDialog {
    pub title: String,
    pub body: String,
    /// The destructive button's text, naming what it destroys ("Delete key ci-bot").
    pub confirm_label: String,
    /// When set, the button stays disabled until exactly this is typed.
    pub typed_name: Option<String>,
    typed: String,
    /// Shown under the body while the action runs or after it failed.
    pub busy: bool,
    pub error: Option<String>,
}

impl ConfirmDialog {
    pub fn new(
        title: impl Into<String>,
        body: impl Into<String>,
        confirm_label: impl Into<String>,
    ) -> Self {
        Self {
            title: title.into(),
            body: body.into(),
            confirm_label: confirm_label.into(),
            typed_name: None,
            typed: String::new(),
            busy: false,
            error: None,
        }
    }

    pub fn with_typed_name(mut self, name: impl Into<String>) -> Self {
        self.typed_name = Some(name.into());
        self
    }

    /// Asks what the operation's guard says it must (`core::ops`): the name typed first when
    /// it says so.
    pub fn guarded(self, guard: &crate::core::ops::Guard) -> Self {
        match guard.typed_name() {
            Some(name) => self.with_typed_name(name),
            None => self,
        }
    }

    fn ready(&self) -> bool {
        !self.busy
            && self
                .typed_name
                .as_ref()
                .is_none_or(|n| self.typed.trim() == n.as_str())
    }

    pub fn ui(&mut self, ctx: &egui::Context) -> ConfirmOutcome {
        let mut outcome = ConfirmOutcome::Open;
        let modal = super::dialog(
            ctx,
            egui::Id::unique(("keydeck-confirm", &self.title)),
            |ui| {
                ui.set_width(420.0);
                ui.heading(&self.title);
                ui.add_space(theme::SPACE_S);
                ui.add(egui::Label::new(&self.body).wrap());
                if let Some(name) = &self.typed_name {
                    ui.add_space(theme::SPACE_S);
                    let label = format!("Type {name} to confirm");
                    let label_id = ui.label(RichText::new(&label).strong()).id;
                    let r = ui
                        .add(
                            egui::TextEdit::singleline(&mut self.typed)
                                .hint_text(name.as_str())
                                .desired_width(f32::INFINITY),
                        )
                        .labelled_by(label_id);
                    crate::ui::widgets::name_widget(ui, &r, &label);
                    if r.lost_focus()
                        && ui.input(|i| i.key_pressed(egui::Key::Enter))
                        && self.ready()
                    {
                        outcome = ConfirmOutcome::Confirmed;
                    }
                }
                if let Some(e) = &self.error {
                    ui.add_space(theme::SPACE_S);
                    crate::ui::widgets::field_error(ui, e);
                }
                ui.add_space(theme::SPACE_M);
                ui.horizontal(|ui| {
                    let dark = ui.visuals().dark_mode;
                    let danger = theme::tone(theme::Tone::Error, dark).fg;
                    let button = egui::Button::new(
                        RichText::new(&self.confirm_label).color(egui::Color32::WHITE),
                    )
                    .fill(danger);
                    if ui.add_enabled(self.ready(), button).clicked() {
                        outcome = ConfirmOutcome::Confirmed;
                    }
                    if ui.button("Cancel").clicked() {
                        outcome = ConfirmOutcome::Cancelled;
                    }
                    if self.busy {
                        ui.spinner();
                    }
                });
            },
        );
        if modal.should_close() && outcome == ConfirmOutcome::Open {
            outcome = ConfirmOutcome::Cancelled;
        }
        outcome
    }
}
