//! The interaction-suite harness: one test body, run over every transport and executor.
//!
//! ```ignore
//! interaction_test!(ping_works, pins = ["ping:client-to-server"], |h| async move {
//!     let c = h.connect(server(), ClientOptions::default()).await;
//!     c.client.request("ping", None, Default::default()).await.unwrap();
//!     c.close().await;
//! });
//! ```
//!
//! Every test says which requirement ids of `shared/requirements/sse-2025-11-25.csv` it pins:
//! `pins = [...]` in [`interaction_test!`] (and the suite's `scripted_test!`), or
//! [`pins!`] as the first statement of a plain `#[test]`. `tests/tests/requirements.rs` reads
//! those literals from the test sources and fails on an id nobody pins (unless
//! `tests/requirements-divergences.csv` records why) and on a pinned id the CSV does not have.
#![forbid(unsafe_code)]

pub mod load;
pub mod pki;

use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mcp_sse_core::transport::ServerConfig;
use mcp_sse_glue::io::Connection;
use mcp_sse_glue::{
    BoxFuture, Client, ClientOptions, McpServer, Rt, Runtime, ServerOptions, Serving, SseServer,
};

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
    /// HTTP+SSE over 127.0.0.1 TCP through the hyper adapter (`mcp-sse-hyper`) nested under
    /// `/mcp` in an axum app (tokio only: hyper's home).
    SseAxum,
}

/// Which executor a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exec {
    /// smol.
    Smol,
    /// tokio (multi-thread, 2 workers).
    Tokio,
}

/// How long [`run`] waits, after a test body has finished, for every task the body started to
/// end (the unwinding after a close is asynchronous).
pub const TASK_DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// A [`Runtime`] that counts the tasks spawned through it that are still alive (running or
/// waiting), so a test can assert that everything it started has ended. A task counts as ended
/// when its future completes or is dropped.
pub struct CountingRuntime {
    inner: Rt,
    live: Arc<AtomicUsize>,
}

impl CountingRuntime {
    /// Wraps `inner`, counting into `live`.
    pub fn new(inner: Rt, live: Arc<AtomicUsize>) -> Self {
        CountingRuntime { inner, live }
    }
}

struct LiveTask(Arc<AtomicUsize>);

impl Drop for LiveTask {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Runtime for CountingRuntime {
    fn spawn(&self, fut: BoxFuture<'static, ()>) {
        self.live.fetch_add(1, Ordering::SeqCst);
        let guard = LiveTask(self.live.clone());
        self.inner.spawn(Box::pin(async move {
            let _guard = guard;
            fut.await
        }));
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        self.inner.sleep_until(deadline)
    }

    fn connect_tcp(&self, host: String, port: u16) -> BoxFuture<'static, io::Result<Connection>> {
        self.inner.connect_tcp(host, port)
    }
}

/// What a test body gets.
#[derive(Debug, Clone)]
pub struct Harness {
    /// The transport of this run.
    pub transport: Transport,
    /// The executor of this run.
    pub exec: Exec,
    /// Tasks started through [`Harness::rt`] and not yet ended.
    tasks: Arc<AtomicUsize>,
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

impl Connected {
    /// Drops the client *without* [`Client::close`] (as a caller that just lets it go) and waits
    /// until the server has removed the session (SSE runs); then stops a TCP server.
    pub async fn abandon(mut self) {
        let stop = self.stop.take();
        let server = self.server.take();
        drop(self);
        if let Some(s) = &server {
            s.wait_idle().await;
            assert_eq!(
                s.session_count(),
                0,
                "session left behind by a dropped client"
            );
        }
        if let Some(stop) = stop {
            stop().await;
        }
    }
}

impl Harness {
    /// A harness for one run (what [`run`] hands to a test body).
    pub fn new(exec: Exec, transport: Transport) -> Self {
        Harness {
            transport,
            exec,
            tasks: Arc::default(),
        }
    }

    /// The runtime handle of this run's executor. Every task spawned through it is counted (see
    /// [`Harness::live_tasks`]).
    pub fn rt(&self) -> Rt {
        Arc::new(CountingRuntime::new(
            driver_rt(self.exec),
            self.tasks.clone(),
        ))
    }

    /// How many tasks spawned through [`Harness::rt`] are still alive.
    pub fn live_tasks(&self) -> usize {
        self.tasks.load(Ordering::SeqCst)
    }

    /// Waits until at most `baseline` tasks spawned through [`Harness::rt`] are alive; panics
    /// with the count if that takes longer than [`TASK_DRAIN_TIMEOUT`].
    pub async fn wait_tasks(&self, baseline: usize) {
        let give_up = Instant::now() + TASK_DRAIN_TIMEOUT;
        while self.live_tasks() > baseline {
            assert!(
                Instant::now() < give_up,
                "{} tasks still alive {TASK_DRAIN_TIMEOUT:?} after the body ended (baseline {baseline})",
                self.live_tasks()
            );
            self.sleep(Duration::from_millis(2)).await;
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
            Transport::SseTcp | Transport::SseAxum => {
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
    /// and a stopper. On [`Transport::SseAxum`] it is served by axum, through the hyper adapter.
    pub async fn serve_tcp(&self, server: McpServer) -> (String, Arc<SseServer>, Stopper) {
        if self.transport == Transport::SseAxum {
            return serve_axum(server).await;
        }
        let s = serve_loopback(self.exec, server, ServerOptions::default()).await;
        let url = format!("http://{}/sse", s.local_addr());
        let sse = s.sse().clone();
        (
            url,
            sse,
            Box::new(move || Box::pin(async move { s.shutdown().await })),
        )
    }
}

/// Serves `server` on 127.0.0.1 (ephemeral port) in an axum app, nested under `/mcp` through
/// the hyper adapter, on the current tokio runtime; returns the SSE URL, the transport server
/// and a stopper (the server's graceful shutdown, then axum's, bounded).
pub async fn serve_axum(server: McpServer) -> (String, Arc<SseServer>, Stopper) {
    serve_axum_with(server, ServerConfig::default()).await
}

/// [`serve_axum`] with a transport configuration (its `local_addr` is set to the bound one).
pub async fn serve_axum_with(
    server: McpServer,
    config: ServerConfig,
) -> (String, Arc<SseServer>, Stopper) {
    serve_axum_at("127.0.0.1:0", server, config).await
}

/// [`serve_axum_with`] on `addr` (127.0.0.1 only).
pub async fn serve_axum_at(
    addr: &str,
    server: McpServer,
    config: ServerConfig,
) -> (String, Arc<SseServer>, Stopper) {
    assert!(
        addr.starts_with("127.0.0.1:"),
        "test servers bind 127.0.0.1 only"
    );
    let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let config = ServerConfig {
        local_addr: Some(addr),
        ..config
    };
    let sse = mcp_sse_hyper::server_with(server, config);
    let app = axum::Router::new().nest_service("/mcp", mcp_sse_hyper::service(sse.clone()));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop_rx.await;
            })
            .await;
    });
    let stopped = sse.clone();
    let stop: Stopper = Box::new(move || {
        Box::pin(async move {
            stopped.shutdown().await;
            let _ = stop_tx.send(());
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        })
    });
    (format!("http://{addr}/mcp/sse"), sse, stop)
}

/// Serves `server` with `options` on 127.0.0.1 (ephemeral port) on `exec`'s driver.
pub async fn serve_loopback(exec: Exec, server: McpServer, options: ServerOptions) -> Serving {
    serve_at(exec, "127.0.0.1:0", server, options).await
}

/// Serves `server` with `options` on `addr` (127.0.0.1 only) on `exec`'s driver.
pub async fn serve_at(
    exec: Exec,
    addr: &str,
    server: McpServer,
    options: ServerOptions,
) -> Serving {
    assert!(
        addr.starts_with("127.0.0.1:"),
        "test servers bind 127.0.0.1 only"
    );
    match exec {
        Exec::Smol => {
            let l = smol::net::TcpListener::bind(addr).await.expect("bind");
            mcp_sse_smol::serve(l, server, options).expect("serve")
        }
        Exec::Tokio => {
            let l = tokio::net::TcpListener::bind(addr).await.expect("bind");
            mcp_sse_tokio::serve(l, server, options).expect("serve")
        }
    }
}

/// Serves `server` with `options` over TLS (`tls`) on 127.0.0.1 (ephemeral port) on `exec`'s
/// driver, through an accept loop of its own ([`mcp_sse_glue::serve_with`]).
pub async fn serve_tls(
    exec: Exec,
    server: McpServer,
    options: ServerOptions,
    tls: mcp_sse_glue::tls::TlsServer,
) -> Serving {
    serve_tls_at(exec, "127.0.0.1:0", server, options, tls).await
}

/// [`serve_tls`] on `addr` (127.0.0.1 only).
pub async fn serve_tls_at(
    exec: Exec,
    addr: &str,
    server: McpServer,
    options: ServerOptions,
    tls: mcp_sse_glue::tls::TlsServer,
) -> Serving {
    assert!(
        addr.starts_with("127.0.0.1:"),
        "test servers bind 127.0.0.1 only"
    );
    use mcp_sse_glue::io::Connection;
    use mcp_sse_glue::BoxFuture;
    let wrap = move |conn: Connection| tls.wrap(conn).map_err(std::io::Error::other);
    match exec {
        Exec::Smol => {
            let l = Arc::new(smol::net::TcpListener::bind(addr).await.expect("bind"));
            let addr = l.local_addr().expect("addr");
            let accept = move || {
                let (l, wrap) = (l.clone(), wrap.clone());
                Box::pin(async move {
                    let (s, _) = l.accept().await?;
                    wrap(mcp_sse_smol::tcp_connection(s))
                }) as BoxFuture<'static, std::io::Result<Connection>>
            };
            mcp_sse_glue::serve_with(mcp_sse_smol::runtime(), accept, addr, server, options)
        }
        Exec::Tokio => {
            let l = Arc::new(tokio::net::TcpListener::bind(addr).await.expect("bind"));
            let addr = l.local_addr().expect("addr");
            let accept = move || {
                let (l, wrap) = (l.clone(), wrap.clone());
                Box::pin(async move {
                    let (s, _) = l.accept().await?;
                    wrap(mcp_sse_tokio::tcp_connection(s))
                }) as BoxFuture<'static, std::io::Result<Connection>>
            };
            mcp_sse_glue::serve_with(mcp_sse_tokio::runtime(), accept, addr, server, options)
        }
    }
}

/// Closes `client`, waits until `serving` has no session and (for at most 10 s) no
/// connection left, then shuts it down.
pub async fn close_and_drain(client: Client, serving: Serving) {
    client.close().await;
    let sse = serving.sse().clone();
    sse.wait_idle().await;
    assert!(
        sse.wait_connections_closed(Duration::from_secs(10)).await,
        "connections left open after the session ended"
    );
    serving.shutdown().await;
}

/// Calls [`load::echo_server`]'s `echo` with `text` and asserts the answer.
pub async fn assert_echo(client: &Client, text: &str) {
    let r = client
        .request(
            "tools/call",
            serde_json::json!({"name": "echo", "arguments": {"text": text}})
                .as_object()
                .cloned(),
            mcp_sse_glue::CallOptions::default(),
        )
        .await
        .expect("the echo call fails");
    assert_eq!(r["content"][0]["text"], serde_json::Value::from(text));
}

/// Runs blocking `f` on a plain thread and awaits its result, so that blocking socket work in a
/// test never blocks the executor under test.
pub async fn on_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = async_channel::bounded(1);
    std::thread::spawn(move || {
        let _ = tx.send_blocking(f());
    });
    rx.recv().await.expect("the worker thread panicked")
}

/// The plain runtime handle of `exec` (no task counting: for benchmarks).
pub fn driver_rt(exec: Exec) -> Rt {
    match exec {
        Exec::Smol => mcp_sse_smol::runtime(),
        Exec::Tokio => mcp_sse_tokio::runtime(),
    }
}

/// Runs `body` on `exec` with `transport`, bounded by [`TEST_TIMEOUT`]; then asserts that every
/// task the body started through [`Harness::rt`] has ended (see [`Harness::wait_tasks`]).
pub fn run<F, Fut>(exec: Exec, transport: Transport, body: F)
where
    F: FnOnce(Harness) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    run_for(exec, transport, TEST_TIMEOUT, body);
}

/// Like [`run`], bounded by `limit` instead of [`TEST_TIMEOUT`] (for long tests: soak, load).
pub fn run_for<F, Fut>(exec: Exec, transport: Transport, limit: Duration, body: F)
where
    F: FnOnce(Harness) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let h = Harness::new(exec, transport);
    let fut = body(h.clone());
    run_bounded(h, limit, fut);
}

/// Runs the future `body` on `h`'s executor, bounded by `limit`; then asserts that every task started
/// through [`Harness::rt`] has ended (see [`Harness::wait_tasks`]).
fn run_bounded<Fut>(h: Harness, limit: Duration, body: Fut)
where
    Fut: Future<Output = ()> + Send + 'static,
{
    let exec = h.exec;
    let fut = async move {
        body.await;
        h.wait_tasks(0).await;
    };
    match exec {
        Exec::Smol => smol::block_on(async move {
            let timed = futures_lite::future::or(
                async move {
                    fut.await;
                    true
                },
                async {
                    async_io_timer(limit).await;
                    false
                },
            );
            assert!(timed.await, "test body exceeded {limit:?}");
        }),
        Exec::Tokio => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("tokio runtime");
            rt.block_on(async move {
                let r = tokio::time::timeout(limit, fut).await;
                assert!(r.is_ok(), "test body exceeded {limit:?}");
            });
        }
    }
}

async fn async_io_timer(d: Duration) {
    mcp_sse_smol::runtime()
        .sleep_until(Instant::now() + d)
        .await;
}

/// Records, in a plain `#[test]`, the requirement ids it pins (see the crate docs); it expands
/// to a constant the test can read, so an id list is always attached to code that compiles.
///
/// ```
/// // #[test]
/// fn a_plain_test() {
///     mcp_sse_tests::pins!["lifecycle:ping"];
///     // …
/// }
/// # a_plain_test();
/// ```
#[macro_export]
macro_rules! pins {
    ($($id:literal),* $(,)?) => {
        let _pins: &[&str] = &[$($id),*];
    };
}

/// Defines one test per (transport, executor) pair from one body, in a module `$name` that also
/// holds `PINS`, the requirement ids the test pins (`pins = []` when it pins none).
#[macro_export]
macro_rules! interaction_test {
    ($name:ident, pins = [$($id:literal),* $(,)?], |$h:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            /// The requirement ids this test pins.
            #[allow(dead_code)]
            pub const PINS: &[&str] = &[$($id),*];
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
            fn sse_axum_tokio() {
                $crate::run($crate::Exec::Tokio, $crate::Transport::SseAxum, |$h| $body);
            }
            #[test]
            fn sse_tcp_tokio() {
                $crate::run($crate::Exec::Tokio, $crate::Transport::SseTcp, |$h| $body);
            }
        }
    };
}

/// A client result with its error in the JSON-RPC form the reference's client raises
/// ([`mcp_sse_glue::Error::to_error_object`]), for assertions that pin that form (codes,
/// messages, data) as the Python suite does.
pub trait RpcForm<T> {
    /// The result, its error as an [`ErrorObject`](mcp_sse_core::jsonrpc::ErrorObject).
    fn rpc_form(&self) -> Result<T, mcp_sse_core::jsonrpc::ErrorObject>;
}

impl<T: Clone> RpcForm<T> for Result<T, mcp_sse_glue::Error> {
    fn rpc_form(&self) -> Result<T, mcp_sse_core::jsonrpc::ErrorObject> {
        self.clone().map_err(|e| e.to_error_object())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counting_runtime_counts_live_tasks_until_they_end_or_are_dropped() {
        let h = Harness::new(Exec::Smol, Transport::InMemory);
        smol::block_on(async {
            let rt = h.rt();
            let (tx, rx) = async_channel::bounded::<()>(1);
            rt.spawn(Box::pin(async move {
                let _ = rx.recv().await;
            }));
            assert_eq!(h.live_tasks(), 1);
            drop(tx);
            h.wait_tasks(0).await;
            rt.spawn(Box::pin(futures_lite::future::pending()));
            assert_eq!(h.live_tasks(), 1);
        });
    }
}
