//! How both binaries open the window: `keydeck` with no command (a console program, so the
//! command line prints to the terminal it was started from) and `keydeckw` (`src/bin/`, a
//! Windows GUI-subsystem program, so a shortcut opens no console beside the window). One
//! start-up, written once, as `python` and `pythonw` share theirs.

use crate::ui::Tab;

/// The window's own options.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct WindowArgs {
    /// Open the window on this tab instead of the one it was left on.
    #[arg(long, value_enum)]
    pub tab: Option<Tab>,
}

/// The process's tokio runtime: HTTP, the keychain and the embedded sandbox run on it.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("keydeck-io")
        .build()?)
}

/// Opens the window until it is closed: logs to the log file (stderr when there is no data
/// folder), one runtime for the process, the UI thread only polls its results.
pub fn open(args: &WindowArgs) -> anyhow::Result<()> {
    let _log = match crate::paths::log_dir() {
        Ok(dir) => Some(crate::logging::init_with_file(&dir)),
        Err(_) => {
            crate::logging::init_stderr();
            None
        }
    };
    let rt = runtime()?;
    let _guard = rt.enter();
    crate::ui::run(rt.handle().clone(), args.tab)
}
