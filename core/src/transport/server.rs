//! The server side of the legacy HTTP+SSE transport, as one sans-IO machine for all connections.
//!
//! `GET <root><sse_path>` opens a session and streams `endpoint` then `message` events;
//! `POST <root><message_path>?session_id=…` carries client messages and is answered `202`.
//! The reference behaviour (status codes, bodies, header order, check order) is
//! `shared/spec/legacy-sse.md` section (a); the deliberate divergences are listed in its last
//! section.
//!
//! The driver accepts connections and calls [`Server::open_connection`], feeds what it reads to
//! [`Server::handle_bytes`], writes what [`Server::poll_transmit`] returns, closes the socket when
//! [`Server::wants_close`] says so, and reports a gone peer with [`Server::handle_close`]. Session
//! life-cycle and client messages come out of [`Server::poll_event`]; server messages go in with
//! [`Server::send`]. Time is passed in; [`Server::poll_timeout`] says when to call
//! [`Server::handle_timeout`].

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::{Duration, Instant, SystemTime};

use bytes::{Bytes, BytesMut};
use foldhash::HashMap;

use crate::http::{
    self, Headers, HttpError, RequestDecoder, RequestEvent, RequestHead, ResponseHead,
};
use crate::jsonrpc::Message;
use crate::sse::{Encoder, OutgoingEvent};

use super::auth::{AuthConfig, Principal, UNAUTHENTICATED_BODY};
use super::cors::CorsConfig;
use super::endpoint::{percent_decode_path, EndpointError, MessagePath};
use super::query::{query_param, quote_path};
use super::security::{Security, SecuritySettings};
use super::session_id::SessionId;
use super::wall_clock::format_utc_python;

mod foreign;
pub use foreign::{
    ForeignConfig, ForeignOutcome, DEFAULT_FOREIGN_TIMEOUT, DEFAULT_SECOND_LOOK, TIMEOUT_BODY,
    UNAVAILABLE_BODY,
};

/// Default keep-alive comment interval (sse-starlette's `DEFAULT_PING_INTERVAL`).
pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_secs(15);
/// Default bound on the bytes queued for one session's SSE stream and not yet taken by the driver.
pub const DEFAULT_MAX_SESSION_QUEUE_BYTES: usize = 8 * 1024 * 1024;
/// Default time allowed to receive a complete request head once its first byte arrived
/// (slow-loris protection).
pub const DEFAULT_HEAD_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time an idle keep-alive connection (between requests) is kept open.
pub const DEFAULT_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default bound on live sessions; a GET beyond it is answered `503`.
pub const DEFAULT_MAX_SESSIONS: usize = 100_000;

/// Configuration of a [`Server`].
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Mount prefix (ASGI `root_path`), e.g. `""` or `"/api v1"`; requests carry it in their
    /// path and the endpoint event announces it, percent-quoted.
    pub root_path: String,
    /// Path of the SSE stream below the prefix (default `/sse`).
    pub sse_path: String,
    /// Path of the message endpoint below the prefix (default `/messages/`).
    pub message_path: MessagePath,
    /// Keep-alive comment interval; `None` disables pings.
    pub ping_interval: Option<Duration>,
    /// DNS-rebinding protection: by default derived from [`local_addr`](Self::local_addr) (on
    /// for loopback and for a server with no address); [`Security::disabled`] turns it off.
    pub security: Security,
    /// The address the server listens on, if any; the accept loops (`serve`) fill it in when it
    /// is `None`. [`Security::FromBindAddress`] derives the protection from it.
    pub local_addr: Option<std::net::SocketAddr>,
    /// HTTP framing limits (head size, header count, body size).
    pub http_limits: http::Limits,
    /// Bound on one session's queued outbound bytes (see [`SendError::QueueFull`]). It also
    /// bounds the replies queued on a request connection: past it the server stops reading
    /// that connection's pipelined requests until the peer takes its answers
    /// ([`Server::wants_read`]).
    pub max_session_queue_bytes: usize,
    /// Time allowed for a request head to arrive completely once started.
    pub head_read_timeout: Duration,
    /// Time an idle keep-alive connection is kept.
    pub keep_alive_timeout: Duration,
    /// Bound on live sessions.
    pub max_sessions: usize,
    /// Authentication of every GET and POST (`None`: none, as the reference without an auth
    /// provider). A refused request gets `401` with a `WWW-Authenticate: Bearer` challenge; a
    /// session belongs to the principal that opened it, and a POST by another gets the
    /// reference's `404 Could not find session` (POST table row 9).
    pub auth: Option<AuthConfig>,
    /// CORS for browser clients (`None`: no CORS header on any answer, as the reference). An
    /// allowed `Origin` gets `Access-Control-Allow-Origin` on every answer, and `OPTIONS`
    /// preflights of the SSE and message paths are answered `200 OK` (as Starlette's); a preflight from another
    /// origin gets `400 Disallowed CORS origin` (Starlette's `CORSMiddleware` answer).
    pub cors: Option<CorsConfig>,
    /// Scale-out (`None`: a POST for a session this server does not hold gets the reference's
    /// `404`). With it, such a POST is parked and reported as [`ServerEvent::ForeignPost`];
    /// the driver asks its session bus and answers with [`Server::resolve_foreign`].
    pub foreign: Option<ForeignConfig>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            root_path: String::new(),
            sse_path: "/sse".into(),
            message_path: MessagePath::default(),
            ping_interval: Some(DEFAULT_PING_INTERVAL),
            security: Security::FromBindAddress,
            local_addr: None,
            http_limits: http::Limits::default(),
            max_session_queue_bytes: DEFAULT_MAX_SESSION_QUEUE_BYTES,
            head_read_timeout: DEFAULT_HEAD_READ_TIMEOUT,
            keep_alive_timeout: DEFAULT_KEEP_ALIVE_TIMEOUT,
            max_sessions: DEFAULT_MAX_SESSIONS,
            auth: None,
            cors: None,
            foreign: None,
        }
    }
}

impl ServerConfig {
    /// Sets the message endpoint path with the reference's constructor rules.
    pub fn with_message_path(mut self, path: &str) -> Result<Self, EndpointError> {
        self.message_path = MessagePath::new(path)?;
        Ok(self)
    }
}

/// Identifies one HTTP connection of a [`Server`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(pub u64);

/// What the server machine reports to its driver.
#[derive(Debug)]
pub enum ServerEvent {
    /// A GET opened a session; its stream runs on `connection`.
    SessionOpened {
        /// The new session.
        session: SessionId,
        /// The connection carrying its SSE stream.
        connection: ConnectionId,
        /// The GET request's head (for handlers that want its headers).
        request: Box<RequestHead>,
    },
    /// A POST delivered a client message to a session (already answered `202`).
    Message {
        /// The session named by `session_id`.
        session: SessionId,
        /// The parsed JSON-RPC message.
        message: Message,
        /// The POST's headers (e.g. `Authorization`), visible to handlers.
        headers: Headers,
    },
    /// The session ended (its GET stream disconnected, or the server shut down).
    SessionClosed {
        /// The session that ended.
        session: SessionId,
    },
    /// `connection` has bytes to write, or is finished: call [`Server::poll_transmit`] for it,
    /// then [`Server::wants_close`]. Reported once per transition from nothing-to-write to
    /// something-to-write, and when a connection becomes finished, so a driver never has to poll
    /// connections it was not told about.
    Transmit {
        /// The connection with pending output.
        connection: ConnectionId,
    },
    /// A session's queue went back under its bound after [`SendError::QueueFull`].
    Writable {
        /// The session that can take messages again.
        session: SessionId,
    },
    /// A POST for a session this server does not hold passed every check before the session
    /// lookup (only with [`ServerConfig::foreign`]). `connection` is parked, unanswered, until
    /// [`Server::resolve_foreign`] (or [`ForeignConfig::timeout`]).
    ForeignPost {
        /// The POST's connection.
        connection: ConnectionId,
        /// The session named by `session_id`.
        session: SessionId,
        /// The body as one JSON-RPC message; `None` when it does not parse (the answer is
        /// then `400` if the session exists anywhere, as row 10 follows row 8).
        message: Option<Message>,
        /// The authenticated principal of the POST (with [`ServerConfig::auth`]).
        principal: Option<Principal>,
    },
}

/// Why [`Server::send`] refused a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The session does not exist (never did, or has ended).
    #[error("no such session")]
    UnknownSession,
    /// The session's outbound queue holds more than `max_session_queue_bytes`. Nothing was
    /// queued; wait for [`ServerEvent::Writable`] and send again (backpressure, never data loss).
    #[error("session queue full ({queued} bytes queued, limit {limit})")]
    QueueFull {
        /// Bytes queued now.
        queued: usize,
        /// The configured bound.
        limit: usize,
    },
}

/// A reply computed from a request head, sent once the body has been read.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: &'static str,
}

impl Reply {
    fn plain(status: u16, body: &'static str) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body,
        }
    }
}

#[derive(Debug)]
enum RequestKind {
    /// Answer this fixed reply after the body.
    Fixed(Reply),
    /// A POST to the message endpoint that passed the head checks; the body decides.
    PostMessage {
        session: SessionId,
        headers: Headers,
    },
    /// A POST for a session this server does not hold (scale-out): see `foreign`.
    ForeignPost {
        session: SessionId,
        principal: Option<Principal>,
    },
}

#[derive(Debug)]
struct InFlight {
    kind: RequestKind,
    keep_alive: bool,
    /// A reply that must win over a body-size error (405 precedes 413).
    beats_too_large: bool,
    body: BytesMut,
    /// Headers added to the answer (CORS).
    extra_headers: Vec<(&'static str, String)>,
}

#[derive(Debug)]
enum ConnState {
    /// Reading requests (keep-alive).
    Requests { in_flight: Option<InFlight> },
    /// Carrying a session's SSE stream; further input is ignored.
    Stream {
        session: SessionId,
        next_ping: Option<Instant>,
    },
    /// A POST for a foreign session awaits [`Server::resolve_foreign`]; input is buffered,
    /// not processed.
    Foreign(foreign::Awaiting),
    /// Finished: flush what is queued, then close.
    Closing,
}

#[derive(Debug)]
struct Connection {
    decoder: RequestDecoder,
    state: ConnState,
    out: VecDeque<Bytes>,
    out_bytes: usize,
    transmit_reported: bool,
    /// When the current head started arriving, or when the connection went idle.
    phase_started: Instant,
    /// The deadline of this connection's newest entry in the timer heap, while that entry is
    /// there: `schedule` pushes only when the deadline differs from it.
    armed: Option<Instant>,
}

#[derive(Debug)]
struct SessionEntry {
    connection: ConnectionId,
    blocked: bool,
    /// The principal that opened the session (when authentication is configured).
    owner: Option<Principal>,
}

/// The legacy HTTP+SSE server transport: every connection and session of one server.
///
/// ```
/// use std::time::{Instant, SystemTime};
/// use bytes::Bytes;
/// use mcp_sse_core::transport::{Server, ServerConfig, ServerEvent};
///
/// let mut server = Server::new(ServerConfig::default(), Box::new(|| [7u8; 16]));
/// let now = Instant::now();
/// let conn = server.open_connection(now);
/// server.handle_bytes(conn, Bytes::from_static(b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n"), now);
/// let mut out = Vec::new();
/// while let Some(b) = server.poll_transmit(conn, now) { out.extend_from_slice(&b); }
/// let text = String::from_utf8(out).unwrap();
/// assert!(text.starts_with("HTTP/1.1 200 OK\r\n"));
/// assert!(text.contains("event: endpoint\r\ndata: /messages/?session_id=07070707070747078707070707070707\r\n\r\n"));
/// assert!(std::iter::from_fn(|| server.poll_event()).any(|e| matches!(e, ServerEvent::SessionOpened { .. })));
/// ```
pub struct Server {
    config: ServerConfig,
    random: Box<dyn FnMut() -> [u8; 16] + Send>,
    /// The Host/Origin checks in force, resolved from `config.security` once.
    security: SecuritySettings,
    encoder: Encoder,
    /// Boxed: a `Connection` is ~400 bytes and a hash table keeps up to twice as many buckets as
    /// entries, so inline values cost ~680 bytes per connection at scale instead of ~430.
    connections: HashMap<ConnectionId, Box<Connection>>,
    sessions: HashMap<SessionId, SessionEntry>,
    next_connection: u64,
    events: VecDeque<ServerEvent>,
    shutting_down: bool,
    wall_clock: Option<SystemTime>,
    /// The decoded path of the SSE route and of the message mount (prefix included).
    sse_route: String,
    message_route: String,
    /// The percent-quoted endpoint announced to clients, without the query.
    endpoint_base: String,
    /// Connection deadlines, earliest first. An entry is current while its connection still has
    /// exactly that deadline; a connection whose deadline changed has a newer entry, and the old
    /// one is dropped when it reaches the top (or when the heap is rebuilt, see
    /// [`Server::schedule`]), so the top is found without scanning every connection.
    timers: BinaryHeap<Reverse<(Instant, ConnectionId)>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("connections", &self.connections.len())
            .field("sessions", &self.sessions.len())
            .field("shutting_down", &self.shutting_down)
            .finish()
    }
}

const SSE_HEADERS: [(&str, &str); 5] = [
    ("cache-control", "no-store"),
    ("connection", "keep-alive"),
    ("x-accel-buffering", "no"),
    ("content-type", "text/event-stream; charset=utf-8"),
    ("Transfer-Encoding", "chunked"),
];

impl Server {
    /// Creates a server. `random` yields 16 random bytes per new session id (inject a real
    /// generator in drivers and a deterministic one in tests).
    pub fn new(config: ServerConfig, random: Box<dyn FnMut() -> [u8; 16] + Send>) -> Self {
        let root = config.root_path.trim_end_matches('/').to_string();
        let sse_route = format!("{root}{}", config.sse_path);
        let message_route = format!("{root}{}", config.message_path.as_str());
        let endpoint_base = quote_path(&message_route);
        let security = config.security.resolve(config.local_addr);
        Server {
            config,
            random,
            security,
            encoder: Encoder::new(),
            connections: HashMap::default(),
            sessions: HashMap::default(),
            next_connection: 0,
            events: VecDeque::new(),
            shutting_down: false,
            wall_clock: None,
            sse_route,
            message_route,
            endpoint_base,
            timers: BinaryHeap::new(),
        }
    }

    /// The Host/Origin checks in force (from [`ServerConfig::security`] and
    /// [`ServerConfig::local_addr`]).
    pub fn security(&self) -> &SecuritySettings {
        &self.security
    }

    /// The principal that opened `session` (when [`ServerConfig::auth`] is configured).
    pub fn principal(&self, session: SessionId) -> Option<&Principal> {
        self.sessions.get(&session).and_then(|e| e.owner.as_ref())
    }

    /// The DNS-rebinding checks (Host, then Origin), or the answer to refuse with. An `Origin`
    /// that [`ServerConfig::cors`] allows passes the Origin check: allowing a browser origin is
    /// the same decision (the Host check still applies).
    fn check_security(&self, head: &RequestHead) -> Result<(), Reply> {
        let origin = head.headers.get_str("origin");
        let cors_allowed = matches!(
            (&self.config.cors, origin),
            (Some(cors), Some(o)) if cors.allows(o)
        );
        let origin = if cors_allowed { None } else { origin };
        self.security
            .check(head.headers.get_str("host"), origin)
            .map_err(|e| Reply::plain(e.status(), security_body(e)))
    }

    /// Runs the configured authentication: the principal (`None` without authentication), or
    /// the `401` to answer.
    fn authenticate(&self, head: &RequestHead) -> Result<Option<Principal>, Reply> {
        let Some(auth) = &self.config.auth else {
            return Ok(None);
        };
        match auth.authenticator.authenticate(head) {
            Ok(p) => Ok(Some(p)),
            Err(rejection) => {
                let mut r = Reply::plain(401, UNAUTHENTICATED_BODY);
                r.headers.push(("content-type", "application/json".into()));
                r.headers
                    .push(("www-authenticate", auth.challenge(rejection)));
                Err(r)
            }
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Number of live sessions.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// Number of open connections.
    pub fn connection_count(&self) -> usize {
        self.connections.len()
    }

    /// Whether `session` is live.
    pub fn has_session(&self, session: SessionId) -> bool {
        self.sessions.contains_key(&session)
    }

    /// Registers a newly accepted connection.
    pub fn open_connection(&mut self, now: Instant) -> ConnectionId {
        let id = ConnectionId(self.next_connection);
        self.next_connection += 1;
        let mut conn = Connection {
            decoder: RequestDecoder::new(self.config.http_limits),
            state: ConnState::Requests { in_flight: None },
            out: VecDeque::new(),
            out_bytes: 0,
            transmit_reported: false,
            phase_started: now,
            armed: None,
        };
        if self.shutting_down {
            finish_conn(&mut conn, id, &mut self.events);
        }
        self.connections.insert(id, Box::new(conn));
        self.schedule(id);
        id
    }

    /// Feeds bytes read from `connection`.
    pub fn handle_bytes(&mut self, connection: ConnectionId, data: Bytes, now: Instant) {
        let unread_bound = self.unread_input_bound();
        let Some(conn) = self.connections.get_mut(&connection) else {
            return;
        };
        match conn.state {
            ConnState::Requests { .. } => {
                conn.decoder.handle_bytes(data);
                if conn.out_bytes > self.config.max_session_queue_bytes
                    && conn.decoder.buffered_bytes() > unread_bound
                {
                    // The driver kept reading although `wants_read` said no: a peer that
                    // sends without reading is cut off rather than buffered without end.
                    finish_conn(conn, connection, &mut self.events);
                    return;
                }
                self.process(connection, now);
                self.schedule(connection);
            }
            ConnState::Foreign(_) => {
                conn.decoder.handle_bytes(data);
                if conn.decoder.buffered_bytes() > unread_bound {
                    finish_conn(conn, connection, &mut self.events);
                }
            }
            // A client writing on its SSE GET connection, or after we decided to close, is
            // ignored (and nothing of it is kept).
            ConnState::Stream { .. } | ConnState::Closing => {}
        }
    }

    /// The peer finished sending on `connection` (read side EOF).
    pub fn handle_eof(&mut self, connection: ConnectionId, now: Instant) {
        let Some(conn) = self.connections.get_mut(&connection) else {
            return;
        };
        match conn.state {
            ConnState::Requests { .. } => {
                if conn.decoder.is_idle() {
                    self.begin_close(connection);
                } else {
                    // The input is complete and already buffered (bounded by the decoder's
                    // limits): answer all of it before closing, even past the reply bound;
                    // there is no later resume for a closing connection.
                    conn.decoder.handle_eof();
                    self.process_all(connection, now);
                    self.begin_close(connection);
                }
            }
            // The GET's client went away: that ends the session (the reference's
            // `http.disconnect`).
            ConnState::Stream { .. } => self.handle_close(connection),
            ConnState::Foreign(ref mut awaiting) => awaiting.eof = true,
            ConnState::Closing => {}
        }
    }

    /// `connection` is gone (closed by either side, or failed). Ends its session if it carried one.
    pub fn handle_close(&mut self, connection: ConnectionId) {
        if let Some(conn) = self.connections.remove(&connection) {
            if let ConnState::Stream { session, .. } = conn.state {
                self.end_session(session);
            }
        }
        self.compact_timers();
    }

    /// Takes the next bytes to write on `connection`.
    ///
    /// Taking the replies of a request connection that was backed up (see
    /// [`Server::wants_read`]) resumes its buffered requests at `now`: that can queue new
    /// bytes for it and events (a [`ServerEvent::Message`], a [`ServerEvent::SessionOpened`] for
    /// a pipelined `GET`, …), so call [`Server::poll_event`] after writing.
    pub fn poll_transmit(&mut self, connection: ConnectionId, now: Instant) -> Option<Bytes> {
        let conn = self.connections.get_mut(&connection)?;
        match conn.out.pop_front() {
            Some(b) => {
                let was_backed_up = conn.out_bytes > self.config.max_session_queue_bytes;
                conn.out_bytes -= b.len();
                if was_backed_up
                    && conn.out_bytes <= self.config.max_session_queue_bytes
                    && matches!(conn.state, ConnState::Requests { .. })
                {
                    self.process(connection, now);
                    self.schedule(connection);
                    return Some(b);
                }
                let Some(conn) = self.connections.get_mut(&connection) else {
                    return Some(b);
                };
                if let ConnState::Stream { session, .. } = conn.state {
                    if let Some(entry) = self.sessions.get_mut(&session) {
                        if entry.blocked
                            && conn.out_bytes <= self.config.max_session_queue_bytes / 2
                        {
                            entry.blocked = false;
                            self.events.push_back(ServerEvent::Writable { session });
                        }
                    }
                }
                Some(b)
            }
            None => {
                conn.transmit_reported = false;
                None
            }
        }
    }

    /// Bytes queued on `connection` and not yet taken.
    pub fn queued_bytes(&self, connection: ConnectionId) -> usize {
        self.connections.get(&connection).map_or(0, |c| c.out_bytes)
    }

    /// Whether the driver should read more from `connection`. `false` while the replies queued
    /// on a request connection exceed [`ServerConfig::max_session_queue_bytes`] (a peer that
    /// pipelines requests without reading the answers); reading may resume once
    /// [`Server::poll_transmit`] has drained them. Bytes handed in anyway are kept up to one
    /// request's worth (head and body limits), then the connection is closed.
    pub fn wants_read(&self, connection: ConnectionId) -> bool {
        self.connections
            .get(&connection)
            .is_some_and(|c| match c.state {
                ConnState::Requests { .. } => c.out_bytes <= self.config.max_session_queue_bytes,
                // Backpressure: nothing more is read while the bus decides.
                ConnState::Foreign(_) => false,
                _ => true,
            })
    }

    /// Unread input a request connection may hold while its replies are backed up.
    fn unread_input_bound(&self) -> usize {
        let l = &self.config.http_limits;
        l.max_head_bytes.saturating_add(l.max_body_bytes)
    }

    /// Whether the driver should close `connection` now: everything queued was taken and the
    /// connection is finished (error, `Connection: close`, shutdown, unknown id).
    pub fn wants_close(&self, connection: ConnectionId) -> bool {
        match self.connections.get(&connection) {
            None => true,
            Some(c) => matches!(c.state, ConnState::Closing) && c.out.is_empty(),
        }
    }

    /// Next event for the driver.
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// Queues a server→client message on `session`'s stream as an `event: message` event (one
    /// HTTP chunk).
    ///
    /// Queue policy: a message is refused with [`SendError::QueueFull`] while the session already
    /// has more than `max_session_queue_bytes` queued; one message is always accepted into an
    /// empty queue, however large, so progress is guaranteed.
    pub fn send(&mut self, session: SessionId, message: &Message) -> Result<(), SendError> {
        let mut json = Vec::with_capacity(128);
        message.write_to(&mut json);
        self.send_json(session, &json)
    }

    /// Like [`Server::send`] for an already serialized JSON-RPC message (compact JSON, one line).
    pub fn send_json(&mut self, session: SessionId, json: &[u8]) -> Result<(), SendError> {
        let entry = self
            .sessions
            .get_mut(&session)
            .ok_or(SendError::UnknownSession)?;
        let conn = self
            .connections
            .get_mut(&entry.connection)
            .ok_or(SendError::UnknownSession)?;
        let limit = self.config.max_session_queue_bytes;
        if conn.out_bytes > 0 && conn.out_bytes + json.len() > limit {
            entry.blocked = true;
            return Err(SendError::QueueFull {
                queued: conn.out_bytes,
                limit,
            });
        }
        // Compact JSON never contains a raw CR or LF, so it is exactly one `data:` line.
        // `from_utf8` validates ASCII runs word-at-a-time; `from_utf8_lossy` alone walks chunks
        // and took 22% of a 1 MiB echo in the profile. The lossy path stays for invalid input.
        let data = match std::str::from_utf8(json) {
            Ok(s) => std::borrow::Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(json),
        };
        let ev = OutgoingEvent {
            id: None,
            event: Some("message"),
            data: &data,
            retry: None,
        };
        let chunk = encode_event_chunk(&self.encoder, &ev);
        push_out(conn, chunk, entry.connection, &mut self.events);
        Ok(())
    }

    /// Ends every stream cleanly: what is queued is flushed, then the final `0\r\n\r\n` chunk is
    /// written and the connection closes (DIVERGENCE 6). Idle connections close at once,
    /// connections with a request in flight close after its reply, and new requests are refused.
    /// Each session is reported closed.
    pub fn shutdown(&mut self) {
        self.shutting_down = true;
        let ids: Vec<ConnectionId> = self.connections.keys().copied().collect();
        for id in ids {
            let Some(conn) = self.connections.get_mut(&id) else {
                continue;
            };
            match &conn.state {
                ConnState::Stream { session, .. } => {
                    let session = *session;
                    let mut last = BytesMut::new();
                    http::encode_last_chunk(&mut last);
                    push_out(conn, last.freeze(), id, &mut self.events);
                    finish_conn(conn, id, &mut self.events);
                    self.end_session(session);
                }
                ConnState::Requests { in_flight: None } => finish_conn(conn, id, &mut self.events),
                ConnState::Requests { in_flight: Some(_) }
                | ConnState::Foreign(_)
                | ConnState::Closing => {}
            }
        }
    }

    /// When [`Server::handle_timeout`] must next be called (the earliest deadline of any
    /// connection: a keep-alive ping, a head-read or a keep-alive timeout).
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        self.drop_stale_timers();
        self.timers.peek().map(|Reverse((at, _))| *at)
    }

    /// Whether `(at, id)` is still `id`'s deadline.
    fn timer_is_current(&self, at: Instant, id: ConnectionId) -> bool {
        self.connections
            .get(&id)
            .is_some_and(|c| conn_deadline(&self.config, c) == Some(at))
    }

    fn drop_stale_timers(&mut self) {
        while let Some(&Reverse((at, id))) = self.timers.peek() {
            if self.timer_is_current(at, id) {
                return;
            }
            self.pop_timer();
        }
    }

    /// Pops the heap's earliest entry. If it was the one its connection is armed with, the
    /// connection is disarmed, so the next `schedule` pushes again (at worst a duplicate entry,
    /// never a lost deadline).
    fn pop_timer(&mut self) -> Option<(Instant, ConnectionId)> {
        let Reverse((at, id)) = self.timers.pop()?;
        if let Some(c) = self.connections.get_mut(&id) {
            if c.armed == Some(at) {
                c.armed = None;
            }
        }
        Some((at, id))
    }

    /// Records `id`'s current deadline (after anything that may have changed it). Outdated
    /// entries stay until they reach the top; once they outnumber the connections the heap is
    /// rebuilt, so it holds at most about twice as many entries as there are connections.
    fn schedule(&mut self, id: ConnectionId) {
        let config = &self.config;
        let Some(conn) = self.connections.get_mut(&id) else {
            return;
        };
        let at = conn_deadline(config, conn);
        if at == conn.armed {
            // Unchanged: its entry is still in the heap (or it has none).
            return;
        }
        conn.armed = at;
        if let Some(at) = at {
            self.timers.push(Reverse((at, id)));
            self.compact_timers();
        }
    }

    /// Rebuilds the heap from the connections' current deadlines once outdated entries
    /// outnumber the connections (after pushes, and after connections go).
    fn compact_timers(&mut self) {
        if self.timers.len() > 2 * self.connections.len() + 64 {
            let config = &self.config;
            let mut current = Vec::with_capacity(self.connections.len());
            for (id, c) in self.connections.iter_mut() {
                c.armed = conn_deadline(config, c);
                if let Some(at) = c.armed {
                    current.push(Reverse((at, *id)));
                }
            }
            self.timers = BinaryHeap::from(current);
        }
    }

    /// Runs timers: keep-alive pings, head-read and keep-alive timeouts. `wall_clock` is only used
    /// to format the ping comments (`: ping - <UTC time>`).
    pub fn handle_timeout(&mut self, now: Instant, wall_clock: SystemTime) {
        self.wall_clock = Some(wall_clock);
        let mut due = Vec::new();
        while let Some(&Reverse((at, id))) = self.timers.peek() {
            if at > now {
                break;
            }
            self.pop_timer();
            // A connection has at most one current deadline, so its duplicate entries are the
            // same `(at, id)` and pop one after another.
            if self.timer_is_current(at, id) && due.last() != Some(&id) {
                due.push(id);
            }
        }
        for &id in &due {
            let Some(conn) = self.connections.get_mut(&id) else {
                continue;
            };
            match &mut conn.state {
                ConnState::Stream { next_ping, .. } => {
                    if let (Some(at), Some(interval)) = (*next_ping, self.config.ping_interval) {
                        let mut next = at + interval;
                        if next <= now {
                            next = now + interval;
                        }
                        *next_ping = Some(next);
                        let text = format!("ping - {}", format_utc_python(wall_clock));
                        let mut body = BytesMut::new();
                        // The text has no CR/LF, so encoding cannot fail.
                        if self.encoder.encode_comment(&text, &mut body).is_ok() {
                            let mut chunk = BytesMut::with_capacity(body.len() + 8);
                            http::encode_chunk(&body, &mut chunk);
                            // Same queue policy as `send_json`: a reader that stopped reading
                            // must not grow the queue by a ping per interval without bound.
                            let limit = self.config.max_session_queue_bytes;
                            if conn.out_bytes == 0 || conn.out_bytes + chunk.len() <= limit {
                                push_out(conn, chunk.freeze(), id, &mut self.events);
                            }
                        }
                    }
                }
                ConnState::Requests { in_flight } => {
                    let reading = conn.decoder.is_reading_head() || in_flight.is_some();
                    if reading {
                        // Slow-loris: the head (or body) did not complete in time.
                        let reply = Reply::plain(408, "Request Timeout");
                        write_reply(conn, id, &reply, false, &mut self.events);
                    }
                    finish_conn(conn, id, &mut self.events);
                }
                ConnState::Foreign(_) => foreign::on_timeout(conn, id, now, &mut self.events),
                ConnState::Closing => {}
            }
        }
        for id in due {
            self.schedule(id);
        }
    }

    fn begin_close(&mut self, connection: ConnectionId) {
        let Some(conn) = self.connections.get_mut(&connection) else {
            return;
        };
        let session = match conn.state {
            ConnState::Stream { session, .. } => Some(session),
            _ => None,
        };
        finish_conn(conn, connection, &mut self.events);
        if let Some(s) = session {
            self.end_session(s);
        }
    }

    fn end_session(&mut self, session: SessionId) {
        if self.sessions.remove(&session).is_some() {
            self.events
                .push_back(ServerEvent::SessionClosed { session });
        }
    }

    fn process(&mut self, id: ConnectionId, now: Instant) {
        self.process_bounded(id, now, self.config.max_session_queue_bytes);
    }

    /// [`Server::process`] without backpressure, for input that ends here.
    fn process_all(&mut self, id: ConnectionId, now: Instant) {
        self.process_bounded(id, now, usize::MAX);
    }

    /// Processes buffered requests while fewer than `reply_bound` bytes of replies are queued.
    fn process_bounded(&mut self, id: ConnectionId, now: Instant, reply_bound: usize) {
        loop {
            let Some(conn) = self.connections.get_mut(&id) else {
                return;
            };
            if conn.out_bytes > reply_bound {
                // Backpressure: the peer is not reading its answers; the next request waits
                // (resumed from `poll_transmit`).
                return;
            }
            let ConnState::Requests { in_flight } = &mut conn.state else {
                return;
            };
            let was_idle = in_flight.is_none() && !conn.decoder.is_reading_head();
            let polled = conn.decoder.poll_event();
            match polled {
                Ok(None) => {
                    if was_idle && conn.decoder.is_reading_head() {
                        conn.phase_started = now;
                    }
                    return;
                }
                Ok(Some(RequestEvent::Head(head))) => {
                    conn.phase_started = now;
                    let in_flight_new = self.route(head);
                    let Some(conn) = self.connections.get_mut(&id) else {
                        return;
                    };
                    match in_flight_new {
                        Routed::Request(inf) => {
                            conn.state = ConnState::Requests {
                                in_flight: Some(inf),
                            };
                        }
                        Routed::Stream {
                            session,
                            head_only,
                            request,
                            keep_alive,
                            owner,
                            extra_headers,
                        } => {
                            let mut out = BytesMut::with_capacity(512);
                            let mut rh = ResponseHead::new(200, "OK");
                            for (k, v) in SSE_HEADERS {
                                rh.headers.push(k, Bytes::from_static(v.as_bytes()));
                            }
                            for (k, v) in extra_headers {
                                rh.headers.push(k, v);
                            }
                            rh.encode(&mut out);
                            if head_only {
                                push_out(conn, out.freeze(), id, &mut self.events);
                                conn.state = if keep_alive {
                                    ConnState::Requests { in_flight: None }
                                } else {
                                    ConnState::Closing
                                };
                                continue;
                            }
                            let endpoint = format!("{}?session_id={session}", self.endpoint_base);
                            let ev = OutgoingEvent {
                                id: None,
                                event: Some("endpoint"),
                                data: &endpoint,
                                retry: None,
                            };
                            out.extend_from_slice(&encode_event_chunk(&self.encoder, &ev));
                            push_out(conn, out.freeze(), id, &mut self.events);
                            let next_ping = self.config.ping_interval.map(|p| now + p);
                            conn.state = ConnState::Stream { session, next_ping };
                            self.sessions.insert(
                                session,
                                SessionEntry {
                                    connection: id,
                                    blocked: false,
                                    owner,
                                },
                            );
                            self.events.push_back(ServerEvent::SessionOpened {
                                session,
                                connection: id,
                                request,
                            });
                            return;
                        }
                    }
                }
                Ok(Some(RequestEvent::Body(chunk))) => {
                    // Only a message POST reads its body; a fixed reply discards it.
                    if let Some(
                        inf @ InFlight {
                            kind: RequestKind::PostMessage { .. } | RequestKind::ForeignPost { .. },
                            ..
                        },
                    ) = in_flight
                    {
                        inf.body.extend_from_slice(&chunk);
                    }
                }
                Ok(Some(RequestEvent::End)) => {
                    let Some(inf) = in_flight.take() else {
                        continue;
                    };
                    conn.phase_started = now;
                    self.finish_request(id, inf, now);
                }
                Err(err) => {
                    // The connection closes after this reply. `Connection: close` is written
                    // when the client asked for it or when no head was read (as uvicorn does).
                    let inf = in_flight.take();
                    let announce_close = inf.as_ref().is_none_or(|i| !i.keep_alive);
                    let reply = match (inf, &err) {
                        (Some(inf), HttpError::BodyTooLarge { .. }) if inf.beats_too_large => {
                            match inf.kind {
                                RequestKind::Fixed(r) => r,
                                RequestKind::PostMessage { .. }
                                | RequestKind::ForeignPost { .. } => http_error_reply(&err),
                            }
                        }
                        _ => http_error_reply(&err),
                    };
                    if !matches!(err, HttpError::UnexpectedEof) {
                        write_reply(conn, id, &reply, !announce_close, &mut self.events);
                    }
                    finish_conn(conn, id, &mut self.events);
                    return;
                }
            }
        }
    }

    fn finish_request(&mut self, id: ConnectionId, inf: InFlight, now: Instant) {
        let InFlight {
            kind,
            keep_alive,
            body,
            extra_headers,
            ..
        } = inf;
        let keep_alive = keep_alive && !self.shutting_down;
        let reply = match kind {
            RequestKind::Fixed(reply) => reply,
            RequestKind::ForeignPost { session, principal } => {
                let message = Message::from_slice(&body).ok();
                let parked = foreign::Awaiting::new(
                    keep_alive,
                    extra_headers,
                    session,
                    &message,
                    &principal,
                    now,
                    &self.config,
                );
                if let Some(conn) = self.connections.get_mut(&id) {
                    conn.state = ConnState::Foreign(parked);
                }
                self.events.push_back(ServerEvent::ForeignPost {
                    connection: id,
                    session,
                    message,
                    principal,
                });
                return;
            }
            RequestKind::PostMessage { session, headers } => {
                if !self.sessions.contains_key(&session) {
                    // The session ended while the body was arriving.
                    Reply::plain(404, "Could not find session")
                } else {
                    match Message::from_slice(&body) {
                        Ok(message) => {
                            self.events.push_back(ServerEvent::Message {
                                session,
                                message,
                                headers,
                            });
                            Reply::plain(202, "Accepted")
                        }
                        Err(_) => Reply::plain(400, "Could not parse message"),
                    }
                }
            }
        };
        let mut reply = reply;
        reply.headers.extend(extra_headers);
        let Some(conn) = self.connections.get_mut(&id) else {
            return;
        };
        write_reply(conn, id, &reply, keep_alive, &mut self.events);
        conn.state = if keep_alive {
            ConnState::Requests { in_flight: None }
        } else {
            ConnState::Closing
        };
    }

    /// Routes `head`, with CORS around it when configured: preflights answered here, and the
    /// allowed origin's headers added to whatever the route answers.
    fn route(&mut self, head: RequestHead) -> Routed {
        let Some(cors) = &self.config.cors else {
            return self.route_uncors(head);
        };
        let origin = head.headers.get_str("origin").map(str::to_string);
        let allowed = origin.as_deref().filter(|o| cors.allows(o));
        let extra = allowed.map(|o| cors.answer_headers(o)).unwrap_or_default();
        let preflight =
            head.method == "OPTIONS" && head.headers.get("access-control-request-method").is_some();
        if preflight {
            let path = percent_decode_path(head.path());
            let methods = if path == self.sse_route {
                Some("GET, HEAD, OPTIONS")
            } else if self.below_message_mount(&path) {
                Some("POST, OPTIONS")
            } else {
                None
            };
            if let Some(methods) = methods {
                let reply = match allowed {
                    Some(o) => {
                        // Starlette's CORSMiddleware answers a preflight `200 OK`.
                        let mut r = Reply::plain(200, "OK");
                        r.headers = cors.preflight_headers(o, methods);
                        r.headers
                            .push(("content-type", "text/plain; charset=utf-8".into()));
                        r
                    }
                    None => {
                        let mut r = Reply::plain(400, "Disallowed CORS origin");
                        r.headers
                            .push(("content-type", "text/plain; charset=utf-8".into()));
                        r
                    }
                };
                return Routed::Request(InFlight {
                    kind: RequestKind::Fixed(reply),
                    keep_alive: head.keep_alive(),
                    beats_too_large: true,
                    body: BytesMut::new(),
                    extra_headers: Vec::new(),
                });
            }
        }
        let mut routed = self.route_uncors(head);
        match &mut routed {
            Routed::Request(inf) => inf.extra_headers = extra,
            Routed::Stream { extra_headers, .. } => *extra_headers = extra,
        }
        routed
    }

    /// Whether `path` is the message mount or below it.
    fn below_message_mount(&self, path: &str) -> bool {
        let mount = self.message_route.trim_end_matches('/');
        path.len() > mount.len() && path.starts_with(mount) && path.as_bytes()[mount.len()] == b'/'
    }

    fn route_uncors(&mut self, head: RequestHead) -> Routed {
        let keep_alive = head.keep_alive();
        let path = percent_decode_path(head.path());
        let fixed = |reply: Reply, beats: bool| {
            Routed::Request(InFlight {
                kind: RequestKind::Fixed(reply),
                keep_alive,
                beats_too_large: beats,
                body: BytesMut::new(),
                extra_headers: Vec::new(),
            })
        };
        if path == self.sse_route {
            if head.method != "GET" && head.method != "HEAD" {
                let mut r = Reply::plain(405, "Method Not Allowed");
                r.headers.push(("allow", "HEAD, GET".into()));
                r.headers
                    .push(("content-type", "text/plain; charset=utf-8".into()));
                return fixed(r, true);
            }
            // Authentication runs in front of the transport's own checks, as the reference's
            // RequireAuthMiddleware wraps the SSE endpoint.
            let owner = match self.authenticate(&head) {
                Ok(owner) => owner,
                Err(reply) => return fixed(reply, false),
            };
            if let Err(reply) = self.check_security(&head) {
                return fixed(reply, false);
            }
            if self.shutting_down || self.sessions.len() >= self.config.max_sessions {
                return fixed(Reply::plain(503, "Service Unavailable"), false);
            }
            let head_only = head.method == "HEAD";
            let session = loop {
                let candidate = SessionId::from_random_bytes((self.random)());
                if !self.sessions.contains_key(&candidate) {
                    break candidate;
                }
            };
            return Routed::Stream {
                session,
                head_only,
                request: Box::new(head),
                keep_alive,
                owner,
                extra_headers: Vec::new(),
            };
        }
        let mount = self.message_route.trim_end_matches('/');
        let below_mount = self.below_message_mount(&path);
        if path == mount && !mount.is_empty() {
            // Starlette's slash redirect for the mount.
            let host = head.headers.get_str("host").unwrap_or("localhost");
            let location = match head.query() {
                Some(q) => format!("http://{host}{}/?{q}", head.path()),
                None => format!("http://{host}{}/", head.path()),
            };
            let mut r = Reply::plain(307, "");
            r.headers.push(("location", location));
            return fixed(r, false);
        }
        if !below_mount {
            let mut r = Reply::plain(404, "Not Found");
            r.headers
                .push(("content-type", "text/plain; charset=utf-8".into()));
            return fixed(r, false);
        }
        // The message endpoint: checks in the reference's order, behind authentication (the
        // reference's RequireAuthMiddleware wraps the whole mount).
        let requestor = match self.authenticate(&head) {
            Ok(principal) => principal,
            Err(reply) => return fixed(reply, false),
        };
        if head.method != "POST" {
            let mut r = Reply::plain(405, "");
            r.headers.push(("allow", "POST".into()));
            return fixed(r, true);
        }
        let content_type_ok = head
            .headers
            .get("content-type")
            .is_some_and(|v| v.len() >= 16 && v[..16].eq_ignore_ascii_case(b"application/json"));
        if !content_type_ok {
            return fixed(Reply::plain(400, "Invalid Content-Type header"), false);
        }
        if let Err(reply) = self.check_security(&head) {
            return fixed(reply, false);
        }
        let Some(raw_id) = head.query().and_then(|q| query_param(q, "session_id")) else {
            return fixed(Reply::plain(400, "session_id is required"), false);
        };
        let Some(session) = SessionId::parse_lenient(&raw_id) else {
            return fixed(Reply::plain(400, "Invalid session ID"), false);
        };
        match self.sessions.get(&session) {
            // Row 9: a session is used only with the credential that opened it.
            Some(entry) if entry.owner == requestor => {}
            // Scale-out: another instance may hold it; the bus decides (see `foreign`).
            None if self.config.foreign.is_some() => {
                return Routed::Request(InFlight {
                    kind: RequestKind::ForeignPost {
                        session,
                        principal: requestor,
                    },
                    keep_alive,
                    beats_too_large: false,
                    body: BytesMut::new(),
                    extra_headers: Vec::new(),
                })
            }
            _ => return fixed(Reply::plain(404, "Could not find session"), false),
        }
        Routed::Request(InFlight {
            kind: RequestKind::PostMessage {
                session,
                headers: head.headers,
            },
            keep_alive,
            beats_too_large: false,
            body: BytesMut::new(),
            extra_headers: Vec::new(),
        })
    }
}

enum Routed {
    Request(InFlight),
    Stream {
        session: SessionId,
        head_only: bool,
        request: Box<RequestHead>,
        keep_alive: bool,
        owner: Option<Principal>,
        /// Headers added to the stream's head (CORS).
        extra_headers: Vec<(&'static str, String)>,
    },
}

fn security_body(e: super::security::SecurityError) -> &'static str {
    match e {
        super::security::SecurityError::InvalidHost => "Invalid Host header",
        super::security::SecurityError::InvalidOrigin => "Invalid Origin header",
    }
}

fn http_error_reply(err: &HttpError) -> Reply {
    match err {
        HttpError::BodyTooLarge { .. } => Reply::plain(413, "Request body too large"),
        other => Reply::plain(other.status(), other.reason()),
    }
}

/// When `c` must next be looked at: its ping, or its head-read or keep-alive timeout.
fn conn_deadline(config: &ServerConfig, c: &Connection) -> Option<Instant> {
    match &c.state {
        ConnState::Stream { next_ping, .. } => *next_ping,
        ConnState::Requests { in_flight } => {
            if c.decoder.is_reading_head() || in_flight.is_some() {
                Some(c.phase_started + config.head_read_timeout)
            } else {
                Some(c.phase_started + config.keep_alive_timeout)
            }
        }
        ConnState::Foreign(awaiting) => Some(awaiting.next_deadline()),
        ConnState::Closing => None,
    }
}

/// Marks `conn` finished (flush what is queued, then close) and makes sure the driver looks at it.
fn finish_conn(conn: &mut Connection, id: ConnectionId, events: &mut VecDeque<ServerEvent>) {
    conn.state = ConnState::Closing;
    if !conn.transmit_reported {
        conn.transmit_reported = true;
        events.push_back(ServerEvent::Transmit { connection: id });
    }
}

fn push_out(
    conn: &mut Connection,
    bytes: Bytes,
    id: ConnectionId,
    events: &mut VecDeque<ServerEvent>,
) {
    if bytes.is_empty() {
        return;
    }
    conn.out_bytes += bytes.len();
    conn.out.push_back(bytes);
    if !conn.transmit_reported {
        conn.transmit_reported = true;
        events.push_back(ServerEvent::Transmit { connection: id });
    }
}

/// The `202` a delivered message gets on a kept-alive connection, as [`encode_reply`] writes it
/// (a test checks they agree): sent once per client message, so it is not re-encoded each time.
const ACCEPTED_KEEP_ALIVE: &[u8] = b"HTTP/1.1 202 Accepted\r\ncontent-length: 8\r\n\r\nAccepted";

fn write_reply(
    conn: &mut Connection,
    id: ConnectionId,
    reply: &Reply,
    keep_alive: bool,
    events: &mut VecDeque<ServerEvent>,
) {
    let bytes = if keep_alive && reply.status == 202 && reply.headers.is_empty() {
        Bytes::from_static(ACCEPTED_KEEP_ALIVE)
    } else {
        encode_reply(reply, keep_alive)
    };
    push_out(conn, bytes, id, events);
}

fn encode_reply(reply: &Reply, keep_alive: bool) -> Bytes {
    let mut head = ResponseHead::new(reply.status, http::reason_phrase(reply.status));
    let mut pushed_length = false;
    for (k, v) in &reply.headers {
        // Starlette writes content-length before content-type; `allow` and `location` around it
        // as in the captures.
        if *k == "content-type" && !pushed_length {
            head.headers
                .push("content-length", reply.body.len().to_string());
            pushed_length = true;
        }
        if *k == "location" && !pushed_length {
            head.headers
                .push("content-length", reply.body.len().to_string());
            pushed_length = true;
        }
        head.headers.push(*k, v.clone());
    }
    if !pushed_length {
        head.headers
            .push("content-length", reply.body.len().to_string());
    }
    if !keep_alive {
        head.headers.push("Connection", "close");
    }
    let mut out = BytesMut::with_capacity(128 + reply.body.len());
    head.encode(&mut out);
    out.extend_from_slice(reply.body.as_bytes());
    out.freeze()
}

/// One SSE event framed as one HTTP chunk: `<hex>\r\n<event>\r\n`.
fn encode_event_chunk(encoder: &Encoder, ev: &OutgoingEvent<'_>) -> Bytes {
    let len = encoder.encoded_len(ev);
    let mut out = BytesMut::with_capacity(len + 16);
    http::encode_chunk_header(len, &mut out);
    // Event names and data here never hold CR/LF (fixed names, compact JSON, quoted paths).
    if encoder.encode_event(ev, &mut out).is_err() {
        return Bytes::new();
    }
    out.extend_from_slice(b"\r\n");
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_202_is_what_the_reply_encoder_writes() {
        let accepted = Reply::plain(202, "Accepted");
        assert_eq!(&encode_reply(&accepted, true)[..], ACCEPTED_KEEP_ALIVE);
    }

    /// The earliest deadline, found by looking at every connection (what `poll_timeout` did
    /// before the heap).
    fn scanned(s: &Server) -> Option<Instant> {
        s.connections
            .values()
            .filter_map(|c| conn_deadline(&s.config, c))
            .min()
    }

    #[test]
    fn poll_timeout_matches_a_scan_of_every_connection_through_random_traffic() {
        let config = ServerConfig {
            ping_interval: Some(Duration::from_millis(700)),
            head_read_timeout: Duration::from_millis(1_100),
            keep_alive_timeout: Duration::from_millis(1_900),
            ..ServerConfig::default()
        };
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut ids: Vec<u8> = Vec::new();
        let mut s = Server::new(
            config,
            Box::new(move || {
                ids.push(ids.len() as u8);
                [*ids.last().unwrap_or(&0); 16]
            }),
        );
        let start = Instant::now();
        let mut now = start;
        let mut conns: Vec<ConnectionId> = Vec::new();
        let mut sessions: Vec<SessionId> = Vec::new();
        for step in 0..20_000 {
            let pick = |r: u64, conns: &[ConnectionId]| {
                conns.get(r as usize % conns.len().max(1)).copied()
            };
            match next(10) {
                0 => conns.push(s.open_connection(now)),
                1 => {
                    if let Some(c) = pick(next(64), &conns) {
                        s.handle_bytes(
                            c,
                            Bytes::from_static(
                                b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n",
                            ),
                            now,
                        );
                    }
                }
                2 => {
                    if let Some(c) = pick(next(64), &conns) {
                        s.handle_bytes(
                            c,
                            Bytes::from_static(b"POST /messages/?session_id=00"),
                            now,
                        );
                    }
                }
                3 => {
                    if let Some(c) = pick(next(64), &conns) {
                        let req = b"POST /messages/?session_id=0 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\ncontent-length: 2\r\n\r\n{}";
                        s.handle_bytes(c, Bytes::from_static(req), now);
                    }
                }
                4 | 5 => {
                    if let Some(c) = pick(next(64), &conns) {
                        while s.poll_transmit(c, now).is_some() {}
                    }
                }
                6 => {
                    if let Some(c) = pick(next(64), &conns) {
                        if next(2) == 0 {
                            s.handle_eof(c, now);
                        } else {
                            s.handle_close(c);
                            conns.retain(|x| *x != c);
                        }
                    }
                }
                7 => {
                    if let Some(&sid) = sessions.get(next(8) as usize % sessions.len().max(1)) {
                        let _ = s.send_json(sid, br#"{"jsonrpc":"2.0","method":"x"}"#);
                    }
                }
                _ => {
                    now += Duration::from_millis(next(900));
                    s.handle_timeout(now, SystemTime::now());
                    if let Some(at) = s.poll_timeout() {
                        assert!(
                            at > now,
                            "step {step}: a timer is still due after handle_timeout"
                        );
                    }
                }
            }
            while let Some(ev) = s.poll_event() {
                if let ServerEvent::SessionOpened { session, .. } = ev {
                    sessions.push(session);
                }
            }
            let expected = scanned(&s);
            assert_eq!(s.poll_timeout(), expected, "step {step}");
            // Not only the earliest: every connection's deadline has its entry in the heap.
            for (id, c) in &s.connections {
                if let Some(at) = conn_deadline(&s.config, c) {
                    assert!(
                        s.timers.iter().any(|Reverse(e)| *e == (at, *id)),
                        "step {step}: {id:?}'s deadline is not in the heap"
                    );
                }
            }
            assert!(
                s.timers.len() <= 2 * s.connections.len() + 64,
                "step {step}: the heap is bounded"
            );
        }
        assert!(
            !sessions.is_empty() && s.connection_count() > 0,
            "the traffic did something"
        );
    }

    #[test]
    fn a_connection_that_becomes_finished_is_reported() {
        // Keep-alive timeout and shutdown close idle connections without writing anything: the
        // driver still hears of them (Transmit), so it never has to poll every connection.
        let config = ServerConfig {
            keep_alive_timeout: Duration::from_secs(1),
            ..ServerConfig::default()
        };
        let mut s = Server::new(config, Box::new(|| [1; 16]));
        let now = Instant::now();
        let (a, b) = (s.open_connection(now), s.open_connection(now));
        for c in [a, b] {
            let req =
                b"POST /messages/?session_id=0 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\ncontent-length: 2\r\n\r\n{}";
            s.handle_bytes(c, Bytes::from_static(req), now);
            while s.poll_transmit(c, now).is_some() {}
        }
        while s.poll_event().is_some() {}
        assert!(
            !s.wants_close(a) && !s.wants_close(b),
            "idle keep-alive connections"
        );
        let later = now + Duration::from_secs(2);
        s.handle_bytes(b, Bytes::from_static(b"POST"), later); // b starts a new head: not idle
        s.handle_timeout(later, SystemTime::now());
        let events: Vec<_> = std::iter::from_fn(|| s.poll_event()).collect();
        assert!(
            matches!(events[..], [ServerEvent::Transmit { connection }] if connection == a),
            "{events:?}"
        );
        assert!(s.poll_transmit(a, now).is_none() && s.wants_close(a));
        assert!(!s.wants_close(b));
        s.shutdown();
        let events: Vec<_> = std::iter::from_fn(|| s.poll_event()).collect();
        assert!(
            matches!(events[..], [ServerEvent::Transmit { connection }] if connection == b),
            "{events:?}"
        );
        assert!(s.poll_transmit(b, now).is_none() && s.wants_close(b));
    }
}
