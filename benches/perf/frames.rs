//! Frame time of the Users tab, headless: the whole app (`KeydeckApp::ui_root`) on a plain
//! `egui::Context`, one UI pass plus tessellation per frame, timed in CPU time of the UI thread.
//! The users come from the sandbox over loopback, loaded by the tab itself.

use std::time::{Duration, Instant};

use cpu_time::ThreadTime;
use egui::{
    Event, Key, Modifiers, MouseWheelSource, MouseWheelUnit, Pos2, RawInput, Rect, TouchPhase, vec2,
};
use keydeck::config::{Config, Connection, ConnectionKind, Environment, FIELD_API_KEY};
use keydeck::sandbox::Sandbox;
use keydeck::secret::Secret;
use keydeck::ui::tabs::users::UsersTab;
use keydeck::ui::{AppEnv, Keychain, KeydeckApp, Tab, ThemeChoice, UiState};
use keydeck::vault::Vault;
use tokio::runtime::Handle;

const SCREEN: egui::Vec2 = vec2(1400.0, 900.0);
/// Where the pointer rests while scrolling: over the users table.
const OVER_TABLE: Pos2 = Pos2::new(500.0, 520.0);

pub struct Headless {
    ctx: egui::Context,
    pub app: KeydeckApp,
    time: f64,
    _dir: tempfile::TempDir,
}

impl Headless {
    /// The app on the Users & tokens tab, connected to the sandbox's demo app.
    pub fn new(rt: &Handle, sb: &Sandbox) -> Headless {
        let (app, dir) = bench_app(rt, sb, Tab::Users);
        Headless {
            ctx: egui::Context::default(),
            app,
            time: 0.0,
            _dir: dir,
        }
    }

    /// One frame at 60 Hz: UI pass and tessellation. Returns the UI thread's CPU time and a
    /// checksum of what was drawn.
    pub fn frame(&mut self, events: Vec<Event>) -> (Duration, u64) {
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
        let output = self.ctx.run_ui(input, |ui| app.ui_root(ui));
        let primitives = self.ctx.tessellate(output.shapes, output.pixels_per_point);
        let spent = started.elapsed();
        (spent, checksum(&primitives))
    }

    /// Steps until the tab has loaded `n` users and applied its filter.
    pub fn wait_loaded(&mut self, n: usize) {
        let started = Instant::now();
        while self.app.tabs.users.loaded_users() != n || self.app.tabs.users.is_filtering() {
            assert!(
                started.elapsed() < Duration::from_secs(300),
                "the Users tab loaded {} of {n} users in 300 s",
                self.app.tabs.users.loaded_users()
            );
            self.frame(Vec::new());
            std::thread::sleep(Duration::from_millis(2));
        }
        // Let the load's last repaint and any animation settle.
        for _ in 0..30 {
            self.frame(Vec::new());
        }
    }

    /// `frames` frames while scrolling the table: down for 40 frames, up for 40, and so on.
    /// Returns each frame's CPU time, and whether the picture changed (it scrolled).
    pub fn scroll(&mut self, frames: usize) -> (Vec<Duration>, bool) {
        let (_, before) = self.frame(vec![Event::PointerMoved(OVER_TABLE)]);
        let mut times = Vec::with_capacity(frames);
        let mut changed = false;
        for i in 0..frames {
            let down = (i / 40) % 2 == 0;
            let wheel = Event::MouseWheel {
                unit: MouseWheelUnit::Point,
                delta: vec2(0.0, if down { -48.0 } else { 48.0 }),
                phase: TouchPhase::Move,
                source: MouseWheelSource::Unknown,
                modifiers: Modifiers::NONE,
            };
            let (t, sum) = self.frame(vec![Event::PointerMoved(OVER_TABLE), wheel]);
            changed |= sum != before;
            times.push(t);
        }
        (times, changed)
    }

    /// Ctrl+F: focuses the search field.
    pub fn focus_search(&mut self) {
        self.frame(vec![key(Key::F, Modifiers::COMMAND, true)]);
        self.frame(vec![key(Key::F, Modifiers::COMMAND, false)]);
        self.frame(Vec::new());
    }

    /// One keystroke in the focused search field, then frames until the filtered list is
    /// complete. Returns the CPU time of those frames, their number and the longest one.
    pub fn keystroke(&mut self, event: Vec<Event>) -> Keystroke {
        let mut frames = vec![self.frame(event).0];
        while self.app.tabs.users.is_filtering() {
            frames.push(self.frame(Vec::new()).0);
            assert!(frames.len() < 1_000, "the filter never finished");
        }
        Keystroke {
            total: frames.iter().sum(),
            frames: frames.len(),
            longest: frames.iter().copied().max().unwrap_or_default(),
            shown: self.app.tabs.users.shown_users(),
        }
    }

    /// Steps (without input) until `done` says so of the Users tab, for at most 60 s.
    fn step_until(&mut self, what: &str, mut done: impl FnMut(&UsersTab) -> bool) {
        let started = Instant::now();
        loop {
            self.frame(Vec::new());
            if done(&self.app.tabs.users) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{what}: not in 60 s ({:?})",
                self.app.tabs.users.drawn_rows()
            );
            std::thread::sleep(Duration::from_micros(500));
        }
    }

    /// Steps from the app's first frame until the Users tab has painted a first screenful
    /// of users (`rows` of them, no placeholder). Returns the wall time.
    pub fn first_screen(&mut self, rows: usize) -> Duration {
        let started = Instant::now();
        self.step_until("a first screenful", |u| {
            let d = u.drawn_rows();
            d.rows >= rows && d.placeholders == 0
        });
        started.elapsed()
    }

    /// Pastes `text` into the (focused) search field, then steps until the server's matches
    /// are painted: `matches` rows counted, the first screenful of them drawn. Returns the
    /// wall time from the paste.
    pub fn paste_search(&mut self, text: &str, matches: impl Fn(u64) -> bool) -> Duration {
        let started = Instant::now();
        self.frame(vec![Event::Paste(text.to_owned())]);
        self.step_until(&format!("the search for {text} painted"), |u| {
            u.paged_rows().is_some_and(&matches) && all_drawn(u)
        });
        started.elapsed()
    }

    /// Ctrl+A and Backspace in the focused search field, then frames until the whole list
    /// is painted again.
    pub fn clear_search(&mut self) {
        self.frame(vec![key(Key::A, Modifiers::COMMAND, true)]);
        self.frame(vec![key(Key::A, Modifiers::COMMAND, false)]);
        self.frame(vec![key(Key::Backspace, Modifiers::NONE, true)]);
        self.frame(vec![key(Key::Backspace, Modifiers::NONE, false)]);
        self.settle();
    }

    /// Frames until every row drawn is a user.
    pub fn settle(&mut self) {
        self.step_until("settled", all_drawn);
    }

    /// The users table's vertical scroll bar, from the last frame's widgets: the tall, thin
    /// one that senses drags.
    fn scroll_bar(&self) -> Option<Rect> {
        self.ctx.viewport(|v| {
            v.prev_pass
                .widgets
                .layers()
                .flat_map(|(_, w)| w.iter())
                .filter(|w| {
                    w.sense.senses_drag()
                        && w.rect.width() <= 24.0
                        && w.rect.height() >= 200.0
                        && w.rect.left() > SCREEN.x / 2.0
                })
                .map(|w| w.rect)
                .max_by(|a, b| a.height().total_cmp(&b.height()))
        })
    }

    /// Presses the scroll bar at `fraction` of its travel (the handle jumps there, centred on
    /// the pointer) and releases it, then steps until the rows there are painted. Returns the
    /// wall time from the press, the first row then shown, and whether a frame drew nothing
    /// at all (no user and no placeholder) while waiting.
    pub fn jump(&mut self, fraction: f32) -> (Duration, bool) {
        let bar = self.scroll_bar().expect("the users table has a scroll bar");
        let handle = 32.0;
        let at = Pos2::new(
            bar.center().x,
            bar.top() + handle / 2.0 + fraction * (bar.height() - handle),
        );
        let button = |pressed| Event::PointerButton {
            pos: at,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: Modifiers::NONE,
        };
        let started = Instant::now();
        self.frame(vec![Event::PointerMoved(at), button(true)]);
        self.frame(vec![button(false)]);
        let mut blank = false;
        self.step_until(&format!("the jump to {fraction} painted"), |u| {
            let d = u.drawn_rows();
            blank |= d.rows + d.placeholders == 0;
            all_drawn(u)
        });
        (started.elapsed(), blank)
    }
}

/// Every row drawn is a user: no placeholder left.
fn all_drawn(u: &UsersTab) -> bool {
    let d = u.drawn_rows();
    d.rows > 0 && d.placeholders == 0
}

/// The whole app on `tab`, with one connection to the sandbox's demo app (its fullAccess key in
/// an in-memory keychain) and its config and data in the returned folder: what each headless
/// figure drives.
pub fn bench_app(rt: &Handle, sb: &Sandbox, tab: Tab) -> (KeydeckApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let app_info = &sb.info().cometchat.apps[0];
    let config_dir = dir.path().join("config");
    Config {
        connections: vec![Connection {
            id: "bench".to_owned(),
            label: "Bench".to_owned(),
            kind: ConnectionKind::CometChatApp {
                app_id: app_info.app_id.clone(),
                region: app_info.region.clone(),
            },
            environment: Environment::Dev,
            base_url: Some(app_info.base_url.clone()),
            embedded_sandbox: false,
        }],
        retiring_keys: Vec::new(),
        selected_connection: Some("bench".to_owned()),
    }
    .save(&config_dir)
    .expect("config saved");
    let vault = Vault::memory();
    vault
        .store(
            &Vault::account("bench", FIELD_API_KEY),
            &Secret::new(app_info.rest_api_key.clone()),
        )
        .expect("key stored");
    let mut app = KeydeckApp::new(AppEnv {
        rt: rt.clone(),
        config_dir,
        data_dir: dir.path().join("data"),
        keychain: Keychain::Given(vault),
        start_embedded_sandbox: false,
    });
    app.restore_ui_state(UiState {
        tab,
        theme: ThemeChoice::Light,
        ..UiState::default()
    });
    (app, dir)
}

pub struct Keystroke {
    pub total: Duration,
    pub frames: usize,
    pub longest: Duration,
    pub shown: usize,
}

pub fn key(key: Key, modifiers: Modifiers, pressed: bool) -> Event {
    Event::Key {
        key,
        physical_key: None,
        pressed,
        repeat: false,
        modifiers,
    }
}

/// A cheap fingerprint of the tessellated picture: vertex positions and counts.
pub fn checksum(primitives: &[egui::ClippedPrimitive]) -> u64 {
    let mut sum = 0u64;
    for p in primitives {
        if let egui::epaint::Primitive::Mesh(mesh) = &p.primitive {
            sum = sum
                .wrapping_mul(31)
                .wrapping_add(mesh.vertices.len() as u64);
            for v in mesh.vertices.iter().step_by(7) {
                sum = sum
                    .wrapping_mul(1_000_003)
                    .wrapping_add(u64::from(v.pos.y.to_bits()));
            }
        }
    }
    sum
}
