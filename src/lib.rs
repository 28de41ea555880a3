//! Keydeck: a desktop console for API keys and auth tokens.
//!
//! The library holds everything the binary, the tests and the benchmarks share, in layers
//! (`ARCHITECTURE.md`): `ui` (the window) on `core` (connections, session, operations, audit)
//! on `providers` (async HTTP clients), `model` and the leaf modules; the local emulator
//! (`sandbox`) stands beside them.

pub mod audit;
pub mod cli;
pub mod config;
pub mod core;
pub mod logging;
pub mod model;
pub mod paths;
pub mod providers;
pub mod sandbox;
pub mod secret;
pub mod ui;
pub mod vault;
pub mod words;
