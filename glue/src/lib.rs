//! # mcp-sse-glue
//!
//! The runtime-agnostic async layer of `mcp-sse`, written once and shared by the smol and tokio
//! drivers. It holds no protocol logic: every decision is made by the sans-IO machines of
//! [`mcp_sse_core`]; this crate moves bytes and messages between them, runs handlers and
//! callbacks as tasks, and arms timers. A driver supplies a [`Runtime`] (spawn, timers, TCP).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod builder;
pub mod bus;
mod cancel;
mod client;
mod connect;
mod driver_api;
#[doc(hidden)]
pub mod driver_checks;
mod exchange;
pub mod io;
mod locked;
pub mod queue;
mod rt;
mod serve;
mod server;
mod sse_client;
mod sse_server;
pub mod tls;
mod trace;
mod typed;

pub use builder::{
    PromptDef, PromptOutput, PromptRegistrationError, ResourceRegistrationError, ServerBuilder,
    ToolDef, ToolError, ToolOutput, ToolRegistrationError, ToolsHandle,
};
pub use bus::{BusError, ClusterOptions, SessionBus, Subscription};
pub use cancel::CancelFlag;
pub use client::{
    CallOptions, Client, ClientOptions, Closer, IncomingMessage, Link, LinkItem, LoggingCallback,
    MessageHandler, ProgressCallback, Relink, RequestCallback, SessionCallback, SessionEvent,
};
pub use connect::{
    connect_in_memory, connect_over_sse, connect_over_sse_to, connect_over_sse_traced,
    connect_over_sse_wrapped, connect_url, os_random, serve_in_memory, ConnectError,
    ConnectionWrap, IN_PROCESS_URL,
};
pub use exchange::{Exchange, ExchangeError, ExchangeFrames};
/// The sans-IO core this layer drives.
pub use mcp_sse_core as core;
/// `schemars`, for `#[derive(JsonSchema)]` on typed tools' argument and output types.
pub use mcp_sse_core::schemars;
pub use mcp_sse_core::session::typed_elicit::Elicited;
pub use mcp_sse_core::session::ReconnectPolicy;
/// Why a client request failed: the server's JSON-RPC error, a timeout, the connection closed,
/// the session lost, the transport, a result that does not decode, an output-schema violation.
/// Decided by the core's session machine; [`Error::to_error_object`] gives the JSON-RPC form.
pub use mcp_sse_core::session::RequestError as Error;
pub use rt::{recv_until, BoxFuture, Recv, Rt, Runtime};
/// `serde_json`, whose `Value`, `Map` and `json!` the raw API takes.
pub use serde_json;
pub use serve::{serve_with, ServerOptions, Serving, ACCEPT_BACKOFF, SHUTDOWN_FLUSH_TIMEOUT};
pub use server::{ClientInfo, Handler, McpServer, Params, RequestContext, RequestData};
pub use sse_client::{
    connect_sse, connect_sse_with, ConnectTarget, Connector, SseLinkHandle, TargetConnector,
    TokenProvider, LINK_CAPACITY,
};
pub use sse_server::SseServer;
pub use typed::Call;
