//! The sandbox's Ably Control API and token revocation, driven by the real clients.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use keydeck::model::capability::Capability;
use keydeck::providers::ErrorKind;
use keydeck::providers::ably::{
    AblyControlClient, AblyKey, AblyRestClient, AppPatch, KeyPatch, KeyStatus, NewAblyKey,
    RevokeTokens,
};
use keydeck::providers::http::RetryPolicy;
use keydeck::sandbox::Sandbox;
use keydeck::secret::Secret;

fn control(sb: &Sandbox) -> AblyControlClient {
    let a = sb.info().ably;
    AblyControlClient::new(Some(&a.control_url), &Secret::new(a.access_token))
        .expect("control client")
        .with_retry(RetryPolicy::none())
}

fn read_only(sb: &Sandbox) -> AblyControlClient {
    let a = sb.info().ably;
    AblyControlClient::new(Some(&a.control_url), &Secret::new(a.read_only_token))
        .expect("control client")
        .with_retry(RetryPolicy::none())
}

fn rest(sb: &Sandbox, key: &Secret) -> AblyRestClient {
    AblyRestClient::new(Some(&sb.info().ably.rest_url), key)
        .expect("rest client")
        .with_retry(RetryPolicy::none())
}

fn cap(pairs: &[(&str, &[&str])]) -> Capability {
    pairs
        .iter()
        .map(|(r, ops)| {
            (
                (*r).to_owned(),
                ops.iter().map(|o| (*o).to_owned()).collect(),
            )
        })
        .collect()
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The demo app's id and its keys.
async fn demo(c: &AblyControlClient, account: &str) -> (String, Vec<AblyKey>) {
    let apps = c.list_apps(account).await.expect("list apps");
    let app = apps
        .iter()
        .find(|a| a.name == "Demo app")
        .expect("Demo app seeded");
    let keys = c.list_keys(&app.id).await.expect("list keys");
    (app.id.clone(), keys)
}

fn key_named<'a>(keys: &'a [AblyKey], name: &str) -> &'a AblyKey {
    keys.iter().find(|k| k.name == name).expect("seeded key")
}

#[tokio::test]
async fn me_and_the_seeded_account_apps_and_keys() {
    let sb = common::sandbox().await;
    let info = sb.info().ably;
    assert!(info.control_url.ends_with("/ably/control/v1"));
    assert!(info.rest_url.ends_with("/ably/rest"));
    assert_eq!(info.account_id.len(), 6);
    let c = control(&sb);
    let me = c.me().await.expect("me");
    assert_eq!(me.account.id, info.account_id);
    assert_eq!(me.account.name, "Sandbox account");
    for capability in ["read:app", "write:app", "read:key", "write:key"] {
        assert!(me.token.has(capability), "{capability}");
    }
    assert!(me.token.last_used_at.is_some());
    let ro = read_only(&sb).me().await.expect("me, read-only");
    assert!(ro.token.has("read:app") && ro.token.has("read:key"));
    assert!(!ro.token.has("write:app") && !ro.token.has("write:key"));

    let (app_id, keys) = demo(&c, &info.account_id).await;
    assert_eq!(app_id.len(), 6);
    assert_eq!(keys.len(), 2);
    let root = key_named(&keys, "Root");
    assert_eq!(root.capability, cap(&[("[*]*", &["*"])]));
    assert_eq!(root.revocable_tokens, Some(false));
    assert_eq!(root.status, KeyStatus::Enabled);
    assert!(
        root.key
            .expose()
            .starts_with(&format!("{app_id}.{}:", root.id))
    );
    assert_eq!(root.id.len(), 6);
    let chat = key_named(&keys, "Chat client");
    assert_eq!(
        chat.capability,
        cap(&[("chat:*", &["presence", "publish", "subscribe"])])
    );
    assert_eq!(chat.revocable_tokens, Some(true));
    assert!(chat.created > 1_000_000_000_000, "epoch ms");
    sb.shutdown().await;
}

#[tokio::test]
async fn apps_are_created_updated_and_deleted_with_their_keys() {
    let sb = common::sandbox().await;
    let account = sb.info().ably.account_id;
    let c = control(&sb);
    let app = c.create_app(&account, "Staging").await.expect("create app");
    assert_eq!(app.name, "Staging");
    assert_eq!(app.account_id, account);
    assert_eq!(app.status, "enabled");
    assert_eq!(app.id.len(), 6);
    assert!(
        app.id
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
    );
    tokio::time::sleep(Duration::from_millis(5)).await;
    let patched = c
        .update_app(
            &app.id,
            &AppPatch {
                name: Some("Staging 2".into()),
                status: Some("disabled".into()),
                tls_only: Some(true),
            },
        )
        .await
        .expect("update app");
    assert_eq!(patched.name, "Staging 2");
    assert_eq!(patched.status, "disabled");
    assert_eq!(patched.tls_only, Some(true));
    assert_eq!(patched.created, app.created);
    assert!(patched.modified > app.modified, "modified bumps on PATCH");
    let listed = c.list_apps(&account).await.expect("list apps");
    assert!(
        listed
            .iter()
            .any(|a| a.id == app.id && a.name == "Staging 2")
    );

    let key = c
        .create_key(
            &app.id,
            &NewAblyKey {
                name: "k".into(),
                capability: cap(&[("*", &["subscribe"])]),
                revocable_tokens: None,
            },
        )
        .await
        .expect("create key");
    c.delete_app(&app.id).await.expect("delete app");
    let listed = c.list_apps(&account).await.expect("list apps");
    assert!(listed.iter().all(|a| a.id != app.id));
    // The cascade: the app's keys are gone with it (404, not a stale list).
    let e = c.list_keys(&app.id).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert_eq!(e.code.as_deref(), Some("40400"));
    let e = rest(&sb, &key.key)
        .revoke_tokens(&RevokeTokens {
            targets: vec!["clientId:a".into()],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unauthenticated, "{e:?}");
    let e = c.delete_app(&app.id).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    sb.shutdown().await;
}

#[tokio::test]
async fn keys_are_created_normalised_updated_and_revoked() {
    let sb = common::sandbox().await;
    let account = sb.info().ably.account_id;
    let c = control(&sb);
    let (app_id, _) = demo(&c, &account).await;
    let key = c
        .create_key(
            &app_id,
            &NewAblyKey {
                name: "Server".into(),
                capability: cap(&[
                    ("chat:*", &["subscribe", "publish", "history", "publish"]),
                    ("[queue]*", &["*"]),
                ]),
                revocable_tokens: Some(true),
            },
        )
        .await
        .expect("create key");
    assert_eq!(key.app_id, app_id);
    assert_eq!(key.status, KeyStatus::Enabled);
    assert_eq!(key.revocable_tokens, Some(true));
    assert_eq!(
        key.capability,
        cap(&[
            ("chat:*", &["history", "publish", "subscribe"]),
            ("[queue]*", &["*"]),
        ]),
        "ops sorted and de-duplicated, * kept"
    );
    let (name, secret) = key
        .key
        .expose()
        .split_once(':')
        .expect("appId.keyId:secret");
    assert_eq!(name, format!("{app_id}.{}", key.id));
    assert!(secret.len() >= 16);

    tokio::time::sleep(Duration::from_millis(5)).await;
    let updated = c
        .update_key(
            &app_id,
            &key.id,
            &KeyPatch {
                name: Some("Server v2".into()),
                capability: Some(cap(&[("*", &["subscribe"])])),
                revocable_tokens: Some(false),
            },
        )
        .await
        .expect("update key");
    assert_eq!(updated.name, "Server v2");
    assert_eq!(updated.capability, cap(&[("*", &["subscribe"])]));
    assert_eq!(updated.revocable_tokens, Some(false));
    assert_eq!(updated.key, key.key, "the key string does not change");
    assert!(updated.modified > key.modified);

    c.revoke_key(&app_id, &key.id).await.expect("revoke key");
    let keys = c.list_keys(&app_id).await.expect("list keys");
    let listed = keys
        .iter()
        .find(|k| k.id == key.id)
        .expect("revoked key listed");
    assert_eq!(listed.status, KeyStatus::Revoked);
    let e = c
        .update_key(&app_id, &key.id, &KeyPatch::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    let e = c.revoke_key(&app_id, "nosuch").await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert_eq!(e.status, Some(404));
    sb.shutdown().await;
}

#[tokio::test]
async fn control_errors_are_flat_ably_errors() {
    let sb = common::sandbox().await;
    let info = sb.info().ably;
    let c = control(&sb);
    let (app_id, keys) = demo(&c, &info.account_id).await;

    // Unknown token → 401 40100 "Access denied".
    let wrong = AblyControlClient::new(Some(&info.control_url), &Secret::new("not-a-token"))
        .expect("client")
        .with_retry(RetryPolicy::none());
    let e = wrong.me().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unauthenticated);
    assert_eq!(e.status, Some(401));
    assert_eq!(e.code.as_deref(), Some("40100"));
    assert_eq!(e.message, "Access denied");

    // The raw shape, and no Authorization header at all.
    let url = format!("{}/me", info.control_url);
    let resp = reqwest::get(&url).await.expect("GET /me");
    assert_eq!(resp.status(), 401);
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(
        body,
        serde_json::json!({"message":"Access denied","code":40100,"statusCode":401,"href":"https://help.ably.io/error/40100"})
    );

    // Read-only token: reads work, every write is 403 40300.
    let ro = read_only(&sb);
    assert_eq!(ro.list_keys(&app_id).await.expect("read keys").len(), 2);
    let e = ro.create_app(&info.account_id, "x").await.unwrap_err();
    assert_eq!(
        (e.kind.clone(), e.code.as_deref()),
        (ErrorKind::PermissionDenied, Some("40300"))
    );
    let e = ro.delete_app(&app_id).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::PermissionDenied);
    let e = ro
        .update_app(&app_id, &AppPatch::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::PermissionDenied);
    let e = ro
        .create_key(
            &app_id,
            &NewAblyKey {
                name: "x".into(),
                capability: cap(&[("*", &["publish"])]),
                revocable_tokens: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::PermissionDenied);
    assert_eq!(e.status, Some(403));
    let e = ro.revoke_key(&app_id, &keys[0].id).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::PermissionDenied);
    let e = ro
        .update_key(&app_id, &keys[0].id, &KeyPatch::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::PermissionDenied);

    // 404 for an unknown account, app or key.
    let e = c.list_apps("nope00").await.unwrap_err();
    assert_eq!(
        (e.kind.clone(), e.code.as_deref()),
        (ErrorKind::NotFound, Some("40400"))
    );
    let e = c.list_keys("nope00").await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    let e = c
        .update_key(&app_id, "nope00", &KeyPatch::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);

    // 422 42200 for each invalid capability (§2.5).
    let bad: [Capability; 6] = [
        Capability::new(),
        cap(&[("chat:*", &[])]),
        cap(&[("chat:*", &["fly"])]),
        cap(&[("", &["publish"])]),
        cap(&[(":x", &["publish"])]),
        cap(&[("[xyz]abc", &["publish"])]),
    ];
    for capability in bad {
        let e = c
            .create_key(
                &app_id,
                &NewAblyKey {
                    name: "bad".into(),
                    capability: capability.clone(),
                    revocable_tokens: None,
                },
            )
            .await
            .unwrap_err();
        assert_eq!(e.status, Some(422), "{capability:?}");
        assert_eq!(e.code.as_deref(), Some("42200"));
        assert!(
            e.message.starts_with("Invalid capability: "),
            "{}",
            e.message
        );
        assert!(matches!(e.kind, ErrorKind::Validation { .. }));
        let e = c
            .update_key(
                &app_id,
                &keys[0].id,
                &KeyPatch {
                    capability: Some(capability),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
        assert_eq!(e.status, Some(422));
    }
    // A non-array value, sent raw.
    let http = {
        keydeck::providers::http::install_tls_provider();
        reqwest::Client::new()
    };
    let resp = http
        .post(format!("{}/apps/{app_id}/keys", info.control_url))
        .bearer_auth(&info.access_token)
        .json(&serde_json::json!({"name":"raw","capability":{"*":"publish"}}))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 422);
    // 400 40000 for a missing name.
    let resp = http
        .post(format!("{}/apps/{app_id}/keys", info.control_url))
        .bearer_auth(&info.access_token)
        .json(&serde_json::json!({"capability":{"*":["publish"]}}))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["code"], 40000);
    assert_eq!(body["statusCode"], 400);
    let resp = http
        .post(format!(
            "{}/accounts/{}/apps",
            info.control_url, info.account_id
        ))
        .bearer_auth(&info.access_token)
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 400);
    // Nothing invalid was stored.
    assert_eq!(c.list_keys(&app_id).await.expect("keys").len(), 2);
    sb.shutdown().await;
}

#[tokio::test]
async fn token_revocation_returns_the_versioned_batch_result() {
    let sb = common::sandbox().await;
    let account = sb.info().ably.account_id;
    let c = control(&sb);
    let (_, keys) = demo(&c, &account).await;
    let chat = key_named(&keys, "Chat client");
    let r = rest(&sb, &chat.key);
    assert_eq!(r.key_name(), chat.key_name());

    let before = now_ms();
    let issued_before = before - 60_000;
    let result = r
        .revoke_tokens(&RevokeTokens {
            targets: vec![
                "clientId:alice".into(),
                "revocationKey:group-7".into(),
                "channel:chat:*".into(),
                "invalidType:abc".into(),
                "nocolon".into(),
            ],
            issued_before: Some(issued_before),
            allow_reauth_margin: false,
        })
        .await
        .expect("revoke");
    let after = now_ms();
    assert_eq!(result.success_count, 3);
    assert_eq!(result.failure_count, 2);
    assert_eq!(result.results.len(), 5);
    for item in &result.results[..3] {
        assert_eq!(item.issued_before, Some(issued_before));
        let applies = item.applies_at.expect("appliesAt");
        assert!((before..=after).contains(&applies), "appliesAt = now");
        assert!(item.error.is_none());
    }
    assert_eq!(result.results[0].target, "clientId:alice");
    for item in &result.results[3..] {
        let e = item.error.as_ref().expect("per-target error");
        assert_eq!(e.status_code, Some(400));
        assert_eq!(e.code, Some(40000));
        assert!(!e.message.is_empty());
    }
    assert_eq!(result.results[3].target, "invalidType:abc");

    // allowReauthMargin: appliesAt ≈ now + 30 s; issuedBefore defaults to now.
    let before = now_ms();
    let result = r
        .revoke_tokens(&RevokeTokens {
            targets: vec!["clientId:bob".into()],
            issued_before: None,
            allow_reauth_margin: true,
        })
        .await
        .expect("revoke with margin");
    let after = now_ms();
    let item = &result.results[0];
    let applies = item.applies_at.expect("appliesAt");
    assert!((before + 30_000..=after + 30_000).contains(&applies));
    let issued = item.issued_before.expect("issuedBefore");
    assert!((before..=after).contains(&issued));

    // Recorded in the store.
    let recorded = sb.ably_revocations();
    assert_eq!(recorded.len(), 4);
    assert!(recorded.iter().all(|r| r.key_name == chat.key_name()));
    assert!(
        recorded
            .iter()
            .any(|r| r.target == "clientId:bob" && r.allow_reauth_margin)
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn token_revocation_refusals() {
    let sb = common::sandbox().await;
    let info = sb.info().ably;
    let c = control(&sb);
    let (app_id, keys) = demo(&c, &info.account_id).await;
    let root = key_named(&keys, "Root");
    let chat = key_named(&keys, "Chat client");
    let one = RevokeTokens {
        targets: vec!["clientId:alice".into()],
        ..Default::default()
    };

    // A key without revocable tokens: 401 40163 → PermissionDenied.
    let e = rest(&sb, &root.key).revoke_tokens(&one).await.unwrap_err();
    assert_eq!(e.status, Some(401));
    assert_eq!(e.code.as_deref(), Some("40163"));
    assert_eq!(e.kind, ErrorKind::PermissionDenied);

    // A wrong secret: 401 40101.
    let wrong = Secret::new(format!("{}:wrongsecretwrongsecret", chat.key_name()));
    let e = rest(&sb, &wrong).revoke_tokens(&one).await.unwrap_err();
    assert_eq!(
        (e.kind.clone(), e.code.as_deref()),
        (ErrorKind::Unauthenticated, Some("40101"))
    );
    assert!(!e.message.contains("wrongsecret"));

    // Raw requests: token auth (40162), the wrapped envelope and the X-Ably headers.
    let http = {
        keydeck::providers::http::install_tls_provider();
        reqwest::Client::new()
    };
    let url = format!("{}/keys/{}/revokeTokens", info.rest_url, chat.key_name());
    let resp = http
        .post(&url)
        .bearer_auth("some-token")
        .header("x-ably-version", "3")
        .json(&serde_json::json!({"targets":["clientId:a"]}))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.headers()
            .get("x-ably-errorcode")
            .and_then(|v| v.to_str().ok()),
        Some("40162")
    );
    assert!(resp.headers().get("x-ably-errormessage").is_some());
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["error"]["code"], 40162);
    assert_eq!(body["error"]["statusCode"], 401);

    let basic = |k: &Secret| {
        use base64::Engine as _;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(k.expose())
        )
    };
    let post = |body: serde_json::Value, version: Option<&'static str>| {
        let mut rq = http
            .post(&url)
            .header("authorization", basic(&chat.key))
            .json(&body);
        if let Some(v) = version {
            rq = rq.header("x-ably-version", v);
        }
        rq.send()
    };
    // Targets: 0 and 101 are refused; issuedBefore in the future or > 1 h old is refused.
    let many: Vec<String> = (0..101).map(|i| format!("clientId:u{i}")).collect();
    for body in [
        serde_json::json!({"targets": []}),
        serde_json::json!({"targets": many}),
        serde_json::json!({}),
        serde_json::json!({"targets":["clientId:a"], "issuedBefore": now_ms() + 60_000}),
        serde_json::json!({"targets":["clientId:a"], "issuedBefore": now_ms() - 2 * 3_600_000}),
    ] {
        let resp = post(body.clone(), Some("3")).await.expect("post");
        assert_eq!(resp.status(), 400, "{body}");
        let b: serde_json::Value = resp.json().await.expect("json");
        assert_eq!(b["error"]["code"], 40000);
    }
    // Exactly 100 targets are fine.
    let hundred: Vec<String> = (0..100).map(|i| format!("clientId:u{i}")).collect();
    let resp = post(serde_json::json!({"targets": hundred}), Some("3"))
        .await
        .expect("post");
    assert_eq!(resp.status(), 200);

    // Unversioned: 201 with the array, or 400/40020 with a partial failure.
    let resp = post(serde_json::json!({"targets":["clientId:a"]}), None)
        .await
        .expect("post");
    assert_eq!(resp.status(), 201);
    let b: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(b[0]["target"], "clientId:a");
    assert!(b[0]["appliesAt"].is_i64());
    let resp = post(serde_json::json!({"targets":["clientId:a","bad"]}), None)
        .await
        .expect("post");
    assert_eq!(resp.status(), 400);
    let b: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(b["error"]["code"], 40020);
    assert_eq!(b["batchResponse"][1]["error"]["statusCode"], 400);

    // A key can only revoke its own tokens.
    let other = format!("{}/keys/{}/revokeTokens", info.rest_url, root.key_name());
    let resp = http
        .post(&other)
        .header("authorization", basic(&chat.key))
        .header("x-ably-version", "3")
        .json(&serde_json::json!({"targets":["clientId:a"]}))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 403);

    // A revoked key can no longer authenticate.
    c.revoke_key(&app_id, &chat.id).await.expect("revoke key");
    let e = rest(&sb, &chat.key).revoke_tokens(&one).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unauthenticated);
    assert_eq!(e.status, Some(401));
    sb.shutdown().await;
}

#[tokio::test]
async fn the_start_up_info_masks_ably_tokens() {
    let sb = common::sandbox().await;
    let info = sb.info();
    let masked = serde_json::to_string(&info.masked()).expect("json");
    assert!(!masked.contains(&info.ably.access_token));
    assert!(!masked.contains(&info.ably.read_only_token));
    assert!(masked.contains(&info.ably.account_id));
    let dbg = format!("{info:?}");
    assert!(!dbg.contains(&info.ably.access_token));
    assert!(!dbg.contains(&info.ably.read_only_token));
    sb.shutdown().await;
}

/// `null` is refused where Ably's document types a field as a plain string or object (`name`,
/// `status`, `capability`) and taken as "unset" where it says `nullable` (`tlsOnly`,
/// `revocableTokens`, the push settings); the push settings are typed as documented, and a
/// blank name is taken as the document allows.
#[tokio::test]
async fn null_is_refused_where_the_control_document_does_not_allow_it() {
    let sb = common::sandbox().await;
    let info = sb.info().ably;
    let c = control(&sb);
    let (app_id, keys) = demo(&c, &info.account_id).await;
    let http = {
        keydeck::providers::http::install_tls_provider();
        reqwest::Client::new()
    };
    let apps_url = format!("{}/accounts/{}/apps", info.control_url, info.account_id);
    let app_url = format!("{}/apps/{app_id}", info.control_url);
    let keys_url = format!("{}/apps/{app_id}/keys", info.control_url);
    let key_url = format!("{keys_url}/{}", keys[0].id);
    let send = |method: reqwest::Method, url: &str, body: serde_json::Value| {
        http.request(method, url)
            .bearer_auth(&info.access_token)
            .json(&body)
            .send()
    };
    use reqwest::Method;
    use serde_json::json;

    let refused = [
        ("POST", "apps", json!({"name": "n", "status": null}), 400),
        ("POST", "apps", json!({"name": null}), 400),
        ("PATCH", "app", json!({"status": null}), 400),
        ("PATCH", "app", json!({"name": null}), 400),
        ("POST", "apps", json!({"name": "n", "fcmKey": 5}), 400),
        (
            "POST",
            "apps",
            json!({"name": "n", "apnsAuthType": "p12"}),
            400,
        ),
        (
            "PATCH",
            "app",
            json!({"apnsUseSandboxEndpoint": "yes"}),
            400,
        ),
        ("POST", "apps", json!({"name": "n", "region": "eu"}), 400),
        (
            "POST",
            "keys",
            json!({"name": "k", "capability": null}),
            422,
        ),
        (
            "POST",
            "keys",
            json!({"name": null, "capability": {"*": ["publish"]}}),
            400,
        ),
        ("PATCH", "key", json!({"capability": null}), 422),
        ("PATCH", "key", json!({"name": null}), 400),
    ];
    for (method, target, body, status) in refused {
        let url = match target {
            "apps" => &apps_url,
            "app" => &app_url,
            "keys" => &keys_url,
            _ => &key_url,
        };
        let resp = send(method.parse().unwrap(), url, body.clone())
            .await
            .expect("send");
        assert_eq!(resp.status().as_u16(), status, "{method} {url} {body}");
    }
    // Nothing was stored or changed.
    assert_eq!(c.list_apps(&info.account_id).await.expect("apps").len(), 1);
    let after = c.list_keys(&app_id).await.expect("keys");
    assert_eq!(after.len(), 2);
    assert_eq!(after[0].name, keys[0].name);
    assert_eq!(after[0].capability, keys[0].capability);

    // The nullable fields take null as "unset".
    let resp = send(
        Method::POST,
        &apps_url,
        json!({"name": "Push", "tlsOnly": null, "fcmKey": null, "apnsAuthType": "token",
               "apnsUseSandboxEndpoint": null}),
    )
    .await
    .expect("send");
    assert_eq!(resp.status(), 201);
    let app: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(app["status"], "enabled");
    assert_eq!(app["tlsOnly"], serde_json::Value::Null);
    let resp = send(
        Method::PATCH,
        &key_url,
        json!({"name": "Renamed", "revocableTokens": null}),
    )
    .await
    .expect("send");
    assert_eq!(resp.status(), 200);
    let key: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(key["name"], "Renamed");
    assert_eq!(
        key["revocableTokens"],
        keys[0].revocable_tokens.unwrap_or(false)
    );
    // A blank name is a string like any other (no limit is documented).
    let resp = send(
        Method::POST,
        &keys_url,
        json!({"name": " ", "capability": {"*": ["publish"]}}),
    )
    .await
    .expect("send");
    assert_eq!(resp.status(), 201);
    sb.shutdown().await;
}

#[tokio::test]
async fn the_inventory_lists_the_keys_of_every_app_the_access_token_sees() {
    use keydeck::config::{Connection, ConnectionKind, Environment};
    use keydeck::core::client::{AblyAccess, ActiveClient};
    use keydeck::core::hygiene::inventory::{self, Reached};

    let sb = common::sandbox().await;
    let c = control(&sb);
    let account = sb.info().ably.account_id.clone();
    let (demo_app, demo_keys) = demo(&c, &account).await;
    // A second app with a key of its own, beside the demo app the connection has chosen.
    let other = c.create_app(&account, "Second app").await.unwrap();
    let extra = c
        .create_key(
            &other.id,
            &NewAblyKey {
                name: "second-app-key".to_owned(),
                capability: cap(&[("news:*", &["subscribe"])]),
                revocable_tokens: None,
            },
        )
        .await
        .unwrap();
    let other_keys = c.list_keys(&other.id).await.unwrap();

    for (token_of, client, chosen) in [
        (
            "full token, demo app chosen",
            control(&sb),
            Some(demo_app.clone()),
        ),
        ("full token, no app chosen", control(&sb), None),
        ("read-only token", read_only(&sb), Some(demo_app.clone())),
    ] {
        let conn = Connection {
            id: "ably".to_owned(),
            label: "Ably".to_owned(),
            kind: ConnectionKind::AblyAccount {
                account_id: None,
                app_id: chosen.clone(),
            },
            environment: Environment::Dev,
            base_url: None,
            embedded_sandbox: false,
        };
        let access = AblyAccess {
            control: client,
            account_id: None,
            app_id: chosen,
            rest_url: None,
        };
        let part = inventory::gather(conn, Ok(ActiveClient::Ably(access)), Vec::new()).await;
        assert_eq!(part.reached, Reached::Listed, "{token_of}");
        let listed: Vec<(&str, &str, &str)> = part
            .rows
            .iter()
            .map(|r| (r.app.as_str(), r.name.as_str(), r.masked.as_str()))
            .collect();
        for (app, keys) in [(&demo_app, &demo_keys), (&other.id, &other_keys)] {
            for k in keys.iter() {
                assert!(
                    listed.contains(&(app.as_str(), k.name.as_str(), k.key.masked().as_str())),
                    "{token_of}: {} of app {app} in {listed:?}",
                    k.name
                );
            }
        }
        assert_eq!(
            part.rows.len(),
            demo_keys.len() + other_keys.len(),
            "{token_of}"
        );
        let second = part
            .rows
            .iter()
            .find(|r| r.name == "second-app-key")
            .unwrap();
        assert_eq!(second.key_sha256, keydeck::config::key_sha256(&extra.key));
        assert!(
            !format!("{:?}", part.rows).contains(extra.key.expose()),
            "{token_of}: no key value in the rows"
        );
    }
    sb.shutdown().await;
}
