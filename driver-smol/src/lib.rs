//! smol driver for `mcp-sse`: the [`Runtime`] of the glue layer on smol (tasks on smol's global
//! executor, `async-io` timers and sockets), plus the public entry points.
//!
//! # Quick start
//!
//! `Cargo.toml`:
//!
//! ```toml
//! [dependencies]
//! mcp-sse-smol = "0.1"
//! smol = "2"
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
//! use mcp_sse_smol::mcp::CallToolRequestParams;
//! use mcp_sse_smol::{connect_over_sse, json, ClientOptions, Error, ServerBuilder, ToolDef};
//! use schemars::JsonSchema;
//! use serde::Deserialize;
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct Add {
//!     a: i64,
//!     b: i64,
//! }
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     smol::block_on(async {
//!         let server = ServerBuilder::new("calc", "1.0.0")
//!             .typed_tool(ToolDef::new("add").description("Add two integers."), |_ctx, Add { a, b }| async move {
//!                 Ok(a + b)
//!             })?
//!             .build();
//!
//!         // In process over the real HTTP+SSE bytes; `Client::connect("http://…/sse", options)` over TCP.
//!         let client = connect_over_sse(server, ClientOptions::default()).await?;
//!         let add = CallToolRequestParams::new("add").with_argument("a", 2).with_argument("b", 3);
//!         let result = client.call_tool(&add).await?; // with the client's default timeout
//!         assert_eq!(result.structured_content, Some(json!({"result": 5})));
//!
//!         // Per call: `.timeout(..)`, `.progress(..)`. A failure is one typed `Error`: here the
//!         // server's own JSON-RPC error (this server has no resources).
//!         match client.read_resource("memo://x").timeout(Duration::from_secs(5)).await {
//!             Err(Error::Rpc(e)) => assert_eq!(e.message, "Method not found"),
//!             other => panic!("{other:?}"),
//!         }
//!         client.close().await;
//!         Ok(())
//!     })
//! }
//! ```
//!
//! To serve it on TCP instead: `mcp_sse_smol::serve(smol::Async::<std::net::TcpListener>::bind(([127, 0, 0, 1], 8000))?, server, ServerOptions::default())?`
//! (see `examples/server.rs`). [`mcp_sse_tokio`](https://docs.rs/mcp-sse-tokio) has the
//! same functions on the other executor.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use std::cell::RefCell;
use std::io::{self, Read};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures_lite::AsyncWriteExt;
use mcp_sse_glue::io::{ByteRead, ByteWrite, Connection};
use mcp_sse_glue::{Rt, Runtime};
use smol::Async;

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

/// The most one TCP read takes. Reads go through a per-thread scratch buffer of this size and
/// are copied out at their exact length, so a connection that waits holds no read buffer.
pub const READ_CHUNK: usize = 64 * 1024;

thread_local! {
    static SCRATCH: RefCell<Box<[u8]>> = RefCell::new(vec![0; READ_CHUNK].into_boxed_slice());
}

/// The glue [`Runtime`] on smol.
#[derive(Debug, Clone, Copy, Default)]
pub struct SmolRuntime;

impl Runtime for SmolRuntime {
    fn spawn(&self, fut: BoxFuture<'static, ()>) {
        smol::spawn(fut).detach();
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            async_io::Timer::at(deadline).await;
        })
    }

    fn connect_tcp(&self, host: String, port: u16) -> BoxFuture<'static, io::Result<Connection>> {
        Box::pin(async move {
            let stream = smol::net::TcpStream::connect((host.as_str(), port)).await?;
            Ok(tcp_connection(stream))
        })
    }
}

/// The runtime handle the glue takes.
pub fn runtime() -> Rt {
    Arc::new(SmolRuntime)
}

struct TcpRead {
    stream: Arc<Async<std::net::TcpStream>>,
    /// The last read did not fill the scratch buffer, so it drained the socket: wait for
    /// readiness before reading again instead of a `recv` that fails with EAGAIN first.
    drained: bool,
}
struct TcpWrite(smol::net::TcpStream);

impl ByteRead for TcpRead {
    fn read(&mut self) -> BoxFuture<'_, io::Result<Option<Bytes>>> {
        Box::pin(async move {
            if self.drained {
                self.stream.readable().await?;
            }
            let got = self
                .stream
                .read_with(|s| {
                    SCRATCH.with(|scratch| {
                        let mut scratch = scratch.borrow_mut();
                        let n = (&*s).read(&mut scratch[..])?;
                        Ok(Bytes::copy_from_slice(&scratch[..n]))
                    })
                })
                .await?;
            self.drained = got.len() < READ_CHUNK;
            Ok((!got.is_empty()).then_some(got))
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
            self.0.shutdown(std::net::Shutdown::Both)
        })
    }
}

/// Turns an accepted or connected TCP stream into a glue [`Connection`] (`TCP_NODELAY` set), e.g.
/// to wrap it in TLS ([`mcp_sse_glue::tls::TlsServer::wrap`]) in an accept loop of your own
/// ([`mcp_sse_glue::serve_with`]).
pub fn tcp_connection(stream: smol::net::TcpStream) -> Connection {
    let _ = stream.set_nodelay(true);
    let write = TcpWrite(stream.clone());
    (
        Box::new(TcpRead {
            stream: stream.into(),
            drained: false,
        }),
        Box::new(write),
    )
}

mcp_sse_glue::driver_api!(
    runtime = runtime,
    listener = smol::net::TcpListener,
    accept_stream = tcp_connection,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_survive_short_full_and_exact_chunk_sized_writes() {
        smol::block_on(async {
            let l = smol::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let client = smol::net::TcpStream::connect(l.local_addr().unwrap())
                .await
                .unwrap();
            let (server, _) = l.accept().await.unwrap();
            let (_, mut writer) = tcp_connection(client);
            let mut reader = TcpRead {
                stream: server.into(),
                drained: false,
            };
            mcp_sse_glue::driver_checks::read_path(
                &runtime(),
                &mut reader,
                &mut *writer,
                READ_CHUNK,
            )
            .await;
        });
    }
}
