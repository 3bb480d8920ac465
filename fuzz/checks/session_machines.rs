//! Fuzz check for the MCP session machines: a little program drives a [`ClientSession`] and a
//! [`ServerSession`] (small limits) with JSON-RPC-shaped messages built from the input, the
//! application calls (initialize, requests, cancels, failures, responds, notifications), time
//! passing, connection loss, and deliveries of each side's output to the other.
//!
//! Checked: no panic; each side's requests (ids it handed out) resolve at most once, never after
//! a successful cancel, only when they were sent, and `pending_requests()` always equals sent minus
//! resolved minus cancelled; the handshake reports `Initialized`/`InitializeFailed` at most once,
//! and no request is left pending after `InitializeFailed`; every message a session transmits
//! survives the JSON-RPC codec unchanged; after
//! `handle_timeout(now)` no deadline is still due; after connection loss every request has
//! resolved exactly once (unless cancelled) and nothing is pending.
//!
//! Program format: the first byte picks the configuration; then a sequence of `op` bytes each
//! followed by its operands (a missing operand ends the program). A generated message is
//! `kind, id, method, params…` (see [`Gen::message`]).
//!
//! | op % 14 | action |
//! |---|---|
//! | 0 | a generated message to the client |
//! | 1 | a generated message to the server |
//! | 2 | `client.initialize` |
//! | 3 | `client.send_request(method, params, {timeout, progress})` |
//! | 4 | `client.cancel` of one of its requests |
//! | 5 | `client.fail_request` of one of its requests |
//! | 6 | `client.respond` to a server request |
//! | 7 | `server.respond` to a client request |
//! | 8 | `server.send_request(method, params, timeout)` |
//! | 9 | `server.notify(method, params)` |
//! | 10 | time passes, both `handle_timeout` |
//! | 11 | deliver up to n queued messages each way |
//! | 12 | client connection lost |
//! | 13 | server connection lost |

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use mcp_sse_core::jsonrpc::{
    ErrorObject, ErrorResponse, IntegerId, Message, Notification, Request, RequestId, Response,
};
use mcp_sse_core::session::{
    ClientConfig, ClientEvent, ClientSession, RequestOptions, ServerConfig, ServerEvent,
    ServerFeatures, ServerSession,
};
use serde_json::{Map, Value};

const METHODS: [&str; 20] = [
    "ping",
    "initialize",
    "tools/call",
    "tools/list",
    "logging/setLevel",
    "sampling/createMessage",
    "roots/list",
    "elicitation/create",
    "notifications/progress",
    "notifications/cancelled",
    "notifications/initialized",
    "notifications/message",
    "resources/read",
    "resources/subscribe",
    "prompts/get",
    "completion/complete",
    "server/discover",
    "notifications/tools/list_changed",
    "",
    "x/unknown",
];

const KEYS: [&str; 12] = [
    "protocolVersion",
    "capabilities",
    "clientInfo",
    "progressToken",
    "progress",
    "total",
    "message",
    "requestId",
    "level",
    "_meta",
    "name",
    "version",
];

const STRINGS: [&str; 10] = [
    "2024-11-05",
    "2025-11-25",
    "1999-01-01",
    "debug",
    "warning",
    "emergency",
    "x",
    "",
    "1",
    "é\u{0}\"",
];

/// Limit on the messages waiting in the harness's pipes (older ones are lost).
const PIPE: usize = 64;

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

    fn id(&mut self) -> Option<RequestId> {
        let b = self.byte()?;
        Some(match b % 5 {
            0 | 1 => RequestId::from(u64::from(b / 5 % 8)),
            2 => RequestId::from((b / 5 % 8).to_string()),
            3 => RequestId::from(-i64::from(b / 5)),
            _ => IntegerId::parse("123456789012345678901234567890")
                .map_or(RequestId::from(0u64), RequestId::from),
        })
    }

    fn method(&mut self) -> Option<String> {
        let b = self.byte()?;
        Some(METHODS[usize::from(b) % METHODS.len()].to_string())
    }

    fn value(&mut self, depth: u8) -> Option<Value> {
        let b = self.byte()?;
        Some(match b % 9 {
            0 => Value::Null,
            1 => Value::Bool(b & 16 != 0),
            2 => Value::from(u64::from(b / 9 % 8)),
            3 => Value::from([0.5, 1.25, -3.0, 100.0][usize::from(b / 9 % 4)]),
            4 | 5 => Value::from(STRINGS[usize::from(b / 9) % STRINGS.len()]),
            6 if depth < 3 => Value::Object(self.params(depth + 1)?.unwrap_or_default()),
            7 => {
                let mut info = Map::new();
                info.insert("name".into(), Value::from("fuzz"));
                info.insert("version".into(), Value::from("1"));
                Value::Object(info)
            }
            _ => Value::Object(Map::new()),
        })
    }

    fn params(&mut self, depth: u8) -> Option<Option<Map<String, Value>>> {
        let n = self.byte()?;
        if n % 5 == 0 {
            return Some(None);
        }
        let mut map = Map::new();
        for _ in 0..n % 5 {
            let k = self.byte()?;
            let v = self.value(depth)?;
            map.insert(KEYS[usize::from(k) % KEYS.len()].to_string(), v);
        }
        Some(Some(map))
    }

    fn error(&mut self) -> Option<ErrorObject> {
        let b = self.byte()?;
        let code = [-32700, -32600, -32601, -32602, -32603, -32000, -32001, 1][usize::from(b % 8)];
        let mut e = ErrorObject::new(code, STRINGS[usize::from(b / 8) % STRINGS.len()]);
        if b & 128 != 0 {
            // `data: Some(null)` is written as `"data":null`, which reads back as no data: an
            // application's choice that has nothing to do with the session machines.
            let data = self.value(0)?;
            if !data.is_null() {
                e = e.with_data(data);
            }
        }
        Some(e)
    }

    fn result(&mut self) -> Option<Result<Value, ErrorObject>> {
        let b = self.byte()?;
        if b & 1 == 0 {
            Some(Ok(Value::Object(self.params(0)?.unwrap_or_default())))
        } else {
            Some(Err(self.error()?))
        }
    }

    /// `kind % 4`: request, notification, response, error response (`kind & 4`: `null` id).
    fn message(&mut self) -> Option<Message> {
        let kind = self.byte()?;
        Some(match kind % 4 {
            0 => Message::Request(Request {
                id: self.id()?,
                method: self.method()?,
                params: self.params(0)?,
            }),
            1 => Message::Notification(Notification {
                method: self.method()?,
                params: self.params(0)?,
            }),
            2 => Message::Response(Response {
                id: self.id()?,
                result: Value::Object(self.params(0)?.unwrap_or_default()),
            }),
            _ => Message::Error(ErrorResponse {
                id: if kind & 4 != 0 {
                    None
                } else {
                    Some(self.id()?)
                },
                error: self.error()?,
            }),
        })
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> Option<Option<T>> {
        let b = self.byte()?;
        Some(if items.is_empty() {
            None
        } else {
            Some(items[usize::from(b) % items.len()].clone())
        })
    }
}

/// One side's bookkeeping of the requests it sent.
#[derive(Default)]
struct Ledger {
    /// Id → times resolved.
    sent: HashMap<RequestId, u32>,
    order: Vec<RequestId>,
    cancelled: HashSet<RequestId>,
}

impl Ledger {
    fn add(&mut self, id: RequestId) {
        assert!(
            self.sent.insert(id.clone(), 0).is_none(),
            "request id {id} handed out twice"
        );
        self.order.push(id);
    }

    fn resolve(&mut self, id: &RequestId, side: &str) {
        assert!(
            !self.cancelled.contains(id),
            "{side}: cancelled request {id} resolved"
        );
        let n = self
            .sent
            .get_mut(id)
            .unwrap_or_else(|| panic!("{side}: unknown request {id} resolved"));
        *n += 1;
        assert_eq!(*n, 1, "{side}: request {id} resolved twice");
    }

    fn pending(&self) -> usize {
        self.sent.values().filter(|n| **n == 0).count() - self.cancelled.len()
    }

    fn all_resolved(&self, side: &str) {
        for (id, n) in &self.sent {
            let want = u32::from(!self.cancelled.contains(id));
            assert_eq!(*n, want, "{side}: request {id} resolved {n} times");
        }
    }
}

struct Harness {
    client: ClientSession,
    server: ServerSession,
    now: Instant,
    client_ledger: Ledger,
    server_ledger: Ledger,
    handshake_reports: u32,
    init_failed: bool,
    /// Server requests the client application was asked to answer.
    client_todo: Vec<RequestId>,
    /// Client requests the server application was asked to answer.
    server_todo: Vec<RequestId>,
    to_server: VecDeque<Message>,
    to_client: VecDeque<Message>,
}

fn codec_round_trip(m: &Message) {
    let bytes = m.to_vec();
    match Message::from_slice(&bytes) {
        Ok(back) => assert_eq!(&back, m, "transmitted message changes through the codec"),
        Err(e) => panic!(
            "transmitted message does not parse: {e}: {}",
            String::from_utf8_lossy(&bytes)
        ),
    }
}

fn push(pipe: &mut VecDeque<Message>, m: Message) {
    if pipe.len() >= PIPE {
        pipe.pop_front();
    }
    pipe.push_back(m);
}

impl Harness {
    fn new(config: u8, now: Instant) -> Self {
        let client = ClientSession::new(ClientConfig {
            default_timeout: (config & 1 != 0).then(|| Duration::from_secs(5)),
            handles_sampling: config & 2 != 0,
            handles_roots: config & 4 != 0,
            handles_elicitation: config & 8 != 0,
            max_pending: 4,
            max_server_requests: 3,
            max_events: 16,
            max_outbound: 16,
            ..ClientConfig::default()
        });
        let server = ServerSession::new(ServerConfig {
            instructions: (config & 16 != 0).then(|| "fuzz".to_string()),
            features: ServerFeatures {
                tools: true,
                resources: config & 32 != 0,
                resources_subscribe: config & 32 != 0,
                prompts: config & 64 != 0,
                logging: config & 128 != 0,
                ..ServerFeatures::default()
            },
            max_in_flight: 3,
            max_pending: 4,
            max_events: 16,
            max_outbound: 16,
            ..ServerConfig::default()
        });
        Harness {
            client,
            server,
            now,
            client_ledger: Ledger::default(),
            server_ledger: Ledger::default(),
            handshake_reports: 0,
            init_failed: false,
            client_todo: Vec::new(),
            server_todo: Vec::new(),
            to_server: VecDeque::new(),
            to_client: VecDeque::new(),
        }
    }

    fn settle(&mut self) {
        while let Some(ev) = self.client.poll_event() {
            match ev {
                ClientEvent::Response { id, .. } => self.client_ledger.resolve(&id, "client"),
                ClientEvent::Initialized { .. } | ClientEvent::InitializeFailed(_) => {
                    self.init_failed = matches!(ev, ClientEvent::InitializeFailed(_));
                    self.handshake_reports += 1;
                    assert_eq!(self.handshake_reports, 1, "handshake reported twice");
                }
                ClientEvent::ServerRequest { id, .. } => self.client_todo.push(id),
                ClientEvent::Progress { id, .. } => {
                    assert_eq!(
                        self.client_ledger.sent.get(&id),
                        Some(&0),
                        "progress for a request not pending"
                    );
                }
                ClientEvent::ServerRequestCancelled { .. }
                | ClientEvent::LogMessage(_)
                | ClientEvent::Notification(_)
                | ClientEvent::InvalidMessage { .. } => {}
            }
        }
        while let Some(ev) = self.server.poll_event() {
            match ev {
                ServerEvent::ClientResponse { id, .. } => self.server_ledger.resolve(&id, "server"),
                ServerEvent::Request { id, .. } => self.server_todo.push(id),
                _ => {}
            }
        }
        while let Some(m) = self.client.poll_transmit() {
            codec_round_trip(&m);
            push(&mut self.to_server, m);
        }
        while let Some(m) = self.server.poll_transmit() {
            codec_round_trip(&m);
            push(&mut self.to_client, m);
        }
        assert_eq!(
            self.client.pending_requests(),
            self.client_ledger.pending(),
            "client pending count"
        );
        if self.init_failed {
            // Before the handshake every request is held, and a failed handshake resolves them.
            assert_eq!(
                self.client.pending_requests(),
                0,
                "requests pending after InitializeFailed"
            );
        }
        assert_eq!(
            self.server.pending_requests(),
            self.server_ledger.pending(),
            "server pending count"
        );
    }

    fn step(&mut self, g: &mut Gen<'_>) -> Option<()> {
        let op = g.byte()?;
        let now = self.now;
        match op % 14 {
            0 => {
                let m = g.message()?;
                self.client.handle_message(m, now);
            }
            1 => {
                let m = g.message()?;
                self.server.handle_message(m, now);
            }
            2 => {
                if let Ok(id) = self.client.initialize(now) {
                    self.client_ledger.add(id);
                }
            }
            3 => {
                let method = g.method()?;
                let params = g.params(0)?;
                let b = g.byte()?;
                let opts = RequestOptions {
                    timeout: (b & 1 != 0).then(|| Duration::from_secs(u64::from(b >> 2))),
                    progress: b & 2 != 0,
                };
                if let Ok(id) = self.client.send_request(&method, params, opts, now) {
                    self.client_ledger.add(id);
                }
            }
            4 => {
                if let Some(id) = g.pick(&self.client_ledger.order)? {
                    let was_pending = self.client_ledger.sent.get(&id) == Some(&0)
                        && !self.client_ledger.cancelled.contains(&id);
                    if self.client.cancel(&id, "caller cancelled") {
                        assert!(was_pending, "cancel of a request not pending succeeded");
                        self.client_ledger.cancelled.insert(id);
                    }
                }
            }
            5 => {
                let e = g.error()?;
                if let Some(id) = g.pick(&self.client_ledger.order)? {
                    self.client
                        .fail_request(&id, mcp_sse_core::session::RequestError::Rpc(e));
                }
            }
            6 => {
                let result = g.result()?;
                let id = match g.pick(&self.client_todo)? {
                    Some(id) => id,
                    None => g.id()?,
                };
                self.client.respond(id, result);
            }
            7 => {
                let result = g.result()?;
                let id = match g.pick(&self.server_todo)? {
                    Some(id) => id,
                    None => g.id()?,
                };
                self.server.respond(id, result);
            }
            8 => {
                let method = g.method()?;
                let params = g.params(0)?;
                let b = g.byte()?;
                let timeout = (b & 1 != 0).then(|| Duration::from_secs(u64::from(b >> 2)));
                if let Ok(id) = self.server.send_request(&method, params, timeout, now) {
                    self.server_ledger.add(id);
                }
            }
            9 => {
                let method = g.method()?;
                let params = g.params(0)?;
                let _ = self.server.notify(&method, params);
            }
            10 => {
                let secs = g.byte()?;
                self.now += Duration::from_millis(250 * u64::from(secs));
                self.client.handle_timeout(self.now);
                self.server.handle_timeout(self.now);
                for t in [self.client.poll_timeout(), self.server.poll_timeout()]
                    .into_iter()
                    .flatten()
                {
                    assert!(t > self.now, "a deadline is still due after handle_timeout");
                }
            }
            11 => {
                let n = g.byte()?;
                for _ in 0..n % 16 {
                    if let Some(m) = self.to_server.pop_front() {
                        self.server.handle_message(m, self.now);
                    }
                    if let Some(m) = self.to_client.pop_front() {
                        self.client.handle_message(m, self.now);
                    }
                    self.settle();
                }
            }
            12 => self.client.handle_connection_lost(),
            _ => self.server.handle_connection_lost(),
        }
        self.settle();
        Some(())
    }
}

/// The fuzz entry point.
pub fn check(data: &[u8]) {
    let Some((&config, rest)) = data.split_first() else {
        return;
    };
    let mut h = Harness::new(config, Instant::now());
    let mut g = Gen { data: rest, pos: 0 };
    while h.step(&mut g).is_some() {}
    h.client.handle_connection_lost();
    h.server.handle_connection_lost();
    h.settle();
    h.client_ledger.all_resolved("client");
    h.server_ledger.all_resolved("server");
    assert_eq!(h.client.pending_requests(), 0);
    assert_eq!(h.server.pending_requests(), 0);
    assert!(h.client.poll_timeout().is_none() && h.server.poll_timeout().is_none());
}
