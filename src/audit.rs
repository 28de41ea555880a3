//! The audit trail: every action taken from the app, one JSON line each, chained by hash so
//! that an edited, removed or reordered line is detected (`keydeck audit verify`).
//!
//! A line holds time, OS user, connection, action, target (masked), outcome, the hash of the
//! previous line and its own hash. Nothing secret is written: targets and outcomes pass
//! through the same scrubber as error messages.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::providers::error::scrub;

/// The hash that stands before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

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
}

impl Event {
    pub fn ok(connection: &str, action: &str, target: &str) -> Self {
        Self {
            connection: connection.to_owned(),
            action: action.to_owned(),
            target: target.to_owned(),
            outcome: "ok".to_owned(),
        }
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
}

impl Record {
    /// The hash over every field but `hash`, in a fixed order.
    fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
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
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        hex::encode(h.finalize())
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
}

/// An open audit log, appending to one file.
pub struct AuditLog {
    path: PathBuf,
    last_hash: String,
    next_seq: u64,
    user: String,
}

impl AuditLog {
    /// Opens (or creates) the log and finds where the chain ends. A broken file is reported,
    /// not silently continued.
    pub fn open(path: &Path) -> Result<Self, AuditError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::paths::create_private_dir(dir).map_err(|source| AuditError::Io {
                path: path.to_owned(),
                source,
            })?;
        }
        let summary = verify(path)?;
        Ok(Self {
            path: path.to_owned(),
            last_hash: summary.last_hash,
            next_seq: summary.entries as u64 + 1,
            user: os_user(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one event and flushes it to disk.
    pub fn append(&mut self, event: &Event) -> Result<Record, AuditError> {
        self.append_at(event, now_ms())
    }

    fn append_at(&mut self, event: &Event, time_ms: i64) -> Result<Record, AuditError> {
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
        };
        record.hash = record.compute_hash();
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
        Ok(record)
    }
}

/// What a verification found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub entries: usize,
    pub last_hash: String,
}

/// Checks the whole chain; names the first broken line.
pub fn verify(path: &Path) -> Result<Summary, AuditError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Summary {
                entries: 0,
                last_hash: GENESIS.to_owned(),
            });
        }
        Err(source) => {
            return Err(AuditError::Io {
                path: path.to_owned(),
                source,
            });
        }
    };
    let broken = |line: usize, reason: String| AuditError::Broken {
        path: path.to_owned(),
        line,
        reason,
    };
    let mut prev = GENESIS.to_owned();
    let mut entries = 0;
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let n = i + 1;
        let line = line.map_err(|source| AuditError::Io {
            path: path.to_owned(),
            source,
        })?;
        let record: Record = serde_json::from_str(&line)
            .map_err(|e| broken(n, format!("not an audit record ({e})")))?;
        if record.seq != n as u64 {
            return Err(broken(
                n,
                format!(
                    "sequence {} where {n} was expected (a line was removed or moved)",
                    record.seq
                ),
            ));
        }
        if record.prev != prev {
            return Err(broken(
                n,
                "it does not follow the line before it".to_owned(),
            ));
        }
        if record.compute_hash() != record.hash {
            return Err(broken(
                n,
                "its content was changed after it was written".to_owned(),
            ));
        }
        prev = record.hash;
        entries += 1;
    }
    Ok(Summary {
        entries,
        last_hash: prev,
    })
}

/// Every record, for the Activity view and exports.
pub fn read_all(path: &Path) -> Result<Vec<Record>, AuditError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(AuditError::Io {
                path: path.to_owned(),
                source,
            });
        }
    };
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| AuditError::Broken {
                path: path.to_owned(),
                line: i + 1,
                reason: e.to_string(),
            })
        })
        .collect()
}

/// The OS user running the app, for the record.
pub fn os_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".to_owned())
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

    fn log_with(n: usize) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let mut log = AuditLog::open(&path).unwrap();
        for i in 0..n {
            log.append_at(
                &Event::ok("Demo app", "key.created", &format!("key-{i} (a1b2…)")),
                1_795_000_000_000 + i as i64,
            )
            .unwrap();
        }
        (dir, path)
    }

    #[test]
    fn an_intact_chain_verifies_and_reopening_continues_it() {
        let (_dir, path) = log_with(3);
        assert_eq!(verify(&path).unwrap().entries, 3);
        let mut log = AuditLog::open(&path).unwrap();
        let r = log
            .append(&Event::ok("Demo app", "token.revoked", "alice"))
            .unwrap();
        assert_eq!(r.seq, 4);
        assert_eq!(verify(&path).unwrap().entries, 4);
    }

    #[test]
    fn an_edited_line_is_named() {
        let (_dir, path) = log_with(4);
        let text = std::fs::read_to_string(&path).unwrap();
        let edited = text.replacen("key-2 (a1b2…)", "key-X (a1b2…)", 1);
        std::fs::write(&path, edited).unwrap();
        match verify(&path) {
            Err(AuditError::Broken { line, reason, .. }) => {
                assert_eq!(line, 3);
                assert!(reason.contains("changed"), "{reason}");
            }
            other => panic!("expected a broken chain, got {other:?}"),
        }
    }

    #[test]
    fn a_removed_line_is_named() {
        let (_dir, path) = log_with(4);
        let text = std::fs::read_to_string(&path).unwrap();
        let kept: Vec<&str> = text
            .lines()
            .enumerate()
            .filter(|(i, _)| *i != 1)
            .map(|(_, l)| l)
            .collect();
        std::fs::write(&path, kept.join("\n") + "\n").unwrap();
        match verify(&path) {
            Err(AuditError::Broken { line, .. }) => assert_eq!(line, 2),
            other => panic!("expected a broken chain, got {other:?}"),
        }
    }

    #[test]
    fn a_rehashed_forgery_still_breaks_the_next_link() {
        let (_dir, path) = log_with(3);
        let text = std::fs::read_to_string(&path).unwrap();
        let mut records: Vec<Record> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        records[0].outcome = "failed: forged".into();
        records[0].hash = records[0].compute_hash();
        let out: Vec<String> = records
            .iter()
            .map(|r| serde_json::to_string(r).unwrap())
            .collect();
        std::fs::write(&path, out.join("\n") + "\n").unwrap();
        match verify(&path) {
            Err(AuditError::Broken { line, .. }) => assert_eq!(line, 2),
            other => panic!("expected a broken chain, got {other:?}"),
        }
    }

    #[test]
    fn secrets_in_targets_are_masked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jsonl");
        let mut log = AuditLog::open(&path).unwrap();
        let key = "0123456789abcdef0123456789abcdef01234567";
        log.append(&Event::ok("Demo", "secret.copied", &format!("key {key}")))
            .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(key));
    }

    #[test]
    fn utc_formatting_matches_known_dates() {
        assert_eq!(format_utc_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_utc_ms(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(format_utc_ms(1_795_464_992_000), "2026-11-23T20:16:32.000Z");
    }
}
