//! The legacy MCP HTTP+SSE transport (protocol revision 2024-11-05 style), both sides, sans-IO.
//!
//! - [`Server`]: `GET /sse` streams an `endpoint` event then `message` events; `POST
//!   /messages/?session_id=…` carries client messages, answered `202 Accepted`.
//! - [`Client`]: the mirror image.
//!
//! Both speak bytes: the HTTP framing is [`crate::http`], the event stream [`crate::sse`], the
//! payloads [`crate::jsonrpc`].

mod auth;
mod client;
mod cors;
mod endpoint;
mod framing;
mod query;
mod security;
mod server;
mod session_id;
mod wall_clock;

pub use auth::{AuthConfig, AuthRejection, Authenticate, BearerToken, Principal};
pub use client::{
    Client, ClientConfig, ClientConnectionId, ClientError, ClientEvent, SendToken, TlsFailure,
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_ENDPOINT_TIMEOUT, DEFAULT_MAX_ERROR_BODY_BYTES,
    DEFAULT_MAX_IN_FLIGHT_POSTS, DEFAULT_MAX_QUEUED_POSTS, DEFAULT_MAX_REDIRECTS,
    DEFAULT_READ_TIMEOUT,
};
pub use cors::{CorsConfig, DEFAULT_CORS_MAX_AGE};
pub use endpoint::{percent_decode_path, EndpointError, MessagePath};
pub use framing::{HostBody, HostResponse};
pub use query::{form_decode, query_param, quote_path};
pub use security::{Security, SecurityError, SecuritySettings};
pub use server::{
    ConnectionId, ForeignConfig, ForeignOutcome, SendError, Server, ServerConfig, ServerEvent,
    DEFAULT_FOREIGN_TIMEOUT, DEFAULT_HEAD_READ_TIMEOUT, DEFAULT_KEEP_ALIVE_TIMEOUT,
    DEFAULT_MAX_SESSIONS, DEFAULT_MAX_SESSION_QUEUE_BYTES, DEFAULT_PING_INTERVAL,
    DEFAULT_SECOND_LOOK, TIMEOUT_BODY, UNAVAILABLE_BODY,
};
pub use session_id::SessionId;
pub use wall_clock::format_utc_python;
