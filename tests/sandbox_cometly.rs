//! The sandbox's Cometly public API, driven by `CometlyClient`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use keydeck::providers::ErrorKind;
use keydeck::providers::cometly::CometlyClient;
use keydeck::providers::http::RetryPolicy;
use keydeck::sandbox::Sandbox;
use keydeck::secret::Secret;

fn client(sb: &Sandbox, key: &str) -> CometlyClient {
    CometlyClient::new(Some(&sb.info().cometly.base_url), &Secret::new(key))
        .expect("cometly client")
        .with_retry(RetryPolicy::none())
}

fn key_of(sb: &Sandbox, label: &str) -> String {
    sb.info()
        .cometly
        .keys
        .into_iter()
        .find(|k| k.label == label)
        .map(|k| k.key)
        .expect("seeded key")
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) `days` ago.
fn days_ago(days: i64) -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
        - days * 86_400;
    // Civil-from-days, as in the sandbox.
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[tokio::test]
async fn the_start_up_info_lists_both_keys_and_masks_them() {
    let sb = common::sandbox().await;
    let info = sb.info();
    assert!(info.cometly.base_url.ends_with("/cometly/public-api/v1"));
    let keys = &info.cometly.keys;
    assert_eq!(keys.len(), 2);
    assert!(
        keys.iter()
            .any(|k| k.label == "Marketing space" && k.active)
    );
    assert!(keys.iter().any(|k| k.label == "Lapsed space" && !k.active));
    let masked = serde_json::to_string(&info.masked()).expect("json");
    let dbg = format!("{info:?}");
    for k in keys {
        assert!(!masked.contains(&k.key));
        assert!(!dbg.contains(&k.key));
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn test_key_accepts_the_active_key_and_reports_the_limit() {
    let sb = common::sandbox().await;
    let c = client(&sb, &key_of(&sb, "Marketing space"));
    let check = c.test_key().await.expect("key works");
    assert_eq!(check.rate_limit, Some(15));
    assert_eq!(check.rate_remaining, Some(14));
    let check = c.test_key().await.expect("key works");
    assert_eq!(check.rate_remaining, Some(13));
    sb.shutdown().await;
}

#[tokio::test]
async fn a_wrong_or_missing_key_is_401_unauthenticated() {
    let sb = common::sandbox().await;
    let e = client(&sb, "not-a-real-key").test_key().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unauthenticated);
    assert_eq!(e.status, Some(401));
    assert_eq!(e.message, "Unauthenticated.");
    let url = format!("{}/companies", sb.info().cometly.base_url);
    let resp = reqwest::get(&url).await.expect("get");
    assert_eq!(resp.status(), 401);
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body, serde_json::json!({"message": "Unauthenticated."}));
    sb.shutdown().await;
}

#[tokio::test]
async fn the_lapsed_space_is_403_permission_denied() {
    let sb = common::sandbox().await;
    let c = client(&sb, &key_of(&sb, "Lapsed space"));
    let e = c.test_key().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::PermissionDenied);
    assert_eq!(e.status, Some(403));
    assert!(
        e.message.contains("subscription is inactive"),
        "{}",
        e.message
    );
    let e = c
        .list_events(&days_ago(7), &days_ago(0), 10)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::PermissionDenied);
    sb.shutdown().await;
}

#[tokio::test]
async fn the_per_space_limit_answers_429_with_retry_after() {
    let sb = common::sandbox().await;
    sb.set_cometly_rate_limit("companies", Some(2));
    let c = client(&sb, &key_of(&sb, "Marketing space"));
    assert_eq!(c.test_key().await.expect("1st").rate_remaining, Some(1));
    assert_eq!(c.test_key().await.expect("2nd").rate_remaining, Some(0));
    let e = c.test_key().await.unwrap_err();
    assert_eq!(e.status, Some(429));
    let ErrorKind::RateLimited { retry_after } = e.kind else {
        panic!("expected RateLimited, got {e:?}");
    };
    let wait = retry_after.expect("Retry-After");
    assert!(wait >= Duration::from_secs(1) && wait <= Duration::from_secs(60));
    // The limit is per endpoint: events still answer.
    c.list_events(&days_ago(7), &days_ago(0), 5)
        .await
        .expect("events unaffected");
    // And per Space: the headers on a raw 429.
    let url = format!("{}/companies", sb.info().cometly.base_url);
    let resp = {
        keydeck::providers::http::install_tls_provider();
        reqwest::Client::new()
    }
    .get(&url)
    .bearer_auth(key_of(&sb, "Marketing space"))
    .send()
    .await
    .expect("get");
    assert_eq!(resp.status(), 429);
    for h in ["retry-after", "x-ratelimit-limit", "x-ratelimit-remaining"] {
        assert!(resp.headers().get(h).is_some(), "{h}");
    }
    sb.set_cometly_rate_limit("companies", None);
    c.test_key().await.expect("unlimited again");
    sb.shutdown().await;
}

#[tokio::test]
async fn companies_come_in_cursor_pages() {
    let sb = common::sandbox().await;
    sb.set_cometly_rate_limit("companies", None);
    let c = client(&sb, &key_of(&sb, "Marketing space"));
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = c.list_companies(3, cursor.as_deref()).await.expect("page");
        assert_eq!(page.per_page, Some(3));
        assert!(page.data.len() <= 3);
        if cursor.is_some() {
            assert!(page.prev_cursor.is_some());
        } else {
            assert!(page.prev_cursor.is_none());
        }
        seen.extend(page.data.iter().filter_map(|co| co.domain.clone()));
        match page.next_cursor {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    assert_eq!(seen.len(), 8, "{seen:?}");
    assert!(seen.contains(&"acme.test".to_owned()));
    assert!(
        !seen.contains(&"oldco.test".to_owned()),
        "another Space's data"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn events_need_both_dates() {
    let sb = common::sandbox().await;
    let c = client(&sb, &key_of(&sb, "Marketing space"));
    let e = c.list_events("", "", 10).await.unwrap_err();
    assert_eq!(e.status, Some(422));
    assert!(matches!(e.kind, ErrorKind::Validation { .. }));
    assert_eq!(e.field_errors("start_date").len(), 1);
    assert_eq!(e.field_errors("end_date").len(), 1);
    assert!(e.message.contains("(and 1 more error)"), "{}", e.message);
    let e = c
        .list_events("2026-01-01", "2026-13-01 00:00:00", 10)
        .await
        .unwrap_err();
    assert_eq!(e.field_errors("start_date").len(), 1);
    assert_eq!(e.field_errors("end_date").len(), 1);

    let page = c
        .list_events(&days_ago(3), &days_ago(0), 100)
        .await
        .expect("events");
    // Seeded every 6 hours going back: 3 days hold 11 or 12 of them.
    assert!((11..=12).contains(&page.data.len()), "{}", page.data.len());
    assert!(page.data.iter().all(|ev| ev.event_name.is_some()));
    assert!(
        page.data
            .iter()
            .any(|ev| ev.event_name.as_deref() == Some("purchase") && ev.amount.is_some())
    );
    sb.shutdown().await;
}
