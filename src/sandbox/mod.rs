//! The local emulator of the provider APIs.
//!
//! One axum server on `127.0.0.1`, one SQLite store. Surfaces:
//! * `/cometchat/{appId}/v3/…` (and `/v3.0/…`): the CometChat chat REST API (API keys, users, auth tokens);
//! * `/cometchat-mgmt/…`: the CometChat Management API (apps);
//! * `/ably/control/v1/…`: the Ably Control API (apps and keys, Bearer access tokens);
//! * `/ably/rest/keys/{keyName}/revokeTokens`: Ably token revocation (Basic auth with the key);
//! * `/cometly/public-api/v1/…`: Cometly's public API (`/companies`, `/events`) for key tests;
//! * `/_sandbox/faults`: fault injection rules (`GET`, `PUT` a JSON list, `DELETE`), applied by a
//!   middleware over every other route (see `faults.rs`).
//!
//! Anything else answers 404 `ERR_API_NOT_FOUND` in the CometChat error envelope.

mod ably;
mod cometchat;
mod cometly;
mod faults;
mod http;
mod management;
mod store;

use std::fmt;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use axum::response::{IntoResponse as _, Response};
use axum::routing::{any, get};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::secret::mask;
pub use ably::Revocation as AblyRevocation;
use cometly::CometlyLimiter;
pub use faults::{Fault, FaultRule};
use http::{ApiError, RateLimiter};
use store::Store;

/// How to start the sandbox.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// SQLite file to persist to; `None` keeps everything in memory.
    pub data: Option<PathBuf>,
    /// Seed ~60 demo users into the demo app when the store is created.
    pub seed_demo_users: bool,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            port: 0,
            data: None,
            seed_demo_users: true,
        }
    }
}

/// State shared by every handler.
#[derive(Clone)]
pub(crate) struct SharedState {
    store: Store,
    limiter: Arc<RateLimiter>,
    cometly_limiter: Arc<CometlyLimiter>,
    faults: Arc<faults::FaultSet>,
}

/// A running sandbox server.
pub struct Sandbox {
    addr: SocketAddr,
    state: SharedState,
    shutdown: oneshot::Sender<()>,
    server: JoinHandle<()>,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox").field("addr", &self.addr).finish()
    }
}

/// What the sandbox serves, with the credentials to call it.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct StartupInfo {
    pub cometchat: CometChatInfo,
    pub ably: AblyInfo,
    pub cometly: CometlyInfo,
}

/// The Cometly surface and its keys (one per Space).
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CometlyInfo {
    /// `{base}/cometly/public-api/v1`.
    pub base_url: String,
    pub keys: Vec<CometlyKeyInfo>,
}

#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CometlyKeyInfo {
    /// The Space's name, e.g. "Marketing space".
    pub label: String,
    pub key: String,
    /// Whether the Space's subscription is active (an inactive one answers 403).
    pub active: bool,
}

/// The Ably surfaces and the seeded account's access tokens.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AblyInfo {
    /// `{base}/ably/control/v1` (so `GET {control_url}/me`).
    pub control_url: String,
    /// `{base}/ably/rest` (so `POST {rest_url}/keys/{keyName}/revokeTokens`).
    pub rest_url: String,
    /// An access token with `read:app`, `write:app`, `read:key` and `write:key`.
    pub access_token: String,
    pub account_id: String,
    /// An access token with only `read:app` and `read:key`.
    pub read_only_token: String,
}

#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CometChatInfo {
    pub management: ManagementInfo,
    pub apps: Vec<AppInfo>,
}

#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ManagementInfo {
    pub base_url: String,
    pub key: String,
    pub secret: String,
}

#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub app_id: String,
    pub region: String,
    pub base_url: String,
    pub rest_api_key: String,
    pub auth_key: String,
}

impl StartupInfo {
    /// The same shape with every key and secret replaced by its mask.
    pub fn masked(&self) -> StartupInfo {
        let m = &self.cometchat.management;
        StartupInfo {
            cometchat: CometChatInfo {
                management: ManagementInfo {
                    base_url: m.base_url.clone(),
                    key: mask(&m.key),
                    secret: mask(&m.secret),
                },
                apps: self
                    .cometchat
                    .apps
                    .iter()
                    .map(|a| AppInfo {
                        app_id: a.app_id.clone(),
                        region: a.region.clone(),
                        base_url: a.base_url.clone(),
                        rest_api_key: mask(&a.rest_api_key),
                        auth_key: mask(&a.auth_key),
                    })
                    .collect(),
            },
            ably: AblyInfo {
                control_url: self.ably.control_url.clone(),
                rest_url: self.ably.rest_url.clone(),
                access_token: mask(&self.ably.access_token),
                account_id: self.ably.account_id.clone(),
                read_only_token: mask(&self.ably.read_only_token),
            },
            cometly: CometlyInfo {
                base_url: self.cometly.base_url.clone(),
                keys: self
                    .cometly
                    .keys
                    .iter()
                    .map(|k| CometlyKeyInfo {
                        label: k.label.clone(),
                        key: mask(&k.key),
                        active: k.active,
                    })
                    .collect(),
            },
        }
    }
}

impl fmt::Debug for StartupInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StartupInfo")
            .field("cometchat", &self.cometchat)
            .field("ably", &self.ably)
            .field("cometly", &self.cometly)
            .finish()
    }
}

impl fmt::Debug for CometlyInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CometlyInfo")
            .field("base_url", &self.base_url)
            .field("keys", &self.keys)
            .finish()
    }
}

impl fmt::Debug for CometlyKeyInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CometlyKeyInfo")
            .field("label", &self.label)
            .field("key", &mask(&self.key))
            .field("active", &self.active)
            .finish()
    }
}

impl fmt::Debug for AblyInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AblyInfo")
            .field("control_url", &self.control_url)
            .field("rest_url", &self.rest_url)
            .field("access_token", &mask(&self.access_token))
            .field("account_id", &self.account_id)
            .field("read_only_token", &mask(&self.read_only_token))
            .finish()
    }
}

impl fmt::Debug for CometChatInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CometChatInfo")
            .field("management", &self.management)
            .field("apps", &self.apps)
            .finish()
    }
}

impl fmt::Debug for ManagementInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManagementInfo")
            .field("base_url", &self.base_url)
            .field("key", &mask(&self.key))
            .field("secret", &mask(&self.secret))
            .finish()
    }
}

impl fmt::Debug for AppInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppInfo")
            .field("app_id", &self.app_id)
            .field("region", &self.region)
            .field("base_url", &self.base_url)
            .field("rest_api_key", &mask(&self.rest_api_key))
            .field("auth_key", &mask(&self.auth_key))
            .finish()
    }
}

/// 404 `ERR_API_NOT_FOUND` for every path no surface claims.
async fn not_found() -> Response {
    ApiError::not_found_api()
        .into_reply("chat-api")
        .into_response()
}

/// The whole sandbox router; new surfaces are nested here.
fn router(state: SharedState) -> Router {
    Router::new()
        .route("/cometchat/{app_id}/{*rest}", any(cometchat::handle))
        .route("/cometchat-mgmt/{*rest}", any(management::handle))
        .route("/ably/control/v1/{*rest}", any(ably::control))
        .route("/ably/rest/{*rest}", any(ably::rest))
        .route("/cometly/public-api/v1/{*rest}", any(cometly::handle))
        .route(
            "/_sandbox/faults",
            get(faults::list).put(faults::put).delete(faults::clear),
        )
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            faults::layer,
        ))
        .with_state(state)
}

/// Opens the store and lets each surface seed itself once (so a store made before a surface
/// existed gains it). The seeding is called from here, not from the store, so that the store
/// does not depend on the routes' modules.
fn open_store(data: Option<&std::path::Path>, seed_demo_users: bool) -> anyhow::Result<Store> {
    let store = Store::open(data)?;
    store.with_tx(|tx| store::seed(tx, seed_demo_users))?;
    store.with_tx(ably::seed)?;
    store.with_tx(cometly::seed)?;
    Ok(store)
}

impl Sandbox {
    /// Binds 127.0.0.1:port, opens/creates + seeds the store, spawns the axum server on the
    /// current tokio runtime.
    pub async fn start(opts: SandboxOptions) -> anyhow::Result<Sandbox> {
        let data = opts.data.clone();
        let seed = opts.seed_demo_users;
        let store = tokio::task::spawn_blocking(move || open_store(data.as_deref(), seed))
            .await
            .context("opening the sandbox store")??;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", opts.port))
            .await
            .with_context(|| format!("binding 127.0.0.1:{}", opts.port))?;
        let addr = listener.local_addr()?;
        let state = SharedState {
            store,
            limiter: Arc::new(RateLimiter::default()),
            cometly_limiter: Arc::new(CometlyLimiter::default()),
            faults: Arc::new(faults::FaultSet::default()),
        };
        let app = router(state.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let result = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await;
            if let Err(e) = result {
                tracing::error!("sandbox server stopped with an error: {e}");
            }
        });
        tracing::info!(%addr, "sandbox listening");
        Ok(Sandbox {
            addr,
            state,
            shutdown: tx,
            server,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The current (non-deleted) apps, re-read from the store, with their secrets.
    pub fn info(&self) -> StartupInfo {
        let base = self.base_url();
        let read = self.state.store.with_tx(|tx| {
            let (key, secret) = store::management_credentials(tx)?;
            let mut apps = Vec::new();
            for app in store::live_apps(tx)? {
                let keys = store::keys_oldest_first(tx, &app.id)?;
                let first = |scope: &str| {
                    keys.iter()
                        .find(|k| k.scope == scope)
                        .map(|k| k.api_key.clone())
                        .unwrap_or_default()
                };
                apps.push(AppInfo {
                    base_url: format!("{base}/cometchat/{}/v3", app.id),
                    rest_api_key: first("fullAccess"),
                    auth_key: first("authOnly"),
                    app_id: app.id,
                    region: app.region,
                });
            }
            let ably = ably::credentials(tx)?;
            let cometly_keys = cometly::keys(tx)?
                .into_iter()
                .map(|k| CometlyKeyInfo {
                    label: k.label,
                    key: k.key,
                    active: k.active,
                })
                .collect();
            Ok(StartupInfo {
                cometchat: CometChatInfo {
                    management: ManagementInfo {
                        base_url: format!("{base}/cometchat-mgmt"),
                        key,
                        secret,
                    },
                    apps,
                },
                ably: AblyInfo {
                    control_url: format!("{base}/ably/control/v1"),
                    rest_url: format!("{base}/ably/rest"),
                    access_token: ably.access_token,
                    account_id: ably.account_id,
                    read_only_token: ably.read_only_token,
                },
                cometly: CometlyInfo {
                    base_url: format!("{base}/cometly/public-api/v1"),
                    keys: cometly_keys,
                },
            })
        });
        read.unwrap_or_else(|e| {
            tracing::error!("reading sandbox info failed: {e}");
            StartupInfo {
                cometchat: CometChatInfo {
                    management: ManagementInfo {
                        base_url: format!("{base}/cometchat-mgmt"),
                        key: String::new(),
                        secret: String::new(),
                    },
                    apps: Vec::new(),
                },
                ably: AblyInfo {
                    control_url: format!("{base}/ably/control/v1"),
                    rest_url: format!("{base}/ably/rest"),
                    access_token: String::new(),
                    account_id: String::new(),
                    read_only_token: String::new(),
                },
                cometly: CometlyInfo {
                    base_url: format!("{base}/cometly/public-api/v1"),
                    keys: Vec::new(),
                },
            }
        })
    }

    /// Changes Cometly's per-Space per-minute limit for `endpoint` (`"companies"` or `"events"`;
    /// `None` = unlimited; defaults 15 and 7) and starts fresh windows for it.
    pub fn set_cometly_rate_limit(&self, endpoint: &str, per_minute: Option<u32>) {
        self.state.cometly_limiter.set_limit(endpoint, per_minute);
    }

    /// Adds a fault rule after the existing ones (the first matching rule applies).
    pub fn set_fault(&self, rule: FaultRule) {
        if let Some(p) = rule.problem() {
            tracing::warn!("sandbox fault rule served as given despite: {p}");
        }
        self.state.faults.add(rule);
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.state.faults.clear();
    }

    /// The active fault rules, `times` counting what is left.
    pub fn faults(&self) -> Vec<FaultRule> {
        self.state.faults.list()
    }

    /// Every Ably token revocation recorded so far, oldest first.
    pub fn ably_revocations(&self) -> Vec<AblyRevocation> {
        self.state
            .store
            .with_tx(ably::revocations)
            .unwrap_or_else(|e| {
                tracing::error!("reading Ably revocations failed: {e}");
                Vec::new()
            })
    }

    /// Changes an app's per-minute limit at run time (`None` = unlimited; default 20,000/min).
    /// Starts a fresh 60-second window for that app.
    pub fn set_rate_limit(&self, app_id: &str, per_minute: Option<u32>) {
        self.state.limiter.set_limit(app_id, per_minute);
    }

    /// Stops accepting connections, finishes in-flight requests, and waits for the server task.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(());
        if let Err(e) = self.server.await {
            tracing::error!("sandbox server task failed: {e}");
        }
    }
}

/// The CLI entry: `keydeck sandbox [--port N] [--data FILE] [--print-secrets]`. Prints the
/// StartupInfo JSON as the FIRST line of stdout (masked unless `print_secrets`), flushes, then
/// serves until Ctrl-C/SIGTERM.
pub async fn run_cli(port: u16, data: Option<PathBuf>, print_secrets: bool) -> anyhow::Result<()> {
    let sandbox = Sandbox::start(SandboxOptions {
        port,
        data,
        seed_demo_users: true,
    })
    .await?;
    let info = sandbox.info();
    let shown = if print_secrets { info } else { info.masked() };
    let line = serde_json::to_string(&shown)?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")?;
        out.flush()?;
    }
    wait_for_signal().await;
    tracing::info!("sandbox shutting down");
    sandbox.shutdown().await;
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> StartupInfo {
        StartupInfo {
            cometchat: CometChatInfo {
                management: ManagementInfo {
                    base_url: "http://127.0.0.1:1/cometchat-mgmt".into(),
                    key: "0123456789abcdef".into(),
                    secret: "aaaabbbbccccddddeeeeffff0000111122223333".into(),
                },
                apps: vec![AppInfo {
                    app_id: "fedcba9876543210".into(),
                    region: "us".into(),
                    base_url: "http://127.0.0.1:1/cometchat/fedcba9876543210/v3".into(),
                    rest_api_key: "1111222233334444555566667777888899990000".into(),
                    auth_key: "9999888877776666555544443333222211110000".into(),
                }],
            },
            ably: AblyInfo {
                control_url: "http://127.0.0.1:1/ably/control/v1".into(),
                rest_url: "http://127.0.0.1:1/ably/rest".into(),
                access_token: "AblyAccessTokenValue0123456789abcdefghijk".into(),
                account_id: "Ab3_-z".into(),
                read_only_token: "AblyReadOnlyTokenValue0123456789abcdefghi".into(),
            },
            cometly: CometlyInfo {
                base_url: "http://127.0.0.1:1/cometly/public-api/v1".into(),
                keys: vec![CometlyKeyInfo {
                    label: "Marketing space".into(),
                    key: "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00beef".into(),
                    active: true,
                }],
            },
        }
    }

    const SECRETS: [&str; 7] = [
        "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00beef",
        "AblyAccessTokenValue0123456789abcdefghijk",
        "AblyReadOnlyTokenValue0123456789abcdefghi",
        "0123456789abcdef",
        "aaaabbbbccccddddeeeeffff0000111122223333",
        "1111222233334444555566667777888899990000",
        "9999888877776666555544443333222211110000",
    ];

    #[test]
    fn masked_hides_every_secret() {
        let m = sample().masked();
        let json = serde_json::to_string(&m).unwrap_or_default();
        for s in SECRETS {
            assert!(!json.contains(&s[4..]), "{s} leaked in masked JSON");
        }
        assert_eq!(m.cometchat.management.key, "0123…");
        assert_eq!(m.cometchat.apps[0].rest_api_key, "1111…");
        assert_eq!(m.cometchat.apps[0].app_id, "fedcba9876543210");
        assert_eq!(
            m.cometchat.apps[0].base_url,
            "http://127.0.0.1:1/cometchat/fedcba9876543210/v3"
        );
    }

    #[test]
    fn debug_never_prints_secrets() {
        let dbg = format!("{:?}", sample());
        for s in SECRETS {
            assert!(!dbg.contains(&s[4..]), "{s} leaked in Debug");
        }
        assert!(dbg.contains("fedcba9876543210"));
    }

    #[test]
    fn serialization_uses_exact_camel_case_keys() {
        let v = serde_json::to_value(sample()).unwrap_or_default();
        let top: Vec<&String> = v
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        assert_eq!(top, ["ably", "cometchat", "cometly"]);
        let mut ck: Vec<&String> = v["cometly"]["keys"][0]
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        ck.sort();
        assert_eq!(ck, ["active", "key", "label"]);
        assert!(v["cometly"]["baseUrl"].is_string());
        let mut ably: Vec<&String> = v["ably"]
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        ably.sort();
        assert_eq!(
            ably,
            [
                "accessToken",
                "accountId",
                "controlUrl",
                "readOnlyToken",
                "restUrl"
            ]
        );
        let cc = &v["cometchat"];
        let mut keys: Vec<&String> = cc
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        keys.sort();
        assert_eq!(keys, ["apps", "management"]);
        let mut mk: Vec<&String> = cc["management"]
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        mk.sort();
        assert_eq!(mk, ["baseUrl", "key", "secret"]);
        let mut ak: Vec<&String> = cc["apps"][0]
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        ak.sort();
        assert_eq!(ak, ["appId", "authKey", "baseUrl", "region", "restApiKey"]);
        let back: StartupInfo = serde_json::from_value(v).unwrap_or_else(|_| sample().masked());
        assert_eq!(back, sample());
    }
}
