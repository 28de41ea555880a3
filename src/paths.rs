//! Where Keydeck keeps its files: the platform's config and data directories, or
//! `KEYDECK_CONFIG_DIR` / `KEYDECK_DATA_DIR` when set (tests, portable installs).
//!
//! Everything Keydeck creates there is private to the account on Unix: folders 0700, files
//! 0600, set when they are created (never a `chmod` afterwards, which would leave a window).
//! The helpers below are the one place that does it.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

fn from_env(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn project() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("dev", "Keydeck", "Keydeck")
}

/// Non-secret settings: connection profiles, UI state.
pub fn config_dir() -> anyhow::Result<PathBuf> {
    from_env("KEYDECK_CONFIG_DIR")
        .or_else(|| project().map(|p| p.config_dir().to_owned()))
        .ok_or_else(|| anyhow::anyhow!("no home directory; set KEYDECK_CONFIG_DIR"))
}

/// Data: the embedded sandbox's database, logs, the audit trail.
pub fn data_dir() -> anyhow::Result<PathBuf> {
    from_env("KEYDECK_DATA_DIR")
        .or_else(|| project().map(|p| p.data_dir().to_owned()))
        .ok_or_else(|| anyhow::anyhow!("no home directory; set KEYDECK_DATA_DIR"))
}

/// The audit trail's file.
pub fn audit_file() -> anyhow::Result<PathBuf> {
    Ok(data_dir()?.join("audit.jsonl"))
}

/// The folder of the rotating log files.
pub fn log_dir() -> anyhow::Result<PathBuf> {
    Ok(data_dir()?.join("logs"))
}

/// The embedded sandbox's SQLite file in the data directory.
pub fn sandbox_file() -> anyhow::Result<PathBuf> {
    Ok(data_dir()?.join("sandbox.sqlite3"))
}

/// Creates `dir` and its missing parents readable by this account only (0700 on Unix), at
/// creation: a folder that already exists keeps its mode. On Windows the folders are in the
/// user's profile, whose ACL already limits them to that user.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Open options whose `create` makes the file readable and writable by this account only
/// (0600 on Unix), at creation: no window in which it exists with a wider mode. An existing
/// file keeps its mode.
pub fn private_open_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// Creates `path` (0600) in a private folder (0700) when it does not exist yet, with
/// `initial` as its content, and leaves an existing file alone.
///
/// For files that another library creates with the process's default mode: SQLite makes its
/// `-wal` and `-shm` files with the database file's own permissions, and eframe's `app.ron`
/// and tracing's files keep the mode of a file that is already there.
pub fn prepare_private_file(path: &Path, initial: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    match private_open_options()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(mut file) => {
            file.write_all(initial)?;
            file.sync_all()
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// The SQLite database at `path`, made ready before SQLite opens it: see
/// [`prepare_private_file`]. The one call the sandbox makes before it opens its file.
pub fn prepare_sqlite_file(path: &Path) -> std::io::Result<()> {
    prepare_private_file(path, b"")
}

/// eframe's `app.ron` (window size, theme, tab: nothing secret): eframe writes it with
/// `File::create` into its own storage folder (on Linux the data directory), which would
/// give 0644 in a 0755 folder. Creating the folder 0700 and the file 0600 first makes
/// eframe's later writes keep that mode. Returns the file's path, when the platform has one.
pub fn prepare_ui_state_file(app_id: &str) -> std::io::Result<Option<PathBuf>> {
    let Some(dir) = eframe::storage_dir(app_id) else {
        return Ok(None);
    };
    let path = dir.join("app.ron");
    // An empty map in RON, so that eframe's first read parses instead of warning.
    prepare_private_file(&path, b"{}")?;
    Ok(Some(path))
}
