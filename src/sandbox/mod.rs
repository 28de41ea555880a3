//! The local emulator of the provider APIs.
