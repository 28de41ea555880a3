//! The session: the connection profiles (config file), the secrets of this run (read from and
//! written to the vault), and the audit recorder. Every file and keychain write is performed
//! off the caller's thread by one ordered [`Worker`]; the session keeps its own copy at once,
//! so what the user just saved is used immediately and the window never waits.
//!
//! Each change records itself in the audit trail (`connection.added`, `connection.removed` …).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use crate::config::{self, Config, Connection, ConnectionKind, Environment, RetiringKey};
use crate::sandbox::StartupInfo;
use crate::secret::Secret;
use crate::vault::{Backend, Vault, VaultError};

use super::client::SecretInput;
use super::kinds;
use super::recorder::Recorder;
use super::worker::{Waker, Worker};

/// Where a secret of this session stands in the keychain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretState {
    /// Read from, or confirmed written to, the keychain.
    Stored,
    /// Held in memory; the keychain write has not answered yet.
    Saving,
    /// Held in memory only: the keychain refused it. The user can try again.
    NotSaved(String),
}

/// Where the OS keychain stands for this session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeychainState {
    /// Asking the OS keychain whether it answers (off the UI thread; the window is open).
    Checking,
    /// The OS keychain answers: secrets are stored there.
    Ready,
    /// An in-memory store was chosen (tests, demos): nothing to fix.
    MemoryOnly,
    /// The OS keychain did not answer or refused (locked and the prompt was dismissed, no
    /// Secret Service): secrets are kept in memory for this session. Why, in its words.
    Unavailable(String),
}

/// How long a keychain call may run before the session says it is waiting for the user (an
/// unlock prompt is most likely open).
pub const KEYCHAIN_WAIT: Duration = Duration::from_secs(3);

/// What background work finished with, for the face to tell the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// The keychain was read; `failures` secrets could not be.
    SecretsLoaded { failures: usize },
    /// The OS keychain cannot be used; secrets stay in memory.
    KeychainUnavailable(String),
    /// A write failed: the message says which and why.
    Failed(String),
}

type Loaded = Vec<(String, Result<Option<Secret>, VaultError>)>;

enum Done {
    Loaded(Loaded),
    /// The OS keychain answered the probe (and was read), or why not.
    Probed(Result<(Vault, Loaded), String>),
    Stored(String, Backend, Result<(), String>),
    Removed(Result<(), String>),
    ConfigSaved(Result<(), String>),
}

pub struct Session {
    config_dir: PathBuf,
    config: Config,
    /// The config file could not be read: it is not overwritten until the user changes a
    /// connection.
    config_problem: Option<String>,
    vault: Vault,
    keychain: KeychainState,
    /// This run's copy of the secrets, by vault account.
    secrets: HashMap<String, Secret>,
    states: HashMap<String, SecretState>,
    /// Accounts the OS keychain confirmed holding (read from it, or written and confirmed).
    in_os: HashSet<String>,
    loading: bool,
    /// Changes whenever the active connection or its secrets change: views drop their data.
    generation: u64,
    recorder: Recorder,
    worker: Worker,
    done_tx: mpsc::Sender<Done>,
    done_rx: mpsc::Receiver<Done>,
}

impl Session {
    /// A session that opens the OS keychain in the background ([`Self::load_secrets`] probes
    /// it first): the window opens at once, secrets typed meanwhile are kept and written once
    /// the keychain answers; if it does not, they stay in memory and the user can try again.
    pub fn open_os(config_dir: &Path, recorder: Recorder) -> Self {
        let mut s = Self::new(config_dir, Vault::memory(), recorder);
        s.keychain = KeychainState::Checking;
        s
    }

    /// Reads the config (a small file; a broken one is reported, never overwritten) and
    /// starts the worker. Secrets are read by [`Self::load_secrets`]. The recorder's log is
    /// opened with this vault (off this thread).
    pub fn open(config_dir: &Path, vault: Vault, recorder: Recorder) -> Self {
        recorder.open(vault.clone());
        Self::new(config_dir, vault, recorder)
    }

    fn new(config_dir: &Path, vault: Vault, recorder: Recorder) -> Self {
        let (config, config_problem) = match Config::load(config_dir) {
            Ok(c) => (c, None),
            Err(e) => {
                tracing::warn!("{e}");
                (Config::default(), Some(e.to_string()))
            }
        };
        let (done_tx, done_rx) = mpsc::channel();
        let keychain = match (vault.backend(), vault.fallback_reason()) {
            (Backend::Os, _) => KeychainState::Ready,
            (Backend::Memory, Some(reason)) => KeychainState::Unavailable(reason.to_owned()),
            (Backend::Memory, None) => KeychainState::MemoryOnly,
        };
        Self {
            config_dir: config_dir.to_owned(),
            config,
            config_problem,
            vault,
            keychain,
            secrets: HashMap::new(),
            states: HashMap::new(),
            in_os: HashSet::new(),
            loading: false,
            generation: 0,
            recorder,
            worker: Worker::start(),
            done_tx,
            done_rx,
        }
    }

    /// Who to wake when background work finishes.
    pub fn set_waker(&self, waker: Waker) {
        self.worker.set_waker(waker);
    }

    /// The folder of the connections file (and of the other non-secret settings).
    pub fn config_dir(&self) -> &Path {
        &self.config_dir
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn config_problem(&self) -> Option<&str> {
        self.config_problem.as_deref()
    }

    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    pub fn keychain(&self) -> &KeychainState {
        &self.keychain
    }

    /// A keychain call has been running longer than [`KEYCHAIN_WAIT`]: the keychain is most
    /// likely locked and waiting for the user to unlock it in a system prompt.
    pub fn keychain_waiting(&self) -> bool {
        self.worker.running_for() > KEYCHAIN_WAIT
    }

    /// Whether every secret of this connection is confirmed where the session says it is kept
    /// (the OS keychain, or memory when there is none).
    pub fn secrets_saved(&self, connection_id: &str, fields: &[&str]) -> bool {
        fields.iter().all(|f| {
            self.secret_state(connection_id, f)
                .is_none_or(|s| *s == SecretState::Stored)
        })
    }

    pub fn secrets(&self) -> &HashMap<String, Secret> {
        &self.secrets
    }

    /// The labels of the connections other than `except` that store `value` as one of their
    /// secrets: deleting that key breaks them too.
    pub fn connections_storing(&self, value: &Secret, except: &str) -> Vec<String> {
        self.config()
            .connections
            .iter()
            .filter(|c| c.id != except)
            .filter(|c| {
                crate::core::kinds::spec(&c.kind)
                    .secret_fields()
                    .iter()
                    .any(|(field, _)| {
                        self.secrets
                            .get(&Vault::account(&c.id, field))
                            .is_some_and(|s| s.expose() == value.expose())
                    })
            })
            .map(|c| c.label.clone())
            .collect()
    }

    /// Where the secret of this connection's field stands; `None`: there is none.
    pub fn secret_state(&self, connection_id: &str, field: &str) -> Option<&SecretState> {
        self.states.get(&Vault::account(connection_id, field))
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Views drop their data and reload (a secret or the active connection changed).
    pub fn bump_generation(&mut self) {
        self.generation += 1;
    }

    /// The recorder for the active connection (tokens issued through it name its id).
    pub fn recorder(&self) -> Recorder {
        match self.active_connection() {
            Some(c) => self.recorder.for_profile(c),
            None => self.recorder.for_connection(""),
        }
    }

    pub fn is_loading_secrets(&self) -> bool {
        self.loading
    }

    /// No read or write (secret, config or audit record) is still on its way.
    pub fn is_idle(&self) -> bool {
        !self.loading && self.worker.pending() == 0 && self.recorder.is_idle()
    }

    pub fn active_connection(&self) -> Option<&Connection> {
        let id = self.config.selected_connection.as_deref()?;
        self.config.connection(id)
    }

    fn accounts(&self) -> Vec<String> {
        self.config
            .connections
            .iter()
            .flat_map(|c| {
                kinds::spec(&c.kind)
                    .secret_fields()
                    .into_iter()
                    .map(|(field, _)| Vault::account(&c.id, field))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Reads every stored secret of every connection, off this thread; while the keychain is
    /// being checked, it is probed first.
    pub fn load_secrets(&mut self) {
        let accounts = self.accounts();
        self.loading = true;
        let tx = self.done_tx.clone();
        if self.keychain == KeychainState::Checking {
            self.worker.run(move || {
                let result = Vault::os()
                    .map(|vault| {
                        let loaded = read_all(&vault, accounts);
                        (vault, loaded)
                    })
                    .map_err(|e| e.to_string());
                let _ = tx.send(Done::Probed(result));
            });
            return;
        }
        let vault = self.vault.clone();
        self.worker.run(move || {
            let _ = tx.send(Done::Loaded(read_all(&vault, accounts)));
        });
    }

    /// Asks the OS keychain again (after the user unlocked it, or started its service). When
    /// it answers, every secret kept in memory meanwhile is written to it.
    pub fn retry_keychain(&mut self) {
        if matches!(
            self.keychain,
            KeychainState::Checking | KeychainState::Ready
        ) {
            return;
        }
        self.keychain = KeychainState::Checking;
        self.load_secrets();
    }

    /// Takes in what was read: a secret typed while the keychain was read wins.
    fn merge_loaded(&mut self, loaded: Loaded, from_os: bool) -> usize {
        let mut failures = 0;
        for (account, result) in loaded {
            match result {
                Ok(Some(secret)) => {
                    if from_os {
                        self.in_os.insert(account.clone());
                    }
                    if !self.secrets.contains_key(&account) {
                        self.secrets.insert(account.clone(), secret);
                        self.states.insert(account, SecretState::Stored);
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    failures += 1;
                    tracing::warn!("keychain read of {account} failed: {e}");
                }
            }
        }
        failures
    }

    fn probed(&mut self, result: Result<(Vault, Loaded), String>, notices: &mut Vec<Notice>) {
        self.loading = false;
        self.generation += 1;
        match result {
            Ok((vault, loaded)) => {
                self.recorder.open(vault.clone());
                self.vault = vault;
                self.keychain = KeychainState::Ready;
                let failures = self.merge_loaded(loaded, true);
                // What was typed while the keychain was closed goes into it now.
                let unsaved: Vec<(String, Secret)> = self
                    .secrets
                    .iter()
                    .filter(|(a, _)| !self.in_os.contains(*a))
                    .map(|(a, s)| (a.clone(), s.clone()))
                    .collect();
                for (account, value) in unsaved {
                    self.write_secret(account, value);
                }
                notices.push(Notice::SecretsLoaded { failures });
            }
            Err(reason) => {
                tracing::warn!("no OS keychain: {reason}");
                self.vault = Vault::memory_fallback(reason.clone());
                self.recorder.open(self.vault.clone());
                self.keychain = KeychainState::Unavailable(reason.clone());
                for state in self.states.values_mut() {
                    if *state == SecretState::Saving {
                        *state = SecretState::Stored;
                    }
                }
                notices.push(Notice::KeychainUnavailable(reason));
            }
        }
    }

    /// Takes in what background work finished with. Call it often (the window: every frame).
    pub fn poll(&mut self) -> Vec<Notice> {
        let mut notices = Vec::new();
        while let Ok(done) = self.done_rx.try_recv() {
            match done {
                Done::Loaded(loaded) => {
                    let from_os = self.vault.backend() == Backend::Os;
                    let failures = self.merge_loaded(loaded, from_os);
                    self.loading = false;
                    self.generation += 1;
                    notices.push(Notice::SecretsLoaded { failures });
                }
                Done::Probed(result) => self.probed(result, &mut notices),
                Done::Stored(account, backend, result) => {
                    if backend == Backend::Os && result.is_ok() {
                        self.in_os.insert(account.clone());
                    }
                    // A later write or a removal may have replaced this one meanwhile.
                    if self.states.get(&account) == Some(&SecretState::Saving) {
                        let state = match &result {
                            Ok(()) => SecretState::Stored,
                            Err(e) => SecretState::NotSaved(e.clone()),
                        };
                        self.states.insert(account, state);
                    }
                    if let Err(e) = result {
                        notices.push(Notice::Failed(format!(
                            "Could not store a secret in the keychain: {e}"
                        )));
                    }
                }
                Done::Removed(Err(e)) => notices.push(Notice::Failed(format!(
                    "Could not remove a secret from the keychain: {e}"
                ))),
                Done::Removed(Ok(())) => {}
                Done::ConfigSaved(Err(e)) => notices.push(Notice::Failed(e)),
                Done::ConfigSaved(Ok(())) => {}
            }
        }
        notices
    }

    /// Keeps the secret for this run at once and writes it to the vault off this thread.
    pub fn store_secret(&mut self, connection_id: &str, field: &str, value: Secret) {
        self.write_secret(Vault::account(connection_id, field), value);
    }

    fn write_secret(&mut self, account: String, value: Secret) {
        self.secrets.insert(account.clone(), value.clone());
        self.in_os.remove(&account);
        // While the keychain is checked, the secret waits in memory; it is written once the
        // keychain answers (see `probed`).
        if self.keychain == KeychainState::Checking {
            self.states.insert(account, SecretState::Saving);
            return;
        }
        self.states.insert(account.clone(), SecretState::Saving);
        let vault = self.vault.clone();
        let tx = self.done_tx.clone();
        self.worker.run(move || {
            let result = vault.store(&account, &value).map_err(|e| e.to_string());
            let _ = tx.send(Done::Stored(account, vault.backend(), result));
        });
    }

    /// Tries again to write every secret the keychain refused.
    pub fn retry_unsaved(&mut self) {
        let unsaved: Vec<String> = self
            .states
            .iter()
            .filter(|(_, s)| matches!(s, SecretState::NotSaved(_)))
            .map(|(a, _)| a.clone())
            .collect();
        for account in unsaved {
            if let Some((id, field)) = account.split_once('/')
                && let Some(value) = self.secrets.get(&account).cloned()
            {
                self.store_secret(id, field, value);
            }
        }
    }

    fn remove_secret(&mut self, connection_id: &str, field: &str) {
        let account = Vault::account(connection_id, field);
        self.secrets.remove(&account);
        self.states.remove(&account);
        self.in_os.remove(&account);
        let vault = self.vault.clone();
        let tx = self.done_tx.clone();
        self.worker.run(move || {
            let result = vault.remove(&account).map_err(|e| e.to_string());
            let _ = tx.send(Done::Removed(result));
        });
    }

    /// Writes the config off this thread, unless it could not be read (then it is kept as
    /// it is on disk until the user changes a connection).
    fn save_config(&mut self) {
        if self.config_problem.is_some() {
            return;
        }
        let config = self.config.clone();
        let dir = self.config_dir.clone();
        let tx = self.done_tx.clone();
        self.worker.run(move || {
            let _ = tx.send(Done::ConfigSaved(
                config.save(&dir).map_err(|e| e.to_string()),
            ));
        });
    }

    /// Makes a connection the active one. False when there is no such connection.
    pub fn select_connection(&mut self, id: &str) -> bool {
        if self.config.connection(id).is_none() {
            return false;
        }
        self.config.selected_connection = Some(id.to_owned());
        self.generation += 1;
        self.save_config();
        true
    }

    /// Adds or replaces a connection and stores its typed secrets (empty ones keep what is
    /// stored). Returns true for a new connection.
    pub fn save_connection(&mut self, connection: Connection, secrets: Vec<SecretInput>) -> bool {
        let is_new = self.config.connection(&connection.id).is_none();
        for (field, value) in secrets {
            if !value.is_empty() {
                self.store_secret(&connection.id, field, value);
            }
        }
        let label = connection.label.clone();
        let id = connection.id.clone();
        match self
            .config
            .connections
            .iter_mut()
            .find(|c| c.id == connection.id)
        {
            Some(existing) => *existing = connection,
            None => self.config.connections.push(connection),
        }
        if is_new || self.config.selected_connection.is_none() {
            self.config.selected_connection = Some(id);
        }
        self.config_problem = None;
        self.generation += 1;
        self.save_config();
        let action = if is_new {
            "connection.added"
        } else {
            "connection.changed"
        };
        self.recorder
            .for_connection(&label)
            .record(action, &label, Ok(()));
        is_new
    }

    /// Adds the connections of a profiles file ([`crate::core::profiles`]); one whose id is
    /// already here is left as it is. The secrets of the added ones are then read from the
    /// keychain (a team member's own keychain may hold them); what it does not hold shows as
    /// missing on the connection.
    pub fn import_connections(
        &mut self,
        connections: Vec<Connection>,
    ) -> Result<crate::core::profiles::Imported, String> {
        if let Some(problem) = &self.config_problem {
            return Err(format!(
                "The connections file could not be read, and importing would overwrite it: {problem}"
            ));
        }
        if self.keychain == KeychainState::Checking {
            return Err(
                "The OS keychain is still being opened: import once it is, so the secrets it holds are found"
                    .to_owned(),
            );
        }
        let mut imported = crate::core::profiles::Imported::default();
        for c in connections {
            if self.config.connection(&c.id).is_some() {
                imported.already_here.push(c.label);
                continue;
            }
            imported.added.push(c.label.clone());
            self.config.connections.push(c);
        }
        if imported.added.is_empty() {
            return Ok(imported);
        }
        if self.config.selected_connection.is_none() {
            self.config.selected_connection = self.config.connections.first().map(|c| c.id.clone());
        }
        self.generation += 1;
        self.save_config();
        self.recorder
            .record("connections.imported", &imported.added.join(", "), Ok(()));
        self.load_secrets();
        Ok(imported)
    }

    /// Removes a connection, its secrets and its retiring-key records.
    pub fn remove_connection(&mut self, id: &str) -> Option<Connection> {
        let conn = self.config.connection(id).cloned()?;
        self.config.connections.retain(|c| c.id != id);
        self.config.retiring_keys.retain(|r| r.connection_id != id);
        if self.config.selected_connection.as_deref() == Some(id) {
            self.config.selected_connection = self.config.connections.first().map(|c| c.id.clone());
        }
        for (field, _) in kinds::spec(&conn.kind).secret_fields() {
            self.remove_secret(id, field);
        }
        self.generation += 1;
        self.save_config();
        self.recorder
            .for_connection(&conn.label)
            .record("connection.removed", &conn.label, Ok(()));
        Some(conn)
    }

    /// Stores a (new) API key as the credential of a connection.
    pub fn use_key_for_connection(&mut self, connection_id: &str, key: Secret) {
        let label = self
            .config
            .connection(connection_id)
            .map(|c| c.label.clone())
            .unwrap_or_default();
        self.recorder.for_connection(&label).record(
            "connection.changed",
            &format!("uses key {}", key.masked()),
            Ok(()),
        );
        self.store_secret(connection_id, config::FIELD_API_KEY, key);
        self.generation += 1;
    }

    /// Remembers a key as retiring (it survives a restart).
    pub fn mark_retiring(&mut self, record: RetiringKey) {
        self.config.retiring_keys.retain(|r| {
            !(r.connection_id == record.connection_id && r.key_sha256 == record.key_sha256)
        });
        self.config.retiring_keys.push(record);
        self.save_config();
    }

    /// Forgets the retiring record of a key (deleted, or the rotation was abandoned).
    pub fn forget_retiring(&mut self, connection_id: &str, key_sha256: &str) {
        let before = self.config.retiring_keys.len();
        self.config
            .retiring_keys
            .retain(|r| !(r.connection_id == connection_id && r.key_sha256 == key_sha256));
        if self.config.retiring_keys.len() != before {
            self.save_config();
        }
    }

    /// Adds (or brings back) the connections of the embedded sandbox: its demo apps, its
    /// management credential, its Ably account and its Cometly workspace; selects the demo
    /// app. Returns the labels it added.
    pub fn add_sandbox_connections(&mut self, info: &StartupInfo) -> Vec<String> {
        let mut added = Vec::new();
        let mut first_app = None;
        for (label, kind) in sandbox_kinds(info) {
            let spec = kinds::spec(&kind);
            let existing = self
                .config
                .connections
                .iter()
                .find(|c| c.embedded_sandbox && same_sandbox_target(&c.kind, &kind));
            let id = match existing {
                Some(c) => c.id.clone(),
                None => {
                    let secrets: Vec<(&str, String)> = spec
                        .secret_fields()
                        .into_iter()
                        .filter_map(|(f, _)| spec.sandbox_secret(&kind, info, f).map(|v| (f, v)))
                        .collect();
                    if secrets.len() != spec.secret_fields().len() {
                        continue;
                    }
                    let c = Connection {
                        id: config::new_connection_id(),
                        label,
                        kind: kind.clone(),
                        environment: Environment::Dev,
                        base_url: None,
                        embedded_sandbox: true,
                    };
                    for (field, value) in secrets {
                        self.store_secret(&c.id, field, Secret::new(value));
                    }
                    added.push(c.label.clone());
                    let id = c.id.clone();
                    self.config.connections.push(c);
                    id
                }
            };
            if matches!(kind, ConnectionKind::CometChatApp { .. }) {
                first_app.get_or_insert(id);
            }
        }
        if let Some(id) = first_app
            && self.active_connection().is_none_or(|c| !c.embedded_sandbox)
        {
            self.config.selected_connection = Some(id);
        }
        self.generation += 1;
        self.save_config();
        added
    }
}

fn read_all(vault: &Vault, accounts: Vec<String>) -> Loaded {
    accounts
        .into_iter()
        .map(|a| {
            let r = vault.get(&a);
            (a, r)
        })
        .collect()
}

/// The connections the embedded sandbox offers: (label, kind).
fn sandbox_kinds(info: &StartupInfo) -> Vec<(String, ConnectionKind)> {
    let mut out: Vec<(String, ConnectionKind)> = info
        .cometchat
        .apps
        .iter()
        .map(|app| {
            (
                "Demo app (sandbox)".to_owned(),
                ConnectionKind::CometChatApp {
                    app_id: app.app_id.clone(),
                    region: app.region.clone(),
                },
            )
        })
        .collect();
    out.push(("Sandbox management".to_owned(), ConnectionKind::Management));
    out.push((
        "Ably (sandbox)".to_owned(),
        ConnectionKind::AblyAccount {
            account_id: Some(info.ably.account_id.clone()),
            app_id: None,
        },
    ));
    out.push(("Cometly (sandbox)".to_owned(), ConnectionKind::Cometly));
    out
}

/// Whether a stored sandbox connection already stands for this offered one: the same app for
/// CometChat apps, the same kind otherwise.
fn same_sandbox_target(stored: &ConnectionKind, offered: &ConnectionKind) -> bool {
    match (stored, offered) {
        (
            ConnectionKind::CometChatApp { app_id: a, .. },
            ConnectionKind::CometChatApp { app_id: b, .. },
        ) => a == b,
        _ => std::mem::discriminant(stored) == std::mem::discriminant(offered),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(dir: &Path) -> Session {
        Session::open(
            dir,
            Vault::memory(),
            Recorder::new(Err("no audit in this test".into())),
        )
    }

    fn app(id: &str) -> Connection {
        Connection {
            id: id.into(),
            label: format!("App {id}"),
            kind: ConnectionKind::CometChatApp {
                app_id: "abc123".into(),
                region: "eu".into(),
            },
            environment: Environment::Staging,
            base_url: None,
            embedded_sandbox: false,
        }
    }

    fn wait_idle(s: &mut Session) -> Vec<Notice> {
        let mut notices = Vec::new();
        for _ in 0..500 {
            notices.extend(s.poll());
            if s.is_idle() {
                notices.extend(s.poll());
                return notices;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        panic!("the session did not settle");
    }

    #[test]
    fn a_saved_connection_is_written_off_thread_and_its_secret_is_stored_once_confirmed() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = session(dir.path());
        let key = Secret::new("0123456789abcdef0123456789abcdef01234567");
        assert!(s.save_connection(app("c1"), vec![(config::FIELD_API_KEY, key.clone())]));
        // The session uses the secret at once, before the keychain answered.
        assert_eq!(s.secrets().get("c1/api_key"), Some(&key));
        wait_idle(&mut s);
        assert_eq!(s.secret_state("c1", "api_key"), Some(&SecretState::Stored));
        assert_eq!(s.vault().get("c1/api_key").unwrap(), Some(key));
        let on_disk = Config::load(dir.path()).unwrap();
        assert_eq!(on_disk.connections, vec![app("c1")]);
        assert_eq!(on_disk.selected_connection.as_deref(), Some("c1"));
    }

    #[test]
    fn removing_a_connection_removes_its_secrets_and_selects_another() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = session(dir.path());
        s.save_connection(app("c1"), vec![(config::FIELD_API_KEY, Secret::new("k1"))]);
        s.save_connection(app("c2"), vec![(config::FIELD_API_KEY, Secret::new("k2"))]);
        wait_idle(&mut s);
        assert_eq!(s.active_connection().map(|c| c.id.as_str()), Some("c2"));
        assert!(s.remove_connection("c2").is_some());
        wait_idle(&mut s);
        assert_eq!(s.active_connection().map(|c| c.id.as_str()), Some("c1"));
        assert_eq!(s.vault().get("c2/api_key").unwrap(), None);
        assert_eq!(Config::load(dir.path()).unwrap().connections.len(), 1);
    }

    #[test]
    fn a_config_that_could_not_be_read_is_not_overwritten_until_a_connection_changes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(Config::path(dir.path()), b"{ not json").unwrap();
        let mut s = session(dir.path());
        assert!(s.config_problem().is_some());
        s.mark_retiring(RetiringKey {
            connection_id: "c1".into(),
            key_sha256: "00".into(),
            masked: "0123…".into(),
            name: "ci-bot".into(),
            deadline_unix: 0,
        });
        wait_idle(&mut s);
        assert_eq!(
            std::fs::read(Config::path(dir.path())).unwrap(),
            b"{ not json"
        );
        s.save_connection(app("c1"), vec![]);
        wait_idle(&mut s);
        assert!(Config::load(dir.path()).is_ok());
    }
}
