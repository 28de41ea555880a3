//! The API keys of an Ably app (shown by the API keys tab when the active connection is an
//! Ably account): capability badges and status, create and edit with the capability editor
//! and a diff before saving, revoke a key, revoke tokens, and "Can this key…?".

use egui::{RichText, Ui};

use crate::config::{ConnectionKind, Environment};
use crate::core::client::AblyAccess;
use crate::core::ops::{Guard, ably};
use crate::model::capability::{self, Capability, CapabilityError, OPERATIONS};
use crate::providers::ApiError;
use crate::providers::ably::{
    AblyApp, AblyKey, KeyPatch, KeyStatus, NewAblyKey, RevokeResult, RevokeTokens, validate_target,
};
use crate::secret::Secret;
use crate::ui::context::{Command, Tab, TabContext, TabMessage};
use crate::ui::remote::{Op, Remote};
use crate::ui::shortcuts::Shortcut;
use crate::ui::theme::{self, Tone};
use crate::ui::toasts::Toast;
use crate::ui::widgets::capability_editor::{self, CapabilityEditor};
use crate::ui::widgets::{self, ConfirmDialog, ConfirmOutcome};

/// A command of this view, addressed to the tab it lives in (API keys).
fn own(c: AblyCommand) -> Command {
    Command::Tab(TabMessage::new(Tab::Keys, c))
}

/// What the Ably keys view asks for; [`AblyKeysTab::handle`] performs it.
pub enum AblyCommand {
    /// The account's apps (after `me()` when the account is not known yet).
    LoadApps,
    LoadKeys {
        app_id: String,
    },
    CreateKey {
        app_id: String,
        new: NewAblyKey,
    },
    UpdateKey {
        app_id: String,
        key_id: String,
        patch: KeyPatch,
    },
    RevokeKey {
        app_id: String,
        key_id: String,
    },
    /// Authenticates with the key itself, as the REST API requires.
    RevokeTokens {
        key: Secret,
        request: RevokeTokens,
    },
}

/// Create or edit one key.
struct KeyEditor {
    /// The key being edited; `None` creates one.
    existing: Option<AblyKey>,
    name: String,
    capability: CapabilityEditor,
    revocable_tokens: bool,
    /// Showing the diff, one step before saving.
    reviewing: bool,
    op: Option<Op<AblyKey>>,
    error: Option<String>,
    /// The form as it opened, to ask before discarding changes.
    original: (String, CapabilityEditor, bool),
    asking_to_discard: bool,
    /// The form was drawn once: it opens at its top, with the name focused.
    shown: bool,
    /// The connection's environment: on prod, widening a capability asks for the name.
    environment: Environment,
    /// The key's name as typed to allow a widening on prod.
    typed: String,
}

impl KeyEditor {
    fn new() -> Self {
        Self {
            existing: None,
            name: String::new(),
            capability: CapabilityEditor::default(),
            revocable_tokens: false,
            reviewing: false,
            op: None,
            error: None,
            original: (String::new(), CapabilityEditor::default(), false),
            asking_to_discard: false,
            shown: false,
            environment: Environment::Dev,
            typed: String::new(),
        }
    }

    fn edit(key: &AblyKey) -> Self {
        let capability = CapabilityEditor::from_capability(&key.capability);
        let revocable_tokens = key.revocable_tokens.unwrap_or(false);
        Self {
            existing: Some(key.clone()),
            name: key.name.clone(),
            original: (key.name.clone(), capability.clone(), revocable_tokens),
            capability,
            revocable_tokens,
            reviewing: false,
            op: None,
            error: None,
            asking_to_discard: false,
            shown: false,
            environment: Environment::Dev,
            typed: String::new(),
        }
    }

    fn is_dirty(&self) -> bool {
        let (name, capability, revocable) = &self.original;
        self.name != *name || self.capability != *capability || self.revocable_tokens != *revocable
    }

    /// Closes at once when nothing changed; otherwise asks first.
    fn wants_to_close(&mut self) -> bool {
        if self.is_dirty() {
            self.asking_to_discard = true;
            false
        } else {
            true
        }
    }

    fn before(&self) -> Capability {
        self.existing
            .as_ref()
            .map(|k| k.capability.clone())
            .unwrap_or_default()
    }

    /// What saving asks first (`ably::capability_change_guard`): on prod, a wider capability
    /// needs the key's name typed.
    fn guard(&self, parsed: &Result<Capability, CapabilityError>) -> Guard {
        match (&self.existing, parsed) {
            (Some(k), Ok(after)) => {
                ably::capability_change_guard(self.environment, &k.name, &k.capability, after)
            }
            _ => Guard::None,
        }
    }

    /// The name still to type before saving, when the guard asks for one and it is not typed.
    fn name_to_type(&self, parsed: &Result<Capability, CapabilityError>) -> Option<String> {
        let guard = self.guard(parsed);
        let name = guard.typed_name()?;
        (self.typed.trim() != name).then(|| name.to_owned())
    }

    /// What saving would change, one step before saving.
    fn review_ui(&mut self, ui: &mut Ui, parsed: &Result<Capability, CapabilityError>) {
        ui.label(RichText::new("Capability changes").strong());
        if let Ok(after) = parsed {
            capability_editor::diff_ui(ui, &self.before(), after);
        }
        let guard = self.guard(parsed);
        if let (Some(name), Ok(after)) = (guard.typed_name(), parsed) {
            let wider = capability::widening(&self.before(), after);
            ui.add_space(theme::SPACE_S);
            widgets::message(
                ui,
                Tone::Warning,
                "This gives a production key more power",
                &format!(
                    "Newly allowed: {}. Apps that hold this key can do this at once.",
                    wider.join(", ")
                ),
                &[],
            );
            widgets::text_field(
                ui,
                &format!("Type {name} to allow it"),
                &mut self.typed,
                name,
                None,
            );
        }
        if let Some(k) = &self.existing {
            if self.name.trim() != k.name {
                widgets::muted(ui, format!("Name: {} becomes {}", k.name, self.name.trim()));
            }
            if k.revocable_tokens.unwrap_or(false) != self.revocable_tokens {
                widgets::muted(
                    ui,
                    format!(
                        "Revocable tokens: {}",
                        if self.revocable_tokens { "on" } else { "off" }
                    ),
                );
            }
        }
    }

    /// The name, the capability editor and revocable tokens.
    fn form_ui(&mut self, ui: &mut Ui, parsed: &Result<Capability, CapabilityError>) {
        let mut scroll = egui::ScrollArea::vertical()
            .id_salt("ably-key-form")
            .max_height(ui.ctx().content_rect().height() * 0.6);
        let first = !std::mem::replace(&mut self.shown, true);
        if first {
            // A scroll position kept from an earlier opening would hide the name.
            scroll = scroll.vertical_scroll_offset(0.0);
        }
        scroll.show(ui, |ui| {
                let name_err = self
                    .name
                    .trim()
                    .is_empty()
                    .then_some("Give the key a name");
                let name = widgets::text_field(
                    ui,
                    "Name",
                    &mut self.name,
                    "e.g. chat-app",
                    name_err.filter(|_| self.existing.is_some()),
                );
                if first {
                    name.request_focus();
                }
                ui.add_space(theme::SPACE_XS);
                self.capability.ui(ui);
                ui.add_space(theme::SPACE_XS);
                ui.checkbox(&mut self.revocable_tokens, "Revocable tokens");
                widgets::muted(
                    ui,
                    "Lets you revoke tokens this key issued. It caps their lifetime at one hour, and applies only to tokens issued after it is enabled.",
                );
                // While editing an existing key, what would change is always in view.
                if self.existing.is_some()
                    && let Ok(after) = parsed
                    && capability::normalise(after) != capability::normalise(&self.before())
                {
                    ui.add_space(theme::SPACE_S);
                    ui.label(RichText::new("Unsaved capability changes").strong());
                    capability_editor::diff_ui(ui, &self.before(), after);
                }
            });
    }

    /// Review / save / back / cancel; returns whether the editor closes.
    fn buttons_ui(
        &mut self,
        ui: &mut Ui,
        app_id: &str,
        parsed: &Result<Capability, CapabilityError>,
        busy: bool,
        out: &mut Vec<Command>,
    ) -> bool {
        let mut close = false;
        let valid = parsed.is_ok() && !self.name.trim().is_empty();
        if self.reviewing {
            let label = if self.existing.is_some() {
                "Save changes"
            } else {
                "Create key"
            };
            let untyped = self.name_to_type(parsed);
            let save = ui.add_enabled(
                !busy && valid && untyped.is_none(),
                egui::Button::new(label),
            );
            let reason = untyped.map(|n| format!("Type {n} above to allow the wider capability"));
            if save.clicked()
                && let Ok(cap) = parsed
            {
                out.push(own(self.command(app_id, cap.clone())));
            }
            widgets::disabled_reason_ui(ui, save, reason.as_deref());
            if ui.add_enabled(!busy, egui::Button::new("Back")).clicked() {
                self.reviewing = false;
            }
        } else {
            let next = if self.existing.is_some() {
                "Review changes…"
            } else {
                "Review and create…"
            };
            if ui
                .add_enabled(valid, egui::Button::new(RichText::new(next).strong()))
                .on_disabled_hover_text("Give the key a name and a valid capability")
                .clicked()
            {
                self.reviewing = true;
            }
        }
        if ui.add_enabled(!busy, egui::Button::new("Cancel")).clicked() {
            close = self.wants_to_close();
        }
        if busy {
            ui.spinner();
        }
        close
    }

    /// Creates the key, or updates only what changed.
    fn command(&self, app_id: &str, cap: Capability) -> AblyCommand {
        match &self.existing {
            None => AblyCommand::CreateKey {
                app_id: app_id.to_owned(),
                new: NewAblyKey {
                    name: self.name.trim().to_owned(),
                    capability: cap,
                    revocable_tokens: Some(self.revocable_tokens),
                },
            },
            Some(k) => AblyCommand::UpdateKey {
                app_id: app_id.to_owned(),
                key_id: k.id.clone(),
                patch: KeyPatch {
                    name: Some(self.name.trim().to_owned()).filter(|n| *n != k.name),
                    capability: Some(cap).filter(|c| {
                        capability::normalise(c) != capability::normalise(&k.capability)
                    }),
                    revocable_tokens: Some(self.revocable_tokens)
                        .filter(|r| Some(*r) != k.revocable_tokens),
                },
            },
        }
    }
}

struct RevokeKeyDialog {
    key_id: String,
    confirm: ConfirmDialog,
    op: Option<Op<()>>,
}

struct RevokeTokensDialog {
    key: AblyKey,
    targets: String,
    issued_before: String,
    allow_reauth_margin: bool,
    op: Option<Op<RevokeResult>>,
    result: Option<RevokeResult>,
    error: Option<String>,
    /// What the guard asks (`ably::revoke_tokens_guard`), from the connection's environment.
    environment: Environment,
    /// Asking before the request is sent: the request and the question.
    confirm: Option<(RevokeTokens, ConfirmDialog)>,
}

impl RevokeTokensDialog {
    fn targets(&self) -> Vec<String> {
        self.targets
            .lines()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The request, or the first problem with the form.
    fn request(&self, now_ms: i64) -> Result<RevokeTokens, String> {
        let targets = self.targets();
        if targets.is_empty() {
            return Err("List at least one target, such as clientId:bob".to_owned());
        }
        if targets.len() > 100 {
            return Err("At most 100 targets at a time".to_owned());
        }
        for t in &targets {
            validate_target(t)?;
        }
        let issued_before = match self.issued_before.trim() {
            "" => None,
            s => Some(s.parse::<i64>().map_err(|_| {
                "Issued before is a time in epoch milliseconds, or empty for now".to_owned()
            })?),
        };
        // Ably refuses older times (error 40000): say so before sending.
        if issued_before.is_some_and(|ms| ms < now_ms - 3_600_000) {
            return Err("Issued before can be at most one hour in the past".to_owned());
        }
        Ok(RevokeTokens {
            targets,
            issued_before,
            allow_reauth_margin: self.allow_reauth_margin,
        })
    }
}

struct CanDialog {
    key: AblyKey,
    op: String,
    resource: String,
}

#[derive(Default)]
pub struct AblyKeysTab {
    seen_generation: Option<u64>,
    apps: Remote<Vec<AblyApp>>,
    keys: Remote<Vec<AblyKey>>,
    /// The app whose keys are listed.
    keys_of: Option<String>,
    choosing_app: bool,
    /// A load was asked for and runs from the next frame on.
    asked_keys: bool,
    asked_apps: bool,
    editor: Option<KeyEditor>,
    revoke: Option<RevokeKeyDialog>,
    revoke_tokens: Option<RevokeTokensDialog>,
    can: Option<CanDialog>,
}

impl AblyKeysTab {
    pub fn has_dialog(&self) -> bool {
        self.editor.is_some()
            || self.revoke.is_some()
            || self.revoke_tokens.is_some()
            || self.can.is_some()
    }

    /// Settles requests at the start of the frame; a change on the server reloads the list.
    pub fn settle(&mut self) -> Vec<Command> {
        let mut out = Vec::new();
        self.apps.poll();
        self.keys.poll();
        let reload = |out: &mut Vec<Command>, app_id: &str| {
            out.push(own(AblyCommand::LoadKeys {
                app_id: app_id.to_owned(),
            }));
        };
        if let Some(e) = &mut self.editor
            && let Some(result) = Op::settle(&mut e.op)
        {
            match result {
                Ok(key) => {
                    let verb = if e.existing.is_some() {
                        "Saved"
                    } else {
                        "Created"
                    };
                    out.push(Command::Toast(Toast::success(format!(
                        "{verb} key {}",
                        key.name
                    ))));
                    reload(&mut out, &key.app_id);
                    self.editor = None;
                }
                Err(e2) => e.error = Some(explain(&e2)),
            }
        }
        if let Some(d) = &mut self.revoke
            && let Some(result) = Op::settle(&mut d.op)
        {
            d.confirm.busy = false;
            match result {
                Ok(()) => {
                    out.push(Command::Toast(Toast::success(format!(
                        "Revoked key {}",
                        d.key_id
                    ))));
                    if let Some(app) = &self.keys_of {
                        reload(&mut out, app);
                    }
                    self.revoke = None;
                }
                Err(e) => d.confirm.error = Some(explain(&e)),
            }
        }
        if let Some(d) = &mut self.revoke_tokens
            && let Some(result) = Op::settle(&mut d.op)
        {
            match result {
                Ok(r) => d.result = Some(r),
                Err(e) => d.error = Some(explain(&e)),
            }
        }
        out
    }

    /// Performs one command through the core operations; results land in the view's state.
    pub fn handle(&mut self, message: TabMessage, cx: &TabContext<'_>) {
        let command = match message.take::<AblyCommand>() {
            Ok(c) => c,
            Err(m) => {
                tracing::warn!(
                    "the Ably keys view got a command of another view ({:?})",
                    m.tab
                );
                return;
            }
        };
        let Some(a) = cx.ably().cloned() else {
            return;
        };
        let rec = cx.recorder.clone();
        match command {
            AblyCommand::LoadApps => {
                self.apps
                    .refresh(|| cx.run(async move { ably::list_apps(&a).await }));
            }
            AblyCommand::LoadKeys { app_id } => {
                if self.keys_of.as_deref() != Some(app_id.as_str()) {
                    self.keys.reset();
                    self.keys_of = Some(app_id.clone());
                }
                self.keys
                    .refresh(|| cx.run(async move { ably::list_keys(&a, &app_id).await }));
            }
            AblyCommand::CreateKey { app_id, new } => {
                if let Some(e) = &mut self.editor {
                    e.error = None;
                    e.op = Some(Op::new(cx.run(async move {
                        ably::create_key(&a, &rec, &app_id, &new).await
                    })));
                }
            }
            AblyCommand::UpdateKey {
                app_id,
                key_id,
                patch,
            } => {
                if let Some(e) = &mut self.editor {
                    e.error = None;
                    e.op = Some(Op::new(cx.run(async move {
                        ably::update_key(&a, &rec, &app_id, &key_id, &patch).await
                    })));
                }
            }
            AblyCommand::RevokeKey { app_id, key_id } => {
                if let Some(d) = &mut self.revoke {
                    d.confirm.busy = true;
                    d.confirm.error = None;
                    d.op = Some(Op::new(cx.run(async move {
                        ably::revoke_key(&a, &rec, &app_id, &key_id).await
                    })));
                }
            }
            AblyCommand::RevokeTokens { key, request } => {
                if let Some(d) = &mut self.revoke_tokens {
                    d.error = None;
                    d.result = None;
                    d.op = Some(Op::new(cx.run(async move {
                        ably::revoke_tokens(&a, &rec, &key, &request).await
                    })));
                }
            }
        }
    }

    pub fn ui(&mut self, ui: &mut Ui, cx: &mut TabContext<'_>) -> Vec<Command> {
        let mut out = Vec::new();
        let (Some(conn), Some(access)) = (cx.connection, cx.ably()) else {
            return out;
        };
        if self.seen_generation != Some(cx.generation) {
            self.seen_generation = Some(cx.generation);
            self.apps.reset();
            self.keys.reset();
            self.keys_of = None;
            self.asked_apps = false;
            self.asked_keys = false;
        }
        let app_id = access.app_id.clone().filter(|_| !self.choosing_app);
        let Some(app_id) = app_id else {
            super::header_ui(ui, "API keys", &conn.label, |_| {});
            self.app_picker_ui(ui, conn, access, &mut out);
            return out;
        };

        if matches!(self.keys, Remote::NotRequested) && !self.asked_keys {
            // Pending from the next frame on, when the command has run.
            self.asked_keys = true;
            out.push(own(AblyCommand::LoadKeys {
                app_id: app_id.clone(),
            }));
        }

        for s in cx.shortcuts {
            match s {
                Shortcut::New => self.editor = Some(KeyEditor::new()),
                Shortcut::Refresh => out.push(own(AblyCommand::LoadKeys {
                    app_id: app_id.clone(),
                })),
                Shortcut::FocusSearch => {}
            }
        }

        let subtitle = format!("{} · Ably app {app_id}", conn.label);
        super::header_ui(ui, "API keys", &subtitle, |ui| {
            if ui.button(RichText::new("New API key…").strong()).clicked() {
                self.editor = Some(KeyEditor::new());
            }
            if ui.button("Refresh").clicked() {
                out.push(own(AblyCommand::LoadKeys {
                    app_id: app_id.clone(),
                }));
            }
            if ui.button("Change app…").clicked() {
                self.choosing_app = true;
                self.apps.reset();
                self.asked_apps = false;
            }
        });

        if let Some(e) = self.keys.error()
            && widgets::message(
                ui,
                Tone::Error,
                "Could not load the keys",
                &explain(e),
                &["Retry"],
            )
            .is_some()
        {
            out.push(own(AblyCommand::LoadKeys {
                app_id: app_id.clone(),
            }));
        }
        match self.keys.data() {
            None => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    widgets::muted(ui, "Loading keys…");
                });
            }
            Some(keys) if keys.is_empty() => {
                widgets::muted(ui, "This app has no keys yet");
            }
            Some(keys) => {
                let keys = keys.clone();
                self.table_ui(ui, &keys, conn.environment, &mut out);
            }
        }

        self.editor_ui(ui.ctx(), &app_id, conn.environment, &mut out);
        self.revoke_ui(ui.ctx(), &app_id, &mut out);
        self.revoke_tokens_ui(ui.ctx(), &mut out);
        self.can_ui(ui.ctx());
        out
    }

    fn app_picker_ui(
        &mut self,
        ui: &mut Ui,
        conn: &crate::config::Connection,
        access: &AblyAccess,
        out: &mut Vec<Command>,
    ) {
        if matches!(self.apps, Remote::NotRequested) && !self.asked_apps {
            self.asked_apps = true;
            out.push(own(AblyCommand::LoadApps));
        }
        ui.label(RichText::new("Choose the Ably app whose keys to manage").strong());
        if let Some(e) = self.apps.error() {
            match widgets::message(
                ui,
                Tone::Error,
                "Could not list the apps",
                &explain(e),
                &["Retry", "Edit connection…"],
            ) {
                Some(0) => out.push(own(AblyCommand::LoadApps)),
                Some(_) => out.push(Command::EditConnection(conn.id.clone())),
                None => {}
            }
        }
        let Some(apps) = self.apps.data() else {
            ui.horizontal(|ui| {
                ui.spinner();
                widgets::muted(ui, "Loading apps…");
            });
            return;
        };
        if apps.is_empty() {
            widgets::muted(ui, "This account has no apps");
        }
        for app in apps {
            ui.horizontal(|ui| {
                ui.label(RichText::new(&app.name).strong());
                widgets::muted(ui, format!("{} · {}", app.id, app.status));
                if named(ui, "Use", &format!("Use app {}", app.name)).clicked() {
                    let mut c = conn.clone();
                    c.kind = ConnectionKind::AblyAccount {
                        account_id: Some(app.account_id.clone())
                            .filter(|s| !s.is_empty())
                            .or_else(|| access.account_id.clone()),
                        app_id: Some(app.id.clone()),
                    };
                    self.choosing_app = false;
                    out.push(Command::SaveConnection {
                        connection: c,
                        secrets: Vec::new(),
                    });
                }
            });
        }
        if access.app_id.is_some() && ui.button("Cancel").clicked() {
            self.choosing_app = false;
        }
    }

    /// `environment`: what revoking asks first (`ably::revoke_key_guard`).
    fn table_ui(
        &mut self,
        ui: &mut Ui,
        keys: &[AblyKey],
        environment: Environment,
        out: &mut Vec<Command>,
    ) {
        let dark = ui.visuals().dark_mode;
        // A list, not a grid: each key's actions wrap under it, so nothing runs off the right
        // of a narrow window.
        egui::ScrollArea::vertical()
            .auto_shrink([false, true])
            .show(ui, |ui| {
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        ui.separator();
                    }
                    let name = if k.name.is_empty() {
                        k.key_name()
                    } else {
                        k.name.clone()
                    };
                    ui.horizontal_wrapped(|ui| {
                        ui.label(RichText::new(&name).strong());
                        ui.label(
                            RichText::new(k.key_name())
                                .monospace()
                                .color(theme::muted(dark)),
                        );
                        let tone = match k.status {
                            KeyStatus::Enabled => Tone::Success,
                            KeyStatus::Revoked => Tone::Error,
                        };
                        widgets::badge(ui, k.status.label(), theme::tone(tone, dark));
                        if k.revocable_tokens == Some(true) {
                            widgets::badge(ui, "revocable tokens", theme::tone(Tone::Info, dark));
                        }
                    });
                    ui.horizontal_wrapped(|ui| {
                        for b in capability_editor::badges(&k.capability) {
                            widgets::badge(ui, &b, theme::neutral(dark));
                        }
                    });
                    ui.horizontal_wrapped(|ui| {
                        self.row_actions_ui(ui, k, &name, environment, out);
                    });
                }
            });
    }

    /// Copy, Can…?, and for an enabled key Edit…, Revoke tokens… and Revoke….
    fn row_actions_ui(
        &mut self,
        ui: &mut Ui,
        k: &AblyKey,
        name: &str,
        environment: Environment,
        out: &mut Vec<Command>,
    ) {
        if named(ui, "Copy", &format!("Copy key {name}")).clicked() {
            out.push(Command::Copy {
                value: k.key.clone(),
                what: format!("key {name}"),
            });
        }
        if named(ui, "Can…?", &format!("Can {name}…?")).clicked() {
            self.can = Some(CanDialog {
                key: k.clone(),
                op: "publish".to_owned(),
                resource: String::new(),
            });
        }
        if k.status == KeyStatus::Enabled {
            if named(ui, "Edit…", &format!("Edit {name}")).clicked() {
                self.editor = Some(KeyEditor::edit(k));
            }
            if named(ui, "Revoke tokens…", &format!("Revoke tokens of {name}…")).clicked() {
                self.revoke_tokens = Some(RevokeTokensDialog {
                    key: k.clone(),
                    targets: String::new(),
                    issued_before: String::new(),
                    allow_reauth_margin: false,
                    op: None,
                    result: None,
                    error: None,
                    environment,
                    confirm: None,
                });
            }
            if named(ui, "Revoke…", &format!("Revoke {name}…")).clicked() {
                let confirm = ConfirmDialog::new(
                    format!("Revoke key {name}?"),
                    format!(
                        "Revoking {name} ({}) is permanent: every client using it, and every token it issued, stops working at once. A revoked key cannot be enabled again.",
                        k.key_name()
                    ),
                    format!("Revoke key {name}"),
                );
                let confirm = confirm.guarded(&ably::revoke_key_guard(environment, name));
                self.revoke = Some(RevokeKeyDialog {
                    key_id: k.id.clone(),
                    confirm,
                    op: None,
                });
            }
        }
    }

    fn editor_ui(
        &mut self,
        ctx: &egui::Context,
        app_id: &str,
        environment: Environment,
        out: &mut Vec<Command>,
    ) {
        let Some(e) = &mut self.editor else { return };
        e.environment = environment;
        let mut close = false;
        let title = match &e.existing {
            Some(k) => format!("Edit key {}", k.name),
            None => "New API key".to_owned(),
        };
        let busy = e.op.is_some();
        let modal = widgets::dialog(ctx, egui::Id::unique("ably-key-editor"), |ui| {
            ui.set_width(620.0);
            ui.heading(&title);
            ui.add_space(theme::SPACE_S);
            let parsed = e.capability.capability();
            if e.reviewing {
                e.review_ui(ui, &parsed);
            } else {
                e.form_ui(ui, &parsed);
            }
            if let Some(err) = &e.error {
                ui.add_space(theme::SPACE_S);
                widgets::field_error(ui, err);
            }
            ui.add_space(theme::SPACE_M);
            if e.asking_to_discard {
                if widgets::discard_prompt_ui(
                    ui,
                    "Discard your changes?",
                    "What you changed in this key will be lost.",
                    &mut e.asking_to_discard,
                ) {
                    close = true;
                }
                return;
            }
            close = ui
                .horizontal(|ui| e.buttons_ui(ui, app_id, &parsed, busy, out))
                .inner;
        });
        if modal.should_close() && !busy && !close && !e.asking_to_discard {
            close = e.wants_to_close();
        }
        if close {
            self.editor = None;
        }
    }

    fn revoke_ui(&mut self, ctx: &egui::Context, app_id: &str, out: &mut Vec<Command>) {
        let Some(d) = &mut self.revoke else { return };
        match d.confirm.ui(ctx) {
            ConfirmOutcome::Confirmed if d.op.is_none() => {
                out.push(own(AblyCommand::RevokeKey {
                    app_id: app_id.to_owned(),
                    key_id: d.key_id.clone(),
                }));
            }
            ConfirmOutcome::Cancelled if d.op.is_none() => self.revoke = None,
            _ => {}
        }
    }

    fn revoke_tokens_ui(&mut self, ctx: &egui::Context, out: &mut Vec<Command>) {
        let Some(d) = &mut self.revoke_tokens else {
            return;
        };
        let mut close = false;
        let busy = d.op.is_some();
        let name = d.key.name.clone();
        let modal = widgets::dialog(ctx, egui::Id::unique("ably-revoke-tokens"), |ui| {
            ui.set_width(560.0);
            ui.heading(format!("Revoke tokens of {name}"));
            ui.add_space(theme::SPACE_S);
            if d.key.revocable_tokens != Some(true) {
                widgets::message(
                    ui,
                    Tone::Warning,
                    "This key does not have revocable tokens",
                    "Ably will refuse the request. Turn on revocable tokens in Edit… first; it applies to tokens issued after that.",
                    &[],
                );
            }
            d.form_ui(ui);
            let request = d.request(widgets::now_unix() * 1000);
            if let Err(e) = &request
                && !d.targets.trim().is_empty()
            {
                widgets::field_error(ui, e);
            }
            if let Some(e) = &d.error {
                widgets::field_error(ui, e);
            }
            if let Some(r) = &d.result {
                revoke_result_ui(ui, r);
            }
            ui.add_space(theme::SPACE_M);
            ui.horizontal(|ui| {
                let dark = ui.visuals().dark_mode;
                let button =
                    egui::Button::new(RichText::new("Revoke tokens…").color(egui::Color32::WHITE))
                        .fill(theme::tone(Tone::Error, dark).fg);
                if ui.add_enabled(!busy && request.is_ok(), button).clicked()
                    && let Ok(request) = request
                {
                    d.confirm = Some(revoke_tokens_confirm(&name, d.environment, request));
                }
                if ui.add_enabled(!busy, egui::Button::new("Close")).clicked() {
                    close = true;
                }
                if busy {
                    ui.spinner();
                }
            });
        });
        if let Some((request, confirm)) = &mut d.confirm {
            match confirm.ui(ctx) {
                ConfirmOutcome::Confirmed => {
                    out.push(own(AblyCommand::RevokeTokens {
                        key: d.key.key.clone(),
                        request: request.clone(),
                    }));
                    d.confirm = None;
                }
                ConfirmOutcome::Cancelled => d.confirm = None,
                ConfirmOutcome::Open => {}
            }
        } else if modal.should_close() && !busy {
            close = true;
        }
        if close {
            self.revoke_tokens = None;
        }
    }

    fn can_ui(&mut self, ctx: &egui::Context) {
        let Some(d) = &mut self.can else { return };
        let mut close = false;
        let modal = widgets::dialog(ctx, egui::Id::unique("ably-can"), |ui| {
            ui.set_width(520.0);
            ui.heading(format!("Can {}…?", d.key.name));
            ui.add_space(theme::SPACE_S);
            ui.horizontal(|ui| {
                let label = ui.label("Operation").id;
                egui::ComboBox::from_id_salt("ably-can-op")
                    .selected_text(d.op.as_str())
                    .show_ui(ui, |ui| {
                        for op in OPERATIONS {
                            ui.selectable_value(&mut d.op, op.to_owned(), op);
                        }
                    })
                    .response
                    .labelled_by(label);
            });
            widgets::text_field(
                ui,
                "Channel or queue",
                &mut d.resource,
                "chat:lobby, [queue]orders",
                None,
            );
            let dark = ui.visuals().dark_mode;
            let decision = (!d.resource.trim().is_empty())
                .then(|| capability::can(&d.key.capability, &d.op, &d.resource));
            if let Some(dec) = &decision {
                ui.add_space(theme::SPACE_S);
                let tone = if dec.allowed {
                    Tone::Success
                } else {
                    Tone::Error
                };
                widgets::message(
                    ui,
                    tone,
                    if dec.allowed { "Yes" } else { "No" },
                    &dec.reason,
                    &[],
                );
            }
            ui.add_space(theme::SPACE_S);
            ui.label(RichText::new("The key's rules").strong());
            for (pattern, ops) in &d.key.capability {
                let text = format!("{pattern}: {}", ops.join(", "));
                let decided = decision
                    .as_ref()
                    .and_then(|dec| dec.rule.as_ref())
                    .is_some_and(|r| r == pattern);
                if decided {
                    let c = theme::tone(Tone::Info, dark);
                    egui::Frame::new()
                        .fill(c.bg)
                        .inner_margin(egui::Margin::symmetric(6, 2))
                        .corner_radius(4)
                        .show(ui, |ui| {
                            ui.label(
                                RichText::new(format!("{text}  (decided here)"))
                                    .monospace()
                                    .color(c.fg),
                            );
                        });
                } else {
                    ui.label(RichText::new(text).monospace());
                }
            }
            ui.add_space(theme::SPACE_M);
            if ui.button("Close").clicked() {
                close = true;
            }
        });
        if modal.should_close() || close {
            self.can = None;
        }
    }
}

impl RevokeTokensDialog {
    /// Targets, the time and the reauth margin; a change clears the last error.
    fn form_ui(&mut self, ui: &mut Ui) {
        let before = self.clone_form();
        let label = ui.label(RichText::new("Targets, one per line").strong()).id;
        ui.add(
            egui::TextEdit::multiline(&mut self.targets)
                .hint_text("clientId:bob\nrevocationKey:group-1\nchannel:chat:lobby")
                .desired_rows(3)
                .desired_width(f32::INFINITY),
        )
        .labelled_by(label);
        widgets::text_field(
            ui,
            "Issued before (epoch ms, optional)",
            &mut self.issued_before,
            "Empty: tokens issued until now",
            None,
        );
        ui.horizontal(|ui| {
            match self.issued_before.trim().parse::<i64>() {
                Ok(ms) => widgets::muted(ui, format!("Tokens issued before {}", utc_time(ms))),
                Err(_) => widgets::muted(ui, "Tokens issued until now"),
            };
            if ui.button("5 minutes ago").clicked() {
                self.issued_before = ((widgets::now_unix() - 300) * 1000).to_string();
            }
        });
        ui.checkbox(&mut self.allow_reauth_margin, "Allow reauth margin");
        widgets::muted(
            ui,
            "Gives connected clients 30 seconds to get a new token before the old one stops working",
        );
        if self.clone_form() != before {
            self.error = None;
        }
    }

    fn clone_form(&self) -> (String, String, bool) {
        (
            self.targets.clone(),
            self.issued_before.clone(),
            self.allow_reauth_margin,
        )
    }
}

/// What Ably answered for each target of a token revocation.
/// The question before tokens are revoked: it names the targets and the key.
fn revoke_tokens_confirm(
    key_name: &str,
    environment: Environment,
    request: RevokeTokens,
) -> (RevokeTokens, ConfirmDialog) {
    let targets = request.targets.join(", ");
    let n = request.targets.len();
    let confirm = ConfirmDialog::new(
        format!("Revoke the tokens of {targets}?"),
        format!(
            "Every token key {key_name} issued to {targets} stops working at once; clients must get a new one. This cannot be undone."
        ),
        if n == 1 {
            format!("Revoke tokens of {targets}")
        } else {
            format!("Revoke tokens of {n} targets")
        },
    )
    .guarded(&ably::revoke_tokens_guard(environment, key_name));
    (request, confirm)
}

fn revoke_result_ui(ui: &mut Ui, r: &RevokeResult) {
    ui.add_space(theme::SPACE_S);
    ui.label(
        RichText::new(format!(
            "{} revoked, {} failed",
            r.success_count, r.failure_count
        ))
        .strong(),
    );
    egui::Grid::new("revoke-results")
        .striped(true)
        .num_columns(2)
        .show(ui, |ui| {
            ui.label(RichText::new("Target").strong());
            ui.label(RichText::new("Result").strong());
            ui.end_row();
            for item in &r.results {
                ui.monospace(&item.target);
                match &item.error {
                    None => ui.label(match item.applies_at {
                        Some(at) => format!("Revoked, applies at {}", utc_time(at)),
                        None => "Revoked".to_owned(),
                    }),
                    Some(e) => ui.label(format!(
                        "Failed: {}{}",
                        e.message,
                        e.code.map(|c| format!(" ({c})")).unwrap_or_default()
                    )),
                };
                ui.end_row();
            }
        });
}

/// Epoch milliseconds as `2026-11-23 21:05:09 UTC`.
fn utc_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let day = secs.rem_euclid(86_400);
    format!(
        "{} {:02}:{:02}:{:02} UTC",
        widgets::date(secs),
        day / 3600,
        day % 3600 / 60,
        day % 60
    )
}

/// An API error in words; Ably's own code goes last.
fn explain(e: &ApiError) -> String {
    use crate::providers::ErrorKind;
    let what = match e.kind {
        ErrorKind::Unauthenticated => "The credential was not accepted (401).",
        ErrorKind::PermissionDenied => {
            "The credential may not do this (403): the access token lacks a capability such as write:key, or the key has no revocable tokens."
        }
        ErrorKind::NotFound => "Not found: it may have been deleted.",
        _ => "The request failed.",
    };
    format!("{what} ({e})")
}

fn named(ui: &mut Ui, text: &str, name: &str) -> egui::Response {
    let r = ui.button(text);
    widgets::name_widget(ui, &r, name);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_milliseconds_read_as_a_utc_time() {
        assert_eq!(utc_time(1_795_467_909_000), "2026-11-23 21:05:09 UTC");
    }

    #[test]
    fn revoke_tokens_form_checks_every_target_and_the_time() {
        let key: AblyKey = serde_json::from_value(serde_json::json!({
            "appId": "app", "id": "k1", "name": "n", "key": "app.k1:secret",
            "capability": {}, "created": 0, "modified": 0
        }))
        .unwrap();
        let mut d = RevokeTokensDialog {
            key,
            targets: "clientId:bob\n\nchannel:chat".into(),
            issued_before: String::new(),
            allow_reauth_margin: true,
            op: None,
            result: None,
            error: None,
            environment: Environment::Dev,
            confirm: None,
        };
        let now = 1_795_467_909_000;
        let r = d.request(now).unwrap();
        assert_eq!(r.targets, vec!["clientId:bob", "channel:chat"]);
        assert_eq!(r.issued_before, None);
        assert!(r.allow_reauth_margin);
        d.issued_before = "yesterday".into();
        assert!(d.request(now).is_err());
        d.issued_before = (now - 3_600_001).to_string();
        assert!(d.request(now).unwrap_err().contains("one hour"));
        d.issued_before = (now - 60_000).to_string();
        assert!(d.request(now).is_ok());
        d.targets = "bob".into();
        assert!(d.request(now).unwrap_err().contains("needs a type"));
    }
}
