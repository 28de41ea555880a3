//! What every request meets before its surface: CometChat's per-app hosts routed to the app's
//! surface, duplicated credential headers refused, and errors for paths no surface claims,
//! shaped like the provider the path belongs to.

use axum::extract::{Request, State};
use axum::http::uri::PathAndQuery;
use axum::http::{HeaderName, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use serde_json::json;

use super::SharedState;
use super::ably::AblyError;
use super::http::{ApiError, respond};

/// The provider a path belongs to, which decides the shape of its errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Provider {
    CometChat,
    Management,
    AblyControl,
    AblyRest,
    Cometly,
}

/// The provider of a path on the main listener. Ably REST's own paths (`/keys/…`, `/time`,
/// `/channels/…`) belong to Ably even here, where they are not served.
pub(crate) fn provider_of(path: &str) -> Provider {
    let mut segs = path.trim_start_matches('/').split('/');
    match (segs.next().unwrap_or(""), segs.next().unwrap_or("")) {
        ("cometchat-mgmt", _) => Provider::Management,
        ("ably", "control") => Provider::AblyControl,
        ("ably", _) => Provider::AblyRest,
        ("keys" | "time" | "channels" | "stats" | "push" | "requestToken", _) => Provider::AblyRest,
        ("cometly", _) => Provider::Cometly,
        _ => Provider::CometChat,
    }
}

/// An error in `provider`'s own envelope. CometChat's carry `extra` (its rate-limit headers).
pub(crate) fn error(
    provider: Provider,
    status: StatusCode,
    message: &str,
    extra: Vec<(HeaderName, String)>,
) -> Response {
    let cometchat_code = match status {
        StatusCode::NOT_FOUND => "ERR_API_NOT_FOUND",
        StatusCode::METHOD_NOT_ALLOWED => "ERR_METHOD_NOT_ALLOWED",
        _ => "ERR_BAD_REQUEST",
    };
    let ably = || AblyError::new(status, u32::from(status.as_u16()) * 100, message);
    match provider {
        Provider::CometChat => ApiError::new(status, cometchat_code, message)
            .with_headers(extra)
            .into_reply("chat-api")
            .into_response(),
        Provider::Management => ApiError::new(status, cometchat_code, message)
            .into_reply("mgmt-api")
            .into_response(),
        Provider::AblyControl => ably().flat().into_response(),
        Provider::AblyRest => ably().wrapped().into_response(),
        Provider::Cometly => respond(status, Some(&json!({ "message": message })), Vec::new()),
    }
}

/// The headers that carry a credential, in any surface.
const CREDENTIAL_HEADERS: [&str; 5] = ["apikey", "key", "secret", "authorization", "onbehalfof"];

/// The first credential header the request carries more than once.
fn duplicated_credential(req: &Request) -> Option<&'static str> {
    CREDENTIAL_HEADERS
        .into_iter()
        .find(|name| req.headers().get_all(*name).iter().nth(1).is_some())
}

fn duplicate_error(name: &str, provider: Provider) -> Response {
    tracing::debug!(
        header = name,
        "sandbox refused a duplicated credential header"
    );
    error(
        provider,
        StatusCode::BAD_REQUEST,
        &format!("The request carries the {name} header more than once; send it exactly once."),
        Vec::new(),
    )
}

/// Middleware (main listener): a request with two values of one credential header is refused
/// with 400 rather than served with whichever value comes first, as a strict server would.
pub(crate) async fn single_credentials(req: Request, next: Next) -> Response {
    match duplicated_credential(&req) {
        Some(name) => duplicate_error(name, provider_of(req.uri().path())),
        None => next.run(req).await,
    }
}

/// The same on the Ably REST listener, where every path is Ably's.
pub(crate) async fn single_credentials_ably(req: Request, next: Next) -> Response {
    match duplicated_credential(&req) {
        Some(name) => duplicate_error(name, Provider::AblyRest),
        None => next.run(req).await,
    }
}

/// 404 for every path no surface of the main listener claims, in its provider's shape;
/// CometChat's with its rate-limit headers (the app's window when the path names one).
pub(crate) async fn not_found(State(state): State<SharedState>, req: Request) -> Response {
    let path = req.uri().path();
    let provider = provider_of(path);
    let message = match provider {
        Provider::CometChat | Provider::Management => {
            "The API endpoint is invalid. Please verify the API call."
        }
        Provider::Cometly => "Not found.",
        Provider::AblyControl | Provider::AblyRest => "Not found",
    };
    let extra = if provider == Provider::CometChat {
        let app = match path.trim_start_matches('/').split('/').collect::<Vec<_>>()[..] {
            ["cometchat", app, ..] => app,
            _ => "",
        };
        state.limiter.peek(app)
    } else {
        Vec::new()
    };
    error(provider, StatusCode::NOT_FOUND, message, extra)
}

/// 404 on the Ably REST listener.
pub(crate) async fn ably_not_found() -> Response {
    error(
        Provider::AblyRest,
        StatusCode::NOT_FOUND,
        "Not found",
        Vec::new(),
    )
}

/// The region named by a per-app host, kept on the request for the CometChat surface.
#[derive(Clone, Debug)]
pub(crate) struct HostRegion(pub String);

/// `{appId}.api-{region}.localhost[:port]` → `(appId, region, "cometchat")`, and the Calls
/// host `{appId}.call-{region}.localhost[:port]` → `(appId, region, "cometchat-calls")`.
fn per_app_host(host: &str) -> Option<(&str, &str, &'static str)> {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    let name = name.strip_suffix('.').unwrap_or(name);
    let name = name.strip_suffix(".localhost")?;
    let (app_id, region, surface) = match name.split_once(".api-") {
        Some((a, r)) => (a, r, "cometchat"),
        None => {
            let (a, r) = name.split_once(".call-")?;
            (a, r, "cometchat-calls")
        }
    };
    let label = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    (label(app_id) && label(region)).then_some((app_id, region, surface))
}

/// Routes CometChat's per-app host form, `Host: {appId}.api-{region}.localhost:{port}` with the
/// real API's root paths `/v3/…` and `/v3.0/…`, to the app's surface
/// (`/cometchat/{appId}/v3/…`), as if the host were `{appId}.api-{region}.cometchat.io`.
/// Anything else passes unchanged.
pub(crate) fn route_per_app_host(mut req: Request) -> Request {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()));
    let Some((app_id, region, surface)) = host.and_then(per_app_host) else {
        return req;
    };
    let path = req.uri().path();
    let versioned = ["/v3", "/v3.0"]
        .iter()
        .any(|v| path == *v || path.strip_prefix(v).is_some_and(|r| r.starts_with('/')));
    if !versioned {
        return req;
    }
    let target = match req.uri().query() {
        Some(q) => format!("/{surface}/{app_id}{path}?{q}"),
        None => format!("/{surface}/{app_id}{path}"),
    };
    let region = HostRegion(region.to_owned());
    let Ok(pq) = target.parse::<PathAndQuery>() else {
        return req;
    };
    let mut parts = req.uri().clone().into_parts();
    parts.path_and_query = Some(pq);
    if let Ok(uri) = Uri::from_parts(parts) {
        *req.uri_mut() = uri;
        req.extensions_mut().insert(region);
    }
    req
}

/// No rewriting (the Ably REST listener).
pub(crate) fn unchanged(req: Request) -> Request {
    req
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_app_hosts_are_recognised() {
        assert_eq!(
            per_app_host("abc123.api-us.localhost:8787"),
            Some(("abc123", "us", "cometchat"))
        );
        assert_eq!(
            per_app_host("abc123.api-eu.localhost"),
            Some(("abc123", "eu", "cometchat"))
        );
        assert_eq!(
            per_app_host("abc123.call-eu.localhost:8787"),
            Some(("abc123", "eu", "cometchat-calls"))
        );
        assert_eq!(per_app_host("abc.call-us.example.com"), None);
        assert_eq!(per_app_host("127.0.0.1:8787"), None);
        assert_eq!(per_app_host("localhost:8787"), None);
        assert_eq!(per_app_host("a.b.api-us.localhost"), None);
        assert_eq!(per_app_host("abc.api-us.example.com"), None);
    }

    #[test]
    fn paths_belong_to_their_provider() {
        assert_eq!(provider_of("/keys/a.b/requestToken"), Provider::AblyRest);
        assert_eq!(provider_of("/ably/control/v1/nope"), Provider::AblyControl);
        assert_eq!(provider_of("/ably/rest/nope"), Provider::AblyRest);
        assert_eq!(provider_of("/cometly/x"), Provider::Cometly);
        assert_eq!(provider_of("/cometchat-mgmt/x"), Provider::Management);
        assert_eq!(provider_of("/nothing/here"), Provider::CometChat);
    }
}
