//! A deterministic client/server pair, wired byte for byte under a virtual clock, with no
//! executor and no threads (after quinn-proto's `Pair` and h11's `ConnectionPair`).
//!
//! Client side: a [`transport::Client`] and a [`ClientSession`], composed as glue composes them
//! (session messages become POSTs; a failed POST fails exactly its request; a closed transport
//! is a lost connection). Server side: a [`ServerEndpoint`]. The application on the server side
//! is the test itself: it reads [`Pair::server_events`] and answers through [`Pair::server`].
//!
//! The wire between them: for every connection the client opens, a server connection. Bytes
//! the client writes wait in the link until the server wants to read them; bytes the server
//! writes are taken from it only when the link is not held (a held server→client direction is
//! a peer that does not read: the server's queue fills up, as with a full socket buffer). The
//! harness can hold and release either direction of any connection (which reorders POST
//! completions), drop what is in flight, cut a connection, and advance the clock to the next
//! deadline of any of the three machines.
#![allow(dead_code)] // not every test uses every helper

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use mcp_sse_core::endpoint::{EndpointConfig, EndpointEvent, IoEvent, ServerEndpoint};
use mcp_sse_core::jsonrpc::{Message, RequestId};
use mcp_sse_core::session::{self, ClientEvent, ClientSession, RequestOptions};
use mcp_sse_core::transport::{
    self, ClientConnectionId, ClientError, ConnectionId, SendToken, SessionId,
};
use serde_json::{Map, Value};

/// Records the requirement ids of `shared/requirements/sse-2025-11-25.csv` a test pins, as the
/// first statement of its body (the same form as `mcp_sse_tests::pins!`, which this crate cannot
/// depend on); `tests/tests/requirements.rs` in the workspace reads these literals.
macro_rules! pins {
    ($($id:literal),* $(,)?) => {
        let _pins: &[&str] = &[$($id),*];
    };
}
pub(crate) use pins;

/// Bound on the steps of one [`Pair::run`]: a livelock fails the test instead of hanging it.
pub const MAX_STEPS: usize = 100_000;

/// The SSE URL the client connects to (nothing listens on it: the harness is the network).
pub const URL: &str = "http://127.0.0.1:8000/sse";

/// A direction on one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Client → server.
    ToServer,
    /// Server → client.
    ToClient,
}

#[derive(Debug, Default)]
struct Link {
    server: Option<ConnectionId>,
    /// Written by the client, not yet read by the server.
    to_server: VecDeque<Bytes>,
    hold_to_server: bool,
    hold_to_client: bool,
    /// The client closed its side: once `to_server` is delivered the server sees EOF.
    client_closed: bool,
}

/// The pair.
pub struct Pair {
    /// The virtual clock.
    pub now: Instant,
    /// The virtual wall clock (ping comments).
    pub wall: SystemTime,
    /// The server endpoint (the test is its application).
    pub server: ServerEndpoint,
    /// The client transport.
    pub client: transport::Client,
    /// The client MCP session.
    pub session: ClientSession,
    links: BTreeMap<ClientConnectionId, Link>,
    by_server: BTreeMap<ConnectionId, ClientConnectionId>,
    /// Server connections with output to take (from `IoEvent::Transmit`).
    server_tx: BTreeSet<ConnectionId>,
    /// Server connections the endpoint asked not to read, until `IoEvent::Readable` or until
    /// their output was taken.
    read_paused: BTreeSet<ConnectionId>,
    tokens: BTreeMap<SendToken, RequestId>,
    /// Events of the server endpoint, for the test to act on.
    pub server_events: VecDeque<EndpointEvent>,
    /// Events of the client session.
    pub client_events: VecDeque<ClientEvent>,
    /// Every `Ready`, `SendFailed` and `Closed` of the client transport, in order.
    pub transport_log: Vec<transport::ClientEvent>,
    /// Every byte the client received on its event stream.
    pub stream_bytes: Vec<u8>,
    /// Every server connection ever opened, and whether the server closed it.
    pub server_closed: BTreeMap<ConnectionId, bool>,
    /// The session id the endpoint announced, once connected.
    pub session_id: Option<SessionId>,
    /// Every request the endpoint refused (`IoEvent::Rejected`): status and reason.
    pub rejected: Vec<(u16, &'static str)>,
    /// Connections the client opens from now on start with this direction held.
    pub hold_new_connections: Option<Dir>,
}

impl Pair {
    /// A pair with these configurations; the server's session ids come from a counter.
    pub fn new(
        server: EndpointConfig,
        client_session: session::ClientConfig,
        client_transport: transport::ClientConfig,
    ) -> Pair {
        let now = Instant::now();
        let mut n: u8 = 0;
        let random = Box::new(move || {
            n = n.wrapping_add(1);
            [n; 16]
        });
        let client = transport::Client::new(URL, client_transport, now).expect("valid URL");
        Pair {
            now,
            wall: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
            server: ServerEndpoint::new(server, random),
            client,
            session: ClientSession::new(client_session),
            links: BTreeMap::new(),
            by_server: BTreeMap::new(),
            server_tx: BTreeSet::new(),
            read_paused: BTreeSet::new(),
            tokens: BTreeMap::new(),
            server_events: VecDeque::new(),
            client_events: VecDeque::new(),
            transport_log: Vec::new(),
            stream_bytes: Vec::new(),
            server_closed: BTreeMap::new(),
            session_id: None,
            rejected: Vec::new(),
            hold_new_connections: None,
        }
    }

    /// Connects the transport (until `Ready`) and returns the server's session id.
    pub fn connect(&mut self) -> SessionId {
        self.run();
        assert!(self.client.is_ready(), "{:?}", self.transport_log);
        let session = self
            .server_events
            .iter()
            .find_map(|e| match e {
                EndpointEvent::SessionOpened { session, .. } => Some(*session),
                _ => None,
            })
            .expect("the server announced the session");
        self.session_id = Some(session);
        session
    }

    /// Connects and runs the `initialize` handshake; the server's events so far are dropped.
    pub fn connect_and_initialize(&mut self) -> SessionId {
        let session = self.connect();
        self.session.initialize(self.now).expect("initialize");
        self.run();
        assert!(self.session.is_ready(), "{:?}", self.client_events);
        self.client_events.clear();
        self.server_events.clear();
        session
    }

    /// Sends a client request and runs the wire.
    pub fn request(&mut self, method: &str, params: Value, opts: RequestOptions) -> RequestId {
        let params = match params {
            Value::Object(m) => Some(m),
            _ => None,
        };
        let id = self
            .session
            .send_request(method, params, opts, self.now)
            .expect("send_request");
        self.run();
        id
    }

    /// The first server `Request` event still queued (removed), with its method and params.
    pub fn take_request(&mut self) -> Option<(SessionId, RequestId, String, Map<String, Value>)> {
        let at = self
            .server_events
            .iter()
            .position(|e| matches!(e, EndpointEvent::Request { .. }))?;
        match self.server_events.remove(at) {
            Some(EndpointEvent::Request {
                session,
                id,
                method,
                params,
                ..
            }) => Some((session, id, method, params.unwrap_or_default())),
            _ => None,
        }
    }

    /// The client's resolutions of `id` seen so far (removed from `client_events`), errors in
    /// their JSON-RPC form.
    pub fn take_responses(
        &mut self,
        id: &RequestId,
    ) -> Vec<Result<Value, mcp_sse_core::jsonrpc::ErrorObject>> {
        let mut out = Vec::new();
        self.client_events.retain(|e| match e {
            ClientEvent::Response { id: r, result } if r == id => {
                out.push(result.clone().map_err(|e| e.to_error_object()));
                false
            }
            _ => true,
        });
        out
    }

    /// The client's POST connections open now.
    pub fn post_connections(&self) -> Vec<ClientConnectionId> {
        self.links
            .keys()
            .copied()
            .filter(|c| *c != transport::Client::STREAM)
            .collect()
    }

    /// The server connection that carries client connection `conn`.
    pub fn server_conn(&self, conn: ClientConnectionId) -> Option<ConnectionId> {
        self.links.get(&conn).and_then(|l| l.server)
    }

    /// Holds one direction of `conn`: nothing moves that way until [`Pair::release`].
    pub fn hold(&mut self, conn: ClientConnectionId, dir: Dir) {
        if let Some(l) = self.links.get_mut(&conn) {
            match dir {
                Dir::ToServer => l.hold_to_server = true,
                Dir::ToClient => l.hold_to_client = true,
            }
        }
    }

    /// Releases a held direction (and runs the wire).
    pub fn release(&mut self, conn: ClientConnectionId, dir: Dir) {
        if let Some(l) = self.links.get_mut(&conn) {
            match dir {
                Dir::ToServer => l.hold_to_server = false,
                Dir::ToClient => l.hold_to_client = false,
            }
            if let (Dir::ToClient, Some(s)) = (dir, l.server) {
                // Output waited while held: look at it now.
                self.server_tx.insert(s);
            }
        }
        self.run();
    }

    /// Discards what is in flight one way on `conn` (bytes lost on the wire); returns how
    /// many bytes were dropped.
    pub fn drop_in_flight(&mut self, conn: ClientConnectionId, dir: Dir) -> usize {
        let Some(l) = self.links.get_mut(&conn) else {
            return 0;
        };
        match dir {
            Dir::ToServer => {
                while let Some(b) = self.client.poll_transmit(conn) {
                    l.to_server.push_back(b);
                }
                l.to_server.drain(..).map(|b| b.len()).sum()
            }
            Dir::ToClient => {
                let Some(s) = l.server else { return 0 };
                let mut n = 0;
                while let Some(b) = self.server.poll_transmit(s, self.now) {
                    n += b.len();
                }
                n
            }
        }
    }

    /// Cuts `conn` abruptly: what is in flight is lost, the server's socket is closed and the
    /// client sees EOF.
    pub fn cut(&mut self, conn: ClientConnectionId) {
        if let Some(l) = self.links.remove(&conn) {
            if let Some(s) = l.server {
                self.by_server.remove(&s);
                self.server.handle_close(s);
                self.server_closed.insert(s, true);
            }
            while self.client.poll_transmit(conn).is_some() {}
            self.client.handle_eof(conn, self.now);
        }
        self.run();
    }

    /// The earliest deadline of the client transport, the client session and the server.
    pub fn next_deadline(&mut self) -> Option<Instant> {
        [
            self.client.poll_timeout(),
            self.session.poll_timeout(),
            self.server.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Moves the clock to the next deadline (if any), runs every machine's timers, then the
    /// wire. Returns the deadline.
    pub fn advance_to_next_deadline(&mut self) -> Option<Instant> {
        let at = self.next_deadline()?;
        self.advance_to(at);
        Some(at)
    }

    /// Moves the clock forward by `d` (timers that fall inside run at `now + d`, in one go).
    pub fn advance(&mut self, d: Duration) {
        let at = self.now + d;
        self.advance_to(at);
    }

    fn advance_to(&mut self, at: Instant) {
        if at > self.now {
            self.wall += at - self.now;
            self.now = at;
        }
        self.client.handle_timeout(self.now);
        self.session.handle_timeout(self.now);
        self.server.handle_timeout(self.now, self.wall);
        self.run();
    }

    /// Moves everything that can move until nothing does (bounded by [`MAX_STEPS`]).
    pub fn run(&mut self) {
        for _ in 0..MAX_STEPS {
            if !self.step() {
                return;
            }
        }
        panic!("the pair did not settle within {MAX_STEPS} steps");
    }

    fn step(&mut self) -> bool {
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
                        self.session.fail_request(&id, e.clone());
                    }
                }
            }
        }
        // Client transport events.
        while let Some(ev) = self.client.poll_event() {
            moved = true;
            match ev {
                // The pair runs without authentication: no 401 is ever answered.
                transport::ClientEvent::TokenRequired { .. } => {
                    panic!("a token was asked for without authentication")
                }
                transport::ClientEvent::Open(c) => {
                    let s = self.server.open_connection(now);
                    self.server_closed.insert(s, false);
                    self.by_server.insert(s, c);
                    let hold = self.hold_new_connections;
                    self.links.insert(
                        c,
                        Link {
                            server: Some(s),
                            hold_to_server: hold == Some(Dir::ToServer),
                            hold_to_client: hold == Some(Dir::ToClient),
                            ..Link::default()
                        },
                    );
                    self.client.handle_connected(c, now);
                }
                transport::ClientEvent::Close(c) => {
                    if let Some(l) = self.links.get_mut(&c) {
                        while let Some(b) = self.client.poll_transmit(c) {
                            l.to_server.push_back(b);
                        }
                        l.client_closed = true;
                    }
                }
                transport::ClientEvent::Transmit(c) => {
                    if let Some(l) = self.links.get_mut(&c) {
                        while let Some(b) = self.client.poll_transmit(c) {
                            l.to_server.push_back(b);
                        }
                    }
                }
                transport::ClientEvent::Message(m) => self.session.handle_message(m, now),
                transport::ClientEvent::InvalidMessage(e) => {
                    self.transport_log
                        .push(transport::ClientEvent::InvalidMessage(e));
                }
                transport::ClientEvent::Sent(token) => {
                    self.tokens.remove(&token);
                }
                transport::ClientEvent::SendFailed(token, e) => {
                    let id = self.tokens.remove(&token);
                    if let (Some(id), false) = (id, matches!(e, ClientError::Closed)) {
                        self.session.fail_request(&id, e.clone());
                    }
                    self.transport_log
                        .push(transport::ClientEvent::SendFailed(token, e));
                }
                ev @ transport::ClientEvent::Ready { .. } => self.transport_log.push(ev),
                transport::ClientEvent::Closed(e) => {
                    self.session.handle_connection_lost();
                    self.transport_log.push(transport::ClientEvent::Closed(e));
                }
            }
        }
        // Client session events.
        while let Some(ev) = self.session.poll_event() {
            moved = true;
            self.client_events.push_back(ev);
        }
        // Client → server bytes, while the server reads that connection.
        let conns: Vec<ClientConnectionId> = self.links.keys().copied().collect();
        for c in conns {
            let Some(l) = self.links.get_mut(&c) else {
                continue;
            };
            let Some(s) = l.server else { continue };
            if l.hold_to_server {
                continue;
            }
            while !l.to_server.is_empty()
                && !self.read_paused.contains(&s)
                && self.server.wants_read(s)
            {
                let Some(b) = l.to_server.pop_front() else {
                    break;
                };
                moved = true;
                self.server.handle_bytes(s, b, now);
                if !self.server.wants_read(s) {
                    self.read_paused.insert(s);
                }
            }
            if l.client_closed && l.to_server.is_empty() {
                // The client's FIN: the server reads EOF, the client side is gone.
                moved = true;
                self.links.remove(&c);
                self.by_server.remove(&s);
                self.server.handle_eof(s, now);
                self.server.handle_close(s);
                self.server_closed.insert(s, true);
            }
        }
        // Server I/O instructions.
        while let Some(io) = self.server.poll_io() {
            moved = true;
            match io {
                IoEvent::Transmit(s) => {
                    self.server_tx.insert(s);
                }
                IoEvent::Readable(s) => {
                    self.read_paused.remove(&s);
                }
                // The pair opens no direct session.
                IoEvent::Direct(_) => {}
                IoEvent::Rejected { status, reason, .. } => {
                    self.rejected.push((status, reason));
                }
            }
        }
        // Server → client bytes, on connections that are not held.
        let pending: Vec<ConnectionId> = self.server_tx.iter().copied().collect();
        for s in pending {
            let Some(&c) = self.by_server.get(&s) else {
                // The client side is gone: what the server still writes is lost.
                self.server_tx.remove(&s);
                while self.server.poll_transmit(s, now).is_some() {}
                if self.server.wants_close(s) {
                    self.server.handle_close(s);
                    self.server_closed.insert(s, true);
                }
                continue;
            };
            if self.links.get(&c).is_some_and(|l| l.hold_to_client) {
                continue;
            }
            self.server_tx.remove(&s);
            while let Some(b) = self.server.poll_transmit(s, now) {
                moved = true;
                if c == transport::Client::STREAM {
                    self.stream_bytes.extend_from_slice(&b);
                }
                self.client.handle_bytes(c, b, now);
            }
            // Taking output can resume reading (the transport's reply backpressure).
            if self.server.wants_read(s) {
                self.read_paused.remove(&s);
            }
            if self.server.wants_close(s) {
                moved = true;
                self.server.handle_close(s);
                self.server_closed.insert(s, true);
                self.links.remove(&c);
                self.by_server.remove(&s);
                self.client.handle_eof(c, now);
            }
        }
        // Server protocol events, for the test.
        while let Some(ev) = self.server.poll_event() {
            moved = true;
            self.server_events.push_back(ev);
        }
        moved
    }
}

/// The default server configuration of the tests: tools enabled, logging on.
pub fn server_config() -> EndpointConfig {
    let mut c = EndpointConfig::default();
    c.session.features.tools = true;
    c.session.features.logging = true;
    c.session.server_info = serde_json::json!({"name": "pair-server", "version": "1.0.0"});
    c.session.instructions = Some("Pair instructions.".into());
    c
}

/// A pair with the default configurations.
pub fn pair() -> Pair {
    Pair::new(
        server_config(),
        session::ClientConfig::default(),
        transport::ClientConfig::default(),
    )
}

/// `{"content":[{"type":"text","text":<t>}]}`.
pub fn text_result(t: &str) -> Value {
    serde_json::json!({"content": [{"type": "text", "text": t}]})
}
