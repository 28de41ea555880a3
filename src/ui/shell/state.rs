//! What the shell is given (`AppEnv`) and what it remembers between runs (`UiState`).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use tokio::runtime::Handle;

use crate::ui::clipboard;
use crate::ui::context::Tab;
use crate::vault::Vault;

/// Light, dark, or whatever the system uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThemeChoice {
    #[default]
    System,
    Light,
    Dark,
}

impl ThemeChoice {
    pub(super) fn preference(self) -> egui::ThemePreference {
        match self {
            ThemeChoice::System => egui::ThemePreference::System,
            ThemeChoice::Light => egui::ThemePreference::Light,
            ThemeChoice::Dark => egui::ThemePreference::Dark,
        }
    }
}

/// What is remembered between runs besides the window size: nothing secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UiState {
    pub tab: Tab,
    pub theme: ThemeChoice,
    /// Every secret masked and reveal disabled (screen sharing, demos).
    pub presentation_mode: bool,
    /// Seconds after which a copied secret is cleared from the clipboard.
    pub clear_clipboard_secs: u64,
}

impl Default for UiState {
    fn default() -> Self {
        Self {
            tab: Tab::default(),
            theme: ThemeChoice::default(),
            presentation_mode: false,
            clear_clipboard_secs: clipboard::DEFAULT_CLEAR_SECS,
        }
    }
}

/// Where the session keeps secrets.
#[derive(Clone, Debug)]
pub enum Keychain {
    /// This vault: in memory (tests, demos) or an OS keychain already opened.
    Given(Vault),
    /// Open the OS keychain in the background while the window is already up; secrets stay
    /// in memory until (and unless) it answers, and the user can try again.
    OpenOs,
}

/// Everything the app needs from outside; tests point the directories at a tempdir and use
/// the in-memory vault.
pub struct AppEnv {
    pub rt: Handle,
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
    pub keychain: Keychain,
    /// Start the sandbox in-process when there are no connections, or embedded ones.
    pub start_embedded_sandbox: bool,
}
