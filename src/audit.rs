//! The audit trail: every action taken from the app, one JSON line each, in a chain that makes
//! an edited, removed, reordered or cut-off line evident (`keydeck audit verify`, and the
//! Activity window).
//!
//! A line holds time, OS user, connection, action, target (masked), outcome, the hash of the
//! previous line and its own hash. Nothing secret is written: targets and outcomes pass
//! through the same scrubber as error messages.
//!
//! **Keyed chain.** Each line's `hash` is an HMAC-SHA256, under a 256-bit key kept in the OS
//! keychain ([`KEY_ACCOUNT`], created on first use), of its fields and the previous line's
//! hash. Whoever can rewrite the file but not read the keychain cannot make a line that
//! verifies, so they cannot edit, insert or remove a line and recompute the chain.
//!
//! **Anchor.** After each append the head (sequence and hash) is stored in the keychain as
//! well ([`anchor_account`], one per file). A chain proves nothing about lines cut off its
//! end; the anchor does: deleting the last lines, emptying the file or deleting it leaves the
//! anchored head missing, and verification says so.
//!
//! **Without the key** (the keychain is not reachable: memory-only mode) lines are written
//! with a plain SHA-256 chain, as older Keydeck versions did, and verification checks only the
//! structure: it says what that does not prove. Plain lines stay readable; plain lines that a
//! keyed line follows are covered by its link.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::providers::error::scrub;
use crate::secret::Secret;
use crate::vault::Vault;

/// The hash that stands before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The `chain` value of a keyed line.
pub const KEYED: &str = "hmac-sha256";

/// The keychain entry of the chain's key (hex, 32 bytes).
pub const KEY_ACCOUNT: &str = "audit/hmac-key";

/// The keychain entry of one file's anchor: `audit/head/` and 16 hex digits of the SHA-256 of
/// the file's absolute path, so that two data folders do not share a head.
pub fn anchor_account(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let digest = Sha256::digest(absolute.to_string_lossy().as_bytes());
    format!("audit/head/{}", &hex::encode(digest)[..16])
}

/// What happened, as the caller describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The connection's label (never a credential).
    pub connection: String,
    /// A dotted verb: `key.created`, `token.revoked`, `secret.copied` …
    pub action: String,
    /// What it was done to, masked: `ci-bot (a1b2…)`, `user alice`.
    pub target: String,
    /// `ok`, or the error in a few words.
    pub outcome: String,
    /// Which face acted: `None` for the window (written without the field, as before),
    /// `Some("cli")` for the command line.
    pub via: Option<String>,
}

impl Event {
    pub fn ok(connection: &str, action: &str, target: &str) -> Self {
        Self {
            connection: connection.to_owned(),
            action: action.to_owned(),
            target: target.to_owned(),
            outcome: "ok".to_owned(),
            via: None,
        }
    }

    /// The same event, taken through `via` (`"cli"`).
    pub fn via(mut self, via: Option<&str>) -> Self {
        self.via = via.map(str::to_owned);
        self
    }

    pub fn failed(connection: &str, action: &str, target: &str, error: &str) -> Self {
        Self {
            outcome: format!("failed: {error}"),
            ..Self::ok(connection, action, target)
        }
    }
}

/// One line of the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub seq: u64,
    /// Unix milliseconds.
    pub time_ms: i64,
    /// The same time, readable: `2026-11-23T20:30:00.123Z`.
    pub time: String,
    pub user: String,
    pub connection: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub prev: String,
    pub hash: String,
    /// [`KEYED`] for a keyed line; absent for a plain SHA-256 one (older versions, or
    /// written without the key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<String>,
    /// Which face acted: absent for the window (and in every line older versions wrote),
    /// `"cli"` for the command line. Read it with [`Record::via`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

impl Record {
    pub fn is_keyed(&self) -> bool {
        self.chain.as_deref() == Some(KEYED)
    }

    /// Which face acted: `"app"` (the window; also every line written before the field
    /// existed) or `"cli"`.
    pub fn via(&self) -> &str {
        self.via.as_deref().unwrap_or("app")
    }

    /// Every field but `hash` and `chain`, each length-prefixed, in a fixed order; `via`
    /// last and only when present, so a line without it hashes exactly as older versions
    /// wrote it, and a line with it cannot lose or change it without breaking its hash.
    fn canonical(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let via = self.via.as_deref().map(|v| format!("via={v}"));
        for part in [
            self.seq.to_string().as_str(),
            self.time_ms.to_string().as_str(),
            &self.time,
            &self.user,
            &self.connection,
            &self.action,
            &self.target,
            &self.outcome,
            &self.prev,
        ]
        .into_iter()
        .chain(via.as_deref())
        {
            out.extend_from_slice(&(part.len() as u64).to_le_bytes());
            out.extend_from_slice(part.as_bytes());
        }
        out
    }

    /// The plain hash (the format of older versions, and of lines written without the key).
    fn plain_hash(&self) -> String {
        hex::encode(Sha256::digest(self.canonical()))
    }

    /// The keyed hash. The `chain` marker is inside the MAC, so a keyed line cannot be passed
    /// off as a plain one or the other way round.
    fn keyed_hash(&self, key: &ChainKey) -> String {
        let mut mac = key.mac();
        mac.update(KEYED.as_bytes());
        mac.update(&self.canonical());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// The chain's key, ready as an HMAC. Its `Debug` prints a mask.
#[derive(Clone)]
struct ChainKey(Hmac<Sha256>);

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainKey(••••)")
    }
}

impl ChainKey {
    fn mac(&self) -> Hmac<Sha256> {
        self.0.clone()
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        <Hmac<Sha256> as KeyInit>::new_from_slice(bytes)
            .ok()
            .map(Self)
    }

    fn parse(secret: &Secret) -> Option<Self> {
        hex::decode(secret.expose().trim())
            .ok()
            .filter(|k| k.len() == 32)
            .and_then(|k| Self::from_bytes(&k))
    }

    /// 32 bytes from the thread's CSPRNG (ChaCha, seeded from the OS).
    fn generate() -> Option<(Self, Secret)> {
        let bytes: [u8; 32] = rand::random();
        Some((Self::from_bytes(&bytes)?, Secret::new(hex::encode(bytes))))
    }
}

/// The head stored in the keychain: `"{seq} {hash}"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchor {
    pub seq: u64,
    pub hash: String,
}

impl Anchor {
    fn parse(secret: &Secret) -> Option<Self> {
        let (seq, hash) = secret.expose().trim().split_once(' ')?;
        Some(Self {
            seq: seq.parse().ok()?,
            hash: hash.to_owned(),
        })
    }

    fn to_secret(&self) -> Secret {
        Secret::new(format!("{} {}", self.seq, self.hash))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("could not use the audit log {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the audit log {path} is broken at line {line}: {reason}")]
    Broken {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    /// Lines were cut off the end, or the file was emptied, deleted or replaced.
    #[error("the audit log {path} is not complete: {reason}")]
    Incomplete { path: PathBuf, reason: String },
    #[error("the audit log {path} cannot be checked: {reason}")]
    Keychain { path: PathBuf, reason: String },
}

/// What the verification could use from the keychain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyState {
    /// The key was there (or, when writing, was created).
    Available,
    /// Memory-only mode: the keychain is not reachable; the reason.
    Unavailable(String),
}

/// The key and anchor, read from the vault; `Unavailable` in memory-only mode.
struct Keychain {
    state: KeyState,
    key: Option<ChainKey>,
    anchor: Option<Anchor>,
}

impl Keychain {
    /// Reads the key and the anchor, creating nothing. A vault that is the memory-only
    /// fallback is not used: a key kept there would die with the process and could never
    /// verify anything.
    fn read(vault: &Vault, path: &Path) -> Result<Self, AuditError> {
        if let Some(reason) = vault.fallback_reason() {
            return Ok(Self {
                state: KeyState::Unavailable(reason.to_owned()),
                key: None,
                anchor: None,
            });
        }
        let keychain_error = |e: crate::vault::VaultError| AuditError::Keychain {
            path: path.to_owned(),
            reason: e.to_string(),
        };
        let key = match vault.get(KEY_ACCOUNT).map_err(keychain_error)? {
            Some(secret) => Some(
                ChainKey::parse(&secret).ok_or_else(|| AuditError::Keychain {
                    path: path.to_owned(),
                    reason: format!("the keychain entry {KEY_ACCOUNT} is not a 256-bit hex key"),
                })?,
            ),
            None => None,
        };
        let anchor = vault
            .get(&anchor_account(path))
            .map_err(keychain_error)?
            .and_then(|s| Anchor::parse(&s));
        Ok(Self {
            state: KeyState::Available,
            key,
            anchor,
        })
    }
}

/// A trail found altered when it was opened: where, why, and where the altered file was kept.
/// Recording goes on in a new segment at the old path ([`AuditLog::open_or_new_segment`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainBreak {
    /// The first altered line, when one line is to blame (not for a trail cut short,
    /// emptied, deleted or replaced).
    pub line: Option<usize>,
    pub reason: String,
    /// The altered file, kept as it was found (absent when it had been deleted).
    pub kept_as: Option<PathBuf>,
}

impl ChainBreak {
    /// One line for a banner's title.
    pub fn headline(&self) -> String {
        match self.line {
            Some(n) => format!("The audit trail was changed outside Keydeck at line {n}"),
            None => "The audit trail was cut short or replaced outside Keydeck".to_owned(),
        }
    }

    /// What happened and what Keydeck did about it, in sentences.
    pub fn body(&self) -> String {
        let kept = match &self.kept_as {
            Some(p) => format!("The altered file is kept unchanged as {}.", p.display()),
            None => "The file was deleted, so there was nothing to keep.".to_owned(),
        };
        format!(
            "{}: {}. {kept} Recording goes on in a new segment that starts from the break; its first entry names the kept file.",
            self.line
                .map_or_else(|| "The trail".to_owned(), |n| format!("Line {n}")),
            self.reason
        )
    }

    /// The target of the new segment's first entry.
    fn target(&self) -> String {
        let kept = self
            .kept_as
            .as_ref()
            .and_then(|p| p.file_name())
            .map_or_else(
                || "nothing (deleted)".to_owned(),
                |n| n.to_string_lossy().into_owned(),
            );
        match self.line {
            Some(n) => format!(
                "after a break at line {n} ({}); earlier trail kept as {kept}",
                self.reason
            ),
            None => format!(
                "after a break ({}); earlier trail kept as {kept}",
                self.reason
            ),
        }
    }
}

/// Where an altered trail is kept: beside it, named by the time it was found.
fn kept_path(path: &Path) -> PathBuf {
    let stamp: String = format_utc_ms(now_ms())
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let stem = path
        .file_stem()
        .map_or_else(|| "audit".into(), |s| s.to_string_lossy().into_owned());
    let ext = path
        .extension()
        .map_or_else(|| "jsonl".into(), |s| s.to_string_lossy().into_owned());
    let mut candidate = path.with_file_name(format!("{stem}.broken-{stamp}.{ext}"));
    let mut n = 2;
    while candidate.exists() {
        candidate = path.with_file_name(format!("{stem}.broken-{stamp}-{n}.{ext}"));
        n += 1;
    }
    candidate
}

/// Holds `{path}.lock` exclusively while it lives: the window and a command may write the same
/// trail, and each append (and the start of a new segment) must see the other's lines.
struct TrailLock(#[allow(dead_code)] File);

impl TrailLock {
    fn take(path: &Path) -> Result<Self, AuditError> {
        let mut lock_path = path.as_os_str().to_owned();
        lock_path.push(".lock");
        let io = |source| AuditError::Io {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::paths::create_private_dir(dir).map_err(io)?;
        }
        let file = crate::paths::private_open_options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(PathBuf::from(lock_path))
            .map_err(io)?;
        file.lock().map_err(io)?;
        Ok(Self(file))
    }
}

/// The last record of the file (the tail only is read), if its last line is one.
fn last_record(path: &Path) -> Option<Record> {
    let mut file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let from = len.saturating_sub(64 * 1024);
    file.seek(SeekFrom::Start(from)).ok()?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail).ok()?;
    let line = tail.split(|b| *b == b'\n').rev().find(|l| !l.is_empty())?;
    serde_json::from_slice(line).ok()
}

/// An open audit log, appending to one file.
pub struct AuditLog {
    path: PathBuf,
    last_hash: String,
    next_seq: u64,
    user: String,
    vault: Vault,
    key: Option<ChainKey>,
}

impl AuditLog {
    /// Opens (or creates) the log, verifies it against the keychain and finds where the
    /// chain ends. A broken or incomplete file is reported, not silently continued. The key
    /// is created in `vault` on first use; with the memory-only fallback vault the log is
    /// written with a plain chain (see the module's documentation).
    pub fn open(path: &Path, vault: &Vault) -> Result<Self, AuditError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::paths::create_private_dir(dir).map_err(|source| AuditError::Io {
                path: path.to_owned(),
                source,
            })?;
        }
        let keychain = Keychain::read(vault, path)?;
        let report = check(path, &keychain)?;
        // First use: a file with keyed lines and no key was refused by the check above.
        let key = match (keychain.key, &keychain.state) {
            (Some(key), _) => Some(key),
            (None, KeyState::Available) => Some(create_key(vault, path)?),
            (None, KeyState::Unavailable(_)) => None,
        };
        Ok(Self {
            path: path.to_owned(),
            last_hash: report.last_hash,
            next_seq: report.entries as u64 + 1,
            user: os_user(),
            vault: vault.clone(),
            key,
        })
    }

    /// Opens the log like [`Self::open`]; a trail found broken or incomplete is not a dead
    /// end: it is kept aside untouched, and a new segment starts at `path` whose first entry
    /// names the break and the kept file. Other failures (the disk, the keychain) are errors.
    pub fn open_or_new_segment(
        path: &Path,
        vault: &Vault,
    ) -> Result<(Self, Option<ChainBreak>), AuditError> {
        // Under the lock: another process that found the same break has either not started a
        // segment yet, or has, and then this check finds the trail intact.
        let _lock = TrailLock::take(path)?;
        let (line, reason) = match Self::open(path, vault) {
            Ok(log) => return Ok((log, None)),
            Err(AuditError::Broken { line, reason, .. }) => (Some(line), reason),
            Err(AuditError::Incomplete { reason, .. }) => (None, reason),
            Err(e) => return Err(e),
        };
        let io = |source| AuditError::Io {
            path: path.to_owned(),
            source,
        };
        // The head anchored for the altered file does not apply to the new segment, which
        // anchors its own from its first line. Removed first: if that fails, nothing moved.
        if vault.fallback_reason().is_none() {
            vault
                .remove(&anchor_account(path))
                .map_err(|e| AuditError::Keychain {
                    path: path.to_owned(),
                    reason: e.to_string(),
                })?;
        }
        let kept_as = if path.exists() {
            let kept = kept_path(path);
            std::fs::rename(path, &kept).map_err(io)?;
            Some(kept)
        } else {
            None
        };
        let found = ChainBreak {
            line,
            reason,
            kept_as,
        };
        let mut log = Self::open(path, vault)?;
        log.append_locked(
            &Event::ok("", "audit.segment_started", &found.target()),
            now_ms(),
        )?;
        Ok((log, Some(found)))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether new lines are keyed (the keychain holds the key).
    pub fn is_keyed(&self) -> bool {
        self.key.is_some()
    }

    /// Appends one event, flushes it to disk, then moves the anchor in the keychain.
    pub fn append(&mut self, event: &Event) -> Result<Record, AuditError> {
        self.append_at(event, now_ms())
    }

    fn append_at(&mut self, event: &Event, time_ms: i64) -> Result<Record, AuditError> {
        let _lock = TrailLock::take(&self.path)?;
        self.append_locked(event, time_ms)
    }

    /// Appends while holding the trail's lock: first catches up with lines another process
    /// (the window, a command) appended since, so the chain goes on from the file's real end.
    fn append_locked(&mut self, event: &Event, time_ms: i64) -> Result<Record, AuditError> {
        if let Some(last) = last_record(&self.path)
            && last.seq >= self.next_seq
        {
            self.next_seq = last.seq + 1;
            self.last_hash = last.hash;
        }
        let mut record = Record {
            seq: self.next_seq,
            time_ms,
            time: format_utc_ms(time_ms),
            user: self.user.clone(),
            connection: scrub(&event.connection, &[]),
            action: event.action.clone(),
            target: scrub(&event.target, &[]),
            outcome: scrub(&event.outcome, &[]),
            prev: self.last_hash.clone(),
            hash: String::new(),
            chain: self.key.as_ref().map(|_| KEYED.to_owned()),
            via: event.via.clone(),
        };
        record.hash = match &self.key {
            Some(key) => record.keyed_hash(key),
            None => record.plain_hash(),
        };
        let io = |source| AuditError::Io {
            path: self.path.clone(),
            source,
        };
        let mut line = serde_json::to_string(&record).map_err(|e| io(std::io::Error::other(e)))?;
        line.push('\n');
        let mut file = crate::paths::private_open_options()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(io)?;
        file.write_all(line.as_bytes()).map_err(io)?;
        file.sync_data().map_err(io)?;
        self.last_hash = record.hash.clone();
        self.next_seq += 1;
        if self.key.is_some() {
            // After the line is on disk: a crash in between leaves the anchor one line behind,
            // which verification accepts (the extra line is keyed), never ahead of the file.
            let anchor = Anchor {
                seq: record.seq,
                hash: record.hash.clone(),
            };
            self.vault
                .store(&anchor_account(&self.path), &anchor.to_secret())
                .map_err(|e| AuditError::Keychain {
                    path: self.path.clone(),
                    reason: format!("the line was written but its anchor was not: {e}"),
                })?;
        }
        Ok(record)
    }
}

fn create_key(vault: &Vault, path: &Path) -> Result<ChainKey, AuditError> {
    let keychain_error = |reason: String| AuditError::Keychain {
        path: path.to_owned(),
        reason,
    };
    let (key, secret) = ChainKey::generate()
        .ok_or_else(|| keychain_error("could not make an HMAC key".to_owned()))?;
    vault
        .store(KEY_ACCOUNT, &secret)
        .map_err(|e| keychain_error(e.to_string()))?;
    // Two processes starting at once (the window and a command) may both have found no key
    // and both stored one: the keychain keeps the last. Use what it holds, before any line is
    // keyed, so both chain with the same key.
    match vault.get(KEY_ACCOUNT) {
        Ok(Some(stored)) => Ok(ChainKey::parse(&stored).unwrap_or(key)),
        Ok(None) => Ok(key),
        Err(e) => Err(keychain_error(e.to_string())),
    }
}

/// What a verification proved, and what it could not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub entries: usize,
    pub last_hash: String,
    /// Keyed lines, each checked with the key (when it was available).
    pub keyed: usize,
    /// Plain lines before the first keyed one (an older Keydeck, or memory-only sessions).
    pub plain_before_keyed: usize,
    /// Plain lines after the last keyed one: no keyed line vouches for them.
    pub plain_tail: usize,
    /// The head anchored in the keychain, when there is one.
    pub anchor: Option<Anchor>,
    pub key: KeyState,
}

impl Report {
    /// True when every line is covered by the key and the file is complete up to the anchor.
    pub fn is_proven(&self) -> bool {
        self.key == KeyState::Available
            && self.plain_tail == 0
            && (self.entries == 0 || self.anchor.is_some())
    }

    /// One line for a status bar.
    pub fn headline(&self) -> String {
        if self.entries == 0 && self.anchor.is_none() {
            "No entries yet".to_owned()
        } else if self.is_proven() {
            format!(
                "Chain intact: {}, keyed and anchored in the keychain",
                crate::words::count(self.entries, "entry", "entries")
            )
        } else {
            format!(
                "Structure intact: {}, not all of it can be proven",
                crate::words::count(self.entries, "entry", "entries")
            )
        }
    }

    /// What was proven and what was not, in sentences.
    pub fn statement(&self) -> Vec<String> {
        let mut out = vec![self.headline()];
        match &self.key {
            KeyState::Unavailable(reason) => out.push(format!(
                "The OS keychain is not available ({reason}), so the chain's key and head anchor cannot be read. Checked: each line's sequence, its link to the line before, and the plain hash of unkeyed lines. Not proven: that no line was edited (a keyed line's hash needs the key), that none was inserted or removed by someone who rewrote the hashes after it, that nothing was cut off the end, that the file was not replaced. Run `keydeck audit verify` where the keychain is unlocked to prove those."
            )),
            KeyState::Available if self.entries > 0 && self.anchor.is_none() => out.push(
                "The keychain holds no anchor for this file (written while the keychain was unavailable, or the file was moved): lines cut off its end cannot be detected."
                    .to_owned(),
            ),
            KeyState::Available => {}
        }
        if self.plain_before_keyed > 0 {
            out.push(format!(
                "The first {} lines are unkeyed (an older Keydeck, or memory-only sessions): a keyed line after them links to them, so a change since then is detected; before that they were protected only by a plain hash.",
                self.plain_before_keyed
            ));
        }
        if self.keyed == 0 && self.entries > 0 {
            out.push(format!(
                "All {} lines are unkeyed (an older Keydeck, or memory-only mode): a plain hash chain, which anyone who can write the file can recompute after a change.",
                self.entries
            ));
        } else if self.plain_tail > 0 {
            out.push(format!(
                "The last {} lines are unkeyed (written while the keychain was unavailable, or forged): nothing proves they are genuine.",
                self.plain_tail
            ));
        }
        out
    }
}

/// Checks the trail against the keychain behind `vault`, without creating anything: each
/// line's sequence, link and hash (keyed lines with the key), then the anchored head.
/// Names the first broken line; a trail cut short, emptied, deleted or replaced is
/// [`AuditError::Incomplete`]. With the memory-only fallback vault only the structure is
/// checked, and the [`Report`] says what that leaves unproven.
pub fn verify(path: &Path, vault: &Vault) -> Result<Report, AuditError> {
    let keychain = Keychain::read(vault, path)?;
    check(path, &keychain)
}

fn check(path: &Path, keychain: &Keychain) -> Result<Report, AuditError> {
    let records = read_records(path)?;
    let mut report = walk(path, &records, keychain)?;
    check_anchor(path, &records, keychain)?;
    report.anchor = keychain.anchor.clone();
    Ok(report)
}

/// The file's lines as bytes, without their line ends; an absent file has none.
fn read_lines(path: &Path) -> Result<Vec<Vec<u8>>, AuditError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(AuditError::Io {
                path: path.to_owned(),
                source,
            });
        }
    };
    let mut lines: Vec<Vec<u8>> = bytes
        .split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l).to_vec())
        .collect();
    if lines.last().is_some_and(Vec::is_empty) {
        lines.pop();
    }
    Ok(lines)
}

/// The records in the file, in order; an absent file has none. A line that is not a record
/// (not even text) is named as the break.
fn read_records(path: &Path) -> Result<Vec<Record>, AuditError> {
    let mut records = Vec::new();
    for (i, line) in read_lines(path)?.iter().enumerate() {
        let broken = |reason: String| AuditError::Broken {
            path: path.to_owned(),
            line: i + 1,
            reason,
        };
        let text = std::str::from_utf8(line)
            .map_err(|_| broken("not an audit record (not text)".to_owned()))?;
        let record: Record =
            serde_json::from_str(text).map_err(|e| broken(format!("not an audit record ({e})")))?;
        records.push(record);
    }
    Ok(records)
}

/// Sequence, links and hashes, line by line.
fn walk(path: &Path, records: &[Record], keychain: &Keychain) -> Result<Report, AuditError> {
    let broken = |line: usize, reason: &str| AuditError::Broken {
        path: path.to_owned(),
        line,
        reason: reason.to_owned(),
    };
    let mut prev = GENESIS.to_owned();
    let mut keyed = 0;
    let mut plain_before_keyed = 0;
    let mut plain_tail = 0;
    for (i, record) in records.iter().enumerate() {
        let n = i + 1;
        if record.seq != n as u64 {
            return Err(broken(
                n,
                &format!(
                    "sequence {} where {n} was expected (a line was removed or moved)",
                    record.seq
                ),
            ));
        }
        if record.prev != prev {
            return Err(broken(n, "it does not follow the line before it"));
        }
        if record.is_keyed() {
            if let Some(key) = &keychain.key
                && record.keyed_hash(key) != record.hash
            {
                return Err(broken(
                    n,
                    "its keyed hash does not match: it was changed, or written without the key",
                ));
            }
            if keychain.key.is_none() && keychain.state == KeyState::Available {
                return Err(AuditError::Keychain {
                    path: path.to_owned(),
                    reason: format!(
                        "line {n} is keyed but the keychain holds no audit key ({KEY_ACCOUNT}); it was removed, or this is another account's keychain"
                    ),
                });
            }
            keyed += 1;
            plain_before_keyed += std::mem::take(&mut plain_tail);
        } else if record.chain.is_some() {
            return Err(broken(n, "it names an unknown chain"));
        } else if record.plain_hash() != record.hash {
            return Err(broken(n, "its content was changed after it was written"));
        } else {
            plain_tail += 1;
        }
        prev = record.hash.clone();
    }
    if keyed == 0 {
        // No keyed line at all: every plain line is "before" none, say it once as the tail.
        plain_before_keyed = 0;
    }
    Ok(Report {
        entries: records.len(),
        last_hash: prev,
        keyed,
        plain_before_keyed,
        plain_tail,
        anchor: None,
        key: keychain.state.clone(),
    })
}

/// The anchored head must be in the file, as it was anchored. Lines after it were checked by
/// the walk: keyed ones (a crash between a write and its anchor) are proven by their key,
/// plain ones (a memory-only session) are reported as unproven.
fn check_anchor(path: &Path, records: &[Record], keychain: &Keychain) -> Result<(), AuditError> {
    let Some(anchor) = &keychain.anchor else {
        return Ok(());
    };
    let incomplete = |reason: String| AuditError::Incomplete {
        path: path.to_owned(),
        reason,
    };
    let Some(head) = usize::try_from(anchor.seq)
        .ok()
        .and_then(|s| s.checked_sub(1))
        .and_then(|i| records.get(i))
    else {
        return Err(incomplete(match records.len() {
            0 if !path.exists() => format!(
                "the file is missing, but the keychain's anchor says it had {} entries: it was deleted",
                anchor.seq
            ),
            0 => format!(
                "the file is empty, but the keychain's anchor says it had {} entries: it was emptied",
                anchor.seq
            ),
            n => format!(
                "it ends at entry {n}, but the keychain's anchor says it had {} entries: the last {} were cut off",
                anchor.seq,
                anchor.seq.saturating_sub(n as u64)
            ),
        }));
    };
    if head.hash != anchor.hash || !head.is_keyed() {
        return Err(incomplete(format!(
            "entry {} is not the one anchored in the keychain: the file was replaced or rewritten",
            anchor.seq
        )));
    }
    Ok(())
}

/// Every record, for the Activity view and exports.
pub fn read_all(path: &Path) -> Result<Vec<Record>, AuditError> {
    read_records(path)
}

/// Every line that still reads as a record, skipping the ones that do not (an edited line
/// must not hide the rest of the trail); the verification names what was skipped.
pub fn read_readable(path: &Path) -> Result<Vec<Record>, AuditError> {
    Ok(read_lines(path)?
        .iter()
        .filter_map(|line| serde_json::from_slice(line).ok())
        .collect())
}

/// The OS account running the app, for the record: `USER`, else `USERNAME`, else (Unix) the
/// passwd entry of this process's uid, else the uid itself.
pub fn os_user() -> String {
    let from_env = |var| std::env::var(var).ok().filter(|v| !v.trim().is_empty());
    from_env("USER")
        .or_else(|| from_env("USERNAME"))
        .or_else(account_from_passwd)
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The name of this process's uid in `/etc/passwd`, or `uid N` when it has none there. The
/// uid is the owner of `/proc/self` (Linux) or of a file this process creates: no `unsafe`
/// call to `getuid`.
#[cfg(unix)]
fn account_from_passwd() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self")
        .or_else(|_| {
            let probe = tempfile_in_temp_dir()?;
            let meta = std::fs::metadata(&probe);
            let _ = std::fs::remove_file(&probe);
            meta
        })
        .ok()?
        .uid();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    Some(passwd_name(&passwd, uid).unwrap_or_else(|| format!("uid {uid}")))
}

#[cfg(unix)]
fn tempfile_in_temp_dir() -> std::io::Result<PathBuf> {
    let path = std::env::temp_dir().join(format!(".keydeck-uid-{}", std::process::id()));
    crate::paths::private_open_options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)?;
    Ok(path)
}

#[cfg(not(unix))]
fn account_from_passwd() -> Option<String> {
    None
}

/// The account name of `uid` in the text of a passwd file (`name:x:uid:gid:…`).
pub fn passwd_name(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let _password = fields.next()?;
        (fields.next()?.parse::<u32>().ok()? == uid && !name.is_empty()).then(|| name.to_owned())
    })
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `2026-11-23T20:30:00.123Z` from Unix milliseconds (proleptic Gregorian, UTC).
pub fn format_utc_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil conversion.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn append_n(path: &Path, vault: &Vault, n: usize) {
        let mut log = AuditLog::open(path, vault).unwrap();
        for i in 0..n {
            log.append_at(
                &Event::ok("Demo app", "key.created", &format!("key-{i} (a1b2…)")),
                1_795_000_000_000 + i as i64,
            )
            .unwrap();
        }
    }

    fn log_with(n: usize) -> (tempfile::TempDir, PathBuf, Vault) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let vault = Vault::memory();
        append_n(&path, &vault, n);
        (dir, path, vault)
    }

    fn records(path: &Path) -> Vec<Record> {
        read_all(path).unwrap()
    }

    fn write_records(path: &Path, records: &[Record]) {
        let out: Vec<String> = records
            .iter()
            .map(|r| serde_json::to_string(r).unwrap())
            .collect();
        std::fs::write(path, out.join("\n") + "\n").unwrap();
    }

    fn drop_last_line(path: &Path) {
        let mut r = records(path);
        r.pop();
        write_records(path, &r);
    }

    fn broken_line(result: Result<Report, AuditError>) -> (usize, String) {
        match result {
            Err(AuditError::Broken { line, reason, .. }) => (line, reason),
            other => panic!("expected a broken chain, got {other:?}"),
        }
    }

    fn incomplete(result: Result<Report, AuditError>) -> String {
        match result {
            Err(AuditError::Incomplete { reason, .. }) => reason,
            other => panic!("expected an incomplete trail, got {other:?}"),
        }
    }

    #[test]
    fn an_edited_line_is_kept_aside_and_recording_goes_on_in_a_new_segment() {
        let (dir, path, vault) = log_with(3);
        let mut r = records(&path);
        r[1].target = "someone else (ffff…)".to_owned();
        write_records(&path, &r);
        let altered = std::fs::read(&path).unwrap();

        let (mut log, found) = AuditLog::open_or_new_segment(&path, &vault).unwrap();
        let found = found.expect("the break is reported");
        assert_eq!(found.line, Some(2));
        assert!(found.headline().contains("line 2"), "{}", found.headline());
        let kept = found.kept_as.clone().expect("the altered file is kept");
        assert_eq!(kept.parent(), Some(dir.path()));
        assert!(
            kept.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("audit.broken-")
        );
        assert_eq!(std::fs::read(&kept).unwrap(), altered, "kept byte for byte");
        assert!(found.body().contains(&kept.display().to_string()));

        log.append(&Event::ok("Demo app", "key.deleted", "old (c3d4…)"))
            .unwrap();
        let report = verify(&path, &vault).unwrap();
        assert!(report.is_proven(), "{:?}", report.statement());
        let new = records(&path);
        assert_eq!(new.len(), 2);
        assert_eq!(new[0].action, "audit.segment_started");
        assert!(new[0].target.contains("line 2"), "{}", new[0].target);
        assert!(
            new[0]
                .target
                .contains(&*kept.file_name().unwrap().to_string_lossy()),
            "{}",
            new[0].target
        );
        // Reopening the new segment finds nothing wrong.
        let (_, again) = AuditLog::open_or_new_segment(&path, &vault).unwrap();
        assert_eq!(again, None);
    }

    #[test]
    fn a_trail_cut_short_or_deleted_starts_a_new_segment_too() {
        let (_dir, path, vault) = log_with(3);
        drop_last_line(&path);
        let (_, found) = AuditLog::open_or_new_segment(&path, &vault).unwrap();
        let found = found.expect("a cut-off end is a break");
        assert_eq!(found.line, None);
        assert!(found.reason.contains("cut off"), "{}", found.reason);
        assert_eq!(read_all(found.kept_as.as_ref().unwrap()).unwrap().len(), 2);
        assert!(verify(&path, &vault).unwrap().is_proven());

        std::fs::remove_file(&path).unwrap();
        let (_, found) = AuditLog::open_or_new_segment(&path, &vault).unwrap();
        let found = found.expect("a deleted trail is a break");
        assert_eq!(found.kept_as, None);
        assert!(found.reason.contains("deleted"), "{}", found.reason);
        assert_eq!(verify(&path, &vault).unwrap().entries, 1);
    }

    #[test]
    fn a_trail_in_a_folder_not_made_yet_is_opened_and_the_folder_made() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data/nested/audit.jsonl");
        let (mut log, found) = AuditLog::open_or_new_segment(&path, &Vault::memory()).unwrap();
        assert_eq!(found, None);
        log.append(&Event::ok("Shop", "key.created", "first"))
            .unwrap();
        assert_eq!(read_all(&path).unwrap().len(), 1);
    }

    #[test]
    fn two_writers_of_one_trail_keep_one_chain() {
        // The window and a command, each with the trail open, appending in turn.
        let (_dir, path, vault) = log_with(1);
        let mut window = AuditLog::open(&path, &vault).unwrap();
        let mut command = AuditLog::open(&path, &vault).unwrap();
        for i in 0..3 {
            window
                .append(&Event::ok("Shop", "key.created", &format!("w{i}")))
                .unwrap();
            command
                .append(&Event::ok("Shop", "key.deleted", &format!("c{i}")))
                .unwrap();
        }
        let report = verify(&path, &vault).unwrap();
        assert!(report.is_proven(), "{:?}", report.statement());
        assert_eq!(report.entries, 7);
        let (_, found) = AuditLog::open_or_new_segment(&path, &vault).unwrap();
        assert_eq!(found, None, "no false alarm");
    }

    #[test]
    fn a_line_that_is_not_text_is_a_break_not_a_dead_trail() {
        let (_dir, path, vault) = log_with(3);
        let text = std::fs::read(&path).unwrap();
        let mut lines: Vec<&[u8]> = text.split(|b| *b == b'\n').collect();
        lines[1] = b"\xff\xfe not text";
        std::fs::write(&path, lines.join(&b'\n')).unwrap();
        assert_eq!(
            read_readable(&path)
                .unwrap()
                .iter()
                .map(|r| r.seq)
                .collect::<Vec<_>>(),
            [1, 3],
            "the lines after it are still read"
        );
        let (mut log, found) = AuditLog::open_or_new_segment(&path, &vault).unwrap();
        assert_eq!(found.expect("a break").line, Some(2));
        log.append(&Event::ok("Shop", "key.created", "after"))
            .unwrap();
        assert!(verify(&path, &vault).unwrap().is_proven());
    }

    #[test]
    fn a_line_that_is_no_record_does_not_hide_the_others() {
        let (_dir, path, _vault) = log_with(3);
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines[1] = "{ this is not json";
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        assert!(read_all(&path).is_err());
        let readable = read_readable(&path).unwrap();
        assert_eq!(readable.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 3]);
    }

    #[test]
    fn an_intact_keyed_chain_is_proven_and_reopening_continues_it() {
        let (_dir, path, vault) = log_with(3);
        let report = verify(&path, &vault).unwrap();
        assert_eq!(report.entries, 3);
        assert_eq!(report.keyed, 3);
        assert!(report.is_proven(), "{:?}", report.statement());
        assert_eq!(report.anchor.as_ref().map(|a| a.seq), Some(3));
        assert!(records(&path).iter().all(Record::is_keyed));
        let mut log = AuditLog::open(&path, &vault).unwrap();
        let r = log
            .append(&Event::ok("Demo app", "token.revoked", "alice"))
            .unwrap();
        assert_eq!(r.seq, 4);
        let report = verify(&path, &vault).unwrap();
        assert_eq!((report.entries, report.anchor.map(|a| a.seq)), (4, Some(4)));
    }

    #[test]
    fn the_key_is_created_once_on_first_use_and_kept_in_the_vault() {
        let (_dir, path, vault) = log_with(1);
        let key = vault.get(KEY_ACCOUNT).unwrap().expect("key stored");
        assert_eq!(hex::decode(key.expose()).unwrap().len(), 32);
        append_n(&path, &vault, 1);
        assert_eq!(vault.get(KEY_ACCOUNT).unwrap(), Some(key));
        let anchor = vault.get(&anchor_account(&path)).unwrap().expect("anchor");
        assert!(anchor.expose().starts_with("2 "), "anchor is seq and hash");
        assert_eq!(
            format!("{:?}", ChainKey::generate().unwrap().0),
            "ChainKey(••••)"
        );
    }

    #[test]
    fn an_edited_line_is_named() {
        let (_dir, path, vault) = log_with(4);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replacen("key-2 (a1b2…)", "key-X (a1b2…)", 1)).unwrap();
        let (line, reason) = broken_line(verify(&path, &vault));
        assert_eq!(line, 3);
        assert!(reason.contains("keyed hash"), "{reason}");
    }

    #[test]
    fn the_face_that_acted_is_kept_in_the_chain_and_defaults_to_the_app() {
        let (_dir, path, vault) = log_with(1);
        let mut log = AuditLog::open(&path, &vault).unwrap();
        log.append(&Event::ok("Demo app", "key.rotated", "ci-bot (a1b2…)").via(Some("cli")))
            .unwrap();
        let r = records(&path);
        assert_eq!((r[0].via(), r[1].via()), ("app", "cli"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text.matches("\"via\"").count(),
            1,
            "the app's lines are as before"
        );
        assert!(verify(&path, &vault).unwrap().is_proven());
        // Passing a command-line action off as the window's breaks the line's hash.
        std::fs::write(&path, text.replacen(",\"via\":\"cli\"", "", 1)).unwrap();
        assert_eq!(broken_line(verify(&path, &vault)).0, 2);
        std::fs::write(
            &path,
            text.replacen("\"via\":\"cli\"", "\"via\":\"app\"", 1),
        )
        .unwrap();
        assert_eq!(broken_line(verify(&path, &vault)).0, 2);
    }

    #[test]
    fn a_removed_line_is_named() {
        let (_dir, path, vault) = log_with(4);
        let mut r = records(&path);
        r.remove(1);
        write_records(&path, &r);
        let (line, _) = broken_line(verify(&path, &vault));
        assert_eq!(line, 2);
    }

    #[test]
    fn deleting_the_last_line_is_detected_by_the_anchor() {
        let (_dir, path, vault) = log_with(4);
        drop_last_line(&path);
        let reason = incomplete(verify(&path, &vault));
        assert!(reason.contains("ends at entry 3"), "{reason}");
        assert!(reason.contains("4 entries"), "{reason}");
        assert!(
            AuditLog::open(&path, &vault).is_err(),
            "not silently continued"
        );
    }

    #[test]
    fn emptying_the_file_is_detected() {
        let (_dir, path, vault) = log_with(2);
        std::fs::write(&path, "").unwrap();
        assert!(incomplete(verify(&path, &vault)).contains("emptied"));
    }

    #[test]
    fn deleting_the_file_is_detected() {
        let (_dir, path, vault) = log_with(2);
        std::fs::remove_file(&path).unwrap();
        assert!(incomplete(verify(&path, &vault)).contains("deleted"));
    }

    /// The attack of the security review: remove a line, edit another, and recompute the
    /// plain SHA-256 chain, keeping or dropping the `chain` marker.
    #[test]
    fn a_line_removed_and_one_edited_with_a_recomputed_plain_chain_is_detected() {
        for keep_marker in [true, false] {
            let (_dir, path, vault) = log_with(5);
            let mut r = records(&path);
            r.remove(2);
            r[1].outcome = "failed: forged".into();
            let mut prev = GENESIS.to_owned();
            for (i, rec) in r.iter_mut().enumerate() {
                rec.seq = i as u64 + 1;
                rec.prev = prev.clone();
                if !keep_marker {
                    rec.chain = None;
                }
                rec.hash = rec.plain_hash();
                prev = rec.hash.clone();
            }
            write_records(&path, &r);
            match verify(&path, &vault) {
                Err(AuditError::Broken { line: 1, .. }) if keep_marker => {}
                Err(AuditError::Incomplete { reason, .. }) if !keep_marker => {
                    assert!(reason.contains("cut off"), "{reason}")
                }
                other => panic!("not detected (marker kept: {keep_marker}): {other:?}"),
            }
        }
    }

    #[test]
    fn a_chain_recomputed_with_another_key_is_detected() {
        let (_dir, path, vault) = log_with(3);
        let (other, _) = ChainKey::generate().unwrap();
        let mut r = records(&path);
        r[2].outcome = "failed: forged".into();
        r[2].hash = r[2].keyed_hash(&other);
        write_records(&path, &r);
        assert_eq!(broken_line(verify(&path, &vault)).0, 3);
    }

    #[test]
    fn a_replaced_file_of_the_same_length_is_detected() {
        let (dir, path, vault) = log_with(3);
        // Another trail, keyed with the same key (an older copy, say), but not this head.
        let other = dir.path().join("other.jsonl");
        let mut log = AuditLog::open(&other, &vault).unwrap();
        for target in ["user a", "user b", "user c"] {
            log.append(&Event::ok("Demo app", "user.created", target))
                .unwrap();
        }
        std::fs::copy(&other, &path).unwrap();
        assert!(incomplete(verify(&path, &vault)).contains("replaced"));
    }

    #[test]
    fn a_crash_between_a_line_and_its_anchor_is_accepted() {
        let (_dir, path, vault) = log_with(3);
        let r = records(&path);
        let behind = Anchor {
            seq: 2,
            hash: r[1].hash.clone(),
        };
        vault
            .store(&anchor_account(&path), &behind.to_secret())
            .unwrap();
        let report = verify(&path, &vault).unwrap();
        assert_eq!(report.entries, 3);
        assert!(report.is_proven());
    }

    #[test]
    fn keyed_lines_without_the_key_in_the_keychain_cannot_be_checked() {
        let (_dir, path, vault) = log_with(2);
        vault.remove(KEY_ACCOUNT).unwrap();
        assert!(matches!(
            verify(&path, &vault),
            Err(AuditError::Keychain { .. })
        ));
        assert!(
            AuditLog::open(&path, &vault).is_err(),
            "no new key over old lines"
        );
    }

    #[test]
    fn memory_only_mode_checks_the_structure_and_says_what_it_cannot_prove() {
        let (_dir, path, _vault) = log_with(3);
        let memory_only = Vault::memory_fallback("the keychain is locked");
        let report = verify(&path, &memory_only).unwrap();
        assert!(!report.is_proven());
        let text = report.statement().join(" ");
        assert!(text.contains("the keychain is locked"), "{text}");
        assert!(text.contains("Not proven"), "{text}");
        assert!(text.contains("cut off the end"), "{text}");
        // What it cannot prove, shown: a cut-off line and an edited keyed line pass.
        drop_last_line(&path);
        let mut r = records(&path);
        r[0].target = "forged".into();
        write_records(&path, &r);
        assert_eq!(verify(&path, &memory_only).unwrap().entries, 2);
        // What it can: a line removed from the middle breaks the sequence.
        r.remove(0);
        write_records(&path, &r);
        assert_eq!(broken_line(verify(&path, &memory_only)).0, 1);
    }

    #[test]
    fn memory_only_mode_writes_plain_lines_that_a_later_keyed_line_covers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let vault = Vault::memory();
        append_n(&path, &vault, 1);
        append_n(&path, &Vault::memory_fallback("locked"), 2);
        assert!(vault.get(&anchor_account(&path)).unwrap().is_some());
        let r = records(&path);
        assert!(r[0].is_keyed() && !r[1].is_keyed() && !r[2].is_keyed());
        let report = verify(&path, &vault).unwrap();
        assert_eq!((report.plain_tail, report.is_proven()), (2, false));
        assert!(
            report
                .statement()
                .join(" ")
                .contains("last 2 lines are unkeyed")
        );
        append_n(&path, &vault, 1);
        let report = verify(&path, &vault).unwrap();
        assert_eq!(report.plain_tail, 0);
        assert!(report.is_proven(), "{:?}", report.statement());
    }

    #[test]
    fn an_old_unkeyed_file_stays_readable_and_the_keyed_chain_continues_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        // A trail in the format of earlier versions: no `chain` field, plain SHA-256.
        append_n(&path, &Vault::memory_fallback("older Keydeck"), 3);
        assert!(!std::fs::read_to_string(&path).unwrap().contains("chain"));
        let vault = Vault::memory();
        let report = verify(&path, &vault).unwrap();
        assert_eq!((report.entries, report.keyed), (3, 0));
        assert!(!report.is_proven());
        assert!(
            report
                .statement()
                .join(" ")
                .contains("All 3 lines are unkeyed")
        );
        append_n(&path, &vault, 1);
        let report = verify(&path, &vault).unwrap();
        assert_eq!((report.plain_before_keyed, report.keyed), (3, 1));
        assert!(report.is_proven());
        // An old line edited now, with the plain chain recomputed, breaks the keyed link.
        let mut r = records(&path);
        r[1].target = "forged".into();
        r[1].hash = r[1].plain_hash();
        r[2].prev = r[1].hash.clone();
        r[2].hash = r[2].plain_hash();
        write_records(&path, &r);
        assert_eq!(broken_line(verify(&path, &vault)).0, 4);
    }

    #[test]
    fn secrets_in_targets_are_masked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jsonl");
        let mut log = AuditLog::open(&path, &Vault::memory()).unwrap();
        let key = "0123456789abcdef0123456789abcdef01234567";
        log.append(&Event::ok("Demo", "secret.copied", &format!("key {key}")))
            .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(key));
    }

    #[test]
    fn the_account_name_comes_from_passwd_by_uid() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\n\
                      broken line\n\
                      alice:x:1000:1000:Alice:/home/alice:/bin/sh\n";
        assert_eq!(passwd_name(passwd, 1000).as_deref(), Some("alice"));
        assert_eq!(passwd_name(passwd, 0).as_deref(), Some("root"));
        assert_eq!(passwd_name(passwd, 4242), None);
        #[cfg(target_os = "linux")]
        {
            let name = account_from_passwd().expect("a name or a uid on Linux");
            assert!(!name.is_empty() && name != "unknown", "{name}");
        }
    }

    #[test]
    fn utc_formatting_matches_known_dates() {
        assert_eq!(format_utc_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_utc_ms(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(format_utc_ms(1_795_464_992_000), "2026-11-23T20:16:32.000Z");
    }
}
