//! Where Keydeck keeps its files: the platform's config and data directories, or
//! `KEYDECK_CONFIG_DIR` / `KEYDECK_DATA_DIR` when set (tests, portable installs).

use std::path::PathBuf;

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
