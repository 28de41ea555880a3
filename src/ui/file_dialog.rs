//! The system's file dialogs (rfd), and what happens when there is none: a minimal desktop
//! without a portal or zenity, or a jump host. A dialog that could not open is told apart from
//! one the user cancelled, so the view can offer a typed path ([`PathPrompt`]) instead of doing
//! nothing.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use egui::{RichText, Ui};

use crate::ui::theme::{self, Tone};
use crate::ui::widgets;

/// What a file dialog gave back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Picked {
    Chosen(PathBuf),
    Cancelled,
    /// No dialog could be shown: why, in words.
    Unavailable(String),
}

/// Why no dialog opened, when the desktop offers none.
pub const NO_DIALOG: &str = "No file dialog could be opened on this desktop: it needs a desktop portal (xdg-desktop-portal) or zenity.";

/// A dialog closed within this time did not open: nobody answers one that fast.
const TOO_FAST: Duration = Duration::from_millis(250);

/// Runs a system dialog (an rfd future), telling a dialog that could not open from one the user
/// cancelled.
pub async fn native(dialog: impl Future<Output = Option<PathBuf>>) -> Picked {
    judge(dialog, known_unavailable()).await
}

/// [`native`], given what is known beforehand about the desktop (tests give it).
async fn judge(
    dialog: impl Future<Output = Option<PathBuf>>,
    known_unavailable: Option<String>,
) -> Picked {
    if let Some(why) = known_unavailable {
        return Picked::Unavailable(why);
    }
    let started = Instant::now();
    match dialog.await {
        Some(path) => Picked::Chosen(path),
        None if started.elapsed() < TOO_FAST => Picked::Unavailable(NO_DIALOG.to_owned()),
        None => Picked::Cancelled,
    }
}

/// On Linux, rfd asks the desktop portal over the session bus, else runs zenity: with neither
/// there is no dialog to wait for.
fn known_unavailable() -> Option<String> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some_and(|v| !v.is_empty());
    (!bus && !on_path("zenity")).then(|| NO_DIALOG.to_owned())
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Whether a typed path is for a file to read or one to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathUse {
    Open,
    Save,
}

/// A path typed by hand, in place of a file dialog that could not open.
pub struct PathPrompt {
    pub text: String,
    why: String,
    usage: PathUse,
    /// The action's button ("Import", "Save").
    action: &'static str,
    error: Option<String>,
    focused: bool,
}

pub enum PromptOutcome {
    Open,
    Chosen(PathBuf),
    Cancelled,
}

impl PathPrompt {
    /// A prompt for a file to read.
    pub fn open(why: String, action: &'static str) -> Self {
        Self::new(why, PathUse::Open, action, String::new())
    }

    /// A prompt for a file to write, offering `suggested_name` in the home folder.
    pub fn save(why: String, action: &'static str, suggested_name: &str) -> Self {
        let dir = directories::UserDirs::new()
            .map(|d| d.home_dir().to_path_buf())
            .unwrap_or_default();
        let text = dir.join(suggested_name).display().to_string();
        Self::new(why, PathUse::Save, action, text)
    }

    fn new(why: String, usage: PathUse, action: &'static str, text: String) -> Self {
        Self {
            text,
            why,
            usage,
            action,
            error: None,
            focused: false,
        }
    }

    /// What is wrong with the typed path, before anything is read or written.
    pub fn check(&self) -> Result<PathBuf, String> {
        let text = self.text.trim();
        if text.is_empty() {
            return Err("Type the file's full path".to_owned());
        }
        let path = PathBuf::from(text);
        match self.usage {
            PathUse::Open if path.is_dir() => Err(format!("{text} is a folder; give a file")),
            PathUse::Open if !path.is_file() => Err(format!("There is no file at {text}")),
            PathUse::Save if path.is_dir() => {
                Err(format!("{text} is a folder; add a file name to it"))
            }
            PathUse::Save
                if !path
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .is_some_and(Path::is_dir) =>
            {
                Err("Its folder does not exist; give a path in an existing folder".to_owned())
            }
            _ => Ok(path),
        }
    }

    /// Draws the prompt in place: why, the field (its problem under it), the action and
    /// Cancel. Enter acts when the path is usable.
    pub fn ui(&mut self, ui: &mut Ui) -> PromptOutcome {
        let mut outcome = PromptOutcome::Open;
        widgets::message(
            ui,
            Tone::Warning,
            "Type the file's path instead",
            &match self.usage {
                PathUse::Open => format!("{} You can also drop a file on the window.", self.why),
                PathUse::Save => self.why.clone(),
            },
            &[],
        );
        let label = match self.usage {
            PathUse::Open => "Path of the file to import",
            PathUse::Save => "Path to save to",
        };
        let problem = self.check().err().filter(|_| !self.text.trim().is_empty());
        let shown = self.error.clone().or(problem);
        let before = self.text.clone();
        let r = widgets::text_field(
            ui,
            label,
            &mut self.text,
            "/home/you/file.csv",
            shown.as_deref(),
        );
        if self.text != before {
            self.error = None;
        }
        if !self.focused {
            r.request_focus();
            self.focused = true;
        }
        let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        ui.add_space(theme::SPACE_XS);
        ui.horizontal(|ui| {
            let checked = self.check();
            let go = ui.add_enabled(
                checked.is_ok(),
                egui::Button::new(RichText::new(self.action).strong()),
            );
            if (go.clicked() || enter)
                && let Ok(path) = checked.as_ref()
            {
                outcome = PromptOutcome::Chosen(path.clone());
            }
            if ui.button("Cancel").clicked() {
                outcome = PromptOutcome::Cancelled;
            }
            // A problem with a typed path is under the field; an empty one is said here.
            let reason = checked
                .as_ref()
                .err()
                .filter(|_| self.text.trim().is_empty());
            widgets::disabled_reason_ui(ui, go, reason.map(String::as_str));
        });
        outcome
    }

    /// The action failed on this path (it could not be read or written): say so under it and
    /// keep what was typed.
    pub fn failed(&mut self, error: String) {
        self.error = Some(error);
    }
}

/// The first file dropped on the window this frame, if any.
pub fn dropped_file(ctx: &egui::Context) -> Option<PathBuf> {
    ctx.input(|i| {
        i.raw
            .dropped_files
            .iter()
            .map(|f| f.path().to_path_buf())
            .find(|p| !p.as_os_str().is_empty())
    })
}

/// Whether a file is being dragged over the window.
pub fn file_hovering(ctx: &egui::Context) -> bool {
    ctx.input(|i| !i.raw.hovered_files.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dialog_that_closes_at_once_did_not_open_and_a_slow_none_is_a_cancel() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let at_once = rt.block_on(judge(async { None }, None));
        assert_eq!(at_once, Picked::Unavailable(NO_DIALOG.to_owned()));
        let slow = rt.block_on(judge(
            async {
                tokio::time::sleep(Duration::from_millis(400)).await;
                None
            },
            None,
        ));
        assert_eq!(slow, Picked::Cancelled);
        let chosen = rt.block_on(judge(async { Some(PathBuf::from("/tmp/x.csv")) }, None));
        assert_eq!(chosen, Picked::Chosen(PathBuf::from("/tmp/x.csv")));
        // With neither a portal nor zenity, the dialog is not even started.
        let none = rt.block_on(judge(
            async { panic!("no dialog is started") },
            Some("no portal".to_owned()),
        ));
        assert_eq!(none, Picked::Unavailable("no portal".to_owned()));
    }

    #[test]
    fn a_typed_path_is_checked_before_it_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("uids.csv");
        std::fs::write(&file, "alice\n").unwrap();
        let mut open = PathPrompt::open(NO_DIALOG.to_owned(), "Import");
        assert!(open.check().unwrap_err().contains("Type"));
        open.text = dir.path().join("missing.csv").display().to_string();
        assert!(open.check().unwrap_err().contains("no file"));
        open.text = dir.path().display().to_string();
        assert!(open.check().unwrap_err().contains("folder"));
        open.text = file.display().to_string();
        assert_eq!(open.check().unwrap(), file);

        let mut save = PathPrompt::save(NO_DIALOG.to_owned(), "Save", "out.csv");
        assert!(save.text.ends_with("out.csv"), "{}", save.text);
        save.text = dir.path().join("nowhere/out.csv").display().to_string();
        assert!(save.check().unwrap_err().contains("folder does not exist"));
        save.text = dir.path().join("out.csv").display().to_string();
        assert_eq!(save.check().unwrap(), dir.path().join("out.csv"));
    }
}
