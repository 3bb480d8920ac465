//! The composed sans-IO MCP server: one [`ServerEndpoint`] owns the HTTP+SSE
//! [`transport::Server`](crate::transport::Server) and one
//! [`session::ServerSession`](crate::session::ServerSession) per SSE session, and joins them
//! with no executor, no lock and no clock.
//!
//! What the endpoint decides (and glue used to decide in async code):
//! - **which session a POST belongs to**: the transport routes it; the endpoint feeds the
//!   message to that session's machine, with the POST's headers attached to the events it
//!   produces;
//! - **when a session machine exists**: from the transport's `SessionOpened` to its
//!   `SessionClosed`; on close the machine is told the connection is lost, so every request it
//!   announced resolves exactly once (answered, or [`EndpointEvent::RequestCancelled`]) and every
//!   server→client request resolves (-32000 `Connection closed`);
//! - **how session output becomes SSE messages**: each message the machine wants to send moves
//!   into the transport while [`transport::Server::send`](crate::transport::Server::send)
//!   accepts it;
//! - **backpressure**: when the transport refuses (`QueueFull`, a slow SSE reader), the
//!   refused message waits in the endpoint (one per session) and the rest wait in the session
//!   machine (bounded by its `max_outbound`) until the transport reports the stream writable.
//!   While a session is held back, client messages for it are parked (bounded by
//!   [`EndpointConfig::max_parked_messages`]) and the connections they came from stop being
//!   read ([`ServerEndpoint::wants_read`]) until they are delivered, so a client that does not
//!   read its stream cannot make the server buffer without bound;
//! - **the session timers**: one [`ServerEndpoint::poll_timeout`] for the transport and every
//!   session (a heap of the sessions' deadlines, re-read only for sessions that changed);
//! - **shutdown** (DIVERGENCE 6): every request still being handled is answered -32603
//!   `Server shutting down`, what was queued is flushed, then every stream ends with the final
//!   chunk `0\r\n\r\n`.
//!
//! # Calling order
//!
//! As with quinn-proto's `Endpoint`, I/O instructions and protocol events come out separately:
//!
//! 1. **Input.** For an accepted socket call [`ServerEndpoint::open_connection`]. Feed what you
//!    read with [`ServerEndpoint::handle_bytes`] (only while
//!    [`ServerEndpoint::wants_read`] is `true`), end of input with
//!    [`ServerEndpoint::handle_eof`], a dead socket with [`ServerEndpoint::handle_close`].
//! 2. **I/O instructions.** After *every* call into the endpoint (input, timers, the
//!    application calls below), drain [`ServerEndpoint::poll_io`]:
//!    - [`IoEvent::Transmit`]: write what [`ServerEndpoint::poll_transmit`] returns for that
//!      connection until it returns `None`, then close the socket if
//!      [`ServerEndpoint::wants_close`] says so (and call `handle_close`). Taking bytes can
//!      resume held-back work, so drain `poll_io` again afterwards;
//!    - [`IoEvent::Readable`]: reading that connection may resume (check `wants_read`).
//!      After writing, re-check `wants_read` too (the transport holds back a connection whose
//!      replies the peer does not read, and resumes it as they are taken).
//! 3. **Protocol events.** Drain [`ServerEndpoint::poll_event`] and act on each
//!    [`EndpointEvent`]: answer requests with [`ServerEndpoint::respond`], talk to the client
//!    with [`ServerEndpoint::notify`], [`ServerEndpoint::send_request`] and
//!    [`ServerEndpoint::cancel_request`]. These calls produce I/O instructions (step 2).
//! 4. **Time.** Arm one timer for [`ServerEndpoint::poll_timeout`] (re-read it after every
//!    call: any call may move it earlier) and call [`ServerEndpoint::handle_timeout`] when it
//!    passes; then steps 2 and 3.
//! 5. **Shutdown.** [`ServerEndpoint::shutdown`], then keep driving (steps 2–4) until
//!    [`ServerEndpoint::connection_count`] is zero.
//!
//! # Direct sessions
//!
//! A session with no HTTP stream (an in-memory link, a test) is opened with
//! [`ServerEndpoint::open_direct_session`]: the same session machine, timers, backpressure and
//! shutdown, with messages instead of bytes. Feed client messages with
//! [`ServerEndpoint::handle_direct_message`] (while [`ServerEndpoint::is_held_back`] is
//! `false`; otherwise they are parked, as for a stream), take what the session sends with
//! [`ServerEndpoint::poll_direct`] when [`IoEvent::Direct`] names it (at most
//! [`DIRECT_QUEUE_MESSAGES`] wait there; the rest wait in the session machine), and end it
//! with [`ServerEndpoint::close_direct_session`]. No [`EndpointEvent::SessionOpened`] is
//! announced for it (its id is returned); its [`EndpointEvent::SessionClosed`] is.
//!
//! Nothing is lost by calling in another order; output simply waits in the queues (each with
//! its bound) until it is polled.

mod server;

use std::time::Duration;

use serde_json::{Map, Value};

use crate::http::{Headers, RequestHead};
use crate::jsonrpc::{ErrorObject, Message, Notification, RequestId};
use crate::session::{self, LogLevel, SessionError};
use crate::transport::{self, ConnectionId, SessionId};

pub use server::{ForwardError, ServerEndpoint};

/// Default bound on client messages parked for one held-back session
/// ([`EndpointConfig::max_parked_messages`]).
pub const DEFAULT_MAX_PARKED_MESSAGES: usize = 256;
/// Default bound on protocol events waiting in [`ServerEndpoint::poll_event`]
/// ([`EndpointConfig::max_queued_events`]).
pub const DEFAULT_MAX_QUEUED_EVENTS: usize = 4096;
/// Bound on messages a direct session holds for the driver ([`ServerEndpoint::poll_direct`]).
/// At the bound the session is held back, like a stream whose reader is slow: its further
/// output waits in the session machine (bounded by its `max_outbound`) and client messages
/// for it are parked.
pub const DIRECT_QUEUE_MESSAGES: usize = 16;
/// Default time [`ServerEndpoint::shutdown`] waits for held-back sessions to flush before it
/// ends the streams anyway ([`EndpointConfig::shutdown_grace`]).
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Configuration of a [`ServerEndpoint`].
#[derive(Debug, Clone)]
pub struct EndpointConfig {
    /// The HTTP+SSE transport (paths, security, HTTP limits, the per-stream byte bound
    /// `max_session_queue_bytes`, pings, `max_sessions`).
    pub transport: transport::ServerConfig,
    /// Every session's MCP configuration (server info, instructions, features, and its bounds,
    /// among them `max_outbound`: how many messages a held-back session keeps).
    pub session: session::ServerConfig,
    /// Bound on client messages parked for one session while its stream is held back. At the
    /// bound the oldest goes to the session machine (order is kept), whose own bounds then
    /// apply (it drops
    /// automatic replies beyond its `max_outbound` and counts them in
    /// [`ServerSession::dropped_outbound`](crate::session::ServerSession::dropped_outbound)).
    /// A client within the connection limits reaches it only by writing on many connections
    /// while not reading its stream.
    pub max_parked_messages: usize,
    /// Bound on events waiting in [`ServerEndpoint::poll_event`]. At the bound no connection is
    /// read ([`ServerEndpoint::wants_read`] is `false`) until the application has taken half of
    /// them; events that do not come from input (timers, closed connections) are bounded by the
    /// sessions' own tables.
    pub max_queued_events: usize,
    /// How long [`ServerEndpoint::shutdown`] waits for held-back streams to take their queued
    /// messages before it ends them anyway (what they did not take is then discarded).
    pub shutdown_grace: Duration,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        EndpointConfig {
            transport: transport::ServerConfig::default(),
            session: session::ServerConfig::default(),
            max_parked_messages: DEFAULT_MAX_PARKED_MESSAGES,
            max_queued_events: DEFAULT_MAX_QUEUED_EVENTS,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
        }
    }
}

/// An I/O instruction for the driver (see the [module docs](self) for the calling order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoEvent {
    /// The connection has bytes to write, or is finished: call
    /// [`ServerEndpoint::poll_transmit`] until `None`, then [`ServerEndpoint::wants_close`].
    Transmit(ConnectionId),
    /// The endpoint no longer holds back reading this connection (its parked messages were
    /// delivered, or the event queue went down): check [`ServerEndpoint::wants_read`].
    Readable(ConnectionId),
    /// A direct session has messages for its client: call [`ServerEndpoint::poll_direct`]
    /// until `None` (see [Direct sessions](self#direct-sessions)).
    Direct(SessionId),
    /// A request was refused (an answer of 400 or more: a failed check, a bad body, an unknown
    /// session, a timeout). Nothing to do but log it; the answer is already queued.
    Rejected {
        /// The connection (or host exchange) that carried it.
        connection: ConnectionId,
        /// The status it was answered.
        status: u16,
        /// The answer's body (the reason, in the reference's words).
        reason: &'static str,
    },
}

/// Why a request the application was handling will not be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelReason {
    /// The client sent `notifications/cancelled` for it.
    Client,
    /// The session's SSE stream ended (the client went away).
    ConnectionLost,
    /// The server is shutting down; the client was answered -32603 `Server shutting down`.
    Shutdown,
}

/// A protocol event for the application.
///
/// Every event of the inner machines comes out as one of these, except these documented
/// internal ones: a transport `Transmit` becomes an [`IoEvent`]; a transport `Writable` makes
/// the endpoint move the held-back session's output on (and deliver its parked messages);
/// during [`ServerEndpoint::shutdown`] a new client request is answered -32603
/// `Server shutting down` by the endpoint itself instead of being announced; a session
/// `RequestCancelled` for a request the shutdown already answered is dropped (its
/// [`EndpointEvent::RequestCancelled`] with [`CancelReason::Shutdown`] came first).
#[derive(Debug, Clone, PartialEq)]
pub enum EndpointEvent {
    /// A `GET` opened a session (its `endpoint` event is already queued).
    SessionOpened {
        /// The new session.
        session: SessionId,
        /// The connection carrying its stream (its end ends the session).
        connection: ConnectionId,
        /// The GET request's head (its headers, e.g. `Authorization`).
        request: Box<RequestHead>,
    },
    /// `initialize` was answered.
    Initialized {
        /// The session.
        session: SessionId,
        /// The negotiated version.
        protocol_version: String,
        /// The client's `clientInfo`, verbatim.
        client_info: Value,
        /// The client's `capabilities`, verbatim.
        client_capabilities: Value,
    },
    /// A client request for the application; answer it with [`ServerEndpoint::respond`]
    /// exactly once, unless a [`EndpointEvent::RequestCancelled`] for it comes first.
    Request {
        /// The session.
        session: SessionId,
        /// The client's id.
        id: RequestId,
        /// The method (one of the enabled features').
        method: String,
        /// Params, verbatim (including `_meta`).
        params: Option<Map<String, Value>>,
        /// The headers of the POST that carried it.
        headers: Headers,
        /// The connection or host exchange whose POST carried it (`None` for a direct
        /// session), so a driver can find what it keeps per request (a host's extensions).
        connection: Option<ConnectionId>,
    },
    /// A request announced by [`EndpointEvent::Request`] will not be answered: stop its
    /// handler; a later [`ServerEndpoint::respond`] for it fails with
    /// [`EndpointError::NotInFlight`].
    RequestCancelled {
        /// The session.
        session: SessionId,
        /// The request's id.
        id: RequestId,
        /// Why.
        reason: CancelReason,
    },
    /// A client notification (`notifications/initialized`, progress, roots/list_changed, …;
    /// `notifications/cancelled` is consumed by the session and shows as
    /// [`EndpointEvent::RequestCancelled`]).
    Notification {
        /// The session.
        session: SessionId,
        /// The notification.
        notification: Notification,
        /// The headers of the POST that carried it.
        headers: Headers,
        /// As for [`EndpointEvent::Request`].
        connection: Option<ConnectionId>,
    },
    /// The answer to a [`ServerEndpoint::send_request`]: exactly once per request (the
    /// client's result or error, -32001 on timeout, -32000 when the session ended).
    Response {
        /// The session.
        session: SessionId,
        /// Our request's id.
        id: RequestId,
        /// The outcome.
        result: Result<Value, ErrorObject>,
    },
    /// `logging/setLevel` was accepted (and answered `{}`); [`ServerEndpoint::notify`] filters
    /// `notifications/message` below it.
    LogLevelChanged {
        /// The session.
        session: SessionId,
        /// The new minimum level.
        level: LogLevel,
    },
    /// A client message the session dropped (e.g. a request reusing an in-flight id).
    InvalidMessage {
        /// The session.
        session: SessionId,
        /// What was wrong.
        reason: &'static str,
        /// The offending message.
        message: Message,
    },
    /// An application call on `session` ([`ServerEndpoint::notify`],
    /// [`ServerEndpoint::send_request`]) was refused with
    /// [`SessionError::OutboundFull`](crate::session::SessionError::OutboundFull); its
    /// outbound queue has room again: retry. At most one per refusal.
    Writable {
        /// The session.
        session: SessionId,
    },
    /// The session ended (its stream disconnected, or the server shut down). Its cancellations
    /// and resolutions came before this event; nothing more comes for it.
    SessionClosed {
        /// The session.
        session: SessionId,
    },
    /// Scale-out: a POST for a session this instance does not hold (only with the
    /// transport's [`foreign`](crate::transport::ServerConfig::foreign) setting). Its
    /// connection is parked, unanswered: ask the session bus and call
    /// [`ServerEndpoint::resolve_foreign`] with what it said (see [`crate::cluster`]).
    ForeignPost {
        /// The parked POST connection.
        connection: ConnectionId,
        /// The session it names.
        session: SessionId,
        /// The [forward frame](crate::cluster::frame) to hand to the session's owner; `None`
        /// when the body did not parse: then only ask whether the session exists anywhere
        /// (the answer is `400` if it does, `404` if not).
        frame: Option<bytes::Bytes>,
    },
}

/// Why the endpoint refused an application call.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EndpointError {
    /// No such session (never was, or it has ended).
    #[error("no such session {0}")]
    UnknownSession(SessionId),
    /// The request is not awaiting an answer: already answered, cancelled by the client, its
    /// session ended, or answered by the shutdown.
    #[error("request {0} is not in flight")]
    NotInFlight(RequestId),
    /// The session machine refused (closed, too many pending requests, outbound queue full:
    /// [`SessionError`]'s own bounds).
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The server is shutting down: no new server→client requests.
    #[error("the server is shutting down")]
    ShuttingDown,
}

impl EndpointError {
    /// The JSON-RPC error an application call that awaited this call's outcome resolves with:
    /// -32000 `Connection closed` for a session that is gone, -32603 `Server shutting down`,
    /// and the session machine's own mapping otherwise.
    pub fn to_error_object(&self) -> ErrorObject {
        match self {
            EndpointError::UnknownSession(_) => ErrorObject::connection_closed(),
            EndpointError::NotInFlight(id) => {
                ErrorObject::internal_error(format!("request {id} is not in flight"))
            }
            EndpointError::Session(e) => e.to_error_object(),
            EndpointError::ShuttingDown => ErrorObject::server_shutting_down(),
        }
    }

    /// Whether the call was refused only because the session's outbound queue is full (an
    /// [`EndpointEvent::Writable`] follows when it has room).
    pub fn is_outbound_full(&self) -> bool {
        matches!(
            self,
            EndpointError::Session(SessionError::OutboundFull { .. })
        )
    }
}

#[cfg(test)]
mod direct_tests;
