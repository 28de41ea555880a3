//! Connections: add, edit, duplicate and remove CometChat app and Management connections;
//! test one and say in plain words what its credential can do.

use egui::{RichText, Ui};
use poll_promise::Promise;

use crate::core::kinds::{self, KindSpec, TestReport};
use crate::core::session::SecretState;
use crate::ui::context::SecretInput;
use crate::ui::context::{Command, Tab, TabContext, TabView};
use crate::ui::remote::spawn;
use crate::ui::theme::{self, Tone};
use std::collections::{BTreeMap, BTreeSet};

use crate::config::{self, Connection, ConnectionKind, Environment};
use crate::providers::http::parse_base_url;
use crate::secret::Secret;
use crate::ui::widgets::{self, ConfirmDialog, ConfirmOutcome};
use crate::vault::Vault;

use crate::config::MAX_LABEL_CHARS;

/// The connection editor's form. Secret inputs start empty: empty means "keep what is stored".
/// Values are kept per kind and field, so switching the provider back and forth loses nothing.
#[derive(Clone, PartialEq)]
struct Form {
    label: String,
    /// The chosen provider: an index into [`kinds::ALL`].
    kind: usize,
    /// Plain and secret inputs by (kind, field name).
    values: BTreeMap<(usize, &'static str), String>,
    base_url: String,
    environment: Environment,
}

impl Form {
    fn spec(&self) -> &'static dyn KindSpec {
        kinds::ALL.get(self.kind).copied().unwrap_or(kinds::ALL[0])
    }

    fn value(&self, field: &str) -> &str {
        self.values
            .iter()
            .find(|((k, f), _)| *k == self.kind && *f == field)
            .map_or("", |(_, v)| v.as_str())
    }

    fn value_mut(&mut self, field: &'static str) -> &mut String {
        self.values.entry((self.kind, field)).or_default()
    }
}

/// The index in [`kinds::ALL`] of a stored kind.
fn kind_index(kind: &ConnectionKind) -> usize {
    kinds::ALL.iter().position(|s| s.is(kind)).unwrap_or(0)
}

struct Editor {
    /// The connection being edited; `None` for a new one.
    existing: Option<Connection>,
    /// Whose stored secrets a duplicate copies when its inputs are left empty.
    copy_secrets_from: Option<String>,
    form: Form,
    original: Form,
    /// The secret inputs shown in clear, by field name.
    reveal: BTreeSet<&'static str>,
    test: Option<Promise<TestReport>>,
    report: Option<TestReport>,
    asking_to_discard: bool,
    submitted: bool,
}

impl Editor {
    fn new_connection(spec: &dyn KindSpec) -> Self {
        Self::for_kind(
            &spec.blank(),
            String::new(),
            String::new(),
            Environment::Dev,
        )
    }

    fn for_kind(kind: &ConnectionKind, label: String, base_url: String, env: Environment) -> Self {
        let index = kind_index(kind);
        // Every field of every kind has its entry from the start, so drawing an input does
        // not change the form (a changed form asks before it is discarded).
        // Other kinds start from their blank defaults (a region), so switching the provider
        // shows sensible values.
        let mut values = BTreeMap::new();
        for (i, s) in kinds::ALL.iter().enumerate() {
            let source = if i == index { kind.clone() } else { s.blank() };
            for field in s.fields() {
                let v = s.plain_value(&source, field.name).unwrap_or_default();
                values.insert((i, field.name), v);
            }
        }
        let form = Form {
            label,
            kind: index,
            values,
            base_url,
            environment: env,
        };
        Self {
            existing: None,
            copy_secrets_from: None,
            original: form.clone(),
            form,
            reveal: BTreeSet::new(),
            test: None,
            report: None,
            asking_to_discard: false,
            submitted: false,
        }
    }

    fn for_connection(c: &Connection) -> Self {
        let base_url = c.base_url.clone().unwrap_or_default();
        let mut e = Self::for_kind(&c.kind, c.label.clone(), base_url, c.environment);
        e.existing = Some(c.clone());
        e
    }

    fn is_dirty(&self) -> bool {
        self.form != self.original || self.copy_secrets_from.is_some()
    }

    fn embedded(&self) -> bool {
        self.existing.as_ref().is_some_and(|c| c.embedded_sandbox)
    }

    /// The id the connection has, or will have.
    fn id(&self) -> String {
        self.existing
            .as_ref()
            .map(|c| c.id.clone())
            .unwrap_or_else(|| "draft".to_owned())
    }

    /// Field errors from parsing the form: (field, message).
    fn problems(&self, stored: &dyn Fn(&str) -> bool) -> Vec<(&'static str, String)> {
        let f = &self.form;
        let spec = f.spec();
        let mut p = Vec::new();
        let label_len = f.label.trim().chars().count();
        if label_len == 0 {
            p.push(("label", "Give the connection a name".to_owned()));
        } else if label_len > MAX_LABEL_CHARS {
            p.push((
                "label",
                format!(
                    "Keep the name to {MAX_LABEL_CHARS} characters ({label_len} now): it names the connection in the top bar"
                ),
            ));
        }
        if !self.embedded() {
            for field in spec.plain_fields() {
                if let Some(m) = spec.check(field.name, f.value(field.name)) {
                    p.push((field.name, m));
                }
            }
        }
        if !f.base_url.trim().is_empty()
            && let Err(e) = parse_base_url(&f.base_url)
        {
            p.push(("base_url", e.message));
        }
        for (field, label) in spec.secret_fields() {
            if f.value(field).trim().is_empty() && !stored(field) {
                p.push((field, format!("Enter the {}", lower_first(label))));
            }
        }
        p
    }

    /// The connection as the form describes it.
    fn connection(&self) -> Connection {
        let f = &self.form;
        let kind = f.spec().kind_from_form(
            &|field| f.value(field).to_owned(),
            self.existing.as_ref().map(|c| &c.kind),
        );
        let embedded = self.embedded()
            && self
                .existing
                .as_ref()
                .is_some_and(|c| std::mem::discriminant(&c.kind) == std::mem::discriminant(&kind));
        Connection {
            id: self
                .existing
                .as_ref()
                .map(|c| c.id.clone())
                .unwrap_or_else(config::new_connection_id),
            label: f.label.trim().to_owned(),
            kind,
            environment: f.environment,
            base_url: Some(f.base_url.trim().to_owned()).filter(|s| !s.is_empty() && !embedded),
            embedded_sandbox: embedded,
        }
    }

    fn secret_inputs(
        &self,
        stored: &std::collections::HashMap<String, Secret>,
    ) -> Vec<SecretInput> {
        let f = &self.form;
        let mut out: Vec<SecretInput> = f
            .spec()
            .secret_fields()
            .into_iter()
            .map(|(field, _)| (field, Secret::new(f.value(field).trim())))
            .collect();
        if let Some(source) = &self.copy_secrets_from {
            for (field, value) in &mut out {
                if value.is_empty()
                    && let Some(s) = stored.get(&Vault::account(source, field))
                {
                    *value = s.clone();
                }
            }
        }
        out
    }
}

/// "REST API key" → "REST API key", "Access token" → "access token".
fn lower_first(label: &str) -> String {
    let mut words = label.split(' ');
    let first = words.next().unwrap_or_default();
    let first = if first.chars().all(|c| c.is_uppercase()) {
        first.to_owned()
    } else {
        first.to_lowercase()
    };
    std::iter::once(first.as_str())
        .chain(words)
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Default)]
pub struct ConnectionsTab {
    editor: Option<Editor>,
    remove: Option<(String, ConfirmDialog)>,
    /// Export… and Import… of connection profiles.
    pub sharing: super::connection_profiles::ProfileSharing,
}

impl ConnectionsTab {
    /// Opens the editor on an existing connection.
    pub fn open_editor(&mut self, c: &Connection) {
        self.editor = Some(Editor::for_connection(c));
    }
}

impl TabView for ConnectionsTab {
    fn id(&self) -> Tab {
        Tab::Connections
    }

    fn has_dialog(&self) -> bool {
        self.editor.is_some() || self.remove.is_some()
    }

    fn settle(&mut self, cx: &mut TabContext<'_>) -> Vec<Command> {
        let shared = self.sharing.settle(&cx.config.connections);
        if !shared.is_empty() {
            return shared;
        }
        if let Some(e) = &mut self.editor
            && let Some(p) = e.test.take()
        {
            match p.try_take() {
                Ok(report) => {
                    // A test sends the credential to the provider: that is worth a line.
                    let label = e.form.label.trim();
                    let outcome = if report.ok {
                        Ok(())
                    } else {
                        Err(report.title.clone())
                    };
                    cx.recorder
                        .for_connection(label)
                        .record("connection.tested", label, outcome);
                    e.report = Some(report);
                }
                Err(p) => e.test = Some(p),
            }
        }
        Vec::new()
    }

    fn ui(&mut self, ui: &mut Ui, cx: &mut TabContext<'_>) -> Vec<Command> {
        let mut out = Vec::new();
        for s in cx.shortcuts {
            if *s == crate::ui::shortcuts::Shortcut::New {
                self.editor = Some(Editor::new_connection(kinds::ALL[0]));
            }
        }
        super::header_ui(
            ui,
            "Connections",
            &format!(
                "Profiles are kept in your config directory; secrets are {}",
                cx.vault.where_kept_phrase()
            ),
            |ui| {
                self.sharing.buttons_ui(ui, cx);
                if ui.button("Add sandbox connections").on_hover_text("Connections to the demo app and management credential of the local sandbox").clicked() {
                    out.push(Command::AddSandboxConnections);
                }
                // Right to left: the first kind is a button of its own, leftmost and strong;
                // the other providers are in a menu, so the header fits a narrow window.
                let (first, others) = kinds::ALL.split_first().unzip();
                ui.menu_button("Other providers", |ui| {
                    for spec in others.into_iter().flatten() {
                        if ui.button(spec.new_button()).clicked() {
                            self.editor = Some(Editor::new_connection(*spec));
                            ui.close();
                        }
                    }
                });
                if let Some(spec) = first
                    && ui
                        .button(RichText::new(spec.new_button()).strong())
                        .clicked()
                {
                    self.editor = Some(Editor::new_connection(*spec));
                }
            },
        );
        out.extend(self.sharing.ui(ui, &cx.config.connections));

        if cx.config.connections.is_empty() {
            if super::empty_state_ui(
                ui,
                "No connections",
                "Add a CometChat app with its REST API key, or a Management API key and secret. The local sandbox gives you a demo app to try everything safely.",
                Some("Add sandbox connections"),
            ) {
                out.push(Command::AddSandboxConnections);
            }
        } else {
            egui::ScrollArea::vertical()
                .auto_shrink([false, true])
                .show(ui, |ui| {
                    for c in &cx.config.connections {
                        self.card_ui(ui, c, cx, &mut out);
                        ui.add_space(theme::SPACE_S);
                    }
                });
        }

        self.editor_ui(ui.ctx(), cx, &mut out);

        if let Some((id, confirm)) = &mut self.remove {
            match confirm.ui(ui.ctx()) {
                ConfirmOutcome::Confirmed => {
                    out.push(Command::RemoveConnection(id.clone()));
                    self.remove = None;
                }
                ConfirmOutcome::Cancelled => self.remove = None,
                ConfirmOutcome::Open => {}
            }
        }
        out
    }
}

impl ConnectionsTab {
    fn card_ui(
        &mut self,
        ui: &mut Ui,
        c: &Connection,
        cx: &TabContext<'_>,
        out: &mut Vec<Command>,
    ) {
        let dark = ui.visuals().dark_mode;
        let active = cx.connection.is_some_and(|a| a.id == c.id);
        let mut frame =
            theme::card_frame(ui.visuals()).inner_margin(egui::Margin::symmetric(14, 10));
        if active {
            frame = frame.stroke(egui::Stroke::new(1.5, theme::accent(dark)));
        }
        frame.show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal(|ui| {
                ui.vertical(|ui| {
                    ui.horizontal(|ui| {
                        ui.label(RichText::new(&c.label).strong().size(14.5));
                        widgets::environment_badge(ui, c.environment);
                        if c.embedded_sandbox {
                            widgets::badge(ui, "local sandbox", theme::neutral(dark));
                        }
                        if active {
                            widgets::badge(ui, "in use", theme::tone(Tone::Info, dark));
                        }
                    });
                    let place = match &c.kind {
                        ConnectionKind::CometChatApp { app_id, region } => {
                            format!("{} · app {app_id} · region {region}", kinds::spec(&c.kind).provider())
                        }
                        ConnectionKind::AblyAccount {
                            app_id: Some(app_id),
                            ..
                        } => format!("{} · app {app_id}", kinds::spec(&c.kind).provider()),
                        _ => kinds::spec(&c.kind).provider().to_owned(),
                    };
                    let url = if c.embedded_sandbox {
                        " · base URL from the running sandbox".to_owned()
                    } else {
                        c.base_url_override().map(|u| format!(" · {u}")).unwrap_or_default()
                    };
                    widgets::muted(ui, format!("{place}{url}"));
                    if let Some(hosts) = hosts_line(c) {
                        widgets::muted(ui, hosts);
                    }
                    let missing: Vec<&str> = kinds::spec(&c.kind)
                        .secret_fields()
                        .into_iter()
                        .filter(|(f, _)| !cx.has_secret(&c.id, f))
                        .map(|(_, l)| l)
                        .collect();
                    if missing.is_empty() {
                        secrets_state_ui(ui, c, cx, out);
                    } else if c.embedded_sandbox {
                        widgets::muted(ui, "Credentials from the local sandbox");
                    } else {
                        ui.horizontal(|ui| {
                            ui.label(
                                RichText::new(format!("Missing: {}", missing.join(", ")))
                                    .color(theme::tone(Tone::Warning, dark).fg),
                            );
                            if named(ui, "Enter secrets…", &format!("Enter the secrets of {}", c.label))
                                .clicked()
                            {
                                self.editor = Some(Editor::for_connection(c));
                            }
                        });
                    }
                });
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    let name = &c.label;
                    if named(ui, "Remove…", &format!("Remove {name}")).clicked() {
                        let body = format!(
                            "The profile and its secrets ({}) are removed from this computer. The keys themselves keep working at the provider.",
                            cx.vault.where_kept_phrase()
                        );
                        self.remove = Some((
                            c.id.clone(),
                            ConfirmDialog::new(
                                format!("Remove connection {name}?"),
                                body,
                                format!("Remove connection {name}"),
                            ),
                        ));
                    }
                    if named(ui, "Duplicate", &format!("Duplicate {name}")).clicked() {
                        // A sandbox connection's copy stays one (config::Connection::duplicate).
                        let copy = c.duplicate();
                        let mut e = Editor::for_connection(&copy);
                        e.copy_secrets_from = Some(c.id.clone());
                        if !copy.embedded_sandbox {
                            e.existing = None;
                        }
                        self.editor = Some(e);
                    }
                    if named(ui, "Edit…", &format!("Edit {name}")).clicked() {
                        self.editor = Some(Editor::for_connection(c));
                    }
                    if !active && named(ui, "Use", &format!("Use {name}")).clicked() {
                        out.push(Command::SelectConnection(c.id.clone()));
                    }
                });
            });
        });
    }

    fn editor_ui(&mut self, ctx: &egui::Context, cx: &TabContext<'_>, out: &mut Vec<Command>) {
        let Some(e) = &mut self.editor else { return };
        let id = e.id();
        let stored_for = |field: &str| {
            cx.has_secret(&id, field)
                || e.copy_secrets_from
                    .as_ref()
                    .is_some_and(|src| cx.has_secret(src, field))
                || e.existing.as_ref().is_some_and(|c| c.embedded_sandbox)
        };
        let problems = e.problems(&stored_for);
        let stored: BTreeSet<&'static str> = e
            .form
            .spec()
            .secret_fields()
            .into_iter()
            .map(|(f, _)| f)
            .filter(|f| stored_for(f))
            .collect();
        let mut close = false;
        let title = match &e.existing {
            Some(c) if e.copy_secrets_from.is_none() => format!("Edit connection {}", c.label),
            Some(_) => "New sandbox connection".to_owned(),
            None => e.form.spec().new_title().to_owned(),
        };
        let kept = cx.vault.where_kept_phrase();
        let modal = widgets::dialog(ctx, egui::Id::unique("connection-editor"), |ui| {
            ui.set_width(500.0);
            ui.heading(&title);
            ui.add_space(theme::SPACE_S);
            let f_before = e.form.clone();
            form_ui(ui, e, &problems, &stored, kept);
            if e.form != f_before {
                // The last test said something about the old values.
                e.report = None;
            }
            if let Some(r) = &e.report {
                ui.add_space(theme::SPACE_S);
                widgets::message(
                    ui,
                    if r.ok { Tone::Success } else { Tone::Error },
                    &r.title,
                    &r.detail,
                    &[],
                );
            }
            ui.add_space(theme::SPACE_M);
            if e.asking_to_discard {
                if widgets::discard_prompt_ui(
                    ui,
                    "Discard your changes?",
                    "What you typed will be lost.",
                    &mut e.asking_to_discard,
                ) {
                    close = true;
                }
                return;
            }
            close |= editor_buttons_ui(ui, e, &problems, cx, out);
        });
        if modal.should_close() && !close {
            if e.is_dirty() {
                e.asking_to_discard = true;
            } else {
                close = true;
            }
        }
        if close {
            self.editor = None;
        }
    }
}

/// An error shows once its field was typed in, or after a save attempt; a failed test that
/// points at the field shows there too.
fn error_for(
    e: &Editor,
    problems: &[(&'static str, String)],
    field: &str,
    touched: bool,
) -> Option<String> {
    let test_error = e
        .report
        .as_ref()
        .filter(|r| !r.ok && r.field == Some(field))
        .map(|r| r.title.clone());
    problems
        .iter()
        .find(|(f, _)| *f == field)
        .filter(|_| touched || e.submitted)
        .map(|(_, m)| m.clone())
        .or(test_error)
}

/// The editor's fields: label, provider, environment, the kind's own fields, the base URL.
fn form_ui(
    ui: &mut Ui,
    e: &mut Editor,
    problems: &[(&'static str, String)],
    stored: &BTreeSet<&'static str>,
    kept: &str,
) {
    let embedded = e.embedded();
    let label_err = error_for(e, problems, "label", !e.form.label.is_empty());
    widgets::text_field(
        ui,
        "Label",
        &mut e.form.label,
        "e.g. Shop (prod)",
        label_err.as_deref(),
    );
    if e.existing.is_none() {
        ui.label(RichText::new("Provider").strong());
        ui.horizontal(|ui| {
            for (i, spec) in kinds::ALL.iter().enumerate() {
                ui.radio_value(&mut e.form.kind, i, spec.choice_label());
            }
        });
        ui.add_space(theme::SPACE_XS);
    }
    ui.label(RichText::new("Environment").strong());
    ui.horizontal(|ui| {
        for env in Environment::ALL {
            ui.radio_value(&mut e.form.environment, env, env.name());
        }
    });
    ui.add_space(theme::SPACE_XS);
    let spec = e.form.spec();
    let plain = spec.plain_fields();
    if embedded && !plain.is_empty() {
        let what: Vec<String> = plain
            .iter()
            .map(|f| format!("{} {}", f.label, e.form.value(f.name)))
            .collect();
        widgets::muted(ui, format!("{} in the local sandbox", what.join(", ")));
    } else if !plain.is_empty() {
        ui.columns(plain.len(), |cols| {
            for (col, field) in cols.iter_mut().zip(&plain) {
                plain_field_ui(col, e, problems, field);
            }
        });
    }
    for field in spec.fields().iter().filter(|f| f.secret) {
        let err = error_for(
            e,
            problems,
            field.name,
            !e.form.value(field.name).is_empty(),
        );
        let hint = if stored.contains(field.name) {
            field.keep_hint()
        } else {
            field.hint.to_owned()
        };
        let mut reveal = e.reveal.contains(field.name);
        widgets::secret_field(
            ui,
            field.label,
            e.form.value_mut(field.name),
            &mut reveal,
            &hint,
            err.as_deref(),
        );
        if reveal {
            e.reveal.insert(field.name);
        } else {
            e.reveal.remove(field.name);
        }
    }
    if let Some(note) = spec.editor_note() {
        widgets::muted(ui, note);
    }
    widgets::muted(
        ui,
        format!("Secrets are {kept}; they are never written to a file."),
    );
    ui.add_space(theme::SPACE_XS);
    if embedded {
        widgets::muted(
            ui,
            "Base URL: resolved from the local sandbox each time Keydeck starts.",
        );
    } else {
        let err = error_for(e, problems, "base_url", !e.form.base_url.is_empty());
        widgets::text_field(
            ui,
            "Base URL override (optional)",
            &mut e.form.base_url,
            "Leave empty for the provider's own address",
            err.as_deref(),
        );
    }
}

/// A plain field of the kind: free text, or a drop-down of its choices.
fn plain_field_ui(
    ui: &mut Ui,
    e: &mut Editor,
    problems: &[(&'static str, String)],
    field: &kinds::Field,
) {
    if field.choices.is_empty() {
        let err = error_for(
            e,
            problems,
            field.name,
            !e.form.value(field.name).is_empty(),
        );
        widgets::text_field(
            ui,
            field.label,
            e.form.value_mut(field.name),
            field.hint,
            err.as_deref(),
        );
        return;
    }
    let label_id = ui.label(RichText::new(field.label).strong()).id;
    let value = e.form.value_mut(field.name);
    egui::ComboBox::from_id_salt(("connection-field", field.name))
        .selected_text(value.as_str())
        .show_ui(ui, |ui| {
            for c in field.choices {
                ui.selectable_value(value, (*c).to_owned(), *c);
            }
        })
        .response
        .labelled_by(label_id);
}

/// Save, Test connection and Cancel; true when the editor should close.
fn editor_buttons_ui(
    ui: &mut Ui,
    e: &mut Editor,
    problems: &[(&'static str, String)],
    cx: &TabContext<'_>,
    out: &mut Vec<Command>,
) -> bool {
    let mut close = false;
    ui.horizontal(|ui| {
        let testing = e.test.is_some();
        let save = ui.add(egui::Button::new(RichText::new("Save").strong()));
        if save.clicked() {
            e.submitted = true;
            if problems.is_empty() {
                out.push(Command::SaveConnection {
                    connection: e.connection(),
                    secrets: e.secret_inputs(cx.stored),
                });
                close = true;
            }
        }
        // Only the label may be missing for a test: it does not reach the provider.
        let blocks_test = problems.iter().any(|(f, _)| *f != "label");
        if ui
            .add_enabled(
                !testing && !blocks_test,
                egui::Button::new("Test connection"),
            )
            .on_disabled_hover_text("Fill in the connection's fields first")
            .clicked()
        {
            let mut conn = e.connection();
            if e.existing.is_none() {
                conn.id = e
                    .copy_secrets_from
                    .clone()
                    .unwrap_or_else(|| "draft".to_owned());
            }
            e.report = None;
            e.test = Some(match cx.client_for(&conn, &e.secret_inputs(cx.stored)) {
                Ok(client) => spawn(
                    cx.rt,
                    &cx.egui_ctx,
                    async move { kinds::test_connection(&conn.kind, client).await },
                    || TestReport::failed("The test crashed", ""),
                ),
                Err(problem) => Promise::from_ready(TestReport::from_problem(&problem)),
            });
        }
        if ui.button("Cancel").clicked() {
            if e.is_dirty() {
                e.asking_to_discard = true;
            } else {
                close = true;
            }
        }
        if testing {
            ui.spinner();
            widgets::muted(ui, "Testing…");
        }
    });
    close
}

/// Where a connection's secrets stand: "stored" only once the keychain confirmed it; while a
/// write is on its way, "saving"; a refused write is marked "not saved" with a retry.
fn secrets_state_ui(ui: &mut Ui, c: &Connection, cx: &TabContext<'_>, out: &mut Vec<Command>) {
    let dark = ui.visuals().dark_mode;
    let states: Vec<&SecretState> = kinds::spec(&c.kind)
        .secret_fields()
        .into_iter()
        .filter_map(|(f, _)| cx.session.secret_state(&c.id, f))
        .collect();
    if let Some(SecretState::NotSaved(why)) = states
        .iter()
        .find(|s| matches!(s, SecretState::NotSaved(_)))
    {
        ui.horizontal(|ui| {
            ui.label(
                RichText::new(format!("Not saved: kept in memory only. {why}"))
                    .color(theme::tone(Tone::Warning, dark).fg),
            );
            if named(
                ui,
                "Try again",
                &format!("Save the secrets of {} again", c.label),
            )
            .clicked()
            {
                out.push(Command::RetryUnsavedSecrets);
            }
        });
    } else if states.contains(&&SecretState::Saving) {
        ui.horizontal(|ui| {
            ui.spinner();
            widgets::muted(ui, "Saving to the keychain…");
        });
    } else {
        widgets::muted(ui, cx.vault.where_kept().to_owned());
    }
}

fn named(ui: &mut Ui, text: &str, name: &str) -> egui::Response {
    let r = ui.button(text);
    let label = name.to_owned();
    ui.ctx()
        .accesskit_node_builder(r.id, |n| n.set_label(label));
    r
}

/// Where a CometChat app connection's key goes: its REST host and its Calls host (the same
/// `apikey`), or why one is not known.
fn hosts_line(c: &crate::config::Connection) -> Option<String> {
    let ConnectionKind::CometChatApp { app_id, region } = &c.kind else {
        return None;
    };
    if c.embedded_sandbox {
        return None;
    }
    let endpoint = crate::providers::cometchat::AppEndpoint {
        app_id: app_id.clone(),
        region: region.clone(),
        base_url: c.base_url_override().map(str::to_owned),
    };
    let host = |u: &url::Url| {
        let mut h = u.host_str().unwrap_or_default().to_owned();
        if let Some(p) = u.port() {
            h = format!("{h}:{p}");
        }
        format!("{h}{}", u.path().trim_end_matches('/'))
    };
    let rest = endpoint.base_url().ok()?;
    let calls = match endpoint.calls_base_url() {
        Ok(Some(u)) => host(&u),
        _ => "not known for this base URL".to_owned(),
    };
    Some(format!("REST {} · Calls {calls}", host(&rest)))
}
