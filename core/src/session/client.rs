//! The client side of an MCP session (legacy `initialize` handshake era).
//!
//! Behaviour follows the reference `ClientSession` (legacy-sse.md (c)):
//! - ids run 1, 2, 3, … per session, `initialize` is 1; requests without params omit `params`;
//! - requests sent before the handshake completes are **queued** (their deadlines run from the
//!   `send_request` call) and go out right after the single `notifications/initialized`;
//! - a deadline expiry resolves the request with [`RequestError::Timeout`] (the reference's
//!   -32001 `Request '<method>' timed out`) and sends `notifications/cancelled` (reason
//!   `timed out after <t>s`), except for `initialize`;
//! - connection loss resolves every pending request with [`RequestError::Closed`] (-32000
//!   `Connection closed`);
//! - every failure is a [`RequestError`] saying why (the server's error, a timeout, the
//!   connection, the transport), decided here, so callers never read codes;
//! - responses are matched by id **exactly**: our ids are integers, so a response with the string
//!   id `"7"` does not resolve request `7` (the reference coerces; we keep JSON types apart) and is
//!   dropped like any response for an unknown or late id.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use foldhash::HashSet;
use serde_json::{Map, Value};

use super::outgoing::{cancelled_notification, timeout_reason, OutgoingRequests};
use super::{
    RequestError, SessionError, DEFAULT_MAX_EVENTS, DEFAULT_MAX_INCOMING, DEFAULT_MAX_OUTBOUND,
    DEFAULT_MAX_PENDING,
};
use crate::jsonrpc::{
    codes, ErrorObject, ErrorResponse, Message, Notification, Request, RequestId, Response,
};
use crate::mcp::methods;

/// The protocol versions the client accepts from the server, and the one it offers by default
/// (as the reference client does): the `mcp` module's, defined once.
pub use crate::mcp::{LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS};

/// Client session configuration.
///
/// ```
/// use std::time::Duration;
/// use mcp_sse_core::session::ClientConfig;
///
/// let config = ClientConfig {
///     capabilities: serde_json::json!({"sampling": {}}),
///     handles_sampling: true,
///     default_timeout: Some(Duration::from_secs(30)),
///     ..ClientConfig::default()
/// };
/// assert_eq!(config.protocol_version, "2025-11-25");
/// ```
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The protocol version offered in `initialize` (default [`LATEST_PROTOCOL_VERSION`]).
    pub protocol_version: String,
    /// `clientInfo`: `{"name", "version", …}`, sent verbatim.
    pub client_info: Value,
    /// `capabilities`, sent verbatim; build it from the callbacks you have (sampling callback →
    /// `"sampling":{}`, roots → `"roots":{"listChanged":true}`, elicitation →
    /// `"elicitation":{"form":{},"url":{}}`).
    pub capabilities: Value,
    /// Timeout for requests that set none (including `initialize`); `None` = wait forever.
    pub default_timeout: Option<Duration>,
    /// `sampling/createMessage` from the server becomes a [`ClientEvent::ServerRequest`]
    /// (otherwise answered -32600 `Sampling not supported`).
    pub handles_sampling: bool,
    /// `roots/list` becomes an event (otherwise -32601 `List roots not supported`).
    pub handles_roots: bool,
    /// `elicitation/create` becomes an event (otherwise -32602 `Elicitation not supported`).
    pub handles_elicitation: bool,
    /// Bound on requests awaiting a response (default [`DEFAULT_MAX_PENDING`]).
    pub max_pending: usize,
    /// Bound on server→client requests awaiting [`ClientSession::respond`]
    /// (default [`DEFAULT_MAX_INCOMING`]); beyond it the server gets -32603.
    pub max_server_requests: usize,
    /// Bound on queued non-resolution events (default [`DEFAULT_MAX_EVENTS`]).
    pub max_events: usize,
    /// Bound on queued outgoing messages (default [`DEFAULT_MAX_OUTBOUND`]).
    pub max_outbound: usize,
}

impl ClientConfig {
    /// The capabilities a client declares for the handlers it has, as the reference derives
    /// them: sampling → `"sampling":{}`, elicitation → `"elicitation":{"form":{},"url":{}}`,
    /// roots → `"roots":{"listChanged":true}`; none → `{}`.
    ///
    /// ```
    /// use mcp_sse_core::session::ClientConfig;
    /// let caps = ClientConfig::capabilities_for(true, false, true);
    /// assert_eq!(caps, serde_json::json!({"sampling": {}, "roots": {"listChanged": true}}));
    /// ```
    pub fn capabilities_for(sampling: bool, elicitation: bool, roots: bool) -> Value {
        let mut caps = Map::new();
        if sampling {
            caps.insert("sampling".into(), Value::Object(Map::new()));
        }
        if elicitation {
            caps.insert(
                "elicitation".into(),
                serde_json::json!({"form": {}, "url": {}}),
            );
        }
        if roots {
            caps.insert("roots".into(), serde_json::json!({"listChanged": true}));
        }
        Value::Object(caps)
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        let mut info = Map::new();
        info.insert("name".into(), Value::from("mcp-sse"));
        info.insert("version".into(), Value::from(env!("CARGO_PKG_VERSION")));
        ClientConfig {
            protocol_version: LATEST_PROTOCOL_VERSION.into(),
            client_info: Value::Object(info),
            capabilities: Value::Object(Map::new()),
            default_timeout: None,
            handles_sampling: false,
            handles_roots: false,
            handles_elicitation: false,
            max_pending: DEFAULT_MAX_PENDING,
            max_server_requests: DEFAULT_MAX_INCOMING,
            max_events: DEFAULT_MAX_EVENTS,
            max_outbound: DEFAULT_MAX_OUTBOUND,
        }
    }
}

/// Per-request options.
///
/// ```
/// use mcp_sse_core::session::RequestOptions;
/// let opts = RequestOptions { progress: true, ..RequestOptions::default() };
/// assert!(opts.timeout.is_none());
/// ```
#[derive(Clone, Debug, Default)]
pub struct RequestOptions {
    /// Overrides [`ClientConfig::default_timeout`].
    pub timeout: Option<Duration>,
    /// Ask for progress: adds `params._meta.progressToken = <id>` and reports
    /// `notifications/progress` for it as [`ClientEvent::Progress`].
    pub progress: bool,
}

/// Why the `initialize` handshake failed.
#[derive(thiserror::Error, Debug, Clone, PartialEq)]
pub enum InitializeError {
    /// The server answered with a protocol version we do not support.
    #[error("Unsupported protocol version from the server: {0}")]
    UnsupportedProtocolVersion(String),
    /// The result has no string `protocolVersion`.
    #[error("invalid initialize result: no protocolVersion")]
    InvalidResult,
    /// The server answered with a JSON-RPC error.
    #[error("initialize rejected: {0}")]
    Rejected(ErrorObject),
    /// The deadline expired.
    #[error("Request 'initialize' timed out")]
    TimedOut,
    /// The connection closed first.
    #[error("Connection closed")]
    ConnectionClosed,
}

/// The server→client requests a client may handle (anything else is answered by the session
/// itself: `ping` with `{}`, unknown methods with -32601).
///
/// ```
/// use mcp_sse_core::session::ServerRequestKind;
///
/// let kind = ServerRequestKind::from_method("roots/list");
/// assert_eq!(kind, Some(ServerRequestKind::ListRoots));
/// assert_eq!(ServerRequestKind::ListRoots.method(), "roots/list");
/// assert_eq!(ServerRequestKind::from_method("tools/call"), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServerRequestKind {
    /// `sampling/createMessage`.
    Sampling,
    /// `roots/list`.
    ListRoots,
    /// `elicitation/create`.
    Elicitation,
}

impl ServerRequestKind {
    /// The kind of the request with this method, if it is one a client may handle.
    pub fn from_method(method: &str) -> Option<Self> {
        match method {
            methods::SAMPLING_CREATE_MESSAGE => Some(ServerRequestKind::Sampling),
            methods::ROOTS_LIST => Some(ServerRequestKind::ListRoots),
            methods::ELICITATION_CREATE => Some(ServerRequestKind::Elicitation),
            _ => None,
        }
    }

    /// The request's JSON-RPC method.
    pub fn method(self) -> &'static str {
        match self {
            ServerRequestKind::Sampling => methods::SAMPLING_CREATE_MESSAGE,
            ServerRequestKind::ListRoots => methods::ROOTS_LIST,
            ServerRequestKind::Elicitation => methods::ELICITATION_CREATE,
        }
    }

    /// The answer when the client has no handler for this kind: the reference's texts, with the
    /// specification's codes where it names one (roots: -32601 Method not found; elicitation:
    /// -32602 Invalid params; the reference answers -32600 to all three).
    fn unsupported(self) -> ErrorObject {
        match self {
            ServerRequestKind::Sampling => ErrorObject::invalid_request("Sampling not supported"),
            ServerRequestKind::ListRoots => {
                ErrorObject::new(codes::METHOD_NOT_FOUND, "List roots not supported")
            }
            ServerRequestKind::Elicitation => {
                ErrorObject::new(codes::INVALID_PARAMS, "Elicitation not supported")
            }
        }
    }
}

/// Something the client application must know about.
#[derive(Clone, Debug, PartialEq)]
pub enum ClientEvent {
    /// The handshake succeeded (emitted right after `initialize`'s own
    /// [`ClientEvent::Response`]); `result` is the server's verbatim.
    Initialized {
        /// The negotiated version (the server's answer).
        protocol_version: String,
        /// The full `initialize` result (capabilities, serverInfo, instructions, …).
        result: Value,
    },
    /// The handshake failed (emitted right after `initialize`'s [`ClientEvent::Response`]); the
    /// session is unusable, queued requests were resolved with the same error.
    InitializeFailed(InitializeError),
    /// A request resolved. Every request (including `initialize`) resolves exactly once, unless
    /// the caller cancelled it.
    Response {
        /// The request's id.
        id: RequestId,
        /// The result, or why it failed (the server's error, a timeout, the connection closed,
        /// the session lost, the transport failing to send it).
        result: Result<Value, RequestError>,
    },
    /// `notifications/progress` for a pending request sent with `progress: true`.
    Progress {
        /// The request (= progress token).
        id: RequestId,
        /// `progress`, as a float.
        progress: f64,
        /// `total`, if present.
        total: Option<f64>,
        /// `message`, if present.
        message: Option<String>,
    },
    /// A server→client request we have a handler for; answer with [`ClientSession::respond`].
    ServerRequest {
        /// Its id (the server's own id space).
        id: RequestId,
        /// Which request it is (its method is [`ServerRequestKind::method`]).
        kind: ServerRequestKind,
        /// Its params, verbatim.
        params: Option<Map<String, Value>>,
    },
    /// The server cancelled one of its requests, or the connection was lost while it was being
    /// handled: abort the handler; its `respond` is dropped.
    ServerRequestCancelled {
        /// The cancelled request's id.
        id: RequestId,
    },
    /// A log entry (`notifications/message`, params as `LoggingMessageNotificationParams`): what
    /// a logging callback takes.
    LogMessage(Notification),
    /// Any other server notification (list_changed, resources/updated, …).
    Notification(Notification),
    /// A server message the session could not use and dropped (e.g. `notifications/progress`
    /// without a numeric `progress`, a duplicate server request id, an error with a `null` id).
    InvalidMessage {
        /// What was wrong.
        reason: &'static str,
        /// The offending message.
        message: Message,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    /// `initialize` not yet sent.
    Created,
    /// `initialize` sent, awaiting its response.
    Initializing,
    /// Handshake done.
    Ready,
    /// Handshake failed with this error.
    Failed(RequestError),
    /// Connection lost.
    Closed,
}

/// The client's MCP session state machine.
///
/// ```
/// use std::time::Instant;
/// use mcp_sse_core::jsonrpc::{Message, RequestId};
/// use mcp_sse_core::session::{ClientConfig, ClientSession};
///
/// let now = Instant::now();
/// let mut s = ClientSession::new(ClientConfig::default());
/// assert_eq!(s.initialize(now).unwrap(), RequestId::from(1));
/// let Some(Message::Request(init)) = s.poll_transmit() else { panic!() };
/// assert_eq!(init.method, "initialize");
/// ```
#[derive(Debug)]
pub struct ClientSession {
    config: ClientConfig,
    phase: Phase,
    init_key: Option<u64>,
    protocol_version: Option<String>,
    requests: OutgoingRequests,
    /// Messages sent before the handshake completed, in order.
    held: VecDeque<Message>,
    outbound: VecDeque<Message>,
    events: VecDeque<ClientEvent>,
    /// Non-resolution events in `events`.
    soft_events: usize,
    server_requests: HashSet<RequestId>,
    dropped_events: u64,
    dropped_outbound: u64,
}

impl ClientSession {
    /// A session that has sent nothing yet.
    pub fn new(config: ClientConfig) -> Self {
        ClientSession {
            requests: OutgoingRequests::new(config.max_pending),
            config,
            phase: Phase::Created,
            init_key: None,
            protocol_version: None,
            held: VecDeque::new(),
            outbound: VecDeque::new(),
            events: VecDeque::new(),
            soft_events: 0,
            server_requests: HashSet::default(),
            dropped_events: 0,
            dropped_outbound: 0,
        }
    }

    /// The negotiated protocol version, once the handshake succeeded.
    pub fn protocol_version(&self) -> Option<&str> {
        self.protocol_version.as_deref()
    }

    /// Whether the handshake has completed successfully (and the connection is up).
    pub fn is_ready(&self) -> bool {
        self.phase == Phase::Ready
    }

    /// Requests this side sent that still await a response.
    pub fn pending_requests(&self) -> usize {
        self.requests.len()
    }

    /// Events dropped because the event queue was full.
    pub fn dropped_events(&self) -> u64 {
        self.dropped_events
    }

    /// Automatic replies dropped because the outbound queue was full.
    pub fn dropped_outbound(&self) -> u64 {
        self.dropped_outbound
    }

    /// Queues `initialize` (`{protocolVersion, capabilities, clientInfo}`, id 1 unless requests
    /// were queued before it). Its deadline is [`ClientConfig::default_timeout`]; it is never
    /// cancelled on timeout.
    pub fn initialize(&mut self, now: Instant) -> Result<RequestId, SessionError> {
        match self.phase {
            Phase::Created => {}
            Phase::Closed => return Err(SessionError::ConnectionClosed),
            _ => return Err(SessionError::AlreadyInitialized),
        }
        if self.requests.is_full() {
            return Err(SessionError::TooManyPending {
                limit: self.requests.limit(),
            });
        }
        let mut params = Map::new();
        params.insert(
            "protocolVersion".into(),
            Value::from(self.config.protocol_version.clone()),
        );
        params.insert("capabilities".into(), self.config.capabilities.clone());
        params.insert("clientInfo".into(), self.config.client_info.clone());
        let key =
            self.requests
                .insert(methods::INITIALIZE, self.config.default_timeout, false, now);
        self.init_key = Some(key);
        self.phase = Phase::Initializing;
        self.outbound.push_back(Message::Request(Request {
            id: RequestId::from(key),
            method: methods::INITIALIZE.into(),
            params: Some(params),
        }));
        Ok(RequestId::from(key))
    }

    fn check_can_send(&self) -> Result<(), SessionError> {
        match self.phase {
            Phase::Closed => Err(SessionError::ConnectionClosed),
            Phase::Failed(_) => Err(SessionError::InitializeFailed),
            _ if self.outbound.len() + self.held.len() >= self.config.max_outbound => {
                Err(SessionError::OutboundFull {
                    limit: self.config.max_outbound,
                })
            }
            _ => Ok(()),
        }
    }

    fn send_or_hold(&mut self, msg: Message) {
        if self.phase == Phase::Ready {
            self.outbound.push_back(msg);
        } else {
            self.held.push_back(msg);
        }
    }

    /// Sends a request; returns its id. Before the handshake completes it is queued and goes out
    /// after `notifications/initialized`. Resolves later as exactly one
    /// [`ClientEvent::Response`] (unless cancelled).
    pub fn send_request(
        &mut self,
        method: &str,
        params: Option<Map<String, Value>>,
        opts: RequestOptions,
        now: Instant,
    ) -> Result<RequestId, SessionError> {
        self.check_can_send()?;
        if self.requests.is_full() {
            return Err(SessionError::TooManyPending {
                limit: self.requests.limit(),
            });
        }
        let mut params = params;
        if opts.progress {
            let map = params.get_or_insert_with(Map::new);
            let meta = map
                .entry("_meta")
                .or_insert_with(|| Value::Object(Map::new()));
            if !meta.is_object() {
                return Err(SessionError::MetaNotObject);
            }
        }
        let timeout = opts.timeout.or(self.config.default_timeout);
        let key = self.requests.insert(method, timeout, opts.progress, now);
        if let Some(Value::Object(meta)) = params.as_mut().and_then(|p| p.get_mut("_meta")) {
            if opts.progress {
                meta.insert("progressToken".into(), Value::from(key));
            }
        }
        let id = RequestId::from(key);
        self.send_or_hold(Message::Request(Request {
            id: id.clone(),
            method: method.into(),
            params,
        }));
        Ok(id)
    }

    /// Sends a notification (queued like requests before the handshake completes).
    pub fn send_notification(
        &mut self,
        method: &str,
        params: Option<Map<String, Value>>,
    ) -> Result<(), SessionError> {
        self.check_can_send()?;
        self.send_or_hold(Message::Notification(Notification {
            method: method.into(),
            params,
        }));
        Ok(())
    }

    /// The caller gave up on a request: it resolves nothing further and, if it was already
    /// transmitted, `notifications/cancelled` with `reason` goes out (the reference uses
    /// `"caller cancelled"`). Returns whether a pending request was cancelled. `initialize`
    /// cannot be cancelled (returns `false`).
    pub fn cancel(&mut self, id: &RequestId, reason: &str) -> bool {
        let Some(key) = self.requests.key_of(id) else {
            return false;
        };
        if Some(key) == self.init_key {
            return false;
        }
        if self.requests.remove(key).is_none() {
            return false;
        }
        if !self.unhold(id) && self.phase != Phase::Closed {
            self.outbound.push_back(cancelled_notification(key, reason));
        }
        true
    }

    /// The transport could not deliver the message that carried request `id` (e.g. its POST got
    /// a non-2xx answer): the request resolves at once with `error`, and no
    /// `notifications/cancelled` is sent (the server never saw it). Returns whether it was
    /// pending.
    pub fn fail_request(&mut self, id: &RequestId, error: impl Into<RequestError>) -> bool {
        let error = error.into();
        let Some(key) = self.requests.key_of(id) else {
            return false;
        };
        if self.requests.remove(key).is_none() {
            return false;
        }
        if Some(key) == self.init_key {
            self.init_key = None;
            // Like any failed handshake: held requests resolve too, and the session is unusable.
            let reason = InitializeError::Rejected(error.to_error_object());
            self.fail_initialize(id.clone(), error, reason);
            return true;
        }
        self.events.push_back(ClientEvent::Response {
            id: id.clone(),
            result: Err(error),
        });
        true
    }

    /// Removes a held (never transmitted) request; returns whether it was held.
    fn unhold(&mut self, id: &RequestId) -> bool {
        let pos = self
            .held
            .iter()
            .position(|m| matches!(m, Message::Request(r) if &r.id == id));
        match pos {
            Some(p) => {
                self.held.remove(p);
                true
            }
            None => false,
        }
    }

    /// Answers a server→client request announced by [`ClientEvent::ServerRequest`]. Dropped if
    /// the server cancelled it, it is unknown, or the connection is gone.
    pub fn respond(&mut self, server_request: RequestId, result: Result<Value, ErrorObject>) {
        if !self.server_requests.remove(&server_request) || self.phase == Phase::Closed {
            return;
        }
        self.outbound.push_back(reply(server_request, result));
    }

    /// Feeds one message from the server.
    pub fn handle_message(&mut self, msg: Message, now: Instant) {
        let _ = now;
        if self.phase == Phase::Closed {
            return;
        }
        match msg {
            Message::Response(r) => self.resolve(&r.id, Ok(r.result)),
            Message::Error(ErrorResponse {
                id: Some(id),
                error,
            }) => self.resolve(&id, Err(RequestError::Rpc(error))),
            Message::Error(e) => self.push_soft(ClientEvent::InvalidMessage {
                reason: "error response without an id",
                message: Message::Error(e),
            }),
            Message::Request(r) => self.handle_server_request(r),
            Message::Notification(n) => self.handle_notification(n),
        }
    }

    fn resolve(&mut self, id: &RequestId, result: Result<Value, RequestError>) {
        // Unknown, late or differently-typed ids are dropped.
        let Some(key) = self.requests.key_of(id) else {
            return;
        };
        if self.requests.remove(key).is_none() {
            return;
        }
        if Some(key) == self.init_key {
            self.finish_initialize(id.clone(), result);
        } else {
            self.events.push_back(ClientEvent::Response {
                id: id.clone(),
                result,
            });
        }
    }

    fn finish_initialize(&mut self, id: RequestId, result: Result<Value, RequestError>) {
        self.init_key = None;
        let value = match result {
            Ok(value) => value,
            Err(e) => {
                let reason = InitializeError::Rejected(e.to_error_object());
                self.fail_initialize(id, e, reason);
                return;
            }
        };
        let version = match value.get("protocolVersion").and_then(Value::as_str) {
            Some(v) if SUPPORTED_PROTOCOL_VERSIONS.contains(&v) => v.to_owned(),
            other => {
                let err = match other {
                    Some(v) => InitializeError::UnsupportedProtocolVersion(v.to_owned()),
                    None => InitializeError::InvalidResult,
                };
                // The caller sees the reason, and the server's result.
                let error = RequestError::Handshake {
                    error: err.clone(),
                    result: Some(Box::new(value)),
                };
                self.fail_initialize(id, error, err);
                return;
            }
        };
        self.events.push_back(ClientEvent::Response {
            id,
            result: Ok(value.clone()),
        });
        self.events.push_back(ClientEvent::Initialized {
            protocol_version: version.clone(),
            result: value,
        });
        self.protocol_version = Some(version);
        self.phase = Phase::Ready;
        self.outbound.push_back(Message::Notification(Notification {
            method: methods::NOTIFICATIONS_INITIALIZED.into(),
            params: None,
        }));
        self.outbound.extend(self.held.drain(..));
    }

    /// Resolves `initialize` and every held request with `error`; the session becomes unusable.
    fn fail_initialize(&mut self, id: RequestId, error: RequestError, err: InitializeError) {
        self.events.push_back(ClientEvent::Response {
            id,
            result: Err(error.clone()),
        });
        self.events.push_back(ClientEvent::InitializeFailed(err));
        for msg in std::mem::take(&mut self.held) {
            if let Message::Request(r) = msg {
                if let Some(key) = self.requests.key_of(&r.id) {
                    self.requests.remove(key);
                    self.events.push_back(ClientEvent::Response {
                        id: r.id,
                        result: Err(error.clone()),
                    });
                }
            }
        }
        self.phase = Phase::Failed(error);
    }

    fn push_soft(&mut self, ev: ClientEvent) {
        if self.soft_events >= self.config.max_events {
            self.dropped_events += 1;
        } else {
            self.soft_events += 1;
            self.events.push_back(ev);
        }
    }

    fn push_auto(&mut self, msg: Message) {
        if self.outbound.len() >= self.config.max_outbound {
            self.dropped_outbound += 1;
        } else {
            self.outbound.push_back(msg);
        }
    }

    fn handle_server_request(&mut self, r: Request) {
        if r.method == methods::PING {
            self.push_auto(reply(r.id, Ok(Value::Object(Map::new()))));
            return;
        }
        let Some(kind) = ServerRequestKind::from_method(&r.method) else {
            let err = ErrorObject::method_not_found(&r.method);
            self.push_auto(reply(r.id, Err(err)));
            return;
        };
        let handled = match kind {
            ServerRequestKind::Sampling => self.config.handles_sampling,
            ServerRequestKind::ListRoots => self.config.handles_roots,
            ServerRequestKind::Elicitation => self.config.handles_elicitation,
        };
        if !handled {
            self.push_auto(reply(r.id, Err(kind.unsupported())));
            return;
        }
        if self.server_requests.contains(&r.id) {
            self.push_soft(ClientEvent::InvalidMessage {
                reason: "duplicate server request id",
                message: Message::Request(r),
            });
            return;
        }
        if self.server_requests.len() >= self.config.max_server_requests {
            let err = ErrorObject::internal_error("Too many concurrent requests");
            self.push_auto(reply(r.id, Err(err)));
            return;
        }
        self.server_requests.insert(r.id.clone());
        let mut params = r.params;
        if kind == ServerRequestKind::Elicitation {
            // A request without `mode` is a form request (2025-11-25): the callback sees it so.
            if let Some(p) = params.as_mut() {
                p.entry("mode").or_insert_with(|| Value::from("form"));
            }
        }
        self.events.push_back(ClientEvent::ServerRequest {
            id: r.id,
            kind,
            params,
        });
    }

    fn handle_notification(&mut self, n: Notification) {
        match n.method.as_str() {
            methods::NOTIFICATIONS_PROGRESS => self.handle_progress(n),
            methods::NOTIFICATIONS_CANCELLED => {
                let id = n
                    .params
                    .as_ref()
                    .and_then(|p| p.get("requestId"))
                    .and_then(RequestId::from_value);
                // One for a request whose event has not been polled yet withdraws that event
                // (nothing to interrupt): alternating requests and cancels cannot grow the queue.
                if let Some(id) = id {
                    if self.server_requests.remove(&id) {
                        self.stop_server_request(id);
                    }
                }
            }
            methods::NOTIFICATIONS_MESSAGE => self.push_soft(ClientEvent::LogMessage(n)),
            _ => self.push_soft(ClientEvent::Notification(n)),
        }
    }

    /// A server→client request that will not be answered: withdrawn if its event is still
    /// queued, else its callback is told with [`ClientEvent::ServerRequestCancelled`].
    fn stop_server_request(&mut self, id: RequestId) {
        let queued =
            |e: &ClientEvent| matches!(e, ClientEvent::ServerRequest { id: q, .. } if *q == id);
        if !super::withdraw_event(&mut self.events, queued) {
            self.events
                .push_back(ClientEvent::ServerRequestCancelled { id });
        }
    }

    fn handle_progress(&mut self, n: Notification) {
        let params = n.params.as_ref();
        let token = params
            .and_then(|p| p.get("progressToken"))
            .and_then(RequestId::from_value);
        // Only tokens of pending requests that asked for progress; anything else (including
        // progress after the response) is dropped.
        let Some(id) = token.filter(|t| {
            self.requests
                .key_of(t)
                .and_then(|k| self.requests.get(k))
                .is_some_and(|p| p.progress)
        }) else {
            return;
        };
        let Some(progress) = params
            .and_then(|p| p.get("progress"))
            .and_then(Value::as_f64)
        else {
            self.push_soft(ClientEvent::InvalidMessage {
                reason: "progress notification without a numeric progress",
                message: Message::Notification(n),
            });
            return;
        };
        let total = params.and_then(|p| p.get("total")).and_then(Value::as_f64);
        let message = params
            .and_then(|p| p.get("message"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        self.push_soft(ClientEvent::Progress {
            id,
            progress,
            total,
            message,
        });
    }

    /// The transport ended: every pending request (including a queued one and `initialize`)
    /// resolves with -32000 `Connection closed`; later sends fail with
    /// [`SessionError::ConnectionClosed`]. Unsent messages are discarded. A server→client
    /// request being handled gets [`ClientEvent::ServerRequestCancelled`]; one whose
    /// [`ClientEvent::ServerRequest`] was not polled yet is withdrawn.
    pub fn handle_connection_lost(&mut self) {
        self.handle_connection_lost_with(RequestError::Closed);
    }

    /// [`ClientSession::handle_connection_lost`], resolving the pending requests with `error`
    /// instead of [`RequestError::Closed`] (e.g. [`RequestError::SessionLost`] when the
    /// driver reconnects).
    pub fn handle_connection_lost_with(&mut self, error: RequestError) {
        if self.phase == Phase::Closed {
            return;
        }
        let init_key = self.init_key.take();
        self.phase = Phase::Closed;
        self.held.clear();
        self.outbound.clear();
        for id in super::take_in_order(&mut self.server_requests) {
            self.stop_server_request(id);
        }
        let mut init_failed = false;
        for (key, _) in self.requests.drain() {
            init_failed |= Some(key) == init_key;
            self.events.push_back(ClientEvent::Response {
                id: RequestId::from(key),
                result: Err(error.clone()),
            });
        }
        if init_failed {
            self.events.push_back(ClientEvent::InitializeFailed(
                InitializeError::ConnectionClosed,
            ));
        }
    }

    /// Expires every request whose deadline is at or before `now`: -32001
    /// `Request '<method>' timed out`, plus `notifications/cancelled` (`timed out after <t>s`)
    /// if it was transmitted and is not `initialize`. A timed-out `initialize` fails the
    /// handshake. The session stays usable otherwise.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((key, pending)) = self.requests.pop_expired(now) {
            let id = RequestId::from(key);
            let error = RequestError::Timeout {
                method: pending.method.to_string(),
                timeout: pending.timeout,
            };
            if Some(key) == self.init_key {
                self.init_key = None;
                self.fail_initialize(id, error, InitializeError::TimedOut);
                continue;
            }
            if !self.unhold(&id) && self.phase != Phase::Closed {
                self.outbound.push_back(cancelled_notification(
                    key,
                    &timeout_reason(pending.timeout),
                ));
            }
            self.events.push_back(ClientEvent::Response {
                id,
                result: Err(error),
            });
        }
    }

    /// The earliest pending deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.requests.next_deadline()
    }

    /// The next message to send, in order.
    pub fn poll_transmit(&mut self) -> Option<Message> {
        self.outbound.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        let ev = self.events.pop_front()?;
        if is_soft(&ev) {
            self.soft_events = self.soft_events.saturating_sub(1);
        }
        Some(ev)
    }
}

fn is_soft(ev: &ClientEvent) -> bool {
    matches!(
        ev,
        ClientEvent::Progress { .. }
            | ClientEvent::LogMessage(_)
            | ClientEvent::Notification(_)
            | ClientEvent::InvalidMessage { .. }
    )
}

/// A response or error response to a peer request.
pub(crate) fn reply(id: RequestId, result: Result<Value, ErrorObject>) -> Message {
    match result {
        Ok(result) => Message::Response(Response { id, result }),
        Err(error) => Message::Error(ErrorResponse {
            id: Some(id),
            error,
        }),
    }
}
