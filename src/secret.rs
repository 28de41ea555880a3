//! A string that must never be printed: API keys, management secrets, auth tokens.

use std::fmt;

/// Holds a secret value. `Debug` and `Display` print a mask, never the value;
/// callers that need the value say so with [`Secret::expose`].
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself. Named loudly so that every use is easy to find.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A short masked form, safe for logs and the UI: the first four characters and an ellipsis.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

/// Masks any secret-like string to its first four characters (`a1b2…`).
/// Values of eight characters or fewer are masked entirely.
pub fn mask(value: &str) -> String {
    if value.chars().count() <= 8 {
        return "••••".to_owned();
    }
    let prefix: String = value.chars().take(4).collect();
    format!("{prefix}…")
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.masked())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = Secret::new("0123456789abcdef0123456789abcdef01234567");
        assert_eq!(format!("{s:?}"), "Secret(0123…)");
        assert_eq!(format!("{s}"), "0123…");
        assert!(!format!("{s:?}").contains("456789"));
    }

    #[test]
    fn short_values_are_masked_entirely() {
        assert_eq!(mask("abc"), "••••");
        assert_eq!(mask("12345678"), "••••");
    }
}
