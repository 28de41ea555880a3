//! `keydeck` opens the desktop app; `keydeck sandbox` serves the local emulator headless;
//! `keydeck keys|users|tokens|apps|ably|connections …` is the command line (`keydeck::cli`).
//! A console program on Windows, so that the command line prints to the terminal it was started
//! from; the Start-menu shortcut starts `keydeckw` (`src/bin/keydeckw.rs`) instead, which opens
//! the same window through the same `keydeck::ui::launch::open` without a console.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "keydeck",
    version,
    about = "A desktop console for API keys and auth tokens",
    after_help = keydeck::cli::OVERVIEW
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    window: keydeck::ui::launch::WindowArgs,
    #[command(flatten)]
    global: keydeck::cli::GlobalArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the local emulator of the CometChat, Ably and Cometly APIs until stopped (Ctrl-C).
    Sandbox {
        /// Port on 127.0.0.1 (0 picks a free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Port on 127.0.0.1 for Ably's REST API at the root, as ably-js expects it (0 picks a
        /// free one; the start-up line says which, under ably.restRootUrl).
        #[arg(long, default_value_t = 0)]
        ably_rest_port: u16,
        /// SQLite data file; without it the data lives in memory and is lost on exit.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Print the keys and secrets in the start-up line instead of masking them.
        #[arg(long)]
        print_secrets: bool,
        /// Seed synthetic users user-0000001 … user-N into the demo app before serving, in one
        /// transaction (skipped for those it already has; a million take seconds).
        #[arg(long, value_name = "N", default_value_t = 0)]
        seed_users: u64,
    },
    /// Work with the audit trail of actions taken from the app.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    #[command(flatten)]
    Cli(keydeck::cli::CliCommand),
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the keyed chain and its anchor in the OS keychain; name the first broken entry.
    ///
    /// Exit status: 0 proven (every line keyed and the file complete up to the anchored head),
    /// 1 broken, cut short, deleted or replaced (or it could not be read), 2 intact as far as
    /// could be checked but not proven (no keychain, unkeyed lines): the output says what.
    Verify {
        /// The audit file (default: audit.jsonl in the data directory).
        #[arg(long)]
        file: Option<PathBuf>,
        /// Do not use the OS keychain: check only the structure (what memory-only mode can).
        #[arg(long)]
        no_keychain: bool,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Usage errors exit 1 (the command line's convention), help and version 0.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        Some(Command::Sandbox {
            port,
            ably_rest_port,
            data,
            print_secrets,
            seed_users,
        }) => {
            keydeck::logging::init_stderr();
            run_sandbox(keydeck::sandbox::CliOptions {
                port,
                ably_rest_port,
                data,
                print_secrets,
                seed_users,
            })
        }
        Some(Command::Audit {
            command: AuditCommand::Verify { file, no_keychain },
        }) => return verify_audit(file, no_keychain),
        Some(Command::Cli(command)) => {
            return keydeck::cli::run(command, &cli.global, Cli::command);
        }
        None => keydeck::ui::launch::open(&cli.window),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keydeck: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_sandbox(opts: keydeck::sandbox::CliOptions) -> anyhow::Result<()> {
    keydeck::ui::launch::runtime()?.block_on(keydeck::sandbox::run_cli(opts))
}

/// How long `audit verify` waits for the OS keychain before it checks without it.
const KEYCHAIN_WAIT_SECS: u64 = 10;

fn verify_audit(file: Option<PathBuf>, no_keychain: bool) -> ExitCode {
    let path = match file.map_or_else(keydeck::paths::audit_file, Ok) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("keydeck: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let vault = if no_keychain {
        keydeck::vault::Vault::memory_fallback("--no-keychain was given")
    } else {
        os_vault_or_memory()
    };
    match keydeck::audit::verify(&path, &vault) {
        Ok(report) => {
            println!("{}: {}", path.display(), report.headline());
            for line in report.statement().iter().skip(1) {
                println!("  {line}");
            }
            if report.is_proven() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            }
        }
        Err(e) => {
            eprintln!("keydeck: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The OS keychain, or the memory-only fallback (with the reason) when it does not answer.
fn os_vault_or_memory() -> keydeck::vault::Vault {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(keydeck::vault::Vault::os());
    });
    match rx.recv_timeout(std::time::Duration::from_secs(KEYCHAIN_WAIT_SECS)) {
        Ok(Ok(vault)) => vault,
        Ok(Err(e)) => keydeck::vault::Vault::memory_fallback(e.to_string()),
        Err(_) => keydeck::vault::Vault::memory_fallback(format!(
            "it did not answer within {KEYCHAIN_WAIT_SECS} s"
        )),
    }
}
