//! The detail pane of one user: profile, tags, metadata, status changes, and the user's auth
//! tokens (issue, copy, revoke one, revoke all), plus "view as another user".

use std::collections::HashSet;

use egui::{RichText, Ui};
use poll_promise::Promise;

use crate::config::{Environment, key_sha256};
use crate::core::errors;
use crate::core::ops::{tokens, users};
use crate::core::recorder::Recorder;
use crate::providers::cometchat::{AuthToken, User};
use crate::providers::cometchat::{CometChatClient, NewAuthToken};
use crate::providers::{ApiError, ErrorKind};
use crate::secret::Secret;
use crate::ui::context::{Command, TabContext};
use crate::ui::remote::{Op, Remote};
use crate::ui::theme::{self, Tone};
use crate::ui::toasts::Toast;
use crate::ui::widgets::{self, ConfirmDialog, ConfirmOutcome};

use super::{UsersCommand, own};

/// How long a freshly issued token stays in clear before it is masked again, in seconds: long
/// enough to read or copy it, short enough that it does not sit on screen ("masked until
/// revealed", README). Leaving the window masks it at once; opening another user drops it.
pub const FRESH_TOKEN_SHOWN_SECS: f64 = 30.0;

/// What the list must learn from the pane.
pub enum Effect {
    /// (uid, deactivated now)
    Deactivated(String, bool),
    Deleted(String),
}

struct Confirming {
    confirm: ConfirmDialog,
    op: Option<Op<()>>,
}

pub struct OpenUser {
    pub uid: String,
    pub tokens: Remote<Vec<AuthToken>>,
    /// Issue a new token even when the user has one (`force`).
    pub force: bool,
    /// SHA-256 of the tokens shown in clear.
    revealed: HashSet<String>,
    /// The token issued last in this pane, highlighted.
    fresh: Option<String>,
    /// When the fresh token is masked again (egui time, seconds); set on the first frame
    /// that shows it.
    fresh_masks_at: Option<f64>,
    /// A token was just issued: start its clock on the next frame.
    fresh_clock_pending: bool,
    issuing: Option<(Op<AuthToken>, bool)>,
    revoking: Option<(Secret, Op<()>)>,
    /// Asking before one token is revoked: the token and the question.
    revoke_one: Option<(Secret, ConfirmDialog)>,
    revoke_all: Option<Confirming>,
    /// Asking before the user is deactivated.
    deactivate: Option<ConfirmDialog>,
    delete: Option<Confirming>,
    /// The active connection's environment, set by the list each frame: what the guards ask.
    pub environment: Environment,
    status_op: Option<Op<bool>>,
    /// What `status_op` asked for: true to reactivate.
    status_activating: bool,
    view_as: String,
    view_as_op: Option<Op<User>>,
    view_as_result: Option<Result<(String, User), String>>,
}

impl OpenUser {
    pub fn new(uid: &str) -> Self {
        Self {
            uid: uid.to_owned(),
            tokens: Remote::NotRequested,
            force: true,
            revealed: HashSet::new(),
            fresh: None,
            fresh_masks_at: None,
            fresh_clock_pending: false,
            issuing: None,
            revoking: None,
            revoke_one: None,
            revoke_all: None,
            deactivate: None,
            delete: None,
            environment: Environment::Dev,
            status_op: None,
            status_activating: false,
            view_as: String::new(),
            view_as_op: None,
            view_as_result: None,
        }
    }

    pub fn has_dialog(&self) -> bool {
        self.revoke_one.is_some()
            || self.revoke_all.is_some()
            || self.deactivate.is_some()
            || self.delete.is_some()
    }

    /// Performs a command about this user (others are ignored: the user was closed).
    pub fn perform(&mut self, cx: &TabContext<'_>, client: CometChatClient, command: UsersCommand) {
        let rec = cx.recorder.clone();
        let uid = self.uid.clone();
        match command {
            UsersCommand::LoadTokens(u) if u == uid => {
                self.tokens
                    .refresh(|| cx.run(async move { tokens::list(&client, &uid).await }));
            }
            UsersCommand::IssueToken {
                uid: u,
                force,
                copy,
            } if u == uid => {
                let new = NewAuthToken {
                    force,
                    ..NewAuthToken::default()
                };
                let p = cx.run(async move { tokens::issue(&client, &rec, &uid, &new).await });
                self.issuing = Some((Op::new(p), copy));
            }
            UsersCommand::RevokeToken { uid: u, token } if u == uid => {
                let t = token.clone();
                let p = cx.run(async move { tokens::revoke(&client, &rec, &uid, &t).await });
                self.revoking = Some((token, Op::new(p)));
            }
            UsersCommand::RevokeAll(u) if u == uid => {
                if let Some(c) = &mut self.revoke_all {
                    c.op =
                        Some(Op::new(cx.run(async move {
                            tokens::revoke_all(&client, &rec, &uid).await
                        })));
                    c.confirm.busy = true;
                    c.confirm.error = None;
                }
            }
            UsersCommand::Deactivate(u) if u == uid => {
                let p = cx.run(async move { users::deactivate(&client, &rec, &uid).await });
                self.status_started(false, p);
            }
            UsersCommand::Reactivate(u) if u == uid => {
                let p = cx.run(async move { users::reactivate(&client, &rec, &uid).await });
                self.status_started(true, p);
            }
            UsersCommand::DeletePermanently(u) if u == uid => {
                if let Some(c) = &mut self.delete {
                    c.op = Some(Op::new(cx.run(async move {
                        users::delete_permanently(&client, &rec, &uid).await
                    })));
                    c.confirm.busy = true;
                    c.confirm.error = None;
                }
            }
            UsersCommand::ViewAs { uid: u, viewer } if u == uid => {
                self.view_as_op =
                    Some(Op::new(cx.run(async move {
                        client.get_user(&uid, Some(&viewer)).await
                    })));
                self.view_as_result = None;
            }
            _ => {}
        }
    }

    fn status_started(&mut self, activate: bool, p: Promise<Result<bool, ApiError>>) {
        self.status_activating = activate;
        self.status_op = Some(Op::new(p));
    }

    fn reload(&self, out: &mut Vec<Command>) {
        out.push(own(UsersCommand::LoadTokens(self.uid.clone())));
    }

    /// Settles finished requests; returns what the list must learn.
    pub fn settle(&mut self, out: &mut Vec<Command>) -> Vec<Effect> {
        let mut effects = Vec::new();
        self.tokens.poll();
        self.settle_issuing(out);
        self.settle_revoking(out);
        self.settle_revoke_all(out);
        self.settle_delete(out, &mut effects);
        self.settle_status(out, &mut effects);
        self.settle_view_as();
        effects
    }

    fn settle_issuing(&mut self, out: &mut Vec<Command>) {
        let uid = self.uid.clone();
        if let Some((op, copy)) = self.issuing.take() {
            let mut slot = Some(op);
            match Op::settle(&mut slot) {
                None => self.issuing = slot.map(|op| (op, copy)),
                Some(Ok(token)) => {
                    let hash = key_sha256(&token.auth_token);
                    self.revealed.insert(hash.clone());
                    self.fresh = Some(hash.clone());
                    self.fresh_clock_pending = true;
                    if copy {
                        out.push(Command::Copy {
                            value: token.auth_token.clone(),
                            what: format!("a new auth token of {uid}"),
                        });
                    } else {
                        out.push(Command::Toast(Toast::success(format!(
                            "Issued an auth token for {uid}"
                        ))));
                    }
                    if let Some(list) = self.tokens.data_mut() {
                        list.retain(|t| key_sha256(&t.auth_token) != hash);
                        list.insert(0, token);
                    }
                    self.reload(out);
                }
                Some(Err(e)) => {
                    let x = errors::explain(&e);
                    out.push(Command::Toast(Toast::error(format!(
                        "Could not issue a token for {uid}: {}",
                        x.title.to_lowercase()
                    ))));
                }
            }
        }
    }

    fn settle_revoking(&mut self, out: &mut Vec<Command>) {
        let uid = self.uid.clone();
        if let Some((token, op)) = self.revoking.take() {
            let mut slot = Some(op);
            match Op::settle(&mut slot) {
                None => self.revoking = slot.map(|op| (token, op)),
                Some(Ok(())) => {
                    if let Some(list) = self.tokens.data_mut() {
                        list.retain(|t| t.auth_token != token);
                    }
                    out.push(Command::Toast(Toast::success(format!(
                        "Revoked token {} of {uid}",
                        token.masked()
                    ))));
                    self.reload(out);
                }
                Some(Err(e)) => {
                    let x = errors::explain(&e);
                    out.push(Command::Toast(Toast::error(format!(
                        "Could not revoke token {}: {}",
                        token.masked(),
                        x.title.to_lowercase()
                    ))));
                }
            }
        }
    }

    fn settle_revoke_all(&mut self, out: &mut Vec<Command>) {
        let uid = self.uid.clone();
        if let Some(c) = &mut self.revoke_all
            && let Some(result) = Op::settle(&mut c.op)
        {
            c.confirm.busy = false;
            match result {
                Ok(()) => {
                    let n = self.tokens.data().map_or(0, Vec::len);
                    if let Some(list) = self.tokens.data_mut() {
                        list.clear();
                    }
                    self.revealed.clear();
                    out.push(Command::Toast(Toast::success(format!(
                        "Revoked {} of {uid}",
                        tokens_word(n)
                    ))));
                    self.revoke_all = None;
                    self.reload(out);
                }
                Err(e) => {
                    let x = errors::explain(&e);
                    c.confirm.error = Some(format!("{} — {}", x.title, x.body));
                }
            }
        }
    }

    fn settle_delete(&mut self, out: &mut Vec<Command>, effects: &mut Vec<Effect>) {
        let uid = self.uid.clone();
        if let Some(c) = &mut self.delete
            && let Some(result) = Op::settle(&mut c.op)
        {
            c.confirm.busy = false;
            match result {
                Ok(()) => {
                    out.push(Command::Toast(Toast::success(format!(
                        "Deleted user {uid} permanently"
                    ))));
                    self.delete = None;
                    effects.push(Effect::Deleted(uid.clone()));
                }
                Err(e) => {
                    let x = errors::explain(&e);
                    c.confirm.error = Some(format!("{} — {}", x.title, x.body));
                }
            }
        }
    }

    fn settle_status(&mut self, out: &mut Vec<Command>, effects: &mut Vec<Effect>) {
        let uid = self.uid.clone();
        if let Some(result) = Op::settle(&mut self.status_op) {
            match result {
                Ok(active) => {
                    out.push(Command::Toast(Toast::success(if active {
                        format!("Reactivated {uid}")
                    } else {
                        format!("Deactivated {uid}; their tokens stop working until reactivated")
                    })));
                    effects.push(Effect::Deactivated(uid.clone(), !active));
                    self.reload(out);
                }
                Err(e) => {
                    let x = errors::explain(&e);
                    out.push(Command::Toast(Toast::error(format!(
                        "Could not change {uid}: {}",
                        x.title.to_lowercase()
                    ))));
                }
            }
        }
    }

    fn settle_view_as(&mut self) {
        if let Some(result) = Op::settle(&mut self.view_as_op) {
            self.view_as_result = Some(match result {
                Ok(u) => Ok((self.view_as.trim().to_lowercase(), u)),
                Err(e) if e.kind == ErrorKind::NotFound => Err(format!("Not found: {}", e.message)),
                Err(e) => {
                    let x = errors::explain(&e);
                    Err(format!("{} — {}", x.title, x.body))
                }
            });
        }
    }

    /// Masks the fresh token once its time is up, and every token shown in clear when the
    /// window loses focus (someone else may be looking at the screen now).
    fn mask_on_time_or_focus(&mut self, ctx: &egui::Context) {
        let (time, focused) = ctx.input(|i| (i.time, i.focused));
        if !focused {
            self.revealed.clear();
            self.fresh_masks_at = None;
            self.fresh_clock_pending = false;
            return;
        }
        if std::mem::take(&mut self.fresh_clock_pending) {
            self.fresh_masks_at = Some(time + FRESH_TOKEN_SHOWN_SECS);
        }
        if let Some(at) = self.fresh_masks_at {
            if time >= at {
                if let Some(hash) = &self.fresh {
                    self.revealed.remove(hash);
                }
                self.fresh_masks_at = None;
            } else {
                ctx.request_repaint_after_secs((at - time) as f32);
            }
        }
    }

    /// Draws the pane; returns true when it is closed.
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        user: Option<&User>,
        loading: bool,
        now: i64,
        rec: &Recorder,
        out: &mut Vec<Command>,
    ) -> bool {
        self.mask_on_time_or_focus(ui.ctx());
        let mut close = false;
        let Some(user) = user else {
            // A spinner only while something that can bring the user is on its way.
            if loading {
                ui.horizontal(|ui| {
                    ui.spinner();
                    widgets::muted(ui, format!("Opening {}…", self.uid));
                });
            } else {
                widgets::muted(ui, format!("{} is not among the loaded users.", self.uid));
                ui.horizontal(|ui| {
                    if ui.button(format!("Look up {}", self.uid)).clicked() {
                        out.push(own(UsersCommand::OpenByUid(self.uid.clone())));
                    }
                    if ui.button("Close").clicked() {
                        close = true;
                    }
                });
            }
            return close;
        };
        let dark = ui.visuals().dark_mode;
        ui.add_space(theme::SPACE_XS);
        ui.horizontal(|ui| {
            super::avatar_ui(ui, &user.name, 40.0);
            ui.vertical(|ui| {
                ui.label(RichText::new(&user.name).heading().strong());
                ui.horizontal(|ui| {
                    ui.label(RichText::new(&user.uid).monospace());
                    if text_button(ui, "Copy", &format!("Copy uid {}", user.uid)).clicked() {
                        out.push(Command::Copy {
                            value: Secret::new(user.uid.clone()),
                            what: format!("uid {}", user.uid),
                        });
                    }
                });
            });
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Min), |ui| {
                if widgets::icon_button(ui, "✕", "Close user details").clicked() {
                    close = true;
                }
                if ui
                    .button("Edit…")
                    .on_hover_text("Change the name, avatar, link, role, tags or metadata")
                    .clicked()
                {
                    out.push(own(UsersCommand::Edit(user.uid.clone())));
                }
            });
        });
        ui.horizontal_wrapped(|ui| {
            super::status_ui(ui, user.is_deactivated(), &user.status, dark);
            widgets::badge(ui, &format!("role · {}", user.role), theme::neutral(dark));
            for t in user.tags.iter().flatten() {
                widgets::badge(ui, t, theme::tone(Tone::Info, dark));
            }
        });
        ui.add_space(theme::SPACE_S);

        egui::ScrollArea::vertical()
            .id_salt("users-detail-scroll")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                self.tokens_ui(ui, user, now, rec, out);
                ui.add_space(theme::SPACE_M);
                self.profile_ui(ui, user, now);
                ui.add_space(theme::SPACE_M);
                self.view_as_ui(ui, user, out);
                ui.add_space(theme::SPACE_M);
                self.danger_ui(ui, user, out);
                ui.add_space(theme::SPACE_L);
            });

        self.dialogs_ui(ui.ctx(), out);
        close
    }

    fn tokens_ui(
        &mut self,
        ui: &mut Ui,
        user: &User,
        now: i64,
        rec: &Recorder,
        out: &mut Vec<Command>,
    ) {
        theme::card_frame(ui.visuals()).show(ui, |ui| {
            ui.set_width(ui.available_width());
            self.tokens_header_ui(ui);
            ui.add_space(theme::SPACE_XS);
            self.issue_ui(ui, user, out);
            widgets::muted(ui, "Ctrl+Shift+C issues a token and copies it");
            ui.add_space(theme::SPACE_S);

            if user.is_deactivated() {
                widgets::message(
                    ui,
                    Tone::Warning,
                    "This user is deactivated",
                    "Their tokens do not work and no new one can be issued. Reactivate the user first.",
                    &[],
                );
                return;
            }
            if let Some(e) = self.tokens.error() {
                let x = errors::explain(e);
                if widgets::message(ui, Tone::Error, &format!("Could not load the tokens: {}", x.title.to_lowercase()), &x.body, &["Retry"]).is_some() {
                    self.reload(out);
                }
            }
            match self.tokens.data() {
                None => {
                    if self.tokens.is_pending() {
                        widgets::muted(ui, "Loading tokens…");
                    }
                }
                Some(list) if list.is_empty() => {
                    widgets::muted(ui, "No auth tokens. Issue one to let this user sign in.");
                }
                Some(list) => {
                    let mut reveal_changes: Vec<(String, bool)> = Vec::new();
                    let mut asking = None;
                    for t in list {
                        reveal_changes.extend(self.token_ui(ui, t, now, rec, &mut asking, out));
                        ui.add_space(2.0);
                    }
                    if asking.is_some() {
                        self.revoke_one = asking;
                    }
                    for (h, on) in reveal_changes {
                        // Shown or hidden by hand: the user decides now, not the clock.
                        if self.fresh.as_ref() == Some(&h) {
                            self.fresh_masks_at = None;
                        }
                        if on {
                            self.revealed.insert(h);
                        } else {
                            self.revealed.remove(&h);
                        }
                    }
                }
            }
        });
    }

    /// "Auth tokens (n)" and Revoke all….
    fn tokens_header_ui(&mut self, ui: &mut Ui) {
        let count = self.tokens.data().map(Vec::len);
        ui.horizontal(|ui| {
            let title = match count {
                Some(n) => format!("Auth tokens ({n})"),
                None => "Auth tokens".to_owned(),
            };
            ui.label(RichText::new(title).strong().size(15.0));
            if self.tokens.is_pending() {
                ui.spinner();
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let n = count.unwrap_or(0);
                let r = ui.add_enabled(n > 0, egui::Button::new("Revoke all…"));
                if r.clicked() {
                    self.revoke_all = Some(Confirming {
                        confirm: ConfirmDialog::new(
                            format!("Revoke all {} of {}?", tokens_word(n), self.uid),
                            format!(
                                "Every app or device signed in as {} with these tokens is signed out at once. The user stays; you can issue a new token afterwards.",
                                self.uid
                            ),
                            format!("Revoke {} of {}", tokens_word(n), self.uid),
                        )
                        .guarded(&tokens::revoke_all_guard(self.environment, &self.uid)),
                        op: None,
                    });
                }
            });
        });
    }

    /// Issue token, and whether to force a new one.
    fn issue_ui(&mut self, ui: &mut Ui, user: &User, out: &mut Vec<Command>) {
        let dark = ui.visuals().dark_mode;
        ui.horizontal(|ui| {
            let busy = self.issuing.is_some();
            let label = if busy { "Issuing…" } else { "Issue token" };
            if ui
                .add_enabled(
                    !busy && !user.is_deactivated(),
                    egui::Button::new(RichText::new(label).strong())
                        .fill(theme::accent(dark).gamma_multiply(0.35)),
                )
                .on_hover_text("Ctrl+Shift+C issues a token and copies it")
                .clicked()
            {
                out.push(own(UsersCommand::IssueToken {
                    uid: self.uid.clone(),
                    force: self.force,
                    copy: false,
                }));
            }
            ui.checkbox(&mut self.force, "Force a new token")
                .on_hover_text("Off: the API hands back the user's latest token when there is one");
        });
    }

    /// One token: its value (masked unless revealed), actions and facts. Returns a change of
    /// whether it is revealed, applied once the list is drawn.
    fn token_ui(
        &self,
        ui: &mut Ui,
        t: &AuthToken,
        now: i64,
        rec: &Recorder,
        asking: &mut Option<(Secret, ConfirmDialog)>,
        out: &mut Vec<Command>,
    ) -> Option<(String, bool)> {
        let dark = ui.visuals().dark_mode;
        let hash = key_sha256(&t.auth_token);
        let fresh = self.fresh.as_deref() == Some(hash.as_str());
        let frame = egui::Frame::new()
            .fill(if fresh {
                theme::tone(Tone::Success, dark).bg
            } else {
                ui.visuals().extreme_bg_color
            })
            .corner_radius(egui::CornerRadius::same(theme::CORNER))
            .inner_margin(egui::Margin::symmetric(10, 6));
        let mut change = None;
        frame.show(ui, |ui| {
            ui.set_width(ui.available_width());
            let presenting = widgets::presentation_mode(ui.ctx());
            let mut revealed = !presenting && self.revealed.contains(&hash);
            let text = if revealed {
                t.auth_token.expose().to_owned()
            } else {
                // The first characters and a fixed row of dots: the length
                // stays hidden, and rows line up.
                format!(
                    "{}{}",
                    t.auth_token.masked().trim_end_matches('…'),
                    "•".repeat(16)
                )
            };
            let row = TokenRow {
                token: t,
                name: format!("auth token {}", t.auth_token.masked()),
                presenting,
            };
            ui.horizontal(|ui| {
                ui.spacing_mut().item_spacing.x = 4.0;
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if self.token_actions_ui(ui, &row, &mut revealed, rec, asking, out) {
                        change = Some((hash.clone(), revealed));
                    }
                    ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                        if fresh {
                            widgets::badge(ui, "new", theme::tone(Tone::Success, dark));
                        }
                        ui.add(
                            egui::Label::new(RichText::new(text).monospace())
                                .truncate()
                                // Copies go through Copy (cleared later).
                                .selectable(false),
                        );
                    });
                });
            });
            token_facts_ui(ui, t, now, dark);
        });
        change
    }

    /// Revoke…, Copy and Show/Hide (right to left); returns whether Show/Hide flipped
    /// `revealed`. Revoke… puts its question in `asking`.
    fn token_actions_ui(
        &self,
        ui: &mut Ui,
        row: &TokenRow<'_>,
        revealed: &mut bool,
        rec: &Recorder,
        asking: &mut Option<(Secret, ConfirmDialog)>,
        out: &mut Vec<Command>,
    ) -> bool {
        let (t, name) = (row.token, &row.name);
        let revoking = self
            .revoking
            .as_ref()
            .is_some_and(|(s, _)| s == &t.auth_token);
        let r = ui.add_enabled(
            self.revoking.is_none(),
            egui::Button::new(if revoking { "Revoking…" } else { "Revoke…" }),
        );
        let label = format!("Revoke {name}…");
        ui.ctx()
            .accesskit_node_builder(r.id, |n| n.set_label(label));
        if r.clicked() {
            *asking = Some((
                t.auth_token.clone(),
                ConfirmDialog::new(
                    format!("Revoke {name} of {}?", self.uid),
                    format!(
                        "Any app or device signed in as {} with this token is signed out at once. Their other tokens keep working.",
                        self.uid
                    ),
                    format!("Revoke {name}"),
                )
                .guarded(&tokens::revoke_guard()),
            ));
        }
        ui.add_space(theme::SPACE_XS);
        if text_button(ui, "Copy", &format!("Copy {name}")).clicked() {
            out.push(Command::Copy {
                value: t.auth_token.clone(),
                what: format!("an auth token of {}", self.uid),
            });
        }
        let (button, verb) = if *revealed {
            ("Hide", "Hide")
        } else {
            ("Show", "Reveal")
        };
        if row.presenting || !text_button(ui, button, &format!("{verb} {name}")).clicked() {
            return false;
        }
        *revealed = !*revealed;
        if *revealed {
            rec.record(
                "token.revealed",
                &format!("auth token {} of {}", t.auth_token.masked(), self.uid),
                Ok(()),
            );
        }
        true
    }

    fn profile_ui(&mut self, ui: &mut Ui, user: &User, now: i64) {
        ui.label(RichText::new("Profile").strong().size(15.0));
        ui.add_space(theme::SPACE_XS);
        egui::Grid::new("users-profile")
            .num_columns(2)
            .spacing([16.0, 6.0])
            .show(ui, |ui| {
                let row = |ui: &mut Ui, k: &str, v: String| {
                    widgets::muted(ui, k);
                    ui.add(egui::Label::new(v).wrap());
                    ui.end_row();
                };
                row(
                    ui,
                    "Created",
                    format!(
                        "{} ({})",
                        widgets::date(user.created_at),
                        widgets::ago(now, user.created_at)
                    ),
                );
                if let Some(t) = user.last_active_at {
                    row(ui, "Last active", widgets::ago(now, t));
                }
                if let Some(t) = user.deactivated_at {
                    row(ui, "Deactivated", widgets::date(t));
                }
                if let Some(s) = user.status_message.as_ref().filter(|s| !s.is_empty()) {
                    row(ui, "Status message", s.clone());
                }
                if let Some(l) = &user.link {
                    widgets::muted(ui, "Link");
                    ui.hyperlink(l);
                    ui.end_row();
                }
                if let Some(a) = &user.avatar {
                    widgets::muted(ui, "Avatar");
                    ui.hyperlink_to(truncate(a, 48), a);
                    ui.end_row();
                }
            });
        ui.add_space(theme::SPACE_S);
        ui.label(RichText::new("Metadata").strong());
        match &user.metadata {
            Some(m) => {
                let text = serde_json::to_string_pretty(m).unwrap_or_default();
                egui::Frame::new()
                    .fill(ui.visuals().extreme_bg_color)
                    .corner_radius(egui::CornerRadius::same(theme::CORNER))
                    .inner_margin(egui::Margin::same(8))
                    .show(ui, |ui| {
                        ui.set_width(ui.available_width());
                        ui.add(egui::Label::new(RichText::new(text).monospace()).wrap());
                    });
            }
            None => {
                widgets::muted(ui, "None");
            }
        }
    }

    fn view_as_ui(&mut self, ui: &mut Ui, user: &User, out: &mut Vec<Command>) {
        egui::CollapsingHeader::new(RichText::new("View as another user").strong())
            .id_salt("users-view-as")
            .show(ui, |ui| {
                widgets::muted(
                    ui,
                    format!(
                        "What the API returns for {} to another user (onBehalfOf).",
                        user.uid
                    ),
                );
                let problem = crate::model::uid::check_uid(&self.view_as).err();
                ui.horizontal(|ui| {
                    let label_id = ui.label("Viewer uid").id;
                    let r = ui
                        .add(
                            egui::TextEdit::singleline(&mut self.view_as)
                                .hint_text("e.g. support-agent")
                                .desired_width(180.0),
                        )
                        .labelled_by(label_id);
                    let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                    let busy = self.view_as_op.is_some();
                    if (ui
                        .add_enabled(
                            problem.is_none() && !busy,
                            egui::Button::new("View as user"),
                        )
                        .clicked()
                        || (enter && problem.is_none()))
                        && !busy
                    {
                        out.push(own(UsersCommand::ViewAs {
                            uid: self.uid.clone(),
                            viewer: self.view_as.trim().to_lowercase(),
                        }));
                    }
                    if busy {
                        ui.spinner();
                    }
                });
                if let Some(p) = problem.filter(|_| !self.view_as.is_empty()) {
                    widgets::field_error(ui, &p.to_string());
                }
                match &self.view_as_result {
                    Some(Ok((viewer, u))) => {
                        ui.add_space(theme::SPACE_XS);
                        egui::Grid::new("users-view-as-grid")
                            .num_columns(2)
                            .show(ui, |ui| {
                                widgets::muted(ui, "As seen by");
                                ui.label(RichText::new(viewer).monospace());
                                ui.end_row();
                                widgets::muted(ui, "Conversation id");
                                ui.label(
                                    RichText::new(u.conversation_id.as_deref().unwrap_or("—"))
                                        .monospace(),
                                );
                                ui.end_row();
                                widgets::muted(ui, "Blocked by viewer");
                                ui.label(yes_no(u.blocked_by_me));
                                ui.end_row();
                                widgets::muted(ui, "Has blocked viewer");
                                ui.label(yes_no(u.has_blocked_me));
                                ui.end_row();
                                widgets::muted(ui, "Status");
                                ui.label(&u.status);
                                ui.end_row();
                            });
                    }
                    Some(Err(e)) => widgets::field_error(ui, e),
                    None => {}
                }
            });
    }

    fn danger_ui(&mut self, ui: &mut Ui, user: &User, out: &mut Vec<Command>) {
        ui.label(RichText::new("Account").strong().size(15.0));
        ui.add_space(theme::SPACE_XS);
        ui.horizontal_wrapped(|ui| {
            let busy = self.status_op.is_some();
            if user.is_deactivated() {
                if ui.add_enabled(!busy, egui::Button::new("Reactivate user")).clicked() {
                    out.push(own(UsersCommand::Reactivate(self.uid.clone())));
                }
            } else if ui
                .add_enabled(!busy, egui::Button::new("Deactivate user…"))
                .on_hover_text("Signs the user out and hides them from lists; reversible")
                .clicked()
            {
                self.deactivate = Some(
                    ConfirmDialog::new(
                        format!("Deactivate {}?", self.uid),
                        format!(
                            "{} ({}) is signed out at once: their auth tokens stop working and they leave the lists until you reactivate them.",
                            user.name, self.uid
                        ),
                        format!("Deactivate user {}", self.uid),
                    )
                    .guarded(&users::deactivate_guard()),
                );
            }
            if busy {
                ui.spinner();
            }
            let dark = ui.visuals().dark_mode;
            let danger = theme::tone(Tone::Error, dark).fg;
            if ui
                .button(RichText::new(format!("Delete user {} permanently…", self.uid)).color(danger))
                .clicked()
            {
                let n = self.tokens.data().map_or(0, Vec::len);
                self.delete = Some(Confirming {
                    confirm: ConfirmDialog::new(
                        format!("Delete user {} permanently?", self.uid),
                        format!(
                            "{} ({}) and {} are removed for good. This cannot be undone; deactivating is the reversible choice.",
                            user.name,
                            self.uid,
                            tokens_word(n)
                        ),
                        format!("Delete user {}", self.uid),
                    )
                    .guarded(&users::delete_guard(self.environment, &self.uid)),
                    op: None,
                });
            }
        });
    }

    fn dialogs_ui(&mut self, ctx: &egui::Context, out: &mut Vec<Command>) {
        if let Some((token, confirm)) = &mut self.revoke_one {
            match confirm.ui(ctx) {
                ConfirmOutcome::Confirmed => {
                    out.push(own(UsersCommand::RevokeToken {
                        uid: self.uid.clone(),
                        token: token.clone(),
                    }));
                    self.revoke_one = None;
                }
                ConfirmOutcome::Cancelled => self.revoke_one = None,
                ConfirmOutcome::Open => {}
            }
        }
        if let Some(confirm) = &mut self.deactivate {
            match confirm.ui(ctx) {
                ConfirmOutcome::Confirmed => {
                    out.push(own(UsersCommand::Deactivate(self.uid.clone())));
                    self.deactivate = None;
                }
                ConfirmOutcome::Cancelled => self.deactivate = None,
                ConfirmOutcome::Open => {}
            }
        }
        if let Some(c) = &mut self.revoke_all {
            match c.confirm.ui(ctx) {
                ConfirmOutcome::Confirmed if c.op.is_none() => {
                    out.push(own(UsersCommand::RevokeAll(self.uid.clone())));
                }
                ConfirmOutcome::Cancelled if c.op.is_none() => self.revoke_all = None,
                _ => {}
            }
        }
        if let Some(c) = &mut self.delete {
            match c.confirm.ui(ctx) {
                ConfirmOutcome::Confirmed if c.op.is_none() => {
                    out.push(own(UsersCommand::DeletePermanently(self.uid.clone())));
                }
                ConfirmOutcome::Cancelled if c.op.is_none() => self.delete = None,
                _ => {}
            }
        }
    }
}

/// What a token row's actions need to know of the row.
struct TokenRow<'a> {
    token: &'a AuthToken,
    /// "auth token abc…", what the row's buttons are labelled after.
    name: String,
    /// Presentation mode: no value is shown, and there is no Show button.
    presenting: bool,
}

/// When a token was created, for which platform, by which agent.
fn token_facts_ui(ui: &mut Ui, t: &AuthToken, now: i64, dark: bool) {
    let mut facts = vec![format!(
        "created {} ({})",
        widgets::age(now, t.created_at),
        widgets::date(t.created_at)
    )];
    facts.push(format!(
        "platform {}",
        t.platform.as_deref().unwrap_or("any")
    ));
    if let Some(a) = &t.user_agent {
        facts.push(format!("agent {a}"));
    }
    ui.add(
        egui::Label::new(
            RichText::new(facts.join("  ·  "))
                .small()
                .color(theme::muted(dark)),
        )
        .truncate(),
    );
}

/// "1 token", "3 tokens".
pub fn tokens_word(n: usize) -> String {
    if n == 1 {
        "1 token".to_owned()
    } else {
        format!("{n} tokens")
    }
}

fn yes_no(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "—",
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(n).collect();
        t.push('…');
        t
    }
}

/// A small frameless text button whose accessible name says what it acts on; the default
/// fonts have no emoji, so icons would draw as boxes.
fn text_button(ui: &mut Ui, text: &str, name: &str) -> egui::Response {
    let r = ui.add(egui::Button::new(RichText::new(text).small()).small());
    let label = name.to_owned();
    ui.ctx()
        .accesskit_node_builder(r.id, |n| n.set_label(label));
    r.on_hover_text(name)
}
