//! # mcp-sse-core
//!
//! The sans-IO heart of `mcp-sse`: pure state machines for the Model Context Protocol's legacy
//! HTTP+SSE transport. Nothing here performs I/O, spawns tasks or reads a clock: callers feed bytes
//! in (`handle_*`), pull bytes, events and deadlines out (`poll_*`), and pass `now` in.
//!
//! Layers, bottom up:
//! - [`sse`]: an incremental WHATWG-exact `text/event-stream` decoder and an encoder.
//! - [`http`]: HTTP/1.1 framing (request/response heads, chunked bodies) on `httparse`, and
//!   [`http::ServerConnection`], one server connection's keep-alive, pipelining, backpressure,
//!   close rules and deadlines.
//! - [`jsonrpc`]: JSON-RPC 2.0 message parsing, validation and byte-exact encoding.
//! - [`mcp`]: typed MCP 2025-11-25 params and results, and each method as a type
//!   ([`mcp::rpc`]).
//! - [`transport`]: the legacy HTTP+SSE server and client machines: routing, Host/Origin
//!   checks, authentication, CORS, the SSE streams, the client's GET and POST pool, redirects;
//!   its answers go out over its own connections or a host HTTP server's exchanges
//!   ([`transport::HostResponse`], for hyper/axum).
//! - [`session`]: sans-IO MCP client and server session state machines.
//! - [`endpoint`]: the composed MCP server: the transport and one session machine per stream.
//! - [`router`]: the MCP server application's routing of requests to registered tools,
//!   resources, templates and prompts, pagination, and the capabilities they imply.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod cluster;
mod decimal;
pub mod endpoint;
pub mod http;
pub mod jsonrpc;
pub mod mcp;
pub mod router;
/// `schemars`, whose `JsonSchema` typed tools' argument and output types implement.
pub use schemars;
pub mod session;
pub mod sse;
pub mod transport;
