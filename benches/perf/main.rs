//! Keydeck's benchmark table: `cargo bench --bench perf`.
//!
//! Each figure is the median of several runs, printed next to the reference it is judged
//! against, measured in the same run. Needs `wrk` and `curl` on the PATH, `rg` for the leak
//! scan's reference, and `Xvfb` with Mesa's software OpenGL for the window figures (Debian:
//! `wrk curl ripgrep xvfb libgl1-mesa-dri`); a figure whose tool is missing is reported as
//! skipped, not guessed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

mod frames;
mod inventory;
mod process;
mod sandbox;
mod scan;
mod users_million;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use futures::StreamExt;
use keydeck::providers::cometchat::{AppEndpoint, CometChatClient, NewUser, UserQuery};
use keydeck::providers::http::RetryPolicy;
use keydeck::sandbox::{Sandbox, SandboxOptions};
use keydeck::secret::Secret;

const RUNS: usize = 5;
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

/// Creates users `{prefix}{i:06}` for `i` in `from..to`, 16 at a time.
async fn create_users(c: &CometChatClient, prefix: &str, from: usize, to: usize) {
    let results: Vec<bool> = futures::stream::iter(from..to)
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
    // `cargo bench --bench perf -- memory size` runs only those figures; cargo adds `--bench`.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let want = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let work = tempfile::tempdir().expect("tempdir");
    let mut rows = Vec::new();

    // One sandbox on a data file, grown to 100, 10,000 and 100,000 users: the Users tab's
    // frames at each size, then the full fetch; its file is then what the memory figure loads.
    let users_db = work.path().join("users.sqlite3");
    if ["frames", "filter", "fetch", "memory"]
        .iter()
        .any(|f| want(f))
    {
        let sb = rt
            .block_on(Sandbox::start(SandboxOptions {
                port: 0,
                data: Some(users_db.clone()),
                seed_demo_users: false,
            }))
            .expect("sandbox");
        let app_id = sb.info().cometchat.apps[0].app_id.clone();
        sb.set_rate_limit(&app_id, None);
        let (c, base, key) = client(&sb);
        let sizes: &[usize] = if want("frames") {
            &FRAME_SIZES
        } else {
            &[FETCH_USERS]
        };
        let mut frame_medians = Vec::new();
        let mut seeded = 0;
        for &n in sizes {
            let started = Instant::now();
            rt.block_on(create_users(&c, "u", seeded, n));
            seeded = n;
            eprintln!(
                "seeded {n} users ({:.1} s)",
                started.elapsed().as_secs_f64()
            );
            let measure_filter = want("filter") && n == FETCH_USERS;
            if !want("frames") && !measure_filter {
                continue;
            }
            let mut ui = frames::Headless::new(rt.handle(), &sb);
            ui.wait_loaded(n);
            if want("frames") {
                let mut medians = Vec::new();
                for _ in 0..RUNS {
                    let (times, scrolled) = ui.scroll(FRAMES_PER_RUN);
                    assert!(scrolled, "scrolling the table changed nothing on screen");
                    medians.push(median(
                        times.iter().map(|t| t.as_secs_f64() * 1e3).collect(),
                    ));
                }
                frame_medians.push((n, median(medians)));
            }
            if want("filter") && n == FETCH_USERS {
                rows.push(filter_as_you_type(&mut ui));
            }
        }
        if want("frames") {
            rows.insert(0, frame_row(&frame_medians));
        }
        if want("fetch") {
            rows.extend(rt.block_on(full_fetch(&c, &base, &key)));
        }
        rt.block_on(sb.shutdown());
    }

    if want("bulk") {
        // On a fresh sandbox in memory.
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
            rows.push(sandbox::bulk_tokens(&sb).await);
            sb.shutdown().await;
        });
    }
    if want("million") {
        rows.extend(sandbox::million_rows(&rt, work.path()));
    }

    if want("scan") {
        rows.push(scan::scan_row());
    }
    if want("inventory") {
        rows.extend(inventory::inventory_rows(&rt));
    }
    rows.extend(window_rows(&rt, work.path(), &users_db, &want));
    if want("size") {
        rows.push(binary_size());
    }
    print_table(&rows);
}

const FRAME_SIZES: [usize; 3] = [100, 10_000, FETCH_USERS];
const FRAMES_PER_RUN: usize = 240;

fn frame_row(medians: &[(usize, f64)]) -> Row {
    let at = |n: usize| {
        medians
            .iter()
            .find(|(m, _)| *m == n)
            .map_or(f64::NAN, |(_, t)| *t)
    };
    let (small, big) = (at(FRAME_SIZES[0]), at(FETCH_USERS));
    let ratio = big / small;
    Row {
        figure: "frame time, Users tab, scrolling (UI pass + tessellation, CPU)".into(),
        value: medians
            .iter()
            .map(|(n, t)| format!("{}: {t:.2} ms", thousands(*n)))
            .collect::<Vec<_>>()
            .join(" · "),
        reference: format!("100 users: {small:.2} ms"),
        target: "100k ÷ 100 ≤ 1.3; ≤ 1.5 ms at 100k".into(),
        verdict: format!(
            "{ratio:.2}×, {big:.2} ms → {}",
            pass(ratio <= 1.3 && big <= 1.5)
        ),
    }
}

/// Keystrokes in the search field over 100,000 loaded users: narrowing ("1", "12", "123",
/// "1234") and widening again (Backspace four times, each a full rescan).
fn filter_as_you_type(ui: &mut frames::Headless) -> Row {
    let mut totals = Vec::new();
    let mut longest = Duration::ZERO;
    let mut most_frames = 0;
    for _ in 0..RUNS {
        ui.focus_search();
        for ch in ["1", "2", "3", "4"] {
            let k = ui.keystroke(vec![egui::Event::Text(ch.to_owned())]);
            assert!(k.shown < FETCH_USERS, "typing “{ch}” filtered nothing");
            totals.push(k.total);
            longest = longest.max(k.longest);
            most_frames = most_frames.max(k.frames);
        }
        for _ in 0..4 {
            let k = ui.keystroke(vec![
                frames::key(egui::Key::Backspace, egui::Modifiers::NONE, true),
                frames::key(egui::Key::Backspace, egui::Modifiers::NONE, false),
            ]);
            totals.push(k.total);
            longest = longest.max(k.longest);
            most_frames = most_frames.max(k.frames);
        }
        assert_eq!(
            ui.app.tabs.users.shown_users(),
            FETCH_USERS,
            "search cleared"
        );
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let med = median(totals.iter().map(|d| ms(*d)).collect());
    let worst = totals.iter().copied().max().map_or(0.0, ms);
    Row {
        figure: "filter as you type (100k loaded; keystroke to complete list)".into(),
        value: format!(
            "median {med:.2} ms, worst {worst:.2} ms (≤ {most_frames} frames, longest frame {:.2} ms)",
            ms(longest)
        ),
        reference: "—".into(),
        target: "≤ 8 ms".into(),
        verdict: pass(worst <= 8.0).into(),
    }
}

fn thousands(n: usize) -> String {
    keydeck::ui::tabs::users::thousands(n as u64)
}

/// Start-up, idle CPU and peak memory of the real window under Xvfb.
fn window_rows(
    rt: &tokio::runtime::Runtime,
    work: &Path,
    users_db: &Path,
    want: &dyn Fn(&str) -> bool,
) -> Vec<Row> {
    if !["startup", "idle", "memory"].iter().any(|f| want(f)) {
        return Vec::new();
    }
    let Some(x) = process::Xvfb::start() else {
        return ["start-up", "idle", "memory"]
            .map(|f| skipped_row(f, "Xvfb missing (Debian: xvfb)"))
            .into();
    };
    let Some(bare) = process::bare_example() else {
        return ["start-up", "idle", "memory"]
            .map(|f| skipped_row(f, "examples/bare_eframe did not build"))
            .into();
    };
    let keydeck = PathBuf::from(env!("CARGO_BIN_EXE_keydeck"));

    // Homes: one whose sandbox holds no users, one with the 100,000 seeded above.
    let empty_home = work.join("home-empty");
    let full_home = work.join("home-100k");
    for home in [&empty_home, &full_home] {
        std::fs::create_dir_all(home.join("data")).expect("home");
    }
    rt.block_on(async {
        let sb = Sandbox::start(SandboxOptions {
            port: 0,
            data: Some(empty_home.join("data/sandbox.sqlite3")),
            seed_demo_users: false,
        })
        .await
        .expect("sandbox");
        sb.shutdown().await;
    });
    // The million users of `million_rows`, when it ran.
    let million_db = work.join("million.sqlite3");
    let million_home = work.join("home-1m");
    let million = want("memory") && million_db.is_file();
    let mut homes: Vec<&PathBuf> = vec![&empty_home];
    if want("memory") {
        std::fs::copy(users_db, full_home.join("data/sandbox.sqlite3")).expect("copy users");
        homes.push(&full_home);
    }
    if million {
        std::fs::create_dir_all(million_home.join("data")).expect("home");
        std::fs::copy(&million_db, million_home.join("data/sandbox.sqlite3"))
            .expect("copy the million");
        homes.push(&million_home);
    }
    // A first launch creates the config and connections; the measured ones are later starts.
    for home in &homes {
        let (w, _) = process::Window::start_painted(&x, &keydeck, &[], home);
        w.wait_idle(Duration::from_secs(2), Duration::from_secs(30));
    }

    let mut rows = Vec::new();
    let bare_home = work.join("home-bare");
    let startup = |bin: &Path, home: &Path| {
        median(
            (0..RUNS)
                .map(|_| {
                    process::Window::start_painted(&x, bin, &[], home)
                        .1
                        .as_secs_f64()
                        * 1e3
                })
                .collect(),
        )
    };
    if want("startup") {
        let app_ms = startup(&keydeck, &empty_home);
        let bare_ms = startup(&bare, &bare_home);
        rows.push(Row {
            figure: "start-up (process start to first painted frame, Xvfb)".into(),
            value: format!("{app_ms:.0} ms"),
            reference: format!("bare eframe window: {bare_ms:.0} ms"),
            target: "≤ 1.5 × bare; ≤ 400 ms".into(),
            verdict: format!(
                "{:.2}× → {}",
                app_ms / bare_ms,
                pass(app_ms <= 1.5 * bare_ms && app_ms <= 400.0)
            ),
        });
    }

    let idle = |bin: &Path, home: &Path, args: &[&str]| {
        median(
            (0..3)
                .map(|_| {
                    let (w, _) = process::Window::start_painted(&x, bin, args, home);
                    w.wait_idle(Duration::from_secs(3), Duration::from_secs(60));
                    let before = w.cpu_secs();
                    std::thread::sleep(IDLE_WINDOW);
                    w.cpu_secs() - before
                })
                .collect(),
        )
    };
    if want("idle") {
        let app_idle = idle(&keydeck, &empty_home, &[]);
        let bare_idle = idle(&bare, &bare_home, &[]);
        rows.push(Row {
            figure: format!("idle CPU over {} s, window open", IDLE_WINDOW.as_secs()),
            value: format!("{app_idle:.2} s"),
            reference: format!("bare eframe window: {bare_idle:.2} s"),
            target: "≤ 0.05 s".into(),
            verdict: pass(app_idle <= 0.05).into(),
        });
    }

    // `logged`: what the app logs once the list is loaded (whole) or paged.
    let peak = |home: &Path, logged: &str| {
        median(
            (0..3)
                .map(|_| {
                    let (w, _) =
                        process::Window::start_painted(&x, &keydeck, &["--tab", "users"], home);
                    w.wait_idle(Duration::from_secs(3), Duration::from_secs(120));
                    assert!(log_says(home, logged), "the app did not log “{logged}”");
                    w.peak_rss_mb()
                })
                .collect(),
        )
    };
    if want("memory") {
        let none_mb = peak(&empty_home, "all 0 users loaded");
        let full_mb = peak(&full_home, &format!("all {FETCH_USERS} users loaded"));
        rows.push(Row {
            figure: "memory, peak RSS, Users tab (Xvfb, software GL)".into(),
            value: format!("100k users: {full_mb:.0} MB (+{:.0} MB)", full_mb - none_mb),
            reference: format!("no users: {none_mb:.0} MB"),
            target: "≤ +60 MB".into(),
            verdict: pass(full_mb - none_mb <= 60.0).into(),
        });
        if million {
            let million_mb = peak(&million_home, "users, paged");
            rows.push(Row {
                figure: "memory, peak RSS, Users tab at 1,000,000 users (paged; Xvfb)".into(),
                value: format!(
                    "1,000,000 users: {million_mb:.0} MB (+{:.0} MB)",
                    million_mb - none_mb
                ),
                reference: format!("no users: {none_mb:.0} MB"),
                target: "≤ +80 MB".into(),
                verdict: pass(million_mb - none_mb <= 80.0).into(),
            });
        }
    }
    rows
}

const IDLE_WINDOW: Duration = Duration::from_secs(10);

/// True when a log file of the app in `home` holds `text`.
fn log_says(home: &Path, text: &str) -> bool {
    std::fs::read_dir(home.join("data/logs"))
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| std::fs::read_to_string(e.path()).is_ok_and(|s| s.contains(text)))
}

fn skipped_row(figure: &str, why: &str) -> Row {
    Row {
        figure: figure.into(),
        value: "—".into(),
        reference: why.into(),
        target: "—".into(),
        verdict: "skipped".into(),
    }
}

async fn full_fetch(c: &CometChatClient, base: &str, key: &str) -> Vec<Row> {
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
