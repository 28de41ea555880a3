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
