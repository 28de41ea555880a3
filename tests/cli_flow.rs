//! The command line as a process against `keydeck sandbox` over real HTTP, with the real OS
//! keychain: connections added through the CLI itself (`--secret-stdin`), keys created,
//! rotated (the window's config shows the old key retiring) and deleted, users and tokens,
//! apps, bad input and exit codes, the audit trail's `via: "cli"`, the README's example, and
//! that no secret is ever in an argument list, on stderr or in the log.
//!
//! Needs a reachable Secret Service: with `KEYDECK_REQUIRE_KEYCHAIN=1` (set by
//! `scripts/test.sh`, which starts gnome-keyring on a private session bus) an unreachable one
//! fails these tests; without it they say they were skipped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

use std::cell::RefCell;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use keydeck::config::Config;
use keydeck::sandbox::StartupInfo;
use keydeck::secret::Secret;
use serde_json::Value;

mod support;

const BIN: &str = env!("CARGO_BIN_EXE_keydeck");

/// One run of the CLI, kept for the leak checks.
#[derive(Debug, Clone)]
struct Run {
    args: Vec<String>,
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }

    fn ok(self) -> Self {
        assert_eq!(self.code, 0, "{self:?}");
        self
    }
}

struct Env {
    dir: tempfile::TempDir,
    sandbox: Child,
    info: StartupInfo,
    runs: RefCell<Vec<Run>>,
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = self.sandbox.kill();
        let _ = self.sandbox.wait();
    }
}

/// Opens the window on the CLI's config and keychain: the key rotated from the command line is
/// listed there as retiring, with the time left.
fn the_window_shows_a_retiring_key(env: &Env) {
    use egui_kittest::kittest::Queryable;
    use keydeck::ui::{AppEnv, Keychain, KeydeckApp};
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = KeydeckApp::new(AppEnv {
        rt: rt.handle().clone(),
        config_dir: env.config_dir(),
        data_dir: env.data_dir(),
        keychain: Keychain::Given(keydeck::vault::Vault::os().unwrap()),
        start_embedded_sandbox: false,
    });
    let mut h = egui_kittest::Harness::builder()
        .with_size(eframe::egui::vec2(1400.0, 900.0))
        .build_ui_state(|ui, app: &mut KeydeckApp| app.ui_root(ui), app);
    support::step_until(
        &mut h,
        "the window lists the old ci-bot key as retiring",
        |h| h.query_by_label_contains("retiring ·").is_some(),
        std::time::Duration::from_secs(20),
    );
    assert!(
        h.query_by_label_contains("left").is_some(),
        "with the time left"
    );
}

/// The audit chain's key is one keychain entry, made on first use (`audit::KEY_ACCOUNT`). Two
/// CLI processes of tests running in parallel that both find none each make one, the second
/// overwriting the first, whose lines then fail their keyed hash ("the audit record was not
/// written"): make it once, before any test's CLI runs.
fn ensure_audit_key() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let dir = tempfile::tempdir().unwrap();
        let vault = keydeck::vault::Vault::os().unwrap();
        keydeck::audit::AuditLog::open(&dir.path().join("audit.jsonl"), &vault).unwrap();
    });
}

/// A sandbox process and empty config/data folders, or `None` (skipped) without a keychain.
fn env() -> Option<Env> {
    let required = std::env::var("KEYDECK_REQUIRE_KEYCHAIN").is_ok_and(|v| v == "1");
    if let Err(e) = keydeck::vault::Vault::os() {
        assert!(
            !required,
            "KEYDECK_REQUIRE_KEYCHAIN=1 but the OS keychain is not reachable: {e}"
        );
        eprintln!("skipped: no OS keychain reachable ({e}); scripts/test.sh starts one");
        return None;
    }
    ensure_audit_key();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("sandbox.sqlite");
    let mut sandbox = Command::new(BIN)
        .args(["sandbox", "--port", "0", "--print-secrets", "--data"])
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("keydeck sandbox starts");
    let mut line = String::new();
    BufReader::new(sandbox.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("a start-up line");
    let info: StartupInfo = serde_json::from_str(&line).expect("the first line is JSON");
    Some(Env {
        dir,
        sandbox,
        info,
        runs: RefCell::new(Vec::new()),
    })
}

impl Env {
    fn config_dir(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self) -> Command {
        self.command_of(BIN)
    }

    /// `program` with this run's config and data folders, no display and no RUST_LOG.
    fn command_of(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("KEYDECK_CONFIG_DIR", self.config_dir())
            .env("KEYDECK_DATA_DIR", self.data_dir())
            .env_remove("DISPLAY")
            .env_remove("RUST_LOG");
        c
    }

    /// Runs `keydeck ARGS` with `stdin` (none: an empty, non-terminal stdin).
    fn run_with(&self, args: &[&str], stdin: &str) -> Run {
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let run = Run {
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        self.runs.borrow_mut().push(run.clone());
        run
    }

    fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, "")
    }

    /// Runs `keydeck ARGS` on a pseudo-terminal (util-linux `script`, as a person at a
    /// terminal would), typing `typed` there: its stdin, stdout and stderr are the terminal,
    /// so a destructive command asks. The transcript (prompt, echoed answer, output) is the
    /// run's stdout.
    fn run_on_terminal(&self, args: &[&str], typed: &str) -> Run {
        let quoted: Vec<String> = std::iter::once(BIN)
            .chain(args.iter().copied())
            .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
            .collect();
        let mut child = self
            .command_of("script")
            .args(["-qec", &quoted.join(" "), "/dev/null"])
            .env("SHELL", "/bin/sh")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("util-linux `script` (Debian: bsdutils) runs the CLI on a pseudo-terminal");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(typed.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        // The terminal carries stdout and stderr both: the leak check reads it as stderr too.
        let transcript = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let run = Run {
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            code: out.status.code().unwrap_or(-1),
            stdout: transcript.clone(),
            stderr: transcript,
        };
        self.runs.borrow_mut().push(run.clone());
        run
    }

    /// Adds the sandbox's demo app as `name`, its REST API key on stdin.
    fn add_app(&self, name: &str) {
        let app = &self.info.cometchat.apps[0];
        self.run_with(
            &[
                "connections",
                "add",
                "--name",
                name,
                "--kind",
                "cometchat-app",
                "--app-id",
                &app.app_id,
                "--region",
                &app.region,
                "--base-url",
                &app.base_url,
                "--secret-stdin",
            ],
            &format!("{}\n", app.rest_api_key),
        )
        .ok();
    }

    fn config(&self) -> Config {
        Config::load(&self.config_dir()).unwrap()
    }

    fn audit(&self) -> Vec<keydeck::audit::Record> {
        keydeck::audit::read_all(&self.data_dir().join("audit.jsonl")).unwrap()
    }

    /// Every file under the config and data folders, as text.
    fn files_text(&self) -> String {
        fn walk(dir: &Path, out: &mut String) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_none_or(|e| e != "sqlite") {
                    out.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
                }
            }
        }
        let mut out = String::new();
        walk(&self.config_dir(), &mut out);
        walk(&self.data_dir(), &mut out);
        out
    }

    /// No secret in any argument list, on any stderr, or in any file the CLI wrote (config,
    /// audit trail, log).
    fn assert_no_leak(&self, secrets: &[&str]) {
        let files = self.files_text();
        assert!(
            files.contains("\"action\""),
            "the scan sees the audit trail"
        );
        for s in secrets.iter().filter(|s| s.len() > 8) {
            for run in self.runs.borrow().iter() {
                assert!(
                    !run.args.iter().any(|a| a.contains(s)),
                    "a secret in the arguments of {:?}",
                    run.args
                );
                assert!(
                    !run.stderr.contains(s),
                    "a secret on the stderr of {:?}: {}",
                    run.args,
                    run.stderr
                );
            }
            assert!(!files.contains(s), "a secret in a file the CLI wrote");
        }
    }
}

fn forget_connection_secrets(env: &Env) {
    // The keychain is shared by the tests: leave no entry behind.
    for c in env.config().connections {
        env.run(&["connections", "remove", &c.id, "--yes"]).ok();
    }
}

#[test]
fn keys_are_created_rotated_and_deleted_and_the_window_sees_the_rotation() {
    let Some(env) = env() else { return };
    env.add_app("Shop");
    let list = env.run(&["keys", "list", "--output", "json"]).ok().json();
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|k| k["key"].as_str().unwrap().ends_with('…')),
        "listed keys are masked: {list}"
    );

    let created = env
        .run(&[
            "keys", "create", "--name", "ci-bot", "--scope", "authOnly", "--output", "json",
        ])
        .ok()
        .json();
    let old = created["key"].as_str().unwrap().to_owned();
    assert_eq!(created["scope"], "authOnly");
    assert_eq!(old.len(), 40, "a produced key is in the JSON whole");
    let table = env.run(&["keys", "list"]).ok();
    assert!(table.stdout.contains("ci-bot") && !table.stdout.contains(&old));

    let rotated = env
        .run(&[
            "keys",
            "rotate",
            "ci-bot",
            "--overlap",
            "1h",
            "--output",
            "json",
        ])
        .ok()
        .json();
    let new = rotated["key"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert_eq!(
        rotated["retiring"]["key"],
        Secret::new(old.clone()).masked()
    );
    // What the window reads: the old key retiring for about an hour on this connection.
    let config = env.config();
    let conn = &config.connections[0];
    let record = config
        .retiring_keys
        .iter()
        .find(|r| r.matches(&conn.id, &Secret::new(old.clone())))
        .expect("the old key is recorded as retiring");
    let left = record.deadline_unix - keydeck::cli::keys::now_unix();
    assert!((3500..=3600).contains(&left), "{left}");
    assert_eq!(record.name, "ci-bot");
    let table = env.run(&["keys", "list"]).ok();
    assert!(table.stdout.contains("retiring until"), "{}", table.stdout);
    the_window_shows_a_retiring_key(&env);

    // Two keys are named ci-bot now: the name is ambiguous, the prefix is not.
    let ambiguous = env.run(&["keys", "delete", "ci-bot", "--yes"]);
    assert_eq!(ambiguous.code, 5, "{ambiguous:?}");
    let refused = env.run(&["keys", "delete", &old[..8]]);
    assert_eq!(refused.code, 1, "no terminal and no --yes: {refused:?}");
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    env.run(&["keys", "delete", &old[..8], "--yes"]).ok();
    assert!(
        env.config().retiring_keys.is_empty(),
        "a deleted key is no longer retiring"
    );
    // A whole key value is accepted on stdin only.
    let gone = env.run_with(&["keys", "delete", "-", "--yes"], &format!("{old}\n"));
    assert_eq!(gone.code, 2, "{gone:?}");
    env.run_with(
        &["keys", "update", "-", "--scope", "fullAccess"],
        &format!("{new}\n"),
    )
    .ok();

    let actions: Vec<(String, String, String)> = env
        .audit()
        .into_iter()
        .map(|r| (r.action.clone(), r.via().to_owned(), r.outcome.clone()))
        .collect();
    for action in [
        "connection.added",
        "key.created",
        "key.rotated",
        "key.deleted",
        "key.changed",
    ] {
        assert!(
            actions
                .iter()
                .any(|(a, via, o)| a == action && via == "cli" && o == "ok"),
            "{action} via cli in {actions:?}"
        );
    }
    let verify = env.run(&["audit", "verify"]);
    assert_eq!(verify.code, 0, "{verify:?}");

    let app_key = env.info.cometchat.apps[0].rest_api_key.clone();
    env.assert_no_leak(&[&old, &new, &app_key]);
    forget_connection_secrets(&env);
}

#[test]
fn users_and_tokens_are_created_issued_and_revoked_in_bulk_too() {
    let Some(env) = env() else { return };
    env.add_app("Support");
    env.run(&[
        "users",
        "create",
        "cli-alice",
        "--name",
        "Alice",
        "--tags",
        "beta",
    ])
    .ok();
    let user = env
        .run(&["users", "get", "cli-alice", "--output", "json"])
        .ok()
        .json();
    assert_eq!(
        (user["uid"].as_str(), user["name"].as_str()),
        (Some("cli-alice"), Some("Alice"))
    );
    assert_eq!(env.run(&["users", "get", "nobody-here"]).code, 2);

    let issued = env
        .run(&[
            "tokens",
            "issue",
            "cli-alice",
            "--force",
            "--output",
            "json",
        ])
        .ok()
        .json();
    let token = issued["token"].as_str().unwrap().to_owned();
    let masked = env.run(&["tokens", "list", "cli-alice"]).ok();
    assert!(!masked.stdout.contains(&token) && masked.stdout.contains(&token[..4]));
    env.run(&["tokens", "revoke", "cli-alice", &token[..12], "--yes"])
        .ok();
    let left = env
        .run(&["tokens", "list", "cli-alice", "--output", "json"])
        .ok()
        .json();
    assert_eq!(left, serde_json::json!([]), "the revoked token is gone");

    let csv = env.dir.path().join("uids.csv");
    env.run(&["users", "create", "cli-bob", "--name", "Bob"])
        .ok();
    std::fs::write(
        &csv,
        "uid\ncli-alice\n\n# a comment\ncli-bob\nbad uid!\ncli-alice\n",
    )
    .unwrap();
    let bulk = env.run(&["tokens", "bulk", csv.to_str().unwrap(), "--output", "json"]);
    assert_eq!(bulk.code, 1, "one malformed row: {bulk:?}");
    let rows = bulk.json();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 3, "one row per distinct uid: {rows:?}");
    assert!(rows[0]["ok"].as_bool().unwrap() && rows[1]["ok"].as_bool().unwrap());
    assert!(rows[2]["error"].as_str().unwrap().starts_with("skipped"));
    let bulk_tokens: Vec<String> = rows[..2]
        .iter()
        .map(|r| r["token"].as_str().unwrap().to_owned())
        .collect();
    let table = env.run(&["tokens", "bulk", csv.to_str().unwrap()]);
    assert!(table.stdout.contains("issued") && table.stdout.contains("skipped"));

    env.run(&["tokens", "revoke-all", "cli-bob", "--yes"]).ok();
    env.run(&["users", "deactivate", "cli-bob"]).ok();
    env.run(&["users", "reactivate", "cli-bob"]).ok();
    env.run(&["users", "delete", "cli-bob", "--yes"]).ok();
    let records = env.audit();
    for action in [
        "user.created",
        "token.issued",
        "token.revoked",
        "token.flushed",
        "user.deleted",
    ] {
        assert!(
            records
                .iter()
                .any(|r| r.action == action && r.via() == "cli"),
            "{action}"
        );
    }
    let app_key = env.info.cometchat.apps[0].rest_api_key.clone();
    let mut secrets = vec![token.as_str(), app_key.as_str()];
    secrets.extend(bulk_tokens.iter().map(String::as_str));
    env.assert_no_leak(&secrets);
    forget_connection_secrets(&env);
}

#[test]
fn bad_input_gets_plain_words_and_the_documented_exit_codes() {
    let Some(env) = env() else { return };
    // No connection at all.
    let none = env.run(&["keys", "list"]);
    assert_eq!(none.code, 2, "{none:?}");
    assert!(
        none.stderr.contains("keydeck connections add"),
        "{}",
        none.stderr
    );
    env.add_app("Shop");
    let unknown = env.run(&["--connection", "Nope", "keys", "list"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown
            .stderr
            .contains("No connection named \"Nope\". The connections are: Shop"),
        "{}",
        unknown.stderr
    );
    let scope = env.run(&["keys", "create", "--name", "x", "--scope", "admin"]);
    assert_eq!(scope.code, 1);
    assert!(
        scope.stderr.contains("authOnly or fullAccess"),
        "{}",
        scope.stderr
    );
    assert_eq!(env.run(&["keys", "frobnicate"]).code, 1);
    let csv = env.dir.path().join("bad.csv");
    std::fs::write(&csv, "uid\n\"no good\",x\nbad!uid\n").unwrap();
    let malformed = env.run(&["tokens", "bulk", csv.to_str().unwrap()]);
    assert_eq!(malformed.code, 1, "{malformed:?}");
    assert!(
        malformed.stderr.contains("holds no valid uid"),
        "{}",
        malformed.stderr
    );
    std::fs::write(&csv, [0xff, 0xfe, 0x00, 0x9f]).unwrap();
    assert_eq!(env.run(&["tokens", "bulk", csv.to_str().unwrap()]).code, 1);
    assert_eq!(env.run(&["keys", "delete", "no-such-key", "--yes"]).code, 2);
    let twice = env.run_with(
        &[
            "connections",
            "add",
            "--name",
            "shop",
            "--kind",
            "cometly",
            "--secret-stdin",
        ],
        "k-0123456789\n",
    );
    assert_eq!(twice.code, 5, "{twice:?}");
    let no_secret = env.run(&["connections", "add", "--name", "Other", "--kind", "cometly"]);
    assert_eq!(
        no_secret.code, 1,
        "no terminal and no --secret-stdin: {no_secret:?}"
    );
    assert!(no_secret.stderr.contains("--secret-stdin"));
    let bad_app = env.run_with(
        &[
            "connections",
            "add",
            "--name",
            "Bad",
            "--kind",
            "cometchat-app",
            "--app-id",
            "x y",
            "--secret-stdin",
        ],
        "0123456789abcdef0123456789abcdef01234567\n",
    );
    assert_eq!(bad_app.code, 1, "{bad_app:?}");

    // A key the app does not know: 3, in the window's words.
    let app = &env.info.cometchat.apps[0];
    let wrong = "ffffffffffffffffffffffffffffffffffffffff";
    env.run_with(
        &[
            "connections",
            "add",
            "--name",
            "Wrong",
            "--kind",
            "cometchat-app",
            "--app-id",
            &app.app_id,
            "--base-url",
            &app.base_url,
            "--secret-stdin",
        ],
        &format!("{wrong}\n"),
    )
    .ok();
    let denied = env.run(&["--connection", "Wrong", "keys", "list"]);
    assert_eq!(denied.code, 3, "{denied:?}");
    assert!(
        denied.stderr.contains("The key was not accepted"),
        "{}",
        denied.stderr
    );
    let test = env.run(&["connections", "test", "Wrong"]);
    assert_eq!(test.code, 3, "{test:?}");
    // Nobody listening: 4.
    env.run_with(
        &[
            "connections",
            "add",
            "--name",
            "Down",
            "--kind",
            "cometchat-app",
            "--app-id",
            &app.app_id,
            "--base-url",
            "http://127.0.0.1:9/v3",
            "--secret-stdin",
        ],
        &format!("{wrong}\n"),
    )
    .ok();
    let down = env.run(&["--connection", "Down", "users", "list"]);
    assert_eq!(down.code, 4, "{down:?}");
    assert!(
        down.stderr.contains("Could not reach the server"),
        "{}",
        down.stderr
    );
    // A command for another kind of connection.
    assert_eq!(env.run(&["apps", "list"]).code, 1);
    env.assert_no_leak(&[wrong, &app.rest_api_key]);
    forget_connection_secrets(&env);
}

#[test]
fn apps_are_listed_created_and_deleted_on_a_management_connection() {
    let Some(env) = env() else { return };
    let m = &env.info.cometchat.management;
    env.run_with(
        &[
            "connections",
            "add",
            "--name",
            "Mgmt",
            "--kind",
            "management",
            "--base-url",
            &m.base_url,
            "--secret-stdin",
        ],
        &format!("{}\n{}\n", m.key, m.secret),
    )
    .ok();
    let apps = env.run(&["apps", "list", "--output", "json"]).ok().json();
    assert!(!apps.as_array().unwrap().is_empty(), "{apps}");
    assert!(apps.to_string().contains('…'), "listed keys are masked");
    let created = env
        .run(&[
            "apps", "create", "--name", "CLI app", "--region", "eu", "--output", "json",
        ])
        .ok()
        .json();
    let id = created["id"].as_str().unwrap().to_owned();
    let deleted = env.run(&["apps", "delete", "CLI app", "--yes"]).ok();
    let records = env.audit();
    assert!(
        records
            .iter()
            .any(|r| r.action == "app.deleted" && r.target.contains(&id)),
        "{deleted:?}\n{records:?}"
    );
    let completions = Command::new(BIN)
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(completions.status.success());
    assert!(String::from_utf8_lossy(&completions.stdout).contains("keydeck"));
    env.assert_no_leak(&[&m.secret]);
    forget_connection_secrets(&env);
}

#[test]
fn the_readme_example_rotates_stores_and_verifies_the_connections_key() {
    let Some(env) = env() else { return };
    env.add_app("Shop");
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let block = readme
        .split("<!-- cli-example -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- /cli-example -->").next())
        .expect("the README's example block");
    let script = block
        .lines()
        .filter(|l| !l.starts_with("```"))
        .collect::<Vec<_>>()
        .join("\n");
    let run = Command::new("bash")
        .arg("-euc")
        .arg(format!(
            "keydeck() {{ \"$KEYDECK_BIN\" \"$@\"; }}\n{script}"
        ))
        .current_dir(env.dir.path())
        .env("KEYDECK_BIN", BIN)
        .env("KEYDECK_CONFIG_DIR", env.config_dir())
        .env("KEYDECK_DATA_DIR", env.data_dir())
        .env_remove("DISPLAY")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("Works: a fullAccess key"), "{stdout}");
    assert!(stdout.contains("retiring until"), "{stdout}");
    let rotated: Value =
        serde_json::from_slice(&std::fs::read(env.dir.path().join("rotated.json")).unwrap())
            .unwrap();
    let new = Secret::new(rotated["key"].as_str().unwrap());
    // The connection's credential in the keychain is the new key.
    let conn = env.config().connections[0].clone();
    let vault = keydeck::vault::Vault::os().unwrap();
    assert_eq!(
        vault
            .get(&keydeck::vault::Vault::account(&conn.id, "api_key"))
            .unwrap(),
        Some(new.clone())
    );
    let old = Secret::new(env.info.cometchat.apps[0].rest_api_key.clone());
    assert!(
        env.config()
            .retiring_keys
            .iter()
            .any(|r| r.matches(&conn.id, &old))
    );
    assert!(!stderr.contains(new.expose()) && !stdout.contains(new.expose()));
    forget_connection_secrets(&env);
}

/// The key "appId.keyId:secret" split into its key name and secret, for Basic auth.
fn key_parts(key: &str) -> (&str, &str) {
    key.split_once(':').expect("appId.keyId:secret")
}

/// Asks the sandbox's Ably REST API for a token for `client_id` with `key` (Basic auth), then
/// returns a check that reads a channel's history with that token: `Ok(())`, or the Ably error
/// code that refused it.
fn ably_token_for(env: &Env, key: &str, client_id: &str) -> impl Fn() -> Result<(), i64> {
    keydeck::providers::http::install_tls_provider();
    let rest = env.info.ably.rest_url.clone();
    let (name, secret) = key_parts(key);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let http = reqwest::Client::new();
    let token: Value = rt
        .block_on(async {
            http.post(format!("{rest}/keys/{name}/requestToken"))
                .basic_auth(name, Some(secret))
                .json(&serde_json::json!({ "clientId": client_id }))
                .send()
                .await?
                .error_for_status()?
                .json()
                .await
        })
        .expect("a token from the sandbox");
    let token = token["token"].as_str().unwrap().to_owned();
    move || {
        rt.block_on(async {
            let resp = http
                .get(format!("{rest}/channels/chat:lobby/messages"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            if resp.status().is_success() {
                return Ok(());
            }
            let body: Value = resp.json().await.unwrap();
            Err(body["error"]["code"].as_i64().unwrap_or(-1))
        })
    }
}

#[test]
fn ably_apps_keys_and_token_revocation_by_client_id() {
    let Some(env) = env() else { return };
    let ably = env.info.ably.clone();
    env.run_with(
        &[
            "connections",
            "add",
            "--name",
            "Ably",
            "--kind",
            "ably",
            "--base-url",
            &ably.control_url,
            "--secret-stdin",
        ],
        &format!("{}\n", ably.access_token),
    )
    .ok();
    let app_id = key_parts(&ably.keys[0].key).0.split('.').next().unwrap();

    let apps = env.run(&["ably", "apps", "--output", "json"]).ok().json();
    assert!(
        apps.as_array().unwrap().iter().any(|a| a["id"] == app_id),
        "the seeded app is listed: {apps}"
    );
    let table = env.run(&["ably", "apps"]).ok();
    assert!(table.stdout.contains(app_id), "{}", table.stdout);

    let keys = env
        .run(&["ably", "keys", "list", "--app", app_id, "--output", "json"])
        .ok()
        .json();
    let names: Vec<&str> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    for seeded in &ably.keys {
        assert!(names.contains(&seeded.name.as_str()), "{names:?}");
        assert!(
            !keys.to_string().contains(key_parts(&seeded.key).1),
            "listed keys are masked: {keys}"
        );
    }

    let bad = env.run(&[
        "ably",
        "keys",
        "create",
        "--app",
        app_id,
        "--name",
        "x",
        "--capability",
        "{\"chat:*\":[\"fly\"]}",
    ]);
    assert_eq!(bad.code, 1, "an unknown operation is refused: {bad:?}");
    assert!(bad.stderr.contains("--capability"), "{}", bad.stderr);
    let capability = serde_json::json!({ "chat:*": ["history", "publish", "subscribe"] });
    let created = env
        .run(&[
            "ably",
            "keys",
            "create",
            "--app",
            app_id,
            "--name",
            "cli-web",
            "--capability",
            &capability.to_string(),
            "--revocable-tokens",
            "--output",
            "json",
        ])
        .ok()
        .json();
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(
        key.starts_with(&format!("{app_id}.")),
        "a whole key: {created}"
    );
    assert_eq!(created["capability"], capability);
    assert_eq!(created["revocableTokens"], true);

    // A token for alice works until her tokens are revoked; asking first, like the window.
    let alice_reads = ably_token_for(&env, &key, "alice");
    let bob_reads = ably_token_for(&env, &key, "bob");
    assert_eq!(alice_reads(), Ok(()));
    let args = [
        "ably",
        "revoke-tokens",
        "--app",
        app_id,
        "--client-id",
        "alice",
        "--key",
        "cli-web",
    ];
    let refused = env.run(&args);
    assert_eq!(refused.code, 1, "no terminal and no --yes: {refused:?}");
    assert_eq!(alice_reads(), Ok(()), "a refused command revokes nothing");
    let mut with_yes = args.to_vec();
    with_yes.extend(["--yes", "--output", "json"]);
    let result = env.run(&with_yes).ok().json();
    assert_eq!(result["failed"], 0, "{result}");
    assert_eq!(result["results"][0]["target"], "clientId:alice");
    assert_eq!(result["results"][0]["result"], "revoked");
    assert_eq!(alice_reads(), Err(40141), "alice's token is revoked");
    assert_eq!(bob_reads(), Ok(()), "bob's is not");

    let refused = env.run(&["ably", "keys", "revoke", "cli-web", "--app", app_id]);
    assert_eq!(refused.code, 1, "{refused:?}");
    env.run(&[
        "ably", "keys", "revoke", "cli-web", "--app", app_id, "--yes",
    ])
    .ok();
    let keys = env
        .run(&["ably", "keys", "list", "--app", app_id, "--output", "json"])
        .ok()
        .json();
    let revoked = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "cli-web")
        .expect("a revoked key is still listed");
    assert_eq!(revoked["status"], "revoked");
    let gone = env.run(&[
        "ably",
        "keys",
        "revoke",
        "no-such-key",
        "--app",
        app_id,
        "--yes",
    ]);
    assert_eq!(gone.code, 2, "{gone:?}");

    let records = env.audit();
    for action in [
        "ably.key.created",
        "ably.tokens.revoked",
        "ably.key.revoked",
    ] {
        assert!(
            records
                .iter()
                .any(|r| r.action == action && r.via() == "cli" && r.outcome == "ok"),
            "{action} via cli: {records:?}\n{:?}",
            env.runs.borrow()
        );
    }
    let mut secrets: Vec<&str> = ably.keys.iter().map(|k| key_parts(&k.key).1).collect();
    secrets.extend([ably.access_token.as_str(), key_parts(&key).1]);
    env.assert_no_leak(&secrets);
    forget_connection_secrets(&env);
}

#[test]
fn connections_are_tested_and_removed_with_their_keychain_entry() {
    let Some(env) = env() else { return };
    env.add_app("Shop");
    let works = env.run(&["connections", "test", "Shop"]).ok();
    assert!(
        works.stdout.contains("Works: a fullAccess key"),
        "{works:?}"
    );
    let json = env
        .run(&["connections", "test", "Shop", "--output", "json"])
        .ok()
        .json();
    assert_eq!(
        (json["ok"].as_bool(), json["connection"].as_str()),
        (Some(true), Some("Shop"))
    );
    assert_eq!(env.run(&["connections", "test", "Elsewhere"]).code, 2);

    let conn = env.config().connections[0].clone();
    let account = keydeck::vault::Vault::account(&conn.id, "api_key");
    let vault = keydeck::vault::Vault::os().unwrap();
    assert!(vault.get(&account).unwrap().is_some(), "stored by add");
    let refused = env.run(&["connections", "remove", "Shop"]);
    assert_eq!(refused.code, 1, "no terminal and no --yes: {refused:?}");
    assert_eq!(env.config().connections.len(), 1, "still there");
    let removed = env.run(&["connections", "remove", "shop", "--yes"]).ok();
    assert!(
        removed.stdout.contains("Removed connection Shop"),
        "{removed:?}"
    );
    assert!(env.config().connections.is_empty());
    assert_eq!(
        vault.get(&account).unwrap(),
        None,
        "its secret left the keychain"
    );
    let gone = env.run(&["connections", "test", "Shop"]);
    assert_eq!(gone.code, 2, "{gone:?}");
    assert!(
        env.audit()
            .iter()
            .any(|r| r.action == "connection.removed" && r.via() == "cli"),
        "{:?}",
        env.audit()
    );
    env.assert_no_leak(&[&env.info.cometchat.apps[0].rest_api_key]);
}

#[test]
fn users_are_updated_and_tokens_listed_masked_unless_revealed() {
    let Some(env) = env() else { return };
    env.add_app("Support");
    env.run(&["users", "create", "cli-dora", "--name", "Dora"])
        .ok();
    let updated = env
        .run(&[
            "users", "update", "cli-dora", "--name", "Dora M.", "--role", "default", "--tags",
            "beta,vip", "--output", "json",
        ])
        .ok()
        .json();
    assert_eq!(updated["name"], "Dora M.", "{updated}");
    let user = env
        .run(&["users", "get", "cli-dora", "--output", "json"])
        .ok()
        .json();
    assert_eq!(
        (user["name"].as_str(), user["tags"].clone()),
        (Some("Dora M."), serde_json::json!(["beta", "vip"])),
        "the server has the change: {user}"
    );
    let nothing = env.run(&["users", "update", "cli-dora"]);
    assert_eq!(nothing.code, 1, "nothing to change: {nothing:?}");
    assert_eq!(
        env.run(&["users", "update", "nobody-here", "--name", "X"])
            .code,
        2
    );
    assert_eq!(
        env.run(&["users", "update", "cli-dora", "--name", " "])
            .code,
        1
    );

    let mut issued = Vec::new();
    for _ in 0..2 {
        let t = env
            .run(&["tokens", "issue", "cli-dora", "--force", "--output", "json"])
            .ok()
            .json();
        issued.push(t["token"].as_str().unwrap().to_owned());
    }
    let listed = env
        .run(&["tokens", "list", "cli-dora", "--output", "json"])
        .ok()
        .json();
    let listed: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["token"].as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), 2, "{listed:?}");
    for t in &issued {
        assert!(!listed.contains(&t.as_str()), "masked in JSON: {listed:?}");
        assert!(listed.iter().any(|l| l.starts_with(&t[..4])), "{listed:?}");
    }
    let table = env.run(&["tokens", "list", "cli-dora"]).ok();
    assert!(issued.iter().all(|t| !table.stdout.contains(t.as_str())));
    let revealed = env.run(&["tokens", "list", "cli-dora", "--reveal"]).ok();
    assert!(
        issued.iter().all(|t| revealed.stdout.contains(t.as_str())),
        "--reveal shows them: {}",
        revealed.stdout
    );
    assert_eq!(
        env.run(&["tokens", "list", "nobody-here"]).code,
        2,
        "an unknown user"
    );
    assert!(
        env.audit()
            .iter()
            .any(|r| r.action == "user.changed" && r.via() == "cli" && r.outcome == "ok")
    );
    let app_key = env.info.cometchat.apps[0].rest_api_key.clone();
    let mut secrets: Vec<&str> = issued.iter().map(String::as_str).collect();
    secrets.push(&app_key);
    env.assert_no_leak(&secrets);
    forget_connection_secrets(&env);
}

#[test]
fn on_a_terminal_destructive_commands_ask_and_prod_wants_the_name_typed() {
    let Some(env) = env() else { return };
    env.add_app("Shop");
    let created = env
        .run(&[
            "keys", "create", "--name", "tty-bot", "--scope", "authOnly", "--output", "json",
        ])
        .ok()
        .json();
    let key = created["key"].as_str().unwrap().to_owned();
    let listed = |env: &Env| env.run(&["keys", "list"]).ok().stdout.contains("tty-bot");

    let no = env.run_on_terminal(&["keys", "delete", "tty-bot"], "n\n");
    assert_eq!(no.code, 1, "{no:?}");
    assert!(no.stdout.contains("Delete"), "it asked: {}", no.stdout);
    assert!(no.stdout.contains("[y/N]"), "{}", no.stdout);
    assert!(
        no.stdout.contains("Cancelled: nothing was changed"),
        "{}",
        no.stdout
    );
    assert!(listed(&env), "answering no keeps the key");
    let enter = env.run_on_terminal(&["keys", "delete", "tty-bot"], "\n");
    assert_eq!(enter.code, 1, "the default is no: {enter:?}");
    assert!(listed(&env));
    let yes = env.run_on_terminal(&["keys", "delete", "tty-bot"], "y\n");
    assert_eq!(yes.code, 0, "{yes:?}");
    assert!(!listed(&env), "answering yes deletes it");

    // A prod connection to the same app: y is not enough, the name must be typed.
    let app = &env.info.cometchat.apps[0];
    env.run_with(
        &[
            "connections",
            "add",
            "--name",
            "Live",
            "--kind",
            "cometchat-app",
            "--app-id",
            &app.app_id,
            "--base-url",
            &app.base_url,
            "--env",
            "prod",
            "--secret-stdin",
        ],
        &format!("{}\n", app.rest_api_key),
    )
    .ok();
    env.run(&["users", "create", "cli-carol", "--name", "Carol"])
        .ok();
    let delete = ["--connection", "Live", "users", "delete", "cli-carol"];
    let y = env.run_on_terminal(&delete, "y\n");
    assert_eq!(y.code, 1, "{y:?}");
    assert!(
        y.stdout
            .contains("This is a prod connection. Type cli-carol to confirm"),
        "{}",
        y.stdout
    );
    assert_eq!(
        env.run(&["users", "get", "cli-carol"]).code,
        0,
        "still there"
    );
    let typo = env.run_on_terminal(&delete, "cli-caro\n");
    assert_eq!(typo.code, 1, "{typo:?}");
    assert_eq!(
        env.run(&["users", "get", "cli-carol"]).code,
        0,
        "still there"
    );
    env.run_on_terminal(&delete, "cli-carol\n").ok();
    assert_eq!(env.run(&["users", "get", "cli-carol"]).code, 2, "deleted");

    let remove = ["connections", "remove", "Live"];
    let y = env.run_on_terminal(&remove, "y\n");
    assert_eq!(y.code, 1, "{y:?}");
    assert!(env.run(&["connections", "test", "Live"]).code == 0, "kept");
    env.run_on_terminal(&remove, "Live\n").ok();
    assert_eq!(env.run(&["connections", "test", "Live"]).code, 2, "removed");

    env.assert_no_leak(&[&key, &app.rest_api_key]);
    forget_connection_secrets(&env);
}

#[test]
fn scan_finds_the_key_a_connection_stores_and_prints_only_its_mask() {
    let Some(env) = env() else { return };
    env.add_app("Shop");
    let key = env.info.cometchat.apps[0].rest_api_key.clone();
    let tree = env.dir.path().join("checkout");
    std::fs::create_dir_all(tree.join("src")).unwrap();
    std::fs::write(
        tree.join("src/client.js"),
        format!("// the client\nconst app = init({{\n  apiKey: \"{key}\",\n}});\n"),
    )
    .unwrap();
    std::fs::write(tree.join(".gitignore"), "local/\n").unwrap();
    std::fs::create_dir_all(tree.join("local")).unwrap();
    std::fs::write(tree.join("local/secrets.txt"), &key).unwrap();
    let tree_arg = tree.display().to_string();

    let found = env.run(&["scan", &tree_arg]);
    assert_eq!(found.code, 6, "a secret found: exit 6 {found:?}");
    let masked = Secret::new(key.clone()).masked();
    let line = found
        .stdout
        .lines()
        .find(|l| l.contains("client.js"))
        .unwrap_or_else(|| panic!("no finding printed: {found:?}"));
    assert!(line.contains("src/client.js:3:12"), "{line}");
    assert!(line.contains("CometChat API key"), "{line}");
    assert!(line.contains(&masked), "{line}");
    assert!(line.contains("Shop (REST API key)"), "{line}");
    assert!(
        !found.stdout.contains("local/secrets.txt"),
        "a .gitignored file is not scanned: {found:?}"
    );
    assert!(found.stderr.contains("1 match in 1 file"), "{found:?}");

    let json = env.run(&["scan", &tree_arg, "--output", "json"]);
    assert_eq!(json.code, 6, "{json:?}");
    let v = json.json();
    assert_eq!(v["outcome"], "completed");
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
    assert_eq!(v["findings"][0]["line"], 3);
    assert_eq!(v["findings"][0]["column"], 12);
    assert_eq!(v["findings"][0]["masked"], masked.as_str());
    assert_eq!(v["findings"][0]["origins"][0]["connection"], "Shop");

    std::fs::remove_file(tree.join("src/client.js")).unwrap();
    let clean = env.run(&["scan", &tree_arg]);
    assert_eq!(clean.code, 0, "nothing found: exit 0 {clean:?}");
    assert!(clean.stderr.contains("no secret found"), "{clean:?}");
    let missing = env.run(&["scan", &format!("{tree_arg}/nope")]);
    assert_eq!(missing.code, 2, "{missing:?}");

    let scans: Vec<keydeck::audit::Record> = env
        .audit()
        .into_iter()
        .filter(|r| r.action == "scan.completed")
        .collect();
    assert_eq!(scans.len(), 3, "{scans:?}");
    assert!(scans.iter().all(|r| r.via() == "cli" && r.outcome == "ok"));
    assert!(scans[0].target.contains("1 match ("), "{:?}", scans[0]);
    assert!(scans[2].target.contains("0 matches"), "{:?}", scans[2]);
    for run in env.runs.borrow().iter() {
        assert!(!run.stdout.contains(&key), "the key on stdout: {run:?}");
    }
    env.assert_no_leak(&[&key]);
    forget_connection_secrets(&env);
}

#[test]
fn users_are_exported_page_by_page_to_csv_or_json_and_never_with_a_token() {
    let Some(env) = env() else { return };
    env.add_app("Support");
    env.run(&["users", "create", "exp-ada", "--name", "=Ada, Countess"])
        .ok();
    let issued = env
        .run(&[
            "tokens", "issue", "exp-ada", "--force", "--reveal", "--output", "json",
        ])
        .ok()
        .json();
    let token = issued["token"]
        .as_str()
        .expect("the token, revealed")
        .to_owned();
    let total = env.run(&["users", "list", "--output", "json"]).ok().json()["total"]
        .as_u64()
        .unwrap();
    assert!(total >= 1);

    let csv = env.dir.path().join("users.csv");
    let run = env
        .run(&["users", "export", &csv.display().to_string()])
        .ok();
    assert!(
        run.stdout.contains(&format!("Exported {total} user")),
        "{run:?}"
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count() as u64, total + 1, "{text}");
    assert!(
        text.contains("exp-ada,\"'=Ada, Countess\""),
        "a formula is escaped: {text}"
    );
    assert!(!text.contains(&token), "no token in the export");

    let json = env.dir.path().join("users.json");
    let v = env
        .run(&[
            "users",
            "export",
            &json.display().to_string(),
            "--output",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(v["exported"].as_u64(), Some(total));
    assert_eq!(v["format"], "json");
    let users: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(users.len() as u64, total);

    // A folder that does not exist: a plain error, exit 1, nothing written.
    let nowhere = env.dir.path().join("nowhere/users.csv");
    let bad = env.run(&["users", "export", &nowhere.display().to_string()]);
    assert_eq!(bad.code, 1, "{bad:?}");
    assert!(bad.stderr.contains("could not write"), "{bad:?}");
}
