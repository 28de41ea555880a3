//! One background thread that performs blocking chores (keychain calls, config writes) in the
//! order they were asked for, so the window never waits on them and a later write can never
//! land before an earlier one.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Called after each chore, so a face can look at the result (the window repaints).
pub type Waker = Arc<dyn Fn() + Send + Sync>;

type Job = Box<dyn FnOnce() + Send>;

/// Runs jobs in order on its own thread.
pub struct Worker {
    jobs: Option<mpsc::Sender<Job>>,
    pending: Arc<AtomicUsize>,
    /// When the job now running started: a keychain call that waits on an unlock prompt
    /// shows here.
    running_since: Arc<Mutex<Option<Instant>>>,
    waker: Arc<Mutex<Option<Waker>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Worker {
    pub fn start() -> Self {
        let (tx, rx) = mpsc::channel::<Job>();
        let pending = Arc::new(AtomicUsize::new(0));
        let waker: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
        let running_since = Arc::new(Mutex::new(None));
        let (p, w, r) = (
            Arc::clone(&pending),
            Arc::clone(&waker),
            Arc::clone(&running_since),
        );
        let thread = std::thread::Builder::new()
            .name("keydeck-chores".to_owned())
            .spawn(move || {
                for job in rx {
                    set(&r, Some(Instant::now()));
                    // A panicking job (a keychain backend bug) must not stop later chores.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    set(&r, None);
                    p.fetch_sub(1, Ordering::SeqCst);
                    if let Ok(w) = w.lock()
                        && let Some(wake) = w.as_ref()
                    {
                        wake();
                    }
                }
            })
            .map_err(|e| tracing::error!("no chores thread: {e}"))
            .ok();
        Self {
            jobs: thread.as_ref().map(|_| tx),
            pending,
            running_since,
            waker,
            thread,
        }
    }

    /// How long the job now running has been running; zero when none is.
    pub fn running_for(&self) -> Duration {
        self.running_since
            .lock()
            .ok()
            .and_then(|r| *r)
            .map_or(Duration::ZERO, |t| t.elapsed())
    }

    /// Who to tell when a chore is done.
    pub fn set_waker(&self, waker: Waker) {
        if let Ok(mut w) = self.waker.lock() {
            *w = Some(waker);
        }
    }

    /// Queues a job; without a thread (it could not start) the job runs here and now.
    pub fn run(&self, job: impl FnOnce() + Send + 'static) {
        self.pending.fetch_add(1, Ordering::SeqCst);
        let job: Job = Box::new(job);
        let unsent = match &self.jobs {
            Some(tx) => tx.send(job).err().map(|e| e.0),
            None => Some(job),
        };
        if let Some(job) = unsent {
            job();
            self.pending.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Jobs queued or running.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::SeqCst)
    }
}

fn set(slot: &Mutex<Option<Instant>>, value: Option<Instant>) {
    if let Ok(mut s) = slot.lock() {
        *s = value;
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Let queued writes finish: a secret the user saved must not be lost on quit.
        self.jobs = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_run_in_order_and_the_waker_hears_each() {
        let w = Worker::start();
        let woken = Arc::new(AtomicUsize::new(0));
        let k = Arc::clone(&woken);
        w.set_waker(Arc::new(move || {
            k.fetch_add(1, Ordering::SeqCst);
        }));
        let seen = Arc::new(Mutex::new(Vec::new()));
        for i in 0..50 {
            let s = Arc::clone(&seen);
            w.run(move || s.lock().unwrap().push(i));
        }
        drop(w);
        assert_eq!(*seen.lock().unwrap(), (0..50).collect::<Vec<_>>());
        assert_eq!(woken.load(Ordering::SeqCst), 50);
    }

    #[test]
    fn a_long_job_shows_how_long_it_has_been_running() {
        let w = Worker::start();
        let (tx, rx) = mpsc::channel::<()>();
        w.run(move || {
            let _ = rx.recv();
        });
        std::thread::sleep(Duration::from_millis(50));
        assert!(w.running_for() >= Duration::from_millis(40));
        tx.send(()).unwrap();
        drop(w);
    }

    #[test]
    fn a_panicking_job_does_not_stop_the_next() {
        let w = Worker::start();
        let done = Arc::new(AtomicUsize::new(0));
        w.run(|| panic!("keychain backend bug"));
        let d = Arc::clone(&done);
        w.run(move || {
            d.fetch_add(1, Ordering::SeqCst);
        });
        drop(w);
        assert_eq!(done.load(Ordering::SeqCst), 1);
    }
}
