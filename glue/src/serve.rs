//! The accept loop of a TCP server, written once for every runtime.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mcp_sse_core::transport;

use crate::cancel::CancelFlag;
use crate::connect::os_random;
use crate::io::Connection;
use crate::rt::{BoxFuture, Rt};
use crate::server::McpServer;
use crate::sse_server::SseServer;

/// Pause after a failed `accept` (e.g. out of file descriptors) before trying again.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// How long [`Serving::shutdown`] waits, once the sessions are gone, for the connections to
/// write what they hold (the streams' final chunks) and close; a peer that stopped reading
/// cannot hold the shutdown longer.
pub const SHUTDOWN_FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// Server options for `serve`.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// Transport settings: prefix, ping interval, security, limits.
    pub transport: transport::ServerConfig,
    /// Scale-out on a session bus ([`SseServer::attach_cluster`]); `None`: a single instance.
    pub cluster: Option<crate::bus::ClusterOptions>,
}

/// A running TCP server.
#[derive(Debug, Clone)]
pub struct Serving {
    sse: Arc<SseServer>,
    stop: Arc<CancelFlag>,
    local_addr: SocketAddr,
}

impl Serving {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The transport server (session table, connection count).
    pub fn sse(&self) -> &Arc<SseServer> {
        &self.sse
    }

    /// Stops accepting, ends every stream cleanly, waits until the sessions are gone, then until
    /// every connection has written what it holds and closed (at most
    /// [`SHUTDOWN_FLUSH_TIMEOUT`]), so a process may exit as soon as this returns.
    pub async fn shutdown(&self) {
        self.stop.cancel();
        self.sse.shutdown().await;
        self.sse.wait_idle().await;
        self.sse
            .wait_connections_closed(SHUTDOWN_FLUSH_TIMEOUT)
            .await;
    }
}

/// Runs an accept loop in the background: `accept` yields each new connection. Unless
/// `options.transport.local_addr` says otherwise, the transport learns `local_addr`, from which
/// its default [`Security`](mcp_sse_core::transport::Security) derives DNS-rebinding
/// protection (on for loopback).
pub fn serve_with<A>(
    rt: Rt,
    mut accept: A,
    local_addr: SocketAddr,
    server: McpServer,
    mut options: ServerOptions,
) -> Serving
where
    A: FnMut() -> BoxFuture<'static, io::Result<Connection>> + Send + 'static,
{
    options.transport.local_addr.get_or_insert(local_addr);
    let sse = SseServer::new(rt.clone(), server, options.transport, Box::new(os_random));
    if let Some(cluster) = &options.cluster {
        sse.attach_cluster(cluster);
    }
    let stop = Arc::new(CancelFlag::new());
    let (s, st, r) = (sse.clone(), stop.clone(), rt.clone());
    rt.spawn(Box::pin(async move {
        loop {
            match st.run(accept()).await {
                None => break,
                Some(Ok(conn)) => {
                    let s = s.clone();
                    r.spawn(Box::pin(async move { s.serve_connection(conn).await }));
                }
                Some(Err(_)) => r.sleep_until(Instant::now() + ACCEPT_BACKOFF).await,
            }
        }
    }));
    Serving {
        sse,
        stop,
        local_addr,
    }
}
