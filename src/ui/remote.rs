//! A value that comes from the network, with four states, keeping stale data on screen while it
//! refreshes; and the helpers that spawn work on the runtime and wake the UI when it is done.

use std::future::Future;

use futures::FutureExt;
use poll_promise::Promise;
use tokio::runtime::Handle;

use crate::providers::{ApiError, ErrorKind};

/// Runs `fut` on the runtime and repaints the UI when it is done. A panic in the task becomes
/// `on_panic()` instead of a dropped sender (which would panic the UI thread on poll).
pub fn spawn<T: Send + 'static>(
    rt: &Handle,
    ctx: &egui::Context,
    fut: impl Future<Output = T> + Send + 'static,
    on_panic: impl FnOnce() -> T + Send + 'static,
) -> Promise<T> {
    let (sender, promise) = Promise::new();
    let ctx = ctx.clone();
    rt.spawn(async move {
        let value = match std::panic::AssertUnwindSafe(fut).catch_unwind().await {
            Ok(v) => v,
            Err(_) => on_panic(),
        };
        sender.send(value);
        ctx.request_repaint();
    });
    promise
}

/// [`spawn`] for provider calls: a panic becomes an [`ApiError`].
pub fn spawn_api<T: Send + 'static>(
    rt: &Handle,
    ctx: &egui::Context,
    fut: impl Future<Output = Result<T, ApiError>> + Send + 'static,
) -> Promise<Result<T, ApiError>> {
    spawn(rt, ctx, fut, || {
        Err(ApiError::new(
            ErrorKind::BadResponse,
            "Internal error while handling the answer",
        ))
    })
}

/// Runs blocking work (the keychain, files) on the runtime's blocking pool and repaints.
pub fn spawn_blocking<T: Send + 'static>(
    rt: &Handle,
    ctx: &egui::Context,
    f: impl FnOnce() -> T + Send + 'static,
    on_panic: impl FnOnce() -> T + Send + 'static,
) -> Promise<T> {
    let (sender, promise) = Promise::new();
    let ctx = ctx.clone();
    let task = rt.spawn_blocking(f);
    rt.spawn(async move {
        let value = task.await.unwrap_or_else(|_| on_panic());
        sender.send(value);
        ctx.request_repaint();
    });
    promise
}

/// Not requested / pending (with the previous value) / ready / failed (with the previous value).
#[derive(Default)]
pub enum Remote<T: Send + 'static> {
    #[default]
    NotRequested,
    Pending {
        promise: Promise<Result<T, ApiError>>,
        previous: Option<T>,
    },
    Ready(T),
    Failed {
        error: ApiError,
        previous: Option<T>,
    },
}

impl<T: Send + 'static> Remote<T> {
    /// Starts the request only if nothing was requested yet: cheap to call every frame.
    pub fn request(&mut self, start: impl FnOnce() -> Promise<Result<T, ApiError>>) {
        if matches!(self, Remote::NotRequested) {
            self.refresh(start);
        }
    }

    /// Starts a new request unless one is running, keeping the current value on screen.
    pub fn refresh(&mut self, start: impl FnOnce() -> Promise<Result<T, ApiError>>) {
        if self.is_pending() {
            return;
        }
        let previous = self.take_data();
        *self = Remote::Pending {
            promise: start(),
            previous,
        };
    }

    /// Replaces whatever runs with this promise, keeping the current value on screen.
    pub fn set_pending(&mut self, promise: Promise<Result<T, ApiError>>) {
        let previous = self.take_data();
        *self = Remote::Pending { promise, previous };
    }

    /// Settles a finished request. Call once per frame before drawing.
    pub fn poll(&mut self) {
        let finished = match self {
            Remote::Pending { promise, .. } => promise.ready().is_some(),
            _ => false,
        };
        if !finished {
            return;
        }
        if let Remote::Pending { promise, previous } = std::mem::take(self) {
            *self = match promise.try_take() {
                Ok(Ok(value)) => Remote::Ready(value),
                Ok(Err(error)) => Remote::Failed { error, previous },
                Err(promise) => Remote::Pending { promise, previous },
            };
        }
    }

    /// Forgets everything (another connection was selected).
    pub fn reset(&mut self) {
        *self = Remote::NotRequested;
    }

    pub fn is_pending(&self) -> bool {
        matches!(self, Remote::Pending { .. })
    }

    /// The freshest value there is: the ready one, or the one kept while pending or failed.
    pub fn data(&self) -> Option<&T> {
        match self {
            Remote::Ready(v) => Some(v),
            Remote::Pending { previous, .. } | Remote::Failed { previous, .. } => previous.as_ref(),
            Remote::NotRequested => None,
        }
    }

    pub fn data_mut(&mut self) -> Option<&mut T> {
        match self {
            Remote::Ready(v) => Some(v),
            Remote::Pending { previous, .. } | Remote::Failed { previous, .. } => previous.as_mut(),
            Remote::NotRequested => None,
        }
    }

    pub fn error(&self) -> Option<&ApiError> {
        match self {
            Remote::Failed { error, .. } => Some(error),
            _ => None,
        }
    }

    fn take_data(&mut self) -> Option<T> {
        match std::mem::take(self) {
            Remote::Ready(v) => Some(v),
            Remote::Pending { previous, .. } | Remote::Failed { previous, .. } => previous,
            Remote::NotRequested => None,
        }
    }
}

/// One operation in flight (a create, a delete): pending until its promise settles.
pub struct Op<T: Send + 'static> {
    promise: Promise<Result<T, ApiError>>,
}

impl<T: Send + 'static> Op<T> {
    pub fn new(promise: Promise<Result<T, ApiError>>) -> Self {
        Self { promise }
    }

    /// Takes the result out when it is there; keeps waiting otherwise.
    pub fn settle(slot: &mut Option<Self>) -> Option<Result<T, ApiError>> {
        let op = slot.take()?;
        match op.promise.try_take() {
            Ok(result) => Some(result),
            Err(promise) => {
                *slot = Some(Self { promise });
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refresh_keeps_the_previous_value_until_the_new_one_arrives() {
        let mut r: Remote<u32> = Remote::NotRequested;
        r.request(|| Promise::from_ready(Ok(1)));
        assert_eq!(r.data(), None);
        r.poll();
        assert_eq!(r.data(), Some(&1));
        let (sender, promise) = Promise::new();
        r.refresh(|| promise);
        assert!(r.is_pending());
        assert_eq!(r.data(), Some(&1));
        r.poll();
        assert!(r.is_pending());
        sender.send(Err(ApiError::new(ErrorKind::Server, "down")));
        r.poll();
        assert_eq!(r.data(), Some(&1));
        assert_eq!(r.error().map(|e| e.kind.clone()), Some(ErrorKind::Server));
        r.request(|| Promise::from_ready(Ok(5)));
        assert_eq!(r.data(), Some(&1), "request() does nothing once requested");
    }
}
