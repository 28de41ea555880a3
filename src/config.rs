//! Non-secret connection profiles and retiring-key records, in one JSON file in the platform's
//! config directory, written atomically.
//!
//! Nothing here is secret: secret values live in the [`crate::vault::Vault`] under
//! `"{connection id}/{field}"`; a retiring key is remembered by its SHA-256 and a masked prefix.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::secret::Secret;

/// The file name inside the config directory.
pub const FILE_NAME: &str = "connections.json";

/// The environment a connection belongs to, drawn in its own colour.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    #[default]
    Dev,
    Staging,
    Prod,
}

impl Environment {
    pub const ALL: [Environment; 3] = [Environment::Dev, Environment::Staging, Environment::Prod];

    pub fn name(self) -> &'static str {
        match self {
            Environment::Dev => "dev",
            Environment::Staging => "staging",
            Environment::Prod => "prod",
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a connection talks to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ConnectionKind {
    /// One CometChat app, with a REST API key.
    CometChatApp { app_id: String, region: String },
    /// The CometChat Management API, with a key and a secret.
    Management,
    /// An Ably account, with a Control API access token. The app is chosen after `me()`.
    AblyAccount {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        account_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        app_id: Option<String>,
    },
    /// A Cometly workspace, with an API key.
    Cometly,
}

/// The longest connection name: it is shown in the top bar's picker and every subtitle.
pub const MAX_LABEL_CHARS: usize = 60;

pub const FIELD_API_KEY: &str = "api_key";
pub const FIELD_KEY: &str = "key";
pub const FIELD_SECRET: &str = "secret";
pub const FIELD_ACCESS_TOKEN: &str = "access_token";

/// A connection profile. Holds no secret values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    pub id: String,
    pub label: String,
    pub kind: ConnectionKind,
    #[serde(default)]
    pub environment: Environment,
    /// Replaces the provider's own base URL (a proxy, a sandbox started by hand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Talks to the sandbox embedded in the app; its base URL is resolved at run time because
    /// the port changes on every start.
    #[serde(default)]
    pub embedded_sandbox: bool,
}

impl Connection {
    /// The base URL override, when one is set and not blank. A sandbox connection has none:
    /// its address is the running sandbox's, whatever the file says.
    pub fn base_url_override(&self) -> Option<&str> {
        if self.embedded_sandbox {
            return None;
        }
        self.base_url
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    /// A copy to save as a new connection: a new id and "(copy)" in its label. The copy of a
    /// sandbox connection stays a sandbox connection, resolved to the running sandbox on
    /// every start; it never keeps this run's port as a fixed address (a dead port after a
    /// restart, and whatever process takes that port would receive its credential).
    pub fn duplicate(&self) -> Connection {
        Connection {
            id: new_connection_id(),
            label: format!("{} (copy)", self.label),
            base_url: self.base_url_override().map(str::to_owned),
            ..self.clone()
        }
    }
}

/// The rule that keeps a credential from reaching a loopback port it was not made for.
///
/// A sandbox connection's requests go only to the running sandbox (its base URL is never
/// read from the file). A connection with a fixed loopback address is refused when a
/// sandbox is running elsewhere and the credential it would send is one the sandbox issued:
/// that is a copy made by an earlier version, which stored the sandbox's port of that run,
/// and whatever listens there now is not the sandbox. The message says how to fix it.
pub fn check_credential_destination(
    conn: &Connection,
    credentials: &[Secret],
    sandbox: Option<&crate::sandbox::StartupInfo>,
) -> Result<(), String> {
    let (Some(address), Some(sandbox)) = (conn.base_url_override(), sandbox) else {
        return Ok(());
    };
    let Ok(url) = url::Url::parse(address) else {
        return Ok(()); // refused later by the transport rule, with its own message
    };
    if !crate::providers::http::is_loopback(&url) {
        return Ok(());
    }
    let origin = |u: &url::Url| {
        (
            u.scheme().to_owned(),
            u.host_str().map(str::to_owned),
            u.port_or_known_default(),
        )
    };
    let sandbox_origin = url::Url::parse(&sandbox.cometchat.management.base_url)
        .ok()
        .map(|u| origin(&u));
    if sandbox_origin.as_ref() == Some(&origin(&url)) {
        return Ok(());
    }
    let issued = sandbox_credentials(sandbox);
    if credentials
        .iter()
        .any(|c| issued.iter().any(|i| *i == c.expose()))
    {
        return Err(format!(
            "This connection holds a credential of the local sandbox but points at {}, which is not the running sandbox; Keydeck did not send it. Remove this connection and duplicate the sandbox connection again (copies now follow the sandbox)",
            url.host_str()
                .map(|h| format!("{h}:{}", url.port_or_known_default().unwrap_or(0)))
                .unwrap_or_default()
        ));
    }
    Ok(())
}

/// Every credential the running sandbox printed at start.
fn sandbox_credentials(info: &crate::sandbox::StartupInfo) -> Vec<&str> {
    let mut out = vec![
        info.cometchat.management.key.as_str(),
        info.cometchat.management.secret.as_str(),
        info.ably.access_token.as_str(),
        info.ably.read_only_token.as_str(),
    ];
    for app in &info.cometchat.apps {
        out.extend([app.rest_api_key.as_str(), app.auth_key.as_str()]);
    }
    out.extend(info.cometly.keys.iter().map(|k| k.key.as_str()));
    out
}

/// A key being replaced: kept until its overlap ends and the user confirms the delete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetiringKey {
    pub connection_id: String,
    /// Hex SHA-256 of the key value, to recognise it in a listing without storing it.
    pub key_sha256: String,
    /// The masked prefix (`a1b2…`), for display.
    pub masked: String,
    pub name: String,
    /// When the overlap ends (Unix seconds).
    pub deadline_unix: i64,
}

impl RetiringKey {
    pub fn matches(&self, connection_id: &str, key: &Secret) -> bool {
        self.connection_id == connection_id && self.key_sha256 == key_sha256(key)
    }
}

/// Hex SHA-256 of a secret value.
pub fn key_sha256(key: &Secret) -> String {
    hex::encode(Sha256::digest(key.expose().as_bytes()))
}

/// Everything in the config file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    #[serde(default)]
    pub connections: Vec<Connection>,
    #[serde(default)]
    pub retiring_keys: Vec<RetiringKey>,
    /// The connection shown when the app opens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected_connection: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("could not read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid Keydeck config: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("could not write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Config {
    pub fn path(dir: &Path) -> PathBuf {
        dir.join(FILE_NAME)
    }

    /// Reads the config; a missing file is an empty config.
    pub fn load(dir: &Path) -> Result<Self, ConfigError> {
        let path = Self::path(dir);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| ConfigError::Parse {
                path: path.clone(),
                source,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(ConfigError::Read { path, source }),
        }
    }

    /// Writes the config atomically: a temporary file in the same directory, flushed to disk,
    /// then renamed over the old one. A crash leaves either the old file or the new one.
    pub fn save(&self, dir: &Path) -> Result<(), ConfigError> {
        let path = Self::path(dir);
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| ConfigError::Write {
            path: path.clone(),
            source: std::io::Error::other(e),
        })?;
        write_atomically(&path, &bytes).map_err(|source| ConfigError::Write { path, source })
    }

    pub fn connection(&self, id: &str) -> Option<&Connection> {
        self.connections.iter().find(|c| c.id == id)
    }
}

/// Writes `bytes` to `path` through a temporary sibling and a rename. The folder is created
/// 0700 and the temporary file 0600 (on Unix), so the file renamed into place is private
/// from its first byte.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("the path has no parent directory"))?;
    crate::paths::create_private_dir(dir)?;
    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("config");
    let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = (|| {
        let create = || {
            crate::paths::private_open_options()
                .write(true)
                .create_new(true)
                .open(&tmp)
        };
        // A temporary file left by a crash may have another mode: replace it, never reuse it.
        let mut f = match create() {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                std::fs::remove_file(&tmp)?;
                create()?
            }
            other => other?,
        };
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        // Make the rename itself durable where the platform allows opening a directory.
        #[cfg(unix)]
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A new, unique connection id: short, lowercase, safe in a keychain account name.
pub fn new_connection_id() -> String {
    use rand::Rng;
    let n: u64 = rand::rng().random();
    format!("c{n:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Config {
        Config {
            connections: vec![
                Connection {
                    id: "c1".into(),
                    label: "Shop (prod)".into(),
                    kind: ConnectionKind::CometChatApp {
                        app_id: "abc123".into(),
                        region: "eu".into(),
                    },
                    environment: Environment::Prod,
                    base_url: None,
                    embedded_sandbox: false,
                },
                Connection {
                    id: "c2".into(),
                    label: "Management".into(),
                    kind: ConnectionKind::Management,
                    environment: Environment::Dev,
                    base_url: Some("http://127.0.0.1:9".into()),
                    embedded_sandbox: true,
                },
            ],
            retiring_keys: vec![RetiringKey {
                connection_id: "c1".into(),
                key_sha256: key_sha256(&Secret::new("0123456789abcdef0123456789abcdef01234567")),
                masked: "0123…".into(),
                name: "ci-bot".into(),
                deadline_unix: 1_900_000_000,
            }],
            selected_connection: Some("c1".into()),
        }
    }

    #[test]
    fn a_saved_config_loads_back_and_a_missing_one_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Config::load(dir.path()).unwrap(), Config::default());
        let c = sample();
        c.save(dir.path()).unwrap();
        assert_eq!(Config::load(dir.path()).unwrap(), c);
    }

    #[test]
    fn saving_replaces_the_file_atomically_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = sample();
        c.save(dir.path()).unwrap();
        c.connections.pop();
        c.save(dir.path()).unwrap();
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec![FILE_NAME.to_owned()]);
        assert_eq!(Config::load(dir.path()).unwrap().connections.len(), 1);
    }

    #[test]
    fn a_config_directory_that_does_not_exist_yet_is_created() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        sample().save(&nested).unwrap();
        assert!(Config::path(&nested).exists());
    }

    #[test]
    fn no_secret_value_lands_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        sample().save(dir.path()).unwrap();
        let text = std::fs::read_to_string(Config::path(dir.path())).unwrap();
        assert!(!text.contains("0123456789abcdef0123456789abcdef01234567"));
        assert!(text.contains("0123…"));
        assert!(text.contains("\"key_sha256\""));
    }

    #[test]
    fn a_retiring_record_recognises_its_key_by_hash() {
        let c = sample();
        let r = &c.retiring_keys[0];
        assert!(r.matches(
            "c1",
            &Secret::new("0123456789abcdef0123456789abcdef01234567")
        ));
        assert!(!r.matches("c1", &Secret::new("another-key-value-000")));
        assert!(!r.matches(
            "c2",
            &Secret::new("0123456789abcdef0123456789abcdef01234567")
        ));
    }

    #[test]
    fn a_duplicated_sandbox_connection_stays_symbolic_through_a_save_and_reload() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = sample();
        let sandbox = c.connections[1].clone();
        let copy = sandbox.duplicate();
        assert_ne!(copy.id, sandbox.id);
        assert_eq!(copy.label, "Management (copy)");
        assert!(copy.embedded_sandbox);
        assert_eq!(copy.base_url, None, "no fixed port for a sandbox copy");
        c.connections.push(copy.clone());
        c.save(dir.path()).unwrap();
        let again = Config::load(dir.path()).unwrap();
        let loaded = again.connection(&copy.id).unwrap();
        assert!(loaded.embedded_sandbox);
        assert_eq!(loaded.base_url_override(), None);
        // Even a stored address (an older file) is never used for a sandbox connection.
        assert_eq!(c.connections[1].base_url_override(), None);
        // An ordinary connection's copy keeps its address.
        let mut plain = c.connections[0].clone();
        plain.base_url = Some("https://proxy.example/v3".into());
        assert_eq!(
            plain.duplicate().base_url.as_deref(),
            Some("https://proxy.example/v3")
        );
    }

    fn sandbox_info(port: u16) -> crate::sandbox::StartupInfo {
        let json = serde_json::json!({
            "cometchat": {
                "management": {"baseUrl": format!("http://127.0.0.1:{port}/cometchat-mgmt"),
                               "key": "sandbox-mgmt-key-1", "secret": "sandbox-mgmt-secret-1"},
                "apps": [{"appId": "app1", "region": "us",
                          "baseUrl": format!("http://127.0.0.1:{port}/cometchat/app1/v3"),
                          "restApiKey": "sandbox-rest-key-1", "authKey": "sandbox-auth-key-1"}]
            },
            "ably": {"controlUrl": format!("http://127.0.0.1:{port}/ably/control/v1"),
                     "restUrl": format!("http://127.0.0.1:{port}/ably/rest"),
                     "accessToken": "sandbox-ably-token", "accountId": "acc",
                     "readOnlyToken": "sandbox-ably-ro"},
            "cometly": {"baseUrl": format!("http://127.0.0.1:{port}/cometly/public-api/v1"),
                        "keys": [{"label": "k", "key": "sandbox-cometly-key", "active": true}]}
        });
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_sandbox_credential_is_not_given_to_a_loopback_port_that_is_not_the_sandbox() {
        let info = sandbox_info(41234);
        let mut old_copy = sample().connections[0].clone();
        old_copy.base_url = Some("http://127.0.0.1:35817/cometchat/app1/v3".into());
        let sandbox_key = [Secret::new("sandbox-rest-key-1")];
        let e = check_credential_destination(&old_copy, &sandbox_key, Some(&info)).unwrap_err();
        assert!(e.contains("127.0.0.1:35817"), "{e}");
        assert!(
            !e.contains("sandbox-rest-key-1"),
            "no credential in the message"
        );
        // Every credential the sandbox issued counts, the management secret among them.
        let secret = [Secret::new("x-other"), Secret::new("sandbox-mgmt-secret-1")];
        assert!(check_credential_destination(&old_copy, &secret, Some(&info)).is_err());
        // The running sandbox's own port, another credential, or no sandbox: allowed.
        let mut at_sandbox = old_copy.clone();
        at_sandbox.base_url = Some("http://127.0.0.1:41234/cometchat/app1/v3".into());
        assert!(check_credential_destination(&at_sandbox, &sandbox_key, Some(&info)).is_ok());
        let own = [Secret::new("a-key-of-a-sandbox-started-by-hand")];
        assert!(check_credential_destination(&old_copy, &own, Some(&info)).is_ok());
        assert!(check_credential_destination(&old_copy, &sandbox_key, None).is_ok());
    }

    #[test]
    fn a_damaged_file_is_reported_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(Config::path(dir.path()), b"{not json").unwrap();
        assert!(matches!(
            Config::load(dir.path()),
            Err(ConfigError::Parse { .. })
        ));
    }
}
