//! The interaction-suite harness: one test body, run over every transport and executor.
//!
//! ```ignore
//! interaction_test!(ping_works, |h| async move {
//!     let c = h.connect(server(), ClientOptions::default()).await;
//!     c.client.request("ping", None, Default::default()).await.unwrap();
//!     c.close().await;
//! });
//! ```
#![forbid(unsafe_code)]

pub mod load;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mcp_sse_core::transport::ServerConfig;
use mcp_sse_glue::{BoxFuture, Client, ClientOptions, McpServer, Rt, SseServer};

/// Stops a TCP server started by [`Harness::serve_tcp`].
pub type Stopper = Box<dyn FnOnce() -> BoxFuture<'static, ()> + Send>;

/// Every wait in a test body is bounded by this.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(20);

/// Which transport a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Message channels, no HTTP.
    InMemory,
    /// The real HTTP+SSE bytes over in-memory pipes.
    SseInProcess,
    /// HTTP+SSE over 127.0.0.1 TCP.
    SseTcp,
}

/// Which executor a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exec {
    /// smol.
    Smol,
    /// tokio (multi-thread, 2 workers).
    Tokio,
}

/// What a test body gets.
#[derive(Debug, Clone, Copy)]
pub struct Harness {
    /// The transport of this run.
    pub transport: Transport,
    /// The executor of this run.
    pub exec: Exec,
}

/// A connected client and, for SSE transports, the server it talks to.
pub struct Connected {
    /// The client.
    pub client: Client,
    /// The transport server (SSE runs only), to inspect its session table.
    pub server: Option<Arc<SseServer>>,
    stop: Option<Stopper>,
}

impl Connected {
    /// Closes the client and asserts that the server's session table is empty afterwards.
    pub async fn close(mut self) {
        self.client.close().await;
        if let (Some(s), true) = (&self.server, self.stop.is_some()) {
            // Over TCP the client cannot see the server unwind; wait for it (bounded by the
            // test's timeout), then assert as for the in-process transport.
            s.wait_idle().await;
        }
        if let Some(s) = &self.server {
            assert_eq!(
                s.session_count(),
                0,
                "server session table not empty after close"
            );
        }
        if let Some(stop) = self.stop.take() {
            stop().await;
        }
    }
}

impl Harness {
    /// The runtime handle of this run's executor.
    pub fn rt(&self) -> Rt {
        match self.exec {
            Exec::Smol => mcp_sse_smol::runtime(),
            Exec::Tokio => mcp_sse_tokio::runtime(),
        }
    }

    /// Sleeps on this run's timer (for tests that need real time to pass, e.g. timeouts).
    pub async fn sleep(&self, d: Duration) {
        self.rt().sleep_until(Instant::now() + d).await;
    }

    /// Connects `options` to `server` over this run's transport.
    pub async fn connect(&self, server: McpServer, options: ClientOptions) -> Connected {
        self.try_connect(server, options)
            .await
            .expect("connect failed")
    }

    /// Like [`Harness::connect`], returning the error.
    pub async fn try_connect(
        &self,
        server: McpServer,
        options: ClientOptions,
    ) -> Result<Connected, mcp_sse_glue::ConnectError> {
        let rt = self.rt();
        match self.transport {
            Transport::InMemory => {
                let client = mcp_sse_glue::connect_in_memory(rt, server, options).await?;
                Ok(Connected {
                    client,
                    server: None,
                    stop: None,
                })
            }
            Transport::SseInProcess => {
                let sse = SseServer::new(
                    rt.clone(),
                    server,
                    ServerConfig::default(),
                    Box::new(mcp_sse_glue::os_random),
                );
                let client = mcp_sse_glue::connect_over_sse_to(rt, sse.clone(), options).await?;
                Ok(Connected {
                    client,
                    server: Some(sse),
                    stop: None,
                })
            }
            Transport::SseTcp => {
                let (url, sse, stop) = self.serve_tcp(server).await;
                let client = mcp_sse_glue::connect_url(
                    rt,
                    &url,
                    options,
                    mcp_sse_core::transport::ClientConfig::default(),
                )
                .await?;
                Ok(Connected {
                    client,
                    server: Some(sse.clone()),
                    stop: Some(stop),
                })
            }
        }
    }

    /// Serves `server` on 127.0.0.1 (ephemeral port); returns the SSE URL, the transport server
    /// and a stopper.
    pub async fn serve_tcp(&self, server: McpServer) -> (String, Arc<SseServer>, Stopper) {
        match self.exec {
            Exec::Smol => {
                let l = smol::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                let s = mcp_sse_smol::serve(l, server, Default::default()).expect("serve");
                let url = format!("http://{}/sse", s.local_addr());
                let sse = s.sse().clone();
                (
                    url,
                    sse,
                    Box::new(move || Box::pin(async move { s.shutdown().await })),
                )
            }
            Exec::Tokio => {
                let l = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                let s = mcp_sse_tokio::serve(l, server, Default::default()).expect("serve");
                let url = format!("http://{}/sse", s.local_addr());
                let sse = s.sse().clone();
                (
                    url,
                    sse,
                    Box::new(move || Box::pin(async move { s.shutdown().await })),
                )
            }
        }
    }
}

/// Runs `body` on `exec` with `transport`, bounded by [`TEST_TIMEOUT`].
pub fn run<F, Fut>(exec: Exec, transport: Transport, body: F)
where
    F: FnOnce(Harness) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let h = Harness { transport, exec };
    match exec {
        Exec::Smol => smol::block_on(async move {
            let fut = body(h);
            let timed = futures_lite::future::or(
                async move {
                    fut.await;
                    true
                },
                async {
                    async_io_timer(TEST_TIMEOUT).await;
                    false
                },
            );
            assert!(timed.await, "test body exceeded {TEST_TIMEOUT:?}");
        }),
        Exec::Tokio => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("tokio runtime");
            rt.block_on(async move {
                let fut = body(h);
                let r = tokio::time::timeout(TEST_TIMEOUT, fut).await;
                assert!(r.is_ok(), "test body exceeded {TEST_TIMEOUT:?}");
            });
        }
    }
}

async fn async_io_timer(d: Duration) {
    mcp_sse_smol::runtime()
        .sleep_until(Instant::now() + d)
        .await;
}

/// Defines one test per (transport, executor) pair from one body.
#[macro_export]
macro_rules! interaction_test {
    ($name:ident, |$h:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[test]
            fn in_memory_smol() {
                $crate::run($crate::Exec::Smol, $crate::Transport::InMemory, |$h| $body);
            }
            #[test]
            fn in_memory_tokio() {
                $crate::run($crate::Exec::Tokio, $crate::Transport::InMemory, |$h| $body);
            }
            #[test]
            fn sse_in_process_smol() {
                $crate::run($crate::Exec::Smol, $crate::Transport::SseInProcess, |$h| {
                    $body
                });
            }
            #[test]
            fn sse_in_process_tokio() {
                $crate::run($crate::Exec::Tokio, $crate::Transport::SseInProcess, |$h| {
                    $body
                });
            }
            #[test]
            fn sse_tcp_smol() {
                $crate::run($crate::Exec::Smol, $crate::Transport::SseTcp, |$h| $body);
            }
            #[test]
            fn sse_tcp_tokio() {
                $crate::run($crate::Exec::Tokio, $crate::Transport::SseTcp, |$h| $body);
            }
        }
    };
}
