//! No credential follows a redirect. A tiny server on 127.0.0.1 answers every request with a
//! redirect to a logger on 127.0.0.2 (both loopback, so the transport rule allows plain http to
//! both); every connection kind's client is pointed at the redirector, and the logger must
//! receive nothing at all, let alone a credential. The call fails with an error that names the
//! host the server pointed at.
//!
//! A control at the end sends the same request through a reqwest client with the default
//! redirect policy and shows that the logger does see the `apikey` then: the harness can fail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

use keydeck::providers::ably::{AblyControlClient, AblyRestClient, RevokeTokens};
use keydeck::providers::cometchat::{ApiKeyQuery, AppEndpoint, CometChatClient, NewApiKey, Scope};
use keydeck::providers::cometly::CometlyClient;
use keydeck::providers::error::REDIRECT_REFUSED;
use keydeck::providers::management::{AppQuery, ManagementClient};
use keydeck::providers::{ApiError, ErrorKind};
use keydeck::secret::Secret;

const API_KEY: &str = "0123456789abcdef0123456789abcdef0redirect";
const MGMT_KEY: &str = "mgmt-key-5f0e3c1d2b4a69788796a5b4c3d2e1f0";
const MGMT_SECRET: &str = "mgmt-secret-9a8b7c6d5e4f30211203f4e5d6c7b8a9";
const ABLY_TOKEN: &str = "ably-access-token-c0ffee00c0ffee00c0ffee00";
const ABLY_KEY: &str = "appid.keyid:ably-key-secret-feedface00feedface00";
const COMETLY_KEY: &str = "cometly-key-deadbeef00deadbeef00deadbeef00";

/// Every raw request a server received (request line and headers, then the body).
type Seen = Arc<Mutex<Vec<String>>>;

/// Reads one HTTP/1.1 request: the head up to the blank line, then `content-length` bytes.
fn read_request(stream: &mut TcpStream) -> Option<String> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut head = String::new();
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            content_length = value.trim().parse().unwrap_or(0);
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; content_length];
    reader.read_exact(&mut body).ok()?;
    head.push_str(&String::from_utf8_lossy(&body));
    Some(head)
}

/// Serves on `ip:0` until the test process ends, answering each request with `respond(path)`.
fn serve(ip: &str, respond: impl Fn(&str) -> String + Send + 'static) -> (SocketAddr, Seen) {
    let listener = TcpListener::bind((ip, 0)).expect("bind a loopback port");
    let addr = listener.local_addr().expect("address");
    let seen: Seen = Arc::default();
    let log = seen.clone();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let Some(request) = read_request(&mut stream) else {
                continue;
            };
            let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
            log.lock().expect("log").push(request);
            let _ = stream.write_all(respond(&path).as_bytes());
        }
    });
    (addr, seen)
}

/// A logger on 127.0.0.2 that answers 200 `{}`, and a redirector on 127.0.0.1 that sends
/// every request there with `status`, under `location_base` when given (else the logger's
/// plain http address).
fn servers(status: u16, location_base: Option<String>) -> (SocketAddr, Seen, Seen, SocketAddr) {
    let (logger, logged) = serve("127.0.0.2", |_| {
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}"
            .to_owned()
    });
    let base = location_base.unwrap_or_else(|| format!("http://{logger}"));
    let (redirector, redirected) = serve("127.0.0.1", move |path| {
        format!(
            "HTTP/1.1 {status} Moved\r\nlocation: {base}{path}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        )
    });
    (redirector, redirected, logged, logger)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn assert_refused(what: &str, result: Result<impl std::fmt::Debug, ApiError>, host: &str) {
    let e = result.expect_err(what);
    assert_eq!(e.kind, ErrorKind::InvalidConfig, "{what}: {e:?}");
    assert!(e.is_code(REDIRECT_REFUSED), "{what}: {e:?}");
    assert!(e.message.contains(host), "{what}: names the target: {e}");
    assert!(
        e.message.contains("base URL"),
        "{what}: says what to do: {e}"
    );
    let shown = format!("{e} {e:?}");
    for secret in [API_KEY, MGMT_KEY, MGMT_SECRET, ABLY_TOKEN, COMETLY_KEY] {
        assert!(
            !shown.contains(secret),
            "{what}: no credential in the error"
        );
    }
}

fn assert_no_credential(what: &str, logged: &Seen, redirected: &Seen) {
    let logged = logged.lock().expect("log");
    assert!(
        logged.is_empty(),
        "{what}: the logger received {} request(s): {logged:?}",
        logged.len()
    );
    assert!(
        !redirected.lock().expect("log").is_empty(),
        "{what}: the request did reach the redirector"
    );
}

/// One request of every connection kind against a redirector that answers `status`.
fn every_kind_refuses(status: u16) {
    let rt = runtime();
    let (redirector, redirected, logged, logger) = servers(status, None);
    let host = logger.ip().to_string();
    let base = format!("http://{redirector}");

    let app = CometChatClient::new(
        &AppEndpoint {
            app_id: "app1".into(),
            region: "us".into(),
            base_url: Some(format!("{base}/cometchat/app1/v3")),
        },
        Secret::new(API_KEY),
    )
    .expect("client");
    assert_refused(
        "CometChat app, GET",
        rt.block_on(app.list_api_keys(&ApiKeyQuery::default())),
        &host,
    );
    let new = NewApiKey {
        name: "ci-bot".into(),
        scope: Scope::AuthOnly,
    };
    assert_refused(
        "CometChat app, POST",
        rt.block_on(app.create_api_key(&new)),
        &host,
    );
    assert_no_credential("CometChat app", &logged, &redirected);

    let mgmt = ManagementClient::new(
        Some(&format!("{base}/cometchat-mgmt")),
        Secret::new(MGMT_KEY),
        Secret::new(MGMT_SECRET),
    )
    .expect("client");
    assert_refused(
        "Management",
        rt.block_on(mgmt.list_apps(&AppQuery::default())),
        &host,
    );
    assert_no_credential("Management", &logged, &redirected);

    let control = AblyControlClient::new(
        Some(&format!("{base}/ably/control/v1")),
        &Secret::new(ABLY_TOKEN),
    )
    .expect("client");
    assert_refused("Ably Control API", rt.block_on(control.me()), &host);
    assert_no_credential("Ably Control API", &logged, &redirected);

    let rest = AblyRestClient::new(Some(&format!("{base}/ably/rest")), &Secret::new(ABLY_KEY))
        .expect("client");
    let revoke = RevokeTokens {
        targets: vec!["clientId:alice".into()],
        issued_before: None,
        allow_reauth_margin: false,
    };
    assert_refused(
        "Ably key revocation",
        rt.block_on(rest.revoke_tokens(&revoke)),
        &host,
    );
    assert_no_credential("Ably key revocation", &logged, &redirected);

    let cometly = CometlyClient::new(
        Some(&format!("{base}/cometly/public-api/v1")),
        &Secret::new(COMETLY_KEY),
    )
    .expect("client");
    assert_refused("Cometly", rt.block_on(cometly.test_key()), &host);
    assert_no_credential("Cometly", &logged, &redirected);
}

#[test]
fn a_302_to_another_host_is_not_followed_by_any_connection_kind() {
    every_kind_refuses(302);
}

#[test]
fn no_redirect_status_is_followed_by_any_connection_kind() {
    for status in [301, 303, 307, 308] {
        every_kind_refuses(status);
    }
}

#[test]
fn a_redirect_to_https_on_another_host_is_not_followed_either() {
    let rt = runtime();
    let (logger, _) = serve("127.0.0.2", |_| String::new());
    let (redirector, redirected, logged, _) = servers(302, Some(format!("https://{logger}")));
    let app = CometChatClient::new(
        &AppEndpoint {
            app_id: "app1".into(),
            region: "us".into(),
            base_url: Some(format!("http://{redirector}/v3")),
        },
        Secret::new(API_KEY),
    )
    .expect("client");
    let e = rt
        .block_on(app.list_api_keys(&ApiKeyQuery::default()))
        .expect_err("refused");
    assert!(e.is_code(REDIRECT_REFUSED), "{e:?}");
    assert!(e.message.contains(&format!("https://{logger}")), "{e}");
    assert_no_credential("https target", &logged, &redirected);
}

#[test]
fn a_redirect_to_the_same_host_is_refused_and_says_the_service_may_have_moved() {
    let rt = runtime();
    let (redirector, redirected) = serve("127.0.0.1", |path| {
        format!(
            "HTTP/1.1 301 Moved\r\nlocation: /moved{path}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        )
    });
    let app = CometChatClient::new(
        &AppEndpoint {
            app_id: "app1".into(),
            region: "us".into(),
            base_url: Some(format!("http://{redirector}/v3")),
        },
        Secret::new(API_KEY),
    )
    .expect("client");
    let e = rt
        .block_on(app.list_api_keys(&ApiKeyQuery::default()))
        .expect_err("refused");
    assert!(e.is_code(REDIRECT_REFUSED), "{e:?}");
    assert_eq!(e.status, Some(301));
    assert!(e.message.contains("moved"), "{e}");
    assert!(!e.message.contains(API_KEY));
    assert_eq!(
        redirected.lock().expect("log").len(),
        1,
        "one request, not followed to /moved"
    );
}

/// The control: reqwest's default policy does follow, and does resend `apikey` to the other
/// host. If this stopped failing, the tests above would prove nothing.
#[test]
fn control_the_default_redirect_policy_would_leak_the_apikey_to_the_logger() {
    let rt = runtime();
    let (redirector, _, logged, _) = servers(302, None);
    keydeck::providers::http::install_tls_provider();
    let client = reqwest::Client::new();
    let url = format!("http://{redirector}/v3/apikeys");
    let status = rt
        .block_on(client.get(url).header("apikey", API_KEY).send())
        .expect("followed")
        .status();
    assert_eq!(status, 200, "the default policy followed the redirect");
    let logged = logged.lock().expect("log");
    assert_eq!(logged.len(), 1);
    assert!(
        logged[0].contains(API_KEY),
        "the logger saw the key: {logged:?}"
    );
}
