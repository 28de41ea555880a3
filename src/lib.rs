//! Keydeck: a desktop console for API keys and auth tokens.
//!
//! The library holds everything the binary, the tests and the benchmarks share:
//! the provider clients (`providers`), the local emulator (`sandbox`) and the
//! secret wrapper that keeps key values out of `Debug` output and logs.

pub mod audit;
pub mod logging;
pub mod model;
pub mod paths;
pub mod providers;
pub mod sandbox;
pub mod secret;
