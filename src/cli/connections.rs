//! `keydeck connections …`: the window's connection profiles (`connections.json`) and their
//! secrets in the OS keychain, through `core::session::Session` and the kinds registry.

use clap::Subcommand;
use serde_json::{Value, json};

use crate::config::{Connection, Environment};
use crate::core::kinds::{self, KindSpec};
use crate::secret::Secret;

use super::context::Ctx;
use super::exit::{CliError, CliResult, Exit};
use super::output::Table;
use super::prompt;

pub const EXAMPLES: &str = "Examples:
  keydeck connections list
  printf '%s\\n' \"$COMETCHAT_KEY\" | keydeck connections add --name Shop --kind cometchat-app \\
      --app-id 2a1b3c4d5e6f --region eu --env prod --secret-stdin
  printf '%s\\n%s\\n' \"$MGMT_KEY\" \"$MGMT_SECRET\" | keydeck connections add --name Mgmt --kind management --secret-stdin
  keydeck connections add --name Ably --kind ably          # asks for the access token, not shown
  keydeck connections test Shop
  keydeck connections use Shop
  keydeck connections remove Shop --yes

Secrets are read from standard input (--secret-stdin, one line per secret field) or from a
prompt that does not echo; never from an argument.";

/// The provider of a new connection.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum KindArg {
    /// One CometChat app (REST API key).
    CometchatApp,
    /// The CometChat Management API (key and secret).
    Management,
    /// An Ably account (Control API access token).
    Ably,
    /// A Cometly workspace (API key).
    Cometly,
}

impl KindArg {
    fn spec(self) -> &'static dyn KindSpec {
        match self {
            KindArg::CometchatApp => &kinds::CometChatAppKind,
            KindArg::Management => &kinds::ManagementKind,
            KindArg::Ably => &kinds::AblyKind,
            KindArg::Cometly => &kinds::CometlyKind,
        }
    }
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvArg {
    Dev,
    Staging,
    Prod,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Lists the connections; * marks the one used by default.
    #[command(after_help = "Example:\n  keydeck connections list --output json")]
    List,
    /// Calls a harmless endpoint and says what the credential can do.
    #[command(after_help = "Example:\n  keydeck connections test Shop")]
    Test {
        /// Name or id (default: --connection, else the default connection).
        name: Option<String>,
    },
    /// Adds a connection; its secrets go to the OS keychain.
    #[command(
        after_help = "Example:\n  printf '%s\\n' \"$KEY\" | keydeck connections add --name Shop --kind cometchat-app --app-id 2a1b3c4d5e6f --region eu --secret-stdin"
    )]
    Add {
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        kind: KindArg,
        /// CometChat app id (cometchat-app).
        #[arg(long)]
        app_id: Option<String>,
        /// CometChat region: us, eu or in (cometchat-app).
        #[arg(long, default_value = "us")]
        region: String,
        #[arg(long, value_enum, default_value = "dev")]
        env: EnvArg,
        /// Replaces the provider's base URL (a proxy, a sandbox started by hand).
        #[arg(long)]
        base_url: Option<String>,
        /// Read the secrets from standard input, one line per secret field, instead of asking.
        #[arg(long)]
        secret_stdin: bool,
    },
    /// Makes a connection the default (here and in the window).
    #[command(after_help = "Example:\n  keydeck connections use Shop")]
    Use { name: String },
    /// Removes a connection and its secrets from the keychain (asks first).
    #[command(after_help = "Example:\n  keydeck connections remove Shop --yes")]
    Remove { name: String },
}

pub fn run(cmd: Command, ctx: &mut Ctx) -> CliResult {
    match cmd {
        Command::List => {
            list(ctx);
            Ok(())
        }
        Command::Test { name } => test(ctx, name),
        Command::Add {
            name,
            kind,
            app_id,
            region,
            env,
            base_url,
            secret_stdin,
        } => {
            let spec = kind.spec();
            let conn = new_connection(spec, &name, app_id, region, env, base_url)?;
            if ctx.find_connection(&name).is_ok() {
                return Err(CliError::new(
                    Exit::Conflict,
                    format!(
                        "A connection named {name:?} already exists: remove it first, or choose another name"
                    ),
                ));
            }
            if !ctx.keychain_ready() {
                return Err(CliError::new(
                    Exit::Unavailable,
                    "The OS keychain is not available, so the secret could not be kept: nothing was saved",
                ));
            }
            let fields = spec.secret_fields();
            let values = prompt::secrets(&fields, secret_stdin)?;
            add(ctx, conn, &fields, values)
        }
        Command::Use { name } => {
            let conn = ctx.find_connection(&name)?;
            ctx.session().select_connection(&conn.id);
            ctx.settle();
            ctx.out.done(
                &format!("{} is now the default connection", conn.label),
                &json!({ "default": conn.label, "id": conn.id }),
            );
            Ok(())
        }
        Command::Remove { name } => {
            let conn = ctx.find_connection(&name)?;
            prompt::confirm(
                &Ctx::guard(&conn, &conn.label),
                &format!(
                    "Remove connection {} and its secrets from the keychain?",
                    conn.label
                ),
                ctx.yes,
            )?;
            ctx.session().remove_connection(&conn.id);
            ctx.settle();
            ctx.out.done(
                &format!("Removed connection {}", conn.label),
                &json!({ "removed": conn.label, "id": conn.id }),
            );
            Ok(())
        }
    }
}

fn list(ctx: &Ctx) {
    let config = ctx.config();
    let default = config.selected_connection.as_deref();
    let mut table = Table::new(&["", "name", "kind", "env", "id"]);
    let mut rows = Vec::new();
    for c in &config.connections {
        let spec = kinds::spec(&c.kind);
        let is_default = default == Some(c.id.as_str());
        table.row(vec![
            if is_default { "*" } else { "" }.to_owned(),
            c.label.clone(),
            describe(c),
            c.environment.to_string(),
            c.id.clone(),
        ]);
        rows.push(json!({
            "id": c.id,
            "name": c.label,
            "kind": spec.provider(),
            "environment": c.environment.name(),
            "default": is_default,
            "baseUrl": c.base_url_override(),
            "embeddedSandbox": c.embedded_sandbox,
        }));
    }
    ctx.out.emit(&table, &Value::Array(rows));
}

/// "CometChat app 2a1b… (eu)", "Ably account (sandbox)".
fn describe(c: &Connection) -> String {
    let spec = kinds::spec(&c.kind);
    let mut text = spec.provider().to_owned();
    if let Some(app) = spec.plain_value(&c.kind, "app_id") {
        text.push_str(&format!(" {app}"));
    }
    if let Some(region) = spec.plain_value(&c.kind, "region") {
        text.push_str(&format!(" ({region})"));
    }
    if c.embedded_sandbox {
        text.push_str(" · local sandbox");
    }
    text
}

fn test(ctx: &mut Ctx, name: Option<String>) -> CliResult {
    let conn = match name {
        Some(n) => ctx.find_connection(&n)?,
        None => ctx.connection()?,
    };
    let report = match ctx.client(&conn) {
        Ok(client) => ctx.rt.block_on(kinds::test_connection(&conn.kind, client)),
        Err(e) => return Err(e),
    };
    let v = json!({
        "connection": conn.label,
        "ok": report.ok,
        "title": report.title,
        "detail": report.detail,
        "field": report.field,
    });
    if report.ok {
        ctx.out
            .done(&format!("{}\n{}", report.title, report.detail), &v);
        return Ok(());
    }
    if ctx.out.format == super::output::Format::Json {
        super::output::print_json(&v);
    }
    let exit = match report.field {
        Some("app_id") => Exit::NotFound,
        Some("base_url") | None => Exit::Unavailable,
        Some(_) => Exit::Auth,
    };
    Err(CliError::new(
        exit,
        format!("{}\n{}", report.title, report.detail),
    ))
}

fn new_connection(
    spec: &dyn KindSpec,
    name: &str,
    app_id: Option<String>,
    region: String,
    env: EnvArg,
    base_url: Option<String>,
) -> CliResult<Connection> {
    let name = name.trim();
    if name.is_empty() {
        return Err(CliError::usage("A connection needs a name"));
    }
    let app_id = app_id.unwrap_or_default();
    let value = |field: &str| match field {
        "app_id" => app_id.clone(),
        "region" => region.clone(),
        _ => String::new(),
    };
    for field in spec.plain_fields() {
        if let Some(problem) = spec.check(field.name, &value(field.name)) {
            return Err(CliError::usage(format!(
                "--{}: {problem}",
                field.name.replace('_', "-")
            )));
        }
    }
    Ok(Connection {
        id: crate::config::new_connection_id(),
        label: name.to_owned(),
        kind: spec.kind_from_form(&value, None),
        environment: match env {
            EnvArg::Dev => Environment::Dev,
            EnvArg::Staging => Environment::Staging,
            EnvArg::Prod => Environment::Prod,
        },
        base_url: base_url.filter(|u| !u.trim().is_empty()),
        embedded_sandbox: false,
    })
}

/// Saves the connection and its secrets; keeps the window's default connection unless there
/// was none.
fn add(
    ctx: &mut Ctx,
    conn: Connection,
    fields: &[(&'static str, &'static str)],
    values: Vec<Secret>,
) -> CliResult {
    let previous = ctx.config().selected_connection.clone();
    let secrets = fields.iter().map(|(f, _)| *f).zip(values).collect();
    let session = ctx.session();
    session.save_connection(conn.clone(), secrets);
    if let Some(previous) = previous.filter(|p| session.config().connection(p).is_some()) {
        session.select_connection(&previous);
    }
    ctx.settle();
    let names: Vec<&str> = fields.iter().map(|(f, _)| *f).collect();
    if !ctx.session().secrets_saved(&conn.id, &names) {
        return Err(CliError::new(
            Exit::Unavailable,
            format!(
                "Added connection {}, but its secret could not be stored in the keychain",
                conn.label
            ),
        ));
    }
    let is_default = ctx.config().selected_connection.as_deref() == Some(conn.id.as_str());
    ctx.out.done(
        &format!(
            "Added connection {} ({}){}",
            conn.label,
            describe(&conn),
            if is_default { ", the default" } else { "" }
        ),
        &json!({ "added": conn.label, "id": conn.id, "default": is_default }),
    );
    Ok(())
}
