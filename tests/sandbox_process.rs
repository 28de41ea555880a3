//! `keydeck sandbox` as a separate process: its start-up line, and acknowledged writes
//! surviving SIGKILL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keydeck::providers::cometchat::{AppEndpoint, CometChatClient, NewUser, UserQuery};
use keydeck::sandbox::StartupInfo;
use keydeck::secret::Secret;

struct Running {
    child: Child,
    info: StartupInfo,
    line: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_keydeck"))
        .arg("sandbox")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("keydeck sandbox starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("a start-up line");
    let info: StartupInfo = serde_json::from_str(&line).expect("the first line is JSON");
    Running { child, info, line }
}

fn client(info: &StartupInfo) -> CometChatClient {
    let app = &info.cometchat.apps[0];
    CometChatClient::new(
        &AppEndpoint {
            app_id: app.app_id.clone(),
            region: app.region.clone(),
            base_url: Some(app.base_url.clone()),
        },
        Secret::new(app.rest_api_key.clone()),
    )
    .expect("client")
}

#[test]
fn the_start_up_line_has_the_documented_shape_and_masks_secrets_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("s.sqlite");
    let data = data.to_str().unwrap();

    let open = start(&["--port", "0", "--data", data, "--print-secrets"]);
    let v: serde_json::Value = serde_json::from_str(&open.line).unwrap();
    let mgmt = &v["cometchat"]["management"];
    for field in ["baseUrl", "key", "secret"] {
        assert!(mgmt[field].is_string(), "management.{field}");
    }
    let app = &v["cometchat"]["apps"][0];
    for field in ["appId", "region", "baseUrl", "restApiKey", "authKey"] {
        assert!(app[field].is_string(), "apps[0].{field}");
    }
    assert!(app["baseUrl"].as_str().unwrap().ends_with("/v3"));
    let secrets = [
        open.info.cometchat.apps[0].rest_api_key.clone(),
        open.info.cometchat.apps[0].auth_key.clone(),
        open.info.cometchat.management.secret.clone(),
    ];
    assert_eq!(secrets[0].len(), 40);
    drop(open);

    // Same data file, no --print-secrets: same shape, same ids, every secret masked.
    let masked = start(&["--port", "0", "--data", data]);
    for s in &secrets {
        assert!(
            !masked.line.contains(s.as_str()),
            "the masked line leaks a secret"
        );
    }
    let v: serde_json::Value = serde_json::from_str(&masked.line).unwrap();
    assert_eq!(
        v["cometchat"]["apps"][0]["appId"], app["appId"],
        "the same data file gives the same app"
    );
    assert!(
        v["cometchat"]["apps"][0]["restApiKey"]
            .as_str()
            .unwrap()
            .contains('…')
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("kill.sqlite");
    let data = data.to_str().unwrap().to_owned();

    for round in 0..3 {
        let running = start(&["--port", "0", "--data", &data, "--print-secrets"]);
        let c = client(&running.info);
        let acked = Arc::new(Mutex::new(Vec::<String>::new()));
        let mut tasks = Vec::new();
        for worker in 0..8 {
            let c = c.clone();
            let acked = Arc::clone(&acked);
            tasks.push(tokio::spawn(async move {
                for i in 0.. {
                    let uid = format!("r{round}-w{worker}-{i}");
                    let user = NewUser {
                        uid: uid.clone(),
                        name: uid.clone(),
                        ..NewUser::default()
                    };
                    match c.create_user(&user).await {
                        Ok(_) => acked.lock().unwrap().push(uid),
                        Err(_) => break, // the server died under us
                    }
                }
            }));
        }
        // Let writes flow, then kill the server without warning.
        tokio::time::sleep(Duration::from_millis(400)).await;
        let mut running = running;
        running.child.kill().expect("SIGKILL");
        running.child.wait().ok();
        for t in tasks {
            t.await.unwrap();
        }
        let acked = acked.lock().unwrap().clone();
        assert!(
            acked.len() > 10,
            "round {round}: too few writes to prove anything"
        );

        let again = start(&["--port", "0", "--data", &data, "--print-secrets"]);
        let c = client(&again.info);
        for uid in &acked {
            c.get_user(uid, None)
                .await
                .unwrap_or_else(|e| panic!("round {round}: acknowledged user {uid} lost: {e}"));
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_users_flag_seeds_the_demo_app_before_the_start_up_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("many.sqlite");
    let data = data.to_str().unwrap().to_owned();
    let list = |c: CometChatClient| async move {
        c.list_users(
            &UserQuery {
                with_deactivated: true,
                per_page: Some(100),
                page: Some(2),
                ..UserQuery::default()
            },
            None,
        )
        .await
        .expect("list")
    };

    let running = start(&[
        "--port",
        "0",
        "--data",
        &data,
        "--seed-users",
        "2500",
        "--print-secrets",
    ]);
    let page = list(client(&running.info)).await;
    assert_eq!(
        page.pagination.total, 2_560,
        "60 demo users and 2,500 seeded"
    );
    // 51 demo uids sort before `user-` (the 9 from `vera-` on after it): positions 100–199 are
    // seeded users 50–149.
    let uids: Vec<&str> = page.items.iter().map(|u| u.uid.as_str()).collect();
    assert_eq!(uids.len(), 100);
    assert_eq!((uids[0], uids[99]), ("user-0000050", "user-0000149"));
    drop(running);

    // Again on the same file: nothing added, nothing lost.
    let again = start(&[
        "--port",
        "0",
        "--data",
        &data,
        "--seed-users",
        "2000",
        "--print-secrets",
    ]);
    assert_eq!(list(client(&again.info)).await.pagination.total, 2_560);
}
