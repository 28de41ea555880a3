//! Retries, backoff, Retry-After, deadlines and "never create twice", against a scripted
//! loopback server that answers each request with the next canned reply.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keydeck::providers::ErrorKind;
use keydeck::providers::cometchat::{
    ApiKeyQuery, AppEndpoint, CometChatClient, NewApiKey, NewUser, Scope,
};
use keydeck::providers::http::{RetryEvent, RetryPolicy};
use keydeck::secret::Secret;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const KEY: &str = "0123456789abcdef0123456789abcdef01234567";

struct Scripted {
    base: String,
    seen: Arc<Mutex<Vec<String>>>,
}

/// A canned reply: status, extra headers, body.
type Canned = (u16, Vec<(&'static str, String)>, String);

/// Serves `replies` in order, one per request.
async fn scripted(replies: Vec<Canned>) -> Scripted {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v3", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let queue = Arc::new(Mutex::new(VecDeque::from(replies)));
    let seen2 = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Read the head, then as much body as content-length says.
            loop {
                let n = sock.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(end) = find(&buf, b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                    let len = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            let line = String::from_utf8_lossy(&buf)
                .lines()
                .next()
                .unwrap_or("")
                .to_owned();
            let mut parts = line.split(' ');
            let method = parts.next().unwrap_or("").to_owned();
            let path = parts
                .next()
                .unwrap_or("")
                .split('?')
                .next()
                .unwrap_or("")
                .to_owned();
            seen2.lock().unwrap().push(format!("{method} {path}"));
            let Some((status, headers, body)) = queue.lock().unwrap().pop_front() else {
                continue;
            };
            let mut reply = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
                body.len()
            );
            for (k, v) in headers {
                reply.push_str(&format!("{k}: {v}\r\n"));
            }
            reply.push_str("\r\n");
            reply.push_str(&body);
            let _ = sock.write_all(reply.as_bytes()).await;
        }
    });
    Scripted { base, seen }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn fast_policy(events: &Arc<Mutex<Vec<RetryEvent>>>) -> RetryPolicy {
    let events = Arc::clone(events);
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        deadline: Duration::from_secs(20),
        observer: Some(Arc::new(move |e: &RetryEvent| {
            events.lock().unwrap().push(e.clone())
        })),
        cancel: None,
    }
}

fn client(s: &Scripted, policy: RetryPolicy) -> CometChatClient {
    CometChatClient::new(
        &AppEndpoint {
            app_id: "app".into(),
            region: "us".into(),
            base_url: Some(s.base.clone()),
        },
        Secret::new(KEY),
    )
    .unwrap()
    .with_retry(policy)
}

fn error(status: u16, code: &str) -> Canned {
    (
        status,
        vec![],
        format!(r#"{{"error":{{"code":"{code}","message":"m","source":"chat-api"}}}}"#),
    )
}

fn key_json(name: &str, created_at: i64) -> String {
    format!(
        r#"{{"apiKey":"{}","name":"{name}","scope":"fullAccess","createdAt":{created_at}}}"#,
        "f".repeat(40)
    )
}

#[tokio::test]
async fn an_idempotent_call_is_retried_after_5xx_and_the_observer_hears_each_retry() {
    let s = scripted(vec![
        error(503, "ERR_EXCEPTION"),
        error(502, "ERR_EXCEPTION"),
        (200, vec![], format!(r#"{{"data":[{}]}}"#, key_json("a", 1))),
    ])
    .await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let keys = client(&s, fast_policy(&events))
        .list_api_keys(&ApiKeyQuery::default())
        .await
        .unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(s.seen.lock().unwrap().len(), 3);
    let labels: Vec<String> = events
        .lock()
        .unwrap()
        .iter()
        .map(RetryEvent::label)
        .collect();
    assert_eq!(labels, ["Retrying (2 of 3)…", "Retrying (3 of 3)…"]);
}

#[tokio::test]
async fn retries_stop_at_the_attempt_limit() {
    let s = scripted(vec![
        error(500, "ERR_EXCEPTION"),
        error(500, "ERR_EXCEPTION"),
        error(500, "ERR_EXCEPTION"),
        error(500, "ERR_EXCEPTION"),
    ])
    .await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let e = client(&s, fast_policy(&events))
        .list_api_keys(&ApiKeyQuery::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Server);
    assert_eq!(s.seen.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_429_waits_the_servers_delay_even_for_a_create() {
    let s = scripted(vec![
        (
            429,
            vec![("retry-after", "1".into())],
            r#"{"error":{"code":"ERR_TOO_MANY_REQUESTS","message":"slow down"}}"#.into(),
        ),
        (
            200,
            vec![],
            format!(r#"{{"data":{}}}"#, key_json("k", now())),
        ),
    ])
    .await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let key = client(&s, fast_policy(&events))
        .create_api_key(&NewApiKey {
            name: "k".into(),
            scope: Scope::FullAccess,
        })
        .await
        .unwrap();
    assert_eq!(key.name, "k");
    let events = events.lock().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].delay,
        Duration::from_secs(1),
        "Retry-After is honoured"
    );
}

#[tokio::test]
async fn a_delay_longer_than_the_deadline_is_reported_at_once() {
    let s = scripted(vec![(
        429,
        vec![("retry-after", "120".into())],
        r#"{"error":{"code":"ERR_TOO_MANY_REQUESTS","message":"slow down"}}"#.into(),
    )])
    .await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let e = client(&s, fast_policy(&events))
        .list_api_keys(&ApiKeyQuery::default())
        .await
        .unwrap_err();
    assert_eq!(e.retry_after(), Some(Duration::from_secs(120)));
    assert!(events.lock().unwrap().is_empty());
    assert_eq!(s.seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_create_that_failed_ambiguously_but_landed_is_not_repeated() {
    let s = scripted(vec![
        error(500, "ERR_EXCEPTION"),
        // The follow-up list shows the key was created after all.
        (
            200,
            vec![],
            format!(r#"{{"data":[{}]}}"#, key_json("deploy-bot", now())),
        ),
    ])
    .await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let key = client(&s, fast_policy(&events))
        .create_api_key(&NewApiKey {
            name: "deploy-bot".into(),
            scope: Scope::FullAccess,
        })
        .await
        .unwrap();
    assert_eq!(key.name, "deploy-bot");
    let seen = s.seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        ["POST /v3/apikeys", "GET /v3/apikeys"],
        "exactly one POST"
    );
}

#[tokio::test]
async fn a_create_that_did_not_land_is_tried_once_more() {
    let s = scripted(vec![
        error(500, "ERR_EXCEPTION"),
        (200, vec![], r#"{"data":[]}"#.into()),
        (
            200,
            vec![],
            format!(r#"{{"data":{}}}"#, key_json("deploy-bot", now())),
        ),
    ])
    .await;
    let events = Arc::new(Mutex::new(Vec::new()));
    client(&s, fast_policy(&events))
        .create_api_key(&NewApiKey {
            name: "deploy-bot".into(),
            scope: Scope::FullAccess,
        })
        .await
        .unwrap();
    let seen = s.seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        ["POST /v3/apikeys", "GET /v3/apikeys", "POST /v3/apikeys"]
    );
}

#[tokio::test]
async fn a_user_create_checks_the_uid_before_trying_again() {
    let user = format!(
        r#"{{"data":{{"uid":"zoe","name":"Zoe","status":"offline","role":"default","createdAt":{}}}}}"#,
        now()
    );
    let s = scripted(vec![error(502, "ERR_EXCEPTION"), (200, vec![], user)]).await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let u = client(&s, fast_policy(&events))
        .create_user(&NewUser {
            uid: "Zoe".into(),
            name: "Zoe".into(),
            ..NewUser::default()
        })
        .await
        .unwrap();
    assert_eq!(u.uid, "zoe");
    assert_eq!(
        s.seen.lock().unwrap().clone(),
        ["POST /v3/users", "GET /v3/users/zoe"]
    );
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let s = scripted(vec![
        error(403, "AUTH_ERR_NO_ACCESS"),
        error(403, "AUTH_ERR_NO_ACCESS"),
    ])
    .await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let e = client(&s, fast_policy(&events))
        .list_api_keys(&ApiKeyQuery::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::PermissionDenied);
    assert_eq!(s.seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn cancel_stops_the_retries_and_reports_the_failure() {
    let s = scripted(vec![
        (
            429,
            vec![("retry-after", "30".into())],
            r#"{"error":{"code":"ERR_TOO_MANY_REQUESTS","message":"slow down"}}"#.into(),
        ),
        (200, vec![], r#"{"data":[]}"#.into()),
    ])
    .await;
    let cancel = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let c2 = Arc::clone(&cancel);
    let policy = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        deadline: Duration::from_secs(60),
        // The user presses Cancel as soon as "Retrying (2 of 3)…" shows.
        observer: Some(Arc::new(move |_e: &RetryEvent| {
            c2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        })),
        cancel: Some(Arc::clone(&cancel)),
    };
    let started = std::time::Instant::now();
    let e = client(&s, policy)
        .list_api_keys(&ApiKeyQuery::default())
        .await
        .unwrap_err();
    assert_eq!(e.retry_after(), Some(Duration::from_secs(30)));
    assert_eq!(s.seen.lock().unwrap().len(), 1, "no retry after Cancel");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "it did not wait out the delay"
    );
}
