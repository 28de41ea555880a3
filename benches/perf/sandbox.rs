//! The sandbox's own figures: a million users seeded, a list page deep in them against the
//! first, `searchKey` over them; and bulk tokens against wrk doing the same requests.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use futures::StreamExt;
use keydeck::providers::cometchat::{CometChatClient, NewAuthToken};
use keydeck::sandbox::{Sandbox, SandboxOptions};

use super::{RUNS, Row, client, have, median, pass};

const MILLION: u64 = 1_000_000;
const DEEP_PAGE: u64 = 9_000;
const PER_PAGE: u64 = 100;
/// Requests per latency figure (after as many again to warm up); the median is reported.
const SAMPLES: usize = 21;

/// Seeds a million users into a sandbox on a data file, then times pages and searches over
/// loopback HTTP, one request at a time.
pub fn million_rows(rt: &tokio::runtime::Runtime, dir: &Path) -> Vec<Row> {
    let (sb, mut rows) = rt.block_on(async {
        let sb = Sandbox::start(SandboxOptions {
            port: 0,
            data: Some(dir.join("million.sqlite3")),
            seed_demo_users: false,
        })
        .await
        .expect("sandbox");
        let app = sb.info().cometchat.apps[0].clone();
        sb.set_rate_limit(&app.app_id, None);
        let started = Instant::now();
        let report = sb.seed_users(None, MILLION).await.expect("seeded");
        let seed_secs = started.elapsed().as_secs_f64();
        assert_eq!(report.added, MILLION);
        eprintln!("seeded {MILLION} users ({seed_secs:.1} s)");
        let http = reqwest::Client::new();
        let get = |query: String| {
            let http = http.clone();
            let url = format!("{}/users?{query}", app.base_url);
            let key = app.rest_api_key.clone();
            async move { latency(&http, &url, &key).await }
        };
        let first = get(format!("perPage={PER_PAGE}&page=1")).await;
        let deep = get(format!("perPage={PER_PAGE}&page={DEEP_PAGE}")).await;
        let offset_deep = get(format!("perPage={PER_PAGE}&page={DEEP_PAGE}&role=default")).await;
        let by_uid = get("searchKey=user-09876".into()).await;
        let by_name = get("searchKey=alice".into()).await;
        let by_full_name = get("searchKey=alice%20ch".into()).await;
        let ms = |d: f64| d * 1e3;
        let ratio = deep / first;
        let worst_search = by_uid.max(by_name).max(by_full_name);
        let rows = vec![
            Row {
                figure: "sandbox: seed 1,000,000 users (`--seed-users`, one transaction, data file)"
                    .into(),
                value: format!("{seed_secs:.1} s"),
                reference: "before: 100,000 users through curl, 510 s".into(),
                target: "≤ 30 s".into(),
                verdict: pass(seed_secs <= 30.0).into(),
            },
            Row {
                figure: format!(
                    "sandbox: list page {DEEP_PAGE} vs page 1 (perPage {PER_PAGE}, 1,000,000 users, HTTP)"
                ),
                value: format!("page {DEEP_PAGE}: {:.2} ms", ms(deep)),
                reference: format!(
                    "page 1: {:.2} ms; OFFSET paging (role filter), page {DEEP_PAGE}: {:.1} ms",
                    ms(first),
                    ms(offset_deep)
                ),
                target: "≤ 2 × page 1".into(),
                verdict: format!("{ratio:.2}× → {}", pass(ratio <= 2.0)),
            },
            Row {
                figure: "sandbox: searchKey at 1,000,000 (uid prefix · name word · name prefix)"
                    .into(),
                value: format!(
                    "{:.2} ms · {:.2} ms · {:.2} ms",
                    ms(by_uid),
                    ms(by_name),
                    ms(by_full_name)
                ),
                reference: format!("unfiltered page 1: {:.2} ms", ms(first)),
                target: "≤ 50 ms".into(),
                verdict: pass(worst_search <= 0.050).into(),
            },
        ];
        (sb, rows)
    });
    // The Users tab on the same million (the data file is then what the memory figure opens).
    rows.extend(super::users_million::rows(rt, &sb));
    rt.block_on(sb.shutdown());
    rows
}

/// The median time of [`SAMPLES`] requests for `url` (body read), in seconds.
async fn latency(http: &reqwest::Client, url: &str, key: &str) -> f64 {
    let mut times = Vec::new();
    for i in 0..2 * SAMPLES {
        let started = Instant::now();
        let r = http
            .get(url)
            .header("apikey", key)
            .send()
            .await
            .expect("request");
        assert!(r.status().is_success(), "{url}: {}", r.status());
        let body = r.bytes().await.expect("body");
        assert!(body.len() > 2);
        if i >= SAMPLES {
            times.push(started.elapsed().as_secs_f64());
        }
    }
    median(times)
}

// ---------------------------------------------------------------------------------------------
// Bulk tokens

const BULK_TOKENS: usize = 10_000;
const BULK_CONCURRENCY: usize = 8;
/// wrk's threads (its `-t`); each takes every other uid.
const WRK_THREADS: usize = 2;

/// 10,000 auth tokens, one per uid, issued by `CometChatClient` at concurrency 8; against wrk
/// issuing the same 10,000 requests (the same uids, same concurrency, the rate limit lifted for
/// both), timed from its first request to its 10,000th answer by its own script.
pub async fn bulk_tokens(sb: &Sandbox) -> Row {
    // One seeded user in 997 is deactivated (and cannot have tokens): 10,010 hold 10,000.
    sb.seed_users(None, 10_010).await.expect("seeded");
    let uids: Vec<String> = (1..=10_010u64)
        .filter(|i| i % 997 != 0)
        .map(|i| format!("user-{i:07}"))
        .collect();
    assert_eq!(uids.len(), BULK_TOKENS);
    let (c, base, key) = client(sb);
    // Keydeck and wrk take turns, so that whatever else the machine does weighs on both.
    let wrk = have("wrk");
    let (mut app_rates, mut wrk_rates) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        app_rates.push(issue_all(&c, &uids).await);
        if wrk {
            wrk_rates.extend(wrk_fixed(&base, &key, &uids));
        }
    }
    let app = median(app_rates);
    let ceiling = (!wrk_rates.is_empty()).then(|| median(wrk_rates));
    let curl = have("curl").then(|| curl_loop(&base, &key, &uids[..100]));
    let (reference, verdict) = match (ceiling, curl) {
        (Some(w), Some(cu)) => (
            format!(
                "wrk, same {BULK_TOKENS} requests: {w:.0}/s (c={BULK_CONCURRENCY}); curl loop {cu:.0}/s"
            ),
            format!(
                "{:.2}× wrk, {:.0}× curl → {}",
                app / w,
                app / cu,
                pass(app / w >= 0.8 && app / cu >= 20.0)
            ),
        ),
        _ => ("wrk or curl missing".into(), "skipped".into()),
    };
    Row {
        figure: format!(
            "bulk tokens ({BULK_TOKENS} uids, c={BULK_CONCURRENCY}, rate limit lifted for both)"
        ),
        value: format!("{app:.0} tokens/s"),
        reference,
        target: "≥ 0.8 × wrk; ≥ 20 × curl".into(),
        verdict,
    }
}

/// One token for each uid through the client, [`BULK_CONCURRENCY`] in flight: tokens a second.
async fn issue_all(c: &CometChatClient, uids: &[String]) -> f64 {
    let started = Instant::now();
    let ok = futures::stream::iter(uids)
        .map(|uid| {
            let c = c.clone();
            async move {
                c.create_auth_token(
                    uid,
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
    assert_eq!(ok, uids.len(), "every token issued");
    uids.len() as f64 / started.elapsed().as_secs_f64()
}

/// A sequential curl loop over `uids`: requests a second.
fn curl_loop(base: &str, key: &str, uids: &[String]) -> f64 {
    let started = Instant::now();
    for uid in uids {
        let _ = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-X", "POST", "-H"])
            .arg(format!("apikey: {key}"))
            .args([
                "-H",
                "content-type: application/json",
                "-d",
                "{\"force\":true}",
            ])
            .arg(format!("{base}/users/{uid}/auth_tokens"))
            .status();
    }
    uids.len() as f64 / started.elapsed().as_secs_f64()
}

/// The Lua script that makes wrk issue one `POST …/users/{uid}/auth_tokens` per uid and stop:
/// each thread takes every other uid, stamps its first request and its last expected answer
/// (`gettimeofday` through LuaJIT's FFI), and stops; `done` prints the requests answered and
/// the time from the first thread's start to the last thread's stop. wrk itself only knows
/// durations, and its own Requests/sec would divide by the whole `-d`.
fn fixed_script(path: &str, uids: &[String]) -> String {
    let list = uids
        .iter()
        .map(|u| format!("\"{u}\""))
        .collect::<Vec<_>>()
        .join(",");
    format!(
        r#"local ffi = require("ffi")
ffi.cdef[[
typedef struct {{ long tv_sec; long tv_usec; }} kd_timeval;
int gettimeofday(kd_timeval *tv, void *tz);
]]
local function now_us()
  local tv = ffi.new("kd_timeval")
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) * 1000000 + tonumber(tv.tv_usec)
end
local uids = {{{list}}}
local threads = {{}}
local made = 0
wrk.method = "POST"
wrk.body = '{{"force":true}}'
wrk.headers["Content-Type"] = "application/json"
function setup(thread)
  thread:set("id", made)
  made = made + 1
  table.insert(threads, thread)
end
function init(args)
  next_i = id + 1
  quota = 0
  for i = id + 1, #uids, {WRK_THREADS} do quota = quota + 1 end
  got = 0
  bad = 0
end
function request()
  if started == nil then started = now_us() end
  local i = next_i
  -- After its quota a thread may still be asked for a request on a free connection before
  -- its last answers arrive: it repeats one (not counted).
  if i > #uids then i = id + 1 end
  next_i = next_i + {WRK_THREADS}
  return wrk.format(nil, "{path}/users/" .. uids[i] .. "/auth_tokens")
end
function response(status, headers, body)
  got = got + 1
  if status ~= 200 then bad = bad + 1 end
  if got == quota then
    stopped = now_us()
    wrk.thread:stop()
  end
end
function done(summary, latency, requests)
  local first, last, n, errors = nil, nil, 0, 0
  for _, t in ipairs(threads) do
    local s, e = t:get("started"), t:get("stopped")
    if s == nil or e == nil then
      io.write("keydeck-fixed: incomplete\n")
      return
    end
    if first == nil or s < first then first = s end
    if last == nil or e > last then last = e end
    n = n + t:get("got")
    errors = errors + t:get("bad")
  end
  io.write(string.format("keydeck-fixed: %d %d %d\n", n, errors, last - first))
end
"#
    )
}

/// wrk issuing exactly one request per uid at [`BULK_CONCURRENCY`]: requests a second, from its
/// script's own clock.
fn wrk_fixed(base: &str, key: &str, uids: &[String]) -> Option<f64> {
    let url = url::Url::parse(base).ok()?;
    let dir = std::env::temp_dir().join(format!("keydeck-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let script = dir.join("fixed.lua");
    std::fs::write(&script, fixed_script(url.path(), uids)).ok()?;
    let out = Command::new("wrk")
        .args(["-t", &WRK_THREADS.to_string()])
        .args(["-c", &BULK_CONCURRENCY.to_string()])
        .args(["-d", "4s", "-H", &format!("apikey: {key}"), "-s"])
        .arg(&script)
        .arg(base)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find_map(|l| l.strip_prefix("keydeck-fixed: "));
    let fields: Vec<u64> = line?.split(' ').filter_map(|f| f.parse().ok()).collect();
    let [n, errors, micros] = fields[..] else {
        eprintln!("wrk did not finish its {} requests:\n{text}", uids.len());
        return None;
    };
    if errors > 0 || n != uids.len() as u64 {
        eprintln!("wrk: {n} answers, {errors} not 200");
    }
    Some(n as f64 / Duration::from_micros(micros).as_secs_f64())
}
