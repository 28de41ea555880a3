//! The vault against the real OS keychain (Secret Service on Linux): store, read, overwrite,
//! remove, and a missing entry reads as `None`.
//!
//! With `KEYDECK_REQUIRE_KEYCHAIN=1` (set by `scripts/test.sh` after it starts gnome-keyring
//! on a private session bus) an unreachable keychain fails the test; without it the test says
//! it was skipped. Never run this with `DISPLAY` set: a keychain prompt would open a window
//! and the call would wait for it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

use keydeck::secret::Secret;
use keydeck::vault::{Backend, Vault};

fn os_vault() -> Option<Vault> {
    let required = std::env::var("KEYDECK_REQUIRE_KEYCHAIN").is_ok_and(|v| v == "1");
    match Vault::os() {
        Ok(v) => Some(v),
        Err(e) if required => {
            panic!("KEYDECK_REQUIRE_KEYCHAIN=1 but the OS keychain is not reachable: {e}")
        }
        Err(e) => {
            eprintln!("skipped: no OS keychain reachable ({e}); scripts/test.sh starts one");
            None
        }
    }
}

#[test]
fn secrets_round_trip_through_the_os_keychain() {
    let Some(vault) = os_vault() else { return };
    assert_eq!(vault.backend(), Backend::Os);
    let account = Vault::account(&format!("test{}", std::process::id()), "api_key");

    assert_eq!(vault.get(&account).expect("read"), None, "missing is None");
    vault
        .remove(&account)
        .expect("removing a missing entry is fine");

    let first = Secret::new("0123456789abcdef0123456789abcdef01234567");
    vault.store(&account, &first).expect("store");
    assert_eq!(vault.get(&account).expect("read"), Some(first));

    let second = Secret::new("fedcba9876543210fedcba9876543210fedcba98");
    vault.store(&account, &second).expect("overwrite");
    assert_eq!(vault.get(&account).expect("read"), Some(second));

    vault.remove(&account).expect("remove");
    assert_eq!(vault.get(&account).expect("read"), None);
    vault.remove(&account).expect("remove is idempotent");
}

#[test]
fn entries_of_different_connections_and_fields_are_separate() {
    let Some(vault) = os_vault() else { return };
    let id = format!("sep{}", std::process::id());
    let key = Vault::account(&id, "key");
    let secret = Vault::account(&id, "secret");
    vault
        .store(&key, &Secret::new("management-key-value-1"))
        .expect("store");
    vault
        .store(&secret, &Secret::new("management-secret-value-2"))
        .expect("store");
    assert_eq!(
        vault.get(&key).expect("read"),
        Some(Secret::new("management-key-value-1"))
    );
    assert_eq!(
        vault.get(&secret).expect("read"),
        Some(Secret::new("management-secret-value-2"))
    );
    vault.remove(&key).expect("remove");
    assert_eq!(vault.get(&key).expect("read"), None);
    assert!(
        vault.get(&secret).expect("read").is_some(),
        "the other field stays"
    );
    vault.remove(&secret).expect("remove");
}
