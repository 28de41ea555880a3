//! "Retrying (2 of 3)…" in the status bar, with a Cancel button. The provider clients report
//! each retry through their [`RetryPolicy`] observer; Cancel bumps a counter they watch while
//! they wait, so the call stops and reports the failure it had (forms stay filled in).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::providers::http::{RetryEvent, RetryPolicy};

#[derive(Clone, Default)]
pub struct RetryStatus {
    inner: Arc<Mutex<State>>,
    cancel: Arc<AtomicU64>,
}

#[derive(Default)]
struct State {
    last: Option<(RetryEvent, Instant)>,
    ctx: Option<egui::Context>,
}

impl RetryStatus {
    /// Lets retries wake the UI.
    pub fn set_context(&self, ctx: &egui::Context) {
        if let Ok(mut s) = self.inner.lock() {
            s.ctx = Some(ctx.clone());
        }
    }

    /// The policy every client of the app uses: the defaults, reported here, cancellable.
    pub fn policy(&self) -> RetryPolicy {
        let inner = Arc::clone(&self.inner);
        RetryPolicy {
            observer: Some(Arc::new(move |event: &RetryEvent| {
                if let Ok(mut s) = inner.lock() {
                    s.last = Some((event.clone(), Instant::now()));
                    if let Some(ctx) = &s.ctx {
                        ctx.request_repaint();
                        // Repaint again when the line should disappear.
                        ctx.request_repaint_after(event.delay + Duration::from_secs(1));
                    }
                }
            })),
            cancel: Some(Arc::clone(&self.cancel)),
            ..RetryPolicy::default()
        }
    }

    /// The retry being waited for, if any.
    pub fn current(&self) -> Option<RetryEvent> {
        let s = self.inner.lock().ok()?;
        let (event, at) = s.last.as_ref()?;
        (at.elapsed() < event.delay + Duration::from_secs(1)).then(|| event.clone())
    }

    /// Stops every call that is waiting to retry.
    pub fn cancel(&self) {
        self.cancel.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut s) = self.inner.lock() {
            s.last = None;
        }
    }

    /// The status-bar line: "Retrying (2 of 3)… (HTTP 503)" and Cancel.
    pub fn ui(&self, ui: &mut egui::Ui) {
        if let Some(event) = self.current() {
            ui.spinner();
            ui.label(format!("{} ({})", event.label(), event.reason))
                .on_hover_text(format!("Next try in {} s", event.delay.as_secs().max(1)));
            if ui.small_button("Cancel retry").clicked() {
                self.cancel();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_shows_until_cancelled() {
        let status = RetryStatus::default();
        let policy = status.policy();
        let observer = policy.observer.clone().unwrap();
        observer(&RetryEvent {
            attempt: 2,
            max_attempts: 3,
            delay: Duration::from_secs(5),
            reason: "HTTP 503".into(),
        });
        assert_eq!(status.current().unwrap().label(), "Retrying (2 of 3)…");
        let before = policy.cancel.as_ref().unwrap().load(Ordering::SeqCst);
        status.cancel();
        assert!(status.current().is_none());
        assert_ne!(
            policy.cancel.as_ref().unwrap().load(Ordering::SeqCst),
            before
        );
    }
}
