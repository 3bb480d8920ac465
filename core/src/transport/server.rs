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
    self, ConnectionConfig, Headers, HttpError, RequestEvent, RequestHead, ServerConnection,
};
use crate::jsonrpc::Message;
use crate::sse::{Encoder, OutgoingEvent};

use super::auth::{AuthConfig, Principal, UNAUTHENTICATED_BODY};
use super::cors::CorsConfig;
use super::endpoint::{percent_decode_path, EndpointError, MessagePath};
use super::framing::{Framing, HostExchange, HostResponse, Reply};
use super::query::{query_param, quote_path};
use super::security::{Security, SecuritySettings};
use super::session_id::SessionId;
use super::wall_clock::format_utc_python;

/// Default keep-alive comment interval (sse-starlette's `DEFAULT_PING_INTERVAL`).
pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_secs(15);
/// Default bound on the bytes queued for one session's SSE stream and not yet taken by the driver.
pub const DEFAULT_MAX_SESSION_QUEUE_BYTES: usize = 8 * 1024 * 1024;
pub use crate::http::server_connection::{DEFAULT_HEAD_READ_TIMEOUT, DEFAULT_KEEP_ALIVE_TIMEOUT};

mod foreign;
pub use foreign::{
    ForeignConfig, ForeignOutcome, DEFAULT_FOREIGN_TIMEOUT, DEFAULT_SECOND_LOOK, TIMEOUT_BODY,
    UNAVAILABLE_BODY,
};
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
    /// The HTTP/1.1 rules of each connection: framing limits, the head-read and keep-alive
    /// timeouts, and the reply backpressure bound (`max_session_queue_bytes`).
    pub fn connection_config(&self) -> ConnectionConfig {
        ConnectionConfig {
            limits: self.http_limits,
            head_read_timeout: self.head_read_timeout,
            keep_alive_timeout: self.keep_alive_timeout,
            max_queued_reply_bytes: self.max_session_queue_bytes,
        }
    }

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
    /// A request on `connection` was answered with an error status (400 or more): for logs.
    Rejected {
        /// The connection (or host exchange).
        connection: ConnectionId,
        /// The status.
        status: u16,
        /// The answer's body.
        reason: &'static str,
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

/// The routing of the request in flight on a connection (its HTTP state is the connection's).
#[derive(Debug)]
struct InFlight {
    kind: RequestKind,
    /// A reply that must win over a body-size error (405 precedes 413).
    beats_too_large: bool,
    body: BytesMut,
    /// Headers added to the answer (CORS).
    extra_headers: Vec<(&'static str, String)>,
}

/// What a connection is used for, beside its HTTP/1.1 state.
#[derive(Debug)]
enum Route {
    /// Carrying requests; the one in flight once its head has been routed.
    Requests { in_flight: Option<InFlight> },
    /// Carrying a session's SSE stream.
    Stream {
        session: SessionId,
        next_ping: Option<Instant>,
    },
    /// A POST for a foreign session awaits [`Server::resolve_foreign`]: its HTTP connection
    /// awaits the answer (nothing more is handed out), and nothing more is read.
    Foreign(foreign::Awaiting),
    /// Nothing more to route: the connection is closing.
    Done,
}

#[derive(Debug)]
struct Connection {
    /// Keep-alive, pipelining, framing, the close rules and the read deadlines.
    http: Framing,
    route: Route,
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
    /// The routes under [`ServerConfig::root_path`].
    mount: Mount,
    /// The HTTP/1.1 rules every connection shares.
    connection_config: std::sync::Arc<ConnectionConfig>,
    /// Connection deadlines, earliest first. An entry is current while its connection still has
    /// exactly that deadline; a connection whose deadline changed has a newer entry, and the old
    /// one is dropped when it reaches the top (or when the heap is rebuilt, see
    /// [`Server::schedule`]), so the top is found without scanning every connection.
    timers: BinaryHeap<Reverse<(Instant, ConnectionId)>>,
}

/// The routes of one mount prefix (ASGI `root_path`).
#[derive(Debug, Clone)]
struct Mount {
    /// The decoded path of the SSE route and of the message mount (prefix included).
    sse_route: String,
    message_route: String,
    /// The percent-quoted endpoint announced to clients, without the query.
    endpoint_base: String,
}

impl Mount {
    fn new(root_path: &str, config: &ServerConfig) -> Self {
        let root = root_path.trim_end_matches('/');
        let sse_route = format!("{root}{}", config.sse_path);
        let message_route = format!("{root}{}", config.message_path.as_str());
        let endpoint_base = quote_path(&message_route);
        Mount {
            sse_route,
            message_route,
            endpoint_base,
        }
    }

    /// Whether `path` is the message mount or below it.
    fn below_message_mount(&self, path: &str) -> bool {
        let mount = self.message_route.trim_end_matches('/');
        path.len() > mount.len() && path.starts_with(mount) && path.as_bytes()[mount.len()] == b'/'
    }
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

impl Server {
    /// Creates a server. `random` yields 16 random bytes per new session id (inject a real
    /// generator in drivers and a deterministic one in tests).
    pub fn new(config: ServerConfig, random: Box<dyn FnMut() -> [u8; 16] + Send>) -> Self {
        let mount = Mount::new(&config.root_path, &config);
        let config_connection = config.connection_config();
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
            mount,
            connection_config: std::sync::Arc::new(config_connection),
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
            http: Framing::Http1(ServerConnection::new(self.connection_config.clone(), now)),
            route: Route::Requests { in_flight: None },
            armed: None,
        };
        if self.shutting_down {
            conn.http.close();
            conn.route = Route::Done;
            note(&mut conn, id, &mut self.events);
        }
        self.connections.insert(id, Box::new(conn));
        self.schedule(id);
        id
    }

    /// Feeds bytes read from `connection`.
    pub fn handle_bytes(&mut self, connection: ConnectionId, data: Bytes, now: Instant) {
        let Some(conn) = self.connections.get_mut(&connection) else {
            return;
        };
        let Framing::Http1(http1) = &mut conn.http else {
            return;
        };
        // A client writing on its SSE GET connection, or after we decided to close, is ignored
        // (and nothing of it is kept): the connection drops it.
        http1.handle_bytes(data, now);
        if matches!(conn.route, Route::Foreign(_)) {
            // Parked: nothing is processed, and a peer sending more than one request's worth
            // meanwhile is cut off.
            let l = &self.config.http_limits;
            if http1.buffered_bytes() > l.max_head_bytes.saturating_add(l.max_body_bytes) {
                conn.http.close();
                conn.route = Route::Done;
            }
        }
        if conn.http.is_closing() {
            // The driver kept reading although `wants_read` said no: a peer that sends without
            // reading is cut off rather than buffered without end.
            note(conn, connection, &mut self.events);
        }
        if matches!(conn.route, Route::Requests { .. }) {
            self.process(connection, now);
        }
        self.schedule(connection);
    }

    /// The peer finished sending on `connection` (read side EOF).
    pub fn handle_eof(&mut self, connection: ConnectionId, now: Instant) {
        let Some(conn) = self.connections.get_mut(&connection) else {
            return;
        };
        match conn.route {
            Route::Requests { .. } => {
                let Framing::Http1(http1) = &mut conn.http else {
                    return;
                };
                // The input is complete and already buffered (bounded by the decoder's limits):
                // all of it is answered before the connection closes, even past the reply bound.
                http1.handle_eof();
                note(conn, connection, &mut self.events);
                self.process(connection, now);
                self.schedule(connection);
            }
            // The GET's client went away: that ends the session (the reference's
            // `http.disconnect`).
            Route::Stream { .. } => self.handle_close(connection),
            // The answer still comes; then what was pipelined, then the close.
            Route::Foreign(_) => {
                if let Framing::Http1(http1) = &mut conn.http {
                    http1.handle_eof();
                }
            }
            Route::Done => {}
        }
    }

    /// `connection` is gone (closed by either side, or failed). Ends its session if it carried one.
    pub fn handle_close(&mut self, connection: ConnectionId) {
        if let Some(conn) = self.connections.remove(&connection) {
            if let Route::Stream { session, .. } = conn.route {
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
        let was_backed_up = conn.http.is_backed_up();
        let b = conn.http.poll_transmit()?;
        match conn.route {
            Route::Requests { .. } if was_backed_up && !conn.http.is_backed_up() => {
                self.process(connection, now);
                self.schedule(connection);
            }
            Route::Stream { session, .. } => {
                if let Some(entry) = self.sessions.get_mut(&session) {
                    if entry.blocked
                        && conn.http.queued_bytes() <= self.config.max_session_queue_bytes / 2
                    {
                        entry.blocked = false;
                        self.events.push_back(ServerEvent::Writable { session });
                    }
                }
            }
            Route::Requests { .. } | Route::Foreign(_) | Route::Done => {}
        }
        Some(b)
    }

    /// Bytes queued on `connection` and not yet taken.
    pub fn queued_bytes(&self, connection: ConnectionId) -> usize {
        self.connections
            .get(&connection)
            .map_or(0, |c| c.http.queued_bytes())
    }

    /// Whether the driver should read more from `connection`. `false` while the replies queued
    /// on a request connection exceed [`ServerConfig::max_session_queue_bytes`] (a peer that
    /// pipelines requests without reading the answers); reading may resume once
    /// [`Server::poll_transmit`] has drained them. Bytes handed in anyway are kept up to one
    /// request's worth (head and body limits), then the connection is closed.
    pub fn wants_read(&self, connection: ConnectionId) -> bool {
        self.connections
            .get(&connection)
            // Backpressure: nothing more is read while the session bus decides.
            .is_some_and(|c| !matches!(c.route, Route::Foreign(_)) && c.http.wants_read())
    }

    /// Whether the driver should close `connection` now: everything queued was taken and the
    /// connection is finished (error, `Connection: close`, shutdown, unknown id).
    pub fn wants_close(&self, connection: ConnectionId) -> bool {
        self.connections
            .get(&connection)
            .is_none_or(|c| c.http.wants_close())
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
        let queued = conn.http.queued_bytes();
        if queued > 0 && queued + json.len() > limit {
            entry.blocked = true;
            return Err(SendError::QueueFull { queued, limit });
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
        conn.http.send_event(&self.encoder, &ev);
        note(conn, entry.connection, &mut self.events);
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
            let session = match conn.route {
                Route::Stream { session, .. } => Some(session),
                Route::Requests { .. } | Route::Foreign(_) | Route::Done => None,
            };
            if session.is_some() {
                conn.http.finish_stream();
                conn.route = Route::Done;
            } else {
                conn.http.close_after_response();
            }
            note(conn, id, &mut self.events);
            if let Some(session) = session {
                self.end_session(session);
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
            .is_some_and(|c| conn_deadline(c) == Some(at))
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
        let Some(conn) = self.connections.get_mut(&id) else {
            return;
        };
        let at = conn_deadline(conn);
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
            let mut current = Vec::with_capacity(self.connections.len());
            for (id, c) in self.connections.iter_mut() {
                c.armed = conn_deadline(c);
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
            match &mut conn.route {
                Route::Stream { next_ping, .. } => {
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
                            // Same queue policy as `send_json`: a reader that stopped reading
                            // must not grow the queue by a ping per interval without bound.
                            let limit = self.config.max_session_queue_bytes;
                            let queued = conn.http.queued_bytes();
                            if queued == 0 || queued + conn.http.framed_len(body.len()) <= limit {
                                conn.http.send_comment(body.freeze());
                            }
                        }
                    }
                }
                Route::Requests { .. } => {
                    // Slow-loris: the head (or body) did not complete in time; an idle
                    // keep-alive connection just closes.
                    conn.http.handle_timeout(now);
                    if conn.http.is_closing() {
                        conn.route = Route::Done;
                    }
                }
                Route::Foreign(_) => foreign::on_timeout(conn, id, now, &mut self.events),
                Route::Done => {}
            }
            note(conn, id, &mut self.events);
        }
        for id in due {
            self.schedule(id);
        }
    }

    fn end_session(&mut self, session: SessionId) {
        if self.sessions.remove(&session).is_some() {
            self.events
                .push_back(ServerEvent::SessionClosed { session });
        }
    }

    /// Hands the connection's buffered requests to the router while its answers are not backed
    /// up (the connection decides; after the peer's EOF it answers everything).
    fn process(&mut self, id: ConnectionId, now: Instant) {
        loop {
            let Some(conn) = self.connections.get_mut(&id) else {
                return;
            };
            let Framing::Http1(http1) = &mut conn.http else {
                return;
            };
            if !matches!(conn.route, Route::Requests { .. }) {
                return;
            }
            match http1.poll_request(now) {
                Ok(None) => {
                    if conn.http.is_closing() {
                        conn.route = Route::Done;
                    }
                    note(conn, id, &mut self.events);
                    return;
                }
                Ok(Some(event)) => self.handle_request_event(id, event, now),
                Err(err) => {
                    self.fail_request(id, &err);
                    return;
                }
            }
        }
    }

    /// One step of the request in flight on `id`, whichever framing parsed it.
    fn handle_request_event(&mut self, id: ConnectionId, event: RequestEvent, now: Instant) {
        let Some(conn) = self.connections.get_mut(&id) else {
            return;
        };
        let Route::Requests { in_flight } = &mut conn.route else {
            return;
        };
        match event {
            RequestEvent::Head(head) => {
                let routed = self.route(head, &self.mount);
                self.start_request(id, routed, now);
            }
            RequestEvent::Body(chunk) => {
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
            RequestEvent::End => {
                if let Some(inf) = in_flight.take() {
                    self.finish_request(id, inf, now);
                }
            }
        }
    }

    /// The request on `id` failed at the HTTP level: its answer, then the end of the requests
    /// (the framing decides whether the close is announced).
    fn fail_request(&mut self, id: ConnectionId, err: &HttpError) {
        let Some(conn) = self.connections.get_mut(&id) else {
            return;
        };
        let in_flight = match &mut conn.route {
            Route::Requests { in_flight } => in_flight.take(),
            Route::Stream { .. } | Route::Foreign(_) | Route::Done => None,
        };
        let reply = match in_flight {
            Some(inf) if inf.beats_too_large && matches!(err, HttpError::BodyTooLarge { .. }) => {
                match inf.kind {
                    RequestKind::Fixed(r) => r,
                    RequestKind::PostMessage { .. } | RequestKind::ForeignPost { .. } => {
                        http_error_reply(err)
                    }
                }
            }
            _ => http_error_reply(err),
        };
        conn.http.fail(err, &reply);
        conn.route = Route::Done;
        note(conn, id, &mut self.events);
        if !matches!(err, HttpError::UnexpectedEof) {
            self.events.push_back(ServerEvent::Rejected {
                connection: id,
                status: reply.status,
                reason: reply.body,
            });
        }
    }

    /// Opens an exchange for a request that a host HTTP server (hyper, axum) has parsed: the
    /// transport routes `head` now and answers as on its own connections, with the host doing
    /// the HTTP/1.1 framing (see [`HostResponse`]). `root_path` is the mount prefix the request
    /// arrived under (the nested path of the host's router, included in `head`'s target),
    /// `None` for [`ServerConfig::root_path`].
    ///
    /// Then hand the body in with [`Server::handle_exchange_body`] and
    /// [`Server::handle_exchange_end`], take the answer with [`Server::poll_response`], and for
    /// a stream take its frames with [`Server::poll_transmit`] until [`Server::wants_close`].
    /// Report the host's end of the exchange (a client gone, a body dropped) with
    /// [`Server::handle_close`]. [`ServerEvent::Transmit`] says when to look, as for
    /// connections.
    pub fn open_exchange(
        &mut self,
        head: RequestHead,
        root_path: Option<&str>,
        now: Instant,
    ) -> ConnectionId {
        let id = ConnectionId(self.next_connection);
        self.next_connection += 1;
        self.connections.insert(
            id,
            Box::new(Connection {
                http: Framing::Host(HostExchange::new()),
                route: Route::Requests { in_flight: None },
                armed: None,
            }),
        );
        let mount = root_path.map(|root| Mount::new(root, &self.config));
        // A declared length over the limit is refused from the head, as our own decoder does
        // (after the route, so a 405 still wins over the 413).
        let limit = self.config.http_limits.max_body_bytes;
        // The same framing rule as our decoder's (a bad or conflicting length is the host's
        // to refuse; hyper does).
        let too_large = matches!(
            http::framing::request_framing(&head.headers),
            Ok(http::framing::BodyFraming::Length(n)) if n > limit as u64
        );
        let routed = self.route(head, mount.as_ref().unwrap_or(&self.mount));
        self.start_request(id, routed, now);
        if too_large {
            self.fail_request(id, &HttpError::BodyTooLarge { limit });
        }
        self.schedule(id);
        id
    }

    /// Body bytes of an exchange's request. Past [`http::Limits::max_body_bytes`] the request
    /// is answered `413` (or the reply that wins over it, as a `405`).
    pub fn handle_exchange_body(&mut self, exchange: ConnectionId, data: Bytes, now: Instant) {
        let limit = self.config.http_limits.max_body_bytes;
        let Some(conn) = self.connections.get_mut(&exchange) else {
            return;
        };
        if !matches!(conn.route, Route::Requests { .. }) {
            // Answered already (refused from its head): the rest of the body is dropped.
            return;
        }
        let Framing::Host(x) = &mut conn.http else {
            return;
        };
        match x.count_body(data.len(), limit) {
            Ok(()) => self.handle_request_event(exchange, RequestEvent::Body(data), now),
            Err(err) => self.fail_request(exchange, &err),
        }
    }

    /// The end of an exchange's request body: the request is answered.
    pub fn handle_exchange_end(&mut self, exchange: ConnectionId, now: Instant) {
        if matches!(
            self.connections.get(&exchange).map(|c| &c.http),
            Some(Framing::Host(_))
        ) {
            self.handle_request_event(exchange, RequestEvent::End, now);
        }
    }

    /// The host could not read the exchange's request (a broken body): it gets no answer.
    pub fn handle_exchange_error(&mut self, exchange: ConnectionId) {
        if self.connections.get(&exchange).is_some_and(|c| {
            matches!(
                (&c.http, &c.route),
                (Framing::Host(_), Route::Requests { .. })
            )
        }) {
            self.fail_request(exchange, &HttpError::UnexpectedEof);
        }
    }

    /// The answer to an exchange's request, once decided (taken once).
    pub fn poll_response(&mut self, exchange: ConnectionId) -> Option<HostResponse> {
        match &mut self.connections.get_mut(&exchange)?.http {
            Framing::Host(x) => x.take_response(),
            Framing::Http1(_) => None,
        }
    }

    /// A routed head: a request whose answer waits for its body, or an SSE stream that starts
    /// now (a `HEAD` gets the stream's head alone).
    fn start_request(&mut self, id: ConnectionId, routed: Routed, now: Instant) {
        let Some(conn) = self.connections.get_mut(&id) else {
            return;
        };
        match routed {
            Routed::Request(inf) => {
                conn.route = Route::Requests {
                    in_flight: Some(inf),
                };
            }
            Routed::Stream {
                endpoint_base,
                head_only,
                request,
                owner,
                extra_headers,
            } => {
                if head_only {
                    conn.http.respond_stream_head(now, extra_headers);
                    conn.route = if conn.http.is_closing() {
                        Route::Done
                    } else {
                        Route::Requests { in_flight: None }
                    };
                    note(conn, id, &mut self.events);
                    return;
                }
                let session = loop {
                    let candidate = SessionId::from_random_bytes((self.random)());
                    if !self.sessions.contains_key(&candidate) {
                        break candidate;
                    }
                };
                let endpoint = format!("{endpoint_base}?session_id={session}");
                let ev = OutgoingEvent {
                    id: None,
                    event: Some("endpoint"),
                    data: &endpoint,
                    retry: None,
                };
                conn.http.start_stream(extra_headers, &self.encoder, &ev);
                note(conn, id, &mut self.events);
                let next_ping = self.config.ping_interval.map(|p| now + p);
                conn.route = Route::Stream { session, next_ping };
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
            }
        }
    }

    fn finish_request(&mut self, id: ConnectionId, inf: InFlight, now: Instant) {
        let InFlight {
            kind,
            body,
            extra_headers,
            ..
        } = inf;
        let mut reply = match kind {
            RequestKind::Fixed(reply) => reply,
            RequestKind::ForeignPost { session, principal } => {
                // Parked, unanswered, until the session bus says where the session is.
                let message = Message::from_slice(&body).ok();
                let parked = foreign::Awaiting::new(
                    extra_headers,
                    session,
                    &message,
                    &principal,
                    now,
                    &self.config,
                );
                if let Some(conn) = self.connections.get_mut(&id) {
                    conn.route = Route::Foreign(parked);
                }
                self.events.push_back(ServerEvent::ForeignPost {
                    connection: id,
                    session,
                    message,
                    principal,
                });
                self.schedule(id);
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
        reply.headers.extend(extra_headers);
        let Some(conn) = self.connections.get_mut(&id) else {
            return;
        };
        conn.http.respond(now, &reply);
        conn.route = if conn.http.is_closing() {
            Route::Done
        } else {
            Route::Requests { in_flight: None }
        };
        note(conn, id, &mut self.events);
        if reply.status >= 400 {
            self.events.push_back(ServerEvent::Rejected {
                connection: id,
                status: reply.status,
                reason: reply.body,
            });
        }
    }

    /// Routes `head`, with CORS around it when configured: preflights answered here, and the
    /// allowed origin's headers added to whatever the route answers.
    fn route(&self, head: RequestHead, mount: &Mount) -> Routed {
        let Some(cors) = &self.config.cors else {
            return self.route_uncors(head, mount);
        };
        let origin = head.headers.get_str("origin").map(str::to_string);
        let allowed = origin.as_deref().filter(|o| cors.allows(o));
        let extra = allowed.map(|o| cors.answer_headers(o)).unwrap_or_default();
        let preflight =
            head.method == "OPTIONS" && head.headers.get("access-control-request-method").is_some();
        if preflight {
            let path = percent_decode_path(head.path());
            let methods = if path == mount.sse_route {
                Some("GET, HEAD, OPTIONS")
            } else if mount.below_message_mount(&path) {
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
                    beats_too_large: true,
                    body: BytesMut::new(),
                    extra_headers: Vec::new(),
                });
            }
        }
        let mut routed = self.route_uncors(head, mount);
        match &mut routed {
            Routed::Request(inf) => inf.extra_headers = extra,
            Routed::Stream { extra_headers, .. } => *extra_headers = extra,
        }
        routed
    }

    fn route_uncors(&self, head: RequestHead, mount: &Mount) -> Routed {
        let path = percent_decode_path(head.path());
        let fixed = |reply: Reply, beats: bool| {
            Routed::Request(InFlight {
                kind: RequestKind::Fixed(reply),
                beats_too_large: beats,
                body: BytesMut::new(),
                extra_headers: Vec::new(),
            })
        };
        if path == mount.sse_route {
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
            return Routed::Stream {
                endpoint_base: mount.endpoint_base.clone(),
                head_only,
                request: Box::new(head),
                owner,
                extra_headers: Vec::new(),
            };
        }
        let below_mount = mount.below_message_mount(&path);
        let mount = mount.message_route.trim_end_matches('/');
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
            beats_too_large: false,
            body: BytesMut::new(),
            extra_headers: Vec::new(),
        })
    }
}

enum Routed {
    Request(InFlight),
    Stream {
        /// The percent-quoted message endpoint to announce (without the query).
        endpoint_base: String,
        head_only: bool,
        request: Box<RequestHead>,
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
fn conn_deadline(c: &Connection) -> Option<Instant> {
    match &c.route {
        _ if c.http.is_closing() => None,
        Route::Stream { next_ping, .. } => *next_ping,
        Route::Foreign(awaiting) => Some(awaiting.next_deadline()),
        Route::Requests { .. } | Route::Done => c.http.deadline(),
    }
}

/// Reports `conn` to the driver if it has something new to write or became finished (once per
/// transition, see [`ServerEvent::Transmit`]).
fn note(conn: &mut Connection, id: ConnectionId, events: &mut VecDeque<ServerEvent>) {
    if conn.http.take_wakeup() {
        events.push_back(ServerEvent::Transmit { connection: id });
    }
}

/// One SSE event framed as one HTTP chunk of `conn`'s stream.
#[cfg(test)]
mod tests {
    use super::*;

    /// The earliest deadline, found by looking at every connection (what `poll_timeout` did
    /// before the heap).
    fn scanned(s: &Server) -> Option<Instant> {
        s.connections
            .values()
            .filter_map(|c| conn_deadline(c))
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
                if let Some(at) = conn_deadline(c) {
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
