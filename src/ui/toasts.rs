//! Short messages in the bottom-right corner, for things that finished in the background.

use std::time::Duration;

use egui::Align2;

use super::theme::{self, Tone};

/// One toast. Its text never holds a secret value.
#[derive(Clone, Debug)]
pub struct Toast {
    pub tone: Tone,
    pub text: String,
    /// Seconds since the UI started, when the toast stops showing.
    expires_at: Option<f64>,
    ttl: Duration,
}

impl Toast {
    pub fn new(tone: Tone, text: impl Into<String>) -> Self {
        let ttl = match tone {
            Tone::Error | Tone::Warning => Duration::from_secs(10),
            Tone::Info | Tone::Success => Duration::from_secs(5),
        };
        Self {
            tone,
            text: text.into(),
            expires_at: None,
            ttl,
        }
    }

    pub fn success(text: impl Into<String>) -> Self {
        Self::new(Tone::Success, text)
    }

    pub fn error(text: impl Into<String>) -> Self {
        Self::new(Tone::Error, text)
    }

    pub fn info(text: impl Into<String>) -> Self {
        Self::new(Tone::Info, text)
    }
}

#[derive(Default)]
pub struct Toasts {
    toasts: Vec<Toast>,
}

impl Toasts {
    pub fn push(&mut self, toast: Toast) {
        tracing::debug!(target: "keydeck::ui", "toast: {}", toast.text);
        self.toasts.push(toast);
        if self.toasts.len() > 5 {
            self.toasts.remove(0);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Toast> {
        self.toasts.iter()
    }

    /// Draws the toasts over everything else and drops the expired ones.
    pub fn ui(&mut self, ctx: &egui::Context) {
        let now = ctx.input(|i| i.time);
        self.toasts
            .retain(|t| t.expires_at.is_none_or(|at| at > now));
        if self.toasts.is_empty() {
            return;
        }
        let dark = ctx.global_style().visuals.dark_mode;
        let mut dismissed = None;
        egui::Area::new(egui::Id::unique("keydeck-toasts"))
            .anchor(Align2::RIGHT_BOTTOM, egui::vec2(-16.0, -16.0))
            .order(egui::Order::Foreground)
            .interactable(true)
            .show(ctx, |ui| {
                ui.set_max_width(380.0);
                for (i, toast) in self.toasts.iter_mut().enumerate() {
                    let expires = *toast
                        .expires_at
                        .get_or_insert(now + toast.ttl.as_secs_f64());
                    let colours = theme::tone(toast.tone, dark);
                    egui::Frame::popup(ui.style())
                        .fill(ui.visuals().window_fill)
                        .show(ui, |ui| {
                            ui.horizontal(|ui| {
                                let (rect, _) = ui.allocate_exact_size(
                                    egui::vec2(4.0, 18.0),
                                    egui::Sense::hover(),
                                );
                                ui.painter().rect_filled(rect, 2.0, colours.fg);
                                ui.add(egui::Label::new(&toast.text).wrap());
                                if ui.small_button("×").on_hover_text("Dismiss").clicked() {
                                    dismissed = Some(i);
                                }
                            });
                        });
                    ui.add_space(theme::SPACE_XS);
                    let left = (expires - now).max(0.0);
                    ctx.request_repaint_after(Duration::from_secs_f64(left));
                }
            });
        if let Some(i) = dismissed {
            self.toasts.remove(i);
        }
    }
}
