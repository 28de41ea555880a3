//! The leak test: a scripted session through the whole app (kittest, a real sandbox over
//! loopback, the in-memory keychain) that adds a connection with a typed key, creates and
//! rotates a key, issues a token, reveals and copies secrets and exports the activity.
//! Afterwards every file the app wrote under its config and data directories, the persisted
//! UI state and everything it logged are searched for every secret value used: zero hits.
//!
//! The scan is checked against planted secrets first, so the test can fail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

mod support;
mod ui_common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use egui_kittest::kittest::Queryable;
use futures::FutureExt;
use futures::future::BoxFuture;
use keydeck::config::{Config, Environment};
use keydeck::providers::cometchat::NewUser;
use keydeck::ui::Tab;
use keydeck::ui::clipboard::MemoryClipboard;
use keydeck::ui::file_dialog::Picked;
use keydeck::ui::tabs::activity::{self, ExportFormat};
use keydeck::ui::tabs::users::FilePicker;
use keydeck::ui::tabs::users::bulk::Outcome;
use ui_common::{KeyChoice, click, fixture, press, row, settle, step_until, type_into};

const WAIT: Duration = Duration::from_secs(20);

/// Where the app's log lines go during the test (after the app's own redaction).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Hands out fixed paths instead of opening file dialogs.
struct FixedPaths {
    import: PathBuf,
    export: PathBuf,
}

impl FilePicker for FixedPaths {
    fn pick_import(&self) -> BoxFuture<'static, Picked> {
        let p = self.import.clone();
        async move { Picked::Chosen(p) }.boxed()
    }

    fn pick_export(&self, _suggested: String) -> BoxFuture<'static, Picked> {
        let p = self.export.clone();
        async move { Picked::Chosen(p) }.boxed()
    }
}

/// eframe storage backed by a file, as the app's persisted UI state would be.
struct FileStorage(PathBuf, std::collections::BTreeMap<String, String>);

impl eframe::Storage for FileStorage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.1.get(key).cloned()
    }

    fn set_string(&mut self, key: &str, value: String) {
        self.1.insert(key.to_owned(), value);
    }

    fn remove_string(&mut self, key: &str) {
        self.1.remove(key);
    }

    fn flush(&mut self) {
        let text = serde_json::to_string(&self.1).expect("serialisable");
        std::fs::write(&self.0, text).expect("written");
    }
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Every (secret, where) found: in the files under `dirs` and in `texts`.
fn scan(dirs: &[&Path], texts: &[(&str, &str)], secrets: &[String]) -> Vec<(String, String)> {
    let mut hits = Vec::new();
    let mut files = Vec::new();
    for d in dirs {
        if d.exists() {
            files_under(d, &mut files);
        }
    }
    for f in &files {
        let bytes = std::fs::read(f).expect("readable file");
        let text = String::from_utf8_lossy(&bytes);
        for s in secrets {
            if text.contains(s.as_str()) {
                hits.push((keydeck::secret::mask(s), f.display().to_string()));
            }
        }
    }
    for (name, text) in texts {
        for s in secrets {
            if text.contains(s.as_str()) {
                hits.push((keydeck::secret::mask(s), (*name).to_owned()));
            }
        }
    }
    hits
}

#[test]
fn the_scan_finds_a_planted_secret_in_a_file_and_in_printed_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = "0123456789abcdef0123456789abcdef01234567".to_owned();
    std::fs::create_dir_all(dir.path().join("nested")).expect("dir");
    std::fs::write(
        dir.path().join("nested/planted.json"),
        format!("{{\"k\":\"{secret}\"}}"),
    )
    .expect("written");
    let hits = scan(
        &[dir.path()],
        &[("printed", &format!("log {secret}"))],
        std::slice::from_ref(&secret),
    );
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert!(scan(&[dir.path()], &[], &["absent-value-xyz".to_owned()]).is_empty());
}

#[test]
fn a_whole_session_leaves_no_secret_in_any_file_or_log_line() {
    let captured = Captured::default();
    keydeck::logging::init_with_writer(captured.clone(), "debug");

    let mut f = fixture(KeyChoice::FullAccess, Environment::Dev);
    // The Users tab draws symbols the test font lacks (as in the users flows).
    f.harness = egui_kittest::Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .allow_missing_glyphs()
        .build_ui_state(
            |ui, app: &mut keydeck::ui::KeydeckApp| app.ui_root(ui),
            ui_common::app(&f.rt, &f.dirs, f.vault.clone(), false),
        );
    let mem = MemoryClipboard::default();
    f.harness.state_mut().set_clipboard(mem.clone());
    let info = f.sandbox.info();
    let demo = info.cometchat.apps[0].clone();
    f.wait_for_keys();

    // 1. A connection with a typed key.
    f.select_tab(Tab::Connections);
    click(&mut f.harness, "New CometChat app…");
    type_into(&mut f.harness, "Label", "Typed key");
    type_into(&mut f.harness, "App id", &demo.app_id);
    type_into(&mut f.harness, "REST API key", &demo.rest_api_key);
    type_into(
        &mut f.harness,
        "Base URL override (optional)",
        &demo.base_url,
    );
    click(&mut f.harness, "Save");
    let config_dir = f.dirs.path().join("config");
    step_until(
        &mut f.harness,
        "the connection is saved",
        |_| Config::load(&config_dir).is_ok_and(|c| c.connections.len() == 2),
        WAIT,
    );

    // 2. Create a key, reveal and copy it, rotate it.
    f.select_tab(Tab::Keys);
    f.wait_for_keys();
    click(&mut f.harness, "New API key…");
    type_into(&mut f.harness, "Name", "leak-bot");
    click(&mut f.harness, "Create key");
    step_until(
        &mut f.harness,
        "the created key is shown",
        |h| h.query_by_label("API key created").is_some(),
        WAIT,
    );
    press(&mut f.harness, "Done");
    let created = f.server_key("leak-bot").expect("created on the server");
    f.wait_for_key("leak-bot");
    click(&mut f.harness, &format!("Reveal key {}", row(&created)));
    click(&mut f.harness, &format!("Copy key {}", row(&created)));
    step_until(
        &mut f.harness,
        "the key is on the clipboard",
        |_| mem.contents().as_deref() == Some(created.api_key.expose()),
        WAIT,
    );
    click(&mut f.harness, &format!("Rotate {}", row(&created)));
    click(&mut f.harness, "1 day");
    click(&mut f.harness, "Create replacement");
    step_until(
        &mut f.harness,
        "the replacement is shown",
        |h| {
            h.query_by_label("Replacement for leak-bot created")
                .is_some()
        },
        WAIT,
    );
    press(&mut f.harness, "Done");
    settle(&mut f.harness);

    // 3. Issue a token, reveal and copy it.
    let admin = f.admin();
    f.rt.block_on(admin.create_user(&NewUser {
        uid: "leaky".to_owned(),
        name: "Leaky User".to_owned(),
        ..NewUser::default()
    }))
    .expect("user created");
    f.select_tab(Tab::Users);
    step_until(
        &mut f.harness,
        "the user is listed",
        |h| h.query_by_label("Leaky User").is_some(),
        WAIT,
    );
    click(&mut f.harness, "Leaky User");
    step_until(
        &mut f.harness,
        "the user's tokens are shown",
        |h| h.query_by_label("Auth tokens (0)").is_some(),
        WAIT,
    );
    click(&mut f.harness, "Issue token");
    step_until(
        &mut f.harness,
        "the token is listed",
        |h| h.query_by_label("Auth tokens (1)").is_some(),
        WAIT,
    );
    let token =
        f.rt.block_on(admin.list_auth_tokens("leaky", None, None))
            .expect("tokens")
            .items
            .remove(0)
            .auth_token;
    click(
        &mut f.harness,
        &format!("Hide auth token {}", token.masked()),
    );
    click(
        &mut f.harness,
        &format!("Reveal auth token {}", token.masked()),
    );
    click(
        &mut f.harness,
        &format!("Copy auth token {}", token.masked()),
    );
    step_until(
        &mut f.harness,
        "the token is on the clipboard",
        |_| mem.contents().as_deref() == Some(token.expose()),
        WAIT,
    );

    // 4. A bulk run over three uids, its results exported without tokens.
    let bulk_uids = ["bulk-a", "bulk-b", "bulk-c"];
    for uid in bulk_uids {
        f.rt.block_on(admin.create_user(&NewUser {
            uid: uid.to_owned(),
            name: format!("Bulk {uid}"),
            ..NewUser::default()
        }))
        .expect("user created");
    }
    let import = f.dirs.path().join("uids.csv");
    std::fs::write(&import, bulk_uids.join("\n")).expect("import file");
    let bulk_export = f.dirs.path().join("data/bulk-results.csv");
    f.harness
        .state_mut()
        .tabs
        .users
        .bulk
        .set_file_picker(Arc::new(FixedPaths {
            import,
            export: bulk_export.clone(),
        }));
    click(&mut f.harness, "Bulk tokens");
    step_until(
        &mut f.harness,
        "the bulk view",
        |h| h.query_by_label("Import file…").is_some(),
        WAIT,
    );
    click(&mut f.harness, "Import file…");
    step_until(
        &mut f.harness,
        "the preview",
        |h| h.query_by_label("Issue 3 tokens").is_some(),
        WAIT,
    );
    click(&mut f.harness, "Issue 3 tokens");
    step_until(
        &mut f.harness,
        "the bulk run",
        |h| h.query_by_label("Issued 3 tokens").is_some(),
        WAIT,
    );
    let bulk_tokens: Vec<String> = f
        .harness
        .state()
        .tabs
        .users
        .bulk
        .rows()
        .iter()
        .filter_map(|r| match &r.outcome {
            Some(Outcome::Issued(t)) => Some(t.expose().to_owned()),
            _ => None,
        })
        .collect();
    assert_eq!(bulk_tokens.len(), 3);
    f.harness
        .state()
        .tabs
        .users
        .bulk
        .export_to(bulk_export.clone(), false)
        .expect("exported without tokens");

    // 5. Presentation mode, the Activity window and an export of it.
    ui_common::toggle_presentation(&mut f.harness);
    click(&mut f.harness, "Activity…");
    click(&mut f.harness, "Copy diagnostics");
    step_until(
        &mut f.harness,
        "the diagnostics are on the clipboard",
        |_| mem.contents().is_some_and(|t| t.starts_with("Keydeck ")),
        WAIT,
    );
    let diagnostics = mem.contents().unwrap_or_default();
    let export = f.dirs.path().join("data/activity-export.jsonl");
    activity::export(
        f.harness.state().activity.records(),
        ExportFormat::JsonLines,
        &export,
    )
    .expect("exported");

    // 6. The persisted UI state.
    let mut storage = FileStorage(config_dir.join("ui-state.json"), Default::default());
    eframe::App::save(f.harness.state_mut(), &mut storage);
    eframe::Storage::flush(&mut storage);
    for _ in 0..5 {
        f.harness.step();
    }

    // Every secret value of the session.
    let mut secrets = vec![
        demo.rest_api_key.clone(),
        demo.auth_key.clone(),
        info.cometchat.management.key.clone(),
        info.cometchat.management.secret.clone(),
        token.expose().to_owned(),
    ];
    for k in f.server_keys() {
        secrets.push(k.api_key.expose().to_owned());
    }
    for t in
        f.rt.block_on(admin.list_auth_tokens("leaky", None, None))
            .expect("tokens")
            .items
    {
        secrets.push(t.auth_token.expose().to_owned());
    }
    secrets.extend(bulk_tokens);
    for uid in bulk_uids {
        for t in
            f.rt.block_on(admin.list_auth_tokens(uid, None, None))
                .expect("tokens")
                .items
        {
            secrets.push(t.auth_token.expose().to_owned());
        }
    }
    secrets.sort();
    secrets.dedup();
    assert!(secrets.len() >= 10, "keys and tokens were collected");

    // Everything the app writes in the background (audit records, keychain, config) lands first.
    step_until(
        &mut f.harness,
        "the background writes land",
        |h| h.state().is_settled(),
        Duration::from_secs(10),
    );
    let audit = std::fs::read_to_string(f.dirs.path().join("data/audit.jsonl")).expect("audit");
    for action in [
        "connection.added",
        "key.created",
        "key.revealed",
        "secret.copied",
        "key.rotated",
        "token.issued",
        "token.revealed",
    ] {
        assert!(audit.contains(action), "{action} is in the audit trail");
    }

    let printed = captured.text();
    assert!(!printed.is_empty(), "the app's log was captured");
    for written in [
        Config::path(&config_dir),
        config_dir.join("ui-state.json"),
        f.dirs.path().join("data/audit.jsonl"),
        export,
        bulk_export,
    ] {
        assert!(
            written.exists(),
            "{} is among the scanned files",
            written.display()
        );
    }
    let hits = scan(
        &[&f.dirs.path().join("config"), &f.dirs.path().join("data")],
        &[
            ("the log output", &printed),
            ("the copied diagnostics", &diagnostics),
        ],
        &secrets,
    );
    assert!(hits.is_empty(), "secrets found (masked): {hits:?}");
}
