//! `keydeck audit verify` on an intact and on a tampered trail.

use std::process::Command;

use keydeck::audit::{AuditLog, Event};

fn verify(path: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_keydeck"))
        .args(["audit", "verify", "--file"])
        .arg(path)
        .output()
        .expect("keydeck runs")
}

#[test]
fn audit_verify_passes_an_intact_trail_and_names_the_first_broken_entry() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let mut log = AuditLog::open(&path).unwrap();
    for target in ["ci-bot (a1b2…)", "user alice", "user bob"] {
        log.append(&Event::ok("Demo app", "key.created", target))
            .unwrap();
    }

    let ok = verify(&path);
    assert!(ok.status.success());
    assert!(String::from_utf8_lossy(&ok.stdout).contains("3 entries, chain intact"));

    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("user alice", "user mallory", 1)).unwrap();
    let bad = verify(&path);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("line 2"), "{err}");
}
