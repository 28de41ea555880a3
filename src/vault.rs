//! The keychain behind one small type.
//!
//! Secret values (API keys, management secrets) live only here: in the OS keychain (Secret
//! Service on Linux, Keychain on macOS, Credential Manager on Windows) under the service name
//! [`SERVICE`], one entry per connection and field (`"{connection_id}/{field}"`). When no
//! keychain is reachable the app uses the in-memory backend for the session and says so; it
//! never falls back to a file.
//!
//! Every call may block (D-Bus, a keychain prompt): run it off the UI thread.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use crate::secret::Secret;

/// The fixed service name of every keychain entry Keydeck writes.
pub const SERVICE: &str = "keydeck";

/// Why the keychain refused. The text never holds a secret value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct VaultError(String);

impl VaultError {
    fn from_keyring(e: &keyring_core::Error) -> Self {
        use keyring_core::Error as E;
        // Hand-written on purpose: some variants carry the secret's bytes in their Debug.
        let text = match e {
            E::PlatformFailure(p) => format!("the keychain failed: {p}"),
            E::NoStorageAccess(p) => format!("the keychain is locked or not reachable: {p}"),
            E::NoEntry => "no such entry".to_owned(),
            E::BadEncoding(_) | E::BadDataFormat(..) => {
                "the stored value is not in the expected format".to_owned()
            }
            E::BadStoreFormat(s) => format!("the keychain is damaged: {s}"),
            E::TooLong(attr, limit) => format!("{attr} is longer than {limit}"),
            E::Invalid(attr, why) => format!("{attr} is invalid: {why}"),
            E::Ambiguous(_) => "more than one matching entry".to_owned(),
            E::NoDefaultStore => "no keychain is set up".to_owned(),
            E::NotSupportedByStore(s) => format!("the keychain does not support this: {s}"),
            _ => "the keychain failed".to_owned(),
        };
        Self(text)
    }
}

/// Which kind of store backs a [`Vault`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The OS keychain: secrets survive restarts.
    Os,
    /// Process memory: secrets are lost when the app exits.
    Memory,
}

/// Store / get / remove secrets by account name. Cheap to clone (shared state).
#[derive(Clone)]
pub struct Vault {
    inner: Arc<Inner>,
}

enum Inner {
    Os,
    Memory {
        map: Mutex<HashMap<String, Secret>>,
        /// Why the OS keychain is not used, when this is the session-only fallback.
        fallback_reason: Option<String>,
    },
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Vault({:?})", self.backend())
    }
}

impl Vault {
    /// A vault that keeps secrets in memory only: for tests and the session-only fallback.
    pub fn memory() -> Self {
        Self {
            inner: Arc::new(Inner::Memory {
                map: Mutex::new(HashMap::new()),
                fallback_reason: None,
            }),
        }
    }

    /// The in-memory vault standing in for an OS keychain that is not reachable; the reason
    /// is shown to the user.
    pub fn memory_fallback(reason: impl Into<String>) -> Self {
        Self {
            inner: Arc::new(Inner::Memory {
                map: Mutex::new(HashMap::new()),
                fallback_reason: Some(reason.into()),
            }),
        }
    }

    /// Why the OS keychain is not in use, when it should have been.
    pub fn fallback_reason(&self) -> Option<&str> {
        match &*self.inner {
            Inner::Memory {
                fallback_reason, ..
            } => fallback_reason.as_deref(),
            Inner::Os => None,
        }
    }

    /// Sets the platform's native store as the default and checks that it answers with a
    /// write, a read and a delete of a probe entry. Blocking.
    pub fn os() -> Result<Self, VaultError> {
        set_native_default_store()?;
        let vault = Self {
            inner: Arc::new(Inner::Os),
        };
        let probe = Secret::new("keydeck keychain probe");
        // Unique per call, so that two probes at once (tests, two windows) do not race.
        static PROBES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = PROBES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let account = format!("keydeck-probe-{}-{n}", std::process::id());
        vault.store(&account, &probe)?;
        let read = vault.get(&account)?;
        vault.remove(&account)?;
        if read.as_ref() != Some(&probe) {
            return Err(VaultError(
                "the keychain did not return what was stored".to_owned(),
            ));
        }
        Ok(vault)
    }

    /// The OS keychain when it answers, else the in-memory store and the reason why.
    pub fn os_or_memory() -> (Self, Option<VaultError>) {
        match Self::os() {
            Ok(v) => (v, None),
            Err(e) => (Self::memory(), Some(e)),
        }
    }

    pub fn backend(&self) -> Backend {
        match &*self.inner {
            Inner::Os => Backend::Os,
            Inner::Memory { .. } => Backend::Memory,
        }
    }

    /// Where secrets are kept, in words for the UI.
    pub fn where_kept(&self) -> &'static str {
        match self.backend() {
            Backend::Os => "Stored in your OS keychain",
            Backend::Memory => "Kept in memory for this session only",
        }
    }

    /// [`Self::where_kept`] inside a sentence: "stored in your OS keychain".
    pub fn where_kept_phrase(&self) -> &'static str {
        match self.backend() {
            Backend::Os => "stored in your OS keychain",
            Backend::Memory => "kept in memory for this session only",
        }
    }

    /// The account name of one secret field of one connection.
    pub fn account(connection_id: &str, field: &str) -> String {
        format!("{connection_id}/{field}")
    }

    /// Stores (or overwrites) a secret.
    pub fn store(&self, account: &str, secret: &Secret) -> Result<(), VaultError> {
        match &*self.inner {
            Inner::Os => entry(account)?
                .set_password(secret.expose())
                .map_err(|e| VaultError::from_keyring(&e)),
            Inner::Memory { map, .. } => {
                lock(map).insert(account.to_owned(), secret.clone());
                Ok(())
            }
        }
    }

    /// The stored secret; `None` when there is none.
    pub fn get(&self, account: &str) -> Result<Option<Secret>, VaultError> {
        match &*self.inner {
            Inner::Os => match entry(account)?.get_password() {
                Ok(value) => Ok(Some(Secret::new(value))),
                Err(keyring_core::Error::NoEntry) => Ok(None),
                Err(e) => Err(VaultError::from_keyring(&e)),
            },
            Inner::Memory { map, .. } => Ok(lock(map).get(account).cloned()),
        }
    }

    /// Removes a secret. Removing a missing one is not an error.
    pub fn remove(&self, account: &str) -> Result<(), VaultError> {
        match &*self.inner {
            Inner::Os => match entry(account)?.delete_credential() {
                Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
                Err(e) => Err(VaultError::from_keyring(&e)),
            },
            Inner::Memory { map, .. } => {
                lock(map).remove(account);
                Ok(())
            }
        }
    }
}

fn lock(
    map: &Mutex<HashMap<String, Secret>>,
) -> std::sync::MutexGuard<'_, HashMap<String, Secret>> {
    // A poisoned map still holds valid secrets; keep using it.
    map.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn entry(account: &str) -> Result<keyring_core::Entry, VaultError> {
    keyring_core::Entry::new(SERVICE, account).map_err(|e| VaultError::from_keyring(&e))
}

#[cfg(target_os = "linux")]
fn set_native_default_store() -> Result<(), VaultError> {
    let store = zbus_secret_service_keyring_store::Store::new()
        .map_err(|e| VaultError::from_keyring(&e))?;
    keyring_core::set_default_store(store);
    Ok(())
}

#[cfg(target_os = "macos")]
fn set_native_default_store() -> Result<(), VaultError> {
    let store = apple_native_keyring_store::keychain::Store::new()
        .map_err(|e| VaultError::from_keyring(&e))?;
    keyring_core::set_default_store(store);
    Ok(())
}

#[cfg(target_os = "windows")]
fn set_native_default_store() -> Result<(), VaultError> {
    let store =
        windows_native_keyring_store::Store::new().map_err(|e| VaultError::from_keyring(&e))?;
    keyring_core::set_default_store(store);
    Ok(())
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
fn set_native_default_store() -> Result<(), VaultError> {
    Err(VaultError(
        "no OS keychain is supported on this platform".to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_vault_round_trips_and_remove_is_idempotent() {
        let v = Vault::memory();
        let acc = Vault::account("c1", "api_key");
        assert_eq!(acc, "c1/api_key");
        assert_eq!(v.get(&acc).unwrap(), None);
        v.store(&acc, &Secret::new("first-value-123")).unwrap();
        v.store(&acc, &Secret::new("second-value-456")).unwrap();
        assert_eq!(v.get(&acc).unwrap(), Some(Secret::new("second-value-456")));
        v.remove(&acc).unwrap();
        v.remove(&acc).unwrap();
        assert_eq!(v.get(&acc).unwrap(), None);
        assert_eq!(v.backend(), Backend::Memory);
        assert!(!format!("{v:?}").contains("value"));
    }
}
