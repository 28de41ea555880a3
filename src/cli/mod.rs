//! The command line: `keydeck keys|users|tokens|apps|ably|connections …`, for scripts and CI.
//!
//! A face beside the window, over the same core: connections from the same `connections.json`
//! (`core::session::Session`), secrets from the same keychain entries, clients from
//! `core::connect::resolve`, operations from `core::ops` (which write their own audit records;
//! this face's recorder marks them `via: "cli"`), errors in the words of
//! `core::errors::explain`. Exit codes: 0 ok, 1 usage, 2 not found, 3 auth or permission,
//! 4 network or provider down, 5 conflict, 6 leaks found by `scan`, 130 stopped by Ctrl-C
//! ([`exit::Exit`]).

pub mod ably;
pub mod apps;
pub mod connections;
pub mod context;
pub mod exit;
pub mod keys;
pub mod output;
pub mod prompt;
pub mod scan;
pub mod tokens;
pub mod users;

use std::process::ExitCode;

use clap::Subcommand;

use context::Ctx;
use exit::CliResult;
use output::Format;

/// The end of `keydeck --help`.
pub const OVERVIEW: &str =
    "Command line (same connections, keychain and audit trail as the window):
  keydeck connections list|test|add|use|remove    keydeck keys list|create|update|delete|rotate
  keydeck users list|get|create|update|deactivate|reactivate|delete
  keydeck tokens issue|list|revoke|revoke-all|bulk  keydeck apps list|create|delete
  keydeck ably apps|keys|revoke-tokens              keydeck completions bash|zsh|fish|powershell
  keydeck scan PATH                                 (finds the secrets Keydeck holds in files)

Exit status: 0 ok, 1 usage, 2 not found, 3 auth or permission, 4 network or provider down,
5 conflict, 6 `scan` found a secret, 130 stopped by Ctrl-C. `keydeck COMMAND --help` shows
examples.";

/// Options every command takes, before or after its name.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct GlobalArgs {
    /// The connection to act through, by name or id (default: the one the window last used).
    #[arg(long, global = true, value_name = "NAME")]
    pub connection: Option<String>,
    /// `table` for people, `json` for scripts.
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Do not ask before destructive actions (needed without a terminal).
    #[arg(long, short = 'y', global = true)]
    pub yes: bool,
    /// Show keys and tokens in tables instead of masking them.
    #[arg(long, global = true)]
    pub reveal: bool,
}

/// The command-line subcommands (the window's `keydeck` and `keydeck sandbox` are in main).
#[derive(Subcommand, Debug)]
pub enum CliCommand {
    /// Connection profiles: list, test, add (secrets from stdin or a prompt), remove.
    #[command(after_help = connections::EXAMPLES)]
    Connections {
        #[command(subcommand)]
        command: connections::Command,
    },
    /// API keys of a CometChat app: list, create, update, delete, rotate.
    #[command(after_help = keys::EXAMPLES)]
    Keys {
        #[command(subcommand)]
        command: keys::Command,
    },
    /// Users of a CometChat app.
    #[command(after_help = users::EXAMPLES)]
    Users {
        #[command(subcommand)]
        command: users::Command,
    },
    /// Auth tokens of CometChat users, one at a time or in bulk from a CSV file.
    #[command(after_help = tokens::EXAMPLES)]
    Tokens {
        #[command(subcommand)]
        command: tokens::Command,
    },
    /// Apps of a CometChat Management connection.
    #[command(after_help = apps::EXAMPLES)]
    Apps {
        #[command(subcommand)]
        command: apps::Command,
    },
    /// Keys and token revocation of an Ably account.
    #[command(after_help = ably::EXAMPLES)]
    Ably {
        #[command(subcommand)]
        command: ably::Command,
    },
    /// Looks for the secrets Keydeck holds in the files under a folder (a leak scan).
    #[command(after_help = scan::EXAMPLES)]
    Scan(scan::Args),
    /// Prints a shell completion script.
    #[command(
        after_help = "Example:\n  keydeck completions bash > ~/.local/share/bash-completion/completions/keydeck\n  keydeck completions zsh > \"${fpath[1]}/_keydeck\""
    )]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Runs one command-line command and says how it ended. `command` builds the whole clap
/// command (for completions).
pub fn run(
    cmd: CliCommand,
    global: &GlobalArgs,
    command: impl FnOnce() -> clap::Command,
) -> ExitCode {
    if let CliCommand::Completions { shell } = cmd {
        let mut c = command();
        clap_complete::generate(shell, &mut c, "keydeck", &mut std::io::stdout());
        return ExitCode::SUCCESS;
    }
    let result = Ctx::open(global).and_then(|mut ctx| {
        let result = dispatch(cmd, &mut ctx);
        ctx.finish();
        result
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {}", e.message);
            ExitCode::from(e.code())
        }
    }
}

fn dispatch(cmd: CliCommand, ctx: &mut Ctx) -> CliResult {
    match cmd {
        CliCommand::Connections { command } => connections::run(command, ctx),
        CliCommand::Keys { command } => keys::run(command, ctx),
        CliCommand::Users { command } => users::run(command, ctx),
        CliCommand::Tokens { command } => tokens::run(command, ctx),
        CliCommand::Apps { command } => apps::run(command, ctx),
        CliCommand::Ably { command } => ably::run(command, ctx),
        CliCommand::Scan(args) => scan::run(args, ctx),
        CliCommand::Completions { .. } => Ok(()),
    }
}
