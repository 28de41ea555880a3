//! The Hygiene tab at 10,000 keys (issue 14: the inventory "stays smooth with 10,000 keys"):
//! frame time while scrolling the inventory, with and without a filter applied, and what a
//! keystroke in its filter costs. Measured as `frames.rs` measures the Users tab: the whole app
//! (`KeydeckApp::ui_root`) on a plain `egui::Context`, one UI pass plus tessellation per frame,
//! in CPU time of the UI thread.
//!
//! The keys are real: the sandbox's demo app is given 10,000 API keys directly through its Rust
//! API (`Sandbox::seed_api_keys`, one transaction, created a day apart over two years, so most
//! are older than the 90-day policy and are findings too), and the tab lists them itself over
//! loopback, as it would a real app's. The filter field is found by its accessible name and
//! clicked, and keystrokes are typed into it, as a user would.

use std::time::{Duration, Instant};

use cpu_time::ThreadTime;
use egui::{
    Event, Key, Modifiers, MouseWheelSource, MouseWheelUnit, PointerButton, Pos2, RawInput, Rect,
    TouchPhase, vec2,
};
use keydeck::sandbox::{Sandbox, SandboxOptions};
use keydeck::ui::{KeydeckApp, Tab};
use tokio::runtime::{Handle, Runtime};

use super::{Row, median, pass};

const KEYS: usize = 10_000;
const SCREEN: egui::Vec2 = vec2(1400.0, 900.0);
const FRAMES_PER_RUN: usize = 240;
const RUNS: usize = 5;
/// The figure's target: a frame of the tab at 10,000 keys.
const FRAME_TARGET_MS: f64 = 1.0;
/// A keystroke to a filtered list, as the Users tab's search is judged.
const KEYSTROKE_TARGET_MS: f64 = 8.0;

struct Headless {
    ctx: egui::Context,
    app: KeydeckApp,
    time: f64,
    /// Accessible names → their bounds, from the last frame.
    named: Vec<(String, Rect)>,
    _dir: tempfile::TempDir,
}

impl Headless {
    /// The app on the Hygiene tab, connected to the sandbox's demo app with its fullAccess key.
    fn new(rt: &Handle, sb: &Sandbox) -> Headless {
        let (app, dir) = super::frames::bench_app(rt, sb, Tab::Hygiene);
        let ctx = egui::Context::default();
        ctx.enable_accesskit();
        Headless {
            ctx,
            app,
            time: 0.0,
            named: Vec::new(),
            _dir: dir,
        }
    }

    /// One frame at 60 Hz: UI pass and tessellation, timed in CPU time of this thread. Returns
    /// that time and a fingerprint of what was drawn. The accessibility tree is read after the
    /// clock stops.
    fn frame(&mut self, events: Vec<Event>) -> (Duration, u64) {
        self.time += 1.0 / 60.0;
        let input = RawInput {
            screen_rect: Some(Rect::from_min_size(Pos2::ZERO, SCREEN)),
            time: Some(self.time),
            predicted_dt: 1.0 / 60.0,
            events,
            focused: true,
            ..RawInput::default()
        };
        let started = ThreadTime::now();
        let app = &mut self.app;
        let mut output = self.ctx.run_ui(input, |ui| app.ui_root(ui));
        let primitives = self.ctx.tessellate(output.shapes, output.pixels_per_point);
        let spent = started.elapsed();
        // Nothing is painted: the font atlas's updates are dropped (debug builds check).
        output.textures_delta.clear();
        if let Some(update) = output.platform_output.accesskit_update {
            self.named = update
                .nodes
                .iter()
                .filter_map(|(_, n)| {
                    let label = n.label()?.to_owned();
                    let b = n.bounds()?;
                    let r = Rect::from_min_max(
                        Pos2::new(b.x0 as f32, b.y0 as f32),
                        Pos2::new(b.x1 as f32, b.y1 as f32),
                    );
                    Some((label, r))
                })
                .collect();
        }
        (spent, super::frames::checksum(&primitives))
    }

    fn inventory_len(&self) -> usize {
        self.app.tabs.hygiene.inventory.rows.len()
    }

    /// Steps until the tab has gathered at least `n` keys. Returns the longest frame meanwhile
    /// (the one that settles the gathering: rows and findings computed on the UI thread).
    fn wait_gathered(&mut self, n: usize) -> Duration {
        let started = Instant::now();
        let mut longest = Duration::ZERO;
        while self.inventory_len() < n || self.app.tabs.hygiene.inventory.is_gathering() {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "the Hygiene tab gathered {} of {n} keys in 120 s",
                self.inventory_len()
            );
            longest = longest.max(self.frame(Vec::new()).0);
            std::thread::sleep(Duration::from_millis(2));
        }
        for _ in 0..30 {
            self.frame(Vec::new());
        }
        longest
    }

    /// Where the widget with this accessible name is, scrolling the tab down until it is on
    /// screen with room below it (the table under the filter field).
    fn find(&mut self, label: &str) -> Rect {
        for _ in 0..400 {
            if let Some((_, r)) = self.named.iter().find(|(l, _)| l == label)
                && r.max.y < SCREEN.y - 200.0
                && r.min.y > 0.0
            {
                return *r;
            }
            self.frame(vec![
                Event::PointerMoved(Pos2::new(SCREEN.x - 30.0, 200.0)),
                wheel(-120.0),
            ]);
        }
        let seen: Vec<_> = self.named.iter().take(40).collect();
        panic!(
            "{label} never came into view ({} keys, {} findings): {seen:?}",
            self.inventory_len(),
            self.app.tabs.hygiene.inventory.findings.len()
        );
    }

    /// Clicks the widget with this accessible name.
    fn click(&mut self, label: &str) {
        let at = self.find(label).center();
        for pressed in [true, false] {
            self.frame(vec![
                Event::PointerMoved(at),
                Event::PointerButton {
                    pos: at,
                    button: PointerButton::Primary,
                    pressed,
                    modifiers: Modifiers::NONE,
                },
            ]);
        }
        self.frame(Vec::new());
    }

    /// `frames` frames while scrolling the table under `over`: down for 40 frames, up for 40,
    /// and so on. Returns each frame's CPU time, and whether the picture changed.
    fn scroll(&mut self, over: Pos2, frames: usize) -> (Vec<Duration>, bool) {
        let (_, before) = self.frame(vec![Event::PointerMoved(over)]);
        let mut times = Vec::with_capacity(frames);
        let mut changed = false;
        for i in 0..frames {
            let down = (i / 40) % 2 == 0;
            let (t, sum) = self.frame(vec![
                Event::PointerMoved(over),
                wheel(if down { -48.0 } else { 48.0 }),
            ]);
            changed |= sum != before;
            times.push(t);
        }
        (times, changed)
    }
}

fn wheel(dy: f32) -> Event {
    Event::MouseWheel {
        unit: MouseWheelUnit::Point,
        delta: vec2(0.0, dy),
        phase: TouchPhase::Move,
        source: MouseWheelSource::Unknown,
        modifiers: Modifiers::NONE,
    }
}

fn key(key: Key, pressed: bool) -> Event {
    Event::Key {
        key,
        physical_key: None,
        pressed,
        repeat: false,
        modifiers: Modifiers::NONE,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Median frame of `RUNS` runs of scrolling, and the worst run's 95th percentile.
fn scrolling(ui: &mut Headless, over: Pos2) -> (f64, f64) {
    let mut medians = Vec::new();
    let mut p95s = Vec::new();
    for _ in 0..RUNS {
        let (times, changed) = ui.scroll(over, FRAMES_PER_RUN);
        assert!(changed, "scrolling did not move the inventory");
        let mut t: Vec<f64> = times.into_iter().map(ms).collect();
        medians.push(median(t.clone()));
        t.sort_by(f64::total_cmp);
        p95s.push(t[t.len() * 95 / 100]);
    }
    (median(medians), p95s.into_iter().fold(0.0, f64::max))
}

/// The two rows: frame time at 10,000 keys (and with a filter applied), keystrokes in the filter.
pub fn inventory_rows(rt: &Runtime) -> Vec<Row> {
    let sb = rt
        .block_on(Sandbox::start(SandboxOptions {
            port: 0,
            data: None,
            seed_demo_users: false,
        }))
        .expect("sandbox");
    rt.block_on(sb.seed_api_keys(None, KEYS as u64))
        .expect("keys seeded");
    let mut ui = Headless::new(rt.handle(), &sb);
    let settle = ui.wait_gathered(KEYS);
    let total = ui.inventory_len();
    let findings = ui.app.tabs.hygiene.inventory.findings.len();

    // Scroll over the table's body, just under the filter field.
    let field = ui.find("Filter keys");
    let over = Pos2::new(field.min.x + 300.0, field.max.y + 120.0);
    let (plain, plain_p95) = scrolling(&mut ui, over);

    // Keystrokes: narrowing ("1", "12", "123", "1234") and widening again (Backspace four
    // times). Each is one frame: the filter runs within it.
    ui.click("Filter keys");
    let mut strokes = Vec::new();
    for _ in 0..RUNS {
        for ch in ["1", "2", "3", "4"] {
            strokes.push(ms(ui.frame(vec![Event::Text(ch.to_owned())]).0));
        }
        for _ in 0..4 {
            let (t, _) = ui.frame(vec![key(Key::Backspace, true), key(Key::Backspace, false)]);
            strokes.push(ms(t));
        }
    }
    let stroke_median = median(strokes.clone());
    let stroke_worst = strokes.iter().copied().fold(0.0, f64::max);

    // Scrolling with a filter applied ("1": most keys still shown).
    ui.frame(vec![Event::Text("1".to_owned())]);
    let (filtered, filtered_p95) = scrolling(&mut ui, over);
    rt.block_on(sb.shutdown());

    let worst = plain.max(filtered);
    vec![
        Row {
            figure: format!(
                "frame time, Hygiene tab, {} keys and {} findings, scrolling (UI pass + tessellation, CPU)",
                keydeck::words::thousands(total as u64),
                keydeck::words::thousands(findings as u64)
            ),
            value: format!(
                "median {plain:.2} ms (p95 {plain_p95:.2}); filtered: {filtered:.2} ms (p95 {filtered_p95:.2})"
            ),
            reference: format!("the frame that settles the gathering: {:.1} ms", ms(settle)),
            target: format!("≤ {FRAME_TARGET_MS:.1} ms"),
            verdict: format!("{worst:.2} ms → {}", pass(worst <= FRAME_TARGET_MS)),
        },
        Row {
            figure: format!(
                "inventory filter, keystroke ({} keys; one frame)",
                keydeck::words::thousands(total as u64)
            ),
            value: format!("median {stroke_median:.2} ms, worst {stroke_worst:.2} ms"),
            reference: "—".into(),
            target: format!("≤ {KEYSTROKE_TARGET_MS:.0} ms (as the Users tab's search)"),
            verdict: pass(stroke_worst <= KEYSTROKE_TARGET_MS).into(),
        },
    ]
}
