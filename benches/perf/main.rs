//! Keydeck's benchmark table: `cargo bench --bench perf`.
//!
//! Each figure is the median of several runs, printed next to the reference it is judged
//! against, measured in the same run. Needs `wrk` and `curl` on the PATH (Debian: `wrk curl`);
//! a figure whose tool is missing is reported as skipped, not guessed.

use std::process::Command;
use std::time::Instant;

use futures::StreamExt;
use keydeck::providers::cometchat::{
    AppEndpoint, CometChatClient, NewAuthToken, NewUser, UserQuery,
};
use keydeck::providers::http::RetryPolicy;
use keydeck::sandbox::{Sandbox, SandboxOptions};
use keydeck::secret::Secret;

const RUNS: usize = 5;
const BULK_TOKENS: usize = 1_000;
const BULK_CONCURRENCY: usize = 8;
const FETCH_USERS: usize = 100_000;
const FETCH_PAGE: u32 = 1_000;
const FETCH_CONCURRENCY: usize = 4;

struct Row {
    figure: String,
    value: String,
    reference: String,
    target: String,
    verdict: String,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .map(|o| o.status.success() || !o.stderr.is_empty() || !o.stdout.is_empty())
        .unwrap_or(false)
}

fn client(sb: &Sandbox) -> (CometChatClient, String, String) {
    let app = sb.info().cometchat.apps[0].clone();
    let c = CometChatClient::new(
        &AppEndpoint {
            app_id: app.app_id.clone(),
            region: app.region.clone(),
            base_url: Some(app.base_url.clone()),
        },
        Secret::new(app.rest_api_key.clone()),
    )
    .expect("client")
    .with_retry(RetryPolicy::none());
    (c, app.base_url, app.rest_api_key)
}

async fn create_users(c: &CometChatClient, prefix: &str, n: usize) {
    let results: Vec<bool> = futures::stream::iter(0..n)
        .map(|i| {
            let c = c.clone();
            let uid = format!("{prefix}{i:06}");
            async move {
                c.create_user(&NewUser {
                    uid: uid.clone(),
                    name: format!("Bench user {i}"),
                    ..NewUser::default()
                })
                .await
                .is_ok()
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(results.iter().all(|ok| *ok), "seeding users failed");
}

/// Runs wrk for `secs` and returns requests per second.
fn wrk_rps(url: &str, key: &str, connections: usize, secs: u64, lua: Option<&str>) -> Option<f64> {
    let dir = std::env::temp_dir().join(format!("keydeck-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t",
        "2",
        "-c",
        &connections.to_string(),
        "-d",
        &format!("{secs}s"),
        "-H",
        &format!("apikey: {key}"),
    ]);
    if let Some(script) = lua {
        let path = dir.join("script.lua");
        std::fs::write(&path, script).ok()?;
        cmd.arg("-s").arg(&path);
    }
    cmd.arg(url);
    let out = cmd.output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    if text.contains("Non-2xx") {
        eprintln!("wrk saw errors:\n{text}");
    }
    text.lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut rows = Vec::new();
    rt.block_on(async {
        let sb = Sandbox::start(SandboxOptions {
            port: 0,
            data: None,
            seed_demo_users: false,
        })
        .await
        .expect("sandbox");
        let app_id = sb.info().cometchat.apps[0].app_id.clone();
        sb.set_rate_limit(&app_id, None);
        let (c, base, key) = client(&sb);
        rows.push(bulk_tokens(&c, &base, &key).await);
        rows.extend(full_fetch(&c, &base, &key).await);
        sb.shutdown().await;
    });
    rows.push(binary_size());
    print_table(&rows);
}

async fn bulk_tokens(c: &CometChatClient, base: &str, key: &str) -> Row {
    create_users(c, "bulk-", BULK_TOKENS).await;
    let mut app_rates = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let ok = futures::stream::iter(0..BULK_TOKENS)
            .map(|i| {
                let c = c.clone();
                async move {
                    c.create_auth_token(
                        &format!("bulk-{i:06}"),
                        &NewAuthToken {
                            force: true,
                            ..NewAuthToken::default()
                        },
                    )
                    .await
                    .is_ok()
                }
            })
            .buffer_unordered(BULK_CONCURRENCY)
            .filter(|ok| std::future::ready(*ok))
            .count()
            .await;
        assert_eq!(ok, BULK_TOKENS, "every token issued");
        app_rates.push(BULK_TOKENS as f64 / started.elapsed().as_secs_f64());
    }
    let app = median(app_rates);
    let url = format!("{base}/users/bulk-000000/auth_tokens");
    let lua = "wrk.method = \"POST\"\nwrk.body = '{\"force\":true}'\nwrk.headers[\"Content-Type\"] = \"application/json\"\n";
    let ceiling = if have("wrk") {
        let runs: Vec<f64> = (0..3)
            .filter_map(|_| wrk_rps(&url, key, BULK_CONCURRENCY, 3, Some(lua)))
            .collect();
        (!runs.is_empty()).then(|| median(runs))
    } else {
        None
    };
    let curl = if have("curl") {
        let n = 100;
        let started = Instant::now();
        for _ in 0..n {
            let _ = Command::new("curl")
                .args(["-s", "-o", "/dev/null", "-X", "POST", "-H"])
                .arg(format!("apikey: {key}"))
                .args([
                    "-H",
                    "content-type: application/json",
                    "-d",
                    "{\"force\":true}",
                ])
                .arg(&url)
                .status();
        }
        Some(n as f64 / started.elapsed().as_secs_f64())
    } else {
        None
    };
    let (reference, verdict) = match (ceiling, curl) {
        (Some(w), Some(cu)) => (
            format!("wrk ceiling {w:.0}/s (c={BULK_CONCURRENCY}); curl loop {cu:.0}/s"),
            format!(
                "{:.2}× ceiling, {:.0}× curl → {}",
                app / w,
                app / cu,
                pass(app / w >= 0.7 && app / cu >= 20.0)
            ),
        ),
        _ => ("wrk or curl missing".into(), "skipped".into()),
    };
    Row {
        figure: format!("bulk tokens ({BULK_TOKENS}, c={BULK_CONCURRENCY})"),
        value: format!("{app:.0} tokens/s"),
        reference,
        target: "≥ 0.7 × ceiling; ≥ 20 × curl".into(),
        verdict,
    }
}

async fn full_fetch(c: &CometChatClient, base: &str, key: &str) -> Vec<Row> {
    let seed_started = Instant::now();
    create_users(c, "u", FETCH_USERS).await;
    eprintln!(
        "seeded {FETCH_USERS} users in {:.1} s",
        seed_started.elapsed().as_secs_f64()
    );
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let users = c
            .list_all_users(
                UserQuery {
                    per_page: Some(FETCH_PAGE),
                    ..UserQuery::default()
                },
                FETCH_CONCURRENCY,
            )
            .await
            .expect("fetch");
        assert!(users.len() >= FETCH_USERS);
        times.push(started.elapsed().as_secs_f64());
    }
    let app = median(times);
    let pages = FETCH_USERS.div_ceil(FETCH_PAGE as usize);
    let lua = format!(
        "local page = 0\nrequest = function()\n  page = page % {pages} + 1\n  return wrk.format(nil, \"{}/users?perPage={FETCH_PAGE}&page=\" .. page)\nend\n",
        url::Url::parse(base)
            .map(|u| u.path().to_owned())
            .unwrap_or_default()
    );
    let reference = if have("wrk") {
        let runs: Vec<f64> = (0..3)
            .filter_map(|_| {
                wrk_rps(
                    &format!("{base}/users"),
                    key,
                    FETCH_CONCURRENCY,
                    5,
                    Some(&lua),
                )
            })
            .collect();
        (!runs.is_empty()).then(|| pages as f64 / median(runs))
    } else {
        None
    };
    vec![Row {
        figure: format!(
            "full user fetch ({FETCH_USERS}, pages of {FETCH_PAGE}, c={FETCH_CONCURRENCY})"
        ),
        value: format!("{:.2} s", app),
        reference: reference
            .map(|r| format!("wrk, same pages: {r:.2} s"))
            .unwrap_or_else(|| "wrk missing".into()),
        target: "≤ 1.5 × wrk".into(),
        verdict: reference
            .map(|r| format!("{:.2}× → {}", app / r, pass(app <= 1.5 * r)))
            .unwrap_or_else(|| "skipped".into()),
    }]
}

fn binary_size() -> Row {
    let path = env!("CARGO_BIN_EXE_keydeck");
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mb = size as f64 / 1_000_000.0;
    Row {
        figure: "size (stripped release binary)".into(),
        value: format!("{mb:.1} MB"),
        reference: "—".into(),
        target: "≤ 25 MB".into(),
        verdict: pass(mb <= 25.0).into(),
    }
}

fn pass(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

fn print_table(rows: &[Row]) {
    println!();
    println!("| figure | Keydeck | reference (same run) | target | verdict |");
    println!("|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {} |",
            r.figure, r.value, r.reference, r.target, r.verdict
        );
    }
}
