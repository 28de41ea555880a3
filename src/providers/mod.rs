//! Provider clients: plain async Rust, no egui inside, so that tests, benchmarks and the
//! command line drive them the same way the UI does.

pub mod ably;
pub mod cometchat;
pub mod cometly;
pub mod error;
pub mod http;
pub mod management;
pub mod pager;

pub use error::{ApiError, ErrorKind, FieldErrors};
pub use pager::{Page, Pagination};

/// Seconds of clock difference tolerated when matching "created since I asked" after an
/// ambiguous create.
pub(crate) const CLOCK_SLACK_SECS: i64 = 5;

/// Now, in whole seconds since the Unix epoch.
pub(crate) fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
