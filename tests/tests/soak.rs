//! Soak test (issue 8): [`SOAK_CALLS`] calls in process on each driver, over in-memory channels
//! and the real HTTP+SSE bytes on in-memory pipes, with random cancellations (the caller drops
//! its call), random timeouts, random client drops (the last handle dropped with calls in
//! flight, no `close`) and random connection cuts (the pipes fail under calls in flight).
//!
//! Afterwards: every call resolved exactly once (a result carrying its own token, a typed error
//! with an expected code, or the caller's own drop), every handler the server started has ended,
//! the server's session and connection tables are empty, and every task is gone.
//!
//! `MCP_SSE_SOAK_CALLS` overrides the call count; `MCP_SSE_SOAK_SEED` replays a run (the seed of
//! every run is printed).

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mcp_sse_core::jsonrpc::codes;
use mcp_sse_core::transport;
use mcp_sse_glue::io::{ByteRead, ByteWrite, Connection};
use mcp_sse_glue::{
    BoxFuture, CallOptions, CancelFlag, Client, ClientOptions, ConnectionWrap, McpServer, Rt,
    ServerBuilder, SseServer,
};
use mcp_sse_tests::{Exec, Harness, Transport};
use serde_json::{json, Value};

/// Calls per driver.
const SOAK_CALLS: usize = 100_000;
/// Sessions running at the same time.
const WORKERS: usize = 32;
/// Bound on one driver's whole run.
const SOAK_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Default)]
struct Stats {
    issued: AtomicUsize,
    ok: AtomicUsize,
    /// Calls whose future the caller dropped (cancellation or client drop).
    dropped: AtomicUsize,
    errors: Mutex<BTreeMap<i64, usize>>,
    handlers_started: AtomicUsize,
    handlers_ended: AtomicUsize,
    sessions: Mutex<BTreeMap<&'static str, usize>>,
}

impl Stats {
    fn resolved(&self) -> usize {
        self.ok.load(Ordering::SeqCst)
            + self.dropped.load(Ordering::SeqCst)
            + self.errors.lock().unwrap().values().sum::<usize>()
    }

    fn session(&self, kind: &'static str) {
        *self.sessions.lock().unwrap().entry(kind).or_default() += 1;
    }
}

/// Counts a handler as started when made and as ended when dropped (finished or cancelled).
struct HandlerGuard(Arc<Stats>);

impl HandlerGuard {
    fn new(stats: &Arc<Stats>) -> Self {
        stats.handlers_started.fetch_add(1, Ordering::SeqCst);
        HandlerGuard(stats.clone())
    }
}

impl Drop for HandlerGuard {
    fn drop(&mut self) {
        self.0.handlers_ended.fetch_add(1, Ordering::SeqCst);
    }
}

fn text_result(t: &str) -> Value {
    json!({"content": [{"type": "text", "text": t}], "isError": false})
}

fn soak_server(stats: Arc<Stats>) -> McpServer {
    let (s1, s2, s3) = (stats.clone(), stats.clone(), stats);
    ServerBuilder::new("soak", "1")
        .tool(
            json!({"name": "echo", "inputSchema": {"type": "object"}}),
            move |_ctx, args| {
                let g = HandlerGuard::new(&s1);
                async move {
                    let _g = g;
                    Ok(text_result(args["token"].as_str().unwrap_or_default()))
                }
            },
        )
        .tool(
            json!({"name": "slow", "inputSchema": {"type": "object"}}),
            move |ctx, args| {
                let g = HandlerGuard::new(&s2);
                async move {
                    let _g = g;
                    let us = args["micros"].as_u64().unwrap_or(0);
                    ctx.sleep(Duration::from_micros(us)).await;
                    Ok(text_result(args["token"].as_str().unwrap_or_default()))
                }
            },
        )
        .tool(
            json!({"name": "block", "inputSchema": {"type": "object"}}),
            move |_ctx, _args| {
                let g = HandlerGuard::new(&s3);
                async move {
                    let _g = g;
                    futures_lite::future::pending::<()>().await;
                    Ok(text_result("unreachable"))
                }
            },
        )
        .build()
}

/// What a call is meant to do.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Echo,
    Slow,
    /// `block`, dropped by the caller after a random delay.
    Cancel,
    /// `block` with a short timeout: -32001.
    Timeout,
    /// An unknown method: -32601.
    Unknown,
}

fn pick_kind(rng: &mut fastrand::Rng) -> Kind {
    match rng.u32(0..100) {
        0..=59 => Kind::Echo,
        60..=74 => Kind::Slow,
        75..=89 => Kind::Cancel,
        90..=94 => Kind::Timeout,
        _ => Kind::Unknown,
    }
}

/// Records the call's outcome exactly once: on completion, or as dropped.
struct Outcome {
    stats: Arc<Stats>,
    done: bool,
}

impl Drop for Outcome {
    fn drop(&mut self) {
        if !self.done {
            self.stats.dropped.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// One tracked call of `kind` with a unique `token`.
async fn tracked_call(
    h: Harness,
    client: Client,
    stats: Arc<Stats>,
    kind: Kind,
    token: String,
    delay_us: u64,
) {
    stats.issued.fetch_add(1, Ordering::SeqCst);
    let mut outcome = Outcome {
        stats: stats.clone(),
        done: false,
    };
    let call = |name: &str, args: Value, timeout: Option<Duration>| {
        client.request(
            "tools/call",
            mcp_sse_glue::Params::from(
                json!({"name": name, "arguments": args})
                    .as_object()
                    .cloned(),
            ),
            CallOptions {
                timeout,
                progress: None,
            },
        )
    };
    let result = match kind {
        Kind::Echo => call("echo", json!({"token": token}), None).await,
        Kind::Slow => call("slow", json!({"token": token, "micros": delay_us}), None).await,
        Kind::Timeout => {
            let t = Duration::from_micros(2_000 + delay_us);
            call("block", json!({}), Some(t)).await
        }
        Kind::Unknown => {
            client
                .request("no/such/method", None, CallOptions::default())
                .await
        }
        Kind::Cancel => {
            let call = call("block", json!({}), None);
            let r = futures_lite::future::or(async move { Some(call.await) }, async {
                h.sleep(Duration::from_micros(delay_us)).await;
                None
            })
            .await;
            match r {
                Some(r) => r,
                // The caller dropped its call: resolved as `dropped` by `outcome`.
                None => return,
            }
        }
    };
    outcome.done = true;
    match result {
        Ok(v) => {
            assert!(
                matches!(kind, Kind::Echo | Kind::Slow),
                "{kind:?} succeeded: {v}"
            );
            assert_eq!(v, text_result(&token), "a result reached the wrong call");
            stats.ok.fetch_add(1, Ordering::SeqCst);
        }
        Err(e) => {
            let e = e.to_error_object();
            let expected = match kind {
                Kind::Timeout => e.code == codes::REQUEST_TIMEOUT,
                Kind::Unknown => e.code == codes::METHOD_NOT_FOUND,
                _ => false,
            };
            // Any call may fail with -32000 when its connection is cut under it.
            assert!(
                expected || e.code == codes::CONNECTION_CLOSED,
                "{kind:?} failed unexpectedly: {e:?}"
            );
            *stats.errors.lock().unwrap().entry(e.code).or_default() += 1;
        }
    }
}

/// Polls every future to completion (a join of a vector).
async fn join_all(mut futs: Vec<Pin<Box<dyn Future<Output = ()> + Send>>>) {
    std::future::poll_fn(move |cx| {
        futs.retain_mut(|f| f.as_mut().poll(cx).is_pending());
        if futs.is_empty() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await
}

/// A connection half that fails with `ConnectionReset` once `kill` is set.
struct Killable<T> {
    inner: T,
    kill: Arc<CancelFlag>,
}

fn reset() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionReset,
        "connection cut by the soak test",
    )
}

impl ByteRead for Killable<Box<dyn ByteRead>> {
    fn read(&mut self) -> BoxFuture<'_, io::Result<Option<Bytes>>> {
        Box::pin(async move {
            if self.kill.is_cancelled() {
                return Err(reset());
            }
            self.kill
                .run(self.inner.read())
                .await
                .unwrap_or_else(|| Err(reset()))
        })
    }
}

impl ByteWrite for Killable<Box<dyn ByteWrite>> {
    fn write(&mut self, bufs: Vec<Bytes>) -> BoxFuture<'_, io::Result<()>> {
        Box::pin(async move {
            if self.kill.is_cancelled() {
                return Err(reset());
            }
            self.kill
                .run(self.inner.write(bufs))
                .await
                .unwrap_or_else(|| Err(reset()))
        })
    }

    fn close(&mut self) -> BoxFuture<'_, io::Result<()>> {
        self.inner.close()
    }
}

/// Connects over in-memory pipes to `server` with every connection of the client cut (reset)
/// once `kill` is set.
async fn connect_killable(rt: Rt, server: Arc<SseServer>, kill: Arc<CancelFlag>) -> Client {
    let wrap: ConnectionWrap = Arc::new(move |(r, w): Connection| {
        (
            Box::new(Killable {
                inner: r,
                kill: kill.clone(),
            }) as Box<dyn ByteRead>,
            Box::new(Killable {
                inner: w,
                kill: kill.clone(),
            }) as Box<dyn ByteWrite>,
        )
    });
    mcp_sse_glue::connect_over_sse_wrapped(rt, server, ClientOptions::default(), Some(wrap))
        .await
        .expect("connect")
}

/// How a session ends.
#[derive(Clone, Copy, Debug)]
enum End {
    Close,
    /// The last handle dropped with calls in flight.
    Abandon,
    /// The connection cut with calls in flight; they must fail with -32000.
    Cut,
}

struct Shared {
    h: Harness,
    stats: Arc<Stats>,
    sse: Arc<SseServer>,
    server: McpServer,
    budget: AtomicUsize,
    next_token: AtomicUsize,
}

impl Shared {
    /// Takes up to `n` calls from the budget.
    fn take(&self, n: usize) -> usize {
        let mut left = self.budget.load(Ordering::SeqCst);
        loop {
            let k = n.min(left);
            if k == 0 {
                return 0;
            }
            match self
                .budget
                .compare_exchange(left, left - k, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return k,
                Err(now) => left = now,
            }
        }
    }
}

fn calls(
    sh: &Arc<Shared>,
    client: &Client,
    rng: &mut fastrand::Rng,
    n: usize,
) -> Vec<Pin<Box<dyn Future<Output = ()> + Send>>> {
    (0..n)
        .map(|_| {
            let token = format!("t{}", sh.next_token.fetch_add(1, Ordering::SeqCst));
            let fut = tracked_call(
                sh.h.clone(),
                client.clone(),
                sh.stats.clone(),
                pick_kind(rng),
                token,
                rng.u64(0..2_000),
            );
            Box::pin(fut) as Pin<Box<dyn Future<Output = ()> + Send>>
        })
        .collect()
}

async fn worker(sh: Arc<Shared>, seed: u64) {
    let mut rng = fastrand::Rng::with_seed(seed);
    while sh.budget.load(Ordering::SeqCst) > 0 {
        let rt = sh.h.rt();
        let kill = Arc::new(CancelFlag::new());
        let end = match rng.u32(0..100) {
            0..=69 => End::Close,
            70..=84 => End::Abandon,
            _ => End::Cut,
        };
        let (client, label) = match (rng.u32(0..3), end) {
            (_, End::Cut) => (
                connect_killable(rt, sh.sse.clone(), kill.clone()).await,
                "sse, cut",
            ),
            (0, _) => (
                mcp_sse_glue::connect_in_memory(rt, sh.server.clone(), ClientOptions::default())
                    .await
                    .expect("connect in memory"),
                "in-memory",
            ),
            _ => (
                mcp_sse_glue::connect_over_sse_to(rt, sh.sse.clone(), ClientOptions::default())
                    .await
                    .expect("connect over sse"),
                "sse",
            ),
        };
        sh.stats.session(label);
        let rounds = rng.usize(1..=60);
        for _ in 0..rounds {
            let n = sh.take(rng.usize(1..=6));
            if n == 0 {
                break;
            }
            join_all(calls(&sh, &client, &mut rng, n)).await;
        }
        // The last round ends the session while its calls are in flight.
        let n = sh.take(rng.usize(1..=6));
        let in_flight = calls(&sh, &client, &mut rng, n);
        let after = Duration::from_micros(rng.u64(0..1_500));
        match end {
            End::Close => {
                join_all(in_flight).await;
                client.close().await;
                sh.stats.session("closed");
            }
            End::Abandon => {
                futures_lite::future::or(join_all(in_flight), sh.h.sleep(after)).await;
                drop(client);
                sh.stats.session("abandoned");
            }
            End::Cut => {
                let h = sh.h.clone();
                let kill2 = kill.clone();
                let cutter = Box::pin(async move {
                    h.sleep(after).await;
                    kill2.cancel();
                });
                let mut all = in_flight;
                all.push(cutter);
                // Every call in flight resolves by itself (result or -32000): none hangs.
                join_all(all).await;
                client.close().await;
                sh.stats.session("cut");
            }
        }
    }
}

fn soak(exec: Exec) {
    let total: usize = std::env::var("MCP_SSE_SOAK_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SOAK_CALLS);
    let seed: u64 = std::env::var("MCP_SSE_SOAK_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    eprintln!("soak {exec:?}: {total} calls, MCP_SSE_SOAK_SEED={seed}");
    mcp_sse_tests::run_for(exec, Transport::SseInProcess, SOAK_TIMEOUT, |h| {
        async move {
            let stats = Arc::new(Stats::default());
            let server = soak_server(stats.clone());
            let sse = SseServer::new(
                h.rt(),
                server.clone(),
                transport::ServerConfig::default(),
                Box::new(mcp_sse_glue::os_random),
            );
            let sh = Arc::new(Shared {
                h: h.clone(),
                stats: stats.clone(),
                sse: sse.clone(),
                server,
                budget: AtomicUsize::new(total),
                next_token: AtomicUsize::new(0),
            });
            let started = Instant::now();
            let workers = (0..WORKERS)
                .map(|i| {
                    Box::pin(worker(sh.clone(), seed.wrapping_add(i as u64)))
                        as Pin<Box<dyn Future<Output = ()> + Send>>
                })
                .collect();
            join_all(workers).await;
            // Abandoned sessions unwind in the background: wait for the server to see them go.
            sse.wait_idle().await;
            assert_eq!(sse.session_count(), 0, "server session table empty");
            // A session can end before the server has read the EOF of its clients' POST
            // connections (they close at the same time): give those a bounded moment.
            assert!(
                sse.wait_connections_closed(Duration::from_secs(10)).await,
                "server connection table empty"
            );
            // The server's timer task ends once the server is gone.
            drop((sh, sse));
            h.wait_tasks(0).await;
            let elapsed = started.elapsed();
            let issued = stats.issued.load(Ordering::SeqCst);
            eprintln!(
                "soak {exec:?}: {issued} calls in {elapsed:?}: ok {}, dropped by caller {}, errors {:?}, sessions {:?}",
                stats.ok.load(Ordering::SeqCst),
                stats.dropped.load(Ordering::SeqCst),
                stats.errors.lock().unwrap(),
                stats.sessions.lock().unwrap(),
            );
            assert_eq!(issued, total, "every call of the budget was issued");
            assert_eq!(stats.resolved(), issued, "every call resolved exactly once");
            assert_eq!(
                stats.handlers_started.load(Ordering::SeqCst),
                stats.handlers_ended.load(Ordering::SeqCst),
                "every handler the server started has ended"
            );
            assert_eq!(h.live_tasks(), 0, "task count back to the baseline");
            let sessions = stats.sessions.lock().unwrap();
            for kind in ["closed", "abandoned", "cut", "in-memory", "sse"] {
                assert!(
                    sessions.get(kind).copied().unwrap_or(0) > 0 || total < 10_000,
                    "no session of kind {kind}: the mix is not exercised"
                );
            }
        }
    });
}

#[test]
fn soak_smol() {
    soak(Exec::Smol);
}

#[test]
fn soak_tokio() {
    soak(Exec::Tokio);
}
