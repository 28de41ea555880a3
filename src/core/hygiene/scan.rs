//! The leak scan: finds the secrets Keydeck holds (API keys, management secrets, Ably access
//! tokens, Cometly keys, auth tokens issued in this session) in the files under a folder.
//!
//! The folder is walked with ripgrep's walker (the `ignore` crate), in parallel: `.gitignore`,
//! `.ignore` and git's exclude files are honoured (also outside a git checkout: a `.gitignore`
//! says what the folder's owner does not care about), hidden files such as `.env` are scanned,
//! `.git` folders are not (their objects are compressed; the checkout beside them is what is
//! scanned), symbolic links are not followed. A file larger than
//! [`ScanOptions::max_file_bytes`] is skipped and counted, and so is a binary file (a NUL byte
//! in its first 8 KiB). Every secret is matched at once by one Aho-Corasick automaton, built
//! once per [`Scanner`]; each file is read whole into a buffer its thread reuses, and line
//! numbers are counted (with `memchr`) only up to a match, so a clean file costs one pass.
//!
//! What is found is a byte-for-byte copy of a secret on one line. A value split across a line
//! break (wrapped in a PEM-style block, or a string concatenated over two lines) is not found:
//! no secret Keydeck holds contains a line break, so a wrapped copy is not the value as any
//! client would send it, and finding pieces of secrets would mean matching prefixes, which
//! short ones would match everywhere. For the same reason a secret shorter than
//! [`MIN_SECRET_BYTES`] is refused (with the reason, in [`Scanner::refused`]) rather than
//! looked for. Encoded copies (base64, URL-escaped) are not looked for either.
//!
//! Nothing the scan returns holds a secret or the text it matched: a [`Finding`] is a path, a
//! position, the secret's kind and origin and its masked prefix (`a1b2…`, [`crate::secret::mask`]).
//! Progress is read from any thread through [`Progress`]; a shared flag cancels the scan between
//! files, and the report then says [`Outcome::Cancelled`] and holds what was found so far.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use ignore::{DirEntry, ParallelVisitor, ParallelVisitorBuilder, WalkBuilder, WalkState};

use crate::config::{Connection, ConnectionKind, FIELD_KEY, FIELD_SECRET};
use crate::core::recorder::{IssuedToken, Recorder};
use crate::secret::Secret;

/// Secrets shorter than this many bytes are refused: they would match all over a folder.
pub const MIN_SECRET_BYTES: usize = 8;
/// Files larger than this are skipped unless the caller says otherwise (8 MiB).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;
/// A NUL byte in this many first bytes of a file makes it binary, as git and ripgrep judge.
pub const BINARY_PROBE_BYTES: u64 = 8 * 1024;
/// Up to this many distinct secrets the automaton is a full DFA (fastest; its memory grows with
/// the patterns); above, the crate chooses.
const DFA_MAX_PATTERNS: usize = 2_000;

/// Where a secret came from, so a view can link to it: the connection (id and name) and what
/// it is there (a keychain field's label such as "REST API key", or a key's name or id).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Origin {
    pub connection_id: String,
    pub connection: String,
    pub item: String,
}

/// One secret to look for. `Debug` prints its mask (the value is a [`Secret`]).
#[derive(Clone, Debug)]
pub struct Target {
    value: Secret,
    /// What it is, in words: "CometChat API key", "management secret", "Ably key",
    /// "Ably access token", "Cometly key", "auth token".
    pub kind: String,
    pub origin: Origin,
}

impl Target {
    pub fn new(value: Secret, kind: impl Into<String>, origin: Origin) -> Self {
        Self {
            value,
            kind: kind.into(),
            origin,
        }
    }

    /// The first characters and an ellipsis (`a1b2…`).
    pub fn masked(&self) -> String {
        self.value.masked()
    }
}

/// A secret that is not looked for, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    pub kind: String,
    pub origin: Origin,
    pub masked: String,
    pub reason: String,
}

/// How a scan walks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanOptions {
    /// Files larger than this are skipped (and counted in [`ScanReport::skipped_large`]).
    pub max_file_bytes: u64,
    /// Walker threads; 0 lets the `ignore` crate choose (one per core, up to 12).
    pub threads: usize,
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            threads: 0,
        }
    }
}

/// How far a running scan is, readable from any thread while it runs.
#[derive(Debug, Default)]
pub struct Progress {
    files: AtomicU64,
    bytes: AtomicU64,
    matches: AtomicU64,
}

/// One reading of [`Progress`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProgressSnapshot {
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    pub matches: u64,
}

impl Progress {
    pub fn snapshot(&self) -> ProgressSnapshot {
        ProgressSnapshot {
            files_scanned: self.files.load(Ordering::Relaxed),
            bytes_scanned: self.bytes.load(Ordering::Relaxed),
            matches: self.matches.load(Ordering::Relaxed),
        }
    }
}

/// One place a secret was found. Holds no part of the file's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub path: PathBuf,
    /// 1-based line.
    pub line: u64,
    /// 1-based column, in bytes from the start of the line (as ripgrep's `--column`).
    pub column: u64,
    /// Bytes from the start of the file.
    pub byte_offset: u64,
    pub kind: String,
    /// The secret's masked prefix (`a1b2…`).
    pub masked: String,
    /// Every origin holding this value (one, unless the same secret is stored twice).
    pub origins: Vec<Origin>,
}

/// Whether the scan went through the whole folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Completed,
    /// Stopped through the cancel flag: the counts and findings are those made until then.
    Cancelled,
}

/// What a scan found and how much it read. Files hidden by an ignore rule are not counted
/// (the walker never sees them).
#[derive(Clone, Debug)]
pub struct ScanReport {
    pub root: PathBuf,
    pub outcome: Outcome,
    /// Sorted by path, then position.
    pub findings: Vec<Finding>,
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    pub skipped_binary: u64,
    pub skipped_large: u64,
    /// Files or folders that could not be read (permissions, vanished while walking).
    pub unreadable: u64,
    /// Secrets that were not looked for.
    pub refused: Vec<Refused>,
    /// How many distinct secrets were looked for.
    pub secrets: usize,
    pub elapsed: Duration,
}

impl ScanReport {
    /// No secret was found (in what was scanned).
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// The audit record's target: the folder and the counts, no value.
    pub fn audit_target(&self) -> String {
        let matches = self.findings.len();
        format!(
            "{}: {} files scanned, {matches} {} ({} binary, {} too large skipped; {} secrets)",
            self.root.display(),
            self.files_scanned,
            if matches == 1 { "match" } else { "matches" },
            self.skipped_binary,
            self.skipped_large,
            self.secrets
        )
    }
}

/// Why a scan could not start.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    #[error("There is no secret to look for: {0}")]
    NothingToFind(String),
    #[error("{} cannot be scanned: {reason}", path.display())]
    BadRoot { path: PathBuf, reason: String },
    #[error("The secrets could not be prepared for matching: {0}")]
    Automaton(String),
}

/// What each distinct value reports when found.
struct PatternInfo {
    kind: String,
    masked: String,
    origins: Vec<Origin>,
}

/// The secrets, compiled once; scans any number of folders.
pub struct Scanner {
    automaton: AhoCorasick,
    patterns: Vec<PatternInfo>,
    refused: Vec<Refused>,
    options: ScanOptions,
}

/// By hand: the automaton's own `Debug` would print the secrets.
impl std::fmt::Debug for Scanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scanner")
            .field("secrets", &self.patterns.len())
            .field(
                "masked",
                &self.patterns.iter().map(|p| &p.masked).collect::<Vec<_>>(),
            )
            .field("refused", &self.refused.len())
            .field("options", &self.options)
            .finish()
    }
}

impl Scanner {
    /// Compiles the secrets (the same value from two origins is looked for once and reported
    /// with both). Refuses values shorter than [`MIN_SECRET_BYTES`] or holding a line break;
    /// an error when none is left.
    pub fn new(targets: &[Target], options: ScanOptions) -> Result<Self, ScanError> {
        let mut refused = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut values: Vec<&str> = Vec::new();
        let mut patterns: Vec<PatternInfo> = Vec::new();
        for t in targets {
            let value = t.value.expose();
            if let Some(reason) = refusal(value) {
                refused.push(Refused {
                    kind: t.kind.clone(),
                    origin: t.origin.clone(),
                    masked: t.masked(),
                    reason,
                });
                continue;
            }
            if let Some(&i) = index.get(value) {
                if !patterns[i].origins.contains(&t.origin) {
                    patterns[i].origins.push(t.origin.clone());
                }
                continue;
            }
            index.insert(value, values.len());
            values.push(value);
            patterns.push(PatternInfo {
                kind: t.kind.clone(),
                masked: t.masked(),
                origins: vec![t.origin.clone()],
            });
        }
        if values.is_empty() {
            let why = if refused.is_empty() {
                "Keydeck holds none (add a connection, or unlock the keychain)".to_owned()
            } else {
                format!("each of the {} secrets was refused", refused.len())
            };
            return Err(ScanError::NothingToFind(why));
        }
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .kind((values.len() <= DFA_MAX_PATTERNS).then_some(AhoCorasickKind::DFA))
            .build(&values)
            .map_err(|e| ScanError::Automaton(e.to_string()))?;
        Ok(Self {
            automaton,
            patterns,
            refused,
            options,
        })
    }

    /// Secrets not looked for, with the reason.
    pub fn refused(&self) -> &[Refused] {
        &self.refused
    }

    /// How many distinct secrets are looked for.
    pub fn secrets(&self) -> usize {
        self.patterns.len()
    }

    /// Scans `root` (a folder, or one file) on this thread and the walker's, until done or
    /// until `cancel` is set (checked before each file).
    pub fn scan(
        &self,
        root: &Path,
        progress: &Progress,
        cancel: &AtomicBool,
    ) -> Result<ScanReport, ScanError> {
        let meta = std::fs::metadata(root).map_err(|e| ScanError::BadRoot {
            path: root.to_owned(),
            reason: e.to_string(),
        })?;
        if !meta.is_dir() && !meta.is_file() {
            return Err(ScanError::BadRoot {
                path: root.to_owned(),
                reason: "it is neither a folder nor a file".to_owned(),
            });
        }
        let started = Instant::now();
        let run = Run {
            scanner: self,
            progress,
            cancel,
            cancelled: AtomicBool::new(false),
            skipped_binary: AtomicU64::new(0),
            skipped_large: AtomicU64::new(0),
            unreadable: AtomicU64::new(0),
            findings: Mutex::new(Vec::new()),
        };
        walker(root, &self.options).visit(&mut VisitorBuilder { run: &run });
        let mut findings = run
            .findings
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        findings.sort_by(|a, b| (&a.path, a.byte_offset).cmp(&(&b.path, b.byte_offset)));
        let counts = progress.snapshot();
        Ok(ScanReport {
            root: root.to_owned(),
            outcome: if run.cancelled.load(Ordering::SeqCst) || cancel.load(Ordering::SeqCst) {
                Outcome::Cancelled
            } else {
                Outcome::Completed
            },
            findings,
            files_scanned: counts.files_scanned,
            bytes_scanned: counts.bytes_scanned,
            skipped_binary: run.skipped_binary.into_inner(),
            skipped_large: run.skipped_large.into_inner(),
            unreadable: run.unreadable.into_inner(),
            refused: self.refused.clone(),
            secrets: self.patterns.len(),
            elapsed: started.elapsed(),
        })
    }
}

/// Why a value is not looked for, if it is not.
fn refusal(value: &str) -> Option<String> {
    if value.len() < MIN_SECRET_BYTES {
        return Some(format!(
            "shorter than {MIN_SECRET_BYTES} characters: it would match all over the folder"
        ));
    }
    if value.contains(['\n', '\r']) {
        return Some("it holds a line break, and the scan matches within one line".to_owned());
    }
    None
}

/// Scans `root` for `targets`: [`Scanner::new`] then [`Scanner::scan`].
pub fn scan(
    root: &Path,
    targets: &[Target],
    options: ScanOptions,
    progress: &Progress,
    cancel: &AtomicBool,
) -> Result<ScanReport, ScanError> {
    Scanner::new(targets, options)?.scan(root, progress, cancel)
}

fn walker(root: &Path, options: &ScanOptions) -> ignore::WalkParallel {
    let mut builder = WalkBuilder::new(root);
    builder
        .hidden(false)
        .require_git(false)
        .follow_links(false)
        .threads(options.threads)
        .filter_entry(|e| e.file_name() != ".git");
    builder.build_parallel()
}

/// What the walker's threads share during one scan.
struct Run<'a> {
    scanner: &'a Scanner,
    progress: &'a Progress,
    cancel: &'a AtomicBool,
    cancelled: AtomicBool,
    skipped_binary: AtomicU64,
    skipped_large: AtomicU64,
    unreadable: AtomicU64,
    findings: Mutex<Vec<Finding>>,
}

struct VisitorBuilder<'a> {
    run: &'a Run<'a>,
}

impl<'s> ParallelVisitorBuilder<'s> for VisitorBuilder<'s> {
    fn build(&mut self) -> Box<dyn ParallelVisitor + 's> {
        Box::new(Visitor {
            run: self.run,
            buf: Vec::new(),
            findings: Vec::new(),
        })
    }
}

/// One walker thread: its reusable read buffer and what it found, handed over when it ends.
struct Visitor<'a> {
    run: &'a Run<'a>,
    buf: Vec<u8>,
    findings: Vec<Finding>,
}

impl Drop for Visitor<'_> {
    fn drop(&mut self) {
        if self.findings.is_empty() {
            return;
        }
        let mut all = self
            .run
            .findings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        all.append(&mut self.findings);
    }
}

impl ParallelVisitor for Visitor<'_> {
    fn visit(&mut self, entry: Result<DirEntry, ignore::Error>) -> WalkState {
        if self.run.cancel.load(Ordering::Relaxed) {
            self.run.cancelled.store(true, Ordering::SeqCst);
            return WalkState::Quit;
        }
        match entry {
            Ok(e) if e.file_type().is_some_and(|t| t.is_file()) => self.scan_file(e.path()),
            Ok(_) => {}
            Err(_) => {
                self.run.unreadable.fetch_add(1, Ordering::Relaxed);
            }
        }
        WalkState::Continue
    }
}

/// What reading a file gave.
enum Contents {
    Text,
    Binary,
    TooLarge,
    Unreadable,
}

impl Visitor<'_> {
    fn scan_file(&mut self, path: &Path) {
        let counter = match self.read(path) {
            Contents::Text => {
                let p = self.run.progress;
                p.files.fetch_add(1, Ordering::Relaxed);
                p.bytes.fetch_add(self.buf.len() as u64, Ordering::Relaxed);
                self.find(path);
                return;
            }
            Contents::Binary => &self.run.skipped_binary,
            Contents::TooLarge => &self.run.skipped_large,
            Contents::Unreadable => &self.run.unreadable,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Reads the file into the buffer: its first [`BINARY_PROBE_BYTES`] first (a binary file
    /// is not read further), then the rest.
    fn read(&mut self, path: &Path) -> Contents {
        let max = self.run.scanner.options.max_file_bytes;
        let Ok(file) = File::open(path) else {
            return Contents::Unreadable;
        };
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        if len > max {
            return Contents::TooLarge;
        }
        self.buf.clear();
        self.buf
            .reserve(usize::try_from(len).unwrap_or(0).saturating_add(1));
        // One byte past the limit tells a file that grew since its size was read.
        let mut file = file.take(max.saturating_add(1));
        if (&mut file)
            .take(BINARY_PROBE_BYTES)
            .read_to_end(&mut self.buf)
            .is_err()
        {
            return Contents::Unreadable;
        }
        if memchr::memchr(0, &self.buf).is_some() {
            return Contents::Binary;
        }
        if file.read_to_end(&mut self.buf).is_err() {
            return Contents::Unreadable;
        }
        if self.buf.len() as u64 > max {
            return Contents::TooLarge;
        }
        Contents::Text
    }

    /// Every match in the buffer; lines are counted only up to each match.
    fn find(&mut self, path: &Path) {
        let mut line = 1u64;
        let mut counted_to = 0usize;
        let mut line_start = 0usize;
        let mut found = 0u64;
        for m in self.run.scanner.automaton.find_iter(self.buf.as_slice()) {
            let start = m.start();
            let before = &self.buf[counted_to..start];
            line += memchr::memchr_iter(b'\n', before).count() as u64;
            if let Some(nl) = memchr::memrchr(b'\n', before) {
                line_start = counted_to + nl + 1;
            }
            counted_to = start;
            let info = &self.run.scanner.patterns[m.pattern().as_usize()];
            self.findings.push(Finding {
                path: path.to_owned(),
                line,
                column: (start - line_start + 1) as u64,
                byte_offset: start as u64,
                kind: info.kind.clone(),
                masked: info.masked.clone(),
                origins: info.origins.clone(),
            });
            found += 1;
        }
        if found > 0 {
            self.run
                .progress
                .matches
                .fetch_add(found, Ordering::Relaxed);
        }
    }
}

/// Writes the scan to the audit trail (`scan.completed` or `scan.cancelled`): the folder and
/// the counts, never a value.
pub fn record(rec: &Recorder, report: &ScanReport) {
    let action = match report.outcome {
        Outcome::Completed => "scan.completed",
        Outcome::Cancelled => "scan.cancelled",
    };
    rec.record(action, &report.audit_target(), Ok(()));
}

/// What a keychain field of a connection is, in words a finding shows.
pub fn kind_label(kind: &ConnectionKind, field: &str) -> &'static str {
    match kind {
        ConnectionKind::CometChatApp { .. } => "CometChat API key",
        ConnectionKind::Management if field == FIELD_SECRET => "management secret",
        ConnectionKind::Management if field == FIELD_KEY => "management key",
        ConnectionKind::Management => "management credential",
        ConnectionKind::AblyAccount { .. } => "Ably access token",
        ConnectionKind::Cometly => "Cometly key",
    }
}

/// What an auth token issued in this session is called in a finding.
pub const AUTH_TOKEN: &str = "auth token";

/// The secrets this session holds for every connection (by the vault's account names, as
/// [`crate::core::session::Session::secrets`] keeps them), each with its kind and origin, and
/// the auth tokens issued in this session ([`Recorder::issued_tokens`]).
pub fn held_secrets(
    connections: &[Connection],
    secrets: &HashMap<String, Secret>,
    issued: &[IssuedToken],
) -> Vec<Target> {
    let tokens = issued.iter().map(|t| {
        Target::new(
            t.token.clone(),
            AUTH_TOKEN,
            Origin {
                connection_id: t.connection_id.clone(),
                connection: t.connection.clone(),
                item: format!("auth token of user {}, issued this session", t.uid),
            },
        )
    });
    connections
        .iter()
        .flat_map(|c| {
            super::inventory::stored_secrets(c, secrets)
                .into_iter()
                .map(move |s| {
                    Target::new(
                        s.value,
                        kind_label(&c.kind, s.field),
                        Origin {
                            connection_id: c.id.clone(),
                            connection: c.label.clone(),
                            item: s.label.to_owned(),
                        },
                    )
                })
        })
        .chain(tokens)
        .collect()
}
