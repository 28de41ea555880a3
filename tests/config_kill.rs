//! A process killed while saving its config leaves the previous or the new config, never a
//! broken one. The test re-runs its own binary as a child that saves in a loop, and kills it
//! with SIGKILL at random moments.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

use std::process::{Command, Stdio};
use std::time::Duration;

use keydeck::config::{Config, Connection, ConnectionKind, Environment};

const DIR_VAR: &str = "KEYDECK_KILL_TEST_DIR";

/// A config whose every connection carries the generation it was written in.
fn generation(n: usize) -> Config {
    Config {
        connections: (0..n)
            .map(|i| Connection {
                id: format!("c{i}"),
                label: format!("gen-{n}"),
                kind: ConnectionKind::CometChatApp {
                    app_id: format!("app{i:04}"),
                    region: "us".into(),
                },
                environment: Environment::Staging,
                base_url: Some(format!("https://proxy-{i}.example.com/v3")),
                embedded_sandbox: false,
            })
            .collect(),
        ..Config::default()
    }
}

/// The child: saves ever larger configs until it is killed. Ignored in normal runs; the
/// parent test starts it with `--ignored --exact`.
#[test]
#[ignore = "run only as the child of a_killed_save_leaves_the_old_or_the_new_config"]
fn child_writer() {
    let dir = std::env::var(DIR_VAR).expect("the parent sets the directory");
    for n in 1.. {
        generation(n % 400 + 1)
            .save(std::path::Path::new(&dir))
            .expect("save");
    }
}

#[test]
fn a_killed_save_leaves_the_old_or_the_new_config() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut non_empty = 0;
    for round in 0..25u64 {
        let mut child = Command::new(&exe)
            .args([
                "--ignored",
                "--exact",
                "child_writer",
                "--test-threads",
                "1",
            ])
            .env(DIR_VAR, dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill at varied moments, early and late in a save.
        std::thread::sleep(Duration::from_millis(30 + (round * 37) % 170));
        child.kill().unwrap();
        child.wait().unwrap();

        let config = Config::load(dir.path())
            .unwrap_or_else(|e| panic!("round {round}: the config is broken: {e}"));
        let n = config.connections.len();
        if n > 0 {
            non_empty += 1;
        }
        assert!(
            config
                .connections
                .iter()
                .all(|c| c.label == format!("gen-{n}")),
            "round {round}: a config mixes two saves"
        );
    }
    assert!(
        non_empty > 0,
        "the child never saved: the test proved nothing"
    );
}
