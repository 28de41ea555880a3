//! Black-box HTTP tests of the sandbox's CometChat surfaces, over raw reqwest.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

use keydeck::sandbox::{AppInfo, Sandbox, SandboxOptions, StartupInfo};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

struct Fx {
    sb: Sandbox,
    info: StartupInfo,
    http: reqwest::Client,
}

struct Resp {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Resp {
    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
    fn expect_err(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.code(), code, "body: {}", self.body);
        let e = &self.body["error"];
        assert!(
            e["message"].is_string() && e["devMessage"].is_string(),
            "{}",
            self.body
        );
        assert!(e["source"].is_string());
    }
    fn ok(&self) -> &Value {
        assert_eq!(self.status, StatusCode::OK, "body: {}", self.body);
        &self.body["data"]
    }
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

impl Fx {
    async fn new(seed_demo_users: bool) -> Fx {
        Self::with(SandboxOptions {
            seed_demo_users,
            ..SandboxOptions::default()
        })
        .await
    }

    async fn with(opts: SandboxOptions) -> Fx {
        let sb = Sandbox::start(opts).await.expect("sandbox starts");
        let info = sb.info();
        Fx {
            sb,
            info,
            http: {
                keydeck::providers::http::install_tls_provider();
                reqwest::Client::new()
            },
        }
    }

    fn app(&self) -> &AppInfo {
        &self.info.cometchat.apps[0]
    }

    fn key(&self) -> &str {
        &self.app().rest_api_key
    }

    async fn raw(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Resp {
        let mut rb = self.http.request(method, url);
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.expect("request sent");
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.expect("body read");
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("non-JSON response ({status}): {text}"));
        Resp {
            status,
            headers,
            body,
        }
    }

    /// A chat call on the first app with its REST API key.
    async fn chat(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let url = format!("{}{path}", self.app().base_url);
        self.raw(method, &url, &[("apikey", self.key())], body)
            .await
    }

    async fn chat_with(&self, key: &str, method: Method, path: &str, body: Option<Value>) -> Resp {
        let url = format!("{}{path}", self.app().base_url);
        self.raw(method, &url, &[("apikey", key)], body).await
    }

    async fn mgmt(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let m = &self.info.cometchat.management;
        let url = format!("{}{path}", m.base_url);
        self.raw(
            method,
            &url,
            &[("key", &m.key), ("secret", &m.secret)],
            body,
        )
        .await
    }

    async fn create_user(&self, uid: &str, extra: Value) -> Resp {
        let mut body = json!({ "uid": uid, "name": format!("User {uid}") });
        if let (Some(b), Value::Object(e)) = (body.as_object_mut(), extra) {
            b.extend(e);
        }
        self.chat(Method::POST, "/users", Some(body)).await
    }
}

// ------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn startup_info_shape_and_seeded_store() {
    let fx = Fx::new(true).await;
    let info = &fx.info;
    assert_eq!(info.cometchat.apps.len(), 1);
    let app = fx.app();
    assert_eq!(app.app_id.len(), 16);
    assert!(app.app_id.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(app.region, "us");
    assert_eq!(
        app.base_url,
        format!("{}/cometchat/{}/v3", fx.sb.base_url(), app.app_id)
    );
    assert_eq!(app.rest_api_key.len(), 40);
    assert_eq!(app.auth_key.len(), 40);
    let m = &info.cometchat.management;
    assert_eq!(m.base_url, format!("{}/cometchat-mgmt", fx.sb.base_url()));
    assert_eq!(m.key.len(), 16);
    assert_eq!(m.secret.len(), 40);
    assert_eq!(
        fx.sb.base_url(),
        format!("http://127.0.0.1:{}", fx.sb.addr().port())
    );

    // Debug output never shows a secret.
    let dbg = format!("{info:?}");
    assert!(!dbg.contains(&app.rest_api_key) && !dbg.contains(&m.secret));

    // The two default keys.
    let keys = fx.chat(Method::GET, "/apikeys", None).await;
    let data = keys.ok().as_array().expect("array").clone();
    assert_eq!(data.len(), 2);
    let names: Vec<&str> = data.iter().filter_map(|k| k["name"].as_str()).collect();
    assert!(names.contains(&"Rest API Key") && names.contains(&"Auth Key"));

    // Demo users: ~60, some deactivated, some with tokens.
    let all = fx
        .chat(
            Method::GET,
            "/users?withDeactivated=true&perPage=1000",
            None,
        )
        .await;
    let total = all.body["meta"]["pagination"]["total"]
        .as_u64()
        .unwrap_or(0);
    assert!((50..=70).contains(&total), "demo users: {total}");
    let deact = fx
        .chat(Method::GET, "/users?onlyDeactivated=true", None)
        .await;
    assert!(!deact.ok().as_array().expect("array").is_empty());
    let alice = fx.chat(Method::GET, "/users/alice-chen", None).await;
    assert_eq!(alice.ok()["name"], "Alice Chen");
    let toks = fx
        .chat(Method::GET, "/users/alice-chen/auth_tokens", None)
        .await;
    assert!(!toks.ok().as_array().expect("array").is_empty());
    fx.sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_order_and_scopes() {
    let fx = Fx::new(false).await;
    let base = fx.app().base_url.clone();
    let users = format!("{base}/users");

    // Missing apikey → 401 (checked before the app id).
    fx.raw(Method::GET, &users, &[], None)
        .await
        .expect_err(401, "AUTH_ERR_EMPTY_APIKEY");
    let bogus_app = format!("{}/cometchat/0000000000000000/v3/users", fx.sb.base_url());
    fx.raw(Method::GET, &bogus_app, &[], None)
        .await
        .expect_err(401, "AUTH_ERR_EMPTY_APIKEY");
    // Unknown app → 404.
    fx.raw(Method::GET, &bogus_app, &[("apikey", fx.key())], None)
        .await
        .expect_err(404, "AUTH_ERR_INVALID_APPID");
    // Unknown key → 401, and the message does not echo the key in clear.
    let wrong = "f".repeat(40);
    let r = fx
        .raw(Method::GET, &users, &[("apikey", &wrong)], None)
        .await;
    r.expect_err(401, "AUTH_ERR_APIKEY_NOT_FOUND");
    assert!(!r.body.to_string().contains(&wrong));
    // Header name is case-insensitive.
    fx.raw(Method::GET, &users, &[("APIKey", fx.key())], None)
        .await
        .ok();

    // authOnly: may create users and tokens, nothing else.
    let auth = fx.app().auth_key.clone();
    let r = fx
        .chat_with(
            &auth,
            Method::POST,
            "/users",
            Some(json!({"uid":"ao1","name":"Ao"})),
        )
        .await;
    assert_eq!(r.ok()["uid"], "ao1");
    let r = fx
        .chat_with(&auth, Method::POST, "/users/ao1/auth_tokens", None)
        .await;
    assert!(
        r.ok()["authToken"]
            .as_str()
            .unwrap_or("")
            .starts_with("ao1_")
    );
    for (m, p) in [
        (Method::GET, "/users"),
        (Method::GET, "/users/ao1"),
        (Method::PUT, "/users/ao1"),
        (Method::DELETE, "/users/ao1"),
        (Method::GET, "/users/ao1/auth_tokens"),
        (Method::DELETE, "/users/ao1/auth_tokens"),
        (Method::GET, "/apikeys"),
        (Method::POST, "/apikeys"),
    ] {
        let r = fx
            .chat_with(&auth, m.clone(), p, Some(json!({"name":"x"})))
            .await;
        r.expect_err(403, "AUTH_ERR_NO_ACCESS");
        let msg = r.body["error"]["message"].as_str().unwrap_or("");
        assert!(!msg.contains(&auth), "{m} {p} leaked the key");
        assert!(msg.contains(&keydeck::secret::mask(&auth)), "{msg}");
    }
    fx.sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn api_keys_crud_filters_self_action_and_quota() {
    let fx = Fx::new(false).await;
    // Validation: every invalid field named.
    let r = fx.chat(Method::POST, "/apikeys", Some(json!({}))).await;
    r.expect_err(400, "ERR_BAD_REQUEST");
    assert_eq!(
        r.body["error"]["details"]["name"][0],
        "The name field is required."
    );
    assert!(r.body["error"]["details"]["scope"].is_array());
    let r = fx
        .chat(
            Method::POST,
            "/apikeys",
            Some(json!({"name":"  ","scope":"root"})),
        )
        .await;
    r.expect_err(400, "ERR_BAD_REQUEST");
    assert!(r.body["error"]["details"]["name"].is_array());
    assert!(r.body["error"]["details"]["scope"].is_array());
    let long = "n".repeat(101);
    fx.chat(
        Method::POST,
        "/apikeys",
        Some(json!({"name":long,"scope":"authOnly"})),
    )
    .await
    .expect_err(400, "ERR_BAD_REQUEST");

    // Create.
    let r = fx
        .chat(
            Method::POST,
            "/apikeys",
            Some(json!({"name":"CI bot","scope":"fullAccess"})),
        )
        .await;
    let k1 = r.ok().clone();
    let k1key = k1["apiKey"].as_str().expect("key").to_owned();
    assert_eq!(k1key.len(), 40);
    assert!(
        k1key
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    );
    assert_eq!(k1["scope"], "fullAccess");
    assert!(k1["createdAt"].is_i64());
    let r = fx
        .chat(
            Method::POST,
            "/apikeys",
            Some(json!({"name":"Widget","scope":"authOnly"})),
        )
        .await;
    let k2key = r.ok()["apiKey"].as_str().expect("key").to_owned();

    // List: newest first, meta.pagination.
    let r = fx.chat(Method::GET, "/apikeys", None).await;
    let list = r.ok().as_array().expect("array").clone();
    assert_eq!(list.len(), 4);
    assert_eq!(list[0]["apiKey"], k2key.as_str());
    assert_eq!(list[1]["apiKey"], k1key.as_str());
    let p = &r.body["meta"]["pagination"];
    assert_eq!(p["total"], 4);
    assert_eq!(p["count"], 4);
    assert_eq!(p["per_page"], 100);
    assert_eq!(p["current_page"], 1);
    assert_eq!(p["total_pages"], 1);
    let r = fx.chat(Method::GET, "/apikeys?scope=authOnly", None).await;
    let list = r.ok().as_array().expect("array").clone();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["apiKey"], k2key.as_str());
    let r = fx
        .chat(Method::GET, "/apikeys?searchKey=ci%20B", None)
        .await;
    let list = r.ok().as_array().expect("array").clone();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["name"], "CI bot");
    fx.chat(Method::GET, "/apikeys?scope=bogus", None)
        .await
        .expect_err(400, "ERR_BAD_REQUEST");

    // Get / update.
    let r = fx
        .chat(Method::GET, &format!("/apikeys/{k1key}"), None)
        .await;
    assert_eq!(r.ok()["name"], "CI bot");
    let r = fx
        .chat(
            Method::PUT,
            &format!("/apikeys/{k1key}"),
            Some(json!({"name":"CI robot","scope":"authOnly"})),
        )
        .await;
    assert_eq!(r.ok()["name"], "CI robot");
    assert_eq!(r.ok()["scope"], "authOnly");
    fx.chat(
        Method::PUT,
        &format!("/apikeys/{k1key}"),
        Some(json!({"name":""})),
    )
    .await
    .expect_err(400, "ERR_BAD_REQUEST");
    let missing = "0".repeat(40);
    fx.chat(Method::GET, &format!("/apikeys/{missing}"), None)
        .await
        .expect_err(404, "ERR_APIKEY_NOT_FOUND");
    fx.chat(Method::DELETE, &format!("/apikeys/{missing}"), None)
        .await
        .expect_err(404, "ERR_APIKEY_NOT_FOUND");

    // Self action.
    let own = fx.key().to_owned();
    fx.chat(
        Method::PUT,
        &format!("/apikeys/{own}"),
        Some(json!({"name":"x"})),
    )
    .await
    .expect_err(403, "ERR_APIKEY_NO_SELF_ACTION");
    fx.chat(Method::DELETE, &format!("/apikeys/{own}"), None)
        .await
        .expect_err(403, "ERR_APIKEY_NO_SELF_ACTION");

    // Delete: masked key in the message.
    let r = fx
        .chat(Method::DELETE, &format!("/apikeys/{k2key}"), None)
        .await;
    let d = r.ok();
    assert_eq!(d["success"], true);
    let msg = d["message"].as_str().unwrap_or("");
    assert_eq!(
        msg,
        format!(
            "The Api Key {} has been deleted successfully.",
            keydeck::secret::mask(&k2key)
        )
    );
    assert!(!msg.contains(&k2key));
    fx.chat(Method::GET, &format!("/apikeys/{k2key}"), None)
        .await
        .expect_err(404, "ERR_APIKEY_NOT_FOUND");

    // Quota: 25 keys per app (3 exist now).
    for i in 0..22 {
        fx.chat(
            Method::POST,
            "/apikeys",
            Some(json!({"name": format!("k{i}"), "scope":"authOnly"})),
        )
        .await
        .ok();
    }
    fx.chat(
        Method::POST,
        "/apikeys",
        Some(json!({"name":"26th","scope":"authOnly"})),
    )
    .await
    .expect_err(403, "ERR_PLAN_QUOTA_RESTRICTION");
    fx.sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn users_create_get_update_validation() {
    let fx = Fx::new(false).await;
    // Every invalid field named, with the reference's texts.
    let r = fx.chat(Method::POST, "/users", Some(json!({}))).await;
    r.expect_err(400, "ERR_BAD_REQUEST");
    assert_eq!(
        r.body["error"]["message"],
        "Failed to validate the data sent with the request."
    );
    assert_eq!(r.body["error"]["source"], "chat-api");
    assert_eq!(
        r.body["error"]["details"]["uid"][0],
        "The uid field is required."
    );
    assert_eq!(
        r.body["error"]["details"]["name"][0],
        "The name field is required."
    );
    let r = fx
        .chat(
            Method::POST,
            "/users",
            Some(json!({
                "uid": "bad uid!",
                "name": "x",
                "avatar": "not a url",
                "link": "ftp://example.com/x",
                "tags": ["ok", " "],
                "metadata": [1, 2],
            })),
        )
        .await;
    r.expect_err(400, "ERR_BAD_REQUEST");
    let d = &r.body["error"]["details"];
    assert!(d["uid"].is_array(), "{d}");
    assert_eq!(d["avatar"][0], "The avatar must be a valid URL.");
    assert!(d["link"].is_array());
    assert_eq!(d["tags.1"][0], "The tags.1 field is required.");
    assert!(d["metadata"].is_array());
    assert!(d.get("name").is_none());
    let big = json!({"blob": "x".repeat(6000)});
    let r = fx.create_user("meta", json!({"metadata": big})).await;
    r.expect_err(400, "ERR_BAD_REQUEST");
    assert!(r.body["error"]["details"]["metadata"].is_array());
    let tags: Vec<String> = (0..26).map(|i| format!("t{i}")).collect();
    fx.create_user("many", json!({"tags": tags}))
        .await
        .expect_err(400, "ERR_BAD_REQUEST");
    fx.create_user(&"u".repeat(101), json!({}))
        .await
        .expect_err(400, "ERR_BAD_REQUEST");

    // Create: uid lower-cased, defaults, optional fields omitted, token on request.
    let r = fx
        .chat(
            Method::POST,
            "/users",
            Some(json!({
                "uid": "Alice_01",
                "name": "Alice Wonder",
                "tags": ["beta"],
                "withAuthToken": true,
                "metadata": {"@private": {"email": "a@example.com"}},
            })),
        )
        .await;
    let u = r.ok().clone();
    assert_eq!(u["uid"], "alice_01");
    assert_eq!(u["status"], "offline");
    assert_eq!(u["role"], "default");
    assert_eq!(u["tags"], json!(["beta"]));
    assert!(u["createdAt"].is_i64());
    assert!(u.get("avatar").is_none() && u.get("link").is_none());
    assert!(u.as_object().expect("obj").values().all(|v| !v.is_null()));
    let tok = u["authToken"].as_str().expect("token");
    assert!(tok.starts_with("alice_01_"));
    assert_eq!(tok.len(), "alice_01_".len() + 40);

    // Duplicates, also case-folded.
    fx.create_user("ALICE_01", json!({}))
        .await
        .expect_err(400, "ERR_UID_ALREADY_EXISTS");

    // Get (case-insensitive path uid), unknown uid message.
    let r = fx.chat(Method::GET, "/users/Alice_01", None).await;
    assert_eq!(r.ok()["name"], "Alice Wonder");
    assert_eq!(r.ok()["metadata"]["@private"]["email"], "a@example.com");
    let r = fx.chat(Method::GET, "/users/Nobody", None).await;
    r.expect_err(404, "ERR_UID_NOT_FOUND");
    assert_eq!(
        r.body["error"]["message"],
        "The UID nobody does not exist, please make sure you have created a user with UID nobody."
    );
    fx.chat(Method::GET, "/users/%20", None)
        .await
        .expect_err(404, "ERR_UID_NOT_FOUND");

    // onBehalfOf.
    fx.create_user("bob", json!({})).await.ok();
    let url = format!("{}/users/alice_01", fx.app().base_url);
    let r = fx
        .raw(
            Method::GET,
            &url,
            &[("apikey", fx.key()), ("onBehalfOf", "bob")],
            None,
        )
        .await;
    let d = r.ok();
    assert_eq!(d["conversationId"], "alice_01_user_bob");
    assert_eq!(d["blockedByMe"], false);
    assert_eq!(d["hasBlockedMe"], false);
    fx.raw(
        Method::GET,
        &url,
        &[("apikey", fx.key()), ("onBehalfOf", "ghost")],
        None,
    )
    .await
    .expect_err(404, "ERR_UID_NOT_FOUND");
    let list_url = format!("{}/users", fx.app().base_url);
    fx.raw(
        Method::GET,
        &list_url,
        &[("apikey", fx.key()), ("onBehalfOf", "ghost")],
        None,
    )
    .await
    .expect_err(404, "ERR_UID_NOT_FOUND");
    let r = fx
        .raw(
            Method::GET,
            &list_url,
            &[("apikey", fx.key()), ("onBehalfOf", "bob")],
            None,
        )
        .await;
    assert_eq!(r.ok()[0]["conversationId"], "alice_01_user_bob");

    // Update.
    let r = fx
        .chat(
            Method::PUT,
            "/users/alice_01",
            Some(
                json!({"name":"Alice W.","avatar":"https://img.example.com/a.png","role":"admin"}),
            ),
        )
        .await;
    let d = r.ok();
    assert_eq!(d["name"], "Alice W.");
    assert_eq!(d["avatar"], "https://img.example.com/a.png");
    assert_eq!(d["role"], "admin");
    assert!(d["updatedAt"].is_i64());
    let r = fx
        .chat(
            Method::PUT,
            "/users/alice_01",
            Some(json!({"unset":["avatar","metadata"]})),
        )
        .await;
    assert!(r.ok().get("avatar").is_none() && r.ok().get("metadata").is_none());
    let r = fx
        .chat(Method::PUT, "/users/alice_01", Some(json!({"name":""})))
        .await;
    r.expect_err(400, "ERR_BAD_REQUEST");
    assert_eq!(
        r.body["error"]["details"]["name"][0],
        "The name field must have a value."
    );
    fx.chat(Method::PUT, "/users/ghost", Some(json!({"name":"x"})))
        .await
        .expect_err(404, "ERR_UID_NOT_FOUND");
    fx.sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn users_delete_deactivate_reactivate() {
    let fx = Fx::new(false).await;
    for u in ["d1", "d2", "d3"] {
        fx.create_user(u, json!({})).await.ok();
    }
    // Soft delete.
    let r = fx.chat(Method::DELETE, "/users/d1", None).await;
    assert_eq!(r.ok()["deactivatedUids"], json!(["d1"]));
    fx.chat(Method::GET, "/users/d1", None)
        .await
        .expect_err(404, "ERR_UID_NOT_FOUND");
    fx.chat(Method::POST, "/users/d1/auth_tokens", None)
        .await
        .expect_err(404, "ERR_UID_NOT_FOUND");
    fx.create_user("d1", json!({}))
        .await
        .expect_err(400, "ERR_UID_ALREADY_EXISTS");
    let r = fx.chat(Method::GET, "/users", None).await;
    assert_eq!(r.ok().as_array().expect("array").len(), 2);
    let r = fx
        .chat(Method::GET, "/users?withDeactivated=true", None)
        .await;
    assert_eq!(r.ok().as_array().expect("array").len(), 3);
    let r = fx
        .chat(Method::GET, "/users?onlyDeactivated=true", None)
        .await;
    assert_eq!(r.ok()[0]["uid"], "d1");

    // Bulk deactivate.
    let r = fx
        .chat(
            Method::DELETE,
            "/users",
            Some(json!({"uidsToDeactivate":["D2","d1","zz"]})),
        )
        .await;
    let d = r.ok();
    assert_eq!(d["deactivatedUids"], json!(["d2"]));
    assert_eq!(d["alreadyDeactivatedUids"], json!(["d1"]));
    assert_eq!(d["notFound"], json!(["zz"]));
    let r = fx.chat(Method::DELETE, "/users", Some(json!({}))).await;
    r.expect_err(400, "ERR_BAD_REQUEST");
    assert!(r.body["error"]["details"]["uidsToDeactivate"].is_array());

    // Bulk reactivate.
    let r = fx
        .chat(
            Method::PUT,
            "/users",
            Some(json!({"uidsToActivate":["d1","d2","nope"]})),
        )
        .await;
    let d = r.ok();
    assert_eq!(d["nonDeactivatedUids"], json!(["d1", "d2"]));
    assert_eq!(d["notFound"], json!(["nope"]));
    fx.chat(Method::GET, "/users/d1", None).await.ok();

    // Permanent delete removes the user and its tokens; the uid can be reused.
    fx.chat(Method::POST, "/users/d3/auth_tokens", None)
        .await
        .ok();
    let r = fx
        .chat(
            Method::DELETE,
            "/users/d3",
            Some(json!({"permanent": true})),
        )
        .await;
    let d = r.ok();
    assert_eq!(d["success"], true);
    assert_eq!(
        d["message"],
        "User with uid d3 has been deleted successfully."
    );
    let r = fx
        .chat(Method::GET, "/users?withDeactivated=true", None)
        .await;
    assert_eq!(r.ok().as_array().expect("array").len(), 2);
    fx.create_user("d3", json!({})).await.ok();
    let r = fx.chat(Method::GET, "/users/d3/auth_tokens", None).await;
    assert!(r.ok().as_array().expect("array").is_empty());
    fx.chat(Method::DELETE, "/users/ghost", None)
        .await
        .expect_err(404, "ERR_UID_NOT_FOUND");
    fx.sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn users_list_filters_and_pagination_at_scale() {
    let fx = Fx::new(false).await;
    // 1,500 users, created concurrently.
    let fx = std::sync::Arc::new(fx);
    let mut tasks = Vec::new();
    for chunk in 0..10 {
        let fx = fx.clone();
        tasks.push(tokio::spawn(async move {
            for i in (chunk * 150)..((chunk + 1) * 150) {
                let uid = format!("user-{i:05}");
                let name = if i % 100 == 0 {
                    format!("Maria Lopez {i}")
                } else {
                    format!("Person {i}")
                };
                let mut body = json!({"uid": uid, "name": name});
                if i % 250 == 0 {
                    body["tags"] = json!(["gold"]);
                    body["role"] = json!("vip");
                }
                if i % 300 == 1 {
                    body["tags"] = json!(["silver", "x"]);
                }
                let r = fx.chat(Method::POST, "/users", Some(body)).await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }

    // Page through with perPage=1000.
    let r = fx.chat(Method::GET, "/users?perPage=1000", None).await;
    let p1 = r.ok().as_array().expect("array").clone();
    assert_eq!(p1.len(), 1000);
    let pag = &r.body["meta"]["pagination"];
    assert_eq!(pag["total"], 1500);
    assert_eq!(pag["count"], 1000);
    assert_eq!(pag["per_page"], 1000);
    assert_eq!(pag["current_page"], 1);
    assert_eq!(pag["total_pages"], 2);
    assert_eq!(r.body["meta"]["cursor"]["affix"], "append");
    assert!(r.body["meta"]["cursor"]["updatedAt"].is_i64());
    assert_eq!(p1[0]["uid"], "user-00000");
    assert!(p1[0].get("tags").is_none(), "tags only withTags");
    let r = fx
        .chat(Method::GET, "/users?perPage=1000&page=2", None)
        .await;
    let p2 = r.ok().as_array().expect("array").clone();
    assert_eq!(p2.len(), 500);
    assert_eq!(r.body["meta"]["pagination"]["count"], 500);
    assert_eq!(r.body["meta"]["pagination"]["current_page"], 2);
    let mut all: Vec<String> = p1
        .iter()
        .chain(p2.iter())
        .filter_map(|u| u["uid"].as_str().map(str::to_owned))
        .collect();
    let sorted = {
        let mut s = all.clone();
        s.sort();
        s
    };
    assert_eq!(all, sorted, "ordered by uid");
    all.dedup();
    assert_eq!(all.len(), 1500);
    let r = fx
        .chat(Method::GET, "/users?perPage=1000&page=3", None)
        .await;
    assert!(r.ok().as_array().expect("array").is_empty());
    // Default perPage 100.
    let r = fx.chat(Method::GET, "/users", None).await;
    assert_eq!(r.ok().as_array().expect("array").len(), 100);
    assert_eq!(r.body["meta"]["pagination"]["per_page"], 100);
    assert_eq!(r.body["meta"]["pagination"]["total_pages"], 15);
    // Bad paging.
    let r = fx.chat(Method::GET, "/users?perPage=1001", None).await;
    r.expect_err(400, "ERR_BAD_REQUEST");
    assert!(r.body["error"]["details"]["perPage"].is_array());
    fx.chat(Method::GET, "/users?page=0", None)
        .await
        .expect_err(400, "ERR_BAD_REQUEST");

    // searchKey: uid prefix, name prefix, word prefix — case-insensitive.
    let r = fx
        .chat(Method::GET, "/users?searchKey=USER-0149", None)
        .await;
    let uids: Vec<&str> = r
        .ok()
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|u| u["uid"].as_str())
        .collect();
    assert_eq!(uids.len(), 10, "{uids:?}");
    let r = fx.chat(Method::GET, "/users?searchKey=maria", None).await;
    assert_eq!(r.ok().as_array().expect("array").len(), 15);
    let r = fx.chat(Method::GET, "/users?searchKey=LOP", None).await;
    assert_eq!(r.ok().as_array().expect("array").len(), 15);
    let r = fx
        .chat(Method::GET, "/users?searchKey=maria%20lopez%2012", None)
        .await;
    assert_eq!(r.ok()[0]["uid"], "user-01200");
    let r = fx.chat(Method::GET, "/users?searchKey=aria", None).await;
    assert!(
        r.ok().as_array().expect("array").is_empty(),
        "prefix, not substring"
    );

    // tags (any), role, status, withTags.
    let r = fx
        .chat(
            Method::GET,
            "/users?tags=gold,silver&withTags=true&perPage=1000",
            None,
        )
        .await;
    let d = r.ok().as_array().expect("array").clone();
    assert_eq!(
        d.len(),
        6 + 5,
        "gold: 0,250..1250 (6); silver: 1,301,..,1201 (5)"
    );
    assert!(d.iter().all(|u| u["tags"].is_array()));
    let r = fx.chat(Method::GET, "/users?role=vip", None).await;
    assert_eq!(r.ok().as_array().expect("array").len(), 6);
    let r = fx
        .chat(Method::GET, "/users?status=offline&perPage=1", None)
        .await;
    assert_eq!(r.body["meta"]["pagination"]["total"], 1500);
    let r = fx.chat(Method::GET, "/users?status=available", None).await;
    assert!(r.ok().as_array().expect("array").is_empty());
    fx.chat(Method::GET, "/users?status=busy", None)
        .await
        .expect_err(400, "ERR_BAD_REQUEST");
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_tokens_lifecycle() {
    let fx = Fx::new(false).await;
    fx.create_user("tina", json!({})).await.ok();
    // Empty body mints.
    let r = fx.chat(Method::POST, "/users/tina/auth_tokens", None).await;
    let t1 = r.ok().clone();
    let tok1 = t1["authToken"].as_str().expect("token").to_owned();
    let created = t1["createdAt"].as_i64().expect("createdAt");
    assert_eq!(t1["uid"], "tina");
    assert_eq!(&tok1[..5], "tina_");
    assert_eq!(&tok1[5..15], format!("{created:010}"));
    assert_eq!(tok1.len(), 5 + 40);
    assert!(
        tok1[15..]
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    );
    // force:false returns the newest token for the same platform.
    let r = fx
        .chat(
            Method::POST,
            "/users/tina/auth_tokens",
            Some(json!({"force": false})),
        )
        .await;
    assert_eq!(r.ok()["authToken"], tok1.as_str());
    // force:true always mints.
    let r = fx
        .chat(
            Method::POST,
            "/users/tina/auth_tokens",
            Some(json!({"force": true})),
        )
        .await;
    let tok2 = r.ok()["authToken"].as_str().expect("token").to_owned();
    assert_ne!(tok1, tok2);
    // A different platform mints too.
    let r = fx
        .chat(
            Method::POST,
            "/users/tina/auth_tokens",
            Some(json!({"platform":"ios","userAgent":"UA/1","appInfo":{"version":"1"}})),
        )
        .await;
    let t3 = r.ok().clone();
    let tok3 = t3["authToken"].as_str().expect("token").to_owned();
    assert_eq!(t3["platform"], "ios");
    assert_eq!(t3["appInfo"]["version"], "1");

    // List newest first.
    let r = fx.chat(Method::GET, "/users/tina/auth_tokens", None).await;
    let list = r.ok().as_array().expect("array").clone();
    assert_eq!(list.len(), 3);
    assert_eq!(list[0]["authToken"], tok3.as_str());
    assert_eq!(list[2]["authToken"], tok1.as_str());
    assert_eq!(r.body["meta"]["pagination"]["total"], 3);
    assert_eq!(r.body["meta"]["pagination"]["per_page"], 100);
    let r = fx
        .chat(
            Method::GET,
            "/users/tina/auth_tokens?perPage=2&page=2",
            None,
        )
        .await;
    assert_eq!(r.ok().as_array().expect("array").len(), 1);
    assert_eq!(r.body["meta"]["pagination"]["total_pages"], 2);

    // Get / update.
    let r = fx
        .chat(
            Method::GET,
            &format!("/users/tina/auth_tokens/{tok2}"),
            None,
        )
        .await;
    assert_eq!(r.ok()["authToken"], tok2.as_str());
    let r = fx
        .chat(
            Method::PUT,
            &format!("/users/tina/auth_tokens/{tok2}"),
            Some(json!({"platform":"android","userAgent":"Droid"})),
        )
        .await;
    assert_eq!(r.ok()["platform"], "android");
    assert_eq!(r.ok()["userAgent"], "Droid");
    fx.chat(
        Method::PUT,
        &format!("/users/tina/auth_tokens/{tok2}"),
        None,
    )
    .await
    .expect_err(400, "ERR_BAD_REQUEST");

    // Unknown token / user.
    let ghost = "tina_1700000000aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    for m in [Method::GET, Method::DELETE] {
        fx.chat(m, &format!("/users/tina/auth_tokens/{ghost}"), None)
            .await
            .expect_err(404, "ERR_AUTH_TOKEN_NOT_FOUND");
    }
    fx.chat(
        Method::PUT,
        &format!("/users/tina/auth_tokens/{ghost}"),
        Some(json!({"platform":"web"})),
    )
    .await
    .expect_err(404, "ERR_AUTH_TOKEN_NOT_FOUND");
    fx.chat(Method::GET, "/users/ghost/auth_tokens", None)
        .await
        .expect_err(404, "ERR_UID_NOT_FOUND");

    // Delete one: masked token in the message; then it is gone.
    let r = fx
        .chat(
            Method::DELETE,
            &format!("/users/tina/auth_tokens/{tok1}"),
            None,
        )
        .await;
    assert_eq!(
        r.ok()["message"],
        format!(
            "The Auth Token {} has been deleted successfully.",
            keydeck::secret::mask(&tok1)
        )
    );
    fx.chat(
        Method::DELETE,
        &format!("/users/tina/auth_tokens/{tok1}"),
        None,
    )
    .await
    .expect_err(404, "ERR_AUTH_TOKEN_NOT_FOUND");

    // Flush.
    let r = fx
        .chat(Method::DELETE, "/users/tina/auth_tokens", None)
        .await;
    assert_eq!(r.ok()["success"], true);
    assert_eq!(
        r.ok()["message"],
        "Cleared Auth Tokens successfully for uid tina."
    );
    let r = fx.chat(Method::GET, "/users/tina/auth_tokens", None).await;
    assert!(r.ok().as_array().expect("array").is_empty());
    fx.sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn management_apps_and_archived_chat_surface() {
    let fx = Fx::new(false).await;
    let m = fx.info.cometchat.management.clone();
    let apps_url = format!("{}/apps", m.base_url);
    // Auth.
    fx.raw(Method::GET, &apps_url, &[], None)
        .await
        .expect_err(401, "AUTH_ERR_EMPTY_AUTH_HEADER");
    fx.raw(Method::GET, &apps_url, &[("key", &m.key)], None)
        .await
        .expect_err(401, "AUTH_ERR_EMPTY_AUTH_HEADER");
    fx.raw(
        Method::GET,
        &apps_url,
        &[("key", &m.key), ("secret", "nope")],
        None,
    )
    .await
    .expect_err(401, "AUTH_ERR_INVALID_CREDENTIALS");

    // Create: validation.
    let r = fx.mgmt(Method::POST, "/apps", Some(json!({}))).await;
    r.expect_err(400, "ERR_BAD_REQUEST");
    assert!(r.body["error"]["details"]["name"].is_array());
    assert!(r.body["error"]["details"]["region"].is_array());
    fx.mgmt(
        Method::POST,
        "/apps",
        Some(json!({"name":"X","region":"mars"})),
    )
    .await
    .expect_err(400, "ERR_BAD_REQUEST");

    // Create.
    let r = fx
        .mgmt(
            Method::POST,
            "/apps",
            Some(json!({"name":"Second app","region":"eu"})),
        )
        .await;
    let app = r.ok().clone();
    let id = app["id"].as_str().expect("id").to_owned();
    assert_eq!(id.len(), 16);
    assert!(
        id.chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    );
    assert_eq!(app["region"], "eu");
    assert_eq!(app["name"], "Second app");
    assert_eq!(app["appRegion"]["id"], "eu");
    let keys = app["apiKeys"].as_object().expect("map");
    assert_eq!(keys.len(), 2);
    let mut rest_key = String::new();
    for (k, v) in keys {
        assert_eq!(v["apiKey"], k.as_str());
        assert_eq!(v["createdBy"], "app_system");
        if v["scope"] == "fullAccess" {
            assert_eq!(v["name"], "Rest API Key");
            rest_key = k.clone();
        } else {
            assert_eq!(v["name"], "Auth Key");
            assert_eq!(v["scope"], "authOnly");
        }
    }

    // List: newest first, search, pagination.
    let r = fx.mgmt(Method::GET, "/apps", None).await;
    let list = r.ok().as_array().expect("array").clone();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(r.body["meta"]["pagination"]["total"], 2);
    let r = fx.mgmt(Method::GET, "/apps?searchKey=SECOND", None).await;
    assert_eq!(r.ok().as_array().expect("array").len(), 1);
    let r = fx
        .mgmt(Method::GET, &format!("/apps?searchKey={}", &id[..8]), None)
        .await;
    assert_eq!(r.ok()[0]["id"], id.as_str());
    let r = fx.mgmt(Method::GET, "/apps?perPage=1&page=2", None).await;
    assert_eq!(r.ok().as_array().expect("array").len(), 1);
    assert_eq!(r.body["meta"]["pagination"]["total_pages"], 2);
    fx.mgmt(Method::GET, "/apps?perPage=1001", None)
        .await
        .expect_err(400, "ERR_BAD_REQUEST");

    // The new app works on the chat surface, and shows up in info().
    let chat_url = format!("{}/cometchat/{id}/v3/users", fx.sb.base_url());
    let r = fx
        .raw(
            Method::POST,
            &chat_url,
            &[("apikey", &rest_key)],
            Some(json!({"uid":"z","name":"Z"})),
        )
        .await;
    r.ok();
    let info = fx.sb.info();
    assert_eq!(info.cometchat.apps.len(), 2);
    let a2 = info
        .cometchat
        .apps
        .iter()
        .find(|a| a.app_id == id)
        .expect("new app in info");
    assert_eq!(a2.rest_api_key, rest_key);
    assert_eq!(a2.region, "eu");
    // A key of one app does not open another.
    let other = format!("{}/cometchat/{id}/v3/users", fx.sb.base_url());
    fx.raw(Method::GET, &other, &[("apikey", fx.key())], None)
        .await
        .expect_err(401, "AUTH_ERR_APIKEY_NOT_FOUND");

    // Delete.
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let r = fx.mgmt(Method::DELETE, &format!("/apps/{id}"), None).await;
    let d = r.ok();
    assert_eq!(d["success"], true);
    let at = d["scheduledToDeleteAt"].as_i64().expect("int");
    assert!(at >= before + 30 * 86_400 - 5 && at <= before + 30 * 86_400 + 120);
    fx.mgmt(Method::DELETE, &format!("/apps/{id}"), None)
        .await
        .expect_err(404, "ERR_APP_ARCHIVED");
    fx.mgmt(Method::DELETE, "/apps/ffffffffffffffff", None)
        .await
        .expect_err(404, "ERR_APP_NOT_FOUND");
    fx.raw(Method::GET, &chat_url, &[("apikey", &rest_key)], None)
        .await
        .expect_err(404, "ERR_APP_ARCHIVED");
    let r = fx.mgmt(Method::GET, "/apps", None).await;
    assert_eq!(r.ok().as_array().expect("array").len(), 1);
    assert_eq!(fx.sb.info().cometchat.apps.len(), 1);
    fx.sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limit_headers_and_429() {
    let fx = Fx::new(false).await;
    let r = fx.chat(Method::GET, "/apikeys", None).await;
    assert_eq!(r.header("x-rate-limit").as_deref(), Some("20000"));
    assert_eq!(r.header("x-rate-limit-remaining").as_deref(), Some("19999"));

    let app_id = fx.app().app_id.clone();
    fx.sb.set_rate_limit(&app_id, Some(3));
    for left in ["2", "1", "0"] {
        let r = fx.chat(Method::GET, "/users", None).await;
        r.ok();
        assert_eq!(r.header("x-rate-limit").as_deref(), Some("3"));
        assert_eq!(r.header("x-rate-limit-remaining").as_deref(), Some(left));
    }
    let r = fx.chat(Method::GET, "/users", None).await;
    r.expect_err(429, "ERR_TOO_MANY_REQUESTS");
    let retry: u64 = r
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=60).contains(&retry));
    let reset: i64 = r
        .header("x-rate-limit-reset")
        .and_then(|v| v.parse().ok())
        .expect("X-Rate-Limit-Reset");
    assert!(reset > 1_700_000_000);
    assert_eq!(r.header("x-rate-limit-remaining").as_deref(), Some("0"));

    // Management is not rate limited per app; lifting the limit works at once.
    fx.sb.set_rate_limit(&app_id, None);
    fx.chat(Method::GET, "/users", None).await.ok();
    fx.sb.set_rate_limit(&app_id, Some(100));
    let r = fx.chat(Method::GET, "/users", None).await;
    assert_eq!(r.header("x-rate-limit-remaining").as_deref(), Some("99"));
    fx.sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_routes_bodies_and_v3_0_prefix() {
    let fx = Fx::new(false).await;
    let base = fx.sb.base_url();
    let app = fx.app().app_id.clone();
    let key = fx.key().to_owned();
    for (m, path) in [
        (Method::GET, "/".to_owned()),
        (Method::GET, "/nope".to_owned()),
        (Method::GET, format!("/cometchat/{app}")),
        (Method::GET, format!("/cometchat/{app}/v4/users")),
        (Method::GET, format!("/cometchat/{app}/v3/groups")),
        (Method::PATCH, format!("/cometchat/{app}/v3/users")),
        (Method::POST, format!("/cometchat/{app}/v3/apikeys/abc")),
        (Method::GET, "/cometchat-mgmt".to_owned()),
        (Method::GET, "/cometchat-mgmt/apps/x".to_owned()),
        (Method::PUT, "/cometchat-mgmt/apps".to_owned()),
    ] {
        let r = fx
            .raw(
                m.clone(),
                &format!("{base}{path}"),
                &[("apikey", &key)],
                None,
            )
            .await;
        r.expect_err(404, "ERR_API_NOT_FOUND");
        assert_eq!(
            r.body["error"]["message"], "The API endpoint is invalid. Please verify the API call.",
            "{m} {path}"
        );
    }

    // /v3.0/ prefix.
    let url = format!("{base}/cometchat/{app}/v3.0/users");
    let r = fx
        .raw(
            Method::POST,
            &url,
            &[("apikey", &key)],
            Some(json!({"uid":"v30","name":"V"})),
        )
        .await;
    assert_eq!(r.ok()["uid"], "v30");
    let r = fx
        .raw(
            Method::GET,
            &format!("{url}/v30"),
            &[("apikey", &key)],
            None,
        )
        .await;
    assert_eq!(r.ok()["name"], "V");

    // Malformed JSON → 400 envelope; oversized → 413 envelope.
    let users = format!("{}/users", fx.app().base_url);
    let r = fx
        .http
        .post(&users)
        .header("apikey", &key)
        .header("content-type", "application/json")
        .body("{\"uid\": ")
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"]["code"], "ERR_BAD_REQUEST");
    let huge = json!({"uid":"big","name":"x".repeat(70 * 1024)});
    let r = fx
        .raw(Method::POST, &users, &[("apikey", &key)], Some(huge))
        .await;
    r.expect_err(413, "ERR_PAYLOAD_TOO_LARGE");
    fx.sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn restart_keeps_apps_keys_and_users() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("sandbox.sqlite");
    let opts = || SandboxOptions {
        port: 0,
        data: Some(file.clone()),
        seed_demo_users: true,
    };
    let fx = Fx::with(opts()).await;
    assert!(
        dir.path().join("sandbox.sqlite-wal").exists(),
        "the store runs in WAL mode"
    );
    let first = fx.info.clone();
    let r = fx
        .chat(
            Method::POST,
            "/apikeys",
            Some(json!({"name":"persist","scope":"fullAccess"})),
        )
        .await;
    let new_key = r.ok()["apiKey"].as_str().expect("key").to_owned();
    fx.create_user("survivor", json!({"tags":["keep"]}))
        .await
        .ok();
    let count_before =
        fx.chat(Method::GET, "/users?perPage=1", None).await.body["meta"]["pagination"]["total"]
            .clone();
    fx.sb.shutdown().await;

    let fx = Fx::with(opts()).await;
    let second = fx.info.clone();
    assert_eq!(
        first.cometchat.apps[0].app_id,
        second.cometchat.apps[0].app_id
    );
    assert_eq!(
        first.cometchat.apps[0].rest_api_key,
        second.cometchat.apps[0].rest_api_key
    );
    assert_eq!(
        first.cometchat.apps[0].auth_key,
        second.cometchat.apps[0].auth_key
    );
    assert_eq!(
        first.cometchat.management.key,
        second.cometchat.management.key
    );
    assert_eq!(
        first.cometchat.management.secret,
        second.cometchat.management.secret
    );
    let r = fx.chat(Method::GET, "/users/survivor", None).await;
    assert_eq!(r.ok()["tags"], json!(["keep"]));
    let r = fx.chat_with(&new_key, Method::GET, "/apikeys", None).await;
    assert_eq!(r.ok().as_array().expect("array").len(), 3);
    // Seeded once: no second batch of demo users.
    let count_after =
        fx.chat(Method::GET, "/users?perPage=1", None).await.body["meta"]["pagination"]["total"]
            .clone();
    assert_eq!(count_before, count_after);
    fx.sb.shutdown().await;
}

// ------------------------------------------------------------------------------------------------
// Many users: seeding, O(page) paging, indexed search

/// Every uid of `GET /users?{query}` page by page, with the pagination total of page 1.
async fn all_pages(fx: &Fx, query: &str, per_page: u32) -> (u64, Vec<String>) {
    let mut uids = Vec::new();
    let mut total = None;
    for page in 1u32.. {
        let r = fx
            .chat(
                Method::GET,
                &format!("/users?{query}&perPage={per_page}&page={page}"),
                None,
            )
            .await;
        let data = r.ok().as_array().expect("a list").clone();
        let p = &r.body["meta"]["pagination"];
        let t = p["total"].as_u64().expect("total");
        assert_eq!(
            *total.get_or_insert(t),
            t,
            "the total is the same on every page"
        );
        assert_eq!(p["current_page"], page);
        assert_eq!(p["count"].as_u64(), Some(data.len() as u64));
        if data.is_empty() {
            assert!(u64::from(page) > p["total_pages"].as_u64().unwrap_or(0) || t == 0);
            break;
        }
        uids.extend(data.iter().map(|u| u["uid"].as_str().unwrap().to_owned()));
    }
    (total.unwrap_or(0), uids)
}

fn page_uids(r: &Resp) -> Vec<String> {
    r.ok()
        .as_array()
        .expect("a list")
        .iter()
        .map(|u| u["uid"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn seeded_users_page_in_uid_order_with_their_total() {
    let fx = Fx::new(false).await;
    let report = fx.sb.seed_users(None, 5_000).await.expect("seeded");
    assert_eq!((report.seeded, report.added), (5_000, 5_000));
    assert_eq!(report.app_id, fx.app().app_id);
    let again = fx.sb.seed_users(None, 5_000).await.expect("seeded");
    assert_eq!(again.added, 0, "seeding again adds nothing");

    for page in [1u64, 2, 7, 11, 50] {
        let r = fx
            .chat(
                Method::GET,
                &format!("/users?withDeactivated=true&perPage=100&page={page}"),
                None,
            )
            .await;
        let expected: Vec<String> = ((page - 1) * 100 + 1..=page * 100)
            .map(|i| format!("user-{i:07}"))
            .collect();
        assert_eq!(page_uids(&r), expected, "page {page}");
        let p = &r.body["meta"]["pagination"];
        assert_eq!(p["total"], 5_000);
        assert_eq!(p["total_pages"], 50);
        assert_eq!(p["per_page"], 100);
    }
    let past = fx
        .chat(Method::GET, "/users?withDeactivated=true&page=51", None)
        .await;
    assert!(page_uids(&past).is_empty(), "past the last page is empty");

    // One in 997 is deactivated: hidden by default, alone with onlyDeactivated.
    let r = fx
        .chat(Method::GET, "/users?perPage=1000&page=2", None)
        .await;
    assert_eq!(r.body["meta"]["pagination"]["total"], 4_995);
    let uids = page_uids(&r);
    // Positions 1000–1999 of the active users: 997 and 1994 are skipped.
    assert_eq!(uids.first().map(String::as_str), Some("user-0001002"));
    assert!(!uids.contains(&"user-0001994".to_owned()));
    assert_eq!(uids.len(), 1000);
    assert_eq!(uids.last().map(String::as_str), Some("user-0002002"));
    let r = fx
        .chat(
            Method::GET,
            "/users?onlyDeactivated=true&perPage=2&page=2",
            None,
        )
        .await;
    assert_eq!(r.body["meta"]["pagination"]["total"], 5);
    assert_eq!(page_uids(&r), ["user-0002991", "user-0003988"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn paging_after_deletes_and_inserts_lists_every_user_once() {
    let fx = Fx::new(true).await;
    fx.sb.seed_users(None, 3_000).await.expect("seeded");
    let mut expected: std::collections::BTreeSet<String> =
        all_pages(&fx, "withDeactivated=true", 1000)
            .await
            .1
            .into_iter()
            .collect();
    assert_eq!(expected.len(), 3_060, "the demo users and the seeded ones");
    // Permanent deletes across every block, new users into one block (growing it past a
    // split), and deactivations, all over HTTP.
    // (The API cannot delete a deactivated user: one in 997 of the seeded ones.)
    for i in (5..=3_000).step_by(13).filter(|i| i % 997 != 0) {
        let uid = format!("user-{i:07}");
        fx.chat(
            Method::DELETE,
            &format!("/users/{uid}"),
            Some(json!({ "permanent": true })),
        )
        .await
        .ok();
        expected.remove(&uid);
    }
    for i in 0..1_100 {
        let uid = format!("user-0001500-{i:04}");
        fx.create_user(&uid, json!({})).await.ok();
        expected.insert(uid);
    }
    let mut deactivated = Vec::new();
    for i in (7..=3_000).step_by(101).filter(|i| i % 997 != 0) {
        let uid = format!("user-{i:07}");
        if expected.contains(&uid) {
            fx.chat(Method::DELETE, &format!("/users/{uid}"), None)
                .await
                .ok();
            deactivated.push(uid);
        }
    }
    let expected: Vec<String> = expected.into_iter().collect();
    for per_page in [100, 37] {
        let (total, uids) = all_pages(&fx, "withDeactivated=true", per_page).await;
        assert_eq!(total as usize, expected.len());
        assert_eq!(
            uids, expected,
            "every user once, in uid order (perPage {per_page})"
        );
    }
    let active: Vec<String> = expected
        .iter()
        .filter(|u| {
            !deactivated.contains(u)
                && !matches!(u.as_str(), "user-0000997" | "user-0001994" | "user-0002991")
        })
        .filter(|u| !["lucia-fernandez", "jin-park"].contains(&u.as_str()))
        .cloned()
        .collect();
    let (total, uids) = all_pages(&fx, "", 250).await;
    assert_eq!(total as usize, active.len());
    assert_eq!(uids, active, "the default list hides the deactivated");
}

#[tokio::test(flavor = "multi_thread")]
async fn search_key_finds_uid_and_name_prefixes() {
    let fx = Fx::new(false).await;
    fx.sb.seed_users(None, 5_000).await.expect("seeded");

    let r = fx
        .chat(
            Method::GET,
            "/users?searchKey=user-00012&searchIn=uid",
            None,
        )
        .await;
    let expected: Vec<String> = (1_200..1_300).map(|i| format!("user-{i:07}")).collect();
    assert_eq!(page_uids(&r), expected);
    assert_eq!(r.body["meta"]["pagination"]["total"], 100);

    // First names cycle every 60 users: "alice" is user 60, 120, …, 4980.
    let (total, uids) = all_pages(&fx, "searchKey=Alice&searchIn=name", 30).await;
    let expected: Vec<String> = (1..=83).map(|k| format!("user-{:07}", k * 60)).collect();
    assert_eq!(total, 83);
    assert_eq!(uids, expected);

    // A word of the name (last names change every 60 users): "chen" is users 1–59 and
    // 3600–3659.
    let r = fx
        .chat(Method::GET, "/users?searchKey=che&perPage=200", None)
        .await;
    let data = r.ok().as_array().unwrap().clone();
    assert_eq!(r.body["meta"]["pagination"]["total"], 119);
    assert!(
        data.iter()
            .all(|u| u["name"].as_str().unwrap().ends_with(" Chen"))
    );
    // A name prefix across the space, and no match.
    let r = fx
        .chat(Method::GET, "/users?searchKey=alice%20ch", None)
        .await;
    assert_eq!(page_uids(&r), ["user-0003600"]);
    let r = fx.chat(Method::GET, "/users?searchKey=zzz", None).await;
    assert!(page_uids(&r).is_empty());
    assert_eq!(r.body["meta"]["pagination"]["total"], 0);
}
