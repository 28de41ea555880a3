//! Connection profiles shared as a file: what a team passes around so that everyone has the
//! same connections. The file holds profiles only (label, provider, app, region, environment,
//! base URL), never a secret: on import each connection's secrets are read from this
//! machine's keychain when it holds them, and asked for otherwise.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::config::{Connection, MAX_LABEL_CHARS};

/// The `format` of a profiles file.
pub const FORMAT: &str = "keydeck-connections";
pub const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct ProfilesFile {
    format: String,
    version: u32,
    connections: Vec<Connection>,
}

/// The profiles file of `connections` (pretty JSON). Holds no secret: a [`Connection`] has none.
pub fn export(connections: &[Connection]) -> String {
    let file = ProfilesFile {
        format: FORMAT.to_owned(),
        version: VERSION,
        connections: connections.to_vec(),
    };
    serde_json::to_string_pretty(&file).unwrap_or_default() + "\n"
}

/// The largest profiles file read, and the most connections taken from one.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;
pub const MAX_CONNECTIONS: usize = 200;

/// What a profiles file holds, once checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub connections: Vec<Connection>,
    /// Connections to the exporting machine's own sandbox: meaningless elsewhere, left out.
    pub skipped_sandbox: usize,
}

/// The connections of a profiles file, each checked the way the connection editor checks it;
/// the first problem is named with the connection's place and label. Labels are kept trimmed.
pub fn parse(text: &str) -> Result<Parsed, String> {
    let file: ProfilesFile = serde_json::from_str(text).map_err(|e| {
        format!("This is not a Keydeck connections file ({e}). Export one from Keydeck's Connections tab.")
    })?;
    if file.format != FORMAT {
        return Err(format!(
            "This file's format is “{}”, not Keydeck connections",
            file.format
        ));
    }
    if file.version > VERSION {
        return Err(format!(
            "This file was written by a newer Keydeck (version {}); update Keydeck to import it",
            file.version
        ));
    }
    if file.connections.len() > MAX_CONNECTIONS {
        return Err(format!(
            "This file holds {} connections; Keydeck imports at most {MAX_CONNECTIONS} at once",
            file.connections.len()
        ));
    }
    let mut seen = HashSet::new();
    let mut parsed = Parsed::default();
    for (i, mut c) in file.connections.into_iter().enumerate() {
        let n = i + 1;
        c.label = c.label.trim().to_owned();
        let label = c.label.as_str();
        let len = label.chars().count();
        if len == 0 || len > MAX_LABEL_CHARS || label.chars().any(char::is_control) {
            return Err(format!(
                "Connection {n} needs a name of 1 to {MAX_LABEL_CHARS} printable characters"
            ));
        }
        let id_ok = (1..=64).contains(&c.id.len())
            && c.id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !id_ok || !seen.insert(c.id.clone()) {
            return Err(format!(
                "Connection {n} ({label}) has no valid id (letters, digits, - and _; up to 64), or the same id as another"
            ));
        }
        if c.embedded_sandbox {
            parsed.skipped_sandbox += 1;
            continue;
        }
        let spec = crate::core::kinds::spec(&c.kind);
        for field in spec.plain_fields() {
            let value = spec.plain_value(&c.kind, field.name).unwrap_or_default();
            if let Some(problem) = spec.check(field.name, &value) {
                return Err(format!("Connection {n} ({label}): {problem}"));
            }
        }
        if let Some(url) = c.base_url_override() {
            crate::providers::http::parse_base_url(url)
                .map_err(|e| format!("Connection {n} ({label}): {}", e.message))?;
        }
        parsed.connections.push(c);
    }
    Ok(parsed)
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Imported {
    /// Labels of the connections added.
    pub added: Vec<String>,
    /// Labels of the connections that were already here (same id): left as they are.
    pub already_here: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConnectionKind, Environment};

    fn app(id: &str, label: &str) -> Connection {
        Connection {
            id: id.to_owned(),
            label: label.to_owned(),
            kind: ConnectionKind::CometChatApp {
                app_id: "2a1b3c4d5e6f7a8b".to_owned(),
                region: "eu".to_owned(),
            },
            environment: Environment::Prod,
            base_url: None,
            embedded_sandbox: false,
        }
    }

    #[test]
    fn profiles_round_trip_and_hold_no_secret_field() {
        let list = vec![
            app("a1", "Shop (prod)"),
            Connection {
                id: "m1".to_owned(),
                label: "Tenants".to_owned(),
                kind: ConnectionKind::Management,
                environment: Environment::Dev,
                base_url: Some("https://apimgmt.cometchat.io".to_owned()),
                embedded_sandbox: false,
            },
        ];
        let text = export(&list);
        assert!(text.contains("\"format\": \"keydeck-connections\""));
        for word in ["api_key", "secret", "access_token", "apikey"] {
            assert!(!text.contains(word), "{word} in {text}");
        }
        assert_eq!(parse(&text).unwrap().connections, list);
    }

    #[test]
    fn a_bad_file_or_profile_is_named() {
        assert!(
            parse("{")
                .unwrap_err()
                .contains("not a Keydeck connections file")
        );
        assert!(
            parse(r#"{"format":"other","version":1,"connections":[]}"#)
                .unwrap_err()
                .contains("not Keydeck connections")
        );
        assert!(
            parse(r#"{"format":"keydeck-connections","version":9,"connections":[]}"#)
                .unwrap_err()
                .contains("newer Keydeck")
        );
        let mut bad = app("a1", "Bad app");
        bad.kind = ConnectionKind::CometChatApp {
            app_id: "Not An Id!".to_owned(),
            region: "eu".to_owned(),
        };
        let e = parse(&export(&[bad])).unwrap_err();
        assert!(e.starts_with("Connection 1 (Bad app):"), "{e}");
        let mut insecure = app("a2", "Plain");
        insecure.base_url = Some("http://example.com/v3".to_owned());
        assert!(parse(&export(&[insecure])).unwrap_err().contains("Plain"));
        let twice = export(&[app("a1", "One"), app("a1", "Two")]);
        assert!(parse(&twice).unwrap_err().contains("same id"));
        let long = app("a3", &"x".repeat(61));
        assert!(parse(&export(&[long])).unwrap_err().contains("1 to 60"));
        let control = app("a4", "bell\u{7}");
        assert!(
            parse(&export(&[control]))
                .unwrap_err()
                .contains("printable")
        );
        let odd_id = app("../etc", "Odd");
        assert!(parse(&export(&[odd_id])).unwrap_err().contains("valid id"));
        let padded = app("a5", "  Padded  ");
        assert_eq!(
            parse(&export(&[padded])).unwrap().connections[0].label,
            "Padded"
        );
        let mut local = app("a6", "Demo app (sandbox)");
        local.embedded_sandbox = true;
        let parsed = parse(&export(&[local, app("a7", "Real")])).unwrap();
        assert_eq!(parsed.skipped_sandbox, 1);
        assert_eq!(parsed.connections.len(), 1);
    }
}
