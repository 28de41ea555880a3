//! Keyboard shortcuts, read once per frame and handed to the selected tab.

use egui::{Key, KeyboardShortcut, Modifiers};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shortcut {
    /// Ctrl+F
    FocusSearch,
    /// Ctrl+N
    New,
    /// F5 or Ctrl+R
    Refresh,
}

const FIND: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::F);
const NEW: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::N);
const RELOAD: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::R);
const F5: KeyboardShortcut = KeyboardShortcut::new(Modifiers::NONE, Key::F5);

/// Consumes this frame's shortcuts. Nothing is read while a dialog is open (`blocked`), so
/// that Ctrl+N in a dialog does not open a second one.
pub fn read(ctx: &egui::Context, blocked: bool) -> Vec<Shortcut> {
    if blocked {
        return Vec::new();
    }
    ctx.input_mut(|i| {
        let mut out = Vec::new();
        if i.consume_shortcut(&FIND) {
            out.push(Shortcut::FocusSearch);
        }
        if i.consume_shortcut(&NEW) {
            out.push(Shortcut::New);
        }
        if i.consume_shortcut(&RELOAD) || i.consume_shortcut(&F5) {
            out.push(Shortcut::Refresh);
        }
        out
    })
}
