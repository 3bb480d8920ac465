//! The client side of the legacy HTTP+SSE transport, as one sans-IO machine.
//!
//! The machine asks its driver to open connections to the server ([`ClientEvent::Open`]), and
//! the driver reports them open ([`Client::handle_connected`]) or failed
//! ([`Client::handle_connect_failed`]), feeds what it reads ([`Client::handle_bytes`],
//! [`Client::handle_eof`]), writes what [`Client::poll_transmit`] returns, and closes a
//! connection on [`ClientEvent::Close`]. Connection `0` carries the `GET` event stream; the others
//! carry `POST`s, one at a time each, kept alive and reused.
//!
//! Reference behaviour: `shared/spec/legacy-sse.md` section (b), with its DIVERGENCES 2–5:
//! a cross-origin endpoint fails at once; a failed POST fails exactly its message; POSTs run in
//! parallel up to a bound.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use foldhash::{HashMap, HashSet};

use crate::http::{
    self, HttpError, RequestHead, ResponseDecoder, ResponseEvent, ResponseExpectation,
};
use crate::jsonrpc::{codes, ErrorObject, Message, ParseError};
use crate::sse::{self, DecodeError, Item};

/// Default idle bound on the event stream (the reference's `sse_read_timeout`).
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(300);
/// Default bound on waiting for the `endpoint` event after connecting.
pub const DEFAULT_ENDPOINT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default bound on connecting: from [`Client::new`] until the head of the GET's response
/// arrives (a server that accepts the connection and never answers fails this fast).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default bound on the redirects of the GET that are followed (httpx's default is 20; a
/// legacy SSE server needs one at most, e.g. `/sse` → `/sse/`).
pub const DEFAULT_MAX_REDIRECTS: usize = 5;
/// Default number of POSTs in flight at once (each on its own keep-alive connection).
pub const DEFAULT_MAX_IN_FLIGHT_POSTS: usize = 8;
/// Default bound on messages waiting for a free POST connection.
pub const DEFAULT_MAX_QUEUED_POSTS: usize = 4096;
/// Default bound on a non-2xx response body kept for the error.
pub const DEFAULT_MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// Configuration of a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Extra headers sent with the GET and every POST (e.g. `Authorization`).
    pub headers: Vec<(String, String)>,
    /// The stream fails if no byte arrives for this long.
    pub read_timeout: Duration,
    /// Connecting fails if no `endpoint` event arrives within this time.
    pub endpoint_timeout: Duration,
    /// Redirects of the GET followed at most (same origin only; see [`ClientError::Redirect`]).
    pub max_redirects: usize,
    /// Connecting fails with [`ClientError::ConnectTimeout`] if the GET's response head has not
    /// arrived within this time (TCP connect included). The earlier of this and
    /// `endpoint_timeout` applies.
    pub connect_timeout: Duration,
    /// POSTs in flight at once.
    pub max_in_flight_posts: usize,
    /// Messages waiting for a POST slot; beyond it [`Client::send`] fails with
    /// [`ClientError::QueueFull`].
    pub max_queued_posts: usize,
    /// HTTP framing limits.
    pub http_limits: http::Limits,
    /// SSE decoder limits (line and event size).
    pub sse_limits: sse::DecoderLimits,
    /// Bound on a kept error body.
    pub max_error_body_bytes: usize,
    /// A bearer token, sent as `Authorization: Bearer …` on the GET and every POST (it replaces
    /// an `Authorization` of [`headers`](Self::headers)); [`Client::handle_token`] changes it.
    pub bearer_token: Option<String>,
    /// Whether a redirect of the GET from `http://host/…` to `https://host/…` on the default
    /// ports (80 → 443) is followed, as the reference client does. Only a driver that can open
    /// TLS connections may turn it on (then [`Client::tls_server_name`] turns `Some` and every
    /// later connection must be TLS); off, such a redirect is [`ClientError::Redirect`] saying
    /// to connect to the https URL.
    pub follow_https_upgrade: bool,
    /// Whether a `401` may be answered by one token refresh: the request that got it waits,
    /// [`ClientEvent::TokenRequired`] asks the driver for a fresh token, and the request is
    /// retried once with it. Off, a `401` fails at once with [`ClientError::Unauthorized`].
    pub refresh_token_on_401: bool,
}

impl ClientConfig {
    /// The liveness watchdog: the stream counts as dead (ending with
    /// [`ClientError::ReadTimeout`]) when no byte, keep-alive pings included, arrives for
    /// `multiple` times the server's expected ping interval (15 s for the reference's
    /// sse-starlette). It sets [`read_timeout`](Self::read_timeout).
    ///
    /// ```
    /// use std::time::Duration;
    /// use mcp_sse_core::transport::ClientConfig;
    /// let c = ClientConfig::default().with_liveness(Duration::from_secs(15), 3);
    /// assert_eq!(c.read_timeout, Duration::from_secs(45));
    /// ```
    pub fn with_liveness(mut self, expected_ping_interval: Duration, multiple: u32) -> Self {
        self.read_timeout = expected_ping_interval.saturating_mul(multiple.max(1));
        self
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            headers: Vec::new(),
            read_timeout: DEFAULT_READ_TIMEOUT,
            endpoint_timeout: DEFAULT_ENDPOINT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            max_in_flight_posts: DEFAULT_MAX_IN_FLIGHT_POSTS,
            max_queued_posts: DEFAULT_MAX_QUEUED_POSTS,
            http_limits: http::Limits::default(),
            sse_limits: sse::DecoderLimits::default(),
            max_error_body_bytes: DEFAULT_MAX_ERROR_BODY_BYTES,
            bearer_token: None,
            refresh_token_on_401: false,
            follow_https_upgrade: false,
        }
    }
}

/// Errors of the client transport.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The SSE URL could not be used.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// Why.
        reason: String,
    },
    /// The bearer-token provider could not give a token (after a `401`, see
    /// [`ClientConfig::refresh_token_on_401`]): the request that needed it fails, and a GET
    /// that needed it ends the transport.
    #[error("the bearer-token provider failed: {0}")]
    TokenProvider(String),
    /// A connection could not be opened or failed (the message names the address).
    #[error("connection failed: {0}")]
    Connection(String),
    /// TLS with the server failed (`https://` URLs).
    #[error("TLS with {address} failed: {failure}")]
    Tls {
        /// The `host:port` tried.
        address: String,
        /// Why.
        failure: TlsFailure,
    },
    /// The server requires credentials it did not get or accept (HTTP 401), on the GET or on
    /// a POST; `challenge` is its `WWW-Authenticate` header.
    #[error("the server requires authentication (HTTP 401{}); send a bearer token: ClientOptions::bearer (a TokenProvider, refreshed on a 401), ClientConfig::bearer_token, or mcp-sse --bearer-token", .challenge.as_deref().map(|c| format!(", WWW-Authenticate: {c}")).unwrap_or_default())]
    Unauthorized {
        /// The `WWW-Authenticate` challenge, if the server sent one.
        challenge: Option<String>,
    },
    /// A redirect that is not followed: to another origin, a scheme change, past
    /// [`ClientConfig::max_redirects`], without a usable `Location`, or a POST's other than
    /// `307`/`308` (which are followed with the method and body kept).
    #[error("HTTP {status} redirect to {location:?} not followed: {reason}")]
    Redirect {
        /// The redirect's status.
        status: u16,
        /// Its `Location` (as sent).
        location: String,
        /// Why it was not followed, and what to do.
        reason: String,
    },
    /// The GET's response head did not arrive within [`ClientConfig::connect_timeout`].
    #[error("{address} accepted no request or sent no answer within {after:?} (ClientConfig::connect_timeout); is a server listening there, and is it an HTTP one?")]
    ConnectTimeout {
        /// The `host:port` tried.
        address: String,
        /// The timeout.
        after: Duration,
    },
    /// The server answered with a non-2xx status.
    #[error("HTTP {status}: {}", summarize_body(body))]
    HttpStatus {
        /// The status code.
        status: u16,
        /// The response body (lossy UTF-8, bounded).
        body: String,
    },
    /// The GET got `404`: nothing at that path.
    #[error("HTTP 404 Not Found at {url}: no SSE endpoint there; legacy MCP SSE servers usually serve it at /sse (e.g. {suggestion})")]
    SseNotFound {
        /// The SSE URL tried.
        url: String,
        /// The same origin with the path `/sse`.
        suggestion: String,
    },
    /// The GET was answered with a JSON-RPC error, as a Streamable HTTP MCP endpoint answers a
    /// GET without a session (`400 Missing session ID`, `405`, `406`).
    #[error("{url} looks like a Streamable HTTP MCP endpoint (the GET got HTTP {status} with a JSON-RPC error: {message}); this client speaks the legacy HTTP+SSE transport: give it the server's SSE URL (often ending in /sse), or use a Streamable HTTP client for this one")]
    StreamableHttpEndpoint {
        /// The URL tried.
        url: String,
        /// The status of the answer.
        status: u16,
        /// The JSON-RPC error's message.
        message: String,
    },
    /// The GET response is not an event stream.
    #[error("Expected response with content type 'text/event-stream', got '{0}'{hint}", hint = not_event_stream_hint(.0))]
    NotEventStream(String),
    /// HTTP framing error on a connection.
    #[error("HTTP framing error: {0}")]
    Http(#[from] HttpError),
    /// SSE decoding limit exceeded on the stream.
    #[error("event stream error: {0}")]
    Sse(#[from] DecodeError),
    /// No `endpoint` event arrived in time.
    #[error("no endpoint event within {0:?}")]
    EndpointTimeout(Duration),
    /// Nothing arrived on the stream for the read timeout (the liveness watchdog).
    #[error("no data on the event stream for {0:?}, pings included: the stream is dead (ClientConfig::read_timeout / with_liveness)")]
    ReadTimeout(Duration),
    /// The endpoint names another origin than the SSE URL (DIVERGENCE 2: refused at once).
    #[error("endpoint origin does not match the SSE URL: {0}")]
    CrossOriginEndpoint(String),
    /// The endpoint event data is not a usable URL reference.
    #[error("invalid endpoint {0:?}")]
    InvalidEndpoint(String),
    /// A second `endpoint` event arrived.
    #[error("second endpoint event")]
    DuplicateEndpoint,
    /// The stream ended before the `endpoint` event.
    #[error("event stream ended before the endpoint event")]
    EndedBeforeEndpoint,
    /// The stream ended without the chunked terminator (server crashed or cut it).
    #[error("event stream cut off")]
    StreamCut,
    /// A POST got `404`: the server no longer knows the session.
    #[error("session not found on the server (404)")]
    SessionGone,
    /// A `message` event whose data is not one valid JSON-RPC message (the stream goes on).
    #[error("invalid message on the event stream: {0}")]
    InvalidMessage(String),
    /// Too many messages waiting for a POST slot.
    #[error("too many messages queued ({0})")]
    QueueFull(usize),
    /// The transport is closed.
    #[error("transport closed")]
    Closed,
}

impl ClientError {
    /// The JSON-RPC error a request fails with when the message carrying it could not be
    /// delivered: `-32000` (the connection-level code), message `Failed to send message: …`,
    /// and `data` holding `{"status","body"}` for an HTTP answer or `{"error"}` otherwise.
    ///
    /// ```
    /// use mcp_sse_core::transport::ClientError;
    /// let e = ClientError::HttpStatus { status: 500, body: "oops".into() }.to_error_object();
    /// assert_eq!(e.code, -32000);
    /// assert_eq!(e.data, Some(serde_json::json!({"status": 500, "body": "oops"})));
    /// ```
    pub fn to_error_object(&self) -> ErrorObject {
        let data = match self {
            ClientError::HttpStatus { status, body } => {
                serde_json::json!({"status": status, "body": body})
            }
            other => serde_json::json!({"error": other.to_string()}),
        };
        ErrorObject::new(
            codes::CONNECTION_CLOSED,
            format!("Failed to send message: {self}"),
        )
        .with_data(data)
    }
}

/// Why a TLS connection failed, as the driver's TLS layer reports it (the core itself does no
/// TLS; see [`Client::tls_server_name`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsFailure {
    /// The certificate chain does not lead to a trusted root (self-signed, unknown CA).
    #[error("the server's certificate is not trusted ({0}); trust its CA explicitly (mcp-sse --cacert FILE) if it is yours")]
    UntrustedCertificate(String),
    /// The certificate is valid, but not for the name in the URL.
    #[error("the server's certificate is not valid for {name:?} ({detail}); use the name it was issued for")]
    NameMismatch {
        /// The name the URL asked for.
        name: String,
        /// What the certificate covers, as the verifier says.
        detail: String,
    },
    /// The certificate has expired or is not valid yet.
    #[error("the server's certificate is expired or not yet valid ({0})")]
    Expired(String),
    /// The server answered in plain HTTP: the URL should be `http://`.
    #[error("the server speaks plain HTTP, not TLS: use an http:// URL")]
    NotTls,
    /// Any other handshake or record failure (protocol versions, ciphers, a cut handshake).
    #[error("{0}")]
    Handshake(String),
}

/// A bounded, one-line account of an error body: an HTML page by its title, not its markup.
fn summarize_body(body: &str) -> String {
    let trimmed = body.trim_start();
    let lower = trimmed
        .get(..trimmed.len().min(512))
        .unwrap_or("")
        .to_ascii_lowercase();
    if lower.starts_with("<!doctype html") || lower.starts_with("<html") {
        let title = html_title(trimmed);
        return match title {
            Some(t) => format!("an HTML page titled {t:?}, not an MCP SSE endpoint"),
            None => "an HTML page, not an MCP SSE endpoint".to_string(),
        };
    }
    const MAX: usize = 300;
    let one_line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.len() <= MAX {
        return one_line;
    }
    let mut end = MAX;
    while !one_line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &one_line[..end])
}

/// The text of an HTML page's `<title>`, if it has one near the start.
fn html_title(html: &str) -> Option<String> {
    let head = html.get(..html.len().min(4096)).unwrap_or(html);
    let lower = head.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let start = open + lower[open..].find('>')? + 1;
    let end = start + lower[start..].find("</title")?;
    let t: String = head
        .get(start..end)?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (!t.is_empty()).then_some(t)
}

fn not_event_stream_hint(content_type: &str) -> &'static str {
    if content_type.to_ascii_lowercase().starts_with("text/html") {
        " (a web page: is this the server's SSE URL? it usually ends in /sse)"
    } else {
        ""
    }
}

/// The `message` of a JSON-RPC error response, if `body` is one.
fn jsonrpc_error_message(body: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    if v.get("jsonrpc")? != "2.0" {
        return None;
    }
    let message = v.get("error")?.get("message")?.as_str().unwrap_or("");
    Some(message.to_string())
}

impl From<ParseError> for ClientError {
    fn from(e: ParseError) -> Self {
        ClientError::InvalidMessage(e.to_string())
    }
}

/// Identifies one connection of a [`Client`]; [`Client::STREAM`] is the GET.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientConnectionId(pub u64);

/// Identifies one message handed to [`Client::send`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SendToken(pub u64);

/// What the client machine reports.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent {
    /// Open a connection to the server's address; report with `handle_connected` or
    /// `handle_connect_failed`.
    Open(ClientConnectionId),
    /// Close this connection (after writing what `poll_transmit` still returns for it).
    Close(ClientConnectionId),
    /// This connection has bytes to write: call [`Client::poll_transmit`] for it.
    Transmit(ClientConnectionId),
    /// The endpoint arrived: messages can flow.
    Ready {
        /// The resolved absolute endpoint URL.
        endpoint: String,
        /// The `sessionId`/`session_id` query parameter, if present.
        session_id: Option<String>,
    },
    /// A server→client message.
    Message(Message),
    /// A `message` event that is not valid JSON-RPC; the stream continues.
    InvalidMessage(ClientError),
    /// A `401` came back and [`ClientConfig::refresh_token_on_401`] is on: get a fresh token
    /// (the challenge says what the server wants) and hand it in with
    /// [`Client::handle_token`], or report [`Client::handle_token_failed`]. The request that
    /// got the `401` waits (a GET, or a POST: then no POST is sent meanwhile), and is retried
    /// once with the new token; a second `401` fails it with [`ClientError::Unauthorized`].
    TokenRequired {
        /// The `WWW-Authenticate` challenge, if the server sent one.
        challenge: Option<String>,
    },
    /// The server accepted this message (2xx).
    Sent(SendToken),
    /// This message failed (and only this one, unless a `Closed` follows).
    SendFailed(SendToken, ClientError),
    /// The transport has ended: `None` for a clean end (closed by us, or the server ended the
    /// stream properly), else why.
    Closed(Option<ClientError>),
}

#[derive(Debug, Clone)]
struct Target {
    /// `host[:port]` for the Host header.
    authority: String,
    /// Path and query of the SSE URL.
    path_and_query: String,
}

#[derive(Debug)]
enum StreamPhase {
    Connecting,
    AwaitingHead,
    /// Reading an error body of a non-2xx GET.
    ErrorBody {
        status: u16,
        body: BytesMut,
        /// The `WWW-Authenticate` of a `401`.
        challenge: Option<String>,
    },
    Events,
    Done,
}

#[derive(Debug)]
struct PostConn {
    connected: bool,
    decoder: ResponseDecoder,
    out: VecDeque<Bytes>,
    current: Option<PostInFlight>,
}

#[derive(Debug)]
struct PostInFlight {
    token: SendToken,
    /// The message, kept (a reference count) for a retry after a token refresh.
    message: Bytes,
    barrier: bool,
    status: Option<u16>,
    close_after: bool,
    body: BytesMut,
    /// The `WWW-Authenticate` of a `401` answer.
    challenge: Option<String>,
    /// The `Location` of a redirect answer.
    location: Option<String>,
    /// Where it was sent (path and query), and how many redirects it followed to get there.
    path: String,
    redirects: usize,
}

/// The legacy HTTP+SSE client transport.
///
/// ```
/// use std::time::Instant;
/// use bytes::Bytes;
/// use mcp_sse_core::transport::{Client, ClientConfig, ClientEvent};
///
/// let now = Instant::now();
/// let mut c = Client::new("http://127.0.0.1:8000/sse", ClientConfig::default(), now).unwrap();
/// let ClientEvent::Open(stream) = c.poll_event().unwrap() else { unreachable!() };
/// c.handle_connected(stream, now);
/// let get = c.poll_transmit(stream).unwrap();
/// assert!(get.starts_with(b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n"));
/// c.handle_bytes(stream, Bytes::from_static(
///     b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n\
///       33\r\nevent: endpoint\r\ndata: /messages/?session_id=ab\r\n\r\n\r\n"), now);
/// let ready = std::iter::from_fn(|| c.poll_event()).find(|e| matches!(e, ClientEvent::Ready { .. }));
/// assert_eq!(ready, Some(ClientEvent::Ready {
///     endpoint: "http://127.0.0.1:8000/messages/?session_id=ab".into(),
///     session_id: Some("ab".into()),
/// }));
/// ```
#[derive(Debug)]
pub struct Client {
    config: ClientConfig,
    sse_url: url::Url,
    target: Target,
    /// When the `endpoint` event must have arrived by.
    endpoint_deadline: Instant,
    endpoint: Option<(url::Url, String)>,
    phase: StreamPhase,
    stream_decoder: ResponseDecoder,
    stream_out: VecDeque<Bytes>,
    sse: sse::Decoder,
    stream_deadline: Option<Instant>,
    /// Boxed: a table with one connection reserves room for three, and a `PostConn` is large.
    posts: HashMap<ClientConnectionId, Box<PostConn>>,
    /// Waiting messages: token, body, and whether the message is an ordering barrier.
    queue: VecDeque<(SendToken, Bytes, bool)>,
    /// A barrier message is in flight: nothing else is dispatched until it is answered.
    barrier_in_flight: bool,
    next_conn: u64,
    /// The connection carrying the GET: [`Client::STREAM`] until a redirect opens another.
    stream: ClientConnectionId,
    /// Redirects of the GET followed so far.
    redirects: usize,
    next_token: u64,
    events: VecDeque<ClientEvent>,
    closed: bool,
    /// A [`ClientEvent::TokenRequired`] is out and unanswered: no POST is sent meanwhile.
    awaiting_token: bool,
    /// The GET waits for that token.
    stream_awaits_token: bool,
    /// The GET was already retried after a token refresh.
    stream_token_refreshed: bool,
    /// Messages already retried once after a token refresh (a second `401` fails them).
    token_retried: HashSet<SendToken>,
    /// Messages a `307`/`308` sent elsewhere: their path and query, and the redirects so far.
    post_redirects: HashMap<SendToken, (String, usize)>,
}

impl Client {
    /// The connection that carries the event stream.
    pub const STREAM: ClientConnectionId = ClientConnectionId(0);

    /// Starts connecting to the SSE URL (`http://host[:port]/path`). The first event is
    /// `Open(Client::STREAM)`.
    pub fn new(url: &str, config: ClientConfig, now: Instant) -> Result<Self, ClientError> {
        let bad = |reason: &str| ClientError::InvalidUrl {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let sse_url = url::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
        if !matches!(sse_url.scheme(), "http" | "https") {
            return Err(bad("only http:// and https:// URLs are supported"));
        }
        let host = sse_url.host_str().ok_or_else(|| bad("no host"))?;
        let authority = match sse_url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        let mut path_and_query = sse_url.path().to_string();
        if let Some(q) = sse_url.query() {
            path_and_query.push('?');
            path_and_query.push_str(q);
        }
        let mut events = VecDeque::new();
        events.push_back(ClientEvent::Open(Self::STREAM));
        let mut stream_decoder = ResponseDecoder::new(config.http_limits);
        stream_decoder.expect(ResponseExpectation {
            head_request: false,
            max_body_bytes: None,
        });
        let sse = sse::Decoder::with_limits(config.sse_limits);
        Ok(Client {
            stream_deadline: Some(now + config.connect_timeout.min(config.endpoint_timeout)),
            endpoint_deadline: now + config.endpoint_timeout,
            config,
            sse_url,
            target: Target {
                authority,
                path_and_query,
            },
            endpoint: None,
            phase: StreamPhase::Connecting,
            stream_decoder,
            stream_out: VecDeque::new(),
            sse,
            posts: HashMap::default(),
            queue: VecDeque::new(),
            barrier_in_flight: false,
            next_conn: 1,
            stream: Self::STREAM,
            redirects: 0,
            next_token: 0,
            events,
            closed: false,
            awaiting_token: false,
            stream_awaits_token: false,
            stream_token_refreshed: false,
            token_retried: HashSet::default(),
            post_redirects: HashMap::default(),
        })
    }

    /// The name to verify the server's certificate against when the URL is `https://` (the
    /// driver wraps every connection in TLS with it, SNI included); `None` for `http://`.
    pub fn tls_server_name(&self) -> Option<String> {
        (self.sse_url.scheme() == "https").then(|| self.server_address().0)
    }

    /// The driver's TLS layer failed on `conn`: the request it carried (or, for the GET, the
    /// whole transport) fails with [`ClientError::Tls`].
    pub fn handle_tls_failed(&mut self, conn: ClientConnectionId, failure: TlsFailure) {
        let err = ClientError::Tls {
            address: self.address(),
            failure,
        };
        if conn == self.stream {
            self.finish(Some(err));
            return;
        }
        self.post_conn_failed(conn, err);
    }

    /// `host` and port to connect to (the scheme's port, 80 or 443, when the URL has none).
    pub fn server_address(&self) -> (String, u16) {
        let host = self
            .sse_url
            .host_str()
            .unwrap_or("")
            .trim_start_matches('[')
            .trim_end_matches(']');
        (
            host.to_string(),
            self.sse_url.port_or_known_default().unwrap_or(80),
        )
    }

    /// Whether the endpoint has arrived and the transport is not closed.
    pub fn is_ready(&self) -> bool {
        self.endpoint.is_some() && !self.closed
    }

    /// Whether the transport has ended.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Next event.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// Queues `message` for POSTing. Messages sent before the endpoint arrived wait for it.
    ///
    /// Requests and responses are POSTed in parallel (up to `max_in_flight_posts`), so the server
    /// may see them in another order. A notification is an ordering barrier: it is POSTed only
    /// once every earlier POST has been answered, and later messages wait until it has been
    /// answered. So `notifications/initialized` reaches the server before any later request and
    /// `notifications/cancelled` after the request it names.
    pub fn send(&mut self, message: &Message) -> Result<SendToken, ClientError> {
        let mut body = Vec::with_capacity(128);
        message.write_to(&mut body);
        self.send_json_ordered(
            Bytes::from(body),
            matches!(message, Message::Notification(_)),
        )
    }

    /// Like [`Client::send`] for an already serialized message, sent in parallel with others.
    pub fn send_json(&mut self, body: Bytes) -> Result<SendToken, ClientError> {
        self.send_json_ordered(body, false)
    }

    /// Like [`Client::send_json`]; `barrier` makes the message an ordering barrier (see
    /// [`Client::send`]).
    pub fn send_json_ordered(
        &mut self,
        body: Bytes,
        barrier: bool,
    ) -> Result<SendToken, ClientError> {
        if self.closed {
            return Err(ClientError::Closed);
        }
        if self.queue.len() >= self.config.max_queued_posts {
            return Err(ClientError::QueueFull(self.queue.len()));
        }
        let token = SendToken(self.next_token);
        self.next_token += 1;
        self.queue.push_back((token, body, barrier));
        self.dispatch_posts();
        Ok(token)
    }

    /// Closes everything; pending messages fail with [`ClientError::Closed`].
    pub fn close(&mut self) {
        self.finish(None);
    }

    /// The driver opened `conn`.
    pub fn handle_connected(&mut self, conn: ClientConnectionId, now: Instant) {
        if self.closed {
            return;
        }
        if conn == self.stream {
            if matches!(self.phase, StreamPhase::Connecting) {
                self.phase = StreamPhase::AwaitingHead;
                let mut head = request_head("GET", &self.target.path_and_query);
                head.headers.push("Host", self.target.authority.clone());
                head.headers.push("Accept", "text/event-stream");
                head.headers.push("Cache-Control", "no-store");
                push_credentials(&mut head, &self.config);
                let mut out = BytesMut::with_capacity(256);
                head.encode(&mut out);
                self.stream_out.push_back(out.freeze());
                self.events.push_back(ClientEvent::Transmit(self.stream));
                let _ = now;
            }
            return;
        }
        if let Some(p) = self.posts.get_mut(&conn) {
            p.connected = true;
        }
        self.dispatch_posts();
    }

    /// The driver could not open `conn`.
    pub fn handle_connect_failed(&mut self, conn: ClientConnectionId, reason: &str) {
        let err = ClientError::Connection(format!("{}: {reason}", self.address()));
        if conn == self.stream {
            self.finish(Some(err));
            return;
        }
        self.post_conn_failed(conn, err);
    }

    /// Follows a redirect of the GET when it stays on the same origin and within
    /// [`ClientConfig::max_redirects`]: the old connection closes and a new one (a fresh id)
    /// carries the GET to the new path. Anything else ends the transport with
    /// [`ClientError::Redirect`].
    fn follow_redirect(&mut self, status: u16, location: Option<String>) {
        let refuse = |location: &str, reason: String| ClientError::Redirect {
            status,
            location: location.to_string(),
            reason,
        };
        let Some(location) = location else {
            self.finish(Some(refuse("", "it has no Location header".into())));
            return;
        };
        let target = match self.sse_url.join(&location) {
            Ok(u) => u,
            Err(e) => {
                self.finish(Some(refuse(&location, format!("not a URL ({e})"))));
                return;
            }
        };
        let https_upgrade = target.scheme() == "https"
            && self.sse_url.scheme() == "http"
            && target.host_str() == self.sse_url.host_str()
            && self.sse_url.port_or_known_default() == Some(80)
            && target.port_or_known_default() == Some(443);
        if target.origin() != self.sse_url.origin()
            && !(https_upgrade && self.config.follow_https_upgrade)
        {
            let reason = if target.scheme() == "https"
                && self.sse_url.scheme() == "http"
                && target.host_str() == self.sse_url.host_str()
            {
                format!("the server moved to https: connect to {target} instead")
            } else {
                "it leaves the URL's origin (a redirect may only change the path)".into()
            };
            self.finish(Some(refuse(&location, reason)));
            return;
        }
        if self.redirects >= self.config.max_redirects {
            let reason = format!(
                "more than {} redirects (ClientConfig::max_redirects)",
                self.config.max_redirects
            );
            self.finish(Some(refuse(&location, reason)));
            return;
        }
        self.redirects += 1;
        let mut path_and_query = target.path().to_string();
        if let Some(q) = target.query() {
            path_and_query.push('?');
            path_and_query.push_str(q);
        }
        self.target.path_and_query = path_and_query;
        if https_upgrade {
            // Same host, default ports: the authority (no port) stays, the scheme becomes TLS.
            self.target.authority = target.host_str().unwrap_or_default().to_string();
        }
        self.sse_url = target;
        self.events.push_back(ClientEvent::Close(self.stream));
        self.reopen_stream();
    }

    /// Opens a new connection for the GET (after a redirect or a token refresh).
    fn reopen_stream(&mut self) {
        self.stream_out.clear();
        self.stream = ClientConnectionId(self.next_conn);
        self.next_conn += 1;
        self.stream_decoder = ResponseDecoder::new(self.config.http_limits);
        self.stream_decoder.expect(ResponseExpectation {
            head_request: false,
            max_body_bytes: None,
        });
        self.phase = StreamPhase::Connecting;
        self.events.push_back(ClientEvent::Open(self.stream));
    }

    /// Asks the driver for a fresh token (once at a time).
    fn request_token(&mut self, challenge: Option<String>) {
        if !self.awaiting_token {
            self.awaiting_token = true;
            self.events
                .push_back(ClientEvent::TokenRequired { challenge });
        }
    }

    /// The answer to [`ClientEvent::TokenRequired`] (or a new token at any time): it goes on
    /// every request from now on, and what waited for it is retried.
    pub fn handle_token(&mut self, token: String) {
        self.config.bearer_token = Some(token);
        if self.closed || !self.awaiting_token {
            return;
        }
        self.awaiting_token = false;
        if std::mem::take(&mut self.stream_awaits_token) {
            self.reopen_stream();
        }
        self.dispatch_posts();
    }

    /// The token provider failed after a [`ClientEvent::TokenRequired`]: what waited for it
    /// fails with [`ClientError::TokenProvider`] (a GET ends the transport); other messages go
    /// on with the current token.
    pub fn handle_token_failed(&mut self, reason: &str) {
        if self.closed || !self.awaiting_token {
            return;
        }
        self.awaiting_token = false;
        let err = ClientError::TokenProvider(reason.to_string());
        if std::mem::take(&mut self.stream_awaits_token) {
            self.finish(Some(err));
            return;
        }
        let retried = std::mem::take(&mut self.token_retried);
        let mut kept = VecDeque::with_capacity(self.queue.len());
        for (token, body, barrier) in self.queue.drain(..) {
            if retried.contains(&token) {
                self.events
                    .push_back(ClientEvent::SendFailed(token, err.clone()));
            } else {
                kept.push_back((token, body, barrier));
            }
        }
        self.queue = kept;
        self.dispatch_posts();
    }

    /// The `host:port` the client connects to (the port the URL names, or its scheme's).
    pub fn address(&self) -> String {
        let host = self.sse_url.host_str().unwrap_or_default();
        let port = self.sse_url.port_or_known_default().unwrap_or(80);
        format!("{host}:{port}")
    }

    /// The error for a non-2xx answer to the GET: a Streamable HTTP endpoint and a wrong path
    /// are told apart from other failures, with what to do instead.
    fn diagnose_get_status(&self, status: u16, body: String) -> ClientError {
        if let Some(message) = jsonrpc_error_message(&body) {
            return ClientError::StreamableHttpEndpoint {
                url: self.sse_url.to_string(),
                status,
                message,
            };
        }
        if status == 404 {
            let mut suggestion = self.sse_url.clone();
            suggestion.set_path("/sse");
            suggestion.set_query(None);
            return ClientError::SseNotFound {
                url: self.sse_url.to_string(),
                suggestion: suggestion.to_string(),
            };
        }
        ClientError::HttpStatus { status, body }
    }

    /// Bytes read from `conn`.
    pub fn handle_bytes(&mut self, conn: ClientConnectionId, data: Bytes, now: Instant) {
        if self.closed {
            return;
        }
        if conn == self.stream {
            if self.endpoint.is_some() {
                self.stream_deadline = Some(now + self.config.read_timeout);
            }
            self.stream_decoder.handle_bytes(data);
            self.process_stream(now);
        } else if let Some(p) = self.posts.get_mut(&conn) {
            p.decoder.handle_bytes(data);
            self.process_post(conn);
        }
    }

    /// `conn` reached EOF (the peer closed it).
    pub fn handle_eof(&mut self, conn: ClientConnectionId, now: Instant) {
        if self.closed {
            return;
        }
        if conn == self.stream {
            self.stream_decoder.handle_eof();
            self.process_stream(now);
            if !self.closed {
                let err = if self.endpoint.is_none() {
                    ClientError::EndedBeforeEndpoint
                } else {
                    ClientError::StreamCut
                };
                self.finish(Some(err));
            }
        } else if let Some(p) = self.posts.get_mut(&conn) {
            p.decoder.handle_eof();
            self.process_post(conn);
            if self.posts.contains_key(&conn) {
                self.post_conn_failed(
                    conn,
                    ClientError::Connection("connection closed by server".into()),
                );
            }
        }
    }

    /// Takes the next bytes to write on `conn`.
    pub fn poll_transmit(&mut self, conn: ClientConnectionId) -> Option<Bytes> {
        if conn == self.stream {
            self.stream_out.pop_front()
        } else {
            self.posts.get_mut(&conn)?.out.pop_front()
        }
    }

    /// When [`Client::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closed {
            None
        } else {
            self.stream_deadline
        }
    }

    /// Runs the endpoint and read-idle timers.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(d) = self.stream_deadline {
            if now >= d && !self.closed {
                let head_missing = matches!(
                    self.phase,
                    StreamPhase::Connecting | StreamPhase::AwaitingHead
                );
                let err = if head_missing && now < self.endpoint_deadline {
                    ClientError::ConnectTimeout {
                        address: self.address(),
                        after: self.config.connect_timeout,
                    }
                } else if self.endpoint.is_none() {
                    ClientError::EndpointTimeout(self.config.endpoint_timeout)
                } else {
                    ClientError::ReadTimeout(self.config.read_timeout)
                };
                self.finish(Some(err));
            }
        }
    }

    fn finish(&mut self, error: Option<ClientError>) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.phase = StreamPhase::Done;
        self.stream_deadline = None;
        // What was in flight or queued did not fail on its own: it fails as `Closed`, and the
        // transport's cause is reported once, by `ClientEvent::Closed` (the session then fails
        // those requests as a lost connection, or a lost session when the driver reconnects).
        let fail = ClientError::Closed;
        let mut conns: Vec<ClientConnectionId> = self.posts.keys().copied().collect();
        conns.sort();
        for id in conns {
            if let Some(p) = self.posts.remove(&id) {
                if let Some(inf) = p.current {
                    self.events
                        .push_back(ClientEvent::SendFailed(inf.token, fail.clone()));
                }
                self.events.push_back(ClientEvent::Close(id));
            }
        }
        for (token, _, _) in self.queue.drain(..) {
            self.events
                .push_back(ClientEvent::SendFailed(token, fail.clone()));
        }
        self.events.push_back(ClientEvent::Close(self.stream));
        self.events.push_back(ClientEvent::Closed(error));
    }

    fn process_stream(&mut self, now: Instant) {
        loop {
            if self.closed {
                return;
            }
            let ev = match self.stream_decoder.poll_event() {
                Ok(Some(ev)) => ev,
                Ok(None) => return,
                Err(e) => {
                    let err = match e {
                        HttpError::UnexpectedEof if self.endpoint.is_none() => {
                            ClientError::EndedBeforeEndpoint
                        }
                        HttpError::UnexpectedEof => ClientError::StreamCut,
                        other => ClientError::Http(other),
                    };
                    self.finish(Some(err));
                    return;
                }
            };
            match ev {
                ResponseEvent::Head(head) => {
                    // Connected: the endpoint's own deadline applies from here.
                    if self.endpoint.is_none() {
                        self.stream_deadline = Some(self.endpoint_deadline);
                    }
                    if matches!(head.status, 301 | 302 | 303 | 307 | 308) {
                        let location = head.headers.get_str("location").map(str::to_string);
                        self.follow_redirect(head.status, location);
                        return;
                    }
                    if !(200..300).contains(&head.status) {
                        self.phase = StreamPhase::ErrorBody {
                            status: head.status,
                            body: BytesMut::new(),
                            challenge: challenge_of(&head),
                        };
                        continue;
                    }
                    let ct = head.headers.get_str("content-type").unwrap_or("");
                    let media = ct.split(';').next().unwrap_or("").trim();
                    if !media.eq_ignore_ascii_case("text/event-stream") {
                        self.finish(Some(ClientError::NotEventStream(ct.to_string())));
                        return;
                    }
                    self.phase = StreamPhase::Events;
                }
                ResponseEvent::Body(chunk) => match &mut self.phase {
                    StreamPhase::ErrorBody { body, .. } => {
                        let room = self.config.max_error_body_bytes.saturating_sub(body.len());
                        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    }
                    StreamPhase::Events => {
                        self.sse.handle_bytes(chunk);
                        self.drain_sse(now);
                    }
                    _ => {}
                },
                ResponseEvent::End => {
                    match std::mem::replace(&mut self.phase, StreamPhase::Done) {
                        StreamPhase::ErrorBody {
                            status,
                            body,
                            challenge,
                        } => {
                            if status == 401
                                && self.config.refresh_token_on_401
                                && !self.stream_token_refreshed
                            {
                                // One refresh, then the GET again on a new connection.
                                self.stream_token_refreshed = true;
                                self.stream_awaits_token = true;
                                self.events.push_back(ClientEvent::Close(self.stream));
                                self.request_token(challenge);
                                return;
                            }
                            let err = if status == 401 {
                                ClientError::Unauthorized { challenge }
                            } else {
                                let body = String::from_utf8_lossy(&body).into_owned();
                                self.diagnose_get_status(status, body)
                            };
                            self.finish(Some(err));
                        }
                        _ => {
                            self.sse.handle_eof();
                            self.drain_sse(now);
                            if self.endpoint.is_none() {
                                self.finish(Some(ClientError::EndedBeforeEndpoint));
                            } else if self.sse.ended_inside_event() {
                                // The stream was cut inside a line or an event: that event
                                // is lost.
                                self.finish(Some(ClientError::StreamCut));
                            } else {
                                // The server ended the stream properly.
                                self.finish(None);
                            }
                        }
                    }
                    return;
                }
            }
        }
    }

    fn drain_sse(&mut self, now: Instant) {
        loop {
            if self.closed {
                return;
            }
            let item = match self.sse.poll_item() {
                Ok(Some(item)) => item,
                Ok(None) => return,
                Err(e) => {
                    self.finish(Some(ClientError::Sse(e)));
                    return;
                }
            };
            let Item::Event(ev) = item else { continue };
            match ev.event_type() {
                "endpoint" => {
                    if self.endpoint.is_some() {
                        self.finish(Some(ClientError::DuplicateEndpoint));
                        return;
                    }
                    match self.resolve_endpoint(ev.data()) {
                        Ok((url, session_id)) => {
                            let path = match url.query() {
                                Some(q) => format!("{}?{q}", url.path()),
                                None => url.path().to_string(),
                            };
                            self.events.push_back(ClientEvent::Ready {
                                endpoint: url.to_string(),
                                session_id,
                            });
                            self.endpoint = Some((url, path));
                            self.stream_deadline = Some(now + self.config.read_timeout);
                            self.dispatch_posts();
                        }
                        Err(e) => {
                            self.finish(Some(e));
                            return;
                        }
                    }
                }
                "message" if self.endpoint.is_some() => {
                    if ev.data().is_empty() {
                        continue;
                    }
                    match Message::from_json_str(ev.data()) {
                        Ok(m) => self.events.push_back(ClientEvent::Message(m)),
                        Err(e) => self.events.push_back(ClientEvent::InvalidMessage(e.into())),
                    }
                }
                // Other event types, and anything before the endpoint, are skipped.
                _ => {}
            }
        }
    }

    fn resolve_endpoint(&self, data: &str) -> Result<(url::Url, Option<String>), ClientError> {
        let url = self
            .sse_url
            .join(data)
            .map_err(|_| ClientError::InvalidEndpoint(data.to_string()))?;
        if url.origin() != self.sse_url.origin() {
            return Err(ClientError::CrossOriginEndpoint(url.to_string()));
        }
        let mut by_name: Option<String> = None;
        let mut fallback: Option<String> = None;
        for (k, v) in url.query_pairs() {
            if k == "sessionId" {
                by_name = Some(v.into_owned());
            } else if k == "session_id" {
                fallback = Some(v.into_owned());
            }
        }
        Ok((url, by_name.or(fallback)))
    }

    fn dispatch_posts(&mut self) {
        let Some((_, path)) = &self.endpoint else {
            return;
        };
        let path = path.clone();
        if self.closed || self.awaiting_token {
            // While a token is being refreshed nothing is sent: it would get the same 401.
            return;
        }
        // Hand queued messages to idle, connected POST connections.
        let mut idle: Vec<ClientConnectionId> = self
            .posts
            .iter()
            .filter(|(_, p)| p.connected && p.current.is_none())
            .map(|(id, _)| *id)
            .collect();
        idle.sort();
        for id in idle {
            if self.barrier_in_flight {
                break;
            }
            let in_flight = self.posts.values().any(|p| p.current.is_some());
            let barrier = match self.queue.front() {
                None => return,
                Some((_, _, b)) => *b,
            };
            if barrier && in_flight {
                break;
            }
            let Some((token, body, _)) = self.queue.pop_front() else {
                return;
            };
            self.barrier_in_flight = barrier;
            let (target, redirects) = match self.post_redirects.remove(&token) {
                Some((target, n)) => (target, n),
                None => (path.clone(), 0),
            };
            let mut head = request_head("POST", &target);
            head.headers.push("Host", self.target.authority.clone());
            head.headers.push("Content-Type", "application/json");
            head.headers.push("Content-Length", body.len().to_string());
            push_credentials(&mut head, &self.config);
            let mut out = BytesMut::with_capacity(256);
            head.encode(&mut out);
            if let Some(p) = self.posts.get_mut(&id) {
                p.out.push_back(out.freeze());
                // An empty body (`send_json` of nothing) is no bytes to write, not an empty write.
                if !body.is_empty() {
                    p.out.push_back(body.clone());
                }
                self.events.push_back(ClientEvent::Transmit(id));
                p.decoder.expect(ResponseExpectation {
                    head_request: false,
                    max_body_bytes: Some(self.config.max_error_body_bytes),
                });
                p.current = Some(PostInFlight {
                    token,
                    message: body.clone(),
                    barrier,
                    status: None,
                    close_after: false,
                    body: BytesMut::new(),
                    challenge: None,
                    location: None,
                    path: target,
                    redirects,
                });
            }
        }
        // Open more connections while messages wait (the ones connecting, and the idle ones,
        // count as available). Not while an ordering barrier waits for its answer: nothing
        // could be sent on them, and a server that closes idle connections (one shutting
        // down) would make the client reopen them in a loop.
        if self.barrier_in_flight {
            return;
        }
        let available = self.posts.values().filter(|p| p.current.is_none()).count();
        let mut wanted = self.queue.len().saturating_sub(available);
        while wanted > 0 && self.posts.len() < self.config.max_in_flight_posts.max(1) {
            let id = ClientConnectionId(self.next_conn);
            self.next_conn += 1;
            self.posts.insert(
                id,
                Box::new(PostConn {
                    connected: false,
                    decoder: ResponseDecoder::new(self.config.http_limits),
                    out: VecDeque::new(),
                    current: None,
                }),
            );
            self.events.push_back(ClientEvent::Open(id));
            wanted -= 1;
        }
    }

    fn post_conn_failed(&mut self, conn: ClientConnectionId, err: ClientError) {
        if let Some(p) = self.posts.remove(&conn) {
            match p.current {
                Some(inf) => {
                    if inf.barrier {
                        self.barrier_in_flight = false;
                    }
                    self.events
                        .push_back(ClientEvent::SendFailed(inf.token, err));
                }
                // A connection opened for a waiting message could not be opened: that message
                // fails (no endless reconnect loop against an unreachable server).
                None if !p.connected => {
                    if let Some((token, _, _)) = self.queue.pop_front() {
                        self.events.push_back(ClientEvent::SendFailed(token, err));
                    }
                }
                None => {}
            }
            self.events.push_back(ClientEvent::Close(conn));
        }
        self.dispatch_posts();
    }

    fn process_post(&mut self, conn: ClientConnectionId) {
        loop {
            let Some(p) = self.posts.get_mut(&conn) else {
                return;
            };
            let ev = match p.decoder.poll_event() {
                Ok(Some(ev)) => ev,
                Ok(None) => return,
                Err(e) => {
                    // A response body over `max_error_body_bytes`: the status already decided
                    // the message's fate (2xx: sent; otherwise failed, with the body's first
                    // bytes). Only the connection, whose remaining bytes are not read, closes.
                    let answered = matches!(e, HttpError::BodyTooLarge { .. })
                        && p.current.as_ref().is_some_and(|inf| inf.status.is_some());
                    if !answered {
                        self.post_conn_failed(conn, ClientError::Http(e));
                        return;
                    }
                    let inf = p.current.take();
                    self.posts.remove(&conn);
                    self.events.push_back(ClientEvent::Close(conn));
                    if inf.is_some_and(|inf| self.complete_post(inf)) {
                        self.dispatch_posts();
                    }
                    return;
                }
            };
            match ev {
                ResponseEvent::Head(head) => {
                    if let Some(inf) = p.current.as_mut() {
                        inf.status = Some(head.status);
                        inf.close_after = !head.keep_alive();
                        inf.challenge = challenge_of(&head);
                        if (300..400).contains(&head.status) {
                            inf.location = head.headers.get_str("location").map(str::to_string);
                        }
                    }
                }
                ResponseEvent::Body(chunk) => {
                    // The decoder stops the body at `max_error_body_bytes` (the expectation's
                    // bound), so all of it is kept.
                    if let Some(inf) = p.current.as_mut() {
                        inf.body.extend_from_slice(&chunk);
                    }
                }
                ResponseEvent::End => {
                    let Some(inf) = p.current.take() else {
                        self.post_conn_failed(
                            conn,
                            ClientError::Http(HttpError::UnexpectedResponse),
                        );
                        return;
                    };
                    if inf.close_after {
                        self.posts.remove(&conn);
                        self.events.push_back(ClientEvent::Close(conn));
                    }
                    if !self.complete_post(inf) {
                        return;
                    }
                    self.dispatch_posts();
                }
            }
        }
    }

    /// The response to `inf` is in (its status, and its body up to `max_error_body_bytes`):
    /// the message is sent (2xx) or failed. `false` when a 404 ended the whole transport.
    fn complete_post(&mut self, inf: PostInFlight) -> bool {
        let status = inf.status.unwrap_or(0);
        if inf.barrier {
            self.barrier_in_flight = false;
        }
        let retried = self.token_retried.remove(&inf.token);
        if status == 401 && self.config.refresh_token_on_401 && !retried {
            // Retried once with a fresh token, first in line.
            self.token_retried.insert(inf.token);
            self.queue.push_front((inf.token, inf.message, inf.barrier));
            self.request_token(inf.challenge);
            return true;
        }
        if matches!(status, 307 | 308) {
            // The method and body are kept (as httpx does for the reference client); only
            // these two statuses may redirect a POST.
            match self.post_redirect_target(&inf) {
                Ok(target) => {
                    self.post_redirects
                        .insert(inf.token, (target, inf.redirects + 1));
                    self.queue.push_front((inf.token, inf.message, inf.barrier));
                }
                Err(e) => self.events.push_back(ClientEvent::SendFailed(inf.token, e)),
            }
            return true;
        }
        if (300..400).contains(&status) {
            let location = inf.location.unwrap_or_default();
            self.events.push_back(ClientEvent::SendFailed(
                inf.token,
                ClientError::Redirect {
                    status,
                    location,
                    reason: "a POST follows only 307 and 308 (the others would turn it into a GET)"
                        .into(),
                },
            ));
            return true;
        }
        if (200..300).contains(&status) {
            self.events.push_back(ClientEvent::Sent(inf.token));
        } else if status == 404 {
            self.events
                .push_back(ClientEvent::SendFailed(inf.token, ClientError::SessionGone));
            self.finish(Some(ClientError::SessionGone));
            return false;
        } else if status == 401 {
            self.events.push_back(ClientEvent::SendFailed(
                inf.token,
                ClientError::Unauthorized {
                    challenge: inf.challenge,
                },
            ));
        } else {
            let body = String::from_utf8_lossy(&inf.body).into_owned();
            self.events.push_back(ClientEvent::SendFailed(
                inf.token,
                ClientError::HttpStatus { status, body },
            ));
        }
        true
    }
}

impl Client {
    /// Where a `307`/`308` answer to a POST sends it: the same origin, within
    /// [`ClientConfig::max_redirects`] for that message.
    fn post_redirect_target(&self, inf: &PostInFlight) -> Result<String, ClientError> {
        let status = inf.status.unwrap_or(0);
        let location = inf.location.clone().unwrap_or_default();
        let refuse = |reason: String| ClientError::Redirect {
            status,
            location: location.clone(),
            reason,
        };
        if location.is_empty() {
            return Err(refuse("it has no Location header".into()));
        }
        let base = self
            .sse_url
            .join(&inf.path)
            .map_err(|e| refuse(format!("not a URL ({e})")))?;
        let target = base
            .join(&location)
            .map_err(|e| refuse(format!("not a URL ({e})")))?;
        if target.origin() != self.sse_url.origin() {
            return Err(refuse(
                "it leaves the URL's origin (a redirect may only change the path)".into(),
            ));
        }
        if inf.redirects >= self.config.max_redirects {
            return Err(refuse(format!(
                "more than {} redirects (ClientConfig::max_redirects)",
                self.config.max_redirects
            )));
        }
        let mut path = target.path().to_string();
        if let Some(q) = target.query() {
            path.push('?');
            path.push_str(q);
        }
        Ok(path)
    }
}

/// The `WWW-Authenticate` header of a `401` response.
fn challenge_of(head: &http::ResponseHead) -> Option<String> {
    (head.status == 401)
        .then(|| head.headers.get_str("www-authenticate").map(str::to_string))
        .flatten()
}

/// The configured headers, with the bearer token (when set) as the `Authorization`.
fn push_credentials(head: &mut RequestHead, config: &ClientConfig) {
    for (k, v) in &config.headers {
        if config.bearer_token.is_some() && k.eq_ignore_ascii_case("authorization") {
            continue;
        }
        head.headers.push(k.clone(), v.clone());
    }
    if let Some(token) = &config.bearer_token {
        head.headers
            .push("Authorization", format!("Bearer {token}"));
    }
}

fn request_head(method: &str, target: &str) -> RequestHead {
    RequestHead {
        method: method.to_string(),
        target: target.to_string(),
        version: http::Version::Http11,
        headers: http::Headers::new(),
    }
}
