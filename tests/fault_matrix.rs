//! The fault matrix: every injected fault × {list, create, delete} × {API keys, users, auth
//! tokens}, driven through `CometChatClient` against the sandbox with the fault set for one
//! request (`times: Some(1)`).
//!
//! What is asserted for every case: the call's outcome (success after retry, or an error of the
//! right kind) and the state the server ended in. The key property: a create never leaves a
//! duplicate behind, and after a delete the thing is gone, whatever the call reported.
//!
//! Run with `--nocapture` to see the outcome table.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use keydeck::providers::cometchat::{
    ApiKeyQuery, CometChatClient, NewApiKey, NewAuthToken, NewUser, Scope,
};
use keydeck::providers::http::{RetryEvent, RetryPolicy};
use keydeck::providers::{ApiError, ErrorKind};
use keydeck::sandbox::{Fault, FaultRule, Sandbox, SandboxOptions, ServeOptions};
use keydeck::secret::Secret;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Res {
    Keys,
    Users,
    Tokens,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    List,
    Create,
    Delete,
}

const RESOURCES: [Res; 3] = [Res::Keys, Res::Users, Res::Tokens];
const OPS: [Op; 3] = [Op::List, Op::Create, Op::Delete];
/// The user whose tokens the token cases use.
const TOKEN_USER: &str = "fm-token-owner";

/// What one case did.
struct Row {
    res: Res,
    op: Op,
    /// `Ok` or the error kind's name.
    result: Result<(), String>,
    /// Retries the transport made (the retry observer's count).
    retries: u32,
    /// After a create: how many were created. After a delete: whether it still exists.
    state: String,
    ms: u128,
}

/// The client under test: fast retries, and the per-call deadline given.
fn client(sb: &Sandbox, deadline: Duration, retries: Arc<AtomicU32>) -> CometChatClient {
    let observer = move |_: &RetryEvent| {
        retries.fetch_add(1, Ordering::SeqCst);
    };
    common::full_client(sb).with_retry(RetryPolicy {
        cancel: None,
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        deadline,
        observer: Some(Arc::new(observer)),
    })
}

fn rule(res: Res, op: Op, fault: &Fault) -> FaultRule {
    let (method, path) = match (res, op) {
        (Res::Keys, Op::List) => ("GET", "/apikeys"),
        (Res::Keys, Op::Create) => ("POST", "/apikeys"),
        (Res::Keys, Op::Delete) => ("DELETE", "/apikeys/"),
        (Res::Users, Op::List) => ("GET", "/users"),
        (Res::Users, Op::Create) => ("POST", "/users"),
        (Res::Users, Op::Delete) => ("DELETE", "/users/"),
        (Res::Tokens, Op::List) => ("GET", "/auth_tokens"),
        (Res::Tokens, Op::Create) => ("POST", "/auth_tokens"),
        (Res::Tokens, Op::Delete) => ("DELETE", "/auth_tokens/"),
    };
    FaultRule {
        method: Some(method.to_owned()),
        path_contains: path.to_owned(),
        fault: fault.clone(),
        times: Some(1),
    }
}

fn outcome<T>(r: Result<T, ApiError>) -> Result<(), String> {
    r.map(|_| ()).map_err(|e| e.kind.name().to_owned())
}

/// Runs the nine cases of one fault on a fresh sandbox.
async fn run(fault: Fault, deadline: Duration) -> Vec<Row> {
    let sb = common::sandbox().await;
    let plain = common::full_client(&sb).with_retry(RetryPolicy::none());
    plain
        .create_user(&NewUser {
            uid: TOKEN_USER.into(),
            name: "Token Owner".into(),
            ..Default::default()
        })
        .await
        .expect("token owner");
    let mut rows = Vec::new();
    for (i, res) in RESOURCES.iter().copied().enumerate() {
        for (j, op) in OPS.iter().copied().enumerate() {
            let tag = format!("fm{i}{j}");
            rows.push(case(&sb, &plain, res, op, &fault, deadline, &tag).await);
        }
    }
    sb.shutdown().await;
    rows
}

async fn case(
    sb: &Sandbox,
    plain: &CometChatClient,
    res: Res,
    op: Op,
    fault: &Fault,
    deadline: Duration,
    tag: &str,
) -> Row {
    // Set-up without faults: the thing a delete removes.
    let victim: Option<Secret> = match (res, op) {
        (Res::Keys, Op::Delete) => Some(
            plain
                .create_api_key(&NewApiKey {
                    name: tag.into(),
                    scope: Scope::AuthOnly,
                })
                .await
                .expect("set-up key")
                .api_key,
        ),
        (Res::Users, Op::Delete) => {
            plain
                .create_user(&NewUser {
                    uid: tag.into(),
                    name: tag.into(),
                    ..Default::default()
                })
                .await
                .expect("set-up user");
            None
        }
        (Res::Tokens, Op::Delete) => Some(
            plain
                .create_auth_token(TOKEN_USER, &new_token(tag))
                .await
                .expect("set-up token")
                .auth_token,
        ),
        _ => None,
    };
    let tokens_before = token_count(plain, tag).await;

    sb.set_fault(rule(res, op, fault));
    let retries = Arc::new(AtomicU32::new(0));
    let c = client(sb, deadline, Arc::clone(&retries));
    let started = Instant::now();
    let result = match (res, op) {
        (Res::Keys, Op::List) => outcome(c.list_api_keys(&ApiKeyQuery::default()).await),
        (Res::Keys, Op::Create) => outcome(
            c.create_api_key(&NewApiKey {
                name: tag.into(),
                scope: Scope::AuthOnly,
            })
            .await,
        ),
        (Res::Keys, Op::Delete) => match &victim {
            Some(k) => outcome(c.delete_api_key(k).await),
            None => Err("no victim".into()),
        },
        (Res::Users, Op::List) => outcome(c.list_users(&Default::default(), None).await),
        (Res::Users, Op::Create) => outcome(
            c.create_user(&NewUser {
                uid: tag.into(),
                name: tag.into(),
                ..Default::default()
            })
            .await,
        ),
        (Res::Users, Op::Delete) => outcome(c.delete_user(tag, true).await),
        (Res::Tokens, Op::List) => outcome(c.list_auth_tokens(TOKEN_USER, None, None).await),
        (Res::Tokens, Op::Create) => {
            outcome(c.create_auth_token(TOKEN_USER, &new_token(tag)).await)
        }
        (Res::Tokens, Op::Delete) => match &victim {
            Some(t) => outcome(c.delete_auth_token(TOKEN_USER, t).await),
            None => Err("no victim".into()),
        },
    };
    let ms = started.elapsed().as_millis();
    assert!(
        sb.faults().is_empty(),
        "{res:?} {op:?}: the fault was never triggered"
    );
    sb.clear_faults();
    let state = match op {
        Op::List => "-".to_owned(),
        Op::Create => {
            let n = match res {
                Res::Keys => plain
                    .list_api_keys(&ApiKeyQuery {
                        scope: None,
                        search_key: Some(tag.into()),
                    })
                    .await
                    .expect("list keys")
                    .iter()
                    .filter(|k| k.name == tag)
                    .count(),
                Res::Users => usize::from(plain.get_user(tag, None).await.is_ok()),
                Res::Tokens => token_count(plain, tag).await - tokens_before,
            };
            format!("created {n}")
        }
        Op::Delete => {
            let exists = match res {
                Res::Keys => match &victim {
                    Some(k) => gone_or_exists(plain.get_api_key(k).await),
                    None => true,
                },
                Res::Users => gone_or_exists(plain.get_user(tag, None).await),
                Res::Tokens => match &victim {
                    Some(t) => gone_or_exists(plain.get_auth_token(TOKEN_USER, t).await),
                    None => true,
                },
            };
            if exists { "exists" } else { "gone" }.to_owned()
        }
    };
    Row {
        res,
        op,
        result,
        retries: retries.load(Ordering::SeqCst),
        state,
        ms,
    }
}

fn new_token(tag: &str) -> NewAuthToken {
    NewAuthToken {
        // `force`: every accepted POST makes a new token, so a duplicate would show.
        force: true,
        platform: Some(tag.to_owned()),
        ..Default::default()
    }
}

/// Tokens of the token owner with the case's platform.
async fn token_count(plain: &CometChatClient, tag: &str) -> usize {
    plain
        .list_auth_tokens(TOKEN_USER, Some(100), None)
        .await
        .expect("list tokens")
        .items
        .iter()
        .filter(|t| t.platform.as_deref() == Some(tag))
        .count()
}

fn gone_or_exists<T>(r: Result<T, ApiError>) -> bool {
    match r {
        Ok(_) => true,
        Err(e) if e.kind == ErrorKind::NotFound => false,
        Err(e) => panic!("checking existence failed: {e:?}"),
    }
}

fn print(name: &str, rows: &[Row]) {
    println!("\n{name}");
    for r in rows {
        let result = match &r.result {
            Ok(()) => "ok".to_owned(),
            Err(k) => format!("error: {k}"),
        };
        println!(
            "  {:<7} {:<7} {:<24} retries={} {:<10} {:>5} ms",
            format!("{:?}", r.res),
            format!("{:?}", r.op),
            result,
            r.retries,
            r.state,
            r.ms
        );
    }
}

/// The common assertions: creates made exactly one, deletes left nothing.
fn assert_consistent(rows: &[Row]) {
    for r in rows {
        match r.op {
            Op::Create => assert_eq!(r.state, "created 1", "{:?} {:?}", r.res, r.op),
            Op::Delete => assert_eq!(r.state, "gone", "{:?} {:?}", r.res, r.op),
            Op::List => {}
        }
    }
}

fn results(rows: &[Row], op: Op) -> Vec<Result<(), String>> {
    rows.iter()
        .filter(|r| r.op == op)
        .map(|r| r.result.clone())
        .collect()
}

fn all_ok(rows: &[Row]) {
    for r in rows {
        assert_eq!(r.result, Ok(()), "{:?} {:?}", r.res, r.op);
    }
}

const DEADLINE: Duration = Duration::from_secs(10);

#[tokio::test]
async fn latency_is_only_slower() {
    let rows = run(Fault::Latency { ms: 150 }, DEADLINE).await;
    print("latency 150 ms", &rows);
    all_ok(&rows);
    assert_consistent(&rows);
    for r in &rows {
        assert_eq!(r.retries, 0);
        assert!(r.ms >= 150, "{:?} {:?} took {} ms", r.res, r.op, r.ms);
    }
}

#[tokio::test]
async fn a_5xx_is_retried_or_checked_and_resent() {
    let rows = run(Fault::Status { status: 503 }, DEADLINE).await;
    print("status 503 (before processing)", &rows);
    all_ok(&rows);
    assert_consistent(&rows);
    for r in &rows {
        // GET and DELETE are retried by the transport; a POST is not, the client checks
        // whether it happened and then sends it again.
        let expected = u32::from(r.op != Op::Create);
        assert_eq!(r.retries, expected, "{:?} {:?}", r.res, r.op);
    }
}

#[tokio::test]
async fn a_429_is_retried_after_retry_after() {
    let rows = run(
        Fault::TooManyRequests {
            retry_after_secs: 1,
        },
        DEADLINE,
    )
    .await;
    print("429, Retry-After: 1 (before processing)", &rows);
    all_ok(&rows);
    assert_consistent(&rows);
    for r in &rows {
        assert_eq!(r.retries, 1, "{:?} {:?}", r.res, r.op);
        assert!(r.ms >= 1000, "waited Retry-After: {} ms", r.ms);
    }
}

#[tokio::test]
async fn a_reset_connection_is_retried_or_checked_and_resent() {
    let rows = run(Fault::Reset, DEADLINE).await;
    print("connection reset (before processing)", &rows);
    all_ok(&rows);
    assert_consistent(&rows);
    for r in &rows {
        let expected = u32::from(r.op != Op::Create);
        assert_eq!(r.retries, expected, "{:?} {:?}", r.res, r.op);
    }
}

#[tokio::test]
async fn a_truncated_answer_never_duplicates() {
    let rows = run(Fault::Truncated, DEADLINE).await;
    print("truncated body (after processing)", &rows);
    assert_consistent(&rows);
    // A body cut short is an ambiguous failure: a list is retried and succeeds, a create is
    // found by the client's check instead of being sent again, and a repeated delete finds the
    // thing already gone.
    for r in results(&rows, Op::List) {
        assert_eq!(r, Ok(()));
    }
    for r in results(&rows, Op::Create) {
        assert_eq!(r, Ok(()));
    }
    for r in results(&rows, Op::Delete) {
        assert!(r == Ok(()) || r == Err("not found".to_owned()), "{r:?}");
    }
}

#[tokio::test]
async fn a_malformed_answer_is_a_bad_response_and_a_create_is_found() {
    let rows = run(Fault::Malformed, DEADLINE).await;
    print("200 with invalid JSON (after processing)", &rows);
    assert_consistent(&rows);
    for op in [Op::List, Op::Delete] {
        for r in results(&rows, op) {
            assert_eq!(r, Err("bad response".to_owned()), "{op:?}");
        }
    }
    // The create was carried out and its answer garbled: the client looked, found what it had
    // made, and returned it (never a second one).
    for r in results(&rows, Op::Create) {
        assert_eq!(r, Ok(()));
    }
}

#[tokio::test]
async fn a_stalled_answer_times_out_and_a_create_is_found() {
    let rows = run(Fault::Stall { ms: 3_000 }, Duration::from_secs(2)).await;
    print("stalled body 3 s, deadline 2 s (after processing)", &rows);
    assert_consistent(&rows);
    for r in results(&rows, Op::List) {
        assert_eq!(r, Err("timeout".to_owned()));
    }
    // The create timed out, the client looked, found what it had made, and returned it.
    for r in results(&rows, Op::Create) {
        assert_eq!(r, Ok(()));
    }
    // The delete happened but its answer never came: a timeout, and the thing is gone.
    for r in results(&rows, Op::Delete) {
        assert_eq!(r, Err("timeout".to_owned()));
    }
}

#[tokio::test]
async fn faults_are_managed_over_http_too() {
    // Served over HTTP only when asked for (the headless sandbox), and only with the run's token.
    let sb = Sandbox::start_with(
        SandboxOptions {
            port: 0,
            data: None,
            seed_demo_users: false,
        },
        ServeOptions {
            faults_over_http: true,
            ..ServeOptions::default()
        },
    )
    .await
    .expect("sandbox starts");
    let token = sb.faults_token().expect("a per-run token");
    let http = {
        keydeck::providers::http::install_tls_provider();
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {token}").parse().expect("header value"),
        );
        reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .expect("client")
    };
    let url = format!("{}/_sandbox/faults", sb.base_url());
    let rules = serde_json::json!([
        {"method": "GET", "pathContains": "/apikeys", "fault": {"type": "status", "status": 502}, "times": 2},
        {"pathContains": "/users", "fault": {"type": "tooManyRequests", "retryAfterSecs": 3}}
    ]);
    let resp = http.put(&url).json(&rules).send().await.expect("put");
    assert_eq!(resp.status(), 200);
    let listed: serde_json::Value = http
        .get(&url)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(
        listed,
        rules
            .as_array()
            .map(|a| {
                let mut a = a.clone();
                a[1]["method"] = serde_json::Value::Null;
                a[1]["times"] = serde_json::Value::Null;
                serde_json::Value::Array(a)
            })
            .unwrap_or_default()
    );
    assert_eq!(sb.faults().len(), 2);
    let c = common::full_client(&sb).with_retry(RetryPolicy::none());
    let e = c.list_api_keys(&ApiKeyQuery::default()).await.unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::Server, Some(502)));
    assert_eq!(sb.faults()[0].times, Some(1));
    let e = c.get_user("nobody", None).await.unwrap_err();
    assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
    // The admin path itself is never faulted, and a bad rule is refused.
    let bad =
        serde_json::json!([{"pathContains": "", "fault": {"type": "status", "status": 1000}}]);
    assert_eq!(
        http.put(&url)
            .json(&bad)
            .send()
            .await
            .expect("put")
            .status(),
        400
    );
    assert_eq!(
        http.put(&url)
            .body("nope")
            .send()
            .await
            .expect("put")
            .status(),
        400
    );
    let resp = http.delete(&url).send().await.expect("delete");
    assert_eq!(resp.status(), 204);
    assert!(sb.faults().is_empty());
    c.list_api_keys(&ApiKeyQuery::default())
        .await
        .expect("no faults left");
    sb.shutdown().await;
}

#[tokio::test]
async fn broken_answers_look_as_documented_on_the_wire() {
    let sb = common::sandbox().await;
    let app = sb.info().cometchat.apps[0].clone();
    let url = format!("{}/apikeys", app.base_url);
    keydeck::providers::http::install_tls_provider();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let get = || http.get(&url).header("apikey", &app.rest_api_key).send();
    let full = get().await.expect("get").bytes().await.expect("body").len();
    let once = |fault: Fault| FaultRule {
        method: None,
        path_contains: "/apikeys".into(),
        fault,
        times: Some(1),
    };

    // Reset: no status line at all.
    sb.set_fault(once(Fault::Reset));
    let e = get().await.unwrap_err();
    assert!(!e.is_connect() && !e.is_timeout(), "{e:?}");

    // Truncated: the real status and the full Content-Length, then half the body and EOF.
    sb.set_fault(once(Fault::Truncated));
    let resp = get().await.expect("head arrives");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.content_length(), Some(full as u64));
    assert!(resp.bytes().await.is_err(), "the body breaks off");

    // Malformed: 200, JSON content type, not JSON.
    sb.set_fault(once(Fault::Malformed));
    let resp = get().await.expect("answer");
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.expect("body");
    assert!(serde_json::from_str::<serde_json::Value>(&text).is_err());

    // Stall: the head comes at once, the body after the stall.
    sb.set_fault(once(Fault::Stall { ms: 400 }));
    let started = Instant::now();
    let resp = get().await.expect("head arrives");
    assert!(started.elapsed() < Duration::from_millis(300));
    let body = resp.bytes().await.expect("body after the stall");
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert_eq!(body.len(), full);
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_garbled_answer_to_an_app_or_ably_key_create_is_looked_up_never_made_twice() {
    use keydeck::providers::ably::{AblyControlClient, NewAblyKey};
    use keydeck::providers::management::{AppQuery, NewApp};
    let sb = common::sandbox().await;
    let garble_next = |method: &str, path: &str| FaultRule {
        method: Some(method.to_owned()),
        path_contains: path.to_owned(),
        fault: Fault::Malformed,
        times: Some(1),
    };

    // An app: the create is carried out, its answer garbled; the client finds it.
    let m = common::management_client(&sb);
    sb.set_fault(garble_next("POST", "/cometchat-mgmt/apps"));
    let app = m
        .create_app(&NewApp {
            name: "Garbled shop".to_owned(),
            region: "eu".to_owned(),
        })
        .await
        .expect("the app made is returned");
    assert_eq!(app.name, "Garbled shop");
    assert!(sb.faults().is_empty(), "the answer was garbled");
    let listed = m
        .list_apps(&AppQuery {
            search_key: Some("Garbled shop".to_owned()),
            per_page: Some(100),
            page: None,
        })
        .await
        .unwrap();
    assert_eq!(
        listed
            .items
            .iter()
            .filter(|a| a.name == "Garbled shop")
            .count(),
        1,
        "exactly one app on the server"
    );

    // An Ably key: the same.
    let a = sb.info().ably;
    let control = AblyControlClient::new(Some(&a.control_url), &Secret::new(a.access_token))
        .unwrap()
        .with_retry(RetryPolicy::none());
    let account = a.account_id.clone();
    let app_id = control
        .list_apps(&account)
        .await
        .unwrap()
        .into_iter()
        .find(|x| x.name == "Demo app")
        .unwrap()
        .id;
    sb.set_fault(garble_next("POST", "/keys"));
    let key = control
        .create_key(
            &app_id,
            &NewAblyKey {
                name: "garbled-key".to_owned(),
                capability: [("chat:*".to_owned(), vec!["subscribe".to_owned()])].into(),
                revocable_tokens: None,
            },
        )
        .await
        .expect("the key made is returned");
    assert_eq!(key.name, "garbled-key");
    assert!(sb.faults().is_empty(), "the answer was garbled");
    let keys = control.list_keys(&app_id).await.unwrap();
    assert_eq!(
        keys.iter().filter(|k| k.name == "garbled-key").count(),
        1,
        "exactly one key on the server"
    );
    sb.shutdown().await;
}
