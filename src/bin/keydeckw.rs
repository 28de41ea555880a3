//! `keydeckw`: the Keydeck window alone. On Windows it is a GUI-subsystem program, so the
//! Start-menu shortcut opens no console beside the window; `keydeck.exe`, a console program,
//! stays the command line (and opens the window too when given no command). Both start the
//! window through `keydeck::ui::launch::open`.
//!
//! Built only with the `windows-gui` feature (the Windows release job): nowhere else is it
//! needed, and every binary costs a whole-program LTO link in a release build.
#![cfg_attr(windows, windows_subsystem = "windows")]

use std::process::ExitCode;

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "keydeckw",
    version,
    about = "Opens the Keydeck window (on Windows without a console; the command line is `keydeck`)"
)]
struct Args {
    #[command(flatten)]
    window: keydeck::ui::launch::WindowArgs,
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args.window,
        Err(e) if !e.use_stderr() => {
            // --help and --version (seen from a terminal only: there is no console otherwise).
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // A shortcut with a bad argument still opens the window, as it was left.
            let _ = e.print();
            keydeck::ui::launch::WindowArgs::default()
        }
    };
    match keydeck::ui::launch::open(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // No console to print on under Windows: the log file has it too.
            tracing::error!("the window could not be opened: {e:#}");
            eprintln!("keydeckw: {e:#}");
            ExitCode::FAILURE
        }
    }
}
