//! The New user dialog: every field checked as it is typed, the error under the field, the uid
//! shown as it will be stored, and nothing lost when the request fails.

use std::collections::HashMap;

use egui::RichText;
use poll_promise::Promise;

use crate::core::errors::{self, Explained};
use crate::model::uid;
use crate::providers::ApiError;
use crate::providers::cometchat::{NewUser, User};
use crate::ui::remote::Op;
use crate::ui::theme::{self, Tone};
use crate::ui::widgets;

pub enum Outcome {
    Open,
    Submit(Box<NewUser>),
    Close,
}

#[derive(Default)]
pub struct NewUserDialog {
    uid: String,
    name: String,
    avatar: String,
    link: String,
    role: String,
    tags: String,
    metadata: String,
    with_token: bool,
    op: Option<Op<User>>,
    error: Option<Explained>,
    /// Errors the server gave per field, cleared as soon as that field changes.
    server: HashMap<&'static str, String>,
    asking_to_discard: bool,
    focused_once: bool,
}

impl NewUserDialog {
    pub fn started(&mut self, p: Promise<Result<User, ApiError>>) {
        self.op = Some(Op::new(p));
        self.error = None;
    }

    pub fn settle(&mut self) -> Option<Result<User, ApiError>> {
        Op::settle(&mut self.op)
    }

    /// Keeps the form filled in and puts the server's words under the fields they concern.
    pub fn failed(&mut self, e: &ApiError) {
        self.server.clear();
        for field in ["uid", "name", "avatar", "link", "role", "tags", "metadata"] {
            if let Some(msg) = e.field_errors(field).first() {
                self.server.insert(field, msg.clone());
            }
        }
        if e.is_code("ERR_UID_ALREADY_EXISTS") {
            self.server.insert(
                "uid",
                format!(
                    "{} is taken; choose another uid",
                    self.uid.trim().to_lowercase()
                ),
            );
        }
        self.error = Some(errors::explain(e));
    }

    fn is_dirty(&self) -> bool {
        [
            &self.uid,
            &self.name,
            &self.avatar,
            &self.link,
            &self.role,
            &self.tags,
            &self.metadata,
        ]
        .iter()
        .any(|s| !s.trim().is_empty())
    }

    /// Why Create user is disabled, in words, or None when it is not (busy aside).
    fn blocker(&self, request: &Result<NewUser, ()>) -> Option<&'static str> {
        if self.uid.trim().is_empty() {
            Some("Fill in the user ID (uid)")
        } else if self.name.trim().is_empty() {
            Some("Fill in the display name")
        } else if !self.server.is_empty() {
            Some("Change the field the server refused")
        } else if request.is_err() {
            Some("Fix the field marked in red")
        } else {
            None
        }
    }

    /// The request this form makes, or the first problem.
    fn build(&self) -> Result<NewUser, ()> {
        let uid = uid::check_uid(&self.uid).map_err(|_| ())?;
        let name = uid::check_name(&self.name).map_err(|_| ())?;
        Ok(NewUser {
            uid,
            name,
            avatar: uid::check_url(&self.avatar).map_err(|_| ())?,
            link: uid::check_url(&self.link).map_err(|_| ())?,
            role: uid::check_role(&self.role).map_err(|_| ())?,
            status_message: None,
            metadata: uid::parse_metadata(&self.metadata).map_err(|_| ())?,
            tags: uid::parse_tags(&self.tags).map_err(|_| ())?,
            with_auth_token: self.with_token,
        })
    }

    pub fn ui(&mut self, ctx: &egui::Context) -> Outcome {
        let mut outcome = Outcome::Open;
        let busy = self.op.is_some();
        let modal = egui::Modal::new(egui::Id::unique("users-new")).show(ctx, |ui| {
            ui.set_width(500.0);
            ui.heading("New user");
            ui.add_space(theme::SPACE_S);
            let mut enter = self.uid_ui(ui);
            enter |= self.fields_ui(ui);
            self.metadata_ui(ui);
            ui.checkbox(&mut self.with_token, "Issue an auth token now");

            if let Some(x) = &self.error {
                ui.add_space(theme::SPACE_S);
                widgets::message(ui, Tone::Error, &x.title, &x.body, &[]);
            }
            ui.add_space(theme::SPACE_M);
            if self.asking_to_discard {
                if widgets::discard_prompt_ui(
                    ui,
                    "Discard this new user?",
                    "What you typed will be lost.",
                    &mut self.asking_to_discard,
                ) {
                    outcome = Outcome::Close;
                }
                return;
            }
            let request = self.build();
            ui.horizontal(|ui| self.buttons_ui(ui, &request, enter, busy, &mut outcome));
        });
        if modal.should_close() && matches!(outcome, Outcome::Open) && !busy {
            if self.is_dirty() {
                self.asking_to_discard = true;
            } else {
                outcome = Outcome::Close;
            }
        }
        outcome
    }

    /// The uid, lower-cased on the way in; the problem shows once something is typed. Returns
    /// whether Enter was pressed in it.
    fn uid_ui(&mut self, ui: &mut egui::Ui) -> bool {
        let uid_check = uid::check_uid(&self.uid);
        let uid_problem = self.server.get("uid").cloned().or_else(|| {
            uid_check
                .as_ref()
                .err()
                .filter(|_| !self.uid.is_empty())
                .map(ToString::to_string)
        });
        let before = self.uid.clone();
        let r = stable_field(
            ui,
            "uid",
            "User ID (uid)",
            &mut self.uid,
            "e.g. jane-doe",
            uid_problem.as_deref(),
        );
        if !self.focused_once {
            r.request_focus();
            self.focused_once = true;
        }
        if self.uid != before {
            self.server.remove("uid");
        }
        let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if let Ok(stored) = &uid_check
            && stored != &self.uid
        {
            widgets::muted(ui, format!("Stored as {stored}"));
        } else if self.uid.is_empty() {
            widgets::muted(
                ui,
                "a–z, 0–9, - and _; up to 100; capitals are stored lower-cased",
            );
        }
        enter
    }

    /// Name, avatar, link, role and tags; returns whether Enter was pressed in one of them.
    fn fields_ui(&mut self, ui: &mut egui::Ui) -> bool {
        let mut enter = self.field(ui, "name", "Display name", "e.g. Jane Doe", |s| {
            uid::check_name(s).map(|_| ())
        });
        ui.columns(2, |cols| {
            enter |= self.field(&mut cols[0], "avatar", "Avatar URL", "https://…", |s| {
                uid::check_url(s).map(|_| ())
            });
            enter |= self.field(&mut cols[1], "link", "Profile link", "https://…", |s| {
                uid::check_url(s).map(|_| ())
            });
        });
        ui.columns(2, |cols| {
            enter |= self.field(&mut cols[0], "role", "User role", "default", |s| {
                uid::check_role(s).map(|_| ())
            });
            enter |= self.field(
                &mut cols[1],
                "tags",
                "Tags (comma-separated)",
                "e.g. vip, beta",
                |s| uid::parse_tags(s).map(|_| ()),
            );
        });
        enter
    }

    fn metadata_ui(&mut self, ui: &mut egui::Ui) {
        let meta_problem = self
            .server
            .get("metadata")
            .cloned()
            .or_else(|| uid::parse_metadata(&self.metadata).err());
        let before = self.metadata.clone();
        widgets::field_frame(
            ui,
            "Metadata (JSON)",
            meta_problem.as_deref(),
            |ui, label_id| {
                ui.add(
                    egui::TextEdit::multiline(&mut self.metadata)
                        .font(egui::TextStyle::Monospace)
                        .hint_text("{\"plan\": \"pro\"}")
                        .desired_rows(3)
                        .desired_width(f32::INFINITY),
                )
                .labelled_by(label_id)
            },
        );
        if self.metadata != before {
            self.server.remove("metadata");
        }
    }

    /// Create user / Cancel: sets `outcome` (Cancel on a filled-in form asks first).
    fn buttons_ui(
        &mut self,
        ui: &mut egui::Ui,
        request: &Result<NewUser, ()>,
        enter: bool,
        busy: bool,
        outcome: &mut Outcome,
    ) {
        let blocker = self.blocker(request);
        let valid = blocker.is_none() && !busy;
        let label = if busy { "Creating…" } else { "Create user" };
        let create = ui.add_enabled(valid, egui::Button::new(RichText::new(label).strong()));
        if (create.clicked() || (enter && valid))
            && let Ok(new) = request
        {
            *outcome = Outcome::Submit(Box::new(new.clone()));
        }
        if ui.button("Cancel").clicked() {
            if self.is_dirty() {
                self.asking_to_discard = true;
            } else {
                *outcome = Outcome::Close;
            }
        }
        if busy {
            ui.spinner();
        } else {
            widgets::disabled_reason_ui(ui, create, blocker);
        }
    }

    /// One single-line field: its own check, or the server's word, under it.
    fn field(
        &mut self,
        ui: &mut egui::Ui,
        key: &'static str,
        label: &str,
        hint: &str,
        check: impl Fn(&str) -> Result<(), String>,
    ) -> bool {
        let text = match key {
            "name" => &mut self.name,
            "avatar" => &mut self.avatar,
            "link" => &mut self.link,
            "role" => &mut self.role,
            _ => &mut self.tags,
        };
        let problem = self
            .server
            .get(key)
            .cloned()
            .or_else(|| check(text).err().filter(|_| !text.is_empty()));
        let before = text.clone();
        let r = stable_field(ui, key, label, text, hint, problem.as_deref());
        let changed = *text != before;
        if changed {
            self.server.remove(key);
        }
        r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter))
    }
}

/// A labelled single-line field with its error underneath, whose id does not depend on how
/// many error lines are shown above it (an auto id would, and focus would jump).
fn stable_field(
    ui: &mut egui::Ui,
    key: &str,
    label: &str,
    text: &mut String,
    hint: &str,
    error: Option<&str>,
) -> egui::Response {
    widgets::field_frame(ui, label, error, |ui, label_id| {
        ui.add(
            egui::TextEdit::singleline(text)
                .id_salt(("users-new", key))
                .hint_text(hint)
                .desired_width(f32::INFINITY),
        )
        .labelled_by(label_id)
    })
}
