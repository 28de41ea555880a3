//! The one place a whole user list is downloaded on purpose: an export to a CSV or JSON file,
//! page by page, each page written before the next is taken, so memory stays one page deep
//! whatever the app's size. No auth token is ever written. The file is built beside its
//! destination, private to the user, and renamed into place only when complete: a cancelled
//! or failed export leaves nothing behind (and never half a file under the chosen name).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use futures::StreamExt;

use crate::providers::ApiError;
use crate::providers::cometchat::{CometChatClient, User, UserQuery};

use super::Recorder;

/// Users per request while exporting, and requests in flight.
const EXPORT_PAGE: u32 = 1000;
const EXPORT_CONCURRENCY: usize = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Json => "json",
        }
    }

    /// From a file name's extension: `.json` is JSON, anything else CSV.
    pub fn for_path(path: &Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("json") => ExportFormat::Json,
            _ => ExportFormat::Csv,
        }
    }
}

/// Shared between the export and whoever watches it: users written, the total the server
/// announced, and a cancel flag checked between pages.
#[derive(Debug, Default)]
pub struct ExportProgress {
    written: AtomicU64,
    total: AtomicU64,
    cancel: AtomicBool,
    /// Wakes an export waiting on a page when it is cancelled.
    cancelled: tokio::sync::Notify,
}

impl ExportProgress {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Users written so far, and the total (0 until the first page answers).
    pub fn counts(&self) -> (u64, u64) {
        (
            self.written.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        )
    }

    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
        self.cancelled.notify_one();
    }

    /// Resolves once [`ExportProgress::cancel`] has been called.
    async fn until_cancelled(&self) {
        while !self.is_cancelled() {
            self.cancelled.notified().await;
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("the export was cancelled; no file was written")]
    Cancelled,
    #[error("the server failed: {}", .0.message)]
    Api(ApiError),
    #[error("could not write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The CSV header: every field of a user but its token.
pub const CSV_HEADER: &str = "uid,name,role,status,deactivated_at,created_at,updated_at,last_active_at,tags,avatar,link,status_message,metadata";

/// Exports every user matching `query` to `path`. Returns the number written.
pub async fn export(
    client: &CometChatClient,
    rec: &Recorder,
    query: UserQuery,
    format: ExportFormat,
    path: &Path,
    progress: Arc<ExportProgress>,
) -> Result<u64, ExportError> {
    let result = write_all(client, query, format, path, &progress).await;
    let target = format!("{} users to {}", progress.counts().0, path.display());
    let outcome = match &result {
        Ok(_) => Ok(()),
        Err(e) => Err(e.to_string()),
    };
    rec.record("users.exported", &target, outcome);
    result
}

async fn write_all(
    client: &CometChatClient,
    query: UserQuery,
    format: ExportFormat,
    path: &Path,
    progress: &ExportProgress,
) -> Result<u64, ExportError> {
    let io = |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = PartFile::create(path).map_err(io)?;
    file.write(match format {
        ExportFormat::Csv => format!("{CSV_HEADER}\n"),
        ExportFormat::Json => "[".to_owned(),
    })
    .map_err(io)?;
    let query = UserQuery {
        per_page: Some(EXPORT_PAGE),
        page: None,
        with_tags: true,
        ..query
    };
    let mut pages = std::pin::pin!(client.user_pages(query, EXPORT_CONCURRENCY));
    let mut written = 0u64;
    loop {
        // A cancel does not wait for a slow page.
        let page = tokio::select! {
            biased;
            () = progress.until_cancelled() => return Err(ExportError::Cancelled),
            page = pages.next() => page,
        };
        let Some(page) = page else {
            break;
        };
        let page = page.map_err(ExportError::Api)?;
        progress
            .total
            .store(page.pagination.total, Ordering::Relaxed);
        let mut chunk = String::with_capacity(page.items.len() * 160);
        for u in &page.items {
            match format {
                ExportFormat::Csv => push_csv(&mut chunk, u),
                ExportFormat::Json => {
                    chunk.push_str(if written == 0 { "\n" } else { ",\n" });
                    push_json(&mut chunk, u);
                }
            }
            written += 1;
        }
        file.write(chunk).map_err(io)?;
        progress.written.store(written, Ordering::Relaxed);
    }
    if progress.is_cancelled() {
        return Err(ExportError::Cancelled);
    }
    if format == ExportFormat::Json {
        file.write(if written == 0 { "]\n" } else { "\n]\n" }.to_owned())
            .map_err(io)?;
    }
    file.finish().map_err(io)?;
    Ok(written)
}

/// The file being written: a private sibling of the destination, removed unless finished.
struct PartFile {
    tmp: PathBuf,
    dest: PathBuf,
    out: Option<std::io::BufWriter<std::fs::File>>,
}

impl PartFile {
    fn create(dest: &Path) -> std::io::Result<Self> {
        // A bare file name is in the current folder.
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let name = dest
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| std::io::Error::other("the path names no file"))?;
        remove_stale_parts(dir, name);
        // Unique per export: two exports to one name never share a part file.
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.{}-{n}.part", std::process::id()));
        // A part left by a crash may have another mode: replace it, never reuse it.
        match std::fs::remove_file(&tmp) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let file = crate::paths::private_open_options()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        Ok(Self {
            tmp,
            dest: dest.to_path_buf(),
            out: Some(std::io::BufWriter::with_capacity(1 << 16, file)),
        })
    }

    fn write(&mut self, text: String) -> std::io::Result<()> {
        match &mut self.out {
            Some(out) => out.write_all(text.as_bytes()),
            None => Err(std::io::Error::other("the export file is closed")),
        }
    }

    /// Flushes, syncs and renames the part into place; on any failure the part is removed.
    fn finish(mut self) -> std::io::Result<()> {
        let Some(out) = self.out.take() else {
            return Err(std::io::Error::other("the export file is closed"));
        };
        let result = out
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(|file| file.sync_all())
            .and_then(|()| std::fs::rename(&self.tmp, &self.dest));
        if result.is_err() {
            let _ = std::fs::remove_file(&self.tmp);
        }
        result
    }
}

impl Drop for PartFile {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Removes the part files of earlier exports to the same name whose process is gone (killed
/// mid-export: a clean exit or a cancel removes its own). Where there is no `/proc` to ask,
/// nothing is removed.
fn remove_stale_parts(dir: &Path, name: &str) {
    let proc = Path::new("/proc");
    if !proc.is_dir() {
        return;
    }
    let prefix = format!(".{name}.");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name();
        let Some(pid) = file
            .to_str()
            .and_then(|f| f.strip_prefix(&prefix))
            .and_then(|f| f.strip_suffix(".part"))
            .map(|f| f.split_once('-').map_or(f, |(pid, _)| pid))
            .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        if !proc.join(pid).exists() {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// A CSV cell of free text a user of the app wrote (a name, a status message): quoted when
/// needed, and never read as a formula by a spreadsheet (a leading `=`, `+`, `-`, `@` is
/// escaped with `'`).
fn text_cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        crate::words::csv_field(&format!("'{s}"))
    } else {
        crate::words::csv_field(s)
    }
}

fn push_csv(out: &mut String, u: &User) {
    let opt = |v: Option<i64>| v.map(|t| t.to_string()).unwrap_or_default();
    let cells = [
        crate::words::csv_field(&u.uid),
        text_cell(&u.name),
        crate::words::csv_field(&u.role),
        crate::words::csv_field(&u.status),
        opt(u.deactivated_at),
        u.created_at.to_string(),
        opt(u.updated_at),
        opt(u.last_active_at),
        text_cell(&u.tags.as_deref().unwrap_or_default().join(";")),
        text_cell(u.avatar.as_deref().unwrap_or_default()),
        text_cell(u.link.as_deref().unwrap_or_default()),
        text_cell(u.status_message.as_deref().unwrap_or_default()),
        text_cell(
            &u.metadata
                .as_ref()
                .map(serde_json::Value::to_string)
                .unwrap_or_default(),
        ),
    ];
    out.push_str(&cells.join(","));
    out.push('\n');
}

fn push_json(out: &mut String, u: &User) {
    let u = User {
        auth_token: None,
        ..u.clone()
    };
    match serde_json::to_string(&u) {
        Ok(s) => out.push_str(&s),
        // A user is plain data; this cannot fail, but an export never panics.
        Err(e) => {
            out.push_str(&serde_json::json!({ "uid": u.uid, "error": e.to_string() }).to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_row_escapes_formulas_and_quotes_and_never_holds_the_token() {
        let u = User {
            uid: "ada".to_owned(),
            name: "=HYPERLINK(\"x\")".to_owned(),
            role: "default".to_owned(),
            status: "offline".to_owned(),
            created_at: 5,
            tags: Some(vec!["vip".to_owned(), "beta".to_owned()]),
            auth_token: Some(crate::secret::Secret::new("ada_tok_secret".to_owned())),
            ..User::default()
        };
        let mut line = String::new();
        push_csv(&mut line, &u);
        assert_eq!(
            line,
            "ada,\"'=HYPERLINK(\"\"x\"\")\",default,offline,,5,,,vip;beta,,,,\n"
        );
        let mut json = String::new();
        push_json(&mut json, &u);
        assert!(!json.contains("ada_tok_secret") && !json.contains("authToken"));
        assert_eq!(
            CSV_HEADER.split(',').count(),
            line.trim_end().split(',').count()
        );
    }

    #[test]
    fn an_unfinished_file_is_removed_and_a_finished_one_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("users.csv");
        // Left by an export that was killed (no such process), and one of a live process.
        let stale = dir.path().join(".users.csv.4294967-0.part");
        std::fs::write(&stale, "half").unwrap();
        if Path::new("/proc").is_dir() {
            let first = PartFile::create(&dest).unwrap();
            let second = PartFile::create(&dest).unwrap();
            assert!(!stale.exists(), "a dead export's part is removed");
            assert!(first.tmp.exists(), "this process's own part is its own");
            assert_ne!(first.tmp, second.tmp, "two exports, two parts");
            drop((first, second));
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        } else {
            std::fs::remove_file(&stale).unwrap();
        }
        // A bare name is in the current folder (not refused as "no folder").
        let bare = PartFile::create(Path::new("keydeck-export-test.csv")).unwrap();
        assert_eq!(bare.tmp.parent(), Some(Path::new(".")));
        drop(bare);
        let mut f = PartFile::create(&dest).unwrap();
        f.write("half".to_owned()).unwrap();
        drop(f);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let mut f = PartFile::create(&dest).unwrap();
        f.write("whole\n".to_owned()).unwrap();
        f.finish().unwrap();
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "whole\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&dest).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
