//! One typed, cloneable error for every provider call.
//!
//! The UI branches on [`ErrorKind`]; the provider's own code (`AUTH_ERR_NO_ACCESS`, `40160` …)
//! and message are kept for the details line. Statuses and codes are mapped here and nowhere else.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// The code of an [`ApiError`] for a redirect that was not followed.
pub const REDIRECT_REFUSED: &str = "REDIRECT_REFUSED";

/// Field name → validation messages, as the provider reported them.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// What went wrong, in terms a caller can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The credential is missing or unknown: fix the key or secret.
    Unauthenticated,
    /// The credential is valid but may not do this (scope, plan, self-action).
    PermissionDenied,
    NotFound,
    /// The thing already exists (a duplicate uid, for instance).
    Conflict,
    /// The request was refused for its content; `fields` names each invalid field.
    Validation {
        fields: FieldErrors,
    },
    /// Too many requests; wait `retry_after` (the server's own delay, when it gave one).
    RateLimited {
        retry_after: Option<Duration>,
    },
    /// The server could not be reached or the connection broke.
    Connection,
    Timeout,
    /// The server failed (5xx).
    Server,
    /// The server answered with something that is not what the API documents.
    BadResponse,
    /// The request was never sent: a bad base URL, plain `http://` to a remote host, a bad id;
    /// or the server redirected it elsewhere ([`REDIRECT_REFUSED`]) and Keydeck did not follow.
    InvalidConfig,
}

impl ErrorKind {
    /// A short, stable name for logs and tests.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Unauthenticated => "unauthenticated",
            Self::PermissionDenied => "permission denied",
            Self::NotFound => "not found",
            Self::Conflict => "conflict",
            Self::Validation { .. } => "validation",
            Self::RateLimited { .. } => "rate limited",
            Self::Connection => "connection",
            Self::Timeout => "timeout",
            Self::Server => "server",
            Self::BadResponse => "bad response",
            Self::InvalidConfig => "invalid configuration",
        }
    }

    /// Whether repeating the same request later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. } | Self::Connection | Self::Timeout | Self::Server
        )
    }
}

/// An error from a provider call. Cloneable so that a UI can keep it next to stale data.
///
/// The message never holds a key, secret or token value: provider messages are scrubbed of
/// long hex runs and of the credentials used for the call before they get here.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiError {
    pub kind: ErrorKind,
    /// HTTP status, when there was a response.
    pub status: Option<u16>,
    /// The provider's own error code, e.g. `AUTH_ERR_NO_ACCESS` or `40160`.
    pub code: Option<String>,
    /// Human text, the provider's when it gave one.
    pub message: String,
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            status: None,
            code: None,
            message: message.into(),
        }
    }

    pub fn invalid_config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidConfig, message)
    }

    /// A redirect that was not followed. The message names where it pointed (scheme, host and
    /// port only: a path or query could hold a token) and what the user can do.
    pub fn redirect_refused(status: u16, from: &url::Url, location: Option<&str>) -> Self {
        let target = location.and_then(|l| from.join(l).ok());
        let (where_to, same_host) = match &target {
            Some(t) => {
                let host = t.host_str().unwrap_or("an unnamed host");
                let port = t.port().map(|p| format!(":{p}")).unwrap_or_default();
                let same = t.host_str() == from.host_str()
                    && t.port_or_known_default() == from.port_or_known_default();
                (format!("{}://{host}{port}", t.scheme()), same)
            }
            None => ("an address it did not give".to_owned(), false),
        };
        let advice = if same_host {
            "If the service moved to that address, change the connection's base URL to it"
        } else {
            "If you trust that host, change the connection's base URL to it; otherwise check the base URL"
        };
        Self::invalid_config(format!(
            "The server redirected the request to {where_to}. Keydeck does not follow redirects, so the connection's credentials were not sent there. {advice}"
        ))
        .with_status(status)
        .with_code(REDIRECT_REFUSED)
    }

    pub fn bad_response(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadResponse, message)
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// Builds an error from an HTTP status and what the provider said, mapping codes first
    /// (they are more precise than statuses) and statuses second.
    pub fn from_response(
        status: u16,
        code: Option<String>,
        message: Option<String>,
        fields: FieldErrors,
        retry_after: Option<Duration>,
    ) -> Self {
        let kind = kind_for(status, code.as_deref(), fields, retry_after);
        let message = message
            .filter(|m| !m.trim().is_empty())
            .unwrap_or_else(|| default_message(status));
        Self {
            kind,
            status: Some(status),
            code,
            message: scrub(&message, &[]),
        }
    }

    /// Removes the given secret values (and any long hex run) from the message.
    pub fn scrubbed(mut self, secrets: &[&str]) -> Self {
        self.message = scrub(&self.message, secrets);
        if let ErrorKind::Validation { fields } = &mut self.kind {
            for messages in fields.values_mut() {
                for m in messages.iter_mut() {
                    *m = scrub(m, secrets);
                }
            }
        }
        self
    }

    /// Validation messages for one field, if the provider named it.
    pub fn field_errors(&self, field: &str) -> &[String] {
        match &self.kind {
            ErrorKind::Validation { fields } => fields.get(field).map(Vec::as_slice).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// The server's requested delay, for a rate-limited call.
    pub fn retry_after(&self) -> Option<Duration> {
        match &self.kind {
            ErrorKind::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }

    pub fn is_code(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    /// A DELETE answered "not found" after an earlier try may have reached the server: that
    /// try most likely deleted it, and the answer was lost.
    pub fn gone_after_retry(mut self) -> Self {
        self.code = Some(GONE_AFTER_RETRY.to_owned());
        self.message = format!(
            "It is gone: an earlier try, whose answer was lost, most likely deleted it ({})",
            self.message
        );
        self
    }

    /// The request may have been carried out: the connection broke or timed out, the server
    /// failed, or it answered with something that is not the documented envelope (a garbled
    /// 2xx is a done request whose answer was lost). A create looks on the server before
    /// anything else is said or tried.
    pub fn is_ambiguous(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Connection | ErrorKind::Timeout | ErrorKind::Server | ErrorKind::BadResponse
        )
    }

    /// See [`Self::gone_after_retry`].
    pub fn is_gone_after_retry(&self) -> bool {
        self.is_code(GONE_AFTER_RETRY)
    }
}

/// The code Keydeck gives a "not found" that answers a retried DELETE.
pub const GONE_AFTER_RETRY: &str = "KEYDECK_GONE_AFTER_RETRY";

fn kind_for(
    status: u16,
    code: Option<&str>,
    fields: FieldErrors,
    retry_after: Option<Duration>,
) -> ErrorKind {
    match code {
        Some(
            "AUTH_ERR_EMPTY_APIKEY"
            | "AUTH_ERR_APIKEY_NOT_FOUND"
            | "AUTH_ERR_EMPTY_AUTH_HEADER"
            | "AUTH_ERR_INVALID_CREDENTIALS",
        ) => return ErrorKind::Unauthenticated,
        Some(
            "AUTH_ERR_NO_ACCESS"
            | "ERR_APIKEY_NO_SELF_ACTION"
            | "ERR_PLAN_QUOTA_RESTRICTION"
            | "ERR_PLAN_RESTRICTION"
            | "ERR_SUBSCRIPTION_EXPIRED",
        ) => return ErrorKind::PermissionDenied,
        Some("ERR_UID_ALREADY_EXISTS" | "ERR_ALREADY_EXISTS") => return ErrorKind::Conflict,
        Some("ERR_TOO_MANY_REQUESTS") => return ErrorKind::RateLimited { retry_after },
        Some("ERR_BAD_REQUEST") => return ErrorKind::Validation { fields },
        _ => {}
    }
    match status {
        400 | 413 | 422 => ErrorKind::Validation { fields },
        401 => ErrorKind::Unauthenticated,
        403 => ErrorKind::PermissionDenied,
        404 | 410 => ErrorKind::NotFound,
        409 => ErrorKind::Conflict,
        408 | 504 => ErrorKind::Timeout,
        429 => ErrorKind::RateLimited { retry_after },
        500..=599 => ErrorKind::Server,
        _ => ErrorKind::BadResponse,
    }
}

fn default_message(status: u16) -> String {
    match status {
        401 => "The credential was not accepted".to_owned(),
        403 => "The credential may not perform this operation".to_owned(),
        404 => "Not found".to_owned(),
        429 => "Too many requests".to_owned(),
        500..=599 => format!("The server failed (HTTP {status})"),
        _ => format!("Unexpected answer (HTTP {status})"),
    }
}

/// Replaces each given secret, and every run of 32 or more hex digits (API keys, token
/// suffixes), with a short masked form.
pub fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for s in secrets.iter().filter(|s| s.len() >= 8) {
        if out.contains(*s) {
            out = out.replace(*s, &crate::secret::mask(s));
        }
    }
    mask_hex_runs(&out)
}

fn mask_hex_runs(text: &str) -> String {
    const MIN_RUN: usize = 32;
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        while i < chars.len() && chars[i].is_ascii_hexdigit() {
            i += 1;
        }
        if i - start >= MIN_RUN {
            out.extend(&chars[start..start + 4]);
            out.push('…');
        } else {
            out.extend(&chars[start..i]);
        }
        if i < chars.len() && i == start {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{} ({code})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("kind", &self.kind)
            .field("status", &self.status)
            .field("code", &self.code)
            .field("message", &self.message)
            .finish()
    }
}

impl std::error::Error for ApiError {}

impl From<reqwest::Error> for ApiError {
    fn from(e: reqwest::Error) -> Self {
        // `without_url` matters: a URL can carry a key in its path.
        let kind = if e.is_timeout() {
            ErrorKind::Timeout
        } else if e.is_decode() {
            ErrorKind::BadResponse
        } else if e.is_builder() {
            ErrorKind::InvalidConfig
        } else {
            ErrorKind::Connection
        };
        let status = e.status().map(|s| s.as_u16());
        // The top-level text is vague ("error sending request"); add the root cause
        // ("connection refused", "connection reset by peer").
        let cause = root_cause(&e);
        let mut text = e.without_url().to_string();
        if let Some(cause) = cause.filter(|c| !text.contains(c.as_str())) {
            text = format!("{text}: {cause}");
        }
        Self {
            kind,
            status,
            code: None,
            message: scrub(&text, &[]),
        }
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur = e.source()?;
    while let Some(next) = cur.source() {
        cur = next;
    }
    Some(cur.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_win_over_statuses() {
        let e = ApiError::from_response(
            400,
            Some("ERR_UID_ALREADY_EXISTS".into()),
            None,
            FieldErrors::new(),
            None,
        );
        assert_eq!(e.kind, ErrorKind::Conflict);
        let e = ApiError::from_response(
            404,
            Some("AUTH_ERR_APIKEY_NOT_FOUND".into()),
            None,
            FieldErrors::new(),
            None,
        );
        assert_eq!(e.kind, ErrorKind::Unauthenticated);
    }

    #[test]
    fn statuses_map_when_the_code_is_unknown() {
        let e = ApiError::from_response(503, None, None, FieldErrors::new(), None);
        assert_eq!(e.kind, ErrorKind::Server);
        assert!(e.kind.is_transient());
        let e = ApiError::from_response(
            429,
            None,
            None,
            FieldErrors::new(),
            Some(Duration::from_secs(7)),
        );
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
    }

    #[test]
    fn messages_lose_keys_and_long_hex_runs() {
        let key = "0123456789abcdef0123456789abcdef01234567";
        let e = ApiError::from_response(
            403,
            Some("AUTH_ERR_NO_ACCESS".into()),
            Some(format!(
                "The key {key} cannot be used to perform this operation."
            )),
            FieldErrors::new(),
            None,
        );
        assert!(!e.message.contains(key));
        assert!(e.message.contains("0123…"));
        let scrubbed = scrub(
            "token alice_1700000000abcdefabcdefabcdefabcdefabcdef0 gone",
            &[],
        );
        assert!(!scrubbed.contains("abcdefabcdefabcdef"), "{scrubbed}");
    }

    #[test]
    fn a_refused_redirect_names_the_host_but_not_the_path_or_query() {
        let from = url::Url::parse("http://127.0.0.1:8080/v3/users").unwrap();
        let e = ApiError::redirect_refused(
            302,
            &from,
            Some("http://evil.example:81/steal?token=tok-123456789"),
        );
        assert_eq!(e.kind, ErrorKind::InvalidConfig);
        assert_eq!(e.status, Some(302));
        assert!(e.is_code(REDIRECT_REFUSED));
        assert!(e.message.contains("http://evil.example:81"), "{e}");
        assert!(
            !e.message.contains("steal") && !e.message.contains("tok-"),
            "{e}"
        );
        let relative = ApiError::redirect_refused(308, &from, Some("/v4/users"));
        assert!(relative.message.contains("127.0.0.1:8080"), "{relative}");
        assert!(relative.message.contains("moved"), "{relative}");
        let nowhere = ApiError::redirect_refused(302, &from, None);
        assert!(nowhere.message.contains("did not give"), "{nowhere}");
    }

    #[test]
    fn named_secrets_are_scrubbed_even_when_short_of_a_hex_run() {
        let out = scrub("secret is s3cr3t-passw0rd!", &["s3cr3t-passw0rd!"]);
        assert!(!out.contains("passw0rd"));
    }
}
