//! Sandbox connections stay symbolic: a duplicated one, saved and reloaded, follows the
//! sandbox to its new port after a restart; and a connection never hands a sandbox
//! credential to a loopback port that is not the running sandbox (a real listener on
//! 127.0.0.1 records what it receives).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

mod support;
mod ui_common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use egui_kittest::kittest::Queryable;
use keydeck::config::{Config, Connection, ConnectionKind, Environment, FIELD_API_KEY};
use keydeck::secret::Secret;
use keydeck::ui::Command;
use keydeck::vault::Vault;
use ui_common::{click, step_until};

const SANDBOX_START: Duration = Duration::from_secs(60);
const WAIT: Duration = Duration::from_secs(10);

#[test]
fn a_duplicated_sandbox_connection_follows_the_sandbox_to_its_new_port_after_a_restart() {
    let rt = ui_common::runtime();
    let dirs = tempfile::tempdir().expect("tempdir");
    let vault = Vault::memory();
    let mut h = ui_common::harness(ui_common::app(&rt, &dirs, vault.clone(), true));
    step_until(
        &mut h,
        "the demo app's keys are listed",
        |h| h.query_by_label("Rest API Key").is_some(),
        SANDBOX_START,
    );
    let first_url = h.state().embedded_sandbox().expect("sandbox").base_url();
    h.get_by_label("Connections").click();
    ui_common::settle(&mut h);
    click(&mut h, "Duplicate Demo app (sandbox)");
    click(&mut h, "Save");
    let config_dir = dirs.path().join("config");
    step_until(
        &mut h,
        "the copy is saved",
        |_| Config::load(&config_dir).is_ok_and(|c| c.connections.len() == 5),
        WAIT,
    );
    let config = Config::load(&config_dir).expect("config");
    let copy = config
        .connections
        .iter()
        .find(|c| c.label == "Demo app (sandbox) (copy)")
        .expect("the copy")
        .clone();
    assert!(copy.embedded_sandbox, "the copy is a sandbox connection");
    assert_eq!(copy.base_url, None, "no port stored");
    let text = std::fs::read_to_string(Config::path(&config_dir)).expect("file");
    assert!(
        !text.contains(&first_url),
        "this run's address is not in the file"
    );
    drop(h);

    // A restart: the sandbox comes back on another ephemeral port, and the copy (selected
    // when it was saved) is the connection the keys are listed through.
    let mut again = ui_common::harness(ui_common::app(&rt, &dirs, vault.clone(), true));
    assert_eq!(
        again.state().active_connection().map(|c| c.id.clone()),
        Some(copy.id.clone())
    );
    step_until(
        &mut again,
        "the copy lists the demo app's keys from the new sandbox",
        |h| h.query_by_label("Rest API Key").is_some(),
        SANDBOX_START,
    );
    assert_eq!(
        again.state().active_connection().map(|c| c.id.clone()),
        Some(copy.id)
    );
}

/// A listener that records each request's head and answers 200 `{"data":[]}`.
fn listener() -> (String, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in l.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            log.lock().expect("log").push(head);
            let mut stream = stream;
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{\"data\":[]}");
        }
    });
    (format!("http://{addr}"), seen)
}

fn save_connection_to(
    h: &mut egui_kittest::Harness<'static, keydeck::ui::KeydeckApp>,
    label: &str,
    app_id: &str,
    base_url: String,
    key: &str,
) {
    h.state_mut().push_command(Command::SaveConnection {
        connection: Connection {
            id: keydeck::config::new_connection_id(),
            label: label.to_owned(),
            kind: ConnectionKind::CometChatApp {
                app_id: app_id.to_owned(),
                region: "us".to_owned(),
            },
            environment: Environment::Dev,
            base_url: Some(base_url),
            embedded_sandbox: false,
        },
        secrets: vec![(FIELD_API_KEY, Secret::new(key))],
    });
    ui_common::settle(h);
    h.state_mut()
        .push_command(Command::SelectTab(keydeck::ui::Tab::Keys));
    ui_common::settle(h);
}

#[test]
fn a_loopback_port_that_is_not_the_sandbox_never_receives_a_sandbox_credential() {
    let rt = ui_common::runtime();
    let dirs = tempfile::tempdir().expect("tempdir");
    let mut h = ui_common::harness(ui_common::app(&rt, &dirs, Vault::memory(), true));
    step_until(
        &mut h,
        "the sandbox runs",
        |h| h.query_by_label("Rest API Key").is_some(),
        SANDBOX_START,
    );
    let demo = h
        .state()
        .embedded_sandbox()
        .expect("sandbox")
        .info()
        .cometchat
        .apps[0]
        .clone();
    let (address, seen) = listener();

    // A copy made by an earlier version: a fixed loopback port, with the sandbox key.
    save_connection_to(
        &mut h,
        "Old copy",
        &demo.app_id,
        format!("{address}/cometchat/{}/v3", demo.app_id),
        &demo.rest_api_key,
    );
    step_until(
        &mut h,
        "the refusal is shown",
        |h| {
            h.query_by_label_contains("not the running sandbox")
                .is_some()
        },
        WAIT,
    );
    for _ in 0..20 {
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        seen.lock().expect("log").is_empty(),
        "the listener received a request"
    );

    // The control: a key the sandbox did not issue goes to the same listener.
    save_connection_to(
        &mut h,
        "Hand-made",
        &demo.app_id,
        format!("{address}/cometchat/{}/v3", demo.app_id),
        "0123456789abcdef0123456789abcdef0000hand",
    );
    step_until(
        &mut h,
        "the listener receives the other key",
        |_| {
            seen.lock()
                .expect("log")
                .iter()
                .any(|r| r.contains("0000hand"))
        },
        WAIT,
    );
    assert!(
        !seen
            .lock()
            .expect("log")
            .iter()
            .any(|r| r.contains(&demo.rest_api_key))
    );
}
