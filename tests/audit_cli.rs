//! `keydeck audit verify` on intact and tampered trails: with the real OS keychain (keyed
//! chain and anchored head), and without it (what it can and cannot prove).
//!
//! The keychain test needs a reachable Secret Service: with `KEYDECK_REQUIRE_KEYCHAIN=1` (set
//! by `scripts/test.sh`, which starts gnome-keyring on a private session bus) an unreachable
//! keychain fails it; without it the test says it was skipped. It leaves the audit key in
//! the keychain (the app would make the same one) and removes the anchor of its own file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

use std::path::Path;
use std::process::{Command, Output};

use keydeck::audit::{AuditLog, Event, GENESIS, Record, anchor_account};
use keydeck::vault::Vault;
use sha2::{Digest, Sha256};

/// One way of tampering with the file.
type Tamper = dyn Fn(&Path);

fn verify(path: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keydeck"))
        .args(["audit", "verify", "--file"])
        .arg(path)
        .args(extra)
        .env_remove("DISPLAY")
        .output()
        .expect("keydeck runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn write_trail(path: &Path, vault: &Vault) {
    let mut log = AuditLog::open(path, vault).expect("open");
    for target in ["ci-bot (a1b2…)", "user alice", "user bob"] {
        log.append(&Event::ok("Demo app", "key.created", target))
            .expect("append");
    }
}

fn records(path: &Path) -> Vec<Record> {
    keydeck::audit::read_all(path).expect("readable")
}

fn write_records(path: &Path, records: &[Record]) {
    let lines: Vec<String> = records
        .iter()
        .map(|r| serde_json::to_string(r).expect("json"))
        .collect();
    std::fs::write(path, lines.join("\n") + "\n").expect("write");
}

/// The review's tampering script: the plain SHA-256 chain of earlier versions, recomputed
/// after the lines were changed, with the `chain` marker dropped so the lines look plain.
fn recompute_plain_chain(records: &mut [Record]) {
    let mut prev = GENESIS.to_owned();
    for (i, r) in records.iter_mut().enumerate() {
        r.seq = i as u64 + 1;
        r.prev = prev.clone();
        r.chain = None;
        let mut h = Sha256::new();
        for part in [
            r.seq.to_string().as_str(),
            r.time_ms.to_string().as_str(),
            &r.time,
            &r.user,
            &r.connection,
            &r.action,
            &r.target,
            &r.outcome,
            &r.prev,
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        r.hash = hex::encode(h.finalize());
        prev = r.hash.clone();
    }
}

#[test]
fn without_the_keychain_verify_checks_the_structure_and_says_what_it_cannot_prove() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("audit.jsonl");
    write_trail(&path, &Vault::memory_fallback("no keychain in this test"));

    let ok = verify(&path, &["--no-keychain"]);
    let out = text(&ok);
    assert_eq!(ok.status.code(), Some(2), "intact but not proven: {out}");
    assert!(out.contains("Structure intact: 3 entries"), "{out}");
    assert!(out.contains("Not proven"), "{out}");
    assert!(out.contains("cut off the end"), "{out}");
    assert!(out.contains("All 3 lines are unkeyed"), "{out}");

    let text_before = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, text_before.replacen("user alice", "user mallory", 1)).expect("edit");
    let bad = verify(&path, &["--no-keychain"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad).contains("line 2"), "{}", text(&bad));
}

#[test]
fn with_the_keychain_verify_proves_the_trail_and_detects_every_tampering() {
    let required = std::env::var("KEYDECK_REQUIRE_KEYCHAIN").is_ok_and(|v| v == "1");
    let vault = match Vault::os() {
        Ok(v) => v,
        Err(e) if required => {
            panic!("KEYDECK_REQUIRE_KEYCHAIN=1 but the OS keychain is not reachable: {e}")
        }
        Err(e) => {
            eprintln!("skipped: no OS keychain reachable ({e}); scripts/test.sh starts one");
            return;
        }
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("audit.jsonl");
    write_trail(&path, &vault);
    let original = std::fs::read_to_string(&path).expect("read");

    let ok = verify(&path, &[]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    assert!(
        text(&ok).contains("Chain intact: 3 entries, keyed and anchored"),
        "{}",
        text(&ok)
    );
    // The same file without the keychain: intact as far as it goes, not proven.
    assert_eq!(verify(&path, &["--no-keychain"]).status.code(), Some(2));

    let cases: [(&str, &Tamper, &str); 4] = [
        (
            "last line deleted",
            &|p| {
                let mut r = records(p);
                r.pop();
                write_records(p, &r);
            },
            "cut off",
        ),
        (
            "file emptied",
            &|p| std::fs::write(p, "").expect("empty"),
            "emptied",
        ),
        (
            "file deleted",
            &|p| std::fs::remove_file(p).expect("delete"),
            "deleted",
        ),
        (
            "a line removed, one edited, the plain chain recomputed",
            &|p| {
                let mut r = records(p);
                r.remove(1);
                r[0].outcome = "failed: forged".into();
                recompute_plain_chain(&mut r);
                write_records(p, &r);
            },
            "cut off",
        ),
    ];
    for (what, tamper, says) in cases {
        std::fs::write(&path, &original).expect("restore");
        assert_eq!(
            verify(&path, &[]).status.code(),
            Some(0),
            "{what}: restored"
        );
        tamper(&path);
        let bad = verify(&path, &[]);
        assert_eq!(bad.status.code(), Some(1), "{what}: {}", text(&bad));
        assert!(text(&bad).contains(says), "{what}: {}", text(&bad));
    }

    // The same number of lines, rewritten with the plain chain: the anchored head is gone.
    std::fs::write(&path, &original).expect("restore");
    let mut r = records(&path);
    r[1].target = "user mallory".into();
    recompute_plain_chain(&mut r);
    write_records(&path, &r);
    let bad = verify(&path, &[]);
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad));
    assert!(
        text(&bad).contains("replaced or rewritten"),
        "{}",
        text(&bad)
    );

    vault.remove(&anchor_account(&path)).expect("clean up");
}
