//! The window: the shell (chrome, command queue, start-up), one module per tab, and the
//! widgets and helpers they share. Everything here may import `crate::core`; nothing in
//! `crate::core` imports from here.

pub mod clipboard;
pub mod context;
pub mod file_dialog;
pub mod launch;
pub mod probe;
pub mod remote;
pub mod retry_status;
pub mod shell;
pub mod shortcuts;
pub mod tabs;
pub mod testing;
pub mod theme;
pub mod toasts;
pub mod widgets;

pub use context::{Command, Tab, TabContext};
pub use shell::{AppEnv, Keychain, KeydeckApp, ThemeChoice, UiState, run};
