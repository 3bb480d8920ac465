//! # mcp-sse-core
//!
//! The sans-IO heart of `mcp-sse`: pure state machines for the Model Context Protocol's legacy
//! HTTP+SSE transport. Nothing here performs I/O, spawns tasks or reads a clock: callers feed bytes
//! in (`handle_*`), pull bytes, events and deadlines out (`poll_*`), and pass `now` in.
//!
//! Layers, bottom up:
//! - [`sse`]: an incremental WHATWG-exact `text/event-stream` decoder and an encoder.
//! - [`http`]: HTTP/1.1 framing (request/response heads, chunked bodies) on `httparse`.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod http;
pub mod sse;
