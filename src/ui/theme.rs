//! Colours, spacing and text styles: every colour a view draws comes from here.

use egui::{Color32, CornerRadius, Margin, Stroke, Visuals};

use crate::config::Environment;
use crate::providers::cometchat::Scope;

/// Spacing steps, in points.
pub const SPACE_XS: f32 = 4.0;
pub const SPACE_S: f32 = 8.0;
pub const SPACE_M: f32 = 12.0;
pub const SPACE_L: f32 = 20.0;

/// Height of one table row.
pub const ROW_HEIGHT: f32 = 30.0;
pub const CORNER: u8 = 6;

/// Foreground and background of a small badge.
#[derive(Clone, Copy, Debug)]
pub struct BadgeColours {
    pub fg: Color32,
    pub bg: Color32,
}

fn badge(dark: bool, hue: (u8, u8, u8), light_fg: (u8, u8, u8)) -> BadgeColours {
    let (r, g, b) = hue;
    if dark {
        BadgeColours {
            fg: Color32::from_rgb(r, g, b),
            bg: Color32::from_rgba_unmultiplied(r, g, b, 40),
        }
    } else {
        let (fr, fg, fb) = light_fg;
        BadgeColours {
            fg: Color32::from_rgb(fr, fg, fb),
            bg: Color32::from_rgba_unmultiplied(r, g, b, 46),
        }
    }
}

/// The colour of an environment tag: dev green, staging amber, prod red.
pub fn environment(env: Environment, dark: bool) -> BadgeColours {
    match env {
        Environment::Dev => badge(dark, (74, 222, 128), (21, 128, 61)),
        Environment::Staging => badge(dark, (251, 191, 36), (161, 98, 7)),
        Environment::Prod => badge(dark, (248, 113, 113), (185, 28, 28)),
    }
}

/// The colour of a scope badge: fullAccess violet (powerful), authOnly blue.
pub fn scope(scope: Scope, dark: bool) -> BadgeColours {
    match scope {
        Scope::FullAccess => badge(dark, (192, 132, 252), (126, 34, 206)),
        Scope::AuthOnly => badge(dark, (96, 165, 250), (29, 78, 216)),
    }
}

/// "This connection's key" and other neutral markers.
pub fn neutral(dark: bool) -> BadgeColours {
    badge(dark, (148, 163, 184), (71, 85, 105))
}

/// A key being retired.
pub fn retiring(dark: bool) -> BadgeColours {
    badge(dark, (251, 146, 60), (194, 65, 12))
}

/// The kinds of message the app shows in banners, toasts and inline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Info,
    Success,
    Warning,
    Error,
}

pub fn tone(t: Tone, dark: bool) -> BadgeColours {
    match t {
        Tone::Info => badge(dark, (96, 165, 250), (29, 78, 216)),
        Tone::Success => badge(dark, (74, 222, 128), (21, 128, 61)),
        Tone::Warning => badge(dark, (251, 191, 36), (146, 64, 14)),
        Tone::Error => badge(dark, (248, 113, 113), (185, 28, 28)),
    }
}

/// Secondary text (dates, hints).
pub fn muted(dark: bool) -> Color32 {
    if dark {
        Color32::from_gray(150)
    } else {
        Color32::from_gray(105)
    }
}

/// The accent used for the brand mark and the selected tab underline.
pub fn accent(dark: bool) -> Color32 {
    if dark {
        Color32::from_rgb(129, 140, 248)
    } else {
        Color32::from_rgb(79, 70, 229)
    }
}

/// The frame of a banner or an inline message of this tone.
pub fn message_frame(t: Tone, dark: bool) -> egui::Frame {
    let c = tone(t, dark);
    egui::Frame::new()
        .fill(c.bg)
        .stroke(Stroke::new(1.0, c.fg.gamma_multiply(0.5)))
        .corner_radius(CornerRadius::same(CORNER))
        .inner_margin(Margin::symmetric(12, 8))
}

/// The frame of a card (a dialog section, an empty state).
pub fn card_frame(visuals: &Visuals) -> egui::Frame {
    egui::Frame::new()
        .fill(visuals.faint_bg_color)
        .stroke(visuals.widgets.noninteractive.bg_stroke)
        .corner_radius(CornerRadius::same(CORNER))
        .inner_margin(Margin::same(16))
}

/// Monochrome emoji and symbols (a subset of Symbola; see `assets/fonts/README.md`).
const SYMBOLS_FONT: &[u8] = include_bytes!("../../assets/fonts/symbola-symbols.ttf");

/// Applies Keydeck's spacing and rounding to both the light and the dark style, and adds the
/// symbols font as the last fallback of every family.
pub fn install(ctx: &egui::Context) {
    ctx.add_font(egui::epaint::text::FontInsert::new(
        "symbola-symbols",
        egui::FontData::from_static(SYMBOLS_FONT),
        [egui::FontFamily::Proportional, egui::FontFamily::Monospace]
            .into_iter()
            .map(|family| egui::epaint::text::InsertFontFamily {
                family,
                priority: egui::epaint::text::FontPriority::Lowest,
            })
            .collect(),
    ));
    ctx.all_styles_mut(|style| {
        style.spacing.item_spacing = egui::vec2(8.0, 6.0);
        style.spacing.button_padding = egui::vec2(10.0, 4.0);
        style.spacing.interact_size.y = 26.0;
        style.visuals.widgets.inactive.corner_radius = CornerRadius::same(CORNER);
        style.visuals.widgets.hovered.corner_radius = CornerRadius::same(CORNER);
        style.visuals.widgets.active.corner_radius = CornerRadius::same(CORNER);
        style.visuals.widgets.noninteractive.corner_radius = CornerRadius::same(CORNER);
        style.visuals.window_corner_radius = CornerRadius::same(10);
        style.visuals.selection.bg_fill = accent(style.visuals.dark_mode).gamma_multiply(0.45);
        // The focused field's outline (and keyboard focus) must be seen at a glance.
        style.visuals.selection.stroke = Stroke::new(2.0, accent(style.visuals.dark_mode));
        style.visuals.widgets.hovered.bg_stroke.width =
            style.visuals.widgets.hovered.bg_stroke.width.max(1.5);
        // A scrollbar over 100,000 rows keeps a thumb that can be seen and grabbed.
        style.spacing.scroll.handle_min_length = 32.0;
        // egui's small text is 9 points: too small for anything a user must read.
        style
            .text_styles
            .insert(egui::TextStyle::Small, egui::FontId::proportional(11.0));
    });
}

#[cfg(test)]
mod tests {
    /// Without any system font (a minimal machine, CI), the fonts built into the binary draw an
    /// emoji in a user's name, the arrows and the symbols the views use.
    #[test]
    fn the_built_in_fonts_draw_emoji_and_the_symbols_the_views_use() {
        let ctx = egui::Context::default();
        super::install(&ctx);
        let mut out = ctx.run_ui(egui::RawInput::default(), |_| {});
        out.textures_delta.clear();
        let body = egui::FontId::proportional(13.0);
        ctx.fonts_mut(|f| {
            let missing: Vec<char> = "Emoji 🙂 User 🔑 ⟳ ✕ ● ▼ 😀 👍 ✓"
                .chars()
                .filter(|c| !f.has_glyph(&body, *c))
                .collect();
            assert!(missing.is_empty(), "no glyph for {missing:?}");
        });
    }
}
