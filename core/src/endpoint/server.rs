//! [`ServerEndpoint`]: the transport and the session machines, composed.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use foldhash::{HashMap, HashSet};
use serde_json::{Map, Value};

use super::{
    CancelReason, EndpointConfig, EndpointError, EndpointEvent, IoEvent, DIRECT_QUEUE_MESSAGES,
};
use crate::http::Headers;
use crate::jsonrpc::{ErrorObject, Message, RequestId};
use crate::session::{ServerEvent as SessionEvent, ServerSession, SessionError};
use crate::transport::{self, ConnectionId, SendError, ServerEvent, SessionId};

mod cluster;
pub use cluster::ForwardError;

/// A client message waiting for its held-back session.
#[derive(Debug)]
struct Parked {
    message: Message,
    headers: Headers,
    /// The connection it came from (held back from reading until this is delivered).
    connection: Option<ConnectionId>,
}

/// One live session: its MCP machine and what the endpoint holds for it.
#[derive(Debug)]
struct Slot {
    machine: ServerSession,
    /// A serialized message the transport refused (`QueueFull`): the session is held back
    /// until the transport reports it writable. At most one: the rest wait in the machine.
    refused: Option<Vec<u8>>,
    /// Client messages that arrived while the session was held back, in order.
    parked: VecDeque<Parked>,
    /// Requests announced to the application and not yet answered or cancelled (what the
    /// shutdown answers).
    open_requests: HashSet<RequestId>,
    /// The deadline of this session's newest entry in the timer heap, while it is there.
    armed: Option<Instant>,
    /// An application call was refused `OutboundFull`: announce [`EndpointEvent::Writable`]
    /// once the machine's queue shrinks.
    starved: bool,
    /// A direct session's messages for the driver (at most [`DIRECT_QUEUE_MESSAGES`]); `None`
    /// for a session on an SSE stream.
    direct: Option<VecDeque<Message>>,
}

impl Slot {
    fn new(machine: ServerSession, direct: bool) -> Self {
        Slot {
            machine,
            refused: None,
            parked: VecDeque::new(),
            open_requests: HashSet::default(),
            armed: None,
            starved: false,
            direct: direct.then(VecDeque::new),
        }
    }

    fn held_back(&self) -> bool {
        self.refused.is_some()
            || self
                .direct
                .as_ref()
                .is_some_and(|q| q.len() >= DIRECT_QUEUE_MESSAGES)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shutdown {
    /// Running.
    No,
    /// Answering and flushing; the transport ends the streams once every session has
    /// flushed, or at `deadline`.
    Draining { deadline: Instant },
    /// The transport was shut down.
    Done,
}

/// The composed legacy HTTP+SSE MCP server, sans-IO: every connection, every session, and
/// the MCP session machine of each. See the [module docs](super) for the calling order.
///
/// ```
/// use std::time::{Instant, SystemTime};
/// use bytes::Bytes;
/// use mcp_sse_core::endpoint::{EndpointConfig, EndpointEvent, IoEvent, ServerEndpoint};
/// use mcp_sse_core::session::{ServerConfig, ServerFeatures};
///
/// let config = EndpointConfig {
///     session: ServerConfig {
///         features: ServerFeatures { tools: true, ..ServerFeatures::default() },
///         ..ServerConfig::default()
///     },
///     ..EndpointConfig::default()
/// };
/// let mut server = ServerEndpoint::new(config, Box::new(|| [7u8; 16]));
/// let now = Instant::now();
///
/// // A client opens its stream...
/// let get = server.open_connection(now);
/// server.handle_bytes(get, Bytes::from_static(b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n"), now);
/// let Some(EndpointEvent::SessionOpened { session, .. }) = server.poll_event() else { panic!() };
///
/// // ... and POSTs `initialize` then a tool call on another connection.
/// let post = server.open_connection(now);
/// for body in [
///     r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#,
///     r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}"#,
/// ] {
///     let req = format!(
///         "POST /messages/?session_id={session} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\
///          Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
///         body.len()
///     );
///     server.handle_bytes(post, Bytes::from(req), now);
/// }
/// // The application answers the requests the session passes on.
/// while let Some(ev) = server.poll_event() {
///     if let EndpointEvent::Request { session, id, .. } = ev {
///         let result = serde_json::json!({"content": [{"type": "text", "text": "hi"}]});
///         server.respond(session, id, Ok(result)).unwrap();
///     }
/// }
/// // The driver writes what the I/O instructions name.
/// let mut stream = Vec::new();
/// while let Some(io) = server.poll_io() {
///     if let IoEvent::Transmit(conn) = io {
///         while let Some(bytes) = server.poll_transmit(conn, now) {
///             if conn == get { stream.extend_from_slice(&bytes); }
///         }
///     }
/// }
/// let stream = String::from_utf8(stream).unwrap();
/// assert!(stream.contains(r#"data: {"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"hi"}]}}"#));
///
/// // Timers: one deadline for everything (here the stream's keep-alive ping).
/// let at = server.poll_timeout().unwrap();
/// server.handle_timeout(at, SystemTime::UNIX_EPOCH);
/// ```
pub struct ServerEndpoint {
    config: EndpointConfig,
    transport: transport::Server,
    sessions: HashMap<SessionId, Slot>,
    events: VecDeque<EndpointEvent>,
    io: VecDeque<IoEvent>,
    /// Session deadlines, earliest first; an entry is current while its session is armed
    /// with exactly that deadline (outdated ones are dropped when they reach the top, or when
    /// the heap is rebuilt).
    timers: BinaryHeap<Reverse<(Instant, SessionId)>>,
    /// Parked messages per connection they came from: such a connection is not read.
    held: HashMap<ConnectionId, usize>,
    /// Connections handed input while the event queue was at its bound.
    throttled: HashSet<ConnectionId>,
    shutdown: Shutdown,
    /// The latest `now` seen (for work resumed by calls that take no time).
    now: Option<Instant>,
    /// Reused serialization buffer.
    scratch: Vec<u8>,
    /// The last direct session id handed out (direct ids are below 2^64, so never a version-4
    /// UUID the transport makes).
    direct_ids: u64,
}

impl std::fmt::Debug for ServerEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerEndpoint")
            .field("transport", &self.transport)
            .field("sessions", &self.sessions.len())
            .field("events", &self.events.len())
            .field("shutdown", &self.shutdown)
            .finish()
    }
}

impl ServerEndpoint {
    /// Creates an endpoint. `random` yields 16 random bytes per new session id (a real
    /// generator in drivers, a deterministic one in tests).
    pub fn new(config: EndpointConfig, random: Box<dyn FnMut() -> [u8; 16] + Send>) -> Self {
        ServerEndpoint {
            transport: transport::Server::new(config.transport.clone(), random),
            config,
            sessions: HashMap::default(),
            events: VecDeque::new(),
            io: VecDeque::new(),
            timers: BinaryHeap::new(),
            held: HashMap::default(),
            throttled: HashSet::default(),
            shutdown: Shutdown::No,
            now: None,
            scratch: Vec::new(),
            direct_ids: 0,
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &EndpointConfig {
        &self.config
    }

    /// The transport machine (read-only: its security settings, queued bytes, counts).
    pub fn transport(&self) -> &transport::Server {
        &self.transport
    }

    /// Live sessions.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// Open connections.
    pub fn connection_count(&self) -> usize {
        self.transport.connection_count()
    }

    /// Whether `session` is live.
    pub fn has_session(&self, session: SessionId) -> bool {
        self.sessions.contains_key(&session)
    }

    /// `session`'s MCP machine (read-only: negotiated version, log level, counters).
    pub fn session(&self, session: SessionId) -> Option<&ServerSession> {
        self.sessions.get(&session).map(|s| &s.machine)
    }

    /// Whether `session`'s stream is held back (the transport refused a message; its output
    /// waits until the client reads).
    pub fn is_held_back(&self, session: SessionId) -> bool {
        self.sessions.get(&session).is_some_and(Slot::held_back)
    }

    /// Whether [`ServerEndpoint::shutdown`] was called.
    pub fn is_shutting_down(&self) -> bool {
        self.shutdown != Shutdown::No
    }

    fn saw(&mut self, now: Instant) {
        if self.now.is_none_or(|n| now > n) {
            self.now = Some(now);
        }
    }

    // ---------------------------------------------------------------- I/O side

    /// Registers a newly accepted connection.
    pub fn open_connection(&mut self, now: Instant) -> ConnectionId {
        self.saw(now);
        let id = self.transport.open_connection(now);
        self.pump(None, now);
        id
    }

    /// Feeds bytes read from `connection`.
    pub fn handle_bytes(&mut self, connection: ConnectionId, data: Bytes, now: Instant) {
        self.saw(now);
        if self.events.len() >= self.config.max_queued_events {
            self.throttled.insert(connection);
        }
        self.transport.handle_bytes(connection, data, now);
        self.pump(Some(connection), now);
    }

    /// The peer finished sending on `connection` (read side EOF).
    pub fn handle_eof(&mut self, connection: ConnectionId, now: Instant) {
        self.saw(now);
        self.transport.handle_eof(connection, now);
        self.pump(Some(connection), now);
    }

    /// `connection` is gone (closed by either side, or failed). Ends its session if it carried
    /// one.
    pub fn handle_close(&mut self, connection: ConnectionId) {
        self.transport.handle_close(connection);
        self.held.remove(&connection);
        self.throttled.remove(&connection);
        // Without a time seen, no connection was ever opened: there is nothing to pump.
        if let Some(now) = self.now {
            self.pump(None, now);
        }
    }

    /// Takes the next bytes to write on `connection`. Taking them can resume work (a stream
    /// that was held back, pipelined requests): drain [`ServerEndpoint::poll_io`] and
    /// [`ServerEndpoint::poll_event`] after writing.
    pub fn poll_transmit(&mut self, connection: ConnectionId, now: Instant) -> Option<Bytes> {
        self.saw(now);
        let bytes = self.transport.poll_transmit(connection, now);
        self.pump(Some(connection), now);
        bytes
    }

    /// Opens an exchange for a request a host HTTP server (hyper, axum) has parsed, as
    /// [`transport::Server::open_exchange`]: routed now, answered by [`Self::poll_response`],
    /// a stream's frames taken with [`Self::poll_transmit`], the end reported with
    /// [`Self::handle_close`]. Everything else (sessions, backpressure, timers, shutdown) is as
    /// for a connection; a driver answers a POST only once [`Self::wants_read`] allows it, which
    /// holds the POSTing client back while its session's messages are parked.
    pub fn open_exchange(
        &mut self,
        head: crate::http::RequestHead,
        root_path: Option<&str>,
        now: Instant,
    ) -> ConnectionId {
        self.saw(now);
        let id = self.transport.open_exchange(head, root_path, now);
        self.pump(Some(id), now);
        id
    }

    /// Body bytes of an exchange's request.
    pub fn handle_exchange_body(&mut self, exchange: ConnectionId, data: Bytes, now: Instant) {
        self.saw(now);
        self.transport.handle_exchange_body(exchange, data, now);
        self.pump(Some(exchange), now);
    }

    /// The end of an exchange's request body.
    pub fn handle_exchange_end(&mut self, exchange: ConnectionId, now: Instant) {
        self.saw(now);
        if self.events.len() >= self.config.max_queued_events {
            self.throttled.insert(exchange);
        }
        self.transport.handle_exchange_end(exchange, now);
        self.pump(Some(exchange), now);
    }

    /// The host could not read an exchange's request body: it gets no answer.
    pub fn handle_exchange_error(&mut self, exchange: ConnectionId, now: Instant) {
        self.saw(now);
        self.transport.handle_exchange_error(exchange);
        self.pump(Some(exchange), now);
    }

    /// The answer to an exchange's request once decided (taken once).
    pub fn poll_response(&mut self, exchange: ConnectionId) -> Option<transport::HostResponse> {
        self.transport.poll_response(exchange)
    }

    /// Whether the driver should read more from `connection`: the transport wants input, no
    /// message it delivered is parked for a held-back session, and the event queue is below
    /// [`EndpointConfig::max_queued_events`].
    pub fn wants_read(&self, connection: ConnectionId) -> bool {
        self.transport.wants_read(connection)
            && !self.held.contains_key(&connection)
            && self.events.len() < self.config.max_queued_events
    }

    /// Whether the driver should close `connection` now (everything queued was taken and it is
    /// finished).
    pub fn wants_close(&self, connection: ConnectionId) -> bool {
        self.transport.wants_close(connection)
    }

    /// The next I/O instruction.
    pub fn poll_io(&mut self) -> Option<IoEvent> {
        self.io.pop_front()
    }

    // ---------------------------------------------------------------- application side

    /// The next protocol event.
    pub fn poll_event(&mut self) -> Option<EndpointEvent> {
        let ev = self.events.pop_front()?;
        if !self.throttled.is_empty() && self.events.len() <= self.config.max_queued_events / 2 {
            for conn in std::mem::take(&mut self.throttled) {
                if !self.held.contains_key(&conn) {
                    self.io.push_back(IoEvent::Readable(conn));
                }
            }
        }
        Some(ev)
    }

    /// Answers a [`EndpointEvent::Request`].
    pub fn respond(
        &mut self,
        session: SessionId,
        id: RequestId,
        result: Result<Value, ErrorObject>,
    ) -> Result<(), EndpointError> {
        let slot = self
            .sessions
            .get_mut(&session)
            .ok_or(EndpointError::UnknownSession(session))?;
        if !slot.open_requests.remove(&id) || !slot.machine.respond(id.clone(), result) {
            return Err(EndpointError::NotInFlight(id));
        }
        self.after_call(session);
        Ok(())
    }

    /// Sends a notification on `session`. `notifications/message` below the level the client
    /// set is filtered: `Ok(false)`, nothing sent.
    pub fn notify(
        &mut self,
        session: SessionId,
        method: &str,
        params: Option<Map<String, Value>>,
    ) -> Result<bool, EndpointError> {
        let slot = self
            .sessions
            .get_mut(&session)
            .ok_or(EndpointError::UnknownSession(session))?;
        let sent = slot.machine.notify(method, params);
        if matches!(sent, Err(SessionError::OutboundFull { .. })) {
            slot.starved = true;
        }
        let sent = sent?;
        self.after_call(session);
        Ok(sent)
    }

    /// Sends a server→client request (`sampling/createMessage`, `roots/list`,
    /// `elicitation/create`, `ping`, …). It resolves as exactly one
    /// [`EndpointEvent::Response`]; `timeout` counts from `now` (-32001 and
    /// `notifications/cancelled` when it passes).
    pub fn send_request(
        &mut self,
        session: SessionId,
        method: &str,
        params: Option<Map<String, Value>>,
        timeout: Option<Duration>,
        now: Instant,
    ) -> Result<RequestId, EndpointError> {
        self.saw(now);
        if self.shutdown != Shutdown::No {
            return Err(EndpointError::ShuttingDown);
        }
        let slot = self
            .sessions
            .get_mut(&session)
            .ok_or(EndpointError::UnknownSession(session))?;
        let id = slot.machine.send_request(method, params, timeout, now);
        if matches!(id, Err(SessionError::OutboundFull { .. })) {
            slot.starved = true;
        }
        let id = id?;
        self.after_call(session);
        Ok(id)
    }

    /// Gives up on a server→client request: it resolves nothing further and the client gets
    /// `notifications/cancelled` with `reason`. `Ok(false)` if it was not pending.
    pub fn cancel_request(
        &mut self,
        session: SessionId,
        id: &RequestId,
        reason: &str,
    ) -> Result<bool, EndpointError> {
        let slot = self
            .sessions
            .get_mut(&session)
            .ok_or(EndpointError::UnknownSession(session))?;
        let cancelled = slot.machine.cancel_request(id, reason);
        self.after_call(session);
        Ok(cancelled)
    }

    /// Shuts the server down (DIVERGENCE 6): every request still being handled is answered
    /// -32603 `Server shutting down` (and reported [`CancelReason::Shutdown`]), requests
    /// arriving from now on are answered the same, what is queued is flushed, then every
    /// stream ends with the final chunk and every session closes. Streams held back by a slow
    /// reader get [`EndpointConfig::shutdown_grace`] from `now` to take their messages.
    pub fn shutdown(&mut self, now: Instant) {
        if self.shutdown != Shutdown::No {
            return;
        }
        self.saw(now);
        self.shutdown = Shutdown::Draining {
            deadline: now + self.config.shutdown_grace,
        };
        let mut ids: Vec<SessionId> = self.sessions.keys().copied().collect();
        ids.sort();
        for session in ids {
            let Some(slot) = self.sessions.get_mut(&session) else {
                continue;
            };
            let mut open: Vec<RequestId> = slot.open_requests.drain().collect();
            open.sort_by_cached_key(|id| id.to_string());
            for id in open {
                if slot
                    .machine
                    .respond(id.clone(), Err(ErrorObject::server_shutting_down()))
                {
                    self.events.push_back(EndpointEvent::RequestCancelled {
                        session,
                        id,
                        reason: CancelReason::Shutdown,
                    });
                }
            }
            self.after_call(session);
        }
        self.finish_shutdown_if_flushed();
        self.pump(None, now);
    }

    // ---------------------------------------------------------------- direct sessions

    /// Opens a session with no HTTP stream (see [Direct sessions](super#direct-sessions)).
    /// No [`EndpointEvent::SessionOpened`] is announced: the id is returned. The transport's
    /// `max_sessions` does not count it.
    pub fn open_direct_session(&mut self, now: Instant) -> SessionId {
        self.saw(now);
        self.direct_ids += 1;
        let session = SessionId::from_u128(u128::from(self.direct_ids));
        self.sessions.insert(
            session,
            Slot::new(ServerSession::new(self.config.session.clone()), true),
        );
        session
    }

    fn is_direct(&self, session: SessionId) -> bool {
        self.sessions
            .get(&session)
            .is_some_and(|s| s.direct.is_some())
    }

    /// Feeds one client message to direct session `session` (parked while it is held back,
    /// as a POST's message would be). `Err` if `session` is not a live direct session.
    pub fn handle_direct_message(
        &mut self,
        session: SessionId,
        message: Message,
        now: Instant,
    ) -> Result<(), EndpointError> {
        self.saw(now);
        if !self.is_direct(session) {
            return Err(EndpointError::UnknownSession(session));
        }
        self.on_message(session, message, Headers::default(), None, now);
        self.pump(None, now);
        Ok(())
    }

    /// Takes the next message direct session `session` sends to its client. Taking one makes
    /// room: held-back output and parked client messages move on (drain
    /// [`ServerEndpoint::poll_event`] afterwards).
    pub fn poll_direct(&mut self, session: SessionId) -> Option<Message> {
        let slot = self.sessions.get_mut(&session)?;
        let msg = slot.direct.as_mut()?.pop_front()?;
        self.flush(session);
        // Direct sessions exist only once a time was seen.
        if let Some(now) = self.now {
            self.deliver_parked(session, now);
            self.finish_shutdown_if_flushed();
            self.pump(None, now);
        }
        Some(msg)
    }

    /// Ends direct session `session` (its client went away): as a stream's end, every request
    /// being handled is reported [`EndpointEvent::RequestCancelled`]
    /// ([`CancelReason::ConnectionLost`]), every server→client request resolves -32000, then
    /// [`EndpointEvent::SessionClosed`]. `false` if it was not a live direct session.
    pub fn close_direct_session(&mut self, session: SessionId) -> bool {
        if !self.is_direct(session) {
            return false;
        }
        self.on_session_closed(session);
        self.finish_shutdown_if_flushed();
        true
    }

    // ---------------------------------------------------------------- time

    /// When [`ServerEndpoint::handle_timeout`] must next be called: the earliest of the
    /// transport's deadlines (pings, head-read and keep-alive timeouts), every session's
    /// (server→client request timeouts) and the shutdown grace.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        while let Some(&Reverse((at, session))) = self.timers.peek() {
            if self.timer_is_current(at, session) {
                break;
            }
            self.pop_timer();
        }
        let session = self.timers.peek().map(|Reverse((at, _))| *at);
        let shutdown = match self.shutdown {
            Shutdown::Draining { deadline } => Some(deadline),
            _ => None,
        };
        [self.transport.poll_timeout(), session, shutdown]
            .into_iter()
            .flatten()
            .min()
    }

    /// Runs what is due at `now`. `wall_clock` is only used to format the transport's ping
    /// comments (`: ping - <UTC time>`).
    pub fn handle_timeout(&mut self, now: Instant, wall_clock: SystemTime) {
        self.saw(now);
        self.transport.handle_timeout(now, wall_clock);
        self.pump(None, now);
        let mut due = Vec::new();
        while let Some(&Reverse((at, session))) = self.timers.peek() {
            if at > now {
                break;
            }
            let current = self.timer_is_current(at, session);
            self.pop_timer();
            if current && !due.contains(&session) {
                due.push(session);
            }
        }
        for session in due {
            if let Some(slot) = self.sessions.get_mut(&session) {
                slot.armed = None;
                slot.machine.handle_timeout(now);
                self.after_call(session);
            }
        }
        if let Shutdown::Draining { deadline } = self.shutdown {
            if now >= deadline {
                self.shutdown_transport();
            }
        }
        self.pump(None, now);
    }

    fn timer_is_current(&self, at: Instant, session: SessionId) -> bool {
        self.sessions
            .get(&session)
            .is_some_and(|s| s.armed == Some(at))
    }

    fn pop_timer(&mut self) {
        if let Some(Reverse((at, session))) = self.timers.pop() {
            if let Some(s) = self.sessions.get_mut(&session) {
                if s.armed == Some(at) {
                    s.armed = None;
                }
            }
        }
    }

    /// Re-reads `session`'s deadline after a call into its machine; pushes a heap entry only
    /// when it changed, and rebuilds the heap once outdated entries outnumber the sessions.
    fn rearm(&mut self, session: SessionId) {
        let Some(slot) = self.sessions.get_mut(&session) else {
            return;
        };
        let at = slot.machine.poll_timeout();
        if at == slot.armed {
            return;
        }
        slot.armed = at;
        if let Some(at) = at {
            self.timers.push(Reverse((at, session)));
        }
        if self.timers.len() > 2 * self.sessions.len() + 64 {
            let mut current = Vec::with_capacity(self.sessions.len());
            for (id, s) in &mut self.sessions {
                s.armed = s.machine.poll_timeout();
                if let Some(at) = s.armed {
                    current.push(Reverse((at, *id)));
                }
            }
            self.timers = BinaryHeap::from(current);
        }
    }

    // ---------------------------------------------------------------- composition

    /// Acts on the transport's events. `source` is the connection whose input (or output)
    /// the current call handled: client messages in these events came from it.
    fn pump(&mut self, source: Option<ConnectionId>, now: Instant) {
        while let Some(ev) = self.transport.poll_event() {
            match ev {
                ServerEvent::Transmit { connection } => {
                    self.io.push_back(IoEvent::Transmit(connection))
                }
                ServerEvent::SessionOpened {
                    session,
                    connection,
                    request,
                } => {
                    self.sessions.insert(
                        session,
                        Slot::new(ServerSession::new(self.config.session.clone()), false),
                    );
                    self.events.push_back(EndpointEvent::SessionOpened {
                        session,
                        connection,
                        request,
                    });
                }
                ServerEvent::Message {
                    session,
                    message,
                    headers,
                } => self.on_message(session, message, headers, source, now),
                ServerEvent::SessionClosed { session } => {
                    self.on_session_closed(session);
                    // The stream a shutdown was waiting for may be the one that ended.
                    self.finish_shutdown_if_flushed();
                }
                ServerEvent::Rejected {
                    connection,
                    status,
                    reason,
                } => self.io.push_back(IoEvent::Rejected {
                    connection,
                    status,
                    reason,
                }),
                ServerEvent::Writable { session } => {
                    self.flush(session);
                    self.deliver_parked(session, now);
                    self.finish_shutdown_if_flushed();
                }
                ServerEvent::ForeignPost {
                    connection,
                    session,
                    message,
                    principal,
                } => self.on_foreign_post(connection, session, message, principal),
            }
        }
    }

    fn on_message(
        &mut self,
        session: SessionId,
        message: Message,
        headers: Headers,
        source: Option<ConnectionId>,
        now: Instant,
    ) {
        let limit = self.config.max_parked_messages;
        // A message for a session the endpoint does not know cannot happen (the transport
        // opens a session before routing to it); it would have nowhere to go.
        let Some(slot) = self.sessions.get_mut(&session) else {
            return;
        };
        let must_wait = slot.held_back() || !slot.parked.is_empty();
        if !must_wait {
            self.deliver(session, message, headers, source, now);
            return;
        }
        // At the bound the oldest parked message goes to the machine now (in order; the
        // machine's own bounds apply to what it produces).
        let oldest = if slot.parked.len() >= limit {
            slot.parked.pop_front()
        } else {
            None
        };
        slot.parked.push_back(Parked {
            message,
            headers,
            connection: source,
        });
        if let Some(conn) = source {
            *self.held.entry(conn).or_insert(0) += 1;
        }
        if let Some(p) = oldest {
            self.release(p.connection);
            self.deliver(session, p.message, p.headers, p.connection, now);
        }
    }

    /// Feeds one client message to its session and moves what it produced on.
    fn deliver(
        &mut self,
        session: SessionId,
        message: Message,
        headers: Headers,
        source: Option<ConnectionId>,
        now: Instant,
    ) {
        let Some(slot) = self.sessions.get_mut(&session) else {
            return;
        };
        slot.machine.handle_message(message, now);
        self.take_session_events(session, Some(headers), source, None);
        self.flush(session);
        self.rearm(session);
    }

    /// Delivers parked messages while the session is not held back.
    fn deliver_parked(&mut self, session: SessionId, now: Instant) {
        loop {
            let Some(slot) = self.sessions.get_mut(&session) else {
                return;
            };
            if slot.held_back() {
                return;
            }
            let Some(p) = slot.parked.pop_front() else {
                return;
            };
            self.release(p.connection);
            self.deliver(session, p.message, p.headers, p.connection, now);
        }
    }

    /// One parked message from `connection` left the queue.
    fn release(&mut self, connection: Option<ConnectionId>) {
        let Some(conn) = connection else { return };
        let Some(n) = self.held.get_mut(&conn) else {
            return;
        };
        *n -= 1;
        if *n == 0 {
            self.held.remove(&conn);
            if self.events.len() < self.config.max_queued_events {
                self.io.push_back(IoEvent::Readable(conn));
            } else {
                self.throttled.insert(conn);
            }
        }
    }

    /// After an application call or a timer on `session`: its events, its output, its timer.
    fn after_call(&mut self, session: SessionId) {
        self.take_session_events(session, None, None, None);
        self.flush(session);
        self.rearm(session);
        // Sessions exist only once a connection was opened, with a time.
        if let Some(now) = self.now {
            self.deliver_parked(session, now);
            self.finish_shutdown_if_flushed();
            // The transport's events of the output just queued (its `Transmit`s).
            self.pump(None, now);
        }
    }

    /// Moves `session`'s output into the transport (or a direct session's queue) while it
    /// accepts it; announces [`EndpointEvent::Writable`] to a starved session once something
    /// left its machine.
    fn flush(&mut self, session: SessionId) {
        let moved = self.move_output(session);
        let Some(slot) = self.sessions.get_mut(&session) else {
            return;
        };
        if moved && slot.starved {
            slot.starved = false;
            self.events.push_back(EndpointEvent::Writable { session });
        }
    }

    /// [`ServerEndpoint::flush`]'s moving part: whether a message left the machine.
    fn move_output(&mut self, session: SessionId) -> bool {
        let Some(slot) = self.sessions.get_mut(&session) else {
            return false;
        };
        let mut moved = false;
        if let Some(queue) = &mut slot.direct {
            while queue.len() < DIRECT_QUEUE_MESSAGES {
                let Some(msg) = slot.machine.poll_transmit() else {
                    break;
                };
                queue.push_back(msg);
                moved = true;
            }
            if moved {
                self.io.push_back(IoEvent::Direct(session));
            }
            return moved;
        }
        if let Some(json) = slot.refused.take() {
            match self.transport.send_json(session, &json) {
                Ok(()) => {}
                Err(SendError::QueueFull { .. }) => {
                    slot.refused = Some(json);
                    return false;
                }
                // The stream is gone; its SessionClosed follows and discards the rest.
                Err(SendError::UnknownSession) => return false,
            }
        }
        while let Some(msg) = slot.machine.poll_transmit() {
            moved = true;
            self.scratch.clear();
            msg.write_to(&mut self.scratch);
            match self.transport.send_json(session, &self.scratch) {
                Ok(()) => {}
                Err(SendError::QueueFull { .. }) => {
                    slot.refused = Some(std::mem::take(&mut self.scratch));
                    break;
                }
                Err(SendError::UnknownSession) => break,
            }
        }
        moved
    }

    /// Moves the session machine's events to the application. `headers` are those of the
    /// client message just handled (for the request or notification it produced);
    /// `closing` is the reason for cancellations when the session is ending.
    fn take_session_events(
        &mut self,
        session: SessionId,
        mut headers: Option<Headers>,
        source: Option<ConnectionId>,
        closing: Option<CancelReason>,
    ) {
        let draining = self.shutdown != Shutdown::No;
        let Some(slot) = self.sessions.get_mut(&session) else {
            return;
        };
        while let Some(ev) = slot.machine.poll_event() {
            let out = match ev {
                SessionEvent::Initialized {
                    protocol_version,
                    client_info,
                    client_capabilities,
                } => EndpointEvent::Initialized {
                    session,
                    protocol_version,
                    client_info,
                    client_capabilities,
                },
                SessionEvent::Request { id, method, params } => {
                    if draining {
                        // Internal: no new work during shutdown.
                        slot.machine
                            .respond(id, Err(ErrorObject::server_shutting_down()));
                        continue;
                    }
                    slot.open_requests.insert(id.clone());
                    EndpointEvent::Request {
                        session,
                        id,
                        method,
                        params,
                        headers: headers.take().unwrap_or_default(),
                        connection: source,
                    }
                }
                SessionEvent::RequestCancelled { id } => {
                    if !slot.open_requests.remove(&id) {
                        // Answered already (by the shutdown): nothing to cancel.
                        continue;
                    }
                    EndpointEvent::RequestCancelled {
                        session,
                        id,
                        reason: closing.unwrap_or(CancelReason::Client),
                    }
                }
                SessionEvent::LogLevelChanged { level } => {
                    EndpointEvent::LogLevelChanged { session, level }
                }
                SessionEvent::Notification(notification) => EndpointEvent::Notification {
                    session,
                    notification,
                    headers: headers.take().unwrap_or_default(),
                    connection: source,
                },
                SessionEvent::ClientResponse { id, result } => EndpointEvent::Response {
                    session,
                    id,
                    result,
                },
                SessionEvent::InvalidMessage { reason, message } => EndpointEvent::InvalidMessage {
                    session,
                    reason,
                    message,
                },
            };
            self.events.push_back(out);
        }
    }

    fn on_session_closed(&mut self, session: SessionId) {
        let reason = if self.shutdown == Shutdown::No {
            CancelReason::ConnectionLost
        } else {
            CancelReason::Shutdown
        };
        if let Some(slot) = self.sessions.get_mut(&session) {
            slot.machine.handle_connection_lost();
        }
        self.take_session_events(session, None, None, Some(reason));
        if let Some(slot) = self.sessions.remove(&session) {
            // Parked messages were answered 202 but their session is gone: nobody can receive
            // what they would produce.
            for p in slot.parked {
                self.release(p.connection);
            }
        }
        self.events
            .push_back(EndpointEvent::SessionClosed { session });
    }

    fn finish_shutdown_if_flushed(&mut self) {
        if !matches!(self.shutdown, Shutdown::Draining { .. }) {
            return;
        }
        let flushed = self
            .sessions
            .values()
            .all(|s| !s.held_back() && s.parked.is_empty());
        if flushed {
            self.shutdown_transport();
        }
    }

    fn shutdown_transport(&mut self) {
        if self.shutdown == Shutdown::Done {
            return;
        }
        self.shutdown = Shutdown::Done;
        self.transport.shutdown();
    }
}
