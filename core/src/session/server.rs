//! The server side of an MCP session (legacy `initialize` handshake era).
//!
//! The session answers `initialize`, `ping`, `logging/setLevel` and every protocol-level error
//! itself (legacy-sse.md a.4): `initialize` without params → -32602; requests other than `ping`
//! before `initialize` → -32602 `Invalid request parameters` (`data: ""`); unknown methods, methods
//! of features that are not enabled and `server/discover` (DIVERGENCE 9) → -32601
//! `Method not found` (`data` = method), before or after `initialize`. Everything else becomes a
//! [`ServerEvent::Request`] for the handler layer, which answers with [`ServerSession::respond`];
//! several can be outstanding, and answers go out in the order `respond` is called.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use foldhash::HashSet;
use serde_json::{Map, Value};

use super::client::{reply, LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS};
use super::outgoing::{cancelled_notification, timeout_reason, OutgoingRequests};
use super::{
    SessionError, DEFAULT_MAX_EVENTS, DEFAULT_MAX_INCOMING, DEFAULT_MAX_OUTBOUND,
    DEFAULT_MAX_PENDING,
};
use crate::jsonrpc::{ErrorObject, Message, Notification, Request, RequestId};
use crate::mcp::methods;

/// Which MCP features the server implements; drives both the advertised capabilities and which
/// methods reach the handler layer. All off by default (a server with no handlers advertises
/// no feature capabilities and answers every feature method with -32601).
///
/// ```
/// use mcp_sse_core::session::ServerFeatures;
/// let f = ServerFeatures { tools: true, logging: true, ..ServerFeatures::default() };
/// assert!(!f.prompts);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerFeatures {
    /// `tools/list`, `tools/call`.
    pub tools: bool,
    /// Advertise `tools.listChanged: true`.
    pub tools_list_changed: bool,
    /// `resources/list`, `resources/templates/list`, `resources/read`.
    pub resources: bool,
    /// `resources/subscribe`, `resources/unsubscribe` (advertised as `resources.subscribe`).
    pub resources_subscribe: bool,
    /// Advertise `resources.listChanged: true`.
    pub resources_list_changed: bool,
    /// `prompts/list`, `prompts/get`.
    pub prompts: bool,
    /// Advertise `prompts.listChanged: true`.
    pub prompts_list_changed: bool,
    /// `completion/complete`.
    pub completions: bool,
    /// `logging/setLevel`, handled by the session (DIVERGENCE 8: advertised, and
    /// `notifications/message` below the set level is filtered in [`ServerSession::notify`]).
    pub logging: bool,
}

impl ServerFeatures {
    /// The `capabilities` object of the `initialize` result (keys in the reference's order).
    pub fn capabilities(&self) -> Value {
        let mut caps = Map::new();
        let flag = |name: &str, v: bool| {
            let mut m = Map::new();
            m.insert(name.into(), Value::from(v));
            m
        };
        if self.completions {
            caps.insert("completions".into(), Value::Object(Map::new()));
        }
        if self.logging {
            caps.insert("logging".into(), Value::Object(Map::new()));
        }
        if self.prompts {
            let m = flag("listChanged", self.prompts_list_changed);
            caps.insert("prompts".into(), Value::Object(m));
        }
        if self.resources {
            let mut m = flag("listChanged", self.resources_list_changed);
            m.insert("subscribe".into(), Value::from(self.resources_subscribe));
            caps.insert("resources".into(), Value::Object(m));
        }
        if self.tools {
            let m = flag("listChanged", self.tools_list_changed);
            caps.insert("tools".into(), Value::Object(m));
        }
        Value::Object(caps)
    }

    /// Whether `method` is a request of an enabled feature that the handler layer serves.
    fn routes(&self, method: &str) -> bool {
        match method {
            methods::TOOLS_LIST | methods::TOOLS_CALL => self.tools,
            methods::RESOURCES_LIST
            | methods::RESOURCES_TEMPLATES_LIST
            | methods::RESOURCES_READ => self.resources,
            methods::RESOURCES_SUBSCRIBE | methods::RESOURCES_UNSUBSCRIBE => {
                self.resources && self.resources_subscribe
            }
            methods::PROMPTS_LIST | methods::PROMPTS_GET => self.prompts,
            methods::COMPLETION_COMPLETE => self.completions,
            _ => false,
        }
    }
}

/// Server session configuration.
///
/// ```
/// use mcp_sse_core::session::{ServerConfig, ServerFeatures};
/// let config = ServerConfig {
///     server_info: serde_json::json!({"name": "demo", "version": "1.0.0"}),
///     instructions: Some("Be nice.".into()),
///     features: ServerFeatures { tools: true, ..ServerFeatures::default() },
///     ..ServerConfig::default()
/// };
/// assert_eq!(config.max_in_flight, mcp_sse_core::session::DEFAULT_MAX_INCOMING);
/// ```
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// `serverInfo` (`{"name","version",…}`), sent verbatim.
    pub server_info: Value,
    /// `instructions`, omitted when `None`.
    pub instructions: Option<String>,
    /// Implemented features.
    pub features: ServerFeatures,
    /// Bound on client requests being handled at once (default [`DEFAULT_MAX_INCOMING`]);
    /// beyond it the client gets -32603 `Too many concurrent requests`.
    pub max_in_flight: usize,
    /// Bound on server→client requests awaiting an answer (default [`DEFAULT_MAX_PENDING`]).
    pub max_pending: usize,
    /// Bound on queued non-request events (default [`DEFAULT_MAX_EVENTS`]).
    pub max_events: usize,
    /// Bound on queued outgoing messages (default [`DEFAULT_MAX_OUTBOUND`]).
    pub max_outbound: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        let mut info = Map::new();
        info.insert("name".into(), Value::from("mcp-sse"));
        info.insert("version".into(), Value::from(env!("CARGO_PKG_VERSION")));
        ServerConfig {
            server_info: Value::Object(info),
            instructions: None,
            features: ServerFeatures::default(),
            max_in_flight: DEFAULT_MAX_INCOMING,
            max_pending: DEFAULT_MAX_PENDING,
            max_events: DEFAULT_MAX_EVENTS,
            max_outbound: DEFAULT_MAX_OUTBOUND,
        }
    }
}

/// A notification the server application sends to its client: the session builds its method and
/// params, so callers never spell either.
///
/// ```
/// use mcp_sse_core::session::{ServerConfig, ServerNotification, ServerSession};
/// let mut s = ServerSession::new(ServerConfig::default());
/// let progress = ServerNotification::Progress {
///     token: "t".into(),
///     progress: 1.0,
///     total: Some(2.5),
///     message: None,
/// };
/// assert_eq!(s.send_notification(progress), Ok(true));
/// assert_eq!(
///     s.poll_transmit().unwrap().to_vec(),
///     br#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"t","progress":1,"total":2.5}}"#
/// );
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum ServerNotification {
    /// `notifications/message`: a log entry, filtered by the client's `logging/setLevel`.
    Log {
        /// The RFC 5424 level name (`"info"`, `"error"`, …).
        level: String,
        /// The logger's name, if any.
        logger: Option<String>,
        /// The entry.
        data: Value,
    },
    /// `notifications/progress` for the request whose `_meta.progressToken` is `token`.
    Progress {
        /// The request's progress token, with its JSON type.
        token: Value,
        /// Progress so far (written as an integer when integral, as the reference does).
        progress: f64,
        /// The total, if known.
        total: Option<f64>,
        /// A human-readable message.
        message: Option<String>,
    },
    /// `notifications/tools/list_changed`.
    ToolsListChanged,
    /// `notifications/resources/list_changed`.
    ResourcesListChanged,
    /// `notifications/prompts/list_changed`.
    PromptsListChanged,
    /// `notifications/resources/updated` for `uri`.
    ResourceUpdated {
        /// The resource that changed.
        uri: String,
    },
}

impl ServerNotification {
    /// The notification's JSON-RPC method.
    pub fn method(&self) -> &'static str {
        match self {
            ServerNotification::Log { .. } => methods::NOTIFICATIONS_MESSAGE,
            ServerNotification::Progress { .. } => methods::NOTIFICATIONS_PROGRESS,
            ServerNotification::ToolsListChanged => methods::NOTIFICATIONS_TOOLS_LIST_CHANGED,
            ServerNotification::ResourcesListChanged => {
                methods::NOTIFICATIONS_RESOURCES_LIST_CHANGED
            }
            ServerNotification::PromptsListChanged => methods::NOTIFICATIONS_PROMPTS_LIST_CHANGED,
            ServerNotification::ResourceUpdated { .. } => methods::NOTIFICATIONS_RESOURCES_UPDATED,
        }
    }

    /// The notification's params, keys in the reference's order.
    pub fn into_params(self) -> Option<Map<String, Value>> {
        let mut p = Map::new();
        match self {
            ServerNotification::Log {
                level,
                logger,
                data,
            } => {
                p.insert("level".into(), Value::String(level));
                if let Some(l) = logger {
                    p.insert("logger".into(), Value::String(l));
                }
                p.insert("data".into(), data);
            }
            ServerNotification::Progress {
                token,
                progress,
                total,
                message,
            } => {
                p.insert("progressToken".into(), token);
                p.insert("progress".into(), json_number(progress));
                if let Some(t) = total {
                    p.insert("total".into(), json_number(t));
                }
                if let Some(m) = message {
                    p.insert("message".into(), Value::String(m));
                }
            }
            ServerNotification::ResourceUpdated { uri } => {
                p.insert("uri".into(), Value::String(uri));
            }
            ServerNotification::ToolsListChanged
            | ServerNotification::ResourcesListChanged
            | ServerNotification::PromptsListChanged => return None,
        }
        Some(p)
    }
}

/// An integral float as a JSON integer (as the reference serializes progress), else a float
/// (`null` for a non-finite one, which JSON cannot carry).
fn json_number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        Value::from(x as i64)
    } else {
        serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
    }
}

/// RFC 5424 log levels, least to most severe: the MCP type, under the session's name.
pub use crate::mcp::LoggingLevel as LogLevel;

/// Something the server application must act on.
#[derive(Clone, Debug, PartialEq)]
pub enum ServerEvent {
    /// `initialize` was answered.
    Initialized {
        /// The negotiated version (what we answered).
        protocol_version: String,
        /// The client's `clientInfo`, verbatim.
        client_info: Value,
        /// The client's `capabilities`, verbatim.
        client_capabilities: Value,
    },
    /// A request for the handler layer; answer with [`ServerSession::respond`].
    Request {
        /// The client's id.
        id: RequestId,
        /// The method (one of the enabled features').
        method: String,
        /// Params, verbatim (including `_meta`).
        params: Option<Map<String, Value>>,
    },
    /// The client cancelled an in-flight request (or the connection closed): abort its handler;
    /// its `respond` will be dropped.
    RequestCancelled {
        /// The cancelled request's id.
        id: RequestId,
    },
    /// `logging/setLevel` was accepted (and answered `{}`).
    LogLevelChanged {
        /// The new minimum level.
        level: LogLevel,
    },
    /// A client notification (`notifications/initialized`, progress, roots/list_changed, …).
    Notification(Notification),
    /// The answer to a [`ServerSession::send_request`]; exactly once per request.
    ClientResponse {
        /// Our request's id.
        id: RequestId,
        /// The client's result or error, or -32001 (timeout) / -32000 (connection closed).
        result: Result<Value, ErrorObject>,
    },
    /// A client message the session dropped (e.g. a request reusing an in-flight id).
    InvalidMessage {
        /// What was wrong.
        reason: &'static str,
        /// The offending message.
        message: Message,
    },
}

/// The server's MCP session state machine.
///
/// ```
/// use std::time::Instant;
/// use mcp_sse_core::jsonrpc::{Message, Request};
/// use mcp_sse_core::session::{ServerConfig, ServerSession};
///
/// let mut s = ServerSession::new(ServerConfig::default());
/// s.handle_message(Message::Request(Request { id: 1.into(), method: "ping".into(), params: None }), Instant::now());
/// assert_eq!(s.poll_transmit().unwrap().to_vec(), br#"{"jsonrpc":"2.0","id":1,"result":{}}"#);
/// ```
#[derive(Debug)]
pub struct ServerSession {
    config: ServerConfig,
    initialized: bool,
    closed: bool,
    protocol_version: Option<String>,
    log_level: Option<LogLevel>,
    in_flight: HashSet<RequestId>,
    requests: OutgoingRequests,
    outbound: VecDeque<Message>,
    events: VecDeque<ServerEvent>,
    soft_events: usize,
    dropped_events: u64,
    dropped_outbound: u64,
}

impl ServerSession {
    /// A fresh session awaiting `initialize`.
    pub fn new(config: ServerConfig) -> Self {
        ServerSession {
            requests: OutgoingRequests::new(config.max_pending),
            config,
            initialized: false,
            closed: false,
            protocol_version: None,
            log_level: None,
            in_flight: HashSet::default(),
            outbound: VecDeque::new(),
            events: VecDeque::new(),
            soft_events: 0,
            dropped_events: 0,
            dropped_outbound: 0,
        }
    }

    /// The negotiated protocol version, once `initialize` was answered.
    pub fn protocol_version(&self) -> Option<&str> {
        self.protocol_version.as_deref()
    }

    /// The minimum level set by `logging/setLevel`, if any.
    pub fn log_level(&self) -> Option<LogLevel> {
        self.log_level
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

    fn push_auto(&mut self, msg: Message) {
        if self.outbound.len() >= self.config.max_outbound {
            self.dropped_outbound += 1;
        } else {
            self.outbound.push_back(msg);
        }
    }

    fn push_soft(&mut self, ev: ServerEvent) {
        if self.soft_events >= self.config.max_events {
            self.dropped_events += 1;
        } else {
            self.soft_events += 1;
            self.events.push_back(ev);
        }
    }

    /// Feeds one message from the client.
    pub fn handle_message(&mut self, msg: Message, now: Instant) {
        let _ = now;
        if self.closed {
            return;
        }
        match msg {
            Message::Request(r) => self.handle_request(r),
            Message::Notification(n) => self.handle_notification(n),
            Message::Response(r) => self.resolve(&r.id, Ok(r.result)),
            Message::Error(e) => {
                if let Some(id) = &e.id {
                    self.resolve(id, Err(e.error));
                }
            }
        }
    }

    fn handle_request(&mut self, r: Request) {
        let method = r.method.as_str();
        match method {
            methods::PING => self.push_auto(reply(r.id, Ok(Value::Object(Map::new())))),
            methods::INITIALIZE => self.handle_initialize(r),
            methods::LOGGING_SET_LEVEL if self.config.features.logging => {
                if !self.initialized {
                    self.push_auto(reply(r.id, Err(ErrorObject::invalid_params())));
                    return;
                }
                let level = r
                    .params
                    .as_ref()
                    .and_then(|p| p.get("level"))
                    .and_then(Value::as_str)
                    .and_then(LogLevel::parse);
                match level {
                    None => self.push_auto(reply(r.id, Err(ErrorObject::invalid_params()))),
                    Some(level) => {
                        self.log_level = Some(level);
                        self.push_auto(reply(r.id, Ok(Value::Object(Map::new()))));
                        self.push_soft(ServerEvent::LogLevelChanged { level });
                    }
                }
            }
            m if self.config.features.routes(m) => {
                if !self.initialized {
                    self.push_auto(reply(r.id, Err(ErrorObject::invalid_params())));
                } else if self.in_flight.contains(&r.id) {
                    self.push_soft(ServerEvent::InvalidMessage {
                        reason: "request id already in flight",
                        message: Message::Request(r),
                    });
                } else if self.in_flight.len() >= self.config.max_in_flight {
                    let err = ErrorObject::internal_error("Too many concurrent requests");
                    self.push_auto(reply(r.id, Err(err)));
                } else {
                    self.in_flight.insert(r.id.clone());
                    self.events.push_back(ServerEvent::Request {
                        id: r.id,
                        method: r.method,
                        params: r.params,
                    });
                }
            }
            // Includes `server/discover` (DIVERGENCE 9) and methods of disabled features.
            other => {
                let err = ErrorObject::method_not_found(other);
                self.push_auto(reply(r.id, Err(err)));
            }
        }
    }

    fn handle_initialize(&mut self, r: Request) {
        let params = r.params.as_ref();
        let version = params
            .and_then(|p| p.get("protocolVersion"))
            .and_then(Value::as_str);
        let caps = params.and_then(|p| p.get("capabilities"));
        let info = params.and_then(|p| p.get("clientInfo"));
        let info_ok = info.is_some_and(|i| {
            i.get("name").is_some_and(Value::is_string)
                && i.get("version").is_some_and(Value::is_string)
        });
        let (Some(version), Some(caps), Some(info), true) = (version, caps, info, info_ok) else {
            self.push_auto(reply(r.id, Err(ErrorObject::invalid_params())));
            return;
        };
        if !caps.is_object() {
            self.push_auto(reply(r.id, Err(ErrorObject::invalid_params())));
            return;
        }
        let negotiated = if SUPPORTED_PROTOCOL_VERSIONS.contains(&version) {
            version
        } else {
            LATEST_PROTOCOL_VERSION
        };
        let mut result = Map::new();
        result.insert("capabilities".into(), self.config.features.capabilities());
        if let Some(instructions) = &self.config.instructions {
            result.insert("instructions".into(), Value::from(instructions.clone()));
        }
        result.insert("protocolVersion".into(), Value::from(negotiated));
        result.insert("serverInfo".into(), self.config.server_info.clone());
        let event = ServerEvent::Initialized {
            protocol_version: negotiated.to_owned(),
            client_info: info.clone(),
            client_capabilities: caps.clone(),
        };
        self.protocol_version = Some(negotiated.to_owned());
        self.initialized = true;
        self.push_auto(reply(r.id, Ok(Value::Object(result))));
        self.push_soft(event);
    }

    fn handle_notification(&mut self, n: Notification) {
        if n.method == methods::NOTIFICATIONS_CANCELLED {
            let id = n
                .params
                .as_ref()
                .and_then(|p| p.get("requestId"))
                .and_then(RequestId::from_value);
            // A cancel naming an unknown id is ignored. One for a request whose event has not
            // been polled yet withdraws that event (the request was never seen, there is nothing
            // to interrupt): a peer alternating requests and cancels cannot grow the queue.
            if let Some(id) = id {
                if self.in_flight.remove(&id) {
                    self.stop_request(id);
                }
            }
            return;
        }
        self.push_soft(ServerEvent::Notification(n));
    }

    /// A request from the client that will not be answered: withdrawn if its event is still
    /// queued, else its handler is told with [`ServerEvent::RequestCancelled`].
    fn stop_request(&mut self, id: RequestId) {
        let queued = |e: &ServerEvent| matches!(e, ServerEvent::Request { id: q, .. } if *q == id);
        if !super::withdraw_event(&mut self.events, queued) {
            self.events.push_back(ServerEvent::RequestCancelled { id });
        }
    }

    fn resolve(&mut self, id: &RequestId, result: Result<Value, ErrorObject>) {
        let Some(key) = self.requests.key_of(id) else {
            return;
        };
        if self.requests.remove(key).is_some() {
            self.events.push_back(ServerEvent::ClientResponse {
                id: id.clone(),
                result,
            });
        }
    }

    /// Answers a [`ServerEvent::Request`]. Returns `false` (and sends nothing) if that request is
    /// not in flight: cancelled by the client, already answered, unknown, or the connection is
    /// gone.
    pub fn respond(&mut self, id: RequestId, result: Result<Value, ErrorObject>) -> bool {
        if self.closed || !self.in_flight.remove(&id) {
            return false;
        }
        self.outbound.push_back(reply(id, result));
        true
    }

    /// Sends a notification. `notifications/message` whose `params.level` is below the level set
    /// by `logging/setLevel` is filtered: `Ok(false)`, nothing sent.
    pub fn notify(
        &mut self,
        method: &str,
        params: Option<Map<String, Value>>,
    ) -> Result<bool, SessionError> {
        if self.closed {
            return Err(SessionError::ConnectionClosed);
        }
        if method == methods::NOTIFICATIONS_MESSAGE {
            let level = params
                .as_ref()
                .and_then(|p| p.get("level"))
                .and_then(Value::as_str)
                .and_then(LogLevel::parse);
            if let (Some(min), Some(level)) = (self.log_level, level) {
                if level < min {
                    return Ok(false);
                }
            }
        }
        if self.outbound.len() >= self.config.max_outbound {
            return Err(SessionError::OutboundFull {
                limit: self.config.max_outbound,
            });
        }
        self.outbound.push_back(Message::Notification(Notification {
            method: method.into(),
            params,
        }));
        Ok(true)
    }

    /// Sends `notification` (see [`ServerSession::notify`] for the log-level filter).
    pub fn send_notification(
        &mut self,
        notification: ServerNotification,
    ) -> Result<bool, SessionError> {
        let method = notification.method();
        self.notify(method, notification.into_params())
    }

    /// The server is shutting down: every client request still in flight is answered
    /// `-32603 Server shutting down` (DIVERGENCE 6) and reported as
    /// [`ServerEvent::RequestCancelled`] so its handler is stopped (one not polled yet is
    /// withdrawn: no handler starts for it). Later answers to them are dropped; the session
    /// stays open so the answers and what was queued before them are delivered.
    pub fn shutdown(&mut self) {
        if self.closed {
            return;
        }
        for id in super::take_in_order(&mut self.in_flight) {
            self.outbound
                .push_back(reply(id.clone(), Err(ErrorObject::server_shutting_down())));
            self.stop_request(id);
        }
    }

    /// Sends a server→client request (`sampling/createMessage`, `roots/list`,
    /// `elicitation/create`, `ping`, …) with the session's own id counter (1, 2, 3, …,
    /// independent of client ids). It resolves as exactly one [`ServerEvent::ClientResponse`].
    pub fn send_request(
        &mut self,
        method: &str,
        params: Option<Map<String, Value>>,
        timeout: Option<Duration>,
        now: Instant,
    ) -> Result<RequestId, SessionError> {
        if self.closed {
            return Err(SessionError::ConnectionClosed);
        }
        if self.requests.is_full() {
            return Err(SessionError::TooManyPending {
                limit: self.requests.limit(),
            });
        }
        if self.outbound.len() >= self.config.max_outbound {
            return Err(SessionError::OutboundFull {
                limit: self.config.max_outbound,
            });
        }
        let key = self.requests.insert(method, timeout, false, now);
        let id = RequestId::from(key);
        self.outbound.push_back(Message::Request(Request {
            id: id.clone(),
            method: method.into(),
            params,
        }));
        Ok(id)
    }

    /// The server gave up on one of its requests (e.g. the handler awaiting it was dropped): it
    /// resolves nothing further, a late answer is dropped, and the client gets
    /// `notifications/cancelled` with `reason` (the reference uses `"caller cancelled"`), which
    /// interrupts its callback. Returns whether a pending request was cancelled.
    pub fn cancel_request(&mut self, id: &RequestId, reason: &str) -> bool {
        let Some(key) = self.requests.key_of(id) else {
            return false;
        };
        if self.requests.remove(key).is_none() {
            return false;
        }
        if !self.closed {
            self.outbound.push_back(cancelled_notification(key, reason));
        }
        true
    }

    /// Expires server→client requests whose deadline passed: -32001 `Request '<method>' timed
    /// out` plus `notifications/cancelled` (`timed out after <t>s`).
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((key, pending)) = self.requests.pop_expired(now) {
            if !self.closed {
                self.outbound.push_back(cancelled_notification(
                    key,
                    &timeout_reason(pending.timeout),
                ));
            }
            self.events.push_back(ServerEvent::ClientResponse {
                id: RequestId::from(key),
                result: Err(ErrorObject::request_timeout(&pending.method)),
            });
        }
    }

    /// The earliest pending deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.requests.next_deadline()
    }

    /// The transport ended: pending server→client requests resolve -32000 `Connection closed`,
    /// a client request being handled gets [`ServerEvent::RequestCancelled`] and one whose
    /// [`ServerEvent::Request`] was not polled yet is withdrawn (no handler starts for it), unsent
    /// messages are discarded and later sends fail.
    pub fn handle_connection_lost(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.outbound.clear();
        for id in super::take_in_order(&mut self.in_flight) {
            self.stop_request(id);
        }
        for (key, _) in self.requests.drain() {
            self.events.push_back(ServerEvent::ClientResponse {
                id: RequestId::from(key),
                result: Err(ErrorObject::connection_closed()),
            });
        }
    }

    /// The next message to send, in order.
    pub fn poll_transmit(&mut self) -> Option<Message> {
        self.outbound.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        let ev = self.events.pop_front()?;
        if matches!(
            ev,
            ServerEvent::Initialized { .. }
                | ServerEvent::LogLevelChanged { .. }
                | ServerEvent::Notification(_)
                | ServerEvent::InvalidMessage { .. }
        ) {
            self.soft_events = self.soft_events.saturating_sub(1);
        }
        Some(ev)
    }
}
