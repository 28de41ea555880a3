//! Every file Keydeck writes is private to the account on Unix: folders 0700, files 0600, even
//! under the usual umask 022 (which gives 0755 folders and 0644 files to anything created with
//! the default mode).
//!
//! The umask is process-wide and setting it needs `unsafe` (libc), so the outer test runs the
//! inner one in a child process of this same test binary, started by `sh` after `umask 022`.
//! The inner test first checks that the umask is in effect (a plain `File::create` gives 0644),
//! so it cannot pass for the wrong reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use keydeck::audit::{AuditLog, Event};
use keydeck::config::{Config, Connection, ConnectionKind, Environment};
use keydeck::providers::cometchat::{AppEndpoint, CometChatClient, NewApiKey, Scope};
use keydeck::sandbox::{Sandbox, SandboxOptions};
use keydeck::secret::Secret;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn assert_private_dir(path: &Path) {
    assert_eq!(mode(path), 0o700, "{} is not 0700", path.display());
}

fn assert_private_file(path: &Path) {
    assert_eq!(mode(path), 0o600, "{} is not 0600", path.display());
}

#[test]
fn every_file_keydeck_writes_is_private_under_umask_022() {
    let exe = std::env::current_exe().expect("test binary");
    let xdg = tempfile::tempdir().expect("tempdir");
    let out = Command::new("sh")
        .arg("-c")
        .arg(r#"umask 022 && exec "$0" "$@""#)
        .arg(exe)
        .args([
            "--ignored",
            "--exact",
            "inner_files_are_created_private",
            "--test-threads=1",
        ])
        .env("XDG_DATA_HOME", xdg.path())
        .output()
        .expect("the test binary runs again");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("1 passed"),
        "the inner test ran: {stdout}\n{stderr}"
    );
}

/// Run by the test above in a process whose umask is 022.
#[test]
#[ignore = "run by every_file_keydeck_writes_is_private_under_umask_022 under umask 022"]
fn inner_files_are_created_private() {
    let root = tempfile::tempdir().expect("tempdir");

    // The control: the umask is 022 here, so the default mode is 0644.
    let plain = root.path().join("plain.txt");
    std::fs::File::create(&plain).expect("create");
    assert_eq!(mode(&plain), 0o644, "the umask of this process is not 022");
    let plain_dir = root.path().join("plain-dir");
    std::fs::create_dir(&plain_dir).expect("mkdir");
    assert_eq!(mode(&plain_dir), 0o755);

    config_is_private(root.path());
    audit_is_private(root.path());
    logs_are_private(root.path());
    sandbox_files_are_private(root.path());
    eframe_state_is_private();
}

fn config_is_private(root: &Path) {
    let dir = root.join("config/nested");
    let config = Config {
        connections: vec![Connection {
            id: "c1".into(),
            label: "Shop".into(),
            kind: ConnectionKind::Management,
            environment: Environment::Dev,
            base_url: None,
            embedded_sandbox: false,
        }],
        ..Config::default()
    };
    // A temporary file left by a crash, with the default mode: not reused.
    std::fs::create_dir_all(&dir).expect("mkdir");
    let stale = dir.join(format!(".connections.json.{}.tmp", std::process::id()));
    std::fs::write(&stale, b"stale").expect("stale tmp");
    assert_eq!(mode(&stale), 0o644);
    config.save(&dir).expect("save");
    assert_private_file(&Config::path(&dir));
    assert!(!stale.exists());

    let fresh = root.join("config2/a/b");
    config.save(&fresh).expect("save");
    assert_private_dir(&root.join("config2"));
    assert_private_dir(&root.join("config2/a"));
    assert_private_dir(&fresh);
    assert_private_file(&Config::path(&fresh));
}

fn audit_is_private(root: &Path) {
    let dir = root.join("data-audit");
    let path = dir.join("audit.jsonl");
    let mut log = AuditLog::open(&path, &keydeck::vault::Vault::memory()).expect("open");
    log.append(&Event::ok("Demo", "key.created", "ci-bot (a1b2…)"))
        .expect("append");
    assert_private_dir(&dir);
    assert_private_file(&path);
}

fn logs_are_private(root: &Path) {
    use std::io::Write;
    let dir = root.join("data-logs/logs");
    let mut file = keydeck::logging::DailyFile::open(&dir).expect("open");
    file.write_all(b"a line\n").expect("write");
    assert_private_dir(&root.join("data-logs"));
    assert_private_dir(&dir);
    assert_private_file(&file.path());
}

fn sandbox_files_are_private(root: &Path) {
    let dir = root.join("data-sandbox");
    let db = dir.join("sandbox.sqlite3");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let sandbox = rt
        .block_on(Sandbox::start(SandboxOptions {
            port: 0,
            data: Some(db.clone()),
            seed_demo_users: false,
        }))
        .expect("sandbox");
    // A write, so that the WAL and its index hold the new key.
    let app = sandbox.info().cometchat.apps[0].clone();
    let client = CometChatClient::new(
        &AppEndpoint {
            app_id: app.app_id,
            region: app.region,
            base_url: Some(app.base_url),
        },
        Secret::new(app.rest_api_key),
    )
    .expect("client");
    let new = NewApiKey {
        name: "modes".into(),
        scope: Scope::AuthOnly,
    };
    rt.block_on(client.create_api_key(&new)).expect("create");
    assert_private_dir(&dir);
    for name in [
        "sandbox.sqlite3",
        "sandbox.sqlite3-wal",
        "sandbox.sqlite3-shm",
    ] {
        assert_private_file(&dir.join(name));
    }
    drop(sandbox);
}

/// eframe writes `app.ron` with `File::create` (eframe 0.37 `native/file_storage.rs`,
/// `save_to_disk`) into `eframe::storage_dir(app_id)`, here under `XDG_DATA_HOME`.
fn eframe_state_is_private() {
    let path = keydeck::paths::prepare_ui_state_file("keydeck")
        .expect("prepare")
        .expect("a storage folder on this platform");
    let dir = path.parent().expect("folder");
    assert!(
        path.starts_with(std::env::var_os("XDG_DATA_HOME").expect("set by the outer test")),
        "{}",
        path.display()
    );
    assert_private_dir(dir);
    assert_private_file(&path);
    assert_eq!(std::fs::read_to_string(&path).expect("read"), "{}");
    // What eframe does on each save: the file keeps its mode.
    std::fs::write(&path, "{\"keydeck-ui\": \"(tab: Keys)\"}").expect("eframe's write");
    assert_private_file(&path);
    // A second start leaves the saved state alone.
    keydeck::paths::prepare_ui_state_file("keydeck").expect("prepare again");
    assert!(
        std::fs::read_to_string(&path)
            .expect("read")
            .contains("Keys")
    );
}
