//! Property tests: decoders and validators given arbitrary and hostile input (huge strings,
//! control characters, deep JSON, wrong types) return errors, never panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

use keydeck::model::capability;
use keydeck::providers::cometchat::{ApiKey, AuthToken, User, decode};
use keydeck::providers::error::{ApiError, FieldErrors, scrub};
use keydeck::providers::http::parse_base_url;
use proptest::prelude::*;
use reqwest::header::HeaderMap;

fn deep_json(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

/// JSON-ish text: real JSON values of the wrong shape, fragments and noise.
fn jsonish() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "\\PC{0,200}",
        Just(deep_json(10_000)),
        Just(r#"{"data":{"apiKey":1,"name":[],"scope":"root"}}"#.to_owned()),
        Just(r#"{"data":null}"#.to_owned()),
        Just(r#"{"error":{"code":7,"details":{"uid":[1,2,{"x":null}]}}}"#.to_owned()),
        prop::collection::vec(any::<u8>(), 0..300)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        ("\\PC{0,20}", any::<i64>())
            .prop_map(|(s, n)| format!(r#"{{"data":{{"uid":"{s}","name":{n}}}}}"#)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn response_decoders_never_panic(body in jsonish(), status in 100u16..600) {
        let h = HeaderMap::new();
        let _ = decode::<serde_json::Value>(status, &h, body.as_bytes(), &[]);
        let _ = decode::<ApiKey>(status, &h, body.as_bytes(), &[]);
        let _ = decode::<User>(status, &h, body.as_bytes(), &[]);
        let _ = decode::<Vec<AuthToken>>(status, &h, body.as_bytes(), &["secret-value"]);
    }

    #[test]
    fn a_2xx_body_that_is_not_the_envelope_is_a_bad_response(body in "\\PC{0,100}") {
        let h = HeaderMap::new();
        if serde_json::from_str::<serde_json::Value>(&body).is_err() {
            let e = decode::<ApiKey>(200, &h, body.as_bytes(), &[]).unwrap_err();
            prop_assert_eq!(e.kind, keydeck::providers::ErrorKind::BadResponse);
        }
    }

    #[test]
    fn capability_parsing_and_matching_never_panic(text in jsonish(), op in "\\PC{0,20}", res in "\\PC{0,40}") {
        if let Ok(cap) = capability::parse(&text) {
            let _ = capability::can(&cap, &op, &res);
            let _ = capability::from_capability(&cap);
            prop_assert_eq!(capability::parse(&capability::to_json(&cap)).ok(), Some(cap));
        }
        let _ = capability::validate_resource(&res);
        let _ = capability::pattern_matches(&res, &op);
    }

    #[test]
    fn scrubbing_never_panics_and_never_keeps_a_long_hex_run(text in "\\PC{0,300}", hex in "[0-9a-f]{40}") {
        let out = scrub(&format!("{text}{hex}{text}"), &[]);
        prop_assert!(!out.contains(&hex));
    }

    #[test]
    fn error_mapping_accepts_any_status_and_code(status in any::<u16>(), code in proptest::option::of("\\PC{0,30}"), msg in proptest::option::of("\\PC{0,300}")) {
        let e = ApiError::from_response(status, code, msg, FieldErrors::new(), None);
        prop_assert!(!e.message.is_empty());
    }

    #[test]
    fn base_url_parsing_never_panics(text in "\\PC{0,200}") {
        let _ = parse_base_url(&text);
    }
}

#[test]
fn huge_and_deep_inputs_are_refused_quickly() {
    let h = HeaderMap::new();
    let deep = deep_json(100_000);
    let e = decode::<serde_json::Value>(200, &h, deep.as_bytes(), &[]).unwrap_err();
    assert_eq!(e.kind, keydeck::providers::ErrorKind::BadResponse);
    let huge = format!(
        r#"{{"data":{{"uid":"{}","name":"x"}}}}"#,
        "a".repeat(5_000_000)
    );
    let u: serde_json::Value = decode(200, &h, huge.as_bytes(), &[]).unwrap();
    assert_eq!(u["data"]["uid"].as_str().map(str::len), Some(5_000_000));
    assert!(capability::parse(&deep).is_err());
    let control = "{\"\u{0}\u{7}\":[\"publish\"]}";
    let _ = capability::parse(control);
}
