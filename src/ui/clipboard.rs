//! Clipboard hygiene: a copied secret is kept out of clipboard history where the OS allows and
//! is cleared again after a delay, but only if the clipboard still holds it (the user may have
//! copied something else since).
//!
//! The system clipboard can block (X11 waits for the selection owner), and on X11 the copied
//! text lives only as long as the process that owns it, so one dedicated thread owns the
//! backend for the whole session. The UI thread only sends it requests.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Seconds a copied secret stays on the clipboard unless the user sets another delay.
pub const DEFAULT_CLEAR_SECS: u64 = 30;

/// What the clipboard worker needs from a clipboard.
pub trait ClipboardBackend: Send + 'static {
    /// Puts a secret on the clipboard, kept out of history and cloud sync where supported.
    fn set_secret(&mut self, text: &str) -> Result<(), String>;
    /// Puts ordinary text on the clipboard (diagnostics): history is fine.
    fn set_text(&mut self, text: &str) -> Result<(), String>;
    /// What the clipboard holds now, if it is text.
    fn text(&mut self) -> Option<String>;
    fn clear(&mut self) -> Result<(), String>;
}

/// A clipboard in memory, for tests: clones share one value.
#[derive(Clone, Default)]
pub struct MemoryClipboard {
    value: Arc<Mutex<Option<String>>>,
}

impl MemoryClipboard {
    pub fn contents(&self) -> Option<String> {
        self.value
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// As if another program had copied `text`.
    pub fn put(&self, text: &str) {
        *self.value.lock().unwrap_or_else(PoisonError::into_inner) = Some(text.to_owned());
    }
}

impl ClipboardBackend for MemoryClipboard {
    fn set_secret(&mut self, text: &str) -> Result<(), String> {
        self.put(text);
        Ok(())
    }

    fn set_text(&mut self, text: &str) -> Result<(), String> {
        self.put(text);
        Ok(())
    }

    fn text(&mut self) -> Option<String> {
        self.contents()
    }

    fn clear(&mut self) -> Result<(), String> {
        *self.value.lock().unwrap_or_else(PoisonError::into_inner) = None;
        Ok(())
    }
}

/// The system clipboard through `arboard`.
pub struct SystemClipboard(arboard::Clipboard);

impl SystemClipboard {
    pub fn open() -> Result<Self, String> {
        arboard::Clipboard::new()
            .map(Self)
            .map_err(|e| e.to_string())
    }
}

impl ClipboardBackend for SystemClipboard {
    fn set_secret(&mut self, text: &str) -> Result<(), String> {
        let set = self.0.set();
        #[cfg(all(
            unix,
            not(any(target_os = "macos", target_os = "android", target_os = "emscripten"))
        ))]
        let set = {
            use arboard::SetExtLinux;
            set.exclude_from_history()
        };
        #[cfg(target_os = "macos")]
        let set = {
            use arboard::SetExtApple;
            set.exclude_from_history()
        };
        #[cfg(windows)]
        let set = {
            use arboard::SetExtWindows;
            set.exclude_from_history()
                .exclude_from_cloud()
                .exclude_from_monitoring()
        };
        set.text(text.to_owned()).map_err(|e| e.to_string())
    }

    fn set_text(&mut self, text: &str) -> Result<(), String> {
        self.0.set_text(text.to_owned()).map_err(|e| e.to_string())
    }

    fn text(&mut self) -> Option<String> {
        self.0.get_text().ok()
    }

    fn clear(&mut self) -> Result<(), String> {
        self.0.clear().map_err(|e| e.to_string())
    }
}

enum Request {
    Secret {
        value: String,
        clear_after: Duration,
    },
    Text(String),
}

/// A handle to the clipboard worker thread. Cheap to clone.
#[derive(Clone)]
pub struct Clipboard {
    tx: Sender<Request>,
    pending: Arc<AtomicBool>,
}

impl Clipboard {
    /// Starts the worker that owns `backend`; `on_error` hears about failures (for a toast).
    pub fn start(
        backend: impl ClipboardBackend,
        on_error: impl Fn(String) + Send + 'static,
    ) -> Result<Self, String> {
        let (tx, rx) = mpsc::channel::<Request>();
        let pending = Arc::new(AtomicBool::new(false));
        let flag = pending.clone();
        std::thread::Builder::new()
            .name("keydeck-clipboard".to_owned())
            .spawn(move || {
                let mut backend = backend;
                // The secret to clear and when.
                let mut due: Option<(String, Instant)> = None;
                loop {
                    let request = match &due {
                        Some((_, at)) => {
                            rx.recv_timeout(at.saturating_duration_since(Instant::now()))
                        }
                        None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                    };
                    match request {
                        Ok(Request::Secret { value, clear_after }) => {
                            match backend.set_secret(&value) {
                                Ok(()) => {
                                    due = Some((value, Instant::now() + clear_after));
                                    flag.store(true, Ordering::SeqCst);
                                }
                                Err(e) => on_error(e),
                            }
                        }
                        Ok(Request::Text(text)) => {
                            // Replaces the secret, so there is nothing left to clear.
                            due = None;
                            flag.store(false, Ordering::SeqCst);
                            if let Err(e) = backend.set_text(&text) {
                                on_error(e);
                            }
                        }
                        Err(RecvTimeoutError::Timeout) => {
                            if let Some((value, _)) = due.take()
                                && backend.text().as_deref() == Some(value.as_str())
                                && let Err(e) = backend.clear()
                            {
                                on_error(e);
                            }
                            flag.store(false, Ordering::SeqCst);
                        }
                        Err(RecvTimeoutError::Disconnected) => {
                            // The app is closing: do not leave a secret behind.
                            if let Some((value, _)) = due.take()
                                && backend.text().as_deref() == Some(value.as_str())
                            {
                                let _ = backend.clear();
                            }
                            break;
                        }
                    }
                }
            })
            .map_err(|e| e.to_string())?;
        Ok(Self { tx, pending })
    }

    /// Copies a secret and clears it after `clear_after` if it is still there.
    pub fn copy_secret(&self, value: &str, clear_after: Duration) {
        self.pending.store(true, Ordering::SeqCst);
        let _ = self.tx.send(Request::Secret {
            value: value.to_owned(),
            clear_after,
        });
    }

    /// Copies ordinary text; it is not cleared.
    pub fn copy_text(&self, text: &str) {
        let _ = self.tx.send(Request::Text(text.to_owned()));
    }

    /// Whether a copied secret is still waiting to be cleared.
    pub fn clear_pending(&self) -> bool {
        self.pending.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
        let start = Instant::now();
        while !f() {
            assert!(start.elapsed() < Duration::from_secs(10), "{what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn a_copied_secret_is_cleared_after_the_delay() {
        let mem = MemoryClipboard::default();
        let c = Clipboard::start(mem.clone(), |_| {}).unwrap();
        c.copy_secret("s3cr3t-value-123", Duration::from_millis(50));
        wait_until("copied", || mem.contents().is_some());
        wait_until("cleared", || mem.contents().is_none());
        assert!(!c.clear_pending());
    }

    #[test]
    fn something_copied_since_is_left_alone() {
        let mem = MemoryClipboard::default();
        let c = Clipboard::start(mem.clone(), |_| {}).unwrap();
        c.copy_secret("s3cr3t-value-123", Duration::from_millis(100));
        wait_until("copied", || mem.contents().is_some());
        mem.put("my own text");
        wait_until("the clear ran", || !c.clear_pending());
        assert_eq!(mem.contents().as_deref(), Some("my own text"));
    }
}
