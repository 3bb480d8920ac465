//! A cancellation flag that futures can race against.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

use event_listener::Event;

/// Set once; every waiter wakes.
#[derive(Debug, Default)]
pub struct CancelFlag {
    set: AtomicBool,
    event: Event,
}

impl CancelFlag {
    /// A flag that is not set.
    pub fn new() -> Self {
        CancelFlag::default()
    }

    /// Sets the flag and wakes every waiter.
    pub fn cancel(&self) {
        self.set.store(true, Ordering::SeqCst);
        self.event.notify(usize::MAX);
    }

    /// Whether the flag is set.
    pub fn is_cancelled(&self) -> bool {
        self.set.load(Ordering::SeqCst)
    }

    /// Completes once the flag is set.
    pub async fn cancelled(&self) {
        loop {
            if self.is_cancelled() {
                return;
            }
            event_listener::listener!(self.event => listener);
            if self.is_cancelled() {
                return;
            }
            listener.await;
        }
    }

    /// Runs `fut` unless the flag is set first: `None` means it was cancelled (and `fut` dropped).
    pub async fn run<F: Future>(&self, fut: F) -> Option<F::Output> {
        futures_lite::future::or(async { Some(fut.await) }, async {
            self.cancelled().await;
            None
        })
        .await
    }
}
