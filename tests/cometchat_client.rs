//! The CometChat client against the sandbox over real loopback HTTP: every operation, its
//! success and its listed errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

mod common;

use std::collections::HashSet;
use std::time::Duration;

use futures::StreamExt;
use keydeck::providers::cometchat::{
    ApiKeyQuery, ApiKeyUpdate, AppEndpoint, AuthTokenUpdate, CometChatClient, NewApiKey,
    NewAuthToken, NewUser, Scope, UserDeletion, UserQuery, UserUpdate,
};
use keydeck::providers::management::{AppQuery, NewApp};
use keydeck::providers::{ApiError, ErrorKind};
use keydeck::sandbox::{Sandbox, SandboxOptions};
use keydeck::secret::Secret;

fn user(uid: &str, name: &str) -> NewUser {
    NewUser {
        uid: uid.into(),
        name: name.into(),
        ..NewUser::default()
    }
}

fn assert_code(e: &ApiError, kind: ErrorKind, code: &str) {
    assert_eq!(e.kind, kind, "{e:?}");
    assert_eq!(e.code.as_deref(), Some(code), "{e:?}");
}

/// `<uid>_<10 digits><30 lowercase hex>`
fn assert_token_shape(uid: &str, token: &Secret) {
    let t = token.expose();
    let rest = t
        .strip_prefix(&format!("{uid}_"))
        .unwrap_or_else(|| panic!("token for {uid} starts with the uid"));
    assert_eq!(rest.len(), 40, "{rest}");
    assert!(rest[..10].chars().all(|c| c.is_ascii_digit()));
    assert!(
        rest[10..]
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_app_lists_its_two_default_keys() {
    let sb = common::sandbox().await;
    let keys = common::full_client(&sb)
        .list_api_keys(&ApiKeyQuery::default())
        .await
        .unwrap();
    let mut names: Vec<(String, Scope)> = keys.iter().map(|k| (k.name.clone(), k.scope)).collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            ("Auth Key".to_owned(), Scope::AuthOnly),
            ("Rest API Key".to_owned(), Scope::FullAccess)
        ]
    );
    for k in &keys {
        assert_eq!(k.api_key.expose().len(), 40);
        assert!(
            k.api_key
                .expose()
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn api_keys_are_created_listed_newest_first_filtered_updated_and_deleted() {
    let sb = common::sandbox().await;
    let c = common::full_client(&sb);
    let created = c
        .create_api_key(&NewApiKey {
            name: "ci-bot".into(),
            scope: Scope::AuthOnly,
        })
        .await
        .unwrap();
    assert_eq!(created.name, "ci-bot");
    assert_eq!(created.scope, Scope::AuthOnly);
    assert!(created.created_at > 1_600_000_000);

    let all = c.list_api_keys(&ApiKeyQuery::default()).await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].api_key, created.api_key, "newest first");

    let auth_only = c
        .list_api_keys(&ApiKeyQuery {
            scope: Some(Scope::AuthOnly),
            search_key: None,
        })
        .await
        .unwrap();
    assert!(auth_only.iter().all(|k| k.scope == Scope::AuthOnly));
    assert_eq!(auth_only[0].api_key, created.api_key);

    let found = c
        .list_api_keys(&ApiKeyQuery {
            scope: None,
            search_key: Some("ci-".into()),
        })
        .await
        .unwrap();
    assert_eq!(found.len(), 1);

    let fetched = c.get_api_key(&created.api_key).await.unwrap();
    assert_eq!(fetched, created);

    let updated = c
        .update_api_key(
            &created.api_key,
            &ApiKeyUpdate {
                name: Some("ci-bot-2".into()),
                scope: Some(Scope::FullAccess),
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.name, "ci-bot-2");
    assert_eq!(updated.scope, Scope::FullAccess);

    let ack = c.delete_api_key(&created.api_key).await.unwrap();
    assert!(ack.success);
    assert!(
        !ack.message.contains(created.api_key.expose()),
        "the ack message must not echo the whole key"
    );
    let e = c.get_api_key(&created.api_key).await.unwrap_err();
    assert_code(&e, ErrorKind::NotFound, "ERR_APIKEY_NOT_FOUND");
    let e = c.delete_api_key(&created.api_key).await.unwrap_err();
    assert_code(&e, ErrorKind::NotFound, "ERR_APIKEY_NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread")]
async fn api_key_input_errors_name_the_field() {
    let sb = common::sandbox().await;
    let c = common::full_client(&sb);
    let e = c
        .create_api_key(&NewApiKey {
            name: "   ".into(),
            scope: Scope::FullAccess,
        })
        .await
        .unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Validation { .. }), "{e:?}");
    assert!(!e.field_errors("name").is_empty(), "{e:?}");

    let e = c
        .create_api_key(&NewApiKey {
            name: "x".repeat(101),
            scope: Scope::FullAccess,
        })
        .await
        .unwrap_err();
    assert!(!e.field_errors("name").is_empty(), "{e:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_may_not_update_or_delete_itself() {
    let sb = common::sandbox().await;
    let c = common::full_client(&sb);
    let own = c.api_key().clone();
    let e = c.delete_api_key(&own).await.unwrap_err();
    assert_code(&e, ErrorKind::PermissionDenied, "ERR_APIKEY_NO_SELF_ACTION");
    let e = c
        .update_api_key(
            &own,
            &ApiKeyUpdate {
                name: Some("renamed".into()),
                scope: None,
            },
        )
        .await
        .unwrap_err();
    assert_code(&e, ErrorKind::PermissionDenied, "ERR_APIKEY_NO_SELF_ACTION");
    // It is still there, unchanged.
    let k = c.get_api_key(&own).await.unwrap();
    assert_eq!(k.name, "Rest API Key");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_app_holds_at_most_25_keys() {
    let sb = common::sandbox().await;
    let c = common::full_client(&sb);
    for i in 0..23 {
        c.create_api_key(&NewApiKey {
            name: format!("k{i}"),
            scope: Scope::AuthOnly,
        })
        .await
        .unwrap();
    }
    let e = c
        .create_api_key(&NewApiKey {
            name: "one too many".into(),
            scope: Scope::AuthOnly,
        })
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::PermissionDenied, "{e:?}");
    assert_eq!(
        c.list_api_keys(&ApiKeyQuery::default())
            .await
            .unwrap()
            .len(),
        25
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_auth_only_key_creates_users_and_tokens_and_nothing_else() {
    let sb = common::sandbox().await;
    let c = common::auth_only_client(&sb);
    let u = c.create_user(&user("scoped-1", "Scoped")).await.unwrap();
    assert_eq!(u.uid, "scoped-1");
    let t = c
        .create_auth_token("scoped-1", &NewAuthToken::default())
        .await
        .unwrap();
    assert_token_shape("scoped-1", &t.auth_token);

    let key = c.api_key().expose().to_owned();
    let refusals = [
        c.list_users(&UserQuery::default(), None).await.unwrap_err(),
        c.get_user("scoped-1", None).await.unwrap_err(),
        c.list_api_keys(&ApiKeyQuery::default()).await.unwrap_err(),
        c.list_auth_tokens("scoped-1", None, None)
            .await
            .unwrap_err(),
        c.flush_auth_tokens("scoped-1").await.unwrap_err(),
        c.update_user("scoped-1", &UserUpdate::default())
            .await
            .unwrap_err(),
        c.delete_user("scoped-1", false).await.unwrap_err(),
    ];
    for e in refusals {
        assert_code(&e, ErrorKind::PermissionDenied, "AUTH_ERR_NO_ACCESS");
        assert!(e.is_scope_refusal());
        assert!(!e.message.contains(&key), "message leaks the key: {e}");
        assert!(!format!("{e:?}").contains(&key));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_and_unknown_keys_are_unauthenticated() {
    let sb = common::sandbox().await;
    let wrong = CometChatClient::new(
        &common::endpoint(&sb),
        Secret::new("0000000000000000000000000000000000000000"),
    )
    .unwrap();
    let e = wrong
        .list_api_keys(&ApiKeyQuery::default())
        .await
        .unwrap_err();
    assert_code(&e, ErrorKind::Unauthenticated, "AUTH_ERR_APIKEY_NOT_FOUND");

    // The client refuses to send an empty key; the server's answer to a missing header is
    // checked with raw HTTP.
    let e = CometChatClient::new(&common::endpoint(&sb), Secret::new("")).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidConfig);
    let url = format!("{}/apikeys", sb.info().cometchat.apps[0].base_url);
    let r = reqwest::get(&url).await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "AUTH_ERR_EMPTY_APIKEY");
}

#[tokio::test(flavor = "multi_thread")]
async fn users_are_created_lower_cased_validated_and_unique() {
    let sb = common::sandbox().await;
    let c = common::full_client(&sb);
    let u = c
        .create_user(&NewUser {
            uid: "Alice_01".into(),
            name: "Alice".into(),
            tags: vec!["beta".into()],
            metadata: Some(serde_json::json!({"@private": {"email": "a@example.com"}})),
            with_auth_token: true,
            ..NewUser::default()
        })
        .await
        .unwrap();
    assert_eq!(u.uid, "alice_01");
    assert_eq!(u.status, "offline");
    assert_eq!(u.role, "default");
    assert_eq!(u.tags.as_deref(), Some(&["beta".to_owned()][..]));
    assert_token_shape("alice_01", u.auth_token.as_ref().unwrap());

    let e = c.create_user(&user("ALICE_01", "Again")).await.unwrap_err();
    assert_code(&e, ErrorKind::Conflict, "ERR_UID_ALREADY_EXISTS");

    let e = c.create_user(&user("bad uid!", "")).await.unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Validation { .. }), "{e:?}");
    assert!(!e.field_errors("uid").is_empty(), "{e:?}");
    assert!(!e.field_errors("name").is_empty(), "{e:?}");

    let e = c
        .create_user(&NewUser {
            uid: "bob".into(),
            name: "Bob".into(),
            avatar: Some("not a url".into()),
            ..NewUser::default()
        })
        .await
        .unwrap_err();
    assert!(!e.field_errors("avatar").is_empty(), "{e:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn users_are_read_updated_and_fields_unset() {
    let sb = common::sandbox().await;
    let c = common::full_client(&sb);
    c.create_user(&NewUser {
        uid: "carol".into(),
        name: "Carol".into(),
        avatar: Some("https://example.com/c.png".into()),
        link: Some("https://example.com/carol".into()),
        ..NewUser::default()
    })
    .await
    .unwrap();

    let got = c.get_user("carol", None).await.unwrap();
    assert_eq!(got.avatar.as_deref(), Some("https://example.com/c.png"));

    let updated = c
        .update_user(
            "carol",
            &UserUpdate {
                name: Some("Carol K".into()),
                role: Some("default".into()),
                unset: vec!["avatar".into()],
                ..UserUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.name, "Carol K");
    assert_eq!(updated.avatar, None);
    assert_eq!(
        updated.link.as_deref(),
        Some("https://example.com/carol"),
        "only the unset field is cleared"
    );
    assert!(updated.updated_at.is_some());

    let e = c
        .update_user(
            "carol",
            &UserUpdate {
                name: Some(String::new()),
                ..UserUpdate::default()
            },
        )
        .await
        .unwrap_err();
    assert!(!e.field_errors("name").is_empty(), "{e:?}");

    let e = c.get_user("nobody", None).await.unwrap_err();
    assert_code(&e, ErrorKind::NotFound, "ERR_UID_NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_user_deactivates_it_unless_permanent() {
    let sb = common::sandbox().await;
    let c = common::full_client(&sb);
    for uid in ["dave", "erin", "frank"] {
        c.create_user(&user(uid, uid)).await.unwrap();
    }
    assert_eq!(
        c.delete_user("dave", false).await.unwrap(),
        UserDeletion::Deactivated
    );
    let e = c.get_user("dave", None).await.unwrap_err();
    assert_code(&e, ErrorKind::NotFound, "ERR_UID_NOT_FOUND");

    let active = c.list_users(&UserQuery::default(), None).await.unwrap();
    assert!(!active.items.iter().any(|u| u.uid == "dave"));
    let with = c
        .list_users(
            &UserQuery {
                with_deactivated: true,
                ..UserQuery::default()
            },
            None,
        )
        .await
        .unwrap();
    assert!(with.items.iter().any(|u| u.uid == "dave"));
    let only = c
        .list_users(
            &UserQuery {
                only_deactivated: true,
                ..UserQuery::default()
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        only.items
            .iter()
            .map(|u| u.uid.as_str())
            .collect::<Vec<_>>(),
        ["dave"]
    );

    let re = c
        .reactivate_users(&["dave".into(), "ghost".into()])
        .await
        .unwrap();
    assert_eq!(re.reactivated_uids, ["dave"]);
    assert_eq!(re.not_found, ["ghost"]);
    c.get_user("dave", None).await.unwrap();

    let bulk = c
        .deactivate_users(&["erin".into(), "frank".into(), "ghost".into()])
        .await
        .unwrap();
    let mut d = bulk.deactivated_uids.clone();
    d.sort();
    assert_eq!(d, ["erin", "frank"]);
    assert_eq!(bulk.not_found, ["ghost"]);

    match c.delete_user("dave", true).await.unwrap() {
        UserDeletion::Deleted { message } => assert!(message.contains("dave")),
        other => panic!("expected a permanent delete, got {other:?}"),
    }
    let again = c.reactivate_users(&["dave".into()]).await.unwrap();
    assert_eq!(
        again.not_found,
        ["dave"],
        "a permanent delete cannot be undone"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn on_behalf_of_shows_the_user_as_another_sees_it() {
    let sb = common::sandbox().await;
    let c = common::full_client(&sb);
    c.create_user(&user("henry", "Henry")).await.unwrap();
    c.create_user(&user("iris", "Iris")).await.unwrap();
    let plain = c.get_user("henry", None).await.unwrap();
    assert_eq!(plain.conversation_id, None);
    let seen = c.get_user("henry", Some("iris")).await.unwrap();
    assert!(seen.conversation_id.is_some(), "{seen:?}");
    assert_eq!(seen.blocked_by_me, Some(false));
    let listed = c
        .list_users(&UserQuery::default(), Some("iris"))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 2);
    let e = c.get_user("henry", Some("nobody")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
}

#[tokio::test(flavor = "multi_thread")]
async fn user_filters_search_status_role_and_tags() {
    let sb = common::sandbox().await;
    let c = common::full_client(&sb);
    c.create_user(&NewUser {
        uid: "jade".into(),
        name: "Jade Moss".into(),
        role: Some("default".into()),
        tags: vec!["vip".into()],
        ..NewUser::default()
    })
    .await
    .unwrap();
    c.create_user(&user("kai", "Kai Moss")).await.unwrap();
    c.create_user(&user("lee", "Lee Stone")).await.unwrap();

    let q = |search: &str| UserQuery {
        search_key: Some(search.into()),
        ..UserQuery::default()
    };
    let uids = |p: keydeck::providers::Page<keydeck::providers::cometchat::User>| {
        p.items.into_iter().map(|u| u.uid).collect::<Vec<_>>()
    };
    assert_eq!(uids(c.list_users(&q("ja"), None).await.unwrap()), ["jade"]);
    assert_eq!(
        uids(c.list_users(&q("moss"), None).await.unwrap()),
        ["jade", "kai"]
    );
    let tagged = c
        .list_users(
            &UserQuery {
                tags: vec!["vip".into()],
                with_tags: true,
                ..UserQuery::default()
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(tagged.items.len(), 1);
    assert_eq!(
        tagged.items[0].tags.as_deref(),
        Some(&["vip".to_owned()][..])
    );
    let offline = c
        .list_users(
            &UserQuery {
                status: Some("offline".into()),
                role: Some("default".into()),
                ..UserQuery::default()
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(offline.items.len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_tokens_are_issued_listed_updated_revoked_and_flushed() {
    let sb = common::sandbox().await;
    let c = common::full_client(&sb);
    c.create_user(&user("mia", "Mia")).await.unwrap();

    let first = c
        .create_auth_token("mia", &NewAuthToken::default())
        .await
        .unwrap();
    assert_token_shape("mia", &first.auth_token);
    let same = c
        .create_auth_token("mia", &NewAuthToken::default())
        .await
        .unwrap();
    assert_eq!(
        same.auth_token, first.auth_token,
        "without force the token is reused"
    );
    let forced = c
        .create_auth_token(
            "mia",
            &NewAuthToken {
                force: true,
                ..NewAuthToken::default()
            },
        )
        .await
        .unwrap();
    assert_ne!(forced.auth_token, first.auth_token);

    let list = c.list_auth_tokens("mia", None, None).await.unwrap();
    assert_eq!(list.items.len(), 2);
    assert_eq!(list.pagination.total, 2);

    let got = c.get_auth_token("mia", &first.auth_token).await.unwrap();
    assert_eq!(got.auth_token, first.auth_token);

    let upd = c
        .update_auth_token(
            "mia",
            &first.auth_token,
            &AuthTokenUpdate {
                platform: Some("ios".into()),
                user_agent: Some("Keydeck test".into()),
                app_info: Some(serde_json::json!({"version": "1.0"})),
            },
        )
        .await
        .unwrap();
    assert_eq!(upd.platform.as_deref(), Some("ios"));
    assert_eq!(upd.user_agent.as_deref(), Some("Keydeck test"));

    let ack = c.delete_auth_token("mia", &first.auth_token).await.unwrap();
    assert!(ack.success);
    let e = c
        .get_auth_token("mia", &first.auth_token)
        .await
        .unwrap_err();
    assert_code(&e, ErrorKind::NotFound, "ERR_AUTH_TOKEN_NOT_FOUND");
    assert!(!e.message.contains(first.auth_token.expose()));
    let e = c
        .delete_auth_token("mia", &first.auth_token)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);

    let ack = c.flush_auth_tokens("mia").await.unwrap();
    assert!(ack.message.contains("mia"), "{}", ack.message);
    assert!(
        c.list_auth_tokens("mia", None, None)
            .await
            .unwrap()
            .items
            .is_empty()
    );

    let e = c
        .create_auth_token("nobody", &NewAuthToken::default())
        .await
        .unwrap_err();
    assert_code(&e, ErrorKind::NotFound, "ERR_UID_NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_pager_walks_5000_users_once_each_in_order() {
    let sb = common::sandbox().await;
    let c = common::full_client(&sb);
    let uids: Vec<String> = (0..5000).map(|i| format!("user-{i:05}")).collect();
    let results: Vec<Result<_, ApiError>> = futures::stream::iter(uids.clone())
        .map(|uid| {
            let c = c.clone();
            async move { c.create_user(&user(&uid, &format!("User {uid}"))).await }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(results.iter().all(Result::is_ok));

    let mut pages = 0;
    let mut seen = Vec::new();
    let mut stream = Box::pin(c.user_pages(
        UserQuery {
            per_page: Some(1000),
            ..UserQuery::default()
        },
        3,
    ));
    while let Some(page) = stream.next().await {
        let page = page.unwrap();
        pages += 1;
        assert_eq!(page.pagination.current_page, pages);
        assert_eq!(page.pagination.total, 5000);
        seen.extend(page.items.into_iter().map(|u| u.uid));
    }
    assert_eq!(pages, 5);
    assert_eq!(seen, uids, "every user once, in uid order");
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), 5000);

    let all = c
        .list_all_users(
            UserQuery {
                per_page: Some(700),
                search_key: Some("user-04".into()),
                ..UserQuery::default()
            },
            2,
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 1000);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rate_limited_call_reports_the_servers_delay() {
    let sb = common::sandbox().await;
    // No retries: the client would otherwise wait out the window and succeed.
    let c = common::full_client(&sb).with_retry(keydeck::providers::http::RetryPolicy::none());
    let app_id = sb.info().cometchat.apps[0].app_id.clone();
    sb.set_rate_limit(&app_id, Some(2));
    c.list_api_keys(&ApiKeyQuery::default()).await.unwrap();
    c.list_api_keys(&ApiKeyQuery::default()).await.unwrap();
    let e = c.list_api_keys(&ApiKeyQuery::default()).await.unwrap_err();
    assert_code(
        &e,
        ErrorKind::RateLimited {
            retry_after: e.retry_after(),
        },
        "ERR_TOO_MANY_REQUESTS",
    );
    let delay = e.retry_after().expect("Retry-After");
    assert!(delay >= Duration::from_secs(1) && delay <= Duration::from_secs(60));
    sb.set_rate_limit(&app_id, None);
    c.list_api_keys(&ApiKeyQuery::default()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_data_file_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sandbox.sqlite");
    let opts = || SandboxOptions {
        port: 0,
        data: Some(path.clone()),
        seed_demo_users: false,
    };
    let sb = Sandbox::start(opts()).await.unwrap();
    let before = sb.info();
    let c = common::full_client(&sb);
    let key = c
        .create_api_key(&NewApiKey {
            name: "survivor".into(),
            scope: Scope::FullAccess,
        })
        .await
        .unwrap();
    c.create_user(&user("nina", "Nina")).await.unwrap();
    sb.shutdown().await;

    let sb = Sandbox::start(opts()).await.unwrap();
    let after = sb.info();
    assert_eq!(
        after.cometchat.apps[0].app_id,
        before.cometchat.apps[0].app_id
    );
    assert_eq!(
        after.cometchat.apps[0].rest_api_key,
        before.cometchat.apps[0].rest_api_key
    );
    assert_eq!(
        after.cometchat.management.key,
        before.cometchat.management.key
    );
    let c = common::full_client(&sb);
    assert_eq!(c.get_api_key(&key.api_key).await.unwrap().name, "survivor");
    assert_eq!(c.get_user("nina", None).await.unwrap().name, "Nina");
}

#[tokio::test(flavor = "multi_thread")]
async fn management_creates_lists_opens_and_deletes_apps() {
    let sb = common::sandbox().await;
    let m = common::management_client(&sb);
    let app = m
        .create_app(&NewApp {
            name: "Support desk".into(),
            region: "eu".into(),
        })
        .await
        .unwrap();
    assert_eq!(app.region, "eu");
    assert_eq!(app.api_keys.len(), 2);
    let full = app.full_access_key().expect("a fullAccess key").clone();
    assert_eq!(full.name, "Rest API Key");

    let listed = m
        .list_apps(&AppQuery {
            search_key: Some("support".into()),
            ..AppQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].id, app.id);

    // Open it: its own chat surface answers with its fullAccess key.
    let base = sb.info().cometchat.apps[0]
        .base_url
        .replace(&sb.info().cometchat.apps[0].app_id, &app.id);
    let chat = CometChatClient::new(
        &keydeck::providers::cometchat::AppEndpoint {
            app_id: app.id.clone(),
            region: "eu".into(),
            base_url: Some(base),
        },
        full.api_key.clone(),
    )
    .unwrap();
    assert_eq!(
        chat.list_api_keys(&ApiKeyQuery::default())
            .await
            .unwrap()
            .len(),
        2
    );

    let del = m.delete_app(&app.id).await.unwrap();
    assert!(del.scheduled_to_delete_at > 1_600_000_000);
    let listed = m.list_apps(&AppQuery::default()).await.unwrap();
    assert!(!listed.items.iter().any(|a| a.id == app.id));
    let e = chat
        .list_api_keys(&ApiKeyQuery::default())
        .await
        .unwrap_err();
    assert_code(&e, ErrorKind::NotFound, "ERR_APP_ARCHIVED");
    let e = m.delete_app(&app.id).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    let e = m.delete_app("ffffffffffffffff").await.unwrap_err();
    assert_code(&e, ErrorKind::NotFound, "ERR_APP_NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread")]
async fn management_refuses_a_wrong_secret() {
    let sb = common::sandbox().await;
    let info = sb.info().cometchat.management;
    let m = keydeck::providers::management::ManagementClient::new(
        Some(&info.base_url),
        Secret::new(info.key),
        Secret::new("wrong-secret-value"),
    )
    .unwrap();
    let e = m.list_apps(&AppQuery::default()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unauthenticated, "{e:?}");
    assert_eq!(e.status, Some(401));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_closed_port_is_a_connection_error_and_garbage_is_a_bad_response() {
    // A port that was just free: nothing listens there.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let ep = keydeck::providers::cometchat::AppEndpoint {
        app_id: "x".into(),
        region: "us".into(),
        base_url: Some(format!("http://127.0.0.1:{port}/v3")),
    };
    let key = "0123456789abcdef0123456789abcdef01234567";
    let c = CometChatClient::new(&ep, Secret::new(key)).unwrap();
    let e = c.get_api_key(&Secret::new(key)).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Connection, "{e:?}");
    assert!(!e.message.contains(key));

    // A server that answers 200 with truncated JSON.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf).await;
            let body = "{\"data\":[{\"apiKey\":";
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(reply.as_bytes()).await;
        }
    });
    let ep = keydeck::providers::cometchat::AppEndpoint {
        app_id: "x".into(),
        region: "us".into(),
        base_url: Some(format!("http://127.0.0.1:{port}/v3")),
    };
    let c = CometChatClient::new(&ep, Secret::new(key)).unwrap();
    let e = c.list_api_keys(&ApiKeyQuery::default()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadResponse, "{e:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_26th_key_is_explained_as_the_plans_limit_not_a_permission_problem() {
    let sb = common::sandbox().await;
    let c = common::full_client(&sb);
    // The app starts with two keys; the plan allows 25.
    for i in 0..23 {
        c.create_api_key(&NewApiKey {
            name: format!("k{i}"),
            scope: Scope::AuthOnly,
        })
        .await
        .unwrap();
    }
    let e = c
        .create_api_key(&NewApiKey {
            name: "the 26th".to_owned(),
            scope: Scope::AuthOnly,
        })
        .await
        .unwrap_err();
    let x = keydeck::core::errors::explain(&e);
    assert_eq!(x.title, "The app's plan allows no more of these");
    assert!(x.body.contains("not a permission problem"), "{}", x.body);
    assert!(x.body.contains("25"), "{}", x.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retried_delete_whose_first_try_went_through_is_reported_as_deleted() {
    use keydeck::sandbox::{Fault, FaultRule};
    let sb = common::sandbox().await;
    let c = common::full_client(&sb);
    let truncate_next_delete = || FaultRule {
        method: Some("DELETE".to_owned()),
        path_contains: "/apikeys/".to_owned(),
        fault: Fault::Truncated,
        times: Some(1),
    };
    let doomed = c
        .create_api_key(&NewApiKey {
            name: "doomed".to_owned(),
            scope: Scope::AuthOnly,
        })
        .await
        .unwrap();
    // The server deletes it, the answer breaks off, the retry finds nothing: the client
    // says why, not a bare "not found".
    sb.set_fault(truncate_next_delete());
    let e = c.delete_api_key(&doomed.api_key).await.unwrap_err();
    assert!(e.is_gone_after_retry(), "{e:?}");
    assert_eq!(e.kind, ErrorKind::NotFound);

    // The operation the app and the command line use reports it deleted, and records it so.
    let again = c
        .create_api_key(&NewApiKey {
            name: "doomed-too".to_owned(),
            scope: Scope::AuthOnly,
        })
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let rec = keydeck::core::recorder::Recorder::new(
        keydeck::audit::AuditLog::open(&path, &keydeck::vault::Vault::memory())
            .map_err(|e| e.to_string()),
    );
    sb.set_fault(truncate_next_delete());
    keydeck::core::ops::keys::delete(&c, &rec, &again)
        .await
        .expect("reported deleted");
    let listed = c.list_api_keys(&ApiKeyQuery::default()).await.unwrap();
    assert!(listed.iter().all(|k| k.name != "doomed-too"));
    for _ in 0..500 {
        if rec.is_idle() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let records = keydeck::audit::read_all(&path).unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].action, "key.deleted");
    assert_eq!(records[0].outcome, "ok");

    // A key that was never there is still "not found".
    let e = c.delete_api_key(&doomed.api_key).await.unwrap_err();
    assert!(!e.is_gone_after_retry());
    assert_eq!(e.kind, ErrorKind::NotFound);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_calls_host_takes_the_same_key_in_both_forms_and_refuses_a_wrong_one() {
    let sb = common::sandbox().await;
    let info = sb.info();
    let demo = &info.cometchat.apps[0];
    // The per-app host form, as an SDK sends it: the Calls host's name in Host.
    let root = url::Url::parse(&demo.base_url).unwrap();
    let port = root.port().unwrap();
    keydeck::providers::http::install_tls_provider();
    let reply = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/v3/calls"))
        .header(
            "host",
            format!("{}.call-{}.localhost:{port}", demo.app_id, demo.region),
        )
        .header("apikey", &demo.auth_key)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let body: serde_json::Value = reply.json().await.unwrap();
    assert_eq!(body["data"], serde_json::json!([]));
    assert_eq!(body["meta"]["pagination"]["total"], 0);

    for base in [&demo.base_url] {
        let endpoint = AppEndpoint {
            app_id: demo.app_id.clone(),
            region: demo.region.clone(),
            base_url: Some(base.clone()),
        };
        let calls = endpoint.calls_base_url().unwrap().expect("a Calls host");
        assert!(
            calls.as_str().contains("cometchat-calls") || calls.as_str().contains(".call-"),
            "{calls}"
        );
        for key in [&demo.rest_api_key, &demo.auth_key] {
            let c = CometChatClient::new(&endpoint, Secret::new(key.clone())).unwrap();
            assert_eq!(c.probe_calls().await.unwrap(), Some(0), "{base}");
        }
        let wrong = CometChatClient::new(
            &endpoint,
            Secret::new("0000000000000000000000000000000000000000".to_owned()),
        )
        .unwrap();
        let e = wrong.probe_calls().await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Unauthenticated, "{e:?}");
    }
}
