//! The audit trail as operations use it: one shared, append-only log that every operation
//! writes to itself, so no face (window or command line) can forget a record.
//!
//! Appends run on the recorder's own thread: the keyed chain asks the keychain for its key and
//! moves the head anchor there on every line, and no keychain call may block the window. A
//! recorder can start before the keychain is open ([`Recorder::waiting`]): records are held in
//! order until [`Recorder::open`] opens the log with the vault, then written.
//!
//! The recorder is also where operations leave the auth tokens they issued in this run
//! ([`Recorder::remember_issued`]): every operation already takes one, and every clone shares
//! the list. It is kept in memory only, for the leak scan to look for (issue 14), and is never
//! written to the trail, a file or the keychain.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::audit::{AuditLog, ChainBreak, Event};
use crate::providers::ApiError;
use crate::secret::Secret;
use crate::vault::Vault;

use super::errors;
use super::worker::Worker;

/// Appends audit records from any thread. Cloning is cheap; every clone writes to the same
/// log. A recorder is made [`for_connection`](Self::for_connection) before an operation runs,
/// so each record names the connection it went through.
#[derive(Clone)]
pub struct Recorder {
    shared: Arc<Shared>,
    connection: String,
    /// The id of that connection, when the recorder was made for a profile
    /// ([`for_profile`](Self::for_profile)): what an issued token links back to.
    connection_id: String,
    /// Which face acts: `None` for the window, `Some("cli")` for the command line. Kept by
    /// [`for_connection`](Self::for_connection), so every record of a run says it.
    via: Option<&'static str>,
}

// One per app, behind a mutex: its size does not matter.
#[allow(clippy::large_enum_variant)]
enum LogState {
    /// Not open yet (the keychain is being checked): records wait here, in order.
    Waiting(Vec<Event>),
    Open(AuditLog),
    /// Could not be opened: why.
    Failed(String),
}

struct Shared {
    /// Held by the recorder's thread while it appends (which may wait on the keychain): only
    /// that thread takes it, so a caller on the UI thread never waits behind a keychain call.
    state: Mutex<LogState>,
    /// The log could not be opened (so it has no path to show).
    failed: AtomicBool,
    path: Mutex<Option<PathBuf>>,
    worker: Worker,
    /// Bumped after every successful append: views of the trail reload when it moves.
    revision: AtomicU64,
    /// The first failure to write, until someone takes it (to tell the user once).
    problem: Mutex<Option<String>>,
    problem_taken: AtomicBool,
    /// The trail was found altered when it was opened, and recording went on in a new segment.
    chain_break: Mutex<Option<ChainBreak>>,
    /// Auth tokens issued in this run, in memory only (never appended to the trail).
    issued: Mutex<Vec<IssuedToken>>,
}

/// An auth token an operation issued in this run: what the leak scan looks for beside the
/// stored secrets. In memory only; `Debug` prints its mask (the value is a [`Secret`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedToken {
    pub connection_id: String,
    /// The connection's label.
    pub connection: String,
    pub uid: String,
    pub token: Secret,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("connection", &self.connection)
            .field("via", &self.via)
            .finish_non_exhaustive()
    }
}

impl Recorder {
    fn with_state(state: LogState, path: Option<PathBuf>) -> Self {
        Self {
            shared: Arc::new(Shared {
                failed: AtomicBool::new(matches!(state, LogState::Failed(_))),
                state: Mutex::new(state),
                path: Mutex::new(path),
                worker: Worker::start(),
                revision: AtomicU64::new(0),
                problem: Mutex::new(None),
                problem_taken: AtomicBool::new(false),
                chain_break: Mutex::new(None),
                issued: Mutex::new(Vec::new()),
            }),
            connection: String::new(),
            connection_id: String::new(),
            via: None,
        }
    }

    /// The same log, recording every action as taken through `via` (`"cli"`).
    pub fn via(mut self, via: &'static str) -> Self {
        self.via = Some(via);
        self
    }

    /// A recorder over an opened log, or over the reason it could not be opened (every record
    /// then fails, and the first failure is reported through [`Self::take_problem`]).
    pub fn new(log: Result<AuditLog, String>) -> Self {
        match log {
            Ok(log) => {
                let path = log.path().to_owned();
                Self::with_state(LogState::Open(log), Some(path))
            }
            Err(e) => Self::with_state(LogState::Failed(e), None),
        }
    }

    /// A recorder whose log is opened later, once the keychain that keys it is known.
    pub fn waiting(path: &Path) -> Self {
        Self::with_state(LogState::Waiting(Vec::new()), Some(path.to_owned()))
    }

    /// Opens the log (off the caller's thread) with the vault that keeps its key and anchor,
    /// then writes the records that were waiting.
    pub fn open(&self, vault: Vault) {
        let shared = Arc::clone(&self.shared);
        self.shared.worker.run(move || {
            let Some(path) = shared.path.lock().ok().and_then(|p| p.clone()) else {
                return;
            };
            let opened = match AuditLog::open_or_new_segment(&path, &vault) {
                Ok((log, found)) => {
                    if let Some(found) = found {
                        tracing::warn!("{} {}", found.headline(), found.body());
                        if let Ok(mut b) = shared.chain_break.lock() {
                            *b = Some(found);
                        }
                    }
                    Ok(log)
                }
                Err(e) => {
                    tracing::warn!("{e}");
                    Err(e.to_string())
                }
            };
            let Ok(mut state) = shared.state.lock() else {
                return;
            };
            let waiting = match std::mem::replace(&mut *state, LogState::Failed(String::new())) {
                LogState::Waiting(events) => events,
                _ => Vec::new(),
            };
            shared.failed.store(opened.is_err(), Ordering::SeqCst);
            *state = match opened {
                Ok(log) => LogState::Open(log),
                Err(e) => LogState::Failed(e),
            };
            for event in waiting {
                shared.append(&mut state, &event);
            }
        });
    }

    /// The same log, naming `label` as the connection of every record.
    pub fn for_connection(&self, label: &str) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            connection: label.to_owned(),
            connection_id: String::new(),
            via: self.via,
        }
    }

    /// The same log, for actions through `c`: records name its label, and the tokens issued
    /// through it link back to its id.
    pub fn for_profile(&self, c: &crate::config::Connection) -> Self {
        Self {
            connection_id: c.id.clone(),
            ..self.for_connection(&c.label)
        }
    }

    /// Keeps an auth token issued for `uid` through this recorder's connection, in memory for
    /// the rest of the run, so that the leak scan looks for it. Never written anywhere.
    pub fn remember_issued(&self, uid: &str, token: &Secret) {
        if token.is_empty() {
            return;
        }
        if let Ok(mut issued) = self.shared.issued.lock() {
            issued.push(IssuedToken {
                connection_id: self.connection_id.clone(),
                connection: self.connection.clone(),
                uid: uid.to_owned(),
                token: token.clone(),
            });
        }
    }

    /// The auth tokens issued in this run, oldest first.
    pub fn issued_tokens(&self) -> Vec<IssuedToken> {
        self.shared
            .issued
            .lock()
            .map(|i| i.clone())
            .unwrap_or_default()
    }

    /// How many auth tokens were issued in this run (cheap: a view counts them every frame).
    pub fn issued_count(&self) -> usize {
        self.shared.issued.lock().map(|i| i.len()).unwrap_or(0)
    }

    /// Where the log is (or will be) written, when it has a place.
    pub fn path(&self) -> Option<PathBuf> {
        if self.shared.failed.load(Ordering::SeqCst) {
            return None;
        }
        self.shared.path.lock().ok().and_then(|p| p.clone())
    }

    /// Changes after every record written.
    pub fn revision(&self) -> u64 {
        self.shared.revision.load(Ordering::SeqCst)
    }

    /// No record is still on its way to the file.
    pub fn is_idle(&self) -> bool {
        self.shared.worker.pending() == 0
    }

    /// The trail was found altered when it was opened (recording goes on in a new segment):
    /// where and why, for as long as the app runs.
    pub fn chain_break(&self) -> Option<ChainBreak> {
        self.shared.chain_break.lock().ok()?.clone()
    }

    /// The first write failure, once.
    pub fn take_problem(&self) -> Option<String> {
        let problem = self.shared.problem.lock().ok()?.take()?;
        (!self.shared.problem_taken.swap(true, Ordering::SeqCst)).then_some(problem)
    }

    /// Appends one record (off the caller's thread). `target` names what was acted on, any
    /// secret already masked.
    pub fn record(&self, action: &str, target: &str, outcome: Result<(), String>) {
        let event = match &outcome {
            Ok(()) => Event::ok(&self.connection, action, target),
            Err(e) => Event::failed(&self.connection, action, target, e),
        }
        .via(self.via);
        // Always through the recorder's thread, in order: a record made before the log is
        // open waits there (see `Shared::append`) until `open` writes it.
        let shared = Arc::clone(&self.shared);
        self.shared.worker.run(move || {
            if let Ok(mut state) = shared.state.lock() {
                shared.append(&mut state, &event);
            }
        });
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

impl Shared {
    fn append(&self, state: &mut LogState, event: &Event) {
        let result = match state {
            LogState::Open(log) => log.append(event).map(|_| ()).map_err(|e| e.to_string()),
            LogState::Failed(e) => Err(e.clone()),
            LogState::Waiting(events) => {
                events.push(event.clone());
                return;
            }
        };
        match result {
            Ok(()) => {
                self.revision.fetch_add(1, Ordering::SeqCst);
            }
            Err(e) => {
                tracing::warn!("audit record not written: {e}");
                if let Ok(mut p) = self.problem.lock()
                    && p.is_none()
                {
                    *p = Some(e);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait_idle(rec: &Recorder) {
        for _ in 0..1000 {
            if rec.is_idle() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        panic!("the recorder did not finish");
    }

    #[test]
    fn records_name_their_connection_and_bump_the_revision() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let rec = Recorder::new(AuditLog::open(&path, &Vault::memory()).map_err(|e| e.to_string()));
        let shop = rec.for_connection("Shop (prod)");
        shop.record("key.created", "ci-bot (a1b2…)", Ok(()));
        shop.record("key.deleted", "old (c3d4…)", Err("not found".into()));
        wait_idle(&rec);
        assert_eq!(rec.revision(), 2);
        let records = crate::audit::read_all(&path).unwrap();
        assert_eq!(records.len(), 2);
        assert!(records.iter().all(|r| r.connection == "Shop (prod)"));
        assert!(records.iter().all(|r| r.via() == "app"));
        assert_eq!(records[1].outcome, "failed: not found");
        assert!(rec.take_problem().is_none());
    }

    #[test]
    fn records_made_before_the_log_opens_are_written_in_order_once_it_does() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let rec = Recorder::waiting(&path);
        rec.record("connection.added", "first", Ok(()));
        rec.record("connection.added", "second", Ok(()));
        wait_idle(&rec);
        assert!(
            !path.exists(),
            "nothing is written before the log is opened"
        );
        rec.open(Vault::memory());
        rec.record("connection.added", "third", Ok(()));
        wait_idle(&rec);
        let targets: Vec<String> = crate::audit::read_all(&path)
            .unwrap()
            .into_iter()
            .map(|r| r.target)
            .collect();
        assert_eq!(targets, ["first", "second", "third"]);
        assert_eq!(rec.revision(), 3);
    }

    #[test]
    fn a_recorder_made_for_the_command_line_says_so_on_every_connection() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let rec = Recorder::new(AuditLog::open(&path, &Vault::memory()).map_err(|e| e.to_string()))
            .via("cli");
        rec.for_connection("Shop")
            .record("key.deleted", "x", Ok(()));
        wait_idle(&rec);
        let records = crate::audit::read_all(&path).unwrap();
        assert_eq!(records[0].via(), "cli");
    }

    #[test]
    fn an_altered_trail_is_reported_and_recording_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let vault = Vault::memory();
        let rec = Recorder::waiting(&path);
        rec.open(vault.clone());
        rec.record("key.created", "first", Ok(()));
        wait_idle(&rec);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("first", "forged")).unwrap();

        let rec = Recorder::waiting(&path);
        rec.record("key.created", "second", Ok(()));
        rec.open(vault.clone());
        wait_idle(&rec);
        let found = rec.chain_break().expect("the break is reported");
        assert_eq!(found.line, Some(1));
        assert!(rec.take_problem().is_none(), "recording did not stop");
        let targets: Vec<String> = crate::audit::read_all(&path)
            .unwrap()
            .into_iter()
            .map(|r| r.action + " " + &r.target)
            .collect();
        assert_eq!(targets.len(), 2, "{targets:?}");
        assert!(targets[0].starts_with("audit.segment_started"));
        assert_eq!(targets[1], "key.created second");
        assert!(crate::audit::verify(&path, &vault).unwrap().is_proven());
    }

    #[test]
    fn issued_tokens_are_shared_by_every_clone_name_their_connection_and_print_masked() {
        let rec = Recorder::new(Err("no trail in this test".into()));
        let conn = crate::config::Connection {
            id: "c1".to_owned(),
            label: "Shop".to_owned(),
            kind: crate::config::ConnectionKind::Cometly,
            environment: crate::config::Environment::Dev,
            base_url: None,
            embedded_sandbox: false,
        };
        rec.for_profile(&conn)
            .remember_issued("alice", &Secret::new("tok_0123456789abcdef"));
        rec.remember_issued("bob", &Secret::new(""));
        let issued = rec.issued_tokens();
        assert_eq!(issued.len(), 1, "an empty token is not kept");
        assert_eq!(rec.issued_count(), 1);
        assert_eq!(
            (
                issued[0].connection_id.as_str(),
                issued[0].connection.as_str()
            ),
            ("c1", "Shop")
        );
        assert_eq!(issued[0].uid, "alice");
        let debug = format!("{issued:?}");
        assert!(!debug.contains("0123456789abcdef"), "{debug}");
        assert!(debug.contains("tok_…"), "{debug}");
    }

    #[test]
    fn a_log_that_could_not_be_opened_reports_its_problem_once() {
        let rec = Recorder::new(Err("disk full".into()));
        rec.record("key.created", "x", Ok(()));
        rec.record("key.created", "y", Ok(()));
        wait_idle(&rec);
        assert_eq!(rec.revision(), 0);
        assert_eq!(rec.take_problem().as_deref(), Some("disk full"));
        assert_eq!(rec.take_problem(), None);
    }
}
