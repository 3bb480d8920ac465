//! Scale-out: the [`SessionBus`] several server instances share, and the tasks that drive
//! it for one [`SseServer`].
//!
//! Every decision is the core's ([`mcp_sse_core::cluster`]): which POSTs are foreign and how
//! they are answered (the transport), what a forwarded message looks like (the forward
//! frame), when sessions are registered, renewed, unregistered and when the bus is
//! reconnected (the [`Registry`]). This module runs what they ask for on a bus:
//!
//! - for each [`EndpointEvent::ForeignPost`](mcp_sse_core::endpoint::EndpointEvent::ForeignPost):
//!   [`SessionBus::forward`] (or [`SessionBus::lookup`] for a body that did not parse), at
//!   most [`ClusterOptions::max_forwards_in_flight`] at a time (more wait, their POST
//!   connections parked: backpressure), then `resolve_foreign` with the outcome;
//! - the registry task: the [`BusOp`]s of the [`Registry`];
//! - the subscription task: each frame the bus delivers goes to `handle_forwarded`; when the
//!   subscription ends the registry is told (`connection_lost`) and it is re-established
//!   with the registry's [`Backoff`](mcp_sse_core::cluster::Backoff).

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use event_listener::Event;
use mcp_sse_core::cluster::{BusOp, Registry, RegistryConfig};
use mcp_sse_core::transport::{ForeignOutcome, SessionId};

use crate::rt::BoxFuture;
use crate::sse_server::SseServer;

/// Default [`ClusterOptions::max_forwards_in_flight`].
pub const DEFAULT_MAX_FORWARDS_IN_FLIGHT: usize = 256;

/// A bus operation failed (the bus is unreachable, or answered an error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("session bus: {0}")]
pub struct BusError(pub String);

/// A shared session space for several instances (Redis in `mcp-sse-bus-redis`; anything
/// that can keep keys with a time to live and carry bytes to a named instance).
///
/// The implementation executes; it decides nothing. Its operations must be bounded in time
/// (a response timeout): a POST waits on them.
pub trait SessionBus: Send + Sync + 'static {
    /// (Re)connects. Called first, and after a failure (the registry's schedule); operations
    /// before it succeeds may fail at once.
    fn connect(&self) -> BoxFuture<'_, Result<(), BusError>>;
    /// Registers (or renews) `sessions` as held by this instance, each for `lease`.
    fn register(
        &self,
        sessions: Vec<SessionId>,
        lease: Duration,
    ) -> BoxFuture<'_, Result<(), BusError>>;
    /// Removes the registrations of `sessions` that are still this instance's.
    fn unregister(&self, sessions: Vec<SessionId>) -> BoxFuture<'_, Result<(), BusError>>;
    /// Hands `frame` (a [forward frame](mcp_sse_core::cluster::frame)) to the instance
    /// holding `session`: [`ForeignOutcome::Accepted`] once the bus has taken it for a
    /// listening owner, [`ForeignOutcome::NotFound`] if no instance holds the session,
    /// [`ForeignOutcome::Unavailable`] if the owner is registered but not listening.
    fn forward(
        &self,
        session: SessionId,
        frame: Bytes,
    ) -> BoxFuture<'_, Result<ForeignOutcome, BusError>>;
    /// Whether any instance holds `session` ([`ForeignOutcome::Accepted`] if so,
    /// [`ForeignOutcome::NotFound`] if not).
    fn lookup(&self, session: SessionId) -> BoxFuture<'_, Result<ForeignOutcome, BusError>>;
    /// Starts receiving the frames forwarded to this instance.
    fn subscribe(&self) -> BoxFuture<'_, Result<Box<dyn Subscription>, BusError>>;
}

/// The frames forwarded to this instance, in the order the bus took them.
pub trait Subscription: Send {
    /// The next frame; `Err` when the subscription is lost (it is then re-established).
    fn next(&mut self) -> BoxFuture<'_, Result<Bytes, BusError>>;
}

/// Scale-out settings of a server ([`ServerOptions::cluster`](crate::ServerOptions::cluster)).
/// The transport's [`foreign`](mcp_sse_core::transport::ServerConfig::foreign) setting makes
/// it forward POSTs for sessions it does not hold; set both.
#[derive(Clone)]
pub struct ClusterOptions {
    /// The bus.
    pub bus: Arc<dyn SessionBus>,
    /// The registry's schedule (lease, renewal, reconnection backoff).
    pub registry: RegistryConfig,
    /// Bound on foreign POSTs being forwarded at once; beyond it they wait (parked, their
    /// connections not read) until one finishes or the transport's foreign timeout answers
    /// them `503`.
    pub max_forwards_in_flight: usize,
}

impl ClusterOptions {
    /// `bus` with the registry renewing at `ping` (see [`RegistryConfig::for_ping_interval`]).
    pub fn new(bus: Arc<dyn SessionBus>, ping: Option<Duration>) -> Self {
        ClusterOptions {
            bus,
            registry: RegistryConfig::for_ping_interval(ping),
            max_forwards_in_flight: DEFAULT_MAX_FORWARDS_IN_FLIGHT,
        }
    }
}

impl std::fmt::Debug for ClusterOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterOptions")
            .field("registry", &self.registry)
            .field("max_forwards_in_flight", &self.max_forwards_in_flight)
            .finish_non_exhaustive()
    }
}

/// What a server keeps of its bus (under its lock).
pub(crate) struct Cluster {
    pub(crate) bus: Arc<dyn SessionBus>,
    pub(crate) registry: Registry,
    /// Wakes the registry task (a session opened or closed, the subscription was lost).
    pub(crate) kick: Arc<Event>,
    /// Notified whenever the registry's link or subscription state may have changed.
    pub(crate) changed: Arc<Event>,
    pub(crate) permits: Arc<async_lock::Semaphore>,
}

impl Cluster {
    pub(crate) fn new(options: &ClusterOptions) -> Self {
        Cluster {
            bus: options.bus.clone(),
            registry: Registry::new(options.registry),
            kick: Arc::new(Event::new()),
            changed: Arc::new(Event::new()),
            permits: Arc::new(async_lock::Semaphore::new(
                options.max_forwards_in_flight.max(1),
            )),
        }
    }

    pub(crate) fn opened(&mut self, session: SessionId) {
        self.registry.opened(session);
        self.kick.notify(1);
    }

    pub(crate) fn closed(&mut self, session: SessionId) {
        self.registry.closed(session);
        self.kick.notify(1);
    }
}

/// Runs one foreign POST on the bus (at most `permits` at a time).
pub(crate) async fn forward(
    bus: Arc<dyn SessionBus>,
    permits: Arc<async_lock::Semaphore>,
    session: SessionId,
    frame: Option<Bytes>,
) -> Result<ForeignOutcome, BusError> {
    let _permit = permits.acquire_arc().await;
    match frame {
        Some(frame) => bus.forward(session, frame).await,
        None => bus.lookup(session).await,
    }
}

async fn run_op(bus: &dyn SessionBus, op: BusOp) -> Result<(), BusError> {
    match op {
        BusOp::Connect => bus.connect().await,
        BusOp::Register { sessions, lease } => bus.register(sessions, lease).await,
        BusOp::Unregister { sessions } => bus.unregister(sessions).await,
    }
}

/// The registry task: the registry's operations on the bus, one at a time, until the server
/// is dropped.
pub(crate) async fn registry_task(server: Weak<SseServer>) {
    let Some(this) = server.upgrade() else { return };
    let Some(kick) = this.with_cluster(|c| c.kick.clone()) else {
        return;
    };
    let rt = this.rt().clone();
    drop(this);
    loop {
        // Listening before polling: a kick in between is not lost.
        event_listener::listener!(kick => kicked);
        let Some(this) = server.upgrade() else { return };
        let Some((bus, op, wake)) = this.with_cluster(|c| {
            let op = c.registry.poll_op(Instant::now());
            (c.bus.clone(), op, c.registry.poll_timeout())
        }) else {
            return;
        };
        drop(this);
        if let Some(op) = op {
            let result = run_op(&*bus, op).await;
            if let Err(_e) = &result {
                crate::trace::event!(warn, error = %_e, "session bus operation failed");
            }
            let Some(this) = server.upgrade() else { return };
            this.with_cluster(|c| {
                c.registry.handle_result(result.is_ok(), Instant::now());
                c.changed.notify(usize::MAX);
            });
            continue;
        }
        match wake {
            Some(at) => futures_lite::future::or(rt.sleep_until(at), kicked).await,
            None => kicked.await,
        }
    }
}

/// The subscription task: frames forwarded to this instance into the endpoint; re-subscribes
/// with backoff when the subscription is lost.
pub(crate) async fn subscription_task(server: Weak<SseServer>) {
    let mut failures = 0u32;
    loop {
        let Some(this) = server.upgrade() else { return };
        let Some((bus, backoff)) =
            this.with_cluster(|c| (c.bus.clone(), c.registry.config().backoff))
        else {
            return;
        };
        let rt = this.rt().clone();
        drop(this);
        match bus.subscribe().await {
            Ok(mut sub) => {
                failures = 0;
                {
                    let Some(this) = server.upgrade() else { return };
                    this.with_cluster(|c| {
                        c.registry.subscribed();
                        c.kick.notify(1);
                        c.changed.notify(usize::MAX);
                    });
                }
                while let Ok(frame) = sub.next().await {
                    let Some(this) = server.upgrade() else { return };
                    this.handle_forwarded(&frame);
                }
                let Some(this) = server.upgrade() else { return };
                this.with_cluster(|c| {
                    c.registry.subscription_lost(Instant::now());
                    c.kick.notify(1);
                    c.changed.notify(usize::MAX);
                });
            }
            Err(_e) => {
                crate::trace::event!(warn, error = %_e, "session bus subscription failed");
            }
        }
        rt.sleep_until(Instant::now() + backoff.delay(failures))
            .await;
        failures = failures.saturating_add(1);
    }
}
