//! The start-up probe behind `cargo bench --bench perf`: with `KEYDECK_FIRST_FRAME_PROBE=1` in
//! the environment, the app prints `keydeck: first frame painted` on stdout when its second
//! frame begins, which is after the first one has been painted and shown. The bench times it
//! from process start, and does the same for `examples/bare_eframe.rs`.

use std::io::Write;

/// The environment variable that turns the probe on.
pub const PROBE_VAR: &str = "KEYDECK_FIRST_FRAME_PROBE";

/// The line printed once the first frame is on screen.
pub const PROBE_LINE: &str = "keydeck: first frame painted";

/// Counts frames until the first has been painted, then says so once.
#[derive(Debug, Default)]
pub struct FirstFrameProbe {
    enabled: bool,
    frames: u32,
}

impl FirstFrameProbe {
    /// On when [`PROBE_VAR`] is `1`.
    pub fn from_env() -> Self {
        Self {
            enabled: std::env::var_os(PROBE_VAR).is_some_and(|v| v == "1"),
            frames: 0,
        }
    }

    /// Call at the start of every frame.
    pub fn on_frame(&mut self, ctx: &egui::Context) {
        if !self.enabled {
            return;
        }
        self.frames += 1;
        match self.frames {
            // Make sure a second frame comes, even if nothing else asks for one.
            1 => ctx.request_repaint(),
            2 => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{PROBE_LINE}");
                let _ = out.flush();
                self.enabled = false;
            }
            _ => {}
        }
    }
}
