//! Decoding typical request heads (wire-capture.txt part B): the Python client's POST (with its
//! small JSON body) and GET /sse.

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mcp_sse_core::http::{Limits, RequestDecoder, RequestEvent};

const POST: &[u8] = b"POST /messages/?session_id=dc207bc254dc483c972d8ccd9e6ba9b2 HTTP/1.1\r\nHost: 127.0.0.1:8767\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\nUser-Agent: python-httpx2/2.16.2\r\nContent-Length: 54\r\nContent-Type: application/json\r\n\r\n{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}";
const GET_SSE: &[u8] = b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1:8767\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\nUser-Agent: python-httpx2/2.16.2\r\nAccept: text/event-stream\r\nCache-Control: no-store\r\n\r\n";

/// Decodes one whole request (head, body, end) with a fresh decoder.
fn decode(wire: &Bytes) -> usize {
    let mut decoder = RequestDecoder::new(Limits::default());
    decoder.handle_bytes(wire.clone());
    let mut n = 0;
    while let Ok(Some(ev)) = decoder.poll_event() {
        n += match ev {
            RequestEvent::Head(h) => h.headers.len(),
            RequestEvent::Body(b) => b.len(),
            RequestEvent::End => 1,
        };
    }
    n
}

fn heads(c: &mut Criterion) {
    let mut group = c.benchmark_group("http_head");
    for (name, wire) in [("post_messages", POST), ("get_sse", GET_SSE)] {
        let wire = Bytes::from_static(wire);
        group.throughput(Throughput::Elements(1));
        group.bench_function(name, |b| b.iter(|| decode(std::hint::black_box(&wire))));
    }
    group.finish();
}

criterion_group!(benches, heads);
criterion_main!(benches);
