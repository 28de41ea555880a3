//! Connections: add, edit, duplicate and remove CometChat app and Management connections;
//! test one and say in plain words what its credential can do.

use egui::{RichText, Ui};
use poll_promise::Promise;

use crate::app::commands::SecretInput;
use crate::app::theme::{self, Tone};
use crate::app::{ActiveClient, ClientProblem, Command, TabContext};
use crate::config::{
    self, Connection, ConnectionKind, Environment, FIELD_ACCESS_TOKEN, FIELD_API_KEY, FIELD_KEY,
    FIELD_SECRET,
};
use crate::providers::ErrorKind;
use crate::providers::cometchat::{ApiKeyQuery, REGIONS, Scope, validate_app_id};
use crate::providers::http::parse_base_url;
use crate::providers::management::AppQuery;
use crate::secret::Secret;
use crate::vault::Vault;
use crate::widgets::{self, ConfirmDialog, ConfirmOutcome};

/// What a connection test found, in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestReport {
    pub ok: bool,
    pub title: String,
    pub detail: String,
    /// The form field to fix, when the test points at one.
    pub field: Option<&'static str>,
}

impl TestReport {
    pub fn works(title: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            ok: true,
            title: title.into(),
            detail: detail.into(),
            field: None,
        }
    }

    pub fn failed(title: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            ok: false,
            title: title.into(),
            detail: detail.into(),
            field: None,
        }
    }

    fn at(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }

    pub fn from_problem(p: &ClientProblem) -> Self {
        let field = match p {
            ClientProblem::MissingSecret(_) => Some(FIELD_API_KEY),
            ClientProblem::Invalid(e) if e.message.contains("base URL") => Some("base_url"),
            ClientProblem::Invalid(e) if e.message.contains("app id") => Some("app_id"),
            _ => None,
        };
        Self {
            ok: false,
            title: "The connection is not complete".to_owned(),
            detail: p.message(),
            field,
        }
    }
}

/// Calls a harmless endpoint with the connection's credential and explains what it can do.
pub async fn test_connection(client: ActiveClient) -> TestReport {
    match client {
        ActiveClient::CometChat(c) => {
            let host = c.base_url().host_str().unwrap_or("the server").to_owned();
            match c.list_api_keys(&ApiKeyQuery::default()).await {
                Ok(keys) => {
                    let scope = keys
                        .iter()
                        .find(|k| &k.api_key == c.api_key())
                        .map(|k| k.scope)
                        .unwrap_or(Scope::FullAccess);
                    TestReport::works(
                        format!("Works: a {scope} key"),
                        format!(
                            "It can manage API keys, users and auth tokens of app {}. The app has {} key(s).",
                            c.app_id(),
                            keys.len()
                        ),
                    )
                }
                Err(e) if e.is_code("AUTH_ERR_NO_ACCESS") => TestReport::works(
                    "Works: an authOnly key",
                    "It can create users and auth tokens only. To manage API keys or list users, use a fullAccess key.",
                ),
                Err(e) => match e.kind {
                    ErrorKind::Unauthenticated => TestReport::failed(
                        "The REST API key was not accepted",
                        format!("Fix the REST API key: this app does not know it. ({e})"),
                    )
                    .at(FIELD_API_KEY),
                    ErrorKind::NotFound => TestReport::failed(
                        "The app was not found",
                        format!("Fix the app id or the region. ({e})"),
                    )
                    .at("app_id"),
                    ErrorKind::Connection | ErrorKind::Timeout => TestReport::failed(
                        format!("Could not reach {host}"),
                        format!("Fix the base URL, or check the network. ({e})"),
                    )
                    .at("base_url"),
                    ErrorKind::InvalidConfig => {
                        TestReport::failed("The connection is not set up correctly", e.to_string())
                    }
                    _ => TestReport::failed("The test call failed", e.to_string()),
                },
            }
        }
        ActiveClient::Management(m) => {
            let host = m.base_url().host_str().unwrap_or("the server").to_owned();
            let query = AppQuery {
                per_page: Some(1),
                ..AppQuery::default()
            };
            match m.list_apps(&query).await {
                Ok(page) => TestReport::works(
                    "Works: a management credential",
                    format!(
                        "It can list, create and delete apps. It sees {} app(s).",
                        page.pagination.total
                    ),
                ),
                Err(e) => match e.kind {
                    ErrorKind::Unauthenticated => TestReport::failed(
                        "The key or secret was not accepted",
                        format!("Fix the key or the secret. ({e})"),
                    )
                    .at(FIELD_SECRET),
                    ErrorKind::PermissionDenied => TestReport::failed(
                        "The credential may not list apps",
                        format!("The plan or the credential does not allow this. ({e})"),
                    ),
                    ErrorKind::Connection | ErrorKind::Timeout | ErrorKind::NotFound => {
                        TestReport::failed(
                            format!("Could not reach the Management API at {host}"),
                            format!("Fix the base URL, or check the network. ({e})"),
                        )
                        .at("base_url")
                    }
                    _ => TestReport::failed("The test call failed", e.to_string()),
                },
            }
        }
        ActiveClient::Ably(a) => test_ably(&a).await,
        ActiveClient::Cometly(c) => match c.test_key().await {
            Ok(check) => TestReport::works(
                "Works: the API key is accepted",
                match (check.rate_limit, check.rate_remaining) {
                    (Some(limit), Some(left)) => format!(
                        "It can read this workspace's companies and events. {left} of {limit} requests left in this minute."
                    ),
                    _ => "It can read this workspace's companies and events.".to_owned(),
                },
            ),
            Err(e) => match e.kind {
                ErrorKind::Unauthenticated => TestReport::failed(
                    "401: Cometly does not know this API key",
                    format!(
                        "The key is wrong, was deleted, or was copied with a character missing. Copy it again from Cometly's settings. ({e})"
                    ),
                )
                .at(FIELD_API_KEY),
                ErrorKind::PermissionDenied => TestReport::failed(
                    "403: the key is known, but its workspace may not use the API",
                    format!(
                        "The key itself is right: the workspace's subscription is inactive or its plan has no API access. Renew the plan in Cometly, or use a key of another workspace. ({e})"
                    ),
                ),
                ErrorKind::Connection | ErrorKind::Timeout => TestReport::failed(
                    "Could not reach Cometly",
                    format!("Fix the base URL, or check the network. ({e})"),
                )
                .at("base_url"),
                _ => TestReport::failed("The test call failed", e.to_string()),
            },
        },
    }
}

/// `me()` then the account's apps: says whose token it is and what it may do.
async fn test_ably(a: &crate::app::AblyAccess) -> TestReport {
    let fail = |e: crate::providers::ApiError| {
        match e.kind {
        ErrorKind::Unauthenticated => TestReport::failed(
            "401: Ably does not accept this access token",
            format!(
                "The token is wrong, expired or was revoked. Create a new one under Account, Access tokens in the Ably dashboard. ({e})"
            ),
        )
        .at(FIELD_ACCESS_TOKEN),
        ErrorKind::PermissionDenied => TestReport::failed(
            "403: the token is valid, but may not do this",
            format!(
                "The access token lacks a capability (for example read:app or read:key), or belongs to another account. Give the token more capabilities in the dashboard. ({e})"
            ),
        ),
        ErrorKind::Connection | ErrorKind::Timeout => TestReport::failed(
            "Could not reach the Ably Control API",
            format!("Fix the base URL, or check the network. ({e})"),
        )
        .at("base_url"),
        _ => TestReport::failed("The test call failed", e.to_string()),
    }
    };
    let me = match a.control.me().await {
        Ok(me) => me,
        Err(e) => return fail(e),
    };
    let account = a.account_id.clone().unwrap_or(me.account.id.clone());
    let can_write = me.token.has("write:key");
    match a.control.list_apps(&account).await {
        Ok(apps) => TestReport::works(
            format!(
                "Works: token {} of account {}",
                me.token.name, me.account.name
            ),
            format!(
                "It sees {} app(s){}.",
                apps.len(),
                if can_write {
                    " and can create, change and revoke their keys"
                } else {
                    "; it may read keys but not change them (no write:key)"
                }
            ),
        ),
        Err(e) => fail(e),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KindChoice {
    App,
    Management,
    Ably,
    Cometly,
}

/// The connection editor's form. Secret inputs start empty: empty means "keep what is stored".
#[derive(Clone, PartialEq)]
struct Form {
    label: String,
    kind: KindChoice,
    app_id: String,
    region: String,
    api_key: String,
    mgmt_key: String,
    mgmt_secret: String,
    access_token: String,
    cometly_key: String,
    base_url: String,
    environment: Environment,
}

struct Editor {
    /// The connection being edited; `None` for a new one.
    existing: Option<Connection>,
    /// Whose stored secrets a duplicate copies when its inputs are left empty.
    copy_secrets_from: Option<String>,
    form: Form,
    original: Form,
    reveal: [bool; 5],
    test: Option<Promise<TestReport>>,
    report: Option<TestReport>,
    asking_to_discard: bool,
    submitted: bool,
}

impl Editor {
    fn new_connection(kind: KindChoice) -> Self {
        let form = Form {
            label: String::new(),
            kind,
            app_id: String::new(),
            region: "us".to_owned(),
            api_key: String::new(),
            mgmt_key: String::new(),
            mgmt_secret: String::new(),
            access_token: String::new(),
            cometly_key: String::new(),
            base_url: String::new(),
            environment: Environment::Dev,
        };
        Self {
            existing: None,
            copy_secrets_from: None,
            original: form.clone(),
            form,
            reveal: [false; 5],
            test: None,
            report: None,
            asking_to_discard: false,
            submitted: false,
        }
    }

    fn for_connection(c: &Connection) -> Self {
        let (kind, app_id, region) = match &c.kind {
            ConnectionKind::CometChatApp { app_id, region } => {
                (KindChoice::App, app_id.clone(), region.clone())
            }
            ConnectionKind::Management => (KindChoice::Management, String::new(), "us".to_owned()),
            ConnectionKind::AblyAccount { .. } => {
                (KindChoice::Ably, String::new(), "us".to_owned())
            }
            ConnectionKind::Cometly => (KindChoice::Cometly, String::new(), "us".to_owned()),
        };
        let form = Form {
            label: c.label.clone(),
            kind,
            app_id,
            region,
            api_key: String::new(),
            mgmt_key: String::new(),
            mgmt_secret: String::new(),
            access_token: String::new(),
            cometly_key: String::new(),
            base_url: c.base_url.clone().unwrap_or_default(),
            environment: c.environment,
        };
        let mut e = Self::new_connection(kind);
        e.existing = Some(c.clone());
        e.original = form.clone();
        e.form = form;
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
        let mut p = Vec::new();
        if f.label.trim().is_empty() {
            p.push(("label", "Give the connection a name".to_owned()));
        }
        if f.kind == KindChoice::App && !self.embedded() {
            if let Err(e) = validate_app_id(f.app_id.trim()) {
                p.push(("app_id", e.message));
            }
            if !REGIONS.contains(&f.region.as_str()) {
                p.push(("region", "Pick a region".to_owned()));
            }
        }
        if !f.base_url.trim().is_empty()
            && let Err(e) = parse_base_url(&f.base_url)
        {
            p.push(("base_url", e.message));
        }
        let need =
            |field: &'static str, value: &str, what: &str, p: &mut Vec<(&'static str, String)>| {
                if value.trim().is_empty() && !stored(field) {
                    p.push((field, format!("Enter the {what}")));
                }
            };
        match f.kind {
            KindChoice::App => need(FIELD_API_KEY, &f.api_key, "REST API key", &mut p),
            KindChoice::Management => {
                need(FIELD_KEY, &f.mgmt_key, "key", &mut p);
                need(FIELD_SECRET, &f.mgmt_secret, "secret", &mut p);
            }
            KindChoice::Ably => need(FIELD_ACCESS_TOKEN, &f.access_token, "access token", &mut p),
            KindChoice::Cometly => need(FIELD_API_KEY, &f.cometly_key, "API key", &mut p),
        }
        p
    }

    /// The connection as the form describes it.
    fn connection(&self) -> Connection {
        let f = &self.form;
        let kind = match f.kind {
            KindChoice::App => ConnectionKind::CometChatApp {
                app_id: f.app_id.trim().to_owned(),
                region: f.region.clone(),
            },
            KindChoice::Management => ConnectionKind::Management,
            // Keep the account and app already chosen for this connection.
            KindChoice::Ably => match self.existing.as_ref().map(|c| &c.kind) {
                Some(k @ ConnectionKind::AblyAccount { .. }) => k.clone(),
                _ => ConnectionKind::AblyAccount {
                    account_id: None,
                    app_id: None,
                },
            },
            KindChoice::Cometly => ConnectionKind::Cometly,
        };
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
        let mut out: Vec<SecretInput> = match f.kind {
            KindChoice::App => vec![(FIELD_API_KEY, Secret::new(f.api_key.trim()))],
            KindChoice::Management => vec![
                (FIELD_KEY, Secret::new(f.mgmt_key.trim())),
                (FIELD_SECRET, Secret::new(f.mgmt_secret.trim())),
            ],
            KindChoice::Ably => vec![(FIELD_ACCESS_TOKEN, Secret::new(f.access_token.trim()))],
            KindChoice::Cometly => vec![(FIELD_API_KEY, Secret::new(f.cometly_key.trim()))],
        };
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

#[derive(Default)]
pub struct ConnectionsTab {
    editor: Option<Editor>,
    remove: Option<(String, ConfirmDialog)>,
}

impl ConnectionsTab {
    pub fn has_dialog(&self) -> bool {
        self.editor.is_some() || self.remove.is_some()
    }

    /// Opens the editor on an existing connection.
    pub fn open_editor(&mut self, c: &Connection) {
        self.editor = Some(Editor::for_connection(c));
    }

    pub fn test_started(&mut self, p: Promise<TestReport>) {
        if let Some(e) = &mut self.editor {
            e.test = Some(p);
            e.report = None;
        }
    }

    pub fn settle(&mut self) -> Vec<Command> {
        if let Some(e) = &mut self.editor
            && let Some(p) = e.test.take()
        {
            match p.try_take() {
                Ok(report) => e.report = Some(report),
                Err(p) => e.test = Some(p),
            }
        }
        Vec::new()
    }

    pub fn ui(&mut self, ui: &mut Ui, cx: &mut TabContext<'_>) -> Vec<Command> {
        let mut out = Vec::new();
        for s in cx.shortcuts {
            if *s == crate::app::shortcuts::Shortcut::New {
                self.editor = Some(Editor::new_connection(KindChoice::App));
            }
        }
        super::header_ui(
            ui,
            "Connections",
            &format!(
                "Profiles are kept in your config directory; secrets: {}",
                cx.vault.where_kept().to_lowercase()
            ),
            |ui| {
                if ui.button("Add sandbox connections").on_hover_text("Connections to the demo app and management credential of the local sandbox").clicked() {
                    out.push(Command::AddSandboxConnections);
                }
                if ui.button("New Cometly connection…").clicked() {
                    self.editor = Some(Editor::new_connection(KindChoice::Cometly));
                }
                if ui.button("New Ably account…").clicked() {
                    self.editor = Some(Editor::new_connection(KindChoice::Ably));
                }
                if ui.button("New management connection…").clicked() {
                    self.editor = Some(Editor::new_connection(KindChoice::Management));
                }
                if ui
                    .button(RichText::new("New CometChat app…").strong())
                    .clicked()
                {
                    self.editor = Some(Editor::new_connection(KindChoice::App));
                }
            },
        );

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
                            format!("{} · app {app_id} · region {region}", c.kind.provider())
                        }
                        ConnectionKind::AblyAccount {
                            app_id: Some(app_id),
                            ..
                        } => format!("{} · app {app_id}", c.kind.provider()),
                        _ => c.kind.provider().to_owned(),
                    };
                    let url = if c.embedded_sandbox {
                        " · base URL from the running sandbox".to_owned()
                    } else {
                        c.base_url_override().map(|u| format!(" · {u}")).unwrap_or_default()
                    };
                    widgets::muted(ui, format!("{place}{url}"));
                    let missing: Vec<&str> = c
                        .kind
                        .secret_fields()
                        .iter()
                        .filter(|(f, _)| !cx.has_secret(&c.id, f))
                        .map(|(_, l)| *l)
                        .collect();
                    if missing.is_empty() {
                        widgets::muted(ui, cx.vault.where_kept().to_owned());
                    } else if c.embedded_sandbox {
                        widgets::muted(ui, "Credentials from the local sandbox");
                    } else {
                        ui.label(
                            RichText::new(format!("Missing: {}", missing.join(", ")))
                                .color(theme::tone(Tone::Warning, dark).fg),
                        );
                    }
                });
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    let name = &c.label;
                    if named(ui, "Remove…", &format!("Remove {name}")).clicked() {
                        let body = format!(
                            "The profile and its secrets ({}) are removed from this computer. The keys themselves keep working at the provider.",
                            cx.vault.where_kept().to_lowercase()
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
        let has = [
            stored_for(FIELD_API_KEY),
            stored_for(FIELD_KEY),
            stored_for(FIELD_SECRET),
            stored_for(FIELD_ACCESS_TOKEN),
        ];
        let mut close = false;
        let title = match (&e.existing, e.form.kind) {
            (Some(c), _) if e.copy_secrets_from.is_none() => format!("Edit connection {}", c.label),
            (Some(_), _) => "New sandbox connection".to_owned(),
            (None, KindChoice::App) => "New CometChat app connection".to_owned(),
            (None, KindChoice::Management) => "New management connection".to_owned(),
            (None, KindChoice::Ably) => "New Ably account connection".to_owned(),
            (None, KindChoice::Cometly) => "New Cometly connection".to_owned(),
        };
        let embedded = e.embedded();
        let kept = cx.vault.where_kept().to_lowercase();
        let modal = egui::Modal::new(egui::Id::unique("connection-editor")).show(ctx, |ui| {
            ui.set_width(500.0);
            ui.heading(&title);
            ui.add_space(theme::SPACE_S);
            // Errors show once a field was typed in, or after a save attempt.
            let error_for = |field: &str, touched: bool| -> Option<String> {
                let test_error = e
                    .report
                    .as_ref()
                    .filter(|r| !r.ok && r.field == Some(field_static(field)))
                    .map(|r| r.title.clone());
                problems
                    .iter()
                    .find(|(f, _)| *f == field)
                    .filter(|_| touched || e.submitted)
                    .map(|(_, m)| m.clone())
                    .or(test_error)
            };
            let f_before = e.form.clone();
            let label_err = error_for("label", !e.form.label.is_empty());
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
                    ui.radio_value(&mut e.form.kind, KindChoice::App, "CometChat app");
                    ui.radio_value(
                        &mut e.form.kind,
                        KindChoice::Management,
                        "CometChat Management API",
                    );
                    ui.radio_value(&mut e.form.kind, KindChoice::Ably, "Ably account");
                    ui.radio_value(&mut e.form.kind, KindChoice::Cometly, "Cometly");
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
            match e.form.kind {
                KindChoice::App => {
                    if embedded {
                        widgets::muted(ui, format!("App {} in the local sandbox", e.form.app_id));
                    } else {
                        ui.columns(2, |cols| {
                            let err = error_for("app_id", !e.form.app_id.is_empty());
                            widgets::text_field(
                                &mut cols[0],
                                "App id",
                                &mut e.form.app_id,
                                "e.g. 2a1b3c4d5e6f",
                                err.as_deref(),
                            );
                            let label_id = cols[1].label(RichText::new("Region").strong()).id;
                            egui::ComboBox::from_id_salt("connection-region")
                                .selected_text(e.form.region.as_str())
                                .show_ui(&mut cols[1], |ui| {
                                    for r in REGIONS {
                                        ui.selectable_value(&mut e.form.region, r.to_owned(), r);
                                    }
                                })
                                .response
                                .labelled_by(label_id);
                        });
                    }
                    let has = has[0];
                    let err = error_for(FIELD_API_KEY, !e.form.api_key.is_empty());
                    widgets::secret_field(
                        ui,
                        "REST API key",
                        &mut e.form.api_key,
                        &mut e.reveal[0],
                        if has {
                            "Leave empty to keep the stored key"
                        } else {
                            "40 hexadecimal characters"
                        },
                        err.as_deref(),
                    );
                }
                KindChoice::Management => {
                    let has_key = has[1];
                    let err = error_for(FIELD_KEY, !e.form.mgmt_key.is_empty());
                    widgets::secret_field(
                        ui,
                        "Key",
                        &mut e.form.mgmt_key,
                        &mut e.reveal[1],
                        if has_key {
                            "Leave empty to keep the stored key"
                        } else {
                            "Management key"
                        },
                        err.as_deref(),
                    );
                    let has_secret = has[2];
                    let err = error_for(FIELD_SECRET, !e.form.mgmt_secret.is_empty());
                    widgets::secret_field(
                        ui,
                        "Secret",
                        &mut e.form.mgmt_secret,
                        &mut e.reveal[2],
                        if has_secret {
                            "Leave empty to keep the stored secret"
                        } else {
                            "Management secret"
                        },
                        err.as_deref(),
                    );
                }
                KindChoice::Ably => {
                    let err = error_for(FIELD_ACCESS_TOKEN, !e.form.access_token.is_empty());
                    widgets::secret_field(
                        ui,
                        "Access token",
                        &mut e.form.access_token,
                        &mut e.reveal[3],
                        if has[3] {
                            "Leave empty to keep the stored token"
                        } else {
                            "From Account, Access tokens in the Ably dashboard"
                        },
                        err.as_deref(),
                    );
                    widgets::muted(
                        ui,
                        "You choose the app in the API keys tab after the token is checked.",
                    );
                }
                KindChoice::Cometly => {
                    let err = error_for(FIELD_API_KEY, !e.form.cometly_key.is_empty());
                    widgets::secret_field(
                        ui,
                        "API key",
                        &mut e.form.cometly_key,
                        &mut e.reveal[4],
                        if has[0] {
                            "Leave empty to keep the stored key"
                        } else {
                            "From Settings, API keys in Cometly"
                        },
                        err.as_deref(),
                    );
                }
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
                let err = error_for("base_url", !e.form.base_url.is_empty());
                widgets::text_field(
                    ui,
                    "Base URL override (optional)",
                    &mut e.form.base_url,
                    "Leave empty for the provider's own address",
                    err.as_deref(),
                );
            }
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
                let secret_problem = problems.iter().any(|(f, _)| {
                    matches!(
                        *f,
                        FIELD_API_KEY
                            | FIELD_KEY
                            | FIELD_SECRET
                            | FIELD_ACCESS_TOKEN
                            | "app_id"
                            | "base_url"
                    )
                });
                if ui
                    .add_enabled(
                        !testing && !secret_problem,
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
                    out.push(Command::TestConnection {
                        connection: conn,
                        secrets: e.secret_inputs(cx.stored),
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

fn field_static(field: &str) -> &'static str {
    match field {
        FIELD_API_KEY => FIELD_API_KEY,
        FIELD_KEY => FIELD_KEY,
        FIELD_SECRET => FIELD_SECRET,
        FIELD_ACCESS_TOKEN => FIELD_ACCESS_TOKEN,
        "app_id" => "app_id",
        "base_url" => "base_url",
        _ => "",
    }
}

fn named(ui: &mut Ui, text: &str, name: &str) -> egui::Response {
    let r = ui.button(text);
    let label = name.to_owned();
    ui.ctx()
        .accesskit_node_builder(r.id, |n| n.set_label(label));
    r
}
