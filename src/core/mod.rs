//! What Keydeck *does*, with no window: the connection registry ([`kinds`]), how a connection
//! becomes a client ([`client`]), the session of config and secrets ([`session`]), and the
//! operations a user can perform ([`ops`]), each of which writes its own audit record.
//!
//! Nothing here imports egui or the window's modules: the window is one caller and a test
//! (or a command line) is another. See `ARCHITECTURE.md` for the layers.

pub mod client;
pub mod connect;
pub mod errors;
pub mod hygiene;
pub mod kinds;
pub mod open_app;
pub mod ops;
pub mod profiles;
pub mod recorder;
pub mod session;
pub mod user_pages;
pub mod worker;
