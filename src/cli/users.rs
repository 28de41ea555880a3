//! `keydeck users …`: users of a CometChat app, through `core::ops::users`.

use clap::Subcommand;
use serde_json::{Value, json};

use crate::core::ops::user_export::{self, ExportError, ExportFormat, ExportProgress};
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
  keydeck users delete alice --yes
  keydeck users export users.csv --with-deactivated";

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
    /// Exports every user (never a token) to a CSV or JSON file, page by page; Ctrl-C stops
    /// and leaves no file.
    #[command(
        after_help = "Examples:\n  keydeck users export users.csv\n  keydeck users export moderators.json --role moderator --with-deactivated"
    )]
    Export(ExportArgs),
}

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// The file to write (.json is JSON, anything else CSV, unless --format says).
    file: std::path::PathBuf,
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// Include deactivated users.
    #[arg(long)]
    with_deactivated: bool,
    #[arg(long)]
    role: Option<String>,
    /// available or offline.
    #[arg(long, value_parser = ["available", "offline"])]
    status: Option<String>,
    #[arg(long)]
    tag: Option<String>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum FormatArg {
    Csv,
    Json,
}

pub fn run(cmd: Command, ctx: &mut Ctx) -> CliResult {
    let (conn, client, rec) = ctx.cometchat()?;
    let out = ctx.out;
    match cmd {
        Command::Export(args) => export(ctx, &client, &rec, args),
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

/// `users export`: a bar on a terminal, Ctrl-C cancels between pages.
fn export(
    ctx: &Ctx,
    client: &CometChatClient,
    rec: &crate::core::ops::Recorder,
    args: ExportArgs,
) -> CliResult {
    let query = UserQuery {
        role: role_arg(args.role.as_deref())?,
        status: args.status,
        tags: args.tag.into_iter().collect(),
        with_deactivated: args.with_deactivated,
        ..UserQuery::default()
    };
    let file = args.file.as_path();
    let format = match args.format {
        Some(FormatArg::Csv) => ExportFormat::Csv,
        Some(FormatArg::Json) => ExportFormat::Json,
        None => ExportFormat::for_path(file),
    };
    let progress = ExportProgress::new();
    let bar = super::output::progress_bar(0, "users exported");
    let result = ctx.rt.block_on(async {
        let watch = {
            let (progress, bar) = (std::sync::Arc::clone(&progress), bar.clone());
            tokio::spawn(async move {
                loop {
                    let (written, total) = progress.counts();
                    bar.set_length(total);
                    bar.set_position(written);
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            })
        };
        let stop = {
            let progress = std::sync::Arc::clone(&progress);
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    progress.cancel();
                }
            })
        };
        let r = user_export::export(client, rec, query, format, file, progress).await;
        watch.abort();
        stop.abort();
        r
    });
    bar.finish_and_clear();
    match result {
        Ok(n) => {
            ctx.out.done(
                &format!(
                    "Exported {} to {} (no tokens)",
                    crate::words::count(usize::try_from(n).unwrap_or(usize::MAX), "user", "users"),
                    file.display()
                ),
                &json!({ "exported": n, "file": file.display().to_string(), "format": format.extension() }),
            );
            Ok(())
        }
        Err(ExportError::Cancelled) => Err(CliError::new(
            super::exit::Exit::Interrupted,
            "Export cancelled; no file was written",
        )),
        Err(ExportError::Api(e)) => Err(e.into()),
        Err(e @ ExportError::Io { .. }) => Err(CliError::usage(e.to_string())),
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
