//! SSE decoder/encoder throughput.
//!
//! Decoder: a 64 MiB stream fed in 8 KiB chunks, in three shapes (~200-byte JSON `message`
//! events with CRLF as sse-starlette frames them, the same with LF, and 64 KiB data lines with
//! CRLF), next to a `memchr` newline count over the same buffer as a baseline.
//!
//! `cargo bench -p mcp-sse-core --bench sse_decode -- --warm-up-time 1 --measurement-time 3`
//!
//! The decoder's fast path (see `sse::decoder`, "Performance") took the 200-byte variants from
//! ~2,600-2,700 to ~3,600-3,700 MB/s when measured best-of-50 on an in-process copy of this loop
//! (same stream, from DRAM); criterion's wall-clock medians on the loaded shared machine were
//! lower for both (see the commit message of that change).

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mcp_sse_core::sse::{Decoder, Encoder, Item, OutgoingEvent};

const STREAM_BYTES: usize = 64 * 1024 * 1024;
const CHUNK_BYTES: usize = 8 * 1024;

/// A compact JSON-RPC response of about 170 bytes, like the Python SDK sends.
fn json_message(n: usize) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":{n},"result":{{"content":[{{"type":"text","text":"echo: hello world {n:08}"}}],"structuredContent":{{"result":"ok"}},"isError":false}}}}"#
    )
}

/// Repeats encoded events until the stream reaches [`STREAM_BYTES`].
fn stream(eol: &str, data: impl Fn(usize) -> String) -> Bytes {
    let mut out = String::with_capacity(STREAM_BYTES + 128 * 1024);
    let mut n = 0;
    while out.len() < STREAM_BYTES {
        out.push_str("event: message");
        out.push_str(eol);
        out.push_str("data: ");
        out.push_str(&data(n));
        out.push_str(eol);
        out.push_str(eol);
        n += 1;
    }
    Bytes::from(out)
}

fn decode_all(input: &Bytes) -> usize {
    let mut d = Decoder::new();
    let mut events = 0;
    let mut start = 0;
    while start < input.len() {
        let end = (start + CHUNK_BYTES).min(input.len());
        d.handle_bytes(input.slice(start..end));
        start = end;
        while let Ok(Some(item)) = d.poll_item() {
            if let Item::Event(e) = item {
                events += 1;
                black_box(e);
            }
        }
    }
    d.handle_eof();
    while let Ok(Some(_)) = d.poll_item() {}
    events
}

fn bench_decode(c: &mut Criterion) {
    let streams = [
        ("message_200b_crlf", stream("\r\n", json_message)),
        ("message_200b_lf", stream("\n", json_message)),
        ("data_64kib_crlf", stream("\r\n", |_| "x".repeat(64 * 1024))),
    ];
    let mut g = c.benchmark_group("sse_decode");
    g.sample_size(10);
    for (name, input) in &streams {
        g.throughput(Throughput::Bytes(input.len() as u64));
        g.bench_function(*name, |b| b.iter(|| decode_all(black_box(input))));
        g.bench_function(format!("{name}/memchr_newline_baseline"), |b| {
            b.iter(|| memchr::memchr_iter(b'\n', black_box(&input[..])).count())
        });
    }
    g.finish();
}

fn bench_encode(c: &mut Criterion) {
    let data = json_message(42);
    let ev = OutgoingEvent {
        id: None,
        event: Some("message"),
        data: &data,
        retry: None,
    };
    let enc = Encoder::new();
    let len = enc.encoded_len(&ev);
    let mut out = BytesMut::with_capacity(len * 1024);
    let mut g = c.benchmark_group("sse_encode");
    g.throughput(Throughput::Bytes((len * 1024) as u64));
    g.bench_function("message_200b_x1024", |b| {
        b.iter(|| {
            out.clear();
            for _ in 0..1024 {
                let _ = enc.encode_event(black_box(&ev), &mut out);
            }
            black_box(out.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench_decode, bench_encode);
criterion_main!(benches);
