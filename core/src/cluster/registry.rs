//! The session registry's schedule: which sessions to (re-)register, renew and unregister on
//! the bus, and when to reconnect to it.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::transport::{SessionId, DEFAULT_PING_INTERVAL};

/// Default lease length in renewal intervals ([`RegistryConfig::lease`] is
/// `renew_every × DEFAULT_LEASE_RENEWALS`): a lease survives two missed renewals.
pub const DEFAULT_LEASE_RENEWALS: u32 = 3;
/// Default first reconnection delay after a bus failure.
pub const DEFAULT_BACKOFF_MIN: Duration = Duration::from_millis(100);
/// Default cap of the reconnection delay.
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(5);
/// Bound on the sessions one [`BusOp`] names (a renewal of more sessions is split).
pub const MAX_SESSIONS_PER_OP: usize = 512;
/// Bound on the closed sessions whose unregistration waits for the bus (while it is down).
/// Beyond it the oldest are forgotten: their leases expire by themselves.
const MAX_PENDING_UNREGISTER: usize = 16 * MAX_SESSIONS_PER_OP;

/// Exponential backoff: `min`, `2·min`, `4·min`, … capped at `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first delay.
    pub min: Duration,
    /// The cap.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            min: DEFAULT_BACKOFF_MIN,
            max: DEFAULT_BACKOFF_MAX,
        }
    }
}

impl Backoff {
    /// The delay before retry number `failures` (0 for the first retry).
    ///
    /// ```
    /// use std::time::Duration;
    /// use mcp_sse_core::cluster::Backoff;
    /// let b = Backoff { min: Duration::from_millis(100), max: Duration::from_secs(1) };
    /// assert_eq!(b.delay(0), Duration::from_millis(100));
    /// assert_eq!(b.delay(2), Duration::from_millis(400));
    /// assert_eq!(b.delay(40), Duration::from_secs(1));
    /// ```
    pub fn delay(&self, failures: u32) -> Duration {
        let factor = 1u32.checked_shl(failures.min(31)).unwrap_or(u32::MAX);
        self.min.saturating_mul(factor).min(self.max)
    }
}

/// Configuration of a [`Registry`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistryConfig {
    /// How often every local session's lease is renewed (the issue: each ping interval).
    pub renew_every: Duration,
    /// The time to live written with each registration: a crashed instance's sessions are
    /// unknown to the bus at most this long after its last renewal.
    pub lease: Duration,
    /// Reconnection delays after a bus failure.
    pub backoff: Backoff,
}

impl RegistryConfig {
    /// Renewal at the ping interval (15 s when pings are off), lease
    /// [`DEFAULT_LEASE_RENEWALS`] intervals.
    pub fn for_ping_interval(ping: Option<Duration>) -> Self {
        let renew_every = ping.unwrap_or(DEFAULT_PING_INTERVAL);
        RegistryConfig {
            renew_every,
            lease: renew_every * DEFAULT_LEASE_RENEWALS,
            backoff: Backoff::default(),
        }
    }
}

impl Default for RegistryConfig {
    fn default() -> Self {
        Self::for_ping_interval(Some(DEFAULT_PING_INTERVAL))
    }
}

/// One thing for the bus to do; report its outcome with [`Registry::handle_result`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusOp {
    /// (Re)connect to the bus (after a failure, the old connection is unusable).
    Connect,
    /// Register (or renew) these sessions as held by this instance, each with time to live
    /// `lease`. At most [`MAX_SESSIONS_PER_OP`].
    Register {
        /// The sessions.
        sessions: Vec<SessionId>,
        /// Their time to live.
        lease: Duration,
    },
    /// Remove these sessions' registrations, if they are still this instance's. At most
    /// [`MAX_SESSIONS_PER_OP`].
    Unregister {
        /// The sessions.
        sessions: Vec<SessionId>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    /// Not connected; connect once `retry_at` has passed (at once when `None`).
    Down {
        retry_at: Option<Instant>,
        failures: u32,
    },
    Up,
}

/// The registry's schedule for one instance, sans-IO: feed it the local sessions' life
/// cycle and the bus's results, take [`BusOp`]s from [`Registry::poll_op`], and call it again
/// at [`Registry::poll_timeout`]. One operation is outstanding at a time.
///
/// ```
/// use std::time::{Duration, Instant};
/// use mcp_sse_core::cluster::{BusOp, Registry, RegistryConfig};
/// use mcp_sse_core::transport::SessionId;
///
/// let config = RegistryConfig::for_ping_interval(Some(Duration::from_secs(1)));
/// let mut reg = Registry::new(config);
/// let now = Instant::now();
/// assert_eq!(reg.poll_op(now), Some(BusOp::Connect));
/// reg.handle_result(true, now);
/// reg.subscribed(); // frames for this instance can be received: it may claim sessions
/// let s = SessionId::from_u128(1);
/// reg.opened(s);
/// assert_eq!(reg.poll_op(now), Some(BusOp::Register { sessions: vec![s], lease: Duration::from_secs(3) }));
/// reg.handle_result(true, now);
/// assert_eq!(reg.poll_op(now), None);
/// assert_eq!(reg.poll_timeout(), Some(now + Duration::from_secs(1)));
/// ```
#[derive(Debug)]
pub struct Registry {
    config: RegistryConfig,
    sessions: BTreeSet<SessionId>,
    to_register: BTreeSet<SessionId>,
    to_unregister: Vec<SessionId>,
    /// The rest of a renewal pass.
    renewing: Vec<SessionId>,
    link: Link,
    /// The instance receives forwarded frames: only then may it claim sessions (a
    /// registration before it would route POSTs to an owner that cannot receive them).
    subscribed: bool,
    in_flight: Option<Kind>,
    next_renew: Option<Instant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Connect,
    Other,
}

impl Registry {
    /// A registry with no session, not connected yet (the first [`Registry::poll_op`] is
    /// [`BusOp::Connect`]).
    pub fn new(config: RegistryConfig) -> Self {
        Registry {
            config,
            sessions: BTreeSet::new(),
            to_register: BTreeSet::new(),
            to_unregister: Vec::new(),
            renewing: Vec::new(),
            link: Link::Down {
                retry_at: None,
                failures: 0,
            },
            subscribed: false,
            in_flight: None,
            next_renew: None,
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &RegistryConfig {
        &self.config
    }

    /// Whether the last bus operation succeeded (the bus is usable).
    pub fn is_connected(&self) -> bool {
        self.link == Link::Up
    }

    /// Whether the instance can take part: connected, and subscribed to its forwarded
    /// frames (registrations go out; POSTs can be forwarded).
    pub fn is_ready(&self) -> bool {
        self.link == Link::Up && self.subscribed
    }

    /// Local sessions known to the registry.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// A local session opened: register it.
    pub fn opened(&mut self, session: SessionId) {
        if self.sessions.insert(session) {
            self.to_register.insert(session);
            self.to_unregister.retain(|s| *s != session);
        }
    }

    /// A local session ended: unregister it.
    pub fn closed(&mut self, session: SessionId) {
        if self.sessions.remove(&session) {
            self.to_register.remove(&session);
            self.renewing.retain(|s| *s != session);
            if self.to_unregister.len() >= MAX_PENDING_UNREGISTER {
                self.to_unregister.remove(0);
            }
            self.to_unregister.push(session);
        }
    }

    /// The instance's subscription to its forwarded frames is established: registrations
    /// may start (everything is registered at once).
    pub fn subscribed(&mut self) {
        if !self.subscribed {
            self.subscribed = true;
            self.renewing.clear();
            self.next_renew = None;
        }
    }

    /// The subscription ended: no registration until [`Registry::subscribed`] again; the
    /// connection is re-established as after [`Registry::connection_lost`].
    pub fn subscription_lost(&mut self, now: Instant) {
        self.subscribed = false;
        self.connection_lost(now);
    }

    /// A bus operation outside the registry failed (a forward): reconnect (after the first
    /// backoff delay) and re-register everything.
    pub fn connection_lost(&mut self, now: Instant) {
        if let Link::Up = self.link {
            self.fail(now, 0);
        }
    }

    fn fail(&mut self, now: Instant, failures: u32) {
        self.link = Link::Down {
            retry_at: Some(now + self.config.backoff.delay(failures)),
            failures: failures.saturating_add(1),
        };
        // The renewal pass after reconnecting registers every session.
        self.renewing.clear();
        self.to_register.clear();
        self.next_renew = None;
    }

    /// The next operation for the bus, if one is due at `now` and none is outstanding.
    pub fn poll_op(&mut self, now: Instant) -> Option<BusOp> {
        if self.in_flight.is_some() {
            return None;
        }
        match self.link {
            Link::Down { retry_at, .. } => {
                if retry_at.is_some_and(|t| now < t) {
                    return None;
                }
                self.in_flight = Some(Kind::Connect);
                Some(BusOp::Connect)
            }
            Link::Up if !self.subscribed => None,
            Link::Up => {
                if self.renewing.is_empty() && self.next_renew.is_none_or(|t| now >= t) {
                    self.renewing = self.sessions.iter().rev().copied().collect();
                    self.to_register.clear();
                    self.next_renew = Some(now + self.config.renew_every);
                }
                let lease = self.config.lease;
                let op = if !self.renewing.is_empty() {
                    let at = self.renewing.len().saturating_sub(MAX_SESSIONS_PER_OP);
                    let mut sessions = self.renewing.split_off(at);
                    sessions.reverse();
                    BusOp::Register { sessions, lease }
                } else if !self.to_unregister.is_empty() {
                    let n = self.to_unregister.len().min(MAX_SESSIONS_PER_OP);
                    BusOp::Unregister {
                        sessions: self.to_unregister.drain(..n).collect(),
                    }
                } else if !self.to_register.is_empty() {
                    let sessions: Vec<SessionId> = self
                        .to_register
                        .iter()
                        .take(MAX_SESSIONS_PER_OP)
                        .copied()
                        .collect();
                    for s in &sessions {
                        self.to_register.remove(s);
                    }
                    BusOp::Register { sessions, lease }
                } else {
                    return None;
                };
                self.in_flight = Some(Kind::Other);
                Some(op)
            }
        }
    }

    /// The outcome of the operation [`Registry::poll_op`] returned last. A failure marks the
    /// bus down: [`BusOp::Connect`] follows after the backoff delay, then a renewal of every
    /// session.
    pub fn handle_result(&mut self, succeeded: bool, now: Instant) {
        let Some(kind) = self.in_flight.take() else {
            return;
        };
        let failures = match self.link {
            Link::Down { failures, .. } => failures,
            Link::Up => 0,
        };
        match (kind, succeeded) {
            (Kind::Connect, true) => {
                self.link = Link::Up;
                // Everything is (re-)registered at once.
                self.next_renew = None;
            }
            // A result that arrives after `connection_lost` changes nothing.
            (Kind::Other, true) => {}
            (Kind::Connect, false) => self.fail(now, failures),
            (Kind::Other, false) => {
                if self.link == Link::Up {
                    self.fail(now, 0);
                }
            }
        }
    }

    /// When to call [`Registry::poll_op`] again if nothing else happens (`None`: an operation
    /// is outstanding, one is due now, or the registry waits for [`Registry::subscribed`]).
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.in_flight.is_some() {
            return None;
        }
        match self.link {
            Link::Down { retry_at, .. } => retry_at,
            Link::Up if !self.subscribed => None,
            Link::Up => {
                if !self.renewing.is_empty()
                    || !self.to_unregister.is_empty()
                    || !self.to_register.is_empty()
                {
                    None
                } else {
                    self.next_renew
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u128) -> SessionId {
        SessionId::from_u128(n)
    }

    fn config() -> RegistryConfig {
        RegistryConfig {
            renew_every: Duration::from_secs(1),
            lease: Duration::from_secs(3),
            backoff: Backoff {
                min: Duration::from_millis(100),
                max: Duration::from_millis(800),
            },
        }
    }

    fn up(now: Instant) -> Registry {
        let mut r = Registry::new(config());
        assert_eq!(r.poll_op(now), Some(BusOp::Connect));
        r.handle_result(true, now);
        r.subscribed();
        // The first renewal pass (of no session).
        assert_eq!(r.poll_op(now), None);
        r
    }

    #[test]
    fn leases_are_renewed_every_interval_and_closed_sessions_unregistered() {
        let t0 = Instant::now();
        let mut r = up(t0);
        r.opened(s(1));
        r.opened(s(2));
        let lease = Duration::from_secs(3);
        assert_eq!(
            r.poll_op(t0),
            Some(BusOp::Register {
                sessions: vec![s(1), s(2)],
                lease
            })
        );
        assert_eq!(r.poll_op(t0), None, "one operation at a time");
        r.handle_result(true, t0);
        assert_eq!(r.poll_timeout(), Some(t0 + Duration::from_secs(1)));
        r.closed(s(1));
        assert_eq!(
            r.poll_op(t0),
            Some(BusOp::Unregister {
                sessions: vec![s(1)]
            })
        );
        r.handle_result(true, t0);
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(
            r.poll_op(t1),
            Some(BusOp::Register {
                sessions: vec![s(2)],
                lease
            })
        );
        r.handle_result(true, t1);
        assert_eq!(r.poll_timeout(), Some(t1 + Duration::from_secs(1)));
    }

    #[test]
    fn a_failure_reconnects_with_backoff_and_reregisters_everything() {
        let t0 = Instant::now();
        let mut r = up(t0);
        for n in 1..=3 {
            r.opened(s(n));
        }
        assert!(matches!(r.poll_op(t0), Some(BusOp::Register { .. })));
        r.handle_result(false, t0);
        assert!(!r.is_connected());
        let ms = Duration::from_millis;
        assert_eq!(r.poll_timeout(), Some(t0 + ms(100)));
        assert_eq!(r.poll_op(t0 + ms(50)), None, "not before the backoff");
        let mut t = t0 + ms(100);
        // Connecting keeps failing: 200, 400, 800, 800 ms.
        for delay in [200, 400, 800, 800] {
            assert_eq!(r.poll_op(t), Some(BusOp::Connect));
            r.handle_result(false, t);
            assert_eq!(r.poll_timeout(), Some(t + ms(delay)));
            t += ms(delay);
        }
        // Sessions come and go while the bus is down.
        r.closed(s(3));
        r.opened(s(4));
        assert_eq!(r.poll_op(t), Some(BusOp::Connect));
        r.handle_result(true, t);
        assert!(r.is_connected());
        assert_eq!(
            r.poll_op(t),
            Some(BusOp::Register {
                sessions: vec![s(1), s(2), s(4)],
                lease: Duration::from_secs(3)
            })
        );
        r.handle_result(true, t);
        assert_eq!(
            r.poll_op(t),
            Some(BusOp::Unregister {
                sessions: vec![s(3)]
            })
        );
        r.handle_result(true, t);
        assert_eq!(r.poll_op(t), None);
        // A lost subscription: reconnect after the first delay, not the grown one, and
        // register nothing until subscribed again.
        r.subscription_lost(t);
        assert_eq!(r.poll_timeout(), Some(t + ms(100)));
        let t = t + ms(100);
        assert_eq!(r.poll_op(t), Some(BusOp::Connect));
        r.handle_result(true, t);
        assert_eq!(r.poll_op(t), None, "not subscribed yet");
        assert_eq!(r.poll_timeout(), None);
        r.subscribed();
        assert!(matches!(r.poll_op(t), Some(BusOp::Register { .. })));
    }

    #[test]
    fn nothing_is_registered_before_the_subscription() {
        let t0 = Instant::now();
        let mut r = Registry::new(config());
        r.opened(s(1));
        assert_eq!(r.poll_op(t0), Some(BusOp::Connect));
        r.handle_result(true, t0);
        assert_eq!(r.poll_op(t0), None);
        r.subscribed();
        assert_eq!(
            r.poll_op(t0),
            Some(BusOp::Register {
                sessions: vec![s(1)],
                lease: Duration::from_secs(3)
            })
        );
    }

    #[test]
    fn a_large_renewal_is_split_into_bounded_operations_in_order() {
        let t0 = Instant::now();
        let mut r = up(t0);
        let n = MAX_SESSIONS_PER_OP * 2 + 3;
        for i in 0..n {
            r.opened(s(i as u128));
        }
        let mut seen = Vec::new();
        while let Some(op) = r.poll_op(t0) {
            let BusOp::Register { sessions, .. } = op else {
                panic!("{op:?}")
            };
            assert!(sessions.len() <= MAX_SESSIONS_PER_OP);
            seen.extend(sessions);
            r.handle_result(true, t0);
        }
        assert_eq!(seen, (0..n).map(|i| s(i as u128)).collect::<Vec<_>>());
    }
}
