//! The figures of a real window: start-up, idle CPU and peak memory of the release binary
//! under a private Xvfb display (software rendering), against a bare eframe window built with
//! the same dependencies (`examples/bare_eframe.rs`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use keydeck::ui::probe::{PROBE_LINE, PROBE_VAR};

/// A private X display, stopped when dropped.
pub struct Xvfb {
    child: Child,
    pub display: String,
}

impl Xvfb {
    /// None when Xvfb is not installed or does not come up.
    pub fn start() -> Option<Xvfb> {
        let n = 200 + std::process::id() % 400;
        let display = format!(":{n}");
        let child = Command::new("Xvfb")
            .args([&display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let mut x = Xvfb { child, display };
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
        let started = Instant::now();
        // Ready when the server accepts a connection, not when its socket file appears (a
        // window started in between failed with XOpenDisplayFailed).
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            if started.elapsed() > Duration::from_secs(10)
                || x.child.try_wait().ok().flatten().is_some()
            {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(x)
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A window process under Xvfb whose stdout is watched for the first-frame line.
pub struct Window {
    child: Child,
    painted: mpsc::Receiver<Instant>,
    started: Instant,
    home: std::path::PathBuf,
}

impl Window {
    /// Starts `bin args` on `x` with its own home (`KEYDECK_*_DIR` inside it) and no session
    /// bus, as on a machine without a keychain daemon.
    pub fn start(x: &Xvfb, bin: &Path, args: &[&str], home: &Path) -> Window {
        let started = Instant::now();
        let mut child = Command::new(bin)
            .args(args)
            .env("DISPLAY", &x.display)
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("KEYDECK_CONFIG_DIR", home.join("config"))
            .env("KEYDECK_DATA_DIR", home.join("data"))
            .env(PROBE_VAR, "1")
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env_remove("WAYLAND_DISPLAY")
            .stdout(Stdio::piped())
            // Kept, so that a window that fails to start says why.
            .stderr(
                std::fs::File::create(home.join("window-stderr.log"))
                    .map(Stdio::from)
                    .unwrap_or_else(|_| Stdio::null()),
            )
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", bin.display()));
        let (tx, painted) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { return };
                    if line.trim() == PROBE_LINE {
                        let _ = tx.send(Instant::now());
                    }
                }
            });
        }
        Window {
            child,
            painted,
            started,
            home: home.to_owned(),
        }
    }

    /// Starts the window and waits for its first frame, trying up to three times: a start
    /// that fails (seen once on a fresh machine, right after the reference window was built)
    /// is retried, and the last failure says what the window printed.
    pub fn start_painted(x: &Xvfb, bin: &Path, args: &[&str], home: &Path) -> (Window, Duration) {
        let mut last = String::new();
        for attempt in 1..=3 {
            let w = Window::start(x, bin, args, home);
            match w.try_first_frame() {
                Ok(d) => return (w, d),
                Err(e) => {
                    eprintln!("window start {attempt} of 3 failed: {e}");
                    last = e;
                }
            }
        }
        panic!(
            "{} did not paint a frame in three starts: {last}",
            bin.display()
        );
    }

    fn try_first_frame(&self) -> Result<Duration, String> {
        match self.painted.recv_timeout(Duration::from_secs(60)) {
            Ok(at) => Ok(at - self.started),
            Err(e) => {
                let log = std::fs::read_to_string(self.home.join("window-stderr.log"))
                    .unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(8).collect();
                Err(format!(
                    "the window painted no frame in 60 s ({e}); its last words: {}",
                    tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
                ))
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// CPU seconds (user + system, every thread) the process has used so far.
    pub fn cpu_secs(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
        // Fields after the command name, which is in parentheses and may hold spaces.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        // utime and stime are fields 14 and 15 of stat(5): 12 and 13 after the name.
        (ticks(11) + ticks(12)) / clock_ticks()
    }

    /// Peak resident set size, in MB.
    pub fn peak_rss_mb(&self) -> f64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }

    /// Waits until the process has used under 20 ms of CPU in a whole second, after at least
    /// `min`. Returns how long it took.
    pub fn wait_idle(&self, min: Duration, max: Duration) -> Duration {
        let started = Instant::now();
        std::thread::sleep(min);
        let mut last = self.cpu_secs();
        while started.elapsed() < max {
            std::thread::sleep(Duration::from_secs(1));
            let now = self.cpu_secs();
            if now - last < 0.02 {
                break;
            }
            last = now;
        }
        started.elapsed()
    }
}

impl Drop for Window {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// The bare eframe example, built in release mode when it is missing.
pub fn bare_example() -> Option<PathBuf> {
    let keydeck = PathBuf::from(env!("CARGO_BIN_EXE_keydeck"));
    let path = keydeck.parent()?.join("examples").join("bare_eframe");
    if !path.exists() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--release", "--example", "bare_eframe"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .ok()?;
        if !status.success() {
            return None;
        }
    }
    path.exists().then_some(path)
}
