//! The sandbox as a drop-in for the vendors' own clients (issue 16) and its hardening (issue 13,
//! items 6 and 7), over real loopback HTTP: Ably REST at the root of its own listener (JSON and
//! MessagePack; issue, revoke, the token is refused), CometChat's per-app hosts, the vendor's
//! field names and 400s, provider-shaped errors for unknown paths, rate-limit headers on every
//! CometChat answer, duplicated credential headers refused, the header-read timeout, and the
//! fault endpoint behind its token.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use base64::Engine as _;
use keydeck::sandbox::{Sandbox, SandboxOptions, ServeOptions};
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const MSGPACK: &str = "application/x-msgpack";

async fn sandbox_with(serve: ServeOptions) -> Sandbox {
    Sandbox::start_with(
        SandboxOptions {
            port: 0,
            data: None,
            seed_demo_users: false,
        },
        serve,
    )
    .await
    .expect("sandbox starts")
}

async fn headless_like() -> Sandbox {
    sandbox_with(ServeOptions {
        ably_rest_port: Some(0),
        faults_over_http: true,
        ..ServeOptions::default()
    })
    .await
}

fn http() -> reqwest::Client {
    keydeck::providers::http::install_tls_provider();
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
}

fn root(sb: &Sandbox) -> String {
    sb.info().ably.rest_root_url.expect("an Ably REST listener")
}

/// `(keyName, secret)` of the seeded key named `name`.
fn ably_key(sb: &Sandbox, name: &str) -> (String, String) {
    let info = sb.info();
    let k = info
        .ably
        .keys
        .iter()
        .find(|k| k.name == name)
        .expect("seeded key");
    let (key_name, secret) = k.key.split_once(':').expect("keyName:secret");
    (key_name.to_owned(), secret.to_owned())
}

fn basic(key_name: &str, secret: &str) -> String {
    let raw = format!("{key_name}:{secret}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

fn bearer_token(token: &str) -> String {
    format!(
        "Bearer {}",
        base64::engine::general_purpose::STANDARD.encode(token)
    )
}

fn hmac_b64(secret: &[u8], text: &[u8]) -> String {
    let mut key = [0u8; 64];
    key[..secret.len()].copy_from_slice(secret);
    let mut inner = Sha256::new();
    inner.update(key.map(|b| b ^ 0x36));
    inner.update(text);
    let mut outer = Sha256::new();
    outer.update(key.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    base64::engine::general_purpose::STANDARD.encode(outer.finalize())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

async fn json_of(resp: reqwest::Response) -> (u16, HeaderMap, Value) {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.json::<Value>().await.unwrap_or(Value::Null);
    (status, headers, body)
}

#[tokio::test]
async fn ably_rest_at_the_root_tells_the_time_and_issues_tokens_the_key_allows() {
    let sb = headless_like().await;
    let c = http();
    let base = root(&sb);
    let before = now_ms();
    let (status, _, body) = json_of(c.get(format!("{base}/time")).send().await.unwrap()).await;
    assert_eq!(status, 200);
    let t = body[0].as_i64().expect("[ms]");
    assert!(t >= before - 1000 && t <= now_ms() + 1000, "{t}");

    // Token params with Basic auth.
    let (root_name, root_secret) = ably_key(&sb, "Root");
    let url = format!("{base}/keys/{root_name}/requestToken");
    let resp = c
        .post(&url)
        .header("authorization", basic(&root_name, &root_secret))
        .json(&json!({"clientId": "alice", "ttl": 60_000, "capability": "{\"chat:*\":[\"subscribe\"]}"}))
        .send()
        .await
        .unwrap();
    let (status, _, td) = json_of(resp).await;
    assert_eq!(status, 200, "{td}");
    assert_eq!(td["keyName"], root_name.as_str());
    assert_eq!(td["clientId"], "alice");
    assert_eq!(td["capability"], "{\"chat:*\":[\"subscribe\"]}");
    assert_eq!(
        td["expires"].as_i64().unwrap() - td["issued"].as_i64().unwrap(),
        60_000
    );

    // A signed TokenRequest, no auth header, as ably-js's createTokenRequest makes it.
    let (chat_name, chat_secret) = ably_key(&sb, "Chat client");
    let ts = now_ms();
    let text = format!("{chat_name}\n\n\nbob\n{ts}\nn0nce\n");
    let signed = json!({
        "keyName": chat_name, "clientId": "bob", "timestamp": ts, "nonce": "n0nce",
        "mac": hmac_b64(chat_secret.as_bytes(), text.as_bytes()),
    });
    let url = format!("{base}/keys/{chat_name}/requestToken");
    let (status, _, td) = json_of(c.post(&url).json(&signed).send().await.unwrap()).await;
    assert_eq!(status, 200, "{td}");
    assert_eq!(td["clientId"], "bob");
    // The key's own capability, and a revocable key's one-hour default.
    assert_eq!(
        td["capability"],
        "{\"chat:*\":[\"presence\",\"publish\",\"subscribe\"]}"
    );
    assert_eq!(
        td["expires"].as_i64().unwrap() - td["issued"].as_i64().unwrap(),
        3_600_000
    );

    // A wrong mac, a TTL over the revocable key's one-hour cap, a capability outside the key.
    let mut forged = signed.clone();
    forged["mac"] = json!(hmac_b64(b"not the secret", text.as_bytes()));
    let (status, headers, body) = json_of(c.post(&url).json(&forged).send().await.unwrap()).await;
    assert_eq!((status, body["error"]["code"].as_i64()), (401, Some(40101)));
    assert_eq!(headers["x-ably-errorcode"], "40101");
    let chat_basic = basic(&chat_name, &chat_secret);
    for (params, code) in [
        (json!({"ttl": 7_200_000}), 40003),
        (json!({"capability": "{\"private\":[\"publish\"]}"}), 40160),
    ] {
        let resp = c
            .post(&url)
            .header("authorization", &chat_basic)
            .json(&params)
            .send()
            .await
            .unwrap();
        let (_, _, body) = json_of(resp).await;
        assert_eq!(body["error"]["code"].as_i64(), Some(code), "{params}");
    }
    sb.shutdown().await;
}

/// Issues a token for `client_id` from the Chat client key (revocable tokens).
async fn chat_token(c: &reqwest::Client, sb: &Sandbox, client_id: &str) -> String {
    let (name, secret) = ably_key(sb, "Chat client");
    let resp = c
        .post(format!("{}/keys/{name}/requestToken", root(sb)))
        .header("authorization", basic(&name, &secret))
        .json(&json!({ "clientId": client_id }))
        .send()
        .await
        .unwrap();
    let (status, _, td) = json_of(resp).await;
    assert_eq!(status, 200, "{td}");
    td["token"].as_str().expect("token").to_owned()
}

/// Publishes one message to `chat:lobby` with the token: the status and the answer.
async fn publish_status(c: &reqwest::Client, sb: &Sandbox, token: &str) -> (u16, Value) {
    let resp = c
        .post(format!("{}/channels/chat:lobby/messages", root(sb)))
        .header("authorization", bearer_token(token))
        .json(&json!({"name": "greeting", "data": "hi"}))
        .send()
        .await
        .unwrap();
    let (status, _, body) = json_of(resp).await;
    (status, body)
}

#[tokio::test]
async fn a_token_issued_here_is_refused_once_revoked_in_json_and_in_messagepack() {
    let sb = headless_like().await;
    let c = http();
    let (name, secret) = ably_key(&sb, "Chat client");
    let url = format!("{}/keys/{name}/revokeTokens", root(&sb));

    // JSON.
    let alice = chat_token(&c, &sb, "alice").await;
    let carol = chat_token(&c, &sb, "carol").await;
    let (status, body) = publish_status(&c, &sb, &alice).await;
    assert_eq!(
        (status, body["channel"].as_str()),
        (201, Some("chat:lobby"))
    );
    // The Chat client key grants no history.
    let resp = c
        .get(format!("{}/channels/chat:lobby/messages", root(&sb)))
        .header("authorization", bearer_token(&alice))
        .send()
        .await
        .unwrap();
    let (status, _, body) = json_of(resp).await;
    assert_eq!((status, body["error"]["code"].as_i64()), (401, Some(40160)));
    let resp = c
        .post(&url)
        .header("authorization", basic(&name, &secret))
        .header("x-ably-version", "6")
        .json(&json!({"targets": ["clientId:alice", "nonsense"]}))
        .send()
        .await
        .unwrap();
    let (status, _, body) = json_of(resp).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["successCount"].as_i64(), body["failureCount"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(body["results"][0]["target"], "clientId:alice");
    assert_eq!(body["results"][1]["error"]["code"], 40000);
    let (status, body) = publish_status(&c, &sb, &alice).await;
    assert_eq!((status, body["error"]["code"].as_i64()), (401, Some(40141)));
    // Another client's token still works; a token issued after the revocation too.
    assert_eq!(publish_status(&c, &sb, &carol).await.0, 201);
    tokio::time::sleep(Duration::from_millis(5)).await;
    let fresh = chat_token(&c, &sb, "alice").await;
    assert_eq!(publish_status(&c, &sb, &fresh).await.0, 201);

    // MessagePack both ways, as ably-js sends it by default in Node.
    let body = rmp_serde::to_vec_named(&json!({"targets": ["clientId:carol"]})).unwrap();
    let resp = c
        .post(&url)
        .header("authorization", basic(&name, &secret))
        .header("x-ably-version", "6")
        .header("content-type", MSGPACK)
        .header("accept", MSGPACK)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], MSGPACK);
    let bytes = resp.bytes().await.unwrap();
    let result: Value = rmp_serde::from_slice(&bytes).expect("a MessagePack answer");
    assert_eq!(result["successCount"], 1);
    assert_eq!(result["results"][0]["target"], "clientId:carol");
    let (status, body) = publish_status(&c, &sb, &carol).await;
    assert_eq!((status, body["error"]["code"].as_i64()), (401, Some(40141)));
    assert_eq!(sb.ably_revocations().len(), 2);
    sb.shutdown().await;
}

#[tokio::test]
async fn the_embedded_sandbox_has_no_second_listener_and_no_fault_endpoint() {
    let sb = sandbox_with(ServeOptions::default()).await;
    assert_eq!(sb.ably_rest_addr(), None);
    assert!(sb.info().ably.rest_root_url.is_none() && sb.info().faults.is_none());
    let c = http();
    let url = format!("{}/_sandbox/faults", sb.base_url());
    let resp = c
        .put(&url)
        .json(&json!([{"pathContains": "/users", "fault": {"type": "status", "status": 500}}]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert!(sb.faults().is_empty(), "nothing was set over HTTP");
    sb.shutdown().await;
}

#[tokio::test]
async fn the_fault_endpoint_needs_the_runs_token() {
    let sb = headless_like().await;
    let info = sb.info().faults.expect("served over HTTP");
    assert_eq!(Some(info.token.clone()), sb.faults_token());
    let c = http();
    let rules = json!([{"pathContains": "/users", "fault": {"type": "status", "status": 503}}]);
    for auth in [None, Some("Bearer wrong".to_owned())] {
        let mut req = c.put(&info.url).json(&rules);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        assert_eq!(req.send().await.unwrap().status(), 401);
    }
    assert_eq!(c.get(&info.url).send().await.unwrap().status(), 401);
    assert!(sb.faults().is_empty());
    let ok = c
        .put(&info.url)
        .header("authorization", format!("Bearer {}", info.token))
        .json(&rules)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(sb.faults().len(), 1);
    sb.shutdown().await;
}

#[tokio::test]
async fn cometchat_answers_at_its_per_app_host_and_at_the_path_prefix() {
    let sb = headless_like().await;
    let info = sb.info();
    let app = &info.cometchat.apps[0];
    assert_eq!(
        app.host_base_url,
        format!(
            "http://{}.api-{}.localhost:{}/v3",
            app.app_id,
            app.region,
            sb.addr().port()
        )
    );
    let host = format!("{}.api-{}.localhost", app.app_id, app.region);
    let c = reqwest::Client::builder()
        .no_proxy()
        .resolve(&host, sb.addr())
        .build()
        .unwrap();
    for url in [
        format!("{}/users?perPage=5", app.host_base_url),
        format!("http://{host}:{}/v3.0/users?perPage=5", sb.addr().port()),
        format!("{}/users?perPage=5", app.base_url),
    ] {
        let resp = c
            .get(&url)
            .header("apikey", &app.rest_api_key)
            .send()
            .await
            .unwrap();
        let (status, headers, body) = json_of(resp).await;
        assert_eq!(status, 200, "{url}: {body}");
        assert!(body["data"].is_array(), "{url}");
        assert!(headers.contains_key("x-rate-limit"), "{url}");
    }
    // Another region's host does not reach this app.
    let other = format!("{}.api-eu.localhost", app.app_id);
    let c = reqwest::Client::builder()
        .no_proxy()
        .resolve(&other, sb.addr())
        .build()
        .unwrap();
    let resp = c
        .get(format!("http://{other}:{}/v3/users", sb.addr().port()))
        .header("apikey", &app.rest_api_key)
        .send()
        .await
        .unwrap();
    let (status, _, body) = json_of(resp).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("AUTH_ERR_INVALID_APPID"))
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn the_vendor_schema_is_followed_for_reactivation_enums_and_booleans() {
    let sb = headless_like().await;
    let app = sb.info().cometchat.apps[0].clone();
    let c = http();
    let call = |m: reqwest::Method, path: &str| {
        c.request(m, format!("{}{path}", app.base_url))
            .header("apikey", &app.rest_api_key)
    };
    let r = call(reqwest::Method::POST, "/users")
        .json(&json!({"uid": "r1", "name": "R One"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = call(reqwest::Method::DELETE, "/users")
        .json(&json!({"uidsToDeactivate": ["r1"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (status, _, body) = json_of(
        call(reqwest::Method::PUT, "/users")
            .json(&json!({"uidsToActivate": ["r1"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["nonDeactivatedUids"], json!(["r1"]));
    assert!(body["data"].get("reactivatedUids").is_none());

    for (path, field) in [
        ("/apikeys?scope=", "scope"),
        ("/apikeys?scope=everything", "scope"),
        ("/users?count=null", "count"),
        ("/users?withTags=", "withTags"),
        ("/users?status=", "status"),
        ("/users?onlyDeactivated=yes", "onlyDeactivated"),
    ] {
        let (status, headers, body) =
            json_of(call(reqwest::Method::GET, path).send().await.unwrap()).await;
        assert_eq!(status, 400, "{path}");
        assert_eq!(body["error"]["code"], "ERR_BAD_REQUEST", "{path}");
        assert!(body["error"]["details"][field].is_array(), "{path}: {body}");
        assert!(headers.contains_key("x-rate-limit"), "{path}");
    }
    let (status, _, body) = json_of(
        call(
            reqwest::Method::GET,
            "/users?page=4006172366106490916831232",
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["details"]["page"][0],
        "The page must be an integer."
    );
    // Fields typed plain string/boolean/object refuse null and wrong shapes (found by
    // schemathesis); clearing goes through `unset`.
    for (patch, field) in [
        (json!({"tags": null}), "tags"),
        (json!({"avatar": null}), "avatar"),
        (json!({"unset": null}), "unset"),
        (json!({"metadata": {"@private": [1]}}), "metadata.@private"),
        (
            json!({"metadata": {"@private": {"contactNumber": {}}}}),
            "metadata.@private.contactNumber",
        ),
    ] {
        let (status, _, body) = json_of(
            call(reqwest::Method::PUT, "/users/r1")
                .json(&patch)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 400, "{patch}");
        assert!(
            body["error"]["details"][field].is_array(),
            "{patch}: {body}"
        );
    }
    let (status, _, body) = json_of(
        call(reqwest::Method::DELETE, "/users/r1")
            .json(&json!({"permanent": null}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body["error"]["details"]["permanent"].is_array());
    for path in [
        "/users?count=true",
        "/users?withTags=0",
        "/apikeys?scope=authOnly",
    ] {
        let r = call(reqwest::Method::GET, path).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn unknown_paths_answer_in_their_providers_shape_and_cometchat_always_sends_rate_limits() {
    let sb = headless_like().await;
    let app = sb.info().cometchat.apps[0].clone();
    let c = http();
    let base = sb.base_url();
    let get = |url: String| c.get(url).send();

    let (s, h, b) = json_of(get(format!("{base}/keys/x.y/requestToken")).await.unwrap()).await;
    assert_eq!((s, b["error"]["code"].as_i64()), (404, Some(40400)), "{b}");
    assert_eq!(h["x-ably-errorcode"], "40400");
    let (s, _, b) = json_of(
        get(format!("{base}/ably/control/v1/nowhere"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s, b["code"].as_i64(), b["statusCode"].as_i64()),
        (404, Some(40400), Some(404)),
        "{b}"
    );
    // A Control API path asked with a method it does not route: 405 with Allow.
    let resp = c
        .delete(format!("{base}/ably/control/v1/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.headers()["allow"], "GET");
    let (s, _, b) = json_of(get(format!("{base}/cometly/nowhere")).await.unwrap()).await;
    assert_eq!(s, 404);
    assert!(b["message"].is_string() && b.get("error").is_none(), "{b}");
    let (s, _, b) = json_of(get(format!("{base}/cometchat-mgmt/nowhere")).await.unwrap()).await;
    assert_eq!(
        (s, b["error"]["source"].as_str()),
        (404, Some("mgmt-api")),
        "{b}"
    );
    let (s, h, b) = json_of(get(format!("{base}/nowhere")).await.unwrap()).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (404, Some("ERR_API_NOT_FOUND"))
    );
    assert!(h.contains_key("x-rate-limit"));
    let (s, h, b) = json_of(get(format!("{}/ably/nowhere", root(&sb))).await.unwrap()).await;
    assert_eq!((s, b["error"]["code"].as_i64()), (404, Some(40400)), "{b}");
    assert!(!h.contains_key("x-rate-limit"));

    // CometChat errors carry the rate-limit headers: no key, a wrong key, an unknown operation,
    // an unknown app.
    for (url, key, status) in [
        (format!("{}/users", app.base_url), None, 401),
        (format!("{}/users", app.base_url), Some("nope"), 401),
        (
            format!("{}/groups", app.base_url),
            Some(app.rest_api_key.as_str()),
            404,
        ),
        (
            format!("{base}/cometchat/nosuchapp/v3/users"),
            Some("nope"),
            404,
        ),
    ] {
        let mut req = c.get(&url);
        if let Some(k) = key {
            req = req.header("apikey", k);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status().as_u16(), status, "{url}");
        for h in ["x-rate-limit", "x-rate-limit-remaining"] {
            assert!(resp.headers().contains_key(h), "{url} lacks {h}");
        }
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn a_repeated_credential_header_is_refused() {
    let sb = headless_like().await;
    let app = sb.info().cometchat.apps[0].clone();
    let c = http();
    let mut two = HeaderMap::new();
    two.append("apikey", HeaderValue::from_str(&app.rest_api_key).unwrap());
    two.append("apikey", HeaderValue::from_static("wrong"));
    let resp = c
        .get(format!("{}/users", app.base_url))
        .headers(two)
        .send()
        .await
        .unwrap();
    let (status, _, body) = json_of(resp).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("ERR_BAD_REQUEST")),
        "{body}"
    );
    // The same key once is fine.
    let ok = c
        .get(format!("{}/users", app.base_url))
        .header("apikey", &app.rest_api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);

    let (name, secret) = ably_key(&sb, "Chat client");
    let mut two = HeaderMap::new();
    two.append(
        "authorization",
        HeaderValue::from_str(&basic(&name, &secret)).unwrap(),
    );
    two.append(
        "authorization",
        HeaderValue::from_static("Basic d3Jvbmc6d3Jvbmc="),
    );
    let resp = c
        .post(format!("{}/keys/{name}/revokeTokens", root(&sb)))
        .headers(two)
        .json(&json!({"targets": ["clientId:x"]}))
        .send()
        .await
        .unwrap();
    let (status, _, body) = json_of(resp).await;
    assert_eq!(
        (status, body["error"]["code"].as_i64()),
        (400, Some(40000)),
        "{body}"
    );
    assert!(sb.ably_revocations().is_empty());
    sb.shutdown().await;
}

/// Opens a connection that sends part of a request head and then nothing more; returns how
/// long the server took to close it (`None`: still open after `limit`).
async fn slow_client(
    addr: SocketAddr,
    partial: &'static [u8],
    limit: Duration,
) -> Option<Duration> {
    let started = Instant::now();
    let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
    s.write_all(partial).await.ok()?;
    let mut buf = [0u8; 512];
    loop {
        match tokio::time::timeout(limit.saturating_sub(started.elapsed()), s.read(&mut buf)).await
        {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
            // A 408 or similar before the close is fine; keep reading until the close.
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_never_finish_their_headers_are_closed() {
    let timeout = Duration::from_millis(400);
    let sb = sandbox_with(ServeOptions {
        ably_rest_port: Some(0),
        header_read_timeout: timeout,
        ..ServeOptions::default()
    })
    .await;
    let addrs = [sb.addr(), sb.ably_rest_addr().expect("listener")];
    let mut tasks = Vec::new();
    for i in 0..60 {
        let partial: &'static [u8] = match i % 3 {
            0 => b"",
            1 => b"GET /cometchat/x/v3/users HTTP/1.1\r\n",
            _ => b"GET /time HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1",
        };
        tasks.push(tokio::spawn(slow_client(
            addrs[i % 2],
            partial,
            Duration::from_secs(5),
        )));
    }
    for t in tasks {
        let closed = t.await.unwrap().expect("closed by the server within 5 s");
        assert!(
            closed >= timeout.mul_f32(0.8),
            "closed too early: {closed:?}"
        );
    }
    // A complete request on a fresh connection is served as usual.
    let resp = http()
        .get(format!("{}/time", root_of(&sb)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    sb.shutdown().await;
}

fn root_of(sb: &Sandbox) -> String {
    format!("http://{}", sb.ably_rest_addr().expect("listener"))
}
