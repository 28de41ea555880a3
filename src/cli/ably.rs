//! `keydeck ably …`: keys of an Ably app (Control API) and token revocation, through
//! `core::ops::ably`.

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::core::client::AblyAccess;
use crate::core::ops::ably;
use crate::model::capability;
use crate::providers::ably::{
    AblyApp, AblyKey, KeyStatus, NewAblyKey, RevokeTokens, validate_target,
};

use super::context::Ctx;
use super::exit::{CliError, CliResult, Exit};
use super::output::{Out, Table, time};
use super::prompt;

pub const EXAMPLES: &str = "Examples:
  keydeck ably apps
  keydeck ably keys list --app Chat
  keydeck ably keys create --name web --capability '{\"chat:*\":[\"subscribe\",\"publish\"]}' --revocable-tokens
  keydeck ably keys revoke web --yes
  keydeck ably revoke-tokens --client-id alice --key web --yes

The app is --app (id or name), else the connection's app, else the account's only app.
A KEY is the key's id, its name, or appId.keyId.";

#[derive(Args, Debug, Clone, Default)]
pub struct AppArg {
    /// The Ably app, by id or name.
    // Ably's ids may start with '-' ("-qsA3s"): a value, not an option.
    #[arg(long, allow_hyphen_values = true)]
    pub app: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Lists the account's apps.
    #[command(after_help = "Example:\n  keydeck ably apps --output json")]
    Apps,
    /// Keys of an app: list, create, revoke.
    #[command(after_help = EXAMPLES)]
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Revokes the tokens issued to a client id, with a key of the app that has revocable
    /// tokens (asks first).
    #[command(
        after_help = "Example:\n  keydeck ably revoke-tokens --client-id alice --key web --yes"
    )]
    RevokeTokens {
        #[arg(long, required = true)]
        client_id: Vec<String>,
        /// The key whose tokens are revoked (default: the first enabled key with revocable
        /// tokens).
        #[arg(long, allow_hyphen_values = true)]
        key: Option<String>,
        #[command(flatten)]
        app: AppArg,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Lists the app's keys with their capabilities and status.
    #[command(after_help = "Example:\n  keydeck ably keys list --app Chat")]
    List {
        #[command(flatten)]
        app: AppArg,
    },
    /// Creates a key with a capability (JSON: resource → operations).
    #[command(
        after_help = "Example:\n  keydeck ably keys create --name web --capability '{\"*\":[\"subscribe\"]}'"
    )]
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        capability: String,
        /// Tokens issued with this key can be revoked.
        #[arg(long)]
        revocable_tokens: bool,
        #[command(flatten)]
        app: AppArg,
    },
    /// Revokes a key, permanently (asks first).
    #[command(after_help = "Example:\n  keydeck ably keys revoke web --yes")]
    Revoke {
        #[arg(allow_hyphen_values = true)]
        key: String,
        #[command(flatten)]
        app: AppArg,
    },
}

pub fn run(cmd: Command, ctx: &mut Ctx) -> CliResult {
    let (conn, a, rec) = ctx.ably()?;
    let out = ctx.out;
    match cmd {
        Command::Apps => {
            let apps = ctx.rt.block_on(ably::list_apps(&a))?;
            let mut table = Table::new(&["id", "name", "status"]);
            for app in &apps {
                table.row(vec![app.id.clone(), app.name.clone(), app.status.clone()]);
            }
            let rows: Vec<Value> = apps
                .iter()
                .map(|app| json!({ "id": app.id, "name": app.name, "status": app.status }))
                .collect();
            out.emit(&table, &Value::Array(rows));
            Ok(())
        }
        Command::Keys { command } => keys(ctx, &conn, &a, &rec, command),
        Command::RevokeTokens {
            client_id,
            key,
            app,
        } => {
            let app_id = choose_app(ctx, &a, &app)?;
            let all = ctx.rt.block_on(ably::list_keys(&a, &app_id))?;
            let key = match key {
                Some(k) => find_key(&all, &k)?,
                None => all
                    .iter()
                    .find(|k| k.status == KeyStatus::Enabled && k.revocable_tokens == Some(true))
                    .cloned()
                    .ok_or_else(|| {
                        CliError::not_found(
                            "No enabled key of this app has revocable tokens: give one with --key",
                        )
                    })?,
            };
            let targets: Vec<String> = client_id.iter().map(|c| format!("clientId:{c}")).collect();
            for t in &targets {
                validate_target(t).map_err(CliError::usage)?;
            }
            prompt::confirm(
                &Ctx::guard(&conn, &key.name),
                &format!(
                    "Revoke the tokens of {} issued with key {}?",
                    client_id.join(", "),
                    key.name
                ),
                ctx.yes,
            )?;
            let request = RevokeTokens {
                targets,
                ..RevokeTokens::default()
            };
            let result = ctx
                .rt
                .block_on(ably::revoke_tokens(&a, &rec, &key.key, &request))?;
            let mut table = Table::new(&["target", "result"]);
            let mut rows = Vec::new();
            for item in &result.results {
                let outcome = match &item.error {
                    Some(e) => format!("failed: {}", e.message),
                    None => "revoked".to_owned(),
                };
                table.row(vec![item.target.clone(), outcome.clone()]);
                rows.push(json!({ "target": item.target, "result": outcome }));
            }
            out.emit(
                &table,
                &json!({ "results": rows, "failed": result.failure_count }),
            );
            if result.failure_count > 0 {
                return Err(CliError::new(
                    Exit::Unavailable,
                    format!("{} target(s) were not revoked", result.failure_count),
                ));
            }
            Ok(())
        }
    }
}

fn keys(
    ctx: &mut Ctx,
    conn: &crate::config::Connection,
    a: &AblyAccess,
    rec: &crate::core::ops::Recorder,
    cmd: KeysCommand,
) -> CliResult {
    let out = ctx.out;
    match cmd {
        KeysCommand::List { app } => {
            let app_id = choose_app(ctx, a, &app)?;
            let all = ctx.rt.block_on(ably::list_keys(a, &app_id))?;
            let mut table = Table::new(&["id", "name", "status", "key", "capability"]);
            for k in &all {
                table.row(vec![
                    k.id.clone(),
                    k.name.clone(),
                    k.status.label().to_owned(),
                    out.secret(&k.key),
                    serde_json::to_string(&k.capability).unwrap_or_default(),
                ]);
            }
            let rows: Vec<Value> = all.iter().map(|k| key_json(out, k, false)).collect();
            out.emit(&table, &Value::Array(rows));
            Ok(())
        }
        KeysCommand::Create {
            name,
            capability: text,
            revocable_tokens,
            app,
        } => {
            let cap = capability::parse(&text)
                .and_then(|c| capability::validate(&c).map(|()| c))
                .map_err(|e| CliError::usage(format!("--capability: {e}")))?;
            let app_id = choose_app(ctx, a, &app)?;
            let new = NewAblyKey {
                name: name.trim().to_owned(),
                capability: cap,
                revocable_tokens: revocable_tokens.then_some(true),
            };
            let k = ctx.rt.block_on(ably::create_key(a, rec, &app_id, &new))?;
            let mut table = Table::new(&["id", "name", "key"]);
            table.row(vec![k.id.clone(), k.name.clone(), out.secret(&k.key)]);
            out.emit(&table, &key_json(out, &k, true));
            out.note_masked("The new key is");
            Ok(())
        }
        KeysCommand::Revoke { key, app } => {
            let app_id = choose_app(ctx, a, &app)?;
            let all = ctx.rt.block_on(ably::list_keys(a, &app_id))?;
            let k = find_key(&all, &key)?;
            prompt::confirm(
                &ably::revoke_key_guard(conn.environment, &k.name),
                &format!(
                    "Revoke Ably key {} ({})? This cannot be undone: everything using it stops working.",
                    k.name,
                    k.key_name()
                ),
                ctx.yes,
            )?;
            ctx.rt.block_on(ably::revoke_key(a, rec, &app_id, &k.id))?;
            out.done(
                &format!("Revoked key {}", k.name),
                &json!({ "revoked": k.key_name(), "name": k.name }),
            );
            Ok(())
        }
    }
}

/// A key as JSON; its value only when `produced` (a new key) or --reveal.
fn key_json(out: Out, k: &AblyKey, produced: bool) -> Value {
    json!({
        "id": k.id,
        "appId": k.app_id,
        "name": k.name,
        "status": k.status.label(),
        "key": if produced { k.key.expose().to_owned() } else { out.secret(&k.key) },
        "capability": k.capability,
        "revocableTokens": k.revocable_tokens,
        "created": time(k.created / 1000),
    })
}

fn find_key(all: &[AblyKey], wanted: &str) -> CliResult<AblyKey> {
    let found: Vec<&AblyKey> = all
        .iter()
        .filter(|k| k.id == wanted || k.name == wanted || k.key_name() == wanted)
        .collect();
    match found.as_slice() {
        [k] => Ok((*k).clone()),
        [] => Err(CliError::not_found(format!(
            "No key with id or name {wanted:?} in this app (see `keydeck ably keys list`)"
        ))),
        _ => Err(CliError::new(
            Exit::Conflict,
            format!("More than one key is named {wanted:?}: give its id"),
        )),
    }
}

/// The app: --app (id or name), else the connection's, else the account's only one.
fn choose_app(ctx: &Ctx, a: &AblyAccess, arg: &AppArg) -> CliResult<String> {
    if arg.app.is_none()
        && let Some(id) = &a.app_id
    {
        return Ok(id.clone());
    }
    let apps = ctx.rt.block_on(ably::list_apps(a))?;
    let found: Vec<&AblyApp> = match &arg.app {
        Some(wanted) => apps
            .iter()
            .filter(|x| &x.id == wanted || &x.name == wanted)
            .collect(),
        None => apps.iter().collect(),
    };
    match found.as_slice() {
        [app] => Ok(app.id.clone()),
        [] if arg.app.is_some() => Err(CliError::not_found(format!(
            "No Ably app {:?} in this account (see `keydeck ably apps`)",
            arg.app.as_deref().unwrap_or_default()
        ))),
        _ => {
            let names: Vec<&str> = apps.iter().map(|x| x.name.as_str()).collect();
            Err(CliError::usage(format!(
                "Choose the app with --app: {}",
                names.join(", ")
            )))
        }
    }
}
