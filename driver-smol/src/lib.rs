//! smol driver for `mcp-sse`: the [`Runtime`] of the glue layer on smol (tasks on smol's global
//! executor, `async-io` timers and sockets), plus the public entry points.
//!
//! ```no_run
//! use mcp_sse_smol::{connect_over_sse, ClientOptions, ServerBuilder};
//! smol::block_on(async {
//!     let server = ServerBuilder::new("demo", "1.0.0").build();
//!     let client = connect_over_sse(server, ClientOptions::default()).await.unwrap();
//!     let tools = client.request("tools/list", None, Default::default()).await.unwrap();
//!     println!("{tools}");
//!     client.close().await;
//! });
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use std::io;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use mcp_sse_glue::io::{ByteRead, ByteWrite, Connection};
use mcp_sse_glue::{BoxFuture, Rt, Runtime};

pub use mcp_sse_glue::{
    CallOptions, Client, ClientOptions, ConnectError, Handler, IncomingMessage, McpServer,
    RequestContext, ServerBuilder, ServerOptions, Serving, SseServer, ToolError,
};

/// Read buffer size per TCP read.
pub const READ_CHUNK: usize = 64 * 1024;

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

struct TcpRead(smol::net::TcpStream, BytesMut);
struct TcpWrite(smol::net::TcpStream);

impl ByteRead for TcpRead {
    fn read(&mut self) -> BoxFuture<'_, io::Result<Option<Bytes>>> {
        Box::pin(async move {
            if self.1.capacity() < READ_CHUNK / 4 {
                self.1 = BytesMut::with_capacity(READ_CHUNK);
            }
            let start = self.1.len();
            let cap = self.1.capacity();
            self.1.resize(cap, 0);
            let n = self.0.read(&mut self.1[start..]).await?;
            self.1.truncate(start + n);
            if n == 0 {
                return Ok(None);
            }
            Ok(Some(self.1.split().freeze()))
        })
    }
}

impl ByteWrite for TcpWrite {
    fn write(&mut self, bufs: Vec<Bytes>) -> BoxFuture<'_, io::Result<()>> {
        Box::pin(async move {
            if bufs.len() > 1 && bufs.iter().map(Bytes::len).sum::<usize>() <= 64 * 1024 {
                let mut joined = BytesMut::with_capacity(bufs.iter().map(Bytes::len).sum());
                for b in &bufs {
                    joined.extend_from_slice(b);
                }
                return self.0.write_all(&joined).await;
            }
            for b in bufs {
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

fn tcp_connection(stream: smol::net::TcpStream) -> Connection {
    let _ = stream.set_nodelay(true);
    (
        Box::new(TcpRead(stream.clone(), BytesMut::new())),
        Box::new(TcpWrite(stream)),
    )
}

mcp_sse_glue::driver_api!(
    runtime = runtime,
    listener = smol::net::TcpListener,
    accept_stream = tcp_connection,
);
