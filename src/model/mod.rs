//! Domain types and validation that both the UI and the sandbox use.

pub mod capability;
