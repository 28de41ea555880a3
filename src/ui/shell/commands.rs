//! The one place the shell performs commands. A tab's own commands go back to the tab; the
//! session's go to the session, which writes and records them off the UI thread.

use crate::ui::context::{Command, Tab};
use crate::ui::toasts::Toast;

use super::{KeydeckApp, ThemeChoice};

impl KeydeckApp {
    pub fn handle_command(&mut self, ctx: &egui::Context, command: Command) {
        match command {
            Command::SelectTab(tab) => self.ui_state.tab = tab,
            Command::SelectConnection(id) => {
                self.session.select_connection(&id);
            }
            Command::EditConnection(id) => {
                self.ui_state.tab = Tab::Connections;
                if let Some(c) = self.session.config().connection(&id).cloned() {
                    self.tabs.connections.open_editor(&c);
                }
            }
            Command::ToggleTheme => {
                self.ui_state.theme = if ctx.global_style().visuals.dark_mode {
                    ThemeChoice::Light
                } else {
                    ThemeChoice::Dark
                };
            }
            Command::Copy { value, what } => self.copy(ctx, &value, &what),
            Command::Toast(t) => self.toasts.push(t),
            Command::SetPresentationMode(on) => self.ui_state.presentation_mode = on,
            Command::CopyDiagnostics => {
                let text = crate::logging::diagnostics(&self.log_dir);
                match &self.clipboard {
                    Some(c) => c.clipboard.copy_text(&text),
                    None => ctx.copy_text(text),
                }
                self.toasts
                    .push(Toast::success("Copied diagnostics (secrets masked)"));
            }
            Command::Tab(message) => {
                let tab = message.tab;
                self.with_tabs(ctx, &[], |tabs, cx| tabs.get_mut(tab).handle(message, cx));
            }
            Command::MarkRetiring(record) => self.session.mark_retiring(record),
            Command::ForgetRetiring {
                connection_id,
                key_sha256,
            } => self.session.forget_retiring(&connection_id, &key_sha256),
            Command::UseKeyForConnection { connection_id, key } => {
                self.session.use_key_for_connection(&connection_id, key);
                self.toasts.push(Toast::success(format!(
                    "The connection now uses the new key ({})",
                    self.session.vault().where_kept_phrase()
                )));
            }
            Command::ImportConnections(list) => match self.session.import_connections(list) {
                Ok(imported) => self.toasts.push(import_toast(&imported)),
                Err(e) => self
                    .toasts
                    .push(Toast::error(format!("Nothing imported. {e}"))),
            },
            Command::SaveConnection {
                connection,
                secrets,
            } => {
                let label = connection.label.clone();
                let is_new = self.session.save_connection(connection, secrets);
                self.toasts.push(Toast::success(if is_new {
                    format!("Added connection {label}")
                } else {
                    format!("Saved connection {label}")
                }));
            }
            Command::RemoveConnection(id) => {
                if let Some(conn) = self.session.remove_connection(&id) {
                    self.toasts
                        .push(Toast::success(format!("Removed connection {}", conn.label)));
                }
            }
            Command::RetryKeychain => self.session.retry_keychain(),
            Command::RetryUnsavedSecrets => self.session.retry_unsaved(),
            Command::AddSandboxConnections => match self.sandbox.info() {
                Some(_) => self.add_sandbox_connections(),
                None => {
                    self.sandbox.add_connections_when_ready = true;
                    self.sandbox.start(&self.rt, ctx, self.data_dir.clone());
                }
            },
        }
    }

    /// Puts a value on the clipboard (cleared after the configured delay when it goes
    /// through the clipboard worker) and records the copy, masked.
    fn copy(&mut self, ctx: &egui::Context, value: &crate::secret::Secret, what: &str) {
        let secs = self.ui_state.clear_clipboard_secs.max(1);
        match &self.clipboard {
            Some(c) => {
                c.clipboard
                    .copy_secret(value.expose(), std::time::Duration::from_secs(secs));
                self.toasts.push(Toast::success(format!(
                    "Copied {what} — clears in {secs} s"
                )));
            }
            None => {
                ctx.copy_text(value.expose().to_owned());
                self.toasts.push(Toast::success(format!("Copied {what}")));
            }
        }
        self.session.recorder().record(
            "secret.copied",
            &format!("{what} ({})", value.masked()),
            Ok(()),
        );
    }
}

/// What an import did, in one toast: the connections added, those already here, and where
/// their secrets come from.
fn import_toast(imported: &crate::core::profiles::Imported) -> Toast {
    let added = imported.added.len();
    let here = imported.already_here.len();
    let mut text = if added == 0 {
        "Nothing imported: every connection in the file is already here".to_owned()
    } else {
        format!(
            "Imported {}: {}. Their secrets are read from this machine's keychain; any it does not hold shows as Missing, with Enter secrets….",
            crate::words::count(added, "connection", "connections"),
            imported.added.join(", ")
        )
    };
    if added > 0 && here > 0 {
        text.push_str(&format!(
            " Already here and left alone: {}.",
            imported.already_here.join(", ")
        ));
    }
    if added == 0 {
        Toast::info(text)
    } else {
        Toast::success(text)
    }
}
