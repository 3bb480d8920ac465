//! tokio driver for `mcp-sse`: the [`Runtime`] of the glue layer on tokio (tasks, timers and
//! sockets of the current tokio runtime), plus the public entry points. Call them inside a
//! tokio runtime.
//!
//! # Quick start
//!
//! `Cargo.toml`:
//!
//! ```toml
//! [dependencies]
//! mcp-sse-tokio = "0.1"
//! tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
//! serde = { version = "1", features = ["derive"] }
//! schemars = "1"
//! ```
//!
//! A typed tool and a client calling it (everything else comes from this crate: the MCP types
//! in [`mcp`], [`Error`], [`ErrorObject`], [`json!`]):
//!
//! ```
//! use std::time::Duration;
//!
//! use mcp_sse_tokio::mcp::CallToolRequestParams;
//! use mcp_sse_tokio::{connect_over_sse, json, ClientOptions, Error, ServerBuilder, ToolDef};
//! use schemars::JsonSchema;
//! use serde::Deserialize;
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct Add {
//!     a: i64,
//!     b: i64,
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let server = ServerBuilder::new("calc", "1.0.0")
//!         .typed_tool(ToolDef::new("add").description("Add two integers."), |_ctx, Add { a, b }| async move {
//!             Ok(a + b)
//!         })?
//!         .build();
//!
//!     // In process over the real HTTP+SSE bytes; `Client::connect("http://…/sse", options)` over TCP.
//!     let client = connect_over_sse(server, ClientOptions::default()).await?;
//!     let add = CallToolRequestParams::new("add").with_argument("a", 2).with_argument("b", 3);
//!     let result = client.call_tool(&add).await?; // with the client's default timeout
//!     assert_eq!(result.structured_content, Some(json!({"result": 5})));
//!
//!     // Per call: `.timeout(..)`, `.progress(..)`. A failure is one typed `Error`: here the
//!     // server's own JSON-RPC error (this server has no resources).
//!     match client.read_resource("memo://x").timeout(Duration::from_secs(5)).await {
//!         Err(Error::Rpc(e)) => assert_eq!(e.message, "Method not found"),
//!         other => panic!("{other:?}"),
//!     }
//!     client.close().await;
//!     Ok(())
//! }
//! ```
//!
//! To serve it on TCP instead: `mcp_sse_tokio::serve(tokio::net::TcpListener::bind("127.0.0.1:8000").await?, server, ServerOptions::default())?`
//! (see `examples/server.rs`). [`mcp_sse_smol`](https://docs.rs/mcp-sse-smol) has the
//! same functions on the other executor.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use std::io;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use mcp_sse_glue::io::{ByteRead, ByteWrite, Connection};
use mcp_sse_glue::{Rt, Runtime};
use tokio::io::{AsyncWriteExt, Interest};

/// The sans-IO core (transport and session machines, configurations), for what the re-exports
/// below do not cover.
pub use mcp_sse_glue::core;
/// A JSON-RPC error object: what a handler or callback answers with, and
/// [`Error::to_error_object`]'s form of a client error.
pub use mcp_sse_glue::core::jsonrpc::ErrorObject;
/// The typed MCP messages (2025-11-25): `CallToolRequestParams`, `CallToolResult`, `Tool`,
/// `CreateMessageRequestParams`, `LoggingLevel`, … as the typed API takes and returns them.
pub use mcp_sse_glue::core::mcp;
/// The transport settings [`connect_with`] takes (headers, timeouts, limits).
pub use mcp_sse_glue::core::transport::ClientConfig as TransportConfig;
/// Why the client transport failed (inside [`Error::Transport`] and [`ConnectError::Transport`]).
pub use mcp_sse_glue::core::transport::ClientError;
/// `schemars`, for `#[derive(JsonSchema)]` on typed tools' argument and output types.
pub use mcp_sse_glue::schemars;
/// `serde_json` (its `Value`, `Map`, and the [`json!`] macro).
pub use mcp_sse_glue::serde_json;
pub use mcp_sse_glue::serde_json::json;
pub use mcp_sse_glue::{
    BoxFuture, Call, CallOptions, Client, ClientInfo, ClientOptions, ConnectError, Elicited, Error,
    Handler, IncomingMessage, LoggingCallback, McpServer, MessageHandler, Params, ProgressCallback,
    PromptDef, PromptOutput, PromptRegistrationError, ReconnectPolicy, RequestCallback,
    RequestContext, ResourceRegistrationError, ServerBuilder, ServerOptions, Serving, SessionEvent,
    SseServer, TokenProvider, ToolDef, ToolError, ToolOutput, ToolRegistrationError, ToolsHandle,
};

/// The most one TCP read takes. A read buffer is allocated only once the socket is readable,
/// so a connection that waits holds none.
pub const READ_CHUNK: usize = 64 * 1024;

/// Reads up to this size are copied out at their exact length (the read buffer is freed at
/// once); larger ones are passed on without a copy.
pub const COPY_READS_UP_TO: usize = 8 * 1024;

/// The glue [`Runtime`] on tokio.
#[derive(Debug, Clone)]
pub struct TokioRuntime(tokio::runtime::Handle);

impl Runtime for TokioRuntime {
    fn spawn(&self, fut: BoxFuture<'static, ()>) {
        self.0.spawn(fut);
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            tokio::time::sleep_until(deadline.into()).await;
        })
    }

    fn connect_tcp(&self, host: String, port: u16) -> BoxFuture<'static, io::Result<Connection>> {
        Box::pin(async move {
            let stream = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
            Ok(tcp_connection(stream))
        })
    }
}

/// The runtime handle the glue takes (the current tokio runtime; panics outside one, like
/// `tokio::spawn`).
pub fn runtime() -> Rt {
    Arc::new(TokioRuntime(tokio::runtime::Handle::current()))
}

struct TcpRead(tokio::net::tcp::OwnedReadHalf);
struct TcpWrite(tokio::net::tcp::OwnedWriteHalf);

impl ByteRead for TcpRead {
    fn read(&mut self) -> BoxFuture<'_, io::Result<Option<Bytes>>> {
        Box::pin(async move {
            loop {
                self.0.readable().await?;
                let mut buf = BytesMut::with_capacity(READ_CHUNK);
                // A read that does not fill the buffer has drained the socket (epoll is
                // edge-triggered): the closure then reports `WouldBlock` so that tokio clears the
                // readiness, as its own `poll_read` does, and the next `readable()` waits for
                // new data instead of costing a `recv` that fails with EAGAIN.
                let room = buf.capacity();
                let mut got = None;
                let res = self.0.as_ref().try_io(Interest::READABLE, || {
                    let n = self.0.try_read_buf(&mut buf)?;
                    got = Some(n);
                    if n == 0 || n == room {
                        Ok(())
                    } else {
                        Err(io::ErrorKind::WouldBlock.into())
                    }
                });
                match (got, res) {
                    (Some(0), _) => return Ok(None),
                    (Some(n), _) if n <= COPY_READS_UP_TO => {
                        return Ok(Some(Bytes::copy_from_slice(&buf[..n])))
                    }
                    (Some(_), _) => return Ok(Some(buf.freeze())),
                    (None, Err(e)) if e.kind() != io::ErrorKind::WouldBlock => return Err(e),
                    // Not readable after all: wait again.
                    (None, _) => continue,
                }
            }
        })
    }
}

impl ByteWrite for TcpWrite {
    fn write(&mut self, bufs: Vec<Bytes>) -> BoxFuture<'_, io::Result<()>> {
        Box::pin(async move {
            for b in mcp_sse_glue::io::coalesce(bufs) {
                self.0.write_all(&b).await?;
            }
            Ok(())
        })
    }

    fn close(&mut self) -> BoxFuture<'_, io::Result<()>> {
        Box::pin(async move {
            let _ = self.0.flush().await;
            self.0.shutdown().await
        })
    }
}

/// Turns an accepted or connected TCP stream into a glue [`Connection`] (`TCP_NODELAY` set), e.g.
/// to wrap it in TLS ([`mcp_sse_glue::tls::TlsServer::wrap`]) in an accept loop of your own
/// ([`mcp_sse_glue::serve_with`]).
pub fn tcp_connection(stream: tokio::net::TcpStream) -> Connection {
    let _ = stream.set_nodelay(true);
    let (r, w) = stream.into_split();
    (Box::new(TcpRead(r)), Box::new(TcpWrite(w)))
}

mcp_sse_glue::driver_api!(
    runtime = runtime,
    listener = tokio::net::TcpListener,
    accept_stream = tcp_connection,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_survive_short_full_and_exact_chunk_sized_writes() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = tokio::net::TcpStream::connect(l.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = l.accept().await.unwrap();
        let (_, mut writer) = tcp_connection(client);
        let (server_read, _server_write) = server.into_split();
        let mut reader = TcpRead(server_read);
        mcp_sse_glue::driver_checks::read_path(&runtime(), &mut reader, &mut *writer, READ_CHUNK)
            .await;
    }
}
