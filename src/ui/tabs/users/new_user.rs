//! The New user dialog, and the same form to edit a user (Edit… in the detail pane): every
//! field checked as it is typed, the error under the field, the uid shown as it will be stored,
//! and nothing lost when the request fails.

use std::collections::HashMap;

use egui::RichText;
use poll_promise::Promise;

use crate::core::errors::{self, Explained};
use crate::model::uid;
use crate::providers::ApiError;
use crate::providers::cometchat::{NewUser, User, UserUpdate};
use crate::ui::remote::Op;
use crate::ui::theme::{self, Tone};
use crate::ui::widgets;

pub enum Outcome {
    Open,
    Submit(Box<NewUser>),
    /// Save the changes to an existing user: (uid, the update).
    Save(String, Box<UserUpdate>),
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
    /// The user being edited (its uid cannot change); `None` for a new user.
    editing: Option<User>,
    /// The fields as the form opened, to tell a changed form from an untouched one.
    original: [String; 7],
}

impl NewUserDialog {
    /// The form over an existing user, filled in with what the server holds.
    pub fn edit(user: &User) -> Self {
        let mut d = Self {
            uid: user.uid.clone(),
            name: user.name.clone(),
            avatar: user.avatar.clone().unwrap_or_default(),
            link: user.link.clone().unwrap_or_default(),
            role: user.role.clone(),
            tags: user.tags.as_deref().unwrap_or_default().join(", "),
            metadata: user
                .metadata
                .as_ref()
                .filter(|m| !m.is_null())
                .and_then(|m| serde_json::to_string_pretty(m).ok())
                .unwrap_or_default(),
            editing: Some(user.clone()),
            ..Self::default()
        };
        d.original = d.fields();
        d
    }

    /// The uid of the user being edited, when this is the edit form.
    pub fn editing(&self) -> Option<&str> {
        self.editing.as_ref().map(|u| u.uid.as_str())
    }

    fn fields(&self) -> [String; 7] {
        [
            &self.uid,
            &self.name,
            &self.avatar,
            &self.link,
            &self.role,
            &self.tags,
            &self.metadata,
        ]
        .map(|s| s.trim().to_owned())
    }

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
        // Editing, the uid cannot be changed: a word about it could never be cleared, so it
        // stays in the message above the buttons only.
        let fields: &[&'static str] = if self.editing.is_some() {
            &["name", "avatar", "link", "role", "tags", "metadata"]
        } else {
            &["uid", "name", "avatar", "link", "role", "tags", "metadata"]
        };
        for &field in fields {
            if let Some(msg) = e.field_errors(field).first() {
                self.server.insert(field, msg.clone());
            }
        }
        if e.is_code("ERR_UID_ALREADY_EXISTS") && self.editing.is_none() {
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
        self.fields() != self.original
    }

    /// Why Create user (or Save changes) is disabled, in words, or None when it is not (busy
    /// aside).
    fn blocker(&self, valid: bool) -> Option<&'static str> {
        if self.editing.is_some() && !self.is_dirty() {
            Some("Nothing is changed yet")
        } else if self.uid.trim().is_empty() {
            Some("Fill in the user ID (uid)")
        } else if self.name.trim().is_empty() {
            Some("Fill in the display name")
        } else if !self.server.is_empty() {
            Some("Change the field the server refused")
        } else if !valid {
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

    /// The changes this edit form makes, or the first problem: every field is sent; a field
    /// emptied that the user had is cleared (`unset`).
    fn build_update(&self) -> Result<UserUpdate, ()> {
        let Some(before) = &self.editing else {
            return Err(());
        };
        let mut update = UserUpdate {
            name: Some(uid::check_name(&self.name).map_err(|_| ())?),
            role: Some(
                uid::check_role(&self.role)
                    .map_err(|_| ())?
                    .unwrap_or_else(|| "default".to_owned()),
            ),
            ..UserUpdate::default()
        };
        let tags = uid::parse_tags(&self.tags).map_err(|_| ())?;
        let avatar = uid::check_url(&self.avatar).map_err(|_| ())?;
        let link = uid::check_url(&self.link).map_err(|_| ())?;
        let metadata = uid::parse_metadata(&self.metadata).map_err(|_| ())?;
        let had = [
            ("avatar", before.avatar.is_some(), avatar.is_none()),
            ("link", before.link.is_some(), link.is_none()),
            ("metadata", before.metadata.is_some(), metadata.is_none()),
            (
                "tags",
                before.tags.as_ref().is_some_and(|t| !t.is_empty()),
                tags.is_empty(),
            ),
        ];
        update.unset = had
            .iter()
            .filter(|(_, had, now_empty)| *had && *now_empty)
            .map(|(field, _, _)| (*field).to_owned())
            .collect();
        (update.avatar, update.link, update.metadata) = (avatar, link, metadata);
        update.tags = (!tags.is_empty()).then_some(tags);
        Ok(update)
    }

    pub fn ui(&mut self, ctx: &egui::Context) -> Outcome {
        let mut outcome = Outcome::Open;
        let busy = self.op.is_some();
        let modal = widgets::dialog(ctx, egui::Id::unique("users-new"), |ui| {
            ui.set_width(500.0);
            match &self.editing {
                Some(u) => ui.heading(format!("Edit user {}", u.uid)),
                None => ui.heading("New user"),
            };
            ui.add_space(theme::SPACE_S);
            let mut enter = if self.editing.is_some() {
                self.fixed_uid_ui(ui);
                false
            } else {
                self.uid_ui(ui)
            };
            enter |= self.fields_ui(ui);
            self.metadata_ui(ui);
            if self.editing.is_none() {
                ui.checkbox(&mut self.with_token, "Issue an auth token now");
            }

            if let Some(x) = &self.error {
                ui.add_space(theme::SPACE_S);
                widgets::message(ui, Tone::Error, &x.title, &x.body, &[]);
            }
            ui.add_space(theme::SPACE_M);
            if self.asking_to_discard {
                let title = if self.editing.is_some() {
                    "Discard your changes to this user?"
                } else {
                    "Discard this new user?"
                };
                if widgets::discard_prompt_ui(
                    ui,
                    title,
                    "What you typed will be lost.",
                    &mut self.asking_to_discard,
                ) {
                    outcome = Outcome::Close;
                }
                return;
            }
            ui.horizontal(|ui| self.buttons_ui(ui, enter, busy, &mut outcome));
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

    /// The uid of the user being edited: shown, not editable (it names the user).
    fn fixed_uid_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            widgets::muted(ui, "User ID (uid)");
            ui.label(RichText::new(&self.uid).monospace());
        });
        widgets::muted(
            ui,
            "A uid cannot change; create a new user for another one.",
        );
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
        let (enter_name, name) = self.field(ui, "name", "Display name", "e.g. Jane Doe", |s| {
            uid::check_name(s).map(|_| ())
        });
        let mut enter = enter_name;
        // Editing: the uid is fixed, so the name is where typing starts.
        if self.editing.is_some() && !self.focused_once {
            name.request_focus();
            self.focused_once = true;
        }
        ui.columns(2, |cols| {
            enter |= self
                .field(&mut cols[0], "avatar", "Avatar URL", "https://…", |s| {
                    uid::check_url(s).map(|_| ())
                })
                .0;
            enter |= self
                .field(&mut cols[1], "link", "Profile link", "https://…", |s| {
                    uid::check_url(s).map(|_| ())
                })
                .0;
        });
        ui.columns(2, |cols| {
            enter |= self
                .field(&mut cols[0], "role", "User role", "default", |s| {
                    uid::check_role(s).map(|_| ())
                })
                .0;
            enter |= self
                .field(
                    &mut cols[1],
                    "tags",
                    "Tags (comma-separated)",
                    "e.g. vip, beta",
                    |s| uid::parse_tags(s).map(|_| ()),
                )
                .0;
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

    /// Create user (or Save changes) / Cancel: sets `outcome` (Cancel on a changed form asks
    /// first).
    fn buttons_ui(&mut self, ui: &mut egui::Ui, enter: bool, busy: bool, outcome: &mut Outcome) {
        let submit = match &self.editing {
            Some(u) => self
                .build_update()
                .map(|update| Outcome::Save(u.uid.clone(), Box::new(update))),
            None => self.build().map(|new| Outcome::Submit(Box::new(new))),
        };
        let blocker = self.blocker(submit.is_ok());
        let valid = blocker.is_none() && !busy;
        let label = match (self.editing.is_some(), busy) {
            (false, false) => "Create user",
            (false, true) => "Creating…",
            (true, false) => "Save changes",
            (true, true) => "Saving…",
        };
        let create = ui.add_enabled(valid, egui::Button::new(RichText::new(label).strong()));
        if (create.clicked() || (enter && valid))
            && let Ok(submit) = submit
        {
            *outcome = submit;
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
    ) -> (bool, egui::Response) {
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
        let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        (enter, r)
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
