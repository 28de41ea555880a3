//! The start-up reference of `cargo bench --bench perf`: a bare eframe window, built with
//! Keydeck's own eframe and features, that shows one label. With
//! `KEYDECK_FIRST_FRAME_PROBE=1` it says when its first frame has been painted, as Keydeck does.
//!
//! `cargo run --release --example bare_eframe`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // a test may stop at the first surprise, and a scripted flow reads top to bottom

use keydeck::ui::probe::FirstFrameProbe;

struct Bare {
    probe: FirstFrameProbe,
}

impl eframe::App for Bare {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.probe.on_frame(ui.ctx());
        egui::CentralPanel::default().show(ui, |ui| {
            ui.label("A bare eframe window");
        });
    }
}

fn main() -> eframe::Result {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("bare eframe")
            .with_inner_size([1180.0, 760.0]),
        ..Default::default()
    };
    eframe::run_native(
        "bare eframe",
        options,
        Box::new(|_cc| {
            Ok(Box::new(Bare {
                probe: FirstFrameProbe::from_env(),
            }))
        }),
    )
}
