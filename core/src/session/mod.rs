//! Sans-IO MCP session state machines, one per side: [`ClientSession`] and [`ServerSession`].
//!
//! Both work on [`jsonrpc::Message`](crate::jsonrpc::Message)s with `serde_json::Value`
//! params/results. Feed peer messages in with `handle_message`, pull messages to send with
//! `poll_transmit`, events with `poll_event` and the next deadline with `poll_timeout`; call
//! `handle_timeout(now)` when it passes and `handle_connection_lost()` when the transport ends.
//! Time is always passed in.
//!
//! Every table and queue is bounded by a named, configurable limit (the `DEFAULT_*` constants
//! below); exceeding one with a caller action gives a [`SessionError`].
//!
//! ```
//! use std::time::Instant;
//! use mcp_sse_core::session::{ClientConfig, ClientSession, ServerConfig, ServerSession};
//!
//! let now = Instant::now();
//! let mut client = ClientSession::new(ClientConfig::default());
//! let mut server = ServerSession::new(ServerConfig::default());
//! client.initialize(now).unwrap();
//! loop {
//!     let mut moved = false;
//!     while let Some(m) = client.poll_transmit() { server.handle_message(m, now); moved = true; }
//!     while let Some(m) = server.poll_transmit() { client.handle_message(m, now); moved = true; }
//!     if !moved { break; }
//! }
//! assert_eq!(client.protocol_version(), Some("2025-11-25"));
//! ```

mod client;
mod outgoing;
mod output_schema;
mod reconnect;
mod request_error;
pub mod sampling_checks;
mod server;
pub mod typed_elicit;

#[cfg(test)]
mod tests;

use std::time::Duration;

use crate::jsonrpc::{ErrorObject, RequestId};

pub use client::{
    ClientConfig, ClientEvent, ClientSession, InitializeError, RequestOptions, ServerRequestKind,
    LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS,
};
pub use output_schema::{OutputSchemaError, OutputSchemas};
pub use reconnect::{Reconnect, ReconnectPolicy, ReconnectStep};
pub use request_error::RequestError;
pub use server::{
    LogLevel, ServerConfig, ServerEvent, ServerFeatures, ServerNotification, ServerSession,
};

/// What a driver takes out of either session machine after every call into it: the messages to
/// send, in order, and the events to act on. Lets one piece of driver code serve both sides.
pub trait SessionOutput {
    /// [`ClientEvent`] or [`ServerEvent`].
    type Event;
    /// The next message to send, in order.
    fn poll_transmit(&mut self) -> Option<crate::jsonrpc::Message>;
    /// The next event.
    fn poll_event(&mut self) -> Option<Self::Event>;
}

impl SessionOutput for ClientSession {
    type Event = ClientEvent;
    fn poll_transmit(&mut self) -> Option<crate::jsonrpc::Message> {
        ClientSession::poll_transmit(self)
    }
    fn poll_event(&mut self) -> Option<ClientEvent> {
        ClientSession::poll_event(self)
    }
}

impl SessionOutput for ServerSession {
    type Event = ServerEvent;
    fn poll_transmit(&mut self) -> Option<crate::jsonrpc::Message> {
        ServerSession::poll_transmit(self)
    }
    fn poll_event(&mut self) -> Option<ServerEvent> {
        ServerSession::poll_event(self)
    }
}

/// Default bound on requests this side sent and still awaits.
pub const DEFAULT_MAX_PENDING: usize = 1024;
/// Default bound on requests from the peer being handled at once.
pub const DEFAULT_MAX_INCOMING: usize = 1024;
/// Default bound on queued events other than request resolutions (which are bounded by
/// the pending table). Further such events are dropped and counted.
pub const DEFAULT_MAX_EVENTS: usize = 4096;
/// Default bound on messages waiting in `poll_transmit`'s queue.
pub const DEFAULT_MAX_OUTBOUND: usize = 4096;

/// Why a session refused a caller's action.
#[derive(thiserror::Error, Debug, Clone, PartialEq)]
pub enum SessionError {
    /// The connection is gone (the caller sees -32000 `Connection closed`).
    #[error("Connection closed")]
    ConnectionClosed,
    /// The pending-request table is full.
    #[error("too many pending requests (limit {limit})")]
    TooManyPending {
        /// The configured limit.
        limit: usize,
    },
    /// The outbound queue is full (drain `poll_transmit`).
    #[error("outbound queue full (limit {limit})")]
    OutboundFull {
        /// The configured limit.
        limit: usize,
    },
    /// `initialize` was already sent.
    #[error("initialize was already sent")]
    AlreadyInitialized,
    /// The handshake failed; the session cannot be used.
    #[error("the initialize handshake failed")]
    InitializeFailed,
    /// Progress was requested but `params._meta` is not an object.
    #[error("params._meta must be an object to carry a progress token")]
    MetaNotObject,
}

impl SessionError {
    /// The JSON-RPC error a caller would see for this failure (`ConnectionClosed` → -32000
    /// `Connection closed`; the others → -32603 with the error's text).
    pub fn to_error_object(&self) -> ErrorObject {
        match self {
            SessionError::ConnectionClosed => ErrorObject::connection_closed(),
            other => ErrorObject::internal_error(other.to_string()),
        }
    }
}

/// Removes the first queued event that `matches`, if one is still waiting to be polled: a
/// request from the peer that is cancelled (or whose connection is lost) before anyone saw it is
/// withdrawn instead of followed by a cancellation. `true` if one was removed.
pub(crate) fn withdraw_event<E>(
    events: &mut std::collections::VecDeque<E>,
    matches: impl Fn(&E) -> bool,
) -> bool {
    match events.iter().position(matches) {
        Some(at) => events.remove(at).is_some(),
        None => false,
    }
}

/// The ids of a table of peer requests, emptied, in an order that does not depend on the
/// table's hash seed (by their JSON text), so the events made from them come out the same on
/// every run.
pub(crate) fn take_in_order(ids: &mut foldhash::HashSet<RequestId>) -> Vec<RequestId> {
    let mut v: Vec<RequestId> = std::mem::take(ids).into_iter().collect();
    v.sort_by_cached_key(|id| id.to_string());
    v
}

/// Formats seconds like Python's `str(float)`: `0.5`, `5.0`, `1e-05`, `1e+16`.
pub(crate) fn format_seconds(d: Duration) -> String {
    python_float_str(d.as_secs_f64())
}

fn python_float_str(v: f64) -> String {
    if v == 0.0 {
        return "0.0".into();
    }
    let abs = v.abs();
    if (1e-4..1e16).contains(&abs) {
        let s = format!("{v}");
        if s.contains('.') {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        // Rust: `1e-5`, `1.5e16`; Python: `1e-05`, `1.5e+16`.
        let s = format!("{v:e}");
        match s.split_once('e') {
            Some((mantissa, exp)) => {
                let (sign, digits) = match exp.strip_prefix('-') {
                    Some(d) => ('-', d),
                    None => ('+', exp),
                };
                format!("{mantissa}e{sign}{digits:0>2}")
            }
            None => s,
        }
    }
}

#[cfg(test)]
mod format_tests {
    use super::*;

    #[test]
    fn python_float_repr() {
        assert_eq!(format_seconds(Duration::from_millis(500)), "0.5");
        assert_eq!(format_seconds(Duration::from_secs(5)), "5.0");
        assert_eq!(format_seconds(Duration::from_millis(100)), "0.1");
        assert_eq!(format_seconds(Duration::from_millis(1500)), "1.5");
        assert_eq!(format_seconds(Duration::ZERO), "0.0");
        assert_eq!(format_seconds(Duration::from_secs(300)), "300.0");
        assert_eq!(python_float_str(1e-5), "1e-05");
        assert_eq!(python_float_str(0.0001), "0.0001");
        assert_eq!(python_float_str(1.5e16), "1.5e+16");
        assert_eq!(python_float_str(1e100), "1e+100");
    }

    #[test]
    fn session_error_objects() {
        assert_eq!(
            SessionError::ConnectionClosed.to_error_object(),
            ErrorObject::connection_closed()
        );
        assert_eq!(
            SessionError::TooManyPending { limit: 2 }
                .to_error_object()
                .code,
            -32603
        );
    }
}
