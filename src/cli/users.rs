//! `keydeck users …`: users of a CometChat app, through `core::ops::users`.

use clap::Subcommand;
use serde_json::{Value, json};

use crate::core::ops::users;
use crate::model::uid::{check_name, check_role, check_uid, parse_tags};
use crate::providers::cometchat::{CometChatClient, NewUser, User, UserQuery, UserUpdate};

use super::context::Ctx;
use super::exit::{CliError, CliResult};
use super::output::{Out, Table, time};
use super::prompt;

pub const EXAMPLES: &str = "Examples:
  keydeck users list --search ali --limit 20
  keydeck users get alice --output json
  keydeck users create alice --name 'Alice Liddell' --role default --tags beta,vip
  keydeck users update alice --name 'Alice L.'
  keydeck users deactivate alice
  keydeck users reactivate alice
  keydeck users delete alice --yes";

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Lists users (one page; --search filters on the server).
    #[command(after_help = "Example:\n  keydeck users list --search ali --limit 20")]
    List {
        #[arg(long)]
        search: Option<String>,
        /// Users per page (at most 1000).
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long, default_value_t = 1)]
        page: u32,
        /// Include deactivated users.
        #[arg(long)]
        with_deactivated: bool,
    },
    /// Shows one user.
    #[command(after_help = "Example:\n  keydeck users get alice --output json")]
    Get { uid: String },
    /// Creates a user.
    #[command(
        after_help = "Example:\n  keydeck users create alice --name 'Alice Liddell' --tags beta,vip"
    )]
    Create {
        uid: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        role: Option<String>,
        /// Comma-separated.
        #[arg(long)]
        tags: Option<String>,
    },
    /// Changes a user's name, role or tags.
    #[command(after_help = "Example:\n  keydeck users update alice --role moderator")]
    Update {
        uid: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        role: Option<String>,
        /// Comma-separated; replaces the tags.
        #[arg(long)]
        tags: Option<String>,
    },
    /// Deactivates a user: their tokens stop working until reactivated.
    #[command(after_help = "Example:\n  keydeck users deactivate alice")]
    Deactivate { uid: String },
    /// Reactivates a deactivated user.
    #[command(after_help = "Example:\n  keydeck users reactivate alice")]
    Reactivate { uid: String },
    /// Deletes a user and everything of theirs, for good (asks first).
    #[command(after_help = "Example:\n  keydeck users delete alice --yes")]
    Delete { uid: String },
}

pub fn run(cmd: Command, ctx: &mut Ctx) -> CliResult {
    let (conn, client, rec) = ctx.cometchat()?;
    let out = ctx.out;
    match cmd {
        Command::List {
            search,
            limit,
            page,
            with_deactivated,
        } => {
            let query = UserQuery {
                search_key: search,
                per_page: Some(limit.clamp(1, 1000)),
                page: Some(page.max(1)),
                with_deactivated,
                ..UserQuery::default()
            };
            list(ctx, &client, &query)
        }
        Command::Get { uid } => {
            let uid = uid_arg(&uid)?;
            let u = ctx.rt.block_on(client.get_user(&uid, None))?;
            show(out, &u);
            Ok(())
        }
        Command::Create {
            uid,
            name,
            role,
            tags,
        } => {
            let new = NewUser {
                uid: uid_arg(&uid)?,
                name: check_name(&name).map_err(CliError::usage)?,
                role: role_arg(role.as_deref())?,
                tags: tags_arg(tags.as_deref())?.unwrap_or_default(),
                ..NewUser::default()
            };
            let u = ctx.rt.block_on(users::create(&client, &rec, &new))?;
            show(out, &u);
            Ok(())
        }
        Command::Update {
            uid,
            name,
            role,
            tags,
        } => {
            let uid = uid_arg(&uid)?;
            let update = UserUpdate {
                name: name
                    .as_deref()
                    .map(check_name)
                    .transpose()
                    .map_err(CliError::usage)?,
                role: role_arg(role.as_deref())?,
                tags: tags_arg(tags.as_deref())?,
                ..UserUpdate::default()
            };
            if update.name.is_none() && update.role.is_none() && update.tags.is_none() {
                return Err(CliError::usage(
                    "Nothing to change: give --name, --role or --tags",
                ));
            }
            let u = ctx
                .rt
                .block_on(users::update(&client, &rec, &uid, &update))?;
            show(out, &u);
            Ok(())
        }
        Command::Deactivate { uid } => {
            let uid = uid_arg(&uid)?;
            ctx.rt.block_on(users::deactivate(&client, &rec, &uid))?;
            out.done(
                &format!("Deactivated {uid}: their tokens stop working until reactivated"),
                &json!({ "uid": uid, "status": "deactivated" }),
            );
            Ok(())
        }
        Command::Reactivate { uid } => {
            let uid = uid_arg(&uid)?;
            ctx.rt.block_on(users::reactivate(&client, &rec, &uid))?;
            out.done(
                &format!("Reactivated {uid}"),
                &json!({ "uid": uid, "status": "active" }),
            );
            Ok(())
        }
        Command::Delete { uid } => {
            let uid = uid_arg(&uid)?;
            prompt::confirm(
                &Ctx::guard(&conn, &uid),
                &format!(
                    "Delete user {uid} of {} and everything of theirs, for good?",
                    conn.label
                ),
                ctx.yes,
            )?;
            ctx.rt
                .block_on(users::delete_permanently(&client, &rec, &uid))?;
            out.done(
                &format!("Deleted user {uid}"),
                &json!({ "uid": uid, "deleted": true }),
            );
            Ok(())
        }
    }
}

fn list(ctx: &Ctx, client: &CometChatClient, query: &UserQuery) -> CliResult {
    let out = ctx.out;
    let found = ctx.rt.block_on(client.list_users(query, None))?;
    let mut table = Table::new(&["uid", "name", "role", "status", "created"]);
    for u in &found.items {
        table.row(vec![
            u.uid.clone(),
            u.name.clone(),
            u.role.clone(),
            status(u),
            time(u.created_at),
        ]);
    }
    let rows: Vec<Value> = found.items.iter().map(|u| user_json(out, u)).collect();
    out.emit(
        &table,
        &json!({ "users": rows, "total": found.pagination.total, "page": found.pagination.current_page }),
    );
    if out.format == super::output::Format::Table {
        eprintln!(
            "{} of {}",
            crate::words::count(found.items.len(), "user", "users"),
            crate::words::thousands(found.pagination.total)
        );
    }
    Ok(())
}

fn uid_arg(raw: &str) -> CliResult<String> {
    check_uid(raw).map_err(|p| CliError::usage(format!("{p} (got {raw:?})")))
}

fn role_arg(raw: Option<&str>) -> CliResult<Option<String>> {
    match raw {
        Some(r) => check_role(r).map_err(CliError::usage),
        None => Ok(None),
    }
}

fn tags_arg(raw: Option<&str>) -> CliResult<Option<Vec<String>>> {
    match raw {
        Some(t) => parse_tags(t).map(Some).map_err(CliError::usage),
        None => Ok(None),
    }
}

fn status(u: &User) -> String {
    if u.is_deactivated() {
        "deactivated".to_owned()
    } else {
        u.status.clone()
    }
}

/// A user as JSON; a first auth token (create) only as its mask unless --reveal.
fn user_json(out: Out, u: &User) -> Value {
    json!({
        "uid": u.uid,
        "name": u.name,
        "role": u.role,
        "status": status(u),
        "tags": u.tags,
        "created": time(u.created_at),
        "deactivated": u.deactivated_at.map(time),
        "authToken": u.auth_token.as_ref().map(|t| out.secret(t)),
    })
}

fn show(out: Out, u: &User) {
    let mut table = Table::new(&["field", "value"]);
    table
        .row(vec!["uid".into(), u.uid.clone()])
        .row(vec!["name".into(), u.name.clone()])
        .row(vec!["role".into(), u.role.clone()])
        .row(vec!["status".into(), status(u)])
        .row(vec![
            "tags".into(),
            u.tags.clone().unwrap_or_default().join(", "),
        ])
        .row(vec!["created".into(), time(u.created_at)]);
    out.emit(&table, &user_json(out, u));
}
