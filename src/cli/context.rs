//! One command's run: the window's session (the same `connections.json`, the same keychain
//! entries), an audit recorder that marks every record `via: "cli"`, a tokio runtime, and the
//! embedded sandbox when the chosen connection is one of its own.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::Connection;
use crate::core::client::{AblyAccess, ActiveClient, ClientProblem, SandboxStatus};
use crate::core::connect::{self, Resolver};
use crate::core::ops::{Guard, Recorder};
use crate::core::session::{KeychainState, Notice, Session};
use crate::providers::cometchat::CometChatClient;
use crate::providers::http::RetryPolicy;
use crate::providers::management::ManagementClient;
use crate::sandbox::{Sandbox, SandboxOptions, StartupInfo};
use crate::vault::Vault;

use super::GlobalArgs;
use super::exit::{CliError, CliResult, Exit};
use super::output::Out;

/// How long the command waits for the OS keychain before it says it is not there.
const KEYCHAIN_WAIT_SECS: u64 = 10;

/// What every command runs with.
pub struct Ctx {
    pub out: Out,
    pub yes: bool,
    wanted: Option<String>,
    pub rt: tokio::runtime::Runtime,
    session: Session,
    recorder: Recorder,
    /// The altered-trail message was printed (once per run).
    told_chain_break: bool,
    sandbox: Option<(Sandbox, StartupInfo)>,
    data_dir: PathBuf,
    _log: Option<tracing_appender::non_blocking::WorkerGuard>,
}

impl Ctx {
    /// Opens the session over the window's config folder and the OS keychain (or memory, with
    /// a message on stderr), and reads the stored secrets.
    pub fn open(global: &GlobalArgs) -> CliResult<Self> {
        let config_dir = crate::paths::config_dir().map_err(|e| CliError::usage(e.to_string()))?;
        let data_dir = crate::paths::data_dir().map_err(|e| CliError::usage(e.to_string()))?;
        let log = init_log(&data_dir);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name("keydeck-cli")
            .build()
            .map_err(|e| CliError::new(Exit::Unavailable, format!("No runtime: {e}")))?;
        let vault = os_vault_or_memory()?;
        let recorder = Recorder::waiting(&data_dir.join("audit.jsonl")).via("cli");
        let mut session = Session::open(&config_dir, vault, recorder.clone());
        if let Some(problem) = session.config_problem() {
            return Err(CliError::usage(format!(
                "The connections file cannot be read: {problem}"
            )));
        }
        session.load_secrets();
        let mut ctx = Self {
            out: Out {
                format: global.output,
                reveal: global.reveal,
            },
            yes: global.yes,
            wanted: global.connection.clone(),
            rt,
            session,
            recorder,
            told_chain_break: false,
            sandbox: None,
            data_dir,
            _log: log,
        };
        ctx.settle();
        Ok(ctx)
    }

    pub fn config(&self) -> &crate::config::Config {
        self.session.config()
    }

    pub fn session(&mut self) -> &mut Session {
        &mut self.session
    }

    /// Waits until every config, keychain and audit write of this run is done; tells what
    /// failed on stderr. Returns whether anything failed.
    pub fn settle(&mut self) -> bool {
        let mut failed = false;
        for _ in 0..6000 {
            for notice in self.session.poll() {
                if let Notice::Failed(e) = notice {
                    eprintln!("keydeck: {e}");
                    failed = true;
                }
            }
            if self.session.is_idle() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if let Some(problem) = self.recorder.take_problem() {
            eprintln!("keydeck: the audit record was not written: {problem}");
        }
        if !self.told_chain_break
            && let Some(found) = self.recorder.chain_break()
        {
            self.told_chain_break = true;
            eprintln!("keydeck: {}. {}", found.headline(), found.body());
        }
        failed
    }

    /// Waits for the writes, then stops the sandbox this run started.
    pub fn finish(mut self) {
        self.settle();
        if let Some((sandbox, _)) = self.sandbox.take() {
            self.rt.block_on(sandbox.shutdown());
        }
    }

    /// The connection named by `--connection` (label or id), else the one the window last used.
    pub fn connection(&self) -> CliResult<Connection> {
        match &self.wanted {
            Some(name) => self.find_connection(name),
            None => self.session.active_connection().cloned().ok_or_else(|| {
                CliError::not_found(
                    "No connection is chosen. Give one with --connection NAME (see `keydeck connections list`), or add one with `keydeck connections add`.",
                )
            }),
        }
    }

    /// A connection by its label (case-insensitive) or id.
    pub fn find_connection(&self, name: &str) -> CliResult<Connection> {
        let connections = &self.session.config().connections;
        let found: Vec<&Connection> = connections
            .iter()
            .filter(|c| c.id == name || c.label.eq_ignore_ascii_case(name))
            .collect();
        match found.as_slice() {
            [c] => Ok((*c).clone()),
            [] => {
                let names: Vec<&str> = connections.iter().map(|c| c.label.as_str()).collect();
                Err(CliError::not_found(if names.is_empty() {
                    format!(
                        "No connection named {name:?}: there are none yet. Add one with `keydeck connections add`."
                    )
                } else {
                    format!(
                        "No connection named {name:?}. The connections are: {}",
                        names.join(", ")
                    )
                }))
            }
            _ => Err(CliError::new(
                Exit::Conflict,
                format!(
                    "More than one connection is named {name:?}: give its id (`keydeck connections list`)"
                ),
            )),
        }
    }

    /// The audit recorder for actions through `conn`.
    pub fn recorder(&self, conn: &Connection) -> Recorder {
        self.recorder.for_profile(conn)
    }

    /// The audit recorder for what acts through no one connection (`keydeck scan`).
    pub fn recorder_unbound(&self) -> Recorder {
        self.recorder.clone()
    }

    /// What a destructive action on `conn` asks first (`core::ops::Guard`, as in the window).
    pub fn guard(conn: &Connection, name: &str) -> Guard {
        Guard::destructive(conn.environment, name)
    }

    /// The client of a connection, through `core::connect::resolve` as the window does.
    pub fn client(&mut self, conn: &Connection) -> CliResult<ActiveClient> {
        if conn.embedded_sandbox && self.sandbox.is_none() {
            self.start_sandbox()?;
        }
        let sandbox = match &self.sandbox {
            Some((_, info)) => SandboxStatus::Running(info),
            None => SandboxStatus::Off,
        };
        let resolver = Resolver {
            secrets: self.session.secrets(),
            secrets_loading: self.session.is_loading_secrets(),
            sandbox,
            retry: RetryPolicy::default(),
        };
        Ok(connect::resolve(conn, &[], &resolver)?)
    }

    /// The embedded sandbox's connections talk to the sandbox the window runs on its data
    /// file: this run starts one on the same file.
    fn start_sandbox(&mut self) -> CliResult<()> {
        let data = self.data_dir.join("sandbox.sqlite3");
        let data_dir = self.data_dir.clone();
        let started = self.rt.block_on(async move {
            crate::paths::create_private_dir(&data_dir)?;
            Sandbox::start(SandboxOptions {
                port: 0,
                data: Some(data),
                seed_demo_users: true,
            })
            .await
        });
        let sandbox =
            started.map_err(|e| CliError::from(ClientProblem::SandboxFailed(format!("{e:#}"))))?;
        let info = sandbox.info();
        self.sandbox = Some((sandbox, info));
        Ok(())
    }

    /// The chosen connection as a CometChat app.
    pub fn cometchat(&mut self) -> CliResult<(Connection, CometChatClient, Recorder)> {
        let conn = self.connection()?;
        match self.client(&conn)? {
            ActiveClient::CometChat(c) => {
                let rec = self.recorder(&conn);
                Ok((conn, c, rec))
            }
            _ => Err(wrong_kind(&conn, "a CometChat app")),
        }
    }

    /// The chosen connection as a CometChat Management connection.
    pub fn management(&mut self) -> CliResult<(Connection, ManagementClient, Recorder)> {
        let conn = self.connection()?;
        match self.client(&conn)? {
            ActiveClient::Management(c) => {
                let rec = self.recorder(&conn);
                Ok((conn, c, rec))
            }
            _ => Err(wrong_kind(&conn, "a CometChat management")),
        }
    }

    /// The chosen connection as an Ably account.
    pub fn ably(&mut self) -> CliResult<(Connection, AblyAccess, Recorder)> {
        let conn = self.connection()?;
        match self.client(&conn)? {
            ActiveClient::Ably(a) => {
                let rec = self.recorder(&conn);
                Ok((conn, a, rec))
            }
            _ => Err(wrong_kind(&conn, "an Ably account")),
        }
    }

    /// Whether secrets are kept in the OS keychain (not in memory for this run only).
    pub fn keychain_ready(&self) -> bool {
        *self.session.keychain() == KeychainState::Ready
    }
}

fn wrong_kind(conn: &Connection, wanted: &str) -> CliError {
    CliError::usage(format!(
        "{} is a {} connection; this command needs {wanted} connection. Choose one with --connection NAME.",
        conn.label,
        crate::core::kinds::spec(&conn.kind).provider()
    ))
}

/// Log lines go to the log file only: stderr is for the command's own messages.
fn init_log(data_dir: &std::path::Path) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let file = crate::logging::DailyFile::open(&data_dir.join("logs")).ok()?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    crate::logging::init_with_writer(writer, "warn,keydeck=info");
    Some(guard)
}

/// The OS keychain, or memory for this run (said on stderr) when it does not answer; with
/// `KEYDECK_REQUIRE_KEYCHAIN=1` (the keychain tests) its absence is an error.
fn os_vault_or_memory() -> CliResult<Vault> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(Vault::os());
    });
    let reason = match rx.recv_timeout(Duration::from_secs(KEYCHAIN_WAIT_SECS)) {
        Ok(Ok(vault)) => return Ok(vault),
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("it did not answer within {KEYCHAIN_WAIT_SECS} s"),
    };
    if std::env::var("KEYDECK_REQUIRE_KEYCHAIN").is_ok_and(|v| v == "1") {
        return Err(CliError::new(
            Exit::Unavailable,
            format!("The OS keychain is not available: {reason}"),
        ));
    }
    eprintln!(
        "keydeck: the OS keychain is not available ({reason}); stored secrets cannot be read, and new ones are kept for this command only."
    );
    Ok(Vault::memory_fallback(reason))
}
