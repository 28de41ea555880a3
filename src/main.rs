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
}

#[derive(Subcommand)]
enum Command {
    /// Serve the local emulator of the CometChat APIs until stopped (Ctrl-C).
    Sandbox {
        /// Port on 127.0.0.1 (0 picks a free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// SQLite data file; without it the data lives in memory and is lost on exit.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Print the keys and secrets in the start-up line instead of masking them.
        #[arg(long)]
        print_secrets: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let result = match cli.command {
        Some(Command::Sandbox {
            port,
            data,
            print_secrets,
        }) => run_sandbox(port, data, print_secrets),
        None => run_app(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keydeck: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,keydeck=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("keydeck-io")
        .build()?)
}

fn run_sandbox(port: u16, data: Option<PathBuf>, print_secrets: bool) -> anyhow::Result<()> {
    runtime()?.block_on(keydeck::sandbox::run_cli(port, data, print_secrets))
}

fn run_app() -> anyhow::Result<()> {
    // One runtime for the process: HTTP, the keychain and the embedded sandbox run on it,
    // the UI thread only polls their results.
    let rt = runtime()?;
    let _guard = rt.enter();
    keydeck::app::run(rt.handle().clone())
}
