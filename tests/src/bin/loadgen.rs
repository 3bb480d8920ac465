//! Echo load generator: runs a bounded number of `tools/call echo` calls (or connects) and
//! prints calls/s, p50 and p99 as one JSON line. Used by `bench/compare.sh`.
//!
//! ```text
//! loadgen [--exec smol|tokio|tokio-ct] [--transport memory|inproc|tcp|axum] [--url http://127.0.0.1:P/sse]
//!         [--mode echo|connect] [--calls N] [--in-flight K] [--size BYTES] [--warmup N]
//! loadgen --serve 127.0.0.1:PORT [--exec smol|tokio|tokio-ct] [--transport axum] [--max-secs S]
//! ```
//! `--serve` runs only the echo server (limits raised for 16 MiB echoes) and exits by itself
//! after `--max-secs` (default 600). `tokio` is the multi-thread runtime with 2 workers,
//! `tokio-ct` the current-thread runtime.

use std::time::{Duration, Instant};

use mcp_sse_tests::load::{self, Executor, Summary};
use mcp_sse_tests::{Exec, Transport};

/// Every run stops by itself: no client loop may exceed this many calls.
const MAX_CALLS: u64 = 1_000_000;

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
            o => return Err(format!("unknown flag {o}")),
        }
    }
    if let Some(u) = &a.url {
        if !u.starts_with("http://127.0.0.1:") {
            return Err("--url must be http://127.0.0.1:PORT/...".into());
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
            let (url, stop) = if a.transport == Transport::SseAxum {
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
    let mut cpu = Duration::ZERO;
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
                let conn = load::connect(exec, a.transport, url).await;
                let rt = mcp_sse_tests::driver_rt(exec);
                load::echo_calls(&rt, &conn.client, a.warmup, a.in_flight, a.size).await;
                let (t, c) = (Instant::now(), load::cpu_time().unwrap_or_default());
                let lat = load::echo_calls(&rt, &conn.client, a.calls, a.in_flight, a.size).await;
                cpu = load::cpu_time().unwrap_or_default().saturating_sub(c);
                let s = Summary::new(lat, t.elapsed());
                conn.close().await;
                s
            }
        }
    });
    println!(
        "{{\"impl\":\"mcp-sse\",\"exec\":\"{}\",\"transport\":\"{}\",\"mode\":\"{}\",\"in_flight\":{},\"size\":{},\"calls\":{},\"secs\":{:.4},\"calls_per_s\":{:.1},\"p50_ms\":{:.4},\"p99_ms\":{:.4},\"cpu_s\":{:.3}}}",
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
    );
}
