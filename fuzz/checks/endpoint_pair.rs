//! Fuzz check for the composed pair: a client ([`transport::Client`] + [`ClientSession`], joined
//! as glue joins them) and a [`ServerEndpoint`], wired byte for byte under a virtual clock, with
//! an application on each side. The input is a little program: the client application sends,
//! cancels and answers; the server application answers requests (at once, late or never),
//! sends server→client requests and notifications, stalls, shuts down; the wire holds either
//! direction of any connection, corrupts, truncates, drops or duplicates its next chunk,
//! reorders what waits, drops what is in flight and cuts connections; raw connections inject
//! HTTP (POSTs to live sessions with forged JSON-RPC, GETs, junk) into the server; time jumps
//! to the next deadline or by a few seconds.
//!
//! Checked after every step (each check is O(live sessions + connections), all small):
//! - no panic, and the wire settles (no livelock between the machines);
//! - bounded memory: the endpoint's sessions ≤ `max_sessions` and equal to the transport's;
//!   per session, requests the application holds ≤ `max_in_flight` and server→client requests
//!   pending ≤ `max_pending` (and equal to what the application counts); bytes queued on any
//!   server connection ≤ `max_session_queue_bytes` + one message (+ one request buffer's
//!   replies after EOF); the endpoint's event queue ≤ `max_queued_events` + a fixed slack when
//!   the application drains it after a stall; the client session's pending requests ≤ its
//!   `max_pending` and equal to what its application counts;
//! - exactly once: every client request resolves at most once, never after a successful
//!   cancel, and all of them have resolved once the client transport is closed; every
//!   `Request` the endpoint announces ends exactly once (answered, or `RequestCancelled`), an
//!   answer to a request the application holds is never refused once it has drained the
//!   events, and `SessionClosed` comes after all of its session's ends; every server→client
//!   request resolves at most once, never after a successful cancel, all before its
//!   `SessionClosed`; no event names a session that is not live; `Writable` only after a
//!   refusal;
//! - after `handle_timeout(now)` no machine has a deadline still due;
//! - at the end (every hold released, then a shutdown or a cut of every connection, then time
//!   runs to the deadlines): no session, no connection, no timer is left, the client transport
//!   is closed and every request on both sides has resolved exactly once (or was cancelled).
//!
//! Program format: the first byte picks the configuration; then up to [`MAX_OPS`] `op` bytes,
//! each followed by its operands (a missing operand ends the program). See [`Harness::step`].

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use mcp_sse_core::endpoint::{
    CancelReason, EndpointConfig, EndpointError, EndpointEvent, IoEvent, ServerEndpoint,
};
use mcp_sse_core::http::Limits;
use mcp_sse_core::jsonrpc::{ErrorObject, Message, RequestId};
use mcp_sse_core::session::{self, ClientEvent, ClientSession, RequestOptions, ServerFeatures};
use mcp_sse_core::transport::{
    self, ClientConnectionId, ClientError, ConnectionId, SendToken, SessionId,
};
use serde_json::{json, Map, Value};

/// Bound on the program's steps.
pub const MAX_OPS: usize = 64;
/// Bound on the wire's rounds in one [`Harness::run`]: more is a livelock.
const MAX_ROUNDS: usize = 2_000;
/// Bound on the deadlines the final drain runs to.
const FINAL_DEADLINES: usize = 64;
/// Connections the client may open within one [`Harness::run`] against a server that is
/// shutting down. The client once churned here: while a barrier message (`initialize`,
/// `notifications/initialized`) waited for its answer, `transport::Client` opened connections
/// it could not use, which a shutting-down server closed at once, forever. It now opens none
/// while a barrier waits; more than this is that bug back. Reproducer:
/// `corpus/endpoint_pair/known-client-reconnect-churn`.
const KNOWN_CHURN: usize = 32;
/// Raw (injecting) connections open at once.
const MAX_RAW: usize = 3;

const MAX_SESSIONS: usize = 2;
const MAX_IN_FLIGHT: usize = 2;
const MAX_PENDING: usize = 2;
const MAX_QUEUED_EVENTS: usize = 6;
/// What one call may add to the event queue beyond its bound: the messages of one read (at most
/// a few here) and the ends of every session's tables (timeouts, closes).
const EVENT_SLACK: usize = 48;
const CLIENT_MAX_PENDING: usize = 4;
const CLIENT_MAX_SERVER_REQUESTS: usize = 2;
const MAX_HEAD: usize = 1024;
const MAX_BODY: usize = 2048;
/// Bound on one message or reply beyond the queue bound (results here are ≤ 1.6 KB, errors echo
/// at most a body).
const ONE_MESSAGE: usize = 4096;

const CLIENT_METHODS: [&str; 7] = [
    "tools/call",
    "ping",
    "tools/list",
    "logging/setLevel",
    "resources/list",
    "x/unknown",
    "prompts/get",
];
const SERVER_METHODS: [&str; 4] = [
    "roots/list",
    "sampling/createMessage",
    "ping",
    "elicitation/create",
];
const RAW_METHODS: [&str; 8] = [
    "tools/call",
    "initialize",
    "ping",
    "notifications/cancelled",
    "notifications/initialized",
    "logging/setLevel",
    "tools/list",
    "x",
];

struct Gen<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Gen<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.data.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn bytes(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    fn pick(&mut self, n: usize) -> Option<Option<usize>> {
        let b = self.byte()?;
        Some((n > 0).then(|| usize::from(b) % n))
    }
}

/// What happens to the next chunk crossing one direction of a connection.
#[derive(Debug, Clone, Copy)]
enum Mutation {
    Flip { at: u8, xor: u8 },
    Truncate { len: u8 },
    Drop,
    Duplicate,
}

impl Mutation {
    fn from_bytes(kind: u8, a: u8) -> Self {
        match kind % 4 {
            0 => Mutation::Flip {
                at: a,
                xor: kind | 1,
            },
            1 => Mutation::Truncate { len: a },
            2 => Mutation::Drop,
            _ => Mutation::Duplicate,
        }
    }

    /// The chunks delivered instead of `b`.
    fn apply(self, b: Bytes) -> (Option<Bytes>, Option<Bytes>) {
        match self {
            Mutation::Flip { at, xor } => {
                if b.is_empty() {
                    return (Some(b), None);
                }
                let mut v = b.to_vec();
                let i = usize::from(at) % v.len();
                v[i] ^= xor;
                (Some(Bytes::from(v)), None)
            }
            Mutation::Truncate { len } => {
                let n = usize::from(len).min(b.len().saturating_sub(1));
                (Some(b.slice(..n)), None)
            }
            Mutation::Drop => (None, None),
            Mutation::Duplicate => (Some(b.clone()), Some(b)),
        }
    }
}

/// One connection: a client transport's, or a raw injecting peer's (`client: None`).
#[derive(Debug)]
struct Link {
    client: Option<ClientConnectionId>,
    server: ConnectionId,
    /// Written by the peer, not yet read by the server.
    to_server: VecDeque<Bytes>,
    hold_to_server: bool,
    hold_to_client: bool,
    mutate_to_server: Option<Mutation>,
    mutate_to_client: Option<Mutation>,
    /// The peer finished writing: once `to_server` is delivered the server sees EOF.
    peer_closed: bool,
    /// The server was handed EOF (a raw peer's half close).
    eof_sent: bool,
    /// The endpoint reported output (`IoEvent::Transmit`).
    tx: bool,
    /// The endpoint stopped reading it: until `IoEvent::Readable` or its output was taken.
    read_paused: bool,
}

impl Link {
    fn new(client: Option<ClientConnectionId>, server: ConnectionId) -> Self {
        Link {
            client,
            server,
            to_server: VecDeque::new(),
            hold_to_server: false,
            hold_to_client: false,
            mutate_to_server: None,
            mutate_to_client: None,
            peer_closed: false,
            eof_sent: false,
            tx: false,
            read_paused: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Pending,
    Resolved,
    Cancelled,
}

/// The server application's view of one live session.
#[derive(Debug)]
struct AppSession {
    id: SessionId,
    /// Requests announced and not yet ended.
    open: Vec<RequestId>,
    /// Server→client requests sent and not yet resolved or cancelled.
    asked: Vec<RequestId>,
    /// A call was refused `OutboundFull` and no `Writable` came since.
    starved: bool,
}

struct Harness {
    now: Instant,
    wall: SystemTime,
    server: ServerEndpoint,
    client: transport::Client,
    session: ClientSession,
    links: Vec<Link>,
    tokens: HashMap<SendToken, RequestId>,
    /// The next connection the client opens fails to connect.
    fail_next_connect: bool,
    /// The client transport reported `Closed`.
    client_closed: bool,
    /// Connections the client opened in the current [`Harness::run`].
    opens_this_run: usize,
    // The client application.
    client_fate: HashMap<RequestId, Fate>,
    client_order: Vec<RequestId>,
    client_pending: usize,
    handshakes: u32,
    initialized_called: bool,
    server_asks: Vec<RequestId>,
    // The server application.
    apps: Vec<AppSession>,
    /// Steps left during which the application does not take the endpoint's events.
    stalled: u8,
    shutdown: bool,
    queue_bytes: usize,
    end_with_shutdown: bool,
}

fn error(b: u8) -> ErrorObject {
    let code = [-32603, -32602, -32000, 1][usize::from(b % 4)];
    ErrorObject::new(code, "fuzz")
}

impl Harness {
    fn new(cfg: u8) -> Self {
        let now = Instant::now();
        let queue_bytes = if cfg & 2 != 0 { 2048 } else { 256 };
        let mut config = EndpointConfig::default();
        config.transport.ping_interval = (cfg & 1 != 0).then(|| Duration::from_secs(1));
        config.transport.max_session_queue_bytes = queue_bytes;
        config.transport.head_read_timeout = Duration::from_secs(2);
        config.transport.keep_alive_timeout = Duration::from_secs(4);
        config.transport.max_sessions = MAX_SESSIONS;
        config.transport.http_limits = Limits {
            max_head_bytes: MAX_HEAD,
            max_headers: 16,
            max_body_bytes: MAX_BODY,
            ..Limits::default()
        };
        config.session = session::ServerConfig {
            server_info: json!({"name": "fuzz", "version": "1"}),
            instructions: None,
            features: ServerFeatures {
                tools: true,
                logging: cfg & 64 != 0,
                ..ServerFeatures::default()
            },
            max_in_flight: MAX_IN_FLIGHT,
            max_pending: MAX_PENDING,
            max_events: 8,
            max_outbound: 4,
        };
        config.max_parked_messages = if cfg & 128 != 0 { 3 } else { 1 };
        config.max_queued_events = MAX_QUEUED_EVENTS;
        config.shutdown_grace = Duration::from_secs(3);
        let mut n: u8 = 0;
        let random = Box::new(move || {
            n = n.wrapping_add(1);
            [n; 16]
        });
        let client_transport = transport::ClientConfig {
            read_timeout: Duration::from_secs(6),
            endpoint_timeout: Duration::from_secs(4),
            connect_timeout: Duration::from_secs(4),
            max_in_flight_posts: 2,
            max_queued_posts: 4,
            max_error_body_bytes: 256,
            ..transport::ClientConfig::default()
        };
        let handles = cfg & 8 != 0;
        let client_session = session::ClientConfig {
            default_timeout: (cfg & 4 != 0).then(|| Duration::from_secs(3)),
            handles_sampling: handles,
            handles_roots: handles,
            handles_elicitation: handles,
            max_pending: CLIENT_MAX_PENDING,
            max_server_requests: CLIENT_MAX_SERVER_REQUESTS,
            max_events: 8,
            max_outbound: 8,
            ..session::ClientConfig::default()
        };
        let mut h = Harness {
            now,
            wall: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
            server: ServerEndpoint::new(config, random),
            client: transport::Client::new("http://127.0.0.1:8000/sse", client_transport, now)
                .expect("valid URL"),
            session: ClientSession::new(client_session),
            links: Vec::new(),
            tokens: HashMap::new(),
            fail_next_connect: false,
            client_closed: false,
            opens_this_run: 0,
            client_fate: HashMap::new(),
            client_order: Vec::new(),
            client_pending: 0,
            handshakes: 0,
            initialized_called: false,
            server_asks: Vec::new(),
            apps: Vec::new(),
            stalled: 0,
            shutdown: false,
            queue_bytes,
            end_with_shutdown: cfg & 32 != 0,
        };
        if cfg & 16 != 0 {
            h.initialize();
        }
        h.run();
        h
    }

    // ------------------------------------------------------------------ the client application

    fn add_client_request(&mut self, id: RequestId) {
        assert!(
            self.client_fate.insert(id.clone(), Fate::Pending).is_none(),
            "client request id {id} handed out twice"
        );
        self.client_order.push(id);
        self.client_pending += 1;
    }

    fn initialize(&mut self) {
        if self.initialized_called {
            return;
        }
        self.initialized_called = true;
        if let Ok(id) = self.session.initialize(self.now) {
            self.add_client_request(id);
        }
    }

    fn take_client_events(&mut self) -> bool {
        let mut moved = false;
        while let Some(ev) = self.session.poll_event() {
            moved = true;
            match ev {
                ClientEvent::Response { id, .. } => {
                    let fate = self.client_fate.get_mut(&id);
                    let Some(fate) = fate else {
                        panic!("client: unknown request {id} resolved");
                    };
                    assert_eq!(
                        *fate,
                        Fate::Pending,
                        "client: request {id} resolved when {fate:?}"
                    );
                    *fate = Fate::Resolved;
                    self.client_pending -= 1;
                }
                ClientEvent::Initialized { .. } | ClientEvent::InitializeFailed(_) => {
                    self.handshakes += 1;
                    assert_eq!(self.handshakes, 1, "client: handshake reported twice");
                }
                ClientEvent::ServerRequest { id, .. } => {
                    self.server_asks.push(id);
                    assert!(
                        self.server_asks.len() <= CLIENT_MAX_SERVER_REQUESTS,
                        "client: more server requests held than max_server_requests"
                    );
                }
                ClientEvent::ServerRequestCancelled { id } => {
                    self.server_asks.retain(|x| *x != id);
                }
                ClientEvent::Progress { id, .. } => {
                    assert_eq!(
                        self.client_fate.get(&id),
                        Some(&Fate::Pending),
                        "client: progress for request {id} not pending"
                    );
                }
                ClientEvent::LogMessage(_)
                | ClientEvent::Notification(_)
                | ClientEvent::InvalidMessage { .. } => {}
            }
        }
        moved
    }

    // ------------------------------------------------------------------ the server application

    fn app(&mut self, session: SessionId, what: &str) -> &mut AppSession {
        match self.apps.iter_mut().position(|a| a.id == session) {
            Some(i) => &mut self.apps[i],
            None => panic!("{what} for session {session}, which is not live"),
        }
    }

    fn take_server_events(&mut self) {
        let mut n = 0;
        while let Some(ev) = self.server.poll_event() {
            n += 1;
            match ev {
                EndpointEvent::SessionOpened { session, .. } => {
                    assert!(
                        self.apps.iter().all(|a| a.id != session),
                        "session {session} opened twice"
                    );
                    self.apps.push(AppSession {
                        id: session,
                        open: Vec::new(),
                        asked: Vec::new(),
                        starved: false,
                    });
                    assert!(self.apps.len() <= MAX_SESSIONS, "more than max_sessions");
                }
                EndpointEvent::Initialized { session, .. }
                | EndpointEvent::Notification { session, .. }
                | EndpointEvent::LogLevelChanged { session, .. }
                | EndpointEvent::InvalidMessage { session, .. } => {
                    self.app(session, "an event");
                }
                EndpointEvent::ForeignPost { .. } => {
                    panic!("a foreign POST without the scale-out setting")
                }
                EndpointEvent::Request { session, id, .. } => {
                    let app = self.app(session, "a request");
                    assert!(!app.open.contains(&id), "request {id} announced twice");
                    app.open.push(id);
                    assert!(app.open.len() <= MAX_IN_FLIGHT, "more than max_in_flight");
                }
                EndpointEvent::RequestCancelled {
                    session,
                    id,
                    reason,
                } => {
                    let shutdown = self.shutdown;
                    let app = self.app(session, "a cancellation");
                    let Some(at) = app.open.iter().position(|x| *x == id) else {
                        panic!("cancellation of request {id}, which is not held");
                    };
                    app.open.swap_remove(at);
                    assert!(
                        reason != CancelReason::Shutdown || shutdown,
                        "cancelled for a shutdown that did not happen"
                    );
                }
                EndpointEvent::Response { session, id, .. } => {
                    let app = self.app(session, "a response");
                    let Some(at) = app.asked.iter().position(|x| *x == id) else {
                        panic!("server request {id} resolved when not pending");
                    };
                    app.asked.swap_remove(at);
                }
                EndpointEvent::Writable { session } => {
                    let app = self.app(session, "Writable");
                    assert!(app.starved, "Writable without a refusal");
                    app.starved = false;
                }
                EndpointEvent::SessionClosed { session } => {
                    let Some(at) = self.apps.iter().position(|a| a.id == session) else {
                        panic!("SessionClosed for session {session}, which is not live");
                    };
                    let app = self.apps.swap_remove(at);
                    assert!(
                        app.open.is_empty(),
                        "session closed with requests held: {:?}",
                        app.open
                    );
                    assert!(
                        app.asked.is_empty(),
                        "session closed with server requests pending: {:?}",
                        app.asked
                    );
                }
            }
        }
        assert!(
            n <= MAX_QUEUED_EVENTS + EVENT_SLACK,
            "{n} events were queued (bound {MAX_QUEUED_EVENTS})"
        );
    }

    /// The application's view is current (no event waits for it).
    fn drained(&self) -> bool {
        self.stalled == 0
    }

    fn respond(&mut self, g: &mut Gen<'_>) -> Option<()> {
        let a = g.pick(self.apps.len())?;
        let r = g.pick(MAX_IN_FLIGHT)?;
        let kind = g.byte()?;
        // A stalled application answers nothing: its view is stale, and an id it holds may
        // meanwhile name a new request (the client cancelled the old one and reused the id), which
        // the answer would end instead (`harness-stale-answer-id-reuse`).
        let (Some(a), 0) = (a, self.stalled) else {
            return Some(());
        };
        let session = self.apps[a].id;
        let result = match kind % 4 {
            0 => Ok(json!({"content": [{"type": "text", "text": "ok"}]})),
            1 => Ok(
                json!({"content": [{"type": "text", "text": "x".repeat(usize::from(kind) * 6)}]}),
            ),
            2 => Err(error(kind >> 2)),
            _ => Ok(Value::Object(Map::new())),
        };
        let open = &self.apps[a].open;
        let Some(r) = r.filter(|r| *r < open.len()) else {
            // An id the application does not hold: always refused.
            let id = RequestId::from(u64::from(kind));
            if !open.contains(&id) && self.drained() {
                let got = self.server.respond(session, id, result);
                assert!(got.is_err(), "an answer to a request not held was accepted");
            }
            return Some(());
        };
        let id = open[r].clone();
        if let Err(e) = self.server.respond(session, id.clone(), result) {
            panic!("the answer to held request {id} was refused: {e}");
        }
        self.apps[a].open.swap_remove(r);
        Some(())
    }

    fn server_request(&mut self, g: &mut Gen<'_>) -> Option<()> {
        let a = g.pick(self.apps.len())?;
        let b = g.byte()?;
        let Some(a) = a else { return Some(()) };
        let session = self.apps[a].id;
        let method = SERVER_METHODS[usize::from(b) % SERVER_METHODS.len()];
        let timeout = (b & 4 != 0).then(|| Duration::from_millis(500 * u64::from(b >> 4)));
        let params = json!({"messages": [], "maxTokens": 1}).as_object().cloned();
        match self
            .server
            .send_request(session, method, params, timeout, self.now)
        {
            Ok(id) => {
                let app = &mut self.apps[a];
                assert!(!app.asked.contains(&id), "server request id {id} reused");
                app.asked.push(id);
                // (While stalled, resolutions may wait in the event queue.)
                assert!(
                    app.asked.len() <= MAX_PENDING || self.stalled > 0,
                    "more than max_pending"
                );
            }
            Err(e) => self.refused(a, &e),
        }
        Some(())
    }

    fn refused(&mut self, a: usize, e: &EndpointError) {
        if e.is_outbound_full() {
            self.apps[a].starved = true;
        }
        if let EndpointError::UnknownSession(s) = e {
            assert!(!self.drained(), "session {s} is live but unknown");
        }
    }

    fn cancel_server_request(&mut self, g: &mut Gen<'_>) -> Option<()> {
        let a = g.pick(self.apps.len())?;
        let r = g.pick(MAX_PENDING)?;
        let Some(a) = a else { return Some(()) };
        let session = self.apps[a].id;
        let Some(r) = r.filter(|r| *r < self.apps[a].asked.len()) else {
            return Some(());
        };
        let id = self.apps[a].asked[r].clone();
        match self.server.cancel_request(session, &id, "caller cancelled") {
            Ok(true) => {
                self.apps[a].asked.swap_remove(r);
            }
            Ok(false) => assert!(!self.drained(), "cancel of pending request {id} failed"),
            Err(e) => self.refused(a, &e),
        }
        Some(())
    }

    fn notify(&mut self, g: &mut Gen<'_>) -> Option<()> {
        let a = g.pick(self.apps.len())?;
        let b = g.byte()?;
        let Some(a) = a else { return Some(()) };
        let session = self.apps[a].id;
        let level = ["debug", "info", "error"][usize::from(b >> 2) % 3];
        let (method, params) = match b % 3 {
            0 => (
                "notifications/message",
                json!({"level": level, "data": "y".repeat(usize::from(b) * 4)}),
            ),
            1 => (
                "notifications/progress",
                json!({"progressToken": b >> 3, "progress": 1}),
            ),
            _ => ("notifications/tools/list_changed", json!({})),
        };
        if let Err(e) = self
            .server
            .notify(session, method, params.as_object().cloned())
        {
            self.refused(a, &e);
        }
        Some(())
    }

    // ------------------------------------------------------------------ the wire

    fn link_of_server(&self, s: ConnectionId) -> Option<usize> {
        self.links.iter().position(|l| l.server == s)
    }

    fn link_of_client(&self, c: ClientConnectionId) -> Option<usize> {
        self.links.iter().position(|l| l.client == Some(c))
    }

    /// Cuts link `i` abruptly: what is in flight is lost, both sides see the socket gone.
    fn cut(&mut self, i: usize) {
        let l = self.links.swap_remove(i);
        self.server.handle_close(l.server);
        if let Some(c) = l.client {
            while self.client.poll_transmit(c).is_some() {}
            self.client.handle_eof(c, self.now);
        }
    }

    fn run(&mut self) {
        self.opens_this_run = 0;
        for _ in 0..MAX_ROUNDS {
            if !self.round() {
                return;
            }
        }
        panic!("the pair did not settle within {MAX_ROUNDS} rounds");
    }

    fn round(&mut self) -> bool {
        let mut moved = false;
        let now = self.now;
        // Client session → client transport.
        while let Some(msg) = self.session.poll_transmit() {
            moved = true;
            let id = match &msg {
                Message::Request(r) => Some(r.id.clone()),
                _ => None,
            };
            match self.client.send(&msg) {
                Ok(token) => {
                    if let Some(id) = id {
                        self.tokens.insert(token, id);
                    }
                }
                Err(e) => {
                    if let Some(id) = id {
                        self.session.fail_request(&id, e);
                    }
                }
            }
        }
        // Client transport events.
        while let Some(ev) = self.client.poll_event() {
            moved = true;
            match ev {
                transport::ClientEvent::Open(c) => {
                    self.opens_this_run += 1;
                    assert!(
                        !(self.opens_this_run > KNOWN_CHURN && self.server.is_shutting_down()),
                        "the client reopens connections in a loop (see KNOWN_CHURN)"
                    );
                    if std::mem::take(&mut self.fail_next_connect) {
                        self.client.handle_connect_failed(c, "refused");
                    } else {
                        let s = self.server.open_connection(now);
                        self.links.push(Link::new(Some(c), s));
                        self.client.handle_connected(c, now);
                    }
                }
                // The pair runs without authentication: no 401 is ever answered.
                transport::ClientEvent::TokenRequired { .. } => {
                    panic!("a token was asked for without authentication")
                }
                transport::ClientEvent::Close(c) | transport::ClientEvent::Transmit(c) => {
                    let close = matches!(ev, transport::ClientEvent::Close(_));
                    match self.link_of_client(c) {
                        Some(i) => {
                            let l = &mut self.links[i];
                            while let Some(b) = self.client.poll_transmit(c) {
                                l.to_server.push_back(b);
                            }
                            l.peer_closed |= close;
                        }
                        None => while self.client.poll_transmit(c).is_some() {},
                    }
                }
                transport::ClientEvent::Message(m) => self.session.handle_message(m, now),
                transport::ClientEvent::InvalidMessage(_)
                | transport::ClientEvent::Ready { .. } => {}
                transport::ClientEvent::Sent(token) => {
                    self.tokens.remove(&token);
                }
                transport::ClientEvent::SendFailed(token, e) => {
                    let id = self.tokens.remove(&token);
                    if let (Some(id), false) = (id, matches!(e, ClientError::Closed)) {
                        self.session.fail_request(&id, e);
                    }
                }
                transport::ClientEvent::Closed(_) => {
                    self.client_closed = true;
                    self.session.handle_connection_lost();
                }
            }
        }
        moved |= self.take_client_events();
        // Peer → server bytes, while the server reads.
        let mut i = 0;
        while i < self.links.len() {
            let l = &mut self.links[i];
            let s = l.server;
            if !l.hold_to_server {
                while !l.read_paused && self.server.wants_read(s) {
                    let Some(b) = l.to_server.pop_front() else {
                        break;
                    };
                    moved = true;
                    let b = match l.mutate_to_server.take() {
                        None => Some(b),
                        Some(m) => {
                            let (first, again) = m.apply(b);
                            if let Some(again) = again {
                                l.to_server.push_front(again);
                            }
                            first
                        }
                    };
                    if let Some(b) = b {
                        self.server.handle_bytes(s, b, now);
                    }
                    if !self.server.wants_read(s) {
                        l.read_paused = true;
                    }
                }
                if l.peer_closed && l.to_server.is_empty() && !l.eof_sent {
                    moved = true;
                    self.server.handle_eof(s, now);
                    l.eof_sent = true;
                    if l.client.is_some() {
                        // The client transport closed its connection: it reads nothing more.
                        self.links.swap_remove(i);
                        self.server.handle_close(s);
                        continue;
                    }
                }
            }
            i += 1;
        }
        // Server I/O instructions.
        while let Some(io) = self.server.poll_io() {
            moved = true;
            match io {
                IoEvent::Transmit(s) => match self.link_of_server(s) {
                    Some(i) => self.links[i].tx = true,
                    None => {
                        // Its peer is gone: what the server still writes is lost.
                        while self.server.poll_transmit(s, now).is_some() {}
                        if self.server.wants_close(s) {
                            self.server.handle_close(s);
                        }
                    }
                },
                IoEvent::Readable(s) => {
                    if let Some(i) = self.link_of_server(s) {
                        self.links[i].read_paused = false;
                    }
                }
                IoEvent::Direct(_) => panic!("no direct session was opened"),
                IoEvent::Rejected { status, .. } => {
                    assert!(status >= 400, "a rejection with status {status}");
                }
            }
        }
        // Server → peer bytes, on links that are not held.
        let mut i = 0;
        while i < self.links.len() {
            let l = &mut self.links[i];
            if !l.tx || l.hold_to_client {
                i += 1;
                continue;
            }
            l.tx = false;
            let s = l.server;
            while let Some(b) = self.server.poll_transmit(s, now) {
                moved = true;
                let (first, again) = match l.mutate_to_client.take() {
                    Some(m) => m.apply(b),
                    None => (Some(b), None),
                };
                if let Some(c) = l.client {
                    for b in [first, again].into_iter().flatten() {
                        self.client.handle_bytes(c, b, now);
                    }
                }
            }
            if self.server.wants_read(s) {
                l.read_paused = false;
            }
            if self.server.wants_close(s) {
                moved = true;
                let c = l.client;
                self.links.swap_remove(i);
                self.server.handle_close(s);
                if let Some(c) = c {
                    self.client.handle_eof(c, now);
                }
                continue;
            }
            i += 1;
        }
        if self.stalled == 0 {
            self.take_server_events();
        }
        moved
    }

    fn advance_to(&mut self, at: Instant) {
        if at > self.now {
            self.wall += at - self.now;
            self.now = at;
        }
        let now = self.now;
        self.client.handle_timeout(now);
        self.session.handle_timeout(now);
        self.server.handle_timeout(now, self.wall);
        for t in [
            self.client.poll_timeout(),
            self.session.poll_timeout(),
            self.server.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        {
            assert!(t > now, "a deadline is still due after handle_timeout");
        }
        self.run();
    }

    fn next_deadline(&mut self) -> Option<Instant> {
        [
            self.client.poll_timeout(),
            self.session.poll_timeout(),
            self.server.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Raw HTTP for the server, from a template and the input.
    fn raw_request(&self, g: &mut Gen<'_>) -> Option<Vec<u8>> {
        let kind = g.byte()?;
        let a = g.byte()?;
        let sid = match self.apps.get(usize::from(a) % 4) {
            Some(app) => app.id.to_string(),
            None => "0".repeat(32),
        };
        let host = "Host: 127.0.0.1:8000\r\n";
        let post = |body: &[u8], framing: &str| -> Vec<u8> {
            let mut v = format!(
                "POST /messages/?session_id={sid} HTTP/1.1\r\n{host}\
                 Content-Type: application/json\r\n{framing}\r\n"
            )
            .into_bytes();
            v.extend_from_slice(body);
            v
        };
        Some(match kind % 6 {
            0 | 5 => {
                let id = a >> 2 & 7;
                let method = RAW_METHODS[usize::from(kind >> 3) % RAW_METHODS.len()];
                let body = match a % 4 {
                    0 => format!(
                        r#"{{"jsonrpc":"2.0","id":{id},"method":"{method}","params":{{"name":"t","requestId":{id},"level":"info","protocolVersion":"2025-11-25","capabilities":{{}},"clientInfo":{{"name":"r","version":"1"}}}}}}"#
                    ),
                    1 => format!(
                        r#"{{"jsonrpc":"2.0","method":"{method}","params":{{"requestId":{id}}}}}"#
                    ),
                    2 => format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{{"roots":[]}}}}"#),
                    _ => format!(
                        r#"{{"jsonrpc":"2.0","id":{id},"error":{{"code":-32000,"message":"e"}}}}"#
                    ),
                };
                if kind % 6 == 0 {
                    post(
                        body.as_bytes(),
                        &format!("Content-Length: {}\r\n", body.len()),
                    )
                } else {
                    let mut chunked = format!("{:x}\r\n{body}\r\n0\r\n\r\n", body.len());
                    if kind & 64 != 0 {
                        chunked.truncate(chunked.len() / 2);
                    }
                    post(chunked.as_bytes(), "Transfer-Encoding: chunked\r\n")
                }
            }
            1 => format!("GET /sse HTTP/1.1\r\n{host}\r\n").into_bytes(),
            2 => g.bytes(usize::from(a % 64))?.to_vec(),
            3 => {
                let body = g.bytes(usize::from(a % 48))?;
                post(body, &format!("Content-Length: {}\r\n", body.len()))
            }
            _ => {
                // A declared body longer than what comes: the server waits for the rest.
                let body = g.bytes(usize::from(a % 16))?;
                post(body, &format!("Content-Length: {}\r\n", body.len() + 8))
            }
        })
    }

    // ------------------------------------------------------------------ the program

    /// One step of the program:
    ///
    /// | op % 24 | action |
    /// |---|---|
    /// | 0–2 | client `send_request(method, params, {timeout, progress})` |
    /// | 3 | client `cancel` of one of its requests |
    /// | 4 | client answers (or fails) one server→client request |
    /// | 5 | client `initialize` / a notification |
    /// | 6–7 | server application answers one request it holds (or a bogus id) |
    /// | 8 | server `send_request` |
    /// | 9 | server `cancel_request` |
    /// | 10 | server `notify` |
    /// | 11 | the server application stalls (does not take events) for a few steps |
    /// | 12 | hold or release one direction of a connection |
    /// | 13 | mutate the next chunk one way on a connection (flip, truncate, drop, duplicate) |
    /// | 14 | drop what is in flight one way on a connection; reorder what waits |
    /// | 15 | cut a connection |
    /// | 16–17 | inject raw HTTP (new raw connection, an existing one, or a client's) |
    /// | 18 | a raw peer finishes writing (half close) |
    /// | 19 | the next connection the client opens fails |
    /// | 20 | advance to the next deadline |
    /// | 21 | advance by up to 5.1 s |
    /// | 22 | server `shutdown` (rarely) or client `close` |
    /// | 23 | nothing (the wire runs) |
    fn step(&mut self, g: &mut Gen<'_>) -> Option<()> {
        let op = g.byte()?;
        let now = self.now;
        match op % 24 {
            0..=2 => {
                let b = g.byte()?;
                let method = CLIENT_METHODS[usize::from(b) % CLIENT_METHODS.len()];
                let params = match method {
                    "logging/setLevel" => json!({"level": "debug"}),
                    _ => json!({"name": "t", "arguments": {"n": b}}),
                };
                let opts = RequestOptions {
                    timeout: (op & 32 != 0).then(|| Duration::from_millis(250 * u64::from(b >> 3))),
                    progress: op & 64 != 0,
                };
                if let Ok(id) =
                    self.session
                        .send_request(method, params.as_object().cloned(), opts, now)
                {
                    self.add_client_request(id);
                }
            }
            3 => {
                if let Some(i) = g.pick(self.client_order.len())? {
                    let id = self.client_order[i].clone();
                    if self.session.cancel(&id, "caller cancelled") {
                        let fate = self.client_fate.get_mut(&id).expect("known id");
                        assert_eq!(
                            *fate,
                            Fate::Pending,
                            "cancel of {id} succeeded when {fate:?}"
                        );
                        *fate = Fate::Cancelled;
                        self.client_pending -= 1;
                    }
                }
            }
            4 => {
                let b = g.byte()?;
                if let Some(i) = g.pick(self.server_asks.len())? {
                    let id = self.server_asks.swap_remove(i);
                    let result = if b & 1 == 0 {
                        Ok(json!({"roots": [], "role": "assistant", "action": "decline"}))
                    } else {
                        Err(error(b >> 1))
                    };
                    self.session.respond(id, result);
                }
            }
            5 => {
                if op & 32 == 0 {
                    self.initialize();
                } else {
                    let _ = self
                        .session
                        .send_notification("notifications/roots/list_changed", None);
                }
            }
            6 | 7 => self.respond(g)?,
            8 => self.server_request(g)?,
            9 => self.cancel_server_request(g)?,
            10 => self.notify(g)?,
            11 => self.stalled = 1 + (op >> 5),
            12 => {
                if let Some(i) = g.pick(self.links.len())? {
                    let l = &mut self.links[i];
                    match op >> 5 & 3 {
                        0 => l.hold_to_server = true,
                        1 => l.hold_to_client = true,
                        _ => {
                            l.hold_to_server = false;
                            l.hold_to_client = false;
                            l.tx = true;
                        }
                    }
                }
            }
            13 => {
                let kind = g.byte()?;
                let a = g.byte()?;
                if let Some(i) = g.pick(self.links.len())? {
                    let m = Some(Mutation::from_bytes(kind, a));
                    if op & 32 == 0 {
                        self.links[i].mutate_to_server = m;
                    } else {
                        self.links[i].mutate_to_client = m;
                    }
                }
            }
            14 => {
                if let Some(i) = g.pick(self.links.len())? {
                    let l = &mut self.links[i];
                    match op >> 5 & 3 {
                        0 => l.to_server.clear(),
                        1 => l
                            .to_server
                            .rotate_left(usize::from(!l.to_server.is_empty())),
                        _ => while self.server.poll_transmit(l.server, now).is_some() {},
                    }
                }
            }
            15 => {
                if let Some(i) = g.pick(self.links.len())? {
                    self.cut(i);
                }
            }
            16 | 17 => {
                let target = g.byte()?;
                let bytes = Bytes::from(self.raw_request(g)?);
                let raws: Vec<usize> = (0..self.links.len())
                    .filter(|&i| self.links[i].client.is_none() && !self.links[i].peer_closed)
                    .collect();
                let i = match target % 3 {
                    1 if !raws.is_empty() => Some(raws[usize::from(target >> 2) % raws.len()]),
                    2 if !self.links.is_empty() => {
                        Some(usize::from(target >> 2) % self.links.len())
                    }
                    _ if self.links.iter().filter(|l| l.client.is_none()).count() < MAX_RAW => {
                        let s = self.server.open_connection(now);
                        self.links.push(Link::new(None, s));
                        Some(self.links.len() - 1)
                    }
                    _ => None,
                };
                if let Some(i) = i {
                    self.links[i].to_server.push_back(bytes);
                }
            }
            18 => {
                let raws: Vec<usize> = (0..self.links.len())
                    .filter(|&i| self.links[i].client.is_none())
                    .collect();
                if let Some(i) = g.pick(raws.len())? {
                    self.links[raws[i]].peer_closed = true;
                }
            }
            19 => self.fail_next_connect = true,
            20 => {
                if let Some(at) = self.next_deadline() {
                    self.advance_to(at);
                }
            }
            21 => {
                let ms = g.byte()?;
                self.advance_to(now + Duration::from_millis(20 * u64::from(ms)));
            }
            22 => {
                if op & 224 == 224 {
                    self.shutdown = true;
                    self.server.shutdown(now);
                } else if op & 224 == 192 {
                    self.client.close();
                }
            }
            _ => {}
        }
        self.run();
        if self.stalled > 0 {
            self.stalled -= 1;
            if self.stalled == 0 {
                self.take_server_events();
            }
        }
        self.check_bounds();
        Some(())
    }

    fn check_bounds(&mut self) {
        let live = self.server.session_count();
        assert_eq!(
            live,
            self.server.transport().session_count(),
            "the endpoint's sessions and the transport's differ"
        );
        assert!(live <= MAX_SESSIONS, "{live} sessions");
        if self.drained() {
            assert_eq!(self.apps.len(), live, "the application's sessions differ");
            for app in &self.apps {
                let Some(machine) = self.server.session(app.id) else {
                    panic!("session {} is live but unknown", app.id);
                };
                assert_eq!(
                    machine.pending_requests(),
                    app.asked.len(),
                    "server requests pending"
                );
            }
        }
        for l in &self.links {
            let mut bound = self.queue_bytes + ONE_MESSAGE;
            if l.eof_sent {
                // After EOF the buffered requests are all answered, past the reply bound.
                bound += 8 * (MAX_HEAD + MAX_BODY);
            }
            let queued = self.server.transport().queued_bytes(l.server);
            assert!(queued <= bound, "{queued} bytes queued on a connection");
        }
        let pending = self.session.pending_requests();
        assert_eq!(pending, self.client_pending, "client pending count");
        assert!(
            pending <= CLIENT_MAX_PENDING,
            "client pending beyond max_pending"
        );
        if self.client_closed {
            assert_eq!(pending, 0, "client requests left pending after Closed");
        }
    }

    /// Every hold released, the peers behave, then the server shuts down or every connection
    /// is cut, and time runs to the deadlines.
    fn finish(&mut self) {
        self.stalled = 0;
        self.fail_next_connect = false;
        for l in &mut self.links {
            l.hold_to_server = false;
            l.hold_to_client = false;
            l.mutate_to_server = None;
            l.mutate_to_client = None;
            l.tx = true;
            if l.client.is_none() {
                l.peer_closed = true;
            }
        }
        if self.end_with_shutdown {
            self.shutdown = true;
            self.server.shutdown(self.now);
        }
        self.run();
        self.check_bounds();
        for _ in 0..FINAL_DEADLINES {
            if !self.end_with_shutdown {
                while !self.links.is_empty() {
                    self.cut(0);
                }
                self.run();
            }
            self.check_bounds();
            if self.links.is_empty() && self.client_closed && self.server.connection_count() == 0 {
                break;
            }
            let Some(at) = self.next_deadline() else {
                break;
            };
            self.advance_to(at);
        }
        self.check_bounds();
        assert!(self.links.is_empty(), "connections left: {:?}", self.links);
        assert_eq!(self.server.connection_count(), 0, "server connections left");
        assert_eq!(self.server.session_count(), 0, "sessions left");
        assert!(self.apps.is_empty(), "sessions not reported closed");
        assert!(self.client_closed, "the client transport is not closed");
        assert_eq!(self.client_pending, 0, "client requests left pending");
        for (id, fate) in &self.client_fate {
            assert_ne!(*fate, Fate::Pending, "client request {id} never resolved");
        }
        assert_eq!(
            self.server.poll_timeout(),
            None,
            "a server timer outlives everything"
        );
    }
}

/// The fuzz entry point.
pub fn check(data: &[u8]) {
    let Some((&cfg, rest)) = data.split_first() else {
        return;
    };
    let mut h = Harness::new(cfg);
    let mut g = Gen { data: rest, pos: 0 };
    for _ in 0..MAX_OPS {
        if h.step(&mut g).is_none() {
            break;
        }
    }
    h.finish();
}
