//! Logging: `tracing` to stderr and, for the desktop app, to a daily-rotating file in the data
//! directory. Every line passes through the secret scrubber on its way out, so a key that
//! slipped into a message is masked to a short prefix before it reaches a terminal or a disk.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::providers::error::scrub;

/// Log files kept (one a day).
pub const KEPT_FILES: usize = 7;
const FILE_PREFIX: &str = "keydeck";
const FILE_SUFFIX: &str = "log";

/// Keeps the file writer's background thread alive; drop it last.
pub struct LogGuard {
    _file: Option<tracing_appender::non_blocking::WorkerGuard>,
}

/// What is logged: `RUST_LOG` when it is set and valid (`target=level` pairs and a default
/// level, such as `warn,keydeck=debug`), else warnings, and Keydeck's own `info`.
fn filter() -> Targets {
    std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            Targets::new()
                .with_default(Level::WARN)
                .with_target("keydeck", Level::INFO)
        })
}

/// Logs to stderr only (the sandbox command, tests).
pub fn init_stderr() {
    let _ = tracing_subscriber::registry()
        .with(filter())
        .with(tracing_subscriber::fmt::layer().with_writer(Redacting(io::stderr)))
        .try_init();
}

/// Logs to stderr and to `dir/keydeck.YYYY-MM-DD.log`, keeping [`KEPT_FILES`] files.
/// Falls back to stderr alone if the folder cannot be used.
pub fn init_with_file(dir: &Path) -> LogGuard {
    let Ok(appender) = DailyFile::open(dir) else {
        init_stderr();
        return LogGuard { _file: None };
    };
    let (file_writer, guard) = tracing_appender::non_blocking(appender);
    let _ = tracing_subscriber::registry()
        .with(filter())
        .with(tracing_subscriber::fmt::layer().with_writer(Redacting(io::stderr)))
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(Redacting(file_writer)),
        )
        .try_init();
    LogGuard { _file: Some(guard) }
}

/// Logs through the same redacting writer to any writer (the leak test captures what the
/// app prints this way). `directives` is a filter such as `"debug"` or `"warn,keydeck=debug"`;
/// one that does not parse logs everything.
pub fn init_with_writer<M>(make_writer: M, directives: &str)
where
    M: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let targets = directives
        .parse::<Targets>()
        .unwrap_or_else(|_| Targets::new().with_default(Level::TRACE));
    let _ = tracing_subscriber::registry()
        .with(targets)
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(Redacting(make_writer)),
        )
        .try_init();
}

/// The last `max_lines` lines of the newest log file, scrubbed again (belt and braces).
pub fn recent_lines(dir: &Path, max_lines: usize) -> Vec<String> {
    let newest = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| is_log_file(&e.file_name().to_string_lossy()))
        .max_by_key(|e| e.file_name());
    let Some(text) = newest.and_then(|e| std::fs::read_to_string(e.path()).ok()) else {
        return Vec::new();
    };
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(max_lines);
    lines[start..].iter().map(|l| scrub(l, &[])).collect()
}

/// Version, OS and the recent log, ready to paste into a support ticket.
pub fn diagnostics(log_dir: &Path) -> String {
    let mut out = format!(
        "Keydeck {}\nOS: {} ({})\n",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    );
    out.push_str("\nRecent log (secrets masked):\n");
    let lines = recent_lines(log_dir, 200);
    if lines.is_empty() {
        out.push_str("(no log lines yet)\n");
    }
    for l in lines {
        out.push_str(&l);
        out.push('\n');
    }
    out
}

/// One log file a day, `keydeck.YYYY-MM-DD.log` (UTC date), the newest [`KEPT_FILES`] kept.
///
/// In place of `tracing_appender::rolling`, which opens each day's file with the process's
/// default mode (0644 under the usual umask): here the folder is created 0700 and every file
/// 0600 as it is created (see [`crate::paths`]).
pub struct DailyFile {
    dir: PathBuf,
    day: String,
    file: File,
}

impl DailyFile {
    /// Creates the folder if needed and opens (or creates) today's file for appending.
    pub fn open(dir: &Path) -> io::Result<Self> {
        crate::paths::create_private_dir(dir)?;
        let day = utc_day();
        let file = Self::open_day(dir, &day)?;
        let this = Self {
            dir: dir.to_owned(),
            day,
            file,
        };
        this.prune();
        Ok(this)
    }

    /// The path of the file being written.
    pub fn path(&self) -> PathBuf {
        Self::path_of(&self.dir, &self.day)
    }

    fn path_of(dir: &Path, day: &str) -> PathBuf {
        dir.join(format!("{FILE_PREFIX}.{day}.{FILE_SUFFIX}"))
    }

    fn open_day(dir: &Path, day: &str) -> io::Result<File> {
        crate::paths::private_open_options()
            .append(true)
            .create(true)
            .open(Self::path_of(dir, day))
    }

    /// Removes all but the newest [`KEPT_FILES`] log files (their names sort by date).
    fn prune(&self) {
        let mut names: Vec<String> = std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| is_log_file(n))
            .collect();
        names.sort();
        let excess = names.len().saturating_sub(KEPT_FILES);
        for name in &names[..excess] {
            let _ = std::fs::remove_file(self.dir.join(name));
        }
    }
}

impl Write for DailyFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let today = utc_day();
        if today != self.day {
            self.file = Self::open_day(&self.dir, &today)?;
            self.day = today;
            self.prune();
        }
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

fn is_log_file(name: &str) -> bool {
    name.starts_with(FILE_PREFIX) && name.ends_with(FILE_SUFFIX)
}

/// Today's date in UTC, `YYYY-MM-DD`.
fn utc_day() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    crate::audit::format_utc_ms(ms)
        .get(..10)
        .unwrap_or("1970-01-01")
        .to_owned()
}

/// A writer factory whose writers scrub each chunk before passing it on.
#[derive(Clone)]
struct Redacting<M>(M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Redacting<M> {
    type Writer = RedactingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter {
            inner: self.0.make_writer(),
        }
    }
}

struct RedactingWriter<W> {
    inner: W,
}

impl<W: Write> Write for RedactingWriter<W> {
    /// `tracing_subscriber::fmt` writes one whole event per call, so scrubbing per call
    /// sees whole lines.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.inner.write_all(scrub(&text, &[]).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_redacting_writer_masks_keys_in_what_it_passes_on() {
        let mut out = Vec::new();
        {
            let mut w = RedactingWriter { inner: &mut out };
            w.write_all(b"using key 0123456789abcdef0123456789abcdef01234567 now\n")
                .unwrap();
        }
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, "using key 0123… now\n");
    }

    #[test]
    fn the_daily_file_writes_todays_file_and_keeps_only_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        for day in 1..=9 {
            std::fs::write(
                dir.path().join(format!("keydeck.2000-01-0{day}.log")),
                "old",
            )
            .unwrap();
        }
        std::fs::write(dir.path().join("other.txt"), "not a log").unwrap();
        let mut f = DailyFile::open(dir.path()).unwrap();
        f.write_all(b"hello\n").unwrap();
        f.flush().unwrap();
        assert_eq!(std::fs::read_to_string(f.path()).unwrap(), "hello\n");
        assert!(f.path().ends_with(format!("keydeck.{}.log", utc_day())));
        let mut logs: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| is_log_file(n))
            .collect();
        logs.sort();
        assert_eq!(logs.len(), KEPT_FILES);
        assert_eq!(logs[0], "keydeck.2000-01-04.log", "the oldest went first");
        assert!(dir.path().join("other.txt").exists());
    }

    #[test]
    fn diagnostics_read_the_newest_log_masked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("keydeck.2026-11-22.log"), "old line\n").unwrap();
        std::fs::write(
            dir.path().join("keydeck.2026-11-23.log"),
            "new line with abcdefabcdefabcdefabcdefabcdefabcdefabcd\n",
        )
        .unwrap();
        let d = diagnostics(dir.path());
        assert!(d.contains("Keydeck "));
        assert!(d.contains("new line with abcd…"), "{d}");
        assert!(!d.contains("old line"));
        assert!(!d.contains("abcdefabcdefabcdef"));
    }
}
