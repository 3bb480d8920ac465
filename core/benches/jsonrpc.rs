//! JSON-RPC parse/encode throughput on typical MCP messages.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use mcp_sse_core::jsonrpc::{write_json_string, Message};

const SMALL: &[u8] = br#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#;
const INIT: &[u8] = br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"sampling":{},"roots":{"listChanged":true}},"clientInfo":{"name":"mcp","version":"0.1.0"}}}"#;

fn tool_result(n: usize) -> Vec<u8> {
    let text = "lorem ipsum dolor sit amet é ".repeat(n);
    format!(
        r#"{{"jsonrpc":"2.0","id":42,"result":{{"content":[{{"type":"text","text":"{text}"}}],"structuredContent":{{"result":"{text}"}},"isError":false}}}}"#
    )
    .into_bytes()
}

fn bench(c: &mut Criterion) {
    let large = tool_result(2000); // ~120 KB
    let mut g = c.benchmark_group("jsonrpc");
    for (name, body) in [
        ("ping", SMALL),
        ("initialize", INIT),
        ("result_120k", &large[..]),
    ] {
        g.throughput(Throughput::Bytes(body.len() as u64));
        g.bench_function(format!("parse/{name}"), |b| {
            b.iter(|| Message::from_slice(black_box(body)))
        });
        let msg = Message::from_slice(body).expect("valid bench message");
        let mut out = Vec::with_capacity(body.len() + 16);
        g.bench_function(format!("write/{name}"), |b| {
            b.iter(|| {
                out.clear();
                black_box(&msg).write_to(&mut out);
                black_box(out.len())
            })
        });
    }
    g.finish();

    // The string writer alone against serde_json on a 1 MiB tool text: plain ASCII (the loadgen
    // echo payload), prose with non-ASCII, and text with a newline/quote every ~60 bytes.
    let mut g = c.benchmark_group("json_string_1m");
    let ascii = "x".repeat(1 << 20);
    let prose = "lorem ipsum dolor sit amet é ".repeat((1 << 20) / 30);
    let lines =
        "let s = \"lorem ipsum dolor sit amet\";\n\tfoo(bar, baz);\n".repeat((1 << 20) / 60);
    for (name, text) in [("ascii", &ascii), ("prose", &prose), ("code_lines", &lines)] {
        g.throughput(Throughput::Bytes(text.len() as u64));
        let mut out = Vec::with_capacity(2 * text.len() + 2);
        g.bench_function(format!("ours/{name}"), |b| {
            b.iter(|| {
                out.clear();
                write_json_string(&mut out, black_box(text));
                black_box(out.len())
            })
        });
        g.bench_function(format!("serde_json/{name}"), |b| {
            b.iter(|| {
                out.clear();
                let _ = serde_json::to_writer(&mut out, black_box(text.as_str()));
                black_box(out.len())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
