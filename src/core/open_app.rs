//! Opening an app of a management connection: the app connection it becomes, and where that
//! connection sends its chat requests.

use url::Url;

use crate::config::{self, Connection, ConnectionKind};
use crate::providers::management::{App, DEFAULT_BASE_URL};

/// The path the Management API is served under by the sandbox (and by anything shaped like it).
const MANAGEMENT_SUFFIX: &str = "/cometchat-mgmt";

/// The chat base URL of app `app_id`, given the base URL of the management connection it was
/// listed through.
///
/// * the real Management host (or no base URL) → `None`: the app's own regional host is used;
/// * `http://127.0.0.1:PORT/cometchat-mgmt` (the sandbox shape) →
///   `http://127.0.0.1:PORT/cometchat/{app_id}/v3`;
/// * anything else → `None`, because there is no way to tell where such a proxy serves apps.
pub fn chat_base_url(management_base_url: Option<&str>, app_id: &str) -> Option<String> {
    let base = management_base_url
        .map(str::trim)
        .filter(|b| !b.is_empty())?
        .trim_end_matches('/');
    if same_host(base, DEFAULT_BASE_URL) {
        return None;
    }
    let root = base.strip_suffix(MANAGEMENT_SUFFIX)?;
    Some(format!("{root}/cometchat/{app_id}/v3"))
}

fn same_host(a: &str, b: &str) -> bool {
    match (Url::parse(a), Url::parse(b)) {
        (Ok(a), Ok(b)) => {
            a.host_str() == b.host_str() && a.port_or_known_default() == b.port_or_known_default()
        }
        _ => false,
    }
}

/// What opening an app adds: an app connection labelled with the app's name, in the
/// management connection's environment. `existing` is a connection to the same app that is
/// already there; it is reused (keeping its id, label and environment) so that opening an app
/// twice does not pile up copies.
///
/// The base URL follows the management connection: an embedded-sandbox connection stays
/// embedded (its URL is resolved when the sandbox runs, since the port changes every start);
/// a custom base URL is mapped with [`chat_base_url`]; the real host leaves it empty.
pub fn app_connection(
    management: &Connection,
    app: &App,
    existing: Option<&Connection>,
) -> Connection {
    let base_url = if management.embedded_sandbox {
        None
    } else {
        chat_base_url(management.base_url_override(), &app.id)
    };
    let region = if app.region.trim().is_empty() {
        "us".to_owned()
    } else {
        app.region.clone()
    };
    Connection {
        id: existing.map_or_else(config::new_connection_id, |c| c.id.clone()),
        label: existing.map_or_else(|| app.name.clone(), |c| c.label.clone()),
        kind: ConnectionKind::CometChatApp {
            app_id: app.id.clone(),
            region,
        },
        environment: existing.map_or(management.environment, |c| c.environment),
        base_url,
        embedded_sandbox: management.embedded_sandbox,
    }
}

/// The connection to this app that opening it should reuse: same app id, talking to the same
/// place (embedded or not).
pub fn existing_connection<'a>(
    connections: &'a [Connection],
    management: &Connection,
    app_id: &str,
) -> Option<&'a Connection> {
    connections.iter().find(|c| {
        c.embedded_sandbox == management.embedded_sandbox
            && matches!(&c.kind, ConnectionKind::CometChatApp { app_id: id, .. } if id == app_id)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Environment;

    fn app(id: &str, region: &str) -> App {
        serde_json::from_value(
            serde_json::json!({"id": id, "name": "Support desk", "region": region}),
        )
        .unwrap()
    }

    fn management(base_url: Option<&str>, embedded: bool) -> Connection {
        Connection {
            id: "m1".into(),
            label: "Management".into(),
            kind: ConnectionKind::Management,
            environment: Environment::Staging,
            base_url: base_url.map(str::to_owned),
            embedded_sandbox: embedded,
        }
    }

    #[test]
    fn a_sandbox_shaped_management_url_maps_to_the_apps_chat_url() {
        assert_eq!(
            chat_base_url(Some("http://127.0.0.1:4100/cometchat-mgmt"), "a1b2").as_deref(),
            Some("http://127.0.0.1:4100/cometchat/a1b2/v3")
        );
        assert_eq!(
            chat_base_url(Some(" http://127.0.0.1:4100/cometchat-mgmt/ "), "a1b2").as_deref(),
            Some("http://127.0.0.1:4100/cometchat/a1b2/v3"),
            "blank space and a trailing slash are ignored"
        );
        assert_eq!(
            chat_base_url(Some("https://proxy.example/base/cometchat-mgmt"), "x9").as_deref(),
            Some("https://proxy.example/base/cometchat/x9/v3")
        );
    }

    #[test]
    fn the_real_host_or_an_unknown_shape_leaves_the_chat_url_to_the_region() {
        assert_eq!(chat_base_url(None, "a1"), None);
        assert_eq!(chat_base_url(Some("  "), "a1"), None);
        assert_eq!(
            chat_base_url(Some("https://apimgmt.cometchat.io"), "a1"),
            None
        );
        assert_eq!(
            chat_base_url(Some("https://apimgmt.cometchat.io/"), "a1"),
            None
        );
        assert_eq!(
            chat_base_url(Some("https://proxy.example/mgmt"), "a1"),
            None
        );
    }

    #[test]
    fn an_opened_app_copies_the_environment_and_maps_the_base_url() {
        let c = app_connection(
            &management(Some("http://127.0.0.1:4100/cometchat-mgmt"), false),
            &app("a1b2", "eu"),
            None,
        );
        assert_eq!(c.label, "Support desk");
        assert_eq!(c.environment, Environment::Staging);
        assert_eq!(
            c.kind,
            ConnectionKind::CometChatApp {
                app_id: "a1b2".into(),
                region: "eu".into()
            }
        );
        assert_eq!(
            c.base_url.as_deref(),
            Some("http://127.0.0.1:4100/cometchat/a1b2/v3")
        );
        assert!(!c.embedded_sandbox);

        let real = app_connection(&management(None, false), &app("a1b2", "in"), None);
        assert_eq!(real.base_url, None);
        assert!(!real.embedded_sandbox);
    }

    #[test]
    fn an_app_of_the_embedded_sandbox_stays_embedded_without_a_fixed_url() {
        let c = app_connection(&management(None, true), &app("a1b2", "us"), None);
        assert!(c.embedded_sandbox);
        assert_eq!(c.base_url, None, "the port changes on every start");
    }

    #[test]
    fn opening_an_app_twice_reuses_its_connection() {
        let m = management(None, false);
        let first = app_connection(&m, &app("a1b2", "us"), None);
        let mut renamed = first.clone();
        renamed.label = "Support (mine)".into();
        let conns = vec![m.clone(), renamed.clone()];
        let existing = existing_connection(&conns, &m, "a1b2");
        assert_eq!(existing.map(|c| c.id.as_str()), Some(first.id.as_str()));
        let again = app_connection(&m, &app("a1b2", "us"), existing);
        assert_eq!(again.id, first.id);
        assert_eq!(again.label, "Support (mine)");
        assert!(existing_connection(&conns, &management(None, true), "a1b2").is_none());
    }
}
