//! The native window: opening it with the remembered state, and where the app's files and
//! keychain come from when it runs for real.

use std::path::PathBuf;

use tokio::runtime::Handle;

use crate::ui::context::Tab;
use crate::ui::{clipboard, probe};

use super::{AppEnv, ICON_PNG, Keychain, KeydeckApp, UI_STATE_KEY, UiState};

/// Opens the window and runs until it is closed, on `open_tab` if given (else the tab the
/// user left it on). `rt` must be entered by the caller.
pub fn run(rt: Handle, open_tab: Option<Tab>) -> anyhow::Result<()> {
    let (config_dir, data_dir) = dirs()?;
    // Before eframe opens its storage: its app.ron then stays 0600 in a 0700 folder.
    if let Err(e) = crate::paths::prepare_ui_state_file("keydeck") {
        tracing::warn!("could not prepare the window state file: {e}");
    }
    // The keychain is opened by the session in the background: the window never waits for it.
    let env = AppEnv {
        rt,
        config_dir,
        data_dir,
        keychain: Keychain::OpenOs,
        start_embedded_sandbox: true,
    };
    let system_clipboard = clipboard::SystemClipboard::open()
        .map_err(|e| tracing::warn!("no system clipboard, copies are not cleared: {e}"))
        .ok();
    let icon = eframe::icon_data::from_png_bytes(ICON_PNG)
        .map_err(|e| anyhow::anyhow!("the window icon is not a PNG: {e}"))?;
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Keydeck")
            .with_app_id("keydeck")
            .with_icon(icon)
            .with_inner_size([1180.0, 760.0])
            .with_min_inner_size(super::chrome::MIN_WINDOW_SIZE),
        persist_window: true,
        ..Default::default()
    };
    eframe::run_native(
        "Keydeck",
        options,
        Box::new(move |cc| {
            let mut app = KeydeckApp::new(env);
            if let Some(c) = system_clipboard {
                app.set_clipboard(c);
            }
            if let Ok(dir) = crate::paths::log_dir() {
                app.set_log_dir(dir);
            }
            let mut state = cc
                .storage
                .and_then(|s| eframe::get_value::<UiState>(s, UI_STATE_KEY))
                .unwrap_or_default();
            if let Some(tab) = open_tab {
                state.tab = tab;
            }
            app.restore_ui_state(state);
            app.probe = probe::FirstFrameProbe::from_env();
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("could not open the window: {e}"))
}

/// The config and data directories: `KEYDECK_CONFIG_DIR` / `KEYDECK_DATA_DIR`, else the
/// platform's own (see [`crate::paths`]).
pub fn dirs() -> anyhow::Result<(PathBuf, PathBuf)> {
    Ok((crate::paths::config_dir()?, crate::paths::data_dir()?))
}
