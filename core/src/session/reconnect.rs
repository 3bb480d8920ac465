//! When a client reconnects after its stream dropped: the policy (off, or exponential backoff
//! with a cap and a maximum number of tries) and its schedule, sans-IO. The driver opens a new
//! transport and runs `initialize` again at each time [`Reconnect`] names; requests that were
//! in flight fail at once and are never re-sent.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use mcp_sse_core::session::{Reconnect, ReconnectPolicy, ReconnectStep};
//! let policy = ReconnectPolicy::Backoff {
//!     initial: Duration::from_millis(100),
//!     max: Duration::from_millis(250),
//!     max_attempts: 3,
//! };
//! let now = Instant::now();
//! let mut r = Reconnect::new(policy);
//! assert_eq!(r.handle_lost(now), ReconnectStep::RetryAt(now + Duration::from_millis(100)));
//! assert_eq!(r.handle_failed(now), ReconnectStep::RetryAt(now + Duration::from_millis(200)));
//! assert_eq!(r.handle_failed(now), ReconnectStep::RetryAt(now + Duration::from_millis(250)));
//! assert_eq!(r.handle_failed(now), ReconnectStep::GiveUp);
//! ```

use std::time::{Duration, Instant};

/// Whether and how a client reconnects after its event stream dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReconnectPolicy {
    /// Never: a dropped stream ends the client (the reference's behaviour).
    #[default]
    Off,
    /// Try again after `initial`, doubling the wait after each failed try up to `max`, at most
    /// `max_attempts` times in a row; a successful reconnection starts the count again.
    Backoff {
        /// The wait before the first try.
        initial: Duration,
        /// The longest wait between tries.
        max: Duration,
        /// Tries in a row before giving up.
        max_attempts: u32,
    },
}

/// What to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReconnectStep {
    /// Open a new transport and run `initialize` at this time.
    RetryAt(Instant),
    /// Stop: the client is closed for good.
    GiveUp,
}

/// The schedule of one client's reconnections.
#[derive(Debug, Clone)]
pub struct Reconnect {
    policy: ReconnectPolicy,
    /// Tries made since the stream was lost.
    attempts: u32,
}

impl Reconnect {
    /// A schedule for `policy`.
    pub fn new(policy: ReconnectPolicy) -> Self {
        Reconnect {
            policy,
            attempts: 0,
        }
    }

    /// Whether reconnection is on.
    pub fn enabled(&self) -> bool {
        self.policy != ReconnectPolicy::Off
    }

    /// The stream dropped (the session is lost).
    pub fn handle_lost(&mut self, now: Instant) -> ReconnectStep {
        self.attempts = 0;
        self.next(now)
    }

    /// A try failed (no connection, no endpoint, or `initialize` failed).
    pub fn handle_failed(&mut self, now: Instant) -> ReconnectStep {
        self.next(now)
    }

    /// A try succeeded: the next loss starts the schedule again.
    pub fn handle_connected(&mut self) {
        self.attempts = 0;
    }

    fn next(&mut self, now: Instant) -> ReconnectStep {
        match self.policy {
            ReconnectPolicy::Off => ReconnectStep::GiveUp,
            ReconnectPolicy::Backoff {
                initial,
                max,
                max_attempts,
            } => {
                if self.attempts >= max_attempts {
                    return ReconnectStep::GiveUp;
                }
                let wait = initial
                    .saturating_mul(1u32.checked_shl(self.attempts).unwrap_or(u32::MAX))
                    .min(max);
                self.attempts += 1;
                ReconnectStep::RetryAt(now + wait)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_gives_up_and_success_restarts_the_count() {
        let now = Instant::now();
        assert_eq!(
            Reconnect::new(ReconnectPolicy::Off).handle_lost(now),
            ReconnectStep::GiveUp
        );
        let mut r = Reconnect::new(ReconnectPolicy::Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
            max_attempts: 40,
        });
        let mut last = Duration::ZERO;
        for _ in 0..40 {
            match r.handle_failed(now) {
                ReconnectStep::RetryAt(at) => {
                    let wait = at - now;
                    assert!(wait >= last && wait <= Duration::from_secs(60));
                    last = wait;
                }
                ReconnectStep::GiveUp => panic!("gave up early"),
            }
        }
        assert_eq!(r.handle_failed(now), ReconnectStep::GiveUp);
        r.handle_connected();
        assert_eq!(
            r.handle_lost(now),
            ReconnectStep::RetryAt(now + Duration::from_secs(1))
        );
    }
}
