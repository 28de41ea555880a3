//! Provider clients: plain async Rust, no egui inside.
