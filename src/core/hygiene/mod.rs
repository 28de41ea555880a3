//! Key hygiene (issue 14): what Keydeck can tell an admin about the secrets it holds.
//!
//! The inventory ([`inventory`]): every key across connections with its age, state and where
//! it is stored, and the findings to act on; rotate-by reminders as desktop notifications
//! ([`remind`]). The leak scan ([`scan`]): finds Keydeck's own
//! secrets in the files of a folder, for the command line (`keydeck scan PATH`) and the
//! window's Hygiene tab. Nothing here
//! names egui; a scan runs on the caller's thread (the window runs it on one of its own) and
//! reports its progress through atomics any thread can read.

pub mod inventory;
pub mod remind;
pub mod scan;
