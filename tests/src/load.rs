//! Benchmark workloads shared by the criterion bench (`benches/echo.rs`), the `loadgen` binary
//! (used by `bench/compare.sh`) and the `idle_sessions` binary: an echo server, connecting over
//! every transport, bounded echo-call loops with per-call latencies, and their summary.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mcp_sse_core::{http, sse, transport};
use mcp_sse_glue::{CallOptions, Client, ClientOptions, McpServer, Rt, ServerBuilder, ToolError};
use serde_json::{json, Map, Value};

use crate::{Exec, Stopper, Transport};

/// The largest echo payload the bench configurations accept (limits raised for the 16 MiB echo).
pub const MAX_PAYLOAD_BYTES: usize = 40 * 1024 * 1024;

/// A minimal server with one tool, `echo`, returning `arguments.text` as text content (moved,
/// not copied).
pub fn echo_server() -> McpServer {
    ServerBuilder::new("mcp-sse-bench", "1.0.0")
        .tool(
            json!({"name": "echo", "description": "Echo the given text back.",
                   "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}},
                                   "required": ["text"]}}),
            |_ctx, mut args: Map<String, Value>| async move {
                match args.remove("text") {
                    Some(Value::String(t)) => {
                        Ok(json!({"content": [{"type": "text", "text": t}], "isError": false}))
                    }
                    _ => Err(ToolError::Tool("missing string argument 'text'".into())),
                }
            },
        )
        .build()
}

/// Server transport settings that accept [`MAX_PAYLOAD_BYTES`] bodies and queue them.
pub fn large_server_config() -> transport::ServerConfig {
    transport::ServerConfig {
        http_limits: http::Limits {
            max_body_bytes: MAX_PAYLOAD_BYTES,
            ..http::Limits::default()
        },
        max_session_queue_bytes: 2 * MAX_PAYLOAD_BYTES,
        ..transport::ServerConfig::default()
    }
}

/// Client transport settings that accept [`MAX_PAYLOAD_BYTES`] events.
pub fn large_client_config() -> transport::ClientConfig {
    transport::ClientConfig {
        sse_limits: sse::DecoderLimits {
            max_line_bytes: MAX_PAYLOAD_BYTES,
            max_event_bytes: MAX_PAYLOAD_BYTES,
        },
        ..transport::ClientConfig::default()
    }
}

/// An executor that outlives many `block_on` calls (criterion's `iter_custom` runs one per
/// sample, so runtime setup stays outside the timing).
pub enum Executor {
    /// smol: the global executor (its own thread) plus `block_on` on the caller's thread.
    Smol,
    /// tokio, multi-thread with 2 workers (as the interaction harness).
    Tokio(tokio::runtime::Runtime),
    /// tokio's current-thread runtime: every task, timer and socket on the caller's thread.
    TokioCurrentThread(tokio::runtime::Runtime),
}

impl Executor {
    /// An executor of the given kind.
    pub fn new(exec: Exec) -> Executor {
        match exec {
            Exec::Smol => Executor::Smol,
            Exec::Tokio => Executor::Tokio(
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("tokio runtime"),
            ),
        }
    }

    /// tokio's current-thread runtime.
    pub fn tokio_current_thread() -> Executor {
        Executor::TokioCurrentThread(
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime"),
        )
    }

    /// Which kind this is.
    pub fn exec(&self) -> Exec {
        match self {
            Executor::Smol => Exec::Smol,
            Executor::Tokio(_) | Executor::TokioCurrentThread(_) => Exec::Tokio,
        }
    }

    /// Its name in reports: `smol`, `tokio` or `tokio-ct`.
    pub fn name(&self) -> &'static str {
        match self {
            Executor::Smol => "smol",
            Executor::Tokio(_) => "tokio",
            Executor::TokioCurrentThread(_) => "tokio-ct",
        }
    }

    /// Runs `fut` to completion on this executor.
    pub fn block_on<F: Future>(&self, fut: F) -> F::Output {
        match self {
            Executor::Smol => smol::block_on(fut),
            Executor::Tokio(rt) | Executor::TokioCurrentThread(rt) => rt.block_on(fut),
        }
    }
}

/// A connected bench client and what keeps its server alive.
pub struct BenchConn {
    /// The client.
    pub client: Client,
    stop: Option<Stopper>,
}

impl BenchConn {
    /// Closes the client, then stops the TCP server (if this run started one).
    pub async fn close(mut self) {
        self.client.close().await;
        if let Some(stop) = self.stop.take() {
            stop().await;
        }
    }
}

/// Connects a client to [`echo_server`] over `transport`. Call inside the executor. Over TCP,
/// `url` selects an external server; without it one is served on 127.0.0.1 in this process
/// (with [`large_server_config`]).
pub async fn connect(exec: Exec, transport: Transport, url: Option<&str>) -> BenchConn {
    connect_with(exec, transport, url, ClientOptions::default()).await
}

/// [`connect`] with client options (e.g. [`ClientOptions::tls`] for an `https://` URL).
pub async fn connect_with(
    exec: Exec,
    transport: Transport,
    url: Option<&str>,
    options: ClientOptions,
) -> BenchConn {
    let rt = crate::driver_rt(exec);
    match transport {
        Transport::InMemory => BenchConn {
            client: mcp_sse_glue::connect_in_memory(rt, echo_server(), options)
                .await
                .expect("connect in memory"),
            stop: None,
        },
        Transport::SseInProcess => BenchConn {
            client: mcp_sse_glue::connect_over_sse(rt, echo_server(), options)
                .await
                .expect("connect in process"),
            stop: None,
        },
        Transport::SseAxum => {
            assert_eq!(exec, Exec::Tokio, "the hyper adapter runs on tokio");
            let (url, _sse, stop) =
                crate::serve_axum_with(echo_server(), large_server_config()).await;
            let client = mcp_sse_glue::connect_url(rt, &url, options, large_client_config())
                .await
                .expect("connect through axum");
            BenchConn {
                client,
                stop: Some(stop),
            }
        }
        Transport::SseTcp => {
            let (url, stop) = match url {
                Some(u) => (u.to_string(), None),
                None => {
                    let (u, s) = serve_tcp(exec, "127.0.0.1:0").await;
                    (u, Some(s))
                }
            };
            let client = mcp_sse_glue::connect_url(rt, &url, options, large_client_config())
                .await
                .expect("connect over TCP");
            BenchConn { client, stop }
        }
    }
}

/// Serves [`echo_server`] on `addr` (127.0.0.1 only) with [`large_server_config`]; returns the
/// SSE URL and a stopper. Call inside the executor.
pub async fn serve_tcp(exec: Exec, addr: &str) -> (String, Stopper) {
    let options = crate::ServerOptions {
        transport: large_server_config(),
        cluster: None,
    };
    let s = crate::serve_at(exec, addr, echo_server(), options).await;
    let url = format!("http://{}/sse", s.local_addr());
    (
        url,
        Box::new(move || Box::pin(async move { s.shutdown().await })),
    )
}

/// Serves [`echo_server`] like [`serve_tcp`] over TLS, with a certificate for 127.0.0.1 made
/// now by a test CA; returns the `https://` SSE URL, the CA's PEM (for the client to trust)
/// and a stopper.
pub async fn serve_tls(exec: Exec, addr: &str) -> (String, String, Stopper) {
    let pki = crate::pki::make(&["127.0.0.1"], crate::pki::Leaf::Valid);
    let tls =
        mcp_sse_glue::tls::TlsServer::from_pem(pki.cert_pem.as_bytes(), pki.key_pem.as_bytes())
            .expect("the test certificate loads");
    let options = crate::ServerOptions {
        transport: large_server_config(),
        cluster: None,
    };
    let s = crate::serve_tls_at(exec, addr, echo_server(), options, tls).await;
    let url = format!("https://{}/sse", s.local_addr());
    (
        url,
        pki.ca_pem,
        Box::new(move || Box::pin(async move { s.shutdown().await })),
    )
}

/// Serves [`echo_server`] like [`serve_tcp`], through the hyper adapter in an axum app (under
/// `/mcp`; tokio only). Call inside a tokio runtime.
pub async fn serve_axum(addr: &str) -> (String, Stopper) {
    let (url, _sse, stop) = crate::serve_axum_at(addr, echo_server(), large_server_config()).await;
    (url, stop)
}

/// The `tools/call` params of an echo of `size` bytes of text.
pub fn echo_params(size: usize) -> Map<String, Value> {
    let mut p = Map::new();
    p.insert("name".into(), Value::String("echo".into()));
    p.insert("arguments".into(), json!({"text": "x".repeat(size)}));
    p
}

/// One echo call; checks that the text came back whole.
pub async fn echo_once(client: &Client, params: &Map<String, Value>) {
    let r = client
        .request("tools/call", Some(params.clone()), CallOptions::default())
        .await
        .expect("tools/call echo");
    let sent = params
        .get("arguments")
        .and_then(|a| a.get("text"))
        .and_then(Value::as_str)
        .map(str::len);
    let got = r
        .get("content")
        .and_then(|c| c.get(0))
        .and_then(|c| c.get("text"))
        .and_then(Value::as_str)
        .map(str::len);
    assert_eq!(sent, got, "echo returned other text");
}

/// Runs `calls` echo calls of `size` bytes with `in_flight` of them outstanding at once (each
/// of `in_flight` workers runs its share sequentially). Returns every call's latency.
///
/// The workers run as tasks on the runtime, also for `in_flight == 1`: driving the calls from
/// the `block_on` thread instead adds a cross-thread wakeup per call, which halved in-process
/// sequential throughput in the profile (9.5k vs 21.6k calls/s on smol).
pub async fn echo_calls(
    rt: &Rt,
    client: &Client,
    calls: u64,
    in_flight: usize,
    size: usize,
) -> Vec<Duration> {
    let params = Arc::new(echo_params(size));
    let workers = in_flight.max(1) as u64;
    let (tx, rx) = async_channel::unbounded::<Vec<Duration>>();
    for w in 0..workers {
        let share = calls / workers + u64::from(w < calls % workers);
        let (client, params, tx) = (client.clone(), params.clone(), tx.clone());
        rt.spawn(Box::pin(async move {
            let mut lat = Vec::with_capacity(share as usize);
            for _ in 0..share {
                let t = Instant::now();
                echo_once(&client, &params).await;
                lat.push(t.elapsed());
            }
            let _ = tx.send(lat).await;
        }));
    }
    drop(tx);
    let mut all = Vec::with_capacity(calls as usize);
    while let Ok(l) = rx.recv().await {
        all.extend(l);
    }
    assert_eq!(all.len() as u64, calls, "an echo worker failed");
    all
}

/// Calls per second and latency percentiles of one run.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    /// Completed calls.
    pub calls: u64,
    /// Wall time of the whole run.
    pub elapsed: Duration,
    /// Median latency.
    pub p50: Duration,
    /// 99th-percentile latency.
    pub p99: Duration,
    /// 99.9th-percentile latency.
    pub p999: Duration,
}

impl Summary {
    /// Summarises `latencies` measured over `elapsed`.
    pub fn new(mut latencies: Vec<Duration>, elapsed: Duration) -> Summary {
        latencies.sort_unstable();
        let pick = |per_mille: usize| {
            latencies
                .get((latencies.len() * per_mille / 1000).min(latencies.len().saturating_sub(1)))
                .copied()
                .unwrap_or_default()
        };
        Summary {
            calls: latencies.len() as u64,
            elapsed,
            p50: pick(500),
            p99: pick(990),
            p999: pick(999),
        }
    }

    /// Completed calls per second.
    pub fn calls_per_s(&self) -> f64 {
        self.calls as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Connect + initialize `times` times over `transport` (each client closed after, untimed);
/// returns the connect+initialize latencies. Over TCP without `url`, one server is started for
/// all of them.
pub async fn connect_times(
    exec: Exec,
    transport: Transport,
    url: Option<&str>,
    times: u64,
) -> Vec<Duration> {
    let (url, stop) = match (transport, url) {
        (Transport::SseTcp, None) => {
            let (u, s) = serve_tcp(exec, "127.0.0.1:0").await;
            (Some(u), Some(s))
        }
        (_, u) => (u.map(str::to_string), None),
    };
    let mut lat = Vec::with_capacity(times as usize);
    for _ in 0..times {
        let t = Instant::now();
        let c = connect(exec, transport, url.as_deref()).await;
        lat.push(t.elapsed());
        c.close().await;
    }
    if let Some(stop) = stop {
        stop().await;
    }
    lat
}

/// Opens `sessions` clients to `url` (at most `parallel` connecting at once; each a full SSE
/// session with `initialize`). Over TCP on 127.0.0.1; the caller raises the fd limit.
pub async fn open_sessions(exec: Exec, url: &str, sessions: usize, parallel: usize) -> Vec<Client> {
    let rt = crate::driver_rt(exec);
    let (tx, rx) = async_channel::unbounded::<Client>();
    let gate = Arc::new(async_lock::Semaphore::new(parallel.max(1)));
    for _ in 0..sessions {
        let (rt2, url, tx, gate) = (rt.clone(), url.to_string(), tx.clone(), gate.clone());
        rt.spawn(Box::pin(async move {
            let _permit = gate.acquire_arc().await;
            let client = mcp_sse_glue::connect_url(
                rt2,
                &url,
                ClientOptions::default(),
                large_client_config(),
            )
            .await
            .expect("a load session connects");
            let _ = tx.send(client).await;
        }));
    }
    drop(tx);
    let mut clients = Vec::with_capacity(sessions);
    while let Ok(c) = rx.recv().await {
        clients.push(c);
    }
    assert_eq!(clients.len(), sessions, "a load session failed to connect");
    clients
}

/// The load scenario: every client runs sequential echo calls of `size` bytes until `for_`
/// has passed (bounded: no client exceeds `MAX_SESSION_CALLS`); returns every call's latency
/// and the wall time.
pub async fn sessions_run(
    rt: &Rt,
    clients: &[Client],
    for_: Duration,
    size: usize,
) -> (Vec<Duration>, Duration) {
    /// No session runs more calls than this, whatever the duration.
    const MAX_SESSION_CALLS: usize = 1_000_000;
    let params = Arc::new(echo_params(size));
    let (tx, rx) = async_channel::unbounded::<Vec<Duration>>();
    let start = Instant::now();
    let deadline = start + for_;
    for client in clients {
        let (client, params, tx) = (client.clone(), params.clone(), tx.clone());
        rt.spawn(Box::pin(async move {
            let mut lat = Vec::new();
            while Instant::now() < deadline && lat.len() < MAX_SESSION_CALLS {
                let t = Instant::now();
                echo_once(&client, &params).await;
                lat.push(t.elapsed());
            }
            let _ = tx.send(lat).await;
        }));
    }
    drop(tx);
    let mut all = Vec::new();
    let mut done = 0;
    while let Ok(l) = rx.recv().await {
        all.extend(l);
        done += 1;
    }
    assert_eq!(done, clients.len(), "a load session failed");
    (all, start.elapsed())
}

/// Resident set size of process `pid` in bytes, from `/proc/PID/statm` (Linux), if readable.
pub fn rss_bytes_of(pid: u32) -> Option<u64> {
    proc_rss(&pid.to_string())
}

/// CPU time (user + system) of process `pid`, from `/proc/PID/stat` (10 ms resolution).
pub fn cpu_time_of(pid: u32) -> Option<Duration> {
    proc_cpu(&pid.to_string())
}

/// Resident set size of this process in bytes, from `/proc/self/statm` (Linux), if readable.
pub fn rss_bytes() -> Option<u64> {
    proc_rss("self")
}

/// CPU time (user + system) this process has used so far, from `/proc/self/stat` (Linux; 10 ms
/// resolution). On a loaded machine, calls per CPU-second shows the cost apart from the wait
/// for a core.
pub fn cpu_time() -> Option<Duration> {
    proc_cpu("self")
}

fn proc_rss(pid: &str) -> Option<u64> {
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    let resident: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(resident * 4096)
}

fn proc_cpu(pid: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let mut f = rest.split_whitespace().skip(11);
    let utime: u64 = f.next()?.parse().ok()?;
    let stime: u64 = f.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}
