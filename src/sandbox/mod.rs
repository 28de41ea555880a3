//! The local emulator of the provider APIs.
//!
//! One server on `127.0.0.1`, one SQLite store. Surfaces:
//! * `/cometchat/{appId}/v3/…` (and `/v3.0/…`): the CometChat chat REST API (API keys, users,
//!   auth tokens); also at the real API's root paths `/v3/…` for a request whose `Host` is the
//!   app's own, `{appId}.api-{region}.localhost:{port}` (`front.rs`);
//! * `/cometchat-mgmt/…`: the CometChat Management API (apps);
//! * `/ably/control/v1/…`: the Ably Control API (apps and keys, Bearer access tokens);
//! * `/ably/rest/…`: Ably's REST API (`ably_rest.rs`: time, tokens, revocation), which
//!   `keydeck sandbox` also serves at the root of a second listener for ably-js;
//! * `/cometly/public-api/v1/…`: Cometly's public API (`/companies`, `/events`) for key tests;
//! * `/_sandbox/faults`: fault injection rules (`GET`, `PUT` a JSON list, `DELETE`), applied by a
//!   middleware over every other route (see `faults.rs`); over HTTP only when started with
//!   [`ServeOptions::faults_over_http`], and then only with the run's token.
//!
//! Anything else answers 404 in the error envelope of the provider the path belongs to. A
//! request that repeats a credential header is refused with 400.

mod ably;
mod ably_rest;
mod cometchat;
mod cometly;
mod faults;
mod front;
mod http;
mod management;
mod serve;
mod store;
mod user_blocks;

use std::fmt;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::routing::{any, get};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::secret::mask;
pub use ably::Revocation as AblyRevocation;
use cometly::CometlyLimiter;
pub use faults::{Fault, FaultRule};
use http::RateLimiter;
use store::Store;
pub use user_blocks::SeedReport;

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

/// How long a connection may take to send its request headers before it is closed.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// What the sandbox serves beyond the surfaces every caller gets. The default (what
/// [`Sandbox::start`] uses, and so the app's embedded sandbox) adds nothing: no second listener,
/// no fault endpoint over HTTP.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Also serve Ably's REST API at the root of a listener on this port of 127.0.0.1 (0 picks
    /// a free one), as ably-js expects it (`restHost`, `port`, `tls: false`).
    pub ably_rest_port: Option<u16>,
    /// Serve `/_sandbox/faults` over HTTP, guarded by a token made for this run
    /// ([`Sandbox::faults_token`]). Without it faults are set through the Rust handle only.
    pub faults_over_http: bool,
    /// Connections that have not sent complete request headers after this long are closed.
    pub header_read_timeout: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            ably_rest_port: None,
            faults_over_http: false,
            header_read_timeout: HEADER_READ_TIMEOUT,
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
    /// The token `/_sandbox/faults` requires; `None` when it is not served.
    faults_token: Option<Arc<str>>,
}

/// A running sandbox server.
pub struct Sandbox {
    addr: SocketAddr,
    ably_rest_addr: Option<SocketAddr>,
    state: SharedState,
    shutdown: watch::Sender<bool>,
    servers: Vec<JoinHandle<()>>,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("addr", &self.addr)
            .field("ably_rest_addr", &self.ably_rest_addr)
            .finish()
    }
}

/// What the sandbox serves, with the credentials to call it.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct StartupInfo {
    pub cometchat: CometChatInfo,
    pub ably: AblyInfo,
    pub cometly: CometlyInfo,
    /// The fault endpoint and its token, when served over HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faults: Option<FaultsInfo>,
}

/// `PUT/GET/DELETE {url}` with `Authorization: Bearer {token}`.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct FaultsInfo {
    pub url: String,
    pub token: String,
}

/// An Ably API key of the seeded account: `appId.keyId:secret`, what `new Ably.Rest({ key })`
/// takes.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AblyKeyInfo {
    pub name: String,
    pub key: String,
    pub revocable_tokens: bool,
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
    /// `http://127.0.0.1:{port}`: Ably's REST API at the root, for ably-js (`restHost`, `port`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rest_root_url: Option<String>,
    /// The seeded account's API keys.
    #[serde(default)]
    pub keys: Vec<AblyKeyInfo>,
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
    /// The path-prefix form, `http://127.0.0.1:{port}/cometchat/{appId}/v3`.
    pub base_url: String,
    /// The per-app host form, `http://{appId}.api-{region}.localhost:{port}/v3`, like the real
    /// `https://{appId}.api-{region}.cometchat.io/v3` (`*.localhost` is loopback).
    #[serde(default)]
    pub host_base_url: String,
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
                        host_base_url: a.host_base_url.clone(),
                        rest_api_key: mask(&a.rest_api_key),
                        auth_key: mask(&a.auth_key),
                    })
                    .collect(),
            },
            ably: AblyInfo {
                control_url: self.ably.control_url.clone(),
                rest_url: self.ably.rest_url.clone(),
                rest_root_url: self.ably.rest_root_url.clone(),
                keys: self
                    .ably
                    .keys
                    .iter()
                    .map(|k| AblyKeyInfo {
                        name: k.name.clone(),
                        key: mask(&k.key),
                        revocable_tokens: k.revocable_tokens,
                    })
                    .collect(),
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
            faults: self.faults.as_ref().map(|f| FaultsInfo {
                url: f.url.clone(),
                token: mask(&f.token),
            }),
        }
    }
}

impl fmt::Debug for StartupInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StartupInfo")
            .field("cometchat", &self.cometchat)
            .field("ably", &self.ably)
            .field("cometly", &self.cometly)
            .field("faults", &self.faults)
            .finish()
    }
}

impl fmt::Debug for FaultsInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultsInfo")
            .field("url", &self.url)
            .field("token", &mask(&self.token))
            .finish()
    }
}

impl fmt::Debug for AblyKeyInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AblyKeyInfo")
            .field("name", &self.name)
            .field("key", &mask(&self.key))
            .field("revocable_tokens", &self.revocable_tokens)
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
            .field("rest_root_url", &self.rest_root_url)
            .field("keys", &self.keys)
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
            .field("host_base_url", &self.host_base_url)
            .field("rest_api_key", &mask(&self.rest_api_key))
            .field("auth_key", &mask(&self.auth_key))
            .finish()
    }
}

/// The main listener's router; new surfaces are nested here.
fn router(state: SharedState) -> Router {
    let mut r = Router::new()
        .route("/cometchat/{app_id}/{*rest}", any(cometchat::handle))
        .route("/cometchat-calls/{app_id}/{*rest}", any(cometchat::handle))
        .route("/cometchat-mgmt/{*rest}", any(management::handle))
        .route("/ably/control/v1/{*rest}", any(ably::control))
        .route("/ably/rest/{*rest}", any(ably_rest::handle))
        .route("/cometly/public-api/v1/{*rest}", any(cometly::handle));
    if state.faults_token.is_some() {
        r = r.route(
            "/_sandbox/faults",
            get(faults::list).put(faults::put).delete(faults::clear),
        );
    }
    r.fallback(front::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            faults::layer,
        ))
        .layer(axum::middleware::from_fn(front::single_credentials))
        .with_state(state)
}

/// The Ably REST listener's router: Ably's paths at the root.
fn ably_rest_router(state: SharedState) -> Router {
    Router::new()
        .route("/{*rest}", any(ably_rest::handle))
        .fallback(front::ably_not_found)
        .layer(axum::middleware::from_fn(front::single_credentials_ably))
        .with_state(state)
}

/// Binds `127.0.0.1:port`.
async fn bind(port: u16) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("binding 127.0.0.1:{port}"))
}

/// Opens the store and lets each surface seed itself once (so a store made before a surface
/// existed gains it). The seeding is called from here, not from the store, so that the store
/// does not depend on the routes' modules.
/// The live app `app_id`, or the first live app (the demo app) when none is named: where a
/// seed puts its `what` ("users", "keys").
fn live_app(
    tx: &rusqlite::Connection,
    app_id: Option<&str>,
    what: &str,
) -> anyhow::Result<store::AppRow> {
    Ok(match app_id {
        Some(id) => store::get_app(tx, id)?
            .filter(|a| a.deleted_at.is_none())
            .with_context(|| format!("no live app {id} to seed {what} into"))?,
        None => store::live_apps(tx)?
            .into_iter()
            .next()
            .with_context(|| format!("no live app to seed {what} into"))?,
    })
}

fn open_store(data: Option<&std::path::Path>, seed_demo_users: bool) -> anyhow::Result<Store> {
    let store = Store::open(data)?;
    store.with_tx(|tx| store::seed(tx, seed_demo_users))?;
    store.with_tx(ably::seed)?;
    store.with_tx(cometly::seed)?;
    Ok(store)
}

impl Sandbox {
    /// Binds 127.0.0.1:port, opens/creates + seeds the store, spawns the server on the current
    /// tokio runtime. The surfaces every caller gets; see [`Sandbox::start_with`] for more.
    pub async fn start(opts: SandboxOptions) -> anyhow::Result<Sandbox> {
        Sandbox::start_with(opts, ServeOptions::default()).await
    }

    /// [`Sandbox::start`], plus what `serve` asks for: Ably REST at the root of a second
    /// listener, the fault endpoint over HTTP (with a per-run token).
    pub async fn start_with(opts: SandboxOptions, serve: ServeOptions) -> anyhow::Result<Sandbox> {
        let data = opts.data.clone();
        let seed = opts.seed_demo_users;
        let store = tokio::task::spawn_blocking(move || open_store(data.as_deref(), seed))
            .await
            .context("opening the sandbox store")??;
        let listener = bind(opts.port).await?;
        let addr = listener.local_addr()?;
        let ably_listener = match serve.ably_rest_port {
            Some(port) => Some(bind(port).await?),
            None => None,
        };
        let ably_rest_addr = ably_listener.as_ref().map(|l| l.local_addr()).transpose()?;
        let state = SharedState {
            store,
            limiter: Arc::new(RateLimiter::default()),
            cometly_limiter: Arc::new(CometlyLimiter::default()),
            faults: Arc::new(faults::FaultSet::default()),
            faults_token: serve
                .faults_over_http
                .then(|| Arc::from(store::random_hex(24))),
        };
        let (tx, rx) = watch::channel(false);
        let timeout = serve.header_read_timeout;
        let mut servers = vec![tokio::spawn(serve::serve(
            listener,
            router(state.clone()),
            front::route_per_app_host,
            timeout,
            rx.clone(),
        ))];
        if let Some(l) = ably_listener {
            let app = ably_rest_router(state.clone());
            servers.push(tokio::spawn(serve::serve(
                l,
                app,
                front::unchanged,
                timeout,
                rx,
            )));
        }
        tracing::info!(%addr, ?ably_rest_addr, "sandbox listening");
        Ok(Sandbox {
            addr,
            ably_rest_addr,
            state,
            shutdown: tx,
            servers,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The Ably REST listener's address, when one was asked for.
    pub fn ably_rest_addr(&self) -> Option<SocketAddr> {
        self.ably_rest_addr
    }

    /// The token `/_sandbox/faults` requires, when it is served over HTTP.
    pub fn faults_token(&self) -> Option<String> {
        self.state.faults_token.as_deref().map(str::to_owned)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The current (non-deleted) apps, re-read from the store, with their secrets.
    pub fn info(&self) -> StartupInfo {
        let base = self.base_url();
        let rest_root_url = self.ably_rest_addr.map(|a| format!("http://{a}"));
        let faults = self.faults_token().map(|token| FaultsInfo {
            url: format!("{base}/_sandbox/faults"),
            token,
        });
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
                    host_base_url: format!(
                        "http://{}.api-{}.localhost:{}/v3",
                        app.id,
                        app.region,
                        self.addr.port()
                    ),
                    rest_api_key: first("fullAccess"),
                    auth_key: first("authOnly"),
                    app_id: app.id,
                    region: app.region,
                });
            }
            let ably = ably::credentials(tx)?;
            let ably_keys = ably::keys(tx)?
                .into_iter()
                .map(|k| AblyKeyInfo {
                    name: k.name,
                    key: k.key,
                    revocable_tokens: k.revocable_tokens,
                })
                .collect();
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
                    rest_root_url: rest_root_url.clone(),
                    keys: ably_keys,
                    access_token: ably.access_token,
                    account_id: ably.account_id,
                    read_only_token: ably.read_only_token,
                },
                cometly: CometlyInfo {
                    base_url: format!("{base}/cometly/public-api/v1"),
                    keys: cometly_keys,
                },
                faults: faults.clone(),
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
                    rest_root_url,
                    keys: Vec::new(),
                    access_token: String::new(),
                    account_id: String::new(),
                    read_only_token: String::new(),
                },
                cometly: CometlyInfo {
                    base_url: format!("{base}/cometly/public-api/v1"),
                    keys: Vec::new(),
                },
                faults,
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

    /// Adds synthetic users `user-0000001 … user-{n}` (demo names, a few roles, statuses and
    /// tags, about one in a thousand deactivated) that the app does not have yet, in one
    /// transaction: a million take seconds. `app_id` `None` is the first live app (the demo
    /// app). Requests wait while it runs.
    pub async fn seed_users(&self, app_id: Option<&str>, n: u64) -> anyhow::Result<SeedReport> {
        let store = self.state.store.clone();
        let app_id = app_id.map(str::to_owned);
        tokio::task::spawn_blocking(move || {
            store.with_tx(|tx| {
                let app = live_app(tx, app_id.as_deref(), "users")?;
                user_blocks::seed_many(tx, &app.id, n)
            })
        })
        .await
        .context("seeding users")?
    }

    /// Adds `n` API keys to an app (`many-key-00001 …`, alternately fullAccess and authOnly,
    /// created a day apart over the past two years) in one transaction: a large key inventory
    /// without `n` requests (the inventory benchmark). `app_id` `None` is the first live app
    /// (the demo app).
    pub async fn seed_api_keys(&self, app_id: Option<&str>, n: u64) -> anyhow::Result<()> {
        let store = self.state.store.clone();
        let app_id = app_id.map(str::to_owned);
        tokio::task::spawn_blocking(move || {
            store.with_tx(|tx| {
                let app = live_app(tx, app_id.as_deref(), "keys")?;
                let now = store::now();
                for i in 1..=n {
                    let scope = if i % 2 == 0 { "fullAccess" } else { "authOnly" };
                    let age_days = i64::try_from(i % 730).unwrap_or(0);
                    store::insert_key(
                        tx,
                        &app.id,
                        &format!("many-key-{i:05}"),
                        scope,
                        "seed",
                        now - age_days * 86_400,
                    )?;
                }
                Ok(())
            })
        })
        .await
        .context("seeding API keys")?
    }

    /// Changes an app's per-minute limit at run time (`None` = unlimited; default 20,000/min).
    /// Starts a fresh 60-second window for that app.
    pub fn set_rate_limit(&self, app_id: &str, per_minute: Option<u32>) {
        self.state.limiter.set_limit(app_id, per_minute);
    }

    /// Stops accepting connections, finishes in-flight requests (for a few seconds at most), and
    /// waits for the server tasks.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for server in self.servers {
            if let Err(e) = server.await {
                tracing::error!("sandbox server task failed: {e}");
            }
        }
    }
}

/// What `keydeck sandbox` was asked for.
#[derive(Debug, Clone, Default)]
pub struct CliOptions {
    /// The main listener's port (0 picks a free one).
    pub port: u16,
    /// The Ably REST listener's port (0 picks a free one).
    pub ably_rest_port: u16,
    pub data: Option<PathBuf>,
    pub print_secrets: bool,
    /// Seed synthetic users `user-0000001 … user-{n}` into the demo app before serving.
    pub seed_users: u64,
}

/// The CLI entry: `keydeck sandbox [--port N] [--ably-rest-port N] [--data FILE]
/// [--print-secrets] [--seed-users N]`. Seeds the users first (saying so on stderr), then
/// prints the StartupInfo JSON as the FIRST line of stdout (masked unless `print_secrets`),
/// flushes, then serves until Ctrl-C/SIGTERM. The headless sandbox serves
/// Ably REST at the root of its own listener and the fault endpoint (with the run's token,
/// printed under `faults`).
pub async fn run_cli(cli: CliOptions) -> anyhow::Result<()> {
    let print_secrets = cli.print_secrets;
    let sandbox = Sandbox::start_with(
        SandboxOptions {
            port: cli.port,
            data: cli.data,
            seed_demo_users: true,
        },
        ServeOptions {
            ably_rest_port: Some(cli.ably_rest_port),
            faults_over_http: true,
            ..ServeOptions::default()
        },
    )
    .await?;
    if cli.seed_users > 0 {
        let r = sandbox.seed_users(None, cli.seed_users).await?;
        eprintln!(
            "keydeck sandbox: app {} has users user-0000001 … {} ({} added in {:.2} s)",
            r.app_id,
            user_blocks::seeded_uid(r.seeded),
            r.added,
            r.elapsed.as_secs_f64()
        );
    }
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
                    host_base_url: "http://fedcba9876543210.api-us.localhost:1/v3".into(),
                    rest_api_key: "1111222233334444555566667777888899990000".into(),
                    auth_key: "9999888877776666555544443333222211110000".into(),
                }],
            },
            ably: AblyInfo {
                control_url: "http://127.0.0.1:1/ably/control/v1".into(),
                rest_url: "http://127.0.0.1:1/ably/rest".into(),
                rest_root_url: Some("http://127.0.0.1:2".into()),
                keys: vec![AblyKeyInfo {
                    name: "Root".into(),
                    key: "AbCdEf.GhIjKl:AblyKeySecretValue0123456789abcdefghijklmn".into(),
                    revocable_tokens: false,
                }],
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
            faults: Some(FaultsInfo {
                url: "http://127.0.0.1:1/_sandbox/faults".into(),
                token: "faultstoken0123456789abcdef0123456789abcdef".into(),
            }),
        }
    }

    const SECRETS: [&str; 9] = [
        "AbCdEf.GhIjKl:AblyKeySecretValue0123456789abcdefghijklmn",
        "faultstoken0123456789abcdef0123456789abcdef",
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
        assert_eq!(top, ["ably", "cometchat", "cometly", "faults"]);
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
                "keys",
                "readOnlyToken",
                "restRootUrl",
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
        assert_eq!(
            ak,
            [
                "appId",
                "authKey",
                "baseUrl",
                "hostBaseUrl",
                "region",
                "restApiKey"
            ]
        );
        let back: StartupInfo = serde_json::from_value(v).unwrap_or_else(|_| sample().masked());
        assert_eq!(back, sample());
    }
}
