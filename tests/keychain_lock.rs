//! The session against a real gnome-keyring that is locked (by the Secret Service's D-Bus
//! `Lock` call): at start, and while the app runs. The session never waits on it: it says what
//! it knows (checking, unavailable with the keychain's own reason, stored), keeps secrets in
//! memory with a "not saved" mark instead of dropping them, and writes them once the keyring
//! is unlocked and the user tries again.
//!
//! Needs `scripts/test.sh` (a private session bus with gnome-keyring unlocked with the password
//! `keydeck-test`, `KEYDECK_REQUIRE_KEYCHAIN=1`); without it the test says it was skipped.
//! Without `DISPLAY` a locked keyring cannot show its prompt, so calls fail at once instead of
//! waiting, which is what lets this run unattended.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

use std::path::Path;
use std::process::{Command, Stdio};

use std::time::{Duration, Instant};

use keydeck::config::{Connection, ConnectionKind, Environment, FIELD_API_KEY};
use keydeck::core::recorder::Recorder;
use keydeck::core::session::{KeychainState, SecretState, Session};
use keydeck::secret::Secret;
use keydeck::vault::{Backend, Vault};

fn required() -> bool {
    std::env::var("KEYDECK_REQUIRE_KEYCHAIN").is_ok_and(|v| v == "1")
}

/// Locks the login collection through the Secret Service, as a screen locker would.
fn lock_keyring() {
    let status = Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            "array:objpath:/org/freedesktop/secrets/collection/login",
        ])
        .stdout(Stdio::null())
        .status()
        .expect("dbus-send (Debian: dbus)");
    assert!(status.success(), "the Lock call failed");
}

/// Unlocks it again with its password, as the user would in the prompt: gnome-keyring's own
/// D-Bus call for that, with the password sent in a plain Secret Service session.
fn unlock_keyring() {
    use zbus::zvariant::{ObjectPath, OwnedObjectPath, OwnedValue, Value};
    let conn = zbus::blocking::Connection::session().expect("session bus");
    let reply = conn
        .call_method(
            Some("org.freedesktop.secrets"),
            "/org/freedesktop/secrets",
            Some("org.freedesktop.Secret.Service"),
            "OpenSession",
            &("plain", Value::from("")),
        )
        .expect("OpenSession");
    let (_, session): (OwnedValue, OwnedObjectPath) = reply.body().deserialize().unwrap();
    let collection = ObjectPath::try_from("/org/freedesktop/secrets/collection/login").unwrap();
    let master = (
        session,
        Vec::<u8>::new(),
        b"keydeck-test".to_vec(),
        "text/plain",
    );
    conn.call_method(
        Some("org.freedesktop.secrets"),
        "/org/freedesktop/secrets",
        Some("org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface"),
        "UnlockWithMasterPassword",
        &(collection, master),
    )
    .expect("unlocking failed");
}

fn connection(id: &str) -> Connection {
    Connection {
        id: id.into(),
        label: format!("Locked test {id}"),
        kind: ConnectionKind::CometChatApp {
            app_id: "abc123".into(),
            region: "eu".into(),
        },
        environment: Environment::Dev,
        base_url: None,
        embedded_sandbox: false,
    }
}

/// Polls the session until `done`, as the window does every frame.
fn poll_until(s: &mut Session, what: &str, mut done: impl FnMut(&Session) -> bool) {
    let start = Instant::now();
    loop {
        s.poll();
        if done(s) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting until {what} (keychain: {:?})",
            s.keychain()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn open(dir: &Path) -> Session {
    let recorder = Recorder::waiting(&dir.join("audit.jsonl"));
    let mut s = Session::open_os(&dir.join("config"), recorder);
    s.load_secrets();
    s
}

#[test]
fn a_locked_keyring_never_blocks_and_nothing_typed_meanwhile_is_lost() {
    if Vault::os().is_err() {
        assert!(
            !required(),
            "KEYDECK_REQUIRE_KEYCHAIN=1 but no OS keychain is reachable"
        );
        eprintln!("skipped: no OS keychain reachable; scripts/test.sh starts one");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let key = Secret::new(format!("{:040x}", std::process::id()));
    let account = Vault::account("locked-at-start", FIELD_API_KEY);

    // 1. Locked at start: the session opens at once, says it is checking, then that the
    //    keychain is unavailable, in the keychain's own words, and keeps secrets in memory.
    lock_keyring();
    let started = Instant::now();
    let mut s = open(dir.path());
    assert_eq!(*s.keychain(), KeychainState::Checking);
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "opening did not wait"
    );
    poll_until(&mut s, "the probe gives up", |s| {
        !matches!(s.keychain(), KeychainState::Checking)
    });
    let KeychainState::Unavailable(reason) = s.keychain().clone() else {
        panic!("a locked keyring is not usable: {:?}", s.keychain());
    };
    assert!(!reason.is_empty());
    assert_eq!(s.vault().backend(), Backend::Memory);
    s.save_connection(
        connection("locked-at-start"),
        vec![(FIELD_API_KEY, key.clone())],
    );
    poll_until(&mut s, "the save settles", Session::is_idle);
    assert_eq!(s.secrets().get(&account), Some(&key), "kept in memory");

    // The user unlocks and tries again: the secret typed meanwhile lands in the keychain.
    unlock_keyring();
    s.retry_keychain();
    poll_until(&mut s, "the keychain opens", |s| {
        *s.keychain() == KeychainState::Ready && s.is_idle()
    });
    assert_eq!(s.vault().backend(), Backend::Os);
    assert_eq!(
        s.secret_state("locked-at-start", FIELD_API_KEY),
        Some(&SecretState::Stored)
    );
    let os = Vault::os().unwrap();
    assert_eq!(
        os.get(&account).unwrap(),
        Some(key.clone()),
        "written once unlocked"
    );

    // 2. Locked while running: a save is not claimed as stored; it is marked "not saved" and
    //    kept in memory, and a retry after unlocking writes it.
    let second = Secret::new(format!("{:040x}", u64::from(std::process::id()) + 1));
    let account2 = Vault::account("locked-while-running", FIELD_API_KEY);
    lock_keyring();
    s.save_connection(
        connection("locked-while-running"),
        vec![(FIELD_API_KEY, second.clone())],
    );
    assert_eq!(
        s.secret_state("locked-while-running", FIELD_API_KEY),
        Some(&SecretState::Saving),
        "not stored until the keychain says so"
    );
    poll_until(&mut s, "the refused write settles", Session::is_idle);
    assert!(
        matches!(
            s.secret_state("locked-while-running", FIELD_API_KEY),
            Some(SecretState::NotSaved(_))
        ),
        "marked not saved: {:?}",
        s.secret_state("locked-while-running", FIELD_API_KEY)
    );
    assert_eq!(s.secrets().get(&account2), Some(&second), "still in memory");
    unlock_keyring();
    s.retry_unsaved();
    poll_until(&mut s, "the retry settles", Session::is_idle);
    assert_eq!(
        s.secret_state("locked-while-running", FIELD_API_KEY),
        Some(&SecretState::Stored)
    );
    assert_eq!(os.get(&account2).unwrap(), Some(second));

    os.remove(&account).unwrap();
    os.remove(&account2).unwrap();
}
