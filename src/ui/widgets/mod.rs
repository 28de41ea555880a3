//! Small widgets shared by the tabs: badges, secret display and input, form fields with their
//! error underneath, confirm dialogs.

use egui::{Response, RichText, Ui};

use crate::config::Environment;
use crate::providers::cometchat::Scope;
use crate::secret::Secret;
use crate::ui::theme::{self, BadgeColours};

pub mod capability_editor;
pub mod confirm;

pub use confirm::{ConfirmDialog, ConfirmOutcome};

/// A small rounded label in the given colours. Painted at its own size, so that it stays a
/// pill inside a tall table row.
pub fn badge(ui: &mut Ui, text: &str, colours: BadgeColours) -> Response {
    let galley = ui.painter().layout_no_wrap(
        text.to_owned(),
        egui::FontId::proportional(11.5),
        colours.fg,
    );
    let padding = egui::vec2(7.0, 2.0);
    let (rect, response) =
        ui.allocate_exact_size(galley.size() + 2.0 * padding, egui::Sense::hover());
    if ui.is_rect_visible(rect) {
        ui.painter()
            .rect_filled(rect, egui::CornerRadius::same(9), colours.bg);
        ui.painter().galley(rect.min + padding, galley, colours.fg);
    }
    let label = text.to_owned();
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, &label));
    response
}

pub fn scope_badge(ui: &mut Ui, scope: Scope) -> Response {
    let dark = ui.visuals().dark_mode;
    badge(ui, scope.as_str(), theme::scope(scope, dark))
}

pub fn environment_badge(ui: &mut Ui, env: Environment) -> Response {
    let dark = ui.visuals().dark_mode;
    badge(ui, env.name(), theme::environment(env, dark))
}

/// A small frameless button with a short text, whose accessible name (also shown on hover)
/// says what it acts on ("Reveal key ci-bot").
pub fn icon_button(ui: &mut Ui, icon: &str, name: &str) -> Response {
    let dark = ui.visuals().dark_mode;
    let response =
        ui.add(egui::Button::new(RichText::new(icon).color(theme::accent(dark))).frame(false));
    let label = name.to_owned();
    ui.ctx()
        .accesskit_node_builder(response.id, |node| node.set_label(label));
    response.on_hover_text(name)
}

/// Gives a widget its accessible name (what a screen reader says, what tests click by).
pub fn name_widget(ui: &Ui, response: &Response, name: &str) {
    let name = name.to_owned();
    ui.ctx()
        .accesskit_node_builder(response.id, |node| node.set_label(name));
}

/// What the user did with a [`secret_value`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretAction {
    None,
    Copy,
    /// The value was just revealed (for the audit trail).
    Revealed,
}

fn presentation_id() -> egui::Id {
    egui::Id::unique("keydeck-presentation-mode")
}

/// Turns presentation mode on or off for every secret widget: the app sets it each frame.
pub fn set_presentation_mode(ctx: &egui::Context, on: bool) {
    ctx.data_mut(|d| d.insert_temp(presentation_id(), on));
}

/// In presentation mode (screen sharing, demos) every secret shows only its mask and cannot
/// be revealed.
pub fn presentation_mode(ctx: &egui::Context) -> bool {
    ctx.data(|d| d.get_temp(presentation_id()).unwrap_or(false))
}

/// A secret shown masked, with a reveal toggle and a copy button. `name` says whose secret it
/// is, for the buttons' accessible names ("Reveal key ci-bot").
pub fn secret_value(ui: &mut Ui, secret: &Secret, revealed: &mut bool, name: &str) -> SecretAction {
    let mut action = SecretAction::None;
    let presenting = presentation_mode(ui.ctx());
    if presenting {
        *revealed = false;
    }
    // Right to left: the buttons keep their place and a long revealed value wraps beside them.
    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
        ui.spacing_mut().item_spacing.x = 6.0;
        if icon_button(ui, "Copy", &format!("Copy {name}")).clicked() {
            action = SecretAction::Copy;
        }
        if !presenting {
            let (text, verb) = if *revealed {
                ("Hide", "Hide")
            } else {
                ("Show", "Reveal")
            };
            if icon_button(ui, text, &format!("{verb} {name}")).clicked() {
                *revealed = !*revealed;
                if *revealed {
                    action = SecretAction::Revealed;
                }
            }
        }
        ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
            if *revealed {
                // Not selectable: a copy goes through the Copy button, which keeps it out of
                // clipboard history and clears it again (Ctrl+C on a selection would not).
                // Wrapped, never cut: a 40-character key takes two lines of a table row
                // rather than hiding its end (what a user compares against a config file).
                ui.add(
                    egui::Label::new(RichText::new(secret.expose()).monospace().size(11.0))
                        .wrap()
                        .selectable(false),
                );
            } else {
                ui.add(
                    egui::Label::new(RichText::new(secret.masked()).monospace()).selectable(false),
                );
            }
        });
    });
    action
}

/// A labelled single-line text field with its error (if any) underneath.
pub fn text_field(
    ui: &mut Ui,
    label: &str,
    text: &mut String,
    hint: &str,
    error: Option<&str>,
) -> Response {
    field_frame(ui, label, error, |ui, label_id| {
        ui.add(
            egui::TextEdit::singleline(text)
                .hint_text(hint)
                .desired_width(f32::INFINITY),
        )
        .labelled_by(label_id)
    })
}

/// A labelled password field with a reveal toggle and its error underneath.
pub fn secret_field(
    ui: &mut Ui,
    label: &str,
    text: &mut String,
    revealed: &mut bool,
    hint: &str,
    error: Option<&str>,
) -> Response {
    let presenting = presentation_mode(ui.ctx());
    if presenting {
        *revealed = false;
    }
    field_frame(ui, label, error, |ui, label_id| {
        ui.horizontal(|ui| {
            let (icon, verb) = if *revealed {
                ("Hide", "Hide")
            } else {
                ("Show", "Reveal")
            };
            let width = ui.available_width() - 52.0;
            let response = ui
                .add(
                    egui::TextEdit::singleline(text)
                        .password(!*revealed)
                        .hint_text(hint)
                        .font(egui::TextStyle::Monospace)
                        .desired_width(width),
                )
                .labelled_by(label_id);
            if !presenting
                && icon_button(ui, icon, &format!("{verb} {}", label.to_lowercase())).clicked()
            {
                *revealed = !*revealed;
            }
            response
        })
        .inner
    })
}

/// A label above a field, and the error (if any) under it.
pub fn field_frame(
    ui: &mut Ui,
    label: &str,
    error: Option<&str>,
    add: impl FnOnce(&mut Ui, egui::Id) -> Response,
) -> Response {
    let label_id = ui.label(RichText::new(label).strong()).id;
    let response = add(ui, label_id);
    name_widget(ui, &response, label);
    if let Some(error) = error {
        field_error(ui, error);
    }
    ui.add_space(theme::SPACE_XS);
    response
}

/// An error line under a field.
pub fn field_error(ui: &mut Ui, error: &str) {
    let dark = ui.visuals().dark_mode;
    // Body size: a reason next to the field is read, not glanced at.
    ui.label(RichText::new(error).color(theme::tone(theme::Tone::Error, dark).fg));
}

/// Why `button` is disabled, when it is: on hover, and as muted text beside it so that it is
/// seen without hovering ("Fill in the display name"). Call it right after adding the button.
pub fn disabled_reason_ui(ui: &mut Ui, button: Response, reason: Option<&str>) -> Response {
    match reason {
        Some(why) if !button.enabled() => {
            let button = button.on_disabled_hover_text(why);
            muted(ui, why);
            button
        }
        _ => button,
    }
}

/// Muted secondary text.
pub fn muted(ui: &mut Ui, text: impl Into<String>) -> Response {
    let dark = ui.visuals().dark_mode;
    ui.label(RichText::new(text.into()).color(theme::muted(dark)))
}

/// An inline message in a tone, with optional action buttons on the right; returns the index
/// of the action clicked.
pub fn message(
    ui: &mut Ui,
    tone: theme::Tone,
    title: &str,
    body: &str,
    actions: &[&str],
) -> Option<usize> {
    let dark = ui.visuals().dark_mode;
    let colours = theme::tone(tone, dark);
    let mut clicked = None;
    // The text wraps before the buttons, never under them.
    let font = egui::TextStyle::Button.resolve(ui.style());
    let spacing = ui.spacing().clone();
    let buttons_width: f32 = actions
        .iter()
        .map(|a| {
            let text = ui
                .painter()
                .layout_no_wrap((*a).to_owned(), font.clone(), colours.fg)
                .size()
                .x;
            text + 2.0 * spacing.button_padding.x + spacing.item_spacing.x
        })
        .sum();
    theme::message_frame(tone, dark).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.horizontal(|ui| {
            let text_width =
                (ui.available_width() - buttons_width - spacing.item_spacing.x).max(120.0);
            ui.vertical(|ui| {
                ui.set_max_width(text_width);
                ui.label(RichText::new(title).strong().color(colours.fg));
                if !body.is_empty() {
                    ui.add(egui::Label::new(body).wrap());
                }
            });
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                for (i, a) in actions.iter().enumerate().rev() {
                    if ui.button(*a).clicked() {
                        clicked = Some(i);
                    }
                }
            });
        });
    });
    clicked
}

/// The relative age of a Unix timestamp: "3 days", "5 min".
pub fn age(now_unix: i64, then_unix: i64) -> String {
    crate::words::span(now_unix - then_unix)
}

/// How long ago, in words: "3 days ago", and "just now" (never "just now ago").
pub fn ago(now_unix: i64, then_unix: i64) -> String {
    let age = age(now_unix, then_unix);
    if age == "just now" {
        age
    } else {
        format!("{age} ago")
    }
}

/// A duration left, in words: "23 h 5 min left", "overlap ended".
pub fn time_left(secs: i64) -> String {
    if secs <= 0 {
        return "overlap ended".to_owned();
    }
    let (d, h, m) = (secs / 86_400, (secs % 86_400) / 3600, (secs % 3600) / 60);
    if d > 0 {
        format!("{d} d {h} h left")
    } else if h > 0 {
        format!("{h} h {m} min left")
    } else {
        format!("{} min left", m.max(1))
    }
}

/// A Unix timestamp as a UTC date, `2026-11-23`.
pub fn date(unix: i64) -> String {
    crate::words::date(unix)
}

/// Now, in Unix seconds.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The "discard what you typed?" prompt of a dirty dialog. Returns true when the user chose
/// Discard; Keep editing clears `asking`.
pub fn discard_prompt_ui(ui: &mut Ui, title: &str, body: &str, asking: &mut bool) -> bool {
    message(ui, theme::Tone::Warning, title, body, &[]);
    let mut discard = false;
    ui.horizontal(|ui| {
        if ui.button("Discard").clicked() {
            discard = true;
        }
        if ui.button("Keep editing").clicked() {
            *asking = false;
        }
    });
    discard
}

/// Focuses a text field and selects what is in it, so typing replaces the last search
/// (Ctrl+F) instead of appending to it.
pub fn focus_and_select_all(ui: &Ui, response: &egui::Response, text: &str) {
    response.request_focus();
    let mut state = egui::text_edit::TextEditState::load(ui.ctx(), response.id).unwrap_or_default();
    state
        .cursor
        .set_char_range(Some(egui::text_selection::CCursorRange::select_all_str(
            text,
        )));
    state.store(ui.ctx(), response.id);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_ages_read_naturally() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(1_700_000_000), "2023-11-14");
        assert_eq!(age(1000, 990), "just now");
        assert_eq!(ago(1000, 990), "just now", "never 'just now ago'");
        assert_eq!(ago(100_000, 100_000 - 7200), "2 hours ago");
        assert_eq!(age(100_000, 100_000 - 7200), "2 hours");
        assert_eq!(age(10_000_000, 10_000_000 - 86_400), "1 day");
        assert_eq!(time_left(0), "overlap ended");
        assert_eq!(time_left(3600 * 5 + 120), "5 h 2 min left");
    }
}

/// Where a dialog was placed when it opened, and the frame it was last shown in.
#[derive(Clone, Copy)]
struct Placed {
    min: egui::Pos2,
    frame: u64,
}

/// A modal dialog that stays where it opened: centred on its first frame, then its top-left
/// corner is kept, so a message that appears or goes away never moves the dialog or its
/// buttons sideways (only what is below the message moves, down or back up). Closed and
/// opened again, it is centred again.
pub fn dialog<R>(
    ctx: &egui::Context,
    id: egui::Id,
    content: impl FnOnce(&mut Ui) -> R,
) -> egui::ModalResponse<R> {
    let key = id.with("keydeck-dialog-placed");
    let frame = ctx.cumulative_frame_nr();
    // Shown last frame (or this one, on a second pass): the same opening of the dialog.
    let placed = ctx
        .data(|d| d.get_temp::<Placed>(key))
        .filter(|p| p.frame + 1 >= frame);
    let mut modal = egui::Modal::new(id);
    if let Some(p) = placed {
        modal = modal.area(
            egui::Area::new(id)
                .kind(egui::UiKind::Modal)
                .sense(egui::Sense::hover())
                .order(egui::Order::Foreground)
                .interactable(true)
                .fixed_pos(p.min),
        );
    }
    let response = modal.show(ctx, content);
    let min = placed.map_or(response.response.rect.min, |p| p.min);
    ctx.data_mut(|d| d.insert_temp(key, Placed { min, frame }));
    response
}
