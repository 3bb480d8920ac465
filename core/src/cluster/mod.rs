//! Scale-out: several server instances sharing one session space through a *session bus*
//! (Redis, NATS, …), sans-IO.
//!
//! What is decided here (and not in the async layer or the bus implementation):
//! - **which POSTs go to the bus**: the transport reports a POST for a session it does not
//!   hold as [`ServerEvent::ForeignPost`](crate::transport::ServerEvent::ForeignPost) and
//!   parks its connection; the answers (`202`, `404`, `400`, `503`) are the transport's
//!   ([`ForeignOutcome`], see `resolve_foreign`);
//! - **what travels on the bus**: the [forward frame](frame) carrying one client message to
//!   the instance that holds its session ([`encode_forward`], [`decode_forward`]);
//! - **the session registry's schedule** ([`Registry`]): register a session when it opens,
//!   renew every lease each [`RegistryConfig::renew_every`], unregister when it closes,
//!   and after a bus failure reconnect with exponential backoff and re-register everything.
//!
//! A bus implementation only executes what it is told: look a session up, publish a frame to
//! the owner, write registry keys with a time to live.

pub mod frame;
mod registry;

pub use crate::transport::{ForeignConfig, ForeignOutcome};
pub use frame::{decode_forward, encode_forward, ForwardFrame, FrameError, FRAME_VERSION};
pub use registry::{
    Backoff, BusOp, Registry, RegistryConfig, DEFAULT_BACKOFF_MAX, DEFAULT_BACKOFF_MIN,
    DEFAULT_LEASE_RENEWALS, MAX_SESSIONS_PER_OP,
};
