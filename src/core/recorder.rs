//! The audit trail as operations use it: one shared, append-only log that every operation
//! writes to itself, so no face (window or command line) can forget a record.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::audit::{AuditLog, Event};
use crate::providers::ApiError;

use super::errors;

/// Appends audit records from any thread. Cloning is cheap; every clone writes to the same
/// log. A recorder is made [`for_connection`](Self::for_connection) before an operation runs,
/// so each record names the connection it went through.
#[derive(Clone)]
pub struct Recorder {
    shared: Arc<Shared>,
    connection: String,
}

struct Shared {
    /// The log, or why it could not be opened.
    log: Mutex<Result<AuditLog, String>>,
    /// Bumped after every successful append: views of the trail reload when it moves.
    revision: AtomicU64,
    /// The first failure to write, until someone takes it (to tell the user once).
    problem: Mutex<Option<String>>,
    problem_taken: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("connection", &self.connection)
            .finish_non_exhaustive()
    }
}

impl Recorder {
    /// A recorder over an opened log, or over the reason it could not be opened (every record
    /// then fails, and the first failure is reported through [`Self::take_problem`]).
    pub fn new(log: Result<AuditLog, String>) -> Self {
        Self {
            shared: Arc::new(Shared {
                log: Mutex::new(log),
                revision: AtomicU64::new(0),
                problem: Mutex::new(None),
                problem_taken: std::sync::atomic::AtomicBool::new(false),
            }),
            connection: String::new(),
        }
    }

    /// The same log, naming `label` as the connection of every record.
    pub fn for_connection(&self, label: &str) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            connection: label.to_owned(),
        }
    }

    /// Where the log is written, when it could be opened.
    pub fn path(&self) -> Option<std::path::PathBuf> {
        let log = self.shared.log.lock().ok()?;
        log.as_ref().ok().map(|l| l.path().to_owned())
    }

    /// Changes after every record written.
    pub fn revision(&self) -> u64 {
        self.shared.revision.load(Ordering::SeqCst)
    }

    /// The first write failure, once.
    pub fn take_problem(&self) -> Option<String> {
        let problem = self.shared.problem.lock().ok()?.take()?;
        (!self.shared.problem_taken.swap(true, Ordering::SeqCst)).then_some(problem)
    }

    /// Appends one record. `target` names what was acted on, any secret already masked.
    pub fn record(&self, action: &str, target: &str, outcome: Result<(), String>) {
        let event = match &outcome {
            Ok(()) => Event::ok(&self.connection, action, target),
            Err(e) => Event::failed(&self.connection, action, target, e),
        };
        let result = match self.shared.log.lock() {
            Ok(mut log) => match &mut *log {
                Ok(log) => log.append(&event).map(|_| ()).map_err(|e| e.to_string()),
                Err(e) => Err(e.clone()),
            },
            Err(_) => Err("the audit log is unusable after a crash".to_owned()),
        };
        match result {
            Ok(()) => {
                self.shared.revision.fetch_add(1, Ordering::SeqCst);
            }
            Err(e) => {
                tracing::warn!("audit record not written: {e}");
                if let Ok(mut p) = self.shared.problem.lock()
                    && p.is_none()
                {
                    *p = Some(e);
                }
            }
        }
    }

    /// Records the outcome of a provider call: `ok`, or the error's plain title.
    pub fn outcome<T>(&self, action: &str, target: &str, result: &Result<T, ApiError>) {
        let outcome = match result {
            Ok(_) => Ok(()),
            Err(e) => Err(errors::explain(e).title),
        };
        self.record(action, target, outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_name_their_connection_and_bump_the_revision() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let rec = Recorder::new(
            AuditLog::open(&path, &crate::vault::Vault::memory()).map_err(|e| e.to_string()),
        );
        let shop = rec.for_connection("Shop (prod)");
        shop.record("key.created", "ci-bot (a1b2…)", Ok(()));
        shop.record("key.deleted", "old (c3d4…)", Err("not found".into()));
        assert_eq!(rec.revision(), 2);
        let records = crate::audit::read_all(&path).unwrap();
        assert_eq!(records.len(), 2);
        assert!(records.iter().all(|r| r.connection == "Shop (prod)"));
        assert_eq!(records[1].outcome, "failed: not found");
        assert!(rec.take_problem().is_none());
    }

    #[test]
    fn a_log_that_could_not_be_opened_reports_its_problem_once() {
        let rec = Recorder::new(Err("disk full".into()));
        rec.record("key.created", "x", Ok(()));
        rec.record("key.created", "y", Ok(()));
        assert_eq!(rec.revision(), 0);
        assert_eq!(rec.take_problem().as_deref(), Some("disk full"));
        assert_eq!(rec.take_problem(), None);
    }
}
