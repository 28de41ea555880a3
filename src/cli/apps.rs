//! `keydeck apps …`: apps of a CometChat Management connection, through `core::ops::apps`.

use clap::Subcommand;
use serde_json::{Value, json};

use crate::core::ops::apps;
use crate::providers::management::{App, AppQuery, NewApp};

use super::context::Ctx;
use super::exit::{CliError, CliResult, Exit};
use super::output::{Out, Table, time};
use super::prompt;

pub const EXAMPLES: &str = "Examples:
  keydeck apps list --connection Mgmt
  keydeck apps create --name Shop --region eu --output json
  keydeck apps delete Shop --yes

An APP is the app's id or its name.";

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Lists the account's apps.
    #[command(after_help = "Example:\n  keydeck apps list --search shop")]
    List {
        #[arg(long)]
        search: Option<String>,
    },
    /// Creates an app; prints its fullAccess key (masked in a table unless --reveal).
    #[command(after_help = "Example:\n  keydeck apps create --name Shop --region eu")]
    Create {
        #[arg(long)]
        name: String,
        /// us, eu or in.
        #[arg(long, default_value = "us")]
        region: String,
    },
    /// Schedules an app for deletion (asks first).
    #[command(after_help = "Example:\n  keydeck apps delete Shop --yes")]
    Delete {
        /// Id or name.
        app: String,
    },
}

pub fn run(cmd: Command, ctx: &mut Ctx) -> CliResult {
    let (conn, client, rec) = ctx.management()?;
    let out = ctx.out;
    match cmd {
        Command::List { search } => {
            let query = AppQuery {
                search_key: search,
                per_page: Some(100),
                ..AppQuery::default()
            };
            let page = ctx.rt.block_on(apps::list(&client, &query))?;
            let mut table = Table::new(&["id", "name", "region", "plan", "created"]);
            for a in &page.items {
                table.row(vec![
                    a.id.clone(),
                    a.name.clone(),
                    a.region.clone(),
                    a.plan.clone().unwrap_or_default(),
                    time(a.created_at),
                ]);
            }
            let rows: Vec<Value> = page.items.iter().map(|a| app_json(out, a, false)).collect();
            out.emit(&table, &Value::Array(rows));
            Ok(())
        }
        Command::Create { name, region } => {
            crate::providers::cometchat::validate_region(&region)?;
            let name = name.trim().to_owned();
            if name.is_empty() {
                return Err(CliError::usage("An app needs a name"));
            }
            let app = ctx
                .rt
                .block_on(apps::create(&client, &rec, &NewApp { name, region }))?;
            let key = app.full_access_key().map(|k| out.secret(&k.api_key));
            let mut table = Table::new(&["id", "name", "region", "fullAccess key"]);
            table.row(vec![
                app.id.clone(),
                app.name.clone(),
                app.region.clone(),
                key.unwrap_or_default(),
            ]);
            out.emit(&table, &app_json(out, &app, true));
            out.note_masked("The app's key is");
            Ok(())
        }
        Command::Delete { app } => {
            let query = AppQuery {
                per_page: Some(1000),
                ..AppQuery::default()
            };
            let all = ctx.rt.block_on(apps::list(&client, &query))?.items;
            let found: Vec<&App> = all
                .iter()
                .filter(|a| a.id == app || a.name == app)
                .collect();
            let target = match found.as_slice() {
                [a] => (*a).clone(),
                [] => {
                    return Err(CliError::not_found(format!(
                        "No app with id or name {app:?}"
                    )));
                }
                _ => {
                    return Err(CliError::new(
                        Exit::Conflict,
                        format!("More than one app is named {app:?}: give its id"),
                    ));
                }
            };
            prompt::confirm(
                &apps::delete_guard(conn.environment, &target),
                &format!(
                    "Delete app {} ({})? Its users, keys and messages go with it.",
                    target.name, target.id
                ),
                ctx.yes,
            )?;
            let deletion = ctx.rt.block_on(apps::delete(&client, &rec, &target.id))?;
            out.done(
                &format!(
                    "App {} is scheduled for deletion at {}",
                    target.name,
                    time(deletion.scheduled_to_delete_at)
                ),
                &json!({
                    "id": target.id,
                    "name": target.name,
                    "scheduledToDeleteAt": time(deletion.scheduled_to_delete_at),
                }),
            );
            Ok(())
        }
    }
}

/// An app as JSON; its keys' values only when `produced` (a new app) or --reveal.
fn app_json(out: Out, a: &App, produced: bool) -> Value {
    let keys: Vec<Value> = a
        .api_keys
        .iter()
        .map(|k| {
            json!({
                "name": k.name,
                "scope": k.scope.as_str(),
                "key": if produced { k.api_key.expose().to_owned() } else { out.secret(&k.api_key) },
            })
        })
        .collect();
    json!({
        "id": a.id,
        "name": a.name,
        "region": a.region,
        "plan": a.plan,
        "created": time(a.created_at),
        "apiKeys": keys,
    })
}
