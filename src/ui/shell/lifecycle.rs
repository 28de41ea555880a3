//! Start-up and settling: what the shell does first thing, and at the start of every frame
//! before anything is drawn (the session's news, the sandbox, the clipboard, the audit trail,
//! each tab's finished requests), and how it turns the active connection into a client.

use crate::core::client::{ActiveClient, ClientProblem};
use crate::core::connect::{self, Resolver};
use crate::core::session::{Notice, Session};
use crate::ui::retry_status;
use crate::ui::theme;
use crate::ui::toasts::Toast;

use super::sandbox::{EmbeddedSandbox, SandboxEvent};
use super::{ICON_PNG, KeydeckApp};

impl KeydeckApp {
    pub(super) fn start(&mut self, ctx: &egui::Context) {
        theme::install(ctx);
        self.retry.set_context(ctx);
        let waker = ctx.clone();
        self.session
            .set_waker(std::sync::Arc::new(move || waker.request_repaint()));
        self.icon = eframe::icon_data::from_png_bytes(ICON_PNG)
            .ok()
            .map(|icon| {
                let image = egui::ColorImage::from_rgba_unmultiplied(
                    [icon.width as usize, icon.height as usize],
                    &icon.rgba,
                );
                ctx.load_texture("keydeck-icon", image, egui::TextureOptions::LINEAR)
            });
        let config = self.session.config();
        let first_run = config.connections.is_empty() && self.session.config_problem().is_none();
        let has_embedded = config.connections.iter().any(|c| c.embedded_sandbox);
        if self.start_embedded_sandbox && (first_run || has_embedded) {
            self.sandbox.start(&self.rt, ctx, self.data_dir.clone());
            self.sandbox.add_connections_when_ready = first_run;
        }
        self.session.load_secrets();
    }

    pub(super) fn settle(&mut self, ctx: &egui::Context) {
        for notice in self.session.poll() {
            match notice {
                Notice::SecretsLoaded { failures: 0 } => {}
                Notice::SecretsLoaded { failures } => self.toasts.push(Toast::error(format!(
                    "{failures} secret(s) could not be read from the keychain"
                ))),
                Notice::KeychainUnavailable(_) => {}
                Notice::Failed(e) => self.toasts.push(Toast::error(e)),
            }
        }
        match self.sandbox.settle() {
            Some(SandboxEvent::Started) => self.session.bump_generation(),
            Some(SandboxEvent::Failed(e)) => self.toasts.push(Toast::error(format!(
                "The local sandbox did not start: {e}"
            ))),
            None => {}
        }
        if self.sandbox.add_connections_when_ready
            && self.sandbox.info().is_some()
            && !self.session.is_loading_secrets()
        {
            self.sandbox.add_connections_when_ready = false;
            self.add_sandbox_connections();
        }

        if let Some(link) = &self.clipboard {
            for e in link.errors.try_iter() {
                self.toasts
                    .push(Toast::error(format!("The clipboard failed: {e}")));
            }
        }
        let recorder = self.session.recorder();
        if let Some(e) = recorder.take_problem() {
            self.toasts.push(Toast::error(format!(
                "The audit trail cannot be written: {e}"
            )));
        }
        if recorder.revision() != self.audit_seen {
            self.audit_seen = recorder.revision();
            self.activity.mark_stale();
        }
        if let Some(t) = self.activity.settle() {
            self.toasts.push(t);
        }
        let out = self.with_tabs(ctx, &[], |tabs, cx| {
            tabs.all_mut()
                .into_iter()
                .flat_map(|t| t.settle(cx))
                .collect::<Vec<_>>()
        });
        self.commands.extend(out);
    }

    /// Resolves the active connection into a client.
    pub(super) fn resolve_client(&self) -> Result<ActiveClient, ClientProblem> {
        let Some(conn) = self.session.active_connection() else {
            // On first run the sandbox connections come once the keychain and sandbox are up.
            return Err(if self.session.is_loading_secrets() {
                ClientProblem::LoadingSecrets
            } else if self.sandbox.is_starting() {
                ClientProblem::StartingSandbox
            } else {
                ClientProblem::NoConnection
            });
        };
        connect::resolve(
            conn,
            &[],
            &resolver(&self.session, &self.sandbox, &self.retry),
        )
    }

    /// Adds (or brings back) the embedded sandbox's connections and says what was added.
    pub(super) fn add_sandbox_connections(&mut self) {
        let Some(info) = self.sandbox.info().cloned() else {
            return;
        };
        let added = self.session.add_sandbox_connections(&info);
        self.sandbox.banner_dismissed = false;
        if added.is_empty() {
            self.toasts
                .push(Toast::info("The sandbox connections are already there"));
        } else {
            self.toasts
                .push(Toast::success(format!("Added {}", added.join(" and "))));
        }
    }
}

/// How the shell resolves connections: the session's secrets, the embedded sandbox, the
/// retry policy that reports to the status bar.
pub(super) fn resolver<'a>(
    session: &'a Session,
    sandbox: &'a EmbeddedSandbox,
    retry: &retry_status::RetryStatus,
) -> Resolver<'a> {
    Resolver {
        secrets: session.secrets(),
        secrets_loading: session.is_loading_secrets(),
        sandbox: sandbox.status(),
        retry: retry.policy(),
    }
}
