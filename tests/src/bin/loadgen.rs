//! Echo load generator: runs a bounded number of `tools/call echo` calls (or connects) and
//! prints calls/s, p50 and p99 as one JSON line. Used by `bench/compare.sh`.
//!
//! ```text
//! loadgen [--exec smol|tokio|tokio-ct] [--transport memory|inproc|tcp|axum] [--url http://127.0.0.1:P/sse]
//!         [--mode echo|connect] [--calls N] [--in-flight K] [--size BYTES] [--warmup N]
//!         [--server-pid PID]
//! loadgen --url URL --mode sessions --sessions N --secs S [--server-pid PID]
//! loadgen --url URL --mode idle --sessions N --server-pid PID
//! loadgen --serve 127.0.0.1:PORT [--exec smol|tokio|tokio-ct] [--transport axum] [--max-secs S]
//!         [--tls-ca-out FILE]   (over TLS, with a certificate from a test CA written to FILE)
//! loadgen --url https://127.0.0.1:PORT/sse --cacert FILE ...
//! ```
//! `--server-pid` adds that server's CPU time per call (from `/proc/PID/stat`, during the timed
//! calls) and its resident memory to the line. `sessions` is the load scenario: N sessions
//! connect (64 at a time), then each runs sequential echo calls for S seconds (p999 too).
//! `idle` opens N sessions that stay idle and reports the server's resident memory per session.
//! Raise the file-descriptor limit for large N (`bench/load.sh` does).
//!
//! `--serve` runs only the echo server (limits raised for 16 MiB echoes) and exits by itself
//! after `--max-secs` (default 600). `tokio` is the multi-thread runtime with 2 workers,
//! `tokio-ct` the current-thread runtime.

use std::time::{Duration, Instant};

use mcp_sse_tests::load::{self, Executor, Summary};
use mcp_sse_tests::{Exec, Transport};

/// Every run stops by itself: no client loop may exceed this many calls.
const MAX_CALLS: u64 = 1_000_000;
/// Bound on `--sessions`.
const MAX_SESSIONS: u64 = 20_000;
/// Bound on `--secs`.
const MAX_SECS: u64 = 600;

struct Args {
    executor: Executor,
    transport: Transport,
    url: Option<String>,
    serve: Option<String>,
    max_secs: u64,
    mode: String,
    calls: u64,
    in_flight: usize,
    size: usize,
    warmup: u64,
    server_pid: Option<u32>,
    sessions: usize,
    secs: u64,
    /// `--serve` over TLS, the test CA's PEM written to this file.
    tls_ca_out: Option<String>,
    /// The client trusts (only) the CA in this PEM file.
    cacert: Option<String>,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        executor: Executor::Smol,
        transport: Transport::SseInProcess,
        url: None,
        serve: None,
        max_secs: 600,
        mode: "echo".into(),
        calls: 10_000,
        in_flight: 1,
        size: 4,
        warmup: 200,
        server_pid: None,
        sessions: 100,
        secs: 10,
        tls_ca_out: None,
        cacert: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or(format!("{flag} needs a value"));
        let num = |v: String| v.parse::<u64>().map_err(|e| format!("{v}: {e}"));
        match flag.as_str() {
            "--exec" => {
                a.executor = match val()?.as_str() {
                    "smol" => Executor::new(Exec::Smol),
                    "tokio" => Executor::new(Exec::Tokio),
                    "tokio-ct" => Executor::tokio_current_thread(),
                    o => return Err(format!("unknown executor {o}")),
                };
            }
            "--transport" => {
                a.transport = match val()?.as_str() {
                    "memory" => Transport::InMemory,
                    "inproc" => Transport::SseInProcess,
                    "tcp" => Transport::SseTcp,
                    "axum" => Transport::SseAxum,
                    o => return Err(format!("unknown transport {o}")),
                }
            }
            "--url" => {
                a.url = Some(val()?);
                a.transport = Transport::SseTcp;
            }
            "--serve" => a.serve = Some(val()?),
            "--max-secs" => a.max_secs = num(val()?)?,
            "--mode" => a.mode = val()?,
            "--calls" => a.calls = num(val()?)?.min(MAX_CALLS),
            "--in-flight" => a.in_flight = num(val()?)?.max(1) as usize,
            "--size" => a.size = num(val()?)? as usize,
            "--warmup" => a.warmup = num(val()?)?,
            "--server-pid" => a.server_pid = Some(num(val()?)? as u32),
            "--tls-ca-out" => a.tls_ca_out = Some(val()?),
            "--cacert" => a.cacert = Some(val()?),
            "--sessions" => a.sessions = num(val()?)?.min(MAX_SESSIONS) as usize,
            "--secs" => a.secs = num(val()?)?.min(MAX_SECS),
            o => return Err(format!("unknown flag {o}")),
        }
    }
    if let Some(u) = &a.url {
        if !u.starts_with("http://127.0.0.1:") && !u.starts_with("https://127.0.0.1:") {
            return Err("--url must be http(s)://127.0.0.1:PORT/...".into());
        }
    }
    if a.size > load::MAX_PAYLOAD_BYTES / 2 {
        return Err(format!("--size above {}", load::MAX_PAYLOAD_BYTES / 2));
    }
    Ok(a)
}

fn name(t: Transport) -> &'static str {
    match t {
        Transport::InMemory => "memory",
        Transport::SseInProcess => "inproc",
        Transport::SseTcp => "tcp",
        Transport::SseAxum => "axum",
    }
}

fn main() {
    let a = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::exit(2);
        }
    };
    let ex = &a.executor;
    let exec = ex.exec();
    if let Some(addr) = &a.serve {
        ex.block_on(async {
            let (url, stop) = if let Some(ca_out) = &a.tls_ca_out {
                let (url, ca, stop) = load::serve_tls(exec, addr).await;
                if let Err(e) = std::fs::write(ca_out, ca) {
                    eprintln!("loadgen: cannot write {ca_out}: {e}");
                    std::process::exit(2);
                }
                (url, stop)
            } else if a.transport == Transport::SseAxum {
                load::serve_axum(addr).await
            } else {
                load::serve_tcp(exec, addr).await
            };
            println!("{{\"listening\":\"{url}\"}}");
            let rt = mcp_sse_tests::driver_rt(exec);
            rt.sleep_until(Instant::now() + Duration::from_secs(a.max_secs))
                .await;
            stop().await;
        });
        return;
    }
    let url = a.url.as_deref();
    let server_cpu = || a.server_pid.and_then(load::cpu_time_of);
    let server_rss = || a.server_pid.and_then(load::rss_bytes_of);
    match a.mode.as_str() {
        "sessions" | "idle" => {
            let Some(url) = url else {
                eprintln!("loadgen: --mode {} needs --url", a.mode);
                std::process::exit(2);
            };
            let line = ex.block_on(async {
                let rss_before = server_rss();
                let clients = load::open_sessions(exec, url, a.sessions, 64).await;
                let rt = mcp_sse_tests::driver_rt(exec);
                let line = if a.mode == "idle" {
                    // Let the server settle, then look at its memory.
                    rt.sleep_until(Instant::now() + Duration::from_secs(2)).await;
                    let after = server_rss();
                    let per = match (rss_before, after) {
                        (Some(b), Some(a2)) => (a2.saturating_sub(b)) as f64 / clients.len() as f64,
                        _ => f64::NAN,
                    };
                    format!(
                        "{{\"impl\":\"mcp-sse\",\"exec\":\"{}\",\"mode\":\"idle\",\"sessions\":{},\"server_rss_before\":{},\"server_rss_after\":{},\"server_bytes_per_session\":{:.0}}}",
                        ex.name(),
                        clients.len(),
                        rss_before.unwrap_or(0),
                        after.unwrap_or(0),
                        per
                    )
                } else {
                    let c0 = server_cpu();
                    let (lat, elapsed) =
                        load::sessions_run(&rt, &clients, Duration::from_secs(a.secs), a.size).await;
                    let c1 = server_cpu();
                    let rss = server_rss();
                    let s = Summary::new(lat, elapsed);
                    let cpu_us = match (c0, c1) {
                        (Some(x), Some(y)) => {
                            y.saturating_sub(x).as_secs_f64() * 1e6 / s.calls.max(1) as f64
                        }
                        _ => f64::NAN,
                    };
                    format!(
                        "{{\"impl\":\"mcp-sse\",\"exec\":\"{}\",\"mode\":\"sessions\",\"sessions\":{},\"calls\":{},\"secs\":{:.3},\"calls_per_s\":{:.1},\"p50_ms\":{:.4},\"p99_ms\":{:.4},\"p999_ms\":{:.4},\"server_cpu_us_per_call\":{:.2},\"server_rss_bytes\":{}}}",
                        ex.name(),
                        clients.len(),
                        s.calls,
                        s.elapsed.as_secs_f64(),
                        s.calls_per_s(),
                        s.p50.as_secs_f64() * 1e3,
                        s.p99.as_secs_f64() * 1e3,
                        s.p999.as_secs_f64() * 1e3,
                        cpu_us,
                        rss.unwrap_or(0)
                    )
                };
                for c in clients {
                    c.close().await;
                }
                line
            });
            println!("{line}");
            return;
        }
        _ => {}
    }
    let mut cpu = Duration::ZERO;
    let mut server_cpu_used: Option<Duration> = None;
    let summary = ex.block_on(async {
        match a.mode.as_str() {
            "connect" => {
                load::connect_times(exec, a.transport, url, a.warmup.min(a.calls)).await;
                let (t, c) = (Instant::now(), load::cpu_time().unwrap_or_default());
                let lat = load::connect_times(exec, a.transport, url, a.calls).await;
                cpu = load::cpu_time().unwrap_or_default().saturating_sub(c);
                Summary::new(lat, t.elapsed())
            }
            _ => {
                let mut options = mcp_sse_glue::ClientOptions::default();
                if let Some(path) = &a.cacert {
                    let pem = std::fs::read(path).unwrap_or_else(|e| {
                        eprintln!("loadgen: cannot read {path}: {e}");
                        std::process::exit(2);
                    });
                    options.tls = Some(
                        mcp_sse_glue::tls::TlsClient::with_only_roots_pem(&pem).unwrap_or_else(
                            |e| {
                                eprintln!("loadgen: {path}: {e}");
                                std::process::exit(2);
                            },
                        ),
                    );
                }
                let conn = load::connect_with(exec, a.transport, url, options).await;
                let rt = mcp_sse_tests::driver_rt(exec);
                load::echo_calls(&rt, &conn.client, a.warmup, a.in_flight, a.size).await;
                let (t, c) = (Instant::now(), load::cpu_time().unwrap_or_default());
                let sc = server_cpu();
                let lat = load::echo_calls(&rt, &conn.client, a.calls, a.in_flight, a.size).await;
                cpu = load::cpu_time().unwrap_or_default().saturating_sub(c);
                server_cpu_used = sc.zip(server_cpu()).map(|(x, y)| y.saturating_sub(x));
                let s = Summary::new(lat, t.elapsed());
                conn.close().await;
                s
            }
        }
    });
    println!(
        "{{\"impl\":\"mcp-sse\",\"exec\":\"{}\",\"transport\":\"{}\",\"mode\":\"{}\",\"in_flight\":{},\"size\":{},\"calls\":{},\"secs\":{:.4},\"calls_per_s\":{:.1},\"p50_ms\":{:.4},\"p99_ms\":{:.4},\"cpu_s\":{:.3}{}}}",
        ex.name(),
        name(a.transport),
        a.mode,
        a.in_flight,
        a.size,
        summary.calls,
        summary.elapsed.as_secs_f64(),
        summary.calls_per_s(),
        summary.p50.as_secs_f64() * 1e3,
        summary.p99.as_secs_f64() * 1e3,
        cpu.as_secs_f64(),
        server_cpu_used
            .map(|c| format!(
                ",\"server_cpu_us_per_call\":{:.2}",
                c.as_secs_f64() * 1e6 / summary.calls.max(1) as f64
            ))
            .unwrap_or_default(),
    );
}
