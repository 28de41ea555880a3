//! The leak scan (`core::hygiene::scan`) on generated trees with planted secrets: which it finds
//! and where, which it does not and why (ignored folder, binary, wrapped over two lines, too
//! large, inside `.git`), cancellation, and that neither its results nor its audit record hold
//! a planted value. The command line's `keydeck scan` is in `tests/cli_flow.rs` (it needs the
//! keychain). Auth tokens issued in this session (against the sandbox) are looked for too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use keydeck::audit::AuditLog;
use keydeck::config::{Connection, ConnectionKind, Environment};
use keydeck::core::hygiene::scan::{
    self, Origin, Outcome, Progress, ScanError, ScanOptions, ScanReport, Scanner, Target,
};
use keydeck::core::recorder::Recorder;
use keydeck::secret::Secret;
use keydeck::vault::Vault;

/// A CometChat REST API key (40 hex characters) and an Ably access token.
const KEY: &str = "3f9c2a7be41d08c65a1e9f4b7d2c8e0a16b5f3d9";
const TOKEN: &str = "AblyTok_q8Zr4mN2vX7pL1sK9wE3yT6uH0jG5cFb";
/// Refused: too short to look for.
const SHORT: &str = "abc123";

fn origin(conn: &str, item: &str) -> Origin {
    Origin {
        connection_id: format!("id-{conn}"),
        connection: conn.to_owned(),
        item: item.to_owned(),
    }
}

fn targets() -> Vec<Target> {
    vec![
        Target::new(
            Secret::new(KEY),
            "CometChat API key",
            origin("Shop", "REST API key"),
        ),
        // The same key stored by a second connection: one match, both origins.
        Target::new(
            Secret::new(KEY),
            "CometChat API key",
            origin("Shop staging", "REST API key"),
        ),
        Target::new(
            Secret::new(TOKEN),
            "Ably access token",
            origin("Ably", "Access token"),
        ),
        Target::new(Secret::new(SHORT), "auth token", origin("Shop", "alice")),
    ]
}

fn write(root: &Path, rel: &str, bytes: &[u8]) -> PathBuf {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

const LIMIT: u64 = 64 * 1024;

/// A checkout with the secrets planted where they are found and where they are not.
fn planted_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // Found: line 2, column 12 (1-based bytes), and twice on line 4 of another file.
    write(
        root,
        "src/settings.txt",
        format!("# settings\napi_key = \"{KEY}\"\nregion = \"eu\"\n").as_bytes(),
    );
    write(
        root,
        "docs/notes.md",
        format!("one\ntwo\nthree\nkeys: {KEY} and {TOKEN}\n").as_bytes(),
    );
    // Found: a hidden file is scanned (`.env` is where keys leak).
    write(root, ".env", format!("ABLY_TOKEN={TOKEN}\n").as_bytes());
    // Not found: a nested folder that .gitignore names.
    write(root, ".gitignore", b"build-output/\n");
    write(
        root,
        "build-output/deep/nested/cache.txt",
        format!("{KEY}\n").as_bytes(),
    );
    // Not found: a folder named in `.ignore` (the walker reads it too).
    write(root, ".ignore", b"vendor/\n");
    write(
        root,
        "vendor/lib/readme.txt",
        format!("{TOKEN}\n").as_bytes(),
    );
    // Not found, counted as binary: a NUL byte in the first 8 KiB.
    let mut binary = b"\x7fELF\x02\x01\x01\x00\x00".to_vec();
    binary.extend_from_slice(KEY.as_bytes());
    write(root, "bin/tool", &binary);
    // Not found: wrapped over two lines, as a PEM-style block or a long line folded by an editor.
    let (a, b) = KEY.split_at(20);
    write(root, "wrapped.txt", format!("key:\n{a}\n{b}\n").as_bytes());
    // Not found, counted as too large: over the limit.
    let mut large = format!("{KEY}\n").into_bytes();
    large.resize(LIMIT as usize + 1, b'x');
    write(root, "logs/huge.log", &large);
    // Not found: git's own folder (compressed objects; the checkout is what is scanned).
    write(
        root,
        ".git/config",
        format!("[remote]\n  token = {KEY}\n").as_bytes(),
    );
    // Not found: the short value refused is everywhere.
    write(root, "short.txt", format!("{SHORT} {SHORT}\n").as_bytes());
    dir
}

fn options() -> ScanOptions {
    ScanOptions {
        max_file_bytes: LIMIT,
        ..ScanOptions::default()
    }
}

fn run(root: &Path) -> ScanReport {
    let progress = Progress::default();
    let report = scan::scan(
        root,
        &targets(),
        options(),
        &progress,
        &AtomicBool::new(false),
    )
    .unwrap();
    let p = progress.snapshot();
    assert_eq!(p.files_scanned, report.files_scanned);
    assert_eq!(p.matches, report.findings.len() as u64);
    report
}

/// Where each finding is, relative to the root: (path, line, column, kind).
fn places(report: &ScanReport) -> Vec<(String, u64, u64, &str)> {
    report
        .findings
        .iter()
        .map(|f| {
            let rel = f.path.strip_prefix(&report.root).unwrap();
            (
                rel.to_string_lossy().into_owned(),
                f.line,
                f.column,
                f.kind.as_str(),
            )
        })
        .collect()
}

fn assert_no_planted_value(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for value in [KEY, TOKEN, &KEY[..20], &KEY[20..]] {
        assert!(
            !text.contains(value),
            "{what} holds a planted value: {text}"
        );
    }
}

#[test]
fn planted_secrets_are_found_at_their_line_and_column_and_only_where_they_should_be() {
    let tree = planted_tree();
    let report = run(tree.path());
    assert_eq!(report.outcome, Outcome::Completed);
    assert_eq!(
        places(&report),
        [
            (".env".to_owned(), 1, 12, "Ably access token"),
            ("docs/notes.md".to_owned(), 4, 7, "CometChat API key"),
            ("docs/notes.md".to_owned(), 4, 52, "Ably access token"),
            ("src/settings.txt".to_owned(), 2, 12, "CometChat API key"),
        ],
        "not in build-output/ (.gitignore), vendor/ (.ignore), bin/tool (binary), wrapped.txt \
         (over two lines), logs/huge.log (too large) or .git/"
    );
    let first = &report.findings[3];
    assert_eq!(first.byte_offset, "# settings\napi_key = \"".len() as u64);
    assert_eq!(first.masked, Secret::new(KEY).masked());
    assert_eq!(first.masked, "3f9c…");
    assert_eq!(
        first.origins,
        [
            origin("Shop", "REST API key"),
            origin("Shop staging", "REST API key")
        ],
        "a value stored twice is reported once, with both origins"
    );
    assert_eq!(report.skipped_binary, 1);
    assert_eq!(report.skipped_large, 1);
    assert_eq!(report.unreadable, 0);
    assert_eq!(report.secrets, 2, "the key (stored twice) and the token");
    // settings, notes, .env, .gitignore, .ignore, wrapped, short: the ignored and skipped are not.
    assert_eq!(report.files_scanned, 7);
    assert_eq!(report.refused.len(), 1);
    assert_eq!(report.refused[0].kind, "auth token");
    assert!(
        report.refused[0].reason.contains("shorter than 8"),
        "{:?}",
        report.refused[0]
    );
    assert!(!report.is_clean());

    // Nothing the scan returns holds a planted value, printed any way.
    assert_no_planted_value("the report", format!("{report:?}").as_bytes());
    assert_no_planted_value(
        "the report's audit target",
        report.audit_target().as_bytes(),
    );
    assert_no_planted_value("a target", format!("{:?}", targets()).as_bytes());
    let scanner = Scanner::new(&targets(), options()).unwrap();
    assert_no_planted_value("the scanner", format!("{scanner:?}").as_bytes());
    assert!(!format!("{report:?}").contains(SHORT));
}

#[test]
fn a_gitignore_applies_in_a_git_checkout_and_outside_one_alike() {
    let tree = planted_tree();
    std::fs::create_dir_all(tree.path().join(".git/objects")).unwrap();
    let in_checkout = run(tree.path());
    std::fs::remove_dir_all(tree.path().join(".git")).unwrap();
    let plain_folder = run(tree.path());
    assert_eq!(places(&in_checkout), places(&plain_folder));
    assert!(
        !places(&plain_folder)
            .iter()
            .any(|p| p.0.starts_with("build-output"))
    );
}

#[test]
fn a_single_file_can_be_scanned_and_a_missing_folder_is_an_error() {
    let tree = planted_tree();
    let report = run(&tree.path().join("src/settings.txt"));
    assert_eq!(report.findings.len(), 1);
    assert_eq!(
        (report.findings[0].line, report.findings[0].column),
        (2, 12)
    );
    let missing = scan::scan(
        &tree.path().join("nope"),
        &targets(),
        options(),
        &Progress::default(),
        &AtomicBool::new(false),
    );
    assert!(
        matches!(missing, Err(ScanError::BadRoot { .. })),
        "{missing:?}"
    );
}

#[test]
fn short_secrets_are_refused_and_with_none_left_there_is_nothing_to_scan_for() {
    let only_short = [Target::new(
        Secret::new(SHORT),
        "auth token",
        origin("Shop", "alice"),
    )];
    let err = Scanner::new(&only_short, ScanOptions::default()).unwrap_err();
    assert!(matches!(err, ScanError::NothingToFind(_)), "{err:?}");
    assert!(err.to_string().contains("refused"), "{err}");
    assert!(!err.to_string().contains(SHORT));
    let err = Scanner::new(&[], ScanOptions::default()).unwrap_err();
    assert!(err.to_string().contains("holds none"), "{err}");
}

#[test]
fn a_scan_cancelled_before_it_starts_reads_nothing_and_says_cancelled() {
    let tree = planted_tree();
    let progress = Progress::default();
    let report = scan::scan(
        tree.path(),
        &targets(),
        options(),
        &progress,
        &AtomicBool::new(true),
    )
    .unwrap();
    assert_eq!(report.outcome, Outcome::Cancelled);
    assert_eq!(report.files_scanned, 0);
    assert!(report.findings.is_empty());
}

#[test]
fn a_scan_cancelled_midway_stops_and_keeps_what_it_found() {
    let dir = tempfile::tempdir().unwrap();
    let files = 4_000;
    for i in 0..files {
        let text = if i % 100 == 0 {
            format!("line one\nuses {KEY}\n")
        } else {
            format!("nothing here {i}\n").repeat(64)
        };
        write(
            dir.path(),
            &format!("d{:02}/f{i:05}.txt", i % 40),
            text.as_bytes(),
        );
    }
    let scanner = Scanner::new(&targets(), options()).unwrap();
    let progress = Arc::new(Progress::default());
    let cancel = Arc::new(AtomicBool::new(false));
    let report = std::thread::scope(|s| {
        s.spawn(|| {
            while progress.snapshot().files_scanned < 50 {
                std::thread::yield_now();
            }
            cancel.store(true, Ordering::SeqCst);
        });
        scanner.scan(dir.path(), &progress, &cancel).unwrap()
    });
    assert_eq!(report.outcome, Outcome::Cancelled);
    assert!(report.files_scanned >= 50, "{}", report.files_scanned);
    assert!(
        report.files_scanned < files,
        "it stopped early: {} of {files}",
        report.files_scanned
    );
    assert!(report.findings.iter().all(|f| f.line == 2 && f.column == 6));
    assert_eq!(progress.snapshot().matches, report.findings.len() as u64);
}

#[test]
fn the_audit_record_names_the_folder_and_counts_and_holds_no_value() {
    let tree = planted_tree();
    let report = run(tree.path());
    let logs = tempfile::tempdir().unwrap();
    let path = logs.path().join("audit.jsonl");
    let rec = Recorder::new(AuditLog::open(&path, &Vault::memory()).map_err(|e| e.to_string()))
        .via("cli");
    scan::record(&rec, &report);
    for _ in 0..500 {
        if rec.is_idle() && path.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let records = keydeck::audit::read_all(&path).unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].action, "scan.completed");
    assert_eq!(records[0].outcome, "ok");
    assert!(
        records[0]
            .target
            .starts_with(&tree.path().display().to_string())
    );
    assert!(
        records[0].target.contains("7 files scanned, 4 matches"),
        "{}",
        records[0].target
    );
    assert_no_planted_value("the audit file", &std::fs::read(&path).unwrap());
}

#[test]
fn the_secrets_held_for_each_connection_are_named_by_kind_and_origin() {
    let conn = |id: &str, label: &str, kind: ConnectionKind| Connection {
        id: id.to_owned(),
        label: label.to_owned(),
        kind,
        environment: Environment::Prod,
        base_url: None,
        embedded_sandbox: false,
    };
    let connections = [
        conn(
            "c1",
            "Shop",
            ConnectionKind::CometChatApp {
                app_id: "a1".into(),
                region: "eu".into(),
            },
        ),
        conn("m1", "Org", ConnectionKind::Management),
        conn(
            "a1",
            "Ably",
            ConnectionKind::AblyAccount {
                account_id: None,
                app_id: None,
            },
        ),
        conn("x1", "Empty", ConnectionKind::Cometly),
    ];
    let secrets: HashMap<String, Secret> = [
        (Vault::account("c1", "api_key"), KEY),
        (Vault::account("m1", "key"), "mgmt-key-0001"),
        (Vault::account("m1", "secret"), "mgmt-secret-0002"),
        (Vault::account("a1", "access_token"), TOKEN),
    ]
    .into_iter()
    .map(|(k, v)| (k, Secret::new(v)))
    .collect();
    let held = scan::held_secrets(&connections, &secrets, &[]);
    let named: Vec<(&str, &str, &str)> = held
        .iter()
        .map(|t| {
            (
                t.kind.as_str(),
                t.origin.connection.as_str(),
                t.origin.item.as_str(),
            )
        })
        .collect();
    assert_eq!(
        named,
        [
            ("CometChat API key", "Shop", "REST API key"),
            ("management key", "Org", "Key"),
            ("management secret", "Org", "Secret"),
            ("Ably access token", "Ably", "Access token"),
        ],
        "the Cometly connection stores nothing, so nothing is looked for"
    );
    assert_eq!(held[0].origin.connection_id, "c1");
    assert_eq!(held[0].masked(), "3f9c…");
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_tokens_issued_this_session_are_found_with_their_user_and_only_masked() {
    use keydeck::core::ops::{tokens, users};
    use keydeck::providers::cometchat::{NewAuthToken, NewUser};

    let sb = common::sandbox().await;
    let client = common::full_client(&sb);
    let logs = tempfile::tempdir().unwrap();
    let audit = logs.path().join("audit.jsonl");
    let rec = Recorder::new(AuditLog::open(&audit, &Vault::memory()).map_err(|e| e.to_string()));
    let shop = Connection {
        id: "c-shop".to_owned(),
        label: "Shop".to_owned(),
        kind: ConnectionKind::CometChatApp {
            app_id: common::endpoint(&sb).app_id,
            region: "us".to_owned(),
        },
        environment: Environment::Dev,
        base_url: None,
        embedded_sandbox: false,
    };
    let through_shop = rec.for_profile(&shop);

    // Issued three ways: with a new user, one by one, and in a bulk run.
    let alice = users::create(
        &client,
        &through_shop,
        &NewUser {
            uid: "alice".to_owned(),
            name: "Alice".to_owned(),
            with_auth_token: true,
            ..NewUser::default()
        },
    )
    .await
    .unwrap()
    .auth_token
    .expect("a first token");
    for uid in ["bob", "carol"] {
        client
            .create_user(&NewUser {
                uid: uid.to_owned(),
                name: uid.to_owned(),
                ..NewUser::default()
            })
            .await
            .unwrap();
    }
    let bob = tokens::issue(&client, &through_shop, "bob", &NewAuthToken::default())
        .await
        .unwrap()
        .auth_token;
    let mut carol = None;
    tokens::issue_many(
        &client,
        &through_shop,
        vec![(0, "carol".to_owned())],
        1,
        std::sync::Arc::new(AtomicBool::new(false)),
        |_, r| {
            carol = r.ok();
            true
        },
    )
    .await;
    let carol = carol.expect("carol's token");
    let issued = rec.issued_tokens();
    assert_eq!(
        issued.len(),
        3,
        "every clone of the recorder shares the list"
    );

    // Planted in a checkout: alice's and carol's; bob's is nowhere.
    let tree = tempfile::tempdir().unwrap();
    write(
        tree.path(),
        "scripts/login.sh",
        format!("#!/bin/sh\n# alice\nTOKEN={}\n", alice.expose()).as_bytes(),
    );
    write(
        tree.path(),
        "fixtures/carol.json",
        format!("{{\"authToken\": \"{}\"}}\n", carol.expose()).as_bytes(),
    );
    let targets = scan::held_secrets(&[], &HashMap::new(), &issued);
    assert_eq!(targets.len(), 3);
    let report = scan::scan(
        tree.path(),
        &targets,
        options(),
        &Progress::default(),
        &AtomicBool::new(false),
    )
    .unwrap();
    let found: Vec<(&str, u64, &str, &str, &str)> = report
        .findings
        .iter()
        .map(|f| {
            (
                f.path.file_name().unwrap().to_str().unwrap(),
                f.line,
                f.kind.as_str(),
                f.origins[0].connection_id.as_str(),
                f.origins[0].item.as_str(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "carol.json",
                1,
                scan::AUTH_TOKEN,
                "c-shop",
                "auth token of user carol, issued this session"
            ),
            (
                "login.sh",
                3,
                scan::AUTH_TOKEN,
                "c-shop",
                "auth token of user alice, issued this session"
            ),
        ]
    );
    assert_eq!(report.findings[1].masked, alice.masked());
    assert_eq!(report.findings[1].origins[0].connection, "Shop");

    // Nothing the scan returns, the recorder prints or the trail holds has a token in it.
    scan::record(&rec, &report);
    for _ in 0..500 {
        if rec.is_idle() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let trail = std::fs::read_to_string(&audit).unwrap();
    assert!(trail.contains("token.issued") && trail.contains("scan.completed"));
    for (what, text) in [
        ("the report", format!("{report:?}")),
        ("the issued list", format!("{issued:?}")),
        ("the targets", format!("{targets:?}")),
        ("the trail", trail),
    ] {
        for token in [&alice, &bob, &carol] {
            assert!(
                !text.contains(token.expose()),
                "{what} holds a token: {text}"
            );
        }
    }
}
