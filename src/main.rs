//! `keydeck` opens the desktop app; `keydeck sandbox` serves the local emulator headless.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "keydeck",
    version,
    about = "A desktop console for API keys and auth tokens"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Open the window on this tab instead of the one it was left on.
    #[arg(long, value_enum)]
    tab: Option<keydeck::app::Tab>,
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
    },
    /// Work with the audit trail of actions taken from the app.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain; name the first broken entry.
    Verify {
        /// The audit file (default: audit.jsonl in the data directory).
        #[arg(long)]
        file: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Sandbox {
            port,
            ably_rest_port,
            data,
            print_secrets,
        }) => {
            keydeck::logging::init_stderr();
            run_sandbox(keydeck::sandbox::CliOptions {
                port,
                ably_rest_port,
                data,
                print_secrets,
            })
        }
        Some(Command::Audit {
            command: AuditCommand::Verify { file },
        }) => verify_audit(file),
        None => run_app(cli.tab),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keydeck: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("keydeck-io")
        .build()?)
}

fn run_sandbox(opts: keydeck::sandbox::CliOptions) -> anyhow::Result<()> {
    runtime()?.block_on(keydeck::sandbox::run_cli(opts))
}

fn verify_audit(file: Option<PathBuf>) -> anyhow::Result<()> {
    let path = match file {
        Some(f) => f,
        None => keydeck::paths::audit_file()?,
    };
    let summary = keydeck::audit::verify(&path)?;
    println!(
        "{}: {} entries, chain intact",
        path.display(),
        summary.entries
    );
    Ok(())
}

fn run_app(open_tab: Option<keydeck::app::Tab>) -> anyhow::Result<()> {
    // One runtime for the process: HTTP, the keychain and the embedded sandbox run on it,
    // the UI thread only polls their results.
    let _log = match keydeck::paths::log_dir() {
        Ok(dir) => Some(keydeck::logging::init_with_file(&dir)),
        Err(_) => {
            keydeck::logging::init_stderr();
            None
        }
    };
    let rt = runtime()?;
    let _guard = rt.enter();
    keydeck::app::run(rt.handle().clone(), open_tab)
}
