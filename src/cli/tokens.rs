//! `keydeck tokens …`: auth tokens of CometChat users, through `core::ops::tokens`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::Subcommand;
use serde_json::{Value, json};

use crate::core::ops::tokens;
use crate::model::uid::{check_uid, parse_uid_list};
use crate::providers::ApiError;
use crate::providers::cometchat::{AuthToken, CometChatClient, NewAuthToken};
use crate::secret::Secret;

use super::context::Ctx;
use super::exit::{CliError, CliResult, Exit, exit_of};
use super::output::{Format, Table, time};
use super::prompt;

pub const EXAMPLES: &str = "Examples:
  keydeck tokens issue alice --output json
  keydeck tokens issue alice --force
  keydeck tokens list alice
  keydeck tokens revoke alice 4f2a
  printf '%s\\n' \"$TOKEN\" | keydeck tokens revoke alice -
  keydeck tokens revoke-all alice --yes
  keydeck tokens bulk uids.csv --output json > tokens.json

A TOKEN is the first characters of the token (at least 4, as `tokens list` shows them), or -
to read the whole token from standard input.";

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Issues an auth token for a user (the existing one unless --force).
    #[command(after_help = "Example:\n  keydeck tokens issue alice --force --output json")]
    Issue {
        uid: String,
        /// A new token even when the user has one.
        #[arg(long)]
        force: bool,
    },
    /// Lists a user's tokens (masked unless --reveal).
    #[command(after_help = "Example:\n  keydeck tokens list alice")]
    List { uid: String },
    /// Revokes one token of a user (asks first).
    #[command(after_help = "Example:\n  keydeck tokens revoke alice 4f2a --yes")]
    Revoke {
        uid: String,
        /// First characters of the token, or - (the token on stdin).
        token: String,
    },
    /// Revokes every token of a user (asks first).
    #[command(after_help = "Example:\n  keydeck tokens revoke-all alice --yes")]
    RevokeAll { uid: String },
    /// Issues a new token for each uid in a CSV or text file (first column; a `uid` header,
    /// blank lines and # comments are skipped), with a progress bar on a terminal and a result
    /// per row.
    #[command(after_help = "Example:\n  keydeck tokens bulk uids.csv --output json > tokens.json")]
    Bulk {
        file: PathBuf,
        /// Requests in flight at once.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
    },
}

pub fn run(cmd: Command, ctx: &mut Ctx) -> CliResult {
    let (conn, client, rec) = ctx.cometchat()?;
    let out = ctx.out;
    match cmd {
        Command::Issue { uid, force } => {
            let uid = uid_arg(&uid)?;
            let new = NewAuthToken {
                force,
                ..NewAuthToken::default()
            };
            let t = ctx.rt.block_on(tokens::issue(&client, &rec, &uid, &new))?;
            let mut table = Table::new(&["uid", "token", "created"]);
            table.row(vec![
                t.uid.clone(),
                out.secret(&t.auth_token),
                time(t.created_at),
            ]);
            out.emit(&table, &token_json(&t, Some(&t.auth_token)));
            out.note_masked("The token is");
            Ok(())
        }
        Command::List { uid } => {
            let uid = uid_arg(&uid)?;
            let all = ctx.rt.block_on(tokens::list(&client, &uid))?;
            let mut table = Table::new(&["token", "created", "platform"]);
            let mut rows = Vec::new();
            for t in &all {
                let shown = Secret::new(out.secret(&t.auth_token));
                table.row(vec![
                    shown.expose().to_owned(),
                    time(t.created_at),
                    t.platform.clone().unwrap_or_default(),
                ]);
                rows.push(token_json(t, Some(&shown)));
            }
            out.emit(&table, &Value::Array(rows));
            Ok(())
        }
        Command::Revoke { uid, token } => {
            let uid = uid_arg(&uid)?;
            let token = find(ctx, &client, &uid, &token)?;
            prompt::confirm(
                &super::context::Ctx::guard(&conn, &uid),
                &format!(
                    "Revoke auth token {} of {uid} on {}?",
                    token.masked(),
                    conn.label
                ),
                ctx.yes,
            )?;
            ctx.rt
                .block_on(tokens::revoke(&client, &rec, &uid, &token))?;
            out.done(
                &format!("Revoked auth token {} of {uid}", token.masked()),
                &json!({ "revoked": token.masked(), "uid": uid }),
            );
            Ok(())
        }
        Command::RevokeAll { uid } => {
            let uid = uid_arg(&uid)?;
            prompt::confirm(
                &super::context::Ctx::guard(&conn, &uid),
                &format!("Revoke every auth token of {uid} on {}?", conn.label),
                ctx.yes,
            )?;
            ctx.rt.block_on(tokens::revoke_all(&client, &rec, &uid))?;
            out.done(
                &format!("Revoked every auth token of {uid}"),
                &json!({ "revokedAll": uid }),
            );
            Ok(())
        }
        Command::Bulk { file, concurrency } => bulk(ctx, &client, &rec, &file, concurrency),
    }
}

fn uid_arg(raw: &str) -> CliResult<String> {
    check_uid(raw).map_err(|p| CliError::usage(format!("{p} (got {raw:?})")))
}

/// A token as JSON; `shown` is what to put in it (the value, or its mask).
fn token_json(t: &AuthToken, shown: Option<&Secret>) -> Value {
    json!({
        "uid": t.uid,
        "token": shown.map(|s| s.expose().to_owned()),
        "created": time(t.created_at),
        "platform": t.platform,
    })
}

/// A token of `uid` by its first characters, or (`-`) the whole token from stdin.
fn find(ctx: &Ctx, client: &CometChatClient, uid: &str, wanted: &str) -> CliResult<Secret> {
    if wanted == "-" {
        return prompt::value_from_stdin("token");
    }
    let prefix = wanted.trim_end_matches('…');
    if prefix.chars().count() < 4 {
        return Err(CliError::usage(
            "Give at least the first 4 characters of the token, or - to read it from standard input",
        ));
    }
    let all = ctx.rt.block_on(tokens::list(client, uid))?;
    let found: Vec<&AuthToken> = all
        .iter()
        .filter(|t| t.auth_token.expose().starts_with(prefix))
        .collect();
    match found.as_slice() {
        [t] => Ok(t.auth_token.clone()),
        [] => Err(CliError::not_found(format!(
            "{uid} has no auth token starting with {prefix:?} (see `keydeck tokens list {uid}`)"
        ))),
        many => Err(CliError::new(
            Exit::Conflict,
            format!(
                "{} tokens of {uid} start with {prefix:?}: give more characters",
                many.len()
            ),
        )),
    }
}

/// One row of a bulk run's result.
struct Row {
    line: usize,
    uid: String,
    result: Result<Secret, (Exit, String)>,
}

fn bulk(
    ctx: &mut Ctx,
    client: &CometChatClient,
    rec: &crate::core::ops::Recorder,
    file: &Path,
    concurrency: usize,
) -> CliResult {
    let text = std::fs::read_to_string(file).map_err(|e| {
        CliError::usage(format!(
            "Could not read {} as a text file: {e}",
            file.display()
        ))
    })?;
    let list = parse_uid_list(&text);
    let mut rows: Vec<Row> = Vec::new();
    let mut targets = Vec::new();
    for l in list.lines {
        match l.uid {
            Ok(uid) => {
                targets.push((rows.len(), uid.clone()));
                rows.push(Row {
                    line: l.line,
                    uid,
                    result: Err((Exit::Unavailable, "not issued".to_owned())),
                });
            }
            Err(p) => rows.push(Row {
                line: l.line,
                uid: l.raw,
                result: Err((Exit::Usage, format!("skipped: {p}"))),
            }),
        }
    }
    if targets.is_empty() {
        return Err(CliError::usage(format!(
            "{} holds no valid uid: one per line, in the first column{}",
            file.display(),
            first_problem(&rows)
        )));
    }
    let bar = super::output::progress_bar(targets.len() as u64, "tokens issued");
    let stop = Arc::new(AtomicBool::new(false));
    let results: std::sync::Mutex<Vec<(usize, Result<Secret, ApiError>)>> = Default::default();
    ctx.rt.block_on(tokens::issue_many(
        client,
        rec,
        targets,
        concurrency,
        stop,
        |i, r| {
            bar.inc(1);
            if let Ok(mut all) = results.lock() {
                all.push((i, r));
            }
            true
        },
    ));
    bar.finish_and_clear();
    for (i, r) in results.into_inner().unwrap_or_default() {
        if let Some(row) = rows.get_mut(i) {
            row.result = r.map_err(|e| {
                let x = crate::core::errors::explain(&e);
                (exit_of(&e.kind), x.title)
            });
        }
    }
    report(ctx, &rows, list.duplicates)
}

fn first_problem(rows: &[Row]) -> String {
    rows.iter()
        .find_map(|r| r.result.as_ref().err())
        .map(|(_, p)| {
            format!(
                " (line {}: {p})",
                rows.iter()
                    .find(|r| r.result.is_err())
                    .map_or(0, |r| r.line)
            )
        })
        .unwrap_or_default()
}

/// Prints one result per row; the exit status is the first failure's.
fn report(ctx: &Ctx, rows: &[Row], duplicates: usize) -> CliResult {
    let out = ctx.out;
    let mut table = Table::new(&["line", "uid", "result"]);
    let mut json_rows = Vec::new();
    for r in rows {
        let (cell, v) = match &r.result {
            Ok(t) => (
                format!("issued {}", out.secret(t)),
                json!({ "line": r.line, "uid": r.uid, "ok": true, "token": t.expose() }),
            ),
            Err((_, e)) => (
                e.clone(),
                json!({ "line": r.line, "uid": r.uid, "ok": false, "error": e }),
            ),
        };
        table.row(vec![r.line.to_string(), r.uid.clone(), cell]);
        json_rows.push(v);
    }
    out.emit(&table, &Value::Array(json_rows));
    let issued = rows.iter().filter(|r| r.result.is_ok()).count();
    if out.format == Format::Table {
        eprintln!(
            "{} of {} issued{}",
            crate::words::count(issued, "token", "tokens"),
            crate::words::thousands(rows.len() as u64),
            if duplicates > 0 {
                format!("; {duplicates} repeated uid(s) skipped")
            } else {
                String::new()
            }
        );
        out.note_masked("The tokens are");
    }
    match rows.iter().find_map(|r| r.result.as_ref().err()) {
        None => Ok(()),
        Some((exit, _)) => Err(CliError::new(
            *exit,
            format!(
                "{} of {} rows failed (see the result column)",
                rows.len() - issued,
                rows.len()
            ),
        )),
    }
}
