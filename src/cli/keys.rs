//! `keydeck keys …`: API keys of a CometChat app, through `core::ops::keys`.

use clap::Subcommand;
use serde_json::{Value, json};

use crate::config::Connection;
use crate::core::ops::keys;
use crate::providers::cometchat::{ApiKey, ApiKeyUpdate, CometChatClient, NewApiKey, Scope};
use crate::secret::Secret;

use super::context::Ctx;
use super::exit::{CliError, CliResult, Exit};
use super::output::{Out, Table, time};
use super::prompt;

pub const EXAMPLES: &str = "Examples:
  keydeck keys list
  keydeck keys create --name ci-bot --scope authOnly --output json
  keydeck keys update ci-bot --scope fullAccess
  keydeck keys rotate ci-bot --overlap 1d
  keydeck keys rotate 'Shop key' --overlap 1h --use-for-connection
  keydeck keys delete ci-bot --yes
  printf '%s\\n' \"$OLD_KEY\" | keydeck keys delete -

A KEY is the key's name, the first characters of its value (at least 4, as `keys list`
shows them), or - to read the whole value from standard input.";

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Lists the app's keys: name, scope, masked value, retiring ones marked.
    #[command(after_help = "Example:\n  keydeck keys list --output json")]
    List,
    /// Creates a key; prints it (masked in a table unless --reveal).
    #[command(after_help = "Example:\n  keydeck keys create --name ci-bot --scope authOnly")]
    Create {
        #[arg(long)]
        name: String,
        /// authOnly (users and auth tokens only) or fullAccess.
        #[arg(long, value_parser = parse_scope)]
        scope: Scope,
    },
    /// Renames a key or changes its scope.
    #[command(
        after_help = "Example:\n  keydeck keys update ci-bot --name ci-bot-2 --scope authOnly"
    )]
    Update {
        /// Name, value prefix, or - (value on stdin).
        key: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, value_parser = parse_scope)]
        scope: Option<Scope>,
    },
    /// Deletes a key (asks first; on a prod connection, type its name).
    #[command(after_help = "Example:\n  keydeck keys delete ci-bot --yes")]
    Delete {
        /// Name, value prefix, or - (value on stdin).
        key: String,
    },
    /// Creates a replacement with the same name and scope; the old key is listed as retiring
    /// (here and in the window) until the overlap ends and you delete it.
    #[command(after_help = "Example:\n  keydeck keys rotate ci-bot --overlap 1h --output json")]
    Rotate {
        /// Name, value prefix, or - (value on stdin).
        key: String,
        /// How long both keys should work: 1h, 1d, 7d, 30m, 90s.
        #[arg(long, default_value = "1d", value_parser = parse_overlap)]
        overlap: i64,
        /// Store the new key as this connection's credential (in the keychain).
        #[arg(long)]
        use_for_connection: bool,
    },
}

pub fn run(cmd: Command, ctx: &mut Ctx) -> CliResult {
    let (conn, client, rec) = ctx.cometchat()?;
    let out = ctx.out;
    match cmd {
        Command::List => list(ctx, &conn, &client),
        Command::Create { name, scope } => {
            let name = checked_name(&name)?;
            let new = NewApiKey { name, scope };
            let key = ctx.rt.block_on(keys::create(&client, &rec, &new))?;
            print_produced(out, &key, &format!("Created key {}", key.name));
            Ok(())
        }
        Command::Update { key, name, scope } => {
            if name.is_none() && scope.is_none() {
                return Err(CliError::usage("Nothing to change: give --name or --scope"));
            }
            let old = find(ctx, &client, &key)?;
            let update = ApiKeyUpdate {
                name: name.as_deref().map(checked_name).transpose()?,
                scope,
            };
            let updated = ctx
                .rt
                .block_on(keys::update(&client, &rec, &old.api_key, &update))?;
            out.done(
                &format!("Saved key {} ({})", updated.name, updated.scope),
                &key_json(out, &updated, false),
            );
            Ok(())
        }
        Command::Delete { key } => {
            let key = find(ctx, &client, &key)?;
            prompt::confirm(
                &keys::delete_guard(conn.environment, &key),
                &format!(
                    "Delete key {} ({}) of {}?",
                    key.name,
                    key.api_key.masked(),
                    conn.label
                ),
                ctx.yes,
            )?;
            ctx.rt.block_on(keys::delete(&client, &rec, &key))?;
            ctx.session()
                .forget_retiring(&conn.id, &crate::config::key_sha256(&key.api_key));
            out.done(
                &format!("Deleted key {}", key.name),
                &json!({ "deleted": key.name, "key": key.api_key.masked() }),
            );
            Ok(())
        }
        Command::Rotate {
            key,
            overlap,
            use_for_connection,
        } => rotate(ctx, &conn, &client, &rec, &key, overlap, use_for_connection),
    }
}

fn list(ctx: &Ctx, conn: &Connection, client: &CometChatClient) -> CliResult {
    let out = ctx.out;
    let all = ctx.rt.block_on(keys::list(client))?;
    let retiring = |k: &ApiKey| {
        ctx.config()
            .retiring_keys
            .iter()
            .find(|r| r.matches(&conn.id, &k.api_key))
            .map(|r| r.deadline_unix)
    };
    let mut table = Table::new(&["name", "scope", "key", "created", "note"]);
    let mut rows = Vec::new();
    for k in &all {
        let own = k.api_key == *client.api_key();
        let until = retiring(k);
        let note = match (own, until) {
            (true, _) => "this connection's key".to_owned(),
            (false, Some(t)) => format!("retiring until {}", time(t)),
            (false, None) => String::new(),
        };
        table.row(vec![
            k.name.clone(),
            k.scope.to_string(),
            out.secret(&k.api_key),
            time(k.created_at),
            note,
        ]);
        let mut v = key_json(out, k, false);
        v["connectionKey"] = json!(own);
        v["retiringUntil"] = json!(until.map(time));
        rows.push(v);
    }
    out.emit(&table, &Value::Array(rows));
    Ok(())
}

fn rotate(
    ctx: &mut Ctx,
    conn: &Connection,
    client: &CometChatClient,
    rec: &crate::core::ops::Recorder,
    wanted: &str,
    overlap_secs: i64,
    use_for_connection: bool,
) -> CliResult {
    let out = ctx.out;
    let old = find(ctx, client, wanted)?;
    let new = ctx.rt.block_on(keys::rotate(client, rec, &old))?;
    let deadline = now_unix() + overlap_secs;
    let session = ctx.session();
    session.mark_retiring(keys::retiring_record(&conn.id, &old, deadline));
    if use_for_connection {
        session.use_key_for_connection(&conn.id, new.api_key.clone());
    }
    if ctx.settle() {
        return Err(CliError::new(
            Exit::Unavailable,
            "The new key was created, but not everything could be saved (see above)",
        ));
    }
    let mut v = key_json(out, &new, true);
    v["retiring"] = json!({
        "name": old.name,
        "key": old.api_key.masked(),
        "until": time(deadline),
    });
    v["usedForConnection"] = json!(use_for_connection);
    let mut table = Table::new(&["name", "scope", "key", "replaces", "retiring until"]);
    table.row(vec![
        new.name.clone(),
        new.scope.to_string(),
        out.secret(&new.api_key),
        old.api_key.masked(),
        time(deadline),
    ]);
    out.emit(&table, &v);
    out.note_masked("The new key is");
    if out.format == super::output::Format::Table {
        eprintln!(
            "The old key ({}) stays listed as retiring until {}. Move your apps to the new key, then delete the old one.",
            old.api_key.masked(),
            time(deadline)
        );
        if use_for_connection {
            eprintln!("{} now uses the new key.", conn.label);
        }
    }
    Ok(())
}

/// A produced key: the table masks it unless --reveal; the JSON carries it.
fn print_produced(out: Out, key: &ApiKey, line: &str) {
    let mut table = Table::new(&["name", "scope", "key"]);
    table.row(vec![
        key.name.clone(),
        key.scope.to_string(),
        out.secret(&key.api_key),
    ]);
    out.emit(&table, &key_json(out, key, true));
    if out.format == super::output::Format::Table {
        eprintln!("{line}");
    }
    out.note_masked("The new key is");
}

/// A key as JSON: its value only when `produced` (the command made it) or --reveal.
fn key_json(out: Out, k: &ApiKey, produced: bool) -> Value {
    let value = if produced {
        k.api_key.expose().to_owned()
    } else {
        out.secret(&k.api_key)
    };
    json!({
        "name": k.name,
        "scope": k.scope.as_str(),
        "key": value,
        "created": time(k.created_at),
    })
}

/// A key by name, by the first characters of its value, or (`-`) by its value on stdin.
fn find(ctx: &Ctx, client: &CometChatClient, wanted: &str) -> CliResult<ApiKey> {
    let from_stdin = if wanted == "-" {
        Some(prompt::value_from_stdin("key")?)
    } else {
        None
    };
    let all = ctx.rt.block_on(keys::list(client))?;
    pick(&all, wanted, from_stdin.as_ref())
}

/// The lookup behind [`find`], on a listing.
pub fn pick(all: &[ApiKey], wanted: &str, value: Option<&Secret>) -> CliResult<ApiKey> {
    if let Some(value) = value {
        return all
            .iter()
            .find(|k| k.api_key == *value)
            .cloned()
            .ok_or_else(|| CliError::not_found(format!("No key {} in this app", value.masked())));
    }
    let named: Vec<&ApiKey> = all.iter().filter(|k| k.name == wanted).collect();
    let prefix = wanted.trim_end_matches('…');
    let candidates: Vec<&ApiKey> = if named.is_empty() && prefix.chars().count() >= 4 {
        all.iter()
            .filter(|k| k.api_key.expose().starts_with(prefix))
            .collect()
    } else {
        named
    };
    match candidates.as_slice() {
        [k] => Ok((*k).clone()),
        [] => Err(CliError::not_found(format!(
            "No key named {wanted:?} or starting with it (see `keydeck keys list`)"
        ))),
        many => Err(CliError::new(
            Exit::Conflict,
            format!(
                "{} keys match {wanted:?}: give the first characters of its value instead (see `keydeck keys list`)",
                many.len()
            ),
        )),
    }
}

fn checked_name(name: &str) -> CliResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(CliError::usage("A key name must have 1 to 100 characters"));
    }
    Ok(name.to_owned())
}

/// `authOnly` or `fullAccess` (any case).
pub fn parse_scope(s: &str) -> Result<Scope, String> {
    Scope::ALL
        .into_iter()
        .find(|scope| scope.as_str().eq_ignore_ascii_case(s))
        .ok_or_else(|| format!("the scope must be authOnly or fullAccess (got {s:?})"))
}

/// `90s`, `30m`, `1h`, `1d`, `1w` (or plain seconds) into seconds.
pub fn parse_overlap(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = digits
        .parse()
        .map_err(|_| format!("an overlap is a number and a unit, such as 1h or 7d (got {s:?})"))?;
    let factor = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(format!("unknown unit {unit:?}: use s, m, h, d or w")),
    };
    n.checked_mul(factor)
        .filter(|secs| *secs > 0)
        .ok_or_else(|| format!("the overlap must be positive (got {s:?})"))
}

pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str, value: &str) -> ApiKey {
        ApiKey {
            api_key: Secret::new(value),
            name: name.into(),
            scope: Scope::AuthOnly,
            created_at: 0,
        }
    }

    #[test]
    fn a_key_is_found_by_name_or_by_the_start_of_its_value() {
        let all = [
            key("ci-bot", "a1b2c3d4e5"),
            key("web", "a1b2ffffff"),
            key("web", "ffff000000"),
        ];
        assert_eq!(pick(&all, "ci-bot", None).unwrap().name, "ci-bot");
        assert_eq!(
            pick(&all, "ffff…", None).unwrap().api_key.expose(),
            "ffff000000"
        );
        assert_eq!(pick(&all, "web", None).unwrap_err().exit, Exit::Conflict);
        assert_eq!(pick(&all, "a1b2", None).unwrap_err().exit, Exit::Conflict);
        assert_eq!(pick(&all, "nope", None).unwrap_err().exit, Exit::NotFound);
        assert_eq!(pick(&all, "a1", None).unwrap_err().exit, Exit::NotFound);
        let v = Secret::new("a1b2ffffff");
        assert_eq!(pick(&all, "-", Some(&v)).unwrap().api_key, v);
    }

    #[test]
    fn overlaps_and_scopes_are_read_as_people_write_them() {
        assert_eq!(parse_overlap("1h"), Ok(3600));
        assert_eq!(parse_overlap("7d"), Ok(604_800));
        assert_eq!(parse_overlap("90"), Ok(90));
        assert!(parse_overlap("0h").is_err());
        assert!(parse_overlap("1y").is_err());
        assert!(parse_overlap("soon").is_err());
        assert_eq!(parse_scope("authonly"), Ok(Scope::AuthOnly));
        assert!(parse_scope("admin").is_err());
    }
}
