//! Provider errors explained in plain words, with the next step the user can take.

use crate::providers::{ApiError, ErrorKind};

/// What the user can do about an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextStep {
    EditConnection,
    Retry,
    Refresh,
    None,
}

impl NextStep {
    pub fn label(self) -> Option<&'static str> {
        match self {
            NextStep::EditConnection => Some("Edit connection…"),
            NextStep::Retry => Some("Retry"),
            NextStep::Refresh => Some("Refresh"),
            NextStep::None => None,
        }
    }
}

/// An error as the UI shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explained {
    pub title: String,
    pub body: String,
    pub next: NextStep,
}

/// Explains an error from a CometChat app call.
pub fn explain(e: &ApiError) -> Explained {
    let detail = e.to_string();
    let (title, body, next) = if e.is_code("ERR_APIKEY_NO_SELF_ACTION") {
        (
            "A key cannot change or delete itself".to_owned(),
            format!(
                "This connection signs its requests with this key. Switch the connection to another fullAccess key first, then try again. ({detail})"
            ),
            NextStep::EditConnection,
        )
    } else if e.is_code("ERR_PLAN_QUOTA_RESTRICTION") {
        (
            "The app's plan allows no more of these".to_owned(),
            format!(
                "This is the plan's limit, not a permission problem (an app can have at most 25 API keys). Delete one you no longer use, then try again. ({detail})"
            ),
            NextStep::None,
        )
    } else if e.is_code("AUTH_ERR_NO_ACCESS") {
        (
            "This connection's key may not do this".to_owned(),
            format!(
                "It is an authOnly key: it can create users and auth tokens only. Managing API keys needs a fullAccess key. ({detail})"
            ),
            NextStep::EditConnection,
        )
    } else {
        match &e.kind {
            ErrorKind::Unauthenticated => (
                "The key was not accepted".to_owned(),
                format!(
                    "Check the connection's key; it may have been deleted or mistyped. ({detail})"
                ),
                NextStep::EditConnection,
            ),
            ErrorKind::PermissionDenied => (
                "Not allowed".to_owned(),
                format!("The connection's credential may not do this. ({detail})"),
                NextStep::EditConnection,
            ),
            ErrorKind::NotFound => (
                "Not found".to_owned(),
                format!(
                    "It may have been deleted meanwhile, or the app id or region is wrong. ({detail})"
                ),
                NextStep::Refresh,
            ),
            ErrorKind::Conflict => ("Already exists".to_owned(), detail, NextStep::None),
            ErrorKind::Validation { .. } => ("Check the form".to_owned(), detail, NextStep::None),
            ErrorKind::RateLimited { retry_after } => (
                "Too many requests".to_owned(),
                match retry_after {
                    Some(d) => {
                        format!("The server asks to wait {} s before retrying.", d.as_secs())
                    }
                    None => "Wait a moment before retrying.".to_owned(),
                },
                NextStep::Retry,
            ),
            ErrorKind::Connection => (
                "Could not reach the server".to_owned(),
                format!("Check the network or the connection's base URL. ({detail})"),
                NextStep::Retry,
            ),
            ErrorKind::Timeout => (
                "The server did not answer in time".to_owned(),
                detail,
                NextStep::Retry,
            ),
            ErrorKind::Server => ("The server failed".to_owned(), detail, NextStep::Retry),
            ErrorKind::BadResponse => (
                "Unexpected answer from the server".to_owned(),
                detail,
                NextStep::Retry,
            ),
            ErrorKind::InvalidConfig => (
                "The connection is not set up correctly".to_owned(),
                detail,
                NextStep::EditConnection,
            ),
        }
    };
    Explained { title, body, next }
}
