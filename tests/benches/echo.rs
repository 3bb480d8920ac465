//! End-to-end echo benchmarks: `tools/call echo` over in-memory channels, in-process HTTP+SSE
//! and 127.0.0.1 TCP, on smol and tokio; sequential and with 8 and 64 calls in flight; 1 MiB
//! and 16 MiB echoes; connect+initialize. Throughput is in calls (elements) per second.
//!
//! `cargo bench -p mcp-sse-tests --bench echo -- --warm-up-time 1 --measurement-time 3`
//! (a filter such as `echo_seq/inproc` selects a subset). Runtime setup and connecting happen
//! outside the timed part (`iter_custom`).

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mcp_sse_tests::load::{self, Executor};
use mcp_sse_tests::{Exec, Transport};

const EXECS: [(Exec, &str); 2] = [(Exec::Smol, "smol"), (Exec::Tokio, "tokio")];
const TRANSPORTS: [(Transport, &str); 3] = [
    (Transport::InMemory, "memory"),
    (Transport::SseInProcess, "inproc"),
    (Transport::SseTcp, "tcp"),
];

/// Echo calls of `size` bytes, `in_flight` outstanding, one criterion iteration per call.
fn echo_group(
    c: &mut Criterion,
    group: &str,
    in_flight: usize,
    size: usize,
    tr: &[(Transport, &str)],
) {
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(1));
    if size >= 1 << 20 {
        g.sample_size(10);
    }
    for &(exec, en) in &EXECS {
        for &(transport, tn) in tr {
            let ex = Executor::new(exec);
            let rt = ex.block_on(async { mcp_sse_tests::driver_rt(exec) });
            let conn = ex.block_on(load::connect(exec, transport, None));
            g.bench_function(format!("{tn}/{en}"), |b| {
                b.iter_custom(|iters| {
                    ex.block_on(async {
                        let t = Instant::now();
                        load::echo_calls(&rt, &conn.client, iters, in_flight, size).await;
                        t.elapsed()
                    })
                })
            });
            ex.block_on(conn.close());
        }
    }
    g.finish();
}

fn echo(c: &mut Criterion) {
    echo_group(c, "echo_seq", 1, 4, &TRANSPORTS);
    echo_group(c, "echo_8_in_flight", 8, 4, &TRANSPORTS);
    echo_group(c, "echo_64_in_flight", 64, 4, &TRANSPORTS);
    echo_group(c, "echo_1MiB", 1, 1 << 20, &TRANSPORTS);
    // 16 MiB exceeds the in-process connection's default SSE event limit (2 MiB); TCP raises it.
    echo_group(
        c,
        "echo_16MiB",
        1,
        16 << 20,
        &[(Transport::InMemory, "memory"), (Transport::SseTcp, "tcp")],
    );
}

fn connect(c: &mut Criterion) {
    let mut g = c.benchmark_group("connect_initialize");
    g.throughput(Throughput::Elements(1));
    for &(exec, en) in &EXECS {
        for &(transport, tn) in &TRANSPORTS[..2] {
            let ex = Executor::new(exec);
            g.bench_function(format!("{tn}/{en}"), |b| {
                b.iter_custom(|iters| {
                    ex.block_on(async {
                        let lat = load::connect_times(exec, transport, None, iters).await;
                        lat.iter().sum::<Duration>()
                    })
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, echo, connect);
criterion_main!(benches);
